//! The worker: a thread with its own GL context in the compositor's share group, rendering a scene into its own
//! textures.
//!
//! The worker owns a small ring of render targets ([`SLOTS`]). It renders a frame into a free slot, ends it with a
//! fence, and sends the slot's texture and fence to the compositor. A slot becomes free again when the compositor
//! releases it, with a fence of the compositor's own that the worker waits for on the GPU before drawing into it
//! again. In real-time mode the worker draws a frame when it would be the next one shown (one slot on screen, one
//! free to draw), so it is paced by the compositor and draws no frame that is skipped; the third slot is used
//! only right after a new version went live, so that its first frame starts without waiting a frame.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use allsource_gpu::{Fence, FrameTarget, FullscreenTriangle, GlContext, GpuError, SharedContext, Target};
use allsource_gpu::{Gl, UniformValue, bind_texture, glow, patch_vertices};
use allsource_shader::Primitive;

use crate::graphics::EngineGraphics;
use crate::shader::LiveShader;
use crate::{Entry, Scene};
use allsource_live::Report;
use allsource_lua::ModuleHost;
use std::path::Path;

/// Render targets per worker.
pub const SLOTS: usize = 3;

/// Which clock a worker's frames follow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clock {
    /// The worker renders on its own, at the pace the compositor takes its frames, with time from the wall clock.
    Realtime,
    /// The worker renders frame i when asked, at time i/fps (scripted runs and `render`).
    Lockstep,
}

/// How an engine is set up.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    pub size: (u32, u32),
    pub fps: f64,
    pub clock: Clock,
    /// Extra CPU time the worker spends on every frame before drawing. A diagnostic knob: it stands in for a slow
    /// scene when checking that presentation never waits for the worker.
    pub worker_cost: Duration,
    /// A frame whose GPU work has not finished this long after it was submitted reverts the shader that went live
    /// last (the worker waits for it before its next frame; the compositor never does).
    pub gpu_timeout: Duration,
    /// Draw the frame's times as bars in the overlay.
    pub stats_overlay: bool,
    /// Apply the frame budget's warn/throttle/revert to Lua modules (the hard limit and the watchdog always apply).
    /// Off only to measure how the compositor fares beside a module that stays slow.
    pub frame_budget: bool,
    /// The console's log (the editor shows it; scripted runs print it). The CLI feeds it from tracing.
    pub console: allsource_editor::ConsoleLog,
    /// Show the editor from the first frame, on the scene's main source.
    pub editor: bool,
    /// Draw the editor on a panel inside the frame instead of over it.
    pub panel: bool,
    /// Frames within budget in a row a preview must run before `promote` takes it.
    pub promote_after: u64,
    /// Run the preview worker's thread at a lower OS priority (nice 10), so guest code gets the CPU time the scene
    /// leaves. Off only to measure what it achieves.
    pub preview_nice: bool,
    /// Keep the scene's store in `.allsource/` beside its sources: each source's versions that went live persist
    /// (a source that does not build at the next start runs its last good version), and the editor journals its
    /// buffers there. On for `allsource run`; off by default so that tools and tests leave no files behind.
    pub store: bool,
    /// In real time, with the file watcher running, files are also looked at this often, in case the watcher
    /// missed a change (inotify's queue overflowed; a network file system). Tests set it very long to prove the
    /// watcher alone picks changes up.
    pub fallback_poll: Duration,
    /// How long typing must pause (in scene time) before a Lua module's typed text runs. Every keystroke compiles
    /// at once; shaders rebuild on every keystroke whatever this says.
    pub lua_pause: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            size: (1280, 720),
            fps: 60.0,
            clock: Clock::Realtime,
            worker_cost: Duration::ZERO,
            gpu_timeout: Duration::from_secs(2),
            stats_overlay: false,
            frame_budget: true,
            console: Default::default(),
            editor: false,
            panel: false,
            promote_after: 60,
            preview_nice: true,
            store: false,
            fallback_poll: FALLBACK_POLL,
            lua_pause: allsource_lua::DEFAULT_PAUSE,
        }
    }
}

/// Messages to a worker.
#[derive(Debug)]
pub enum Command {
    /// Lockstep: render frame `index` at `time` seconds.
    Render {
        index: u64,
        time: f64,
    },
    /// The compositor is done with `slot`; `after` signals when its last use of the texture has finished.
    Release {
        slot: usize,
        after: Option<Fence>,
    },
    /// Render later frames at this size.
    Resize {
        width: u32,
        height: u32,
    },
    /// New text for a source to build now (a reload, a promoted preview, a recovered journal, tools).
    Edit {
        path: PathBuf,
        text: String,
    },
    /// Typed text (a keystroke in the editor, a script's `type`): a shader rebuilds now; a Lua module compiles now
    /// and runs once the typing pauses (`EngineOptions::lua_pause`).
    Type {
        path: PathBuf,
        text: String,
    },
    /// Move a source's live version back or forward, and rebuild it.
    Undo {
        path: PathBuf,
    },
    Redo {
        path: PathBuf,
    },
    /// Set a uniform of a shader; the value is kept for later versions whose uniform has the same name and type.
    SetUniform {
        path: PathBuf,
        name: String,
        value: UniformValue,
    },
    /// Evaluate Lua in the scene VM (the console).
    Eval {
        code: String,
    },
    /// Unload a Lua module and free its GL objects.
    Unload {
        module: String,
    },
    /// A key went down or up (winit's key code name: "KeyW", "Space").
    Key {
        code: String,
        down: bool,
    },
    /// Answer with the last frame's times against the budget (the console's `stats`).
    Stats,
    /// Lockstep: the compositor, which waits for every frame, saw one pass the GPU timeout.
    GpuTimedOut {
        took: Duration,
    },
    /// Debugging: behave at the next frame as if the GPU reset and the context was lost (a reset cannot be provoked
    /// on every driver; this exercises the recovery).
    DebugLoseContext,
    /// The pointer moved (pixels from the frame's top-left).
    Mouse {
        x: f32,
        y: f32,
    },
    /// Set the Lua frame budget's period (the console's `budget MS`); the other limits scale with it.
    Budget {
        ms: f64,
    },
    /// Answer `Event::Synced(n)`: every command sent before this one has been handled and its reports sent.
    Sync(u64),
    /// The file watcher saw files of the scene change: look at the sources' files now.
    FilesChanged,
    /// Write `text` to the source file `path` (atomically), as the engine's own write: it is not read back as an
    /// external change. Answered by `Event::Saved`. Without `overwrite` (an autosave), a file that changed on disk
    /// since the engine last read it is not written: that is a conflict, reported as one.
    Save {
        path: PathBuf,
        text: String,
        overwrite: bool,
    },
    Stop,
}

/// A finished frame: the texture holding it and the fence that signals when drawing it has completed.
#[derive(Debug)]
pub struct WorkerFrame {
    pub index: u64,
    pub time: f64,
    /// The live version of the scene's main shader this frame was drawn with.
    pub version: Option<u64>,
    /// The times of the frame before this one (Lua's own, and GPU per module), for the overlay.
    pub stats: Option<FrameTimes>,
    pub slot: usize,
    pub texture: glow::NativeTexture,
    pub width: u32,
    pub height: u32,
    pub fence: Fence,
}

