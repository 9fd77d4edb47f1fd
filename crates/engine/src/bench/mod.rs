//! `allsource bench`: figures, not pass/fail. Each group measures a live path and, in the same run, what it is
//! judged against, and prints both with their ratio (these machines are noisy: compare ratios, not raw times).
//! README.md ("What the bench figures time") says what every figure times.
//!
//! Latencies are against the **quantized ideal**: edits land right after a composed frame and frames are composed
//! on a grid of display periods from there, so the best a user can see is the first display frame at or after the
//! floor (the work itself on a context of its own): `ceil(floor / period) * period`. A latency ends at the start of
//! the compose that shows the new version (its display frame: the moment a windowed compositor would present it at
//! the next vertical blank, whatever the compose itself takes; that time is printed apart). Each latency also
//! prints where its time went: the worker's build, the edit until the worker submitted the first frame of the new
//! version, and from there until its display frame.
//!
//! Files: this one (options, report, the shared measuring helpers and the edited texts), `shader.rs` (shader edits,
//! outside writes, keystrokes through the editor, the editor's frame cost), `lua.rs` (module edits, typed Lua,
//! transactions), `frames.rs` (frame times while a module misbehaves or a preview runs), `memory.rs` (bytes per
//! reload, in a process of its own), `luajit.rs` (CHECKHOOK against a stock LuaJIT of the same source), `api.rs`
//! (what `gfx.text` and a `gfx.image` reload add to a frame).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::worker::{Clock, Command, EngineOptions};
use crate::{Error, HeadlessEngine};

mod api;
mod frames;
mod lua;
mod luajit;
mod memory;
mod process;
mod shader;

pub use memory::{MemoryKind, memory_child};

pub struct BenchOptions {
    pub edits: usize,
    pub size: (u32, u32),
    pub fps: f64,
    /// Reloads for the memory figures.
    pub reloads: usize,
    /// The groups to run (`group_names`), all when empty. A group that reads another's figure (a ratio to the shader
    /// group's ideal) prints NaN for it when that group did not run.
    pub only: Vec<String>,
}

type Group = fn(&Path, &BenchOptions, &mut Figures) -> Result<String, Error>;

/// Every benchmark group by name, in the order they run.
const GROUPS: [(&str, Group); 11] = [
    ("shader", shader::shader_edits),
    ("editor", shader::editor),
    ("module", lua::module_reload),
    ("typing", lua::lua_typing),
    ("transaction", lua::lua_transaction),
    ("memory", |_, options, figures| memory::memory(options, figures)),
    ("supervision", frames::supervision),
    ("luajit", |_, options, figures| luajit::checkhook_cost(options, figures)),
    ("preview", frames::preview),
    ("process", process::process),
    ("api", api::api),
];

/// The benchmark groups' names, in the order they run (`BenchOptions::only` picks from them).
pub fn group_names() -> impl Iterator<Item = &'static str> {
    GROUPS.iter().map(|(name, _)| *name)
}

impl BenchOptions {
    /// The engine options of a real-time run at the bench's size and rate.
    fn realtime(&self) -> EngineOptions {
        EngineOptions { size: self.size, fps: self.fps, clock: Clock::Realtime, ..EngineOptions::default() }
    }

    fn lockstep(&self) -> EngineOptions {
        EngineOptions { size: self.size, fps: self.fps, clock: Clock::Lockstep, ..EngineOptions::default() }
    }

    fn period(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.fps)
    }
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

