//! Vetting incoming code: a guest module runs in a preview worker (its own thread at a lower OS priority, its own
//! sandboxed VM, its own low-priority GL context in the share group, its own textures and clock). The compositor
//! shows its newest finished frame in a panel and counts the frames it ran within budget; `promote` hands the
//! vetted text to the scene worker as an edit, `reject` stops the guest and frees what it made.
//!
//! The compositor treats the preview as it treats the scene's worker, minus the waiting: in lockstep it still never
//! waits for a guest frame, so a guest cannot slow a script or a render either.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc::TryRecvError;

use allsource_gpu::{Fence, Gl, SharedContext, Target};
use allsource_live::Diagnostic;

use crate::Scene;
use crate::worker::{Clock, Command, EngineOptions, Event, StartFrom, WorkerFrame, WorkerHandle};

/// Frame-time samples kept for the panel's graph.
const HISTORY: usize = 120;

/// Where the preview runs.
/// Where the preview's frame is drawn: x, y from the top-left, width, height, as fractions of the frame.
pub const PREVIEW_RECT: [f32; 4] = [0.62, 0.12, 0.34, 0.34];

#[derive(Clone, Debug, PartialEq)]
pub enum PreviewState {
    Running,
    /// Stopped by supervision (a loop, the budget, memory, the GPU timeout, a wedge), with why.
    Stopped(String),
}

pub struct Preview {
    worker: Option<WorkerHandle>,
    /// The candidate file, and the text the guest runs (what `promote` hands to the scene).
    pub path: PathBuf,
    pub text: String,
    /// The file the guest's main module has inside its VM (the scene's `main.lua` path): its reports are renamed
    /// to `path`.
    guest_main: PathBuf,
    pending: VecDeque<WorkerFrame>,
    /// The newest guest frame, copied into a texture of the compositor's own: the compositor never samples a
    /// texture of the guest's (which would tie its frames to the guest's context), and the guest gets its slot
    /// back at once.
    pub shown: Option<Target>,
    pub state: PreviewState,
    /// Frames the guest finished, and how many of the newest ones in a row stayed within the budget.
    pub frames: u64,
    pub good_in_a_row: u64,
    /// Why the newest frame over budget was over, for `promote`'s refusal.
    pub last_bad: Option<String>,
    /// Milliseconds between guest frames (on the guest's clock), and its Lua time per frame, newest last.
    pub intervals: VecDeque<f32>,
    pub lua_ms: VecDeque<f32>,
    pub budget_ms: f32,
    last_time: Option<f64>,
    pub diagnostics: Vec<Diagnostic>,
    /// The driver gave the guest's context a low priority (EGL_IMG_context_priority).
    pub low_priority: bool,
    /// Console lines not handed out yet.
    notes: Vec<(bool, String)>,
}

impl Preview {
    /// Starts `text` (the candidate file `path`) in a preview worker on `context`.
    pub fn start(
        context: SharedContext,
        scene: &Scene,
        options: &EngineOptions,
        path: &Path,
        text: String,
    ) -> Result<Preview, String> {
        let low_priority = context.low_priority();
        let guest_main = scene.dir.join("main.lua");
        let start = StartFrom { texts: vec![(guest_main.clone(), text.clone())], guest: true, ..StartFrom::default() };
        // The guest keeps its own clock whatever the scene's is, never draws the editor, and renders at the size
        // its panel shows (a full-size frame would cost the scene's rasteriser for pixels nobody sees).
        let size = panel_size(options.size);
        let options = EngineOptions { clock: Clock::Realtime, editor: false, panel: false, size, ..options.clone() };
        let worker = WorkerHandle::spawn_from(context, scene.clone(), options, start)?;
        Ok(Preview {
            worker: Some(worker),
            path: path.to_path_buf(),
            text,
            guest_main,
            pending: VecDeque::new(),
            shown: None,
            state: PreviewState::Running,
            frames: 0,
            good_in_a_row: 0,
            last_bad: None,
            intervals: VecDeque::new(),
            lua_ms: VecDeque::new(),
            budget_ms: 0.0,
            last_time: None,
            diagnostics: Vec::new(),
            low_priority,
            notes: Vec::new(),
        })
    }

