//! What the compositor and a worker process say to each other over their socket: one JSON object a line. The
//! worker's own messages ([`Command`], [`Event`]) cross as they are, except what holds GL names, fences or instants,
//! which mean nothing in another process: frames cross as slots of the shared ring instead of textures, a slot goes
//! back without a fence (the compositor's upload has finished with it when the call returns), and instants as
//! "this long ago".

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use allsource_live::{Diagnostic, Report, Severity};
use serde::{Deserialize, Serialize};

use allsource_editor::Tweak;
use allsource_gpu::UniformValue;

use crate::worker::{Command, Event, FrameTimes};

/// What a worker process starts from: the first line the compositor sends.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Start {
    /// The scene's directory (for a guest, the only files the process may read).
    pub scene: PathBuf,
    /// Guest code in a sandbox (its text is the first of `texts`, run as the scene's `main.lua`), or the scene.
    pub guest: bool,
    /// Texts to start sources from (a replacement's last good versions), and modules to leave out.
    pub texts: Vec<(PathBuf, String)>,
    pub left_out: Vec<PathBuf>,
    pub lockstep: bool,
    /// Keep the scene's store beside its sources (`EngineOptions::store`).
    pub store: bool,
    pub fallback_poll: Duration,
    pub worker_cost: Duration,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub gpu_timeout: Duration,
    pub frame_budget: bool,
    pub lua_pause: Duration,
    pub gpu_memory: u64,
    /// The process's nice value (every thread it starts, llvmpipe's included, inherits it).
    pub nice: i32,
    /// RLIMIT_AS, in bytes (0: no limit).
    pub address_space: u64,
}

/// A message to a worker process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ToChild {
    Start(Box<Start>),
    /// The compositor has taken the frame out of this slot of the ring.
    Release {
        slot: usize,
    },
    /// Any other command of the worker's.
    Command(WireCommand),
    Stop,
    /// Debugging the containment itself (the console's `debug-preview`).
    Debug(DebugAct),
}

/// What `debug-preview` makes a preview process do, to show what the OS lets it do and what the compositor does
/// when it dies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DebugAct {
    /// Raise SIGSEGV.
    Crash,
    /// Stop sending frames and spin on a core, as a worker wedged in a looping finalizer does.
    Spin,
    /// Allocate this many bytes (past the address-space limit, the allocation fails and the process aborts).
    Allocate(u64),
    /// Open a file for reading: answers whether the sandbox let it.
    Open(PathBuf),
    /// Open a TCP connection: answers whether the sandbox let it.
    Connect(String),
}

impl DebugAct {
    /// Reads `crash`, `allocate BYTES`, `open PATH`, `connect HOST:PORT`.
    pub fn parse(text: &str) -> Result<DebugAct, String> {
        let mut words = text.split_whitespace();
        let act = match (words.next(), words.next()) {
            (Some("crash"), None) => DebugAct::Crash,
            (Some("spin"), None) => DebugAct::Spin,
            (Some("allocate"), Some(n)) => {
                DebugAct::Allocate(n.parse().map_err(|_| format!("`allocate` takes a byte count, not {n:?}"))?)
            }
            (Some("open"), Some(path)) => DebugAct::Open(path.into()),
            (Some("connect"), Some(address)) => DebugAct::Connect(address.into()),
            _ => {
                return Err(format!(
                    "`debug-preview` takes crash, spin, allocate BYTES, open PATH or connect HOST:PORT, not {text:?}"
                ));
            }
        };
        match words.next() {
            Some(extra) => Err(format!("`debug-preview` got one word too many: {extra:?}")),
            None => Ok(act),
        }
    }
}

/// A frame in the ring: slot `slot` holds `width` x `height` RGBA8 pixels, bottom row first (as GL reads them).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RingFrame {
    pub index: u64,
    pub time: f64,
    pub version: Option<u64>,
    pub stats: Option<FrameTimes>,
    pub slot: usize,
    pub width: u32,
    pub height: u32,
    /// How long the process took to read the frame back into the ring.
    pub read_back: Duration,
}

/// A message from a worker process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum FromChild {
    /// The process has its context and its sandbox, and started its worker.
    Ready {
        low_priority: bool,
        /// What the sandbox enforces, for the console.
        confined: String,
    },
    Frame(RingFrame),
    Built(WireReport),
    Wedged {
        suspects: Vec<PathBuf>,
    },
    ContextLost,
    Died(String),
    Progress,
    Answer {
        request: String,
        result: Result<String, String>,
    },
    UniformSet {
        path: PathBuf,
        name: String,
        ok: bool,
    },
    Uniforms {
        path: PathBuf,
        tweaks: Vec<Tweak>,
        noted_only: bool,
    },
    Synced(u64),
    Saved {
        path: PathBuf,
        text: String,
        result: Result<(), String>,
    },
    Conflict {
        path: PathBuf,
        disk: String,
    },
    FromDisk {
        path: PathBuf,
        text: String,
    },
    RebuiltFromDisk {
        ago: Duration,
    },
    Texture {
        path: PathBuf,
        problem: Option<String>,
    },
}

