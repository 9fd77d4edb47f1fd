//! Vetting incoming code: a guest module runs in a preview worker (by default a child process: its own GL display,
//! its own sandboxed VM, OS limits, at a lower OS priority; or a thread with a low-priority context in the share
//! group). The compositor shows its newest finished frame in a panel and counts the frames it ran within budget;
//! `promote` hands the vetted text to the scene worker as an edit, `reject` stops the guest and frees what it made.
//!
//! The compositor treats the preview as it treats the scene's worker, minus the waiting: in lockstep it still never
//! waits for a guest frame, so a guest cannot slow a script or a render either. A guest process is killed when it
//! is stopped for any reason, when it dies, and when it sends nothing for twice the GPU timeout and 3 s.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc::TryRecvError;
use std::time::{Duration, Instant};

use allsource_gpu::{Fence, Gl, SharedContext, Target};
use allsource_live::Diagnostic;

use crate::Scene;
use crate::worker::process::wire::{DebugAct, RingFrame, Start, ToChild};
use crate::worker::process::{News, ProcessWorker};
use crate::worker::{Clock, Command, EngineOptions, Event, StartFrom, WorkerFrame, WorkerHandle, WorkerPlace};

/// How long a guest process may take to start and send its first frame (exec, its own GL display, LuaJIT, the
/// guest's first builds), before it is killed as one that never draws. After the first, the GPU timeout applies.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(15);
/// With twice the GPU timeout, how long a guest process that has drawn may send nothing before it is killed.
const STARVED_GRACE: Duration = Duration::from_secs(3);

