//! Property tests: the preprocessor and the log parser never panic on arbitrary input, and every line they report
//! lies inside the file it names; a log made of real drivers' lines is parsed into exactly the entries it holds.

use std::path::Path;

use allsource_live::Severity;
use allsource_shader::{Dialect, LogEntry, Origin, Stage, parse_log, prepare};
use proptest::prelude::*;

/// Text made of shader-like lines (directives, includes, stage pragmas) mixed with arbitrary characters.
fn shaderish() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("#version 450 core".to_owned()),
        Just("#pragma stage vertex".to_owned()),
        Just("#pragma stage fragment".to_owned()),
        Just("#pragma stage compute".to_owned()),
        Just("#pragma stage".to_owned()),
        Just("#include \"a.glsl\"".to_owned()),
        Just("#include \"b.glsl\"".to_owned()),
        Just("#include \"../up.glsl\"".to_owned()),
        Just("#include <a.glsl>".to_owned()),
        Just("#include".to_owned()),
        Just("void mainImage(out vec4 c, in vec2 f) {}".to_owned()),
        ".{0,40}",
    ];
    proptest::collection::vec(line, 0..30).prop_map(|lines| lines.join("\n"))
}

fn logish() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        (0u32..3, 0u32..200, 0u32..80).prop_map(|(s, l, c)| format!("{s}:{l}({c}): error: x")),
        (0u32..3, 0u32..200).prop_map(|(s, l)| format!("{s}({l}) : warning C1: y")),
        (0u32..200).prop_map(|l| format!("ERROR: 0:{l}: 'z' : w")),
        Just("Vertex info".to_owned()),
        Just("Link info".to_owned()),
        Just("-----------".to_owned()),
        Just("error: fragment shader input".to_owned()),
        ".{0,60}",
    ];
    proptest::collection::vec(line, 0..20).prop_map(|lines| lines.join("\n"))
}

/// A driver's message: words as drivers write them (quotes, commas, colons, numbers), none naming a stage.
fn message() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        prop::sample::select(vec![
            "`foo'",
            "undeclared",
            "syntax",
            "error,",
            "unexpected",
            "IDENTIFIER",
            "expecting",
            "','",
            "or",
            "';'",
            "invalid",
            "operands",
            "to",
            "\"*\"",
            "implicit",
            "cast",
            "from",
            "\"vec4\"",
            "vec3",
            ":",
            "0:3",
            "(23)",
            "at",
            "token",
            "\"o\"",
            "C1503",
        ])
        .prop_map(str::to_owned),
        "[a-z_][a-z0-9_]{0,2}",
    ];
    proptest::collection::vec(word, 1..8).prop_map(|words| words.join(" "))
}

fn severity() -> impl Strategy<Value = Severity> {
    prop::sample::select(vec![Severity::Error, Severity::Warning])
}

/// One line of a real driver's log, with what the parser must make of it (its stage aside: that depends on the
/// section it is in).
fn driver_line() -> impl Strategy<Value = (String, LogEntry)> {
    let entry = |source, line, column, dialect, severity, message| LogEntry {
        source,
        line,
        column,
        dialect,
        severity,
        stage: None,
        message,
    };
    let word = |s: Severity| if s == Severity::Error { "error" } else { "warning" };
    prop_oneof![
        // Mesa: `0:3(31): error: message`.
        (0u32..10, 1u32..100_000, 1u32..500, severity(), message()).prop_map(move |(s, l, c, sev, m)| {
            (format!("{s}:{l}({c}): {}: {m}", word(sev)), entry(Some(s), Some(l), Some(c), Dialect::Mesa, sev, m))
        }),
        // NVIDIA: `0(3) : error C1503: message`, the code kept after the message.
        (0u32..10, 1u32..100_000, 1000u32..10_000, severity(), message()).prop_map(move |(s, l, code, sev, m)| {
            let text = format!("{s}({l}) : {} C{code}: {m}", word(sev));
            (text, entry(Some(s), Some(l), None, Dialect::Nvidia, sev, format!("{m} (C{code})")))
        }),
        // glslang, AMD, ANGLE: `ERROR: 0:3: message`, or with a file name: `WARNING: file.glsl:3: message`.
        (0u32..10, 1u32..100_000, severity(), message()).prop_map(move |(s, l, sev, m)| {
            let text = format!("{}: {s}:{l}: {m}", word(sev).to_uppercase());
            (text, entry(Some(s), Some(l), None, Dialect::Glslang, sev, m))
        }),
        ("[a-z]{1,8}", 1u32..100_000, severity(), message()).prop_map(move |(f, l, sev, m)| {
            let text = format!("{}: {f}.glsl:{l}: {m}", word(sev).to_uppercase());
            (text, entry(None, Some(l), None, Dialect::Glslang, sev, m))
        }),
        // A link error, no location: `error: message`.
        (severity(), message()).prop_map(move |(sev, m)| {
            (format!("{}: {m}", word(sev)), entry(None, None, None, Dialect::Plain, sev, m))
        }),
    ]
}

