//! The program of a test: its shader sections as one allsource file (one `#pragma stage` section each) built by the
//! engine's pipeline (`allsource_shader::prepare`, `allsource_gpu::Program::build`, diagnostics mapped back to the
//! test's own lines), and its `[vertex data]`.

use allsource_gpu::{Attrib, AttribKind, Gl, Program, StageLog, VertexInput};
use allsource_shader::Stage;

use super::Outcome;
use super::words::{parse_f32, parse_i64};
use crate::parse::ShaderTest;

/// shader_runner's `[vertex shader passthrough]`: `in` from GLSL 1.30 on, `attribute` before.
const PASSTHROUGH: &str = "in vec4 piglit_vertex;\nvoid main() { gl_Position = piglit_vertex; }\n";
const PASSTHROUGH_BEFORE_130: &str = "attribute vec4 piglit_vertex;\nvoid main() { gl_Position = piglit_vertex; }\n";

/// A built program: the allsource file it was made from, and where each of its lines came from in the test.
pub(super) fn build(gl: &Gl, test: &ShaderTest, glsl: u32) -> Result<Result<Program, String>, Outcome> {
    let mut file = String::new();
    let mut origin: Vec<usize> = Vec::new();
    let mut push = |file: &mut String, line: &str, from: usize| {
        file.push_str(line);
        file.push('\n');
        origin.push(from);
    };
    let version = format!("#version {glsl}");
    let mut seen = Vec::new();
    let text = if glsl < 130 { PASSTHROUGH_BEFORE_130 } else { PASSTHROUGH };
    let passthrough = crate::parse::Section { stage: Stage::Vertex, text: text.into(), first_line: 0 };
    let sections = test.sections.iter().chain(test.passthrough.then_some(&passthrough));
    for section in sections {
        if seen.contains(&section.stage) {
            return Err(Outcome::Skip(format!(
                "several {} shaders linked together: allsource's one-file format has one section per stage",
                section.stage.name()
            )));
        }
        seen.push(section.stage);
        push(&mut file, &format!("#pragma stage {}", section.stage.name()), 0);
        // As shader_runner: a section without `#version` gets the version `[require]` names.
        if !section.text.contains("#version ") {
            push(&mut file, &version, 0);
        }
        for (k, line) in section.text.lines().enumerate() {
            let from = if section.first_line == 0 { 0 } else { section.first_line + k };
            push(&mut file, line, from);
        }
    }
    if seen.is_empty() {
        return Err(Outcome::Fail("the test has no shader".into()));
    }
    let prepared = allsource_shader::prepare(&test.path, &file, &mut |p| {
        Err(format!("{}: includes are not read by the piglit runner", p.display()))
    });
    let place = |d: &allsource_live::Diagnostic| {
        let line = d.line.and_then(|l| origin.get(l as usize - 1)).copied().filter(|&l| l > 0);
        let stage = d.stage.unwrap_or("link");
        match line {
            Some(l) => format!("line {l} ({stage}): {}", d.message),
            None => format!("{stage}: {}", d.message),
        }
    };
    if prepared.has_errors() {
        // What allsource refuses before any compiler runs (a compute stage beside other stages) is a program that
        // does not link: a test may expect exactly that.
        let errors: Vec<String> = prepared.diagnostics.iter().filter(|d| d.is_error()).map(place).collect();
        return Ok(Err(format!("allsource refused the shaders: {}", errors.join("; "))));
    }
    // piglit draws with the vertex stage the test gives (or none); allsource's built-in full-screen vertex stage
    // for fragment-only files does not apply.
    match Program::build(gl, &prepared.driver_stages(false)) {
        Ok((program, _)) => Ok(Ok(program)),
        Err(logs) => {
            let describe = |logs: &[StageLog]| {
                let mut text = Vec::new();
                for log in logs {
                    let found = prepared.diagnostics_from_log(log.stage, &log.log);
                    let errors: Vec<String> = found.iter().filter(|d| d.is_error()).map(place).collect();
                    if errors.is_empty() {
                        text.push(log.log.trim().replace('\n', " "));
                    } else {
                        text.extend(errors);
                    }
                }
                text.join("; ")
            };
            if logs.iter().any(|l| l.stage.is_none()) {
                // Every stage compiled and the link failed: the test may expect that.
                Ok(Err(describe(&logs)))
            } else {
                Err(Outcome::Fail(format!("a stage did not compile: {}", describe(&logs))))
            }
        }
    }
}

/// Interleaved `[vertex data]`: columns `name/type/count[/index]`, then rows of numbers.
pub(super) fn vertex_data(
    gl: &Gl,
    program: &Program,
    rows: &[(usize, String)],
) -> Result<(VertexInput, usize), String> {
    let Some(((_, header), rows)) = rows.split_first() else { return Err("[vertex data] is empty".into()) };
    let mut attribs = Vec::new();
    let mut kinds = Vec::new();
    let mut offset = 0;
    for column in header.split_whitespace() {
        let parts: Vec<&str> = column.split('/').collect();
        let (name, kind, count, index) = match parts.as_slice() {
            [name, kind, count] => (*name, *kind, *count, 0),
            [name, kind, count, index] => (*name, *kind, *count, index.parse::<u32>().map_err(|_| column.to_owned())?),
            _ => return Err(format!("vertex data column `{column}` not understood")),
        };
        let kind = match kind {
            "float" => AttribKind::Float,
            "int" => AttribKind::Int,
            "uint" => AttribKind::UInt,
            other => return Err(format!("vertex data type `{other}` not supported")),
        };
        let components: i32 = count.parse().map_err(|_| format!("vertex data column `{column}`"))?;
        let location = program
            .attrib_location(gl, name)
            .ok_or_else(|| format!("Unexpected vbo column name `{name}` (no active input of that name)"))?;
        attribs.push(Attrib { location: location + index, components, kind, offset });
        kinds.extend(std::iter::repeat_n(kind, components as usize));
        offset += components * 4;
    }
    let mut data = Vec::with_capacity(rows.len() * offset as usize);
    for (line, row) in rows {
        let words: Vec<&str> = row.split_whitespace().collect();
        if words.len() != kinds.len() {
            return Err(format!("line {line}: {} values for {} columns", words.len(), kinds.len()));
        }
        for (word, kind) in words.iter().zip(&kinds) {
            let bytes = match kind {
                AttribKind::Float => parse_f32(word).map(f32::to_ne_bytes),
                AttribKind::Int => parse_i64(word).map(|v| (v as i32).to_ne_bytes()),
                AttribKind::UInt => parse_i64(word).map(|v| (v as u32).to_ne_bytes()),
            };
            data.extend(bytes.ok_or_else(|| format!("line {line}: not a number: `{word}`"))?);
        }
    }
    let input = VertexInput::new(gl, &data, offset, &attribs).map_err(|e| e.to_string())?;
    Ok((input, rows.len()))
}
