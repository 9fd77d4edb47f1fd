//! Executes one `.shader_test` through allsource's shader pipeline: its shader sections become one allsource
//! file (`#pragma stage` sections) prepared by `allsource_shader::prepare` and built by `allsource_gpu::Program`,
//! exactly as the engine builds a live shader; then its `[test]` commands run against that program, drawing into
//! a render target of the test's size. The semantics follow piglit's shader_runner (draw rect, probes and their
//! tolerances, uniforms, storage buffers, atomic counters, patches, compute, link expectations). A command this
//! runner does not know makes the test a skip, never a pass.

use std::collections::{HashMap, HashSet};

use allsource_gpu::{
    Attrib, AttribKind, Buffer, FrameTarget, Gl, Image, Program, StageLog, Target, Texture2D, UniformShape,
    UniformValue, VertexInput, glow,
};
use allsource_shader::Stage;

use crate::parse::ShaderTest;

/// What a test came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

impl Outcome {
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail(_) => "fail",
            Outcome::Skip(_) => "skip",
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Outcome::Pass => "",
            Outcome::Fail(r) | Outcome::Skip(r) => r,
        }
    }
}

/// shader_runner's window size.
const DEFAULT_SIZE: (u32, u32) = (250, 250);
/// piglit's default probe tolerance per channel.
const DEFAULT_TOLERANCE: [f32; 4] = [0.01; 4];
/// The GLSL version of the contexts allsource makes (4.5 core).
const CONTEXT_GLSL: u32 = 450;
const CONTEXT_GL: u32 = 45;

const PASSTHROUGH: &str = "in vec4 piglit_vertex;\nvoid main() { gl_Position = piglit_vertex; }\n";

/// The GL version piglit derives from a GLSL version (`required_gl_version_from_glsl_version`).
fn gl_for_glsl(glsl: u32) -> u32 {
    match glsl {
        110 => 20,
        120 | 130 => 21,
        140 => 31,
        150 => 32,
        330 => 33,
        400..=460 => glsl / 10,
        _ => 0,
    }
}

/// What `[require]` asks, checked against the context.
struct Required {
    glsl: u32,
    size: (u32, u32),
}

fn version(text: &str, scale: u32) -> Option<u32> {
    let (major, minor) = text.split_once('.')?;
    Some(major.trim().parse::<u32>().ok()? * scale + minor.trim().parse::<u32>().ok()?)
}

fn requirements(test: &ShaderTest, gl: &Gl, extensions: &HashSet<String>) -> Result<Required, Outcome> {
    let skip = |why: String| Err(Outcome::Skip(why));
    let mut required = Required { glsl: 0, size: DEFAULT_SIZE };
    let mut gl_version = 10;
    for (line, text) in &test.require {
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            ["GLSL", "ES", ..] | ["GL", "ES", ..] => return skip(format!("line {line}: OpenGL ES ({text})")),
            ["GL", "COMPAT", ..] => return skip(format!("line {line}: needs a compatibility profile ({text})")),
            ["GLSL", ">=", v, ..] => {
                required.glsl = version(v, 100).ok_or_else(|| Outcome::Fail(format!("line {line}: bad `{text}`")))?;
                if required.glsl > CONTEXT_GLSL {
                    return skip(format!("line {line}: needs GLSL {v}; the context has 4.50"));
                }
            }
            ["GL", ">=", v, ..] | ["GL", "CORE", ">=", v, ..] => {
                gl_version = version(v, 10).ok_or_else(|| Outcome::Fail(format!("line {line}: bad `{text}`")))?;
                if gl_version > CONTEXT_GL {
                    return skip(format!("line {line}: needs GL {v}; the context has 4.5"));
                }
            }
            ["SIZE", w, h, ..] => {
                let parse = |s: &str| s.parse::<u32>().ok().filter(|&n| (1..=4096).contains(&n));
                match (parse(w), parse(h)) {
                    (Some(w), Some(h)) => required.size = (w, h),
                    _ => return Err(Outcome::Fail(format!("line {line}: bad `{text}`"))),
                }
            }
            [ext, ..] if ext.starts_with("GL_") && !ext.starts_with("GL_MAX_") => {
                if !extensions.contains(*ext) {
                    return skip(format!("line {line}: the context lacks {ext}"));
                }
            }
            [ext, ..] if ext.starts_with("!GL_") => {
                if extensions.contains(&ext[1..]) {
                    return skip(format!("line {line}: the test wants {} not to be there", &ext[1..]));
                }
            }
            ["rlimit", ..] | ["depthbuffer", ..] => {}
            ["SSO", "ENABLED", ..] => {
                return skip(format!(
                    "line {line}: separate shader objects: allsource links a file's stages into one program"
                ));
            }
            ["INT", name, op, value, ..]
            | [name @ ("GL_MAX_FRAGMENT_UNIFORM_COMPONENTS" | "GL_MAX_VERTEX_UNIFORM_COMPONENTS"), op, value, ..] => {
                let Some(pname) = limit_enum(name) else {
                    return skip(format!("line {line}: cannot check {name}"));
                };
                let have = allsource_gpu::get_integer(gl, pname)
                    .ok_or_else(|| Outcome::Skip(format!("line {line}: the context does not know {name}")))?;
                let want = parse_i64(value).ok_or_else(|| Outcome::Fail(format!("line {line}: bad `{text}`")))?;
                if !compare(op, want as f64, have as f64)? {
                    return skip(format!("line {line}: needs {name} {op} {want}; the context has {have}"));
                }
            }
            _ => return skip(format!("line {line}: requirement not supported: `{text}`")),
        }
    }
    if required.glsl == 0 {
        return Err(Outcome::Fail("GLSL version requirement missing".into()));
    }
    // shader_runner asks for a core context only from GL 3.1 up; below that the test runs in a compatibility
    // context, which allsource does not make.
    if gl_version.max(gl_for_glsl(required.glsl)) < 31 {
        return skip(format!(
            "needs a compatibility-profile context (GLSL {}.{:02}); allsource's contexts are 4.5 core",
            required.glsl / 100,
            required.glsl % 100
        ));
    }
    Ok(required)
}

