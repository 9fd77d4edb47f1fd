//! The one-file shader format: common text, `#pragma stage` sections, `#include`, Shadertoy mode, and the table
//! from every line handed to the driver back to the file and line it came from.

use std::path::{Path, PathBuf};

use allsource_live::{Diagnostic, Severity};

use crate::channels::{Channel, channel_pragma, read_channels};
use crate::preprocess::{Conditions, compiled_code};
use crate::shadertoy::{adapt, epilogue, is_shadertoy, prologue};
use crate::{DEFAULT_VERSION, Dialect, LogEntry, directive, is_version_line, original_column, parse_log};

/// The stages a shader file can hold, in pipeline order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Vertex,
    TessControl,
    TessEvaluation,
    Geometry,
    Fragment,
    Compute,
}

impl Stage {
    pub const ALL: [Stage; 6] =
        [Stage::Vertex, Stage::TessControl, Stage::TessEvaluation, Stage::Geometry, Stage::Fragment, Stage::Compute];

    /// The name used after `#pragma stage`, in diagnostics and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Vertex => "vertex",
            Stage::TessControl => "tess_control",
            Stage::TessEvaluation => "tess_evaluation",
            Stage::Geometry => "geometry",
            Stage::Fragment => "fragment",
            Stage::Compute => "compute",
        }
    }

    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The vertex stage used when a file has a fragment stage and no vertex stage: one triangle covering the viewport,
/// with `uv` in [0,1] for the fragment stage to use.
pub const FULLSCREEN_VERTEX: &str = "#version 450 core
out vec2 uv;
void main() {
    vec2 p = vec2(float((gl_VertexID & 1) << 2), float((gl_VertexID & 2) << 1));
    uv = p * 0.5;
    gl_Position = vec4(p - 1.0, 0.0, 1.0);
}
";

/// Where a line handed to the driver came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Line `line` (1-based) of `Prepared::files[file]`.
    File { file: usize, line: u32 },
    /// Text the engine added: a `#version` line, the Shadertoy prologue, the built-in vertex stage.
    Generated,
}

/// The text of one stage as the driver sees it, and the origin of each of its lines.
#[derive(Clone, Debug)]
pub struct StageText {
    pub stage: Stage,
    pub text: String,
    pub origins: Vec<Origin>,
}

/// How a program with its own vertex stage is drawn: `#pragma draw MODE COUNT [instances N] [patch N]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Draw {
    pub mode: Primitive,
    pub count: u32,
    pub instances: u32,
    /// Vertices per patch, for `patches`.
    pub patch: u32,
}

impl Default for Draw {
    /// One triangle: what the built-in full-screen vertex stage draws.
    fn default() -> Draw {
        Draw { mode: Primitive::Triangles, count: 3, instances: 1, patch: 3 }
    }
}

/// What a draw's vertices make: GL's draw modes, named as scenes write them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Primitive {
    Points,
    Lines,
    LineLoop,
    LineStrip,
    Triangles,
    TriangleStrip,
    TriangleFan,
    LinesAdjacency,
    LineStripAdjacency,
    TrianglesAdjacency,
    TriangleStripAdjacency,
    Patches,
}

impl Primitive {
    pub const ALL: [Primitive; 12] = [
        Primitive::Points,
        Primitive::Lines,
        Primitive::LineLoop,
        Primitive::LineStrip,
        Primitive::Triangles,
        Primitive::TriangleStrip,
        Primitive::TriangleFan,
        Primitive::LinesAdjacency,
        Primitive::LineStripAdjacency,
        Primitive::TrianglesAdjacency,
        Primitive::TriangleStripAdjacency,
        Primitive::Patches,
    ];

    /// The name as scenes write it (`#pragma draw`, `gfx.draw{ mode = ... }`): GL's name in lower case without
    /// `GL_` (`triangle_fan` for `GL_TRIANGLE_FAN`).
    pub fn name(self) -> &'static str {
        match self {
            Primitive::Points => "points",
            Primitive::Lines => "lines",
            Primitive::LineLoop => "line_loop",
            Primitive::LineStrip => "line_strip",
            Primitive::Triangles => "triangles",
            Primitive::TriangleStrip => "triangle_strip",
            Primitive::TriangleFan => "triangle_fan",
            Primitive::LinesAdjacency => "lines_adjacency",
            Primitive::LineStripAdjacency => "line_strip_adjacency",
            Primitive::TrianglesAdjacency => "triangles_adjacency",
            Primitive::TriangleStripAdjacency => "triangle_strip_adjacency",
            Primitive::Patches => "patches",
        }
    }

    pub fn from_name(name: &str) -> Option<Primitive> {
        Primitive::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The primitive of a GL enum's name (`GL_TRIANGLE_FAN`), as test files and GL documentation write it.
    pub fn from_gl_name(name: &str) -> Option<Primitive> {
        Primitive::from_name(&name.strip_prefix("GL_")?.to_ascii_lowercase())
    }
}

