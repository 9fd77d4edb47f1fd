//! Module reloads in place: persisted state, objects and cached requires that see new functions, errors that keep
//! or bring back the last good version, unloading, and the CHECKHOOK build that lets a JIT-compiled loop be
//! interrupted.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use allsource_lua::{INTERRUPTED, Id, ModuleHost, Owner};

mod common;
use common::Recorder;

struct Scene {
    dir: PathBuf,
    host: ModuleHost<Recorder>,
    objects: Arc<Mutex<HashMap<Id, Owner>>>,
}

impl Scene {
    fn new(name: &str, files: &[(&str, &str)]) -> Scene {
        let dir = std::env::temp_dir().join(format!("allsource-lua-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (file, text) in files {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let recorder = Recorder::default();
        let objects = recorder.live.clone();
        let mut host = ModuleHost::new(&dir, recorder).unwrap();
        let reports = host.start();
        assert!(reports.iter().all(|r| r.diagnostics.is_empty()), "{reports:?}");
        // A whole frame: the first versions ran, and a revert may come back to them.
        host.end_frame_unjudged();
        Scene { dir, host, objects }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    fn edit(&mut self, file: &str, text: &str) -> Vec<allsource_live::Report> {
        self.host.edit(&self.path(file), text).expect("a module of the scene")
    }

    fn eval(&mut self, code: &str) -> String {
        self.host.eval(code).unwrap()
    }
}

const COUNTER: &str = "local M = {}
local state = persist('state', function() return { count = 0 } end)
function M.update(dt) state.count = state.count + 1 end
function M.count() return state.count end
return M
";

#[test]
fn a_persisted_counter_keeps_counting_across_a_reload() {
    let mut s = Scene::new("counter", &[("main.lua", COUNTER)]);
    for _ in 0..3 {
        assert!(s.host.call("update", 0.016).is_empty());
    }
    let reports = s.edit("main.lua", &COUNTER.replace("state.count + 1", "state.count + 10"));
    assert!(reports[0].became_live, "{reports:?}");
    s.host.call("update", 0.016);
    assert_eq!(s.eval("return require('main').count()"), "13");
}

#[test]
fn an_object_made_before_a_reload_uses_the_new_method_and_new_objects_share_its_class() {
    let v1 = "local M = {}
local Point = {}
Point.__index = Point
function Point.new(x) return setmetatable({ x = x }, Point) end
function Point:describe() return 'v1 ' .. self.x end
M.Point = Point
local old = persist('old', function() return Point.new(1) end)
function M.old() return old end
return M
";
    let mut s = Scene::new("object", &[("main.lua", v1)]);
    assert_eq!(s.eval("return require('main').old():describe()"), "v1 1");
    s.edit("main.lua", &v1.replace("'v1 '", "'v2 '"));
    assert_eq!(s.eval("return require('main').old():describe()"), "v2 1");
    assert_eq!(
        s.eval("local m = require('main') return tostring(getmetatable(m.Point.new(2)) == getmetatable(m.old()))"),
        "true",
        "objects made after the reload have the same class as those made before"
    );
}

#[test]
fn another_modules_cached_require_sees_the_new_function_and_data_merges_three_ways() {
    let lib = "local L = { setting = 1, count = 0 }\nfunction L.greet() return 'hello' end\nreturn L\n";
    let main = "local lib = require('lib.words')\nlocal M = {}\nfunction M.say() return lib.greet() .. ' ' .. lib.setting .. ' ' .. lib.count end\nreturn M\n";
    let mut s = Scene::new("require", &[("main.lua", main), ("lib/words.lua", lib)]);
    assert_eq!(s.eval("return require('main').say()"), "hello 1 0");
    s.eval("local w = require('lib.words') w.setting = 7 w.count = 5");
    s.edit("lib/words.lua", &lib.replace("'hello'", "'bonjour'").replace("setting = 1", "setting = 2"));
    assert_eq!(
        s.eval("return require('main').say()"),
        "bonjour 2 5",
        "new function; the field the source changed takes the source's value, the one it left keeps the running value"
    );
    s.edit("lib/words.lua", &lib.replace("'hello'", "'hi'").replace("setting = 1", "setting = 2"));
    assert_eq!(s.eval("return require('main').say()"), "hi 2 5");
}

#[test]
fn a_syntax_error_keeps_the_old_version_live_and_names_file_and_line() {
    let mut s = Scene::new("syntax", &[("main.lua", COUNTER)]);
    let broken = COUNTER.replace("function M.count()", "function M.count(");
    let reports = s.edit("main.lua", &broken);
    let d = &reports[0].diagnostics[0];
    assert!(!reports[0].became_live);
    assert_eq!(reports[0].verdict, None, "a syntax error is a build that failed");
    assert_eq!((d.file.clone(), d.line), (s.path("main.lua"), Some(4)), "{d}");
    assert_eq!(reports[0].live_version, Some(1));
    s.host.call("update", 0.0);
    assert_eq!(s.eval("return require('main').count()"), "1", "version 1 still runs");
}

#[test]
fn a_runtime_error_in_update_reverts_to_the_last_good_version_with_a_diagnostic() {
    let mut s = Scene::new("runtime", &[("main.lua", COUNTER)]);
    let bad = COUNTER.replace("state.count = state.count + 1", "state.count = state.count + missing.field");
    let reports = s.edit("main.lua", &bad);
    assert!(reports[0].became_live, "it builds: the error is only at run time");
    let reports = s.host.call("update", 0.016);
    let d = &reports[0].diagnostics[0];
    assert_eq!((d.file.clone(), d.line), (s.path("main.lua"), Some(3)), "{d}");
    assert!(d.message.contains("in update()") && d.message.contains("missing"), "{d}");
    assert_eq!(reports[0].live_version, Some(1), "version 1 is live again");
    assert!(s.host.call("update", 0.016).is_empty(), "and runs");
    assert_eq!(s.eval("return require('main').count()"), "1");
}

#[test]
fn undo_and_redo_move_a_module_between_its_versions_in_place() {
    let mut s = Scene::new("undo", &[("main.lua", "local M = {}\nfunction M.v() return 1 end\nreturn M\n")]);
    s.edit("main.lua", "local M = {}\nfunction M.v() return 2 end\nreturn M\n");
    s.eval("cached = require('main')");
    let main = s.path("main.lua");
    s.host.undo(&main).unwrap();
    assert_eq!(s.eval("return cached.v()"), "1", "the table a caller already holds runs version 1 again");
    s.host.redo(&main).unwrap();
    assert_eq!(s.eval("return cached.v()"), "2");
}

#[test]
fn a_module_with_no_version_that_runs_is_disabled_until_an_edit_builds() {
    let mut s =
        Scene::new("disabled", &[("main.lua", "local M = {}\nfunction M.update() error('always') end\nreturn M\n")]);
    let reports = s.host.call("update", 0.0);
    assert_eq!(reports[0].live_version, None);
    assert!(reports[0].diagnostics[1].message.contains("disabled"), "{reports:?}");
    assert!(s.host.call("update", 0.0).is_empty(), "a disabled module's callbacks are not called");
    let reports = s.edit("main.lua", "local M = {}\nfunction M.update() end\nreturn M\n");
    assert!(reports[0].became_live);
}

#[test]
fn unloading_a_module_frees_the_objects_it_created() {
    let lib = "local L = {}\nL.b = gfx.buffer(64)\nL.t = gfx.target(8, 8)\nL.s = gfx.shader('x.glsl')\nreturn L\n";
    let main = "local M = {}\nM.keep = gfx.buffer(16)\nfunction M.use() return require('lib') end\nreturn M\n";
    let mut s = Scene::new("unload", &[("main.lua", main), ("lib.lua", lib)]);
    assert_eq!(s.objects.lock().unwrap().len(), 1);
    s.eval("require('main').use()");
    assert_eq!(s.objects.lock().unwrap().len(), 4);
    assert!(s.host.unload("lib"));
    assert_eq!(s.objects.lock().unwrap().len(), 1, "lib's three objects are freed, main's buffer is not");
    // An object nothing holds any more is freed too.
    s.eval("local b = gfx.buffer(4) b = nil");
    s.host.collect_garbage();
    assert_eq!(s.objects.lock().unwrap().len(), 1);
}

#[test]
fn a_jit_compiled_infinite_loop_is_interrupted_by_the_hook() {
    let mut s = Scene::new("interrupt", &[("main.lua", "return {}\n")]);
    let interrupter = s.host.interrupter();
    let armed = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        interrupter.arm();
    });
    let start = Instant::now();
    // Compiled by the JIT after a few dozen iterations: without LUAJIT_ENABLE_CHECKHOOK nothing stops it.
    let result = s.host.eval("local x = 0 while true do x = x + 1 end");
    armed.join().unwrap();
    s.host.interrupter().disarm();
    let err = result.expect_err("the loop must be stopped");
    assert!(err.contains(INTERRUPTED), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5), "stopped in {:?}", start.elapsed());
    assert_eq!(s.eval("return 1 + 1"), "2", "the VM is usable afterwards");
}

