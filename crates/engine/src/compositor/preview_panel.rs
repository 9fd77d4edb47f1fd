//! The preview panel: starting, promoting and rejecting a guest in its preview worker, taking its frames, and
//! drawing them with the guest's frame-time graph.

use super::*;
use drawing::PREVIEW_STOPPED;
use graph::GRAPH_HEIGHT;

impl Compositor {
    /// Runs `text` (the candidate file `path`) as guest code in a preview worker, replacing any preview running.
    pub fn start_preview(&mut self, path: &std::path::Path, text: String) -> Result<String, String> {
        if let Some(old) = self.preview.take() {
            old.close(&self.gl);
        }
        let context = match self.options.preview_place {
            crate::worker::WorkerPlace::Thread => self.preview_spare.take(),
            crate::worker::WorkerPlace::Process(_) => None,
        };
        let preview = Preview::start(context, &self.scene, &self.options, path, text)?;
        let said = match preview.pid {
            Some(pid) => format!(
                "previewing {} in worker process {pid}, with a sandboxed VM, its own GL display and OS limits",
                path.display()
            ),
            None => {
                let priority = if preview.low_priority {
                    "a low-priority GL context"
                } else {
                    "a GL context of normal priority (the driver offers no EGL_IMG_context_priority)"
                };
                format!("previewing {} in its own worker thread, sandboxed VM and {priority}", path.display())
            }
        };
        self.preview = Some(preview);
        Ok(said)
    }

    /// Hands the vetted preview's text to the scene worker as an edit of `target` (default: the previewed file)
    /// and stops the preview; refuses, saying why, unless it ran `promote_after` frames within budget in a row.
    pub fn promote(&mut self, target: Option<std::path::PathBuf>) -> Result<String, String> {
        self.poll_preview();
        let preview = self.preview.as_ref().ok_or("nothing is being previewed (preview PATH first)")?;
        preview.vetted(self.options.promote_after)?;
        let target = target.unwrap_or_else(|| preview.path.clone());
        let text = preview.text.clone();
        let frames = preview.good_in_a_row;
        if let Some(preview) = self.preview.take() {
            preview.close(&self.gl);
        }
        self.overlay.editor.preview = None;
        self.send(Command::Edit { path: target.clone(), text });
        Ok(format!("promoted into the scene as {} after {frames} frames within budget", target.display()))
    }

    /// Makes the preview's process do a debugging act (the console's `debug-preview`) and says so in the console;
    /// with `wait`, then polls (never blocking on the guest) until it answers or is stopped, at most that long, so
    /// that its answer follows the question.
    pub fn debug_preview(&mut self, act: &str, wait: Option<Duration>) -> Result<(), String> {
        let act = self.debug_act("debug-preview", act)?;
        let preview = self.preview.as_ref().ok_or("nothing is being previewed")?;
        let answers = preview.answers;
        preview.debug(act.clone())?;
        self.overlay.editor.log.push(Level::Result, format!("asked the preview process to {act}"));
        self.poll_preview_while(wait.unwrap_or_default(), |p| p.answers == answers);
        Ok(())
    }

    /// Stops the preview and frees it.
    pub fn reject(&mut self) -> Result<String, String> {
        let preview = self.preview.take().ok_or("nothing is being previewed")?;
        let path = preview.path.clone();
        preview.close(&self.gl);
        self.overlay.editor.preview = None;
        Ok(format!("rejected {}", path.display()))
    }

    /// Composes-side work for the preview, without waiting: its messages, its newest finished frame, the panel.
    /// A new guest frame is taken at most every other display frame: the guest runs at most at half the display
    /// rate, which halves what it can take from the scene (its worker waits for the slot it is not given back).
    pub fn poll_preview(&mut self) {
        self.poll_preview_taking(self.status.composed.is_multiple_of(2));
    }

    pub(super) fn poll_preview_taking(&mut self, take_frame: bool) {
        let Some(preview) = &mut self.preview else { return };
        for (error, line) in preview.poll(&self.gl, take_frame) {
            say(&self.overlay.editor.log, if error { Level::Error } else { Level::Info }, line);
        }
        self.overlay.editor.preview = Some(allsource_editor::PreviewView {
            path: preview.path.clone(),
            rect: PREVIEW_RECT,
            stopped: match &preview.state {
                PreviewState::Running => None,
                PreviewState::Stopped(why) => Some(why.clone()),
            },
            intervals: preview.intervals.iter().copied().collect(),
            lua_ms: preview.lua_ms.iter().copied().collect(),
            budget_ms: preview.budget_ms,
            good_in_a_row: preview.good_in_a_row,
            required: self.options.promote_after,
            low_priority: preview.low_priority,
        });
    }

    /// The preview, if one exists.
    pub fn preview(&self) -> Option<&Preview> {
        self.preview.as_ref()
    }

    /// Scripts: waits (polling, never blocking on the guest), at most `timeout`, until the preview has run as many
    /// more frames as promotion still needs in a row, or was stopped.
    pub fn wait_preview(&mut self, timeout: Duration) {
        let needed = self.options.promote_after;
        let Some(frames) = self.preview.as_ref().map(|p| p.frames + needed.saturating_sub(p.good_in_a_row)) else {
            return;
        };
        self.poll_preview_while(timeout, |p| p.frames < frames);
    }

    /// Scripts: waits (polling, never blocking on the guest), at most `timeout`, until the preview's first frame is
    /// in its panel or it was stopped: a guest process takes a while to start (its own GL display, its VM), and a
    /// script's next frames should show what it draws.
    pub fn wait_preview_shown(&mut self, timeout: Duration) {
        self.poll_preview_while(timeout, |p| p.shown.is_none());
    }

    /// Takes the preview's messages and frames (polling, never blocking on the guest) while it runs and `waiting`
    /// holds of it, at most `timeout`.
    fn poll_preview_while(&mut self, timeout: Duration, waiting: impl Fn(&Preview) -> bool) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            self.poll_preview_taking(true);
            match &self.preview {
                Some(p) if p.state == PreviewState::Running && waiting(p) => {
                    std::thread::sleep(Duration::from_millis(2))
                }
                _ => return,
            }
        }
    }

    /// The preview's newest frame in its panel and, unless the editor (which shows text stats and buttons) is
    /// open, its frame-time graph as bars under it: Lua time per guest frame against the budget (the white line),
    /// green within it, red over.
    pub(super) fn draw_preview(&mut self, target: &FrameTarget) {
        let Some(preview) = &self.preview else {
            // The graph's textures go with the preview (nothing when they went already).
            self.preview_graph.free(&self.gl);
            return;
        };
        let rect = crate::overlay::viewport_of(PREVIEW_RECT, target);
        match preview.shown.as_ref() {
            Some(frame) => self.blit_into(target, frame.texture, (frame.width, frame.height), rect, true),
            None => target.clear(&self.gl, PREVIEW_STOPPED, Some(rect)),
        }
        if self.overlay.visible() || rect[2] <= 0 {
            return;
        }
        let graph = self.preview_graph.texture(&self.gl, &preview.lua_ms, preview.budget_ms, rect[2] as u32);
        let Some(texture) = graph else { return };
        let height = GRAPH_HEIGHT as i32;
        self.blit_into(
            target,
            texture,
            (rect[2] as u32, GRAPH_HEIGHT),
            [rect[0], rect[1] - 2 - height, rect[2], height],
            true,
        );
    }
}
