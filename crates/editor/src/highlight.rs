//! Syntax colouring for GLSL and Lua: a small tokenizer (comments, strings, numbers, keywords, types, built-ins,
//! preprocessor lines) that turns source text into coloured spans. It never fails: anything it does not know is
//! plain text.

use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Glsl,
    Lua,
    Plain,
}

impl Lang {
    pub fn of(path: &std::path::Path) -> Lang {
        match path.extension().and_then(|e| e.to_str()) {
            Some("lua") => Lang::Lua,
            Some("glsl" | "frag" | "vert" | "geom" | "comp" | "tesc" | "tese" | "shader" | "fs" | "vs") => Lang::Glsl,
            _ => Lang::Plain,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    Plain,
    Comment,
    String,
    Number,
    Keyword,
    Type,
    Builtin,
    Preprocessor,
}

const GLSL_KEYWORDS: &[&str] = &[
    "if",
    "else",
    "for",
    "while",
    "do",
    "return",
    "break",
    "continue",
    "discard",
    "switch",
    "case",
    "default",
    "in",
    "out",
    "inout",
    "uniform",
    "buffer",
    "layout",
    "const",
    "struct",
    "flat",
    "smooth",
    "noperspective",
    "patch",
    "sample",
    "shared",
    "coherent",
    "volatile",
    "restrict",
    "readonly",
    "writeonly",
    "precision",
    "highp",
    "mediump",
    "lowp",
    "invariant",
    "precise",
    "true",
    "false",
    "centroid",
    "subroutine",
];
const GLSL_TYPES: &[&str] = &[
    "void",
    "bool",
    "int",
    "uint",
    "float",
    "double",
    "vec2",
    "vec3",
    "vec4",
    "ivec2",
    "ivec3",
    "ivec4",
    "uvec2",
    "uvec3",
    "uvec4",
    "bvec2",
    "bvec3",
    "bvec4",
    "dvec2",
    "dvec3",
    "dvec4",
    "mat2",
    "mat3",
    "mat4",
    "mat2x2",
    "mat2x3",
    "mat2x4",
    "mat3x2",
    "mat3x3",
    "mat3x4",
    "mat4x2",
    "mat4x3",
    "mat4x4",
    "sampler1D",
    "sampler2D",
    "sampler3D",
    "samplerCube",
    "sampler2DArray",
    "sampler2DShadow",
    "image2D",
    "image3D",
    "uimage2D",
    "iimage2D",
    "atomic_uint",
    "isampler2D",
    "usampler2D",
    "samplerBuffer",
];
const LUA_KEYWORDS: &[&str] = &[
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in", "local", "nil",
    "not", "or", "repeat", "return", "then", "true", "until", "while",
];
const LUA_BUILTINS: &[&str] = &[
    "print",
    "require",
    "persist",
    "pairs",
    "ipairs",
    "type",
    "tostring",
    "tonumber",
    "error",
    "assert",
    "pcall",
    "select",
    "setmetatable",
    "getmetatable",
    "math",
    "string",
    "table",
    "gfx",
    "input",
    "self",
];

/// Coloured spans covering `text` (byte ranges, in order, without gaps).
pub fn tokens(text: &str, lang: Lang) -> Vec<(Range<usize>, Token)> {
    let mut out: Vec<(Range<usize>, Token)> = Vec::new();
    let mut push = |range: Range<usize>, token: Token| {
        if range.is_empty() {
            return;
        }
        match out.last_mut() {
            Some((last, t)) if *t == token && last.end == range.start => last.end = range.end,
            _ => out.push((range, token)),
        }
    };
    if lang == Lang::Plain {
        push(0..text.len(), Token::Plain);
        return out;
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        let c = bytes[i];
        let rest = &text[i..];
        let start = i;
        if c == b'\n' {
            line_start = true;
            i += 1;
            push(start..i, Token::Plain);
            continue;
        }
        if c == b' ' || c == b'\t' || c == b'\r' {
            i += 1;
            push(start..i, Token::Plain);
            continue;
        }
        let was_line_start = std::mem::replace(&mut line_start, false);
        match lang {
            Lang::Glsl if rest.starts_with("//") => {
                i += rest.find('\n').unwrap_or(rest.len());
                push(start..i, Token::Comment);
            }
            Lang::Glsl if rest.starts_with("/*") => {
                i += rest[2..].find("*/").map_or(rest.len(), |e| e + 4);
                push(start..i, Token::Comment);
            }
            Lang::Glsl if c == b'#' && was_line_start => {
                i += rest.find('\n').unwrap_or(rest.len());
                push(start..i, Token::Preprocessor);
            }
            Lang::Lua if rest.starts_with("--") => {
                let long = long_bracket(&rest[2..]);
                i += match long {
                    Some(level) => 2 + long_end(&rest[2..], level),
                    None => rest.find('\n').unwrap_or(rest.len()),
                };
                push(start..i, Token::Comment);
            }
            Lang::Lua if c == b'"' || c == b'\'' => {
                i += quoted(rest, c);
                push(start..i, Token::String);
            }
            Lang::Lua if c == b'[' && long_bracket(rest).is_some() => {
                let level = long_bracket(rest).unwrap_or(0);
                i += long_end(rest, level);
                push(start..i, Token::String);
            }
            _ if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) => {
                i +=
                    rest.find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '.' || ch == '_')).unwrap_or(rest.len());
                push(start..i, Token::Number);
            }
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                i += rest.find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_')).unwrap_or(rest.len());
                let word = &text[start..i];
                let token = match lang {
                    Lang::Glsl if GLSL_KEYWORDS.contains(&word) => Token::Keyword,
                    Lang::Glsl if GLSL_TYPES.contains(&word) => Token::Type,
                    Lang::Glsl if word.starts_with("gl_") => Token::Builtin,
                    Lang::Lua if LUA_KEYWORDS.contains(&word) => Token::Keyword,
                    Lang::Lua if LUA_BUILTINS.contains(&word) => Token::Builtin,
                    _ => Token::Plain,
                };
                push(start..i, token);
            }
            _ => {
                i += rest.chars().next().map_or(1, char::len_utf8);
                push(start..i, Token::Plain);
            }
        }
    }
    out
}