const GAME: &str = "local M = {}
local Animal = { legs = 4, made = 0 }
Animal.__index = Animal
function Animal.new() Animal.made = Animal.made + 1 return setmetatable({}, Animal) end
M.Animal = Animal
M.speed = 10
local world = persist('world', function() return { bounces = 0, balls = { { x = 1 } } } end)
function M.update() world.bounces = world.bounces + 1 end
function M.world() return world end
return M
";

#[test]
fn a_constant_changed_in_a_class_table_applies_while_a_runtime_counter_in_it_survives() {
    let mut s = Scene::new("constant", &[("main.lua", GAME)]);
    s.eval("local A = require('main').Animal A.new() A.new() A.new()");
    s.edit("main.lua", &GAME.replace("legs = 4", "legs = 5"));
    assert_eq!(s.eval("local A = require('main').Animal return A.legs .. ' ' .. A.made"), "5 3");
    s.eval("require('main').speed = 99");
    s.edit("main.lua", &GAME.replace("legs = 4", "legs = 5").replace("-- x", ""));
    s.edit("main.lua", &GAME.replace("legs = 4", "legs = 5").replace("M.speed = 10", "M.speed = 10 -- same"));
    assert_eq!(
        s.eval("return require('main').speed"),
        "99",
        "a value the source did not change keeps its run-time value"
    );
    s.edit("main.lua", &GAME.replace("legs = 4", "legs = 5").replace("M.speed = 10", "M.speed = 20"));
    assert_eq!(s.eval("return require('main').speed"), "20", "a value the source changed takes the new value");
}

