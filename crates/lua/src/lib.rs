//! The Lua layer: the only crate that knows Lua exists (it alone names mlua).
//!
//! A scene's modules run in one LuaJIT VM owned by the scene's worker ([`ModuleHost`]). Modules reload in place:
//! cached `require` results, objects made by earlier versions and `persist`ed state all carry over, and every
//! version goes through the live core (history, undo, diagnostics, last good). The engine API reaches Lua through
//! the [`Graphics`] trait, which the engine implements in Rust; [`api`] only converts values.

pub mod api;
mod budget;
mod diag;
mod host;
mod interrupt;
pub mod measure;
mod watchdog;

pub use api::{
    API, Attachment, BlendMode, DispatchCall, DrawCall, Element, FrameStats, Graphics, Id, ImageOptions, Kind, Owner,
    Primitive, TargetFormat, TargetSpec, TextCall, TextureUse,
};
pub use budget::{Budget, Overrun, Verdict};
pub use diag::from_lua_error;
pub use host::{DEFAULT_PAUSE, Exposed, INERT, MAIN, ModuleHost};
pub use interrupt::{INTERRUPTED, Interrupter, SAMPLE_EVERY, Signal};
pub use measure::raw_load_and_run;
pub use watchdog::{Guarded, WEDGE_AFTER, Watchdog, WedgeHandler};
