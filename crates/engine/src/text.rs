//! `gfx.text`: lines of text laid out and rasterized by egui's fonts (epaint, with the fonts egui bundles) and
//! drawn by egui's GL painter into the frame or a target. Nothing here rasterizes a glyph itself.

use egui::epaint::text::{FontDefinitions, Fonts, TextOptions, ViewportKey};
use egui::epaint::textures::TexturesDelta;
use egui::epaint::{ClippedShape, Color32, FontId, Pos2, Rect, Shape, TessellationOptions, Tessellator, TextureId};
use std::sync::Arc;

use allsource_gpu::{FrameTarget, Gl, GpuError, UiPainter};
use allsource_lua::TextCall;

/// The bundled fonts and the painter, made at the first text a scene draws (parsing the fonts and compiling the
/// painter's program take milliseconds a scene without text should not pay).
pub struct TextPainter {
    fonts: Fonts,
    painter: UiPainter,
    /// The frame the glyph atlas last began a pass on: once a frame it may be cleared when nearly full.
    frame: Option<u64>,
}

/// egui's proportional font at `size` pixels.
fn font(size: f32) -> FontId {
    FontId::proportional(size)
}

impl TextPainter {
    pub fn new(gl: &Gl) -> Result<TextPainter, GpuError> {
        let fonts = Fonts::new(TextOptions::default(), FontDefinitions::default());
        Ok(TextPainter { fonts, painter: UiPainter::new(gl)?, frame: None })
    }

    /// Starts a frame's layout once per frame (the atlas is cleared when nearly full, the layout cache trimmed).
    fn begin(&mut self, frame: u64) {
        if self.frame != Some(frame) {
            self.frame = Some(frame);
            self.fonts.begin_pass(TextOptions::default(), ViewportKey::default());
        }
    }

    /// The width in pixels of `text` at `size` pixels (its widest line).
    pub fn width(&mut self, frame: u64, text: &str, size: f32) -> f32 {
        self.begin(frame);
        let galley = self.fonts.with_pixels_per_point(1.0).layout_no_wrap(text.to_owned(), font(size), Color32::WHITE);
        galley.size().x
    }

    /// Draws the call's text into `target` (its own target was resolved by the caller) with its top-left corner at
    /// `x`, `y` (pixels from the target's top-left), in its colour (straight RGBA from 0 to 1, blended over what the
    /// target holds). Returns its width in pixels.
    pub fn draw(&mut self, gl: &Gl, frame: u64, target: &FrameTarget, call: &TextCall) -> f32 {
        self.begin(frame);
        let [r, g, b, a] = call.colour.map(|c| (c.clamp(0.0, 1.0) * 255.0).round() as u8);
        let colour = Color32::from_rgba_unmultiplied(r, g, b, a);
        let galley = self.fonts.with_pixels_per_point(1.0).layout_no_wrap(call.text.clone(), font(call.size), colour);
        let width = galley.size().x;
        let shape = Shape::galley(Pos2::new(call.x, call.y), Arc::clone(&galley), colour);
        let atlas = self.fonts.texture_atlas();
        let mut tessellator =
            Tessellator::new(1.0, TessellationOptions::default(), atlas.size(), atlas.prepared_discs());
        let primitives = tessellator.tessellate_shapes(vec![ClippedShape {
            clip_rect: Rect::EVERYTHING,
            shape,
            transform_after_tessellation: Default::default(),
        }]);
        // New glyphs reach the painter's copy of the atlas before the text that uses them.
        let mut textures = TexturesDelta::default();
        if let Some(delta) = self.fonts.font_image_delta() {
            textures.push(TextureId::default(), delta);
        }
        self.painter.paint(gl, target, 1.0, &primitives, &mut textures);
        width
    }

    /// Frees the painter's GL objects; call with the context current.
    pub fn destroy(self) {
        self.painter.destroy();
    }
}
