//! The engine: scenes, the worker thread that renders a scene, and the compositor that presents its frames.
//!
//! The compositor runs on the main thread with the context that presents (a window's, or a headless one's). Each
//! worker runs on its own thread with a context in the compositor's share group and renders into its own textures,
//! ending every frame with a fence. The two talk only through messages ([`worker::Command`] in,
//! [`worker::Event`] out), so a later move of workers into their own processes changes the transport, not the
//! protocol. The compositor never waits for a worker in real-time mode; in lockstep mode frame i shows worker frame
//! i rendered at time i/fps, so output is deterministic.

mod bench;
pub mod check;
mod compositor;
mod cover;
mod error;
mod file_texture;
mod graphics;
mod headless;
mod import;
pub mod keyboard;
pub mod overlay;
mod png_file;
pub mod preview;
mod scene;
pub mod session;
pub mod shader;
mod template;
mod text;
mod watch;
mod window;
pub mod worker;

pub use bench::{BenchOptions, BenchReport, MemoryKind, bench, group_names as bench_groups, memory_child};
pub use compositor::{Compositor, Status};
pub use error::Error;
pub use headless::{HeadlessEngine, RunOptions, render, run_headless};
pub use import::{Imported, import_shadertoy};
pub use png_file::write_png;
pub use scene::{Entry, Scene};
pub use template::{Template, new_scene};
pub use window::run_window;
pub use worker::process::{child_log as worker_process_log, child_main as worker_process};
pub use worker::{Clock, EngineOptions, WorkerPlace};

pub use allsource_gpu::Image;
