//! Memory: bytes of resident memory per reload of a module and of a shader, each in a process of its own (no other
//! group's allocations in its baseline): `allsource bench --memory-of KIND` runs [`memory_child`], which warms up
//! with 50 reloads and then counts the growth over N more, lockstep, one frame after each.

use std::path::Path;
use std::time::Duration;

use super::{BenchOptions, Figures, module_variant, variant, write};
use crate::worker::{Clock, Command, EngineOptions};
use crate::{Error, HeadlessEngine, Scene};

/// What is reloaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryKind {
    Module,
    Shader,
}

impl MemoryKind {
    pub fn name(self) -> &'static str {
        match self {
            MemoryKind::Module => "module",
            MemoryKind::Shader => "shader",
        }
    }

    pub fn from_name(name: &str) -> Option<MemoryKind> {
        [MemoryKind::Module, MemoryKind::Shader].into_iter().find(|k| k.name() == name)
    }
}

/// Reloads before the baseline: caches, the allocator's arenas and the history ring fill up first.
const WARM_UP: usize = 50;

/// Resident memory of this process, in bytes (Linux; 0 elsewhere).
fn resident_bytes() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .unwrap_or(0);
    pages * 4096
}

/// In this process (meant to be a fresh one): the growth of resident memory over `reloads` reloads of `kind`
/// after the warm-up, per reload, and the resident memory at the baseline. Prints nothing; the caller does.
pub fn memory_child(kind: MemoryKind, reloads: usize) -> Result<(f64, u64), Error> {
    let dir = std::env::temp_dir().join(format!("allsource-bench-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(super::io(&dir))?;
    let result = reload_growth(&dir, kind, reloads.max(1));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn reload_growth(dir: &Path, kind: MemoryKind, reloads: usize) -> Result<(f64, u64), Error> {
    let (path, text): (_, fn(usize) -> String) = match kind {
        MemoryKind::Module => {
            write(&dir.join("fill.glsl"), super::FILL)?;
            (dir.join("main.lua"), module_variant)
        }
        MemoryKind::Shader => (dir.join("main.glsl"), variant),
    };
    write(&path, &text(0))?;
    let options = EngineOptions {
        size: (64, 64),
        fps: 60.0,
        clock: Clock::Lockstep,
        worker_cost: Duration::ZERO,
        ..EngineOptions::default()
    };
    let mut engine = HeadlessEngine::new(Scene::open(dir)?, options)?;
    let mut baseline = 0;
    for i in 0..WARM_UP + reloads {
        if i == WARM_UP {
            baseline = resident_bytes();
        }
        engine.send(Command::Edit { path: path.clone(), text: text(i + 1) });
        engine.frame_lockstep(i as u64)?;
    }
    let growth = resident_bytes() as f64 - baseline as f64;
    Ok((growth / reloads as f64, baseline))
}

/// Runs [`memory_child`] for each kind in a process of its own (this executable, `bench --memory-of KIND`).
pub(super) fn memory(options: &BenchOptions, figures: &mut Figures) -> Result<String, Error> {
    let exe = std::env::current_exe().map_err(|e| Error::Io { path: "allsource".into(), message: e.to_string() })?;
    let mut text = format!(
        "memory: resident bytes per reload, {} reloads after {WARM_UP} of warm-up, lockstep, each kind in a \
         process of its own\n",
        options.reloads.max(1)
    );
    for kind in [MemoryKind::Module, MemoryKind::Shader] {
        let output = std::process::Command::new(&exe)
            .args(["bench", "--memory-of", kind.name(), "--reloads", &options.reloads.max(1).to_string()])
            .output()
            .map_err(|e| Error::Io { path: exe.clone(), message: e.to_string() })?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let parsed = stdout.split_whitespace().map(str::parse::<f64>).collect::<Result<Vec<f64>, _>>();
        let (per_reload, baseline) = match parsed.as_deref() {
            Ok([per_reload, baseline]) if output.status.success() => (*per_reload, *baseline),
            _ => {
                return Err(Error::Io {
                    path: exe.clone(),
                    message: format!(
                        "the {} memory run failed: {}{}",
                        kind.name(),
                        stdout.trim(),
                        String::from_utf8_lossy(&output.stderr).trim()
                    ),
                });
            }
        };
        let (name_per, name_base) = match kind {
            MemoryKind::Module => ("module_reload_resident_bytes_per_reload", "module_reload_resident_baseline_mib"),
            MemoryKind::Shader => ("shader_reload_resident_bytes_per_reload", "shader_reload_resident_baseline_mib"),
        };
        let mib = baseline / f64::from(1 << 20);
        figures.extend([(name_per, per_reload), (name_base, mib)]);
        text.push_str(&format!(
            "\x20 {}: {per_reload:+.0} bytes a reload, from a baseline of {mib:.1} MiB\n",
            kind.name()
        ));
    }
    Ok(text)
}
