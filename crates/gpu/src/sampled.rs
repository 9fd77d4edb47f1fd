//! What a shader samples besides render targets: textures made from pixels (images, cube maps, a small byte
//! texture the engine rewrites each frame, such as Shadertoy's keyboard) and samplers that say how a texture unit
//! filters and wraps, whatever texture is bound there.

use glow::HasContext;

use crate::{Gl, GpuError};

/// Filters and wrap modes are the shader format's own (`#pragma channel`): one vocabulary from the file to GL.
pub use allsource_shader::{Filter, Wrap};

/// A sampler object: bound to a unit, it decides filtering and wrapping there.
#[derive(Debug)]
pub struct Sampler {
    raw: glow::NativeSampler,
}

impl Sampler {
    pub fn new(gl: &Gl, filter: Filter, wrap: Wrap) -> Result<Sampler, GpuError> {
        let (min, mag) = match filter {
            Filter::Nearest => (glow::NEAREST, glow::NEAREST),
            Filter::Linear => (glow::LINEAR, glow::LINEAR),
            Filter::Mipmap => (glow::LINEAR_MIPMAP_LINEAR, glow::LINEAR),
        };
        let wrap = match wrap {
            Wrap::Clamp => glow::CLAMP_TO_EDGE,
            Wrap::Repeat => glow::REPEAT,
        };
        // SAFETY: object creation and parameters from the fixed set above.
        unsafe {
            let raw = gl.create_sampler().map_err(GpuError::Gl)?;
            gl.sampler_parameter_i32(raw, glow::TEXTURE_MIN_FILTER, min as i32);
            gl.sampler_parameter_i32(raw, glow::TEXTURE_MAG_FILTER, mag as i32);
            for axis in [glow::TEXTURE_WRAP_S, glow::TEXTURE_WRAP_T, glow::TEXTURE_WRAP_R] {
                gl.sampler_parameter_i32(raw, axis, wrap as i32);
            }
            Ok(Sampler { raw })
        }
    }

    /// Binds it to texture unit `unit` (or, with `None`, lets the unit's texture decide again).
    pub fn bind(gl: &Gl, unit: u32, sampler: Option<&Sampler>) {
        // SAFETY: a live sampler or none.
        unsafe { gl.bind_sampler(unit, sampler.map(|s| s.raw)) }
    }

    pub fn delete(self, gl: &Gl) {
        // SAFETY: consuming `self` deletes it once.
        unsafe { gl.delete_sampler(self.raw) }
    }
}

/// One sampler for each filter and wrap, made at once (six small objects): what a texture unit samples with when a
/// texture says how it is to be sampled.
#[derive(Debug)]
pub struct Samplers(Vec<Sampler>);

const FILTERS: [Filter; 3] = [Filter::Nearest, Filter::Linear, Filter::Mipmap];
const WRAPS: [Wrap; 2] = [Wrap::Clamp, Wrap::Repeat];

impl Samplers {
    pub fn new(gl: &Gl) -> Result<Samplers, GpuError> {
        let mut all = Vec::with_capacity(FILTERS.len() * WRAPS.len());
        for filter in FILTERS {
            for wrap in WRAPS {
                match Sampler::new(gl, filter, wrap) {
                    Ok(s) => all.push(s),
                    Err(e) => {
                        all.into_iter().for_each(|s: Sampler| s.delete(gl));
                        return Err(e);
                    }
                }
            }
        }
        Ok(Samplers(all))
    }

    /// The sampler of `filter` and `wrap`.
    pub fn get(&self, filter: Filter, wrap: Wrap) -> &Sampler {
        let f = FILTERS.iter().position(|x| *x == filter).unwrap_or(0);
        let w = WRAPS.iter().position(|x| *x == wrap).unwrap_or(0);
        &self.0[f * WRAPS.len() + w]
    }

    pub fn delete(self, gl: &Gl) {
        self.0.into_iter().for_each(|s| s.delete(gl));
    }
}

/// The kind of a [`PixelTexture`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelKind {
    /// RGBA8 with mipmaps, from an image.
    Image,
    /// Six RGBA8 square faces with mipmaps.
    Cube,
    /// One byte per texel (`R8`), rewritten by [`PixelTexture::write_bytes`].
    Bytes,
}

/// A texture made from pixels the engine has in memory.
#[derive(Debug)]
pub struct PixelTexture {
    raw: glow::NativeTexture,
    pub kind: PixelKind,
    pub width: u32,
    pub height: u32,
}

/// How [`PixelTexture::image`] stores an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageUpload {
    /// The pixels come top row first: store them upright (GL's row 0 is the bottom).
    pub flip: bool,
    /// The bytes are sRGB-encoded: sampling returns linear values.
    pub srgb: bool,
    /// Make the full mipmap chain; otherwise one level.
    pub mipmaps: bool,
}