/// The integer limits `[require]` sections of the listed suites compare against.
fn limit_enum(name: &str) -> Option<u32> {
    Some(match name {
        "GL_MAX_FRAGMENT_UNIFORM_COMPONENTS" => glow::MAX_FRAGMENT_UNIFORM_COMPONENTS,
        "GL_MAX_VERTEX_UNIFORM_COMPONENTS" => glow::MAX_VERTEX_UNIFORM_COMPONENTS,
        "GL_MAX_VERTEX_OUTPUT_COMPONENTS" => glow::MAX_VERTEX_OUTPUT_COMPONENTS,
        "GL_MAX_VARYING_COMPONENTS" => glow::MAX_VARYING_COMPONENTS,
        "GL_MAX_VERTEX_ATTRIBS" => glow::MAX_VERTEX_ATTRIBS,
        "GL_MAX_TESS_GEN_LEVEL" => glow::MAX_TESS_GEN_LEVEL,
        "GL_MAX_PATCH_VERTICES" => glow::MAX_PATCH_VERTICES,
        "GL_MAX_TESS_CONTROL_OUTPUT_COMPONENTS" => glow::MAX_TESS_CONTROL_OUTPUT_COMPONENTS,
        "GL_MAX_TESS_CONTROL_TOTAL_OUTPUT_COMPONENTS" => glow::MAX_TESS_CONTROL_TOTAL_OUTPUT_COMPONENTS,
        "GL_MAX_TESS_PATCH_COMPONENTS" => glow::MAX_TESS_PATCH_COMPONENTS,
        "GL_MAX_TESS_EVALUATION_OUTPUT_COMPONENTS" => glow::MAX_TESS_EVALUATION_OUTPUT_COMPONENTS,
        "GL_MAX_TESS_CONTROL_INPUT_COMPONENTS" => glow::MAX_TESS_CONTROL_INPUT_COMPONENTS,
        "GL_MAX_TESS_EVALUATION_INPUT_COMPONENTS" => glow::MAX_TESS_EVALUATION_INPUT_COMPONENTS,
        "GL_MAX_GEOMETRY_OUTPUT_VERTICES" => glow::MAX_GEOMETRY_OUTPUT_VERTICES,
        "GL_MAX_GEOMETRY_TOTAL_OUTPUT_COMPONENTS" => glow::MAX_GEOMETRY_TOTAL_OUTPUT_COMPONENTS,
        "GL_MAX_GEOMETRY_OUTPUT_COMPONENTS" => glow::MAX_GEOMETRY_OUTPUT_COMPONENTS,
        "GL_MAX_GEOMETRY_INPUT_COMPONENTS" => glow::MAX_GEOMETRY_INPUT_COMPONENTS,
        "GL_MAX_GEOMETRY_SHADER_INVOCATIONS" => glow::MAX_GEOMETRY_SHADER_INVOCATIONS,
        "GL_MAX_SHADER_STORAGE_BUFFER_BINDINGS" => glow::MAX_SHADER_STORAGE_BUFFER_BINDINGS,
        "GL_MAX_SHADER_STORAGE_BLOCK_SIZE" => glow::MAX_SHADER_STORAGE_BLOCK_SIZE,
        "GL_MAX_COMPUTE_SHARED_MEMORY_SIZE" => glow::MAX_COMPUTE_SHARED_MEMORY_SIZE,
        "GL_MAX_COMPUTE_WORK_GROUP_INVOCATIONS" => glow::MAX_COMPUTE_WORK_GROUP_INVOCATIONS,
        "GL_MAX_TRANSFORM_FEEDBACK_BUFFERS" => glow::MAX_TRANSFORM_FEEDBACK_BUFFERS,
        "GL_MAX_CLIP_DISTANCES" => glow::MAX_CLIP_DISTANCES,
        "GL_MAX_VERTEX_STREAMS" => glow::MAX_VERTEX_STREAMS,
        "GL_MAX_TESS_CONTROL_ATOMIC_COUNTER_BUFFERS" => glow::MAX_TESS_CONTROL_ATOMIC_COUNTER_BUFFERS,
        "GL_MAX_TESS_EVALUATION_ATOMIC_COUNTER_BUFFERS" => glow::MAX_TESS_EVALUATION_ATOMIC_COUNTER_BUFFERS,
        "GL_MAX_VERTEX_SHADER_STORAGE_BLOCKS" => glow::MAX_VERTEX_SHADER_STORAGE_BLOCKS,
        "GL_MAX_FRAGMENT_SHADER_STORAGE_BLOCKS" => glow::MAX_FRAGMENT_SHADER_STORAGE_BLOCKS,
        "GL_MAX_VERTEX_ATOMIC_COUNTERS" => glow::MAX_VERTEX_ATOMIC_COUNTERS,
        "GL_MAX_FRAGMENT_ATOMIC_COUNTERS" => glow::MAX_FRAGMENT_ATOMIC_COUNTERS,
        _ => return None,
    })
}

fn compare(op: &str, reference: f64, value: f64) -> Result<bool, Outcome> {
    Ok(match op {
        "==" => value == reference,
        "!=" => value != reference,
        "<" => value < reference,
        ">=" => value >= reference,
        ">" => value > reference,
        "<=" => value <= reference,
        _ => return Err(Outcome::Fail(format!("invalid comparison `{op}`"))),
    })
}

/// An integer as piglit's parse_ints reads it (strtol base 0: decimal, `0x` hex, leading `-`).
fn parse_i64(s: &str) -> Option<i64> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let value = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None if digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()) => {
            i64::from_str_radix(digits, 8).ok()?
        }
        None => digits.parse::<i64>().ok()?,
    };
    Some(if negative { -value } else { value })
}

