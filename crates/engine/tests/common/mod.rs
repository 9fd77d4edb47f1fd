//! Scenes for the engine's tests: a directory of files under the temp dir, and an engine running it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use allsource_engine::session::run_script_text;
use allsource_engine::worker::Command;
use allsource_engine::{Clock, EngineOptions, Error, HeadlessEngine, Scene};

/// A fresh scene directory named after the test, holding `files` (paths may have directories).
pub fn scene_dir(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("allsource-engine-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
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

/// Composes real-time frames until the centre pixel is `pixel`, failing after `seconds`.
pub fn wait_for(engine: &mut HeadlessEngine, pixel: [u8; 4], seconds: u64) {
    let start = Instant::now();
    while engine.image().pixel(8, 8) != pixel {
        assert!(start.elapsed() < Duration::from_secs(seconds), "no {pixel:?} within {seconds} s");
        engine.frame();
        std::thread::sleep(Duration::from_millis(10));
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
        let dir = scene_dir(name, files);
        let engine = engine(&dir, Clock::Lockstep, 10.0);
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