/// A frame's times, in milliseconds: Lua's own, and GPU time per module.
#[derive(Clone, Debug, Default)]
pub struct FrameTimes {
    pub lua_ms: f32,
    pub gpu_ms: Vec<(String, f32)>,
    pub budget_ms: f32,
}

/// Messages from a worker.
#[derive(Debug)]
pub enum Event {
    Frame(WorkerFrame),
    /// A source was (re)built, or could not be read: its diagnostics, and whether the new version went live. A
    /// failed build leaves the last good version live.
    Built(Report),
    /// The answer to `SetUniform`: whether the program had that uniform and the value fitted it.
    UniformSet {
        path: PathBuf,
        name: String,
        ok: bool,
    },
    /// The answer to `Eval` or `Unload`.
    Answer {
        request: String,
        result: Result<String, String>,
    },
    /// The worker's VM ignored its interrupt (a looping finalizer, one long C call): the worker is wedged and must
    /// be given up. `culprit` is the module that was running.
    Wedged {
        culprit: Option<PathBuf>,
    },
    /// The worker's context was lost to a GPU reset; the worker stopped. Its objects are gone with the context.
    ContextLost,
    /// The worker stopped because of an error.
    Died(String),
    /// The tweakable uniforms of a shader whose new version went live, with their values now.
    Uniforms {
        path: PathBuf,
        tweaks: Vec<allsource_editor::Tweak>,
        /// Show only uniforms annotated for the bar (a Lua scene's shaders: Lua sets the others every draw).
        noted_only: bool,
    },
    /// The answer to `Command::Sync`.
    Synced(u64),
    /// The answer to `Command::Save`: the text written, or why it could not be.
    Saved {
        path: PathBuf,
        text: String,
        result: Result<(), String>,
    },
    /// A source's file changed on disk while the engine holds edits of it that are not on disk: nothing was built
    /// from the file, and nothing will overwrite it until the user chooses (save theirs, or take the disk's).
    Conflict {
        path: PathBuf,
        disk: String,
    },
    /// A source's file changed on disk and its text was built: an open buffer without unsaved edits follows it.
    FromDisk {
        path: PathBuf,
        text: String,
    },
    /// The worker looked at the files (woken by the watcher, or its fallback poll) at `at`, and rebuilt from them:
    /// for the bench's write -> rebuild start figure.
    RebuiltFromDisk {
        at: Instant,
    },
}

/// The compositor's end of a worker.
pub struct WorkerHandle {
    pub commands: Sender<Command>,
    pub events: Receiver<Event>,
    thread: Option<JoinHandle<()>>,
    /// The worker thread's OS id (0 until it started), to lower its priority when it is given up.
    tid: Arc<std::sync::atomic::AtomicI32>,
    /// Watches the scene's files while the worker lives.
    _watcher: Option<crate::watch::Watcher>,
}

/// What a worker starts from besides the scene's files: the last good texts of a worker given up, and the modules
/// to leave out (the one that wedged it).
#[derive(Clone, Debug, Default)]
pub struct StartFrom {
    pub texts: Vec<(PathBuf, String)>,
    pub left_out: Vec<PathBuf>,
    /// A preview worker: guest code (the text given for `main.lua`) in a sandboxed VM, on a thread of lower OS
    /// priority, with no file watching.
    pub guest: bool,
    /// Earlier versions of sources (oldest first, before the one in `texts`): they join each source's history.
    pub history: Vec<(PathBuf, Vec<String>)>,
}

impl WorkerHandle {
    /// Starts a worker for `scene` on a new thread, with `context` (in the compositor's share group).
    pub fn spawn(context: SharedContext, scene: Scene, options: EngineOptions) -> Result<WorkerHandle, String> {
        WorkerHandle::spawn_from(context, scene, options, StartFrom::default())
    }

    /// Starts a worker as `spawn` does, from `start`.
    pub fn spawn_from(
        context: SharedContext,
        scene: Scene,
        options: EngineOptions,
        start: StartFrom,
    ) -> Result<WorkerHandle, String> {
        let (command_tx, command_rx) = mpsc::channel();
        let (event_tx, event_rx) = mpsc::channel();
        let name = if start.guest { "worker-preview" } else { "worker-scene" };
        // Real time: the file watcher wakes the worker when files change. Lockstep looks at the files before every
        // frame instead, so that what a frame shows never depends on when the watcher's thread ran.
        let watcher = match (options.clock, start.guest) {
            (Clock::Realtime, false) => match crate::watch::Watcher::start(&scene.dir, command_tx.clone()) {
                Ok(w) => Some(w),
                Err(e) => {
                    tracing::warn!("files are not watched ({e}); they are looked at every frame instead");
                    None
                }
            },
            _ => None,
        };
        let watching = watcher.is_some();
        let tid = Arc::new(std::sync::atomic::AtomicI32::new(0));
        let own_tid = tid.clone();
        let thread = thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                #[cfg(target_os = "linux")]
                // SAFETY: gettid has no preconditions.
                own_tid.store(unsafe { libc::gettid() }, std::sync::atomic::Ordering::Relaxed);
                #[cfg(not(target_os = "linux"))]
                let _ = own_tid;
                if start.guest && options.preview_nice {
                    lower_thread_priority();
                }
                let failed = event_tx.clone();
                if let Err(e) = Worker::run(context, scene, options, start, watching, command_rx, event_tx) {
                    let _ = failed.send(Event::Died(e.to_string()));
                }
            })
            .map_err(|e| format!("cannot start the worker thread: {e}"))?;
        Ok(WorkerHandle { commands: command_tx, events: event_rx, thread: Some(thread), tid, _watcher: watcher })
    }

    pub fn send(&self, command: Command) {
        // A worker that has gone away reports why through its events; a lost command changes nothing then.
        let _ = self.commands.send(command);
    }

    /// Gives the worker up without waiting for it: its thread is wedged and may never return. The thread, its
    /// context and its objects are left behind (only a worker process could be killed and reclaimed), but it no
    /// longer competes with the scene: it runs at the lowest OS priority (SCHED_IDLE). Returns whether it could be
    /// lowered.
    pub fn abandon(mut self) -> bool {
        let _ = self.commands.send(Command::Stop);
        self.thread = None;
        let tid = self.tid.load(std::sync::atomic::Ordering::Relaxed);
        tid != 0 && lowest_priority(tid)
    }
}

/// The preview worker's CPU share: the OS runs it on what the scene's threads leave (nice 10). On llvmpipe, where
/// the GPU is these same CPUs, this is also how the guest's GPU work gets only surplus time.
fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread's own id; failure only leaves the priority as it was.
        let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10) };
        if result != 0 {
            tracing::debug!("the preview worker keeps its priority: {}", std::io::Error::last_os_error());
        }
    }
}

/// Moves thread `tid` to SCHED_IDLE (it runs only when nothing else wants the CPU) at nice 19.
fn lowest_priority(tid: i32) -> bool {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: plain system calls on a thread id of this process; failure leaves the priority as it was.
        let (idle, nice) = unsafe {
            (
                libc::sched_setscheduler(tid, libc::SCHED_IDLE, &param),
                libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19),
            )
        };
        idle == 0 || nice == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = tid;
        false
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        let Some(thread) = self.thread.take() else {
            return;
        };
        // Wait a little for a clean stop (it frees the worker's GL objects), but never hang the compositor on a
        // worker that does not answer.
        let deadline = Instant::now() + Duration::from_secs(2);
        while !thread.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        if thread.is_finished() {
            let _ = thread.join();
        } else {
            tracing::warn!("the worker did not stop within 2 s; leaving its thread behind");
        }
    }
}

