//! Supervision blames the right module: a healthy `main` calls a callee that loops (plain, behind `pcall`, in a
//! coroutine, in `__index`, in an `xpcall` handler) or takes too long every frame; the callee is named, reverted or
//! made inert, and main keeps running every frame. A call into an inert module fails at once, and the time per
//! module comes from samples of the running code.

use std::path::PathBuf;
use std::time::Duration;

use allsource_live::Report;
use allsource_lua::{Budget, ModuleHost};

mod common;
use common::Recorder;

/// Calls `callee.run()` every update, with or without `pcall`, and counts its own updates.
fn main_calling(protected: bool) -> String {
    let call = if protected { "pcall(callee.run)" } else { "callee.run()" };
    format!(
        "local callee = require('callee')
local M = {{}}
local state = persist('state', function() return {{ updates = 0 }} end)
function M.update(dt)
  state.updates = state.updates + 1
  {call}
end
function M.updates() return state.updates end
return M
"
    )
}

struct Scene {
    dir: PathBuf,
    host: ModuleHost<Recorder>,
}

impl Scene {
    fn new(name: &str, main: &str, callee: &str) -> Scene {
        let dir = std::env::temp_dir().join(format!("allsource-blame-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.lua"), main).unwrap();
        std::fs::write(dir.join("callee.lua"), callee).unwrap();
        let mut host = ModuleHost::new(&dir, Recorder::default()).unwrap();
        host.set_budget(Budget {
            hard: Duration::from_millis(50),
            warn_after: 2,
            throttle_after: 1000,
            revert_after: 4,
            ..Budget::for_rate(60.0)
        });
        let reports = host.start();
        assert!(reports.iter().all(|r| r.diagnostics.is_empty()), "{reports:?}");
        host.end_frame_unjudged();
        Scene { dir, host }
    }

    fn updates(&mut self) -> u64 {
        self.host.eval("return require('main').updates()").unwrap().parse().unwrap()
    }

    /// One real-time frame: update, then the budget's judgement.
    fn frame(&mut self) -> Vec<Report> {
        let mut reports = self.host.update(1.0 / 60.0);
        reports.extend(self.host.end_frame());
        reports
    }
}

fn text(reports: &[Report]) -> String {
    reports.iter().flat_map(|r| r.diagnostics.iter()).map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
}

/// `body` loops inside `callee.run`: whichever way main calls it, the callee is blamed and made inert, and main
/// runs every frame after.
fn a_looping_callee_is_blamed(name: &str, body: &str, protected: bool) {
    let callee = format!("local C = {{}}\nfunction C.run()\n{body}\nend\nreturn C\n");
    let mut s = Scene::new(name, &main_calling(protected), &callee);
    let reports = s.frame();
    let all = text(&reports);
    let callee_path = s.dir.join("callee.lua");
    assert!(
        reports.iter().any(|r| r.path == callee_path && r.verdict.as_deref() == Some("was stopped")),
        "{name}: {all}"
    );
    assert!(all.contains("callee.lua:") && all.contains("stopped here"), "{name}: the callee's line is named: {all}");
    assert!(!all.contains("main.lua"), "{name}: main is not blamed: {all}");
    assert_eq!(s.host.live_version(&s.dir.join("main.lua")), Some(1), "{name}: main keeps its version");
    let before = s.updates();
    for _ in 0..3 {
        s.frame();
        let call = s.host.last_call().unwrap();
        assert!(call.overshoot.is_none(), "{name}: the inert callee fails at once, nothing needs stopping");
    }
    assert_eq!(s.updates(), before + 3, "{name}: main's update runs every frame");
}

#[test]
fn a_plain_loop_in_a_callee_called_without_pcall() {
    a_looping_callee_is_blamed("plain", "  while true do end", false);
}

#[test]
fn a_plain_loop_in_a_callee_called_with_pcall() {
    a_looping_callee_is_blamed("pcall", "  while true do end", true);
}

#[test]
fn a_loop_in_a_coroutine_of_the_callee() {
    a_looping_callee_is_blamed("coroutine", "  coroutine.wrap(function() while true do end end)()", true);
}

