//! Hostile code in a scene's (trusted) VM: every loop form, runaway metamethods, memory bombs, stack overflows.
//! For each program: the host survives, the diagnostic names the cause, another module keeps running, and the
//! module goes back to its last good version. Budgets are shortened so the corpus runs in seconds.
//!
//! Escape attempts run in a guest VM (`ModuleHost::guest`), where they must fail with a clear error.
//!
//! Not here: a `__gc` finalizer that loops, and one long C call, which no hook can stop (LuaJIT runs finalizers with
//! hooks off): they need a worker that can be given up and replaced, not built yet. Guests cannot make finalizers
//! (no newproxy, no ffi) and their pattern matches are size-limited.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use allsource_live::Report;
use allsource_lua::{Budget, ModuleHost};

mod common;
use common::Recorder;

const GOOD: &str = "local M = {}\nfunction M.update(dt) end\nfunction M.alive() return 'yes' end\nreturn M\n";
const OTHER: &str = "local O = {}\nfunction O.ping() return 'pong' end\nreturn O\n";

fn budget() -> Budget {
    Budget { hard: Duration::from_millis(50), load: Duration::from_millis(150), memory: 64 << 20, ..Budget::default() }
}

/// For memory bombs: deadlines long enough that the 64 MiB limit always comes first (allocating 64 MiB takes
/// milliseconds, even on a loaded machine), and short enough that a bomb the limit fails to stop still ends.
fn memory_budget() -> Budget {
    Budget { hard: Duration::from_secs(2), load: Duration::from_secs(2), ..budget() }
}

struct Scene {
    dir: PathBuf,
    host: ModuleHost<Recorder>,
}

impl Scene {
    fn new(name: &str) -> Scene {
        Scene::make(name, false)
    }

    fn guest(name: &str) -> Scene {
        Scene::make(name, true)
    }

    fn make(name: &str, guest: bool) -> Scene {
        let dir = std::env::temp_dir().join(format!("allsource-hostile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.lua"), GOOD).unwrap();
        std::fs::write(dir.join("other.lua"), OTHER).unwrap();
        std::fs::write(dir.join("loops.lua"), "local L = {}\nwhile true do end\nreturn L\n").unwrap();
        let mut host = if guest {
            ModuleHost::guest(&dir, Recorder::default()).unwrap()
        } else {
            ModuleHost::new(&dir, Recorder::default()).unwrap()
        };
        host.set_budget(budget());
        let reports = host.start();
        assert!(reports.iter().all(|r| r.diagnostics.is_empty()), "{reports:?}");
        assert_eq!(host.eval("return require('other').ping()").unwrap(), "pong");
        // A whole frame: the first versions ran, and a revert may come back to them.
        host.end_frame_unjudged();
        Scene { dir, host }
    }

    /// After the hostile code: the VM answers, the other module runs, and main is its good version again.
    fn still_fine(&mut self) {
        assert_eq!(self.host.eval("return 1 + 1").unwrap(), "2", "the VM answers");
        assert_eq!(self.host.eval("return require('other').ping()").unwrap(), "pong", "the other module runs");
        assert_eq!(self.host.eval("return require('main').alive()").unwrap(), "yes", "main runs its good version");
        assert!(self.host.call("update", 0.016).is_empty(), "and its update runs cleanly");
    }
}

fn first_message(reports: &[Report]) -> String {
    reports.iter().flat_map(|r| r.diagnostics.iter()).map(|d| d.to_string()).next().unwrap_or_default()
}

/// Whether diagnostic `message` names `cause`: one of its `|`-separated alternatives is in the message, or, for an
/// alternative ending in `$`, ends the message.
fn names(message: &str, cause: &str) -> bool {
    cause.split('|').any(|c| match c.strip_suffix('$') {
        Some(end) => message.ends_with(end),
        None => message.contains(c),
    })
}

/// `body` runs in `update`: the call must be stopped (or fail) with a diagnostic containing `cause`.
fn in_update(name: &str, body: &str, cause: &str) {
    run_update(Scene::new(name), name, body, cause);
}

/// A memory bomb in `update`, whose deadline is far enough that only the memory limit can stop it.
fn memory_in_update(name: &str, body: &str, cause: &str) {
    let mut s = Scene::new(name);
    s.host.set_budget(memory_budget());
    run_update(s, name, body, cause);
}