/// The worker's commands that cross as they are (all but `Release`, which names a ring slot, and `Stop`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum WireCommand {
    Render { index: u64, time: f64 },
    Resize { width: u32, height: u32 },
    Edit { path: PathBuf, text: String },
    Type { path: PathBuf, text: String },
    Undo { path: PathBuf },
    Redo { path: PathBuf },
    SetUniform { path: PathBuf, name: String, value: UniformValue },
    Eval { code: String },
    Unload { module: String },
    Key { code: String, down: bool },
    Stats,
    GpuTimedOut { took: Duration },
    DebugLoseContext,
    Mouse { x: f32, y: f32 },
    MouseButton { button: u8, down: bool },
    Wheel { x: f32, y: f32 },
    Text { text: String },
    Budget { ms: f64 },
    Sync(u64),
    FilesChanged,
    Save { path: PathBuf, text: String, overwrite: bool },
}

impl ToChild {
    /// The command as it crosses; `Release` of a worker slot means nothing to a process (its frames come in ring
    /// slots, given back by `ToChild::Release`).
    pub fn from_command(command: Command) -> Option<ToChild> {
        use WireCommand as W;
        Some(ToChild::Command(match command {
            Command::Release { .. } => return None,
            Command::Stop => return Some(ToChild::Stop),
            Command::Render { index, time } => W::Render { index, time },
            Command::Resize { width, height } => W::Resize { width, height },
            Command::Edit { path, text } => W::Edit { path, text },
            Command::Type { path, text } => W::Type { path, text },
            Command::Undo { path } => W::Undo { path },
            Command::Redo { path } => W::Redo { path },
            Command::SetUniform { path, name, value } => W::SetUniform { path, name, value },
            Command::Eval { code } => W::Eval { code },
            Command::Unload { module } => W::Unload { module },
            Command::Key { code, down } => W::Key { code, down },
            Command::Stats => W::Stats,
            Command::GpuTimedOut { took } => W::GpuTimedOut { took },
            Command::DebugLoseContext => W::DebugLoseContext,
            Command::Mouse { x, y } => W::Mouse { x, y },
            Command::MouseButton { button, down } => W::MouseButton { button, down },
            Command::Wheel { x, y } => W::Wheel { x, y },
            Command::Text { text } => W::Text { text },
            Command::Budget { ms } => W::Budget { ms },
            Command::Sync(n) => W::Sync(n),
            Command::FilesChanged => W::FilesChanged,
            Command::Save { path, text, overwrite } => W::Save { path, text, overwrite },
        }))
    }
}

impl From<WireCommand> for Command {
    fn from(command: WireCommand) -> Command {
        use WireCommand as W;
        match command {
            W::Render { index, time } => Command::Render { index, time },
            W::Resize { width, height } => Command::Resize { width, height },
            W::Edit { path, text } => Command::Edit { path, text },
            W::Type { path, text } => Command::Type { path, text },
            W::Undo { path } => Command::Undo { path },
            W::Redo { path } => Command::Redo { path },
            W::SetUniform { path, name, value } => Command::SetUniform { path, name, value },
            W::Eval { code } => Command::Eval { code },
            W::Unload { module } => Command::Unload { module },
            W::Key { code, down } => Command::Key { code, down },
            W::Stats => Command::Stats,
            W::GpuTimedOut { took } => Command::GpuTimedOut { took },
            W::DebugLoseContext => Command::DebugLoseContext,
            W::Mouse { x, y } => Command::Mouse { x, y },
            W::MouseButton { button, down } => Command::MouseButton { button, down },
            W::Wheel { x, y } => Command::Wheel { x, y },
            W::Text { text } => Command::Text { text },
            W::Budget { ms } => Command::Budget { ms },
            W::Sync(n) => Command::Sync(n),
            W::FilesChanged => Command::FilesChanged,
            W::Save { path, text, overwrite } => Command::Save { path, text, overwrite },
        }
    }
}

