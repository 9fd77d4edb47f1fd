//! Measurements for `allsource bench` that need a bare VM: how soon past its deadline the watchdog stops a runaway
//! call, and what the watchdog costs JIT-compiled code that stays within its deadline.

use std::time::{Duration, Instant};

use mlua::Lua;

use crate::interrupt::Interrupter;
use crate::watchdog::Watchdog;

/// The runaway loops the stop latency is measured on, in turn.
const RUNAWAYS: &[&str] = &[
    "while true do end",
    "local x = 0 while true do x = x + 1 end",
    "for i = 1, 1e12 do end",
    "local function f() return 1 end while true do f() end",
    "while true do pcall(function() while true do end end) end",
    "local co = coroutine.wrap(function() while true do coroutine.yield() end end) while true do co() end",
    "local t = {} local i = 0 while true do i = i + 1 t[i % 64 + 1] = { i } end",
];

/// Runs `runs` runaway calls, each with `deadline`, and returns how long after its deadline each call returned.
pub fn stop_latency(runs: usize, deadline: Duration) -> Result<Vec<Duration>, String> {
    let lua = Lua::new();
    let watchdog = Watchdog::start(Interrupter::of(&lua).map_err(|e| e.to_string())?);
    let mut overshoots = Vec::with_capacity(runs);
    for i in 0..runs {
        let chunk = lua.load(RUNAWAYS[i % RUNAWAYS.len()]).into_function().map_err(|e| e.to_string())?;
        let (result, guarded) = watchdog.guard(deadline, || chunk.call::<()>(()));
        if result.is_ok() {
            return Err(format!("runaway {i} returned on its own"));
        }
        overshoots.push(guarded.overshoot.unwrap_or(guarded.took.saturating_sub(deadline)));
    }
    Ok(overshoots)
}

/// A JIT-heavy benchmark: numeric loops, table reads and writes, function calls (a chunk that returns a number).
pub const WORK: &str = "
local function step(a, b) return (a * 31 + b) % 1000003 end
local t = {}
for i = 1, 256 do t[i] = i end
local s = 0
for i = 1, 4e6 do
  local k = i % 256 + 1
  s = step(s, t[k])
  t[k] = s % 97
end
return s
";

/// Runs the benchmark `rounds` times plain, `rounds` times under the watchdog (with a deadline it never reaches)
/// sampling the running code for the time per module, and `rounds` times under the watchdog without sampling,
/// interleaved.
pub fn watchdog_cost(rounds: usize) -> Result<WatchdogCost, String> {
    let lua = Lua::new();
    let watchdog = Watchdog::start(Interrupter::of(&lua).map_err(|e| e.to_string())?);
    let work = lua.load(WORK).into_function().map_err(|e| e.to_string())?;
    // Warm up: let the JIT compile the loops.
    work.call::<f64>(()).map_err(|e| e.to_string())?;
    let (mut plain, mut sampled, mut unsampled) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        work.call::<f64>(()).map_err(|e| e.to_string())?;
        plain.push(t.elapsed());
        for (sampling, out) in [(true, &mut sampled), (false, &mut unsampled)] {
            watchdog.set_sampling(sampling);
            let (result, g) = watchdog.guard(Duration::from_secs(30), || work.call::<f64>(()));
            result.map_err(|e| e.to_string())?;
            out.push(g.took);
        }
    }
    Ok(WatchdogCost { plain, sampled, unsampled })
}

/// The durations of each run of the JIT-heavy benchmark: plain, under the watchdog sampling the running code, and
/// under the watchdog without sampling.
pub struct WatchdogCost {
    pub plain: Vec<Duration>,
    pub sampled: Vec<Duration>,
    pub unsampled: Vec<Duration>,
}

/// The floor of a module reload, for `allsource bench`: compile and run `text` as a chunk in a bare VM, `times`
/// times (a fresh chunk each time), returning each duration.
pub fn raw_load_and_run(text: &str, times: usize) -> Result<Vec<std::time::Duration>, String> {
    let lua = Lua::new();
    let mut out = Vec::with_capacity(times);
    for i in 0..times {
        let chunk = format!("{text}\n-- {i}");
        let started = Instant::now();
        lua.load(&chunk).set_name("@bench.lua").exec().map_err(|e| e.to_string())?;
        out.push(started.elapsed());
    }
    Ok(out)
}
