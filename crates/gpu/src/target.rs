//! Render targets: a texture with a framebuffer object around it. Workers render into these; the compositor
//! samples their textures (shared across the context group; the framebuffer object itself is not).

use glow::HasContext;

use crate::{Gl, GpuError};

/// Where a frame is drawn: a framebuffer object, or `None` for a window's default framebuffer.
#[derive(Clone, Copy, Debug)]
pub struct FrameTarget {
    pub framebuffer: Option<glow::NativeFramebuffer>,
    pub width: u32,
    pub height: u32,
}

/// The colour format of a [`Target`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColourFormat {
    /// 8 bits per channel: what frames are shown in.
    Rgba8,
    /// 32-bit float per channel, with a full mipmap chain: Shadertoy's buffers, simulations (values below 0 and
    /// above 1, and small increments that accumulate).
    Rgba32F,
    /// 16-bit float per channel: HDR colour at half the memory.
    Rgba16F,
    R32F,
    Rg32F,
    R16F,
    Rg16F,
}

impl ColourFormat {
    /// The GL internal format and the mipmap levels a target of this format and size has.
    fn storage(self, width: u32, height: u32) -> (u32, u32) {
        match self {
            ColourFormat::Rgba8 => (glow::RGBA8, 1),
            ColourFormat::Rgba32F => (glow::RGBA32F, 32 - width.max(height).max(1).leading_zeros()),
            ColourFormat::Rgba16F => (glow::RGBA16F, 1),
            ColourFormat::R32F => (glow::R32F, 1),
            ColourFormat::Rg32F => (glow::RG32F, 1),
            ColourFormat::R16F => (glow::R16F, 1),
            ColourFormat::Rg16F => (glow::RG16F, 1),
        }
    }
}

/// A colour texture, a 24-bit depth buffer, and the framebuffer object that draws into them.
#[derive(Debug)]
pub struct Target {
    pub texture: glow::NativeTexture,
    depth: glow::NativeRenderbuffer,
    pub framebuffer: glow::NativeFramebuffer,
    pub width: u32,
    pub height: u32,
    pub format: ColourFormat,
}

impl Target {
    /// Copies the top-left `width` x `height` pixels of `source` (a texture of any context in the share group,
    /// finished drawing) into this target's texture.
    pub fn copy_from(&self, gl: &Gl, source: glow::NativeTexture, width: u32, height: u32) {
        let (w, h) = (width.min(self.width) as i32, height.min(self.height) as i32);
        // SAFETY: both are live 2D textures of the share group with at least w x h texels; GL checks the rest.
        unsafe {
            gl.copy_image_sub_data(
                source,
                glow::TEXTURE_2D,
                0,
                0,
                0,
                0,
                self.texture,
                glow::TEXTURE_2D,
                0,
                0,
                0,
                0,
                w,
                h,
                1,
            )
        };
    }

    /// An RGBA8 target.
    pub fn new(gl: &Gl, width: u32, height: u32) -> Result<Target, GpuError> {
        Target::with_format(gl, width, height, ColourFormat::Rgba8)
    }

