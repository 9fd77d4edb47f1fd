//! `allsource piglit`: piglit's `.shader_test` files run through allsource's own shader pipeline (see `run/`),
//! and, in comparison mode, through piglit's `shader_runner` too, file by file, with a summary of where the two
//! disagree. The files share one GL context; each test deletes what it made and resets the state it changed.

#![forbid(unsafe_code)]

pub mod parse;
pub mod run;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use parse::ShaderTest;
pub use run::Outcome;

/// Where Debian's piglit package puts shader_runner.
pub const SHADER_RUNNER: &str = "/usr/lib/x86_64-linux-gnu/piglit/bin/shader_runner";

/// Every `.shader_test` file named, or under a directory named, sorted within each directory.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.extension().is_some_and(|e| e == "shader_test") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files)?;
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(format!("{}: no such file or directory", path.display()));
        }
    }
    Ok(files)
}

/// Runs files through allsource on a headless 4.5 core context, and on a compatibility-profile one (made when a test
/// first asks for it) for the tests shader_runner runs in one. Each test leaves its context as it found it.
pub struct Runner {
    core: allsource_gpu::GlContext,
    compatibility: Option<Result<allsource_gpu::GlContext, String>>,
}

impl Runner {
    pub fn new() -> Result<Runner, String> {
        Ok(Runner { core: allsource_gpu::headless().map_err(|e| format!("no GL context: {e}"))?, compatibility: None })
    }

    pub fn run_file(&mut self, path: &Path) -> Outcome {
        let test = match ShaderTest::read(path) {
            Ok(test) => test,
            Err(e) => return Outcome::Fail(e),
        };
        if !run::needs_compatibility(&test) {
            return match self.core.make_current_again() {
                Ok(()) => run::run(&self.core.gl, &test, false),
                Err(e) => Outcome::Fail(e.to_string()),
            };
        }
        let compatibility = self.compatibility.get_or_insert_with(|| {
            allsource_gpu::headless_profile(allsource_gpu::Profile::Compatibility).map_err(|e| e.to_string())
        });
        match compatibility {
            Ok(context) => match context.make_current_again() {
                Ok(()) => run::run(&context.gl, &test, true),
                Err(e) => Outcome::Fail(e.to_string()),
            },
            Err(e) => Outcome::Skip(format!("needs a compatibility-profile context, which the driver refused: {e}")),
        }
    }
}

/// What piglit's shader_runner said of one file: pass, fail, skip, warn, or crash (no result line), and its
/// last lines of output.
#[derive(Clone, Debug)]
pub struct RunnerResult {
    pub result: String,
    pub output: String,
}

/// Runs piglit's `shader_runner` on `path` as piglit does (`-auto -fbo`, surfaceless EGL), at most `timeout`.
pub fn run_shader_runner(runner: &Path, path: &Path, timeout: Duration) -> RunnerResult {
    let child = Command::new(runner)
        .arg(path)
        .args(["-auto", "-fbo"])
        .env("PIGLIT_PLATFORM", "surfaceless_egl")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return RunnerResult { result: "crash".into(), output: format!("cannot run {}: {e}", runner.display()) };
        }
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() < timeout => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return RunnerResult { result: "timeout".into(), output: format!("killed after {timeout:?}") };
            }
        }
    }
    let output = child.wait_with_output().map(|o| {
        let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&o.stderr));
        text
    });
    let output = output.unwrap_or_default();
    let result = output
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("PIGLIT: "))
        .and_then(|json| {
            let json = json.replace('\'', "\"");
            serde_json::from_str::<serde_json::Value>(&json).ok()
        })
        .and_then(|v| v.get("result").and_then(|r| r.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "crash".into());
    let tail: Vec<&str> = output.lines().rev().take(6).collect();
    RunnerResult { result, output: tail.into_iter().rev().collect::<Vec<_>>().join("\n") }
}

/// One file's results.
#[derive(Clone, Debug)]
pub struct FileResult {
    pub file: PathBuf,
    pub outcome: Outcome,
    pub runner: Option<RunnerResult>,
}