struct Slot {
    target: Option<Target>,
    free: bool,
    /// The compositor's fence for its last use of this slot's texture.
    wait: Option<Fence>,
}

struct Worker {
    gl: Gl,
    options: EngineOptions,
    events: Sender<Event>,
    slots: Vec<Slot>,
    size: (u32, u32),
    renderer: Renderer,
    /// The slot drawn last: the scene's previous frame, which shaders may sample.
    previous: Option<usize>,
    last_time: Option<f64>,
    /// The live version the newest frame was drawn with.
    drawn_version: Option<u64>,
    /// Set by `DebugLoseContext`.
    lose_context: bool,
    /// The worker's own fence after its last frame, and when that frame was submitted (the GPU timeout).
    submitted: Option<(Fence, Instant)>,
    /// What the worker knows of the sources' files on disk (conflicts, its own writes).
    disk: Disk,
    /// The scene's persisted history (`EngineOptions::store`), and the scene directory its paths are relative to.
    history: Option<allsource_store::History>,
    root: PathBuf,
    /// The watcher wakes the worker when files change; without it, files are looked at every frame.
    watching: bool,
    /// When the files were last looked at (with a watcher, also every `fallback_poll`, in case it missed one).
    last_poll: Option<Instant>,
}

/// With a file watcher, files are still looked at this often by default: a watcher can miss events (inotify's
/// queue overflows, network file systems).
pub const FALLBACK_POLL: Duration = Duration::from_secs(1);

/// What the worker knows of each source file on disk, by path: the hash of the text last read from it or written
/// to it, and the hash of the newest text the engine built from an edit when that is not what the disk holds.
#[derive(Default)]
struct Disk {
    files: std::collections::HashMap<PathBuf, DiskFile>,
    events: Vec<Event>,
}

#[derive(Default)]
struct DiskFile {
    known: Option<u64>,
    unsaved: Option<u64>,
}

impl Disk {
    /// A text read from `path` because the file changed: build it? Not when it is what the engine knows is there
    /// (its own write), nor when the engine holds unsaved edits of it (a conflict, reported).
    fn admit(&mut self, path: &Path, text: &str) -> bool {
        let hash = allsource_store::text_hash(text);
        let file = self.files.entry(path.to_path_buf()).or_default();
        if file.known == Some(hash) {
            return false;
        }
        file.known = Some(hash);
        if file.unsaved.is_some_and(|u| u != hash) {
            self.events.push(Event::Conflict { path: path.to_path_buf(), disk: text.to_owned() });
            return false;
        }
        file.unsaved = None;
        self.events.push(Event::FromDisk { path: path.to_path_buf(), text: text.to_owned() });
        true
    }

    /// The engine built `text` for `path` from an edit (a keystroke, an undo). The first time, what the disk holds
    /// is read, so that a later change of the file is told apart from the text the engine started from.
    fn edited(&mut self, path: &Path, text: &str) {
        let hash = allsource_store::text_hash(text);
        let file = self.files.entry(path.to_path_buf()).or_default();
        if file.known.is_none() {
            file.known = allsource_live::read_source(path).ok().map(|t| allsource_store::text_hash(&t));
        }
        file.unsaved = (file.known != Some(hash)).then_some(hash);
    }

    /// Before an autosave of `text` to `path`: the file's text when it changed since the engine last read or
    /// wrote it (an outside write the watcher has not reported yet), else None. The change is then known.
    fn changed_behind(&mut self, path: &Path, text: &str) -> Option<String> {
        let disk = std::fs::read(path).ok().map(|b| String::from_utf8_lossy(&b).into_owned())?;
        let hash = allsource_store::text_hash(&disk);
        let file = self.files.entry(path.to_path_buf()).or_default();
        if file.known.is_none_or(|k| k == hash) || disk == text {
            return None;
        }
        file.known = Some(hash);
        Some(disk)
    }

    /// The engine wrote `text` to `path`.
    fn wrote(&mut self, path: &Path, text: &str) {
        let file = self.files.entry(path.to_path_buf()).or_default();
        file.known = Some(allsource_store::text_hash(text));
        file.unsaved = None;
    }
}

/// What the command loop should do after a command.
enum Flow {
    Continue,
    Render { index: u64, time: f64 },
    Stop,
}

impl Worker {
    fn run(
        context: SharedContext,
        scene: Scene,
        options: EngineOptions,
        mut start: StartFrom,
        watching: bool,
        commands: Receiver<Command>,
        events: Sender<Event>,
    ) -> Result<(), GpuError> {
        let context: GlContext = context.make_current()?;
        let store = options.store && !start.guest;
        let history = store.then(|| allsource_store::History::open(&allsource_store::dir_of(&scene.dir)));
        if let Some(history) = &history
            && start.texts.is_empty()
        {
            // A fresh start: every source starts from its last good version of the previous session, with that
            // session's versions in its history; the file builds next (nothing, if it is the same text).
            for source in history.sources() {
                let mut texts = history.load(&source);
                if let Some(last_good) = texts.pop() {
                    start.texts.push((scene.dir.join(&source), last_good));
                    start.history.push((scene.dir.join(&source), texts));
                }
            }
        }
        let gl = context.gl.clone();
        // A guest runs its text as the main module of the scene's directory, whatever the scene's own entry is.
        let entry = if start.guest { Entry::Lua(scene.dir.join("main.lua")) } else { scene.entry.clone() };
        let renderer = match entry {
            Entry::FullscreenShader(path) => {
                let mut shader = ShaderRenderer::new(&gl, path.clone())?;
                // A replacement worker (or a new session) starts from the last good version; the file (maybe newer
                // and broken) is read at the first frame and builds as the next version.
                if let Some((_, older)) = start.history.iter().find(|(p, _)| *p == path) {
                    shader.shader.seed(older);
                }
                if let Some((_, text)) = start.texts.iter().find(|(p, _)| *p == path) {
                    let report = shader.shader.edit(&gl, text);
                    let _ = events.send(Event::Built(report));
                }
                Renderer::Shader(Box::new(shader))
            }
            Entry::Lua(_) => {
                let mut lua = LuaRenderer::new(&gl, &scene.dir, options.fps, &context.info, start.guest)?;
                lua.host.set_pause(options.lua_pause);
                if !options.frame_budget {
                    let budget = lua.host.budget().clone();
                    let never = u32::MAX;
                    lua.host.set_budget(allsource_lua::Budget {
                        warn_after: never,
                        throttle_after: never,
                        revert_after: never,
                        ..budget
                    });
                }
                let older: std::collections::HashMap<PathBuf, Vec<String>> = start.history.into_iter().collect();
                let starts = start
                    .texts
                    .iter()
                    .map(|(p, t)| (p.clone(), (older.get(p).cloned().unwrap_or_default(), t.clone())))
                    .collect();
                lua.graphics(|g| g.starts = starts);
                lua.host.seed(older.into_iter().collect());
                lua.host.start_from(start.texts, start.left_out);
                let wedged = events.clone();
                lua.host.on_wedged(move |culprit| {
                    let _ = wedged.send(Event::Wedged { culprit });
                });
                Renderer::Lua(Box::new(lua))
            }
        };
        let slots = (0..SLOTS).map(|_| Slot { target: None, free: true, wait: None }).collect();
        let mut worker = Worker {
            gl,
            size: options.size,
            options,
            events,
            slots,
            renderer,
            previous: None,
            last_time: None,
            drawn_version: None,
            lose_context: false,
            submitted: None,
            disk: Disk::default(),
            history,
            root: scene.dir.clone(),
            watching,
            last_poll: None,
        };
        let result = worker.command_loop(&commands);
        worker.free();
        drop(context);
        result
    }