/// A memory bomb in a guest's `update`, as [`memory_in_update`].
fn memory_in_guest_update(name: &str, body: &str, cause: &str) {
    let mut s = Scene::guest(name);
    s.host.set_budget(memory_budget());
    run_update(s, name, body, cause);
}

/// `body` runs in a guest's `update`: the escape must fail with a diagnostic containing `cause`.
fn guest_update(name: &str, body: &str, cause: &str) {
    run_update(Scene::guest(name), name, body, cause);
}

fn run_update(mut s: Scene, name: &str, body: &str, cause: &str) {
    let hostile = GOOD.replace("function M.update(dt) end", &format!("function M.update(dt)\n{body}\nend"));
    let reports = s.host.edit(&s.dir.join("main.lua"), &hostile).unwrap();
    assert!(reports[0].became_live, "{name}: it builds; the trouble is at run time: {reports:?}");
    let started = Instant::now();
    let reports = s.host.call("update", 0.016);
    let took = started.elapsed();
    let message = first_message(&reports);
    assert!(names(&message, cause), "{name}: the diagnostic names the cause ({cause}): {message}");
    assert!(message.contains("main.lua"), "{name}: the diagnostic names the file: {message}");
    assert!(took < Duration::from_secs(3), "{name}: took {took:?}");
    s.still_fine();
}

/// `body` runs at the top level of a new version of main: the version must not go live.
fn at_top_level(name: &str, body: &str, cause: &str) {
    top_level_of(Scene::new(name), name, body, cause);
}

/// A memory bomb at the top level, whose load deadline is far enough that only the memory limit can stop it.
fn memory_at_top_level(name: &str, body: &str, cause: &str) {
    let mut s = Scene::new(name);
    s.host.set_budget(memory_budget());
    top_level_of(s, name, body, cause);
}

fn top_level_of(mut s: Scene, name: &str, body: &str, cause: &str) {
    let hostile = GOOD.replace("local M = {}", &format!("local M = {{}}\n{body}"));
    let started = Instant::now();
    let reports = s.host.edit(&s.dir.join("main.lua"), &hostile).unwrap();
    assert!(!reports[0].became_live, "{name}: the version must not go live");
    let message = first_message(&reports);
    assert!(names(&message, cause), "{name}: the diagnostic names the cause ({cause}): {message}");
    assert!(started.elapsed() < Duration::from_secs(3), "{name}: took {:?}", started.elapsed());
    s.still_fine();
}

const STOPPED: &str = "stopped here after";
const STOPPED_LOAD: &str = "ran past its";
/// What the memory limit reports when a callback passes it.
const MEMORY: &str = "in update(): out of memory (the scene's Lua memory limit is 64 MiB)";
/// The same, in a guest's VM.
const GUEST_MEMORY: &str = "in update(): out of memory (the guest's Lua memory limit is 64 MiB)";
/// What the memory limit reports when a module's top level passes it (LuaJIT's own message for a failed allocation).
const MEMORY_LOAD: &str = "main.lua: error: not enough memory$";