/// A float as piglit's parse_floats reads it: `0x...` is the bit pattern of an IEEE single.
fn parse_f32(s: &str) -> Option<f32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok().map(f32::from_bits),
        None => s.parse::<f32>().ok().or_else(|| match s.to_ascii_lowercase().as_str() {
            "inf" | "+inf" | "infinity" => Some(f32::INFINITY),
            "-inf" | "-infinity" => Some(f32::NEG_INFINITY),
            "nan" => Some(f32::NAN),
            _ => None,
        }),
    }
}

/// The numbers of `text`, with `(`, `)` and `,` read as spaces (probe and rect arguments).
fn numbers(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',').filter(|w| !w.is_empty()).collect()
}

fn floats(text: &str, n: usize) -> Result<Vec<f32>, String> {
    let words = numbers(text);
    if words.len() < n {
        return Err(format!("expected {n} numbers in `{text}`"));
    }
    words[..n].iter().map(|w| parse_f32(w).ok_or_else(|| format!("not a number: `{w}`"))).collect()
}

/// A built program: the allsource file it was made from, and where each of its lines came from in the test.
fn build(gl: &Gl, test: &ShaderTest, glsl: u32) -> Result<Result<Program, String>, Outcome> {
    let mut file = String::new();
    let mut origin: Vec<usize> = Vec::new();
    let mut push = |file: &mut String, line: &str, from: usize| {
        file.push_str(line);
        file.push('\n');
        origin.push(from);
    };
    let version = format!("#version {glsl}");
    let mut seen = Vec::new();
    let passthrough = crate::parse::Section { stage: Stage::Vertex, text: PASSTHROUGH.into(), first_line: 0 };
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
                    let found = prepared.diagnostics_from_driver(log.stage, &log.log);
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
fn vertex_data(gl: &Gl, program: &Program, rows: &[(usize, String)]) -> Result<(VertexInput, usize), String> {
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

/// The primitive modes `draw arrays` names.
fn mode(name: &str) -> Option<u32> {
    Some(match name {
        "GL_POINTS" => glow::POINTS,
        "GL_LINES" => glow::LINES,
        "GL_LINE_STRIP" => glow::LINE_STRIP,
        "GL_LINE_LOOP" => glow::LINE_LOOP,
        "GL_TRIANGLES" => glow::TRIANGLES,
        "GL_TRIANGLE_STRIP" => glow::TRIANGLE_STRIP,
        "GL_TRIANGLE_FAN" => glow::TRIANGLE_FAN,
        "GL_LINES_ADJACENCY" => glow::LINES_ADJACENCY,
        "GL_LINE_STRIP_ADJACENCY" => glow::LINE_STRIP_ADJACENCY,
        "GL_TRIANGLES_ADJACENCY" => glow::TRIANGLES_ADJACENCY,
        "GL_TRIANGLE_STRIP_ADJACENCY" => glow::TRIANGLE_STRIP_ADJACENCY,
        "GL_PATCHES" => glow::PATCHES,
        _ => return None,
    })
}

/// Capabilities `enable` / `disable` name (GL_CLIP_PLANEi is GL_CLIP_DISTANCEi in a core context).
fn capability(name: &str) -> Option<u32> {
    if let Some(n) = name.strip_prefix("GL_CLIP_PLANE").or_else(|| name.strip_prefix("GL_CLIP_DISTANCE")) {
        return n.parse::<u32>().ok().filter(|&n| n < 8).map(|n| glow::CLIP_DISTANCE0 + n);
    }
    Some(match name {
        "GL_PROGRAM_POINT_SIZE" => glow::PROGRAM_POINT_SIZE,
        "GL_DEPTH_TEST" => glow::DEPTH_TEST,
        "GL_CULL_FACE" => glow::CULL_FACE,
        "GL_BLEND" => glow::BLEND,
        "GL_RASTERIZER_DISCARD" => glow::RASTERIZER_DISCARD,
        "GL_DEPTH_CLAMP" => glow::DEPTH_CLAMP,
        "GL_PRIMITIVE_RESTART" => glow::PRIMITIVE_RESTART,
        _ => return None,
    })
}

/// Image and texture formats the listed suites name.
fn image_format(name: &str) -> Option<u32> {
    Some(match name {
        "GL_RGBA" => glow::RGBA,
        "GL_RGBA8" => glow::RGBA8,
        "GL_RGBA16" => glow::RGBA16,
        "GL_RGBA16F" => glow::RGBA16F,
        "GL_RGBA32F" => glow::RGBA32F,
        "GL_R32F" => glow::R32F,
        "GL_RG32F" => glow::RG32F,
        "GL_R8" => glow::R8,
        _ => return None,
    })
}

/// A uniform type word: its shape and scalar kind.
fn uniform_type(word: &str) -> Option<(UniformShape, AttribKind)> {
    let vector = |rest: &str| match rest {
        "" => Some(1),
        "2" | "3" | "4" => rest.parse().ok(),
        _ => None,
    };
    if let Some(rest) = word.strip_prefix("mat") {
        let (c, r) = match rest.split_once('x') {
            Some((c, r)) => (c.parse().ok()?, r.parse().ok()?),
            None => (rest.parse().ok()?, rest.parse().ok()?),
        };
        return ((2..=4).contains(&c) && (2..=4).contains(&r))
            .then_some((UniformShape::Matrix(c, r), AttribKind::Float));
    }
    let (kind, rest) = match word {
        "float" => (AttribKind::Float, ""),
        "int" => (AttribKind::Int, ""),
        "uint" => (AttribKind::UInt, ""),
        w if w.starts_with("vec") => (AttribKind::Float, &w[3..]),
        w if w.starts_with("ivec") => (AttribKind::Int, &w[4..]),
        w if w.starts_with("uvec") => (AttribKind::UInt, &w[4..]),
        _ => return None,
    };
    Some((UniformShape::Vector(vector(rest)?), kind))
}

struct Run<'a> {
    gl: &'a Gl,
    target: Target,
    /// Where draws, clears and probes go: the target, or a texture after `fb tex 2d`.
    frame: FrameTarget,
    textures: HashMap<u32, Texture2D>,
    last_texture: Option<u32>,
    program: Option<Program>,
    link_log: Option<String>,
    link_error_expected: bool,
    vertices: Option<(VertexInput, usize)>,
    /// A vertex array with no attributes, for draws whose program reads none.
    empty: VertexInput,
    clear_colour: [f32; 4],
    tolerance: [f32; 4],
    patch_vertices: i32,
    ssbos: HashMap<u32, Buffer>,
    atomics: HashMap<u32, Buffer>,
    image: Option<Image>,
    failures: Vec<String>,
    /// Capabilities turned on, turned off again at the end (the context serves the next test).
    enabled: Vec<u32>,
}

/// Runs `test` on the GL context current on this thread, and leaves the context as it found it (tests run one
/// after another on one context).
pub fn run(gl: &Gl, test: &ShaderTest) -> Outcome {
    allsource_gpu::reset(gl, &[]);
    if let Some(section) = test.unsupported.first() {
        return Outcome::Skip(format!("section {section} is not supported by the allsource runner"));
    }
    let extensions = allsource_gpu::extensions(gl);
    let required = match requirements(test, gl, extensions) {
        Ok(r) => r,
        Err(outcome) => return outcome,
    };
    let built = match build(gl, test, required.glsl) {
        Ok(built) => built,
        Err(outcome) => return outcome,
    };
    let (w, h) = required.size;
    let target = match Target::new(gl, w, h) {
        Ok(t) => t,
        Err(e) => return Outcome::Fail(format!("no render target: {e}")),
    };
    let empty = match VertexInput::new(gl, &[], 0, &[]) {
        Ok(v) => v,
        Err(e) => return Outcome::Fail(format!("no vertex array: {e}")),
    };
    let (program, link_log) = match built {
        Ok(p) => (Some(p), None),
        Err(log) => (None, Some(log)),
    };
    let mut run = Run {
        gl,
        frame: target.frame_target(),
        textures: HashMap::new(),
        last_texture: None,
        target,
        program,
        link_log,
        link_error_expected: false,
        vertices: None,
        empty,
        clear_colour: [0.0; 4],
        tolerance: DEFAULT_TOLERANCE,
        patch_vertices: 3,
        ssbos: HashMap::new(),
        atomics: HashMap::new(),
        image: None,
        failures: Vec::new(),
        enabled: Vec::new(),
    };
    let outcome = run.execute(test);
    run.free();
    outcome
}

impl Run<'_> {
    fn execute(&mut self, test: &ShaderTest) -> Outcome {
        let gl = self.gl;
        self.frame.bind(gl);
        allsource_gpu::patch_vertices(gl, 3);
        if let Some(program) = &self.program {
            program.use_program(gl);
            if !test.vertex_data.is_empty() {
                match vertex_data(gl, program, &test.vertex_data) {
                    Ok(v) => self.vertices = Some(v),
                    Err(e) => return Outcome::Fail(e),
                }
            }
        }
        for (line, command) in &test.test {
            match self.command(command) {
                Ok(()) => {}
                Err(Step::Fail(why)) => self.failures.push(format!("line {line}: {why}")),
                Err(Step::Unsupported) => {
                    return Outcome::Skip(format!(
                        "line {line}: command not supported by the allsource runner: `{command}`"
                    ));
                }
                Err(Step::Stop(outcome)) => return outcome,
            }
        }
        if self.program.is_none() && !self.link_error_expected {
            self.failures.push(format!("the program did not link: {}", self.link_log.clone().unwrap_or_default()));
        }
        match self.failures.first() {
            None => Outcome::Pass,
            Some(first) if self.failures.len() == 1 => Outcome::Fail(first.clone()),
            Some(first) => Outcome::Fail(format!("{first} (and {} more failures)", self.failures.len() - 1)),
        }
    }

    fn free(self) {
        let gl = self.gl;
        allsource_gpu::reset(gl, &self.enabled);
        if let Some(p) = self.program {
            p.delete(gl);
        }
        if let Some((v, _)) = self.vertices {
            v.delete(gl);
        }
        self.empty.delete(gl);
        for b in self.ssbos.into_values().chain(self.atomics.into_values()) {
            b.delete(gl);
        }
        for (unit, t) in self.textures {
            allsource_gpu::bind_texture(gl, unit, None);
            t.delete(gl);
        }
        self.target.delete(gl);
    }

    fn program(&self) -> Result<&Program, Step> {
        self.program.as_ref().ok_or_else(|| {
            Step::Fail(format!("the program did not link: {}", self.link_log.clone().unwrap_or_default()))
        })
    }

    /// Reads the frame back once per run of probes (a draw or clear makes it stale).
    fn image(&mut self) -> &Image {
        let (gl, frame) = (self.gl, &self.frame);
        self.image.get_or_insert_with(|| Image::read(gl, frame))
    }

    fn drew(&mut self) {
        self.image = None;
    }

    /// Pixel (x, y) from the bottom-left, as floats.
    fn pixel(&mut self, x: i64, y: i64) -> Result<[f32; 4], Step> {
        let image = self.image();
        let (w, h) = (image.width as i64, image.height as i64);
        if !(0..w).contains(&x) || !(0..h).contains(&y) {
            return Err(Step::Fail(format!("probe at ({x}, {y}) is outside the {w}x{h} frame")));
        }
        let p = image.pixel(x as u32, (h - 1 - y) as u32);
        Ok(p.map(|c| f32::from(c) / 255.0))
    }

    fn probe_pixel(&mut self, x: i64, y: i64, expected: &[f32]) -> Result<(), Step> {
        let got = self.pixel(x, y)?;
        let n = expected.len();
        if (0..n).any(|i| (got[i] - expected[i]).abs() > self.tolerance[i]) {
            return Err(Step::Fail(format!(
                "probe at ({x}, {y}): expected {}, observed {}",
                show(expected),
                show(&got[..n])
            )));
        }
        Ok(())
    }

    /// piglit's rectangle probe on an 8-bit target: expected * 255 truncated, tolerance * 255 rounded up, and a
    /// channel fails when it is off by the tolerance or more.
    fn probe_rect(&mut self, x: i64, y: i64, w: i64, h: i64, expected: &[f32]) -> Result<(), Step> {
        let n = expected.len();
        let want: Vec<i32> = expected.iter().map(|&e| (e * 255.0) as u8 as i32).collect();
        let tolerance: Vec<i32> = self.tolerance[..n].iter().map(|&t| (t * 255.0).ceil() as i32).collect();
        let image = self.image().clone();
        let (iw, ih) = (image.width as i64, image.height as i64);
        for j in y.max(0)..(y + h).min(ih) {
            for i in x.max(0)..(x + w).min(iw) {
                let p = image.pixel(i as u32, (ih - 1 - j) as u32);
                if (0..n).any(|c| (i32::from(p[c]) - want[c]).abs() >= tolerance[c]) {
                    return Err(Step::Fail(format!(
                        "probe at ({i}, {j}) in rect ({x}, {y}, {w}, {h}): expected {:?}, observed {:?}",
                        &want,
                        &p[..n]
                    )));
                }
            }
        }
        Ok(())
    }

    fn draw_rect(&mut self, rect: [f32; 4], patches: bool, instances: i32) -> Result<(), Step> {
        let gl = self.gl;
        let program = self.program()?;
        let [x, y, w, h] = rect;
        let verts: Vec<f32> = vec![x, y, 0.0, 1.0, x + w, y, 0.0, 1.0, x, y + h, 0.0, 1.0, x + w, y + h, 0.0, 1.0];
        let bytes: Vec<u8> = verts.iter().flat_map(|v| v.to_ne_bytes()).collect();
        let attribs: Vec<Attrib> = program
            .attrib_location(gl, "piglit_vertex")
            .map(|location| Attrib { location, components: 4, kind: AttribKind::Float, offset: 0 })
            .into_iter()
            .collect();
        let input = VertexInput::new(gl, &bytes, 16, &attribs).map_err(|e| Step::Fail(e.to_string()))?;
        self.frame.bind(gl);
        if patches {
            allsource_gpu::patch_vertices(gl, 4);
            input.draw(gl, glow::PATCHES, 0, 4, instances);
            allsource_gpu::patch_vertices(gl, self.patch_vertices);
        } else {
            input.draw(gl, glow::TRIANGLE_STRIP, 0, 4, instances);
        }
        input.delete(gl);
        self.drew();
        Ok(())
    }

    /// `ortho` coordinates are pixels; piglit maps them to [-1, 1] over the frame.
    fn rect_of(&self, args: &str, ortho: bool) -> Result<[f32; 4], Step> {
        let v = floats(args, 4).map_err(Step::Fail)?;
        let (w, h) = (self.target.width as f32, self.target.height as f32);
        Ok(if ortho {
            [-1.0 + 2.0 * v[0] / w, -1.0 + 2.0 * v[1] / h, 2.0 * v[2] / w, 2.0 * v[3] / h]
        } else {
            [v[0], v[1], v[2], v[3]]
        })
    }

    fn buffer<'b>(buffers: &'b HashMap<u32, Buffer>, index: u32, what: &str) -> Result<&'b Buffer, Step> {
        buffers.get(&index).ok_or_else(|| Step::Fail(format!("no {what} {index} was made")))
    }

    fn command(&mut self, line: &str) -> Result<(), Step> {
        let gl = self.gl;
        let words: Vec<&str> = line.split_whitespace().collect();
        let rest_after = |n: usize| -> &str {
            let mut rest = line.trim_start();
            for _ in 0..n {
                rest = rest.trim_start();
                rest = rest.find(char::is_whitespace).map_or("", |i| &rest[i..]);
            }
            rest.trim()
        };
        match words.as_slice() {
            ["clear", "color", ..] => {
                let c = floats(rest_after(2), 4).map_err(Step::Fail)?;
                self.clear_colour = [c[0], c[1], c[2], c[3]];
            }
            ["clear"] => {
                self.frame.clear(gl, self.clear_colour, None);
                self.drew();
            }
            ["draw", "rect", "ortho", "patch", ..] => {
                let r = self.rect_of(rest_after(4), true)?;
                self.draw_rect(r, true, 1)?;
            }
            ["draw", "rect", "ortho", ..] => {
                let r = self.rect_of(rest_after(3), true)?;
                self.draw_rect(r, false, 1)?;
            }
            ["draw", "rect", "patch", ..] => {
                let r = self.rect_of(rest_after(3), false)?;
                self.draw_rect(r, true, 1)?;
            }
            ["draw", "rect", "tex", ..] => return Err(Step::Unsupported),
            ["draw", "rect", ..] => {
                let r = self.rect_of(rest_after(2), false)?;
                self.draw_rect(r, false, 1)?;
            }
            ["draw", "instanced", "rect", "ortho", rest @ ..] | ["draw", "instanced", "rect", rest @ ..] => {
                let patch = rest.first() == Some(&"patch");
                let ortho = words[3] == "ortho";
                let skip = 3 + usize::from(ortho) + usize::from(patch);
                let args = rest_after(skip);
                let (count, rect) = args.split_once(char::is_whitespace).ok_or(Step::Unsupported)?;
                let count = parse_i64(count).ok_or_else(|| Step::Fail(format!("bad instance count in `{line}`")))?;
                let r = self.rect_of(rect, ortho)?;
                self.draw_rect(r, patch, count as i32)?;
            }
            ["draw", "arrays", "instanced", m, first, count, _] | ["draw", "arrays", m, first, count]
                if mode(m).is_some() =>
            {
                let instances = if words[2] == "instanced" { parse_i64(words[6]).unwrap_or(1) } else { 1 };
                let m = mode(m).ok_or(Step::Unsupported)?;
                let (first, count) = (
                    parse_i64(first).ok_or_else(|| Step::Fail(format!("bad first in `{line}`")))?,
                    parse_i64(count).ok_or_else(|| Step::Fail(format!("bad count in `{line}`")))?,
                );
                self.program()?;
                if let Some((_, rows)) = &self.vertices
                    && first + count > *rows as i64
                {
                    return Err(Step::Fail(format!("draw of {count} vertices from {first} past {rows} rows of data")));
                }
                self.frame.bind(gl);
                let input = self.vertices.as_ref().map_or(&self.empty, |(v, _)| v);
                input.draw(gl, m, first as i32, count as i32, instances as i32);
                self.drew();
            }
            ["patch", "parameter", "vertices", n] => {
                let n = parse_i64(n).ok_or_else(|| Step::Fail(format!("bad `{line}`")))?;
                self.patch_vertices = n as i32;
                allsource_gpu::patch_vertices(gl, n as i32);
            }
            ["patch", "parameter", "default", "level", "outer", ..] => {
                let v = floats(rest_after(5), 4).map_err(Step::Fail)?;
                if !allsource_gpu::patch_default_levels(Some([v[0], v[1], v[2], v[3]]), None) {
                    return Err(Step::Unsupported);
                }
            }
            ["patch", "parameter", "default", "level", "inner", ..] => {
                let v = floats(rest_after(5), 2).map_err(Step::Fail)?;
                if !allsource_gpu::patch_default_levels(None, Some([v[0], v[1]])) {
                    return Err(Step::Unsupported);
                }
            }
            ["uniform", ty, name, ..] => {
                let (shape, kind) = uniform_type(ty).ok_or(Step::Unsupported)?;
                if name.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err(Step::Unsupported);
                }
                let n = match shape {
                    UniformShape::Vector(n) => n,
                    UniformShape::Matrix(c, r) => c * r,
                };
                let args = &words[3..];
                if args.len() < n {
                    return Err(Step::Fail(format!("`{line}`: {} values for {n}", args.len())));
                }
                let bad = |w: &str| Step::Fail(format!("not a number: `{w}`"));
                let value = match kind {
                    AttribKind::Float => UniformValue::Float(
                        args[..n].iter().map(|w| parse_f32(w).ok_or_else(|| bad(w))).collect::<Result<_, _>>()?,
                    ),
                    AttribKind::Int => UniformValue::Int(
                        args[..n]
                            .iter()
                            .map(|w| parse_i64(w).map(|v| v as i32).ok_or_else(|| bad(w)))
                            .collect::<Result<_, _>>()?,
                    ),
                    AttribKind::UInt => UniformValue::UInt(
                        args[..n]
                            .iter()
                            .map(|w| parse_i64(w).map(|v| v as u32).ok_or_else(|| bad(w)))
                            .collect::<Result<_, _>>()?,
                    ),
                };
                let program = self.program()?;
                program.set_uniform_named(gl, name, shape, &value).map_err(Step::Fail)?;
            }
            ["probe", "rgba", ..] => {
                let v = floats(rest_after(2), 6).map_err(Step::Fail)?;
                self.probe_pixel(v[0] as i64, v[1] as i64, &v[2..6])?;
            }
            ["probe", "rgb", ..] => {
                let v = floats(rest_after(2), 5).map_err(Step::Fail)?;
                self.probe_pixel(v[0] as i64, v[1] as i64, &v[2..5])?;
            }
            ["probe", "rect", kind @ ("rgba" | "rgb"), ..] => {
                let n = if *kind == "rgba" { 4 } else { 3 };
                let words = numbers(rest_after(3));
                let ints: Vec<i64> = words.iter().take(4).filter_map(|w| parse_i64(w)).collect();
                let colour = floats(&words.get(4..).unwrap_or(&[]).join(" "), n).map_err(Step::Fail)?;
                if ints.len() != 4 {
                    return Err(Step::Fail(format!("bad rectangle in `{line}`")));
                }
                self.probe_rect(ints[0], ints[1], ints[2], ints[3], &colour)?;
            }
            ["relative", "probe", "rect", kind @ ("rgba" | "rgb"), ..] => {
                let n = if *kind == "rgba" { 4 } else { 3 };
                let v = floats(rest_after(4), 4 + n).map_err(Step::Fail)?;
                let (w, h) = (self.frame.width as f32, self.frame.height as f32);
                let rect = [(v[0] * w) as i64, (v[1] * h) as i64, (v[2] * w) as i64, (v[3] * h) as i64];
                self.probe_rect(rect[0], rect[1], rect[2], rect[3], &v[4..4 + n])?;
            }
            ["relative", "probe", kind @ ("rgba" | "rgb"), ..] => {
                let n = if *kind == "rgba" { 4 } else { 3 };
                let v = floats(rest_after(3), 2 + n).map_err(Step::Fail)?;
                let (w, h) = (self.frame.width as i64, self.frame.height as i64);
                let x = ((v[0] * w as f32) as i64).min(w - 1);
                let y = ((v[1] * h as f32) as i64).min(h - 1);
                self.probe_pixel(x, y, &v[2..2 + n])?;
            }
            ["probe", "all", kind @ ("rgba" | "rgb"), ..] => {
                let n = if *kind == "rgba" { 4 } else { 3 };
                let v = floats(rest_after(3), n).map_err(Step::Fail)?;
                let (w, h) = (self.frame.width as i64, self.frame.height as i64);
                self.probe_rect(0, 0, w, h, &v)?;
            }
            ["tolerance", ..] => {
                let v = floats(rest_after(1), 4).map_err(Step::Fail)?;
                self.tolerance = [v[0], v[1], v[2], v[3]];
            }
            ["ssbo", index, size] => {
                let (index, size) = (parse_u32(index, line)?, parse_u32(size, line)?);
                let buffer = Buffer::zeroed(gl, size as usize).map_err(|e| Step::Fail(e.to_string()))?;
                buffer.bind_base(gl, glow::SHADER_STORAGE_BUFFER, index);
                if let Some(old) = self.ssbos.insert(index, buffer) {
                    old.delete(gl);
                }
            }
            ["ssbo", index, "subdata", ty @ ("float" | "int" | "uint"), offset, value] => {
                let (index, offset) = (parse_u32(index, line)?, parse_u32(offset, line)?);
                let bytes = scalar_bytes(ty, value).ok_or_else(|| Step::Fail(format!("bad value in `{line}`")))?;
                Self::buffer(&self.ssbos, index, "ssbo")?.write(gl, offset as usize, &bytes);
            }
            ["probe", "ssbo", ty @ ("uint" | "int" | "float"), index, offset, op, value] => {
                let (index, offset) = (parse_u32(index, line)?, parse_u32(offset, line)? as usize);
                let bytes = Self::buffer(&self.ssbos, index, "ssbo")?.read(gl);
                let raw: [u8; 4] = bytes
                    .get(offset..offset + 4)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| Step::Fail(format!("offset {offset} past ssbo {index}")))?;
                check_scalar(ty, raw, op, value, &format!("ssbo {index} at {offset}"))?;
            }
            ["atomic", "counters", n] => {
                let n = parse_u32(n, line)?;
                self.make_atomics(0, n)?;
            }
            ["atomic", "counter", "buffer", index, n] => {
                let (index, n) = (parse_u32(index, line)?, parse_u32(n, line)?);
                self.make_atomics(index, n)?;
            }
            ["atomic", "counter", buffer, index, value] => {
                let (b, i, v) = (parse_u32(buffer, line)?, parse_u32(index, line)?, parse_u32(value, line)?);
                Self::buffer(&self.atomics, b, "atomic counter buffer")?.write(gl, i as usize * 4, &v.to_ne_bytes());
            }
            ["probe", "atomic", "counter", "buffer", buffer, index, op, value] => {
                let (b, i) = (parse_u32(buffer, line)?, parse_u32(index, line)?);
                self.probe_atomic(b, i, op, value)?;
            }
            ["probe", "atomic", "counter", index, op, value] => {
                let i = parse_u32(index, line)?;
                self.probe_atomic(0, i, op, value)?;
            }
            ["compute", x, y, z] => {
                self.program()?;
                let (x, y, z) = (parse_u32(x, line)?, parse_u32(y, line)?, parse_u32(z, line)?);
                allsource_gpu::barrier(gl, glow::ALL_BARRIER_BITS);
                allsource_gpu::dispatch(gl, x, y, z);
                allsource_gpu::barrier(gl, glow::ALL_BARRIER_BITS);
                self.drew();
            }
            ["texture", "rgbw", unit, ..] => {
                let unit = parse_u32(unit, line)?;
                let words = numbers(rest_after(3));
                let size: Vec<u32> = words.iter().take(2).filter_map(|w| w.parse().ok()).collect();
                let [w, h] = size[..] else { return Err(Step::Fail(format!("bad size in `{line}`"))) };
                let format = match words.get(2) {
                    Some(name) => image_format(name).ok_or(Step::Unsupported)?,
                    None => glow::RGBA,
                };
                let quadrant = |x: u32, y: u32| match (x < w / 2, y < h / 2) {
                    (true, true) => [1.0, 0.0, 0.0, 1.0],
                    (false, true) => [0.0, 1.0, 0.0, 1.0],
                    (true, false) => [0.0, 0.0, 1.0, 1.0],
                    (false, false) => [1.0, 1.0, 1.0, 1.0],
                };
                let data: Vec<f32> = (0..h).flat_map(|y| (0..w).flat_map(move |x| quadrant(x, y))).collect();
                self.texture(unit, Texture2D::new(gl, w, h, format, &data, None))?;
            }
            ["texture", "checkerboard", unit, level, ..] => {
                let unit = parse_u32(unit, line)?;
                if parse_u32(level, line)? != 0 {
                    return Err(Step::Unsupported);
                }
                let v = floats(rest_after(4), 10).map_err(Step::Fail)?;
                let (w, h) = (v[0] as u32, v[1] as u32);
                let (black, white) = ([v[2], v[3], v[4], v[5]], [v[6], v[7], v[8], v[9]]);
                let (sw, sh) = ((w / 2).max(1), (h / 2).max(1));
                let texel = |x: u32, y: u32| if ((x / sw) ^ (y / sh)) & 1 == 0 { black } else { white };
                let data: Vec<f32> = (0..h).flat_map(|y| (0..w).flat_map(move |x| texel(x, y))).collect();
                self.texture(unit, Texture2D::new(gl, w, h, glow::RGBA, &data, Some([1.0, 0.0, 0.0, 1.0])))?;
            }
            ["texparameter", "2D", "border_color", ..] => {
                let v = floats(rest_after(3), 4).map_err(Step::Fail)?;
                let unit = self.last_texture.ok_or_else(|| Step::Fail("texparameter with no texture".into()))?;
                let texture = Self::texture_at(&self.textures, unit)?;
                texture.border_colour(gl, [v[0], v[1], v[2], v[3]]);
                // Binding it on the active unit (0) above: bind each texture back to its own unit.
                allsource_gpu::bind_texture(gl, 0, None);
                for (u, t) in &self.textures {
                    t.bind_unit(gl, *u);
                }
            }
            ["texparameter", "2D", name, value] => {
                let pname = match *name {
                    "min" => glow::TEXTURE_MIN_FILTER,
                    "mag" => glow::TEXTURE_MAG_FILTER,
                    "wrap_s" => glow::TEXTURE_WRAP_S,
                    "wrap_t" => glow::TEXTURE_WRAP_T,
                    _ => return Err(Step::Unsupported),
                };
                let value = match *value {
                    "nearest" => glow::NEAREST,
                    "linear" => glow::LINEAR,
                    "clamp_to_edge" => glow::CLAMP_TO_EDGE,
                    "clamp_to_border" => glow::CLAMP_TO_BORDER,
                    "repeat" => glow::REPEAT,
                    "mirrored_repeat" => glow::MIRRORED_REPEAT,
                    _ => return Err(Step::Unsupported),
                };
                // As shader_runner: the texture bound last (texture commands make their unit the active one).
                let unit = self.last_texture.ok_or_else(|| Step::Fail("texparameter with no texture".into()))?;
                if !Self::texture_at(&self.textures, unit)?.parameter(gl, pname, value as i32) {
                    return Err(Step::Fail(format!("GL refused `{line}`")));
                }
            }
            ["image", "texture", unit, format] => {
                let unit = parse_u32(unit, line)?;
                let format = image_format(format).ok_or(Step::Unsupported)?;
                Self::texture_at(&self.textures, unit)?.bind_image(gl, unit, format);
            }
            ["fb", "tex", "2d", unit] => {
                let unit = parse_u32(unit, line)?;
                let texture = self.textures.get_mut(&unit).ok_or_else(|| Step::Fail(format!("no texture {unit}")))?;
                self.frame = texture.frame_target(gl).map_err(|e| Step::Fail(e.to_string()))?;
                self.frame.bind(gl);
                self.drew();
            }
            ["memory", "barrier", ..] => allsource_gpu::barrier(gl, glow::ALL_BARRIER_BITS),
            ["link", "error"] => {
                self.link_error_expected = true;
                if self.program.is_some() {
                    return Err(Step::Stop(Outcome::Fail("a link error was expected, but the program linked".into())));
                }
            }
            ["link", "success"] => {
                self.program()?;
            }
            [on @ ("enable" | "disable"), name] => {
                let cap = capability(name).ok_or(Step::Unsupported)?;
                if !allsource_gpu::set_capability(gl, cap, *on == "enable") {
                    return Err(Step::Fail(format!("GL refused `{line}`")));
                }
                self.enabled.push(cap);
            }
            _ => return Err(Step::Unsupported),
        }
        Ok(())
    }

    fn texture(&mut self, unit: u32, made: Result<Texture2D, allsource_gpu::GpuError>) -> Result<(), Step> {
        let texture = made.map_err(|e| Step::Fail(e.to_string()))?;
        texture.bind_unit(self.gl, unit);
        self.last_texture = Some(unit);
        if let Some(old) = self.textures.insert(unit, texture) {
            old.delete(self.gl);
        }
        Ok(())
    }

    fn texture_at(textures: &HashMap<u32, Texture2D>, unit: u32) -> Result<&Texture2D, Step> {
        textures.get(&unit).ok_or_else(|| Step::Fail(format!("no texture {unit} was made")))
    }

    fn make_atomics(&mut self, index: u32, n: u32) -> Result<(), Step> {
        let gl = self.gl;
        let buffer = Buffer::zeroed(gl, n as usize * 4).map_err(|e| Step::Fail(e.to_string()))?;
        buffer.bind_base(gl, glow::ATOMIC_COUNTER_BUFFER, index);
        if let Some(old) = self.atomics.insert(index, buffer) {
            old.delete(gl);
        }
        Ok(())
    }

    fn probe_atomic(&mut self, buffer: u32, index: u32, op: &str, value: &str) -> Result<(), Step> {
        let bytes = Self::buffer(&self.atomics, buffer, "atomic counter buffer")?.read(self.gl);
        let at = index as usize * 4;
        let raw: [u8; 4] = bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Step::Fail(format!("counter {index} past buffer {buffer}")))?;
        check_scalar("uint", raw, op, value, &format!("atomic counter {index} of buffer {buffer}"))
    }
}

