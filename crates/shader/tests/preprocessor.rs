//! What the engine's reading of the preprocessor decides: which `#include`s are expanded (those the driver would
//! compile: conditional groups and include guards are read) and whether a file is a Shadertoy shader (code only,
//! not comments).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use allsource_shader::{Origin, Stage, prepare};

/// A loader of `files`, which records every path it was asked for.
fn loader<'a>(files: &[(&str, &str)], asked: &'a mut Vec<PathBuf>) -> impl FnMut(&Path) -> Result<String, String> + 'a {
    let files: HashMap<PathBuf, String> = files.iter().map(|(p, t)| (PathBuf::from(p), t.to_string())).collect();
    move |path: &Path| {
        asked.push(path.to_path_buf());
        files.get(path).cloned().ok_or_else(|| "no such file".to_owned())
    }
}

/// The lines of the fragment stage that came from file `file` of the preparation.
fn lines_from(p: &allsource_shader::Prepared, file: usize) -> Vec<u32> {
    let stage = p.stage(Stage::Fragment).unwrap();
    stage
        .origins
        .iter()
        .filter_map(|o| if let Origin::File { file: f, line } = o { (*f == file).then_some(*line) } else { None })
        .collect()
}

#[test]
fn an_include_in_a_group_the_driver_skips_is_not_read() {
    let text = "#ifdef GL_ES\n#include \"mobile.glsl\"\n#else\n#include \"desktop.glsl\"\n#endif\nout vec4 o;\nvoid main() { o = colour(); }\n";
    let mut asked = Vec::new();
    let p = prepare(
        Path::new("s/main.glsl"),
        text,
        &mut loader(&[("s/desktop.glsl", "vec4 colour() { return vec4(1.0); }\n")], &mut asked),
    );
    assert!(p.diagnostics.is_empty(), "no `cannot include mobile.glsl`: {:?}", p.diagnostics);
    assert_eq!(asked, [PathBuf::from("s/desktop.glsl")]);
    assert!(p.stage(Stage::Fragment).unwrap().text.contains("vec4 colour()"));
}

#[test]
fn conditions_on_defines_and_the_version_decide_as_the_driver_does() {
    let text = "#version 450 core\n#define QUALITY 2\n#if QUALITY > 1 && __VERSION__ >= 430\n#include \"high.glsl\"\n#elif defined(LOW)\n#include \"low.glsl\"\n#endif\nout vec4 o;\nvoid main() { o = vec4(q()); }\n";
    let mut asked = Vec::new();
    let p = prepare(
        Path::new("s/main.glsl"),
        text,
        &mut loader(&[("s/high.glsl", "float q() { return 1.0; }\n")], &mut asked),
    );
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert_eq!(asked, [PathBuf::from("s/high.glsl")]);
}

#[test]
fn an_include_guard_keeps_a_file_included_twice_to_one_copy() {
    let common = "#ifndef COMMON_GLSL\n#define COMMON_GLSL\nfloat k() { return 0.5; }\n#endif\n";
    let noise = "#include \"common.glsl\"\nfloat n() { return k(); }\n";
    let text = "#include \"common.glsl\"\n#include \"noise.glsl\"\nout vec4 o;\nvoid main() { o = vec4(n()); }\n";
    let mut asked = Vec::new();
    let p = prepare(
        Path::new("s/main.glsl"),
        text,
        &mut loader(&[("s/common.glsl", common), ("s/noise.glsl", noise)], &mut asked),
    );
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let fragment = p.stage(Stage::Fragment).unwrap();
    assert_eq!(
        fragment.text.matches("float k()").count(),
        2,
        "the text is there twice; the guard is the driver's to apply"
    );
    // The second copy's lines sit inside the guard's skipped group, and a missing include there would not be read:
    let guarded = "#ifndef G\n#define G\n#include \"once.glsl\"\n#endif\n";
    let text = "#include \"guarded.glsl\"\n#include \"guarded.glsl\"\nout vec4 o;\nvoid main() { o = vec4(1.0); }\n";
    let mut asked = Vec::new();
    let p = prepare(
        Path::new("s/main.glsl"),
        text,
        &mut loader(&[("s/guarded.glsl", guarded), ("s/once.glsl", "// once\n")], &mut asked),
    );
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let file = p.files.iter().position(|f| f == Path::new("s/once.glsl")).unwrap();
    assert_eq!(lines_from(&p, file), [1], "once.glsl expanded once: {asked:?}");
}

#[test]
fn a_commented_out_include_or_condition_is_not_read() {
    let text = "/*\n#include \"draft.glsl\"\n#if 0\n*/\nout vec4 o;\nvoid main() { o = vec4(1.0); }\n";
    let mut asked = Vec::new();
    let p = prepare(Path::new("s/main.glsl"), text, &mut loader(&[], &mut asked));
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert!(asked.is_empty());
}