    fn command_loop(&mut self, commands: &Receiver<Command>) -> Result<(), GpuError> {
        let start = Instant::now();
        let mut next_index = 0u64;
        loop {
            let (index, time) = match self.options.clock {
                Clock::Realtime => {
                    let mut batch = Vec::new();
                    loop {
                        match commands.try_recv() {
                            Ok(command) => batch.push(command),
                            Err(TryRecvError::Empty) => break,
                            Err(TryRecvError::Disconnected) => return Ok(()),
                        }
                    }
                    for command in coalesce_edits(batch) {
                        if let Flow::Stop = self.handle(command) {
                            return Ok(());
                        }
                    }
                    if !self.poll_sources() {
                        return Ok(());
                    }
                    // Wait until a frame drawn now would be the next one shown, watching the last frame's GPU time
                    // meanwhile (the compositor takes only finished frames, so this is where a slow one shows).
                    while !self.may_render_ahead() {
                        let wait = match &self.submitted {
                            Some((_, at)) => self
                                .options
                                .gpu_timeout
                                .saturating_sub(at.elapsed())
                                .clamp(Duration::from_millis(1), Duration::from_millis(50)),
                            None => Duration::from_secs(3600),
                        };
                        match commands.recv_timeout(wait) {
                            Ok(command) => {
                                if let Flow::Stop = self.handle(command) {
                                    return Ok(());
                                }
                            }
                            Err(mpsc::RecvTimeoutError::Timeout) => {
                                if !self.poll_gpu_timeout() {
                                    return Ok(());
                                }
                            }
                            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
                        }
                    }
                    next_index += 1;
                    (next_index - 1, start.elapsed().as_secs_f64())
                }
                Clock::Lockstep => loop {
                    let Ok(command) = commands.recv() else { return Ok(()) };
                    match self.handle(command) {
                        Flow::Stop => return Ok(()),
                        Flow::Render { index, time } => break (index, time),
                        Flow::Continue => {}
                    }
                },
            };
            // Wait for the compositor to hand a slot back.
            while !self.slots.iter().any(|s| s.free) {
                let Ok(command) = commands.recv() else { return Ok(()) };
                if let Flow::Stop = self.handle(command) {
                    return Ok(());
                }
            }
            if !self.poll_sources() || !self.render(index, time)? {
                return Ok(());
            }
        }
    }

    /// Real-time pacing. With two free slots (one is on screen), a new frame is the next one shown: draw it. With
    /// one free slot a finished frame already waits to be shown, and drawing another would be work the compositor
    /// skips, unless a new version went live since: then the third slot lets its first frame start at once
    /// instead of a frame later.
    fn may_render_ahead(&self) -> bool {
        let free = self.slots.iter().filter(|s| s.free).count();
        free >= 2 || (free >= 1 && self.renderer.generation() != self.drawn_version)
    }

    /// Rebuilds sources whose files changed, when it is time to look. Returns false when the compositor has gone
    /// away.
    fn poll_sources(&mut self) -> bool {
        let due = !self.watching
            || self.options.clock == Clock::Lockstep
            || self.last_poll.is_none_or(|at| at.elapsed() >= self.options.fallback_poll);
        if due { self.poll_now() } else { true }
    }

    fn poll_now(&mut self) -> bool {
        let at = Instant::now();
        self.last_poll = Some(at);
        let disk = &mut self.disk;
        let reports = self.renderer.poll(&self.gl, &mut |path, text| disk.admit(path, text));
        for event in self.disk.events.drain(..) {
            let _ = self.events.send(event);
        }
        if reports.iter().any(|r| r.version.is_some()) {
            let _ = self.events.send(Event::RebuiltFromDisk { at });
        }
        self.send_reports(reports)
    }

    /// Persists the versions that went live (`EngineOptions::store`). A failure to write is logged, never fatal.
    fn persist(&mut self, reports: &[Report]) {
        let Some(history) = &mut self.history else { return };
        for r in reports.iter().filter(|r| r.became_live) {
            let (Some(text), Ok(source)) = (&r.live_text, r.path.strip_prefix(&self.root)) else { continue };
            if let Err(e) = history.push(source, text) {
                tracing::warn!("the history of {} was not saved: {e}", r.path.display());
            }
        }
    }

    fn send_reports(&mut self, reports: Vec<Report>) -> bool {
        self.persist(&reports);
        reports.into_iter().all(|r| {
            let tweaks = r.became_live.then(|| self.renderer.tweaks(&self.gl, &r.path)).flatten();
            let path = r.path.clone();
            let sent = self.events.send(Event::Built(r)).is_ok();
            if let Some(tweaks) = tweaks {
                let noted_only = matches!(self.renderer, Renderer::Lua(_));
                let _ = self.events.send(Event::Uniforms { path, tweaks, noted_only });
            }
            sent
        })
    }

