//! Lua scenes on real GL: modules draw with shaders they load by path, reload in place while frames keep coming,
//! revert on runtime errors (pixels prove which version runs), free their GL objects when unloaded, and drive
//! compute, indirect draws and transform feedback through the `gfx` API.

use std::time::Duration;

use allsource_engine::Clock;
use allsource_engine::worker::Command;

mod common;
use common::{Fixture, engine, scene_dir, wait_for};

const FILL: &str = "uniform vec4 colour;\nout vec4 o;\nvoid main() { o = colour; }\n";

const MAIN: &str = "local M = {}
local fill = gfx.shader('fill.glsl')
local state = persist('state', function() return { frames = 0 } end)
function M.update(dt) state.frames = state.frames + 1 end
function M.draw()
  gfx.draw{ shader = fill, uniforms = { colour = { 1, 0, 0, 1 } } }
end
function M.frames() return state.frames end
return M
";

#[test]
fn a_lua_scene_draws_and_an_edit_goes_live_in_place_keeping_state() {
    let mut f = Fixture::new("draw", &[("main.lua", MAIN), ("fill.glsl", FILL)]);
    assert_eq!(f.step(), [255, 0, 0, 255]);
    assert_eq!(f.edit("main.lua", &MAIN.replace("{ 1, 0, 0, 1 }", "{ 0, 1, 0, 1 }")), [0, 255, 0, 255]);
    // Three frames ran update() (the eval runs before the fourth frame's update).
    assert_eq!(f.eval("return require('main').frames()").unwrap(), "3", "the persisted counter kept counting");
    // A runtime error in draw() reverts main to the version before it (the green one), with the diagnostic.
    f.edit(
        "main.lua",
        &MAIN.replace("{ 1, 0, 0, 1 }", "{ 1, 1, 1, 1 }").replace("gfx.draw{", "nothing.here = 1 gfx.draw{"),
    );
    assert_eq!(f.step(), [0, 255, 0, 255]);
    let status = f.engine.compositor().status();
    assert!(
        status.diagnostics.iter().any(|d| d.line == Some(6) && d.message.contains("nothing")),
        "{:?}",
        status.diagnostics
    );
    // Editing the shader the module uses rebuilds it too.
    assert_eq!(
        f.edit("fill.glsl", "uniform vec4 colour;\nout vec4 o;\nvoid main() { o = vec4(colour.g, 0.0, 1.0, 1.0); }\n"),
        [255, 0, 255, 255]
    );
}

#[test]
fn unloading_a_module_frees_its_gl_objects() {
    let lib =
        "local L = {}\nL.a = gfx.buffer(1024)\nL.b = gfx.target(32, 32)\nL.c = gfx.shader('fill.glsl')\nreturn L\n";
    let main = "local M = {}\nM.own = gfx.buffer(16)\nfunction M.draw() end\nfunction M.lib() return require('lib') end\nreturn M\n";
    let mut f = Fixture::new("unload", &[("main.lua", main), ("lib.lua", lib), ("fill.glsl", FILL)]);
    assert_eq!(f.eval("require('main').lib() return gfx.objects()").unwrap(), "4");
    f.engine.send(Command::Unload { module: "lib".into() });
    f.step();
    assert_eq!(f.eval("return gfx.objects()").unwrap(), "1", "the three objects of lib are deleted");
}

#[test]
fn compute_writes_an_indirect_command_that_a_draw_uses_and_feedback_captures_varyings() {
    let compute = "#pragma stage compute\nlayout(local_size_x = 1) in;\n\
                   layout(std430, binding = 0) buffer Cmd { uint cmd[4]; };\n\
                   void main() { cmd = uint[](3u, 1u, 0u, 0u); }\n";
    let capture = "#pragma stage vertex\nlayout(xfb_buffer = 0, xfb_offset = 0) out float twice;\n\
                   void main() { twice = float(gl_VertexID) * 2.0; gl_Position = vec4(0.0); }\n";
    let main = "local M = {}
local writer = gfx.shader('write.glsl')
local fill = gfx.shader('fill.glsl')
local capture = gfx.shader('capture.glsl')
local cmd = gfx.buffer(16)
M.captured = gfx.buffer(16)
function M.draw()
  gfx.dispatch{ shader = writer, storage = { [0] = cmd } }
  gfx.barrier()
  gfx.draw{ shader = fill, indirect = cmd, uniforms = { colour = { 0, 0, 1, 1 } } }
  gfx.draw{ shader = capture, mode = 'points', count = 4, feedback = { [0] = M.captured }, discard = true }
end
return M
";
    let mut f = Fixture::new(
        "indirect",
        &[("main.lua", main), ("write.glsl", compute), ("fill.glsl", FILL), ("capture.glsl", capture)],
    );
    assert_eq!(f.step(), [0, 0, 255, 255], "the indirect draw ran with the command compute wrote");
    let captured = f.eval("return table.concat(require('main').captured:read('f32'), ',')").unwrap();
    assert_eq!(captured, "0,2,4,6");
}