impl PixelTexture {
    /// An RGBA8 texture with mipmaps from `rgba` (`width` x `height`, top row first). With `flip`, the image's top
    /// row is at t = 1, so it reads upright with the origin at the bottom-left (Shadertoy's `vflip`, on by default
    /// there); without, the top row is at t = 0.
    pub fn image(gl: &Gl, width: u32, height: u32, rgba: &[u8], how: ImageUpload) -> Result<PixelTexture, GpuError> {
        check_size(width, height, rgba.len())?;
        check_limit(gl, width.max(height), glow::MAX_TEXTURE_SIZE)?;
        let rows = if how.flip { flipped(rgba, width) } else { rgba.to_vec() };
        let internal = if how.srgb { glow::SRGB8_ALPHA8 } else { glow::RGBA8 };
        // SAFETY: `rows` holds width * height RGBA bytes (checked above); rows are tightly packed (alignment 1).
        unsafe {
            while gl.get_error() != glow::NO_ERROR {}
            let raw = gl.create_texture().map_err(GpuError::Gl)?;
            let previous = gl.get_parameter_texture(glow::TEXTURE_BINDING_2D);
            gl.bind_texture(glow::TEXTURE_2D, Some(raw));
            gl.pixel_store_i32(glow::UNPACK_ALIGNMENT, 1);
            gl.tex_image_2d(
                glow::TEXTURE_2D,
                0,
                internal as i32,
                width as i32,
                height as i32,
                0,
                glow::RGBA,
                glow::UNSIGNED_BYTE,
                glow::PixelUnpackData::Slice(Some(&rows)),
            );
            gl.pixel_store_i32(glow::UNPACK_ALIGNMENT, 4);
            // Clamped, as targets are: a sprite's edge does not pick up its opposite edge.
            gl.tex_parameter_i32(glow::TEXTURE_2D, glow::TEXTURE_WRAP_S, glow::CLAMP_TO_EDGE as i32);
            gl.tex_parameter_i32(glow::TEXTURE_2D, glow::TEXTURE_WRAP_T, glow::CLAMP_TO_EDGE as i32);
            if how.mipmaps {
                gl.generate_mipmap(glow::TEXTURE_2D);
            } else {
                // One level: complete under any filter, a sampler's mipmap filter included.
                gl.tex_parameter_i32(glow::TEXTURE_2D, glow::TEXTURE_MAX_LEVEL, 0);
                gl.tex_parameter_i32(glow::TEXTURE_2D, glow::TEXTURE_MIN_FILTER, glow::LINEAR as i32);
            }
            // What was bound on the active unit stays bound (a unit of a caller).
            gl.bind_texture(glow::TEXTURE_2D, previous);
            let texture = PixelTexture { raw, kind: PixelKind::Image, width, height };
            texture.checked(gl)
        }
    }

    /// A cube map from six square RGBA8 faces (top row first) in GL's order: +X, -X, +Y, -Y, +Z, -Z.
    pub fn cube(gl: &Gl, size: u32, faces: [&[u8]; 6]) -> Result<PixelTexture, GpuError> {
        for face in faces {
            check_size(size, size, face.len())?;
        }
        check_limit(gl, size, glow::MAX_CUBE_MAP_TEXTURE_SIZE)?;
        // SAFETY: each face holds size * size RGBA bytes (checked above), tightly packed.
        unsafe {
            while gl.get_error() != glow::NO_ERROR {}
            let raw = gl.create_texture().map_err(GpuError::Gl)?;
            let previous = gl.get_parameter_texture(glow::TEXTURE_BINDING_CUBE_MAP);
            gl.bind_texture(glow::TEXTURE_CUBE_MAP, Some(raw));
            gl.pixel_store_i32(glow::UNPACK_ALIGNMENT, 1);
            for (i, face) in faces.iter().enumerate() {
                gl.tex_image_2d(
                    glow::TEXTURE_CUBE_MAP_POSITIVE_X + i as u32,
                    0,
                    glow::RGBA8 as i32,
                    size as i32,
                    size as i32,
                    0,
                    glow::RGBA,
                    glow::UNSIGNED_BYTE,
                    glow::PixelUnpackData::Slice(Some(face)),
                );
            }
            gl.pixel_store_i32(glow::UNPACK_ALIGNMENT, 4);
            gl.generate_mipmap(glow::TEXTURE_CUBE_MAP);
            // What was bound on the active unit stays bound (a unit of a caller).
            gl.bind_texture(glow::TEXTURE_CUBE_MAP, previous);
            let texture = PixelTexture { raw, kind: PixelKind::Cube, width: size, height: size };
            texture.checked(gl)
        }
    }

