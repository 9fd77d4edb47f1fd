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
    /// Bytes one pixel of the first level takes.
    pub fn bytes_per_pixel(self) -> u64 {
        match self {
            ColourFormat::Rgba8 | ColourFormat::R32F | ColourFormat::Rg16F => 4,
            ColourFormat::Rgba16F | ColourFormat::Rg32F => 8,
            ColourFormat::Rgba32F => 16,
            ColourFormat::R16F => 2,
        }
    }

    /// Bytes the colour textures of a `width` x `height` target of this format take, every mipmap level counted.
    pub fn bytes(self, width: u32, height: u32) -> u64 {
        let (_, levels) = self.storage(width, height);
        let (w, h) = (u64::from(width), u64::from(height));
        (0..levels).map(|l| (w >> l).max(1) * (h >> l).max(1) * self.bytes_per_pixel()).sum()
    }

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

/// A target's depth: a renderbuffer (only tested against), or a texture that later draws can sample.
#[derive(Debug)]
enum Depth {
    Buffer(glow::NativeRenderbuffer),
    Texture(glow::NativeTexture),
}

/// What a [`Target`] holds besides its first colour texture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attachments {
    /// Colour textures (1 to [`Attachments::MAX_COLOURS`]), written by a fragment shader's `layout(location = N)`
    /// outputs.
    pub colours: u32,
    /// The depth buffer is a 32-bit float texture that can be sampled (otherwise a 24-bit renderbuffer).
    pub depth_texture: bool,
}

impl Attachments {
    /// GL 4.5 guarantees 8 colour attachments and 8 draw buffers on every driver.
    pub const MAX_COLOURS: u32 = 8;
}

impl Default for Attachments {
    fn default() -> Attachments {
        Attachments { colours: 1, depth_texture: false }
    }
}

/// Colour textures, a depth buffer or texture, and the framebuffer object that draws into them.
#[derive(Debug)]
pub struct Target {
    /// The first colour texture (`layout(location = 0)`): what is shown, sampled and read by default.
    pub texture: glow::NativeTexture,
    /// The colour textures after the first.
    more: Vec<glow::NativeTexture>,
    depth: Depth,
    pub framebuffer: glow::NativeFramebuffer,
    pub width: u32,
    pub height: u32,
    pub format: ColourFormat,
}

