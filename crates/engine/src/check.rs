//! `allsource check`: builds sources headless and reports their diagnostics, in a human form (the source line with
//! a caret under the column) or as JSON for tools.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use allsource_live::{Diagnostic, Severity};

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

/// Builds every shader named by `paths` (files, or directories of them) on a headless context.
pub fn check(paths: &[PathBuf]) -> Result<CheckReport, Error> {
    let mut diagnostics = Vec::new();
    let mut candidates = BTreeSet::new();
    for path in paths {
        if path.is_dir() {
            collect_shaders(path, &mut candidates, &mut diagnostics);
        } else if path.exists() {
            candidates.insert(path.clone());
        } else {
            diagnostics.push(Diagnostic::error(path.clone(), "no such file or directory"));
        }
    }
    let context = allsource_gpu::headless()?;
    let gl = &context.gl;
    // Files that another candidate includes are checked through their includers, not alone: a library of
    // functions has no `main` of its own.
    let mut built = Vec::new();
    for path in &candidates {
        match read_source(path) {
            Ok(text) => {
                let (output, files) = build(gl, path, &text);
                built.push((path.clone(), output, files));
            }
            Err(message) => diagnostics.push(Diagnostic::error(path.clone(), message)),
        }
    }
    // Compare real paths: `dir/../x.glsl` from the command line and `x.glsl` from an include are one file.
    let real = |p: &PathBuf| p.canonicalize().unwrap_or_else(|_| p.clone());
    let included: BTreeSet<PathBuf> = built.iter().flat_map(|(_, _, files)| files.iter().skip(1).map(real)).collect();
    let named: BTreeSet<PathBuf> = paths.iter().map(real).collect();
    let mut files = Vec::new();
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
        out.push_str(&format!("{}: {}\n", d.severity.as_str(), d.message));
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