#[test]
fn a_top_level_that_fails_leaves_persisted_state_as_it_was() {
    let mut s = Scene::new("transaction", &[("main.lua", GAME)]);
    s.host.call("update", 0.0);
    let broken = GAME.replace(
        "function M.update()",
        "world.bounces = world\nworld.balls[1].x = 'garbage'\nworld.extra = {}\nerror('half-typed')\nfunction M.update()",
    );
    let reports = s.edit("main.lua", &broken);
    assert!(!reports[0].became_live);
    assert_eq!(reports[0].verdict.as_deref(), Some("failed while loading (its top level or on_reload)"));
    assert_eq!(
        s.eval("local w = require('main').world() return type(w.bounces) .. ' ' .. w.bounces .. ' ' .. w.balls[1].x .. ' ' .. tostring(w.extra)"),
        "number 1 1 nil"
    );
}

#[test]
fn a_first_frame_that_fails_puts_state_back_and_reverts_once_to_the_version_that_ran() {
    let mut s = Scene::new("first-frame", &[("main.lua", GAME)]);
    s.host.call("update", 0.0);
    s.host.end_frame_unjudged();
    // Built and live, but never through a frame: a revert must pass over it.
    let never_ran = GAME.replace("world.bounces + 1", "world.bounces + 2");
    assert!(s.edit("main.lua", &never_ran)[0].became_live);
    let failing = GAME.replace(
        "function M.update() world.bounces = world.bounces + 1 end",
        "function M.update()\n  world.bounces = world\n  local g = world.settings.gravity\nend",
    );
    assert!(s.edit("main.lua", &failing)[0].became_live);
    let reports = s.host.call("update", 0.0);
    assert_eq!(reports.len(), 1, "one error, one revert: {reports:?}");
    let error = &reports[0].diagnostics[0];
    assert_eq!(error.line, Some(10), "{error}");
    assert!(error.message.contains("`local g = world.settings.gravity`"), "quotes the text that failed: {error}");
    let note = &reports[0].diagnostics[1].message;
    assert!(note.contains("version 1, the last that ran, is live again") && note.contains("put back"), "{note}");
    assert_eq!(reports[0].verdict.as_deref(), Some("failed at run time"));
    assert_eq!(reports[0].live_version, Some(1));
    assert_eq!(s.eval("return type(require('main').world().bounces)"), "number", "the state is as before");
    assert_eq!(s.eval("return require('main').world().bounces"), "1");
    s.host.call("update", 0.0);
    assert_eq!(s.eval("return require('main').world().bounces"), "2", "version 1's update runs");
}

