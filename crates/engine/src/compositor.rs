//! The compositor: on the main thread, with the presenting context. It takes the latest finished frame of its
//! worker, draws it, draws its own overlay on top, and leaves presenting (swap, or read-back) to its caller.
//!
//! Invariant: in real-time mode [`Compositor::compose`] never blocks on the worker. It drains the worker's
//! messages without waiting and polls frame fences with a zero timeout; until a newer frame has finished it keeps
//! showing the one it has.

use std::collections::VecDeque;
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use allsource_gpu::{Fence, FrameTarget, FullscreenTriangle, Gl, GlContext, Image, Program, UniformValue, glow};
use allsource_shader::FULLSCREEN_VERTEX;

use allsource_live::Diagnostic;

use crate::overlay::Overlay;
use crate::preview::{PREVIEW_RECT, Preview, PreviewState};
use crate::worker::{Command, EngineOptions, Event, StartFrom, WorkerFrame, WorkerHandle};
use crate::{Error, Scene};
use allsource_editor::{ConsoleLog, Level};

const BLIT_FRAGMENT: &str = "#version 450 core
in vec2 uv;
layout(location = 0) out vec4 colour;
uniform sampler2D frame;
void main() { colour = texture(frame, uv); }
";

/// Shown until the worker's first frame arrives: dark, never black, so a slow start is visibly not a dead screen.
const WAITING_COLOUR: [f32; 4] = [0.08, 0.08, 0.10, 1.0];
/// The overlay's strip along the top edge while the scene's newest source failed to build.
const BUILD_ERROR_COLOUR: [f32; 4] = [0.85, 0.15, 0.15, 1.0];
/// The strip while the worker has died.
const WORKER_DIED_COLOUR: [f32; 4] = [0.85, 0.15, 0.85, 1.0];
const STRIP_HEIGHT: i32 = 4;

/// What the compositor knows about its scene, from the worker's messages.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// The diagnostics of the newest build (or read) of the scene's source: what the user's latest text produced.
    pub diagnostics: Vec<Diagnostic>,
    /// The newest build or read failed: the last good version is still on screen.
    pub failing: bool,
    /// The live version named by the newest build report (for a shader scene, its one shader's).
    pub live_version: Option<u64>,
    /// The generation of the frame on screen: a shader scene's live version, or for a Lua scene the count of
    /// versions (of any module or shader) that went live.
    pub shown_version: Option<u64>,
    /// Reports of builds, counted, to wait for one in tests and tools.
    pub builds: u64,
    /// How long the last successful build took.
    pub last_build: Option<Duration>,
    /// Answers to `SetUniform`, newest last.
    pub uniform_answers: Vec<(String, bool)>,
    /// Answers to `Eval` and `Unload` (request, result), newest last.
    pub answers: Vec<(String, Result<String, String>)>,
    /// Workers given up because they wedged, and replaced.
    pub replacements: u64,
    /// Of those, how many threads still run (wedged) at the lowest OS priority.
    pub abandoned_lowered: u64,
    /// Why the worker stopped, if it did.
    pub worker_died: Option<String>,
    /// Frames composed so far.
    pub composed: u64,
    /// The last `Command::Sync` the worker answered.
    pub synced: u64,
    /// Index of the worker frame on screen.
    pub shown: Option<u64>,
    /// Distinct worker frames shown so far.
    pub worker_frames_shown: u64,
    /// When the worker last began rebuilding sources from their files (after the watcher woke it).
    pub rebuilt_from_disk_at: Option<Instant>,
}

pub struct Compositor {
    gl: Gl,
    worker: WorkerHandle,
    /// What a replacement worker needs: the scene, the options, a context in the share group made in advance (a
    /// wedged worker must be replaced without waiting for anything), and the last good text of every source.
    scene: Scene,
    options: EngineOptions,
    spare: Option<allsource_gpu::SharedContext>,
    last_good: std::collections::HashMap<std::path::PathBuf, std::sync::Arc<str>>,
    /// The frame on screen came from a worker given up: it is not handed back to the new one.
    orphan: bool,
    /// Frames received but not yet finished or not yet shown, oldest first.
    pending: VecDeque<WorkerFrame>,
    shown: Option<WorkerFrame>,
    blit: Program,
    triangle: FullscreenTriangle,
    status: Status,
    /// The editor, console and tweak bar, drawn over the frame.
    pub overlay: Overlay,
    /// Lines typed into the console, for the driver to run (it owns frames and screenshots).
    console_lines: Vec<String>,
    sync_sent: u64,
    size: (u32, u32),
    /// Guest code being vetted, and a low-priority context made in advance for the next one.
    preview: Option<Preview>,
    preview_spare: Option<allsource_gpu::SharedContext>,
    /// The journal of the editor's buffers (`EngineOptions::store`), written after every pass that changed one,
    /// before the frame showing the change is drawn.
    journal: Option<allsource_store::Journal>,
    /// Saves the user asked for (ctrl+s, `save`): their answers are said in the console; autosaves are quiet.
    asked_saves: std::collections::HashSet<std::path::PathBuf>,
    /// Which module wedges workers, while that is being found out.
    elimination: Option<Elimination>,
}

