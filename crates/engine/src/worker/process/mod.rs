//! Workers as child processes (the preview's guest code runs in one): a process has its own GL display and its own
//! llvmpipe threads, dies without taking the compositor along, gives back its CPU and memory when killed, and
//! confines itself (sandbox.rs) before guest code runs.
//!
//! Files: wire.rs (the messages on the socket), ring.rs (the shared-memory frame ring), parent.rs (the compositor's
//! end), child.rs (the process), sandbox.rs (its OS limits).

mod child;
mod parent;
mod ring;
mod sandbox;
pub mod wire;

pub use child::{log as child_log, main as child_main};
pub use parent::{News, ProcessWorker};
pub use ring::RING_SLOTS;
