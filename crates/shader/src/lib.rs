//! GLSL source handling that needs no GL: how a shader file of a scene becomes the texts handed to the driver,
//! and how the driver's answer becomes diagnostics on the file's own lines.
//!
//! One file holds every stage (`format`): text before the first `#pragma stage` line is common to all stages, and
//! each `#pragma stage NAME` starts a section. `#include "file"` is expanded in place. Every line handed to the
//! driver remembers where it came from (a file and a line, or "generated"), so an info log's line numbers map back
//! to the file and line the user wrote on every driver, whatever the driver does with `#line` source numbers
//! (Mesa 22 ignores them). `log` parses the info logs of Mesa, NVIDIA and glslang/AMD/ANGLE.
//!
//! No GL and no I/O here (includes are read through a closure), so all of it is tested and fuzzed without a driver.

#![forbid(unsafe_code)]

mod channels;
mod format;
mod log;
mod preprocess;
mod shadertoy;

pub use channels::{Channel, Filter, Source, Wrap};
pub use format::{
    Draw, FULLSCREEN_VERTEX, Origin, PassOptions, Prepared, Primitive, Stage, StageText, prepare, prepare_pass,
};
pub use log::{Dialect, LogEntry, original_column, parse_log};
pub use shadertoy::{CHANNEL_NAMES, SHADERTOY_UNIFORMS};

/// The `#version` given to a stage that does not declare one.
pub const DEFAULT_VERSION: &str = "#version 450 core";

/// Whether `line` is a `#version` directive (spaces are allowed around and inside the `#`, as GLSL allows).
pub fn is_version_line(line: &str) -> bool {
    directive(line).is_some_and(|(name, _)| name == "version")
}

/// Splits a preprocessor line into its directive name and the rest: `#  pragma stage x` gives ("pragma", "stage x").
pub(crate) fn directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start();
    let end = rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(rest.len());
    if end == 0 {
        return None;
    }
    Some((&rest[..end], rest[end..].trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_lines_are_recognised_as_glsl_allows_them() {
        assert!(is_version_line("#version 450"));
        assert!(is_version_line("  #  version 450 core"));
        assert!(!is_version_line("#versions"));
        assert!(!is_version_line("// #version 450"));
    }
}
