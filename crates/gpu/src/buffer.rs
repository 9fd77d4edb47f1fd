//! Buffers and the draws and dispatches that use them: storage, uniform, indirect and transform-feedback
//! buffers; compute dispatches (direct and indirect); indirect and multi-indirect draws; transform-feedback
//! capture. Thin, typed wrappers: the engine and the Lua API above call these, never GL.

use glow::HasContext;

use crate::kinds::{BufferTarget, Primitive, draw_mode, feedback_mode};
use crate::{Gl, GpuError, extra};

/// A GL buffer object of a fixed size.
#[derive(Debug)]
pub struct Buffer {
    raw: glow::NativeBuffer,
    pub size: usize,
}

impl Buffer {
    /// A buffer holding `data` (copied).
    pub fn new(gl: &Gl, data: &[u8]) -> Result<Buffer, GpuError> {
        // SAFETY: object creation and a data upload of exactly `data`.
        unsafe {
            let raw = gl.create_buffer().map_err(GpuError::Gl)?;
            gl.bind_buffer(glow::COPY_WRITE_BUFFER, Some(raw));
            gl.buffer_data_u8_slice(glow::COPY_WRITE_BUFFER, data, glow::DYNAMIC_COPY);
            gl.bind_buffer(glow::COPY_WRITE_BUFFER, None);
            Ok(Buffer { raw, size: data.len() })
        }
    }

    /// A buffer of `size` zero bytes.
    pub fn zeroed(gl: &Gl, size: usize) -> Result<Buffer, GpuError> {
        Buffer::new(gl, &vec![0; size])
    }

    /// Replaces bytes from `offset`. Writes past the end are cut off.
    pub fn write(&self, gl: &Gl, offset: usize, data: &[u8]) {
        let end = (offset + data.len()).min(self.size);
        if offset >= end {
            return;
        }
        // SAFETY: the range lies inside the buffer.
        unsafe {
            gl.bind_buffer(glow::COPY_WRITE_BUFFER, Some(self.raw));
            gl.buffer_sub_data_u8_slice(glow::COPY_WRITE_BUFFER, offset as i32, &data[..end - offset]);
            gl.bind_buffer(glow::COPY_WRITE_BUFFER, None);
        }
    }

    /// Reads the whole buffer back (waits for the GPU to finish writing it).
    pub fn read(&self, gl: &Gl) -> Vec<u8> {
        let mut out = vec![0u8; self.size];
        // SAFETY: `out` is exactly the buffer's size.
        unsafe {
            gl.memory_barrier(glow::BUFFER_UPDATE_BARRIER_BIT);
            gl.bind_buffer(glow::COPY_READ_BUFFER, Some(self.raw));
            gl.get_buffer_sub_data(glow::COPY_READ_BUFFER, 0, &mut out);
            gl.bind_buffer(glow::COPY_READ_BUFFER, None);
        }
        out
    }

    /// Reads the buffer back as native-endian f32s.
    pub fn read_f32(&self, gl: &Gl) -> Vec<f32> {
        self.read(gl).chunks_exact(4).map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])).collect()
    }

    /// Reads the buffer back as native-endian u32s.
    pub fn read_u32(&self, gl: &Gl) -> Vec<u32> {
        self.read(gl).chunks_exact(4).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]])).collect()
    }

    /// Binds to an indexed binding point (storage, uniform, atomic counter, transform feedback) at `index` (the
    /// `binding` / `xfb_buffer` of the shader). GL reports an error for a target that has no indexed points.
    pub fn bind_base(&self, gl: &Gl, target: BufferTarget, index: u32) {
        // SAFETY: plain state change with a live buffer.
        unsafe { gl.bind_buffer_base(target.gl(), index, Some(self.raw)) }
    }

    /// Binds to a plain target (the vertex array's element buffer, or vertex attributes).
    pub fn bind(&self, gl: &Gl, target: BufferTarget) {
        // SAFETY: plain state change with a live buffer.
        unsafe { gl.bind_buffer(target.gl(), Some(self.raw)) }
    }

    pub fn delete(self, gl: &Gl) {
        // SAFETY: consuming `self` deletes the buffer once.
        unsafe { gl.delete_buffer(self.raw) }
    }
}

/// Runs the compute program in use on `x * y * z` work groups.
pub fn dispatch(gl: &Gl, x: u32, y: u32, z: u32) {
    // SAFETY: GL checks the counts against its limits (errors, not UB).
    unsafe { gl.dispatch_compute(x, y, z) }
}

/// Runs the compute program in use with the group counts found at `offset` in `buffer`.
pub fn dispatch_indirect(gl: &Gl, buffer: &Buffer, offset: usize) {
    // SAFETY: GL checks that the command lies inside the bound buffer.
    unsafe {
        gl.bind_buffer(glow::DISPATCH_INDIRECT_BUFFER, Some(buffer.raw));
        gl.dispatch_compute_indirect(offset as i32);
        gl.bind_buffer(glow::DISPATCH_INDIRECT_BUFFER, None);
    }
}