    pub fn with_format(gl: &Gl, width: u32, height: u32, format: ColourFormat) -> Result<Target, GpuError> {
        let (internal, levels) = format.storage(width, height);
        // SAFETY: plain object creation on the current context; sizes are checked by GL (errors, not UB).
        unsafe {
            let texture = gl.create_texture().map_err(GpuError::Gl)?;
            let previous = gl.get_parameter_texture(glow::TEXTURE_BINDING_2D);
            gl.bind_texture(glow::TEXTURE_2D, Some(texture));
            gl.tex_storage_2d(glow::TEXTURE_2D, levels as i32, internal, width as i32, height as i32);
            gl.tex_parameter_i32(glow::TEXTURE_2D, glow::TEXTURE_MIN_FILTER, glow::LINEAR as i32);
            gl.tex_parameter_i32(glow::TEXTURE_2D, glow::TEXTURE_MAG_FILTER, glow::LINEAR as i32);
            gl.tex_parameter_i32(glow::TEXTURE_2D, glow::TEXTURE_WRAP_S, glow::CLAMP_TO_EDGE as i32);
            gl.tex_parameter_i32(glow::TEXTURE_2D, glow::TEXTURE_WRAP_T, glow::CLAMP_TO_EDGE as i32);
            // What was bound on the active unit stays bound (a unit of a caller).
            gl.bind_texture(glow::TEXTURE_2D, previous);
            let depth = match gl.create_renderbuffer() {
                Ok(rb) => rb,
                Err(e) => {
                    gl.delete_texture(texture);
                    return Err(GpuError::Gl(e));
                }
            };
            gl.bind_renderbuffer(glow::RENDERBUFFER, Some(depth));
            gl.renderbuffer_storage(glow::RENDERBUFFER, glow::DEPTH_COMPONENT24, width as i32, height as i32);
            gl.bind_renderbuffer(glow::RENDERBUFFER, None);
            let framebuffer = match gl.create_framebuffer() {
                Ok(fb) => fb,
                Err(e) => {
                    gl.delete_renderbuffer(depth);
                    gl.delete_texture(texture);
                    return Err(GpuError::Gl(e));
                }
            };
            gl.bind_framebuffer(glow::FRAMEBUFFER, Some(framebuffer));
            gl.framebuffer_texture_2d(glow::FRAMEBUFFER, glow::COLOR_ATTACHMENT0, glow::TEXTURE_2D, Some(texture), 0);
            gl.framebuffer_renderbuffer(glow::FRAMEBUFFER, glow::DEPTH_ATTACHMENT, glow::RENDERBUFFER, Some(depth));
            let status = gl.check_framebuffer_status(glow::FRAMEBUFFER);
            gl.bind_framebuffer(glow::FRAMEBUFFER, None);
            if status != glow::FRAMEBUFFER_COMPLETE {
                gl.delete_framebuffer(framebuffer);
                gl.delete_renderbuffer(depth);
                gl.delete_texture(texture);
                return Err(GpuError::Gl(format!(
                    "a {width}x{height} {format:?} render target is incomplete (status {status:#x})"
                )));
            }
            Ok(Target { texture, depth, framebuffer, width, height, format })
        }
    }

    /// Binds level 0 to image unit `unit` for `imageLoad`/`imageStore`, in the target's own format (a shader
    /// declares the same: `layout(rgba32f) uniform image2D`).
    pub fn bind_image(&self, gl: &Gl, unit: u32) {
        let (internal, _) = self.format.storage(self.width, self.height);
        // SAFETY: a live texture; a unit past the limit is a GL error, not undefined behaviour.
        unsafe { gl.bind_image_texture(unit, Some(self.texture), 0, false, 0, glow::READ_WRITE, internal) }
    }

    /// Unbinds image units `0..units`.
    pub fn unbind_images(gl: &Gl, units: u32) {
        // SAFETY: plain state changes.
        unsafe {
            for unit in 0..units {
                gl.bind_image_texture(unit, None, 0, false, 0, glow::READ_WRITE, glow::RGBA8);
            }
        }
    }

    /// Every pixel as RGBA floats, row 0 at the bottom (a format with fewer channels reads 0 for green and blue and 1
    /// for alpha, as GL fills them).
    pub fn read_rgba_f32(&self, gl: &Gl) -> Vec<f32> {
        let mut bytes = vec![0u8; (self.width * self.height * 16) as usize];
        // SAFETY: the buffer holds exactly width * height RGBA float pixels; PACK_ALIGNMENT 4 fits 16-byte pixels.
        unsafe {
            gl.bind_framebuffer(glow::READ_FRAMEBUFFER, Some(self.framebuffer));
            gl.read_pixels(
                0,
                0,
                self.width as i32,
                self.height as i32,
                glow::RGBA,
                glow::FLOAT,
                glow::PixelPackData::Slice(Some(&mut bytes)),
            );
            gl.bind_framebuffer(glow::READ_FRAMEBUFFER, None);
        }
        bytes.chunks_exact(4).map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])).collect()
    }

    /// Fills the mipmap levels below the first from it (a target with levels: [`ColourFormat::Rgba32F`]).
    pub fn generate_mipmaps(&self, gl: &Gl) {
        // SAFETY: direct state access on a live texture.
        unsafe { gl.generate_texture_mipmap(self.texture) }
    }

    pub fn frame_target(&self) -> FrameTarget {
        FrameTarget { framebuffer: Some(self.framebuffer), width: self.width, height: self.height }
    }

    pub fn delete(self, gl: &Gl) {
        // SAFETY: consuming `self` deletes each object once.
        unsafe {
            gl.delete_framebuffer(self.framebuffer);
            gl.delete_renderbuffer(self.depth);
            gl.delete_texture(self.texture);
        }
    }
}

