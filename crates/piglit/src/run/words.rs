//! Words of `.shader_test` lines read as shader_runner reads them: numbers (`strtol` base 0, hex bit patterns for
//! floats), comparisons, uniform types, and the GL names the listed suites use.

use allsource_gpu::{AttribKind, UniformShape, glow};

use super::{Outcome, Step};

pub(super) fn compare(op: &str, reference: f64, value: f64) -> Result<bool, Outcome> {
    Ok(match op {
        "==" => value == reference,
        "!=" => value != reference,
        "<" => value < reference,
        ">=" => value >= reference,
        ">" => value > reference,
        "<=" => value <= reference,
        _ => return Err(Outcome::Fail(format!("invalid comparison `{op}`"))),
    })
}

/// An integer as piglit's parse_ints reads it (strtol base 0: decimal, `0x` hex, leading `-`).
pub(super) fn parse_i64(s: &str) -> Option<i64> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let value = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None if digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()) => {
            i64::from_str_radix(digits, 8).ok()?
        }
        None => digits.parse::<i64>().ok()?,
    };
    Some(if negative { -value } else { value })
}

/// A float as piglit's parse_floats reads it: `0x...` is the bit pattern of an IEEE single.
pub(super) fn parse_f32(s: &str) -> Option<f32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok().map(f32::from_bits),
        None => s.parse::<f32>().ok().or_else(|| match s.to_ascii_lowercase().as_str() {
            "inf" | "+inf" | "infinity" => Some(f32::INFINITY),
            "-inf" | "-infinity" => Some(f32::NEG_INFINITY),
            "nan" => Some(f32::NAN),
            _ => None,
        }),
    }
}

/// The numbers of `text`, with `(`, `)` and `,` read as spaces (probe and rect arguments).
pub(super) fn numbers(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',').filter(|w| !w.is_empty()).collect()
}

pub(super) fn floats(text: &str, n: usize) -> Result<Vec<f32>, String> {
    let words = numbers(text);
    if words.len() < n {
        return Err(format!("expected {n} numbers in `{text}`"));
    }
    words[..n].iter().map(|w| parse_f32(w).ok_or_else(|| format!("not a number: `{w}`"))).collect()
}

/// Capabilities `enable` / `disable` name (GL_CLIP_PLANEi is GL_CLIP_DISTANCEi in a core context).
pub(super) fn capability(name: &str) -> Option<u32> {
    if let Some(n) = name.strip_prefix("GL_CLIP_PLANE").or_else(|| name.strip_prefix("GL_CLIP_DISTANCE")) {
        return n.parse::<u32>().ok().filter(|&n| n < 8).map(|n| glow::CLIP_DISTANCE0 + n);
    }
    Some(match name {
        "GL_PROGRAM_POINT_SIZE" => glow::PROGRAM_POINT_SIZE,
        "GL_DEPTH_TEST" => glow::DEPTH_TEST,
        "GL_CULL_FACE" => glow::CULL_FACE,
        "GL_BLEND" => glow::BLEND,
        "GL_RASTERIZER_DISCARD" => glow::RASTERIZER_DISCARD,
        "GL_DEPTH_CLAMP" => glow::DEPTH_CLAMP,
        "GL_PRIMITIVE_RESTART" => glow::PRIMITIVE_RESTART,
        _ => return None,
    })
}

/// Image and texture formats the listed suites name.
pub(super) fn image_format(name: &str) -> Option<u32> {
    Some(match name {
        "GL_RGBA" => glow::RGBA,
        "GL_RGBA8" => glow::RGBA8,
        "GL_RGBA16" => glow::RGBA16,
        "GL_RGBA16F" => glow::RGBA16F,
        "GL_RGBA32F" => glow::RGBA32F,
        "GL_R32F" => glow::R32F,
        "GL_RG32F" => glow::RG32F,
        "GL_R8" => glow::R8,
        "GL_R11F_G11F_B10F" => glow::R11F_G11F_B10F,
        "GL_RGB9_E5" => glow::RGB9_E5,
        "GL_RGBA8_SNORM" => glow::RGBA8_SNORM,
        "GL_SRGB8_ALPHA8" => glow::SRGB8_ALPHA8,
        _ => return None,
    })
}

