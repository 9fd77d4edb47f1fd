//! The editor overlay's painter: egui's GL painter (egui_glow) behind a small type, so that the GL it issues stays
//! in this crate with the rest.

use crate::{FrameTarget, Gl, GpuError};

pub struct UiPainter {
    painter: egui_glow::Painter,
}

impl UiPainter {
    pub fn new(gl: &Gl) -> Result<UiPainter, GpuError> {
        let painter = egui_glow::Painter::new(gl.clone(), "", None, false)
            .map_err(|e| GpuError::Gl(format!("the editor's painter: {e}")))?;
        Ok(UiPainter { painter })
    }

    /// Paints `primitives` over what `target` holds, after applying `textures` (the deltas of every egui pass
    /// since the last paint, in order).
    pub fn paint(
        &mut self,
        gl: &Gl,
        target: &FrameTarget,
        pixels_per_point: f32,
        primitives: &[egui::ClippedPrimitive],
        textures: &mut egui::TexturesDelta,
    ) {
        target.bind(gl);
        self.painter.paint_and_update_textures([target.width, target.height], pixels_per_point, primitives, textures);
        // The painter leaves blending on; the compositor's blit of the next frame must replace, not blend.
        // SAFETY: a plain state change on the current context.
        unsafe { glow::HasContext::disable(&**gl, glow::BLEND) };
    }

    /// Frees the painter's GL objects; call with its context current.
    pub fn destroy(mut self) {
        self.painter.destroy();
    }
}
