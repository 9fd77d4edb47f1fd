//! Whether a run went well: a source none of whose versions ever built makes the run fail
//! (`Status::ended_well`); a source that built once, or builds later, does not. And a source that cannot build
//! for want of a file is built again when that file appears, not every frame.

use std::path::{Path, PathBuf};

use allsource_engine::worker::Command;
use allsource_engine::{Clock, EngineOptions, Error, HeadlessEngine, Scene};

fn scene(name: &str, main: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("allsource-outcome-engine-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.glsl"), main).unwrap();
    dir
}

fn engine(dir: &Path) -> HeadlessEngine {
    let options = EngineOptions { size: (8, 8), clock: Clock::Lockstep, store: false, ..EngineOptions::default() };
    HeadlessEngine::new(Scene::open(dir).unwrap(), options).unwrap()
}

const GOOD: &str = "out vec4 o;\nvoid main() { o = vec4(0.0, 1.0, 0.0, 1.0); }\n";
const BROKEN: &str = "out vec4 o;\nvoid main() { o = vec4(nope); }\n";

#[test]
fn a_source_that_never_built_fails_the_run_until_a_version_of_it_builds() {
    let dir = scene("never", BROKEN);
    let mut engine = engine(&dir);
    engine.frame_lockstep(0).unwrap();
    match engine.compositor().status().ended_well() {
        Err(Error::NeverBuilt(sources)) => {
            assert_eq!(sources.len(), 1);
            assert_eq!(sources[0].0, dir.join("main.glsl"));
            assert_eq!(sources[0].1[0].line, Some(2), "{:?}", sources[0].1);
        }
        other => panic!("expected a failed run, got {other:?}"),
    }
    engine.send(Command::Edit { path: dir.join("main.glsl"), text: GOOD.into() });
    engine.frame_lockstep(1).unwrap();
    assert!(engine.compositor().status().ended_well().is_ok());
    assert_eq!(engine.image().pixel(4, 4), [0, 255, 0, 255]);
}

#[test]
fn a_failed_edit_of_a_source_that_built_does_not_fail_the_run() {
    let dir = scene("built", GOOD);
    let mut engine = engine(&dir);
    engine.frame_lockstep(0).unwrap();
    engine.send(Command::Edit { path: dir.join("main.glsl"), text: BROKEN.into() });
    engine.frame_lockstep(1).unwrap();
    let status = engine.compositor().status();
    assert!(status.failing, "the edit did not build");
    assert!(status.ended_well().is_ok(), "the version that built is still live: {:?}", status.ended_well());
}

#[test]
fn a_missing_include_is_reported_once_and_built_again_only_when_it_appears() {
    let dir = scene("missing-include", "#include \"lib.glsl\"\nout vec4 o;\nvoid main() { o = colour(); }\n");
    let mut engine = engine(&dir);
    for i in 0..20 {
        engine.frame_lockstep(i).unwrap();
    }
    let status = engine.compositor().status();
    assert_eq!(status.builds, 1, "one failed build, not one a frame");
    assert!(status.diagnostics[0].message.contains("cannot include `lib.glsl`"), "{:?}", status.diagnostics);
    std::fs::write(dir.join("lib.glsl"), "vec4 colour() { return vec4(0.0, 0.0, 1.0, 1.0); }\n").unwrap();
    engine.frame_lockstep(20).unwrap();
    engine.frame_lockstep(21).unwrap();
    let status = engine.compositor().status();
    assert_eq!(status.builds, 2, "the include appeared: one build");
    assert_eq!(status.live_version, Some(2));
    assert_eq!(engine.image().pixel(4, 4), [0, 0, 255, 255]);
}

#[test]
fn a_shader_nested_thousands_of_levels_deep_builds_instead_of_overflowing_the_worker_stack() {
    // Mesa's compiler recurses once per level: 5 000 levels overflowed a default 2 MiB thread stack, which aborts
    // the process.
    let mut expression = "x".to_owned();
    for _ in 0..5000 {
        expression = format!("({expression} + 0.0001)");
    }
    let text =
        format!("out vec4 o;\nvoid main() {{\n    float x = 0.0;\n    o = vec4(0.0, {expression}, 0.0, 1.0);\n}}\n");
    let dir = scene("deep", &text);
    let mut engine = engine(&dir);
    engine.frame_lockstep(0).unwrap();
    assert_eq!(engine.compositor().status().live_version, Some(1), "{:?}", engine.compositor().status().diagnostics);
    let [r, g, b, a] = engine.image().pixel(4, 4);
    assert_eq!((r, b, a), (0, 0, 255));
    assert!((127..=128).contains(&g), "0.5 in green: {g}");
}
