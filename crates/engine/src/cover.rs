//! Which parts of the editor's layer the editor drew in, and which of those it covered opaquely: tiles under a
//! visible triangle of egui's meshes, and tiles inside an opaque solid rectangle (a panel's fill). The compositor
//! copies the opaque tiles in with a blit, blends the layer over the other drawn tiles, and leaves the rest of the
//! frame as the worker drew it (on llvmpipe a blend costs the fragment pipeline on every pixel it covers, drawn in
//! or not; a blit is a copy).

use egui::epaint::{ClippedPrimitive, Mesh, Primitive, WHITE_UV};
use egui::{Pos2, Rect, TextureId};

/// The side of a tile in pixels: small enough that the space between lines of text and beside short lines is
/// left out, large enough that a screen of text is a few hundred rectangles.
pub const TILE: u32 = 8;

/// The tiles of a layer, as rectangles `[x, y, width, height]` in pixels from the bottom-left: the neighbouring
/// tiles of a row are one rectangle, and it grows down through the rows below that have the same run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cover {
    /// Drawn in, not opaque everywhere: the layer is blended over these.
    pub blended: Vec<[i32; 4]>,
    /// Every pixel opaque (alpha 1): the layer's pixels replace the frame's.
    pub opaque: Vec<[i32; 4]>,
}

impl Cover {
    /// The share of a layer of `size` pixels that `rects` cover, 0 to 1.
    pub fn share(rects: &[[i32; 4]], size: (u32, u32)) -> f64 {
        let pixels: i64 = rects.iter().map(|r| i64::from(r[2]) * i64::from(r[3])).sum();
        pixels as f64 / (f64::from(size.0) * f64::from(size.1)).max(1.0)
    }
}

/// The cover of a layer of `size` pixels that `primitives` (in points, `pixels_per_point` pixels each) paint.
/// Drawn tiles are conservative: a triangle's bounding box inside its clip rectangle counts, whole; only triangles
/// that are transparent at every corner (premultiplied colour, so transparent everywhere) are left out. Opaque
/// tiles are exact: a tile counts only when it lies inside one axis-aligned rectangle filled with an opaque solid
/// colour (two triangles of the white texel, opaque at every corner, sharing a diagonal), inside its clip.
/// Whatever is painted later over an opaque pixel leaves it opaque ("over" keeps alpha 1), and the layer starts
/// transparent, so nothing else makes such a tile less than opaque.
pub fn covered(primitives: &[ClippedPrimitive], pixels_per_point: f32, size: (u32, u32)) -> Cover {
    let grid = Grid { cols: size.0.div_ceil(TILE) as usize, rows: size.1.div_ceil(TILE) as usize, size };
    let mut drawn = vec![false; grid.cols * grid.rows];
    let mut opaque = vec![false; grid.cols * grid.rows];
    let scale = |r: Rect| Rect::from_min_max(r.min * pixels_per_point, r.max * pixels_per_point);
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
                        grid.mark_touched(&mut drawn, scale(bounds).intersect(clip));
                    }
                }
                for rect in solid_rects(mesh) {
                    grid.mark_inside(&mut opaque, scale(rect).intersect(clip));
                }
            }
            Primitive::Callback(callback) => grid.mark_touched(&mut drawn, scale(callback.rect).intersect(clip)),
        }
    }
    let blended: Vec<bool> = drawn.iter().zip(&opaque).map(|(&d, &o)| d && !o).collect();
    Cover { blended: grid.rects(&blended), opaque: grid.rects(&opaque) }
}

/// The axis-aligned rectangles `mesh` fills with an opaque solid colour: consecutive triangles, each of three
/// corners of the same rectangle, that share its diagonal, every vertex opaque and at the font atlas's white texel
/// (how egui fills a rectangle: its feathered edge, transparent outside, comes as other triangles).
fn solid_rects(mesh: &Mesh) -> Vec<Rect> {
    if mesh.texture_id != TextureId::default() {
        return Vec::new();
    }
    let solid = |t: &[u32]| -> Option<[Pos2; 3]> {
        let mut corners = [Pos2::ZERO; 3];
        for (corner, &i) in corners.iter_mut().zip(t) {
            let v = mesh.vertices.get(i as usize)?;
            if v.color.a() != 255 || v.uv != WHITE_UV {
                return None;
            }
            *corner = v.pos;
        }
        Some(corners)
    };
    let mut found = Vec::new();
    let mut previous: Option<[Pos2; 3]> = None;
    for t in mesh.indices.chunks_exact(3) {
        let current = solid(t);
        if let (Some(a), Some(b)) = (previous, current)
            && let Some(rect) = rectangle_of(a, b)
        {
            found.push(rect);
            previous = None;
            continue;
        }
        previous = current;
    }
    found
}