/// What comes before a driver line: nothing, an NVIDIA section header (the stage it sets, `None` for `Link info`),
/// or a line continuing the previous message.
#[derive(Clone, Debug)]
enum Before {
    Nothing,
    Header(&'static str, Option<Stage>),
    Continuation(String),
}

fn before() -> impl Strategy<Value = Before> {
    prop_oneof![
        3 => Just(Before::Nothing),
        1 => prop::sample::select(vec![
            ("Vertex info", Some(Stage::Vertex)),
            ("Tessellation control info", Some(Stage::TessControl)),
            ("Tessellation evaluation info", Some(Stage::TessEvaluation)),
            ("Geometry info", Some(Stage::Geometry)),
            ("Fragment info", Some(Stage::Fragment)),
            ("Compute info", Some(Stage::Compute)),
            ("Link info", None),
        ])
        .prop_map(|(h, s)| Before::Header(h, s)),
        1 => "\\(at token \"[a-z]{1,6}\"\\)".prop_map(Before::Continuation),
    ]
}

proptest! {
    #[test]
    fn preparing_never_panics_and_origins_lie_inside_their_files(
        main in shaderish(), a in shaderish(), b in shaderish(), log in logish(),
    ) {
        let mut load = |path: &Path| match path.file_name().and_then(|n| n.to_str()) {
            Some("a.glsl") => Ok(a.clone()),
            Some("b.glsl") => Ok(b.clone()),
            _ => Err("no such file".to_owned()),
        };
        let p = prepare(Path::new("dir/main.glsl"), &main, &mut load);
        for stage in &p.stages {
            prop_assert_eq!(stage.text.lines().count(), stage.origins.len());
            for origin in &stage.origins {
                if let Origin::File { file, line } = *origin {
                    prop_assert!(line >= 1 && line <= p.line_counts[file], "{:?} outside {}", origin, p.line_counts[file]);
                }
            }
        }
        for d in &p.diagnostics {
            let file = p.files.iter().position(|f| *f == d.file).expect("diagnostics name a prepared file");
            if let Some(line) = d.line {
                prop_assert!(line >= 1 && line <= p.line_counts[file].max(1));
            }
        }
        for stage in Stage::ALL.into_iter().map(Some).chain([None]) {
            for d in p.diagnostics_from_log(stage, &log) {
                let file = p.files.iter().position(|f| *f == d.file).expect("diagnostics name a prepared file");
                if let Some(line) = d.line {
                    prop_assert!(line >= 1 && line <= p.line_counts[file], "line {} of {}", line, d.file.display());
                }
            }
        }
    }

    #[test]
    fn a_log_of_driver_lines_parses_into_exactly_its_entries(
        lines in proptest::collection::vec((before(), driver_line()), 1..12),
        link_stage in prop::option::of(prop::sample::select(Stage::ALL.to_vec())),
    ) {
        let mut log = Vec::new();
        let mut expected: Vec<LogEntry> = Vec::new();
        let mut section = None;
        for (i, (before, (text, mut entry))) in lines.into_iter().enumerate() {
            match before {
                Before::Nothing => {}
                Before::Header(header, stage) => {
                    log.push(header.to_owned());
                    log.push("-".repeat(header.len()));
                    section = stage;
                }
                Before::Continuation(more) => {
                    log.push(format!("  {more}"));
                    match expected.last_mut() {
                        Some(previous) => previous.message = format!("{}\n{more}", previous.message),
                        None => expected.push(LogEntry {
                            source: None,
                            line: None,
                            column: None,
                            dialect: Dialect::Plain,
                            severity: Severity::Note,
                            stage: section,
                            message: more,
                        }),
                    }
                }
            }
            // Link errors that name a stage (Mesa's `fragment shader input ...`) are about it, outside a section.
            let text = match (entry.dialect, link_stage) {
                (Dialect::Plain, Some(stage)) if i % 2 == 0 => {
                    let name = format!("{stage:?}").replace("Tess", "tessellation ").to_lowercase();
                    entry.message = format!("{name} shader input {}", entry.message);
                    entry.stage = Some(stage);
                    text.replacen(": ", &format!(": {name} shader input "), 1)
                }
                _ => text,
            };
            entry.stage = section.or(entry.stage);
            log.push(text);
            expected.push(entry);
        }
        let log = log.join("\n");
        prop_assert_eq!(parse_log(&log), expected, "{}", log);
    }

    #[test]
    fn the_log_parser_never_panics(log in ".{0,400}") {
        for entry in parse_log(&log) {
            prop_assert!(entry.line.is_none_or(|l| log.contains(&l.to_string())));
        }
    }
}