/// `[[`, `[=[`, ... at the start of `s`: the bracket's level.
fn long_bracket(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() != Some(&b'[') {
        return None;
    }
    let level = b[1..].iter().take_while(|&&c| c == b'=').count();
    (b.get(1 + level) == Some(&b'[')).then_some(level)
}

/// The length of a long bracket string starting at `s` (to the end of the text when unclosed).
fn long_end(s: &str, level: usize) -> usize {
    let close = format!("]{}]", "=".repeat(level));
    s.find(&close).map_or(s.len(), |e| e + close.len())
}

/// The length of a quoted string starting at `s` (to the end of the line when unclosed).
fn quoted(s: &str, quote: u8) -> usize {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'\n' => return i,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str, lang: Lang) -> Vec<(&str, Token)> {
        tokens(text, lang).into_iter().map(|(r, t)| (&text[r], t)).filter(|(s, _)| !s.trim().is_empty()).collect()
    }

    #[test]
    fn glsl_tokens() {
        let k = kinds("#version 450\nuniform vec3 c; // tint\nvoid main() { float x = 1.5e2; }", Lang::Glsl);
        assert_eq!(k[0], ("#version 450", Token::Preprocessor));
        assert_eq!(k[1], ("uniform", Token::Keyword));
        assert_eq!(k[2], ("vec3", Token::Type));
        assert!(k.contains(&("// tint", Token::Comment)));
        assert!(k.contains(&("1.5e2", Token::Number)));
    }

    #[test]
    fn lua_tokens_and_unclosed_strings() {
        let k = kinds("local s = \"a\\\"b\" -- note\nx = [[long\n]] .. 'open", Lang::Lua);
        assert_eq!(k[0], ("local", Token::Keyword));
        assert!(k.contains(&("\"a\\\"b\"", Token::String)));
        assert!(k.contains(&("-- note", Token::Comment)));
        assert!(k.contains(&("[[long\n]]", Token::String)));
        assert!(k.contains(&("'open", Token::String)));
    }

    #[test]
    fn spans_cover_the_text_exactly_whatever_it_is() {
        for text in ["", "é\u{0}\u{ffff}[=[", "/* open", "--[==[ x", "\"\\", "#\n#", "1..2"] {
            for lang in [Lang::Glsl, Lang::Lua] {
                let t = tokens(text, lang);
                let mut at = 0;
                for (r, _) in &t {
                    assert_eq!(r.start, at, "{text:?}");
                    at = r.end;
                }
                assert_eq!(at, text.len(), "{text:?}");
            }
        }
    }
}