#[test]
fn typed_text_compiles_at_once_and_runs_only_after_the_pause() {
    let mut s = Scene::new("draft", &[("main.lua", GAME)]);
    s.host.set_pause(Duration::from_millis(500));
    let main = s.path("main.lua");
    let reports = s.host.draft(&main, &GAME.replace("M.speed = 10", "M.speed = "), 1.0).unwrap();
    assert_eq!(reports[0].diagnostics[0].line, Some(7), "a syntax error is reported at once: {reports:?}");
    let reports = s.host.draft(&main, &GAME.replace("M.speed = 10", "M.speed = 3"), 1.1).unwrap();
    assert!(reports[0].pending && reports[0].diagnostics.is_empty(), "{reports:?}");
    assert!(s.host.run_due(1.5).is_empty(), "0.4 s after the last keystroke: not yet");
    assert_eq!(s.eval("return require('main').speed"), "10");
    let reports = s.host.run_due(1.6);
    assert!(reports[0].became_live, "{reports:?}");
    assert_eq!(s.eval("return require('main').speed"), "3");
    // A keystroke that breaks the text drops what waited.
    s.host.draft(&main, &GAME.replace("M.speed = 10", "M.speed = 4"), 2.0);
    s.host.draft(&main, &GAME.replace("M.speed = 10", "M.speed = 4 +"), 2.1);
    assert!(s.host.run_due(5.0).is_empty());
    assert_eq!(s.eval("return require('main').speed"), "3");
}

#[test]
fn an_unloaded_module_loads_again_on_require() {
    let lib = "local L = {}\nfunction L.hi() return 'hi' end\nreturn L\n";
    let mut s = Scene::new("reload-after-unload", &[("main.lua", "return {}\n"), ("lib.lua", lib)]);
    assert_eq!(s.eval("return require('lib').hi()"), "hi");
    assert!(s.host.unload("lib"));
    assert_eq!(s.eval("return require('lib').hi()"), "hi");
}

#[test]
fn a_revert_in_the_first_frame_does_not_run_the_last_good_top_level_again() {
    let main = "local M = {}\nlocal world = persist('world', function() return { loads = 0 } end)\n\
                world.loads = world.loads + 1\nfunction M.update() end\nfunction M.loads() return world.loads end\nreturn M\n";
    let mut s = Scene::new("no-rerun", &[("main.lua", main)]);
    assert_eq!(s.eval("return require('main').loads()"), "1");
    let failing = main.replace("function M.update() end", "function M.update() local g = nothing.here end");
    assert!(s.edit("main.lua", &failing)[0].became_live);
    assert_eq!(s.eval("return require('main').loads()"), "2", "the new version's top level ran");
    let reports = s.host.call("update", 0.0);
    assert_eq!(reports[0].live_version, Some(1), "{reports:?}");
    assert_eq!(s.eval("return require('main').loads()"), "1", "put back, and version 1's top level did not run again");
    s.host.call("update", 0.0);
    assert!(s.host.call("update", 0.0).is_empty(), "version 1 runs");
}

#[test]
fn an_engine_call_given_bad_arguments_is_reported_on_the_lua_line_that_made_it() {
    let main = "local M = {}\nfunction M.draw() end\nreturn M\n";
    let mut s = Scene::new("engine-call", &[("main.lua", main)]);
    let bad = "local M = {}\nfunction M.draw()\n  gfx.clear(M.nothing, 0, 0, 1)\nend\nreturn M\n";
    s.edit("main.lua", bad);
    let reports = s.host.call("draw", ());
    let d = &reports[0].diagnostics[0];
    assert_eq!((d.file.clone(), d.line), (s.path("main.lua"), Some(3)), "{d}");
    assert!(d.message.contains("`gfx.clear(M.nothing, 0, 0, 1)`"), "{d}");
}
