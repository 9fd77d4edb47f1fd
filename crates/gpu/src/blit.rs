//! Copying a texture into a frame target with `glBlitFramebuffer`: what the compositor shows a worker's frame with.
//! On llvmpipe a same-size blit is a copy (0.05 ms at 640x360) where a full-frame textured draw runs the fragment
//! pipeline over every pixel (1.2 ms); on a GPU it is the copy engine's job.

use std::cell::Cell;

use glow::HasContext;

use crate::{FrameTarget, Gl, GpuError};

/// A framebuffer object of this context to read textures through (framebuffer objects are not shared between
/// contexts, textures are).
#[derive(Debug)]
pub struct Blitter {
    read: glow::NativeFramebuffer,
    /// The last draw framebuffer asked about and whether it is multisampled (a blit into one is an error).
    multisampled: Cell<Option<(Option<glow::NativeFramebuffer>, bool)>>,
}

impl Blitter {
    pub fn new(gl: &Gl) -> Result<Blitter, GpuError> {
        // SAFETY: plain object creation on the current context.
        let read = unsafe { gl.create_framebuffer() }.map_err(GpuError::Gl)?;
        Ok(Blitter { read, multisampled: Cell::new(None) })
    }

    /// Copies `texture` (RGBA8 of the share group, `size` texels, finished drawing) onto `rect` of `target` (pixels
    /// from the bottom-left), filtered linearly when the sizes differ. `false` when `target` cannot be blitted
    /// into (a multisampled default framebuffer): the caller draws it instead.
    pub fn copy(
        &self,
        gl: &Gl,
        texture: glow::NativeTexture,
        size: (u32, u32),
        target: &FrameTarget,
        rect: [i32; 4],
    ) -> bool {
        let (w, h) = (size.0 as i32, size.1 as i32);
        let filter = if (w, h) == (rect[2], rect[3]) { glow::NEAREST } else { glow::LINEAR };
        self.reading(gl, texture, target, |gl| {
            // SAFETY: a blit between the bound framebuffers; out-of-range rectangles are clipped by GL.
            unsafe {
                gl.blit_framebuffer(
                    0,
                    0,
                    w,
                    h,
                    rect[0],
                    rect[1],
                    rect[0] + rect[2],
                    rect[1] + rect[3],
                    glow::COLOR_BUFFER_BIT,
                    filter,
                )
            }
        })
    }

    /// Copies the `rects` of `texture` (as for [`Blitter::copy`], the size of `target`) onto the same rectangles of
    /// `target`, texel for pixel. `false` when `target` cannot be blitted into.
    pub fn copy_regions(
        &self,
        gl: &Gl,
        texture: glow::NativeTexture,
        target: &FrameTarget,
        rects: &[[i32; 4]],
    ) -> bool {
        self.reading(gl, texture, target, |gl| {
            for &[x, y, w, h] in rects {
                // SAFETY: as in `copy`.
                unsafe {
                    gl.blit_framebuffer(x, y, x + w, y + h, x, y, x + w, y + h, glow::COLOR_BUFFER_BIT, glow::NEAREST)
                }
            }
        })
    }

    /// Runs `blits` with `texture` bound for reading and `target` for drawing; `false`, running nothing, when
    /// `target` is multisampled.
    fn reading(&self, gl: &Gl, texture: glow::NativeTexture, target: &FrameTarget, blits: impl FnOnce(&Gl)) -> bool {
        if self.multisampled(gl, target) {
            return false;
        }
        // SAFETY: the read framebuffer is this context's and `texture` a live 2D texture of the share group; a
        // mismatch (an incomplete framebuffer) is a GL error that draws nothing, not undefined behaviour. The
        // scissor test, which clips blits, is off outside scissored clears.
        unsafe {
            gl.bind_framebuffer(glow::DRAW_FRAMEBUFFER, target.framebuffer);
            gl.bind_framebuffer(glow::READ_FRAMEBUFFER, Some(self.read));
            gl.framebuffer_texture_2d(
                glow::READ_FRAMEBUFFER,
                glow::COLOR_ATTACHMENT0,
                glow::TEXTURE_2D,
                Some(texture),
                0,
            );
        }
        blits(gl);
        // SAFETY: detached, so the framebuffer holds no reference to a texture its owner deletes.
        unsafe {
            gl.framebuffer_texture_2d(glow::READ_FRAMEBUFFER, glow::COLOR_ATTACHMENT0, glow::TEXTURE_2D, None, 0);
            gl.bind_framebuffer(glow::READ_FRAMEBUFFER, None);
        }
        true
    }

    fn multisampled(&self, gl: &Gl, target: &FrameTarget) -> bool {
        if let Some((framebuffer, answer)) = self.multisampled.get()
            && framebuffer == target.framebuffer
        {
            return answer;
        }
        // SAFETY: a state query on the current context.
        let answer = unsafe {
            gl.bind_framebuffer(glow::DRAW_FRAMEBUFFER, target.framebuffer);
            gl.get_parameter_i32(glow::SAMPLE_BUFFERS) > 0
        };
        self.multisampled.set(Some((target.framebuffer, answer)));
        answer
    }

    pub fn delete(self, gl: &Gl) {
        // SAFETY: consuming `self` deletes the framebuffer once.
        unsafe { gl.delete_framebuffer(self.read) }
    }
}
