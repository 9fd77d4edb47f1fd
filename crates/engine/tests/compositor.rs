//! The compositor and its worker, headless: deterministic lockstep frames, a compositor that never waits for a
//! slow worker, and scene errors.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use allsource_engine::{Clock, EngineOptions, Error, HeadlessEngine, Scene};

/// A scene directory of its own under the system temp dir, holding `main.glsl`.
fn scene_with(name: &str, shader: &str) -> Scene {
    let dir = std::env::temp_dir().join(format!("allsource-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.glsl"), shader).unwrap();
    Scene::open(&dir).unwrap()
}

/// Red is the scene time's fractional part, green the frame index, blue the pixel column.
const CLOCK_SHADER: &str = "uniform float u_time;
uniform int u_frame;
out vec4 colour;
void main() { colour = vec4(fract(u_time), float(u_frame) / 255.0, floor(gl_FragCoord.x) / 255.0, 1.0); }
";

fn options(clock: Clock) -> EngineOptions {
    EngineOptions { size: (32, 16), fps: 4.0, clock, worker_cost: Duration::ZERO, ..EngineOptions::default() }
}

#[test]
fn lockstep_frame_i_shows_worker_frame_i_at_time_i_over_fps() {
    let mut engine = HeadlessEngine::new(scene_with("lockstep", CLOCK_SHADER), options(Clock::Lockstep)).unwrap();
    for index in 0..6u64 {
        engine.frame_lockstep(index).unwrap();
        let image = engine.image();
        let time = index as f64 / 4.0;
        let red = (time.fract() * 255.0).round() as u8;
        assert_eq!(image.pixel(5, 3), [red, index as u8, 5, 255], "frame {index} at time {time}");
        assert_eq!(engine.compositor().status().shown, Some(index));
    }
}

#[test]
fn the_compositor_keeps_its_pace_while_the_worker_takes_200_ms_a_frame() {
    let mut options = options(Clock::Realtime);
    options.worker_cost = Duration::from_millis(200);
    let mut engine = HeadlessEngine::new(scene_with("slow", CLOCK_SHADER), options).unwrap();
    // For each worker frame shown, how many composes showed it: the worker sends a frame only after 200 ms of
    // work on it, so every compose that showed frame i before frame i + 1 came was composed while the worker's
    // next frame was outstanding. A compositor that waited for the worker would show a new frame at every compose.
    let mut runs: Vec<(u64, u32)> = Vec::new();
    let start = Instant::now();
    while runs.len() < 5 {
        assert!(start.elapsed() < Duration::from_secs(60), "worker frames shown in 60 s: {runs:?}");
        let composed = engine.compositor().status().composed;
        engine.frame();
        assert_eq!(engine.compositor().status().composed, composed + 1, "every call composes a frame");
        if let Some(index) = engine.compositor().status().shown {
            // The frame on screen is the worker's frame `index`: its green channel says so.
            assert_eq!(engine.image().pixel(1, 1)[1], index as u8);
            match runs.last_mut() {
                Some((last, count)) if *last == index => *count += 1,
                _ => runs.push((index, 1)),
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    eprintln!("worker frames shown, with the composes that showed each: {runs:?}");
    assert!(runs.windows(2).all(|w| w[0].0 < w[1].0), "worker frames shown in order: {runs:?}");
    // The last run is still going; the first may have begun after the worker's second frame had started.
    // On average at least 4 composes (one every 50 ms; they take a few ms each here) per worker frame: a compositor
    // that waits for the worker composes one or two.
    let held = &runs[1..runs.len() - 1];
    let composes: u32 = held.iter().map(|&(_, composes)| composes).sum();
    assert!(
        composes >= 4 * held.len() as u32,
        "worker frames stayed on screen for several composes each while the next one was drawn: {runs:?}"
    );
}

#[test]
fn before_the_first_worker_frame_the_screen_is_dark_not_black() {
    let mut options = options(Clock::Realtime);
    options.worker_cost = Duration::from_millis(300);
    let mut engine = HeadlessEngine::new(scene_with("waiting", CLOCK_SHADER), options).unwrap();
    engine.frame();
    assert_eq!(engine.compositor().status().shown, None);
    // The compositor's waiting colour, (0.08, 0.08, 0.10) in bytes, over the whole frame.
    let image = engine.image();
    for (x, y) in [(0, 0), (10, 10), (31, 15)] {
        assert_eq!(image.pixel(x, y), [20, 20, 26, 255], "waiting colour at ({x}, {y})");
    }
}

#[test]
fn a_shader_that_does_not_build_shows_the_error_strip_over_a_dark_frame() {
    let broken = "out vec4 colour;\nvoid main() { colour = vec4(1.0) }\n";
    let mut engine = HeadlessEngine::new(scene_with("broken", broken), options(Clock::Lockstep)).unwrap();
    engine.frame_lockstep(0).unwrap();
    let status = engine.compositor().status();
    assert!(status.failing);
    let d = &status.diagnostics[0];
    assert_eq!(
        (d.line, d.column),
        (Some(2), Some(34)),
        "the unexpected closing brace after the missing semicolon, line 2: {d}"
    );
    let image = engine.image();
    assert_eq!(image.pixel(16, 0), [217, 38, 38, 255], "the red strip along the top edge");
    let [r, g, b, _] = image.pixel(16, 10);
    assert!(r < 40 && g < 40 && b < 40 && (r, g, b) != (0, 0, 0), "dark, never black: {:?}", (r, g, b));
}

#[test]
fn a_directory_that_does_not_exist_is_a_clear_error() {
    let missing = PathBuf::from("/nonexistent/allsource-scene");
    match Scene::open(&missing) {
        Err(e @ Error::SceneNotFound(_)) => assert!(e.to_string().contains("does not exist")),
        other => panic!("expected SceneNotFound, got {other:?}"),
    }
}