impl FromChild {
    /// The worker's event as the process sends it; `None` for frames, which the process copies into the ring
    /// first.
    pub fn from_event(event: Event) -> Option<FromChild> {
        Some(match event {
            Event::Frame(_) | Event::Gone(_) => return None,
            Event::Built(report) => FromChild::Built(WireReport::from(report)),
            Event::Wedged { suspects } => FromChild::Wedged { suspects },
            Event::ContextLost => FromChild::ContextLost,
            Event::Died(why) => FromChild::Died(why),
            Event::Progress => FromChild::Progress,
            Event::Answer { request, result } => FromChild::Answer { request, result },
            Event::UniformSet { path, name, ok } => FromChild::UniformSet { path, name, ok },
            Event::Uniforms { path, tweaks, noted_only } => FromChild::Uniforms { path, tweaks, noted_only },
            Event::Synced(n) => FromChild::Synced(n),
            Event::Saved { path, text, result } => FromChild::Saved { path, text, result },
            Event::Conflict { path, disk } => FromChild::Conflict { path, disk },
            Event::FromDisk { path, text } => FromChild::FromDisk { path, text },
            Event::RebuiltFromDisk { at } => FromChild::RebuiltFromDisk { ago: at.elapsed() },
            Event::Texture { path, problem } => FromChild::Texture { path, problem },
        })
    }

    /// The worker's event this message stands for (`None` for frames and `Ready`).
    pub fn into_event(self) -> Option<Event> {
        Some(match self {
            FromChild::Built(report) => Event::Built(report.into()),
            FromChild::Wedged { suspects } => Event::Wedged { suspects },
            FromChild::ContextLost => Event::ContextLost,
            FromChild::Died(why) => Event::Died(why),
            FromChild::Progress => Event::Progress,
            FromChild::Answer { request, result } => Event::Answer { request, result },
            FromChild::UniformSet { path, name, ok } => Event::UniformSet { path, name, ok },
            FromChild::Uniforms { path, tweaks, noted_only } => Event::Uniforms { path, tweaks, noted_only },
            FromChild::Synced(n) => Event::Synced(n),
            FromChild::Saved { path, text, result } => Event::Saved { path, text, result },
            FromChild::Conflict { path, disk } => Event::Conflict { path, disk },
            FromChild::FromDisk { path, text } => Event::FromDisk { path, text },
            FromChild::RebuiltFromDisk { ago } => {
                let now = std::time::Instant::now();
                Event::RebuiltFromDisk { at: now.checked_sub(ago).unwrap_or(now) }
            }
            FromChild::Texture { path, problem } => Event::Texture { path, problem },
            FromChild::Ready { .. } | FromChild::Frame(_) => return None,
        })
    }
}

/// A [`Report`] as it crosses the socket.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireReport {
    pub path: PathBuf,
    pub version: Option<u64>,
    pub live_version: Option<u64>,
    pub became_live: bool,
    pub took: Duration,
    pub diagnostics: Vec<WireDiagnostic>,
    pub live_text: Option<String>,
    pub pending: bool,
    pub verdict: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireDiagnostic {
    pub file: PathBuf,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub stage: Option<String>,
    pub severity: String,
    pub message: String,
}

impl From<Report> for WireReport {
    fn from(r: Report) -> WireReport {
        WireReport {
            path: r.path,
            version: r.version,
            live_version: r.live_version,
            became_live: r.became_live,
            took: r.took,
            diagnostics: r
                .diagnostics
                .into_iter()
                .map(|d| WireDiagnostic {
                    file: d.file,
                    line: d.line,
                    column: d.column,
                    stage: d.stage.map(str::to_owned),
                    severity: d.severity.as_str().to_owned(),
                    message: d.message,
                })
                .collect(),
            live_text: r.live_text.map(|t| t.to_string()),
            pending: r.pending,
            verdict: r.verdict,
        }
    }
}

impl From<WireReport> for Report {
    fn from(r: WireReport) -> Report {
        Report {
            path: r.path,
            version: r.version,
            live_version: r.live_version,
            became_live: r.became_live,
            took: r.took,
            diagnostics: r
                .diagnostics
                .into_iter()
                .map(|d| Diagnostic {
                    file: d.file,
                    line: d.line,
                    column: d.column,
                    // Stages are the shader format's names; a name it does not know is dropped, not invented.
                    stage: d.stage.and_then(|s| allsource_shader::Stage::from_name(&s)).map(|s| s.name()),
                    severity: match d.severity.as_str() {
                        "warning" => Severity::Warning,
                        "note" => Severity::Note,
                        _ => Severity::Error,
                    },
                    message: d.message,
                })
                .collect(),
            live_text: r.live_text.map(Arc::from),
            pending: r.pending,
            verdict: r.verdict,
        }
    }
}
