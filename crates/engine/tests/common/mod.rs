//! Scenes for the engine's tests: a directory of files under the temp dir, and an engine running it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use allsource_engine::session::run_script_text;
use allsource_engine::worker::Command;
use allsource_engine::{Clock, EngineOptions, Error, HeadlessEngine, Scene};

/// A fragment stage whose frames pass a 100 ms GPU timeout on any GPU, and still end (about 1 s on llvmpipe): its
/// bottom-left pixel runs a chain of 60 000 x 1 000 steps `s = fract(s * s + 0.3)`, each a multiply-add then a
/// fraction that waits on it. A dependent operation takes at least 4 cycles on GPUs, so even at 3 GHz with a
/// one-instruction fraction a step takes 2.7 ns, and the frame 160 ms (a multiply-add, a floor and a subtraction:
/// 360 ms on an H200 at 1.98 GHz). The work is one pixel's, so a wider GPU is no faster; every other pixel skips
/// the loop. Every pixel is blue (`s` < 1 adds nothing). The loop stays under 65 535 iterations (llvmpipe ends a
/// shader's loops there); reading `s` twice a step keeps the steps apart in Mesa's compiler (a chain of single
/// reads is grafted into one expression 1 000 deep, which overflows its stack on the worker thread).
pub const GPU_TIMEOUT_SHADER: &str = "#define S s = fract(s * s + 0.3);
#define S10 S S S S S S S S S S
#define S1000 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 \\
S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 \\
S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 \\
S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 \\
S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10
out vec4 o;
void main() {
    int steps = gl_FragCoord.x < 1.0 && gl_FragCoord.y < 1.0 ? 60000 : 0;
    float s = gl_FragCoord.y * 0.001;
    for (int i = 0; i < steps; i++) { S1000 }
    o = vec4(0.0, 0.0, 1.0, 1.0) + vec4(s * 1e-6);
}
";

/// A fresh scene directory named after the test, holding `files` (paths may have directories).
pub fn scene_dir(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = scene_dir_path(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// Where `scene_dir(name, ..)` makes its scene.
pub fn scene_dir_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("allsource-engine-{}-{name}", std::process::id()))
}

/// Runs the console commands in `script` on a scene of `files` (named after the test) with `options`; returns the
/// lines the console printed, and the result.
pub fn script(
    name: &str,
    files: &[(&str, &str)],
    options: EngineOptions,
    script: &str,
) -> (Result<(), Error>, Vec<String>) {
    let dir = scene_dir(name, files);
    let mut out = Vec::new();
    let result =
        run_script_text(Scene::open(&dir).unwrap(), options, script, &mut |l| out.extend(l.lines().map(str::to_owned)));
    (result, out)
}

/// As `script`, failing the test with the console's lines when the script fails.
pub fn script_ok(name: &str, files: &[(&str, &str)], options: EngineOptions, text: &str) -> Vec<String> {
    let (result, out) = script(name, files, options, text);
    if let Err(e) = result {
        panic!("{e}\nconsole:\n{}", out.join("\n"));
    }
    out
}

/// An engine on `dir` at 16x16.
pub fn engine(dir: &std::path::Path, clock: Clock, fps: f64) -> HeadlessEngine {
    let options = EngineOptions { size: (16, 16), fps, clock, ..EngineOptions::default() };
    HeadlessEngine::new(Scene::open(dir).unwrap(), options).unwrap()
}

/// Composes real-time frames until the centre pixel is `pixel`, failing after `seconds` (a guard against a hang, not
/// a measure: give slow builds room) with the diagnostics of the newest build.
pub fn wait_for(engine: &mut HeadlessEngine, pixel: [u8; 4], seconds: u64) {
    let start = Instant::now();
    while engine.image().pixel(8, 8) != pixel {
        assert!(
            start.elapsed() < Duration::from_secs(seconds),
            "no {pixel:?} within {seconds} s; live version {:?}; diagnostics {:?}",
            engine.compositor().status().live_version,
            engine.compositor().status().diagnostics
        );
        engine.frame();
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Composes real-time frames, one about every 5 ms, until `done` is true of the status (failing after `seconds`);
/// returns how many composes showed each worker frame, in the order they were shown. While the worker is stuck one
/// frame stays on screen for every compose made meanwhile; a compositor that waited for the worker would show a
/// new frame at (nearly) every compose.
pub fn composes_per_frame(
    engine: &mut HeadlessEngine,
    seconds: u64,
    mut done: impl FnMut(&allsource_engine::Status) -> bool,
) -> Vec<u32> {
    let start = Instant::now();
    let mut runs: Vec<(Option<u64>, u32)> = Vec::new();
    loop {
        engine.frame();
        let status = engine.compositor().status();
        match runs.last_mut() {
            Some((shown, count)) if *shown == status.shown => *count += 1,
            _ => runs.push((status.shown, 1)),
        }
        if done(status) {
            return runs.into_iter().map(|(_, count)| count).collect();
        }
        assert!(start.elapsed() < Duration::from_secs(seconds), "not done within {seconds} s: {runs:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A lockstep engine at 10 frames a second that has drawn its first frame.
pub struct Fixture {
    pub dir: PathBuf,
    pub engine: HeadlessEngine,
    pub frame: u64,
}

impl Fixture {
    pub fn new(name: &str, files: &[(&str, &str)]) -> Fixture {
        Fixture::open(scene_dir(name, files))
    }

    /// A fixture on a scene directory made beforehand (with files other than text in it).
    pub fn open(dir: PathBuf) -> Fixture {
        Fixture::sized(dir, (16, 16))
    }

    /// A fixture whose frame is `size` pixels.
    pub fn sized(dir: PathBuf, size: (u32, u32)) -> Fixture {
        let options = EngineOptions { size, fps: 10.0, clock: Clock::Lockstep, ..EngineOptions::default() };
        let engine = HeadlessEngine::new(Scene::open(&dir).unwrap(), options).unwrap();
        let mut fixture = Fixture { dir, engine, frame: 0 };
        fixture.step();
        fixture
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Draws the next lockstep frame and returns the centre pixel.
    pub fn step(&mut self) -> [u8; 4] {
        self.engine.frame_lockstep(self.frame).unwrap();
        self.frame += 1;
        self.engine.image().pixel(8, 8)
    }

    /// New text for `file` (as the editor sends it), then the next frame's centre pixel.
    pub fn edit(&mut self, file: &str, text: &str) -> [u8; 4] {
        self.engine.send(Command::Edit { path: self.path(file), text: text.to_owned() });
        self.step()
    }

    /// Evaluates Lua in the scene VM (before the next frame) and returns the answer.
    pub fn eval(&mut self, code: &str) -> Result<String, String> {
        self.engine.send(Command::Eval { code: code.to_owned() });
        self.step();
        self.engine.compositor().status().answers.last().expect("an answer").1.clone()
    }

    pub fn status(&self) -> &allsource_engine::Status {
        self.engine.compositor().status()
    }
}

/// Whether /proc still lists the process (reaping follows the kill on another thread: wait for it, for as long as
/// a loaded machine may take).
pub fn gone(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if !PathBuf::from(format!("/proc/{pid}")).exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}
