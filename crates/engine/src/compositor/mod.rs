//! The compositor: on the main thread, with the presenting context. It takes the latest finished frame of its
//! worker, draws it, draws its own overlay on top, and leaves presenting (swap, or read-back) to its caller.
//!
//! Invariant: in real-time mode [`Compositor::compose`] never blocks on the worker. It drains the worker's
//! messages without waiting and polls frame fences with a zero timeout; until a newer frame has finished it keeps
//! showing the one it has.
//!
//! Files: this one (the compositor's state, its worker's messages, composing a frame), drawing.rs (what each frame
//! draws), buffers.rs (the editor's buffers, the journal, saves), preview_panel.rs (the guest's preview), graph.rs
//! (the preview's frame-time graph), replace.rs (replacing a worker that wedged or lost its context).

use std::collections::VecDeque;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use allsource_gpu::{
    Blend, Blitter, DrawState, Fence, Filter, FrameTarget, FullscreenTriangle, Gl, GlContext, Image, Program,
    RECTS_VERTEX, Sampler, UniformValue, Wrap, glow,
};
use allsource_shader::{FULLSCREEN_VERTEX, Stage};

use allsource_live::Diagnostic;

use crate::overlay::Overlay;
use crate::preview::{PREVIEW_RECT, Preview, PreviewState};
use crate::worker::{Command, EngineOptions, Event, StartFrom, WorkerFrame, WorkerLink, WorkerPlace};
use crate::{Error, Scene};
use allsource_editor::{ConsoleLog, Level};

const BLIT_FRAGMENT: &str = "#version 450 core
in vec2 uv;
layout(location = 0) out vec4 colour;
uniform sampler2D frame;
void main() { colour = texture(frame, uv); }
";

/// The editor's layer over the frame: the same size as the frame, sampled at pixel centres with the nearest filter
/// (on llvmpipe cheaper than a `texelFetch` at `gl_FragCoord`, which the same pixels cost 20% more).
const LAYER_FRAGMENT: &str = "#version 450 core
in vec2 uv;
layout(location = 0) out vec4 colour;
uniform sampler2D layer;
void main() { colour = texture(layer, uv); }
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
    /// Of those, how many were processes, killed.
    pub killed: u64,
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
    /// When the worker had submitted the frame on screen.
    pub shown_submitted: Option<Instant>,
    /// Sources whose every build so far failed (no version of them ever went live), with the newest build's
    /// diagnostics: a run that ends with any is a failed run.
    pub never_built: std::collections::BTreeMap<std::path::PathBuf, Vec<Diagnostic>>,
    /// Images channels read that could not be loaded, and why (the channel keeps its last good pixels, or black).
    pub texture_problems: std::collections::BTreeMap<std::path::PathBuf, String>,
    /// When the worker last began rebuilding sources from their files (after the watcher woke it).
    pub rebuilt_from_disk_at: Option<Instant>,
}

impl Status {
    /// A run that ends now went well unless a source never built or never ran (its frames show none of it).
    pub fn ended_well(&self) -> Result<(), Error> {
        if self.never_built.is_empty() {
            return Ok(());
        }
        Err(Error::NeverBuilt(self.never_built.iter().map(|(p, d)| (p.clone(), d.clone())).collect()))
    }
}

/// With twice the GPU timeout, how long a scene's worker process may send nothing (holding ring slots to send in)
/// before it is killed and replaced.
const SILENT_WORKER_KILLED_AFTER: Duration = Duration::from_secs(3);
/// How often lockstep's wait for a frame looks for a silent worker process.
const SILENCE_CHECK: Duration = Duration::from_millis(100);