#[test]
fn keys_and_the_pointer_reach_lua_through_input() {
    let main = "local M = {}
local fill = gfx.shader('fill.glsl')
local presses = persist('presses', function() return {} end)
function M.keypressed(key) presses[#presses + 1] = key end
function M.presses() return table.concat(presses, ',') end
function M.draw()
  local x, y = input.mouse()
  local g = input.key_down('Space') and 1 or 0
  gfx.draw{ shader = fill, uniforms = { colour = { x / 100, g, y / 100, 1 } } }
end
return M
";
    let mut f = Fixture::new("input", &[("main.lua", main), ("fill.glsl", FILL)]);
    assert_eq!(f.step(), [0, 0, 0, 255]);
    f.engine.send(Command::Key { code: "Space".into(), down: true });
    f.engine.send(Command::Mouse { x: 100.0, y: 50.0 });
    assert_eq!(f.step(), [255, 255, 128, 255]);
    f.engine.send(Command::Key { code: "Space".into(), down: false });
    assert_eq!(f.step(), [255, 0, 128, 255]);
    f.engine.send(Command::Key { code: "KeyR".into(), down: true });
    assert_eq!(f.eval("return require('main').presses()").unwrap(), "Space,KeyR", "keypressed(key) was called");
}

#[test]
fn lua_draws_indexed_and_multi_indirect_with_base_vertices() {
    let shader = "#pragma stage vertex
void main() {
    vec2 p[6] = vec2[](vec2(-1,-1), vec2(0,-1), vec2(-1,1), vec2(0,-1), vec2(1,-1), vec2(1,1));
    gl_Position = vec4(p[gl_VertexID], 0.0, 1.0);
}
#pragma stage fragment
out vec4 o;
void main() { o = vec4(1.0, 1.0, 0.0, 1.0); }
";
    let main = "local M = {}
local halves = gfx.shader('halves.glsl')
local indices = gfx.buffer({ 0, 1, 2 }, 'u32')
local commands = gfx.buffer({ 3, 1, 0, 0, 0,  3, 1, 0, 3, 0 }, 'u32')
M.mode = 'elements'
function M.draw()
  if M.mode == 'elements' then
    gfx.draw{ shader = halves, elements = indices, count = 3 }
  else
    gfx.draw{ shader = halves, elements = indices, indirect = commands, multi = 2 }
  end
end
return M
";
    let mut f = Fixture::new("elements", &[("main.lua", main), ("halves.glsl", shader)]);
    let image = f.engine.image();
    assert_eq!((image.pixel(1, 14), image.pixel(14, 14)), ([255, 255, 0, 255], [0, 0, 0, 255]), "one indexed triangle");
    f.eval("require('main').mode = 'multi'").unwrap();
    f.step();
    let image = f.engine.image();
    assert_eq!((image.pixel(1, 14), image.pixel(14, 14)), ([255, 255, 0, 255], [255, 255, 0, 255]), "two commands");
}

const GREEN: &str = "local M = {}
local fill = gfx.shader('fill.glsl')
function M.update(dt) end
function M.draw() gfx.draw{ shader = fill, uniforms = { colour = { 0, 1, 0, 1 } } } end
return M
";

#[test]
fn a_module_that_loops_forever_is_stopped_and_frames_keep_being_presented() {
    let dir = scene_dir("forever", &[("main.lua", GREEN), ("fill.glsl", FILL)]);
    let mut engine = engine(&dir, Clock::Realtime, 60.0);
    wait_for(&mut engine, [0, 255, 0, 255], 10);
    // A 50 ms frame budget: a callback is stopped after 400 ms (8 periods), during which the worker draws nothing.
    engine.send(Command::Budget { ms: 50.0 });
    let forever = GREEN.replace("function M.update(dt) end", "function M.update(dt) while true do end end");
    engine.send(Command::Edit { path: dir.join("main.lua"), text: forever });
    // Until the stop is reported and the worker's frames come again.
    let mut stopped_at = None;
    let runs = common::composes_per_frame(&mut engine, 10, |status| {
        if stopped_at.is_none() && status.diagnostics.iter().any(|d| d.message.contains("stopped here after")) {
            stopped_at = Some(status.worker_frames_shown);
        }
        stopped_at.is_some_and(|n| status.worker_frames_shown >= n + 2)
    });
    // While the module looped, one frame stayed on screen through the composes made meanwhile (about 60 here; a
    // compositor that waited for the worker would make one).
    eprintln!("composes per worker frame shown: {runs:?}");
    let longest = runs.iter().copied().max().unwrap_or(0);
    assert!(longest >= 10, "at most {longest} composes showed one frame while the module looped: {runs:?}");
    let status = engine.compositor().status();
    let d = status.diagnostics.iter().find(|d| d.message.contains("stopped here after")).expect("the stop is reported");
    assert_eq!(d.line, Some(3), "{d}");
    assert_eq!(engine.image().pixel(8, 8), [0, 255, 0, 255], "the last good version draws again");
}

#[test]
fn a_module_over_the_frame_budget_is_warned_about_then_reverted() {
    // Real time at 10 frames a second: a 100 ms frame budget. (Lockstep runs are not judged against the budget.)
    let dir = scene_dir("budget", &[("main.lua", GREEN), ("fill.glsl", FILL)]);
    let mut engine = engine(&dir, Clock::Realtime, 10.0);
    wait_for(&mut engine, [0, 255, 0, 255], 10);
    // 25 ms of work every frame fits a 100 ms frame.
    let red = GREEN
        .replace(
            "function M.update(dt) end",
            "function M.update(dt) local t = gfx.clock() while gfx.clock() - t < 0.025 do end end",
        )
        .replace("{ 0, 1, 0, 1 }", "{ 1, 0, 0, 1 }");
    engine.send(Command::Edit { path: dir.join("main.lua"), text: red.clone() });
    wait_for(&mut engine, [255, 0, 0, 255], 10);
    std::thread::sleep(Duration::from_millis(600));
    engine.frame();
    assert_eq!(engine.image().pixel(8, 8), [255, 0, 0, 255], "25 ms a frame stays");
    // 150 ms a frame does not: warned after 3 frames in a row, reverted (to red) after 30.
    let blue = red.replace("0.025", "0.15").replace("{ 1, 0, 0, 1 }", "{ 0, 0, 1, 1 }");
    engine.send(Command::Edit { path: dir.join("main.lua"), text: blue });
    wait_for(&mut engine, [0, 0, 255, 255], 10);
    let mut warned = false;
    let start = std::time::Instant::now();
    while engine.image().pixel(8, 8) != [255, 0, 0, 255] {
        assert!(start.elapsed() < Duration::from_secs(20), "never reverted");
        engine.frame();
        std::thread::sleep(Duration::from_millis(10));
        let status = engine.compositor().status();
        warned |= status.diagnostics.iter().any(|d| d.message.contains("own code; the frame budget is 100.0 ms"));
    }
    assert!(warned, "a warning came first");
    let status = engine.compositor().status();
    let reverted = "most of it in this module's own code, over the 100.0 ms frame budget";
    assert!(status.diagnostics.iter().any(|d| d.message.contains(reverted)), "{:?}", status.diagnostics);
}

#[test]
fn gpu_time_is_measured_per_module_by_the_shader_each_draw_uses() {
    let heavy_shader = "uniform vec4 colour;\nout vec4 o;\nvoid main() {\n    float s = 0.0;\n    \
                        for (int i = 0; i < 60000; i++) { s += sin(float(i) * 0.01 + gl_FragCoord.x); }\n    \
                        o = colour + vec4(step(1e9, s));\n}\n";
    let heavy = "local H = {}\nlocal shader = gfx.shader('heavy.glsl')\n\
                 function H.draw() gfx.draw{ shader = shader, uniforms = { colour = { 0, 0, 1, 1 } } } end\nreturn H\n";
    let main = "local M = {}\nlocal heavy = require('heavy')\nlocal fill = gfx.shader('fill.glsl')\n\
                function M.draw()\n  gfx.draw{ shader = fill, uniforms = { colour = { 1, 0, 0, 1 } } }\n  heavy.draw()\nend\n\
                function M.stats() local s = gfx.stats() return string.format('%f %f', s.gpu_ms.main or -1, s.gpu_ms.heavy or -1) end\n\
                return M\n";
    let mut f = Fixture::new(
        "gpu-time",
        &[("main.lua", main), ("heavy.lua", heavy), ("fill.glsl", FILL), ("heavy.glsl", heavy_shader)],
    );
    // Timing that waits on fences (llvmpipe) samples every 16th frame; frame 0's draws include the driver compiling
    // each program, so read frame 16's.
    for _ in 0..17 {
        f.step();
    }
    let stats = f.eval("return require('main').stats()").unwrap();
    let ms: Vec<f64> = stats.split(' ').map(|v| v.parse().unwrap()).collect();
    let (light, heavy) = (ms[0], ms[1]);
    assert!(light >= 0.0 && heavy > 0.0, "both modules' draws were timed: {stats}");
    eprintln!("gpu ms: main {light}, heavy {heavy}");
    assert!(heavy > light * 3.0, "the heavy module's shader takes longer: main {light} ms, heavy {heavy} ms");
}

#[test]
fn stats_answer_with_the_frame_times_and_the_overlay_draws_them_as_bars() {
    // main's draw spends 10 ms of its own Lua time: the samples (every 0.5 ms) find it.
    let main = "local M = {}\nlocal fill = gfx.shader('fill.glsl')\n\
                function M.draw()\n  local t = gfx.clock() while gfx.clock() - t < 0.01 do end\n  \
                gfx.draw{ shader = fill, uniforms = { colour = { 0, 0, 0, 1 } } }\nend\nreturn M\n";
    let dir = scene_dir("stats", &[("main.lua", main), ("fill.glsl", FILL)]);
    let options = allsource_engine::EngineOptions {
        size: (128, 64),
        fps: 10.0,
        clock: Clock::Lockstep,
        stats_overlay: true,
        ..Default::default()
    };
    let mut engine =
        allsource_engine::HeadlessEngine::new(allsource_engine::Scene::open(&dir).unwrap(), options).unwrap();
    for i in 0..3 {
        engine.frame_lockstep(i).unwrap();
    }
    engine.send(Command::Stats);
    engine.frame_lockstep(3).unwrap();
    let (request, answer) = engine.compositor().status().answers.last().unwrap().clone();
    let answer = answer.unwrap();
    assert_eq!(request, "stats");
    assert!(answer.contains("of a 100.0 ms frame") && answer.contains("gpu main:"), "{answer}");
    assert!(answer.contains("lua main:") && answer.contains("(its own code, sampled)"), "{answer}");
    assert!(answer.contains("budget: frame 100.0 ms"), "the thresholds are shown: {answer}");
    // Bars from the bottom-left: Lua's time (yellow) on the first row, main's own share of it (orange) on the second,
    // main's GPU time (blue) on the third, each at least a pixel wide, and the white tick at one frame period (a
    // quarter of the width) on each.
    let image = engine.image();
    let row = |n: u32| 64 - 1 - (4 + n * 8);
    assert_eq!(image.pixel(4, row(0)), [242, 204, 51, 255]);
    assert_eq!(image.pixel(4, row(1)), [242, 140, 38, 255]);
    assert_eq!(image.pixel(4, row(2)), [51, 204, 242, 255]);
    assert_eq!(image.pixel(4 + 32, row(0)), [255, 255, 255, 255]);
    assert_eq!(image.pixel(64, 32), [0, 0, 0, 255], "the scene itself is untouched away from the bars");
}

#[test]
fn in_real_time_a_callee_over_the_budget_is_reverted_while_its_healthy_caller_keeps_drawing() {
    // 10 frames a second: a 100 ms budget. main draws green and calls slow.step(), which spends 150 ms of its own.
    let main = "local M = {}
local slow = require('slow')
local fill = gfx.shader('fill.glsl')
local n = persist('n', function() return { draws = 0 } end)
function M.update(dt) slow.step() end
function M.draw() n.draws = n.draws + 1 gfx.draw{ shader = fill, uniforms = { colour = { 0, 1, 0, 1 } } } end
function M.draws() return n.draws end
return M
";
    let slow = "local S = {}\nfunction S.step()\n  local t = gfx.clock()\n  while gfx.clock() - t < 0.15 do end\nend\nreturn S\n";
    let dir = scene_dir("budget-callee", &[("main.lua", main), ("slow.lua", slow), ("fill.glsl", FILL)]);
    let mut engine = engine(&dir, Clock::Realtime, 10.0);
    wait_for(&mut engine, [0, 255, 0, 255], 10);
    let start = std::time::Instant::now();
    let mut verdict = None;
    while verdict.is_none() {
        assert!(start.elapsed() < Duration::from_secs(30), "never judged");
        engine.frame();
        std::thread::sleep(Duration::from_millis(10));
        let status = engine.compositor().status();
        verdict = status.diagnostics.iter().find(|d| d.message.contains("over the 100.0 ms frame budget")).cloned();
    }
    let d = verdict.unwrap();
    assert!(d.file.ends_with("slow.lua"), "the callee is judged, not main: {d}");
    let console = engine.compositor().overlay.editor.log.since(0).into_iter().map(|l| l.text).collect::<Vec<_>>();
    assert!(!console.iter().any(|l| l.contains("main.lua:") && l.contains("frame budget")), "{console:#?}");
    // main keeps drawing every frame, at the display rate again: slow is inert.
    let draws = |engine: &mut allsource_engine::HeadlessEngine| -> u64 {
        engine
            .compositor_mut()
            .request(Command::Eval { code: "return require('main').draws()".into() }, Duration::from_secs(5))
            .unwrap()
            .unwrap()
            .parse()
            .unwrap()
    };
    let before = draws(&mut engine);
    let t = std::time::Instant::now();
    while t.elapsed() < Duration::from_secs(1) {
        engine.frame();
        std::thread::sleep(Duration::from_millis(10));
    }
    let after = draws(&mut engine);
    assert!(after >= before + 5, "main drew {} frames in a second after the verdict", after - before);
    assert_eq!(engine.image().pixel(8, 8), [0, 255, 0, 255]);
}

#[test]
fn a_callee_that_fails_to_load_stands_in_inert_and_its_caller_runs() {
    let main = "local M = {}
local physics = require('physics')
local fill = gfx.shader('fill.glsl')
function M.update(dt) pcall(physics.step) end
function M.draw() gfx.draw{ shader = fill, uniforms = { colour = { 0, 1, 0, 1 } } } end
function M.gravity() local ok, g = pcall(physics.gravity) return ok and g or 'inert' end
return M
";
    let physics = "local P = {}\nerror('not ready yet')\nfunction P.step() end\nreturn P\n";
    let mut f = Fixture::new("callee-load", &[("main.lua", main), ("physics.lua", physics), ("fill.glsl", FILL)]);
    f.step();
    assert_eq!(f.engine.image().pixel(8, 8), [0, 255, 0, 255], "main loads and draws without physics");
    let status = f.engine.compositor().status().clone();
    assert!(
        status.diagnostics.iter().all(|d| !d.file.ends_with("main.lua")),
        "main is not blamed: {:?}",
        status.diagnostics
    );
    let ask = |f: &mut Fixture| -> String {
        f.engine
            .compositor_mut()
            .request(Command::Eval { code: "return require('main').gravity()".into() }, Duration::from_secs(5))
            .unwrap()
            .unwrap()
    };
    assert_eq!(ask(&mut f), "inert");
    std::fs::write(
        f.dir.join("physics.lua"),
        "local P = {}\nfunction P.step() end\nfunction P.gravity() return -9.8 end\nreturn P\n",
    )
    .unwrap();
    f.step();
    assert_eq!(ask(&mut f), "-9.8", "fixed, it loads into the table main already holds");
}

#[test]
fn a_float_target_keeps_small_increments_and_values_beyond_one_that_an_rgba8_target_loses() {
    // Each frame adds (1e-4, 2, -0.5) to the last frame's values in a ping-pong pair of each format.
    let step = "uniform sampler2D last;\nout vec4 o;\n\
                void main() { o = texelFetch(last, ivec2(gl_FragCoord.xy), 0) + vec4(1e-4, 2.0, -0.5, 0.0); }\n";
    let main = "local M = {}
local step = gfx.shader('step.glsl')
local targets = {}
for _, format in ipairs({ 'rgba32f', 'rgba16f', 'rgba8' }) do
  targets[format] = { gfx.target(4, 4, format), gfx.target(4, 4, format) }
end
function M.draw()
  for _, p in pairs(targets) do
    gfx.draw{ shader = step, target = p[1], textures = { p[2] } }
    p[1], p[2] = p[2], p[1]
  end
end
function M.read(format)
  local px = targets[format][2]:read()
  return string.format('%.6f %.3f %.3f %.1f', px[1], px[2], px[3], px[4])
end
return M
";
    let mut f = Fixture::new("float-targets", &[("main.lua", main), ("step.glsl", step)]);
    for _ in 1..100 {
        f.step();
    }
    // 100 frames: 0.01, 200, -50 exactly enough in 32-bit float; 16-bit float rounds the small steps; 8 bits keep
    // nothing below 1/255 and clamp to [0, 1].
    // (One answer for the three: each eval is a frame.)
    let read = f.eval(
        "local m = require('main') return m.read('rgba32f') .. '|' .. m.read('rgba16f') .. '|' .. m.read('rgba8')",
    );
    let read = read.unwrap();
    let [full, half, bytes] = read.split('|').collect::<Vec<_>>()[..] else { panic!("{read}") };
    assert_eq!(full, "0.010000 200.000 -50.000 0.0");
    assert!(half.ends_with(" 200.000 -50.000 0.0") && !half.starts_with("0.010000"), "{half}");
    assert_eq!(bytes, "0.000000 1.000 0.000 0.0");
    assert!(
        matches!(f.eval("return gfx.target(4, 4, 'rgba64')"), Err(e) if e.contains("unknown target format 'rgba64'"))
    );
}

#[test]
fn an_image_is_sampled_at_known_texels_reloads_live_and_keeps_its_last_pixels_when_the_file_goes_bad() {
    // The left half of the frame shows the image's top-left texel, the right half its bottom-right one.
    let show = "uniform sampler2D picture;\nout vec4 o;\n\
                void main() { o = texelFetch(picture, gl_FragCoord.x < 8.0 ? ivec2(0, 1) : ivec2(1, 0), 0); }\n";
    let main = "local M = {}
local show = gfx.shader('show.glsl')
local picture = gfx.image('picture.png')
function M.draw() gfx.draw{ shader = show, textures = { picture } } end
function M.size() return picture.width .. 'x' .. picture.height end
return M
";
    let write = |path: &std::path::Path, rgba: &[[u8; 4]]| {
        image::RgbaImage::from_raw(2, 2, rgba.concat()).unwrap().save(path).unwrap();
    };
    let dir = scene_dir("lua-image", &[("main.lua", main), ("show.glsl", show)]);
    // Top row red, green; bottom row blue, white.
    write(&dir.join("picture.png"), &[[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [255, 255, 255, 255]]);
    let mut f = Fixture::open(dir);
    let halves = |f: &Fixture| (f.engine.image().pixel(2, 8), f.engine.image().pixel(13, 8));
    f.step();
    assert_eq!(halves(&f), ([255, 0, 0, 255], [255, 255, 255, 255]), "upright: texel (0, 1) is the top-left");
    assert_eq!(f.eval("return require('main').size()"), Ok("2x2".into()));
    // The file changes: the next frame shows it.
    write(&f.path("picture.png"), &[[0, 0, 0, 255], [0, 0, 0, 255], [9, 9, 9, 255], [0, 255, 255, 255]]);
    f.step();
    assert_eq!(halves(&f), ([0, 0, 0, 255], [0, 255, 255, 255]));
    // Garbage: the last good pixels stay, and the console says why.
    std::fs::write(f.path("picture.png"), b"not a png at all").unwrap();
    f.step();
    assert_eq!(halves(&f), ([0, 0, 0, 255], [0, 255, 255, 255]));
    let problem = f.status().texture_problems.get(&f.path("picture.png")).cloned().unwrap_or_default();
    assert!(problem.contains("not an image") && problem.ends_with("the last good pixels stay"), "{problem}");
}

#[test]
fn input_callbacks_are_called_with_loves_names_and_a_script_drives_each() {
    // Every callback appends what it got to a log the script reads back.
    let main = "local M = {}
local log = persist('log', function() return {} end)
local function note(s) log[#log + 1] = s end
function M.draw() end
function M.mousepressed(x, y, b) note(string.format('pressed %d %d %d %s', x, y, b, tostring(input.mouse_down(b)))) end
function M.mousereleased(x, y, b) note(string.format('released %d %s', b, tostring(input.mouse_down(b)))) end
function M.wheelmoved(x, y) note('wheel ' .. x .. ' ' .. y) end
function M.textinput(t) note('text ' .. t) end
function M.keypressed(k) note('key ' .. k) end
function M.resize(w, h) note('resize ' .. w .. 'x' .. h .. ' ' .. gfx.width() .. 'x' .. gfx.height()) end
function M.log() return table.concat(log, ', ') end
return M
";
    let options =
        allsource_engine::EngineOptions { size: (64, 48), clock: Clock::Lockstep, store: false, ..Default::default() };
    let script = "frames 1\nclick 10 20\nclick 30 5 2\nwheel 0 -2\nkey KeyQ\nresize 80 60\nframes 2\nlua return require('main').log()\n\
                  screenshot resized.png\n";
    let out = common::script_ok("lua-input", &[("main.lua", main)], options, script);
    let expected = "pressed 10 20 1 true, released 1 false, pressed 30 5 2 true, released 2 false, wheel 0 -2, key KeyQ, \
                    text q, resize 80x60 80x60";
    assert!(out.iter().any(|l| l == expected), "{}", out.join("\n"));
    // The frame itself is the new size, not the first one stretched.
    let wrote = out.iter().find_map(|l| l.strip_prefix("wrote ")).expect("a screenshot");
    assert_eq!(image::image_dimensions(wrote).unwrap(), (80, 60));
}

#[test]
fn a_texture_is_sampled_with_the_filter_and_wrap_a_draw_asks_for() {
    // One image three ways: nearest and repeating, nearest and clamped (both read past the right edge), and the
    // default linear between its two top texels.
    let show = "uniform sampler2D repeating;\nuniform sampler2D clamped;\nuniform sampler2D smooth_;\nout vec4 o;\n\
                void main() {\n    vec2 past = vec2(1.25, 0.75);\n    \
                o = gl_FragCoord.x < 5.0 ? texture(repeating, past)\n      : gl_FragCoord.x < 11.0 ? texture(clamped, past)\n      \
                : texture(smooth_, vec2(0.5, 0.75));\n}\n";
    let main = "local M = {}
local show = gfx.shader('show.glsl')
local picture = gfx.image('picture.png')
function M.draw()
  gfx.draw{ shader = show, uniforms = { repeating = 0, clamped = 1, smooth_ = 2 }, textures = {
    { picture, filter = 'nearest', wrap = 'repeat' }, { picture, filter = 'nearest' }, picture } }
end
return M
";
    let dir = scene_dir("lua-sampling", &[("main.lua", main), ("show.glsl", show)]);
    // Top row red, green; bottom row blue, white.
    let texels = [[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [255, 255, 255, 255]];
    image::RgbaImage::from_raw(2, 2, texels.concat()).unwrap().save(dir.join("picture.png")).unwrap();
    let mut f = Fixture::open(dir);
    f.step();
    let image = f.engine.image();
    assert_eq!(image.pixel(2, 8), [255, 0, 0, 255], "repeat: 1.25 is 0.25, the left texel");
    assert_eq!(image.pixel(8, 8), [0, 255, 0, 255], "clamp: past the edge is the right texel");
    let smooth = image.pixel(14, 8);
    assert!(smooth[0].abs_diff(128) <= 2 && smooth[1].abs_diff(128) <= 2, "linear: halfway, {smooth:?}");
    assert!(matches!(f.eval("gfx.draw{ shader = gfx.shader('show.glsl'), textures = { { 1, wrap = 'mirror' } } }"),
        Err(e) if e.contains("unknown wrap 'mirror'")));
}

#[test]
fn a_compute_pass_writes_a_float_target_as_an_image_and_a_draw_reads_what_it_wrote() {
    // The compute pass stores each texel's coordinates (beyond 1, in float) with imageStore; the draw then samples
    // the target in the same frame (the barrier after the dispatch makes the writes visible).
    let write = "#pragma stage compute\nlayout(local_size_x = 4, local_size_y = 4) in;\n\
                 layout(rgba32f, binding = 0) uniform image2D field;\n\
                 void main() { ivec2 p = ivec2(gl_GlobalInvocationID.xy); imageStore(field, p, vec4(p, 2.5, 1.0)); }\n";
    let show = "uniform sampler2D field;\nout vec4 o;\nvoid main() { o = texelFetch(field, ivec2(3, 1), 0) / 4.0; }\n";
    let main = "local M = {}
local write, show = gfx.shader('write.glsl'), gfx.shader('show.glsl')
local field = gfx.target(4, 4, 'rgba32f')
function M.draw()
  gfx.dispatch{ shader = write, groups = { 1, 1 }, images = { [0] = field } }
  gfx.draw{ shader = show, textures = { field } }
end
function M.texel(i) return field:read()[i] end
return M
";
    let mut f = Fixture::new("lua-images", &[("main.lua", main), ("write.glsl", write), ("show.glsl", show)]);
    // Texel (3, 1) is (3, 1, 2.5, 1) / 4 on screen.
    assert_eq!(f.step(), [191, 64, 159, 64]);
    // Read back: row 1, column 3 is entry (1 * 4 + 3) * 4 + 1.
    assert_eq!(f.eval("return require('main').texel((1 * 4 + 3) * 4 + 1)"), Ok("3".into()));
    assert_eq!(f.eval("return require('main').texel((1 * 4 + 3) * 4 + 3)"), Ok("2.5".into()));
}

/// Whether two colours differ by at most one step per channel (a float rounded to 8 bits either way).
fn near(a: [u8; 4], b: [u8; 4]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 1)
}

#[test]
fn a_target_with_two_colour_textures_and_a_depth_texture_is_written_in_one_draw_and_each_is_sampled_and_read() {
    let mrt = "layout(location = 0) out vec4 first;\nlayout(location = 1) out vec4 second;\n\
               void main() { first = vec4(1.0, 0.0, 0.0, 1.0); second = vec4(0.4, 0.6, 0.0, 1.0); gl_FragDepth = 0.2; }\n";
    let show = "uniform sampler2D second;\nuniform sampler2D depth;\nout vec4 o;\nvoid main() {\n    \
                ivec2 p = ivec2(gl_FragCoord.xy) / 4;\n    \
                o = vec4(texelFetch(depth, p, 0).r, texelFetch(second, p, 0).g, texelFetch(second, p, 0).r, 1.0);\n}\n";
    let main = "local M = {}
local mrt, show = gfx.shader('mrt.glsl'), gfx.shader('show.glsl')
local t = gfx.target(4, 4, { format = 'rgba16f', colours = 2, depth = true })
function M.draw()
  gfx.clear(0, 0, 0, 1, t)
  gfx.draw{ shader = mrt, target = t, depth = true }
  gfx.draw{ shader = show, uniforms = { second = 0, depth = 1 },
            textures = { { t, attachment = 1 }, { t, attachment = 'depth' } } }
end
function M.read(a) local px = t:read(a) return string.format('%.3f %.3f %.3f %.3f', px[1], px[2], px[3], px[4]) end
return M
";
    let mut f = Fixture::new("lua-mrt", &[("main.lua", main), ("mrt.glsl", mrt), ("show.glsl", show)]);
    let shown = f.step();
    assert!(near(shown, [51, 153, 102, 255]), "depth 0.2, second texture (0.4, 0.6): {shown:?}");
    assert_eq!(f.eval("return require('main').read()"), Ok("1.000 0.000 0.000 1.000".into()));
    assert_eq!(f.eval("return require('main').read(1)"), Ok("0.400 0.600 0.000 1.000".into()));
    // Depth reads one number per pixel.
    assert_eq!(
        f.eval("local px = require('main'); return #gfx.target(2, 2, {depth = true}):read('depth')"),
        Ok("4".into())
    );
    assert!(f.eval("return require('main').read('depth')").is_ok_and(|s| s.starts_with("0.200 0.200")));
    // What a target does not have is an error that says so.
    assert!(matches!(f.eval("return require('main').read(2)"), Err(e) if e.contains("there is no attachment 2")));
    assert!(matches!(f.eval("return gfx.target(4, 4):read('depth')"), Err(e) if e.contains("no depth texture")));
    assert!(matches!(f.eval("return gfx.target(4, 4, { colours = 9 })"), Err(e) if e.contains("1 to 8")));
}

#[test]
fn text_is_drawn_where_asked_and_nowhere_else_and_its_width_is_measured() {
    // White text at (4, 4), 16 pixels high, on black; then the same text into a target, read back.
    let main = "local M = {}
local t = gfx.target(64, 24)
M.width = 0
function M.draw()
  gfx.clear(0, 0, 0, 1)
  M.width = gfx.text('Hello', 4, 4, { size = 16, colour = { 1, 1, 1 } })
  gfx.clear(0, 0, 0, 0, t)
  gfx.text('Hi', 0, 0, { size = 16, target = t })
end
function M.lit()
  local n = 0
  local px = t:read()
  for i = 1, #px, 4 do if px[i] > 0.5 then n = n + 1 end end
  return n
end
return M
";
    let dir = scene_dir("lua-text", &[("main.lua", main)]);
    let mut f = Fixture::sized(dir, (96, 32));
    f.step();
    let width: f32 = f.eval("return require('main').width").unwrap().parse().unwrap();
    let image = f.engine.image();
    let lit = |x0: u32, x1: u32, y0: u32, y1: u32| {
        (y0..y1).flat_map(|y| (x0..x1).map(move |x| (x, y))).filter(|&(x, y)| image.pixel(x, y)[0] > 128).count()
    };
    // "Hello" at 16 pixels is about 35 wide: glyph pixels inside its box, none outside it.
    assert!((25.0..50.0).contains(&width), "width {width}");
    let right = (4.0 + width).ceil() as u32 + 1;
    assert!(lit(4, right, 4, 22) > 40, "text pixels in the box");
    assert_eq!(lit(right, 96, 0, 32), 0, "nothing right of the text");
    assert_eq!(lit(0, 96, 23, 32), 0, "nothing below the line");
    assert_eq!(lit(0, 3, 0, 32), 0, "nothing left of it");
    // The width is what gfx.text_width says, and grows with the text.
    assert_eq!(f.eval("return gfx.text_width('Hello', 16)"), Ok(format!("{width}")));
    let longer: f32 = f.eval("return gfx.text_width('Hello, world', 16)").unwrap().parse().unwrap();
    assert!(longer > width + 20.0, "{longer} vs {width}");
    // Into a target: some of its pixels are lit.
    let in_target: u32 = f.eval("return require('main').lit()").unwrap().parse().unwrap();
    assert!(in_target > 10, "{in_target}");
    assert!(matches!(f.eval("gfx.text('x', 0, 0, { size = 1000 })"), Err(e) if e.contains("from 1 to 256")));
}

#[test]
fn an_image_is_linear_or_srgb_and_mipmapped_or_not_as_asked() {
    // One grey image (128) four ways; the frame shows what each samples and how many levels each has.
    let show = "uniform sampler2D plain;\nuniform sampler2D srgb;\nuniform sampler2D single;\nout vec4 o;\n\
                void main() {\n    o = vec4(texelFetch(plain, ivec2(0), 0).r, texelFetch(srgb, ivec2(0), 0).r,\n             \
                float(textureQueryLevels(plain)) / 8.0, float(textureQueryLevels(single)) / 8.0);\n}\n";
    let main = "local M = {}
local show = gfx.shader('show.glsl')
local plain, srgb = gfx.image('grey.png'), gfx.image('grey.png', { srgb = true })
local single = gfx.image('grey.png', { mipmaps = false })
function M.draw()
  gfx.draw{ shader = show, uniforms = { plain = 0, srgb = 1, single = 2 }, textures = { plain, srgb, single } }
end
return M
";
    let dir = scene_dir("lua-image-options", &[("main.lua", main), ("show.glsl", show)]);
    image::RgbaImage::from_pixel(4, 4, image::Rgba([128, 128, 128, 255])).save(dir.join("grey.png")).unwrap();
    let mut f = Fixture::open(dir);
    let shown = f.step();
    // sRGB 128 is linear 0.2158 (55); a 4x4 image has 3 levels, one without mipmaps.
    assert!(near(shown, [128, 55, 96, 32]), "{shown:?}");
}

#[test]
fn an_image_drawn_with_no_sampling_of_its_own_is_clamped_at_its_edges() {
    // Red over blue; read at the bottom edge with linear filtering, a repeating image would mix in the red top row.
    let show = "uniform sampler2D picture;\nout vec4 o;\nvoid main() { o = texture(picture, vec2(0.5, 0.0)); }\n";
    let main = "local M = {}
local show = gfx.shader('show.glsl')
local picture = gfx.image('two.png', { mipmaps = false })
function M.draw() gfx.draw{ shader = show, textures = { picture } } end
return M
";
    let dir = scene_dir("lua-image-clamp", &[("main.lua", main), ("show.glsl", show)]);
    image::RgbaImage::from_raw(1, 2, [[255, 0, 0, 255], [0, 0, 255, 255]].concat())
        .unwrap()
        .save(dir.join("two.png"))
        .unwrap();
    let mut f = Fixture::open(dir);
    assert_eq!(f.step(), [0, 0, 255, 255]);
}

#[test]
fn an_engine_call_that_refuses_its_arguments_at_a_modules_top_level_is_reported_on_its_line() {
    let main = "local M = {}\nlocal canvas = gfx.target(8, 8, 'rgb8')\nfunction M.draw() end\nreturn M\n";
    let f = Fixture::new("lua-top-level-gfx-error", &[("main.lua", main)]);
    let d = f.status().diagnostics.iter().find(|d| d.message.contains("unknown target format 'rgb8'")).cloned();
    let d = d.unwrap_or_else(|| panic!("{:?}", f.status().diagnostics));
    assert_eq!((d.file.file_name().and_then(|n| n.to_str()), d.line), (Some("main.lua"), Some(2)), "{d:?}");
}

#[test]
fn a_misspelt_option_is_an_error_and_color_is_colour() {
    // Red text, spelt the US way, over black.
    let main = "local M = {}
function M.draw()
  gfx.clear(0, 0, 0, 1)
  gfx.text('RED', 2, 2, { size = 24, color = { 1, 0, 0 } })
end
return M
";
    let mut f = Fixture::sized(scene_dir("lua-options", &[("main.lua", main)]), (64, 32));
    let image = f.engine.image();
    let red = (0..32).flat_map(|y| (0..64).map(move |x| (x, y))).any(|(x, y)| {
        let [r, g, b, _] = image.pixel(x, y);
        r > 200 && g < 40 && b < 40
    });
    assert!(red, "no red text drawn: {:?}", f.status().diagnostics);
    let refused = f.eval("return gfx.target(4, 4, { fromat = 'rgba16f' })");
    assert!(
        matches!(&refused, Err(e) if e.contains("gfx.target: unknown option 'fromat' (it takes format, colours, depth)")),
        "{refused:?}"
    );
    let refused = f.eval("return gfx.image('x.png', { srbg = true })");
    assert!(matches!(&refused, Err(e) if e.contains("gfx.image: unknown option 'srbg'")), "{refused:?}");
}