/// Makes a 2D texture with storage, linear filtering and clamping, leaving the active unit's binding as it was.
///
/// # Safety
/// A context must be current.
unsafe fn storage_texture(
    gl: &Gl,
    internal: u32,
    levels: u32,
    width: u32,
    height: u32,
) -> Result<glow::NativeTexture, GpuError> {
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
        Ok(texture)
    }
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

    /// Writes `pixels` (RGBA8, `width` x `height`, bottom row first) into the first colour texture's top-left
    /// corner; nothing when they do not fit.
    pub fn upload_rgba8(&self, gl: &Gl, width: u32, height: u32, pixels: &[u8]) {
        if width > self.width || height > self.height || pixels.len() < (width * height * 4) as usize {
            return;
        }
        // SAFETY: the texture is live and at least width x height; `pixels` holds that many RGBA8 texels with no
        // row padding at UNPACK_ALIGNMENT 1.
        unsafe {
            gl.pixel_store_i32(glow::UNPACK_ALIGNMENT, 1);
            gl.texture_sub_image_2d(
                self.texture,
                0,
                0,
                0,
                width as i32,
                height as i32,
                glow::RGBA,
                glow::UNSIGNED_BYTE,
                glow::PixelUnpackData::Slice(Some(pixels)),
            );
        }
    }

    /// An RGBA8 target.
    pub fn new(gl: &Gl, width: u32, height: u32) -> Result<Target, GpuError> {
        Target::with_format(gl, width, height, ColourFormat::Rgba8)
    }

    /// A target of one colour texture in `format`, and a depth renderbuffer.
    pub fn with_format(gl: &Gl, width: u32, height: u32, format: ColourFormat) -> Result<Target, GpuError> {
        Target::with_attachments(gl, width, height, format, Attachments::default())
    }

    /// A target of `attachments.colours` colour textures, all in `format`, and a depth buffer or texture.
    pub fn with_attachments(
        gl: &Gl,
        width: u32,
        height: u32,
        format: ColourFormat,
        attachments: Attachments,
    ) -> Result<Target, GpuError> {
        let colours = attachments.colours.clamp(1, Attachments::MAX_COLOURS);
        let (internal, levels) = format.storage(width, height);
        let mut textures = Vec::with_capacity(colours as usize);
        let mut depth = None;
        let mut framebuffer = None;
        // SAFETY: plain object creation on the current context; every object made is deleted on failure.
        let result = unsafe {
            (|| {
                for _ in 0..colours {
                    textures.push(storage_texture(gl, internal, levels, width, height)?);
                }
                depth = Some(if attachments.depth_texture {
                    let t = storage_texture(gl, glow::DEPTH_COMPONENT32F, 1, width, height)?;
                    Depth::Texture(t)
                } else {
                    let rb = gl.create_renderbuffer().map_err(GpuError::Gl)?;
                    gl.bind_renderbuffer(glow::RENDERBUFFER, Some(rb));
                    gl.renderbuffer_storage(glow::RENDERBUFFER, glow::DEPTH_COMPONENT24, width as i32, height as i32);
                    gl.bind_renderbuffer(glow::RENDERBUFFER, None);
                    Depth::Buffer(rb)
                });
                let fb = gl.create_framebuffer().map_err(GpuError::Gl)?;
                framebuffer = Some(fb);
                gl.bind_framebuffer(glow::FRAMEBUFFER, Some(fb));
                let mut buffers = Vec::new();
                for (i, t) in textures.iter().enumerate() {
                    let attachment = glow::COLOR_ATTACHMENT0 + i as u32;
                    gl.framebuffer_texture_2d(glow::FRAMEBUFFER, attachment, glow::TEXTURE_2D, Some(*t), 0);
                    buffers.push(attachment);
                }
                gl.draw_buffers(&buffers);
                match depth {
                    Some(Depth::Texture(t)) => gl.framebuffer_texture_2d(
                        glow::FRAMEBUFFER,
                        glow::DEPTH_ATTACHMENT,
                        glow::TEXTURE_2D,
                        Some(t),
                        0,
                    ),
                    Some(Depth::Buffer(rb)) => gl.framebuffer_renderbuffer(
                        glow::FRAMEBUFFER,
                        glow::DEPTH_ATTACHMENT,
                        glow::RENDERBUFFER,
                        Some(rb),
                    ),
                    None => {}
                }
                let status = gl.check_framebuffer_status(glow::FRAMEBUFFER);
                gl.bind_framebuffer(glow::FRAMEBUFFER, None);
                if status != glow::FRAMEBUFFER_COMPLETE {
                    return Err(GpuError::Gl(format!(
                        "a {width}x{height} {format:?} render target with {colours} colour texture(s) is incomplete \
                         (status {status:#x})"
                    )));
                }
                Ok(())
            })()
        };
        match (result, depth, framebuffer) {
            (Ok(()), Some(depth), Some(framebuffer)) => {
                let texture = textures.remove(0);
                Ok(Target { texture, more: textures, depth, framebuffer, width, height, format })
            }
            (result, depth, framebuffer) => {
                // SAFETY: each object was made above and is deleted once.
                unsafe {
                    if let Some(fb) = framebuffer {
                        gl.delete_framebuffer(fb);
                    }
                    match depth {
                        Some(Depth::Buffer(rb)) => gl.delete_renderbuffer(rb),
                        Some(Depth::Texture(t)) => gl.delete_texture(t),
                        None => {}
                    }
                    for t in textures {
                        gl.delete_texture(t);
                    }
                }
                Err(result.err().unwrap_or_else(|| GpuError::Gl("a render target could not be made".into())))
            }
        }
    }

    /// How many colour textures the target has.
    pub fn colours(&self) -> u32 {
        1 + self.more.len() as u32
    }

    /// Colour texture `index` (0 is [`Target::texture`]).
    pub fn colour(&self, index: u32) -> Option<glow::NativeTexture> {
        match index {
            0 => Some(self.texture),
            i => self.more.get(i as usize - 1).copied(),
        }
    }

    /// The depth texture, for a target made with one.
    pub fn depth_texture(&self) -> Option<glow::NativeTexture> {
        match self.depth {
            Depth::Texture(t) => Some(t),
            Depth::Buffer(_) => None,
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

    /// Every pixel of colour texture `index` as RGBA floats, row 0 at the bottom (a format with fewer channels reads
    /// 0 for green and blue and 1 for alpha, as GL fills them); `None` past the last colour texture.
    pub fn read_rgba_f32(&self, gl: &Gl, index: u32) -> Option<Vec<f32>> {
        if index >= self.colours() {
            return None;
        }
        let mut bytes = vec![0u8; (self.width * self.height * 16) as usize];
        // SAFETY: the buffer holds exactly width * height RGBA float pixels; PACK_ALIGNMENT 4 fits 16-byte pixels;
        // the read buffer is an attachment the framebuffer has.
        unsafe {
            gl.bind_framebuffer(glow::READ_FRAMEBUFFER, Some(self.framebuffer));
            gl.read_buffer(glow::COLOR_ATTACHMENT0 + index);
            gl.read_pixels(
                0,
                0,
                self.width as i32,
                self.height as i32,
                glow::RGBA,
                glow::FLOAT,
                glow::PixelPackData::Slice(Some(&mut bytes)),
            );
            gl.read_buffer(glow::COLOR_ATTACHMENT0);
            gl.bind_framebuffer(glow::READ_FRAMEBUFFER, None);
        }
        Some(floats(&bytes))
    }

    /// Every depth value (0 near, 1 far), row 0 at the bottom.
    pub fn read_depth(&self, gl: &Gl) -> Vec<f32> {
        let mut bytes = vec![0u8; (self.width * self.height * 4) as usize];
        // SAFETY: the buffer holds exactly width * height float values; the framebuffer has a depth attachment.
        unsafe {
            gl.bind_framebuffer(glow::READ_FRAMEBUFFER, Some(self.framebuffer));
            gl.read_pixels(
                0,
                0,
                self.width as i32,
                self.height as i32,
                glow::DEPTH_COMPONENT,
                glow::FLOAT,
                glow::PixelPackData::Slice(Some(&mut bytes)),
            );
            gl.bind_framebuffer(glow::READ_FRAMEBUFFER, None);
        }
        floats(&bytes)
    }

    /// Fills the mipmap levels below the first from it (a target with levels: [`ColourFormat::Rgba32F`]).
    pub fn generate_mipmaps(&self, gl: &Gl) {
        // SAFETY: direct state access on live textures.
        unsafe {
            gl.generate_texture_mipmap(self.texture);
            for t in &self.more {
                gl.generate_texture_mipmap(*t);
            }
        }
    }

    pub fn frame_target(&self) -> FrameTarget {
        FrameTarget { framebuffer: Some(self.framebuffer), width: self.width, height: self.height }
    }

    pub fn delete(self, gl: &Gl) {
        // SAFETY: consuming `self` deletes each object once.
        unsafe {
            gl.delete_framebuffer(self.framebuffer);
            match self.depth {
                Depth::Buffer(rb) => gl.delete_renderbuffer(rb),
                Depth::Texture(t) => gl.delete_texture(t),
            }
            gl.delete_texture(self.texture);
            for t in self.more {
                gl.delete_texture(t);
            }
        }
    }
}

fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])).collect()
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
    /// A premultiplied source over the target: src + dst * (1 - a) (a layer painted over transparency).
    Premultiplied,
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
                Blend::Premultiplied => {
                    gl.enable(glow::BLEND);
                    gl.blend_func(glow::ONE, glow::ONE_MINUS_SRC_ALPHA);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ColourFormat;

    #[test]
    fn a_targets_bytes_count_its_pixels_and_its_mipmap_levels() {
        assert_eq!(ColourFormat::Rgba8.bytes(640, 360), 640 * 360 * 4);
        assert_eq!(ColourFormat::R16F.bytes(3, 5), 30);
        // 4x4, 2x2 and 1x1 levels of 16-byte pixels; 5x3 gives 5x3, 2x1 and 1x1.
        assert_eq!(ColourFormat::Rgba32F.bytes(4, 4), (16 + 4 + 1) * 16);
        assert_eq!(ColourFormat::Rgba32F.bytes(5, 3), (15 + 2 + 1) * 16);
    }
}
