//! Draws a shader scene: the main shader full screen (or as its `#pragma draw` says), with the uniforms the engine
//! sets, Shadertoy's among them.

use std::path::PathBuf;

use allsource_gpu::{FrameTarget, FullscreenTriangle, GpuError};
use allsource_gpu::{Gl, bind_texture, glow, patch_vertices};
use allsource_shader::Primitive;

use crate::shader::LiveShader;

use super::FrameClock;

/// Draws the scene's main shader: full screen when it has no vertex stage of its own, else as its `#pragma draw`
/// says.
///
/// Uniforms it provides when the shader declares them: `float u_time` (seconds), `vec2 u_resolution` (pixels),
/// `int u_frame`, `float u_fps`, and `sampler2D u_previous`, the scene's previous frame (black at first). In
/// Shadertoy mode: `iTime`, `iTimeDelta`, `iFrame`, `iFrameRate`, `iResolution`, `iMouse` (from the pointer over the
/// scene, with Shadertoy's signs), `iDate`, `iSampleRate`, and `iChannel0` = the previous frame (feedback, like a
/// buffer reading itself).
pub(super) struct ShaderRenderer {
    pub(super) shader: LiveShader,
    pub(super) triangle: FullscreenTriangle,
    pub(super) pointer: Pointer,
}

/// Uniforms a shader scene's renderer sets every frame: not for the tweak bar.
pub(super) const ENGINE_UNIFORMS: &[&str] = &[
    "u_time",
    "u_resolution",
    "u_frame",
    "u_fps",
    "u_previous",
    "iResolution",
    "iTime",
    "iTimeDelta",
    "iFrameRate",
    "iFrame",
    "iMouse",
    "iDate",
    "iSampleRate",
    "iChannel0",
    "iChannelResolution",
];

/// What a frame shows while a scene has no program that ever built.
pub(super) const NO_PROGRAM_COLOUR: [f32; 4] = [0.12, 0.12, 0.14, 1.0];

/// The pointer as Shadertoy's `iMouse` reports it.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Pointer {
    /// Where it is (pixels from the frame's top-left).
    at: (f32, f32),
    /// Where it was while the button was last down: `iMouse.xy`.
    dragged: (f32, f32),
    /// Where the button last went down: `iMouse.zw`. None before the first click: `iMouse` is zero, as on Shadertoy.
    click: Option<(f32, f32)>,
    down: bool,
    /// The button went down since the last frame drawn.
    clicked: bool,
}

impl Pointer {
    pub(super) fn moved(&mut self, x: f32, y: f32) {
        self.at = (x, y);
        if self.down {
            self.dragged = self.at;
        }
    }

    /// The click's frame has been drawn: `iMouse.w` turns negative.
    pub(super) fn frame_drawn(&mut self) {
        self.clicked = false;
    }

    pub(super) fn button(&mut self, down: bool) {
        if down && !self.down {
            (self.click, self.dragged, self.clicked) = (Some(self.at), self.at, true);
        }
        self.down = down;
    }

    /// Shadertoy's `iMouse` in a frame `height` pixels high (origin at the bottom-left): xy where the pointer was while
    /// the button was last down; zw where it went down, z negative once it is up, w negative after the click's
    /// frame.
    fn shadertoy(&self, height: f32) -> [f32; 4] {
        let Some(click) = self.click else { return [0.0; 4] };
        let flip = |(x, y): (f32, f32)| (x, height - y);
        let ((x, y), (cx, cy)) = (flip(self.dragged), flip(click));
        let z = if self.down { cx } else { -cx };
        let w = if self.clicked { cy } else { -cy };
        [x, y, z, w]
    }
}

impl ShaderRenderer {
    pub(super) fn new(gl: &Gl, path: PathBuf) -> Result<ShaderRenderer, GpuError> {
        Ok(ShaderRenderer {
            shader: LiveShader::new(path),
            triangle: FullscreenTriangle::new(gl)?,
            pointer: Pointer::default(),
        })
    }

    /// The live shader for `path`, if this scene has one.
    pub(super) fn shader_for(&mut self, path: &std::path::Path) -> Option<&mut LiveShader> {
        allsource_live::same_file(self.shader.path(), path).then_some(&mut self.shader)
    }

    pub(super) fn draw(
        &self,
        gl: &Gl,
        target: &FrameTarget,
        clock: &FrameClock,
        previous: Option<(glow::NativeTexture, u32, u32)>,
    ) {
        target.bind(gl);
        let Some(linked) = self.shader.linked().filter(|l| !l.compute) else {
            target.clear(gl, NO_PROGRAM_COLOUR, None);
            return;
        };
        let p = &linked.program;
        let (w, h) = (target.width as f32, target.height as f32);
        p.use_program(gl);
        bind_texture(gl, 0, previous.map(|(t, _, _)| t));
        if linked.shadertoy {
            p.set_vec(gl, "iResolution", &[w, h, 1.0]);
            p.set_f32(gl, "iTime", clock.time as f32);
            p.set_f32(gl, "iTimeDelta", clock.delta as f32);
            p.set_f32(gl, "iFrameRate", clock.fps as f32);
            p.set_i32(gl, "iFrame", clock.index as i32);
            p.set_vec(gl, "iMouse", &self.pointer.shadertoy(h));
            p.set_vec(gl, "iDate", &shadertoy_date(clock));
            // Shadertoy's sound output rate (allsource plays no sound: the value shaders compute with).
            p.set_f32(gl, "iSampleRate", 44100.0);
            p.set_i32(gl, "iChannel0", 0);
            let (pw, ph) = previous.map_or((w, h), |(_, pw, ph)| (pw as f32, ph as f32));
            p.set_f32_array(gl, "iChannelResolution", 3, &[pw, ph, 1.0]);
        } else {
            p.set_f32(gl, "u_time", clock.time as f32);
            p.set_vec(gl, "u_resolution", &[w, h]);
            p.set_i32(gl, "u_frame", clock.index as i32);
            p.set_f32(gl, "u_fps", clock.fps as f32);
            p.set_i32(gl, "u_previous", 0);
        }
        if linked.builtin_vertex {
            self.triangle.draw(gl);
        } else {
            let d = linked.draw;
            if d.mode == Primitive::Patches {
                patch_vertices(gl, d.patch as i32);
            }
            self.triangle.draw_arrays(gl, d.mode, d.count as i32, d.instances as i32);
        }
        bind_texture(gl, 0, None);
    }

    pub(super) fn free(&mut self, gl: &Gl) {
        self.shader.free(gl);
        // The triangle's VAO is per context and dies with the worker's context.
    }
}

/// Shadertoy's iDate: year, month (0-based), day, seconds since midnight. In lockstep mode the date is fixed
/// (1 January 2026 at midnight, plus the scene time) so that output stays deterministic.
pub(super) fn shadertoy_date(clock: &FrameClock) -> [f32; 4] {
    let seconds = if clock.lockstep {
        1_767_225_600.0 + clock.time
    } else {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
    };
    let days = (seconds / 86_400.0).floor() as i64;
    let (year, month, day) = civil_from_days(days);
    [year as f32, (month - 1) as f32, day as f32, (seconds - days as f64 * 86_400.0) as f32]
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31): Howard Hinnant's civil_from_days.
pub(super) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates_from_day_numbers() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(super::civil_from_days(20_513), (2026, 3, 1));
    }
}
