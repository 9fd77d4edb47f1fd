//! The tweak bar's data: uniforms a shader exposes (from reflection) and values Lua modules expose, with the
//! optional annotations a comment on the uniform's line gives:
//!
//! ```glsl
//! uniform float speed = 1.0; // range 0 4 step 0.05
//! uniform vec3 tint;         // colour default 1,0.5,0
//! uniform bool pulse;        // default 1
//! ```

use std::collections::HashMap;
use std::path::PathBuf;

/// The kind of a tweakable value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    Float,
    Int,
    UInt,
    Bool,
}

/// What a comment on the declaring line says about a value.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Annotation {
    pub range: Option<(f64, f64)>,
    pub step: Option<f64>,
    pub default: Option<Vec<f64>>,
    pub colour: bool,
    /// The declaring line has a comment: the uniform is meant for the bar (what a Lua scene's shaders need, whose
    /// other uniforms Lua sets every draw).
    pub noted: bool,
}

/// One value in the tweak bar.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tweak {
    /// The shader file (or Lua module file) it belongs to.
    pub source: PathBuf,
    pub name: String,
    pub kind: Kind,
    /// Its components, as the program or module holds them now.
    pub value: Vec<f64>,
    pub annotation: Annotation,
}

impl Tweak {
    /// The uniform's value clamped to its annotated range, with the kind's rounding.
    pub fn normalised(&self, value: &[f64]) -> Vec<f64> {
        value
            .iter()
            .map(|&v| {
                let v = match self.annotation.range {
                    Some((lo, hi)) if lo <= hi => v.clamp(lo, hi),
                    _ => v,
                };
                match self.kind {
                    Kind::Float => v,
                    Kind::Int | Kind::UInt => v.round(),
                    Kind::Bool => f64::from(v != 0.0),
                }
            })
            .collect()
    }
}

/// The annotations of every `uniform` declared in `text`, by name.
pub fn annotations(text: &str) -> HashMap<String, Annotation> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let (code, comment) = match line.find("//") {
            Some(i) => (&line[..i], &line[i + 2..]),
            None => (line, ""),
        };
        let Some(name) = uniform_name(code) else { continue };
        let mut a = Annotation { noted: !comment.trim().is_empty(), ..Annotation::default() };
        let words: Vec<&str> = comment.split_whitespace().collect();
        let number = |i: usize| words.get(i).and_then(|w| w.parse::<f64>().ok());
        let mut i = 0;
        while i < words.len() {
            match words[i] {
                "range" => {
                    if let (Some(lo), Some(hi)) = (number(i + 1), number(i + 2)) {
                        a.range = Some((lo, hi));
                        i += 2;
                    }
                }
                "min" => {
                    if let Some(lo) = number(i + 1) {
                        a.range = Some((lo, a.range.map_or(lo.max(1.0), |r| r.1)));
                        i += 1;
                    }
                }
                "max" => {
                    if let Some(hi) = number(i + 1) {
                        a.range = Some((a.range.map_or(hi.min(0.0), |r| r.0), hi));
                        i += 1;
                    }
                }
                "step" => {
                    if let Some(s) = number(i + 1) {
                        a.step = Some(s);
                        i += 1;
                    }
                }
                "default" => {
                    let values: Option<Vec<f64>> = words
                        .get(i + 1)
                        .map(|w| {
                            w.split(',').filter(|s| !s.is_empty()).map(str::parse::<f64>).collect::<Result<_, _>>()
                        })
                        .and_then(Result::ok);
                    if let Some(values) = values.filter(|v| !v.is_empty()) {
                        a.default = Some(values);
                        i += 1;
                    }
                }
                "colour" | "color" => a.colour = true,
                _ => {}
            }
            i += 1;
        }
        out.insert(name, a);
    }
    out
}

/// The name declared by a `uniform` line (`layout(...) uniform vec3 name = ...;`).
fn uniform_name(code: &str) -> Option<String> {
    let after = code.split_once("uniform ")?.1;
    let mut words =
        after.split(|c: char| c.is_whitespace() || c == ';' || c == '=' || c == '[').filter(|w| !w.is_empty());
    let mut ty = words.next()?;
    while matches!(ty, "highp" | "mediump" | "lowp" | "const") {
        ty = words.next()?;
    }
    let name = words.next()?;
    (name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_on_uniform_lines() {
        let a = annotations(
            "uniform float speed = 1.0; // range 0 4 step 0.05\n\
             layout(location = 3) uniform vec3 tint; // colour default 1,0.5,0\n\
             uniform highp int count; // max 10\n\
             float notauniform; // range 1 2\n\
             uniform bool pulse;",
        );
        assert_eq!(a["speed"].range, Some((0.0, 4.0)));
        assert_eq!(a["speed"].step, Some(0.05));
        assert!(a["tint"].colour);
        assert_eq!(a["tint"].default, Some(vec![1.0, 0.5, 0.0]));
        assert_eq!(a["count"].range, Some((0.0, 10.0)));
        assert_eq!(a["pulse"], Annotation::default());
        assert!(a["tint"].noted && !a["pulse"].noted);
        assert_eq!(a.len(), 4);
    }

    #[test]
    fn nonsense_annotations_are_ignored() {
        let a = annotations("uniform float x; // range a b default ,, step\nuniform ;\nuniform float");
        assert_eq!(a["x"], Annotation { noted: true, ..Annotation::default() });
        assert_eq!(a.len(), 1);
    }
}
