//! GPU fences that cross threads: a worker ends each frame with one, the compositor polls it with a zero timeout.

use glow::HasContext;

use crate::Gl;

/// A `glFenceSync` handle. Sync objects are shared by every context of a share group, so a fence made by a
/// worker's context can be polled or waited on by the compositor's.
#[derive(Debug)]
pub struct Fence(glow::NativeFence);

// SAFETY: a GLsync is an opaque handle valid in every context of the share group; this type only passes it to GL
// calls made with a context current on the calling thread, and `delete` consumes it so it is deleted once.
unsafe impl Send for Fence {}

impl Fence {
    /// Inserts a fence after the commands issued so far and flushes them, so that another context waiting on the
    /// fence is guaranteed to see it signal.
    pub fn insert(gl: &Gl) -> Result<Fence, crate::GpuError> {
        // SAFETY: plain GL calls on the current context.
        unsafe {
            let fence = gl
                .fence_sync(glow::SYNC_GPU_COMMANDS_COMPLETE, 0)
                .map_err(|e| crate::GpuError::Gl(format!("glFenceSync failed: {e}")))?;
            gl.flush();
            Ok(Fence(fence))
        }
    }

    /// True once every command before the fence has finished. Never blocks.
    pub fn is_signalled(&self, gl: &Gl) -> bool {
        // SAFETY: the fence is alive (not yet consumed by `delete`).
        let status = unsafe { gl.client_wait_sync(self.0, 0, 0) };
        status == glow::ALREADY_SIGNALED || status == glow::CONDITION_SATISFIED
    }

    /// Blocks the calling thread until the fence signals or `timeout` passes. Returns whether it signalled.
    pub fn wait(&self, gl: &Gl, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            // glow takes the timeout as i32 nanoseconds: wait in slices of at most 100 ms.
            let slice = left.min(std::time::Duration::from_millis(100)).as_nanos() as i32;
            // SAFETY: the fence is alive.
            let status = unsafe { gl.client_wait_sync(self.0, glow::SYNC_FLUSH_COMMANDS_BIT, slice) };
            match status {
                glow::ALREADY_SIGNALED | glow::CONDITION_SATISFIED => return true,
                glow::TIMEOUT_EXPIRED if !left.is_zero() => continue,
                _ => return false,
            }
        }
    }

    /// Makes the GPU (not the CPU) wait for the fence before running commands issued after this call.
    pub fn wait_on_gpu(&self, gl: &Gl) {
        // SAFETY: the fence is alive; TIMEOUT_IGNORED is the only timeout glWaitSync accepts.
        unsafe { gl.wait_sync(self.0, 0, glow::TIMEOUT_IGNORED) }
    }

    pub fn delete(self, gl: &Gl) {
        // SAFETY: consuming `self` guarantees the handle is deleted once.
        unsafe { gl.delete_sync(self.0) }
    }
}

/// Blocks until every command issued so far in the current context has finished (`glFinish`). Only for the rare
/// path where a fence cannot be made.
pub fn finish(gl: &Gl) {
    // SAFETY: a plain GL call on the current context.
    unsafe { gl.finish() }
}
