//! Textures: `texture rgbw` / `checkerboard`, `texparameter`, image units, and drawing into a texture (`fb tex 2d`).

use std::collections::HashMap;

use allsource_gpu::{Texture2D, glow};

use super::commands::Line;
use super::words::{floats, image_format, numbers, parse_u32};
use super::{Run, Step};

/// Compatibility-profile enums glow does not name: how a depth texture reads as a colour.
const DEPTH_TEXTURE_MODE: u32 = 0x884B;
const LUMINANCE: u32 = 0x1909;
const INTENSITY: u32 = 0x8049;

/// A texture's size from a test line: whole texels, at most 16384 a side (what GL 4.5 guarantees), so that a
/// mistaken line fails instead of filling the memory.
fn texture_size(w: f32, h: f32, line: &str) -> Result<(u32, u32), Step> {
    let side = |v: f32| ((1.0..=16384.0).contains(&v) && v.fract() == 0.0).then_some(v as u32);
    match (side(w), side(h)) {
        (Some(w), Some(h)) => Ok((w, h)),
        _ => Err(Step::Fail(format!("`{line}`: a texture is 1 to 16384 texels a side"))),
    }
}

impl Run<'_> {
    /// `texture ...`, `texparameter ...`, `image texture ...`, `fb tex 2d ...`.
    pub(super) fn texture_command(&mut self, command: &Line) -> Result<(), Step> {
        let gl = self.gl;
        let (line, words) = (command.text, command.words.as_slice());
        let rest_after = |n: usize| command.rest_after(n);
        match words {
            ["texture", "rgbw", unit, ..] => {
                let unit = parse_u32(unit, line)?;
                let words = numbers(rest_after(3));
                let size: Vec<f32> = words.iter().take(2).filter_map(|w| w.parse().ok()).collect();
                let [w, h] = size[..] else { return Err(Step::Fail(format!("bad size in `{line}`"))) };
                let (w, h) = texture_size(w, h, line)?;
                let format = match words.get(2) {
                    Some(name) => image_format(name).ok_or(Step::Unsupported)?,
                    None => glow::RGBA,
                };
                let quadrant = |x: u32, y: u32| match (x < w / 2, y < h / 2) {
                    (true, true) => [1.0, 0.0, 0.0, 1.0],
                    (false, true) => [0.0, 1.0, 0.0, 1.0],
                    (true, false) => [0.0, 0.0, 1.0, 1.0],
                    (false, false) => [1.0, 1.0, 1.0, 1.0],
                };
                let data: Vec<f32> = (0..h).flat_map(|y| (0..w).flat_map(move |x| quadrant(x, y))).collect();
                self.texture(unit, Texture2D::new(gl, w, h, format, &data, None))?;
            }
            // Tiles of `sw` x `sh` texels in four colours by the parity of their column and row, bottom row first
            // (piglit_quads_texture); a checkerboard is two of them in halves of the texture.
            ["texture", kind @ ("checkerboard" | "quads"), unit, level, ..] => {
                let unit = parse_u32(unit, line)?;
                if parse_u32(level, line)? != 0 {
                    return Err(Step::Unsupported);
                }
                let v = floats(rest_after(4), 2).map_err(Step::Fail)?;
                texture_size(v[0], v[1], line)?;
                let (w, h, sw, sh, [bl, br, tl, tr]) = if *kind == "checkerboard" {
                    let v = floats(rest_after(4), 10).map_err(Step::Fail)?;
                    let (black, white) = ([v[2], v[3], v[4], v[5]], [v[6], v[7], v[8], v[9]]);
                    let (w, h) = (v[0] as u32, v[1] as u32);
                    (w, h, w / 2, h / 2, [black, white, white, black])
                } else {
                    let v = floats(rest_after(4), 20).map_err(Step::Fail)?;
                    let colour = |i: usize| [v[i], v[i + 1], v[i + 2], v[i + 3]];
                    (v[0] as u32, v[1] as u32, v[2] as u32, v[3] as u32, [colour(4), colour(8), colour(12), colour(16)])
                };
                let (sw, sh) = (sw.max(1), sh.max(1));
                let texel = |x: u32, y: u32| match ((y / sh) & 1 == 1, (x / sw) & 1 == 1) {
                    (true, true) => tr,
                    (true, false) => tl,
                    (false, true) => br,
                    (false, false) => bl,
                };
                let data: Vec<f32> = (0..h).flat_map(|y| (0..w).flat_map(move |x| texel(x, y))).collect();
                self.texture(unit, Texture2D::new(gl, w, h, glow::RGBA, &data, Some([1.0, 0.0, 0.0, 1.0])))?;
            }
            // A depth ramp from 0 at the left to 1 at the right, compared with GL_GREATER (piglit_depth_texture).
            ["texture", "shadow2D", unit, ..] => {
                let unit = parse_u32(unit, line)?;
                let v = floats(rest_after(3), 2).map_err(Step::Fail)?;
                let (w, h) = texture_size(v[0], v[1], line)?;
                let ramp: Vec<f32> =
                    (0..h).flat_map(|_| (0..w).map(move |x| x as f32 / (w.max(2) - 1) as f32)).collect();
                let made = Texture2D::from_levels(gl, glow::DEPTH_COMPONENT, glow::DEPTH_COMPONENT, &[(w, h, ramp)]);
                self.texture(unit, made)?;
                let texture = Self::texture_at(&self.textures, unit)?;
                texture.parameter(gl, glow::TEXTURE_COMPARE_MODE, glow::COMPARE_REF_TO_TEXTURE as i32);
                texture.parameter(gl, glow::TEXTURE_COMPARE_FUNC, glow::GREATER as i32);
                if self.compatibility {
                    texture.parameter(gl, DEPTH_TEXTURE_MODE, INTENSITY as i32);
                }
            }
            // 8x8 with four levels: red, green, blue, white (piglit_miptree_texture).
            ["texture", "miptree", unit] => {
                let unit = parse_u32(unit, line)?;
                let wheel = [[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0], [1.0; 4]];
                let levels: Vec<(u32, u32, Vec<f32>)> = (0..4)
                    .map(|level| {
                        let size = 8u32 >> level;
                        (size, size, (0..size * size).flat_map(|_| wheel[level]).collect())
                    })
                    .collect();
                self.texture(unit, Texture2D::from_levels(gl, glow::RGBA, glow::RGBA, &levels))?;
            }
            ["texparameter", "2D", "border_color", ..] => {
                let v = floats(rest_after(3), 4).map_err(Step::Fail)?;
                let unit = self.last_texture.ok_or_else(|| Step::Fail("texparameter with no texture".into()))?;
                let texture = Self::texture_at(&self.textures, unit)?;
                texture.border_colour(gl, [v[0], v[1], v[2], v[3]]);
            }
            ["texparameter", "2D", name, value] => {
                let pname = match *name {
                    "min" => glow::TEXTURE_MIN_FILTER,
                    "mag" => glow::TEXTURE_MAG_FILTER,
                    "wrap_s" => glow::TEXTURE_WRAP_S,
                    "wrap_t" => glow::TEXTURE_WRAP_T,
                    "compare_func" => glow::TEXTURE_COMPARE_FUNC,
                    "depth_mode" if self.compatibility => DEPTH_TEXTURE_MODE,
                    "base_level" => glow::TEXTURE_BASE_LEVEL,
                    "max_level" => glow::TEXTURE_MAX_LEVEL,
                    "lod_bias" => {
                        let bias = value.parse::<f32>().map_err(|_| Step::Fail(format!("bad `{line}`")))?;
                        let unit =
                            self.last_texture.ok_or_else(|| Step::Fail("texparameter with no texture".into()))?;
                        if !Self::texture_at(&self.textures, unit)?.parameter_f32(gl, glow::TEXTURE_LOD_BIAS, bias) {
                            return Err(Step::Fail(format!("GL refused `{line}`")));
                        }
                        return Ok(());
                    }
                    _ => return Err(Step::Unsupported),
                };
                let value = match *value {
                    number if number.parse::<i32>().is_ok() => number.parse::<i32>().unwrap_or(0) as u32,
                    "nearest" => glow::NEAREST,
                    "linear" => glow::LINEAR,
                    "nearest_mipmap_nearest" => glow::NEAREST_MIPMAP_NEAREST,
                    "nearest_mipmap_linear" => glow::NEAREST_MIPMAP_LINEAR,
                    "linear_mipmap_nearest" => glow::LINEAR_MIPMAP_NEAREST,
                    "linear_mipmap_linear" => glow::LINEAR_MIPMAP_LINEAR,
                    "never" => glow::NEVER,
                    "always" => glow::ALWAYS,
                    "less" => glow::LESS,
                    "lequal" => glow::LEQUAL,
                    "greater" => glow::GREATER,
                    "gequal" => glow::GEQUAL,
                    "equal" => glow::EQUAL,
                    "notequal" => glow::NOTEQUAL,
                    "red" => glow::RED,
                    "luminance" => LUMINANCE,
                    "intensity" => INTENSITY,
                    "alpha" => glow::ALPHA,
                    "clamp_to_edge" => glow::CLAMP_TO_EDGE,
                    "clamp_to_border" => glow::CLAMP_TO_BORDER,
                    "repeat" => glow::REPEAT,
                    "mirrored_repeat" => glow::MIRRORED_REPEAT,
                    _ => return Err(Step::Unsupported),
                };
                // As shader_runner: the texture bound last (texture commands make their unit the active one).
                let unit = self.last_texture.ok_or_else(|| Step::Fail("texparameter with no texture".into()))?;
                if !Self::texture_at(&self.textures, unit)?.parameter(gl, pname, value as i32) {
                    return Err(Step::Fail(format!("GL refused `{line}`")));
                }
            }
            ["image", "texture", unit, format] => {
                let unit = parse_u32(unit, line)?;
                let format = image_format(format).ok_or(Step::Unsupported)?;
                Self::texture_at(&self.textures, unit)?.bind_image(gl, unit, format);
            }
            ["fb", "tex", "2d", unit] => {
                let unit = parse_u32(unit, line)?;
                let texture = self.textures.get_mut(&unit).ok_or_else(|| Step::Fail(format!("no texture {unit}")))?;
                self.frame = texture.frame_target(gl).map_err(|e| Step::Fail(e.to_string()))?;
                self.frame.bind(gl);
                self.drew();
            }
            _ => return Err(Step::Unsupported),
        }
        Ok(())
    }

    fn texture(&mut self, unit: u32, made: Result<Texture2D, allsource_gpu::GpuError>) -> Result<(), Step> {
        let texture = made.map_err(|e| Step::Fail(e.to_string()))?;
        texture.bind_unit(self.gl, unit);
        self.last_texture = Some(unit);
        if let Some(old) = self.textures.insert(unit, texture) {
            old.delete(self.gl);
        }
        Ok(())
    }

    fn texture_at(textures: &HashMap<u32, Texture2D>, unit: u32) -> Result<&Texture2D, Step> {
        textures.get(&unit).ok_or_else(|| Step::Fail(format!("no texture {unit} was made")))
    }
}