/// A replacement worker that wedges again within this time of the last one clears the module left out then.
const ELIMINATION_WINDOW: Duration = Duration::from_secs(10);

/// Finding which module wedges workers, one suspect left out at a time.
struct Elimination {
    suspects: Vec<std::path::PathBuf>,
    /// The next suspect to leave out.
    next: usize,
    /// When the last replacement started.
    since: Instant,
}

impl Compositor {
    /// Starts a worker for `scene` in `context`'s share group and a compositor that presents its frames.
    pub fn new(context: &GlContext, scene: Scene, options: EngineOptions) -> Result<Compositor, Error> {
        let gl = context.gl.clone();
        let blit = Program::build_simple(
            &gl,
            &[(glow::VERTEX_SHADER, FULLSCREEN_VERTEX), (glow::FRAGMENT_SHADER, BLIT_FRAGMENT)],
        )
        .map_err(|log| Error::Gpu(allsource_gpu::GpuError::Gl(format!("the compositor's own shader: {log}"))))?;
        blit.use_program(&gl);
        blit.set_i32(&gl, "frame", 0);
        let triangle = FullscreenTriangle::new(&gl)?;
        let worker =
            WorkerHandle::spawn(context.share()?, scene.clone(), options.clone()).map_err(Error::WorkerDied)?;
        let size = options.size;
        let mut overlay = Overlay::new(&scene.dir, options.console.clone());
        if options.panel {
            overlay.placement = crate::overlay::Placement::PANEL;
        }
        overlay.editor.entry = Some(match &scene.entry {
            crate::Entry::FullscreenShader(p) | crate::Entry::Lua(p) => p.clone(),
        });
        if options.editor {
            overlay.editor.visible = true;
            overlay.editor.shown();
        }
        let journal = if options.store { open_journal(&scene, &mut overlay, &worker) } else { None };
        Ok(Compositor {
            gl,
            worker,
            scene,
            options,
            spare: Some(context.share()?),
            last_good: Default::default(),
            orphan: false,
            pending: VecDeque::new(),
            shown: None,
            blit,
            triangle,
            status: Status::default(),
            overlay,
            console_lines: Vec::new(),
            sync_sent: 0,
            size,
            preview: None,
            preview_spare: None,
            journal,
            asked_saves: Default::default(),
            elimination: None,
        })
    }

    /// After an egui pass: every buffer that changed goes to the journal (one write each, before the frame that
    /// shows it), and buffers due for autosave are written by the worker.
    fn keep_buffers(&mut self) {
        if let Some(journal) = &mut self.journal {
            let root = &self.scene.dir;
            let mut failed = None;
            let editor = &self.overlay.editor;
            for (path, text) in editor.buffers() {
                let name = path.strip_prefix(root).unwrap_or(path);
                let mut result = journal.record(name, text);
                // What the file held when the buffer opened: recovery compares it with the file then.
                if !journal.knows_disk(name)
                    && let Some(disk) = editor.disk_text(path)
                {
                    result = result.and(journal.record_disk(name, allsource_store::text_hash(disk)).map(|()| true));
                }
                if let Err(e) = result {
                    failed = Some(format!("the journal could not record {}: {e}", name.display()));
                }
            }
            if let Some(message) = failed {
                // Keep the engine going without it rather than fail every keystroke.
                say(&self.overlay.editor.log, Level::Error, format!("{message}; edits are no longer journaled"));
                self.journal = None;
            }
        }
        for (path, text) in self.overlay.editor.autosave_due(allsource_editor::AUTOSAVE_IDLE) {
            self.send(Command::Save { path, text, overwrite: false });
        }
    }

    /// Notes in the journal what `path`'s file holds now (it was saved, or read back).
    fn journal_disk(&mut self, path: &std::path::Path, text: &str) {
        if let Some(journal) = &mut self.journal {
            let name = path.strip_prefix(&self.scene.dir).unwrap_or(path);
            if let Err(e) = journal.record_disk(name, allsource_store::text_hash(text)) {
                tracing::warn!("the journal could not record {}: {e}", name.display());
            }
        }
    }