impl FileResult {
    /// allsource and shader_runner disagree: one passed and the other did not, or one failed where the other
    /// skipped. (A warn counts as a pass, a crash or timeout as a fail.)
    pub fn disagrees(&self) -> bool {
        let Some(runner) = &self.runner else { return false };
        let theirs = match runner.result.as_str() {
            "pass" | "warn" => "pass",
            "skip" => "skip",
            _ => "fail",
        };
        theirs != self.outcome.name()
    }
}

/// Disagreements known and explained: a file path suffix and its cause, one per line (`#` comments).
#[derive(Clone, Debug, Default)]
pub struct Known {
    entries: Vec<(String, String)>,
}

impl Known {
    pub fn read(path: &Path) -> Result<Known, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(Known::parse(&text))
    }

    pub fn parse(text: &str) -> Known {
        let entries = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| match l.split_once(char::is_whitespace) {
                Some((file, cause)) => (file.to_owned(), cause.trim().to_owned()),
                None => (l.to_owned(), String::new()),
            })
            .collect();
        Known { entries }
    }

    /// What is wrong with a comparison's results against this list, one line each: disagreements it does not list,
    /// and entries that no longer describe a disagreement (the files agree now, or no file of the run matches),
    /// so that the list only shrinks. Empty: the run is as the list says.
    pub fn problems(&self, results: &[FileResult]) -> Vec<String> {
        let mut problems: Vec<String> = results
            .iter()
            .filter(|r| r.disagrees() && self.cause(&r.file).is_none())
            .map(|r| format!("{}: a new disagreement", r.file.display()))
            .collect();
        for (suffix, _) in &self.entries {
            let matching: Vec<&FileResult> =
                results.iter().filter(|r| r.file.to_string_lossy().ends_with(suffix.as_str())).collect();
            if matching.is_empty() {
                problems.push(format!("{suffix}: listed as a known disagreement, but no file of this run matches it"));
            } else if !matching.iter().any(|r| r.disagrees()) {
                problems.push(format!(
                    "{suffix}: listed as a known disagreement, but they agree now: take it off the list"
                ));
            }
        }
        problems
    }

    /// The cause given for `file`, if its disagreement is known.
    pub fn cause(&self, file: &Path) -> Option<&str> {
        let file = file.to_string_lossy();
        self.entries.iter().find(|(suffix, _)| file.ends_with(suffix.as_str())).map(|(_, cause)| cause.as_str())
    }
}

