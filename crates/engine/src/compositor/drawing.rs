//! What the compositor draws each frame: the newest finished worker frame, the preview panel, the editor and its
//! error strip, and the stats bars.

use super::*;
use crate::overlay::UiLayer;

/// Bar colours of the stats overlay: Lua's own time, then that time by module (the four largest, in turn), then GPU
/// time per module in turn.
const LUA_BAR: [f32; 4] = [0.95, 0.8, 0.2, 1.0];
const LUA_MODULE_BARS: [[f32; 4]; 2] = [[0.95, 0.55, 0.15, 1.0], [0.8, 0.65, 0.35, 1.0]];
const GPU_BARS: [[f32; 4]; 3] = [[0.2, 0.8, 0.95, 1.0], [0.6, 0.5, 0.95, 1.0], [0.3, 0.9, 0.5, 1.0]];
const BUDGET_TICK: [f32; 4] = [1.0, 1.0, 1.0, 1.0];
/// The preview's panel once it was stopped.
pub(super) const PREVIEW_STOPPED: [f32; 4] = [0.35, 0.08, 0.08, 1.0];

impl Compositor {
    /// Puts `frame` on screen and gives the previous one back to the worker, once this context has finished
    /// sampling it.
    pub(super) fn show(&mut self, frame: WorkerFrame) {
        self.status.shown = Some(frame.index);
        self.status.shown_version = frame.version;
        self.status.worker_frames_shown += 1;
        self.status.shown_submitted = Some(frame.submitted);
        let orphan = std::mem::take(&mut self.orphan);
        if let Some(mut previous) = self.shown.replace(frame) {
            if orphan {
                // From the worker given up: nothing to hand back (a process's textures go now).
                previous.forget_fence(&self.gl);
                for target in self.retired.drain(..) {
                    target.delete(&self.gl);
                }
                return;
            }
            let after = match Fence::insert(&self.gl) {
                Ok(fence) => Some(fence),
                Err(e) => {
                    // Without a fence, the GPU must be done with the texture before the worker may reuse it.
                    tracing::warn!("{e}; finishing the GL queue instead");
                    allsource_gpu::finish(&self.gl);
                    None
                }
            };
            self.release(previous, after);
        }
    }

    pub(super) fn draw(&mut self, target: &FrameTarget) {
        self.status.composed += 1;
        DrawState::default().apply(&self.gl);
        match &self.shown {
            Some(frame) => {
                let full = [0, 0, target.width as i32, target.height as i32];
                self.blit_into(target, frame.texture, (frame.width, frame.height), full, frame.own);
            }
            None => target.clear(&self.gl, WAITING_COLOUR, None),
        }
        self.draw_overlay(target);
        // Painting the editor's layer (when a pass ran) draws into its own canvas only.
        let layer = match self.overlay.paint(&self.gl, target) {
            Ok(layer) => layer,
            Err(e) => {
                say(&self.overlay.editor.log, Level::Error, format!("the editor could not be drawn: {e}; hiding it"));
                self.overlay.editor.visible = false;
                None
            }
        };
        match layer {
            None => {}
            Some(UiLayer::Over { texture, tiles, opaque }) => {
                // Where the editor painted opaque (its panels), its pixels replace the frame's: a copy. Where the
                // target cannot be blitted into, those tiles are blended as well.
                let copied = opaque.is_empty() || self.blitter.copy_regions(&self.gl, texture, target, opaque.rects());
                DrawState { depth: false, blend: Blend::Premultiplied }.apply(&self.gl);
                target.bind(&self.gl);
                self.layer_blit.use_program(&self.gl);
                self.triangle.bind_texture(&self.gl, texture);
                Sampler::bind(&self.gl, 0, Some(&self.nearest));
                tiles.draw(&self.gl);
                if !copied {
                    opaque.draw(&self.gl);
                }
                Sampler::bind(&self.gl, 0, None);
                self.triangle.unbind_texture(&self.gl);
                DrawState::default().apply(&self.gl);
            }
            Some(UiLayer::Panel { texture, rect, size }) => self.blit_into(target, texture, size, rect, true),
        }
        self.draw_preview(target);
    }

    /// Copies `texture` (`size` texels) onto the `rect` of `target` (pixels from the bottom-left): a blit when the
    /// texture is this context's `own` (on llvmpipe a copy, where a draw shades every pixel), else, or where the
    /// target cannot be blitted into, a textured draw.
    pub(super) fn blit_into(
        &self,
        target: &FrameTarget,
        texture: glow::NativeTexture,
        size: (u32, u32),
        rect: [i32; 4],
        own: bool,
    ) {
        if own && self.blitter.copy(&self.gl, texture, size, target, rect) {
            return;
        }
        target.bind_rect(&self.gl, rect);
        self.blit.use_program(&self.gl);
        self.triangle.bind_texture(&self.gl, texture);
        self.triangle.draw(&self.gl);
        self.triangle.unbind_texture(&self.gl);
    }

    /// The compositor's own layer, drawn over the scene: for now a strip along the top edge that says the scene's
    /// newest source failed to build (red) or its worker died (magenta). The editor overlay will draw here.
    pub(super) fn draw_overlay(&self, target: &FrameTarget) {
        if self.options.stats_overlay {
            self.draw_stats(target);
        }
        let colour = if self.status.worker_died.is_some() {
            WORKER_DIED_COLOUR
        } else if self.status.failing {
            BUILD_ERROR_COLOUR
        } else {
            return;
        };
        let (w, h) = (target.width as i32, target.height as i32);
        target.clear(&self.gl, colour, Some([0, h - STRIP_HEIGHT, w, STRIP_HEIGHT]));
    }

    /// The frame's times as bars along the bottom-left corner: Lua's own time (yellow), that time by module (the
    /// four largest, orange shades in turn), then GPU time per module (blue, violet, green in turn), scaled so that
    /// the white tick is one frame period.
    pub(super) fn draw_stats(&self, target: &FrameTarget) {
        let Some(stats) = self.shown.as_ref().and_then(|f| f.stats.as_ref()) else { return };
        let (bar, gap, x0, period_px) = (6, 2, 4, (target.width as f32 / 4.0).max(8.0));
        let width = |ms: f32| ((ms / stats.budget_ms.max(0.001)) * period_px).clamp(1.0, 2.0 * period_px) as i32;
        let bars = std::iter::once((stats.lua_ms, LUA_BAR))
            .chain(stats.lua_by_module.iter().take(4).enumerate().map(|(i, (_, ms))| (*ms, LUA_MODULE_BARS[i % 2])))
            .chain(stats.gpu_ms.iter().enumerate().map(|(i, (_, ms))| (*ms, GPU_BARS[i % GPU_BARS.len()])));
        for (row, (ms, colour)) in bars.enumerate() {
            let y = 4 + row as i32 * (bar + gap);
            target.clear(&self.gl, colour, Some([x0, y, width(ms), bar]));
            target.clear(&self.gl, BUDGET_TICK, Some([x0 + period_px as i32, y, 1, bar]));
        }
    }
}
