//! The one-file format: sections, includes, Shadertoy mode, and driver lines mapped back to file lines.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use allsource_shader::{Origin, Stage, prepare};

fn loader(files: &[(&str, &str)]) -> impl FnMut(&Path) -> Result<String, String> {
    let files: HashMap<PathBuf, String> = files.iter().map(|(p, t)| (PathBuf::from(p), t.to_string())).collect();
    move |path: &Path| files.get(path).cloned().ok_or_else(|| "no such file".to_owned())
}

const MULTI: &str = "#version 450 core
// common to every stage
#include \"lib/common.glsl\"
#pragma stage vertex
void main() { gl_Position = vec4(0.0); }
#pragma stage fragment
out vec4 o;
void main() { o = vec4(tint(), 1.0); }
";

#[test]
fn sections_get_the_common_text_and_keep_their_file_lines() {
    let mut load = loader(&[("scene/lib/common.glsl", "vec3 tint() {\n  return vec3(1.0);\n}\n")]);
    let p = prepare(Path::new("scene/main.glsl"), MULTI, &mut load);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert_eq!(p.stages.iter().map(|s| s.stage).collect::<Vec<_>>(), vec![Stage::Vertex, Stage::Fragment]);
    assert!(!p.builtin_vertex);
    let fragment = p.stage(Stage::Fragment).unwrap();
    assert!(fragment.text.starts_with("#version 450 core\n"));
    assert!(fragment.text.contains("return vec3(1.0);"));
    assert!(!fragment.text.contains("gl_Position"), "the vertex section stays out of the fragment stage");
    assert!(!fragment.text.contains("#include") && !fragment.text.contains("#pragma stage"));
    // The driver's line of `o = vec4(tint(), 1.0)` maps back to line 8 of main.glsl.
    let at = fragment.text.lines().position(|l| l.contains("o = vec4(tint()")).unwrap();
    assert_eq!(fragment.origins[at], Origin::File { file: 0, line: 8 });
    // `return vec3(1.0);` is line 2 of the included file.
    let at = fragment.text.lines().position(|l| l.contains("return vec3")).unwrap();
    assert_eq!(fragment.origins[at], Origin::File { file: 1, line: 2 });
    assert_eq!(p.includes(), &[PathBuf::from("scene/lib/common.glsl")]);
}

#[test]
fn a_mesa_error_inside_an_included_file_lands_on_that_files_line_and_column() {
    let mut load = loader(&[("scene/lib/common.glsl", "vec3 tint() {\n  return vec3(1.0) + nope;\n}\n")]);
    let p = prepare(Path::new("scene/main.glsl"), MULTI, &mut load);
    let fragment = p.stage(Stage::Fragment).unwrap();
    let driver_line = fragment.text.lines().position(|l| l.contains("nope")).unwrap() + 1;
    // Mesa counts the two leading spaces as one: it reports column 21 for the `n` at column 22.
    let log = format!("0:{driver_line}(21): error: `nope' undeclared\n");
    let d = &p.diagnostics_from_log(Some(Stage::Fragment), &log)[0];
    assert_eq!(d.file, PathBuf::from("scene/lib/common.glsl"));
    assert_eq!((d.line, d.column, d.stage), (Some(2), Some(22), Some("fragment")));
}

#[test]
fn a_file_without_sections_or_version_is_a_fragment_stage_with_a_builtin_vertex_stage() {
    let p = prepare(Path::new("a.glsl"), "out vec4 o;\nvoid main() { o = vec4(1.0); }\n", &mut loader(&[]));
    assert!(p.builtin_vertex && !p.shadertoy);
    let fragment = p.stage(Stage::Fragment).unwrap();
    assert_eq!(fragment.text, "#version 450 core\nout vec4 o;\nvoid main() { o = vec4(1.0); }\n");
    assert_eq!(fragment.origins[0], Origin::Generated);
    assert_eq!(fragment.origins[2], Origin::File { file: 0, line: 2 });
    assert!(p.stage(Stage::Vertex).unwrap().text.contains("gl_VertexID"));
}

#[test]
fn a_file_defining_main_image_runs_as_shadertoy() {
    let text = "void mainImage(out vec4 c, in vec2 f) {\n  c = vec4(f / iResolution.xy, 0.0, 1.0);\n}\n";
    let p = prepare(Path::new("toy.glsl"), text, &mut loader(&[]));
    assert!(p.shadertoy);
    let fragment = p.stage(Stage::Fragment).unwrap();
    assert!(fragment.text.contains("uniform vec3 iResolution;") && fragment.text.contains("mainImage(colour"));
    let at = fragment.text.lines().position(|l| l.contains("f / iResolution")).unwrap();
    assert_eq!(fragment.origins[at], Origin::File { file: 0, line: 2 });
}

