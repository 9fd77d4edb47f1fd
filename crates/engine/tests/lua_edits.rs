//! Lua edits typed as a person types them, one editor pass per character with frames in between: half-typed text
//! never runs into state, one runtime error is one revert to the version that last ran, a constant edit applies
//! while state kept at run time survives, a long session's first text survives a restart, and `unload` then
//! `require` loads the module again.

mod common;

use std::time::Duration;

use allsource_engine::{Clock, EngineOptions};
use common::script_ok;

/// A bouncing-balls scene in the shape users write: persisted state, a class table, an update that counts.
const MAIN: &str = "local M = {}
local world = persist('world', function() return { bounces = 3, ticks = 0 } end)
world.loads = (world.loads or 0) + 1
local Ball = { radius = 4, made = 0 }
Ball.__index = Ball
function Ball.new() Ball.made = Ball.made + 1 return setmetatable({}, Ball) end
M.Ball = Ball
function M.update(dt)
  world.ticks = world.ticks + 1
  Ball.new()
end
function M.draw()
  gfx.clear(0, 1, 0, 1)
end
function M.world() return world end
return M
";

fn options() -> EngineOptions {
    EngineOptions { size: (64, 48), clock: Clock::Lockstep, ..EngineOptions::default() }
}

/// Script lines that type `text` one character at a time with `frames` frames after each (60 fps: 4 frames is 15
/// characters a second, a quick typist who never pauses for the 0.5 s a Lua text waits for).
fn typed(text: &str, frames: u64) -> String {
    text.chars()
        .map(|c| match c {
            '\n' => format!("type \\n\nframes {frames}\n"),
            '\\' => format!("type \\\\\nframes {frames}\n"),
            c => format!("type {c}\nframes {frames}\n"),
        })
        .collect()
}

fn lines_with<'a>(out: &'a [String], needle: &str) -> Vec<&'a String> {
    out.iter().filter(|l| l.contains(needle)).collect()
}

#[test]
fn a_half_typed_line_never_runs_into_persisted_state() {
    let line = "world.bounces_total = world.bounces_total or world.bounces\n";
    let text = format!(
        "open main.lua\ngoto 8 1\n{}frames 40\nlua return type(M_world().bounces_total) .. ' ' .. tostring(M_world().bounces_total) .. ' loads ' .. M_world().loads\n",
        typed(line, 4)
    );
    let text = text.replace("M_world()", "require('main').world()");
    let out = script_ok("lua-edit-prefix", &[("main.lua", MAIN)], options(), &text);
    assert!(
        out.iter().any(|l| l == "number 3 loads 2"),
        "the top level ran twice (the first version, the finished line) and the state is what that line made:\n{}",
        out.join("\n")
    );
    let built = lines_with(&out, "main.lua: version");
    assert_eq!(built.len(), 2, "the first version and the finished line, nothing typed in between: {built:#?}");
}

#[test]
fn one_runtime_error_is_one_revert_to_the_version_that_last_ran_quoting_the_text() {
    let body = "  local g = world.settings.gravity\n";
    let text = format!(
        "open main.lua\ngoto 10 1\n{}frames 40\nlua return require('main').world().ticks > 40\nversions main.lua\n",
        typed(body, 4)
    );
    let out = script_ok("lua-edit-nil", &[("main.lua", MAIN)], options(), &text);
    let failed = lines_with(&out, "failed at run time");
    assert_eq!(failed.len(), 1, "one error, one revert:\n{}", out.join("\n"));
    assert!(failed[0].contains("version 2 failed at run time; version 1 stays live"), "{}", failed[0]);
    assert_eq!(lines_with(&out, "version 1, the last that ran, is live again").len(), 1, "{}", out.join("\n"));
    let errors = lines_with(&out, "attempt to index field 'settings'");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("main.lua:10:") && errors[0].contains("`local g = world.settings.gravity`"),
        "{}",
        errors[0]
    );
    assert!(out.iter().any(|l| l == "true"), "version 1's update kept counting:\n{}", out.join("\n"));
}