/// The preview's worker: a process, or a thread.
enum Guest {
    Thread(WorkerHandle),
    Process(ProcessWorker),
}

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
    worker: Option<Guest>,
    /// A process's newest frame in the ring, not taken yet.
    ring_pending: Option<RingFrame>,
    /// When the guest process last said anything (its start, a frame, a report): its silence counts from here.
    last_news: Instant,
    /// The GPU timeout a guest process's frames are held to.
    gpu_timeout: Duration,
    /// The guest process's id (`None` for a thread).
    pub pid: Option<u32>,
    /// Answers to `debug` received.
    pub answers: u64,
    /// The compositor's time spent taking guest frames (a process's: the upload from the ring; a thread's: the
    /// copy between textures), and how many it took: the bench's transport cost per frame.
    pub taking: (Duration, u64),
    /// When the preview started, and when its first frame was shown.
    started: Instant,
    pub first_frame_after: Option<Duration>,
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
    /// The texture shown before `shown`, written next.
    behind: Option<Target>,
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
    /// Starts `text` (the candidate file `path`) in a preview worker: a process, or a thread on `context` (which
    /// a thread needs).
    pub fn start(
        context: Option<SharedContext>,
        scene: &Scene,
        options: &EngineOptions,
        path: &Path,
        text: String,
    ) -> Result<Preview, String> {
        let guest_main = scene.dir.join("main.lua");
        // The guest keeps its own clock whatever the scene's is, never draws the editor, and renders at the size
        // its panel shows (a full-size frame would cost the scene's rasteriser for pixels nobody sees).
        let options = EngineOptions {
            clock: Clock::Realtime,
            editor: false,
            panel: false,
            size: panel_size(options.size),
            ..options.clone()
        };
        let from = StartFrom { texts: vec![(guest_main.clone(), text.clone())], guest: true, ..StartFrom::default() };
        let (worker, low_priority, pid) = match &options.preview_place {
            WorkerPlace::Process(program) => {
                let nice = if options.preview_nice { crate::worker::PREVIEW_NICE } else { 0 };
                let start = Start::of(&scene.dir, &options, from, nice, options.preview_address_space);
                let process = ProcessWorker::spawn(program.as_deref(), start)?;
                let pid = process.pid();
                (Guest::Process(process), false, Some(pid))
            }
            WorkerPlace::Thread => {
                let context = context.ok_or("no GL context is ready for a preview worker yet")?;
                let low_priority = context.low_priority();
                let worker = WorkerHandle::spawn_from(context, scene.clone(), options.clone(), from)?;
                (Guest::Thread(worker), low_priority, None)
            }
        };
        Ok(Preview {
            worker: Some(worker),
            ring_pending: None,
            behind: None,
            last_news: Instant::now(),
            gpu_timeout: options.gpu_timeout,
            pid,
            answers: 0,
            taking: (Duration::ZERO, 0),
            started: Instant::now(),
            first_frame_after: None,
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
        match &self.worker {
            Some(Guest::Thread(_)) => self.poll_thread(gl, &mut lines),
            Some(Guest::Process(_)) => self.poll_process(gl, &mut lines),
            None => {}
        }
        lines.append(&mut self.notes);
        if !take_frame {
            return lines;
        }
        let taking = Instant::now();
        let before = self.frames;
        if let Some(frame) = self.ring_pending.take() {
            self.count(frame.index, frame.time, frame.stats.as_ref());
            self.show_ring(gl, frame);
        }
        if let Some(newest) = self.pending.iter().rposition(|f| f.finished(gl)) {
            for _ in 0..newest {
                if let Some(skipped) = self.pending.pop_front() {
                    self.release(gl, skipped, None);
                }
            }
            if let Some(frame) = self.pending.pop_front() {
                self.count(frame.index, frame.time, frame.stats.as_ref());
                self.show(gl, frame);
            }
        }
        if self.frames > before {
            self.taking.0 += taking.elapsed();
            self.taking.1 += self.frames - before;
            self.first_frame_after.get_or_insert(self.started.elapsed());
        }
        lines
    }

    fn poll_thread(&mut self, gl: &Gl, lines: &mut Vec<(bool, String)>) {
        while let Some(Guest::Thread(worker)) = &self.worker {
            match worker.events.try_recv() {
                Ok(Event::Frame(frame)) => self.pending.push_back(frame),
                Ok(event) => self.on_event(gl, event, lines),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.stop(gl, "the preview worker exited".into());
                    break;
                }
            }
        }
    }

    fn poll_process(&mut self, gl: &Gl, lines: &mut Vec<(bool, String)>) {
        while let Some(Guest::Process(process)) = &self.worker {
            let pid = process.pid();
            let news = match process.news.try_recv() {
                Ok(news) => news,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.stop(gl, "the preview process went away".into());
                    break;
                }
            };
            self.last_news = Instant::now();
            match news {
                News::Ready { low_priority, confined } => {
                    self.low_priority = low_priority;
                    lines.push((false, format!("preview process {pid} is confined: {confined}")));
                }
                News::Frame(frame) => {
                    if let Some(older) = self.ring_pending.replace(frame) {
                        self.send_process(ToChild::Release { slot: older.slot });
                    }
                }
                News::Event(event) => self.on_event(gl, event, lines),
                News::Exited(how) => self.stop(gl, format!("its process ({pid}) {how}")),
            }
        }
        // A frame the GPU takes long over is the guest worker's to stop at the GPU timeout (it says so); this
        // catches a process that cannot say anything (its worker stuck in a draw call, a wedge, a spin), with room
        // for a busy machine, where a process at nice 10 may get little CPU for a while.
        let limit = if self.frames == 0 && self.ring_pending.is_none() {
            FIRST_FRAME_TIMEOUT.max(self.gpu_timeout)
        } else {
            2 * self.gpu_timeout + STARVED_GRACE
        };
        if let Some(Guest::Process(process)) = &self.worker
            && self.last_news.elapsed() > limit
        {
            let why = format!(
                "it sent nothing for {:.1} s (twice the GPU timeout and {} s: a draw that does not end, a wedge, or \
                 no CPU time for it): its process ({}) was killed",
                limit.as_secs_f64(),
                STARVED_GRACE.as_secs(),
                process.pid()
            );
            self.stop(gl, why);
        }
    }

    /// What a guest's worker reports, from a thread or a process alike.
    fn on_event(&mut self, gl: &Gl, event: Event, lines: &mut Vec<(bool, String)>) {
        match event {
            Event::Built(mut report) => {
                if report.path == self.guest_main {
                    report.path = self.path.clone();
                    for d in &mut report.diagnostics {
                        d.file = self.path.clone();
                    }
                }
                for d in &report.diagnostics {
                    lines.push((d.is_error(), format!("preview: {d}")));
                }
                // Incoming code that fails in any way (a build, a stopped loop, memory, the budget's revert, the GPU
                // timeout) is not fit to promote: the preview stops with the first error.
                if let Some(error) = report.diagnostics.iter().find(|d| d.is_error()) {
                    self.stop(gl, error.to_string());
                }
                self.diagnostics = report.diagnostics;
            }
            Event::Wedged { .. } => {
                let how = match &self.worker {
                    Some(Guest::Process(p)) => format!("its process ({}) was killed", p.pid()),
                    _ => "the worker was given up".into(),
                };
                self.stop(gl, format!("the guest wedged its worker (it ignored its interrupt): {how}"))
            }
            Event::ContextLost => self.stop(gl, "the guest's GL context was lost".into()),
            Event::Died(reason) => self.stop(gl, format!("the preview worker stopped: {reason}")),
            Event::Answer { request, result } => {
                self.answers += 1;
                lines.push(match result {
                    Ok(said) => (false, format!("preview: {request}: {said}")),
                    Err(e) => (true, format!("preview: {request}: failed: {e}")),
                })
            }
            _ => {}
        }
    }

    fn send_process(&self, message: ToChild) {
        if let Some(Guest::Process(process)) = &self.worker {
            process.send(message);
        }
    }

    /// Makes a preview process do a debugging act (crash, allocate, open a file, connect); its answer comes as a
    /// console line.
    pub fn debug(&self, act: DebugAct) -> Result<(), String> {
        match &self.worker {
            Some(Guest::Process(process)) => {
                process.send(ToChild::Debug(act));
                Ok(())
            }
            Some(Guest::Thread(_)) => Err("the preview runs on a thread, not in a process".into()),
            None => Err("the preview was stopped".into()),
        }
    }

    /// Counts a finished guest frame: its interval on the guest's clock, and whether its Lua time (the stats a
    /// frame carries are those of the frame before it) stayed within the budget.
    fn count(&mut self, index: u64, time: f64, stats: Option<&crate::worker::FrameTimes>) {
        self.frames += 1;
        if let Some(last) = self.last_time {
            push(&mut self.intervals, ((time - last) * 1e3) as f32);
        }
        self.last_time = Some(time);
        if let Some(stats) = stats {
            self.budget_ms = stats.budget_ms;
            push(&mut self.lua_ms, stats.lua_ms);
            if stats.lua_ms <= stats.budget_ms {
                self.good_in_a_row += 1;
            } else {
                self.good_in_a_row = 0;
                self.last_bad = Some(format!(
                    "its frame {} took {:.1} ms of Lua against a {:.1} ms budget",
                    index, stats.lua_ms, stats.budget_ms
                ));
            }
        }
    }

    /// The compositor's own texture for a guest frame of this size.
    /// Two textures take turns: the one written is the one shown the time before, which the last composed frame
    /// did not sample (on llvmpipe a write into a texture a draw still being rasterized samples waits for it).
    fn own_target(&mut self, gl: &Gl, width: u32, height: u32) -> Option<Target> {
        let next = self.behind.take();
        self.behind = self.shown.take();
        match next {
            Some(t) if (t.width, t.height) == (width, height) => Some(t),
            old => {
                if let Some(old) = old {
                    old.delete(gl);
                }
                Target::new(gl, width, height).ok()
            }
        }
    }

    /// Uploads a process's frame from the ring and gives its slot back.
    fn show_ring(&mut self, gl: &Gl, frame: RingFrame) {
        let own = self.own_target(gl, frame.width, frame.height);
        if let Some(Guest::Process(process)) = &self.worker {
            if let (Some(own), Some(pixels)) = (&own, process.pixels(&frame)) {
                own.upload_rgba8(gl, frame.width, frame.height, pixels);
            }
            process.send(ToChild::Release { slot: frame.slot });
        }
        self.shown = own;
    }

    fn show(&mut self, gl: &Gl, frame: WorkerFrame) {
        let own = self.own_target(gl, frame.width, frame.height);
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

    fn release(&mut self, gl: &Gl, mut frame: WorkerFrame, after: Option<Fence>) {
        frame.forget_fence(gl);
        match &self.worker {
            Some(Guest::Thread(worker)) => worker.send(Command::Release { slot: frame.slot, after }),
            _ => {
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
        for mut frame in self.pending.drain(..) {
            frame.forget_fence(gl);
        }
        for own in self.shown.take().into_iter().chain(self.behind.take()) {
            own.delete(gl);
        }
        self.ring_pending = None;
        match self.worker.take() {
            Some(Guest::Thread(worker)) => {
                worker.abandon();
            }
            // Killed whatever it is doing: all it holds goes with it.
            Some(Guest::Process(process)) => process.kill(),
            None => {}
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
        let (width, height) = panel_size(frame);
        match &self.worker {
            Some(Guest::Thread(worker)) => worker.send(Command::Resize { width, height }),
            Some(Guest::Process(process)) => process.send(ToChild::Command(Command::Resize { width, height })),
            None => {}
        }
    }
}

fn push(samples: &mut VecDeque<f32>, value: f32) {
    samples.push_back(value);
    while samples.len() > HISTORY {
        samples.pop_front();
    }
}
