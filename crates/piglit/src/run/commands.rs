//! One `[test]` line: split into words and handed to the group of commands it belongs to; uniforms, link
//! expectations and capabilities are here. A command no group knows makes the test a skip.

use allsource_gpu::{AttribKind, DisplayList, Projection, UniformShape, UniformValue};

use super::words::{capability, parse_f32, parse_i64, uniform_type};
use super::{Outcome, Run, Step};

/// A command line and its words.
pub(super) struct Line<'a> {
    pub text: &'a str,
    pub words: Vec<&'a str>,
}

impl<'a> Line<'a> {
    fn new(text: &'a str) -> Line<'a> {
        Line { text, words: text.split_whitespace().collect() }
    }

    /// The text after the first `n` words, trimmed.
    pub fn rest_after(&self, n: usize) -> &'a str {
        let mut rest = self.text.trim_start();
        for _ in 0..n {
            rest = rest.trim_start();
            rest = rest.find(char::is_whitespace).map_or("", |i| &rest[i..]);
        }
        rest.trim()
    }
}

impl Run<'_> {
    pub(super) fn command(&mut self, text: &str) -> Result<(), Step> {
        let line = Line::new(text);
        match line.words.as_slice() {
            ["clear", ..] | ["draw", ..] | ["patch", ..] | ["provoking", ..] | ["polygon", ..] => {
                self.draw_command(&line)
            }
            ["probe", "ssbo" | "atomic", ..] | ["ssbo" | "atomic" | "compute" | "memory" | "ubo", ..] => {
                self.buffer_command(&line)
            }
            ["texture" | "texparameter" | "image" | "fb", ..] => self.texture_command(&line),
            ["probe" | "relative" | "tolerance", ..] => self.probe_command(&line),
            _ => self.state_command(&line),
        }
    }

    /// `uniform ...`, `link error` / `link success`, `enable` / `disable`.
    pub(super) fn state_command(&mut self, command: &Line) -> Result<(), Step> {
        let gl = self.gl;
        let (line, words) = (command.text, command.words.as_slice());
        match words {
            ["uniform", ty, name, ..] => {
                let (shape, kind) = uniform_type(ty).ok_or(Step::Unsupported)?;
                if name.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err(Step::Unsupported);
                }
                let n = match shape {
                    UniformShape::Vector(n) => n,
                    UniformShape::Matrix(c, r) => c * r,
                };
                // shader_runner reads numbers with strtod, which stops at a `;` after one.
                let args: Vec<&str> = words[3..].iter().map(|w| w.trim_end_matches(';')).collect();
                let args = args.as_slice();
                if args.len() < n {
                    return Err(Step::Fail(format!("`{line}`: {} values for {n}", args.len())));
                }
                let bad = |w: &str| Step::Fail(format!("not a number: `{w}`"));
                let value = match kind {
                    AttribKind::Float => UniformValue::Float(
                        args[..n].iter().map(|w| parse_f32(w).ok_or_else(|| bad(w))).collect::<Result<_, _>>()?,
                    ),
                    AttribKind::Int => UniformValue::Int(
                        args[..n]
                            .iter()
                            .map(|w| parse_i64(w).map(|v| v as i32).ok_or_else(|| bad(w)))
                            .collect::<Result<_, _>>()?,
                    ),
                    AttribKind::UInt => UniformValue::UInt(
                        args[..n]
                            .iter()
                            .map(|w| parse_i64(w).map(|v| v as u32).ok_or_else(|| bad(w)))
                            .collect::<Result<_, _>>()?,
                    ),
                };
                // A member of a uniform block goes into the block's buffer; any other uniform is set by location.
                if !self.set_block_uniform(name, shape, &value)? {
                    self.program()?.set_uniform_named(gl, name, shape, &value).map_err(Step::Fail)?;
                }
            }
            // The fixed-function projection of a compatibility context (`ftransform()` reads it): pixels by default.
            ["ortho"] | ["ortho", _, _, _, _] | ["frustum", _, _, _, _, _, _] if self.compatibility => {
                let v: Vec<f64> = words[1..].iter().filter_map(|w| w.parse::<f64>().ok()).collect();
                if v.len() + 1 != words.len() {
                    return Err(Step::Fail(format!("`{line}`: not all numbers")));
                }
                let projection = match (words[0], v.as_slice()) {
                    ("ortho", []) => Projection::Ortho([
                        0.0,
                        f64::from(self.target.width),
                        0.0,
                        f64::from(self.target.height),
                        -1.0,
                        1.0,
                    ]),
                    ("ortho", [l, r, b, t]) => Projection::Ortho([*l, *r, *b, *t, -1.0, 1.0]),
                    (_, [l, r, b, t, n, f]) => Projection::Frustum([*l, *r, *b, *t, *n, *f]),
                    _ => return Err(Step::Unsupported),
                };
                if !allsource_gpu::set_projection(gl, projection) {
                    return Err(Step::Fail(format!("GL refused `{line}`")));
                }
            }
            // Display lists: one at a time, as the tests use them.
            ["newlist", mode @ ("GL_COMPILE" | "GL_COMPILE_AND_EXECUTE")] if self.compatibility => {
                let list = DisplayList::begin(gl, *mode == "GL_COMPILE_AND_EXECUTE")
                    .ok_or_else(|| Step::Fail(format!("GL refused `{line}`")))?;
                if let Some(old) = self.display_list.replace(list) {
                    old.delete();
                }
            }
            ["endlist"] if self.compatibility => {
                let ended = self.display_list.as_ref().is_some_and(|l| l.end(gl));
                if !ended {
                    return Err(Step::Fail(format!("`{line}` without a list being recorded")));
                }
            }
            ["calllist"] if self.compatibility => {
                let called = self.display_list.as_ref().is_some_and(|l| l.call(gl));
                if !called {
                    return Err(Step::Fail(format!("`{line}` without a list")));
                }
                self.drew();
            }
            ["deletelist"] if self.compatibility => {
                if let Some(list) = self.display_list.take() {
                    list.delete();
                }
            }
            ["clip", "plane", index, a, b, c, d] if self.compatibility => {
                let index = index.parse::<u32>().ok().filter(|i| *i < 8).ok_or(Step::Unsupported)?;
                let plane = [a, b, c, d].map(|w| w.parse::<f64>().ok());
                let [Some(a), Some(b), Some(c), Some(d)] = plane else {
                    return Err(Step::Fail(format!("`{line}`: a plane is four numbers")));
                };
                if !allsource_gpu::clip_plane(gl, index, [a, b, c, d]) {
                    return Err(Step::Fail(format!("GL refused `{line}`")));
                }
            }
            ["link", "error"] => {
                self.link_error_expected = true;
                if self.program.is_some() {
                    return Err(Step::Stop(Outcome::Fail("a link error was expected, but the program linked".into())));
                }
            }
            ["link", "success"] => {
                self.program()?;
            }
            [on @ ("enable" | "disable"), name] => {
                let cap = capability(name).ok_or(Step::Unsupported)?;
                if !allsource_gpu::set_capability(gl, cap, *on == "enable") {
                    return Err(Step::Fail(format!("GL refused `{line}`")));
                }
                self.enabled.push(cap);
            }
            _ => return Err(Step::Unsupported),
        }
        Ok(())
    }
}
