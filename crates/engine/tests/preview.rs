//! Vetting incoming code in a preview worker: its frames appear in the preview panel while the scene keeps its
//! own; promotion after N good frames makes it part of the scene; a guest over budget is refused with the reason;
//! a hostile guest is stopped and the scene's frames keep coming.

mod common;

use allsource_engine::{EngineOptions, Error, WorkerPlace};

/// The preview's tests run at 400x300, 30 frames a second, with promotion after 5 good frames, the guest in a
/// process of the engine's worker program.
fn options() -> EngineOptions {
    EngineOptions {
        size: (400, 300),
        fps: 30.0,
        promote_after: 5,
        preview_place: WorkerPlace::Process(Some(env!("CARGO_BIN_EXE_allsource-worker").into())),
        ..EngineOptions::default()
    }
}

fn script(name: &str, files: &[(&str, &str)], text: &str) -> (Result<(), Error>, Vec<String>) {
    common::script(name, files, options(), text)
}

fn ok(name: &str, files: &[(&str, &str)], text: &str) -> Vec<String> {
    common::script_ok(name, files, options(), text)
}

const RED_SCENE: &str = "local M = {}\nfunction M.draw() gfx.clear(1, 0, 0, 1) end\nreturn M\n";
const GREEN_GUEST: &str = "local M = {}\nfunction M.draw() gfx.clear(0, 1, 0, 1) end\nreturn M\n";

// The preview panel covers x 248..384, y 36..126 of 400x300 (PREVIEW_RECT); (20, 200) is the scene's own.

#[test]
fn a_guest_shows_in_the_preview_while_the_scene_keeps_its_output_and_promotion_makes_it_the_scenes() {
    let out = ok(
        "preview-promote",
        &[("main.lua", RED_SCENE), ("incoming/green.lua", GREEN_GUEST)],
        "preview incoming/green.lua
         frames 20
         expect-pixel 300 80 0 255 0
         expect-pixel 20 200 255 0 0
         promote main.lua
         frames 2
         expect-pixel 20 200 0 255 0
         expect-pixel 300 80 0 255 0
         versions main.lua",
    );
    assert!(out.iter().any(|l| l.starts_with("previewing ") && l.contains("sandboxed VM")), "{out:#?}");
    assert!(out.iter().any(|l| l.starts_with("promoted into the scene as ") && l.contains("main.lua")), "{out:#?}");
    // The promotion is an edit: a new version of main.lua, which undo would take back.
    assert!(out.iter().any(|l| l == "version 2: ok (live)"), "{out:#?}");
}

const SLOW_GUEST: &str = "local M = {}
function M.draw()
  local t = gfx.clock()
  while gfx.clock() - t < 0.045 do end
  gfx.clear(0, 0, 1, 1)
end
return M
";

#[test]
fn promoting_a_guest_over_its_budget_is_refused_with_the_reason() {
    let (result, out) = script(
        "preview-slow",
        &[("main.lua", RED_SCENE), ("slow.lua", SLOW_GUEST)],
        "preview slow.lua\nframes 3\npromote main.lua\n",
    );
    let error = result.unwrap_err().to_string();
    assert!(error.starts_with("script line 3: the preview of "), "{error}");
    assert!(error.contains("has run 0 of the 5 frames within budget"), "{error}");
    assert!(error.contains("ms of Lua against a 33.3 ms budget"), "{error}");
    assert!(!out.iter().any(|l| l.starts_with("promoted")), "{out:#?}");
}

// The guest's frame-time graph lies under the panel: x 248..384, y 140..164 of 400x300, its bottom row at y 164, the
// budget's line at y 152, the newest frame's bar in the last two columns.