/// Makes writes by earlier shaders (storage buffers, images, atomic counters) visible to every later read: draws,
/// dispatches, indirect commands, buffer reads. Always all the bits: every caller (the Lua API, piglit's `memory
/// barrier`) wants every kind of read to see the writes, and a live-coded scene cannot be trusted to name the right
/// ones.
pub fn barrier(gl: &Gl) {
    // SAFETY: a plain GL call.
    unsafe { gl.memory_barrier(glow::ALL_BARRIER_BITS) }
}

/// Sets how many vertices make a patch for `GL_PATCHES` draws.
pub fn patch_vertices(gl: &Gl, n: i32) {
    // SAFETY: GL checks the value against GL_MAX_PATCH_VERTICES.
    unsafe { gl.patch_parameter_i32(glow::PATCH_VERTICES, n) }
}

/// Draws with the `DrawArraysIndirectCommand` found at `offset` in `buffer`. A vertex array must be bound.
pub fn draw_arrays_indirect(gl: &Gl, mode: Primitive, buffer: &Buffer, offset: usize) {
    // SAFETY: GL checks that the command lies inside the bound buffer.
    unsafe {
        gl.bind_buffer(glow::DRAW_INDIRECT_BUFFER, Some(buffer.raw));
        gl.draw_arrays_indirect_offset(draw_mode(mode), offset as i32);
        gl.bind_buffer(glow::DRAW_INDIRECT_BUFFER, None);
    }
}

/// Draws `count` `DrawElementsIndirectCommand`s from `buffer` (at `offset`, `stride` bytes apart, 0 = packed).
/// The bound vertex array must have an element buffer of u32 indices.
pub fn multi_draw_elements_indirect(
    gl: &Gl,
    mode: Primitive,
    buffer: &Buffer,
    offset: usize,
    count: i32,
    stride: i32,
) -> Result<(), GpuError> {
    let f = extra::get()
        .and_then(|e| e.multi_draw_elements_indirect)
        .ok_or_else(|| GpuError::Gl("glMultiDrawElementsIndirect is not available".into()))?;
    // SAFETY: the buffer is bound as DRAW_INDIRECT_BUFFER, so `offset` is an offset into it (not a pointer), and GL
    // checks the commands against its size.
    unsafe {
        gl.bind_buffer(glow::DRAW_INDIRECT_BUFFER, Some(buffer.raw));
        f(draw_mode(mode), glow::UNSIGNED_INT, offset as *const std::ffi::c_void, count, stride);
        gl.bind_buffer(glow::DRAW_INDIRECT_BUFFER, None);
    }
    Ok(())
}

/// Captures the varyings of the draws made inside `draw` into the buffers bound to `TRANSFORM_FEEDBACK_BUFFER`
/// (with `Buffer::bind_base`), as the points, lines or triangles that draws of `primitive` make. With
/// `discard`, nothing is rasterised. A complete framebuffer must be bound all the same (a surfaceless context has
/// no default one: its draws fail with GL_INVALID_FRAMEBUFFER_OPERATION).
pub fn capture_feedback(gl: &Gl, primitive: Primitive, discard: bool, draw: impl FnOnce()) {
    // SAFETY: begin and end are paired around the caller's draws; rasterizer discard is restored.
    unsafe {
        if discard {
            gl.enable(glow::RASTERIZER_DISCARD);
        }
        gl.begin_transform_feedback(feedback_mode(primitive));
    }
    draw();
    // SAFETY: as above.
    unsafe {
        gl.end_transform_feedback();
        if discard {
            gl.disable(glow::RASTERIZER_DISCARD);
        }
    }
}

/// Draws `count` indices (u32) from the bound element buffer, starting at index `first`, `instances` times.
pub fn draw_elements(gl: &Gl, mode: Primitive, count: i32, first: u32, instances: i32) {
    // SAFETY: GL checks the range against the bound element buffer.
    unsafe { gl.draw_elements_instanced(draw_mode(mode), count, glow::UNSIGNED_INT, (first as i32) * 4, instances) }
}

/// Draws with the `DrawElementsIndirectCommand` at `offset` in `buffer` (u32 indices from the bound element buffer).
pub fn draw_elements_indirect(gl: &Gl, mode: Primitive, buffer: &Buffer, offset: usize) {
    // SAFETY: GL checks that the command lies inside the bound buffer.
    unsafe {
        gl.bind_buffer(glow::DRAW_INDIRECT_BUFFER, Some(buffer.raw));
        gl.draw_elements_indirect_offset(draw_mode(mode), glow::UNSIGNED_INT, offset as i32);
        gl.bind_buffer(glow::DRAW_INDIRECT_BUFFER, None);
    }
}