macro_rules! corpus {
    ($($name:ident: $how:ident($body:expr, $cause:expr);)*) => {
        $(#[test] fn $name() { $how(stringify!($name), $body, $cause); })*
        /// The corpus's size, checked below.
        const CASES: usize = [$(stringify!($name)),*].len();
    };
}

corpus! {
    while_true: in_update("while true do end", STOPPED);
    while_counting: in_update("local x = 0 while true do x = x + 1 end", STOPPED);
    repeat_until_false: in_update("repeat local y = 1 until false", STOPPED);
    numeric_for_to_1e12: in_update("local s = 0 for i = 1, 1e12 do s = s + i end", STOPPED);
    for_to_infinity: in_update("for i = 1, math.huge do end", STOPPED);
    goto_loop: in_update("::top:: goto top", STOPPED);
    tail_call_recursion: in_update("local function f(n) return f(n + 1) end f(0)", STOPPED);
    loop_calling_lua_functions: in_update("local function f(a) return a * 2 end local x = 1 while true do x = f(x) % 7 end", STOPPED);
    loop_calling_the_engine: in_update("while true do gfx.width() end", STOPPED);
    loop_allocating_tables: in_update("while true do local t = { {}, {}, {} } end", STOPPED);
    coroutine_ping_pong: in_update(
        "local co = coroutine.wrap(function() while true do coroutine.yield(1) end end) while true do co() end", STOPPED);
    loop_inside_a_coroutine: in_update("coroutine.resume(coroutine.create(function() while true do end end))", STOPPED);
    pcall_swallowing_errors: in_update("while true do pcall(function() while true do end end) end", STOPPED);
    pcall_of_the_loop_itself: in_update("pcall(function() while true do end end) while true do end", STOPPED);
    xpcall_whose_handler_loops: in_update("xpcall(function() error('x') end, function() while true do end end)", STOPPED);
    error_handler_retrying: in_update("while true do xpcall(error, function() end) end", STOPPED);
    index_metamethod_loop: in_update(
        "local t = setmetatable({}, { __index = function() while true do end end }) local v = t.x", STOPPED);
    newindex_metamethod_loop: in_update(
        "local t = setmetatable({}, { __newindex = function() while true do end end }) t.x = 1", STOPPED);
    call_metamethod_loop: in_update(
        "local t = setmetatable({}, { __call = function() while true do end end }) t()", STOPPED);
    lt_metamethod_loop: in_update(
        "local mt = { __lt = function() while true do end end } local a, b = setmetatable({}, mt), setmetatable({}, mt) local c = a < b",
        STOPPED);
    tostring_metamethod_loop: in_update(
        "local t = setmetatable({}, { __tostring = function() while true do end end }) tostring(t)", STOPPED);
    index_chain_cycle: in_update(
        "local a, b = {}, {} setmetatable(a, { __index = b }) setmetatable(b, { __index = a }) local v = a.missing",
        "loop in gettable");
    index_function_recursion: in_update(
        "local t = setmetatable({}, { __index = function(t, k) return t[k .. 'x'] end }) local v = t.a",
        // Its keys grow each level: under load the deadline can come before the stack runs out.
        "stack overflow|stopped here after");
    deep_recursion: in_update("local function f(n) return 1 + f(n + 1) end f(0)", "stack overflow");
    // 2^30, not 2^31: LuaJIT takes the count as an int32, and 2^31 wraps to a negative count (an empty string).
    string_rep_bomb: memory_in_update("local s = string.rep('x', 2 ^ 30)", MEMORY);
    concatenation_doubling: memory_in_update("local s = 'x' for i = 1, 40 do s = s .. s end", MEMORY);
    concatenation_loop: memory_in_update("local s = '' while true do s = s .. string.rep('y', 4194304) end", MEMORY);
    table_growth: memory_in_update("local t = {} local i = 0 while true do i = i + 1 t[i] = string.rep('t', 8192) .. i end", MEMORY);
    table_concat_bomb: memory_in_update(
        "local t = {} for i = 1, 2e7 do t[i] = 'abcdefgh' end local s = table.concat(t)", MEMORY);
    gc_stopped_then_allocating: memory_in_update(
        "collectgarbage('stop') local t = {} for i = 1, 1e9 do t[i] = string.rep('g', 8192) .. i end", MEMORY);
    // A table raised as the error value is reported as Lua prints it; a nil error value is reported as `nil`.
    error_with_a_table_value: in_update("error({ reason = 'table' })", "in update(): table: 0x");
    error_with_nil: in_update("error(nil)", "in update(): nil$");
    top_level_while_true: at_top_level("while true do end", STOPPED_LOAD);
    top_level_recursion: at_top_level("local function f() return 1 + f() end f()", "stack overflow");
    top_level_memory_bomb: memory_at_top_level("local t = {} for i = 1, 1e9 do t[i] = i end", MEMORY_LOAD);
    on_reload_that_loops: at_top_level("function M.on_reload(old) while true do end end", STOPPED_LOAD);
    require_of_a_looping_module: at_top_level("local x = require('loops')", STOPPED_LOAD);
    guest_io: guest_update("io.open('/etc/passwd')", "global 'io'");
    guest_os_execute: guest_update("os.execute('true')", "field 'execute'");
    guest_os_exit: guest_update("os.exit(1)", "field 'exit'");
    guest_require_ffi: guest_update("local ffi = require('ffi')", "not available to guest code");
    guest_require_jit: guest_update("require('jit').on()", "not available to guest code");
    guest_jit_on: guest_update("jit.on()", "global 'jit'");
    guest_debug: guest_update("debug.sethook()", "global 'debug'");
    guest_loadstring: guest_update("loadstring('return 1')()", "global 'loadstring'");
    guest_load_bytecode: guest_update("load('\\27LJ\\2')()", "global 'load'");
    guest_dofile: guest_update("dofile('/etc/passwd')", "global 'dofile'");
    guest_string_dump: guest_update("local f = ('').dump(function() end)", "field 'dump'");
    guest_string_metatable: guest_update("getmetatable('').__index.upper = function() end", "index a boolean");
    guest_getfenv: guest_update("getfenv(0).io = true", "global 'getfenv'");
    guest_setfenv: guest_update("setfenv(1, {})", "global 'setfenv'");
    guest_package_loadlib: guest_update("package.loadlib('libc.so.6', 'system')", "global 'package'");
    guest_newproxy_finalizer: guest_update("local p = newproxy(true)", "global 'newproxy'");
    guest_string_rep_past_limit: guest_update("local s = string.rep('x', 32 * 1024 * 1024)", "at most 16777216");
    guest_pattern_on_a_huge_subject: guest_update(
        "local s = string.rep('a', 200000) string.find(s, '.-.-.-.-b')", "at most 65536 bytes");
    guest_gsub_on_a_huge_subject: guest_update("local s = string.rep('a', 100000) s:gsub('a', 'b')", "at most 65536");
    guest_infinite_loop: guest_update("while true do end", STOPPED);
    guest_memory_bomb: memory_in_guest_update("local t = {} for i = 1, 1e9 do t[i] = string.rep('m', 8192) .. i end", GUEST_MEMORY);
}

#[test]
fn a_guest_bytecode_module_is_refused() {
    let mut s = Scene::guest("bytecode-module");
    let reports = s.host.edit(&s.dir.join("main.lua"), "\x1bLJ\x02 not really bytecode").unwrap();
    assert!(!reports[0].became_live);
    assert!(first_message(&reports).contains("binary chunks are refused"), "{reports:?}");
    s.still_fine();
}

#[test]
fn a_guest_can_still_do_ordinary_work_with_what_it_keeps() {
    let mut s = Scene::guest("ordinary");
    let code = "return table.concat({ string.format('%d', 42), ('ab'):rep(2), tostring(math.floor(2.5)), \
                os.date('%Y') ~= nil and 'date' or 'no date', select('#', 1, 2) }, ' ')";
    assert_eq!(s.host.eval(code).unwrap(), "42 abab 2 date 2");
    assert_eq!(s.host.eval("return getmetatable('')").unwrap(), "false");
}

// The corpus holds at least 40 programs (a compile-time check).
const _: () = assert!(CASES >= 40);

#[test]
fn allocations_fail_at_the_memory_limit_the_budget_sets() {
    let mut s = Scene::new("memory-limit");
    // Fills memory inside a pcall, noting the VM's size as it grows: the allocation that fails is the one that
    // would pass the limit.
    let fill = GOOD.replace(
        "return M",
        "function M.fill()\n\
         local t, peak = {}, 0\n\
         local ok, err = pcall(function()\n\
           for i = 1, 1e9 do t[i] = string.rep('m', 8192) .. i; peak = math.max(peak, collectgarbage('count')) end\n\
         end)\n\
         t = nil collectgarbage()\n\
         return tostring(ok) .. ' ' .. tostring(err) .. ' ' .. math.floor(peak / 1024)\n\
         end\nreturn M",
    );
    assert!(s.host.edit(&s.dir.join("main.lua"), &fill).unwrap()[0].became_live);
    for mib in [32, 96] {
        s.host.set_budget(Budget { memory: mib << 20, ..memory_budget() });
        let answer = s.host.eval("return require('main').fill()").unwrap();
        let peak: usize = answer.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(answer.starts_with("false not enough memory "), "{mib} MiB: the allocation failed: {answer}");
        assert!(peak < mib && peak + 8 >= mib, "{mib} MiB: the VM stopped growing at {peak} MiB");
    }
}

#[test]
fn a_looping_required_module_is_reported_in_its_own_file() {
    let mut s = Scene::new("required-loop");
    let reports =
        s.host.edit(&s.dir.join("main.lua"), &GOOD.replace("local M = {}", "local M = {}\nrequire('loops')")).unwrap();
    assert!(reports.iter().any(|r| r.path.ends_with("loops.lua") && !r.diagnostics.is_empty()), "{reports:?}");
    s.still_fine();
}

#[test]
fn time_spent_in_the_engine_does_not_count_against_the_lua_deadline() {
    let dir = std::env::temp_dir().join(format!("allsource-hostile-{}-engine-time", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let main = "local M = {}\nlocal s = gfx.shader('x.glsl')\n\
                function M.update(dt) for i = 1, 3 do gfx.draw{ shader = s } end end\nreturn M\n";
    std::fs::write(dir.join("main.lua"), main).unwrap();
    let slow_driver = Recorder { draw_delay: Duration::from_millis(100), ..Recorder::default() };
    let mut host = ModuleHost::new(&dir, slow_driver).unwrap();
    host.set_budget(budget());
    assert!(host.start().iter().all(|r| r.diagnostics.is_empty()));
    // 300 ms of engine work against a 50 ms hard limit: the Lua code itself took microseconds.
    let reports = host.call("update", 0.016);
    assert!(reports.is_empty(), "{reports:?}");
    assert!(host.last_call().unwrap().took >= Duration::from_millis(300));
}

#[test]
fn the_budget_warns_then_throttles_update_then_reverts() {
    let dir = std::env::temp_dir().join(format!("allsource-hostile-{}-throttle", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let calls = "local M = {}\nlocal n = persist('n', function() return { updates = 0 } end)\n\
                 function M.update(dt) n.updates = n.updates + 1 WORK end\nfunction M.count() return n.updates end\nreturn M\n";
    std::fs::write(dir.join("main.lua"), calls.replace("WORK", "")).unwrap();
    let mut host = ModuleHost::new(&dir, Recorder::default()).unwrap();
    host.set_budget(Budget {
        period: Duration::from_millis(5),
        warn_after: 2,
        throttle_after: 4,
        revert_after: 8,
        ..budget()
    });
    host.start();
    host.end_frame_unjudged();
    let slow = calls.replace("WORK", "local t = gfx.clock() while gfx.clock() - t < 0.008 do end");
    host.edit(&dir.join("main.lua"), &slow).unwrap();
    let (mut warned, mut throttled_frames, mut reverted) = (false, 0, false);
    for _ in 0..20 {
        let mut reports = host.update(0.01);
        reports.extend(host.end_frame());
        let text: Vec<String> = reports.iter().flat_map(|r| r.diagnostics.iter().map(|d| d.message.clone())).collect();
        warned |= text.iter().any(|m| m.contains("own code; the frame budget is 5.0 ms"));
        throttled_frames += host.throttled() as u32;
        if text.iter().any(|m| m.contains("own code, over the 5.0 ms frame budget")) {
            reverted = true;
            break;
        }
    }
    assert!(warned && reverted, "warned {warned}, reverted {reverted}");
    assert!(throttled_frames >= 4, "update was throttled on {throttled_frames} frames before the revert");
    // Throttled frames skipped update: it ran fewer times than there were frames.
    let updates: u32 = host.eval("return require('main').count()").unwrap().parse().unwrap();
    assert!(updates < 16, "update ran {updates} times");
}

#[test]
fn a_finalizer_that_errors_is_dropped_by_luajit_and_nothing_breaks() {
    let mut s = Scene::new("gc-error");
    let hostile = GOOD.replace(
        "function M.update(dt) end",
        "function M.update(dt)\nlocal p = newproxy(true) getmetatable(p).__gc = function() error('in gc') end\n\
         p = nil collectgarbage()\nend",
    );
    s.host.edit(&s.dir.join("main.lua"), &hostile).unwrap();
    // LuaJIT does not raise errors from finalizers: there is nothing to report, and the module keeps running.
    assert!(s.host.call("update", 0.016).is_empty());
    assert_eq!(s.host.eval("return require('other').ping()").unwrap(), "pong");
    assert_eq!(s.host.eval("return require('main').alive()").unwrap(), "yes");
}

#[test]
fn a_guest_that_replaces_its_globals_cannot_reach_the_module_system() {
    let mut s = Scene::guest("replace-g");
    // The guest wrecks every global it can reach, then raises.
    let hostile = GOOD.replace(
        "function M.update(dt) end",
        "function M.update(dt)\n\
         setmetatable(_G, { __index = function() error('hijacked') end })\n\
         _G.require, _G.pairs, _G.setmetatable = nil, nil, nil\n\
         _G = {}\n\
         error('done wrecking')\nend",
    );
    s.host.edit(&s.dir.join("main.lua"), &hostile).unwrap();
    let reports = s.host.call("update", 0.016);
    assert!(first_message(&reports).contains("done wrecking"), "{reports:?}");
    // The module system kept its own references: reverting main and editing modules still works.
    let reports =
        s.host.edit(&s.dir.join("other.lua"), "local O = {}\nfunction O.ping() return 'pong 2' end\nreturn O\n");
    assert!(reports.unwrap()[0].became_live);
}
