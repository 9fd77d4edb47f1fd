//! The piglit runner on small .shader_test files of its own (piglit itself need not be installed): what passes,
//! what fails and why, what is skipped. The comparison with piglit's shader_runner over the installed suite runs
//! in `.ci/run`.

use std::path::PathBuf;

use allsource_piglit::{Outcome, Runner};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn outcome(runner: &mut Runner, name: &str) -> Outcome {
    runner.run_file(&data(name))
}

#[test]
fn shader_tests_pass_fail_and_skip_as_shader_runner_would() {
    // One runner: the tests share its context, so this also checks that each leaves it clean for the next.
    let mut runner = Runner::new().expect("a headless GL context (Mesa's EGL drivers)");
    for name in ["draw-rect-probe", "tessellation-patches", "compute-ssbo", "link-error"] {
        assert_eq!(outcome(&mut runner, &format!("{name}.shader_test")), Outcome::Pass, "{name}");
    }

    let failed = outcome(&mut runner, "probe-fails.shader_test");
    assert!(
        matches!(&failed, Outcome::Fail(r) if r.contains("line 18: probe at (200, 100): expected 1.000 0.000 0.000 1.000, observed 0.000 0.000 1.000 1.000")),
        "{failed:?}"
    );

    let compile = outcome(&mut runner, "compile-error.shader_test");
    assert!(
        matches!(&compile, Outcome::Fail(r) if r.contains("line 10 (fragment)") && r.contains("undeclared")),
        "the compiler's error on the test file's own line: {compile:?}"
    );

    let unsupported = outcome(&mut runner, "unsupported-command.shader_test");
    assert!(
        matches!(&unsupported, Outcome::Skip(r) if r.contains("line 13") && r.contains("fb ms")),
        "an unknown command skips, never passes: {unsupported:?}"
    );

    let missing = outcome(&mut runner, "missing-extension.shader_test");
    assert!(matches!(&missing, Outcome::Skip(r) if r.contains("GL_ALLSOURCE_no_such_extension")), "{missing:?}");

    // And the first again, after all of that on the same context.
    assert_eq!(outcome(&mut runner, "draw-rect-probe.shader_test"), Outcome::Pass);
}

#[test]
fn older_glsl_runs_in_a_compatibility_context_and_block_uniforms_textures_and_draw_state_work() {
    // Core and compatibility tests interleaved on one runner: each context is made current for its tests and left
    // clean (projection, clip planes, provoking vertex, polygon mode) for the next.
    let mut runner = Runner::new().expect("a headless GL context (Mesa's EGL drivers)");
    // compat-defaults after compat-ortho-clip: its projection and clip plane must not be left behind.
    for name in [
        "compat-ortho-clip",
        "compat-defaults",
        "ubo-array-index",
        "compat-quads-provoking",
        "textures-units-shadow-miptree",
        "compat-ortho-clip",
        "draw-rect-probe",
        "compat-defaults",
        "compat-quads-provoking",
    ] {
        assert_eq!(outcome(&mut runner, &format!("{name}.shader_test")), Outcome::Pass, "{name}");
    }
}

#[test]
fn directories_are_searched_for_shader_tests_in_order() {
    let files = allsource_piglit::collect(&[data("")]).unwrap();
    let names: Vec<String> = files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    let expected = [
        "compat-defaults.shader_test",
        "compat-ortho-clip.shader_test",
        "compat-quads-provoking.shader_test",
        "compile-error.shader_test",
        "compute-ssbo.shader_test",
        "draw-rect-probe.shader_test",
        "link-error.shader_test",
        "missing-extension.shader_test",
        "probe-fails.shader_test",
        "tessellation-patches.shader_test",
        "textures-units-shadow-miptree.shader_test",
        "ubo-array-index.shader_test",
        "unsupported-command.shader_test",
    ];
    assert_eq!(names, expected, "every .shader_test file of the directory, once each, in name order");
    assert!(files.iter().all(|f| f.parent() == Some(data("").as_path())), "{files:?}");
    assert!(allsource_piglit::collect(&[data("nope.shader_test")]).is_err());

    // Subdirectories are searched too, in the same order; other files are left out; a file named is taken as is.
    let tree = std::env::temp_dir().join(format!("allsource-piglit-collect-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tree);
    for file in ["b/z.shader_test", "a.shader_test", "a/y/x.shader_test", "a/notes.txt", "c.shader_test.orig"] {
        std::fs::create_dir_all(tree.join(file).parent().unwrap()).unwrap();
        std::fs::write(tree.join(file), "").unwrap();
    }
    let named = data("link-error.shader_test");
    let files = allsource_piglit::collect(&[tree.clone(), named.clone()]).unwrap();
    let expected = [tree.join("a/y/x.shader_test"), tree.join("a.shader_test"), tree.join("b/z.shader_test"), named];
    assert_eq!(files, expected);
    std::fs::remove_dir_all(&tree).unwrap();
}
