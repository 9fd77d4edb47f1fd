//! Every real info log in tests/driver-logs (captured from Mesa and NVIDIA; see its README), parsed: line, column, severity and stage of each entry.

use std::path::PathBuf;

use allsource_live::Severity::{self, Error, Warning};
use allsource_shader::{Stage, parse_log};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/driver-logs")
}

type Expected = &'static [(Option<u32>, Option<u32>, Severity, Option<Stage>)];

/// (log file, entries as (line, column, severity, stage)).
const CASES: &[(&str, Expected)] = &[
    ("compute-error.comp.mesa-22.3.6-llvmpipe.log", &[(Some(3), Some(23), Error, None)]),
    ("compute-error.comp.nvidia-580.159.04.log", &[(Some(3), None, Error, None)]),
    ("line-directive.frag.mesa-22.3.6-llvmpipe.log", &[(Some(100), Some(19), Error, None)]),
    ("line-directive.frag.nvidia-580.159.04.log", &[(Some(100), None, Error, None)]),
    ("link-missing-output.mesa-22.3.6-llvmpipe.log", &[(None, None, Error, Some(Stage::Fragment))]),
    ("link-missing-output.nvidia-580.159.04.log", &[(None, None, Error, None)]),
    ("link-type-mismatch.mesa-22.3.6-llvmpipe.log", &[(None, None, Error, Some(Stage::Vertex))]),
    ("link-type-mismatch.nvidia-580.159.04.log", &[(Some(2), None, Error, Some(Stage::Vertex))]),
    ("missing-semicolon.frag.mesa-22.3.6-llvmpipe.log", &[(Some(3), Some(29), Error, None)]),
    ("missing-semicolon.frag.nvidia-580.159.04.log", &[(Some(3), None, Error, None)]),
    ("two-errors.frag.mesa-22.3.6-llvmpipe.log", &[(Some(3), Some(19), Error, None), (Some(4), Some(6), Error, None)]),
    ("two-errors.frag.nvidia-580.159.04.log", &[(Some(3), None, Error, None), (Some(4), None, Error, None)]),
    ("type-mismatch.frag.mesa-22.3.6-llvmpipe.log", &[(Some(3), Some(15), Error, None)]),
    ("type-mismatch.frag.nvidia-580.159.04.log", &[(Some(3), None, Error, None)]),
    // Mesa's second error ("operands to arithmetic operators must be numeric", column 19) is about the expression
    // around the undeclared name: a note of the first, so one mistake is one diagnostic, as on NVIDIA.
    ("undeclared.frag.mesa-22.3.6-llvmpipe.log", &[(Some(3), Some(31), Error, None)]),
    ("undeclared.frag.nvidia-580.159.04.log", &[(Some(3), None, Error, None)]),
    ("warning-on-success.frag.mesa-22.3.6-llvmpipe.log", &[(Some(3), Some(33), Warning, None)]),
    ("warning-on-success.frag.nvidia-580.159.04.log", &[]),
];

#[test]
fn every_captured_driver_log_parses_to_its_lines_columns_and_severities() {
    let mut seen = 0;
    for entry in std::fs::read_dir(dir()).expect("tests/driver-logs of the shader crate") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".log") {
            continue;
        }
        seen += 1;
        let expected = CASES.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no expectation for {name}")).1;
        let log = std::fs::read_to_string(&path).unwrap();
        let got: Vec<_> = parse_log(&log).into_iter().map(|e| (e.line, e.column, e.severity, e.stage)).collect();
        assert_eq!(got, expected, "{name}:\n{log}");
        for entry in parse_log(&log) {
            assert!(!entry.message.is_empty(), "{name}: an entry without its message");
        }
    }
    assert_eq!(seen, CASES.len(), "every case is in the directory");
}

#[test]
fn nvidia_keeps_its_error_code_and_mesa_its_message() {
    let nvidia = parse_log("0(3) : error C1503: undefined variable \"foo\"\n");
    assert_eq!(nvidia[0].message, "undefined variable \"foo\" (C1503)");
    let mesa = parse_log("0:3(19): error: `foo' undeclared\n");
    assert_eq!(mesa[0].message, "`foo' undeclared");
}

#[test]
fn glslang_amd_and_angle_logs_parse_too() {
    let log = "ERROR: 0:3: 'foo' : undeclared identifier\nWARNING: shader.frag:7: 'x' : unused\n\
               ERROR: 1 compilation errors.  No code generated.\n";
    let got: Vec<_> = parse_log(log).into_iter().map(|e| (e.line, e.severity, e.message)).collect();
    assert_eq!(
        got,
        vec![
            (Some(3), Error, "'foo' : undeclared identifier".to_owned()),
            (Some(7), Warning, "'x' : unused".to_owned()),
        ]
    );
}

#[test]
fn mesa_columns_map_back_through_collapsed_whitespace_and_comments() {
    use allsource_shader::original_column;
    // glcpp turns each run of blanks (and each comment) into one space before Mesa counts columns.
    assert_eq!(original_column("    float x = 0.5 o = vec4(x);", 16), 19);
    assert_eq!(original_column("\t\tx  =   nope;", 6), 10);
    assert_eq!(original_column("o = /* a comment */ nope;", 5), 21);
    assert_eq!(original_column("void main() { o = foo;", 19), 19, "single spaces change nothing");
    assert_eq!(original_column("", 7), 7, "a column past the line is kept as given");
}

#[test]
fn after_a_line_directive_of_the_users_errors_land_on_the_files_own_line() {
    let source = std::fs::read_to_string(dir().join("line-directive.frag")).unwrap();
    let prepared = allsource_shader::prepare(std::path::Path::new("line-directive.frag"), &source, &mut |_| {
        Err("no includes".into())
    });
    for (log, column) in [
        ("line-directive.frag.mesa-22.3.6-llvmpipe.log", Some(19)),
        ("line-directive.frag.nvidia-580.159.04.log", None),
    ] {
        let log = std::fs::read_to_string(dir().join(log)).unwrap();
        let found = prepared.diagnostics_from_log(Some(Stage::Fragment), &log);
        assert_eq!(found.len(), 1, "{found:?}");
        // `#line 100 2` is line 3; the error is on line 4, `void main() { o = nope; }`, at `nope`.
        assert_eq!((found[0].line, found[0].column), (Some(4), column), "{log}: {:?}", found[0]);
    }
}
