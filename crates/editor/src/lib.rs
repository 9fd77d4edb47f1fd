//! The editor overlay: tabs of open sources with syntax colouring and an error layer, a console, and a tweak bar,
//! drawn with egui. It is trusted host code on the compositor's thread and knows nothing of GL or Lua: it takes
//! build reports, uniforms and log lines in, and gives [`Action`]s out (an edit to rebuild, a uniform to set, a
//! console line to run), which the engine turns into worker commands. Typing never waits for a build: an edit
//! leaves as a message and its report comes back later.

#![forbid(unsafe_code)]

pub mod command;
mod console;
mod editor;
pub mod highlight;
pub mod tweak;

pub use console::{ConsoleLog, Level, LogLine};
pub use editor::{AUTOSAVE_IDLE, Action, BuildState, Editor, PreviewView, SourceState, VersionNote};
pub use tweak::{Annotation, Kind, Tweak};

/// The tweak bar's source name for values Lua modules expose with `tweak(...)` (they belong to the scene VM, not
/// to one file).
pub const LUA_VALUES: &str = "lua values";
