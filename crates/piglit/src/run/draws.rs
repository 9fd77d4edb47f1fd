//! Drawing commands: `clear`, `draw rect` (plain, ortho, patch, instanced), `draw arrays`, patch parameters.

use allsource_gpu::{Attrib, AttribKind, CompatPrimitive, PolygonMode, Primitive, VertexInput};

use super::commands::Line;
use super::words::{floats, parse_i64};
use super::{Run, Step};

impl Run<'_> {
    /// `clear ...`, `draw ...`, `patch parameter ...`.
    pub(super) fn draw_command(&mut self, command: &Line) -> Result<(), Step> {
        let gl = self.gl;
        let (line, words) = (command.text, command.words.as_slice());
        let rest_after = |n: usize| command.rest_after(n);
        match words {
            ["clear", "color", ..] => {
                let c = floats(rest_after(2), 4).map_err(Step::Fail)?;
                self.clear_colour = [c[0], c[1], c[2], c[3]];
            }
            ["clear", "depth", value] => {
                self.clear_depth = value.parse::<f32>().map_err(|_| Step::Fail(format!("bad `{line}`")))?;
            }
            ["clear"] => {
                self.frame.clear_to_depth(gl, self.clear_colour, self.clear_depth, None);
                self.drew();
            }
            ["draw", "rect", "ortho", "patch", ..] => {
                let r = self.rect_of(rest_after(4), true)?;
                self.draw_rect(r, true, 1)?;
            }
            ["draw", "rect", "ortho", ..] => {
                let r = self.rect_of(rest_after(3), true)?;
                self.draw_rect(r, false, 1)?;
            }
            ["draw", "rect", "patch", ..] => {
                let r = self.rect_of(rest_after(3), false)?;
                self.draw_rect(r, true, 1)?;
            }
            ["draw", "rect", "tex", ..] => return Err(Step::Unsupported),
            ["draw", "rect", ..] => {
                let r = self.rect_of(rest_after(2), false)?;
                self.draw_rect(r, false, 1)?;
            }
            ["draw", "instanced", "rect", "ortho", rest @ ..] | ["draw", "instanced", "rect", rest @ ..] => {
                let patch = rest.first() == Some(&"patch");
                let ortho = words[3] == "ortho";
                let skip = 3 + usize::from(ortho) + usize::from(patch);
                let args = rest_after(skip);
                let (count, rect) = args.split_once(char::is_whitespace).ok_or(Step::Unsupported)?;
                let count = parse_i64(count).ok_or_else(|| Step::Fail(format!("bad instance count in `{line}`")))?;
                let r = self.rect_of(rect, ortho)?;
                self.draw_rect(r, patch, count as i32)?;
            }
            ["draw", "arrays", "instanced", m, first, count, _] | ["draw", "arrays", m, first, count]
                if Primitive::from_gl_name(m).is_some()
                    || (self.compatibility && CompatPrimitive::from_gl_name(m).is_some()) =>
            {
                let instances = if words[2] == "instanced" { parse_i64(words[6]).unwrap_or(1) } else { 1 };
                let mode = Primitive::from_gl_name(m);
                let compat = CompatPrimitive::from_gl_name(m);
                let (first, count) = (
                    parse_i64(first).ok_or_else(|| Step::Fail(format!("bad first in `{line}`")))?,
                    parse_i64(count).ok_or_else(|| Step::Fail(format!("bad count in `{line}`")))?,
                );
                self.program()?;
                if let Some((_, rows)) = &self.vertices
                    && first + count > *rows as i64
                {
                    return Err(Step::Fail(format!("draw of {count} vertices from {first} past {rows} rows of data")));
                }
                self.frame.bind(gl);
                let input = self.vertices.as_ref().map_or(&self.empty, |(v, _)| v);
                match (mode, compat) {
                    (Some(m), _) => input.draw(gl, m, first as i32, count as i32, instances as i32),
                    (None, Some(m)) => input.draw_compat(gl, m, first as i32, count as i32, instances as i32),
                    (None, None) => return Err(Step::Unsupported),
                }
                self.drew();
            }
            ["provoking", "vertex", which @ ("first" | "last")] => {
                allsource_gpu::provoking_vertex_first(*which == "first")
            }
            ["polygon", "mode", "GL_FRONT_AND_BACK", mode] => {
                let mode = match *mode {
                    "GL_FILL" => PolygonMode::Fill,
                    "GL_LINE" => PolygonMode::Line,
                    "GL_POINT" => PolygonMode::Point,
                    _ => return Err(Step::Unsupported),
                };
                allsource_gpu::polygon_mode(gl, mode);
            }
            ["patch", "parameter", "vertices", n] => {
                let n = parse_i64(n).ok_or_else(|| Step::Fail(format!("bad `{line}`")))?;
                self.patch_vertices = n as i32;
                allsource_gpu::patch_vertices(gl, n as i32);
            }
            ["patch", "parameter", "default", "level", "outer", ..] => {
                let v = floats(rest_after(5), 4).map_err(Step::Fail)?;
                if !allsource_gpu::patch_default_levels(Some([v[0], v[1], v[2], v[3]]), None) {
                    return Err(Step::Unsupported);
                }
            }
            ["patch", "parameter", "default", "level", "inner", ..] => {
                let v = floats(rest_after(5), 2).map_err(Step::Fail)?;
                if !allsource_gpu::patch_default_levels(None, Some([v[0], v[1]])) {
                    return Err(Step::Unsupported);
                }
            }
            _ => return Err(Step::Unsupported),
        }
        Ok(())
    }

    fn draw_rect(&mut self, rect: [f32; 4], patches: bool, instances: i32) -> Result<(), Step> {
        let gl = self.gl;
        let program = self.program()?;
        let [x, y, w, h] = rect;
        let verts: Vec<f32> = vec![x, y, 0.0, 1.0, x + w, y, 0.0, 1.0, x, y + h, 0.0, 1.0, x + w, y + h, 0.0, 1.0];
        let bytes: Vec<u8> = verts.iter().flat_map(|v| v.to_ne_bytes()).collect();
        // A compatibility-profile context reads `gl_Vertex` from generic attribute 0, as piglit's vertex array there.
        let location = program.attrib_location(gl, "piglit_vertex").or(self.compatibility.then_some(0));
        let attribs: Vec<Attrib> = location
            .map(|location| Attrib { location, components: 4, kind: AttribKind::Float, offset: 0 })
            .into_iter()
            .collect();
        let input = VertexInput::new(gl, &bytes, 16, &attribs).map_err(|e| Step::Fail(e.to_string()))?;
        self.frame.bind(gl);
        if patches {
            allsource_gpu::patch_vertices(gl, 4);
            input.draw(gl, Primitive::Patches, 0, 4, instances);
            allsource_gpu::patch_vertices(gl, self.patch_vertices);
        } else {
            input.draw(gl, Primitive::TriangleStrip, 0, 4, instances);
        }
        input.delete(gl);
        self.drew();
        Ok(())
    }

    /// `ortho` coordinates are pixels; piglit maps them to [-1, 1] over the frame.
    fn rect_of(&self, args: &str, ortho: bool) -> Result<[f32; 4], Step> {
        let v = floats(args, 4).map_err(Step::Fail)?;
        let (w, h) = (self.target.width as f32, self.target.height as f32);
        Ok(if ortho {
            [-1.0 + 2.0 * v[0] / w, -1.0 + 2.0 * v[1] / h, 2.0 * v[2] / w, 2.0 * v[3] / h]
        } else {
            [v[0], v[1], v[2], v[3]]
        })
    }
}
