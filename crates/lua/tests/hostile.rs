//! Hostile code in a scene's (trusted) VM: every loop form, runaway metamethods, memory bombs, stack overflows.
//! For each program: the host survives, the diagnostic names the cause, another module keeps running, and the
//! module goes back to its last good version. Budgets are shortened so the corpus runs in seconds.
//!
//! Not here (they need what the supervision issue has not built yet): escape attempts, which only mean something
//! for sandboxed guest VMs; a `__gc` finalizer that loops and one long C call (`string.find` with a pathological
//! pattern), which no hook can stop (LuaJIT runs finalizers with hooks off) and which need a worker that can be
//! given up and replaced.

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

struct Scene {
    dir: PathBuf,
    host: ModuleHost,
}

impl Scene {
    fn new(name: &str) -> Scene {
        let dir = std::env::temp_dir().join(format!("allsource-hostile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.lua"), GOOD).unwrap();
        std::fs::write(dir.join("other.lua"), OTHER).unwrap();
        std::fs::write(dir.join("loops.lua"), "local L = {}\nwhile true do end\nreturn L\n").unwrap();
        let mut host = ModuleHost::new(&dir, Box::new(Recorder::default())).unwrap();
        host.set_budget(budget());
        let reports = host.start();
        assert!(reports.iter().all(|r| r.diagnostics.is_empty()), "{reports:?}");
        assert_eq!(host.eval("return require('other').ping()").unwrap(), "pong");
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

/// `body` runs in `update`: the call must be stopped (or fail) with a diagnostic containing `cause`.
fn in_update(name: &str, body: &str, cause: &str) {
    let mut s = Scene::new(name);
    let hostile = GOOD.replace("function M.update(dt) end", &format!("function M.update(dt)\n{body}\nend"));
    let reports = s.host.edit(&s.dir.join("main.lua"), &hostile).unwrap();
    assert!(reports[0].became_live, "{name}: it builds; the trouble is at run time: {reports:?}");
    let started = Instant::now();
    let reports = s.host.call("update", 0.016);
    let took = started.elapsed();
    let message = first_message(&reports);
    assert!(message.contains(cause), "{name}: the diagnostic names the cause ({cause}): {message}");
    assert!(message.contains("main.lua"), "{name}: the diagnostic names the file: {message}");
    assert!(took < Duration::from_secs(3), "{name}: took {took:?}");
    s.still_fine();
}

/// `body` runs at the top level of a new version of main: the version must not go live.
fn at_top_level(name: &str, body: &str, cause: &str) {
    let mut s = Scene::new(name);
    let hostile = GOOD.replace("local M = {}", &format!("local M = {{}}\n{body}"));
    let started = Instant::now();
    let reports = s.host.edit(&s.dir.join("main.lua"), &hostile).unwrap();
    assert!(!reports[0].became_live, "{name}: the version must not go live");
    let message = first_message(&reports);
    assert!(message.contains(cause), "{name}: the diagnostic names the cause ({cause}): {message}");
    assert!(started.elapsed() < Duration::from_secs(3), "{name}: took {:?}", started.elapsed());
    s.still_fine();
}

const STOPPED: &str = "stopped here after";
const STOPPED_LOAD: &str = "ran past its";
const MEMORY: &str = "memory";

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
        "local t = setmetatable({}, { __index = function(t, k) return t[k .. 'x'] end }) local v = t.a", "stack overflow");
    deep_recursion: in_update("local function f(n) return 1 + f(n + 1) end f(0)", "stack overflow");
    // 2^30, not 2^31: LuaJIT takes the count as an int32, and 2^31 wraps to a negative count (an empty string).
    string_rep_bomb: in_update("local s = string.rep('x', 2 ^ 30)", MEMORY);
    concatenation_doubling: in_update("local s = 'x' for i = 1, 40 do s = s .. s end", MEMORY);
    concatenation_loop: in_update("local s = '' while true do s = s .. string.rep('y', 4194304) end", MEMORY);
    table_growth: in_update("local t = {} local i = 0 while true do i = i + 1 t[i] = string.rep('t', 8192) .. i end", MEMORY);
    table_concat_bomb: in_update(
        "local t = {} for i = 1, 2e7 do t[i] = 'abcdefgh' end local s = table.concat(t)", MEMORY);
    gc_stopped_then_allocating: in_update(
        "collectgarbage('stop') local t = {} for i = 1, 1e9 do t[i] = string.rep('g', 8192) .. i end", MEMORY);
    error_with_a_table_value: in_update("error({ reason = 'table' })", "error");
    error_with_nil: in_update("error(nil)", "error");
    top_level_while_true: at_top_level("while true do end", STOPPED_LOAD);
    top_level_recursion: at_top_level("local function f() return 1 + f() end f()", "stack overflow");
    top_level_memory_bomb: at_top_level("local t = {} for i = 1, 1e9 do t[i] = i end", MEMORY);
    on_reload_that_loops: at_top_level("function M.on_reload(old) while true do end end", STOPPED_LOAD);
    require_of_a_looping_module: at_top_level("local x = require('loops')", STOPPED_LOAD);
}

// The corpus holds at least 35 programs (a compile-time check).
const _: () = assert!(CASES >= 35);

#[test]
fn a_looping_required_module_is_reported_in_its_own_file() {
    let mut s = Scene::new("required-loop");
    let reports =
        s.host.edit(&s.dir.join("main.lua"), &GOOD.replace("local M = {}", "local M = {}\nrequire('loops')")).unwrap();
    assert!(reports.iter().any(|r| r.path.ends_with("loops.lua") && !r.diagnostics.is_empty()), "{reports:?}");
    s.still_fine();
}
