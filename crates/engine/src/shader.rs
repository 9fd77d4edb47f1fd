//! A live shader file: the shader backend of the live core. It prepares a file with `allsource-shader`, builds it
//! with `allsource-gpu`, turns driver logs into diagnostics on the file's lines, keeps the last good program, and
//! carries the uniform values the user set over to every new program whose uniform still has the same name and
//! type.

use std::path::{Path, PathBuf};
use std::time::Instant;

use allsource_gpu::{Gl, GlslType, Program, Reflection, Scalar, UniformValue};
pub use allsource_live::read_source;
use allsource_live::{BuildOutput, Change, Diagnostic, Live, Report, Stamp, stamp};
use allsource_shader::{Channel, PassOptions, Prepared, Stage, prepare_pass};

/// How long a build waits for a full-screen program's first draw (one pixel): far longer than any compile.
const WARM_UP_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A linked program and what is known about it.
pub struct Linked {
    pub program: Program,
    pub reflection: Reflection,
    pub shadertoy: bool,
    pub builtin_vertex: bool,
    pub compute: bool,
    pub draw: allsource_shader::Draw,
    /// What Shadertoy's channels read (`#pragma channel`).
    pub channels: [Channel; 4],
    /// Every file the program was built from: the shader file first, then its includes.
    pub files: Vec<PathBuf>,
}

/// Prepares and builds `text` as the shader file `path` (a pass with `pass`'s options), reading includes from disk.
pub fn build(gl: &Gl, path: &Path, text: &str, pass: &PassOptions) -> (BuildOutput<Linked>, Vec<PathBuf>) {
    let started = Instant::now();
    let prepared = prepare_pass(path, text, pass, &mut |p: &Path| read_source(p));
    let files = prepared.files.clone();
    if prepared.has_errors() {
        let output = BuildOutput { artifact: None, diagnostics: prepared.diagnostics, took: started.elapsed() };
        return (output, files);
    }
    (link(gl, prepared, started), files)
}

fn link(gl: &Gl, prepared: Prepared, started: Instant) -> BuildOutput<Linked> {
    let result = Program::build(gl, &prepared.driver_stages(true));
    let logs = match &result {
        Ok((_, logs)) | Err(logs) => logs.clone(),
    };
    let mut diagnostics = prepared.diagnostics.clone();
    diagnostics.extend(prepared.diagnostics_from_logs(logs.iter().map(|l| (l.stage, l.log.as_str()))));
    match result {
        Ok((program, _)) => {
            let reflection = program.reflect(gl);
            // A full-screen program without side effects is drawn once now, so that a driver compiling at the first
            // draw does it in the build (its time is the build's) and not in the first frame (where it would count
            // as GPU time). One that writes storage, images or counters is not: the draw would write.
            let writes = !reflection.storage_blocks.is_empty()
                || reflection.uniforms.iter().any(|u| {
                    let ty = u.ty.name();
                    ty.contains("image") || ty.contains("atomic")
                });
            if prepared.shadertoy {
                // Each channel on its own unit, as every frame sets them: a 2D and a cube sampler both left on unit 0
                // make the warm-up draw an error.
                program.use_program(gl);
                for (unit, name) in allsource_shader::CHANNEL_NAMES.iter().enumerate() {
                    program.set_i32(gl, name, unit as i32);
                }
            }
            if prepared.builtin_vertex && !writes && !matches!(program.warm_up_fullscreen(gl, WARM_UP_LIMIT), Ok(true))
            {
                tracing::warn!(
                    "{}: the first draw did not finish within {} s",
                    prepared.files[0].display(),
                    WARM_UP_LIMIT.as_secs()
                );
            }
            let linked = Linked {
                program,
                reflection,
                shadertoy: prepared.shadertoy,
                builtin_vertex: prepared.builtin_vertex,
                compute: prepared.stage(Stage::Compute).is_some(),
                draw: prepared.draw,
                channels: prepared.channels.clone(),
                files: prepared.files.clone(),
            };
            BuildOutput { artifact: Some(linked), diagnostics, took: started.elapsed() }
        }
        Err(_) => {
            if !diagnostics.iter().any(Diagnostic::is_error) {
                // A driver that failed without saying where: keep its whole log as the message.
                let raw = allsource_gpu::StageLog::describe(&logs);
                diagnostics.push(Diagnostic::error(prepared.files[0].clone(), format!("the build failed: {raw}")));
            }
            BuildOutput { artifact: None, diagnostics, took: started.elapsed() }
        }
    }
}