/// Parses the words after `#pragma draw`.
fn parse_draw(words: &str) -> Result<Draw, String> {
    let usage = || {
        let names: Vec<&str> = Primitive::ALL.iter().map(|p| p.name()).collect();
        format!("expected `#pragma draw MODE COUNT [instances N] [patch N]` with MODE one of {}", names.join(", "))
    };
    let mut parts = words.split_whitespace();
    let mode = parts.next().and_then(Primitive::from_name).ok_or_else(usage)?;
    let count = parts.next().and_then(|c| c.parse::<u32>().ok()).ok_or_else(usage)?;
    let mut draw = Draw { mode, count, ..Draw::default() };
    while let Some(key) = parts.next() {
        let value = parts.next().and_then(|v| v.parse::<u32>().ok()).ok_or_else(usage)?;
        match key {
            "instances" => draw.instances = value,
            "patch" if (1..=32).contains(&value) => draw.patch = value,
            _ => return Err(usage()),
        }
    }
    Ok(draw)
}

/// A shader file made ready for the driver.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The file itself first, then every file it includes (directly or not), each once.
    pub files: Vec<PathBuf>,
    /// Lines in each of `files`.
    pub line_counts: Vec<u32>,
    pub stages: Vec<StageText>,
    /// The file defines `mainImage` and runs as a Shadertoy shader.
    pub shadertoy: bool,
    /// No vertex stage was written; the built-in full-screen one was added.
    pub builtin_vertex: bool,
    /// What to draw with it (`#pragma draw`, or one triangle).
    pub draw: Draw,
    /// What each of Shadertoy's `iChannel0..3` reads (`#pragma channel`); used in Shadertoy mode only.
    pub channels: [Channel; 4],
    /// Problems found before the driver saw anything (an include that cannot be read, an unknown stage). When any
    /// is an error, the file must not be built.
    pub diagnostics: Vec<Diagnostic>,
}

/// How deep includes may nest before the chain is taken for a mistake.
const MAX_INCLUDE_DEPTH: usize = 32;

/// What a Shadertoy pass shares with the other passes of its scene.
#[derive(Clone, Debug, Default)]
pub struct PassOptions {
    /// The scene's Common file: in Shadertoy mode its code comes before the pass's (after Shadertoy's uniforms).
    pub common: Option<PathBuf>,
    /// A buffer pass: it writes all four components of its colour (an image pass shows opaque colour).
    pub keeps_alpha: bool,
}

/// Prepares the shader file `root` whose text is `text`. Included files are read through `load`, which returns
/// their text or a reason it could not.
pub fn prepare(root: &Path, text: &str, load: &mut dyn FnMut(&Path) -> Result<String, String>) -> Prepared {
    prepare_pass(root, text, &PassOptions::default(), load)
}