    fn handle(&mut self, command: Command) -> Flow {
        match command {
            Command::Render { index, time } => Flow::Render { index, time },
            Command::Release { slot, after } => {
                if let Some(s) = self.slots.get_mut(slot) {
                    s.free = true;
                    if let Some(old) = std::mem::replace(&mut s.wait, after) {
                        old.delete(&self.gl);
                    }
                }
                Flow::Continue
            }
            Command::Resize { width, height } => {
                self.size = (width.max(1), height.max(1));
                Flow::Continue
            }
            Command::Edit { path, text } => self.edit(path, &text, false),
            Command::Type { path, text } => self.edit(path, &text, true),
            Command::Undo { path } => self.version_change(path, Change::Undo),
            Command::Redo { path } => self.version_change(path, Change::Redo),
            Command::FilesChanged => {
                if self.poll_now() {
                    Flow::Continue
                } else {
                    Flow::Stop
                }
            }
            Command::Save { path, text, overwrite } => {
                let result = if !overwrite && let Some(disk) = self.disk.changed_behind(&path, &text) {
                    let _ = self.events.send(Event::Conflict { path: path.clone(), disk });
                    Err(format!("{} was not written: it changed on disk since the engine read it", path.display()))
                } else {
                    allsource_store::write_atomically(&path, text.as_bytes())
                        .map_err(|e| format!("could not write {}: {e}", path.display()))
                };
                if result.is_ok() {
                    self.disk.wrote(&path, &text);
                }
                let saved = result.is_ok();
                let _ = self.events.send(Event::Saved { path: path.clone(), text: text.clone(), result });
                // A save runs a typed Lua text at once (the pause is for typing); anything else already built.
                if saved && let Renderer::Lua(r) = &mut self.renderer {
                    let reports = r.host.edit(&path, &text).unwrap_or_default();
                    let reports = r.count(reports);
                    self.send_reports(reports);
                }
                Flow::Continue
            }
            Command::SetUniform { path, name, value } => {
                let ok = self.renderer.set_uniform(&self.gl, &path, &name, value);
                let _ = self.events.send(Event::UniformSet { path, name, ok });
                Flow::Continue
            }
            Command::Eval { code } => {
                let result = self.renderer.eval(&code);
                let _ = self.events.send(Event::Answer { request: code, result });
                Flow::Continue
            }
            Command::Key { code, down } => {
                if let Renderer::Lua(r) = &mut self.renderer {
                    r.graphics(|g| if down { g.keys.insert(code.clone()) } else { g.keys.remove(&code) });
                    let reports = r.host.call(if down { "keypressed" } else { "keyreleased" }, code);
                    let reports = r.count(reports);
                    self.send_reports(reports);
                }
                Flow::Continue
            }
            Command::Mouse { x, y } => {
                if let Renderer::Lua(r) = &mut self.renderer {
                    r.graphics(|g| g.mouse = (x, y));
                }
                Flow::Continue
            }
            Command::Unload { module } => {
                let result = match self.renderer.unload(&module) {
                    true => Ok(format!("unloaded {module}")),
                    false => Err(format!("no module {module} is loaded")),
                };
                let _ = self.events.send(Event::Answer { request: format!("unload {module}"), result });
                Flow::Continue
            }
            Command::Stats => {
                let result = match &self.renderer {
                    Renderer::Lua(r) => Ok(r.stats_text()),
                    Renderer::Shader(_) => {
                        Err("this scene has no Lua modules; stats are Lua and GPU times per module".into())
                    }
                };
                let _ = self.events.send(Event::Answer { request: "stats".into(), result });
                Flow::Continue
            }
            Command::GpuTimedOut { took } => {
                let reports = self.renderer.gpu_timeout(&self.gl, took, self.options.gpu_timeout);
                self.send_reports(reports);
                Flow::Continue
            }
            Command::DebugLoseContext => {
                self.lose_context = true;
                Flow::Continue
            }
            Command::Budget { ms } => {
                let result = match &mut self.renderer {
                    Renderer::Lua(r) => {
                        let memory = r.host.budget().memory;
                        let budget = allsource_lua::Budget { memory, ..allsource_lua::Budget::for_rate(1e3 / ms) };
                        let text = format!("budget: {budget}");
                        r.host.set_budget(budget);
                        Ok(text)
                    }
                    Renderer::Shader(_) => Err("this scene has no Lua modules; the budget is for Lua time".into()),
                };
                let _ = self.events.send(Event::Answer { request: format!("budget {ms}"), result });
                Flow::Continue
            }
            Command::Sync(n) => {
                let _ = self.events.send(Event::Synced(n));
                Flow::Continue
            }
            Command::Stop => Flow::Stop,
        }
    }

    /// New text for `path`, typed (a Lua module runs it after the pause) or to build now.
    fn edit(&mut self, path: PathBuf, text: &str, typed: bool) -> Flow {
        self.disk.edited(&path, text);
        let change = if typed { Change::Type(text) } else { Change::Edit(text) };
        let mut reports = self.renderer.edit(&self.gl, &path, change);
        if reports.is_empty() {
            // Not a source of its own (an included file, a module nothing requires): say so, so that the
            // editor does not wait for a build.
            reports.push(Report {
                path,
                version: None,
                live_version: None,
                became_live: false,
                took: Duration::ZERO,
                diagnostics: Vec::new(),
                live_text: None,
                pending: false,
                verdict: None,
            });
        }
        self.send_reports(reports);
        Flow::Continue
    }

    /// Undo or redo of `path`'s live version.
    fn version_change(&mut self, path: PathBuf, change: Change) -> Flow {
        let reports = self.renderer.edit(&self.gl, &path, change);
        // The buffer shows the version that went live: that text is now the engine's, and not on disk.
        let live = reports.iter().find(|r| r.path == path && r.became_live).and_then(|r| r.live_text.clone());
        if let Some(text) = live {
            self.disk.edited(&path, &text);
        }
        self.send_reports(reports);
        Flow::Continue
    }

    /// Renders one frame into a free slot and sends it. Returns false when the compositor has gone away, or the
    /// context was lost (the worker stops; the compositor starts another).
    fn render(&mut self, index: u64, time: f64) -> Result<bool, GpuError> {
        if std::mem::take(&mut self.lose_context) || allsource_gpu::context_lost() {
            tracing::error!("the worker's GL context was lost (GPU reset)");
            let _ = self.events.send(Event::ContextLost);
            return Ok(false);
        }
        if !self.options.worker_cost.is_zero() {
            thread::sleep(self.options.worker_cost);
        }
        if !self.poll_gpu_timeout() {
            return Ok(false);
        }
        let gl = &self.gl;
        let (width, height) = self.size;
        let Some(slot_index) = self.slots.iter().position(|s| s.free) else {
            return Ok(true);
        };
        let slot = &mut self.slots[slot_index];
        if let Some(fence) = slot.wait.take() {
            fence.wait_on_gpu(gl);
            fence.delete(gl);
        }
        let target = match slot.target.take() {
            Some(t) if (t.width, t.height) == (width, height) => t,
            old => {
                if let Some(t) = old {
                    t.delete(gl);
                }
                Target::new(gl, width, height)?
            }
        };
        let previous =
            self.previous.and_then(|i| self.slots[i].target.as_ref()).map(|t| (t.texture, t.width, t.height));
        let clock = FrameClock {
            time,
            delta: self.last_time.map_or(1.0 / self.options.fps, |last| (time - last).max(0.0)),
            index,
            fps: self.options.fps,
            lockstep: self.options.clock == Clock::Lockstep,
        };
        let reports = self.renderer.draw(gl, &target.frame_target(), &clock, previous);
        self.renderer.frame_ran();
        let fence = Fence::insert(gl)?;
        if let Ok(own) = Fence::insert(gl) {
            // A frame still pending keeps its (earlier) submission time: the new fence covers both.
            let at = match self.submitted.take() {
                Some((older, at)) => {
                    older.delete(gl);
                    at
                }
                None => Instant::now(),
            };
            self.submitted = Some((own, at));
        }
        let version = self.renderer.generation();
        self.drawn_version = version;
        let stats = match &self.renderer {
            Renderer::Lua(r) => Some(r.frame_times()),
            Renderer::Shader(_) => None,
        };
        let frame = WorkerFrame {
            index,
            time,
            version,
            stats,
            slot: slot_index,
            texture: target.texture,
            width,
            height,
            fence,
        };
        let slot = &mut self.slots[slot_index];
        slot.target = Some(target);
        slot.free = false;
        self.previous = Some(slot_index);
        self.last_time = Some(time);
        if !self.send_reports(reports) {
            return Ok(false);
        }
        if let Renderer::Lua(r) = &mut self.renderer
            && let Some(tweaks) = r.exposed_if_changed()
        {
            let path = PathBuf::from(allsource_editor::LUA_VALUES);
            let _ = self.events.send(Event::Uniforms { path, tweaks, noted_only: false });
        }
        Ok(self.events.send(Event::Frame(frame)).is_ok())
    }

    /// Without waiting: forgets the last frame's fence once it signalled, or reverts when it has not signalled by
    /// the GPU timeout. Returns false when the compositor has gone away.
    fn poll_gpu_timeout(&mut self) -> bool {
        let Some((own, at)) = self.submitted.take() else { return true };
        if own.is_signalled(&self.gl) {
            own.delete(&self.gl);
            return true;
        }
        if at.elapsed() < self.options.gpu_timeout {
            self.submitted = Some((own, at));
            return true;
        }
        own.delete(&self.gl);
        let reports = self.renderer.gpu_timeout(&self.gl, at.elapsed(), self.options.gpu_timeout);
        self.send_reports(reports)
    }

