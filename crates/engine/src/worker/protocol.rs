//! What the compositor and a worker tell each other (commands in; frames, reports and answers out), and how an
//! engine is set up. Plain data: the file watcher and the preview speak it too.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use allsource_gpu::Fence;
use allsource_gpu::{UniformValue, glow};
use allsource_live::Report;

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
    /// leaves; off, it runs at the scene worker's. Off only to measure what it achieves.
    pub preview_nice: bool,
    /// How far below the compositor's OS priority the scene worker's thread runs (nice): where both want the CPU,
    /// the compositor presents first, and a busy scene takes the time the compositor leaves. 0 only to measure
    /// what it achieves.
    pub scene_nice: i32,
    /// The GPU memory a preview's guest code may hold in buffers, targets and images at once: past it, what asks
    /// for more fails (on a GPU, that memory is the compositor's too).
    pub preview_gpu_memory: u64,
    /// Where the preview's guest code runs: a sandboxed child process by default.
    pub preview_place: WorkerPlace,
    /// Where the scene's worker runs.
    pub scene_place: WorkerPlace,
    /// As `preview_address_space`, for the scene's worker process; 0 (the default) sets no limit: the scene is the
    /// user's own code, and the kernel's out-of-memory killer ends a process that takes the machine's memory.
    pub scene_address_space: u64,
    /// The address space a preview process may map (RLIMIT_AS) beyond what it maps once its GL context exists:
    /// past it, what asks for memory fails, and the process dies without touching the compositor.
    pub preview_address_space: u64,
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
            scene_nice: SCENE_NICE,
            preview_gpu_memory: PREVIEW_GPU_MEMORY,
            preview_place: WorkerPlace::Process(None),
            scene_place: WorkerPlace::Thread,
            scene_address_space: 0,
            preview_address_space: PREVIEW_ADDRESS_SPACE,
            store: false,
            fallback_poll: FALLBACK_POLL,
            lua_pause: allsource_lua::DEFAULT_PAUSE,
        }
    }
}

/// Messages to a worker. They cross to a worker process as they are, but for `Release` (a worker process's frames
/// come in ring slots, given back otherwise).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum Command {
    /// Lockstep: render frame `index` at `time` seconds.
    Render {
        index: u64,
        time: f64,
    },
    /// The compositor is done with `slot`; `after` signals when its last use of the texture has finished.
    #[serde(skip)]
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
    /// A mouse button went down or up over the scene: 1 primary (left), 2 secondary (right), 3 middle, as LÖVE
    /// numbers them.
    MouseButton {
        button: u8,
        down: bool,
    },
    /// The wheel turned over the scene, in notches (y up is away from the user).
    Wheel {
        x: f32,
        y: f32,
    },
    /// Text typed while the scene has the keyboard (the editor hidden).
    Text {
        text: String,
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

/// Where a worker runs.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkerPlace {
    /// A child process: this executable started as `allsource worker` (or the program given, which must answer
    /// the same way), with its own GL display and its own LuaJIT VM (a guest's also with OS limits and a sandbox).
    /// The compositor can kill it whatever it does, and gets its CPU and memory back.
    Process(Option<PathBuf>),
    /// A thread of the compositor's process, with a context in its share group (a wedged one can only be
    /// abandoned).
    Thread,
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
    /// Signals when drawing it has finished; `None` for a frame that was finished when it arrived (uploaded from a
    /// worker process's ring: its upload is done when the call returns, and later draws follow it in order).
    pub fence: Option<Fence>,
    /// The texture is the compositor's own (a frame uploaded from a worker process's ring): no other context draws
    /// with it, so it is copied to the screen with a blit. A worker thread's texture is drawn instead: its next
    /// frames may still sample it (the previous frame), and llvmpipe makes a blit wait for every draw in any
    /// context that reads it (a slow frame held the compositor for its whole length).
    pub own: bool,
    /// When the worker had submitted the frame's commands (its fence inserted): where the bench splits an edit's
    /// latency between the worker and the compositor.
    pub submitted: Instant,
}

impl WorkerFrame {
    /// Whether drawing it has finished. Never blocks.
    pub fn finished(&self, gl: &allsource_gpu::Gl) -> bool {
        self.fence.as_ref().is_none_or(|f| f.is_signalled(gl))
    }