fn parse_u32(word: &str, line: &str) -> Result<u32, Step> {
    parse_i64(word).and_then(|v| u32::try_from(v).ok()).ok_or_else(|| Step::Fail(format!("bad number in `{line}`")))
}

fn scalar_bytes(ty: &str, value: &str) -> Option<[u8; 4]> {
    match ty {
        "float" => parse_f32(value).map(f32::to_ne_bytes),
        "int" => parse_i64(value).map(|v| (v as i32).to_ne_bytes()),
        _ => parse_i64(value).map(|v| (v as u32).to_ne_bytes()),
    }
}

fn check_scalar(ty: &str, raw: [u8; 4], op: &str, value: &str, what: &str) -> Result<(), Step> {
    let bad = || Step::Fail(format!("bad reference value `{value}`"));
    let (reference, observed, shown) = match ty {
        "float" => {
            let (r, o) = (parse_f32(value).ok_or_else(bad)?, f32::from_ne_bytes(raw));
            (f64::from(r), f64::from(o), o.to_string())
        }
        "int" => {
            let (r, o) = (parse_i64(value).ok_or_else(bad)?, i32::from_ne_bytes(raw));
            (r as f64, f64::from(o), o.to_string())
        }
        _ => {
            let (r, o) = (parse_i64(value).ok_or_else(bad)?, u32::from_ne_bytes(raw));
            (r as f64, f64::from(o), o.to_string())
        }
    };
    let holds = compare(op, reference, observed).map_err(|o| Step::Fail(o.reason().to_owned()))?;
    if !holds {
        return Err(Step::Fail(format!("{what}: expected {op} {value}, observed {shown}")));
    }
    Ok(())
}

