//! The editor's model: its buffers (tabs), what the worker reported of each source (build state, diagnostics,
//! versions), tweaks, conflicts and autosaves, and the actions it asks of the engine. view.rs draws it with egui.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use allsource_live::{Diagnostic, Report};
use egui::text::{CCursor, CCursorRange, LayoutJob, TextFormat};
use egui::{Color32, FontId, Id, Key, Modifiers, Pos2, Rect, Sense, Stroke, Ui, Vec2};

use crate::console::{ConsoleLog, Level, LogLine};
use crate::highlight::{Lang, Token, tokens};
use crate::tweak::{Kind, Tweak, annotations};

mod view;

/// What the editor asks of the engine.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// The buffer of `path` changed: rebuild it from `text`.
    Edit {
        path: PathBuf,
        text: String,
    },
    /// Move the source's live version back or forward.
    Undo(PathBuf),
    Redo(PathBuf),
    SetUniform {
        path: PathBuf,
        name: String,
        kind: Kind,
        values: Vec<f64>,
    },
    /// A line typed into the console: a command, or else Lua for the scene VM.
    Console(String),
    /// Write the buffer to its file.
    Save {
        path: PathBuf,
        text: String,
    },
    /// Run this buffer's text as guest code in the preview worker.
    Preview {
        path: PathBuf,
        text: String,
    },
    Promote,
    Reject,
}

/// What the preview panel shows (the compositor fills it in every frame while a preview exists).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PreviewView {
    pub path: PathBuf,
    /// Where its frame is drawn: x, y from the top-left, width, height, as fractions of the frame.
    pub rect: [f32; 4],
    /// None while it runs; why it was stopped.
    pub stopped: Option<String>,
    /// Milliseconds between its frames on its own clock, and its Lua time per frame, newest last.
    pub intervals: Vec<f32>,
    pub lua_ms: Vec<f32>,
    pub budget_ms: f32,
    pub good_in_a_row: u64,
    pub required: u64,
    pub low_priority: bool,
}

/// Where a source's newest build stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum BuildState {
    #[default]
    Unknown,
    Building {
        since: Instant,
    },
    Ok {
        version: u64,
        took: Duration,
    },
    Failed {
        version: Option<u64>,
        errors: usize,
        live: Option<u64>,
    },
    /// A Lua module's typed text compiles and runs once the typing pauses; `live` runs until then.
    Waiting {
        live: Option<u64>,
    },
}

/// One entry of a source's history, as its reports told it.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionNote {
    pub version: u64,
    pub ok: bool,
    pub errors: usize,
    pub took: Duration,
}

/// What is known about one source from its build reports.
#[derive(Clone, Debug, Default)]
pub struct SourceState {
    pub diagnostics: Vec<Diagnostic>,
    pub state: BuildState,
    pub versions: Vec<VersionNote>,
    pub live_version: Option<u64>,
    pub live_text: Option<Arc<str>>,
    /// An undo or redo of the version was asked: the next report's live text replaces the buffer.
    awaiting_version: bool,
}

struct Tab {
    path: PathBuf,
    text: String,
    lang: Lang,
    /// The file's text as last read or written (None: no file, or unreadable). The buffer is unsaved when its
    /// text differs.
    disk: Option<String>,
    /// When the text last changed (autosave waits for the buffer to be idle).
    changed_at: Option<Instant>,
    /// The file changed on disk while the buffer had unsaved edits: the disk's text, until the user chooses.
    conflict: Option<String>,
    /// The hash of the text an autosave was asked for, while its answer is awaited.
    saving: Option<u64>,
}

impl Tab {
    fn new(path: PathBuf, text: String, disk: Option<String>) -> Tab {
        let lang = Lang::of(&path);
        Tab { path, text, lang, disk, changed_at: None, conflict: None, saving: None }
    }

    fn unsaved(&self) -> bool {
        self.disk.as_deref() != Some(self.text.as_str())
    }

    fn set_text(&mut self, text: String) {
        if text != self.text {
            self.text = text;
            self.changed_at = Some(Instant::now());
        }
    }
}

/// A buffer's edits are written to its file once they have built and no key was typed for this long (see
/// `Editor::autosave_due`).
pub const AUTOSAVE_IDLE: Duration = Duration::from_millis(500);

fn hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

