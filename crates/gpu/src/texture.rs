//! Plain 2D textures made from RGBA float data: sampled, bound as images, or drawn into through a framebuffer of
//! their own (what scripted GL tests, such as piglit's, ask for).

use glow::HasContext;

use crate::{FrameTarget, Gl, GpuError};

pub struct Texture2D {
    raw: glow::NativeTexture,
    framebuffer: Option<glow::NativeFramebuffer>,
    pub width: u32,
    pub height: u32,
}

impl Texture2D {
    /// A `width` x `height` texture of `internal_format` from RGBA floats (row 0 at the bottom), nearest filtering,
    /// clamped to the edge, or to `border` when given.
    pub fn new(
        gl: &Gl,
        width: u32,
        height: u32,
        internal_format: u32,
        rgba: &[f32],
        border: Option<[f32; 4]>,
    ) -> Result<Texture2D, GpuError> {
        let texture = Texture2D::from_levels(gl, internal_format, glow::RGBA, &[(width, height, rgba.to_vec())])?;
        if let Some(colour) = border {
            texture.parameter(gl, glow::TEXTURE_WRAP_S, glow::CLAMP_TO_BORDER as i32);
            texture.parameter(gl, glow::TEXTURE_WRAP_T, glow::CLAMP_TO_BORDER as i32);
            texture.border_colour(gl, colour);
        }
        Ok(texture)
    }

    /// A texture of `internal_format` from levels of float data in `format` (`GL_RGBA`: four per texel;
    /// `GL_DEPTH_COMPONENT`: one), level 0 first, each (width, height, values) with row 0 at the bottom. Nearest
    /// filtering (mipmapped between levels when there are several), clamped to the edge.
    pub fn from_levels(
        gl: &Gl,
        internal_format: u32,
        format: u32,
        levels: &[(u32, u32, Vec<f32>)],
    ) -> Result<Texture2D, GpuError> {
        let per_texel = if format == glow::RGBA { 4 } else { 1 };
        let Some(&(width, height, _)) = levels.first() else {
            return Err(GpuError::Gl("a texture with no level".into()));
        };
        if let Some((w, h, _)) = levels.iter().find(|(w, h, v)| v.len() != (w * h * per_texel) as usize) {
            return Err(GpuError::Gl(format!("wrong number of values for a {w}x{h} level")));
        }
        let min = if levels.len() > 1 { glow::NEAREST_MIPMAP_NEAREST } else { glow::NEAREST };
        // SAFETY: each level's data holds exactly its texels (checked above); errors are GL errors, checked below.
        unsafe {
            while gl.get_error() != glow::NO_ERROR {}
            let raw = gl.create_texture().map_err(GpuError::Gl)?;
            let previous = gl.get_parameter_texture(glow::TEXTURE_BINDING_2D);
            gl.bind_texture(glow::TEXTURE_2D, Some(raw));
            gl.tex_parameter_i32(glow::TEXTURE_2D, glow::TEXTURE_MIN_FILTER, min as i32);
            gl.tex_parameter_i32(glow::TEXTURE_2D, glow::TEXTURE_MAG_FILTER, glow::NEAREST as i32);
            gl.tex_parameter_i32(glow::TEXTURE_2D, glow::TEXTURE_WRAP_S, glow::CLAMP_TO_EDGE as i32);
            gl.tex_parameter_i32(glow::TEXTURE_2D, glow::TEXTURE_WRAP_T, glow::CLAMP_TO_EDGE as i32);
            for (level, (w, h, values)) in levels.iter().enumerate() {
                let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
                gl.tex_image_2d(
                    glow::TEXTURE_2D,
                    level as i32,
                    internal_format as i32,
                    *w as i32,
                    *h as i32,
                    0,
                    format,
                    glow::FLOAT,
                    glow::PixelUnpackData::Slice(Some(&bytes)),
                );
            }
            // What was bound on the active unit stays bound (a unit of a caller).
            gl.bind_texture(glow::TEXTURE_2D, previous);
            let error = gl.get_error();
            if error != glow::NO_ERROR {
                gl.delete_texture(raw);
                return Err(GpuError::Gl(format!("texture format {internal_format:#x} refused (error {error:#x})")));
            }
            Ok(Texture2D { raw, framebuffer: None, width, height })
        }
    }