    /// Takes the file's text into the buffer of `path` and rebuilds it: `reload`, and how a conflict is resolved
    /// for the disk's side.
    pub fn reload(&mut self, path: &std::path::Path) -> Result<String, String> {
        let editor = &mut self.overlay.editor;
        let open = editor.buffers().any(|(p, _)| allsource_live::same_file(p, path));
        let text = if open { editor.take_disk(path)? } else { allsource_live::read_source(path)? };
        self.journal_disk(path, &text);
        self.send(Command::Edit { path: path.to_path_buf(), text });
        Ok(format!("reloaded {} from its file", path.display()))
    }

    /// Writes the buffer `text` to `path` now (ctrl+s, `save`), whatever its build says; ends a conflict on it.
    pub fn save(&mut self, path: &std::path::Path, text: String) {
        self.asked_saves.insert(path.to_path_buf());
        self.send(Command::Save { path: path.to_path_buf(), text, overwrite: true });
    }

    /// Makes a spare context for the next replacement worker, if the last one was used. Call before composing.
    pub fn replenish(&mut self, context: &GlContext) {
        if self.spare.is_none() {
            match context.share() {
                Ok(spare) => self.spare = Some(spare),
                Err(e) => tracing::warn!("no spare context for a replacement worker: {e}"),
            }
        }
        if self.preview_spare.is_none() {
            match context.share_with_priority(true) {
                Ok(spare) => self.preview_spare = Some(spare),
                Err(e) => tracing::warn!("no context for a preview worker: {e}"),
            }
        }
    }

