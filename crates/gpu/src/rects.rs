//! Rectangles of a target as one vertex buffer: a draw that covers only them. The compositor blends the editor's
//! layer over the tiles the editor drew in, not over the whole frame (on llvmpipe every pixel a draw covers costs
//! the fragment pipeline, transparent or not).

use glow::HasContext;

use crate::{Gl, GpuError};

/// The vertex stage that draws [`Rects`]: attribute 0 is the position in clip space; `uv` is the position in the
/// target, 0 to 1 (where a texture the target's size is sampled at each pixel's centre).
pub const RECTS_VERTEX: &str = "#version 450 core
layout(location = 0) in vec2 position;
out vec2 uv;
void main() {
    uv = position * 0.5 + 0.5;
    gl_Position = vec4(position, 0.0, 1.0);
}
";

#[derive(Debug)]
pub struct Rects {
    vao: glow::NativeVertexArray,
    vbo: glow::NativeBuffer,
    /// As last set: the buffer holds six vertices for each.
    rects: Vec<[i32; 4]>,
}

impl Rects {
    pub fn new(gl: &Gl) -> Result<Rects, GpuError> {
        // SAFETY: plain object creation on the current context; the attribute reads two floats a vertex from the
        // buffer, which `set` fills with whole vertices only.
        unsafe {
            let vao = gl.create_vertex_array().map_err(GpuError::Gl)?;
            let vbo = match gl.create_buffer() {
                Ok(vbo) => vbo,
                Err(e) => {
                    gl.delete_vertex_array(vao);
                    return Err(GpuError::Gl(e));
                }
            };
            gl.bind_vertex_array(Some(vao));
            gl.bind_buffer(glow::ARRAY_BUFFER, Some(vbo));
            gl.enable_vertex_attrib_array(0);
            gl.vertex_attrib_pointer_f32(0, 2, glow::FLOAT, false, 8, 0);
            gl.bind_vertex_array(None);
            gl.bind_buffer(glow::ARRAY_BUFFER, None);
            Ok(Rects { vao, vbo, rects: Vec::new() })
        }
    }

    /// Replaces the rectangles: `[x, y, width, height]` in pixels from the bottom-left of a target of `size`.
    pub fn set(&mut self, gl: &Gl, rects: &[[i32; 4]], size: (u32, u32)) {
        let (sx, sy) = (2.0 / size.0.max(1) as f32, 2.0 / size.1.max(1) as f32);
        let mut floats = Vec::with_capacity(rects.len() * 12);
        for &[x, y, w, h] in rects {
            let (x0, y0) = (x as f32 * sx - 1.0, y as f32 * sy - 1.0);
            let (x1, y1) = ((x + w) as f32 * sx - 1.0, (y + h) as f32 * sy - 1.0);
            floats.extend_from_slice(&[x0, y0, x1, y0, x1, y1, x0, y0, x1, y1, x0, y1]);
        }
        let bytes: Vec<u8> = floats.iter().flat_map(|f| f.to_ne_bytes()).collect();
        // SAFETY: the buffer is alive; GL copies `bytes` before the call returns.
        unsafe {
            gl.bind_buffer(glow::ARRAY_BUFFER, Some(self.vbo));
            gl.buffer_data_u8_slice(glow::ARRAY_BUFFER, &bytes, glow::DYNAMIC_DRAW);
            gl.bind_buffer(glow::ARRAY_BUFFER, None);
        }
        self.rects = rects.to_vec();
    }

    /// The rectangles, as last set.
    pub fn rects(&self) -> &[[i32; 4]] {
        &self.rects
    }

    /// Whether there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.rects.is_empty()
    }

    /// Draws the rectangles with the program in use (its vertex stage [`RECTS_VERTEX`]) into the bound framebuffer.
    pub fn draw(&self, gl: &Gl) {
        if self.is_empty() {
            return;
        }
        // SAFETY: the vertex array is alive and its buffer holds six whole vertices for each rectangle.
        unsafe {
            gl.bind_vertex_array(Some(self.vao));
            gl.draw_arrays(glow::TRIANGLES, 0, (self.rects.len() * 6) as i32);
            gl.bind_vertex_array(None);
        }
    }

    pub fn delete(self, gl: &Gl) {
        // SAFETY: consuming `self` deletes each object once.
        unsafe {
            gl.delete_vertex_array(self.vao);
            gl.delete_buffer(self.vbo);
        }
    }
}
