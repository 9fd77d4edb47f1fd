//! Files and durability: the file watcher (atomic saves, includes), the persisted last good version and history
//! across restarts, conflicts between unsaved buffers and external writes, autosave, and bad files (deleted,
//! renamed away, not UTF-8, binary, huge) keeping the last good version live.

use std::path::Path;
use std::time::{Duration, Instant};

use allsource_engine::session::{Driver, ScriptDriver, Session};
use allsource_engine::worker::Command;
use allsource_engine::{Clock, Compositor, EngineOptions, HeadlessEngine, Scene};

mod common;
use common::{scene_dir, wait_for};

fn solid(r: f32, g: f32, b: f32) -> String {
    format!("out vec4 o;\nvoid main() {{\n    o = vec4({r:.1}, {g:.1}, {b:.1}, 1.0);\n}}\n")
}

const RED: [u8; 4] = [255, 0, 0, 255];
const GREEN: [u8; 4] = [0, 255, 0, 255];
const BLUE: [u8; 4] = [0, 0, 255, 255];

/// An engine on `dir` at 320x400, with the store in `dir/.allsource` when `store`. In real time, files are looked
/// at only when the watcher says so (no fallback poll within a test's time): what changes, the watcher saw.
fn engine(dir: &Path, clock: Clock, store: bool) -> HeadlessEngine {
    let options = EngineOptions {
        size: (320, 400),
        fps: 30.0,
        clock,
        store,
        fallback_poll: Duration::from_secs(3600),
        ..EngineOptions::default()
    };
    HeadlessEngine::new(Scene::open(dir).unwrap(), options).unwrap()
}

/// Runs console commands on a headless engine in lockstep, as `--script` does, but between Rust steps.
struct Steps {
    driver: ScriptDriver,
    session: Session,
}

impl Steps {
    fn new(dir: &Path, store: bool) -> Steps {
        let mut driver = ScriptDriver::new(engine(dir, Clock::Lockstep, store));
        driver.frames(1).unwrap();
        Steps { driver, session: Session::new(dir) }
    }

    fn run(&mut self, line: &str) {
        let command = allsource_editor::command::parse(line).unwrap().unwrap();
        if let Err(e) = self.session.execute(&mut self.driver, command) {
            panic!("`{line}` failed: {e}\nconsole:\n{}", self.console());
        }
    }

    fn compositor(&mut self) -> &mut Compositor {
        self.driver.compositor()
    }

    /// The next frame's pixel near the right edge, above the console: the scene, beside the editor's code.
    fn pixel(&mut self) -> [u8; 4] {
        self.driver.frames(1).unwrap();
        self.driver.engine.image().pixel(310, 220)
    }

    /// Composes frames for twice the autosave idle time: long enough for any autosave to have happened.
    fn idle(&mut self) {
        let until = Instant::now() + allsource_editor::AUTOSAVE_IDLE * 2;
        while Instant::now() < until {
            self.pixel();
        }
    }

    fn console(&mut self) -> String {
        let log = self.compositor().overlay.editor.log.clone();
        log.since(0).into_iter().map(|l| l.text).collect::<Vec<_>>().join("\n")
    }

    fn buffer(&mut self) -> String {
        self.compositor().overlay.editor.active().map(|(_, t)| t.to_owned()).unwrap_or_default()
    }
}

fn replace_atomically(path: &Path, text: &str) {
    let temp = path.with_file_name(format!(".{}.tmp", path.file_name().unwrap().to_string_lossy()));
    std::fs::write(&temp, text).unwrap();
    std::fs::rename(&temp, path).unwrap();
}

