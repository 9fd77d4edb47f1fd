//! GLSL programs: compile, link, set the few uniforms the engine provides, draw full screen.

use glow::HasContext;

use crate::Gl;

/// The vertex stage used when a shader file has none: one triangle that covers the viewport, with `uv` in [0,1].
pub const FULLSCREEN_VERTEX: &str = "#version 450 core
out vec2 uv;
void main() {
    vec2 p = vec2(float((gl_VertexID & 1) << 2), float((gl_VertexID & 2) << 1));
    uv = p * 0.5;
    gl_Position = vec4(p - 1.0, 0.0, 1.0);
}
";

/// A linked program.
#[derive(Debug)]
pub struct Program {
    raw: glow::NativeProgram,
}

/// Why a program did not build: the stage that failed (`None` for the link) and the driver's info log.
#[derive(Debug, Clone)]
pub struct BuildFailure {
    pub stage: Option<u32>,
    pub log: String,
}

impl std::fmt::Display for BuildFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.stage {
            Some(glow::VERTEX_SHADER) => "vertex stage",
            Some(glow::FRAGMENT_SHADER) => "fragment stage",
            Some(_) => "shader stage",
            None => "link",
        };
        write!(f, "{what} failed:\n{}", self.log.trim_end())
    }
}

impl Program {
    /// Compiles each `(stage, source)` and links them. The driver's log comes back on failure; warnings on success
    /// are logged.
    pub fn build(gl: &Gl, stages: &[(u32, &str)]) -> Result<Program, String> {
        // SAFETY: plain object creation and queries on the current context; every object made here is deleted on
        // every path.
        unsafe {
            let program = gl.create_program()?;
            let mut shaders = Vec::with_capacity(stages.len());
            let mut failure = None;
            for &(stage, source) in stages {
                let shader = match gl.create_shader(stage) {
                    Ok(shader) => shader,
                    Err(e) => {
                        failure = Some(BuildFailure {
                            stage: Some(stage),
                            log: e,
                        });
                        break;
                    }
                };
                gl.shader_source(shader, source);
                gl.compile_shader(shader);
                shaders.push(shader);
                if !gl.get_shader_compile_status(shader) {
                    failure = Some(BuildFailure {
                        stage: Some(stage),
                        log: gl.get_shader_info_log(shader),
                    });
                    break;
                }
            }
            if failure.is_none() {
                for &shader in &shaders {
                    gl.attach_shader(program, shader);
                }
                gl.link_program(program);
                if !gl.get_program_link_status(program) {
                    failure = Some(BuildFailure {
                        stage: None,
                        log: gl.get_program_info_log(program),
                    });
                }
                for &shader in &shaders {
                    gl.detach_shader(program, shader);
                }
            }
            for shader in shaders {
                gl.delete_shader(shader);
            }
            match failure {
                Some(failure) => {
                    gl.delete_program(program);
                    Err(failure.to_string())
                }
                None => Ok(Program { raw: program }),
            }
        }
    }

    pub fn use_program(&self, gl: &Gl) {
        // SAFETY: the program is alive and linked.
        unsafe { gl.use_program(Some(self.raw)) }
    }

    /// Sets a float uniform if the program has it active. The program must be in use.
    pub fn set_f32(&self, gl: &Gl, name: &str, value: f32) {
        // SAFETY: a missing location is None and skipped; the program is in use.
        unsafe {
            if let Some(loc) = gl.get_uniform_location(self.raw, name) {
                gl.uniform_1_f32(Some(&loc), value);
            }
        }
    }

    /// Sets a vec2 uniform if the program has it active. The program must be in use.
    pub fn set_vec2(&self, gl: &Gl, name: &str, value: [f32; 2]) {
        // SAFETY: as `set_f32`.
        unsafe {
            if let Some(loc) = gl.get_uniform_location(self.raw, name) {
                gl.uniform_2_f32(Some(&loc), value[0], value[1]);
            }
        }
    }

    /// Sets an int (or sampler) uniform if the program has it active. The program must be in use.
    pub fn set_i32(&self, gl: &Gl, name: &str, value: i32) {
        // SAFETY: as `set_f32`.
        unsafe {
            if let Some(loc) = gl.get_uniform_location(self.raw, name) {
                gl.uniform_1_i32(Some(&loc), value);
            }
        }
    }

    pub fn delete(self, gl: &Gl) {
        // SAFETY: consuming `self` deletes the program once.
        unsafe { gl.delete_program(self.raw) }
    }
}

/// The empty vertex array that core profile needs to draw the full-screen triangle (its vertices come from
/// `gl_VertexID`).
#[derive(Debug)]
pub struct FullscreenTriangle {
    vao: glow::NativeVertexArray,
}

impl FullscreenTriangle {
    pub fn new(gl: &Gl) -> Result<FullscreenTriangle, crate::GpuError> {
        // SAFETY: plain object creation on the current context.
        let vao = unsafe { gl.create_vertex_array() }.map_err(crate::GpuError::Gl)?;
        Ok(FullscreenTriangle { vao })
    }

    /// Draws with the program in use into the bound framebuffer.
    pub fn draw(&self, gl: &Gl) {
        // SAFETY: the VAO is alive; three vertices with no attributes is always a valid draw.
        unsafe {
            gl.bind_vertex_array(Some(self.vao));
            gl.draw_arrays(glow::TRIANGLES, 0, 3);
            gl.bind_vertex_array(None);
        }
    }

    /// Binds `texture` to unit 0 for the next draw.
    pub fn bind_texture(&self, gl: &Gl, texture: glow::NativeTexture) {
        // SAFETY: plain state change; a deleted texture name would be a GL error, not UB.
        unsafe {
            gl.active_texture(glow::TEXTURE0);
            gl.bind_texture(glow::TEXTURE_2D, Some(texture));
        }
    }

    pub fn unbind_texture(&self, gl: &Gl) {
        // SAFETY: plain state change.
        unsafe { gl.bind_texture(glow::TEXTURE_2D, None) }
    }

    pub fn delete(self, gl: &Gl) {
        // SAFETY: consuming `self` deletes the VAO once.
        unsafe { gl.delete_vertex_array(self.vao) }
    }
}