pub struct Editor {
    /// The overlay is shown (the key under Escape toggles it).
    pub visible: bool,
    /// The preview panel, while a guest runs (shown whether or not the editor is).
    pub preview: Option<PreviewView>,
    root: PathBuf,
    tabs: Vec<Tab>,
    active: Option<usize>,
    sources: BTreeMap<PathBuf, SourceState>,
    tweaks: BTreeMap<PathBuf, Vec<Tweak>>,
    pub log: ConsoleLog,
    input: String,
    history: Vec<String>,
    history_at: Option<usize>,
    find: Option<String>,
    /// Per buffer: the line of the last match, where the next search starts.
    find_from: BTreeMap<PathBuf, u32>,
    focus_code: bool,
    /// The scene's main source (main.lua or main.glsl): what the editor shows when it is first toggled on. Relative
    /// to the editor's root, as every path it opens, or absolute.
    pub entry: Option<PathBuf>,
    goto: Option<(u32, u32)>,
    actions: Vec<Action>,
    /// The coloured layout of the buffer last shown, by a hash of its text.
    layout_cache: Option<(u64, LayoutJob)>,
    /// The translucent panel style was set on the egui context.
    styled: bool,
    /// Files under the root that can be opened (sources: .glsl, .lua, ...), refreshed when the file menu opens.
    files: Vec<PathBuf>,
}

impl Editor {
    pub fn new(root: impl Into<PathBuf>, log: ConsoleLog) -> Editor {
        Editor {
            visible: false,
            preview: None,
            root: root.into(),
            tabs: Vec::new(),
            active: None,
            sources: BTreeMap::new(),
            tweaks: BTreeMap::new(),
            log,
            input: String::new(),
            history: Vec::new(),
            history_at: None,
            find: None,
            find_from: BTreeMap::new(),
            focus_code: false,
            entry: None,
            goto: None,
            actions: Vec::new(),
            files: Vec::new(),
            styled: false,
            layout_cache: None,
        }
    }