#[test]
fn include_problems_are_errors_on_the_include_line() {
    let text = "#include \"missing.glsl\"\n#include \"loop.glsl\"\nout vec4 o;\nvoid main() { o = vec4(1.0); }\n";
    let mut load = loader(&[("loop.glsl", "// loops\n#include \"loop.glsl\"\n")]);
    let p = prepare(Path::new("main.glsl"), text, &mut load);
    assert!(p.has_errors());
    let where_: Vec<_> = p.diagnostics.iter().map(|d| (d.file.display().to_string(), d.line)).collect();
    assert_eq!(where_, vec![("main.glsl".to_owned(), Some(1)), ("loop.glsl".to_owned(), Some(2))]);
    assert!(p.diagnostics[0].message.contains("cannot include `missing.glsl`"));
    assert!(p.diagnostics[1].message.contains("includes itself"));
}

#[test]
fn unknown_and_repeated_stages_and_mixed_compute_are_errors() {
    let text = "#pragma stage vertx\nvoid main(){}\n#pragma stage fragment\nvoid main(){}\n#pragma stage fragment\n";
    let p = prepare(Path::new("s.glsl"), text, &mut loader(&[]));
    let lines: Vec<_> = p.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![Some(1), Some(5)]);
    let mixed = "#pragma stage compute\nvoid main(){}\n#pragma stage fragment\nvoid main(){}\n";
    assert!(prepare(Path::new("m.glsl"), mixed, &mut loader(&[])).has_errors());
}

#[test]
fn every_stage_kind_is_recognised() {
    let text = "#version 450 core\n#pragma stage vertex\n#pragma stage tess_control\n#pragma stage tess_evaluation\n\
                #pragma stage geometry\n#pragma stage fragment\n";
    let p = prepare(Path::new("all.glsl"), text, &mut loader(&[]));
    assert!(p.diagnostics.is_empty());
    assert_eq!(p.stages.len(), 5);
    let compute = prepare(Path::new("c.glsl"), "#pragma stage compute\nvoid main(){}\n", &mut loader(&[]));
    assert_eq!(compute.stages.iter().map(|s| s.stage).collect::<Vec<_>>(), vec![Stage::Compute]);
}

#[test]
fn pragma_draw_says_how_a_program_with_its_own_vertex_stage_is_drawn() {
    use allsource_shader::{Draw, Primitive};
    let text = "#pragma draw patches 6 instances 2 patch 3\n#pragma stage vertex\nvoid main(){}\n";
    let p = prepare(Path::new("d.glsl"), text, &mut loader(&[]));
    assert_eq!(p.draw, Draw { mode: Primitive::Patches, count: 6, instances: 2, patch: 3 });
    let bad = prepare(Path::new("d.glsl"), "#pragma draw hexagons 3\n", &mut loader(&[]));
    assert_eq!(bad.diagnostics[0].line, Some(1));
    assert!(bad.diagnostics[0].message.contains("#pragma draw MODE COUNT"));
    assert!(bad.diagnostics[0].message.contains("triangle_fan"), "{}", bad.diagnostics[0].message);
    let fan = prepare(
        Path::new("f.glsl"),
        "#pragma draw triangle_fan 4\n#pragma stage vertex\nvoid main(){}\n",
        &mut loader(&[]),
    );
    assert_eq!(fan.draw.mode, Primitive::TriangleFan);
}

#[test]
fn every_draw_mode_has_one_name_and_the_gl_name_it_comes_from() {
    use allsource_shader::Primitive;
    for p in Primitive::ALL {
        assert_eq!(Primitive::from_name(p.name()), Some(p));
        assert_eq!(Primitive::from_gl_name(&format!("GL_{}", p.name().to_uppercase())), Some(p));
    }
    assert_eq!(Primitive::from_gl_name("GL_TRIANGLE_STRIP_ADJACENCY"), Some(Primitive::TriangleStripAdjacency));
    assert_eq!(Primitive::from_gl_name("TRIANGLES"), None);
    assert_eq!(Primitive::from_gl_name("GL_QUADS"), None);
}

/// A captured driver log (tests/driver-logs, copied from real drivers).
fn driver_log(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/driver-logs").join(name)).unwrap()
}