    fn free(&mut self) {
        if let Some((fence, _)) = self.submitted.take() {
            fence.delete(&self.gl);
        }
        for slot in self.slots.drain(..) {
            if let Some(t) = slot.target {
                t.delete(&self.gl);
            }
            if let Some(f) = slot.wait {
                f.delete(&self.gl);
            }
        }
        self.renderer.free(&self.gl);
    }
}

/// Real time: of several edits of one source waiting together (keystrokes that arrived while a slow build ran),
/// only the newest is built; an undo or redo of that source in between keeps the edits before it. Typing faster
/// than builds then costs no growing backlog. Lockstep builds every edit (scripts rebuild each keystroke).
fn coalesce_edits(batch: Vec<Command>) -> Vec<Command> {
    let superseded = |i: usize, path: &Path| {
        batch[i + 1..]
            .iter()
            .take_while(|c| !matches!(c, Command::Undo { path: p } | Command::Redo { path: p } if p == path))
            .any(|c| matches!(c, Command::Edit { path: p, .. } | Command::Type { path: p, .. } if p == path))
    };
    let keep: Vec<bool> = batch
        .iter()
        .enumerate()
        .map(|(i, c)| !matches!(c, Command::Edit { path, .. } | Command::Type { path, .. } if superseded(i, path)))
        .collect();
    batch.into_iter().zip(keep).filter_map(|(c, k)| k.then_some(c)).collect()
}

/// A change asked of a source.
enum Change<'a> {
    Edit(&'a str),
    /// Typed text: what a shader builds at once, and a Lua module runs after the pause.
    Type(&'a str),
    Undo,
    Redo,
}

/// What draws a scene: one shader file, or Lua modules.
enum Renderer {
    Shader(Box<ShaderRenderer>),
    Lua(Box<LuaRenderer>),
}

impl Renderer {
    /// Rebuilds sources whose files changed (those `gate` admits).
    fn poll(&mut self, gl: &Gl, gate: allsource_live::Gate) -> Vec<Report> {
        match self {
            Renderer::Shader(r) => r.shader.poll_files(gl, gate).into_iter().collect(),
            Renderer::Lua(r) => r.poll(gate),
        }
    }

    fn draw(
        &mut self,
        gl: &Gl,
        target: &FrameTarget,
        clock: &FrameClock,
        previous: Option<(glow::NativeTexture, u32, u32)>,
    ) -> Vec<Report> {
        match self {
            Renderer::Shader(r) => {
                r.draw(gl, target, clock, previous);
                Vec::new()
            }
            Renderer::Lua(r) => r.draw(gl, target, clock),
        }
    }

    /// A frame was drawn: the shaders' live versions ran (Lua modules are told by their host at the frame's end).
    fn frame_ran(&mut self) {
        match self {
            Renderer::Shader(r) => r.shader.mark_ran(),
            Renderer::Lua(r) => {
                r.graphics(|g| g.frame_ran());
            }
        }
    }

    /// The scene's generation, carried by its frames: for a shader scene the live version of its file; for a Lua
    /// scene the number of versions (of any of its modules or shaders) that went live.
    fn generation(&self) -> Option<u64> {
        match self {
            Renderer::Shader(r) => r.shader.live_version(),
            Renderer::Lua(r) => Some(r.generation),
        }
    }

    fn edit(&mut self, gl: &Gl, path: &Path, change: Change) -> Vec<Report> {
        match self {
            Renderer::Shader(r) => match r.shader_for(path) {
                Some(shader) => vec![change.apply(shader, gl)],
                None => Vec::new(),
            },
            Renderer::Lua(r) => r.edit(path, change),
        }
    }

    fn set_uniform(&mut self, gl: &Gl, path: &Path, name: &str, value: UniformValue) -> bool {
        match self {
            Renderer::Shader(r) => r.shader_for(path).is_some_and(|s| s.set_uniform(gl, name, value)),
            Renderer::Lua(r) if path == Path::new(allsource_editor::LUA_VALUES) => {
                r.host.set_exposed(name, &value.to_f64s())
            }
            Renderer::Lua(r) => {
                r.graphics(|g| g.shader_mut(path).is_some_and(|s| s.set_uniform(gl, name, value))).unwrap_or(false)
            }
        }
    }

    /// A frame blew the GPU timeout: revert the shader that went live last.
    fn gpu_timeout(&mut self, gl: &Gl, took: Duration, timeout: Duration) -> Vec<Report> {
        let message = |v: Option<u64>| {
            format!(
                "a frame took over {:.0} ms on the GPU, past the {:.0} ms GPU timeout: version {} reverted",
                took.as_secs_f64() * 1e3,
                timeout.as_secs_f64() * 1e3,
                v.map_or("?".into(), |v| v.to_string())
            )
        };
        match self {
            Renderer::Shader(r) => {
                let v = r.shader.live_version();
                let d = allsource_live::Diagnostic::error(r.shader.path().to_path_buf(), message(v));
                vec![r.shader.revert(gl, d)]
            }
            // Guest code gets no second chance: the error stops its preview (and its worker).
            Renderer::Lua(r) if r.guest => {
                let path = r.host.root().join("main.lua");
                let text = format!(
                    "a frame took over {:.0} ms on the GPU, past the {:.0} ms GPU timeout",
                    took.as_secs_f64() * 1e3,
                    timeout.as_secs_f64() * 1e3
                );
                vec![Report {
                    path: path.clone(),
                    version: None,
                    live_version: None,
                    became_live: false,
                    took,
                    diagnostics: vec![allsource_live::Diagnostic::error(path, text)],
                    live_text: None,
                    pending: false,
                    verdict: None,
                }]
            }
            Renderer::Lua(r) => r
                .graphics(|g| {
                    let path = g.last_changed_shader.clone()?;
                    let shader = g.shader_mut(&path)?;
                    let d = allsource_live::Diagnostic::error(path.clone(), message(shader.live_version()));
                    Some(shader.revert(gl, d))
                })
                .flatten()
                .into_iter()
                .collect(),
        }
    }

    /// The tweakable uniforms of the shader `path`: plain numbers and vectors of up to 4 (not matrices, arrays,
    /// samplers, block members, or the uniforms the engine sets itself), with their values now.
    fn tweaks(&self, gl: &Gl, path: &Path) -> Option<Vec<allsource_editor::Tweak>> {
        match self {
            Renderer::Shader(r) => {
                allsource_live::same_file(r.shader.path(), path).then(|| r.shader.tweaks(gl, ENGINE_UNIFORMS))
            }
            Renderer::Lua(r) => r.graphics(|g| g.shader_mut(path).map(|s| s.tweaks(gl, &[]))).flatten(),
        }
    }

    fn eval(&mut self, code: &str) -> Result<String, String> {
        match self {
            Renderer::Shader(_) => Err("this scene has no Lua VM (it has no main.lua)".into()),
            Renderer::Lua(r) => r.host.eval(code),
        }
    }

    fn unload(&mut self, module: &str) -> bool {
        match self {
            Renderer::Shader(_) => false,
            Renderer::Lua(r) => r.host.unload(module),
        }
    }

    fn free(&mut self, gl: &Gl) {
        match self {
            Renderer::Shader(r) => r.free(gl),
            Renderer::Lua(r) => {
                r.graphics(|g| g.free_all());
            }
        }
    }
}

impl Change<'_> {
    fn apply(&self, shader: &mut LiveShader, gl: &Gl) -> Report {
        match self {
            Change::Edit(text) | Change::Type(text) => shader.edit(gl, text),
            Change::Undo => shader.undo(gl),
            Change::Redo => shader.redo(gl),
        }
    }
}

