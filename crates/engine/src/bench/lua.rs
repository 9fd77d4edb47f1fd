//! Lua modules: a direct edit of a module against the quantized ideal of its floor (compiling and running the same
//! chunk in a bare VM), keystrokes typed into a module (which run only after the typing pauses), and what a
//! version's transaction costs.

use std::path::Path;
use std::time::Duration;

use super::{
    BenchOptions, EditSplit, Figures, Ms, edit_timings, lua_scene, module_variant, open_at, quantized_ideal, send_edit,
    settle,
};
use crate::worker::{Clock, Command, EngineOptions};
use crate::{Error, HeadlessEngine, Scene};

/// A scene in `dir/name` of one module (`module_variant(0)` with `prefix` after its first line) and the fill shader,
/// and its main.lua.
fn module_scene(dir: &Path, name: &str, prefix: &str) -> Result<(std::path::PathBuf, std::path::PathBuf), Error> {
    let scene = lua_scene(dir, name, &with_prefix(0, prefix))?;
    let main = scene.join("main.lua");
    Ok((scene, main))
}

fn with_prefix(i: usize, prefix: &str) -> String {
    module_variant(i).replacen("local M = {}\n", &format!("local M = {{}}\n{prefix}"), 1)
}

pub(super) fn module_reload(dir: &Path, options: &BenchOptions, figures: &mut Figures) -> Result<String, Error> {
    let (scene, main) = module_scene(dir, "module", "")?;
    let period = options.period();
    let mut engine = HeadlessEngine::new(Scene::open(&scene)?, options.realtime())?;
    // The first frame has the module and its shader (generation 2) live.
    settle(&mut engine, 2, period)?;
    let timings = edit_timings(&mut engine, options.edits, period, |s| s.shown_version, &mut |e, i| {
        send_edit(e, &main, module_variant(i));
        Ok(())
    })?;
    drop(engine);
    let floor = Ms::of(
        &allsource_lua::raw_load_and_run(
            &module_variant(0)
                .replace("gfx.shader('fill.glsl')", "nil")
                .replace("persist('state', function() return { frames = 0 } end)", "{ frames = 0 }"),
            options.edits,
        )
        .map_err(|e| Error::Io { path: main.clone(), message: e })?,
    );
    let period_ms = period.as_secs_f64() * 1e3;
    let ideal = quantized_ideal(floor.median(), period_ms);
    let m = EditSplit::of(&timings);
    figures.extend([
        ("module_edit_to_pixels_median_ms", m.total.median()),
        ("module_edit_to_pixels_p90_ms", m.total.at(0.9)),
        ("module_edit_floor_median_ms", floor.median()),
        ("module_edit_ideal_ms", ideal),
        ("module_edit_over_ideal", m.total.median() / ideal),
    ]);
    Ok(format!(
        "module edits: {} edits of a {}-line module, {} fps\n\
         \x20 floor (compile + run the chunk in a bare VM): median {:.2} ms; ideal {ideal:.1} ms\n\
         \x20 edit -> first frame drawn by the new code: median {:.1} ms, p90 {:.1} ms, max {:.1} ms: x{:.2} the \
         ideal (target <= 1.2)\n\
         \x20   {}\n",
        options.edits,
        module_variant(0).lines().count(),
        options.fps,
        floor.median(),
        m.total.median(),
        m.total.at(0.9),
        m.total.max(),
        m.total.median() / ideal,
        m.describe(),
    ))
}