/// A uniform type word: its shape and scalar kind.
pub(super) fn uniform_type(word: &str) -> Option<(UniformShape, AttribKind)> {
    let vector = |rest: &str| match rest {
        "" => Some(1),
        "2" | "3" | "4" => rest.parse().ok(),
        _ => None,
    };
    if let Some(rest) = word.strip_prefix("mat") {
        let (c, r) = match rest.split_once('x') {
            Some((c, r)) => (c.parse().ok()?, r.parse().ok()?),
            None => (rest.parse().ok()?, rest.parse().ok()?),
        };
        return ((2..=4).contains(&c) && (2..=4).contains(&r))
            .then_some((UniformShape::Matrix(c, r), AttribKind::Float));
    }
    let (kind, rest) = match word {
        "float" => (AttribKind::Float, ""),
        "int" => (AttribKind::Int, ""),
        "uint" => (AttribKind::UInt, ""),
        w if w.starts_with("vec") => (AttribKind::Float, &w[3..]),
        w if w.starts_with("ivec") => (AttribKind::Int, &w[4..]),
        w if w.starts_with("uvec") => (AttribKind::UInt, &w[4..]),
        _ => return None,
    };
    Some((UniformShape::Vector(vector(rest)?), kind))
}

pub(super) fn parse_u32(word: &str, line: &str) -> Result<u32, Step> {
    parse_i64(word).and_then(|v| u32::try_from(v).ok()).ok_or_else(|| Step::Fail(format!("bad number in `{line}`")))
}

pub(super) fn scalar_bytes(ty: &str, value: &str) -> Option<[u8; 4]> {
    match ty {
        "float" => parse_f32(value).map(f32::to_ne_bytes),
        "int" => parse_i64(value).map(|v| (v as i32).to_ne_bytes()),
        _ => parse_i64(value).map(|v| (v as u32).to_ne_bytes()),
    }
}

pub(super) fn check_scalar(ty: &str, raw: [u8; 4], op: &str, value: &str, what: &str) -> Result<(), Step> {
    let bad = || Step::Fail(format!("bad reference value `{value}`"));
    let (reference, observed, shown) = match ty {
        "float" => {
            let (r, o) = (parse_f32(value).ok_or_else(bad)?, f32::from_ne_bytes(raw));
            (f64::from(r), f64::from(o), o.to_string())
        }
        "int" => {
            let (r, o) = (parse_i64(value).ok_or_else(bad)?, i32::from_ne_bytes(raw));
            (r as f64, f64::from(o), o.to_string())
        }
        _ => {
            let (r, o) = (parse_i64(value).ok_or_else(bad)?, u32::from_ne_bytes(raw));
            (r as f64, f64::from(o), o.to_string())
        }
    };
    let holds = compare(op, reference, observed).map_err(|o| Step::Fail(o.reason().to_owned()))?;
    if !holds {
        return Err(Step::Fail(format!("{what}: expected {op} {value}, observed {shown}")));
    }
    Ok(())
}

pub(super) fn show(values: &[f32]) -> String {
    values.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_piglit_reads_them() {
        assert_eq!(parse_i64("0x10"), Some(16));
        assert_eq!(parse_i64("-5"), Some(-5));
        assert_eq!(parse_i64("4294967295"), Some(4_294_967_295));
        assert_eq!(parse_f32("0x3f800000"), Some(1.0));
        assert_eq!(parse_f32("-2.5"), Some(-2.5));
        assert_eq!(numbers("(0, 0, 4, 4) (0.0, 1.0, 0.0, 1.0)").len(), 8);
        assert_eq!(uniform_type("mat2x3"), Some((UniformShape::Matrix(2, 3), AttribKind::Float)));
        assert_eq!(uniform_type("uvec4"), Some((UniformShape::Vector(4), AttribKind::UInt)));
        assert_eq!(uniform_type("dvec4"), None, "doubles are not handled: the test is skipped");
    }
}
