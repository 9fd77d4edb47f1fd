//! Memory: bytes of resident memory per reload of a module and of a shader, each in a process of its own (no other
//! group's allocations in its baseline): `allsource bench --memory-of KIND` runs [`memory_child`], which warms up
//! until the history ring is full and then counts the growth over N more, lockstep, one frame after each.

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

/// Reloads before the baseline: the history ring (each version keeps its text) fills up first, then caches and the
/// allocator's arenas settle. With fewer, the ring's filling reads as growth.
const WARM_UP: usize = allsource_live::DEFAULT_HISTORY + 50;

/// Resident memory of this process, in bytes (Linux; 0 elsewhere).
fn resident_bytes() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .unwrap_or(0);
    pages * 4096
}

/// What a process of its own measured: resident growth per reload over the first and the second half of the
/// reloads after the warm-up, and the resident memory at the baseline. A leak grows in both halves alike; memory
/// that settles (the Lua heap's pace, the allocator's arenas) grows in the first and not the second.
#[derive(Clone, Copy, Debug)]
pub struct MemoryGrowth {
    pub first_half_per_reload: f64,
    pub second_half_per_reload: f64,
    pub baseline: u64,
}

/// In this process (meant to be a fresh one): the growth of resident memory over `reloads` reloads of `kind` after
/// the warm-up. Prints nothing; the caller does.
pub fn memory_child(kind: MemoryKind, reloads: usize) -> Result<MemoryGrowth, Error> {
    let dir = std::env::temp_dir().join(format!("allsource-bench-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(super::io(&dir))?;
    let result = reload_growth(&dir, kind, reloads.max(2));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn reload_growth(dir: &Path, kind: MemoryKind, reloads: usize) -> Result<MemoryGrowth, Error> {
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
    let half = reloads / 2;
    let (mut baseline, mut middle) = (0, 0);
    for i in 0..WARM_UP + 2 * half {
        if i == WARM_UP {
            baseline = resident_bytes();
        }
        if i == WARM_UP + half {
            middle = resident_bytes();
        }
        engine.send(Command::Edit { path: path.clone(), text: text(i + 1) });
        engine.frame_lockstep(i as u64)?;
    }
    let per_reload = |from: u64, to: u64| (to as f64 - from as f64) / half as f64;
    Ok(MemoryGrowth {
        first_half_per_reload: per_reload(baseline, middle),
        second_half_per_reload: per_reload(middle, resident_bytes()),
        baseline,
    })
}

/// Runs [`memory_child`] for each kind in a process of its own (this executable, `bench --memory-of KIND`).
pub(super) fn memory(options: &BenchOptions, figures: &mut Figures) -> Result<String, Error> {
    let exe = std::env::current_exe().map_err(|e| Error::Io { path: "allsource".into(), message: e.to_string() })?;
    let mut text = format!(
        "memory: resident bytes per reload, {} reloads after {WARM_UP} of warm-up, lockstep, each kind in a \
         process of its own\n",
        options.reloads.max(2)
    );
    for kind in [MemoryKind::Module, MemoryKind::Shader] {
        let output = std::process::Command::new(&exe)
            .args(["bench", "--memory-of", kind.name(), "--reloads", &options.reloads.max(2).to_string()])
            .output()
            .map_err(|e| Error::Io { path: exe.clone(), message: e.to_string() })?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let parsed = stdout.split_whitespace().map(str::parse::<f64>).collect::<Result<Vec<f64>, _>>();
        let (first, second, baseline) = match parsed.as_deref() {
            Ok([first, second, baseline]) if output.status.success() => (*first, *second, *baseline),
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
        let names = match kind {
            MemoryKind::Module => [
                "module_reload_resident_bytes_per_reload_second_half",
                "module_reload_resident_bytes_per_reload_first_half",
                "module_reload_resident_baseline_mib",
            ],
            MemoryKind::Shader => [
                "shader_reload_resident_bytes_per_reload_second_half",
                "shader_reload_resident_bytes_per_reload_first_half",
                "shader_reload_resident_baseline_mib",
            ],
        };
        let mib = baseline / f64::from(1 << 20);
        figures.extend(names.into_iter().zip([second, first, mib]));
        text.push_str(&format!(
            "\x20 {}: {second:+.0} bytes a reload over the second half ({first:+.0} over the first), from a baseline of \
             {mib:.1} MiB (a leak grows alike in both halves)\n",
            kind.name()
        ));
    }
    Ok(text)
}