#[test]
fn an_atomic_rename_save_a_delete_and_recreate_and_a_double_write_are_each_picked_up_and_rebuilt() {
    let dir = scene_dir("files-atomic", &[("main.glsl", &solid(1.0, 0.0, 0.0))]);
    let main = dir.join("main.glsl");
    let mut e = engine(&dir, Clock::Realtime, false);
    wait_for(&mut e, RED, 20);
    replace_atomically(&main, &solid(0.0, 1.0, 0.0));
    wait_for(&mut e, GREEN, 20);
    std::fs::remove_file(&main).unwrap();
    std::fs::write(&main, solid(0.0, 0.0, 1.0)).unwrap();
    wait_for(&mut e, BLUE, 20);
    let builds = e.compositor().status().builds;
    let writing = Instant::now();
    std::fs::write(&main, solid(1.0, 0.0, 0.0)).unwrap();
    std::fs::write(&main, solid(1.0, 0.0, 0.0)).unwrap();
    let gap = writing.elapsed();
    wait_for(&mut e, RED, 20);
    let failed: Vec<_> = e.compositor().status().diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(failed.is_empty(), "no build saw a missing or half-written file: {failed:?}");
    // Two writes closer than the watcher's 20 ms debounce are one change. On a machine too busy to make the second
    // write within half of that, the worker may read between them: then it builds each.
    let extra = e.compositor().status().builds - builds;
    if gap < Duration::from_millis(10) {
        assert_eq!(extra, 1, "an editor writing twice costs one build");
    } else {
        assert!((1..=2).contains(&extra), "{extra} builds for two writes {gap:?} apart");
    }
}