/// The JSON list `--json` prints: `{file, result, reason}` (and `shader_runner` in comparison mode).
pub fn json(results: &[FileResult]) -> String {
    let list: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let mut v = serde_json::json!({
                "file": r.file.display().to_string(),
                "result": r.outcome.name(),
                "reason": r.outcome.reason(),
            });
            if let Some(runner) = &r.runner {
                v["shader_runner"] = serde_json::json!(runner.result);
            }
            v
        })
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// The summary table: pass, fail, skip for allsource (and shader_runner), and the files where they disagree (known
/// ones with their cause, then new ones).
pub fn summary(results: &[FileResult], known: &Known, took: Duration, runner_took: Option<Duration>) -> String {
    let count = |f: &dyn Fn(&FileResult) -> bool| results.iter().filter(|r| f(r)).count();
    let ours = |name: &'static str| count(&move |r: &FileResult| r.outcome.name() == name);
    let theirs = |names: &'static [&'static str]| {
        count(&move |r: &FileResult| r.runner.as_ref().is_some_and(|x| names.contains(&x.result.as_str())))
    };
    let compared = results.iter().any(|r| r.runner.is_some());
    let mut text = String::new();
    if compared {
        text.push_str(&format!("{:<10} {:>10} {:>14}\n", "", "allsource", "shader_runner"));
        text.push_str(&format!("{:<10} {:>10} {:>14}\n", "pass", ours("pass"), theirs(&["pass", "warn"])));
        text.push_str(&format!("{:<10} {:>10} {:>14}\n", "fail", ours("fail"), theirs(&["fail", "crash", "timeout"])));
        text.push_str(&format!("{:<10} {:>10} {:>14}\n", "skip", ours("skip"), theirs(&["skip"])));
        text.push_str(&format!(
            "{:<10} {:>9.1}s {:>13.1}s\n",
            "time",
            took.as_secs_f64(),
            runner_took.unwrap_or_default().as_secs_f64()
        ));
        let disagreements: Vec<&FileResult> = results.iter().filter(|r| r.disagrees()).collect();
        let new = disagreements.iter().filter(|r| known.cause(&r.file).is_none()).count();
        text.push_str(&format!(
            "{} files, {} disagreements: {} known, {new} new\n",
            results.len(),
            disagreements.len(),
            disagreements.len() - new
        ));
        for r in disagreements {
            let runner = r.runner.as_ref().map_or("", |x| x.result.as_str());
            let label = match known.cause(&r.file) {
                Some(cause) => format!("known, {cause}"),
                None => "NEW".to_owned(),
            };
            text.push_str(&format!(
                "  {}: allsource {} ({}), shader_runner {runner} [{label}]\n",
                r.file.display(),
                r.outcome.name(),
                r.outcome.reason()
            ));
        }
        for problem in known.problems(results).iter().filter(|p| !p.ends_with("a new disagreement")) {
            text.push_str(&format!("  {problem}\n"));
        }
    } else {
        text.push_str(&format!(
            "{} files: {} pass, {} fail, {} skip in {:.1} s\n",
            results.len(),
            ours("pass"),
            ours("fail"),
            ours("skip"),
            took.as_secs_f64()
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_disagreements_match_by_path_suffix() {
        let known = Known::parse("# comment\ntests/spec/a/b.shader_test  compat: needs a compatibility profile\n\n");
        assert_eq!(
            known.cause(Path::new("/usr/lib/x86_64-linux-gnu/piglit/tests/spec/a/b.shader_test")),
            Some("compat: needs a compatibility profile")
        );
        assert_eq!(known.cause(Path::new("/x/tests/spec/a/c.shader_test")), None);
    }

    #[test]
    fn a_disagreement_is_a_different_verdict_counting_warn_as_pass_and_crash_as_fail() {
        let result = |ours: Outcome, theirs: &str| FileResult {
            file: PathBuf::from("t.shader_test"),
            outcome: ours,
            runner: Some(RunnerResult { result: theirs.into(), output: String::new() }),
        };
        assert!(!result(Outcome::Pass, "warn").disagrees());
        assert!(!result(Outcome::Fail("x".into()), "crash").disagrees());
        assert!(result(Outcome::Skip("x".into()), "pass").disagrees());
        assert!(result(Outcome::Pass, "fail").disagrees());
    }

    #[test]
    fn a_known_disagreement_that_agrees_now_or_matches_no_file_is_a_problem() {
        let result = |file: &str, ours: Outcome, theirs: &str| FileResult {
            file: PathBuf::from(file),
            outcome: ours,
            runner: Some(RunnerResult { result: theirs.into(), output: String::new() }),
        };
        let known =
            Known::parse("spec/a.shader_test runner: x\nspec/b.shader_test runner: y\nspec/gone.shader_test z\n");
        let results = [
            result("/p/spec/a.shader_test", Outcome::Skip("x".into()), "pass"),
            result("/p/spec/b.shader_test", Outcome::Pass, "pass"),
            result("/p/spec/c.shader_test", Outcome::Pass, "fail"),
        ];
        assert_eq!(
            known.problems(&results),
            [
                "/p/spec/c.shader_test: a new disagreement",
                "spec/b.shader_test: listed as a known disagreement, but they agree now: take it off the list",
                "spec/gone.shader_test: listed as a known disagreement, but no file of this run matches it",
            ]
        );
        assert!(Known::parse("spec/a.shader_test runner: x\n").problems(&results[..1]).is_empty());
    }
}
