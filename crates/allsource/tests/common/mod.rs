//! What the `allsource` command's tests share: the binary, run as a user runs it.

use std::process::{Command, Output};

/// The binary with `args`, Mesa's shader cache off and no RUST_LOG from the caller's environment.
pub fn allsource(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_allsource"));
    command.args(args).env("MESA_SHADER_CACHE_DISABLE", "true").env_remove("RUST_LOG");
    command
}

pub fn run(command: &mut Command) -> Output {
    command.output().expect("the allsource binary runs")
}

/// An empty directory under the temp dir for one test: `kind` (the test file's) and `name` (the test's) keep tests
/// apart, the process id keeps runs apart.
#[allow(dead_code)] // Not every test file makes directories.
pub fn fresh_dir(kind: &str, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("allsource-{kind}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