fn show(values: &[f32]) -> String {
    values.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>().join(" ")
}

/// What a command did, when it did not simply succeed.
enum Step {
    /// The check failed (the test goes on, as shader_runner's does, and fails at the end).
    Fail(String),
    /// The runner does not know this command: the test is skipped.
    Unsupported,
    /// The test ends here with this outcome.
    Stop(Outcome),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_piglit_reads_them() {
        assert_eq!(parse_i64("0x10"), Some(16));
        assert_eq!(parse_i64("-5"), Some(-5));
        assert_eq!(parse_i64("4294967295"), Some(4_294_967_295));
        assert_eq!(parse_f32("0x3f800000"), Some(1.0));
        assert_eq!(parse_f32("-2.5"), Some(-2.5));
        assert_eq!(numbers("(0, 0, 4, 4) (0.0, 1.0, 0.0, 1.0)").len(), 8);
        assert_eq!(uniform_type("mat2x3"), Some((UniformShape::Matrix(2, 3), AttribKind::Float)));
        assert_eq!(uniform_type("uvec4"), Some((UniformShape::Vector(4), AttribKind::UInt)));
        assert_eq!(uniform_type("dvec4"), None, "doubles are not handled: the test is skipped");
        assert_eq!(gl_for_glsl(150), 32);
    }
}