/// [`prepare`] for a pass of a Shadertoy scene with several (buffers, a Common file).
pub fn prepare_pass(
    root: &Path,
    text: &str,
    pass: &PassOptions,
    load: &mut dyn FnMut(&Path) -> Result<String, String>,
) -> Prepared {
    let mut p = Preparer {
        load,
        files: vec![root.to_path_buf()],
        line_counts: vec![count_lines(text)],
        texts: vec![text.to_owned()],
        diagnostics: Vec::new(),
    };
    let lines: Vec<&str> = text.lines().collect();

    // Split into the common part and the stage sections.
    let mut common_end = lines.len();
    // (stage, index of the first line after the pragma, end); `None` for an unknown stage, whose lines are dropped.
    let mut sections: Vec<(Option<Stage>, usize, usize)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = stage_pragma(line) else {
            continue;
        };
        if sections.is_empty() {
            common_end = i;
        }
        if let Some(last) = sections.last_mut() {
            last.2 = i;
        }
        match Stage::from_name(name) {
            Some(stage) => {
                if let Some(first) = sections.iter().find(|s| s.0 == Some(stage)) {
                    p.error(0, i, format!("stage {} appears twice (first at line {})", stage.name(), first.1));
                }
                sections.push((Some(stage), i + 1, lines.len()));
            }
            None => {
                p.error(
                    0,
                    i,
                    format!(
                        "unknown stage `{name}`: expected vertex, tess_control, tess_evaluation, geometry, \
                         fragment or compute"
                    ),
                );
                sections.push((None, i + 1, lines.len()));
            }
        }
    }

    let mut draw = Draw::default();
    for (i, line) in lines.iter().enumerate() {
        if let Some(("pragma", rest)) = directive(line)
            && let Some(words) = rest.strip_prefix("draw").filter(|w| w.is_empty() || w.starts_with([' ', '\t']))
        {
            match parse_draw(words) {
                Ok(parsed) => draw = parsed,
                Err(message) => p.error(0, i, message),
            }
        }
    }

    let version_words: Vec<&str> = lines
        .iter()
        .find(|l| is_version_line(l))
        .and_then(|l| directive(l))
        .map_or(vec![], |d| d.1.split_whitespace().collect());
    let version = version_words.first().and_then(|v| v.parse::<u32>().ok()).unwrap_or(450);
    let es = version_words.get(1) == Some(&"es");
    // Code the driver compiles only: `void mainImage(` in a comment or an `#if 0` (a note, a disabled draft) is not a
    // Shadertoy shader, and a `main` for another host under `#ifdef` is not in the way. Shadertoy mode when it may be
    // compiled; a `main` of the file's own refused only when it surely is.
    let code = compiled_code(text, version, es, false);
    // The Common file is read first: a pass may define `mainImage` through a macro of the Common file's.
    let common_read = pass.common.as_ref().map(|path| (path, (p.load)(path)));
    let common_code = match &common_read {
        Some((_, Ok(common))) => Some(compiled_code(common, version, es, false)),
        _ => None,
    };
    let shadertoy = sections.is_empty() && is_shadertoy(&code, common_code.as_deref());
    let (channels, channel_problems) = read_channels(code.lines());
    for (line, severity, message) in channel_problems {
        p.report(0, line, severity, message);
    }
    // Outside Shadertoy mode the channels are not read: a `u_previous` is the previous frame whatever the pragmas say.
    let channels = if shadertoy { channels } else { read_channels(std::iter::empty()).0 };
    if !shadertoy && let Some(line) = code.lines().position(|l| channel_pragma(l).is_some()) {
        let message = "`#pragma channel` is read in Shadertoy mode only (a file that defines mainImage)";
        p.report(0, line, Severity::Warning, message.into());
    }
    // The Common file: watched whenever it could be read (a change to it may turn Shadertoy mode on), compiled in
    // Shadertoy mode, with what its code needs adapted.
    let common = match common_read {
        Some((path, read)) => {
            let file = p.file_index(path);
            match read {
                Ok(text) => {
                    p.line_counts[file] = count_lines(&text);
                    p.texts[file] = text;
                    shadertoy.then_some(file)
                }
                Err(reason) => {
                    if shadertoy {
                        p.error(file, 0, format!("cannot read the Common file: {reason}"));
                    }
                    None
                }
            }
        }
        None => None,
    };
    // Names that are keywords of desktop GLSL only are adapted in Shadertoy's own dialect: a file without a
    // `#version` of its own, or an OpenGL ES one.
    let keywords = version_words.is_empty() || es;
    let common_code = common_code.unwrap_or_default();
    let mut adaptation =
        shadertoy.then(|| adapt(&code, &compiled_code(text, version, es, true), keywords, &common_code));
    for (line, severity, message) in adaptation.iter().flat_map(|a| &a.problems) {
        p.report(0, *line, *severity, message.clone());
    }
    if let (Some(file), Some(adaptation)) = (common, &mut adaptation) {
        let common_text = p.texts[file].clone();
        let surely = compiled_code(&common_text, version, es, true);
        let own = adapt(&common_code, &surely, keywords, &code);
        for (line, severity, message) in own.problems {
            p.report(file, line, severity, message);
        }
        for define in own.defines {
            if !adaptation.defines.contains(&define) {
                adaptation.defines.push(define);
            }
        }
        if let Some(line) = common_text.lines().position(|l| channel_pragma(l).is_some()) {
            let message = "channels are set in each pass's file: a `#pragma channel` in the Common file does nothing";
            p.report(file, line, Severity::Warning, message.into());
        }
    }
    let written: Vec<(Stage, Vec<(usize, usize)>)> = if sections.is_empty() {
        vec![(Stage::Fragment, vec![(0, lines.len())])]
    } else {
        let mut by_stage: Vec<(Stage, Vec<(usize, usize)>)> = Vec::new();
        for &(stage, start, end) in &sections {
            let Some(stage) = stage else { continue };
            if by_stage.iter().any(|(s, _)| *s == stage) {
                continue; // reported above
            }
            by_stage.push((stage, vec![(0, common_end), (start, end)]));
        }
        by_stage.sort_by_key(|(s, _)| *s);
        by_stage
    };

    if written.iter().any(|(s, _)| *s == Stage::Compute) && written.len() > 1 {
        let line = sections.iter().find(|s| s.0 == Some(Stage::Compute)).map_or(0, |s| s.1.saturating_sub(1));
        p.error(0, line, "a compute stage must be alone in its file: a compute program has no other stage".into());
    }

    let mut stages = Vec::new();
    for (stage, ranges) in &written {
        let mut out: Vec<(String, Origin)> = Vec::new();
        // Each stage is preprocessed on its own, as the driver compiles it.
        let mut conditions = Conditions::new(version, es);
        let mut common_lines = Vec::new();
        if let Some(file) = common {
            let common_text = p.texts[file].clone();
            let mut stack = vec![p.files[file].clone()];
            for (i, line) in common_text.lines().enumerate() {
                p.line(file, i, line, &mut common_lines, &mut stack, &mut conditions);
            }
        }
        for &(start, end) in ranges {
            for (i, line) in lines.iter().enumerate().take(end).skip(start) {
                p.line(0, i, line, &mut out, &mut vec![root.to_path_buf()], &mut conditions);
            }
        }
        let version_at = out.iter().position(|(l, _)| is_version_line(l));
        let version_at = match version_at {
            Some(i) => i,
            None => {
                out.insert(0, (DEFAULT_VERSION.to_owned(), Origin::Generated));
                0
            }
        };
        if let Some(adaptation) = &adaptation {
            // An OpenGL ES file's uniforms need a precision before the file's own precision statement.
            let precision = es.then_some(["precision highp float;".to_owned(), "precision highp int;".to_owned()]);
            let generated = precision
                .into_iter()
                .flatten()
                .chain(prologue(&channels))
                .chain(adaptation.defines.iter().cloned())
                .map(|l| (l, Origin::Generated));
            out.splice(version_at + 1..version_at + 1, generated.chain(common_lines));
            out.extend(epilogue(pass.keeps_alpha).lines().map(|l| (l.to_owned(), Origin::Generated)));
        }
        stages.push(finish(*stage, out));
    }

    let has = |s: Stage| stages.iter().any(|t: &StageText| t.stage == s);
    let builtin_vertex = !has(Stage::Vertex) && !has(Stage::Compute) && has(Stage::Fragment);
    if builtin_vertex {
        // In the fragment stage's shading language: a driver links stages of one version only (an ES 3.00 file
        // gets an ES 3.00 vertex stage).
        let version_line = if es { "#version 300 es".to_owned() } else { DEFAULT_VERSION.to_owned() };
        let body = FULLSCREEN_VERTEX.lines().skip_while(|l| is_version_line(l));
        let out = std::iter::once(version_line).chain(body.map(str::to_owned));
        stages.insert(0, finish(Stage::Vertex, out.map(|l| (l, Origin::Generated)).collect()));
    }

    // A problem in the common part or a shared include is found once per stage: report it once.
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for d in p.diagnostics {
        if !diagnostics.contains(&d) {
            diagnostics.push(d);
        }
    }
    Prepared {
        files: p.files,
        line_counts: p.line_counts,
        stages,
        shadertoy,
        builtin_vertex,
        draw,
        channels,
        diagnostics,
    }
}

