//! `allsource bench`: figures, not pass/fail. Each group measures a live path and, in the same run, the floor it
//! cannot beat, and prints both with their ratio (these machines are noisy: compare ratios, not raw times).
//!
//! Shader rebuild: from an edit sent to the worker to the first composed frame drawn with the new program, in
//! real-time mode at the display rate, beside the floor: compile + link + first draw + finish of the same source
//! on a context of its own. Every edit changes a constant, so no shader cache can serve it.
//!
//! Module reload: from an edit of a Lua module sent to the worker to the first composed frame drawn by the new
//! code, beside the floor: compiling and running the same chunk in a bare VM.
//!
//! Editor: keystroke -> pixels through the editor (an egui pass takes the key, the edit goes to the worker) beside
//! the shader group's direct edit, and the frame-time cost of the open editor.
//!
//! Typed Lua: keystroke -> pixels through the editor into a module, whose text runs only after the typing pauses,
//! beside the module group's direct edit: the pause should be the only latency added. And the cost of a version's
//! transaction (the snapshot of what it may change) with about 10 MB of persisted state.
//!
//! Preview: the scene's compositor frame-time p99 while a preview guest takes 30 ms of Lua a frame, against no
//! preview (measured before and after), with the guest's thread at a lower OS priority and at the scene's.
//!
//! Memory: resident memory after 10 and after N (1000 by default) reloads of a module and of a shader, in
//! lockstep mode (each reload followed by one frame).

use std::time::{Duration, Instant};

use allsource_gpu::{FullscreenTriangle, Program, Target};

use crate::worker::{Clock, Command, EngineOptions};
use crate::{Error, HeadlessEngine, Scene};

/// The shader the rebuild benchmark edits: the bundled demo's plasma, with one constant that changes per edit.
fn variant(i: usize) -> String {
    format!(
        "uniform float u_time;
uniform vec2 u_resolution;
layout(location = 0) out vec4 colour;
void main() {{
    vec2 p = gl_FragCoord.xy / u_resolution.y * 4.0;
    float v = sin(p.x + u_time) + sin(p.y * 1.3 - u_time * 0.7)
            + sin((p.x + p.y) * 0.8 + u_time * 1.1) + sin(length(p - vec2(3.5, 2.0)) * 2.0 - u_time * 1.6);
    colour = vec4(0.5 + 0.5 * cos(v * 1.2 + vec3(0.0, 2.1, 4.2) + {}.0 * 1e-6), 1.0);
}}
",
        i + 1
    )
}

pub struct BenchOptions {
    pub edits: usize,
    pub size: (u32, u32),
    pub fps: f64,
    /// Reloads for the memory figures.
    pub reloads: usize,
}

impl BenchOptions {
    /// The engine options of a real-time run at the bench's size and rate.
    fn realtime(&self) -> EngineOptions {
        EngineOptions { size: self.size, fps: self.fps, clock: Clock::Realtime, ..EngineOptions::default() }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn sorted_ms(samples: &[Duration]) -> Vec<f64> {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    ms
}

/// What `allsource bench` measured: the text to print, and every figure by a name that carries its unit.
pub struct BenchReport {
    pub text: String,
    pub figures: Vec<(&'static str, f64)>,
}

impl BenchReport {
    /// One JSON object of the named figures.
    pub fn json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .figures
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::json!((*v * 1000.0).round() / 1000.0)))
            .collect();
        serde_json::Value::Object(map).to_string()
    }
}

/// Runs every benchmark group and returns the report to print.
pub fn bench(options: &BenchOptions) -> Result<BenchReport, Error> {
    let mut figures = Vec::new();
    let text = run_groups(options, &mut figures)?;
    Ok(BenchReport { text, figures })
}