#[test]
fn a_loop_in_an_index_metamethod_of_the_callee() {
    a_looping_callee_is_blamed(
        "index",
        "  local t = setmetatable({}, { __index = function() while true do end end })\n  return t.x",
        true,
    );
}

#[test]
fn a_loop_in_an_xpcall_handler_of_the_callee() {
    a_looping_callee_is_blamed("xpcall", "  xpcall(function() error('x') end, function() while true do end end)", true);
}

#[test]
fn a_callee_over_the_budget_every_frame_is_reverted_not_its_caller() {
    let callee = "local C = {}\nfunction C.run()\n  local t = gfx.clock()\n  while gfx.clock() - t < 0.03 do end\nend\nreturn C\n";
    let mut s = Scene::new("budget", &main_calling(false), callee);
    let budget = s.host.budget().clone();
    s.host.set_budget(Budget { throttle_after: 3, ..budget });
    let mut all = String::new();
    for frame in 0..4 {
        let before = s.updates();
        all.push_str(&text(&s.frame()));
        all.push('\n');
        assert!(!s.host.throttled(), "main is not throttled for its callee's time");
        if frame < 3 {
            assert_eq!(s.updates(), before + 1, "main's update ran on frame {frame}");
        }
    }
    assert!(all.contains("callee.lua: warning: Lua took"), "the warning names the callee: {all}");
    assert!(all.contains("callee.lua: error: Lua took"), "the revert names the callee: {all}");
    assert!(all.contains("disabled"), "no earlier version ran: the callee is disabled: {all}");
    assert!(!all.contains("main.lua"), "main is never judged: {all}");
    let stats = s.host.last_frame();
    assert_eq!(stats.lua_by_module.first().map(|(m, _)| m.as_str()), Some("callee"), "{:?}", stats.lua_by_module);
    let before = s.updates();
    s.frame();
    assert_eq!(s.updates(), before + 1);
    assert!(s.host.last_frame().lua < Duration::from_millis(10), "the inert callee costs nothing");
    // An edit that builds brings the callee back.
    let fixed = "local C = {}\nfunction C.run() C.ran = true end\nreturn C\n";
    assert!(s.host.edit(&s.dir.join("callee.lua"), fixed).unwrap()[0].became_live);
    s.frame();
    assert_eq!(s.host.eval("return tostring(require('callee').ran)").unwrap(), "true");
}

#[test]
fn a_call_into_an_inert_module_is_reported_once_and_blames_nobody() {
    let callee = "local C = {}\nfunction C.run() error('broken') end\nreturn C\n";
    let mut s = Scene::new("inert", &main_calling(false), callee);
    let first = text(&s.frame());
    assert!(first.contains("callee.lua:2:") && first.contains("disabled"), "{first}");
    let second = text(&s.frame());
    assert!(second.contains("a call into it failed at once: inert module 'callee'"), "{second}");
    assert!(text(&s.frame()).is_empty(), "said once");
    assert_eq!(s.host.live_version(&s.dir.join("main.lua")), Some(1));
    let answer = s.host.eval("local ok, e = pcall(require('callee').run) return tostring(ok) .. ' ' .. e").unwrap();
    assert!(
        answer.starts_with("false inert module 'callee':"),
        "pcall sees the error, which names the module: {answer}"
    );
}

#[test]
fn lua_time_per_module_is_sampled_and_shown_in_gfx_stats() {
    let callee = "local C = {}\nfunction C.run()\n  local t = gfx.clock()\n  while gfx.clock() - t < 0.012 do end\nend\nreturn C\n";
    let mut s = Scene::new("per-module", &main_calling(false), callee);
    s.host.update(1.0 / 60.0);
    s.host.end_frame_unjudged();
    let stats = s.host.last_frame();
    let callee_time = stats.lua_by_module.iter().find(|(m, _)| m == "callee").map(|(_, d)| *d);
    assert!(callee_time.is_some_and(|d| d > stats.lua / 2), "{stats:?}");
    let shown = s.host.eval("return gfx.stats().lua_ms_by_module.callee > 0").unwrap();
    assert_eq!(shown, "true");
}
