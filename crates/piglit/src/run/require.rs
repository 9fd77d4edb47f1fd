//! `[require]`: the GLSL and GL versions, extensions, limits and window size a test needs, checked against the
//! context; what allsource's contexts cannot give makes the test a skip.

use std::collections::HashSet;

use allsource_gpu::{Gl, glow};

use super::Outcome;
use super::words::{compare, parse_i64};
use crate::parse::ShaderTest;

/// shader_runner's window size.
const DEFAULT_SIZE: (u32, u32) = (250, 250);
/// The GLSL version of the contexts allsource makes (4.5 core).
const CONTEXT_GLSL: u32 = 450;
const CONTEXT_GL: u32 = 45;

/// The GL version piglit derives from a GLSL version (`required_gl_version_from_glsl_version`).
pub(super) fn gl_for_glsl(glsl: u32) -> u32 {
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

/// Whether `test` runs in a compatibility-profile context, as shader_runner makes one: `GL COMPAT` asked, or
/// versions below GL 3.1 (shader_runner asks for a core context only from there up).
pub(crate) fn needs_compatibility(test: &ShaderTest) -> bool {
    let (mut glsl, mut gl) = (0, 10);
    for (_, text) in &test.require {
        match text.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["GL", "COMPAT", ..] => return true,
            ["GLSL", ">=", v, ..] => glsl = version(v, 100).unwrap_or(0),
            ["GL", ">=", v, ..] | ["GL", "CORE", ">=", v, ..] => gl = version(v, 10).unwrap_or(10),
            _ => {}
        }
    }
    glsl != 0 && gl.max(gl_for_glsl(glsl)) < 31
}

/// What `[require]` asks, checked against the context.
pub(super) struct Required {
    pub glsl: u32,
    pub size: (u32, u32),
}

pub(super) fn version(text: &str, scale: u32) -> Option<u32> {
    let (major, minor) = text.split_once('.')?;
    Some(major.trim().parse::<u32>().ok()? * scale + minor.trim().parse::<u32>().ok()?)
}

/// Checks `[require]` against the context (`compatibility`: a compatibility-profile one; tests that need one are
/// skipped in a core context).
pub(super) fn requirements(
    test: &ShaderTest,
    gl: &Gl,
    extensions: &HashSet<String>,
    compatibility: bool,
) -> Result<Required, Outcome> {
    if needs_compatibility(test) && !compatibility {
        return Err(Outcome::Skip("needs a compatibility-profile context".into()));
    }
    let skip = |why: String| Err(Outcome::Skip(why));
    let mut required = Required { glsl: 0, size: DEFAULT_SIZE };
    for (line, text) in &test.require {
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            ["GLSL", "ES", ..] | ["GL", "ES", ..] => return skip(format!("line {line}: OpenGL ES ({text})")),
            ["GL", "COMPAT", ">=", v, ..] => {
                let gl_version = version(v, 10).ok_or_else(|| Outcome::Fail(format!("line {line}: bad `{text}`")))?;
                if gl_version > CONTEXT_GL {
                    return skip(format!("line {line}: needs GL {v}; the context has 4.5"));
                }
            }
            ["GLSL", ">=", v, ..] => {
                required.glsl = version(v, 100).ok_or_else(|| Outcome::Fail(format!("line {line}: bad `{text}`")))?;
                if required.glsl > CONTEXT_GLSL {
                    return skip(format!("line {line}: needs GLSL {v}; the context has 4.50"));
                }
            }
            ["GL", ">=", v, ..] | ["GL", "CORE", ">=", v, ..] => {
                let gl_version = version(v, 10).ok_or_else(|| Outcome::Fail(format!("line {line}: bad `{text}`")))?;
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
            // shader_runner limits its address space so that a compiler that runs out of memory fails the test
            // rather than the machine (glsl-fs-inline-explosion); every test here shares one process.
            ["rlimit", ..] => {
                return skip(format!(
                    "line {line}: limits the process's memory, and this runner runs every test in one"
                ));
            }
            ["depthbuffer", ..] => {}
            ["SSO", "ENABLED", ..] => {
                return skip(format!(
                    "line {line}: separate shader objects: allsource links a file's stages into one program"
                ));
            }
            ["INT", name, op, value, ..] | [name, op @ (">=" | "<=" | ">" | "<" | "==" | "!="), value, ..]
                if name.starts_with("GL_MAX_") || words[0] == "INT" =>
            {
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
    Ok(required)
}

/// The integer limits `[require]` sections of the listed suites compare against.
pub(super) fn limit_enum(name: &str) -> Option<u32> {
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_gl_version_of_a_glsl_version_as_piglit_derives_it() {
        assert_eq!(super::gl_for_glsl(150), 32);
        assert_eq!(super::gl_for_glsl(430), 43);
        assert_eq!(super::gl_for_glsl(110), 20);
    }
}
