//! What a run of a fixed number of frames says when it ends: `render` and `run --headless --frames` fail (exit 1,
//! with the diagnostics) when a source never built, and check the output path before rendering anything.

mod common;

use std::path::PathBuf;

use common::{allsource, run};

fn scene(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("allsource-outcome-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

#[test]
fn render_of_a_shader_that_never_builds_fails_with_its_diagnostic_and_still_writes_the_frame() {
    let dir = scene("broken", &[("main.glsl", "out vec4 o;\nvoid main() {\n    o = vec4(nope, 1.0);\n}\n")]);
    let out = dir.join("out.png");
    let output = run(allsource(&["render", "--frames", "3", "--size", "16x16", "--out"]).arg(&out).arg(&dir));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("main.glsl never built"), "{stderr}");
    assert!(stderr.contains("main.glsl:3:"), "the diagnostic with its line: {stderr}");
    assert!(stderr.contains("nope"), "{stderr}");
    assert!(out.is_file(), "the frame (grey, with the error strip) is written all the same");
    assert!(!dir.join(".allsource").exists(), "render keeps nothing beside the scene it reads");
}

#[test]
fn a_lua_scene_whose_main_module_never_builds_fails_the_headless_run() {
    let dir =
        scene("lua", &[("main.lua", "local M = {}\nfunction M.draw()\n  gfx.clear(1, 0, 0, 1)\nend\nreturn M end\n")]);
    let output = run(allsource(&["run", "--headless", "--lockstep", "--frames", "3", "--size", "16x16"]).arg(&dir));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("main.lua never built"), "{stderr}");
    assert!(stderr.contains("main.lua:5:"), "{stderr}");
}

#[test]
fn a_lua_scene_whose_only_version_fails_at_run_time_fails_the_render_with_the_error() {
    let dir = scene(
        "lua-runtime",
        &[("main.lua", "local M = {}\nfunction M.draw()\n  gfx.text(nil, 0, 0)\nend\nreturn M\n")],
    );
    let out = dir.join("frame.png");
    let output = run(allsource(&["render", "--frames", "3", "--size", "16x16", "--out"]).arg(&out).arg(&dir));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("main.lua never built or never ran"), "{stderr}");
    assert!(stderr.contains("main.lua:3:"), "{stderr}");
}

#[test]
fn an_output_path_that_cannot_be_written_fails_before_any_frame_is_rendered() {
    let dir = scene("unwritable", &[("main.glsl", "out vec4 o;\nvoid main() { o = vec4(1.0); }\n")]);
    let out = dir.join("no-such-directory/out.png");
    // Far more frames than the test could render in its time: the check must come first.
    let output = run(allsource(&["render", "--frames", "100000", "--size", "64x64", "--out"]).arg(&out).arg(&dir));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no-such-directory/out.png") && stderr.contains("cannot create"), "{stderr}");
    assert!(!stderr.contains("version 1 built"), "nothing was built before the check: {stderr}");
    let existing = dir.join("keep.png");
    std::fs::write(&existing, b"not touched").unwrap();
    let dir_out = run(allsource(&["render", "--frames", "1", "--size", "8x8", "--out"]).arg(&dir).arg(&dir));
    assert_eq!(dir_out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&dir_out.stderr).contains("is a directory"));
    assert_eq!(std::fs::read(&existing).unwrap(), b"not touched");
}
