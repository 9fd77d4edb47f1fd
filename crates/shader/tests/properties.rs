//! Property tests: the preprocessor and the log parser never panic on arbitrary input, and every line they report
//! lies inside the file it names.

use std::path::Path;

use allsource_shader::{Origin, Stage, parse_log, prepare};
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
    fn the_log_parser_never_panics(log in ".{0,400}") {
        for entry in parse_log(&log) {
            prop_assert!(entry.line.is_none_or(|l| log.contains(&l.to_string())));
        }
    }
}
