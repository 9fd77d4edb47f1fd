//! A worker whose VM ignores its interrupt (here a `__gc` finalizer that loops: LuaJIT runs finalizers with hooks
//! off) is given up and replaced from the last good versions, leaving out the module that wedged it, while the
//! compositor keeps presenting. Its own test binary: the wedged thread spins until the process exits.

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
    let start = Instant::now();
    let mut composed = 0u32;
    let mut slowest = Duration::ZERO;
    while engine.compositor().status().replacements == 0 && start.elapsed() < Duration::from_secs(5) {
        let t = Instant::now();
        engine.frame();
        slowest = slowest.max(t.elapsed());
        composed += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = engine.compositor().status();
    assert_eq!(status.replacements, 1, "the wedged worker was replaced");
    assert!(start.elapsed() < Duration::from_secs(3), "within {:?}", start.elapsed());
    assert!(composed >= 30, "frames kept being presented while it was wedged: {composed}");
    assert!(slowest < Duration::from_millis(120), "no compose waited for the wedged worker: {slowest:?}");
    let d = &status.diagnostics[0];
    assert!(d.file.ends_with("lib.lua") && d.message.contains("wedged"), "{d}");
    // The replacement runs main from its last good version; lib is left out, so main cannot load until lib is
    // edited. Editing lib brings both back.
    engine.send(Command::Edit { path: dir.join("lib.lua"), text: LIB.replace("{ 0, 1, 0, 1 }", "{ 0, 0, 1, 1 }") });
    wait_for(&mut engine, [0, 0, 255, 255], 10);
}
