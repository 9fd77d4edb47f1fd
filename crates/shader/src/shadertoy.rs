//! Shadertoy mode: a file that defines `void mainImage(` (in code, not in a comment) gets Shadertoy's uniforms
//! before its code and a `main` that calls `mainImage` after it. Spellings of older Shadertoy code are read with a
//! warning (`texture2D`, `texture2DLod`, `iGlobalTime`) unless the file defines them itself; a file that compiles a
//! `main` of its own as well is refused with what to change.

use allsource_live::Severity;

use crate::channels::Channel;
use crate::directive;

/// The uniforms Shadertoy provides to every pass, as (GLSL type, name): declared before the user's code in Shadertoy
/// mode, set by the engine each frame. The channels follow, typed by what they read.
pub const SHADERTOY_UNIFORMS: [(&str, &str); 10] = [
    ("vec3", "iResolution"),
    ("float", "iTime"),
    ("float", "iTimeDelta"),
    ("float", "iFrameRate"),
    ("int", "iFrame"),
    ("vec4", "iMouse"),
    ("vec4", "iDate"),
    ("float", "iSampleRate"),
    ("float", "iChannelTime[4]"),
    ("vec3", "iChannelResolution[4]"),
];

/// The names of the channel samplers.
pub const CHANNEL_NAMES: [&str; 4] = ["iChannel0", "iChannel1", "iChannel2", "iChannel3"];

/// What Shadertoy provides to `mainImage`, declared before the user's code: its uniforms, the channels typed by what
/// they read, and the output.
pub(crate) fn prologue(channels: &[Channel; 4]) -> impl Iterator<Item = String> + '_ {
    let uniforms = SHADERTOY_UNIFORMS.iter().map(|(ty, name)| format!("uniform {ty} {name};"));
    let samplers = channels.iter().zip(CHANNEL_NAMES).map(|(c, name)| format!("uniform {} {name};", c.sampler_type()));
    uniforms.chain(samplers).chain(std::iter::once("layout(location = 0) out vec4 allsource_FragColor;".to_owned()))
}

/// The `main` that calls `mainImage`. An image pass shows opaque colour (Shadertoy ignores its alpha); a buffer
/// keeps all four components.
pub(crate) fn epilogue(keeps_alpha: bool) -> String {
    let out = if keeps_alpha { "colour" } else { "vec4(colour.rgb, 1.0)" };
    format!(
        "void main() {{\n    vec4 colour = vec4(0.0, 0.0, 0.0, 1.0);\n    mainImage(colour, gl_FragCoord.xy);\n    \
         allsource_FragColor = {out};\n}}"
    )
}

/// Old spellings found in Shadertoy code, and what they are read as.
const LEGACY: [(&str, &str); 4] =
    [("texture2D", "texture"), ("texture2DLod", "textureLod"), ("textureCube", "texture"), ("iGlobalTime", "iTime")];

/// The words after which a name is being declared or defined, not used.
const DECLARING: [&str; 27] = [
    "define",
    "float",
    "int",
    "uint",
    "bool",
    "vec2",
    "vec3",
    "vec4",
    "ivec2",
    "ivec3",
    "ivec4",
    "uvec2",
    "uvec3",
    "uvec4",
    "mat2",
    "mat3",
    "mat4",
    "sampler2D",
    "samplerCube",
    "void",
    "uniform",
    "const",
    "in",
    "out",
    "highp",
    "mediump",
    "lowp",
];

/// Whether a file whose code (comments blanked) is `code` runs in Shadertoy mode: it defines `void mainImage(`; or,
/// defining no `main` of its own, it names `mainImage` where a macro may define it (of its own, or of the scene's
/// Common file, `common`: `#define Main void mainImage(out vec4 O, in vec2 U)`).
pub(crate) fn is_shadertoy(code: &str, common: Option<&str>) -> bool {
    // A `#define` line naming mainImage: `#define Main void mainImage(...)`, or a macro called mainImage that
    // Shadertoy's own `main` expands.
    let macro_names = |text: &str| {
        text.lines().any(|l| matches!(directive(l), Some(("define", rest)) if uses(rest, "mainImage").next().is_some()))
    };
    defines_function(code, "mainImage").is_some()
        || (defines_function(code, "main").is_none() && (macro_names(code) || common.is_some_and(macro_names)))
}

