//! A worker whose VM ignores its interrupt (here a `__gc` finalizer that loops: LuaJIT runs finalizers with hooks
//! off) is given up and replaced from the last good versions, leaving out the module that wedged it, while the
//! compositor keeps presenting. Its own test binary: the wedged thread spins until the process exits. A worker
//! process that wedges is killed instead, and its CPU comes back.

use std::time::{Duration, Instant};

use allsource_engine::Clock;
use allsource_engine::worker::Command;

mod common;
use common::{engine, scene_dir, wait_for};

const FILL: &str = "uniform vec4 colour;\nout vec4 o;\nvoid main() { o = colour; }\n";
const LIB: &str = "local L = {}\nfunction L.colour() return { 0, 1, 0, 1 } end\nreturn L\n";
const MAIN: &str = "local M = {}
local lib = require('lib')
local fill = gfx.shader('fill.glsl')
function M.update(dt) end
function M.draw() gfx.draw{ shader = fill, uniforms = { colour = lib.colour() } } end
return M
";

#[test]
fn a_wedged_worker_is_replaced_without_the_module_that_wedged_it_and_frames_keep_coming() {
    let dir = scene_dir("wedged", &[("main.lua", MAIN), ("lib.lua", LIB), ("fill.glsl", FILL)]);
    let mut engine = engine(&dir, Clock::Realtime, 60.0);
    wait_for(&mut engine, [0, 255, 0, 255], 10);
    // lib.colour now creates garbage whose finalizer loops forever; collectgarbage runs it with hooks off.
    let wedging = "local L = {}
function L.colour()
  local p = newproxy(true)
  getmetatable(p).__gc = function() while true do end end
  p = nil
  collectgarbage()
  return { 1, 0, 0, 1 }
end
return L
";
    engine.send(Command::Edit { path: dir.join("lib.lua"), text: wedging.to_owned() });
    // Until the worker is replaced. It wedges for at least 633 ms (the 133 ms hard limit, then 500 ms of ignored
    // interrupts) and draws nothing meanwhile; the compositor composes on, showing its last frame (a compositor that
    // waited for the worker would compose once).
    let runs = common::composes_per_frame(&mut engine, 10, |status| status.replacements > 0);
    eprintln!("composes per worker frame shown: {runs:?}");
    let longest = runs.iter().copied().max().unwrap_or(0);
    assert!(longest >= 10, "at most {longest} composes showed one frame while the worker was wedged: {runs:?}");
    let status = engine.compositor().status();
    assert_eq!(status.replacements, 1, "the wedged worker was replaced");
    let d = &status.diagnostics[0];
    assert!(d.file.ends_with("lib.lua") && d.message.contains("wedged"), "{d}");
    // The replacement runs main from its last good version; lib is left out, so main cannot load until lib is
    // edited. Editing lib brings both back.
    engine.send(Command::Edit { path: dir.join("lib.lua"), text: LIB.replace("{ 0, 1, 0, 1 }", "{ 0, 0, 1, 1 }") });
    wait_for(&mut engine, [0, 0, 255, 255], 10);
}

/// main's update calls `lib.tick()`, which after a while spends 20 milliseconds of its own and then lets go of
/// a userdata whose finalizer loops. Neither module changed since the start: the wedge is blamed on the code that
/// ran last (lib), main runs on in the replacement (lib stands in inert), and the abandoned thread is lowered.
const MAIN_CALLING: &str = "local M = {}
local lib = require('lib')
local fill = gfx.shader('fill.glsl')
function M.update(dt) pcall(lib.tick) end
function M.draw() gfx.draw{ shader = fill, uniforms = { colour = { 0, 1, 0, 1 } } } end
return M
";
const LIB_WEDGING_LATER: &str = "local L = {}
local frames = 0
function L.tick()
  frames = frames + 1
  if frames < 20 then return end
  local t = os.clock()
  while os.clock() - t < 0.02 do end
  local p = newproxy(true)
  getmetatable(p).__gc = function() while true do end end
  p = nil
  collectgarbage()
end
return L
";

