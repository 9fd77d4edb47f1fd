//! Pixels read back from a framebuffer, top row first, as image files and tests expect them.

use glow::{HasContext, PixelPackData};

use crate::{FrameTarget, Gl};

/// An RGBA8 image, rows from top to bottom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl Image {
    /// The pixel at column `x`, row `y` counted from the top.
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * self.width + x) * 4) as usize;
        [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2], self.pixels[i + 3]]
    }

    /// Reads the whole of `target`. GL's origin is bottom-left, so rows are flipped.
    pub fn read(gl: &Gl, target: &FrameTarget) -> Image {
        let (w, h) = (target.width, target.height);
        let mut pixels = vec![0u8; (w * h * 4) as usize];
        // SAFETY: the buffer holds exactly w*h RGBA8 pixels and PACK_ALIGNMENT 1 means no row padding.
        unsafe {
            gl.bind_framebuffer(glow::READ_FRAMEBUFFER, target.framebuffer);
            gl.pixel_store_i32(glow::PACK_ALIGNMENT, 1);
            gl.read_pixels(
                0,
                0,
                w as i32,
                h as i32,
                glow::RGBA,
                glow::UNSIGNED_BYTE,
                PixelPackData::Slice(Some(&mut pixels)),
            );
            gl.bind_framebuffer(glow::READ_FRAMEBUFFER, None);
        }
        let row = (w * 4) as usize;
        let mut flipped = Vec::with_capacity(pixels.len());
        for y in (0..h as usize).rev() {
            flipped.extend_from_slice(&pixels[y * row..(y + 1) * row]);
        }
        Image { width: w, height: h, pixels: flipped }
    }
}

/// Reads level 0 of `texture` (an RGBA8 texture of exactly `width` x `height`, finished drawing) into `out`, bottom
/// row first, as GL holds it: a frame crossing to another process is uploaded again in that order.
pub fn read_texture_rgba8(gl: &Gl, texture: glow::NativeTexture, width: u32, height: u32, out: &mut [u8]) {
    let bytes = (width * height * 4) as usize;
    let Some(out) = out.get_mut(..bytes) else { return };
    // SAFETY: `out` holds exactly width*height RGBA8 pixels, PACK_ALIGNMENT 1 means no row padding, and the
    // texture's level 0 is that size; the binding is restored.
    unsafe {
        let previous = gl.get_parameter_texture(glow::TEXTURE_BINDING_2D);
        gl.bind_texture(glow::TEXTURE_2D, Some(texture));
        gl.pixel_store_i32(glow::PACK_ALIGNMENT, 1);
        gl.get_tex_image(glow::TEXTURE_2D, 0, glow::RGBA, glow::UNSIGNED_BYTE, PixelPackData::Slice(Some(out)));
        gl.bind_texture(glow::TEXTURE_2D, previous);
    }
}