/// Where `word` is used as a whole identifier in `code`: the byte offsets.
fn uses<'a>(code: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    code.match_indices(word)
        .filter(move |(at, _)| {
            let before = code[..*at].chars().next_back();
            let after = code[at + word.len()..].chars().next();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
        .map(|(at, _)| at)
}

/// Keywords of desktop GLSL 4.50 that OpenGL ES 3.00 (Shadertoy's WebGL 2) leaves free for names: a Shadertoy
/// shader may call a variable `buffer` or `sample`.
const DESKTOP_KEYWORDS: [&str; 12] = [
    "buffer",
    "shared",
    "coherent",
    "volatile",
    "restrict",
    "readonly",
    "writeonly",
    "patch",
    "sample",
    "subroutine",
    "precise",
    "atomic_uint",
];

/// The 0-based line of the first `void NAME(` in `code`.
fn defines_function(code: &str, name: &str) -> Option<usize> {
    code.match_indices(name).find_map(|(at, _)| {
        let before = code[..at].trim_end();
        let after = code[at + name.len()..].trim_start();
        let starts_word = !code[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        (starts_word && before.ends_with("void") && after.starts_with('(')).then(|| code[..at].matches('\n').count())
    })
}

/// The 0-based line of the first use of `word` as a whole identifier in `code`, unless the file defines or declares
/// it itself (`#define texture2D(s, p) texture(s, p)`, `uniform float iGlobalTime;`): then it is the file's own.
fn first_use(code: &str, word: &str) -> Option<usize> {
    let first = uses(code, word).next()?;
    (!declares(code, word, &DECLARING)).then(|| code[..first].matches('\n').count())
}

/// Whether `code` declares or defines `word`: one of its uses follows one of `declaring` (`#define`, a type, a
/// qualifier).
fn declares(code: &str, word: &str, declaring: &[&str]) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    uses(code, word).any(|at| {
        let before = code[..at].trim_end();
        let start =
            before.char_indices().rev().take_while(|(_, c)| is_ident(*c)).last().map_or(before.len(), |(i, _)| i);
        declaring.contains(&&before[start..])
    })
}

/// What Shadertoy mode makes of a file's code (comments blanked; `code` what may be compiled, `surely` what is for
/// certain): lines for the prologue beyond Shadertoy's own, and problems found, as (0-based line, severity,
/// message). With `keywords`, names that are keywords of desktop GLSL only are renamed.
pub(crate) struct Adaptation {
    pub defines: Vec<String>,
    pub problems: Vec<(usize, Severity, String)>,
}

/// `other` is the code the file is compiled with (the Common file's for a pass, the pass's for the Common file): a
/// name it defines or declares is its own, not to be adapted.
pub(crate) fn adapt(code: &str, surely: &str, keywords: bool, other: &str) -> Adaptation {
    let mut adaptation = Adaptation { defines: Vec::new(), problems: Vec::new() };
    for (old, new) in LEGACY {
        if let Some(line) = first_use(code, old).filter(|_| !declares(other, old, &DECLARING)) {
            adaptation.defines.push(format!("#define {old} {new}"));
            let message = format!("`{old}` is an older spelling: it is read as `{new}` (write `{new}` instead)");
            adaptation.problems.push((line, Severity::Warning, message));
        }
    }
    // A keyword is renamed even where it is declared (`float buffer;`), but not when a macro of that name is the
    // file's own.
    let macro_of = |text: &str, word: &str| declares(text, word, &["define", "undef"]);
    for word in DESKTOP_KEYWORDS.iter().filter(|_| keywords) {
        if macro_of(code, word) || macro_of(other, word) {
            continue;
        }
        if let Some(at) = uses(code, word).next() {
            adaptation.defines.push(format!("#define {word} allsource_{word}"));
            let message = format!(
                "`{word}` is a keyword of desktop GLSL, free for names in Shadertoy's: it is read as `allsource_{word}`"
            );
            adaptation.problems.push((code[..at].matches('\n').count(), Severity::Note, message));
        }
    }
    if let Some(line) = defines_function(surely, "main") {
        let message = "this file defines mainImage, so it runs as a Shadertoy shader, and allsource provides its \
                       main() (which calls mainImage): remove this main(), or put it under an #ifdef that is not \
                       defined here";
        adaptation.problems.push((line, Severity::Error, message.to_owned()));
    }
    adaptation.problems.sort_by_key(|p| p.0);
    adaptation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_spellings_are_found_as_whole_words_on_their_lines() {
        let code = "void mainImage(out vec4 c, in vec2 p) {\n  float t = iGlobalTime;\n  c = texture2D(iChannel0, p);\n  vec4 my_texture2D_x = textureLod(iChannel0, p, 0.0);\n}\n";
        let a = adapt(code, code, true, "");
        assert_eq!(a.defines, ["#define texture2D texture", "#define iGlobalTime iTime"]);
        let lines: Vec<usize> = a.problems.iter().map(|p| p.0).collect();
        assert_eq!(lines, [1, 2], "in the order of the lines");
        assert!(a.problems.iter().all(|p| p.1 == Severity::Warning), "warnings");
    }

    #[test]
    fn a_spelling_the_file_defines_or_declares_itself_is_left_alone() {
        let own = "#define texture2D(s, p) texture(s, p)\nuniform float iGlobalTime;\n\
                   void mainImage(out vec4 c, in vec2 p) { c = texture2D(iChannel0, p) * iGlobalTime; }\n";
        let a = adapt(own, own, true, "");
        assert!(a.defines.is_empty() && a.problems.is_empty(), "{:?}", a.problems);
        let returned = "vec4 f(vec2 p) { return texture2D(iChannel0, p); }\n";
        assert_eq!(adapt(returned, returned, true, "").defines, ["#define texture2D texture"]);
        // Used in a macro of the file's, after `else`, after a non-ASCII character pasted from a page: uses.
        let used = "#define TIME iGlobalTime\nfloat f() { if (true) return 1.0; else return TIME; }\n\
                    vec4 g(vec2 p) { return 2.0 \u{d7} texture2D(iChannel0, p); }\n";
        assert_eq!(adapt(used, used, true, "").defines, ["#define texture2D texture", "#define iGlobalTime iTime"]);
    }

    #[test]
    fn names_that_are_keywords_of_desktop_glsl_only_are_renamed_in_shadertoys_dialect() {
        let code =
            "void mainImage(out vec4 c, in vec2 p) {\n  float buffer = 0.5;\n  c = vec4(buffer * sample(p));\n}\n";
        let a = adapt(code, code, true, "");
        assert_eq!(a.defines, ["#define buffer allsource_buffer", "#define sample allsource_sample"]);
        assert_eq!(
            a.problems.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
            [(1, Severity::Note), (2, Severity::Note)]
        );
        assert!(adapt(code, code, false, "").defines.is_empty(), "a desktop #version keeps its keywords");
        // A macro of that name, the file's own or the Common file's: left alone.
        let own = "#define buffer iChannel0\nvoid mainImage(out vec4 c, in vec2 p) { c = texture(buffer, p); }\n";
        assert!(adapt(own, own, true, "").defines.is_empty());
        assert!(adapt(code, code, true, "#define sample(x) (x)\n").defines == ["#define buffer allsource_buffer"]);
        // An old spelling the Common file defines is its own too.
        let uses = "void mainImage(out vec4 c, in vec2 p) { c = texture2D(iChannel0, p); }\n";
        assert!(adapt(uses, uses, true, "#define texture2D(s, p) texture(s, p)\n").defines.is_empty());
    }

    #[test]
    fn main_image_defined_through_a_macro_is_shadertoy_mode() {
        // The Common file's macro, used by the pass.
        let common = "#define Main void mainImage(out vec4 Q, in vec2 U)\n";
        assert!(is_shadertoy("Main { Q = vec4(1.0); }\n", Some(common)));
        assert!(!is_shadertoy("Main { Q = vec4(1.0); }\n", None));
        // A macro of the file's own, named mainImage.
        assert!(is_shadertoy(
            "#define mainImage(O, u) void mainImage(out vec4 O, in vec2 u)\nmainImage(o, u) { o = vec4(1.0); }\n",
            None
        ));
        // A file with a main of its own is not, nor one that names mainImage outside a macro (an include's name).
        assert!(!is_shadertoy("void main() {}\n", Some(common)));
        assert!(!is_shadertoy("#include \"mainImage.glsl\"\nfloat mainImage = 1.0;\n", None));
    }

    #[test]
    fn a_main_of_its_own_is_refused_on_its_line() {
        let code = "void mainImage(out vec4 c, in vec2 p) { c = vec4(1.0); }\n\nvoid main() { mainImage(gl_FragColor, gl_FragCoord.xy); }\n";
        let a = adapt(code, code, true, "");
        assert_eq!(a.problems.len(), 1);
        assert_eq!((a.problems[0].0, a.problems[0].1), (2, Severity::Error));
        assert!(is_shadertoy(code, None));
        assert!(!is_shadertoy("void mainImageX(out vec4 c) {}\n", None));
        assert!(!is_shadertoy("void my_mainImage(out vec4 c) {}\n", None));
    }
}