fn finish(stage: Stage, lines: Vec<(String, Origin)>) -> StageText {
    let mut text = String::with_capacity(lines.iter().map(|(l, _)| l.len() + 1).sum());
    let mut origins = Vec::with_capacity(lines.len());
    for (line, origin) in lines {
        text.push_str(&line);
        text.push('\n');
        origins.push(origin);
    }
    StageText { stage, text, origins }
}

fn count_lines(text: &str) -> u32 {
    u32::try_from(text.lines().count()).unwrap_or(u32::MAX)
}

/// `#pragma stage NAME` gives NAME.
fn stage_pragma(line: &str) -> Option<&str> {
    let (name, rest) = directive(line)?;
    if name != "pragma" {
        return None;
    }
    let rest = rest.strip_prefix("stage")?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    Some(rest.split_whitespace().next().unwrap_or(""))
}

/// `#include "file"` (or `<file>`) gives file.
fn include_target(line: &str) -> Option<&str> {
    let (name, rest) = directive(line)?;
    if name != "include" {
        return None;
    }
    let (open, close) = match rest.chars().next()? {
        '"' => ('"', '"'),
        '<' => ('<', '>'),
        _ => return Some(""),
    };
    let inner = rest.strip_prefix(open)?;
    Some(inner.find(close).map_or("", |end| &inner[..end]))
}