    /// Blocks until drawing it has finished or `timeout` passed; whether it finished.
    pub fn wait(&self, gl: &allsource_gpu::Gl, timeout: Duration) -> bool {
        self.fence.as_ref().is_none_or(|f| f.wait(gl, timeout))
    }

    /// Makes the GPU wait for it before later commands.
    pub fn wait_on_gpu(&self, gl: &allsource_gpu::Gl) {
        if let Some(f) = &self.fence {
            f.wait_on_gpu(gl);
        }
    }

    /// Deletes its fence (once done with it).
    pub fn forget_fence(&mut self, gl: &allsource_gpu::Gl) {
        if let Some(f) = self.fence.take() {
            f.delete(gl);
        }
    }
}

/// A frame's times, in milliseconds: Lua's own, and GPU time per module.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct FrameTimes {
    pub lua_ms: f32,
    /// Lua's own time by module (sampled), largest first.
    pub lua_by_module: Vec<(String, f32)>,
    pub gpu_ms: Vec<(String, f32)>,
    pub budget_ms: f32,
}

/// Messages from a worker. They cross from a worker process as they are, but for frames (which come in ring slots)
/// and `Gone` (said by the compositor's end).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum Event {
    #[serde(skip)]
    Frame(WorkerFrame),
    /// A source was (re)built, or could not be read: its diagnostics, and whether the new version went live. A
    /// failed build leaves the last good version live.
    Built(#[serde(with = "super::process::wire::report")] Report),
    /// The answer to `SetUniform`: whether the program had that uniform and the value fitted it.
    UniformSet { path: PathBuf, name: String, ok: bool },
    /// The answer to `Eval` or `Unload`.
    Answer { request: String, result: Result<String, String> },
    /// The worker's VM ignored its interrupt (a looping finalizer, one long C call): the worker is wedged and must
    /// be given up. `suspects`: the modules that may have wedged it, likeliest first (see `ModuleHost::on_wedged`).
    Wedged { suspects: Vec<PathBuf> },
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
    Saved { path: PathBuf, text: String, result: Result<(), String> },
    /// A source's file changed on disk while the engine holds edits of it that are not on disk: nothing was built
    /// from the file, and nothing will overwrite it until the user chooses (save theirs, or take the disk's).
    Conflict { path: PathBuf, disk: String },
    /// A source's file changed on disk and its text was built: an open buffer without unsaved edits follows it.
    FromDisk { path: PathBuf, text: String },
    /// The worker looked at the files (woken by the watcher, or its fallback poll) at `at`, and rebuilt from them:
    /// for the bench's write -> rebuild start figure.
    RebuiltFromDisk {
        #[serde(with = "super::process::wire::instant")]
        at: Instant,
    },
    /// The worker is about to build a source whose file changed: it is busy, not stuck (lockstep's wait for a
    /// frame starts again; a scene of several heavy passes builds for longer than one wait).
    Progress,
    /// An image a channel reads could not be loaded (`problem`), or loads again (`None`).
    Texture { path: PathBuf, problem: Option<String> },
    /// The worker's process ended (it crashed, ran out of memory, or was killed): "process (PID) was killed by
    /// signal 11 (SIGSEGV)". Only a worker process's link says this; the compositor starts a replacement.
    #[serde(skip)]
    Gone(String),
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

/// With a file watcher, files are still looked at this often by default: a watcher can miss events (inotify's
/// queue overflows, network file systems).
pub const FALLBACK_POLL: Duration = Duration::from_secs(1);

/// The scene worker's nice value by default (the preview's guest runs at 10).
pub const SCENE_NICE: i32 = 5;

/// A preview's GPU memory by default: room for a few full-HD float targets and some buffers, not for a guest that
/// takes the GPU's memory from the scene.
pub const PREVIEW_GPU_MEMORY: u64 = 256 << 20;

/// A preview process's address space beyond its GL driver's by default. The limit counts from what the process maps
/// once its contexts exist, because drivers differ (llvmpipe, with LLVM and its threads: about 0.7 GiB; a whole
/// preview process while a guest draws, with the worker's 256 MiB stack reservation, peaked at 1.0 GiB, 97 MiB
/// resident).
pub const PREVIEW_ADDRESS_SPACE: u64 = 4 << 30;