/// Runs the benchmark groups (every one, or those `options.only` names) and returns the report to print.
pub fn bench(options: &BenchOptions) -> Result<BenchReport, Error> {
    let mut figures = Figures(Vec::new());
    let dir = std::env::temp_dir().join(format!("allsource-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let run = |figures: &mut Figures| -> Result<String, Error> {
        let mut text = String::new();
        for (name, run) in GROUPS {
            if options.only.is_empty() || options.only.iter().any(|o| o == name) {
                text.push_str(&run(&dir, options, figures)?);
            }
        }
        Ok(text)
    };
    let text = run(&mut figures);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(BenchReport { text: text?, figures: figures.0 })
}

/// The named figures measured so far (later groups read earlier ones).
struct Figures(Vec<(&'static str, f64)>);

impl Figures {
    fn get(&self, name: &str) -> f64 {
        self.0.iter().find(|(k, _)| *k == name).map_or(f64::NAN, |f| f.1)
    }

    fn extend(&mut self, figures: impl IntoIterator<Item = (&'static str, f64)>) {
        self.0.extend(figures);
    }
}

/// Samples in milliseconds, sorted, with the percentiles the figures use.
struct Ms(Vec<f64>);

impl Ms {
    fn of(samples: &[Duration]) -> Ms {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        Ms(ms)
    }

    fn at(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        self.0[((self.0.len() - 1) as f64 * p).round() as usize]
    }

    fn median(&self) -> f64 {
        self.at(0.5)
    }

    fn max(&self) -> f64 {
        self.0.last().copied().unwrap_or(f64::NAN)
    }
}

/// The best latency a user can see for work taking `floor_ms`, with frames composed every `period_ms` from the
/// moment of the edit: the first frame at or after the work is done (never the frame of the edit itself).
fn quantized_ideal(floor_ms: f64, period_ms: f64) -> f64 {
    (floor_ms / period_ms).ceil().max(1.0) * period_ms
}

/// One edit's latency and where it went.
#[derive(Clone, Copy)]
struct EditTiming {
    /// Edit sent -> start of the first compose that showed the new version (its display frame).
    total: Duration,
    /// Edit sent -> the worker had submitted that frame.
    submitted: Duration,
    /// The worker's build of the version (as reported).
    build: Duration,
    /// That compose, start to end.
    compose: Duration,
}

/// Medians of a set of edit timings: total, build, edit -> submitted, submitted -> display frame, its compose.
struct EditSplit {
    total: Ms,
    build: f64,
    submitted: f64,
    to_shown: f64,
    compose: f64,
}

impl EditSplit {
    fn of(timings: &[EditTiming]) -> EditSplit {
        let pick = |f: fn(&EditTiming) -> Duration| Ms::of(&timings.iter().map(f).collect::<Vec<_>>()).median();
        EditSplit {
            total: Ms::of(&timings.iter().map(|t| t.total).collect::<Vec<_>>()),
            build: pick(|t| t.build),
            submitted: pick(|t| t.submitted),
            to_shown: pick(|t| t.total.saturating_sub(t.submitted)),
            compose: pick(|t| t.compose),
        }
    }

    /// The line that says where the median edit's time went.
    fn describe(&self) -> String {
        format!(
            "where it went (medians): build {:.1} ms; edit -> worker submitted the frame {:.1} ms; submitted -> \
             its display frame {:.1} ms; that compose took {:.1} ms",
            self.build, self.submitted, self.to_shown, self.compose
        )
    }
}

/// Sends each `edit(i)` right after a composed frame and times it until the frame on screen carries the next
/// generation after `current`.
fn edit_timings(
    engine: &mut HeadlessEngine,
    edits: usize,
    period: Duration,
    current: fn(&crate::Status) -> Option<u64>,
    edit: &mut dyn FnMut(&mut HeadlessEngine, usize) -> Result<(), Error>,
) -> Result<Vec<EditTiming>, Error> {
    let mut timings = Vec::with_capacity(edits);
    for i in 1..=edits {
        engine.frame();
        let want = current(engine.compositor().status()).unwrap_or(0) + 1;
        let start = Instant::now();
        edit(engine, i)?;
        timings.push(until_shown(engine, want, period, start)?);
    }
    Ok(timings)
}

/// Composes frames at the display rate, from `start`, until the frame on screen carries generation `want` or
/// later.
fn until_shown(engine: &mut HeadlessEngine, want: u64, period: Duration, start: Instant) -> Result<EditTiming, Error> {
    let mut next = start;
    loop {
        let frame_start = Instant::now();
        engine.frame();
        let status = engine.compositor().status();
        if status.shown_version >= Some(want) {
            let total = frame_start - start;
            let submitted = status.shown_submitted.map_or(total, |at| at.saturating_duration_since(start));
            let (build, compose) = (status.last_build.unwrap_or_default(), frame_start.elapsed());
            return Ok(EditTiming { total, submitted, build, compose });
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

/// Composes at the display rate until the frame on screen carries generation `want`.
fn settle(engine: &mut HeadlessEngine, want: u64, period: Duration) -> Result<(), Error> {
    until_shown(engine, want, period, Instant::now()).map(|_| ())
}

/// Opens `path` in the editor, shown, with the caret at `line`, `column` (as a user about to type there).
fn open_at(engine: &mut HeadlessEngine, path: &Path, line: u32, column: u32) -> Result<(), Error> {
    let c = engine.compositor_mut();
    let io = |message| Error::Io { path: path.to_path_buf(), message };
    c.overlay.editor.open(path).map_err(io)?;
    c.overlay.editor.visible = true;
    c.ui_pass();
    c.overlay.editor.goto(line, column).map_err(io)?;
    c.ui_pass();
    Ok(())
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Io { path: path.to_path_buf(), message: e.to_string() }
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(io(path))
}

/// A direct edit of `path` (as a save from the editor or a tool).
fn send_edit(engine: &mut HeadlessEngine, path: &Path, text: String) {
    engine.send(Command::Edit { path: path.to_path_buf(), text });
}

/// The shader the shader groups edit: the bundled demo's plasma, with one constant that changes per edit.
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

/// A Lua scene in `dir/name`: `main` as its main.lua, beside the fill shader it draws with.
fn lua_scene(dir: &Path, name: &str, main: &str) -> Result<std::path::PathBuf, Error> {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).map_err(io(&d))?;
    write(&d.join("fill.glsl"), FILL)?;
    write(&d.join("main.lua"), main)?;
    Ok(d)
}

/// `module_variant(0)` with its update replaced by `update`.
fn with_update(update: &str) -> String {
    module_variant(0).replace("function M.update(dt) state.frames = state.frames + 1 end", update)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ideal_is_the_first_frame_at_or_after_the_floor() {
        let p = 1000.0 / 60.0;
        assert_eq!(quantized_ideal(40.0, p), 3.0 * p);
        assert_eq!(quantized_ideal(50.0, p), 3.0 * p);
        assert_eq!(quantized_ideal(51.0, p), 4.0 * p);
        assert_eq!(quantized_ideal(0.2, p), p, "the frame of the edit itself cannot show it");
    }

    #[test]
    fn percentiles_of_sorted_samples() {
        let ms = Ms::of(&(1..=100).rev().map(Duration::from_millis).collect::<Vec<_>>());
        assert_eq!(ms.median(), 51.0);
        assert_eq!(ms.at(0.99), 99.0);
        assert_eq!(ms.max(), 100.0);
    }
}
