//! GLSL programs: compile every stage, link, report each stage's log, reflect what the program exposes, and set
//! uniforms by their reflected type.

use glow::HasContext;

use crate::Gl;
use crate::kinds::{Primitive, Stage, draw_mode, shader_type};

use crate::reflect::{Reflection, UniformInfo, UniformValue};

/// A linked program.
#[derive(Debug)]
pub struct Program {
    raw: glow::NativeProgram,
}

/// An info log of one stage's compile or (`stage` is `None`) of the link. Empty logs are not reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageLog {
    pub stage: Option<Stage>,
    pub log: String,
}

impl StageLog {
    /// A readable form of the log for places that show it raw.
    pub fn describe(logs: &[StageLog]) -> String {
        logs.iter()
            .map(|l| {
                let what = match l.stage {
                    Some(stage) => format!("{} stage", stage.name()),
                    None => "link".to_string(),
                };
                format!("{what}:\n{}", l.log.trim_end())
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Program {
    /// Compiles every `(stage, source)` (all of them, so that errors in several stages are reported together)
    /// and links them. Returns the program and the logs (warnings), or the logs that explain the failure.
    pub fn build(gl: &Gl, stages: &[(Stage, &str)]) -> Result<(Program, Vec<StageLog>), Vec<StageLog>> {
        // SAFETY: plain object creation and queries on the current context; every shader object made here is
        // deleted on every path, and the program on every failing one.
        unsafe {
            let program = gl.create_program().map_err(|e| vec![StageLog { stage: None, log: e }])?;
            let mut logs = Vec::new();
            let mut shaders = Vec::with_capacity(stages.len());
            let mut compiled = true;
            for &(stage, source) in stages {
                let shader = match gl.create_shader(shader_type(stage)) {
                    Ok(shader) => shader,
                    Err(e) => {
                        logs.push(StageLog { stage: Some(stage), log: e });
                        compiled = false;
                        continue;
                    }
                };
                gl.shader_source(shader, source);
                gl.compile_shader(shader);
                let ok = gl.get_shader_compile_status(shader);
                let log = gl.get_shader_info_log(shader);
                if !log.trim().is_empty() || !ok {
                    logs.push(StageLog { stage: Some(stage), log });
                }
                compiled &= ok;
                shaders.push(shader);
            }
            let mut linked = false;
            if compiled {
                for &shader in &shaders {
                    gl.attach_shader(program, shader);
                }
                gl.link_program(program);
                linked = gl.get_program_link_status(program);
                let log = gl.get_program_info_log(program);
                if !log.trim().is_empty() || !linked {
                    logs.push(StageLog { stage: None, log });
                }
                for &shader in &shaders {
                    gl.detach_shader(program, shader);
                }
            }
            for shader in shaders {
                gl.delete_shader(shader);
            }
            if linked {
                Ok((Program { raw: program }, logs))
            } else {
                gl.delete_program(program);
                Err(logs)
            }
        }
    }

    /// Like [`Program::build`], for callers that only need the program or a readable log.
    pub fn build_simple(gl: &Gl, stages: &[(Stage, &str)]) -> Result<Program, String> {
        Program::build(gl, stages).map(|(p, _)| p).map_err(|logs| StageLog::describe(&logs))
    }

    /// On Mesa's software rasterizers, which compile a program's machine code at its first draw: draws the program
    /// once over a 1x1 target with a full-screen triangle and waits up to `limit` for it, so that the compile
    /// happens now, in the build, rather than in the first frame, where it would count against the GPU timeout.
    /// Elsewhere it does nothing (a hardware driver compiles at link, and a shader that loops on its uniforms' zero
    /// values must not hang a build there; Mesa bounds every loop). Returns false when the draw did not finish
    /// within `limit`. Leaves no object behind; the caller binds its own target and program next. The caller skips
    /// programs with side effects (storage, images, atomic counters).
    pub fn warm_up_fullscreen(&self, gl: &Gl, limit: std::time::Duration) -> Result<bool, crate::GpuError> {
        // SAFETY: a plain query of the current context.
        let renderer = unsafe { gl.get_parameter_string(glow::RENDERER) };
        if !(renderer.contains("llvmpipe") || renderer.contains("softpipe")) {
            return Ok(true);
        }
        let target = crate::Target::new(gl, 1, 1)?;
        let triangle = FullscreenTriangle::new(gl)?;
        target.frame_target().bind(gl);
        self.use_program(gl);
        triangle.draw(gl);
        let fence = crate::Fence::insert(gl)?;
        let finished = fence.wait(gl, limit);
        fence.delete(gl);
        triangle.delete(gl);
        target.delete(gl);
        Ok(finished)
    }

    pub fn raw(&self) -> glow::NativeProgram {
        self.raw
    }

    pub fn use_program(&self, gl: &Gl) {
        // SAFETY: the program is alive and linked.
        unsafe { gl.use_program(Some(self.raw)) }
    }

    fn location(&self, gl: &Gl, name: &str) -> Option<glow::NativeUniformLocation> {
        // SAFETY: a query on a live program.
        unsafe { gl.get_uniform_location(self.raw, name) }
    }

    /// Sets a float uniform if the program has it active. The program must be in use.
    pub fn set_f32(&self, gl: &Gl, name: &str, value: f32) {
        if let Some(loc) = self.location(gl, name) {
            // SAFETY: the location belongs to the program in use.
            unsafe { gl.uniform_1_f32(Some(&loc), value) }
        }
    }

    /// Sets a float vector uniform (2 to 4 components) if the program has it active. The program must be in use.
    pub fn set_vec(&self, gl: &Gl, name: &str, value: &[f32]) {
        if let Some(loc) = self.location(gl, name) {
            // SAFETY: the location belongs to the program in use; the slice length picks the matching call.
            unsafe {
                match value.len() {
                    1 => gl.uniform_1_f32_slice(Some(&loc), value),
                    2 => gl.uniform_2_f32_slice(Some(&loc), value),
                    3 => gl.uniform_3_f32_slice(Some(&loc), value),
                    _ => gl.uniform_4_f32_slice(Some(&loc), &value[..4.min(value.len())]),
                }
            }
        }
    }

    /// Sets an int (or sampler) uniform if the program has it active. The program must be in use.
    pub fn set_i32(&self, gl: &Gl, name: &str, value: i32) {
        if let Some(loc) = self.location(gl, name) {
            // SAFETY: as `set_f32`.
            unsafe { gl.uniform_1_i32(Some(&loc), value) }
        }
    }

    /// Sets a float array uniform (`float name[N]` or `vecK name[N]` given as K*N floats). The program must be in use.
    pub fn set_f32_array(&self, gl: &Gl, name: &str, components: usize, values: &[f32]) {
        if let Some(loc) = self.location(gl, name) {
            // SAFETY: the location belongs to the program in use; GL reads values.len() / components elements.
            unsafe {
                match components {
                    1 => gl.uniform_1_f32_slice(Some(&loc), values),
                    2 => gl.uniform_2_f32_slice(Some(&loc), values),
                    3 => gl.uniform_3_f32_slice(Some(&loc), values),
                    _ => gl.uniform_4_f32_slice(Some(&loc), values),
                }
            }
        }
    }

    /// What the program exposes: active uniforms, uniform and storage blocks, transform-feedback varyings.
    pub fn reflect(&self, gl: &Gl) -> Reflection {
        crate::reflect::reflect(gl, self.raw)
    }

    /// Sets `uniform` to `value` when their types agree. The program must be in use. Returns whether it was set.
    pub fn set_uniform(&self, gl: &Gl, uniform: &UniformInfo, value: &UniformValue) -> bool {
        crate::reflect::set_uniform(gl, self.raw, uniform, value)
    }

    /// The current value of a uniform outside any block.
    pub fn uniform_value(&self, gl: &Gl, uniform: &UniformInfo) -> Option<UniformValue> {
        crate::reflect::uniform_value(gl, self.raw, uniform)
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
        self.draw_arrays(gl, Primitive::Triangles, 3, 1);
    }

    /// Draws `count` vertices (`instances` times) of `mode` with no vertex attributes: the program in use makes its
    /// geometry from `gl_VertexID` and `gl_InstanceID`.
    pub fn draw_arrays(&self, gl: &Gl, mode: Primitive, count: i32, instances: i32) {
        self.draw_arrays_from(gl, mode, 0, count, instances);
    }

    /// As [`FullscreenTriangle::draw_arrays`], starting at vertex `first`.
    pub fn draw_arrays_from(&self, gl: &Gl, mode: Primitive, first: i32, count: i32, instances: i32) {
        // SAFETY: the VAO is alive; attribute-less draws read no buffers, so any count is memory-safe.
        unsafe {
            gl.bind_vertex_array(Some(self.vao));
            gl.draw_arrays_instanced(draw_mode(mode), first, count, instances);
            gl.bind_vertex_array(None);
        }
    }

    /// Binds the empty vertex array (for indirect draws issued by the caller).
    pub fn bind(&self, gl: &Gl) {
        // SAFETY: the VAO is alive.
        unsafe { gl.bind_vertex_array(Some(self.vao)) }
    }

    /// Binds `texture` to texture unit `unit` for the next draw.
    pub fn bind_texture(&self, gl: &Gl, texture: glow::NativeTexture) {
        bind_texture(gl, 0, Some(texture));
    }

    pub fn unbind_texture(&self, gl: &Gl) {
        bind_texture(gl, 0, None);
    }

    pub fn delete(self, gl: &Gl) {
        // SAFETY: consuming `self` deletes the VAO once.
        unsafe { gl.delete_vertex_array(self.vao) }
    }
}

/// Binds a 2D texture (or none) to a texture unit.
pub fn bind_texture(gl: &Gl, unit: u32, texture: Option<glow::NativeTexture>) {
    bind_to_unit(gl, unit, glow::TEXTURE_2D, texture);
}

/// Binds a texture (or none) of GL texture target `target` to a texture unit, leaving unit 0 active.
pub(crate) fn bind_to_unit(gl: &Gl, unit: u32, target: u32, texture: Option<glow::NativeTexture>) {
    // SAFETY: plain state changes; a deleted texture name is a GL error, not undefined behaviour.
    unsafe {
        gl.active_texture(glow::TEXTURE0 + unit);
        gl.bind_texture(target, texture);
        gl.active_texture(glow::TEXTURE0);
    }
}