pub struct Compositor {
    gl: Gl,
    worker: WorkerLink,
    /// What a replacement worker needs: the scene, the options, a context in the share group made in advance (a
    /// wedged worker must be replaced without waiting for anything), and the last good text of every source.
    scene: Scene,
    options: EngineOptions,
    spare: Option<allsource_gpu::SharedContext>,
    last_good: std::collections::HashMap<std::path::PathBuf, std::sync::Arc<str>>,
    /// The frame on screen came from a worker given up: it is not handed back to the new one.
    orphan: bool,
    /// Textures of a worker process given up, freed once the frame on screen is no longer theirs.
    retired: Vec<allsource_gpu::Target>,
    /// The source that went live last (the likeliest culprit when a worker process dies), and when a worker
    /// process last died (a second death soon after leaves that source out).
    last_live: Option<std::path::PathBuf>,
    last_gone: Option<Instant>,
    /// Frames received but not yet finished or not yet shown, oldest first.
    pending: VecDeque<WorkerFrame>,
    shown: Option<WorkerFrame>,
    /// Copies frames and panels into the target; `blit` draws them where a target cannot be blitted into.
    blitter: Blitter,
    blit: Program,
    /// Draws the editor's layer over the tiles it drew in (`allsource_gpu::Rects`), with `nearest`.
    layer_blit: Program,
    nearest: Sampler,
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
    preview_graph: graph::GraphTexture,
    /// The journal of the editor's buffers (`EngineOptions::store`), written after every pass that changed one,
    /// before the frame showing the change is drawn.
    journal: Option<allsource_store::Journal>,
    /// Saves the user asked for (ctrl+s, `save`): their answers are said in the console; autosaves are quiet.
    asked_saves: std::collections::HashSet<std::path::PathBuf>,
    /// Which module wedges workers, while that is being found out.
    elimination: Option<Elimination>,
}

mod buffers;
mod drawing;
mod graph;
mod preview_panel;
mod replace;

use buffers::open_journal;
use replace::Elimination;