    /// Runs `text` (the candidate file `path`) as guest code in a preview worker, replacing any preview running.
    pub fn start_preview(&mut self, path: &std::path::Path, text: String) -> Result<String, String> {
        if let Some(old) = self.preview.take() {
            old.close(&self.gl);
        }
        let context = self.preview_spare.take().ok_or("no GL context is ready for a preview worker yet")?;
        let preview = Preview::start(context, &self.scene, &self.options, path, text)?;
        let priority = if preview.low_priority {
            "a low-priority GL context"
        } else {
            "a GL context of normal priority (the driver offers no EGL_IMG_context_priority)"
        };
        self.preview = Some(preview);
        Ok(format!("previewing {} in its own worker, sandboxed VM and {priority}", path.display()))
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

    fn poll_preview_taking(&mut self, take_frame: bool) {
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

    /// The frame's size in pixels.
    pub fn size(&self) -> (u32, u32) {
        self.size
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
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            self.poll_preview_taking(true);
            match &self.preview {
                Some(p) if p.state == PreviewState::Running && p.frames < frames => {
                    std::thread::sleep(Duration::from_millis(2))
                }
                _ => return,
            }
        }
    }

    /// The worker's context was lost to a GPU reset: a new worker, with a new context, starts from the last good
    /// versions (the frame on screen stays until its first frame).
    fn replace_after_reset(&mut self) {
        if self.restart_worker(None) {
            self.report_restart(
                self.scene.dir.clone(),
                "the worker's GL context was lost (GPU reset): a new worker and context were started from the last \
                 good versions"
                    .into(),
            );
        }
    }

    /// Gives up a wedged worker and starts a replacement from the last good versions, leaving out the likeliest of
    /// `suspects`. A replacement that wedges again soon after says that the module left out was not the culprit:
    /// it comes back and the next suspect is left out instead (elimination), while the others keep running.
    fn replace_worker(&mut self, suspects: Vec<std::path::PathBuf>) {
        let culprit = match &mut self.elimination {
            Some(e) if e.since.elapsed() < ELIMINATION_WINDOW && e.next < e.suspects.len() => {
                e.next += 1;
                e.since = Instant::now();
                e.suspects.get(e.next - 1).cloned()
            }
            _ => {
                let first = suspects.first().cloned();
                self.elimination = Some(Elimination { suspects, next: 1, since: Instant::now() });
                first
            }
        };
        if self.restart_worker(culprit.clone()) {
            let name = culprit.as_ref().map_or("its code".to_owned(), |p| p.display().to_string());
            let abandoned = self.status.replacements;
            let message = format!(
                "the scene's worker wedged in {name} (it ignored its interrupt: a finalizer or one long C call): it \
                 was given up and a new one started from the last good versions, leaving that module out (inert) \
                 until it is edited; {abandoned} abandoned worker thread{} still running, {} at the lowest OS \
                 priority (only a worker process could be killed)",
                if abandoned == 1 { " is" } else { "s are" },
                self.status.abandoned_lowered
            );
            self.report_restart(culprit.unwrap_or_else(|| self.scene.dir.clone()), message);
        }
    }

    fn report_restart(&mut self, file: std::path::PathBuf, message: String) {
        say(&self.overlay.editor.log, Level::Error, message.clone());
        self.status.diagnostics = vec![Diagnostic::error(file, message)];
        self.status.failing = true;
    }

    /// Starts a new worker on the spare context from the last good text of every source except `left_out`, and
    /// abandons the old one. The frame on screen stays until the new worker's first frame.
    fn restart_worker(&mut self, left_out: Option<std::path::PathBuf>) -> bool {
        let Some(context) = self.spare.take() else {
            self.status.worker_died = Some("the worker had to be replaced and no spare context was ready".into());
            return false;
        };
        let texts = self
            .last_good
            .iter()
            .filter(|(p, _)| Some(*p) != left_out.as_ref())
            .map(|(p, t)| (p.clone(), t.to_string()))
            .collect();
        let start = StartFrom { texts, left_out: left_out.into_iter().collect(), ..StartFrom::default() };
        match WorkerHandle::spawn_from(context, self.scene.clone(), self.options.clone(), start) {
            Ok(worker) => {
                if std::mem::replace(&mut self.worker, worker).abandon() {
                    self.status.abandoned_lowered += 1;
                }
                for frame in self.pending.drain(..) {
                    frame.fence.delete(&self.gl);
                }
                self.orphan = self.shown.is_some();
                self.status.replacements += 1;
                true
            }
            Err(e) => {
                self.status.worker_died = Some(e);
                false
            }
        }
    }

    pub fn status(&self) -> &Status {
        &self.status
    }

    /// Asks the worker to render later frames at a new size (the window was resized).
    pub fn resize(&mut self, width: u32, height: u32) {
        self.size = (width, height);
        self.worker.send(Command::Resize { width, height });
        if let Some(preview) = &self.preview {
            preview.resize(self.size);
        }
    }

    /// Runs the editor's egui pass on the input queued since the last one, and sends what it asked for: edits to
    /// rebuild, version undo/redo, uniform values. Console lines wait in `take_console_lines` for the driver.
    /// Never waits for the worker.
    pub fn ui_pass(&mut self) {
        self.overlay.pass(self.size);
        for action in self.overlay.editor.take_actions() {
            self.act(action);
        }
        self.keep_buffers();
    }

    fn act(&mut self, action: allsource_editor::Action) {
        use allsource_editor::Action;
        match action {
            Action::Edit { path, text } => self.send(Command::Type { path, text }),
            Action::Undo(path) => {
                self.overlay.editor.expect_version_change(&path);
                self.send(Command::Undo { path });
            }
            Action::Redo(path) => {
                self.overlay.editor.expect_version_change(&path);
                self.send(Command::Redo { path });
            }
            Action::SetUniform { path, name, kind, values } => {
                let value = match kind {
                    allsource_editor::Kind::Float => UniformValue::Float(values.iter().map(|&v| v as f32).collect()),
                    allsource_editor::Kind::UInt => UniformValue::UInt(values.iter().map(|&v| v as u32).collect()),
                    _ => UniformValue::Int(values.iter().map(|&v| v as i32).collect()),
                };
                self.send(Command::SetUniform { path, name, value });
            }
            Action::Console(line) => self.console_lines.push(line),
            Action::Preview { path, text } => {
                let result = self.start_preview(&path, text);
                self.say_result(result);
            }
            Action::Promote => {
                let result = self.promote(None);
                self.say_result(result);
            }
            Action::Reject => {
                let result = self.reject();
                self.say_result(result);
            }
            Action::Save { path, text } => self.save(&path, text),
        }
    }

    /// Moves the live version of `path` back (undo) or forward (redo); the editor's buffer follows.
    pub fn version_change(&mut self, path: &std::path::Path, redo: bool) {
        let path = path.to_path_buf();
        self.act(if redo { allsource_editor::Action::Redo(path) } else { allsource_editor::Action::Undo(path) });
    }

    fn say_result(&self, result: Result<String, String>) {
        match result {
            Ok(text) => say(&self.overlay.editor.log, Level::Result, text),
            Err(text) => say(&self.overlay.editor.log, Level::Error, text),
        }
    }

    /// Console lines typed since the last call.
    pub fn take_console_lines(&mut self) -> Vec<String> {
        std::mem::take(&mut self.console_lines)
    }

    /// Waits (at most `timeout`) until the worker has handled every command sent so far and its reports have
    /// arrived. For scripts and tests; the real-time path never calls it.
    pub fn sync(&mut self, timeout: Duration) -> Result<(), Error> {
        self.sync_sent += 1;
        let n = self.sync_sent;
        self.send(Command::Sync(n));
        self.wait_events(timeout, |status| status.synced >= n)
    }

    /// Sends `command` and waits (at most `timeout`) for the worker's answer (`Eval`, `Stats`, `Unload`,
    /// `Budget`). For scripts; the window's console shows answers when they arrive instead.
    pub fn request(&mut self, command: Command, timeout: Duration) -> Result<Result<String, String>, Error> {
        let before = self.status.answers.len();
        self.send(command);
        self.wait_events(timeout, |status| status.answers.len() > before)?;
        Ok(self.status.answers[before].1.clone())
    }

    fn wait_events(&mut self, timeout: Duration, done: impl Fn(&Status) -> bool) -> Result<(), Error> {
        let deadline = Instant::now() + timeout;
        while !done(&self.status) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.worker.events.recv_timeout(left) {
                Ok(event) => self.note(event),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(Error::WorkerTimeout { frame: self.status.composed, seconds: timeout.as_secs_f64() });
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let reason = self.status.worker_died.clone().unwrap_or_else(|| "it exited".into());
                    return Err(Error::WorkerDied(reason));
                }
            }
        }
        Ok(())
    }

    /// Sends a command to the worker (an edit, an undo, a uniform value). Never waits.
    pub fn send(&self, command: Command) {
        self.worker.send(command);
    }

    /// Real-time mode: shows the newest finished worker frame (or keeps the current one) and the overlay. Never
    /// waits for the worker.
    pub fn compose(&mut self, target: &FrameTarget) {
        self.drain_events();
        let finished = self.pending.iter().rposition(|f| f.fence.is_signalled(&self.gl));
        if let Some(newest) = finished {
            // Fences of one context signal in order: everything before `newest` has finished too, and is skipped.
            for _ in 0..newest {
                if let Some(skipped) = self.pending.pop_front() {
                    self.release(skipped, None);
                }
            }
            if let Some(frame) = self.pending.pop_front() {
                self.show(frame);
            }
        }
        self.poll_preview();
        self.ui_pass();
        self.draw(target);
    }

    /// Lockstep mode: asks the worker for frame `index` at `time`, waits up to `timeout` for it, and shows it.
    pub fn compose_lockstep(
        &mut self,
        target: &FrameTarget,
        index: u64,
        time: f64,
        timeout: Duration,
    ) -> Result<(), Error> {
        self.worker.send(Command::Render { index, time });
        let deadline = Instant::now() + timeout;
        let frame = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.worker.events.recv_timeout(left) {
                Ok(Event::Frame(frame)) if frame.index == index => break frame,
                Ok(Event::Frame(stale)) => self.release(stale, None),
                Ok(Event::Wedged { suspects }) => {
                    self.replace_worker(suspects);
                    self.worker.send(Command::Render { index, time });
                }
                Ok(Event::ContextLost) => {
                    self.replace_after_reset();
                    self.worker.send(Command::Render { index, time });
                }
                Ok(event) => self.note(event),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(Error::WorkerTimeout { frame: index, seconds: timeout.as_secs_f64() });
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let reason = self.status.worker_died.clone().unwrap_or_else(|| "it exited".into());
                    return Err(Error::WorkerDied(reason));
                }
            }
        };
        // Lockstep waits for every frame anyway: this thread times it against the GPU timeout (in real time the
        // worker does, and this thread never waits).
        let started = Instant::now();
        if !frame.fence.wait(&self.gl, self.options.gpu_timeout) {
            self.worker.send(Command::GpuTimedOut { took: started.elapsed() });
            frame.fence.wait(&self.gl, timeout);
        }
        frame.fence.wait_on_gpu(&self.gl);
        self.show(frame);
        self.poll_preview();
        self.ui_pass();
        self.draw(target);
        Ok(())
    }

    /// Reads back what the last compose drew into `target`.
    pub fn screenshot(&self, target: &FrameTarget) -> Image {
        Image::read(&self.gl, target)
    }

    fn drain_events(&mut self) {
        loop {
            match self.worker.events.try_recv() {
                Ok(Event::Frame(frame)) => self.pending.push_back(frame),
                Ok(event) => self.note(event),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if self.status.worker_died.is_none() {
                        self.status.worker_died = Some("the worker thread exited".into());
                    }
                    break;
                }
            }
        }
    }

    fn note(&mut self, event: Event) {
        match event {
            Event::Frame(frame) => self.pending.push_back(frame),
            Event::Wedged { suspects } => self.replace_worker(suspects),
            Event::ContextLost => self.replace_after_reset(),
            Event::Built(report) => {
                let log = &self.overlay.editor.log.clone();
                self.status.builds += 1;
                self.overlay.editor.built(&report);
                if let Some(text) = &report.live_text {
                    self.last_good.insert(report.path.clone(), text.clone());
                }
                self.status.live_version = report.live_version;
                self.status.failing = report.diagnostics.iter().any(Diagnostic::is_error);
                match (report.version, report.became_live) {
                    (Some(v), true) => {
                        let ms = report.took.as_secs_f64() * 1e3;
                        say(log, Level::Info, format!("{}: version {v} built in {ms:.2} ms", report.path.display()));
                        self.status.last_build = Some(report.took);
                    }
                    (Some(v), false) if self.status.failing => {
                        let live = report.live_version.map_or("no version".to_owned(), |n| format!("version {n}"));
                        // "did not build" only for builds: a run-time verdict says what happened.
                        let what = report.verdict.as_deref().unwrap_or("did not build");
                        let text = format!("{}: version {v} {what}; {live} stays live", report.path.display());
                        say(log, Level::Error, text);
                    }
                    _ => {}
                }
                for d in &report.diagnostics {
                    if d.is_error() {
                        say(log, Level::Error, d.to_string());
                    } else {
                        say(log, Level::Warn, d.to_string());
                    }
                }
                self.status.diagnostics = report.diagnostics;
            }
            Event::UniformSet { name, ok, .. } => self.status.uniform_answers.push((name, ok)),
            Event::Answer { request, result } => {
                match &result {
                    Ok(text) => say(&self.overlay.editor.log, Level::Result, text.clone()),
                    Err(text) => say(&self.overlay.editor.log, Level::Error, text.clone()),
                }
                self.status.answers.push((request, result));
            }
            Event::Uniforms { path, tweaks, noted_only } => self.overlay.editor.set_tweaks(&path, tweaks, noted_only),
            Event::Synced(n) => self.status.synced = self.status.synced.max(n),
            Event::Saved { path, text, result } => {
                let asked = self.asked_saves.remove(&path);
                match result {
                    Ok(()) => {
                        self.overlay.editor.saved(&path, &text);
                        self.journal_disk(&path, &text);
                        if asked {
                            say(&self.overlay.editor.log, Level::Info, format!("saved {}", path.display()));
                        } else {
                            tracing::debug!("autosaved {}", path.display());
                        }
                    }
                    Err(e) => say(&self.overlay.editor.log, Level::Error, e),
                }
            }
            Event::Conflict { path, disk } => {
                self.overlay.editor.conflict(&path, &disk);
                self.say_conflict(&path);
            }
            Event::RebuiltFromDisk { at } => self.status.rebuilt_from_disk_at = Some(at),
            Event::FromDisk { path, text } => {
                if self.overlay.editor.from_disk(&path, &text) {
                    self.journal_disk(&path, &text);
                } else {
                    self.say_conflict(&path);
                }
            }
            Event::Died(reason) => {
                say(&self.overlay.editor.log, Level::Error, format!("the scene's worker stopped: {reason}"));
                self.status.worker_died = Some(reason);
            }
        }
    }

    fn say_conflict(&self, path: &std::path::Path) {
        let name = path.strip_prefix(&self.scene.dir).unwrap_or(path).display();
        say(
            &self.overlay.editor.log,
            Level::Warn,
            format!(
                "{name} changed on disk while its buffer has unsaved edits: both are kept, nothing was overwritten. \
                 The buffer's version stays live; `save` (ctrl+s) writes it over the file, `reload {name}` takes the \
                 file's text instead"
            ),
        );
    }

    /// Puts `frame` on screen and gives the previous one back to the worker, once this context has finished
    /// sampling it.
    fn show(&mut self, frame: WorkerFrame) {
        self.status.shown = Some(frame.index);
        self.status.shown_version = frame.version;
        self.status.worker_frames_shown += 1;
        let orphan = std::mem::take(&mut self.orphan);
        if let Some(previous) = self.shown.replace(frame) {
            if orphan {
                // From the worker given up: nothing to hand back.
                previous.fence.delete(&self.gl);
                return;
            }
            let after = match Fence::insert(&self.gl) {
                Ok(fence) => Some(fence),
                Err(e) => {
                    // Without a fence, the GPU must be done with the texture before the worker may reuse it.
                    tracing::warn!("{e}; finishing the GL queue instead");
                    allsource_gpu::finish(&self.gl);
                    None
                }
            };
            self.release(previous, after);
        }
    }

    fn release(&mut self, frame: WorkerFrame, after: Option<Fence>) {
        frame.fence.delete(&self.gl);
        self.worker.send(Command::Release { slot: frame.slot, after });
    }

    fn draw(&mut self, target: &FrameTarget) {
        self.status.composed += 1;
        match &self.shown {
            Some(frame) => {
                target.bind(&self.gl);
                self.blit.use_program(&self.gl);
                self.triangle.bind_texture(&self.gl, frame.texture);
                self.triangle.draw(&self.gl);
                self.triangle.unbind_texture(&self.gl);
            }
            None => target.clear(&self.gl, WAITING_COLOUR, None),
        }
        self.draw_overlay(target);
        match self.overlay.paint(&self.gl, target) {
            Ok(None) => {}
            Ok(Some((panel, rect))) => self.blit_into(target, panel, rect),
            Err(e) => {
                say(&self.overlay.editor.log, Level::Error, format!("the editor could not be drawn: {e}; hiding it"));
                self.overlay.editor.visible = false;
            }
        }
        self.draw_preview(target);
    }

    /// Draws `texture` over the `rect` of `target` (pixels from the bottom-left).
    fn blit_into(&self, target: &FrameTarget, texture: glow::NativeTexture, rect: [i32; 4]) {
        target.bind_rect(&self.gl, rect);
        self.blit.use_program(&self.gl);
        self.triangle.bind_texture(&self.gl, texture);
        self.triangle.draw(&self.gl);
        self.triangle.unbind_texture(&self.gl);
    }

    /// The preview's newest frame in its panel and, unless the editor (which shows text stats and buttons) is
    /// open, its frame-time graph as bars under it: Lua time per guest frame against the budget (the white line),
    /// green within it, red over.
    fn draw_preview(&self, target: &FrameTarget) {
        let Some(preview) = &self.preview else { return };

        let rect = crate::overlay::viewport_of(PREVIEW_RECT, target);
        match preview.shown.as_ref() {
            Some(frame) => self.blit_into(target, frame.texture, rect),
            None => target.clear(&self.gl, PREVIEW_STOPPED, Some(rect)),
        }
        if self.overlay.visible() {
            return;
        }
        let graph_h = 24;
        let top = rect[1] - 2 - graph_h;
        target.clear(&self.gl, [0.0, 0.0, 0.0, 1.0], Some([rect[0], top, rect[2], graph_h]));
        let budget = preview.budget_ms.max(0.001);
        let n = preview.lua_ms.len().max(1) as i32;
        let bar_w = (rect[2] / n.max(60)).max(1);
        for (i, ms) in preview.lua_ms.iter().enumerate() {
            let bar_h = ((ms / (2.0 * budget)).min(1.0) * graph_h as f32).max(1.0) as i32;
            let colour = if *ms <= budget { LUA_BAR_OK } else { LUA_BAR_OVER };
            let bx = rect[0] + rect[2] - (n - i as i32) * bar_w;
            if bx >= rect[0] {
                target.clear(&self.gl, colour, Some([bx, top, bar_w, bar_h]));
            }
        }
        target.clear(&self.gl, BUDGET_TICK, Some([rect[0], top + graph_h / 2, rect[2], 1]));
    }

    /// The compositor's own layer, drawn over the scene: for now a strip along the top edge that says the scene's
    /// newest source failed to build (red) or its worker died (magenta). The editor overlay will draw here.
    fn draw_overlay(&self, target: &FrameTarget) {
        if self.options.stats_overlay {
            self.draw_stats(target);
        }
        let colour = if self.status.worker_died.is_some() {
            WORKER_DIED_COLOUR
        } else if self.status.failing {
            BUILD_ERROR_COLOUR
        } else {
            return;
        };
        let (w, h) = (target.width as i32, target.height as i32);
        target.clear(&self.gl, colour, Some([0, h - STRIP_HEIGHT, w, STRIP_HEIGHT]));
    }
}