/// Keystrokes typed into a Lua module through the editor: from a digit typed into a constant to the first frame
/// drawn by the new code. The text compiles at once and runs once the typing has paused for `lua_pause`, so the
/// figure is the pause plus what a direct edit costs (the module group's, measured in the same run).
pub(super) fn lua_typing(dir: &Path, options: &BenchOptions, figures: &mut Figures) -> Result<String, Error> {
    let (scene, main) = module_scene(dir, "typing", "")?;
    let text = module_variant(0);
    let period = options.period();
    let engine_options = options.realtime();
    let pause = engine_options.lua_pause;
    let mut engine = HeadlessEngine::new(Scene::open(&scene)?, engine_options)?;
    settle(&mut engine, 2, period)?;
    // After the constant of `local y = x * 0 + 0`: every digit typed there is a new number, so a new version.
    let (line, column) = text
        .lines()
        .enumerate()
        .find_map(|(n, l)| (l == "  local y = x * 0 + 0").then(|| (n as u32 + 1, l.len() as u32 + 1)))
        .ok_or_else(|| Error::Io { path: main.clone(), message: "the bench module has no constant".into() })?;
    open_at(&mut engine, &main, line, column)?;
    let timings = edit_timings(&mut engine, options.edits, period, |s| s.shown_version, &mut |e, i| {
        e.compositor_mut().overlay.text(&(((i - 1) % 9) + 1).to_string());
        Ok(())
    })?;
    drop(engine);
    let t = EditSplit::of(&timings);
    let pause_ms = pause.as_secs_f64() * 1e3;
    let direct = figures.get("module_edit_to_pixels_median_ms");
    let beyond = t.total.median() - pause_ms;
    figures.extend([
        ("lua_keystroke_to_pixels_median_ms", t.total.median()),
        ("lua_keystroke_to_pixels_p90_ms", t.total.at(0.9)),
        ("lua_pause_ms", pause_ms),
        ("lua_keystroke_beyond_pause_median_ms", beyond),
        ("lua_keystroke_beyond_pause_over_direct_edit", beyond / direct),
    ]);
    Ok(format!(
        "typed Lua: {} keystrokes into a module's constant through the editor, {} fps\n\
         \x20 keystroke -> first frame drawn by the new code: median {:.1} ms, p90 {:.1} ms\n\
         \x20 of which the pause (typing must stop this long before a Lua text runs): {pause_ms:.0} ms\n\
         \x20 beyond the pause: median {beyond:.1} ms, beside a direct edit of the module -> frame {direct:.1} ms \
         (x{:.2}; 1 means the pause is the only added latency)\n",
        options.edits,
        options.fps,
        t.total.median(),
        t.total.at(0.9),
        beyond / direct,
    ))
}

/// What a version's transaction costs: the build time of the same module edit (compile, snapshot, top level,
/// hand-off) with about 10 MB of persisted state, against none. Lockstep, one frame after each edit.
pub(super) fn lua_transaction(dir: &Path, options: &BenchOptions, figures: &mut Figures) -> Result<String, Error> {
    let big = "local big = persist('big', function()\n  local t = {}\n  \
               for i = 1, 80000 do t[i] = { x = i, y = i * 2, name = 'ball ' .. i } end\n  return t\nend)\n";
    let run = |name: &str, state: &str| -> Result<(Vec<Duration>, f64), Error> {
        let (scene, main) = module_scene(dir, name, state)?;
        let engine_options = EngineOptions { clock: Clock::Lockstep, ..options.realtime() };
        let mut engine = HeadlessEngine::new(Scene::open(&scene)?, engine_options)?;
        engine.frame_lockstep(0)?;
        let kib = engine
            .compositor_mut()
            .request(
                Command::Eval { code: "collectgarbage() return collectgarbage('count')".into() },
                Duration::from_secs(10),
            )?
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        let mut builds = Vec::new();
        for i in 1..=options.edits.max(5) {
            send_edit(&mut engine, &main, with_prefix(i, state));
            engine.frame_lockstep(i as u64)?;
            if let Some(took) = engine.compositor().status().last_build {
                builds.push(took);
            }
        }
        Ok((builds, kib / 1024.0))
    };
    let (plain, plain_mib) = run("transaction-plain", "")?;
    let (heavy, heavy_mib) = run("transaction-heavy", big)?;
    let (p, h) = (Ms::of(&plain), Ms::of(&heavy));
    let state_mib = heavy_mib - plain_mib;
    figures.extend([
        ("lua_version_build_median_ms", p.median()),
        ("lua_version_build_10mb_state_median_ms", h.median()),
        ("lua_transaction_10mb_cost_ms", h.median() - p.median()),
        ("lua_transaction_state_mib", state_mib),
    ]);
    Ok(format!(
        "Lua version transaction: {} edits of a module, lockstep\n\
         \x20 build (compile + snapshot + top level + hand-off): median {:.2} ms with no persisted state, \
         {:.2} ms with {state_mib:.1} MiB of it: the snapshot costs {:.2} ms a version\n",
        plain.len(),
        p.median(),
        h.median(),
        h.median() - p.median(),
    ))
}
