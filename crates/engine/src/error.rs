//! Engine errors: user mistakes and missing system pieces, each with a message that says what to do.

use std::fmt;
use std::path::PathBuf;

use allsource_gpu::GpuError;

#[derive(Debug)]
pub enum Error {
    /// OpenGL could not be reached or used.
    Gpu(GpuError),
    /// The scene directory does not exist.
    SceneNotFound(PathBuf),
    /// The scene path is not a directory.
    NotADirectory(PathBuf),
    /// The directory holds nothing to run.
    NoEntry(PathBuf),
    /// The worker thread stopped, with the reason it gave.
    WorkerDied(String),
    /// In lockstep mode, a worker frame did not arrive in time.
    WorkerTimeout { frame: u64, seconds: f64 },
    /// Reading or writing a file failed.
    Io { path: PathBuf, message: String },
    /// No display to open a window on.
    NoDisplay(String),
    /// A script command failed (line 0: before the first command).
    Script { line: usize, message: String },
    /// A run ended with sources that never built, or whose every version failed at run time: each with its newest
    /// diagnostics.
    NeverBuilt(Vec<(PathBuf, Vec<allsource_live::Diagnostic>)>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Gpu(e) => e.fmt(f),
            Error::Script { line: 0, message } => write!(f, "script: {message}"),
            Error::Script { line, message } => write!(f, "script line {line}: {message}"),
            Error::SceneNotFound(dir) => {
                write!(f, "scene directory {} does not exist", dir.display())
            }
            Error::NotADirectory(path) => {
                write!(f, "{} is not a directory: a scene is a directory holding main.lua or main.glsl", path.display())
            }
            Error::NoEntry(dir) => write!(
                f,
                "{} holds neither main.lua nor main.glsl: add a main.lua (a module returning a table with \
                 update and draw functions) or a main.glsl (a fragment shader drawn full screen) to make it a scene",
                dir.display()
            ),
            Error::WorkerDied(reason) => write!(f, "the scene's worker stopped: {reason}"),
            Error::WorkerTimeout { frame, seconds } => {
                write!(f, "the scene's worker did not finish frame {frame}, nor report anything, for {seconds:.1} s")
            }
            Error::Io { path, message } => write!(f, "{}: {message}", path.display()),
            Error::NeverBuilt(sources) => {
                let names: Vec<String> = sources.iter().map(|(p, _)| p.display().to_string()).collect();
                write!(f, "{} never built or never ran, so the frames show none of it:", names.join(", "))?;
                for d in sources.iter().flat_map(|(_, ds)| ds) {
                    write!(f, "\n  {d}")?;
                }
                Ok(())
            }
            Error::NoDisplay(detail) => write!(
                f,
                "cannot open a window: {detail}. Run under an X server (set DISPLAY; `Xvfb :1 & DISPLAY=:1 \
                 allsource run` works without a screen), or use --headless to render without a window."
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<GpuError> for Error {
    fn from(e: GpuError) -> Self {
        Error::Gpu(e)
    }
}
