//! `allsource check`: builds sources headless and reports their diagnostics, in a human form (the source line with
//! a caret under the column) or as JSON for tools. Shaders are compiled and linked; Lua modules are compiled and
//! their top level run (as `require` would, with the engine API on a headless context), no callback called.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use allsource_live::{Diagnostic, Severity};

use allsource_gpu::GpuError;

use crate::Error;
use crate::shader::{build, read_source};

/// What `check` found.
pub struct CheckReport {
    /// The files built (a directory contributes its `.glsl` files that no other of them includes).
    pub files: Vec<PathBuf>,
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckReport {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Warning).count()
    }
}

/// Builds every shader and Lua module named by `paths` (files, or directories of them) on a headless context.
pub fn check(paths: &[PathBuf]) -> Result<CheckReport, Error> {
    let mut diagnostics = Vec::new();
    let mut candidates = BTreeSet::new();
    // Lua modules by the directory they are modules of (a directory given, or a file's own directory).
    let mut modules: Vec<(PathBuf, Vec<String>)> = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect_shaders(path, &mut candidates, &mut diagnostics);
            let mut names = Vec::new();
            collect_modules(path, path, &mut names);
            modules.push((path.clone(), names));
        } else if path.extension().is_some_and(|e| e == "lua") && path.exists() {
            let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            modules.push((root, vec![name]));
        } else if path.exists() {
            candidates.insert(path.clone());
        } else {
            diagnostics.push(Diagnostic::error(path.clone(), "no such file or directory"));
        }
    }
    let context = allsource_gpu::headless()?;
    let gl = &context.gl;
    let mut files = Vec::new();
    for (root, names) in modules {
        let graphics = crate::graphics::EngineGraphics::new(gl.clone(), &root, &context.info)?;
        let mut host = allsource_lua::ModuleHost::new(&root, graphics).map_err(|e| Error::Gpu(GpuError::Gl(e)))?;
        for name in names {
            for report in host.load(&name) {
                if !files.contains(&report.path) {
                    files.push(report.path.clone());
                }
                diagnostics.extend(report.diagnostics);
            }
        }
        let shader_reports = host.with_graphics(|g| std::mem::take(&mut g.reports)).unwrap_or_default();
        for report in shader_reports {
            diagnostics.extend(report.diagnostics);
        }
        host.with_graphics(|g| g.free_all());
    }
    // Files that another candidate includes are checked through their includers, not alone: a library of
    // functions has no `main` of its own.
    let mut built = Vec::new();
    for path in &candidates {
        match read_source(path) {
            Ok(text) => {
                let (output, files) = build(gl, path, &text, &crate::scene::pass_options(path));
                built.push((path.clone(), output, files));
            }
            Err(message) => diagnostics.push(Diagnostic::error(path.clone(), message)),
        }
    }
    // Compare real paths: `dir/../x.glsl` from the command line and `x.glsl` from an include are one file.
    let real = |p: &PathBuf| p.canonicalize().unwrap_or_else(|_| p.clone());
    let included: BTreeSet<PathBuf> = built.iter().flat_map(|(_, _, files)| files.iter().skip(1).map(real)).collect();
    let named: BTreeSet<PathBuf> = paths.iter().map(real).collect();
    for (path, output, _) in built {
        if let Some(linked) = output.artifact {
            linked.program.delete(gl);
        }
        if included.contains(&real(&path)) && !named.contains(&real(&path)) {
            continue;
        }
        files.push(path);
        diagnostics.extend(output.diagnostics);
    }
    Ok(CheckReport { files, diagnostics })
}

/// Module names of the `.lua` files under `dir`, relative to `root` (`lib/vec.lua` is `lib.vec`).
fn collect_modules(root: &Path, dir: &Path, into: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            if !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                collect_modules(root, &path, into);
            }
        } else if path.extension().is_some_and(|e| e == "lua")
            && let Ok(relative) = path.with_extension("").strip_prefix(root)
        {
            let name = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join(".");
            into.push(name);
        }
    }
}

fn collect_shaders(dir: &Path, into: &mut BTreeSet<PathBuf>, diagnostics: &mut Vec<Diagnostic>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return diagnostics.push(Diagnostic::error(dir.to_path_buf(), format!("cannot list: {e}"))),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                collect_shaders(&path, into, diagnostics);
            }
        } else if path.extension().is_some_and(|e| e == "glsl") {
            into.insert(path);
        }
    }
}

/// The human form: `severity: message`, then ` --> file:line:column (stage)` and the line with a caret.
pub fn render_human(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        // The first line is the diagnostic; the others are notes (what followed from it), after the source line.
        let mut lines = d.message.lines();
        out.push_str(&format!("{}: {}\n", d.severity.as_str(), lines.next().unwrap_or("")));
        let mut place = d.file.display().to_string();
        if let Some(line) = d.line {
            place.push_str(&format!(":{line}"));
            if let Some(column) = d.column {
                place.push_str(&format!(":{column}"));
            }
        }
        match d.stage {
            Some(stage) => out.push_str(&format!("  --> {place} ({stage})\n")),
            None => out.push_str(&format!("  --> {place}\n")),
        }
        if let Some(line) = d.line
            && let Some(text) = source_line(&d.file, line)
        {
            let number = line.to_string();
            let pad = " ".repeat(number.len());
            out.push_str(&format!("{pad} |\n{number} | {text}\n"));
            if let Some(column) = d.column {
                // Keep tabs under tabs so the caret lines up in a terminal.
                let lead: String = text
                    .chars()
                    .take(column.saturating_sub(1) as usize)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                out.push_str(&format!("{pad} | {lead}^\n"));
            }
        }
        for note in lines {
            out.push_str(&format!("  = note: {}\n", note.trim()));
        }
        out.push('\n');
    }
    out
}

fn source_line(file: &Path, line: u32) -> Option<String> {
    let text = read_source(file).ok()?;
    text.lines().nth(line.checked_sub(1)? as usize).map(str::to_owned)
}

/// The JSON form: an array of {file, line, column, stage, severity, message}; absent values are null.
pub fn render_json(diagnostics: &[Diagnostic]) -> String {
    let items: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|d| {
            serde_json::json!({
                "file": d.file.display().to_string(),
                "line": d.line,
                "column": d.column,
                "stage": d.stage,
                "severity": d.severity.as_str(),
                "message": d.message,
            })
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}
