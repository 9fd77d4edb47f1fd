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

use crate::worker::{Clock, Command, EngineOptions, Event, FrameTimes, StartFrom};

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
    /// RLIMIT_AS beyond what the process maps once its GL contexts exist, in bytes (0: no limit).
    pub address_space: u64,
}

impl Start {
    /// What a worker with `options` (already those of its role: a guest's size and clock) starts from `from` in
    /// a process at `nice` with `address_space` (0: no limit).
    pub fn of(
        scene: &std::path::Path,
        options: &EngineOptions,
        from: StartFrom,
        nice: i32,
        address_space: u64,
    ) -> Start {
        Start {
            scene: scene.to_path_buf(),
            guest: from.guest,
            texts: from.texts,
            left_out: from.left_out,
            lockstep: options.clock == Clock::Lockstep,
            store: options.store,
            fallback_poll: options.fallback_poll,
            worker_cost: options.worker_cost,
            width: options.size.0,
            height: options.size.1,
            fps: options.fps,
            gpu_timeout: options.gpu_timeout,
            frame_budget: options.frame_budget,
            lua_pause: options.lua_pause,
            gpu_memory: options.preview_gpu_memory,
            nice,
            address_space,
        }
    }

    /// The options of the worker inside the process (the inverse of `of`); the process's own nice value is what
    /// its worker's thread inherits.
    pub fn options(&self) -> EngineOptions {
        EngineOptions {
            size: (self.width, self.height),
            fps: self.fps,
            clock: if self.lockstep { Clock::Lockstep } else { Clock::Realtime },
            gpu_timeout: self.gpu_timeout,
            frame_budget: self.frame_budget,
            lua_pause: self.lua_pause,
            preview_gpu_memory: self.gpu_memory,
            store: self.store,
            fallback_poll: self.fallback_poll,
            worker_cost: self.worker_cost,
            preview_nice: false,
            scene_nice: 0,
            ..EngineOptions::default()
        }
    }
}

/// A message to a worker process.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToChild {
    Start(Box<Start>),
    /// The compositor has taken the frame out of this slot of the ring.
    Release {
        slot: usize,
    },
    /// Any other command of the worker's.
    Command(Command),
    Stop,
    /// Debugging the containment itself (the console's `debug-preview`).
    Debug(DebugAct),
}

impl ToChild {
    /// The command as it crosses; `Release` of a worker slot means nothing to a process (its frames come in ring
    /// slots, given back by `ToChild::Release`).
    pub fn from_command(command: Command) -> Option<ToChild> {
        match command {
            Command::Release { .. } => None,
            Command::Stop => Some(ToChild::Stop),
            command => Some(ToChild::Command(command)),
        }
    }
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

impl std::fmt::Display for DebugAct {
    /// As the console command says it: `crash`, `allocate 1024`, `open /etc/passwd`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DebugAct::Crash => write!(f, "crash"),
            DebugAct::Spin => write!(f, "spin"),
            DebugAct::Allocate(bytes) => write!(f, "allocate {bytes}"),
            DebugAct::Open(path) => write!(f, "open {}", path.display()),
            DebugAct::Connect(address) => write!(f, "connect {address}"),
        }
    }
}

impl DebugAct {
    /// Reads `crash`, `spin`, `allocate BYTES`, `open PATH`, `connect HOST:PORT` (the arguments of `command`).
    pub fn parse(command: &str, text: &str) -> Result<DebugAct, String> {
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
                    "`{command}` takes crash, spin, allocate BYTES, open PATH or connect HOST:PORT, not {text:?}"
                ));
            }
        };
        match words.next() {
            Some(extra) => Err(format!("`{command}` got one word too many: {extra:?}")),
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
#[derive(Debug, Serialize, Deserialize)]
pub enum FromChild {
    /// The process has its context and its sandbox, and started its worker.
    Ready {
        low_priority: bool,
        /// What the sandbox enforces, for the console.
        confined: String,
    },
    Frame(RingFrame),
    /// Any other event of the worker's.
    Event(Event),
    /// A line of the process's log (`tracing`'s level and target).
    Log {
        level: String,
        target: String,
        message: String,
    },
}

/// `Event::Built`'s report as it crosses: through [`WireReport`].
pub mod report {
    use super::*;

    pub fn serialize<S: serde::Serializer>(report: &Report, s: S) -> Result<S::Ok, S::Error> {
        WireReport::from(report.clone()).serialize(s)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Report, D::Error> {
        WireReport::deserialize(d).map(Report::from)
    }
}

/// An instant as it crosses: how long ago it was (a process's `Instant` means nothing in another).
pub mod instant {
    use super::*;
    use std::time::Instant;

    pub fn serialize<S: serde::Serializer>(at: &Instant, s: S) -> Result<S::Ok, S::Error> {
        at.elapsed().serialize(s)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Instant, D::Error> {
        let ago = Duration::deserialize(d)?;
        let now = Instant::now();
        Ok(now.checked_sub(ago).unwrap_or(now))
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