#[test]
fn the_graph_under_the_panel_shows_the_newest_guest_frame_red_over_its_budget_and_green_within() {
    let out = ok(
        "preview-graph",
        &[("main.lua", RED_SCENE), ("slow.lua", SLOW_GUEST), ("green.lua", GREEN_GUEST)],
        "preview slow.lua
         frames 3
         expect-pixel 383 164 242 64 51
         expect-pixel 250 164 0 0 0
         expect-pixel 250 152 255 255 255
         preview green.lua
         wait-preview
         frames 1
         expect-pixel 383 164 77 230 102
         expect-pixel 300 80 0 255 0",
    );
    assert!(out.iter().any(|l| l.starts_with("preview of ") && l.contains(": running, ")), "{out:#?}");
}

const LOOPING_GUEST: &str = "local M = {}\nfunction M.draw() while true do end end\nreturn M\n";
/// Megabyte strings, each different: the 64 MiB limit comes after about 60 of them, a few milliseconds even on a
/// busy machine, far from the time limit (which would otherwise be the limit hit first when the machine is slow).
const MEMORY_BOMB: &str = "local M = {}
local hoard = {}
function M.draw()
  for i = 1, 1e9 do hoard[#hoard + 1] = string.rep('x', 1024 * 1024, tostring(i)) end
end
return M
";

#[test]
fn a_hostile_guest_is_stopped_with_a_diagnostic_and_the_scene_keeps_its_frames() {
    // The memory bomb runs at 5 frames a second: a 1.6 s hard limit, which it cannot reach before the memory limit
    // even at the low priority a guest runs at on a machine whose cores are busy.
    let slow = EngineOptions { fps: 5.0, ..options() };
    for (name, guest, why, options) in [
        ("preview-loop", LOOPING_GUEST, "stopped here after", options()),
        ("preview-memory", MEMORY_BOMB, "out of memory (the guest's Lua memory limit is 64 MiB)", slow),
    ] {
        let out = common::script_ok(
            name,
            &[("main.lua", RED_SCENE), ("hostile.lua", guest)],
            options,
            "preview hostile.lua
             frames 5
             wait-preview
             frames 5
             expect-pixel 20 200 255 0 0
             reject
             frames 2
             expect-pixel 300 80 255 0 0",
        );
        let stopped = out.iter().find(|l| l.starts_with("preview of ") && l.contains("stopped:"));
        assert!(stopped.is_some_and(|l| l.contains(why)), "{name}: {out:#?}");
        assert!(out.iter().any(|l| l.starts_with("rejected ")), "{name}: {out:#?}");
    }
}

/// Past a 100 ms GPU timeout on any GPU.
const SLOW_SHADER: &str = common::GPU_TIMEOUT_SHADER;
const GPU_HOG: &str =
    "local M = {}\nlocal slow = gfx.shader('slow.glsl')\nfunction M.draw() gfx.draw{ shader = slow } end\nreturn M\n";

#[test]
fn a_guest_whose_gpu_work_blows_the_gpu_timeout_is_stopped() {
    let files = [("main.lua", RED_SCENE), ("hog.lua", GPU_HOG), ("slow.glsl", SLOW_SHADER)];
    let options = EngineOptions { gpu_timeout: std::time::Duration::from_millis(100), ..options() };
    let script = "preview hog.lua\nwait-preview\nframes 3\nexpect-pixel 20 200 255 0 0\n";
    let (result, out) = common::script("preview-gpu", &files, options, script);
    assert!(result.is_ok(), "{result:?}\n{out:#?}");
    let stopped = out.iter().find(|l| l.starts_with("preview of ") && l.contains(": stopped:"));
    // The guest's worker reverts the version past the timeout, or the compositor kills the process that sent no
    // frame within it: whichever comes first stops the guest.
    assert!(stopped.is_some_and(|l| l.contains("GPU timeout")), "{out:#?}");
}

const BROKEN_MODULE: &str = "local B = {}\nerror('not ready yet')\nreturn B\n";
const CAREFUL_GUEST: &str = "local M = {}
local ok = pcall(require, 'broken')
function M.draw() if ok then gfx.clear(1, 1, 1, 1) else gfx.clear(0, 1, 0, 1) end end
return M
";

#[test]
fn a_guest_that_handles_a_failing_require_with_pcall_keeps_running_and_one_that_does_not_is_stopped() {
    let files = [("main.lua", RED_SCENE), ("careful.lua", CAREFUL_GUEST), ("broken.lua", BROKEN_MODULE)];
    let out = ok(
        "preview-pcall-require",
        &files,
        "preview careful.lua\nframes 10\nwait-preview\nexpect-pixel 300 80 0 255 0\npromote main.lua\n",
    );
    assert!(out.iter().any(|l| l.contains("broken.lua:2:") && l.contains("warning")), "the failure is shown: {out:#?}");
    assert!(out.iter().any(|l| l.starts_with("promoted into the scene")), "{out:#?}");

    let careless = CAREFUL_GUEST.replace("pcall(require, 'broken')", "require('broken')");
    let files = [("main.lua", RED_SCENE), ("careless.lua", careless.as_str()), ("broken.lua", BROKEN_MODULE)];
    let out = ok("preview-require", &files, "preview careless.lua\nframes 5\nwait-preview\n");
    let stopped = out.iter().find(|l| l.starts_with("preview of ") && l.contains("stopped:"));
    assert!(stopped.is_some_and(|l| l.contains("not ready yet")), "{out:#?}");
}

/// Each frame keeps one more 1 MiB buffer; the fifth passes a 4 MiB budget. The scene, trusted, has none.
const GPU_HOARDER: &str = "local M = {}
local hoard = {}
function M.draw()
  hoard[#hoard + 1] = gfx.buffer(1024 * 1024)
  gfx.clear(0, 1, 0, 1)
end
return M
";
/// Makes a 1 MiB buffer each frame and drops it: garbage the budget collects before it refuses anything.
const GPU_CHURNER: &str = "local M = {}
function M.draw()
  local scratch = gfx.buffer(1024 * 1024)
  gfx.clear(0, 1, 0, 1)
end
return M
";
const BIG_SCENE: &str =
    "local M = {}\nlocal big = gfx.buffer(16 * 1024 * 1024)\nfunction M.draw() gfx.clear(1, 0, 0, 1) end\nreturn M\n";

#[test]
fn a_guest_past_its_gpu_memory_budget_is_stopped_and_one_that_drops_what_it_made_is_not() {
    let options = EngineOptions { preview_gpu_memory: 4 << 20, ..options() };
    let files = [("main.lua", BIG_SCENE), ("hoarder.lua", GPU_HOARDER), ("churner.lua", GPU_CHURNER)];
    let out = common::script_ok(
        "preview-gpu-memory",
        &files,
        options.clone(),
        "preview hoarder.lua\nwait-preview\nframes 3\nexpect-pixel 20 200 255 0 0\nreject\n\
         preview churner.lua\nwait-preview\nframes 3\npromote main.lua\n",
    );
    let stopped =
        out.iter().find(|l| l.starts_with("preview of ") && l.contains("hoarder.lua") && l.contains("stopped:"));
    let why = "a buffer of 1.0 MiB would pass this guest's GPU memory budget of 4 MiB (4.0 MiB held)";
    assert!(stopped.is_some_and(|l| l.contains(why)), "{out:#?}");
    assert!(out.iter().any(|l| l.starts_with("promoted into the scene as ")), "the churner ran 5 frames: {out:#?}");
    // A target is counted by its pixels: 1024 x 1024 RGBA32F with its mipmaps and depth is 25.3 MiB.
    let target = "local M = {}\nlocal t = gfx.target(1024, 1024, 'rgba32f')\nfunction M.draw() end\nreturn M\n";
    let (_, out) = common::script(
        "preview-gpu-target",
        &[("main.lua", BIG_SCENE), ("t.lua", target)],
        options,
        "preview t.lua\nwait-preview\n",
    );
    assert!(
        out.iter().any(|l| l.contains("a target of 25.3 MiB would pass this guest's GPU memory budget")),
        "{out:#?}"
    );
}