fn run_groups(options: &BenchOptions, figures: &mut Vec<(&'static str, f64)>) -> Result<String, Error> {
    let dir = std::env::temp_dir().join(format!("allsource-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io { path: dir.clone(), message: e.to_string() })?;
    let main = dir.join("main.glsl");
    std::fs::write(&main, variant(0)).map_err(|e| Error::Io { path: main.clone(), message: e.to_string() })?;
    let run = |figures: &mut Vec<(&'static str, f64)>| -> Result<String, Error> {
        let mut text = shader_rebuild(&dir, options, figures)?;
        text.push_str(&editor(&dir, options, figures)?);
        text.push_str(&module_reload(&dir, options, figures)?);
        text.push_str(&lua_typing(&dir, options, figures)?);
        text.push_str(&lua_transaction(&dir, options, figures)?);
        text.push_str(&memory(&dir, options, figures)?);
        text.push_str(&supervision(&dir, options, figures)?);
        text.push_str(&preview(&dir, options, figures)?);
        Ok(text)
    };
    let report = run(figures);
    let _ = std::fs::remove_dir_all(&dir);
    report
}

/// Keystrokes through the editor: from a key typed into the open buffer (the egui pass that takes it, the edit
/// it sends) to the first composed frame drawn with the program it produced, beside the shader group's direct
/// edit -> frame latency and its floor, measured in the same run. Then the frame-time cost of the open editor:
/// compose + GPU finish per frame with the editor shown, against hidden.
fn editor(
    dir: &std::path::Path,
    options: &BenchOptions,
    figures: &mut Vec<(&'static str, f64)>,
) -> Result<String, Error> {
    let period = Duration::from_secs_f64(1.0 / options.fps);
    let main = dir.join("main.glsl");
    std::fs::write(&main, variant(0)).map_err(io(&main))?;
    let mut engine = HeadlessEngine::new(Scene::open(dir)?, options.realtime())?;
    until_shown(&mut engine, 1, period)?;
    // The caret goes right after the constant's first digit ("+ 1.0 * 1e-6"): every digit typed there is a new,
    // valid constant, so every keystroke is a new program.
    let text = variant(0);
    let (line, column) = text
        .lines()
        .enumerate()
        .find_map(|(n, l)| l.find("4.2) + ").map(|c| (n as u32 + 1, c as u32 + 9)))
        .ok_or_else(|| Error::Io { path: main.clone(), message: "the bench shader has no constant".into() })?;
    open_at(&mut engine, &main, line, column)?;
    let mut keystrokes = Vec::with_capacity(options.edits);
    let mut typing_frames = Vec::with_capacity(options.edits);
    for i in 0..options.edits {
        engine.frame();
        let want = engine.compositor().status().live_version.unwrap_or(0) + 1;
        let start = Instant::now();
        engine.compositor_mut().overlay.text(&((i % 9) + 1).to_string());
        // The frame that takes the keystroke: its egui pass sends the edit; it must not wait for the build.
        engine.frame();
        typing_frames.push(start.elapsed());
        until_shown(&mut engine, want, period)?;
        keystrokes.push(start.elapsed());
    }
    let (hidden, shown) = editor_frame_cost(&mut engine, options.edits.max(30) * 2)?;
    drop(engine);
    let key = sorted_ms(&keystrokes);
    let typing = sorted_ms(&typing_frames);
    let direct = figures.iter().find(|(k, _)| *k == "shader_rebuild_median_ms").map_or(f64::NAN, |f| f.1);
    let floor = figures.iter().find(|(k, _)| *k == "shader_rebuild_floor_median_ms").map_or(f64::NAN, |f| f.1);
    let period_ms = period.as_secs_f64() * 1e3;
    let (h, s) = (percentile(&sorted_ms(&hidden), 0.5), percentile(&sorted_ms(&shown), 0.5));
    figures.extend([
        ("keystroke_to_pixels_median_ms", percentile(&key, 0.5)),
        ("keystroke_to_pixels_p90_ms", percentile(&key, 0.9)),
        ("keystroke_frame_max_ms", typing.last().copied().unwrap_or(f64::NAN)),
        ("keystroke_vs_direct_edit_ratio", percentile(&key, 0.5) / direct),
        ("keystroke_ratio", percentile(&key, 0.5) / (floor + period_ms)),
        ("editor_frame_hidden_median_ms", h),
        ("editor_frame_shown_median_ms", s),
        ("editor_frame_cost_ms", s - h),
    ]);
    Ok(format!(
        "editor: {} keystrokes into the open shader, {} fps\n\
         \x20 keystroke -> first frame with the new program: median {:.2} ms, p90 {:.2} ms\n\
         \x20 the frame that takes the keystroke (egui pass + edit sent, no build): max {:.2} ms\n\
         \x20 beside: direct edit -> frame median {direct:.2} ms (ratio {:.2}); floor + period {:.2} ms (ratio {:.2})\n\
         \x20 frame (compose + GPU finish), editor hidden: median {h:.2} ms; shown: median {s:.2} ms (cost {:.2} ms)\n",
        options.edits,
        options.fps,
        percentile(&key, 0.5),
        percentile(&key, 0.9),
        typing.last().copied().unwrap_or(f64::NAN),
        percentile(&key, 0.5) / direct,
        floor + period_ms,
        percentile(&key, 0.5) / (floor + period_ms),
        s - h,
    ))
}

/// Opens `path` in the editor, shown, with the caret at `line`, `column` (as a user about to type there).
fn open_at(engine: &mut HeadlessEngine, path: &std::path::Path, line: u32, column: u32) -> Result<(), Error> {
    let c = engine.compositor_mut();
    let io = |message| Error::Io { path: path.to_path_buf(), message };
    c.overlay.editor.open(path).map_err(io)?;
    c.overlay.editor.visible = true;
    c.ui_pass();
    c.overlay.editor.goto(line, column).map_err(io)?;
    c.ui_pass();
    Ok(())
}

/// Compose + GPU finish per frame, `frames` each with the editor hidden and shown (alternating in blocks, so
/// drift in the machine's speed hits both).
fn editor_frame_cost(engine: &mut HeadlessEngine, frames: usize) -> Result<(Vec<Duration>, Vec<Duration>), Error> {
    let (mut hidden, mut shown) = (Vec::new(), Vec::new());
    for block in 0..frames / 10 {
        let visible = block % 2 == 1;
        engine.compositor_mut().overlay.editor.visible = visible;
        engine.frame_finished();
        for _ in 0..10 {
            let start = Instant::now();
            engine.frame_finished();
            if visible { &mut shown } else { &mut hidden }.push(start.elapsed());
        }
    }
    Ok((hidden, shown))
}

fn io(path: &std::path::Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Io { path: path.to_path_buf(), message: e.to_string() }
}

/// A Lua module of about 200 lines: a persisted counter, a draw, and functions of which one constant changes per
/// version.
fn module_variant(i: usize) -> String {
    let mut text = String::from(
        "local M = {}\nlocal fill = gfx.shader('fill.glsl')\n\
         local state = persist('state', function() return { frames = 0 } end)\n\
         function M.update(dt) state.frames = state.frames + 1 end\n",
    );
    for f in 0..60 {
        text.push_str(&format!("function M.f{f}(x)\n  local y = x * {f} + {i}\n  return y\nend\n"));
    }
    text.push_str(&format!(
        "function M.draw()\n  gfx.draw{{ shader = fill, uniforms = {{ colour = {{ {}, 0.5, 0.25, 1 }} }} }}\nend\nreturn M\n",
        (i % 256) as f64 / 255.0
    ));
    text
}

const FILL: &str = "uniform vec4 colour;\nout vec4 o;\nvoid main() { o = colour; }\n";

/// Edits `path` with `variant(1..=edits)`, each right after a frame (edits land at a random phase of the frame, as
/// keystrokes do), and measures each until the first frame on screen carries the next generation after `current`.
fn edit_latencies(
    engine: &mut HeadlessEngine,
    path: &std::path::Path,
    variant: &dyn Fn(usize) -> String,
    current: fn(&crate::Status) -> Option<u64>,
    edits: usize,
    period: Duration,
) -> Result<Vec<Duration>, Error> {
    let mut latencies = Vec::with_capacity(edits);
    for i in 1..=edits {
        engine.frame();
        let want = current(engine.compositor().status()).unwrap_or(0) + 1;
        let start = Instant::now();
        engine.send(Command::Edit { path: path.to_path_buf(), text: variant(i) });
        until_shown(engine, want, period)?;
        latencies.push(start.elapsed());
    }
    Ok(latencies)
}

/// Waits, composing frames at the display rate, until the frame on screen carries generation `want` or later.
fn until_shown(engine: &mut HeadlessEngine, want: u64, period: Duration) -> Result<Duration, Error> {
    let start = Instant::now();
    let mut next = start;
    loop {
        engine.frame();
        if engine.compositor().status().shown_version >= Some(want) {
            return Ok(start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(20) {
            return Err(Error::WorkerTimeout { frame: want, seconds: 20.0 });
        }
        next += period;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
    }
}

fn module_reload(
    dir: &std::path::Path,
    options: &BenchOptions,
    figures: &mut Vec<(&'static str, f64)>,
) -> Result<String, Error> {
    let scene_dir = dir.join("module");
    std::fs::create_dir_all(&scene_dir).map_err(io(&scene_dir))?;
    let main = scene_dir.join("main.lua");
    std::fs::write(&main, module_variant(0)).map_err(io(&main))?;
    std::fs::write(scene_dir.join("fill.glsl"), FILL).map_err(io(&scene_dir))?;
    let period = Duration::from_secs_f64(1.0 / options.fps);
    let engine_options = options.realtime();
    let mut engine = HeadlessEngine::new(Scene::open(&scene_dir)?, engine_options)?;
    // The first frame has the module and its shader (generation 2) live.
    until_shown(&mut engine, 2, period)?;
    let latencies = edit_latencies(&mut engine, &main, &module_variant, |s| s.shown_version, options.edits, period)?;
    drop(engine);
    let floors = allsource_lua::raw_load_and_run(
        &module_variant(0)
            .replace("gfx.shader('fill.glsl')", "nil")
            .replace("persist('state', function() return { frames = 0 } end)", "{ frames = 0 }"),
        options.edits,
    )
    .map_err(|e| Error::Io { path: main.clone(), message: e })?;
    let lat = sorted_ms(&latencies);
    let flo = sorted_ms(&floors);
    let period_ms = period.as_secs_f64() * 1e3;
    figures.extend([
        ("module_reload_median_ms", percentile(&lat, 0.5)),
        ("module_reload_p90_ms", percentile(&lat, 0.9)),
        ("module_reload_floor_median_ms", percentile(&flo, 0.5)),
        ("module_reload_ratio", percentile(&lat, 0.5) / (percentile(&flo, 0.5) + period_ms)),
    ]);
    Ok(format!(
        "module reload: {} edits of a {}-line module, {} fps\n\
         \x20 edit -> first frame drawn by the new code: median {:.2} ms, p90 {:.2} ms, max {:.2} ms\n\
         \x20 floor (compile + run the chunk in a bare VM): median {:.3} ms\n\
         \x20 ratio median latency / (median floor + period): {:.2} (target <= 1.2)\n",
        options.edits,
        module_variant(0).lines().count(),
        options.fps,
        percentile(&lat, 0.5),
        percentile(&lat, 0.9),
        lat.last().copied().unwrap_or(f64::NAN),
        percentile(&flo, 0.5),
        percentile(&lat, 0.5) / (percentile(&flo, 0.5) + period_ms),
    ))
}

/// Keystrokes typed into a Lua module through the editor: from a digit typed into a constant to the first frame
/// drawn by the new code. The text compiles at once and runs once the typing has paused for `lua_pause`, so the
/// figure is the pause plus what a direct edit costs (the module group's, measured in the same run).
fn lua_typing(
    dir: &std::path::Path,
    options: &BenchOptions,
    figures: &mut Vec<(&'static str, f64)>,
) -> Result<String, Error> {
    let scene_dir = dir.join("typing");
    std::fs::create_dir_all(&scene_dir).map_err(io(&scene_dir))?;
    let main = scene_dir.join("main.lua");
    let text = module_variant(0);
    std::fs::write(&main, &text).map_err(io(&main))?;
    std::fs::write(scene_dir.join("fill.glsl"), FILL).map_err(io(&scene_dir))?;
    let period = Duration::from_secs_f64(1.0 / options.fps);
    let engine_options = options.realtime();
    let pause = engine_options.lua_pause;
    let mut engine = HeadlessEngine::new(Scene::open(&scene_dir)?, engine_options)?;
    until_shown(&mut engine, 2, period)?;
    // After the constant of `local y = x * 0 + 0`: every digit typed there is a new number, so a new version.
    let (line, column) = text
        .lines()
        .enumerate()
        .find_map(|(n, l)| (l == "  local y = x * 0 + 0").then(|| (n as u32 + 1, l.len() as u32 + 1)))
        .ok_or_else(|| Error::Io { path: main.clone(), message: "the bench module has no constant".into() })?;
    open_at(&mut engine, &main, line, column)?;
    let mut latencies = Vec::with_capacity(options.edits);
    for i in 0..options.edits {
        engine.frame();
        let want = engine.compositor().status().shown_version.unwrap_or(0) + 1;
        let start = Instant::now();
        engine.compositor_mut().overlay.text(&((i % 9) + 1).to_string());
        until_shown(&mut engine, want, period)?;
        latencies.push(start.elapsed());
    }
    drop(engine);
    let lat = sorted_ms(&latencies);
    let pause_ms = pause.as_secs_f64() * 1e3;
    let direct = figures.iter().find(|(k, _)| *k == "module_reload_median_ms").map_or(f64::NAN, |f| f.1);
    let shader_key = figures.iter().find(|(k, _)| *k == "keystroke_to_pixels_median_ms").map_or(f64::NAN, |f| f.1);
    let beyond = percentile(&lat, 0.5) - pause_ms;
    figures.extend([
        ("lua_keystroke_to_pixels_median_ms", percentile(&lat, 0.5)),
        ("lua_keystroke_to_pixels_p90_ms", percentile(&lat, 0.9)),
        ("lua_pause_ms", pause_ms),
        ("lua_keystroke_beyond_pause_median_ms", beyond),
        ("lua_keystroke_beyond_pause_vs_direct_edit_ratio", beyond / direct),
    ]);
    Ok(format!(
        "typed Lua: {} keystrokes into a module's constant through the editor, {} fps\n\
         \x20 keystroke -> first frame drawn by the new code: median {:.1} ms, p90 {:.1} ms (shader keystroke: {:.1} ms)\n\
         \x20 of which the pause (typing must stop this long before a Lua text runs): {pause_ms:.0} ms\n\
         \x20 beyond the pause: median {beyond:.1} ms, beside a direct edit of the module -> frame {direct:.1} ms \
         (ratio {:.2}; 1 means the pause is the only added latency)\n",
        options.edits,
        options.fps,
        percentile(&lat, 0.5),
        percentile(&lat, 0.9),
        shader_key,
        beyond / direct,
    ))
}

/// What a version's transaction costs: the build time of the same module edit (compile, snapshot, top level,
/// hand-off) with about 10 MB of persisted state, against none. Lockstep, one frame after each edit.
fn lua_transaction(
    dir: &std::path::Path,
    options: &BenchOptions,
    figures: &mut Vec<(&'static str, f64)>,
) -> Result<String, Error> {
    let big = "local big = persist('big', function()\n  local t = {}\n  \
               for i = 1, 80000 do t[i] = { x = i, y = i * 2, name = 'ball ' .. i } end\n  return t\nend)\n";
    let run = |name: &str, state: &str| -> Result<(Vec<Duration>, f64), Error> {
        let scene_dir = dir.join(name);
        std::fs::create_dir_all(&scene_dir).map_err(io(&scene_dir))?;
        std::fs::write(scene_dir.join("fill.glsl"), FILL).map_err(io(&scene_dir))?;
        let with_state =
            |i: usize| module_variant(i).replacen("local M = {}\n", &format!("local M = {{}}\n{state}"), 1);
        let main = scene_dir.join("main.lua");
        std::fs::write(&main, with_state(0)).map_err(io(&main))?;
        let engine_options = EngineOptions { clock: Clock::Lockstep, ..options.realtime() };
        let mut engine = HeadlessEngine::new(Scene::open(&scene_dir)?, engine_options)?;
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
            engine.send(Command::Edit { path: main.clone(), text: with_state(i) });
            engine.frame_lockstep(i as u64)?;
            if let Some(took) = engine.compositor().status().last_build {
                builds.push(took);
            }
        }
        Ok((builds, kib / 1024.0))
    };
    let (plain, plain_mib) = run("transaction-plain", "")?;
    let (heavy, heavy_mib) = run("transaction-heavy", big)?;
    let (p, h) = (percentile(&sorted_ms(&plain), 0.5), percentile(&sorted_ms(&heavy), 0.5));
    let state_mib = heavy_mib - plain_mib;
    figures.extend([
        ("lua_version_build_median_ms", p),
        ("lua_version_build_10mb_state_median_ms", h),
        ("lua_transaction_10mb_cost_ms", h - p),
        ("lua_transaction_state_mib", state_mib),
    ]);
    Ok(format!(
        "Lua version transaction: {} edits of a module, lockstep\n\
         \x20 build (compile + snapshot + top level + hand-off): median {p:.2} ms with no persisted state, \
         {h:.2} ms with {state_mib:.1} MiB of it: the snapshot costs {:.2} ms a version\n",
        plain.len(),
        h - p,
    ))
}

/// Resident memory of this process, in bytes (Linux; 0 elsewhere).
fn resident_bytes() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .unwrap_or(0);
    pages * 4096
}

/// Resident memory after 10 and after `reloads` reloads of `path` in `scene`, edited by `variant`.
fn reload_memory(
    scene: &std::path::Path,
    path: &std::path::Path,
    variant: &dyn Fn(usize) -> String,
    reloads: usize,
) -> Result<(u64, u64), Error> {
    let options = EngineOptions {
        size: (64, 64),
        fps: 60.0,
        clock: Clock::Lockstep,
        worker_cost: Duration::ZERO,
        ..EngineOptions::default()
    };
    let mut engine = HeadlessEngine::new(Scene::open(scene)?, options)?;
    let mut at_10 = 0;
    for i in 0..reloads.max(10) {
        engine.send(Command::Edit { path: path.to_path_buf(), text: variant(i + 1) });
        engine.frame_lockstep(i as u64)?;
        if i + 1 == 10 {
            at_10 = resident_bytes();
        }
    }
    Ok((at_10, resident_bytes()))
}

fn memory(
    dir: &std::path::Path,
    options: &BenchOptions,
    figures: &mut Vec<(&'static str, f64)>,
) -> Result<String, Error> {
    let module_scene = dir.join("module");
    let (m10, mn) = reload_memory(&module_scene, &module_scene.join("main.lua"), &module_variant, options.reloads)?;
    let shader_scene = dir.join("shader-memory");
    std::fs::create_dir_all(&shader_scene).map_err(io(&shader_scene))?;
    std::fs::write(shader_scene.join("main.glsl"), variant(0)).map_err(io(&shader_scene))?;
    let (s10, sn) = reload_memory(&shader_scene, &shader_scene.join("main.glsl"), &variant, options.reloads)?;
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    let growth = |a: u64, b: u64| (b as f64 - a as f64) / a.max(1) as f64 * 100.0;
    figures.extend([
        ("module_resident_after_10_mib", mib(m10)),
        ("module_resident_after_n_mib", mib(mn)),
        ("module_resident_growth_pct", growth(m10, mn)),
        ("shader_resident_after_10_mib", mib(s10)),
        ("shader_resident_after_n_mib", mib(sn)),
        ("shader_resident_growth_pct", growth(s10, sn)),
        ("reloads", options.reloads.max(10) as f64),
    ]);
    Ok(format!(
        "memory (resident, lockstep, one frame per reload):\n\
         \x20 module: {:.1} MiB after 10 reloads, {:.1} MiB after {}: growth {:+.1}% (target < 5%)\n\
         \x20 shader: {:.1} MiB after 10 reloads, {:.1} MiB after {}: growth {:+.1}% (target < 5%)\n",
        mib(m10),
        mib(mn),
        options.reloads.max(10),
        growth(m10, mn),
        mib(s10),
        mib(sn),
        options.reloads.max(10),
        growth(s10, sn),
    ))
}

fn shader_rebuild(
    dir: &std::path::Path,
    options: &BenchOptions,
    figures: &mut Vec<(&'static str, f64)>,
) -> Result<String, Error> {
    let period = Duration::from_secs_f64(1.0 / options.fps);
    let engine_options = options.realtime();
    let main = dir.join("main.glsl");
    let latencies;
    let renderer;
    let mut written = Vec::with_capacity(options.edits);
    let mut woken = Vec::with_capacity(options.edits);
    {
        let mut engine = HeadlessEngine::new(Scene::open(dir)?, engine_options)?;
        // Let the first version come up and settle.
        until_shown(&mut engine, 1, period)?;
        latencies = edit_latencies(&mut engine, &main, &variant, |s| s.live_version, options.edits, period)?;
        renderer = engine.renderer();
        // The same edits from outside: an editor's atomic save (a temporary file renamed over the source), picked
        // up by the file watcher. Constants differ from every other variant, so no cache serves them. First the
        // engine writes its own last edit to the file (as the editor's autosave would): a source with edits the
        // disk does not have would be in conflict with an outside write, which is then not built.
        engine.send(Command::Save { path: main.clone(), text: variant(options.edits), overwrite: true });
        engine.compositor_mut().sync(Duration::from_secs(20))?;
        for i in 1..=options.edits {
            engine.frame();
            let want = engine.compositor().status().live_version.unwrap_or(0) + 1;
            let temp = dir.join(".main.glsl.bench-tmp");
            std::fs::write(&temp, variant(i + 2 * options.edits)).map_err(io(&temp))?;
            let start = Instant::now();
            std::fs::rename(&temp, &main).map_err(io(&main))?;
            until_shown(&mut engine, want, period)?;
            written.push(start.elapsed());
            let at = engine.compositor().status().rebuilt_from_disk_at;
            woken.push(at.map_or(Duration::MAX, |at| at.saturating_duration_since(start)));
        }
    }
    let floors = floor(options)?;
    let lat = sorted_ms(&latencies);
    let flo = sorted_ms(&floors);
    let period_ms = period.as_secs_f64() * 1e3;
    let ratio = percentile(&lat, 0.5) / (percentile(&flo, 0.5) + period_ms);
    let (wri, wok) = (sorted_ms(&written), sorted_ms(&woken));
    let write_ratio = percentile(&wri, 0.5) / (percentile(&flo, 0.5) + period_ms);
    figures.extend([
        ("shader_rebuild_median_ms", percentile(&lat, 0.5)),
        ("shader_rebuild_p90_ms", percentile(&lat, 0.9)),
        ("shader_rebuild_floor_median_ms", percentile(&flo, 0.5)),
        ("shader_rebuild_ratio", ratio),
        ("external_write_frame_median_ms", percentile(&wri, 0.5)),
        ("external_write_frame_p90_ms", percentile(&wri, 0.9)),
        ("external_write_ratio", write_ratio),
        ("external_write_rebuild_start_median_ms", percentile(&wok, 0.5)),
        ("external_write_rebuild_start_max_ms", wok.last().copied().unwrap_or(f64::NAN)),
    ]);
    Ok(format!(
        "shader rebuild: {} edits of a {}x{} full-screen plasma, {} fps, on {}\n\
         \x20 edit -> first frame with the new program: median {:.2} ms, p90 {:.2} ms, max {:.2} ms\n\
         \x20 floor (compile + link + first draw + finish): median {:.2} ms, p90 {:.2} ms\n\
         \x20 frame period: {:.2} ms\n\
         \x20 ratio median latency / (median floor + period): {:.2} (target <= 1.2)\n\
         \x20 external write (atomic rename, file watcher) -> rebuild start: median {:.2} ms, max {:.2} ms \
         (target < 50; the watcher waits for {} ms of quiet)\n\
         \x20 external write -> first frame with the new program: median {:.2} ms, p90 {:.2} ms; \
         ratio / (floor + period): {:.2}\n",
        options.edits,
        options.size.0,
        options.size.1,
        options.fps,
        renderer,
        percentile(&lat, 0.5),
        percentile(&lat, 0.9),
        lat.last().copied().unwrap_or(f64::NAN),
        percentile(&flo, 0.5),
        percentile(&flo, 0.9),
        period_ms,
        ratio,
        percentile(&wok, 0.5),
        wok.last().copied().unwrap_or(f64::NAN),
        crate::watch::DEBOUNCE.as_millis(),
        percentile(&wri, 0.5),
        percentile(&wri, 0.9),
        write_ratio,
    ))
}

/// Compile + link + first draw + finish of each variant on a context of its own, on this thread (after the
/// engine has stopped, so the two never compete for the CPU).
fn floor(options: &BenchOptions) -> Result<Vec<Duration>, Error> {
    let context = allsource_gpu::headless()?;
    let gl = &context.gl;
    let target = Target::new(gl, options.size.0, options.size.1)?;
    let triangle = FullscreenTriangle::new(gl)?;
    let mut samples = Vec::with_capacity(options.edits);
    for i in 1..=options.edits {
        // Different constants from the engine run's, so Mesa's in-memory cache cannot serve them either.
        let text = variant(i + options.edits);
        let start = Instant::now();
        let fragment =
            allsource_shader::prepare(std::path::Path::new("bench.glsl"), &text, &mut |_| Err(String::new()));
        let program = Program::build_simple(gl, &fragment.driver_stages(true))
            .map_err(|e| Error::Gpu(allsource_gpu::GpuError::Gl(e)))?;
        target.frame_target().bind(gl);
        program.use_program(gl);
        program.set_f32(gl, "u_time", 1.0);
        program.set_vec(gl, "u_resolution", &[options.size.0 as f32, options.size.1 as f32]);
        triangle.draw(gl);
        let fence = allsource_gpu::Fence::insert(gl)?;
        fence.wait(gl, Duration::from_secs(20));
        samples.push(start.elapsed());
        fence.delete(gl);
        program.delete(gl);
    }
    target.delete(gl);
    Ok(samples)
}

/// p99 of the intervals between presented frames, in real-time mode at the display rate, for `frames` frames of
/// the Lua scene in `scene` (after its first frame appeared).
fn frame_time_p99(scene: &std::path::Path, options: &BenchOptions, frames: usize) -> Result<f64, Error> {
    Ok(frame_time_p99_beside(scene, options, frames, None)?.0)
}

/// As `frame_time_p99`, with the guest module `guest` (a file, and whether its thread runs at a lower OS priority)
/// previewed meanwhile. Also returns the guest's frames per second.
fn frame_time_p99_beside(
    scene: &std::path::Path,
    options: &BenchOptions,
    frames: usize,
    guest: Option<(&std::path::Path, bool)>,
) -> Result<(f64, f64), Error> {
    let period = Duration::from_secs_f64(1.0 / options.fps);
    // The module stays as it is for the whole measurement: the budget's policy would revert a slow one.
    let engine_options =
        EngineOptions { frame_budget: false, preview_nice: guest.is_none_or(|(_, nice)| nice), ..options.realtime() };
    let mut engine = HeadlessEngine::new(Scene::open(scene)?, engine_options)?;
    let started = Instant::now();
    while engine.compositor().status().shown_version.is_none() && started.elapsed() < Duration::from_secs(20) {
        engine.frame();
        std::thread::sleep(period);
    }
    if let Some((path, _)) = guest {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        engine.frame();
        engine
            .compositor_mut()
            .start_preview(path, text)
            .map_err(|message| Error::Io { path: path.into(), message })?;
        let started = Instant::now();
        while engine.compositor().preview().is_none_or(|p| p.frames == 0) && started.elapsed() < Duration::from_secs(20)
        {
            engine.frame();
            std::thread::sleep(period);
        }
    }
    let guest_frames = |engine: &HeadlessEngine| engine.compositor().preview().map_or(0, |p| p.frames);
    let first_guest_frame = guest_frames(&engine);
    let mut intervals = Vec::with_capacity(frames);
    let begin = Instant::now();
    let mut last = begin;
    let mut next = last;
    for _ in 0..frames {
        engine.frame();
        let now = Instant::now();
        intervals.push(now - last);
        last = now;
        next += period;
        if next > now {
            std::thread::sleep(next - now);
        }
    }
    let guest_fps = (guest_frames(&engine) - first_guest_frame) as f64 / begin.elapsed().as_secs_f64();
    Ok((percentile(&sorted_ms(&intervals), 0.99), guest_fps))
}

/// The scene's frame-time p99 while a preview guest takes 30 ms of Lua a frame, against no preview; with the
/// guest's thread at a lower OS priority (the default) and at the scene's priority.
fn preview(
    dir: &std::path::Path,
    options: &BenchOptions,
    figures: &mut Vec<(&'static str, f64)>,
) -> Result<String, Error> {
    let scene = dir.join("preview");
    std::fs::create_dir_all(&scene).map_err(io(&scene))?;
    std::fs::write(scene.join("fill.glsl"), FILL).map_err(io(&scene))?;
    let main = module_variant(0)
        .replace("function M.update(dt) state.frames = state.frames + 1 end", "function M.update(dt) end");
    std::fs::write(scene.join("main.lua"), main).map_err(io(&scene))?;
    let guest = scene.join("guest.lua");
    std::fs::write(
        &guest,
        "local M = {}\nfunction M.draw()\n  local t = gfx.clock() while gfx.clock() - t < 0.03 do end\n  \
         gfx.clear(0, 0.5, 1, 1)\nend\nreturn M\n",
    )
    .map_err(io(&guest))?;
    let frames = (options.fps * 5.0) as usize;
    // Alone, with the guest, and alone again: the machine's drift over the runs shows in the two alone figures.
    let (alone_before, _) = frame_time_p99_beside(&scene, options, frames, None)?;
    let (same, same_fps) = frame_time_p99_beside(&scene, options, frames, Some((&guest, false)))?;
    let (nice, nice_fps) = frame_time_p99_beside(&scene, options, frames, Some((&guest, true)))?;
    let (alone_after, _) = frame_time_p99_beside(&scene, options, frames, None)?;
    let alone = (alone_before + alone_after) / 2.0;
    figures.extend([
        ("preview_scene_p99_alone_ms", alone),
        ("preview_scene_p99_ratio_30ms_guest", nice / alone),
        ("preview_scene_p99_ratio_30ms_guest_same_priority", same / alone),
        ("preview_guest_fps", nice_fps),
        ("preview_guest_fps_same_priority", same_fps),
    ]);
    Ok(format!(
        "preview:\n\
         \x20 scene frame-time p99 alone: {alone_before:.2} ms before, {alone_after:.2} ms after; beside a guest taking \
         30 ms a frame: x{:.2} (target <= 1.1), guest {nice_fps:.1} fps\n\
         \x20 the same guest at the scene's thread priority: x{:.2}, guest {same_fps:.1} fps\n",
        nice / alone,
        same / alone,
    ))
}

fn supervision(
    dir: &std::path::Path,
    options: &BenchOptions,
    figures: &mut Vec<(&'static str, f64)>,
) -> Result<String, Error> {
    let lua_error = |e: String| Error::Io { path: dir.to_path_buf(), message: e };
    let runs = (options.edits * 10).max(30);
    let deadline = Duration::from_millis(5);
    let stops: Vec<f64> = {
        let mut us: Vec<f64> = allsource_lua::measure::stop_latency(runs, deadline)
            .map_err(lua_error)?
            .iter()
            .map(|d| d.as_secs_f64() * 1e6)
            .collect();
        us.sort_by(f64::total_cmp);
        us
    };
    let allsource_lua::measure::WatchdogCost { plain, sampled: guarded, unsampled } =
        allsource_lua::measure::watchdog_cost(options.edits.clamp(3, 9)).map_err(lua_error)?;
    let jit_ratio = percentile(&sorted_ms(&plain), 0.5) / percentile(&sorted_ms(&guarded), 0.5);
    // Speed with the time per module sampled, over speed without: the inverse ratio of their times.
    let sampling_ratio = percentile(&sorted_ms(&unsampled), 0.5) / percentile(&sorted_ms(&guarded), 0.5);

    // The compositor's frames while a module misbehaves, against a well-behaved one.
    let scene = |name: &str, update: &str| -> Result<std::path::PathBuf, Error> {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).map_err(io(&d))?;
        std::fs::write(d.join("fill.glsl"), FILL).map_err(io(&d))?;
        let text = module_variant(0).replace("function M.update(dt) state.frames = state.frames + 1 end", update);
        std::fs::write(d.join("main.lua"), text).map_err(io(&d))?;
        Ok(d)
    };
    // Five seconds a scene: p99 of 300 frames is the third slowest, not the one slowest.
    let frames = (options.fps * 5.0) as usize;
    let good = frame_time_p99(&scene("good", "function M.update(dt) end")?, options, frames)?;
    let forever = frame_time_p99(&scene("forever", "function M.update(dt) while true do end end")?, options, frames)?;
    let slow = frame_time_p99(
        &scene("slow", "function M.update(dt) local t = gfx.clock() while gfx.clock() - t < 0.03 do end end")?,
        options,
        frames,
    )?;
    figures.extend([
        ("stop_latency_p50_us", percentile(&stops, 0.5)),
        ("stop_latency_p99_us", percentile(&stops, 0.99)),
        ("stop_latency_max_us", stops.last().copied().unwrap_or(f64::NAN)),
        ("jit_speed_ratio", jit_ratio),
        ("jit_speed_sampling_on_over_off", sampling_ratio),
        ("frame_time_p99_good_ms", good),
        ("frame_time_p99_ratio_looping", forever / good),
        ("frame_time_p99_ratio_30ms", slow / good),
    ]);
    Ok(format!(
        "supervision:\n\
         \x20 stop latency past a {:.0} ms deadline ({} runaway calls, 7 loop forms): p50 {:.0} us, p99 {:.0} us, max {:.0} us \
         (target p99 < 1000 us)\n\
         \x20 JIT-heavy Lua under the watchdog / without: speed ratio {:.3} (target >= 0.95)\n\
         \x20 with the time per module sampled every {:.1} ms / without sampling: speed ratio {:.3} (target >= 0.97)\n\
         \x20 compositor frame-time p99: {:.2} ms with a well-behaved module; x{:.2} while a module loops forever, \
         x{:.2} while one takes 30 ms a frame (target <= 1.1)\n",
        deadline.as_secs_f64() * 1e3,
        runs,
        percentile(&stops, 0.5),
        percentile(&stops, 0.99),
        stops.last().copied().unwrap_or(f64::NAN),
        jit_ratio,
        allsource_lua::SAMPLE_EVERY.as_secs_f64() * 1e3,
        sampling_ratio,
        good,
        forever / good,
        slow / good,
    ))
}