#[test]
fn a_finalizer_made_by_a_callee_is_blamed_on_the_callee_and_main_runs_on() {
    let dir =
        scene_dir("wedged-callee", &[("main.lua", MAIN_CALLING), ("lib.lua", LIB_WEDGING_LATER), ("fill.glsl", FILL)]);
    let mut engine = engine(&dir, Clock::Realtime, 60.0);
    let start = Instant::now();
    while engine.compositor().status().replacements == 0 && start.elapsed() < Duration::from_secs(10) {
        engine.frame();
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = engine.compositor().status().clone();
    assert_eq!(status.replacements, 1, "the wedged worker was replaced");
    let d = &status.diagnostics[0];
    assert!(d.file.ends_with("lib.lua"), "the callee is blamed, not main: {d}");
    assert!(d.message.contains("1 abandoned worker thread is still running"), "{d}");
    assert_eq!(status.abandoned_lowered, 1, "the abandoned thread runs at the lowest priority");
    // main runs in the replacement: its frames come (green), with lib inert.
    wait_for(&mut engine, [0, 255, 0, 255], 10);
    let since = engine.compositor().status().shown_version;
    for _ in 0..20 {
        engine.frame();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(engine.compositor().status().worker_died.is_none());
    assert!(engine.compositor().status().replacements == 1, "no second wedge: {since:?}");
}

#[test]
fn a_scene_worker_process_wedged_in_a_finalizer_is_killed_and_replaced_without_the_culprit() {
    let files = [("main.lua", MAIN_CALLING), ("lib.lua", LIB_WEDGING_LATER), ("fill.glsl", FILL)];
    let dir = scene_dir("wedged-process", &files);
    let worker = allsource_engine::WorkerPlace::Process(Some(env!("CARGO_BIN_EXE_allsource-worker").into()));
    let options = allsource_engine::EngineOptions {
        size: (16, 16),
        clock: Clock::Realtime,
        fps: 60.0,
        scene_place: worker,
        ..Default::default()
    };
    let mut engine =
        allsource_engine::HeadlessEngine::new(allsource_engine::Scene::open(&dir).unwrap(), options).unwrap();
    let start = Instant::now();
    while engine.compositor().status().replacements == 0 && start.elapsed() < Duration::from_secs(20) {
        engine.frame();
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = engine.compositor().status().clone();
    let d = &status.diagnostics[0];
    assert!(d.file.ends_with("lib.lua"), "the callee is blamed: {d}");
    assert!(d.message.contains("its process (") && d.message.contains(") was killed"), "{d}");
    let pid: u32 = d.message.split("its process (").nth(1).and_then(|r| r.split(')').next()).unwrap().parse().unwrap();
    assert!(common::gone(pid), "the wedged process {pid} is still there");
    assert_eq!((status.killed, status.abandoned_lowered), (1, 0), "killed, not abandoned");
    // main runs in the replacement, lib left out: its frames keep coming.
    wait_for(&mut engine, [0, 255, 0, 255], 20);
}

/// Two callees, neither changed since the start; b lets go of a looping finalizer at once (no sample can see it):
/// the first replacement leaves out a, wedges again, and the second leaves out b instead (elimination), with a and
/// main running.
const MAIN_CALLING_TWO: &str = "local M = {}
local a = require('a')
local b = require('b')
local fill = gfx.shader('fill.glsl')
function M.update(dt) pcall(b.tick) end
function M.draw() gfx.draw{ shader = fill, uniforms = { colour = a.colour() } } end
return M
";
const A_INNOCENT: &str = "local A = {}\nfunction A.colour() return { 0, 0, 1, 1 } end\nreturn A\n";
const B_WEDGING_AT_ONCE: &str = "local B = {}
local frames = 0
function B.tick()
  frames = frames + 1
  if frames < 10 then return end
  local p = newproxy(true)
  getmetatable(p).__gc = function() while true do end end
  p = nil
  collectgarbage()
end
return B
";

#[test]
fn when_no_sample_names_the_culprit_it_is_found_by_elimination_while_the_others_run() {
    let files =
        [("main.lua", MAIN_CALLING_TWO), ("a.lua", A_INNOCENT), ("b.lua", B_WEDGING_AT_ONCE), ("fill.glsl", FILL)];
    let dir = scene_dir("wedged-elimination", &files);
    let mut engine = engine(&dir, Clock::Realtime, 60.0);
    let start = Instant::now();
    while engine.compositor().status().replacements < 2 && start.elapsed() < Duration::from_secs(20) {
        engine.frame();
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = engine.compositor().status().clone();
    assert_eq!(status.replacements, 2, "{:?}", status.diagnostics);
    let d = &status.diagnostics[0];
    assert!(d.file.ends_with("b.lua"), "the second replacement leaves b out: {d}");
    // a is back and main runs: a's blue, drawn by main.
    wait_for(&mut engine, [0, 0, 255, 255], 10);
    for _ in 0..60 {
        engine.frame();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(engine.compositor().status().replacements, 2, "no third wedge");
}
