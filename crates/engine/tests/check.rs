//! `allsource check` on this machine's driver: what a user sees for one mistake.

use allsource_engine::check::check;

#[test]
fn one_undeclared_name_is_one_diagnostic_with_the_failed_call_as_a_note() {
    let dir = std::env::temp_dir().join(format!("allsource-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("main.glsl");
    std::fs::write(&file, "out vec4 o;\nvoid main() {\n    o = vec4(mix(nope, vec3(1.0), 0.5), 1.0);\n}\n").unwrap();
    let report = check(std::slice::from_ref(&file)).unwrap();
    // Mesa 22 reports the name, the call to mix with an `error` argument, and each of mix's 36 overloads as errors.
    assert_eq!(report.diagnostics.len(), 1, "{:#?}", report.diagnostics);
    let d = &report.diagnostics[0];
    assert_eq!((d.line, d.column, d.stage), (Some(3), Some(18), Some("fragment")));
    assert!(d.message.starts_with("`nope' undeclared"), "{d}");
    assert!(d.message.contains("mix(error, vec3, float)"), "the failed call is a note: {d}");
}

#[test]
fn a_mistake_in_text_two_stages_share_is_one_diagnostic_naming_both() {
    let dir = std::env::temp_dir().join(format!("allsource-check-shared-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("main.glsl");
    let text = "#version 450 core\nfloat k() { return nope; }\n#pragma stage vertex\nvoid main() { gl_Position = vec4(k()); }\n\
                #pragma stage fragment\nout vec4 o;\nvoid main() { o = vec4(k()); }\n";
    std::fs::write(&file, text).unwrap();
    let report = check(std::slice::from_ref(&file)).unwrap();
    assert_eq!(report.diagnostics.len(), 1, "{:#?}", report.diagnostics);
    let d = &report.diagnostics[0];
    assert_eq!((d.line, d.stage), (Some(2), None));
    assert!(d.message.starts_with("`nope' undeclared"), "{d}");
    assert!(d.message.ends_with("in the vertex and fragment stages, which share this text"), "{d}");
}