#[test]
fn a_changed_constant_applies_while_a_runtime_counter_in_the_same_table_survives() {
    // `local Ball = { radius = 4, ...`: column 25 is the 4.
    let text = "open main.lua\nframes 30\ngoto 4 25\nkey Delete\nframes 2\ntype 5\nframes 40\n\
                lua return require('main').Ball.radius .. ' ' .. tostring(require('main').Ball.made > 60)\n";
    let out = script_ok("lua-edit-constant", &[("main.lua", MAIN)], options(), text);
    assert!(out.iter().any(|l| l == "5 true"), "radius is the new constant, made kept counting:\n{}", out.join("\n"));
}

#[test]
fn unload_then_require_loads_the_module_again() {
    let main = "local M = {}\nfunction M.draw() gfx.clear(0, 0, 1, 1) end\nreturn M\n";
    let lib = "local L = {}\nfunction L.hi() return 'hi from lib' end\nreturn L\n";
    let out = script_ok(
        "lua-unload-require",
        &[("main.lua", main), ("lib.lua", lib)],
        options(),
        "lua return require('lib').hi()\nunload lib\nlua return require('lib').hi()\n",
    );
    assert_eq!(lines_with(&out, "hi from lib").len(), 2, "{}", out.join("\n"));
}

#[test]
fn a_long_session_can_still_undo_to_its_first_text_after_a_restart() {
    // Every 5 keystrokes the typist pauses long enough for the text to run: 100 versions that ran, more than the
    // 64 the store keeps.
    let main =
        "local M = {}\nfunction M.text() return [[]] end\nfunction M.draw() gfx.clear(1, 1, 1, 1) end\nreturn M\n";
    let options = EngineOptions { store: true, lua_pause: Duration::from_millis(100), ..options() };
    let words: String = (0..100).map(|i| format!("w{:03}", i % 1000)).map(|w| format!("{w} ")).collect();
    assert_eq!(words.len(), 500);
    let mut text = String::from("open main.lua\ngoto 2 28\n");
    for chunk in words.as_bytes().chunks(5) {
        text.push_str(&typed(std::str::from_utf8(chunk).unwrap(), 1));
        text.push_str("frames 8\n");
    }
    text.push_str("lua return #require('main').text()\n");
    let dir_name = "lua-edit-long-session";
    let out = script_ok(dir_name, &[("main.lua", main)], options.clone(), &text);
    assert!(out.iter().any(|l| l == "500"), "{}", out.join("\n"));
    assert!(lines_with(&out, "main.lua: version 101 built").len() == 1, "100 versions ran");
    // A new session on the same directory (not a fresh one: `script` would make the directory again).
    let dir = std::env::temp_dir().join(format!("allsource-engine-{}-{dir_name}", std::process::id()));
    let mut again = String::new();
    for _ in 0..70 {
        again.push_str("undo main.lua\n");
    }
    again.push_str("frames 1\nlua return '[' .. require('main').text() .. ']'\n");
    let scene = allsource_engine::Scene::open(&dir).unwrap();
    let mut out = Vec::new();
    allsource_engine::session::run_script_text(scene, options, &again, &mut |l| out.push(l.to_owned()))
        .unwrap_or_else(|e| panic!("{e}\n{}", out.join("\n")));
    assert!(out.iter().any(|l| l == "[]"), "undo reached the text the first session started from:\n{}", out.join("\n"));
}

#[test]
fn a_save_runs_typed_text_at_once() {
    let text = "open main.lua\ngoto 4 25\nkey Delete\ntype 7\nframes 1\nlua return require('main').Ball.radius\n\
                save\nframes 1\nlua return 'after save ' .. require('main').Ball.radius\n";
    let out = script_ok("lua-edit-save", &[("main.lua", MAIN)], options(), text);
    assert!(out.iter().any(|l| l == "4"), "typed, not yet run:\n{}", out.join("\n"));
    assert!(out.iter().any(|l| l == "after save 7"), "saved: run at once:\n{}", out.join("\n"));
}