#[test]
fn shadertoy_mode_comes_from_code_not_from_comments() {
    let commented = "// port of void mainImage( out vec4 c, in vec2 p ) from Shadertoy\nout vec4 o;\nvoid main() { o = vec4(1.0); }\n";
    let mut asked = Vec::new();
    let p = prepare(Path::new("s/main.glsl"), commented, &mut loader(&[], &mut asked));
    assert!(!p.shadertoy, "a comment does not make a Shadertoy shader");
    let block =
        "/* void mainImage(out vec4 c, in vec2 p) { c = vec4(0.0); } */\nout vec4 o;\nvoid main() { o = vec4(1.0); }\n";
    assert!(!prepare(Path::new("s/main.glsl"), block, &mut loader(&[], &mut asked)).shadertoy);
    let real = "void mainImage(out vec4 c, in vec2 p) { c = vec4(1.0); } // void main() is the engine's\n";
    assert!(prepare(Path::new("s/main.glsl"), real, &mut loader(&[], &mut asked)).shadertoy);
}

#[test]
fn a_main_for_another_host_under_an_ifdef_is_left_to_the_driver() {
    // As shaders written for several hosts end (a real one, from a public Shadertoy collection, does).
    let text = "void mainImage(out vec4 fragColor, in vec2 fragCoord) { fragColor = vec4(1.0); }\n\
                #ifdef GRIMOIRE\nout vec4 fragColor; void main() { mainImage(fragColor, gl_FragCoord.xy); }\n#endif\n";
    let mut asked = Vec::new();
    let p = prepare(Path::new("s/main.glsl"), text, &mut loader(&[], &mut asked));
    assert!(p.shadertoy);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    // And the other way round: a Shadertoy original kept under #if 0 beside the file's own main.
    let kept = "#if 0\nvoid mainImage(out vec4 c, in vec2 p) { c = vec4(1.0); }\n#endif\nout vec4 o;\nvoid main() { o = vec4(1.0); }\n";
    let p = prepare(Path::new("s/main.glsl"), kept, &mut loader(&[], &mut asked));
    assert!(!p.shadertoy && p.diagnostics.is_empty(), "{:?}", p.diagnostics);
}

#[test]
fn an_include_under_a_driver_macro_this_reading_cannot_know_is_read() {
    // Mesa defines GL_ARB_gpu_shader_fp64 in a 4.5 core context; the engine cannot know every extension's macro.
    let text = "out vec4 colour;\n#ifdef GL_ARB_gpu_shader_fp64\n#include \"lib/a.glsl\"\n#else\nvec3 c() { return vec3(1.0); }\n#endif\nvoid main() { colour = vec4(c(), 1.0); }\n";
    let mut asked = Vec::new();
    let p = prepare(
        Path::new("s/main.glsl"),
        text,
        &mut loader(&[("s/lib/a.glsl", "vec3 c() { return vec3(0.5); }\n")], &mut asked),
    );
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert_eq!(asked, [PathBuf::from("s/lib/a.glsl")]);
}

#[test]
fn an_es_shadertoy_file_gets_a_precision_before_shadertoys_uniforms() {
    let text = "#version 300 es\nprecision highp float;\nvoid mainImage(out vec4 c, in vec2 p) { c = vec4(iTime); }\n";
    let mut asked = Vec::new();
    let p = prepare(Path::new("s/main.glsl"), text, &mut loader(&[], &mut asked));
    let fragment = &p.stage(Stage::Fragment).unwrap().text;
    let precision = fragment.find("precision highp float;").unwrap();
    assert!(precision < fragment.find("uniform float iTime;").unwrap(), "{fragment}");
    assert!(p.stage(Stage::Vertex).unwrap().text.starts_with("#version 300 es\n"), "one language for both stages");
}

#[test]
fn a_directive_continued_over_lines_is_read_whole() {
    // `QUALITY` is 2 only once its continued definition is read whole; `#if` continued over two lines too.
    let text = "#define QUALITY \\\n    2\n#if QUALITY > 1 && \\\n    defined(QUALITY)\n#include \"high.glsl\"\n#else\n#include \"low.glsl\"\n#endif\nout vec4 o;\nvoid main() { o = colour(); }\n";
    let mut asked = Vec::new();
    let p = prepare(
        Path::new("s/main.glsl"),
        text,
        &mut loader(&[("s/high.glsl", "vec4 colour() { return vec4(1.0); }\n")], &mut asked),
    );
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert_eq!(asked, [PathBuf::from("s/high.glsl")]);
    // The continued lines still reach the driver as written, on their own lines.
    assert_eq!(&lines_from(&p, 0)[..4], [1, 2, 3, 4]);
}