/// The rectangle two triangles fill together, when each is three corners of one axis-aligned rectangle and the
/// corners they leave out are opposite (they share the diagonal, so between them they cover it).
fn rectangle_of(a: [Pos2; 3], b: [Pos2; 3]) -> Option<Rect> {
    let mut bounds = Rect::NOTHING;
    for p in a.iter().chain(&b) {
        bounds.extend_with(*p);
    }
    if !(bounds.min.x < bounds.max.x && bounds.min.y < bounds.max.y) {
        return None;
    }
    let corners =
        [bounds.min, Pos2::new(bounds.max.x, bounds.min.y), bounds.max, Pos2::new(bounds.min.x, bounds.max.y)];
    // Which corner each triangle leaves out; it must hold the other three exactly.
    let left_out = |t: [Pos2; 3]| -> Option<usize> {
        let mut missing = None;
        for (i, c) in corners.iter().enumerate() {
            if !t.contains(c) {
                if missing.is_some() {
                    return None;
                }
                missing = Some(i);
            }
        }
        missing
    };
    let (ma, mb) = (left_out(a)?, left_out(b)?);
    (ma.abs_diff(mb) == 2).then_some(bounds)
}

/// Tiles of `TILE` pixels over a layer of `size`, counted from the top-left as egui places things.
struct Grid {
    cols: usize,
    rows: usize,
    size: (u32, u32),
}

impl Grid {
    /// Marks the tiles `r` (pixels) touches.
    fn mark_touched(&self, tiles: &mut [bool], r: Rect) {
        let span = |min: f32, max: f32, n: usize, _edge: u32| {
            let first = (min.max(0.0) / TILE as f32).floor() as usize;
            let end = ((max.max(0.0) / TILE as f32).ceil() as usize).min(n);
            first..end
        };
        self.mark(tiles, r, span);
    }

    /// Marks the tiles whose every pixel centre lies inside `r` (pixels; egui insets a filled shape's opaque part
    /// half a pixel from its edge, so the pixels along the edge are opaque), a tile at the layer's edge by its
    /// part inside the layer.
    fn mark_inside(&self, tiles: &mut [bool], r: Rect) {
        let span = |first: f32, last: f32, n: usize, edge: u32| {
            let start = ((first - 0.5).max(0.0) / TILE as f32).ceil() as usize;
            let inside = |i: usize| ((i as u32 + 1) * TILE).min(edge) as f32 - 0.5 <= last;
            start..(start..n).find(|&i| !inside(i)).unwrap_or(n)
        };
        self.mark(tiles, r, span);
    }

    /// Marks the tiles in the columns and rows `span` gives for `r`'s extent along each axis (min, max, the tiles
    /// along it, the layer's pixels along it); nothing for an empty `r`.
    fn mark(&self, tiles: &mut [bool], r: Rect, span: impl Fn(f32, f32, usize, u32) -> std::ops::Range<usize>) {
        if !(r.min.x < r.max.x && r.min.y < r.max.y) {
            return;
        }
        for y in span(r.min.y, r.max.y, self.rows, self.size.1) {
            for x in span(r.min.x, r.max.x, self.cols, self.size.0) {
                tiles[y * self.cols + x] = true;
            }
        }
    }