    /// Takes the guest's messages without waiting and shows its newest finished frame. Returns lines for the
    /// console (builds, diagnostics, why it stopped).
    pub fn poll(&mut self, gl: &Gl, take_frame: bool) -> Vec<(bool, String)> {
        let mut lines = Vec::new();
        while let Some(worker) = &self.worker {
            match worker.events.try_recv() {
                Ok(Event::Frame(frame)) => self.pending.push_back(frame),
                Ok(Event::Built(mut report)) => {
                    if report.path == self.guest_main {
                        report.path = self.path.clone();
                        for d in &mut report.diagnostics {
                            d.file = self.path.clone();
                        }
                    }
                    for d in &report.diagnostics {
                        lines.push((d.is_error(), format!("preview: {d}")));
                    }
                    // Incoming code that fails in any way (a build, a stopped loop, memory, the budget's revert, the
                    // GPU timeout) is not fit to promote: the preview stops with the first error.
                    if let Some(error) = report.diagnostics.iter().find(|d| d.is_error()) {
                        self.stop(gl, error.to_string());
                    }
                    self.diagnostics = report.diagnostics;
                }
                Ok(Event::Wedged { .. }) => self
                    .stop(gl, "the guest wedged its worker (it ignored its interrupt): the worker was given up".into()),
                Ok(Event::ContextLost) => self.stop(gl, "the guest's GL context was lost".into()),
                Ok(Event::Died(reason)) => self.stop(gl, format!("the preview worker stopped: {reason}")),
                Ok(_) => {}
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if self.state == PreviewState::Running {
                        self.stop(gl, "the preview worker exited".into());
                    }
                    break;
                }
            }
        }
        lines.append(&mut self.notes);
        if !take_frame {
            return lines;
        }
        if let Some(newest) = self.pending.iter().rposition(|f| f.fence.is_signalled(gl)) {
            for _ in 0..newest {
                if let Some(skipped) = self.pending.pop_front() {
                    self.release(gl, skipped, None);
                }
            }
            if let Some(frame) = self.pending.pop_front() {
                self.count(&frame);
                self.show(gl, frame);
            }
        }
        lines
    }

    /// Counts a finished guest frame: its interval on the guest's clock, and whether its Lua time (the stats a
    /// frame carries are those of the frame before it) stayed within the budget.
    fn count(&mut self, frame: &WorkerFrame) {
        self.frames += 1;
        if let Some(last) = self.last_time {
            push(&mut self.intervals, ((frame.time - last) * 1e3) as f32);
        }
        self.last_time = Some(frame.time);
        if let Some(stats) = &frame.stats {
            self.budget_ms = stats.budget_ms;
            push(&mut self.lua_ms, stats.lua_ms);
            if stats.lua_ms <= stats.budget_ms {
                self.good_in_a_row += 1;
            } else {
                self.good_in_a_row = 0;
                self.last_bad = Some(format!(
                    "its frame {} took {:.1} ms of Lua against a {:.1} ms budget",
                    frame.index, stats.lua_ms, stats.budget_ms
                ));
            }
        }
    }

    fn show(&mut self, gl: &Gl, frame: WorkerFrame) {
        let own = match self.shown.take() {
            Some(t) if (t.width, t.height) == (frame.width, frame.height) => Some(t),
            old => {
                if let Some(old) = old {
                    old.delete(gl);
                }
                Target::new(gl, frame.width, frame.height).ok()
            }
        };
        if let Some(own) = &own {
            own.copy_from(gl, frame.texture, frame.width, frame.height);
        }
        self.shown = own;
        let after = Fence::insert(gl).ok();
        if after.is_none() {
            allsource_gpu::finish(gl);
        }
        self.release(gl, frame, after);
    }

    fn release(&mut self, gl: &Gl, frame: WorkerFrame, after: Option<Fence>) {
        frame.fence.delete(gl);
        match &self.worker {
            Some(worker) => worker.send(Command::Release { slot: frame.slot, after }),
            None => {
                if let Some(f) = after {
                    f.delete(gl);
                }
            }
        }
    }

    /// Stops the guest: its worker is told to stop and is not waited for (a wedged one never answers; one that
    /// answers frees its own objects as it stops, so its frames are not shown any more).
    fn stop(&mut self, gl: &Gl, why: String) {
        if self.state != PreviewState::Running {
            return;
        }
        self.notes.push((true, format!("preview of {} stopped: {why}", self.path.display())));
        self.state = PreviewState::Stopped(why);
        self.let_go(gl);
    }

    /// Whether `promote` would take it now; else why not.
    pub fn vetted(&self, required: u64) -> Result<(), String> {
        if let PreviewState::Stopped(why) = &self.state {
            return Err(format!("the preview of {} was stopped: {why}", self.path.display()));
        }
        if self.good_in_a_row >= required {
            return Ok(());
        }
        let mut reason = format!(
            "the preview of {} has run {} of the {required} frames within budget in a row that promotion needs",
            self.path.display(),
            self.good_in_a_row
        );
        if let Some(bad) = &self.last_bad {
            reason.push_str(&format!(" ({bad})"));
        }
        Err(reason)
    }

    /// Stops the guest and frees what this side holds of it (the worker frees its own objects as it stops).
    pub fn close(mut self, gl: &Gl) {
        self.let_go(gl);
    }

    /// Drops the frames this side holds and tells the worker to stop, without waiting for it.
    fn let_go(&mut self, gl: &Gl) {
        for frame in self.pending.drain(..) {
            frame.fence.delete(gl);
        }
        if let Some(own) = self.shown.take() {
            own.delete(gl);
        }
        if let Some(worker) = self.worker.take() {
            worker.abandon();
        }
    }
}

/// The preview panel's size in pixels for a frame of `frame` pixels.
pub fn panel_size(frame: (u32, u32)) -> (u32, u32) {
    let [_, _, w, h] = PREVIEW_RECT;
    (((frame.0 as f32 * w) as u32).max(1), ((frame.1 as f32 * h) as u32).max(1))
}

/// Tells the guest the frame's new size.
impl Preview {
    pub fn resize(&self, frame: (u32, u32)) {
        if let Some(worker) = &self.worker {
            let (width, height) = panel_size(frame);
            worker.send(Command::Resize { width, height });
        }
    }
}

fn push(samples: &mut VecDeque<f32>, value: f32) {
    samples.push_back(value);
    while samples.len() > HISTORY {
        samples.pop_front();
    }
}