    /// Sets an integer parameter (`glTexParameteri`): filters, wrap modes. False when GL refused it.
    pub fn parameter(&self, gl: &Gl, pname: u32, value: i32) -> bool {
        // SAFETY: plain state on a live texture (direct state access: no binding changes); a bad enum is a GL
        // error, checked.
        unsafe {
            while gl.get_error() != glow::NO_ERROR {}
            gl.texture_parameter_i32(self.raw, pname, value);
            gl.get_error() == glow::NO_ERROR
        }
    }

    /// Sets a float parameter (`glTexParameterf`): the level-of-detail bias. False when GL refused it.
    pub fn parameter_f32(&self, gl: &Gl, pname: u32, value: f32) -> bool {
        // SAFETY: plain state on a live texture, bound on the active unit for the call and the binding there put
        // back; a bad enum is a GL error, checked.
        unsafe {
            while gl.get_error() != glow::NO_ERROR {}
            let previous = gl.get_parameter_texture(glow::TEXTURE_BINDING_2D);
            gl.bind_texture(glow::TEXTURE_2D, Some(self.raw));
            gl.tex_parameter_f32(glow::TEXTURE_2D, pname, value);
            gl.bind_texture(glow::TEXTURE_2D, previous);
            gl.get_error() == glow::NO_ERROR
        }
    }

    /// Sets the border colour (used with `CLAMP_TO_BORDER`).
    pub fn border_colour(&self, gl: &Gl, rgba: [f32; 4]) {
        // SAFETY: the slice has the four values the parameter takes; the texture is bound on the active unit for the
        // call and what was bound there is put back.
        unsafe {
            let previous = gl.get_parameter_texture(glow::TEXTURE_BINDING_2D);
            gl.bind_texture(glow::TEXTURE_2D, Some(self.raw));
            gl.tex_parameter_f32_slice(glow::TEXTURE_2D, glow::TEXTURE_BORDER_COLOR, &rgba);
            gl.bind_texture(glow::TEXTURE_2D, previous);
        }
    }

    /// Binds it to texture unit `unit` (as `sampler2D` uniforms set to `unit` read it).
    pub fn bind_unit(&self, gl: &Gl, unit: u32) {
        crate::bind_texture(gl, unit, Some(self.raw));
    }

    /// Binds level 0 to image unit `unit` for reading and writing as `format`.
    pub fn bind_image(&self, gl: &Gl, unit: u32, format: u32) {
        // SAFETY: the texture is alive; a format GL refuses is a GL error, not undefined behaviour.
        unsafe { gl.bind_image_texture(unit, Some(self.raw), 0, false, 0, glow::READ_WRITE, format) }
    }

    /// A framebuffer drawing into the texture (made on first use, deleted with it).
    pub fn frame_target(&mut self, gl: &Gl) -> Result<FrameTarget, GpuError> {
        let framebuffer = match self.framebuffer {
            Some(fb) => fb,
            None => {
                // SAFETY: object creation; the status is checked before the framebuffer is used.
                let fb = unsafe {
                    let fb = gl.create_framebuffer().map_err(GpuError::Gl)?;
                    gl.bind_framebuffer(glow::FRAMEBUFFER, Some(fb));
                    gl.framebuffer_texture_2d(
                        glow::FRAMEBUFFER,
                        glow::COLOR_ATTACHMENT0,
                        glow::TEXTURE_2D,
                        Some(self.raw),
                        0,
                    );
                    let status = gl.check_framebuffer_status(glow::FRAMEBUFFER);
                    gl.bind_framebuffer(glow::FRAMEBUFFER, None);
                    if status != glow::FRAMEBUFFER_COMPLETE {
                        gl.delete_framebuffer(fb);
                        return Err(GpuError::Gl(format!("incomplete framebuffer (status {status:#x})")));
                    }
                    fb
                };
                self.framebuffer = Some(fb);
                fb
            }
        };
        Ok(FrameTarget { framebuffer: Some(framebuffer), width: self.width, height: self.height })
    }

    pub fn delete(self, gl: &Gl) {
        // SAFETY: consuming `self` deletes each object once.
        unsafe {
            if let Some(fb) = self.framebuffer {
                gl.delete_framebuffer(fb);
            }
            gl.delete_texture(self.raw);
        }
    }
}
