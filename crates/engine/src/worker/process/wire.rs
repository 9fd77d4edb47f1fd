//! What the compositor and a worker process say to each other over their socket: one JSON object a line. The
//! worker's own messages ([`Command`], [`Event`]) hold GL names and fences that mean nothing in another process, so
//! the process speaks the part of them a preview needs, with frames as slots of the shared ring instead of
//! textures.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use allsource_live::{Diagnostic, Report, Severity};
use serde::{Deserialize, Serialize};

use crate::worker::{Event, FrameTimes};

/// What a worker process starts from: the first line the compositor sends.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Start {
    /// The scene's directory: the only files the process may read.
    pub scene: PathBuf,
    /// The guest's text, run as the scene's `main.lua`.
    pub text: String,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub gpu_timeout: Duration,
    pub frame_budget: bool,
    pub lua_pause: Duration,
    pub gpu_memory: u64,
    /// The process's nice value (every thread it starts, llvmpipe's included, inherits it).
    pub nice: i32,
    /// RLIMIT_AS, in bytes.
    pub address_space: u64,
}

/// A message to a worker process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ToChild {
    Start(Box<Start>),
    Resize {
        width: u32,
        height: u32,
    },
    /// The compositor has taken the frame out of this slot of the ring.
    Release {
        slot: usize,
    },
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
    pub stats: Option<FrameTimes>,
    pub slot: usize,
    pub width: u32,
    pub height: u32,
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
}

impl FromChild {
    /// The worker's event as the process sends it; `None` for what a preview does not use (and for frames, which
    /// the process copies into the ring first).
    pub fn from_event(event: Event) -> Option<FromChild> {
        Some(match event {
            Event::Built(report) => FromChild::Built(WireReport::from(report)),
            Event::Wedged { suspects } => FromChild::Wedged { suspects },
            Event::ContextLost => FromChild::ContextLost,
            Event::Died(why) => FromChild::Died(why),
            Event::Progress => FromChild::Progress,
            Event::Answer { request, result } => FromChild::Answer { request, result },
            _ => return None,
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