#[test]
fn a_change_to_an_included_file_rebuilds_every_shader_that_includes_it() {
    let colour = |c: &str| format!("const vec3 COLOUR = vec3({c});\n");
    let main = "#include \"colour.glsl\"\nout vec4 o;\nvoid main() { o = vec4(COLOUR, 1.0); }\n";
    let dir = scene_dir("files-include", &[("main.glsl", main), ("colour.glsl", &colour("1.0, 0.0, 0.0"))]);
    let mut e = engine(&dir, Clock::Realtime, false);
    wait_for(&mut e, RED, 20);
    replace_atomically(&dir.join("colour.glsl"), &colour("0.0, 0.0, 1.0"));
    wait_for(&mut e, BLUE, 20);
    // In a Lua scene, two shaders include it: both rebuild.
    let lua = "local M = {}\nlocal a = gfx.shader('a.glsl')\nlocal b = gfx.shader('b.glsl')\n\
               function M.draw() gfx.draw{ shader = a } gfx.draw{ shader = b } end\nreturn M\n";
    let half = |side: &str| {
        format!(
            "#include \"colour.glsl\"\nout vec4 o;\nvoid main() {{ if ({side}) discard; o = vec4(COLOUR, 1.0); }}\n"
        )
    };
    let dir = scene_dir(
        "files-include-lua",
        &[
            ("main.lua", lua),
            ("a.glsl", &half("gl_FragCoord.x > 160.0")),
            ("b.glsl", &half("gl_FragCoord.x < 160.0")),
            ("colour.glsl", &colour("1.0, 0.0, 0.0")),
        ],
    );
    let mut e = engine(&dir, Clock::Realtime, false);
    wait_for(&mut e, RED, 20);
    assert_eq!(e.image().pixel(20, 100), RED);
    replace_atomically(&dir.join("colour.glsl"), &colour("0.0, 1.0, 0.0"));
    let start = Instant::now();
    while e.image().pixel(20, 100) != GREEN || e.image().pixel(300, 100) != GREEN {
        assert!(start.elapsed() < Duration::from_secs(20), "both halves turn green");
        e.frame();
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_broken_file_at_start_up_runs_the_persisted_last_good_version_with_its_diagnostics_and_history_survives() {
    let dir = scene_dir("files-persisted", &[("main.glsl", &solid(1.0, 0.0, 0.0))]);
    {
        let mut s = Steps::new(&dir, true);
        assert_eq!(s.pixel(), RED);
        s.driver.engine.send(Command::Edit { path: dir.join("main.glsl"), text: solid(0.0, 1.0, 0.0) });
        assert_eq!(s.pixel(), GREEN);
    }
    // Between sessions the file breaks (a bad merge, an external editor's half-finished change).
    std::fs::write(dir.join("main.glsl"), "out vec4 o;\nvoid main() {\n    o = vec4(oops);\n}\n").unwrap();
    let mut s = Steps::new(&dir, true);
    assert_eq!(s.pixel(), GREEN, "the last good version of the previous session runs, not a black frame");
    let status = s.compositor().status().clone();
    let error = status.diagnostics.iter().find(|d| d.is_error()).expect("the file's error is shown");
    assert_eq!((error.file.clone(), error.line), (dir.join("main.glsl"), Some(3)), "{error}");
    s.run("undo main.glsl");
    assert_eq!(s.pixel(), RED, "undo reaches the previous session's versions");
    s.run("redo main.glsl");
    assert_eq!(s.pixel(), GREEN);
}

const FILL: &str = "uniform vec4 colour;\nout vec4 o;\nvoid main() { o = colour; }\n";

fn lua_main(colour: &str) -> String {
    format!(
        "local M = {{}}\nlocal fill = gfx.shader('fill.glsl')\nlocal lib = require('lib')\n\
         function M.draw() gfx.draw{{ shader = fill, uniforms = {{ colour = lib.colour() }} }} end\nreturn M\n{colour}"
    )
}

fn lua_lib(colour: &str) -> String {
    format!("local L = {{}}\nfunction L.colour() return {{ {colour} }} end\nreturn L\n")
}

#[test]
fn a_lua_scene_whose_module_breaks_between_sessions_starts_on_its_last_good_version() {
    let dir = scene_dir(
        "files-persisted-lua",
        &[("main.lua", &lua_main("")), ("lib.lua", &lua_lib("0, 0, 1, 1")), ("fill.glsl", FILL)],
    );
    {
        let mut s = Steps::new(&dir, true);
        assert_eq!(s.pixel(), BLUE);
    }
    std::fs::write(dir.join("lib.lua"), "local L = {}\nfunction L.colour() return { 1, 0, 0, 1 end\nreturn L\n")
        .unwrap();
    std::fs::write(dir.join("fill.glsl"), "uniform vec4 colour;\nout vec4 o;\nvoid main() { o = colour }\n").unwrap();
    let mut s = Steps::new(&dir, true);
    assert_eq!(s.pixel(), BLUE, "module and shader both run their last good versions");
    let status = s.compositor().status().clone();
    let console = s.console();
    assert!(console.contains("lib.lua:2"), "the module's error on its line:\n{console}");
    assert!(console.contains("fill.glsl:3"), "the shader's error on its line:\n{console}");
    assert!(status.worker_died.is_none());
    std::fs::write(dir.join("lib.lua"), lua_lib("0, 1, 0, 1")).unwrap();
    std::fs::write(dir.join("fill.glsl"), FILL).unwrap();
    assert_eq!(s.pixel(), GREEN, "fixed files build as the next versions");
}

#[test]
fn deleted_renamed_non_utf8_binary_and_huge_files_keep_the_last_good_version_with_a_diagnostic() {
    let dir = scene_dir(
        "files-bad",
        &[("main.lua", &lua_main("")), ("lib.lua", &lua_lib("0, 0, 1, 1")), ("fill.glsl", FILL)],
    );
    let mut s = Steps::new(&dir, false);
    assert_eq!(s.pixel(), BLUE);
    let lib = dir.join("lib.lua");
    let expect = |s: &mut Steps, what: &str, needle: &str| {
        assert_eq!(s.pixel(), BLUE, "{what}: the last good version stays live");
        let d = &s.compositor().status().diagnostics;
        assert!(d.iter().any(|d| d.file == lib && d.message.contains(needle)), "{what}: {d:?}");
    };
    std::fs::remove_file(&lib).unwrap();
    expect(&mut s, "deleted", "cannot read the file");
    std::fs::write(&lib, lua_lib("0, 0, 1, 1")).unwrap();
    s.pixel();
    std::fs::rename(&lib, dir.join("lib.old")).unwrap();
    expect(&mut s, "renamed away", "cannot read the file");
    std::fs::write(&lib, b"local L = {}\n-- caf\xe9\nreturn L\n").unwrap();
    expect(&mut s, "Latin-1", "not UTF-8");
    std::fs::write(&lib, (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect::<Vec<u8>>()).unwrap();
    expect(&mut s, "binary garbage", "not UTF-8");
    std::fs::write(&lib, "\0\u{1}return\0 {}\n").unwrap();
    expect(&mut s, "control characters", "unexpected symbol");
    std::fs::write(&lib, format!("return {{}}\n--{}", "x".repeat(5 << 20))).unwrap();
    expect(&mut s, "huge", "larger than");
    std::fs::write(&lib, lua_lib("0, 1, 0, 1")).unwrap();
    assert_eq!(s.pixel(), GREEN, "a good file again builds");
}

#[test]
fn an_unsaved_buffer_whose_file_changes_on_disk_keeps_both_until_the_user_chooses() {
    let dir = scene_dir("files-conflict", &[("main.glsl", &solid(1.0, 0.0, 0.0))]);
    let main = dir.join("main.glsl");
    let mut s = Steps::new(&dir, false);
    s.run("open main.glsl");
    s.run("goto 3 14");
    s.run("type 0.0, 0.0, 1.0, 1.0); //");
    assert_eq!(s.pixel(), BLUE, "the buffer's edit runs");
    let mine = s.buffer();
    // Another editor writes the file meanwhile.
    replace_atomically(&main, &solid(0.0, 1.0, 0.0));
    assert_eq!(s.pixel(), BLUE, "nothing was built over the unsaved edits");
    assert_eq!(s.buffer(), mine, "the buffer keeps them");
    assert_eq!(std::fs::read_to_string(&main).unwrap(), solid(0.0, 1.0, 0.0), "the file is not overwritten");
    let console = s.console();
    assert!(console.contains("main.glsl changed on disk while its buffer has unsaved edits"), "{console}");
    assert_eq!(s.compositor().overlay.editor.conflict_of(&main), Some(solid(0.0, 1.0, 0.0).as_str()));
    // Nothing autosaves over the file while the conflict stands.
    s.idle();
    assert_eq!(std::fs::read_to_string(&main).unwrap(), solid(0.0, 1.0, 0.0));
    // Take the file's side: the buffer and the picture follow it; the buffer's text stays in version undo.
    s.run("reload main.glsl");
    assert_eq!(s.pixel(), GREEN);
    assert_eq!(s.buffer(), solid(0.0, 1.0, 0.0));
    assert_eq!(s.compositor().overlay.editor.conflict_of(&main), None);
    s.run("undo main.glsl");
    assert_eq!(s.pixel(), BLUE);
    assert_eq!(s.buffer(), mine);
    // Or keep the buffer's: a conflict again, then `save` writes it over the file.
    replace_atomically(&main, &solid(1.0, 0.0, 0.0));
    assert_eq!(s.pixel(), BLUE);
    assert!(s.compositor().overlay.editor.conflict_of(&main).is_some());
    s.run("save");
    assert_eq!(std::fs::read_to_string(&main).unwrap(), mine);
    assert_eq!(s.compositor().overlay.editor.conflict_of(&main), None);
    assert_eq!(s.pixel(), BLUE, "the engine's own write is not read back as a change");
}

#[test]
fn a_clean_buffer_follows_its_file_and_an_edit_is_written_to_disk_once_it_builds_and_the_buffer_is_idle() {
    let dir = scene_dir("files-autosave", &[("main.glsl", &solid(1.0, 0.0, 0.0))]);
    let main = dir.join("main.glsl");
    let mut s = Steps::new(&dir, false);
    s.run("open main.glsl");
    replace_atomically(&main, &solid(0.0, 1.0, 0.0));
    assert_eq!(s.pixel(), GREEN);
    assert_eq!(s.buffer(), solid(0.0, 1.0, 0.0), "a buffer without unsaved edits follows its file");
    // A broken edit is never written to the file.
    s.run("goto 1 1");
    s.run("type x");
    assert!(s.compositor().status().failing);
    s.idle();
    assert_eq!(std::fs::read_to_string(&main).unwrap(), solid(0.0, 1.0, 0.0), "a broken buffer is not written");
    assert!(s.compositor().overlay.editor.unsaved(&main));
    // One that builds is, once the buffer has been idle for a moment.
    s.run("key Backspace");
    s.run("goto 3 14");
    // From before the keystrokes, so that a busy machine only makes the wait look longer.
    let typed = Instant::now();
    s.run("type 1.0+");
    assert_eq!(s.pixel(), [255, 255, 0, 255]);
    let written = solid(0.0, 1.0, 0.0).replace("vec4(0.0", "vec4(1.0+0.0");
    while std::fs::read_to_string(&main).unwrap() != written {
        assert!(typed.elapsed() < Duration::from_secs(10), "the built edit reaches the file");
        s.pixel();
    }
    assert!(typed.elapsed() >= allsource_editor::AUTOSAVE_IDLE, "not while the user is typing");
    assert_eq!(s.pixel(), [255, 255, 0, 255], "the engine's own write is not read back as a change");
    assert!(!s.compositor().overlay.editor.unsaved(&main));
}

#[test]
fn edits_recovered_from_the_journal_run_at_start_up_and_are_written_once_they_build() {
    let dir = scene_dir(
        "files-journal-lua",
        &[("main.lua", &lua_main("")), ("lib.lua", &lua_lib("0, 0, 1, 1")), ("fill.glsl", FILL)],
    );
    // What an engine killed in the middle of typing leaves: the journal holds buffers the files do not have.
    {
        let (mut journal, _) = allsource_store::Journal::open(&allsource_store::dir_of(&dir)).unwrap();
        journal.record(Path::new("lib.lua"), &lua_lib("0, 0, 1, 1")).unwrap();
        journal.record(Path::new("lib.lua"), &lua_lib("0, 1, 0, 1")).unwrap();
        journal.record(Path::new("fill.glsl"), FILL).unwrap();
        std::mem::forget(journal);
    }
    let mut s = Steps::new(&dir, true);
    assert_eq!(s.pixel(), GREEN, "the recovered module runs");
    let console = s.console();
    assert!(console.contains("recovered lib.lua from the journal: 2 changes"), "{console}");
    assert!(!console.contains("recovered fill.glsl"), "a buffer equal to its file is not news:\n{console}");
    assert!(s.compositor().overlay.editor.unsaved(&dir.join("lib.lua")));
    let start = Instant::now();
    while std::fs::read_to_string(dir.join("lib.lua")).unwrap() != lua_lib("0, 1, 0, 1") {
        assert!(start.elapsed() < Duration::from_secs(10), "the recovered buffer is written once it built");
        s.pixel();
    }
    assert_eq!(s.pixel(), GREEN);
    drop(s);
    assert!(!allsource_store::dir_of(&dir).join("journal").exists(), "a clean stop with nothing unsaved ends it");
}

#[test]
fn a_file_changed_while_the_engine_was_down_is_a_conflict_with_the_recovered_buffer() {
    let dir = scene_dir("files-journal-conflict", &[("main.glsl", &solid(1.0, 0.0, 0.0))]);
    let main = dir.join("main.glsl");
    {
        let (mut journal, _) = allsource_store::Journal::open(&allsource_store::dir_of(&dir)).unwrap();
        journal.record(Path::new("main.glsl"), &solid(1.0, 0.0, 0.0)).unwrap();
        journal.record_disk(Path::new("main.glsl"), allsource_store::text_hash(&solid(1.0, 0.0, 0.0))).unwrap();
        journal.record(Path::new("main.glsl"), &solid(0.0, 0.0, 1.0)).unwrap();
        std::mem::forget(journal); // killed with that edit unsaved
    }
    // Meanwhile another editor (or git) changes the file.
    std::fs::write(&main, solid(0.0, 1.0, 0.0)).unwrap();
    let mut s = Steps::new(&dir, true);
    assert_eq!(s.pixel(), BLUE, "the recovered buffer runs");
    let console = s.console();
    assert!(console.contains("its file changed while the engine was not running"), "{console}");
    assert_eq!(s.compositor().overlay.editor.conflict_of(&main), Some(solid(0.0, 1.0, 0.0).as_str()));
    s.idle();
    assert_eq!(std::fs::read_to_string(&main).unwrap(), solid(0.0, 1.0, 0.0), "the file is not overwritten");
    s.run("reload main.glsl");
    assert_eq!(s.pixel(), GREEN, "the file's side taken");
}
