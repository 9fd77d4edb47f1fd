//! Executes one `.shader_test` through allsource's shader pipeline: its shader sections become one allsource
//! file (`#pragma stage` sections) prepared by `allsource_shader::prepare` and built by `allsource_gpu::Program`,
//! exactly as the engine builds a live shader; then its `[test]` commands run against that program, drawing into
//! a render target of the test's size. The semantics follow piglit's shader_runner (draw rect, probes and their
//! tolerances, uniforms, storage buffers, atomic counters, patches, compute, link expectations). A command this
//! runner does not know makes the test a skip, never a pass.
//!
//! `require.rs` checks `[require]`, `build.rs` makes the program and the vertex data, `commands.rs` reads a
//! `[test]` line and hands it to its group (`draws.rs`, `probes.rs`, `buffers.rs`, `textures.rs`), `words.rs`
//! reads numbers and GL names as shader_runner does.

mod buffers;
mod build;
mod commands;
mod draws;
mod probes;
mod require;
mod textures;
mod words;

use std::collections::HashMap;

use allsource_gpu::{Buffer, FrameTarget, Gl, Image, Program, Target, Texture2D, VertexInput};

use crate::parse::ShaderTest;
use build::{build, vertex_data};
use require::requirements;

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

/// piglit's default probe tolerance per channel.
const DEFAULT_TOLERANCE: [f32; 4] = [0.01; 4];

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
    /// `clear depth`: what `clear` sets the depth to (1.0, the far plane, until a test says otherwise).
    clear_depth: f32,
    tolerance: [f32; 4],
    patch_vertices: i32,
    ssbos: HashMap<u32, Buffer>,
    /// A buffer for each uniform block of the program, bound at the block's index, as shader_runner makes them.
    ubos: Vec<Buffer>,
    /// `ubo array index N`: which element of an array of blocks the next block uniforms go to.
    ubo_array_index: u32,
    atomics: HashMap<u32, Buffer>,
    image: Option<Image>,
    failures: Vec<String>,
    /// Capabilities turned on, turned off again at the end (the context serves the next test).
    enabled: Vec<u32>,
    /// A compatibility-profile context: generic attribute 0 is also `gl_Vertex`.
    compatibility: bool,
    /// `newlist` ... `endlist`: the display list recorded (compatibility profile).
    display_list: Option<allsource_gpu::DisplayList>,
}

pub(crate) use require::needs_compatibility;

/// Runs `test` on the GL context current on this thread (`compatibility`: a compatibility-profile one), and leaves
/// the context as it found it (tests run one after another on one context).
pub fn run(gl: &Gl, test: &ShaderTest, compatibility: bool) -> Outcome {
    allsource_gpu::reset(gl, &[]);
    if compatibility {
        allsource_gpu::reset_fixed_function(gl);
    }
    if let Some(section) = test.unsupported.first() {
        return Outcome::Skip(format!("section {section} is not supported by the allsource runner"));
    }
    let extensions = allsource_gpu::extensions(gl);
    let required = match requirements(test, gl, extensions, compatibility) {
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
        clear_depth: 1.0,
        tolerance: DEFAULT_TOLERANCE,
        patch_vertices: 3,
        ssbos: HashMap::new(),
        ubos: Vec::new(),
        ubo_array_index: 0,
        atomics: HashMap::new(),
        image: None,
        failures: Vec::new(),
        enabled: Vec::new(),
        compatibility,
        display_list: None,
    };
    if let Err(outcome) = run.make_uniform_buffers() {
        run.free();
        return outcome;
    }
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
        if let Some(list) = self.display_list {
            list.delete();
        }
        allsource_gpu::reset(gl, &self.enabled);
        if let Some(p) = self.program {
            p.delete(gl);
        }
        if let Some((v, _)) = self.vertices {
            v.delete(gl);
        }
        self.empty.delete(gl);
        for b in self.ssbos.into_values().chain(self.atomics.into_values()).chain(self.ubos) {
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
