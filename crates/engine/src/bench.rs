//! `allsource bench`: figures, not pass/fail. Each group measures a live path and, in the same run, the floor it
//! cannot beat, and prints both with their ratio (these machines are noisy: compare ratios, not raw times).
//!
//! Shader rebuild: from an edit sent to the worker to the first composed frame drawn with the new program, in
//! real-time mode at the display rate, beside the floor: compile + link + first draw + finish of the same source
//! on a context of its own. Every edit changes a constant, so no shader cache can serve it.

use std::time::{Duration, Instant};

use allsource_gpu::{FullscreenTriangle, Program, Target, glow};

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

/// Runs every benchmark group and returns the report to print.
pub fn bench(options: &BenchOptions) -> Result<String, Error> {
    let dir = std::env::temp_dir().join(format!("allsource-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io { path: dir.clone(), message: e.to_string() })?;
    let main = dir.join("main.glsl");
    std::fs::write(&main, variant(0)).map_err(|e| Error::Io { path: main.clone(), message: e.to_string() })?;
    let result = shader_rebuild(&dir, options);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn shader_rebuild(dir: &std::path::Path, options: &BenchOptions) -> Result<String, Error> {
    let period = Duration::from_secs_f64(1.0 / options.fps);
    let engine_options =
        EngineOptions { size: options.size, fps: options.fps, clock: Clock::Realtime, worker_cost: Duration::ZERO };
    let main = dir.join("main.glsl");
    let mut latencies = Vec::with_capacity(options.edits);
    let renderer;
    {
        let mut engine = HeadlessEngine::new(Scene::open(dir)?, engine_options)?;
        // Let the first version come up and settle.
        let settle = Instant::now();
        while engine.compositor().status().shown_version.is_none() {
            engine.frame();
            std::thread::sleep(period);
            if settle.elapsed() > Duration::from_secs(20) {
                return Err(Error::WorkerTimeout { frame: 0, seconds: 20.0 });
            }
        }
        for i in 1..=options.edits {
            // Edits land at a random phase of the frame, as keystrokes do: start each right after a frame.
            engine.frame();
            let want = engine.compositor().status().live_version.unwrap_or(0) + 1;
            let start = Instant::now();
            engine.send(Command::Edit { path: main.clone(), text: variant(i) });
            let mut next = start;
            loop {
                engine.frame();
                if engine.compositor().status().shown_version >= Some(want) {
                    break;
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
            latencies.push(start.elapsed());
        }
        renderer = engine.renderer();
    }
    let floors = floor(options)?;
    let lat = sorted_ms(&latencies);
    let flo = sorted_ms(&floors);
    let period_ms = period.as_secs_f64() * 1e3;
    let ratio = percentile(&lat, 0.5) / (percentile(&flo, 0.5) + period_ms);
    Ok(format!(
        "shader rebuild: {} edits of a {}x{} full-screen plasma, {} fps, on {}\n\
         \x20 edit -> first frame with the new program: median {:.2} ms, p90 {:.2} ms, max {:.2} ms\n\
         \x20 floor (compile + link + first draw + finish): median {:.2} ms, p90 {:.2} ms\n\
         \x20 frame period: {:.2} ms\n\
         \x20 ratio median latency / (median floor + period): {:.2} (target <= 1.2)\n",
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
        let stages: Vec<(u32, &str)> = fragment
            .stages
            .iter()
            .map(|s| {
                let stage = if s.stage == allsource_shader::Stage::Vertex {
                    glow::VERTEX_SHADER
                } else {
                    glow::FRAGMENT_SHADER
                };
                (stage, s.text.as_str())
            })
            .collect();
        let program = Program::build_simple(gl, &stages).map_err(|e| Error::Gpu(allsource_gpu::GpuError::Gl(e)))?;
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