struct Preparer<'a> {
    load: &'a mut dyn FnMut(&Path) -> Result<String, String>,
    files: Vec<PathBuf>,
    line_counts: Vec<u32>,
    texts: Vec<String>,
    diagnostics: Vec<Diagnostic>,
}

impl Preparer<'_> {
    /// The index of `path` in `files`, added when new.
    fn file_index(&mut self, path: &Path) -> usize {
        self.files.iter().position(|f| f == path).unwrap_or_else(|| {
            self.files.push(path.to_path_buf());
            self.line_counts.push(0);
            self.texts.push(String::new());
            self.files.len() - 1
        })
    }

    /// Reads file `file` unless it was read: each file once per preparation; a file that failed to load stays empty
    /// and fails again each time it is asked for.
    fn load_file(&mut self, file: usize) -> Result<(), String> {
        if self.texts[file].is_empty() && self.line_counts[file] == 0 {
            let text = (self.load)(&self.files[file])?;
            self.line_counts[file] = count_lines(&text);
            self.texts[file] = text;
        }
        Ok(())
    }

    fn error(&mut self, file: usize, index: usize, message: String) {
        self.report(file, index, Severity::Error, message);
    }

    /// A diagnostic on 0-based line `index` of file `file`.
    fn report(&mut self, file: usize, index: usize, severity: Severity, message: String) {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let mut d = Diagnostic::error(self.files[file].clone(), message).at(line, None);
        d.severity = severity;
        self.diagnostics.push(d);
    }

    /// Appends line `index` of file `file` to `out`, expanding it if it is an include the driver would compile
    /// (`conditions` reads the conditional groups). `stack` holds the chain of files being included, to catch
    /// cycles.
    fn line(
        &mut self,
        file: usize,
        index: usize,
        line: &str,
        out: &mut Vec<(String, Origin)>,
        stack: &mut Vec<PathBuf>,
        conditions: &mut Conditions,
    ) {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let compiled = conditions.read(line);
        let Some(target) = include_target(line) else {
            out.push((line.to_owned(), Origin::File { file, line: number }));
            return;
        };
        // The directive itself becomes an empty line, so the driver never sees it.
        out.push((String::new(), Origin::File { file, line: number }));
        if !compiled {
            return;
        }
        if target.is_empty() {
            self.error(file, index, "#include needs a file name in quotes: #include \"file.glsl\"".into());
            return;
        }
        let base = self.files[file].parent().map(Path::to_path_buf).unwrap_or_default();
        let path = normalize(&base.join(target));
        if stack.contains(&path) {
            self.error(file, index, format!("`{target}` includes itself (through {})", chain(stack)));
            return;
        }
        if stack.len() >= MAX_INCLUDE_DEPTH {
            self.error(file, index, format!("includes nest deeper than {MAX_INCLUDE_DEPTH} files"));
            return;
        }
        let included = self.file_index(&path);
        if let Err(reason) = self.load_file(included) {
            self.error(file, index, format!("cannot include `{target}`: {reason}"));
            return;
        }
        let text = self.texts[included].clone();
        stack.push(path);
        for (i, l) in text.lines().enumerate() {
            if stage_pragma(l).is_some() {
                self.error(included, i, "#pragma stage belongs in the main shader file, not in an included one".into());
                continue;
            }
            self.line(included, i, l, out, stack, conditions);
        }
        stack.pop();
    }
}

