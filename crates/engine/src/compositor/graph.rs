//! The preview's frame-time graph: Lua time per guest frame as bars against the budget, drawn into pixels on the
//! CPU when the samples change and uploaded then, so that a frame draws it with one copy. A scissored clear per
//! bar cost llvmpipe a draw each: 2-4 ms of the compositor's frame for a full graph, the largest part of what a
//! preview cost the scene's frame times.

use std::collections::VecDeque;

use allsource_gpu::{Gl, Target, glow};

/// The graph's height in pixels.
pub(super) const GRAPH_HEIGHT: u32 = 24;
/// Bars are at most as narrow as 60 fit across the graph.
const MIN_BARS: usize = 60;
const BACKGROUND: [u8; 4] = [0, 0, 0, 255];
/// A guest frame within its budget, and over it.
const WITHIN: [u8; 4] = [77, 230, 102, 255];
const OVER: [u8; 4] = [242, 64, 51, 255];
const TICK: [u8; 4] = [255, 255, 255, 255];

/// The graph as RGBA8 pixels, `width` x [`GRAPH_HEIGHT`], bottom row first: a bar per sample, newest at the right,
/// its height the sample's share of twice the budget (at least a pixel), green within the budget and red over it;
/// a white line at the budget, half-way up.
fn graph_pixels(lua_ms: &[f32], budget_ms: f32, width: u32) -> Vec<u8> {
    let (w, h) = (width as usize, GRAPH_HEIGHT as usize);
    let mut pixels = BACKGROUND.repeat(w * h);
    let budget = budget_ms.max(0.001);
    let n = lua_ms.len();
    let bar_w = (w / n.max(MIN_BARS)).max(1);
    for (i, ms) in lua_ms.iter().enumerate() {
        // Bars that do not fit on the left are left out, as the oldest.
        let Some(x0) = w.checked_sub((n - i) * bar_w) else { continue };
        let bar_h = ((ms / (2.0 * budget)).min(1.0) * h as f32).max(1.0) as usize;
        let colour = if *ms <= budget_ms { WITHIN } else { OVER };
        for y in 0..bar_h.min(h) {
            let row = y * w;
            for x in x0..x0 + bar_w {
                pixels[(row + x) * 4..][..4].copy_from_slice(&colour);
            }
        }
    }
    let tick = h / 2 * w;
    for x in 0..w {
        pixels[(tick + x) * 4..][..4].copy_from_slice(&TICK);
    }
    pixels
}

/// Two textures of the graph, written in turn: an upload never waits for the copy still reading the other.
#[derive(Default)]
pub(super) struct GraphTexture {
    targets: Vec<Target>,
    /// The samples and budget the newest texture was drawn from.
    drawn: Option<(Vec<f32>, f32)>,
    newest: usize,
}

impl GraphTexture {
    /// The texture holding the graph of `lua_ms` against `budget_ms`, `width` x [`GRAPH_HEIGHT`]: drawn and uploaded
    /// only when they differ from the last; `None` when no texture could be made.
    pub(super) fn texture(
        &mut self,
        gl: &Gl,
        lua_ms: &VecDeque<f32>,
        budget_ms: f32,
        width: u32,
    ) -> Option<glow::NativeTexture> {
        if self.targets.first().is_some_and(|t| t.width != width) {
            self.free(gl);
        }
        if self.targets.is_empty() {
            for _ in 0..2 {
                match Target::new(gl, width, GRAPH_HEIGHT) {
                    Ok(target) => self.targets.push(target),
                    Err(e) => {
                        tracing::warn!("no texture for the preview's graph: {e}");
                        self.free(gl);
                        return None;
                    }
                }
            }
        }
        let unchanged = self.drawn.as_ref().is_some_and(|(s, b)| *b == budget_ms && s.iter().eq(lua_ms.iter()));
        if !unchanged {
            let samples: Vec<f32> = lua_ms.iter().copied().collect();
            self.newest = (self.newest + 1) % self.targets.len();
            self.targets[self.newest].upload_rgba8(gl, width, GRAPH_HEIGHT, &graph_pixels(&samples, budget_ms, width));
            self.drawn = Some((samples, budget_ms));
        }
        Some(self.targets[self.newest].texture)
    }

    pub(super) fn free(&mut self, gl: &Gl) {
        for target in self.targets.drain(..) {
            target.delete(gl);
        }
        self.drawn = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(pixels: &[u8], width: u32, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * width + x) * 4) as usize;
        pixels[i..i + 4].try_into().unwrap()
    }

    #[test]
    fn bars_stand_on_the_bottom_row_newest_at_the_right_red_over_the_budget() {
        // 120 pixels, 60 bars at most across: two pixels a bar. 8 ms of a 16 ms budget is a quarter of the height.
        let pixels = graph_pixels(&[8.0, 32.0], 16.0, 120);
        assert_eq!(pixels.len(), 120 * GRAPH_HEIGHT as usize * 4);
        // The newest (over budget, twice the budget or more: full height) in the last two columns.
        for x in [118, 119] {
            assert_eq!(at(&pixels, 120, x, 0), OVER);
            assert_eq!(at(&pixels, 120, x, GRAPH_HEIGHT - 1), OVER);
        }
        // The older one (within: a quarter, 6 rows) just left of it.
        for x in [116, 117] {
            assert_eq!(at(&pixels, 120, x, 0), WITHIN);
            assert_eq!(at(&pixels, 120, x, 5), WITHIN);
            assert_eq!(at(&pixels, 120, x, 6), BACKGROUND);
        }
        assert_eq!(at(&pixels, 120, 115, 0), BACKGROUND);
        // The budget line half-way up, across the whole graph, over the bars.
        for x in [0, 117, 119] {
            assert_eq!(at(&pixels, 120, x, GRAPH_HEIGHT / 2), TICK);
        }
    }

    #[test]
    fn a_zero_sample_still_shows_and_the_oldest_bars_that_do_not_fit_are_left_out() {
        let pixels = graph_pixels(&[0.0], 16.0, 10);
        assert_eq!(at(&pixels, 10, 9, 0), WITHIN);
        assert_eq!(at(&pixels, 10, 9, 1), BACKGROUND);
        // 12 samples in 10 pixels, one pixel a bar: the two oldest (over budget) are not drawn.
        let mut samples = vec![40.0, 40.0];
        samples.extend([1.0; 10]);
        let pixels = graph_pixels(&samples, 16.0, 10);
        assert!((0..10).all(|x| at(&pixels, 10, x, 0) == WITHIN));
    }
}
