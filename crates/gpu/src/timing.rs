//! How long GPU work takes: a GL_TIME_ELAPSED query where the driver's timer queries can be trusted, and the CPU
//! time from issuing the work to its fence signalling where they cannot (llvmpipe reports 0.01-2 ms for frames that
//! take 3-6 ms: docs/facts/gl.md). The fence path waits for the work, so it costs the CPU/GPU overlap; llvmpipe has
//! little to lose.

use std::time::{Duration, Instant};

use glow::HasContext;

use crate::{Fence, Gl, GlInfo};

/// A measurement in progress, or done.
pub enum Timing {
    Query(glow::NativeQuery),
    Done(Duration),
}

pub struct GpuTimer {
    gl: Gl,
    queries: bool,
}

impl GpuTimer {
    pub fn new(gl: Gl, info: &GlInfo) -> GpuTimer {
        let software = ["llvmpipe", "softpipe", "swrast"].iter().any(|s| info.renderer.contains(s));
        GpuTimer { gl, queries: !software }
    }

    /// Whether timer queries are used (else CPU time around fences).
    pub fn uses_queries(&self) -> bool {
        self.queries
    }

    /// Times the GPU work that `issue` submits.
    pub fn time(&self, issue: impl FnOnce()) -> Timing {
        if self.queries
            // SAFETY: a query object made and used on the current context.
            && let Ok(query) = unsafe { self.gl.create_query() }
        {
            // SAFETY: begin and end are paired around the caller's commands.
            unsafe { self.gl.begin_query(glow::TIME_ELAPSED, query) };
            issue();
            // SAFETY: as above.
            unsafe { self.gl.end_query(glow::TIME_ELAPSED) };
            return Timing::Query(query);
        }
        let started = Instant::now();
        issue();
        match Fence::insert(&self.gl) {
            Ok(fence) => {
                fence.wait(&self.gl, Duration::from_secs(10));
                fence.delete(&self.gl);
                Timing::Done(started.elapsed())
            }
            Err(_) => Timing::Done(started.elapsed()),
        }
    }

    /// The measured time once the GPU has it; `None` while a query is still running (ask again next frame).
    pub fn result(&self, timing: &Timing) -> Option<Duration> {
        match *timing {
            Timing::Done(d) => Some(d),
            // SAFETY: queries of a live query object; the result is read only once available.
            Timing::Query(query) => unsafe {
                if self.gl.get_query_parameter_u32(query, glow::QUERY_RESULT_AVAILABLE) == 0 {
                    return None;
                }
                let mut ns = [0u8; 8];
                // With no buffer bound to GL_QUERY_BUFFER, glow passes the "offset" to GL as the client pointer: 8
                // bytes of `ns`.
                self.gl.get_query_parameter_u64_with_offset(query, glow::QUERY_RESULT, ns.as_mut_ptr() as usize);
                Some(Duration::from_nanos(u64::from_ne_bytes(ns)))
            },
        }
    }

    /// Frees a measurement's query, if it has one.
    pub fn forget(&self, timing: Timing) {
        if let Timing::Query(query) = timing {
            // SAFETY: consuming the timing deletes its query once.
            unsafe { self.gl.delete_query(query) }
        }
    }
}