/// Uniform values the user set: name, type, value.
type UserValues = Vec<(String, GlslType, UniformValue)>;

/// One shader file, live.
pub struct LiveShader {
    live: Live<Linked>,
    /// Stamps of the shader file and of everything its newest version included, when last read.
    watched: Vec<(PathBuf, Option<Stamp>)>,
    /// Uniform values the user set, re-applied to each new program where name and type still match.
    user_values: UserValues,
    /// The user's values as they were when each version was last live: undo, redo and revert bring a version back
    /// with its values.
    values_at: Vec<(u64, UserValues)>,
    read_error: Option<String>,
    /// What it shares with the other passes of a Shadertoy scene.
    pass: PassOptions,
}

impl LiveShader {
    pub fn new(path: PathBuf) -> LiveShader {
        LiveShader::pass(path, PassOptions::default())
    }

    /// A pass of a Shadertoy scene.
    pub fn pass(path: PathBuf, pass: PassOptions) -> LiveShader {
        LiveShader {
            pass,
            watched: vec![(path.clone(), None)],
            live: Live::new(path, allsource_live::DEFAULT_HISTORY),
            user_values: Vec::new(),
            values_at: Vec::new(),
            read_error: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.live.path
    }

    pub fn linked(&self) -> Option<&Linked> {
        self.live.artifact()
    }

    pub fn live_version(&self) -> Option<u64> {
        self.live.live().map(|v| v.number)
    }

    /// A frame was drawn with the live version: a later revert may come back to it.
    pub fn mark_ran(&mut self) {
        self.live.mark_ran();
    }

    pub fn history(&self) -> &Live<Linked> {
        &self.live
    }

    /// Versions from an earlier session, oldest first: undo reaches them (see [`Live::seed`]).
    pub fn seed(&mut self, texts: &[String]) {
        self.live.seed(texts.iter().map(String::as_str));
    }

    /// The scene's Common file changed: it appeared (`Some`) or went away. Builds the newest text again with it.
    pub fn set_common(&mut self, gl: &Gl, common: Option<PathBuf>) -> Report {
        self.pass.common = common;
        self.apply(gl, |live, build| live.rebuild(build))
    }

    /// Rebuilds when the file or anything it includes was written since the last look, if `gate` admits the file's
    /// text. Returns what happened.
    pub fn poll_files(&mut self, gl: &Gl, gate: allsource_live::Gate) -> Option<Report> {
        let changed: Vec<usize> =
            self.watched.iter().enumerate().filter(|(_, (path, seen))| stamp(path) != *seen).map(|(i, _)| i).collect();
        if changed.is_empty() {
            return None;
        }
        let main_changed = changed.contains(&0);
        for &i in &changed {
            self.watched[i].1 = stamp(&self.watched[i].0);
        }
        if main_changed {
            match read_source(self.path()) {
                Ok(text) => {
                    self.read_error = None;
                    gate(self.path(), &text).then(|| self.edit(gl, &text))
                }
                Err(message) => {
                    if self.read_error.as_deref() == Some(message.as_str()) {
                        return None;
                    }
                    self.read_error = Some(message.clone());
                    let message = format!("{message}; the last good version stays live");
                    Some(Report::without_build(&self.live, Diagnostic::error(self.path().to_path_buf(), message)))
                }
            }
        } else {
            Some(self.apply(gl, |live, build| live.rebuild(build)))
        }
    }

    /// Builds `text` (from the editor, or the file) as a new version.
    pub fn edit(&mut self, gl: &Gl, text: &str) -> Report {
        let text = text.to_owned();
        self.apply(gl, move |live, build| live.edit(&text, build))
    }

    /// The live version failed while running (its frames blew the GPU timeout): back to the version before it.
    pub fn revert(&mut self, gl: &Gl, diagnostic: Diagnostic) -> Report {
        let d = diagnostic.clone();
        let mut report = self.apply(gl, move |live, build| live.revert(vec![d], build));
        report.became_live = false;
        report.diagnostics = vec![diagnostic];
        report
    }

    pub fn undo(&mut self, gl: &Gl) -> Report {
        self.apply(gl, |live, build| live.undo(build))
    }

    pub fn redo(&mut self, gl: &Gl) -> Report {
        self.apply(gl, |live, build| live.redo(build))
    }

    /// Sets a uniform of the live program and remembers the value for later versions. Returns false (and
    /// remembers nothing) when the program has no such uniform or the value does not fit its type.
    pub fn set_uniform(&mut self, gl: &Gl, name: &str, value: UniformValue) -> bool {
        let Some(linked) = self.live.artifact() else { return false };
        let Some(uniform) = linked.reflection.uniform(name) else { return false };
        linked.program.use_program(gl);
        if !linked.program.set_uniform(gl, uniform, &value) {
            return false;
        }
        let ty = uniform.ty;
        self.user_values.retain(|(n, _, _)| n != name);
        self.user_values.push((name.to_owned(), ty, value));
        true
    }

    fn apply(
        &mut self,
        gl: &Gl,
        change: impl FnOnce(&mut Live<Linked>, &mut dyn FnMut(&str) -> BuildOutput<Linked>) -> Change<Linked>,
    ) -> Report {
        let path = self.path().to_path_buf();
        let pass = self.pass.clone();
        let mut files = None;
        let mut builder = |text: &str| {
            let (output, f) = build(gl, &path, text, &pass);
            files = Some(f);
            output
        };
        if let Some(v) = self.live_version() {
            self.values_at.retain(|(n, _)| *n != v);
            self.values_at.push((v, self.user_values.clone()));
        }
        let mut result = change(&mut self.live, &mut builder);
        if let Some(files) = files {
            self.watch(files);
        }
        if let Some(old) = result.replaced.take() {
            old.program.delete(gl);
        }
        if result.live {
            // A version that was live before comes back with its values; a new one keeps the current ones.
            let now = self.live_version();
            if let Some((_, values)) = self.values_at.iter().find(|(n, _)| Some(*n) == now) {
                self.user_values = values.clone();
            }
            self.restore_user_values(gl);
        }
        let live = &self.live;
        self.values_at.retain(|(n, _)| live.version(*n).is_some());
        Report::of(&self.live, &result)
    }

    /// Watches the shader file and exactly the files its newest build read (`files[0]` is the shader file).
    fn watch(&mut self, files: Vec<PathBuf>) {
        let old = std::mem::take(&mut self.watched);
        self.watched = files
            .into_iter()
            .map(|file| {
                let seen = old.iter().find(|(p, _)| *p == file).map_or_else(|| stamp(&file), |(_, s)| *s);
                (file, seen)
            })
            .collect();
    }

    fn restore_user_values(&self, gl: &Gl) {
        let Some(linked) = self.live.artifact() else { return };
        linked.program.use_program(gl);
        for (name, ty, value) in &self.user_values {
            if let Some(uniform) = linked.reflection.uniform(name).filter(|u| u.ty == *ty) {
                linked.program.set_uniform(gl, uniform, value);
            }
        }
    }

    /// The live program's uniforms the tweak bar can show (see `Renderer::tweaks`), leaving out `engine_set`.
    pub fn tweaks(&self, gl: &Gl, engine_set: &[&str]) -> Vec<allsource_editor::Tweak> {
        let Some(linked) = self.live.artifact() else { return Vec::new() };
        let mut out = Vec::new();
        for u in &linked.reflection.uniforms {
            let kind = match u.ty.scalar() {
                Some(Scalar::Float) => allsource_editor::Kind::Float,
                Some(Scalar::Int) => allsource_editor::Kind::Int,
                Some(Scalar::UInt) => allsource_editor::Kind::UInt,
                Some(Scalar::Bool) => allsource_editor::Kind::Bool,
                _ => continue,
            };
            let plain = u.block.is_none() && u.array_len == 1 && !u.ty.name().starts_with("mat");
            if !plain || u.ty.components() > 4 || engine_set.contains(&u.name.as_str()) || u.name.starts_with("gl_") {
                continue;
            }
            let value =
                linked.program.uniform_value(gl, u).map_or_else(|| vec![0.0; u.ty.components()], |v| v.to_f64s());
            out.push(allsource_editor::Tweak {
                source: self.path().to_path_buf(),
                name: u.name.clone(),
                kind,
                value,
                annotation: Default::default(),
            });
        }
        out
    }

    pub fn free(&mut self, gl: &Gl) {
        if let Some(linked) = self.live.take_artifact() {
            linked.program.delete(gl);
        }
    }
}
