//! What draws a scene (one shader file, or Lua modules) and the changes asked of its sources.

use std::path::Path;
use std::time::Duration;

use allsource_gpu::FrameTarget;
use allsource_gpu::{Gl, UniformValue};
use allsource_live::Report;

use crate::shader::LiveShader;

use super::shader_renderer::{PreviousFrame, engine_uniforms};
use super::{LuaRenderer, ShaderRenderer};

/// A change asked of a source.
pub(super) enum Change<'a> {
    Edit(&'a str),
    /// Typed text: what a shader builds at once, and a Lua module runs after the pause.
    Type(&'a str),
    Undo,
    Redo,
}

/// What draws a scene: one shader file, or Lua modules.
pub(super) enum Renderer {
    Shader(Box<ShaderRenderer>),
    Lua(Box<LuaRenderer>),
}

impl Renderer {
    /// Rebuilds sources whose files changed (those `gate` admits).
    pub(super) fn poll(&mut self, gl: &Gl, gate: allsource_live::Gate) -> Vec<Report> {
        match self {
            Renderer::Shader(r) => r.poll(gl, gate),
            Renderer::Lua(r) => r.poll(gate),
        }
    }

    pub(super) fn draw(
        &mut self,
        gl: &Gl,
        target: &FrameTarget,
        clock: &FrameClock,
        previous: Option<PreviousFrame>,
    ) -> Vec<Report> {
        match self {
            Renderer::Shader(r) => {
                r.draw(gl, target, clock, previous);
                Vec::new()
            }
            Renderer::Lua(r) => r.draw(gl, target, clock),
        }
    }

    /// A frame was drawn: the shaders' live versions ran (Lua modules are told by their host at the frame's end).
    pub(super) fn frame_ran(&mut self) {
        match self {
            Renderer::Shader(r) => r.frame_ran(),
            Renderer::Lua(r) => {
                r.graphics(|g| g.frame_ran());
            }
        }
    }

    /// The scene's generation, carried by its frames: for a shader scene the live version of its file; for a Lua
    /// scene the number of versions (of any of its modules or shaders) that went live.
    pub(super) fn generation(&self) -> Option<u64> {
        match self {
            Renderer::Shader(r) => r.generation(),
            Renderer::Lua(r) => Some(r.generation),
        }
    }

    pub(super) fn edit(&mut self, gl: &Gl, path: &Path, change: Change) -> Vec<Report> {
        match self {
            Renderer::Shader(r) => match r.shader_for(path) {
                Some(shader) => {
                    let report = change.apply(shader, gl);
                    r.count(vec![report])
                }
                None => Vec::new(),
            },
            Renderer::Lua(r) => r.edit(path, change),
        }
    }

    pub(super) fn set_uniform(&mut self, gl: &Gl, path: &Path, name: &str, value: UniformValue) -> bool {
        match self {
            Renderer::Shader(r) => r.shader_for(path).is_some_and(|s| s.set_uniform(gl, name, value)),
            Renderer::Lua(r) if path == Path::new(allsource_editor::LUA_VALUES) => {
                r.host.set_exposed(name, &value.to_f64s())
            }
            Renderer::Lua(r) => {
                r.graphics(|g| g.shader_mut(path).is_some_and(|s| s.set_uniform(gl, name, value))).unwrap_or(false)
            }
        }
    }

    /// A frame blew the GPU timeout: revert the shader that went live last.
    pub(super) fn gpu_timeout(&mut self, gl: &Gl, took: Duration, timeout: Duration) -> Vec<Report> {
        let message = |v: Option<u64>| {
            format!(
                "a frame took over {:.0} ms on the GPU, past the {:.0} ms GPU timeout: version {} reverted",
                took.as_secs_f64() * 1e3,
                timeout.as_secs_f64() * 1e3,
                v.map_or("?".into(), |v| v.to_string())
            )
        };
        match self {
            Renderer::Shader(r) => {
                let shader = r.last_live();
                let d = allsource_live::Diagnostic::error(shader.path().to_path_buf(), message(shader.live_version()));
                vec![shader.revert(gl, d)]
            }
            // Guest code gets no second chance: the error stops its preview (and its worker).
            Renderer::Lua(r) if r.guest => {
                let path = r.host.root().join("main.lua");
                let text = format!(
                    "a frame took over {:.0} ms on the GPU, past the {:.0} ms GPU timeout",
                    took.as_secs_f64() * 1e3,
                    timeout.as_secs_f64() * 1e3
                );
                vec![Report {
                    path: path.clone(),
                    version: None,
                    live_version: None,
                    became_live: false,
                    took,
                    diagnostics: vec![allsource_live::Diagnostic::error(path, text)],
                    live_text: None,
                    pending: false,
                    verdict: None,
                }]
            }
            Renderer::Lua(r) => r
                .graphics(|g| {
                    let path = g.last_changed_shader.clone()?;
                    let shader = g.shader_mut(&path)?;
                    let d = allsource_live::Diagnostic::error(path.clone(), message(shader.live_version()));
                    Some(shader.revert(gl, d))
                })
                .flatten()
                .into_iter()
                .collect(),
        }
    }

    /// The tweakable uniforms of the shader `path`: plain numbers and vectors of up to 4 (not matrices, arrays,
    /// samplers, block members, or the uniforms the engine sets itself), with their values now.
    pub(super) fn tweaks(&self, gl: &Gl, path: &Path) -> Option<Vec<allsource_editor::Tweak>> {
        match self {
            Renderer::Shader(r) => r.shader(path).map(|s| s.tweaks(gl, &engine_uniforms())),
            Renderer::Lua(r) => r.graphics(|g| g.shader_mut(path).map(|s| s.tweaks(gl, &[]))).flatten(),
        }
    }

    pub(super) fn eval(&mut self, code: &str) -> Result<String, String> {
        match self {
            Renderer::Shader(_) => Err("this scene has no Lua VM (it has no main.lua)".into()),
            Renderer::Lua(r) => r.host.eval(code),
        }
    }

    pub(super) fn unload(&mut self, module: &str) -> bool {
        match self {
            Renderer::Shader(_) => false,
            Renderer::Lua(r) => r.host.unload(module),
        }
    }

    pub(super) fn free(&mut self, gl: &Gl) {
        match self {
            Renderer::Shader(r) => r.free(gl),
            Renderer::Lua(r) => {
                r.graphics(|g| g.free_all());
            }
        }
    }
}

impl Change<'_> {
    pub(super) fn apply(&self, shader: &mut LiveShader, gl: &Gl) -> Report {
        match self {
            Change::Edit(text) | Change::Type(text) => shader.edit(gl, text),
            Change::Undo => shader.undo(gl),
            Change::Redo => shader.redo(gl),
        }
    }
}

/// The time a frame is drawn at, as shaders see it.
pub(super) struct FrameClock {
    pub(super) time: f64,
    pub(super) delta: f64,
    pub(super) index: u64,
    pub(super) fps: f64,
    pub(super) lockstep: bool,
}
