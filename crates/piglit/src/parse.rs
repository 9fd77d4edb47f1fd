//! The `.shader_test` format: `[section]` headers, each followed by its lines. Shader sections become stages of
//! one allsource program; `[require]`, `[vertex data]` and `[test]` are kept as lines with their line numbers.

use std::path::{Path, PathBuf};

use allsource_shader::Stage;

/// One shader section: its stage, its text, and the file line its text starts on (1-based).
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub stage: Stage,
    pub text: String,
    pub first_line: usize,
}

/// A parsed `.shader_test` file.
#[derive(Clone, Debug, Default)]
pub struct ShaderTest {
    pub path: PathBuf,
    pub require: Vec<(usize, String)>,
    pub sections: Vec<Section>,
    /// `[vertex shader passthrough]`: shader_runner's own pass-through vertex stage.
    pub passthrough: bool,
    pub vertex_data: Vec<(usize, String)>,
    pub test: Vec<(usize, String)>,
    /// Sections this runner does not handle (`[vertex program]`, `[shader include]`, ...): the test is skipped.
    pub unsupported: Vec<String>,
}

fn stage_of(name: &str) -> Option<Stage> {
    Some(match name {
        "vertex shader" => Stage::Vertex,
        "tessellation control shader" => Stage::TessControl,
        "tessellation evaluation shader" => Stage::TessEvaluation,
        "geometry shader" => Stage::Geometry,
        "fragment shader" => Stage::Fragment,
        "compute shader" => Stage::Compute,
        _ => return None,
    })
}

enum In {
    Nothing,
    Require,
    Shader(usize),
    VertexData,
    Test,
    Ignored,
}

impl ShaderTest {
    pub fn read(path: &Path) -> Result<ShaderTest, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        Ok(ShaderTest::parse(path, &text))
    }

    pub fn parse(path: &Path, text: &str) -> ShaderTest {
        let mut test = ShaderTest { path: path.to_path_buf(), ..ShaderTest::default() };
        let mut state = In::Nothing;
        for (i, line) in text.lines().enumerate() {
            let number = i + 1;
            let trimmed = line.trim();
            if is_header(trimmed) {
                let name = trimmed[1..trimmed.len() - 1].trim();
                state = match name {
                    "require" => In::Require,
                    "test" => In::Test,
                    "vertex data" => In::VertexData,
                    "vertex shader passthrough" => {
                        test.passthrough = true;
                        In::Ignored
                    }
                    _ => match stage_of(name) {
                        Some(stage) => {
                            test.sections.push(Section { stage, text: String::new(), first_line: number + 1 });
                            In::Shader(test.sections.len() - 1)
                        }
                        None => {
                            test.unsupported.push(format!("[{name}]"));
                            In::Ignored
                        }
                    },
                };
                continue;
            }
            match state {
                In::Shader(n) => {
                    test.sections[n].text.push_str(line);
                    test.sections[n].text.push('\n');
                }
                In::Require | In::Test | In::VertexData => {
                    // `#` starts a comment in these sections, at the start of a line or after a value; blank lines
                    // carry nothing.
                    let content = trimmed.split('#').next().unwrap_or("").trim();
                    if content.is_empty() {
                        continue;
                    }
                    let list = match state {
                        In::Require => &mut test.require,
                        In::Test => &mut test.test,
                        _ => &mut test.vertex_data,
                    };
                    list.push((number, content.to_owned()));
                }
                In::Nothing | In::Ignored => {}
            }
        }
        test
    }
}

/// A section header: `[name]` alone on its line, with a known shape (shader text may hold `[` lines of its own,
/// such as array declarations, but never a line that is only a bracketed section name).
fn is_header(line: &str) -> bool {
    line.len() > 2
        && line.starts_with('[')
        && line.ends_with(']')
        && line[1..line.len() - 1].chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '_')
        && line[1..line.len() - 1].chars().any(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_requirements_and_commands_with_their_lines() {
        let text = "# a comment\n[require]\nGLSL >= 1.50\nGL_ARB_compute_shader # needed\n\n[vertex shader]\n\
                    in vec4 piglit_vertex;\nvoid main() { gl_Position = piglit_vertex; }\n[fragment shader]\n\
                    out vec4 c;\nvoid main() { c = vec4(1); }\n[vertex data]\npiglit_vertex/float/2\n-1 -1\n\
                    [test]\nclear color 0 0 0 0\n# skipped\nclear\n[vertex program]\n!!ARBvp1.0\n";
        let t = ShaderTest::parse(Path::new("t.shader_test"), text);
        assert_eq!(t.require, [(3, "GLSL >= 1.50".to_owned()), (4, "GL_ARB_compute_shader".to_owned())]);
        assert_eq!(t.sections.len(), 2);
        assert_eq!((t.sections[0].stage, t.sections[0].first_line), (Stage::Vertex, 7));
        assert!(t.sections[1].text.starts_with("out vec4 c;"));
        assert_eq!(t.vertex_data, [(13, "piglit_vertex/float/2".to_owned()), (14, "-1 -1".to_owned())]);
        assert_eq!(t.test, [(16, "clear color 0 0 0 0".to_owned()), (18, "clear".to_owned())]);
        assert_eq!(t.unsupported, ["[vertex program]"]);
    }
}