/// Bar colours of the stats overlay: Lua's own time, then that time by module (the four largest, in turn), then GPU
/// time per module in turn.
const LUA_BAR: [f32; 4] = [0.95, 0.8, 0.2, 1.0];
const LUA_MODULE_BARS: [[f32; 4]; 2] = [[0.95, 0.55, 0.15, 1.0], [0.8, 0.65, 0.35, 1.0]];
const GPU_BARS: [[f32; 4]; 3] = [[0.2, 0.8, 0.95, 1.0], [0.6, 0.5, 0.95, 1.0], [0.3, 0.9, 0.5, 1.0]];
const BUDGET_TICK: [f32; 4] = [1.0, 1.0, 1.0, 1.0];
/// The preview's graph: a guest frame within its budget, and over it; its panel once it was stopped.
const LUA_BAR_OK: [f32; 4] = [0.3, 0.9, 0.4, 1.0];
const LUA_BAR_OVER: [f32; 4] = [0.95, 0.25, 0.2, 1.0];
const PREVIEW_STOPPED: [f32; 4] = [0.35, 0.08, 0.08, 1.0];

impl Compositor {
    /// The frame's times as bars along the bottom-left corner: Lua's own time (yellow), that time by module (the
    /// four largest, orange shades in turn), then GPU time per module (blue, violet, green in turn), scaled so that
    /// the white tick is one frame period.
    fn draw_stats(&self, target: &FrameTarget) {
        let Some(stats) = self.shown.as_ref().and_then(|f| f.stats.as_ref()) else { return };
        let (bar, gap, x0, period_px) = (6, 2, 4, (target.width as f32 / 4.0).max(8.0));
        let width = |ms: f32| ((ms / stats.budget_ms.max(0.001)) * period_px).clamp(1.0, 2.0 * period_px) as i32;
        let bars = std::iter::once((stats.lua_ms, LUA_BAR))
            .chain(stats.lua_by_module.iter().take(4).enumerate().map(|(i, (_, ms))| (*ms, LUA_MODULE_BARS[i % 2])))
            .chain(stats.gpu_ms.iter().enumerate().map(|(i, (_, ms))| (*ms, GPU_BARS[i % GPU_BARS.len()])));
        for (row, (ms, colour)) in bars.enumerate() {
            let y = 4 + row as i32 * (bar + gap);
            target.clear(&self.gl, colour, Some([x0, y, width(ms), bar]));
            target.clear(&self.gl, BUDGET_TICK, Some([x0 + period_px as i32, y, 1, bar]));
        }
    }
}