    /// A path as the user wrote it, relative to the scene directory unless absolute.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() { path.to_path_buf() } else { self.root.join(path) }
    }

    fn display<'a>(&self, path: &'a Path) -> std::borrow::Cow<'a, str> {
        path.strip_prefix(&self.root).unwrap_or(path).to_string_lossy()
    }

    /// The editor was just shown: the keyboard goes to the open buffer, or, when nothing is open yet, to the scene's
    /// main source (what a user toggling the editor on came to edit).
    pub fn shown(&mut self) {
        match (self.tabs.is_empty(), self.entry.clone()) {
            (true, Some(entry)) => {
                if let Err(e) = self.open(&entry) {
                    self.log.push(Level::Error, format!("the editor could not open {}: {e}", entry.display()));
                }
            }
            _ => self.focus_code = true,
        }
    }

    /// Opens `path` in a tab (or switches to its tab) and gives the buffer the keyboard focus.
    pub fn open(&mut self, path: &Path) -> Result<(), String> {
        let path = self.resolve(path);
        if let Some(i) = self.tabs.iter().position(|t| allsource_live::same_file(&t.path, &path)) {
            self.active = Some(i);
        } else {
            // The live text when it is newer than the file (edits not saved yet), else the file.
            let disk = allsource_live::read_source(&path);
            let text = match self.sources.get(&path).and_then(|s| s.live_text.clone()) {
                Some(text) => text.to_string(),
                None => disk.clone()?,
            };
            self.tabs.push(Tab::new(path, text, disk.ok()));
            self.active = Some(self.tabs.len() - 1);
        }
        self.focus_code = true;
        Ok(())
    }

    /// Opens `path` with `text` in its buffer, unsaved (edits recovered from the journal after a crash).
    pub fn open_recovered(&mut self, path: &Path, text: String) {
        let path = self.resolve(path);
        let disk = allsource_live::read_source(&path).ok();
        match self.tabs.iter_mut().find(|t| allsource_live::same_file(&t.path, &path)) {
            Some(tab) => tab.set_text(text),
            None => {
                let mut tab = Tab::new(path, text, disk);
                tab.changed_at = Some(Instant::now());
                self.tabs.push(tab);
            }
        }
        self.active = Some(self.tabs.len() - 1);
        self.focus_code = true;
    }

    /// Every open buffer's path and text.
    pub fn buffers(&self) -> impl Iterator<Item = (&Path, &str)> {
        self.tabs.iter().map(|t| (t.path.as_path(), t.text.as_str()))
    }

    fn tab_mut(&mut self, path: &Path) -> Option<&mut Tab> {
        self.tabs.iter_mut().find(|t| allsource_live::same_file(&t.path, path))
    }

    /// What the file of `path` held when its buffer last read or wrote it.
    pub fn disk_text(&self, path: &Path) -> Option<&str> {
        self.tabs.iter().find(|t| allsource_live::same_file(&t.path, path)).and_then(|t| t.disk.as_deref())
    }

    /// Whether the buffer of `path` holds edits its file does not have.
    pub fn unsaved(&self, path: &Path) -> bool {
        self.tabs.iter().any(|t| allsource_live::same_file(&t.path, path) && t.unsaved())
    }

    /// `text` was written to `path`'s file: a buffer holding it is saved, and a conflict on it is over.
    pub fn saved(&mut self, path: &Path, text: &str) {
        if let Some(tab) = self.tab_mut(path) {
            tab.disk = Some(text.to_owned());
            tab.conflict = None;
            tab.saving = None;
        }
    }

    /// The file of `path` changed on disk and was built: a buffer without unsaved edits follows it; one with
    /// unsaved edits keeps them and is in conflict. Returns false for a conflict.
    pub fn from_disk(&mut self, path: &Path, text: &str) -> bool {
        let Some(tab) = self.tab_mut(path) else { return true };
        if tab.disk.as_deref() == Some(text) {
            // No news: the file holds what the buffer was opened from or last saved.
            return true;
        }
        if tab.unsaved() && tab.text != text {
            tab.conflict = Some(text.to_owned());
            return false;
        }
        tab.set_text(text.to_owned());
        tab.disk = Some(text.to_owned());
        true
    }

    /// The file of `path` changed on disk while its buffer had unsaved edits: both are kept.
    pub fn conflict(&mut self, path: &Path, disk: &str) {
        if let Some(tab) = self.tab_mut(path) {
            tab.conflict = Some(disk.to_owned());
        }
    }

    /// The disk's text of a buffer in conflict.
    pub fn conflict_of(&self, path: &Path) -> Option<&str> {
        self.tabs.iter().find(|t| allsource_live::same_file(&t.path, path)).and_then(|t| t.conflict.as_deref())
    }

    /// Takes the file's text into the buffer of `path` (`reload`: a conflict resolved for the disk's side), and
    /// returns it. The buffer's text before is not lost: it was built as a version (version undo brings it back)
    /// and it is in the journal.
    pub fn take_disk(&mut self, path: &Path) -> Result<String, String> {
        let path = self.resolve(path);
        let text = allsource_live::read_source(&path)?;
        if self.tab_mut(&path).is_none() {
            self.open(&path)?;
        }
        let tab = self.tab_mut(&path).ok_or("no buffer")?;
        tab.set_text(text.clone());
        tab.disk = Some(text.clone());
        tab.conflict = None;
        Ok(text)
    }

    /// Buffers whose edits should be written to their files now: unsaved, not in conflict, idle for `idle`, and
    /// built (the newest report of the source went live with exactly this text), or not a source of their own (an
    /// included file: writing it is how its includers see it). Each is returned once per text.
    pub fn autosave_due(&mut self, idle: Duration) -> Vec<(PathBuf, String)> {
        let mut due = Vec::new();
        for tab in &mut self.tabs {
            if !tab.unsaved() || tab.conflict.is_some() || tab.changed_at.is_some_and(|t| t.elapsed() < idle) {
                continue;
            }
            let built = match self.sources.get(&tab.path) {
                None => true,
                Some(s) => match &s.state {
                    BuildState::Ok { .. } => s.live_text.as_deref() == Some(tab.text.as_str()),
                    BuildState::Unknown => s.live_text.is_none(),
                    _ => false,
                },
            };
            if !built {
                continue;
            }
            let h = hash(&tab.text);
            if tab.saving != Some(h) {
                tab.saving = Some(h);
                due.push((tab.path.clone(), tab.text.clone()));
            }
        }
        due
    }

    /// Whether what the editor shows changes with time alone (a build's running clock, the preview's stats): then
    /// it must be laid out again every frame, input or not.
    pub fn animating(&self) -> bool {
        self.preview.is_some() || self.sources.values().any(|s| matches!(s.state, BuildState::Building { .. }))
    }

    /// The path and text of the tab in front.
    pub fn active(&self) -> Option<(&Path, &str)> {
        self.active.and_then(|i| self.tabs.get(i)).map(|t| (t.path.as_path(), t.text.as_str()))
    }

    /// Puts the caret at `line`, `column` (1-based, in characters) of the active buffer at the next pass.
    pub fn goto(&mut self, line: u32, column: u32) -> Result<(), String> {
        if self.active.is_none() {
            return Err("no source is open (use `open PATH`)".into());
        }
        self.goto = Some((line.max(1), column.max(1)));
        self.focus_code = true;
        Ok(())
    }

    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    pub fn sources(&self) -> &BTreeMap<PathBuf, SourceState> {
        &self.sources
    }

    pub fn tweaks(&self) -> impl Iterator<Item = &Tweak> {
        self.tweaks.values().flatten()
    }

    /// Every diagnostic of every source's newest build.
    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.sources.values().flat_map(|s| s.diagnostics.iter())
    }

    /// A version undo or redo was sent for `path`: the buffer will show the version that becomes live.
    pub fn expect_version_change(&mut self, path: &Path) {
        let path = self.resolve(path);
        self.sources.entry(path.clone()).or_default().awaiting_version = true;
        self.sources.entry(path).or_default().state = BuildState::Building { since: Instant::now() };
    }

    /// Takes a build report from the worker.
    pub fn built(&mut self, report: &Report) {
        let source = self.sources.entry(report.path.clone()).or_default();
        let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
        source.diagnostics = report.diagnostics.clone();
        source.live_version = report.live_version;
        if report.live_text.is_some() {
            source.live_text = report.live_text.clone();
        }
        source.state = match (report.version, report.became_live) {
            _ if report.pending => BuildState::Waiting { live: report.live_version },
            (Some(version), true) => BuildState::Ok { version, took: report.took },
            (version, _) if errors > 0 => BuildState::Failed { version, errors, live: report.live_version },
            (Some(version), false) => BuildState::Ok { version, took: report.took },
            // News that built nothing (typed text back to the live text, a warning about how a version runs): the
            // live version is what runs, as it was built.
            (None, _) => report
                .live_version
                .and_then(|live| source.versions.iter().find(|v| v.version == live))
                .map_or(BuildState::Unknown, |v| BuildState::Ok { version: v.version, took: v.took }),
        };
        if let Some(version) = report.version {
            source.versions.retain(|v| v.version != version);
            source.versions.push(VersionNote { version, ok: errors == 0, errors, took: report.took });
            source.versions.sort_by_key(|v| v.version);
        }
        if std::mem::take(&mut source.awaiting_version)
            && let Some(text) = &report.live_text
            && let Some(tab) = self.tabs.iter_mut().find(|t| allsource_live::same_file(&t.path, &report.path))
        {
            tab.set_text(text.to_string());
        }
    }

    /// The uniforms a shader exposes now (after a build went live). Annotations come from its live text; a value
    /// with an annotated default that the bar has not seen before is set to that default. With `noted_only`
    /// (shaders of a Lua scene, whose uniforms Lua sets every draw), only uniforms with a comment on their line
    /// are shown.
    pub fn set_tweaks(&mut self, source: &Path, mut list: Vec<Tweak>, noted_only: bool) {
        let text = self.sources.get(source).and_then(|s| s.live_text.clone());
        let notes = text.map(|t| annotations(&t)).unwrap_or_default();
        if noted_only {
            list.retain(|t| notes.get(&t.name).is_some_and(|a| a.noted));
        }
        let known = self.tweaks.remove(source).unwrap_or_default();
        for tweak in &mut list {
            tweak.annotation = notes.get(&tweak.name).cloned().unwrap_or_default();
            let seen = known.iter().any(|k| k.name == tweak.name && k.kind == tweak.kind);
            if let (false, Some(default)) = (seen, tweak.annotation.default.clone())
                && default.len() == tweak.value.len()
            {
                tweak.value = tweak.normalised(&default);
                self.actions.push(Action::SetUniform {
                    path: source.to_path_buf(),
                    name: tweak.name.clone(),
                    kind: tweak.kind,
                    values: tweak.value.clone(),
                });
            }
        }
        self.tweaks.insert(source.to_path_buf(), list);
    }

    /// Sets a tweak as the bar would (the `uniform` command): on the active source, else the one source that has
    /// a uniform of that name.
    pub fn set_uniform(&mut self, name: &str, values: &[f64]) -> Result<(), String> {
        let active = self.active().map(|(p, _)| p.to_path_buf());
        let candidates: Vec<&Tweak> = self.tweaks().filter(|t| t.name == name).collect();
        let tweak = candidates
            .iter()
            .find(|t| Some(&t.source) == active.as_ref())
            .or_else(|| (candidates.len() == 1).then(|| &candidates[0]))
            .copied()
            .ok_or_else(|| match candidates.len() {
                0 => format!("no shader has a tweakable uniform `{name}`"),
                n => format!("{n} shaders have a uniform `{name}`: open the one you mean"),
            })?;
        let components = tweak.value.len();
        if values.len() != components {
            return Err(format!("`{name}` has {components} component(s); {} given", values.len()));
        }
        let (path, kind, values) = (tweak.source.clone(), tweak.kind, tweak.normalised(values));
        self.change_tweak(&path, name, kind, values);
        Ok(())
    }

    fn change_tweak(&mut self, path: &Path, name: &str, kind: Kind, values: Vec<f64>) {
        if let Some(t) = self.tweaks.get_mut(path).and_then(|l| l.iter_mut().find(|t| t.name == name)) {
            t.value = values.clone();
        }
        self.actions.push(Action::SetUniform { path: path.to_path_buf(), name: name.to_owned(), kind, values });
    }
}