/// Draws a Lua scene: `main`'s `update(dt)`, then its `draw()` into the frame, cleared to black.
struct LuaRenderer {
    host: ModuleHost,
    started: bool,
    generation: u64,
    /// The version of the values modules expose with `tweak(...)` last sent to the tweak bar.
    exposed_sent: u64,
    /// Guest code (a preview): its text came with the worker; files are not watched.
    guest: bool,
}

impl LuaRenderer {
    fn new(gl: &Gl, dir: &Path, fps: f64, info: &allsource_gpu::GlInfo, guest: bool) -> Result<LuaRenderer, GpuError> {
        let graphics = Box::new(EngineGraphics::new(gl.clone(), dir, info)?);
        let mut host = if guest { ModuleHost::guest(dir, graphics) } else { ModuleHost::new(dir, graphics) }
            .map_err(GpuError::Gl)?;
        // The frame budget follows the display rate (60 Hz by default; 90 and 120 for VR); a guest keeps its
        // smaller memory limit.
        let memory = host.budget().memory;
        let budget = allsource_lua::Budget::for_rate(fps);
        host.set_budget(if guest { allsource_lua::Budget { memory, ..budget } } else { budget });
        if !guest {
            tracing::info!("Lua budget: {}", host.budget());
        }
        Ok(LuaRenderer { host, started: false, generation: 0, exposed_sent: 0, guest })
    }

    fn graphics<R>(&self, f: impl FnOnce(&mut EngineGraphics) -> R) -> Option<R> {
        self.host.with_graphics(|g| g.as_any().downcast_mut::<EngineGraphics>().map(f)).flatten()
    }

    /// Adds the builds of shaders the modules use, and counts what went live.
    fn count(&mut self, mut reports: Vec<Report>) -> Vec<Report> {
        reports.extend(self.graphics(|g| std::mem::take(&mut g.reports)).unwrap_or_default());
        self.generation += reports.iter().filter(|r| r.became_live).count() as u64;
        reports
    }

    /// Loads `main` (and calls its `load`) the first time it is called; nothing after that.
    fn start_once(&mut self) -> Vec<Report> {
        if std::mem::replace(&mut self.started, true) { Vec::new() } else { self.host.start() }
    }

    fn poll(&mut self, gate: allsource_live::Gate) -> Vec<Report> {
        let mut reports = self.start_once();
        if !self.guest {
            reports.extend(self.host.poll_files_gated(gate));
            self.graphics(|g| g.poll_shaders(gate));
        }
        self.count(reports)
    }

    fn edit(&mut self, path: &Path, change: Change) -> Vec<Report> {
        // An edit that arrives before the first frame (edits recovered from the journal) starts the scene first,
        // so that it applies to the module or shader it names, and builds after the file's version.
        let mut early = self.start_once();
        let module = match change {
            Change::Edit(text) => self.host.edit(path, text),
            Change::Type(text) => {
                let now = self.host.now();
                self.host.draft(path, text, now)
            }
            Change::Undo => self.host.undo(path),
            Change::Redo => self.host.redo(path),
        };
        let reports = match module {
            Some(reports) => reports,
            None => self
                .graphics(|g| {
                    let gl = g.gl().clone();
                    let report = g.shader_mut(path).map(|s| change.apply(s, &gl));
                    if report.as_ref().is_some_and(|r| r.became_live) {
                        g.last_changed_shader = Some(path.to_path_buf());
                    }
                    report
                })
                .flatten()
                .into_iter()
                .collect(),
        };
        early.extend(reports);
        self.count(early)
    }

    /// The values modules expose with `tweak(...)`, when one was added since the last call.
    fn exposed_if_changed(&mut self) -> Option<Vec<allsource_editor::Tweak>> {
        if self.host.exposed_version() == self.exposed_sent {
            return None;
        }
        let (version, exposed) = self.host.exposed();
        self.exposed_sent = version;
        let tweaks = exposed
            .into_iter()
            .map(|e| allsource_editor::Tweak {
                source: PathBuf::from(allsource_editor::LUA_VALUES),
                name: e.name,
                kind: if e.boolean { allsource_editor::Kind::Bool } else { allsource_editor::Kind::Float },
                value: e.values,
                annotation: allsource_editor::Annotation {
                    range: e.range,
                    step: e.step,
                    default: None,
                    colour: e.colour,
                    noted: true,
                },
            })
            .collect();
        Some(tweaks)
    }

    fn frame_times(&self) -> FrameTimes {
        let last = self.host.last_frame();
        FrameTimes {
            lua_ms: last.lua.as_secs_f32() * 1e3,
            gpu_ms: last.gpu.iter().map(|(m, d)| (m.clone(), d.as_secs_f32() * 1e3)).collect(),
            budget_ms: self.host.budget().period.as_secs_f32() * 1e3,
        }
    }

    /// The console's `stats`: the last frame's times against the budget.
    fn stats_text(&self) -> String {
        let last = self.host.last_frame();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mut text = format!(
            "lua {:.2} ms of a {:.1} ms frame (engine calls {:.2} ms){}\n",
            ms(last.lua),
            ms(self.host.budget().period),
            ms(last.engine),
            if self.host.throttled() { "; update throttled" } else { "" }
        );
        for (module, d) in &last.lua_by_module {
            text.push_str(&format!("lua {module}: {:.2} ms (its own code, sampled)\n", ms(*d)));
        }
        let mut gpu = last.gpu.clone();
        gpu.sort_by_key(|(_, d)| std::cmp::Reverse(*d));
        for (module, d) in gpu {
            text.push_str(&format!("gpu {module}: {:.2} ms\n", ms(d)));
        }
        text.push_str(&format!("budget: {}", self.host.budget()));
        text
    }

    fn draw(&mut self, gl: &Gl, target: &FrameTarget, clock: &FrameClock) -> Vec<Report> {
        self.graphics(|g| {
            g.frame = *target;
            g.time = clock.time;
            g.index = clock.index;
        });
        // Typed texts whose pause has passed run now, before the frame's callbacks.
        let mut reports = self.host.run_due(clock.time);
        reports.extend(self.host.update(clock.delta));
        target.clear(gl, [0.0, 0.0, 0.0, 1.0], None);
        reports.extend(self.host.call("draw", ()));
        if clock.lockstep {
            // Offline frames take what they take: judging them would make output depend on the machine.
            self.host.end_frame_unjudged();
        } else {
            reports.extend(self.host.end_frame());
        }
        self.host.collect();
        self.count(reports)
    }
}

/// The time a frame is drawn at, as shaders see it.
struct FrameClock {
    time: f64,
    delta: f64,
    index: u64,
    fps: f64,
    lockstep: bool,
}