    /// A `width` x `height` texture of one byte per texel, all zero.
    pub fn bytes(gl: &Gl, width: u32, height: u32) -> Result<PixelTexture, GpuError> {
        // SAFETY: storage allocation, then a write of exactly its size.
        let texture = unsafe {
            let raw = gl.create_texture().map_err(GpuError::Gl)?;
            let previous = gl.get_parameter_texture(glow::TEXTURE_BINDING_2D);
            gl.bind_texture(glow::TEXTURE_2D, Some(raw));
            gl.tex_storage_2d(glow::TEXTURE_2D, 1, glow::R8, width as i32, height as i32);
            // What was bound on the active unit stays bound (a unit of a caller).
            gl.bind_texture(glow::TEXTURE_2D, previous);
            PixelTexture { raw, kind: PixelKind::Bytes, width, height }
        };
        texture.write_bytes(gl, &vec![0; (width * height) as usize])?;
        Ok(texture)
    }

    /// Rewrites a [`PixelKind::Bytes`] texture: `bytes` holds a byte per texel, row 0 (t = 0) first.
    pub fn write_bytes(&self, gl: &Gl, bytes: &[u8]) -> Result<(), GpuError> {
        if self.kind != PixelKind::Bytes || bytes.len() != (self.width * self.height) as usize {
            return Err(GpuError::Gl(format!(
                "{} bytes for a {}x{} byte texture",
                bytes.len(),
                self.width,
                self.height
            )));
        }
        // SAFETY: the texture is R8 of that size and `bytes` holds exactly its texels, tightly packed.
        unsafe {
            gl.pixel_store_i32(glow::UNPACK_ALIGNMENT, 1);
            gl.texture_sub_image_2d(
                self.raw,
                0,
                0,
                0,
                self.width as i32,
                self.height as i32,
                glow::RED,
                glow::UNSIGNED_BYTE,
                glow::PixelUnpackData::Slice(Some(bytes)),
            );
            gl.pixel_store_i32(glow::UNPACK_ALIGNMENT, 4);
        }
        Ok(())
    }

    /// The texture, or the GL error its making raised (it is deleted then).
    fn checked(self, gl: &Gl) -> Result<PixelTexture, GpuError> {
        // SAFETY: a query of the error flag.
        let error = unsafe { gl.get_error() };
        if error == glow::NO_ERROR {
            return Ok(self);
        }
        let (w, h) = (self.width, self.height);
        self.delete(gl);
        Err(GpuError::Gl(format!("the driver refused a {w}x{h} texture (error {error:#x})")))
    }

    /// The GL texture, to bind (a cube map's with [`bind_cube_texture`]).
    pub fn raw(&self) -> glow::NativeTexture {
        self.raw
    }

    pub fn delete(self, gl: &Gl) {
        // SAFETY: consuming `self` deletes it once.
        unsafe { gl.delete_texture(self.raw) }
    }
}

/// Binds a cube map texture (or none) to a texture unit.
pub fn bind_cube_texture(gl: &Gl, unit: u32, texture: Option<glow::NativeTexture>) {
    crate::program::bind_to_unit(gl, unit, glow::TEXTURE_CUBE_MAP, texture);
}

/// Unbinds every texture (2D and cube map) and sampler of units `0..units`.
pub fn unbind_units(gl: &Gl, units: u32) {
    // SAFETY: plain state changes.
    unsafe {
        for unit in 0..units {
            gl.active_texture(glow::TEXTURE0 + unit);
            gl.bind_texture(glow::TEXTURE_2D, None);
            gl.bind_texture(glow::TEXTURE_CUBE_MAP, None);
            gl.bind_sampler(unit, None);
        }
        gl.active_texture(glow::TEXTURE0);
    }
}

/// Whether `side` is within the context's limit `pname` (`GL_MAX_TEXTURE_SIZE`, ...).
fn check_limit(gl: &Gl, side: u32, pname: u32) -> Result<(), GpuError> {
    // SAFETY: a plain query of a limit every 4.5 context has.
    let most = unsafe { gl.get_parameter_i32(pname) }.max(0) as u32;
    if side > most {
        return Err(GpuError::Gl(format!("{side} pixels a side is more than this driver's textures take ({most})")));
    }
    Ok(())
}

fn check_size(width: u32, height: u32, len: usize) -> Result<(), GpuError> {
    let want = u64::from(width) * u64::from(height) * 4;
    if width == 0 || height == 0 || len as u64 != want {
        return Err(GpuError::Gl(format!("{len} bytes for a {width}x{height} RGBA image")));
    }
    Ok(())
}

/// The rows of an RGBA8 image in the other order.
fn flipped(rgba: &[u8], width: u32) -> Vec<u8> {
    let row = width as usize * 4;
    rgba.chunks_exact(row).rev().flatten().copied().collect()
}
