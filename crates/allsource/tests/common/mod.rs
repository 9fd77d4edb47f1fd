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