/// Draws the scene's main shader: full screen when it has no vertex stage of its own, else as its `#pragma draw`
/// says.
///
/// Uniforms it provides when the shader declares them: `float u_time` (seconds), `vec2 u_resolution` (pixels),
/// `int u_frame`, `float u_fps`, and `sampler2D u_previous`, the scene's previous frame (black at first). In
/// Shadertoy mode: `iTime`, `iTimeDelta`, `iFrame`, `iFrameRate`, `iResolution`, `iMouse` (zero until input
/// arrives), `iDate`, and `iChannel0` = the previous frame (feedback, like a buffer reading itself).
struct ShaderRenderer {
    shader: LiveShader,
    triangle: FullscreenTriangle,
}

/// Uniforms a shader scene's renderer sets every frame: not for the tweak bar.
const ENGINE_UNIFORMS: &[&str] = &[
    "u_time",
    "u_resolution",
    "u_frame",
    "u_fps",
    "u_previous",
    "iResolution",
    "iTime",
    "iTimeDelta",
    "iFrameRate",
    "iFrame",
    "iMouse",
    "iDate",
    "iChannel0",
    "iChannelResolution",
];

/// What a frame shows while a scene has no program that ever built.
const NO_PROGRAM_COLOUR: [f32; 4] = [0.12, 0.12, 0.14, 1.0];

impl ShaderRenderer {
    fn new(gl: &Gl, path: PathBuf) -> Result<ShaderRenderer, GpuError> {
        Ok(ShaderRenderer { shader: LiveShader::new(path), triangle: FullscreenTriangle::new(gl)? })
    }

    /// The live shader for `path`, if this scene has one.
    fn shader_for(&mut self, path: &std::path::Path) -> Option<&mut LiveShader> {
        allsource_live::same_file(self.shader.path(), path).then_some(&mut self.shader)
    }

    fn draw(
        &self,
        gl: &Gl,
        target: &FrameTarget,
        clock: &FrameClock,
        previous: Option<(glow::NativeTexture, u32, u32)>,
    ) {
        target.bind(gl);
        let Some(linked) = self.shader.linked().filter(|l| !l.compute) else {
            target.clear(gl, NO_PROGRAM_COLOUR, None);
            return;
        };
        let p = &linked.program;
        let (w, h) = (target.width as f32, target.height as f32);
        p.use_program(gl);
        bind_texture(gl, 0, previous.map(|(t, _, _)| t));
        if linked.shadertoy {
            p.set_vec(gl, "iResolution", &[w, h, 1.0]);
            p.set_f32(gl, "iTime", clock.time as f32);
            p.set_f32(gl, "iTimeDelta", clock.delta as f32);
            p.set_f32(gl, "iFrameRate", clock.fps as f32);
            p.set_i32(gl, "iFrame", clock.index as i32);
            p.set_vec(gl, "iMouse", &[0.0; 4]);
            p.set_vec(gl, "iDate", &shadertoy_date(clock));
            p.set_i32(gl, "iChannel0", 0);
            let (pw, ph) = previous.map_or((w, h), |(_, pw, ph)| (pw as f32, ph as f32));
            p.set_f32_array(gl, "iChannelResolution", 3, &[pw, ph, 1.0]);
        } else {
            p.set_f32(gl, "u_time", clock.time as f32);
            p.set_vec(gl, "u_resolution", &[w, h]);
            p.set_i32(gl, "u_frame", clock.index as i32);
            p.set_f32(gl, "u_fps", clock.fps as f32);
            p.set_i32(gl, "u_previous", 0);
        }
        if linked.builtin_vertex {
            self.triangle.draw(gl);
        } else {
            let d = linked.draw;
            let mode = match d.mode {
                Primitive::Points => glow::POINTS,
                Primitive::Lines => glow::LINES,
                Primitive::LineStrip => glow::LINE_STRIP,
                Primitive::Triangles => glow::TRIANGLES,
                Primitive::TriangleStrip => glow::TRIANGLE_STRIP,
                Primitive::Patches => {
                    patch_vertices(gl, d.patch as i32);
                    glow::PATCHES
                }
            };
            self.triangle.draw_arrays(gl, mode, d.count as i32, d.instances as i32);
        }
        bind_texture(gl, 0, None);
    }

    fn free(&mut self, gl: &Gl) {
        self.shader.free(gl);
        // The triangle's VAO is per context and dies with the worker's context.
    }
}

/// Shadertoy's iDate: year, month (0-based), day, seconds since midnight. In lockstep mode the date is fixed
/// (1 January 2026 at midnight, plus the scene time) so that output stays deterministic.
fn shadertoy_date(clock: &FrameClock) -> [f32; 4] {
    let seconds = if clock.lockstep {
        1_767_225_600.0 + clock.time
    } else {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
    };
    let days = (seconds / 86_400.0).floor() as i64;
    let (year, month, day) = civil_from_days(days);
    [year as f32, (month - 1) as f32, day as f32, (seconds - days as f64 * 86_400.0) as f32]
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31): Howard Hinnant's civil_from_days.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_newest_of_waiting_edits_of_a_source_is_built() {
        use super::Command;
        use std::path::PathBuf;
        let edit = |p: &str, t: &str| Command::Edit { path: PathBuf::from(p), text: t.into() };
        let batch = vec![
            edit("a", "1"),
            edit("b", "1"),
            edit("a", "2"),
            Command::Undo { path: "a".into() },
            edit("a", "3"),
            edit("a", "4"),
            Command::Stats,
        ];
        let kept: Vec<String> = super::coalesce_edits(batch)
            .iter()
            .map(|c| match c {
                Command::Edit { path, text } => format!("{}{text}", path.display()),
                Command::Undo { .. } => "undo".into(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(kept, ["b1", "a2", "undo", "a4", "Stats"]);
    }

    #[test]
    fn the_disk_gate_tells_own_writes_outside_changes_and_conflicts_apart() {
        use super::{Disk, Event};
        let dir = std::env::temp_dir().join(format!("allsource-disk-gate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.glsl");
        std::fs::write(&file, "one").unwrap();
        let mut disk = Disk::default();
        assert!(disk.admit(&file, "one"), "the first read builds");
        assert!(!disk.admit(&file, "one"), "the same text again does not");
        assert!(disk.admit(&file, "two"), "an outside change builds");
        assert!(matches!(disk.events.last(), Some(Event::FromDisk { text, .. }) if text == "two"));
        disk.edited(&file, "mine");
        assert!(!disk.admit(&file, "theirs"), "an outside change over unsaved edits is not built");
        assert!(matches!(disk.events.last(), Some(Event::Conflict { disk, .. }) if disk == "theirs"));
        disk.wrote(&file, "mine");
        assert!(!disk.admit(&file, "mine"), "the engine's own write is not read back");
        // An autosave finds the file changed behind it (the watcher has not said so yet): it must not write.
        disk.edited(&file, "mine, more");
        std::fs::write(&file, "written by another editor").unwrap();
        assert_eq!(disk.changed_behind(&file, "mine, more").as_deref(), Some("written by another editor"));
        std::fs::write(&file, "x").unwrap();
        let mut fresh = Disk::default();
        fresh.edited(&file, "edited before the first look");
        assert!(!fresh.admit(&file, "x"), "the file the engine started from is not news");
        assert!(fresh.changed_behind(&file, "edited before the first look").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn civil_dates_from_day_numbers() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(super::civil_from_days(20_513), (2026, 3, 1));
    }
}