#[test]
fn link_errors_point_at_the_declaration_they_name() {
    let mut load = loader(&[]);
    // The fragment stage reads an input nothing writes: Mesa and NVIDIA name it; both point at its declaration.
    // (A comment that reads like a declaration is not one.)
    let missing = driver_log("link-missing-output.frag").replace("#version 450 core\n", "// comes in: missing\n");
    let p = prepare(Path::new("scene/main.glsl"), &missing, &mut load);
    for log in ["link-missing-output.mesa-22.3.6-llvmpipe.log", "link-missing-output.nvidia-580.159.04.log"] {
        let d = p.diagnostics_from_log(None, &driver_log(log));
        assert_eq!((d.len(), d[0].line, d[0].stage), (1, Some(2), Some("fragment")), "{log}: {d:?}");
    }
    // Types that do not match between the stages: Mesa names the vertex output, declared on line 3 of the file.
    let pair = format!(
        "#pragma stage vertex\n{}#pragma stage fragment\n{}",
        driver_log("link-type-mismatch.vert"),
        driver_log("link-type-mismatch.frag")
    );
    let p = prepare(Path::new("scene/pair.glsl"), &pair, &mut load);
    let d = p.diagnostics_from_log(None, &driver_log("link-type-mismatch.mesa-22.3.6-llvmpipe.log"));
    assert_eq!((d[0].line, d[0].stage), (Some(3), Some("vertex")), "{d:?}");
    // A name that only a function's parameter or a local has is not a declaration to point at.
    let local = "out vec4 o;\nvec4 f(in vec4 missing) { return missing; }\nvoid main() { vec4 missing = vec4(1.0); o = f(missing); }\n";
    let p = prepare(Path::new("scene/local.glsl"), local, &mut load);
    let d = p.diagnostics_from_log(None, &driver_log("link-missing-output.mesa-22.3.6-llvmpipe.log"));
    assert_eq!(d[0].line, None, "{d:?}");
    // layout(...) before the qualifier is still a declaration.
    let layout = "layout(location = 1) in vec4 missing;\nout vec4 o;\nvoid main() { o = missing; }\n";
    let p = prepare(Path::new("scene/layout.glsl"), layout, &mut load);
    let d = p.diagnostics_from_log(None, &driver_log("link-missing-output.mesa-22.3.6-llvmpipe.log"));
    assert_eq!(d[0].line, Some(1), "{d:?}");
}

#[test]
fn a_shadertoy_pass_gets_the_common_file_after_the_uniforms_and_channels_typed_by_what_they_read() {
    let mut load = loader(&[(
        "scene/common.glsl",
        "#define GAIN 2.0\nvec3 tint() { return vec3(texture2D(iChannel3, vec3(1.0)).r); }\n",
    )]);
    let pass = "#pragma channel 3 cubemap sky.png\n#pragma channel 0 buffer_a\n\
                void mainImage(out vec4 c, in vec2 p) { c = vec4(tint() * GAIN, 0.5); }\n";
    let options = allsource_shader::PassOptions { common: Some(PathBuf::from("scene/common.glsl")), keeps_alpha: true };
    let p = allsource_shader::prepare_pass(Path::new("scene/buffer_a.glsl"), pass, &options, &mut load);
    assert_eq!(p.files, [PathBuf::from("scene/buffer_a.glsl"), PathBuf::from("scene/common.glsl")]);
    // The old spelling in the Common file is a warning on its line there.
    let warnings: Vec<_> = p.diagnostics.iter().map(|d| (d.file.clone(), d.line)).collect();
    assert_eq!(warnings, [(PathBuf::from("scene/common.glsl"), Some(2))], "{:?}", p.diagnostics);
    let fragment = p.stage(Stage::Fragment).unwrap();
    let lines: Vec<&str> = fragment.text.lines().collect();
    let at = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap();
    assert!(at("uniform samplerCube iChannel3;") < at("#define GAIN"), "uniforms first");
    assert!(lines.contains(&"uniform sampler2D iChannel0;"));
    assert!(at("#define GAIN") < at("void mainImage"), "the Common code before the pass's");
    assert_eq!(fragment.origins[at("vec3 tint()")], Origin::File { file: 1, line: 2 });
    assert!(fragment.text.contains("allsource_FragColor = colour;"), "a buffer keeps its alpha");
    assert_eq!(p.channels[3].source, allsource_shader::Source::Cubemap("sky.png".into()));
    // Without Shadertoy mode the Common file is watched (a change to it may turn the mode on) but not compiled in, the
    // channels are the default ones, and a channel pragma is a warning.
    let plain = "#pragma channel 0 buffer_a\nout vec4 o;\nvoid main() { o = vec4(1.0); }\n";
    let p = allsource_shader::prepare_pass(Path::new("scene/main.glsl"), plain, &options, &mut load);
    assert_eq!(p.files.len(), 2);
    assert!(!p.stage(Stage::Fragment).unwrap().text.contains("GAIN"));
    assert_eq!(p.channels[0].source, allsource_shader::Source::Previous);
    assert_eq!((p.diagnostics.len(), p.diagnostics[0].line), (1, Some(1)), "{:?}", p.diagnostics);
    assert!(!p.has_errors());
}