fn chain(stack: &[PathBuf]) -> String {
    stack
        .iter()
        .map(|p| p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// Removes `.` and `..` components without touching the file system, so one file has one name.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

impl Prepared {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn stage(&self, stage: Stage) -> Option<&StageText> {
        self.stages.iter().find(|s| s.stage == stage)
    }

    /// Files this program depends on besides the file itself: a change to any of them rebuilds it.
    pub fn includes(&self) -> &[PathBuf] {
        &self.files[1..]
    }

    /// The texts to hand the driver, as (stage, source), in stage order: the build pipeline's input, the
    /// same for the engine and the piglit runner. Without the built-in full-screen vertex stage when
    /// `builtin_vertex` is false (a caller that draws with its own vertex input).
    pub fn driver_stages(&self, builtin_vertex: bool) -> Vec<(Stage, &str)> {
        self.stages
            .iter()
            .filter(|s| builtin_vertex || !(self.builtin_vertex && s.stage == Stage::Vertex))
            .map(|s| (s.stage, s.text.as_str()))
            .collect()
    }

    /// Turns a driver's info log into diagnostics on the files' own lines. `stage` is the stage whose compile
    /// produced the log, `None` for a link log.
    pub fn diagnostics_from_log(&self, stage: Option<Stage>, log: &str) -> Vec<Diagnostic> {
        parse_log(log).into_iter().map(|entry| self.locate(stage, entry)).collect()
    }

    /// The diagnostics of every log of one build, `(stage, log)` (`None`: the link log). A mistake in text several
    /// stages share (the common part, an include) is one diagnostic that names them, not one per stage.
    pub fn diagnostics_from_logs<'a>(
        &self,
        logs: impl IntoIterator<Item = (Option<Stage>, &'a str)>,
    ) -> Vec<Diagnostic> {
        let mut merged: Vec<(Diagnostic, Vec<&'static str>)> = Vec::new();
        for (stage, log) in logs {
            for d in self.diagnostics_from_log(stage, log) {
                let same = |(m, _): &&mut (Diagnostic, Vec<&'static str>)| {
                    (&m.file, m.line, m.column, m.severity, &m.message)
                        == (&d.file, d.line, d.column, d.severity, &d.message)
                };
                match merged.iter_mut().find(|m| same(m) && m.0.stage.is_some() && d.stage.is_some()) {
                    // Once per stage: the same message at several generated places of one stage is one too.
                    Some((_, stages)) => {
                        if let Some(stage) = d.stage.filter(|s| !stages.contains(s)) {
                            stages.push(stage);
                        }
                    }
                    None => {
                        let stages = d.stage.into_iter().collect();
                        merged.push((d, stages));
                    }
                }
            }
        }
        merged
            .into_iter()
            .map(|(mut d, stages)| {
                if let [first @ .., last] = stages.as_slice()
                    && !first.is_empty()
                {
                    d.stage = None;
                    d.message
                        .push_str(&format!("\n  in the {} and {last} stages, which share this text", first.join(", ")));
                }
                d
            })
            .collect()
    }

    fn locate(&self, stage: Option<Stage>, entry: LogEntry) -> Diagnostic {
        let stage = entry.stage.or(stage);
        let mut diagnostic = Diagnostic {
            file: self.files[0].clone(),
            line: None,
            column: None,
            stage: stage.map(Stage::name),
            severity: entry.severity,
            message: entry.message,
        };
        // The driver's line, as an index into the stage's text (a `#line` of the user's renumbers what follows it).
        let index = match (stage.and_then(|s| self.stage(s)), entry.line) {
            // Mesa 22 prints source string 0 whatever a `#line` said; NVIDIA prints the string.
            (Some(text), Some(line)) if line >= 1 => {
                let source = entry.source.filter(|_| entry.dialect != Dialect::Mesa);
                driver_line_index(&text.text, line, source)
            }
            _ => None,
        };
        let origin = index.and_then(|i| stage.and_then(|s| self.stage(s)).and_then(|t| t.origins.get(i).copied()));
        match origin {
            Some(Origin::File { file, line }) => {
                diagnostic.file = self.files[file].clone();
                diagnostic.line = Some(line);
                diagnostic.column = match (entry.dialect, entry.column, index) {
                    (Dialect::Mesa, Some(column), Some(index)) => {
                        let text = stage.and_then(|s| self.stage(s)).and_then(|t| t.text.lines().nth(index));
                        Some(text.map_or(column, |t| original_column(t, column)))
                    }
                    (_, column, _) => column,
                };
            }
            Some(Origin::Generated) => diagnostic.message.push_str(" (in code allsource generated for this stage)"),
            None => {
                // A link error names what it is about, not where: point at the declaration it names.
                if let Some((stage, file, line)) = self.declaration_named(stage, &diagnostic.message) {
                    diagnostic.file = self.files[file].clone();
                    diagnostic.line = Some(line);
                    diagnostic.stage = Some(stage.name());
                }
            }
        }
        diagnostic
    }

    /// Where the variable a message names (`name'` as Mesa quotes it, "name" as NVIDIA does) is declared as an
    /// interface variable (`in`, `out`, `uniform`, `buffer`) in text of the file's: in `stage` when given, else in
    /// the stages in pipeline order. As (stage, file index, line).
    fn declaration_named(&self, stage: Option<Stage>, message: &str) -> Option<(Stage, usize, u32)> {
        let name = quoted_identifier(message)?;
        let stages = stage.into_iter().chain(Stage::ALL.into_iter().filter(|s| Some(*s) != stage));
        stages.filter_map(|s| self.stage(s)).find_map(|text| {
            let code = crate::preprocess::blank_comments(&text.text);
            code.lines().zip(&text.origins).find_map(|(line, origin)| match origin {
                Origin::File { file, line: number } if declares(line, name) => Some((text.stage, *file, *number)),
                _ => None,
            })
        })
    }
}

/// The first identifier quoted in `message`: between ` and ' (Mesa), or between double quotes (NVIDIA).
fn quoted_identifier(message: &str) -> Option<&str> {
    let is_ident = |w: &str| {
        !w.is_empty()
            && !w.starts_with(|c: char| c.is_ascii_digit())
            && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let mesa = message.split('`').skip(1).filter_map(|rest| rest.split('\'').next());
    let nvidia = message.split('"').skip(1).step_by(2);
    mesa.chain(nvidia).find(|w| is_ident(w))
}

/// Whether `line` declares the interface variable `name`: a qualifier (`in`, `out`, `uniform`, `buffer`, `varying`,
/// `attribute`) outside parentheses (not a function's parameter; a `layout(...)` before it is fine) and the name
/// after it, as whole words.
fn declares(line: &str, name: &str) -> bool {
    let mut depth = 0i32;
    let mut words: Vec<(&str, i32)> = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices().chain(std::iter::once((line.len(), ' '))) {
        if c.is_ascii_alphanumeric() || c == '_' {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            words.push((&line[s..i], depth));
        }
        depth += match c {
            '(' => 1,
            ')' => -1,
            _ => 0,
        };
    }
    let qualifiers = ["in", "out", "uniform", "buffer", "varying", "attribute"];
    let qualifier = words.iter().position(|(w, d)| *d == 0 && qualifiers.contains(w));
    qualifier.is_some_and(|q| words[q + 1..].iter().any(|(w, d)| *d == 0 && *w == name))
}

/// The 0-based index, in a stage's text, of the line a driver numbered `line` (in source string `source`, where the
/// driver says). Lines count from 1 unless a `#line N [S]` of the user's renumbered them: the line after it is N
/// (in string S). Of several lines with that number, the one in the string the driver named, else the newest
/// numbering's.
fn driver_line_index(text: &str, line: u32, source: Option<u32>) -> Option<usize> {
    if !text.contains("#line") && !text.contains("# line") {
        return Some(line as usize - 1);
    }
    let mut numbering: (u32, u32) = (1, 0); // (number of the next line, source string)
    let mut found: Option<(usize, bool)> = None;
    for (index, l) in text.lines().enumerate() {
        let (number, string) = numbering;
        if number == line {
            let named = source.is_some_and(|s| s == string);
            if found.is_none_or(|(_, was_named)| named || !was_named) {
                found = Some((index, named));
            }
        }
        numbering = (number.saturating_add(1), string);
        if let Some(("line", rest)) = directive(l) {
            let mut words = rest.split_whitespace().map(str::parse::<u32>);
            if let Some(Ok(n)) = words.next() {
                numbering = (n, words.next().and_then(Result::ok).unwrap_or(string));
            }
        }
    }
    found.map(|(index, _)| index)
}
