//! GLSL source handling that needs no GL: how a shader file of a scene becomes the text handed to the driver.
//!
//! For now a file is one fragment stage. The file format of DESIGN.md (`#pragma stage` sections, `#include`,
//! Shadertoy mode) grows here; this crate stays free of GL so it can be tested, fuzzed and reused without a driver.

/// The `#version` given to a stage that does not declare one.
pub const DEFAULT_VERSION: &str = "#version 450 core";

/// The text of one stage as the driver should see it.
///
/// A stage with no `#version` directive gets [`DEFAULT_VERSION`] on a line of its own, followed by `#line 1` so
/// that the driver still numbers the file's first line as line 1 and its diagnostics point at the right line.
pub fn stage_source(text: &str) -> String {
    if declares_version(text) {
        text.to_owned()
    } else {
        format!("{DEFAULT_VERSION}\n#line 1\n{text}")
    }
}

/// Whether `text` declares its GLSL version: a line whose first token is `#version` (spaces are allowed around
/// and inside the `#`, as GLSL allows).
pub fn declares_version(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim_start();
        line.strip_prefix('#').is_some_and(|rest| {
            let rest = rest.trim_start();
            rest.strip_prefix("version")
                .is_some_and(|after| after.is_empty() || after.starts_with([' ', '\t']))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_version_gets_450_core_and_keeps_its_line_numbers() {
        let out = stage_source("void main() {}\n");
        assert_eq!(out, "#version 450 core\n#line 1\nvoid main() {}\n");
    }

    #[test]
    fn a_declared_version_is_kept_as_written() {
        for text in [
            "#version 330 core\nvoid main(){}",
            "// comment\n  #  version 450\nvoid main(){}",
        ] {
            assert_eq!(stage_source(text), text);
        }
    }

    #[test]
    fn words_that_only_start_like_version_do_not_count() {
        assert!(!declares_version("#versions\n"));
        assert!(!declares_version("// #version 450\n"));
        assert!(declares_version("#version 450"));
    }
}