    /// The marked tiles as rectangles from the bottom-left: runs of a row, extended downwards while the rows below
    /// have a run with the same columns (fewer, taller rectangles: each costs llvmpipe a triangle setup in every
    /// bin it touches).
    fn rects(&self, tiles: &[bool]) -> Vec<[i32; 4]> {
        let (cols, size) = (self.cols, self.size);
        let mut done: Vec<[u32; 4]> = Vec::new(); // x, top, width, height: from the top-left
        let mut open: Vec<[u32; 4]> = Vec::new();
        for y in 0..self.rows {
            let row = &tiles[y * cols..(y + 1) * cols];
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

    /// What is drawn in, from transparent or translucent quads only (nothing opaque).
    fn blended(primitives: &[ClippedPrimitive], pixels_per_point: f32, size: (u32, u32)) -> Vec<[i32; 4]> {
        let cover = covered(primitives, pixels_per_point, size);
        assert_eq!(cover.opaque, Vec::<[i32; 4]>::new());
        cover.blended
    }

    fn translucent() -> Color32 {
        Color32::from_white_alpha(200)
    }

    #[test]
    fn a_quad_covers_the_tiles_it_touches_counted_from_the_bottom() {
        // 10..20 x 3..5 in points on a 64 x 32 layer: tiles x 1..3 (8..24 px), row 0 from the top.
        let rects = blended(&[quad((10.0, 3.0), (20.0, 5.0), translucent(), EVERYWHERE)], 1.0, (64, 32));
        assert_eq!(rects, vec![[8, 24, 16, 8]]);
    }

    #[test]
    fn pixels_per_point_scales_and_the_clip_rectangle_cuts() {
        // At 2 pixels a point, 10..20 points is 20..40 px: tiles 2..5; the clip keeps points up to 12 (24 px).
        let clip = Rect::from_min_max(Pos2::ZERO, Pos2::new(12.0, 100.0));
        let rects = blended(&[quad((10.0, 3.0), (20.0, 3.5), translucent(), clip)], 2.0, (64, 32));
        assert_eq!(rects, vec![[16, 24, 8, 8]]);
    }

    #[test]
    fn transparent_triangles_cover_nothing_and_edges_are_clamped() {
        let rects = blended(
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
        let rects = blended(
            &[
                quad((0.0, 0.0), (16.0, 20.0), translucent(), EVERYWHERE),
                quad((0.0, 20.0), (8.0, 24.0), translucent(), EVERYWHERE),
            ],
            1.0,
            (32, 32),
        );
        // Rows 0-2 (0..24 px from the top) run over tiles 0-1; row 2 also has the second quad, inside that run.
        // Row 3 is empty.
        assert_eq!(rects, vec![[0, 8, 16, 24]]);
        let rects = blended(
            &[
                quad((0.0, 0.0), (16.0, 8.0), translucent(), EVERYWHERE),
                quad((0.0, 8.0), (8.0, 16.0), translucent(), EVERYWHERE),
            ],
            1.0,
            (32, 16),
        );
        assert_eq!(rects, vec![[0, 8, 16, 8], [0, 0, 8, 8]]);
    }

    #[test]
    fn separate_runs_in_a_row_stay_separate() {
        let rects = blended(
            &[
                quad((0.0, 0.0), (4.0, 4.0), translucent(), EVERYWHERE),
                quad((30.0, 0.0), (33.0, 4.0), translucent(), EVERYWHERE),
            ],
            1.0,
            (48, 8),
        );
        assert_eq!(rects, vec![[0, 0, 8, 8], [24, 0, 16, 8]]);
    }

    fn mesh(corners: &[(f32, f32)], triangles: &[u32], colour: Color32, uv: Pos2) -> ClippedPrimitive {
        let mut mesh = Mesh::default();
        for &(x, y) in corners {
            mesh.vertices.push(egui::epaint::Vertex { pos: Pos2::new(x, y), uv, color: colour });
        }
        mesh.indices.extend_from_slice(triangles);
        ClippedPrimitive { clip_rect: EVERYWHERE, primitive: Primitive::Mesh(mesh) }
    }

    #[test]
    fn tiles_inside_an_opaque_rectangle_are_copied_and_the_rest_of_what_it_touches_blended() {
        // 0..20 x 0..16 on a 32 x 16 layer: tiles 0-1 lie inside (0..16 px), tile 2 (16..24) only partly. A
        // translucent quad painted over the opaque one leaves it opaque.
        let cover = covered(
            &[
                quad((0.0, 0.0), (20.0, 16.0), Color32::from_rgb(14, 16, 20), EVERYWHERE),
                quad((2.0, 2.0), (6.0, 6.0), translucent(), EVERYWHERE),
            ],
            1.0,
            (32, 16),
        );
        assert_eq!(cover, Cover { blended: vec![[16, 0, 8, 16]], opaque: vec![[0, 0, 16, 16]] });
        // The clip rectangle cuts what is opaque too; at the layer's edge a tile counts by its part inside.
        let clip = Rect::from_min_max(Pos2::ZERO, Pos2::new(100.0, 8.0));
        let cover = covered(&[quad((0.0, 0.0), (20.0, 16.0), Color32::BLACK, clip)], 1.0, (20, 16));
        assert_eq!(cover, Cover { blended: vec![], opaque: vec![[0, 8, 20, 8]] });
    }

    #[test]
    fn only_solid_opaque_triangles_sharing_a_diagonal_make_a_rectangle_opaque() {
        let corners = [(0.0, 0.0), (16.0, 0.0), (16.0, 16.0), (0.0, 16.0)];
        let opaque = |p: ClippedPrimitive| covered(&[p], 1.0, (16, 16)).opaque;
        // Sharing the diagonal 0-2: the whole square.
        assert_eq!(opaque(mesh(&corners, &[0, 1, 2, 0, 2, 3], Color32::BLACK, WHITE_UV)), vec![[0, 0, 16, 16]]);
        assert_eq!(opaque(mesh(&corners, &[1, 2, 3, 3, 0, 1], Color32::BLACK, WHITE_UV)), vec![[0, 0, 16, 16]]);
        // Sharing the side 0-1: two halves that overlap and leave a triangle of the square uncovered.
        assert!(opaque(mesh(&corners, &[0, 1, 2, 0, 1, 3], Color32::BLACK, WHITE_UV)).is_empty());
        // Translucent at a corner, or sampling a glyph instead of the white texel: not opaque.
        let mut shaded = mesh(&corners, &[0, 1, 2, 0, 2, 3], Color32::BLACK, WHITE_UV);
        if let Primitive::Mesh(m) = &mut shaded.primitive {
            m.vertices[3].color = Color32::from_black_alpha(250);
        }
        assert!(opaque(shaded).is_empty());
        assert!(opaque(mesh(&corners, &[0, 1, 2, 0, 2, 3], Color32::BLACK, Pos2::new(0.5, 0.5))).is_empty());
        // Not a rectangle: a kite.
        let kite = [(8.0, 0.0), (16.0, 8.0), (8.0, 16.0), (0.0, 8.0)];
        assert!(opaque(mesh(&kite, &[0, 1, 2, 0, 2, 3], Color32::BLACK, WHITE_UV)).is_empty());
    }

    #[test]
    fn an_egui_panel_with_an_opaque_fill_is_opaque_inside_its_feathered_edge() {
        // egui's own tessellation (feathered: the fill's corners are inset half a pixel), through a real pass.
        let ctx = egui::Context::default();
        let input = egui::RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, egui::vec2(64.0, 48.0))),
            ..Default::default()
        };
        let mut panel = Rect::NOTHING;
        let mut output = ctx.run_ui(input, |ui| {
            let fill = egui::Frame::NONE.fill(Color32::from_rgb(14, 16, 20));
            panel = egui::Panel::bottom("console").exact_size(21.0).frame(fill).show(ui, |_| {}).response.rect;
        });
        output.textures_delta.clear();
        let primitives = ctx.tessellate(output.shapes, 1.0);
        let cover = covered(&primitives, 1.0, (64, 48));
        // Tiles (from the top-left) inside the panel, and those it only touches.
        let tiles = |keep: &dyn Fn(Rect) -> bool| {
            let mut rects = Vec::new();
            for y in (0..48).step_by(8) {
                for x in (0..64).step_by(8) {
                    let tile = Rect::from_min_size(Pos2::new(x as f32, y as f32), egui::vec2(8.0, 8.0));
                    if keep(tile) {
                        rects.push((x, y));
                    }
                }
            }
            rects
        };
        let inside = tiles(&|t| panel.contains_rect(t));
        let touched = tiles(&|t| panel.intersects(t) && !panel.contains_rect(t));
        assert!(inside.len() >= 8, "the panel {panel:?} holds a row of tiles");
        let area = |r: &[[i32; 4]]| r.iter().map(|r| r[2] * r[3]).sum::<i32>();
        assert_eq!(area(&cover.opaque), 64 * inside.len() as i32, "{panel:?}: {cover:?}");
        assert_eq!(area(&cover.blended), 64 * touched.len() as i32, "{panel:?}: {cover:?}");
        // Each opaque tile lies inside the panel (rectangles from the bottom-left).
        for &[x, y, w, h] in &cover.opaque {
            let r = Rect::from_min_size(Pos2::new(x as f32, (48 - y - h) as f32), egui::vec2(w as f32, h as f32));
            assert!(panel.contains_rect(r), "{r:?} is outside the panel {panel:?}");
        }
    }
}