/// The character index of (`line`, `column`), both 1-based; clamped into the text.
pub fn char_index(text: &str, line: u32, column: u32) -> usize {
    let mut index = 0;
    for (n, l) in text.split('\n').enumerate() {
        let len = l.chars().count();
        if n + 1 == line as usize {
            return index + (column.max(1) as usize - 1).min(len);
        }
        index += len + 1;
    }
    text.chars().count()
}

/// The 1-based line and column of character `index`.
pub fn line_column(text: &str, index: usize) -> (u32, u32) {
    let before: String = text.chars().take(index).collect();
    let line = before.matches('\n').count() as u32 + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    (line, column)
}

/// The characters a diagnostic underlines: from its column (or the line's first non-blank) to the end of the
/// word there (or of the line, without a column).
fn diagnostic_span(text: &str, line: u32, column: Option<u32>) -> (usize, usize) {
    let line_text = text.split('\n').nth(line.saturating_sub(1) as usize).unwrap_or("");
    let chars: Vec<char> = line_text.chars().collect();
    let first = chars.iter().position(|c| !c.is_whitespace()).unwrap_or(0);
    let start_col = column.map_or(first, |c| (c.max(1) as usize - 1).min(chars.len()));
    let end_col = match column {
        Some(_) => {
            let word = chars[start_col..].iter().take_while(|c| c.is_alphanumeric() || **c == '_').count();
            start_col + word.max(1)
        }
        None => chars.len().max(start_col + 1),
    };
    let base = char_index(text, line, 1);
    (base + start_col, base + end_col.min(chars.len().max(start_col + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_that_built_nothing_keeps_the_sources_state() {
        let mut editor = Editor::new("/scene", ConsoleLog::default());
        let path = PathBuf::from("/scene/main.lua");
        let report = |version: Option<u64>| Report {
            path: path.clone(),
            version,
            live_version: Some(1),
            became_live: version.is_some(),
            took: Duration::from_millis(4),
            diagnostics: Vec::new(),
            live_text: None,
            pending: false,
            verdict: None,
        };
        editor.built(&report(Some(1)));
        editor.built(&report(None));
        assert!(matches!(editor.sources[&path].state, BuildState::Ok { version: 1, .. }));
        // Typing that failed to compile, then typed back to the live text: the live version again, not the error.
        let typed = Diagnostic::error(path.clone(), "unexpected symbol".to_owned());
        editor.built(&Report { diagnostics: vec![typed], ..report(None) });
        assert!(matches!(editor.sources[&path].state, BuildState::Failed { errors: 1, .. }));
        editor.built(&report(None));
        assert!(matches!(editor.sources[&path].state, BuildState::Ok { version: 1, .. }));
        // A source never built stays unknown.
        let other = PathBuf::from("/scene/lib.glsl");
        editor.built(&Report { path: other.clone(), live_version: None, ..report(None) });
        assert!(matches!(editor.sources[&other].state, BuildState::Unknown));
    }

    #[test]
    fn line_and_column_arithmetic() {
        let text = "ab\nçd e\n\nlast";
        assert_eq!(char_index(text, 2, 3), 5);
        assert_eq!(line_column(text, 5), (2, 3));
        assert_eq!(char_index(text, 9, 1), text.chars().count());
        assert_eq!(char_index(text, 2, 99), 7);
        assert_eq!(diagnostic_span(text, 2, Some(1)), (3, 5));
        assert_eq!(diagnostic_span(text, 2, None), (3, 7));
        assert_eq!(diagnostic_span(text, 3, None), (8, 9));
    }
}
