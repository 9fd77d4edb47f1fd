//! Which parts of the editor's layer the editor drew in: the tiles under a visible triangle of egui's meshes. The
//! compositor blends the layer over those tiles only and leaves the rest of the frame as the worker drew it (on
//! llvmpipe a blend costs the fragment pipeline on every pixel it covers, drawn in or not).

use egui::epaint::{ClippedPrimitive, Primitive};
use egui::{Pos2, Rect};

/// The side of a tile in pixels: small enough that the space between lines of text and beside short lines is
/// left out, large enough that a screen of text is a few hundred rectangles.
pub const TILE: u32 = 8;

/// The tiles of a layer of `size` pixels that `primitives` (in points, `pixels_per_point` pixels each) may draw in,
/// as rectangles `[x, y, width, height]` in pixels from the bottom-left: the neighbouring tiles of a row are one
/// rectangle, and it grows down through the rows below that have the same run. Conservative: a triangle's bounding
/// box inside its clip rectangle counts, whole; only triangles that are transparent at every corner (premultiplied
/// colour, so transparent everywhere) are left out.
pub fn covered(primitives: &[ClippedPrimitive], pixels_per_point: f32, size: (u32, u32)) -> Vec<[i32; 4]> {
    let (cols, rows) = (size.0.div_ceil(TILE) as usize, size.1.div_ceil(TILE) as usize);
    let mut marked = vec![false; cols * rows];
    let scale = |r: Rect| Rect::from_min_max(r.min * pixels_per_point, r.max * pixels_per_point);
    let mut mark = |r: Rect| {
        // Tiles counted from the top-left, as egui places things.
        let tile = TILE as f32;
        let span = |min: f32, max: f32, n: usize| {
            let first = (min.max(0.0) / tile).floor() as usize;
            let end = ((max.max(0.0) / tile).ceil() as usize).min(n);
            first..end
        };
        if !(r.min.x < r.max.x && r.min.y < r.max.y) {
            return;
        }
        for y in span(r.min.y, r.max.y, rows) {
            for x in span(r.min.x, r.max.x, cols) {
                marked[y * cols + x] = true;
            }
        }
    };
    for p in primitives {
        let clip = scale(p.clip_rect);
        match &p.primitive {
            Primitive::Mesh(mesh) => {
                for triangle in mesh.indices.chunks_exact(3) {
                    let corners = triangle.iter().filter_map(|&i| mesh.vertices.get(i as usize));
                    let (mut bounds, mut visible) = (Rect::NOTHING, false);
                    for v in corners {
                        bounds.extend_with(Pos2::new(v.pos.x, v.pos.y));
                        visible |= v.color.a() > 0;
                    }
                    if visible {
                        mark(scale(bounds).intersect(clip));
                    }
                }
            }
            Primitive::Callback(callback) => mark(scale(callback.rect).intersect(clip)),
        }
    }
    // Runs of marked tiles, row by row from the top; a run with the same columns as one in the row above extends
    // it downwards (fewer, taller rectangles: each costs llvmpipe a triangle setup in every bin it touches).
    let mut done: Vec<[u32; 4]> = Vec::new(); // x, top, width, height: from the top-left
    let mut open: Vec<[u32; 4]> = Vec::new();
    for y in 0..rows {
        let row = &marked[y * cols..(y + 1) * cols];
        let top = y as u32 * TILE;
        let height = TILE.min(size.1 - top);
        let mut next = Vec::new();
        let mut x = 0;
        while x < cols {
            if !row[x] {
                x += 1;
                continue;
            }
            let start = x;
            while x < cols && row[x] {
                x += 1;
            }
            let left = start as u32 * TILE;
            let width = (x as u32 * TILE).min(size.0) - left;
            match open.iter().position(|r| r[0] == left && r[2] == width) {
                Some(i) => {
                    let mut r = open.swap_remove(i);
                    r[3] += height;
                    next.push(r);
                }
                None => next.push([left, top, width, height]),
            }
        }
        done.append(&mut open);
        open = next;
    }
    done.append(&mut open);
    done.sort_by_key(|r| (r[1], r[0]));
    done.iter().map(|&[x, top, w, h]| [x as i32, (size.1 - top - h) as i32, w as i32, h as i32]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::epaint::Mesh;
    use egui::{Color32, Pos2};

    fn quad(min: (f32, f32), max: (f32, f32), colour: Color32, clip: Rect) -> ClippedPrimitive {
        let mut mesh = Mesh::default();
        let rect = Rect::from_min_max(Pos2::new(min.0, min.1), Pos2::new(max.0, max.1));
        mesh.add_colored_rect(rect, colour);
        ClippedPrimitive { clip_rect: clip, primitive: Primitive::Mesh(mesh) }
    }

    const EVERYWHERE: Rect = Rect::EVERYTHING;

    #[test]
    fn a_quad_covers_the_tiles_it_touches_counted_from_the_bottom() {
        // 10..20 x 3..5 in points on a 64 x 32 layer: tiles x 1..3 (8..24 px), row 0 from the top.
        let rects = covered(&[quad((10.0, 3.0), (20.0, 5.0), Color32::WHITE, EVERYWHERE)], 1.0, (64, 32));
        assert_eq!(rects, vec![[8, 24, 16, 8]]);
    }

    #[test]
    fn pixels_per_point_scales_and_the_clip_rectangle_cuts() {
        // At 2 pixels a point, 10..20 points is 20..40 px: tiles 2..5; the clip keeps points up to 12 (24 px).
        let clip = Rect::from_min_max(Pos2::ZERO, Pos2::new(12.0, 100.0));
        let rects = covered(&[quad((10.0, 3.0), (20.0, 3.5), Color32::WHITE, clip)], 2.0, (64, 32));
        assert_eq!(rects, vec![[16, 24, 8, 8]]);
    }

    #[test]
    fn transparent_triangles_cover_nothing_and_edges_are_clamped() {
        let rects = covered(
            &[
                quad((0.0, 0.0), (64.0, 32.0), Color32::TRANSPARENT, EVERYWHERE),
                // Past the right and bottom edges of a 20 x 10 layer: tiles are cut at the edge.
                quad((15.0, 7.0), (90.0, 90.0), Color32::from_black_alpha(10), EVERYWHERE),
            ],
            1.0,
            (20, 10),
        );
        // Columns 8..20 (tiles 1 and 2, the last 4 px wide); rows 0 (top 8 px) and 1 (the bottom 2 px), one
        // rectangle.
        assert_eq!(rects, vec![[8, 0, 12, 10]]);
    }

    #[test]
    fn rows_with_other_runs_start_their_own_rectangles() {
        let rects = covered(
            &[
                quad((0.0, 0.0), (16.0, 20.0), Color32::WHITE, EVERYWHERE),
                quad((0.0, 20.0), (8.0, 24.0), Color32::WHITE, EVERYWHERE),
            ],
            1.0,
            (32, 32),
        );
        // Rows 0-2 (0..24 px from the top) run over tiles 0-1; row 2 also has the second quad, inside that run.
        // Row 3 is empty.
        assert_eq!(rects, vec![[0, 8, 16, 24]]);
        let rects = covered(
            &[
                quad((0.0, 0.0), (16.0, 8.0), Color32::WHITE, EVERYWHERE),
                quad((0.0, 8.0), (8.0, 16.0), Color32::WHITE, EVERYWHERE),
            ],
            1.0,
            (32, 16),
        );
        assert_eq!(rects, vec![[0, 8, 16, 8], [0, 0, 8, 8]]);
    }

    #[test]
    fn separate_runs_in_a_row_stay_separate() {
        let rects = covered(
            &[
                quad((0.0, 0.0), (4.0, 4.0), Color32::WHITE, EVERYWHERE),
                quad((30.0, 0.0), (33.0, 4.0), Color32::WHITE, EVERYWHERE),
            ],
            1.0,
            (48, 8),
        );
        assert_eq!(rects, vec![[0, 0, 8, 8], [24, 0, 16, 8]]);
    }
}