/// A line for the console and for the log (the CLI's console layer skips this module's events, so the console
/// gets each line once, also in engines without that layer, such as tests).
fn say(log: &ConsoleLog, level: Level, text: String) {
    match level {
        Level::Error => tracing::error!("{text}"),
        Level::Warn => tracing::warn!("{text}"),
        _ => tracing::info!("{text}"),
    }
    log.push(level, text);
}

impl Drop for Compositor {
    fn drop(&mut self) {
        for frame in self.pending.drain(..).chain(self.shown.take()) {
            frame.fence.delete(&self.gl);
        }
        if let Some(preview) = self.preview.take() {
            preview.close(&self.gl);
        }
        self.overlay.free(&self.gl);
        // A clean stop: the journal goes when everything in it is on disk; unsaved buffers (edits that never built)
        // stay in it for the next start.
        if let Some(journal) = self.journal.take() {
            let root = self.scene.dir.clone();
            let saved = |name: &std::path::Path, text: &str| {
                allsource_live::read_source(&root.join(name)).is_ok_and(|disk| disk == text)
            };
            if let Err(e) = journal.close(saved) {
                tracing::warn!("the journal was not closed: {e}");
            }
        }
        // Dropping the worker handle (after this) stops the worker, which frees its textures.
    }
}

/// Opens the scene's journal and brings back what an earlier process left unsaved in it (it crashed, was killed,
/// or quit with edits that never built): each such buffer opens in the editor with its text, which the worker
/// builds, and the console says what was recovered.
fn open_journal(scene: &Scene, overlay: &mut Overlay, worker: &WorkerHandle) -> Option<allsource_store::Journal> {
    let log = overlay.editor.log.clone();
    let (journal, recovered) = match allsource_store::Journal::open(&allsource_store::dir_of(&scene.dir)) {
        Ok(opened) => opened,
        Err(e) => {
            say(&log, Level::Error, format!("no journal: {e}; edits in the editor are not protected against a crash"));
            return None;
        }
    };
    if let Some(problem) = &recovered.problem {
        say(
            &log,
            Level::Warn,
            format!("{problem}; what came before it was recovered (the file is kept as journal.damaged)"),
        );
    }
    for (name, text) in &recovered.texts {
        let path = scene.dir.join(name);
        let disk = allsource_live::read_source(&path);
        if disk.as_ref().is_ok_and(|disk| disk == text) {
            continue;
        }
        let edits = recovered.edits.get(name).copied().unwrap_or(0);
        overlay.editor.open_recovered(&path, text.clone());
        worker.send(Command::Edit { path: path.clone(), text: text.clone() });
        // The file changed while the engine was not running: the recovered buffer must not be written over it.
        let then = recovered.disk.get(name).copied();
        if let (Some(then), Ok(now)) = (then, &disk)
            && allsource_store::text_hash(now) != then
        {
            overlay.editor.conflict(&path, now);
            say(
                &log,
                Level::Warn,
                format!(
                    "recovered {} from the journal ({edits} unsaved changes), but its file changed while the engine \
                     was not running: both are kept, nothing is overwritten. The recovered buffer runs; `save` writes \
                     it over the file, `reload {}` takes the file's text",
                    name.display(),
                    name.display()
                ),
            );
            overlay.editor.visible = true;
            continue;
        }
        say(
            &log,
            Level::Warn,
            format!(
                "recovered {} from the journal: {edits} change{} not saved to the file when the engine stopped. \
                 The buffer runs now and is written to the file once it builds",
                name.display(),
                if edits == 1 { "" } else { "s" }
            ),
        );
        overlay.editor.visible = true;
    }
    Some(journal)
}