impl FrameTarget {
    /// Binds the target for drawing and sets the viewport to cover it.
    pub fn bind(&self, gl: &Gl) {
        // SAFETY: plain state changes on the current context.
        unsafe {
            gl.bind_framebuffer(glow::FRAMEBUFFER, self.framebuffer);
            gl.viewport(0, 0, self.width as i32, self.height as i32);
        }
    }

    /// Binds the target with the viewport set to `rect` (pixels from the bottom-left): draws land in that part.
    pub fn bind_rect(&self, gl: &Gl, rect: [i32; 4]) {
        // SAFETY: plain state changes on the current context.
        unsafe {
            gl.bind_framebuffer(glow::FRAMEBUFFER, self.framebuffer);
            gl.viewport(rect[0], rect[1], rect[2], rect[3]);
        }
    }

    /// Clears the target (or, with `rect`, only that rectangle in pixels from the bottom-left) to a colour, and its
    /// depth to the far plane.
    pub fn clear(&self, gl: &Gl, rgba: [f32; 4], rect: Option<[i32; 4]>) {
        self.clear_to_depth(gl, rgba, 1.0, rect);
    }

    /// [`FrameTarget::clear`] with the depth cleared to `depth`.
    pub fn clear_to_depth(&self, gl: &Gl, rgba: [f32; 4], depth: f32, rect: Option<[i32; 4]>) {
        // SAFETY: plain state changes and a clear on the current context.
        unsafe {
            gl.bind_framebuffer(glow::FRAMEBUFFER, self.framebuffer);
            if let Some([x, y, w, h]) = rect {
                gl.enable(glow::SCISSOR_TEST);
                gl.scissor(x, y, w, h);
            }
            gl.clear_color(rgba[0], rgba[1], rgba[2], rgba[3]);
            gl.clear_depth(f64::from(depth));
            gl.clear(glow::COLOR_BUFFER_BIT | glow::DEPTH_BUFFER_BIT);
            gl.disable(glow::SCISSOR_TEST);
        }
    }
}

/// How a draw combines with what the target holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrawState {
    /// Test depth (less-than), and write it unless blending.
    pub depth: bool,
    pub blend: Blend,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Blend {
    /// Replace.
    #[default]
    None,
    /// Premultiplied-style "over": src * a + dst * (1 - a).
    Alpha,
    /// Additive: src * a + dst.
    Add,
}

impl DrawState {
    /// Sets the GL state for the next draws.
    pub fn apply(&self, gl: &Gl) {
        // SAFETY: plain state changes on the current context.
        unsafe {
            if self.depth {
                gl.enable(glow::DEPTH_TEST);
                gl.depth_func(glow::LESS);
                // Blended draws (particles, glass) test depth but do not hide one another.
                gl.depth_mask(self.blend == Blend::None);
            } else {
                gl.depth_mask(true);
                gl.disable(glow::DEPTH_TEST);
            }
            match self.blend {
                Blend::None => gl.disable(glow::BLEND),
                Blend::Alpha => {
                    gl.enable(glow::BLEND);
                    gl.blend_func(glow::SRC_ALPHA, glow::ONE_MINUS_SRC_ALPHA);
                }
                Blend::Add => {
                    gl.enable(glow::BLEND);
                    gl.blend_func(glow::SRC_ALPHA, glow::ONE);
                }
            }
        }
    }
}
