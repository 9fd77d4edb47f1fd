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
    host: ModuleHost,
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
        let mut host = ModuleHost::new(&dir, Box::new(recorder)).unwrap();
        let reports = host.start();
        assert!(reports.iter().all(|r| r.diagnostics.is_empty()), "{reports:?}");
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
fn another_modules_cached_require_sees_the_new_function_and_data_is_kept() {
    let lib = "local L = { setting = 1 }\nfunction L.greet() return 'hello' end\nreturn L\n";
    let main = "local lib = require('lib.words')\nlocal M = {}\nfunction M.say() return lib.greet() .. ' ' .. lib.setting end\nreturn M\n";
    let mut s = Scene::new("require", &[("main.lua", main), ("lib/words.lua", lib)]);
    assert_eq!(s.eval("return require('main').say()"), "hello 1");
    s.eval("require('lib.words').setting = 7");
    s.edit("lib/words.lua", &lib.replace("'hello'", "'bonjour'").replace("setting = 1", "setting = 2"));
    assert_eq!(s.eval("return require('main').say()"), "bonjour 7", "new function, data field never overwritten");
}

#[test]
fn a_syntax_error_keeps_the_old_version_live_and_names_file_and_line() {
    let mut s = Scene::new("syntax", &[("main.lua", COUNTER)]);
    let broken = COUNTER.replace("function M.count()", "function M.count(");
    let reports = s.edit("main.lua", &broken);
    let d = &reports[0].diagnostics[0];
    assert!(!reports[0].became_live);
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