impl Compositor {
    /// Starts a worker for `scene` in `context`'s share group and a compositor that presents its frames.
    pub fn new(context: &GlContext, scene: Scene, options: EngineOptions) -> Result<Compositor, Error> {
        let gl = context.gl.clone();
        let build = |vertex: &str, fragment: &str, sampler: &str| {
            let program =
                Program::build_simple(&gl, &[(Stage::Vertex, vertex), (Stage::Fragment, fragment)]).map_err(|log| {
                    Error::Gpu(allsource_gpu::GpuError::Gl(format!("the compositor's own shader: {log}")))
                })?;
            program.use_program(&gl);
            program.set_i32(&gl, sampler, 0);
            Ok::<_, Error>(program)
        };
        let blit = build(FULLSCREEN_VERTEX, BLIT_FRAGMENT, "frame")?;
        let layer_blit = build(RECTS_VERTEX, LAYER_FRAGMENT, "layer")?;
        let blitter = Blitter::new(&gl)?;
        let nearest = Sampler::new(&gl, Filter::Nearest, Wrap::Clamp)?;
        let triangle = FullscreenTriangle::new(&gl)?;
        let context_for_thread = match options.scene_place {
            WorkerPlace::Thread => Some(context.share()?),
            WorkerPlace::Process(_) => None,
        };
        let worker =
            WorkerLink::spawn(&options.scene_place, context_for_thread, &scene, &options, StartFrom::default())
                .map_err(Error::WorkerDied)?;
        let size = options.size;
        let mut overlay = Overlay::new(&scene.dir, options.console.clone());
        if options.panel {
            overlay.placement = crate::overlay::Placement::PANEL;
        }
        // Absolute, as the scene's directory is (`Scene::open`): the editor takes it as it is.
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
            retired: Vec::new(),
            last_live: None,
            last_gone: None,
            pending: VecDeque::new(),
            shown: None,
            blit,
            layer_blit,
            nearest,
            blitter,
            triangle,
            status: Status::default(),
            overlay,
            console_lines: Vec::new(),
            sync_sent: 0,
            size,
            preview: None,
            preview_spare: None,
            preview_graph: Default::default(),
            journal,
            asked_saves: Default::default(),
            elimination: None,
        })
    }

    /// Makes a spare context for the next replacement worker, if the last one was used. Call before composing.
    pub fn replenish(&mut self, context: &GlContext) {
        // A worker process makes its own context; only a thread needs one of this share group.
        if self.spare.is_none() && self.options.scene_place == WorkerPlace::Thread {
            match context.share() {
                Ok(spare) => self.spare = Some(spare),
                Err(e) => tracing::warn!("no spare context for a replacement worker: {e}"),
            }
        }
        // A preview process makes its own context; only a preview thread needs one of this share group.
        if self.preview_spare.is_none() && self.options.preview_place == crate::worker::WorkerPlace::Thread {
            match context.share_with_priority(true) {
                Ok(spare) => self.preview_spare = Some(spare),
                Err(e) => tracing::warn!("no context for a preview worker: {e}"),
            }
        }
    }

    /// The frame's size in pixels.
    pub fn size(&self) -> (u32, u32) {
        self.size
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
            // What it did (a preview started, a version moved) shows at the next pass.
            self.overlay.invalidate();
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
            match self.worker.recv(&self.gl, Some(left)) {
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
        let finished = self.pending.iter().rposition(|f| f.finished(&self.gl));
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
        // The wait is for a worker that has gone quiet: each report it sends (a source built, say: a scene of
        // several heavy passes builds for longer than the timeout on a software rasterizer) starts it again.
        let mut deadline = Instant::now() + timeout;
        let frame = loop {
            // A worker process that went silent is killed meanwhile (its end comes as `Gone`, and a replacement
            // is asked for the frame).
            if let Some(why) = self.worker.kill_if_silent(self.silence_limit()) {
                say(&self.overlay.editor.log, Level::Error, why);
            }
            let left = deadline.saturating_duration_since(Instant::now()).min(SILENCE_CHECK);
            match self.worker.recv(&self.gl, Some(left)) {
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
                Ok(Event::Gone(how)) => {
                    self.replace_after_gone(how);
                    self.worker.send(Command::Render { index, time });
                }
                Ok(event) => {
                    deadline = Instant::now() + timeout;
                    self.note(event);
                }
                Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
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
        if !frame.wait(&self.gl, self.options.gpu_timeout) {
            self.worker.send(Command::GpuTimedOut { took: started.elapsed() });
            frame.wait(&self.gl, timeout);
        }
        frame.wait_on_gpu(&self.gl);
        self.show(frame);
        self.poll_preview();
        self.overlay.lockstep_clock(time, (1.0 / self.options.fps.max(1e-3)) as f32);
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
            match self.worker.recv(&self.gl, None) {
                Ok(Event::Frame(frame)) => self.pending.push_back(frame),
                Ok(event) => self.note(event),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    if self.status.worker_died.is_none() {
                        self.status.worker_died = Some("the worker exited".into());
                    }
                    break;
                }
            }
        }
        // A worker process that went silent (a GPU hang, a wedge no watchdog saw) is killed; its end comes next. A
        // frame that is only slow is the worker's to revert (it says so once that frame has left the GPU): the
        // scene is the user's own code, and a kill costs it every source's state.
        if let Some(why) = self.worker.kill_if_silent(self.silence_limit()) {
            say(&self.overlay.editor.log, Level::Error, why);
        }
    }

    fn note(&mut self, event: Event) {
        // Nearly every event changes what the editor shows: it is laid out again at its next pass.
        if !matches!(event, Event::Frame(_) | Event::Synced(_) | Event::Progress) {
            self.overlay.invalidate();
        }
        match event {
            Event::Frame(frame) => self.pending.push_back(frame),
            Event::Wedged { suspects } => self.replace_worker(suspects),
            Event::ContextLost => self.replace_after_reset(),
            Event::Gone(how) => self.replace_after_gone(how),
            Event::Built(report) => {
                let log = &self.overlay.editor.log.clone();
                self.status.builds += 1;
                self.overlay.editor.built(&report);
                if let Some(text) = &report.live_text {
                    self.last_good.insert(report.path.clone(), text.clone());
                }
                self.status.live_version = report.live_version;
                if report.became_live {
                    self.last_live = Some(report.path.clone());
                }
                self.status.failing = report.diagnostics.iter().any(Diagnostic::is_error);
                // A source none of whose versions is live (none built, or none that ran survived its verdict)
                // shows nothing of itself.
                if report.live_version.is_some() {
                    self.status.never_built.remove(&report.path);
                } else if self.status.failing || report.verdict.is_some() {
                    self.status.never_built.insert(report.path.clone(), report.diagnostics.clone());
                }
                // A build's news replaces the news of the build before it in the console, when nothing came
                // between: typing shows one line per source that updates (the versions list keeps the history). A
                // run-time verdict stays. A report with no news (the same version again) leaves the last news shown.
                let key = report.path.display().to_string();
                let key = report.verdict.is_none().then_some(key.as_str());
                let mut news = Vec::new();
                match (report.version, report.became_live) {
                    (Some(v), true) => {
                        let ms = report.took.as_secs_f64() * 1e3;
                        news.push((Level::Info, format!("{}: version {v} built in {ms:.2} ms", report.path.display())));
                        self.status.last_build = Some(report.took);
                    }
                    (Some(v), false) if self.status.failing => {
                        let live = report.live_version.map_or("no version".to_owned(), |n| format!("version {n}"));
                        // "did not build" only for builds: a run-time verdict says what happened.
                        let what = report.verdict.as_deref().unwrap_or("did not build");
                        news.push((
                            Level::Error,
                            format!("{}: version {v} {what}; {live} stays live", report.path.display()),
                        ));
                    }
                    _ => {}
                }
                for d in &report.diagnostics {
                    news.push((if d.is_error() { Level::Error } else { Level::Warn }, d.to_string()));
                }
                if let (Some(key), false) = (key, news.is_empty()) {
                    log.retract(key);
                }
                for (level, text) in news {
                    say_as(log, level, key, text);
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
            Event::Progress => {}
            Event::Texture { path, problem } => {
                let log = &self.overlay.editor.log;
                let key = path.display().to_string();
                log.retract(&key);
                match problem {
                    Some(problem) => {
                        say_as(log, Level::Warn, Some(key.as_str()), problem.clone());
                        self.status.texture_problems.insert(path, problem);
                    }
                    None => {
                        self.status.texture_problems.remove(&path);
                    }
                }
            }
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

    /// How long a worker process may send nothing, holding ring slots to send in, before it is killed.
    fn silence_limit(&self) -> Duration {
        SILENT_WORKER_KILLED_AFTER + 2 * self.options.gpu_timeout
    }

    fn release(&mut self, frame: WorkerFrame, after: Option<Fence>) {
        self.worker.release(&self.gl, frame, after);
    }
}

/// A line for the console and for the log (the CLI's console layer skips this module's events, so the console
/// gets each line once, also in engines without that layer, such as tests).
fn say(log: &ConsoleLog, level: Level, text: String) {
    say_as(log, level, None, text);
}

/// As `say`, the line keyed (replaced by the next news of its key: `ConsoleLog::retract`) when `key` is given.
fn say_as(log: &ConsoleLog, level: Level, key: Option<&str>, text: String) {
    match level {
        Level::Error => tracing::error!("{text}"),
        Level::Warn => tracing::warn!("{text}"),
        _ => tracing::info!("{text}"),
    }
    match key {
        Some(key) => log.push_keyed(level, key, text),
        None => log.push(level, text),
    }
}

impl Drop for Compositor {
    fn drop(&mut self) {
        for mut frame in self.pending.drain(..).chain(self.shown.take()) {
            frame.forget_fence(&self.gl);
        }
        if let Some(preview) = self.preview.take() {
            preview.close(&self.gl);
        }
        self.worker.free(&self.gl);
        self.preview_graph.free(&self.gl);
        for target in self.retired.drain(..) {
            target.delete(&self.gl);
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
