//! What `LUAJIT_ENABLE_CHECKHOOK` (compiled traces check for a hook, so the watchdog can stop a JIT-compiled loop)
//! costs: the same JIT-heavy chunk the watchdog figures use, run by two standalone `luajit` executables built from
//! the vendored LuaJIT source this binary was built from, one with the flag and one stock, with the same make
//! command otherwise. They are built once into `target/luajit-compare` of that checkout (a minute or two on two
//! cores) and reused; without the source or `make` (an installed binary), the figure is not measured and the text
//! says why.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{BenchOptions, Figures};
use crate::Error;

/// The checkout this binary was built from.
fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds (once) the `luajit` executable of the vendored source with `cflags` in `dir`.
fn built(source: &Path, dir: &Path, cflags: &str) -> Result<PathBuf, String> {
    let exe = dir.join("src/luajit");
    if exe.is_file() {
        return Ok(exe);
    }
    let copy = Command::new("cp")
        .arg("-R")
        .arg(source)
        .arg(dir)
        .status()
        .map_err(|e| format!("cannot copy the LuaJIT source: {e}"))?;
    if !copy.success() {
        return Err(format!("cannot copy {} to {}", source.display(), dir.display()));
    }
    // As luajit-src builds the library the engine links (BUILDMODE=static, XCFLAGS=-fPIC), with only TARGET_CFLAGS
    // differing; TARGET_CFLAGS on the command line overrides the value cargo's config puts in the environment.
    let output = Command::new("make")
        .current_dir(dir.join("src"))
        .args(["-j2", "BUILDMODE=static", "XCFLAGS=-fPIC", &format!("TARGET_CFLAGS={cflags}"), "luajit"])
        .output()
        .map_err(|e| format!("cannot run make: {e}"))?;
    if !output.status.success() || !exe.is_file() {
        let _ = std::fs::remove_dir_all(dir);
        return Err(format!("make failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    Ok(exe)
}

/// The chunk run `rounds` times after a warm-up, printing each run's CPU seconds.
fn timing_script(rounds: usize) -> String {
    format!(
        "local work = assert(loadstring([==[{}]==]))\nwork()\nfor _ = 1, {rounds} do\n  local t = os.clock()\n  \
         work()\n  io.write(os.clock() - t, '\\n')\nend\n",
        allsource_lua::measure::WORK
    )
}

fn run(exe: &Path, script: &Path) -> Result<Vec<f64>, String> {
    let output = Command::new(exe).arg(script).output().map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if !output.status.success() {
        return Err(format!("{} failed: {}", exe.display(), String::from_utf8_lossy(&output.stderr).trim()));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| l.trim().parse::<f64>().map_err(|e| format!("{}: `{l}`: {e}", exe.display())))
        .collect()
}

/// Median CPU seconds of the chunk under the stock and the CHECKHOOK build, interleaved over `processes` runs of
/// each (three timed rounds a process).
fn measure(processes: usize) -> Result<(f64, f64), String> {
    let source = checkout().join("vendor/luajit-src/luajit2");
    if !source.join("src/Makefile").is_file() {
        return Err(format!("no LuaJIT source at {} (an installed binary)", source.display()));
    }
    let root = checkout().join("target/luajit-compare");
    std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let stock = built(&source, &root.join("stock"), "")?;
    let checkhook = built(&source, &root.join("checkhook"), "-DLUAJIT_ENABLE_CHECKHOOK")?;
    let script = root.join("work.lua");
    std::fs::write(&script, timing_script(3)).map_err(|e| format!("{}: {e}", script.display()))?;
    let (mut s, mut c) = (Vec::new(), Vec::new());
    for _ in 0..processes {
        s.extend(run(&stock, &script)?);
        c.extend(run(&checkhook, &script)?);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().ok_or_else(|| "a luajit run printed no times".to_owned())
    };
    Ok((median(&mut s)?, median(&mut c)?))
}

pub(super) fn checkhook_cost(options: &BenchOptions, figures: &mut Figures) -> Result<String, Error> {
    Ok(match measure(options.edits.clamp(3, 9)) {
        Ok((stock, checkhook)) => {
            let speed = stock / checkhook;
            figures.extend([
                ("luajit_stock_work_median_ms", stock * 1e3),
                ("luajit_checkhook_work_median_ms", checkhook * 1e3),
                ("luajit_checkhook_speed_over_stock", speed),
            ]);
            format!(
                "LuaJIT with LUAJIT_ENABLE_CHECKHOOK / stock, standalone builds of the same vendored source: the \
                 JIT-heavy chunk in {:.1} ms / {:.1} ms: speed x{speed:.3}\n",
                checkhook * 1e3,
                stock * 1e3
            )
        }
        Err(why) => {
            figures.extend([("luajit_checkhook_speed_over_stock", f64::NAN)]);
            format!("LuaJIT with LUAJIT_ENABLE_CHECKHOOK / stock: not measured: {why}\n")
        }
    })
}
