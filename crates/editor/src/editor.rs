//! The editor's state and its egui UI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use allsource_live::{Diagnostic, Report};
use egui::text::{CCursor, CCursorRange, LayoutJob, TextFormat};
use egui::{Color32, FontId, Id, Key, Modifiers, Pos2, Rect, Sense, Stroke, Ui, Vec2};

use crate::console::{ConsoleLog, Level};
use crate::highlight::{Lang, Token, tokens};
use crate::tweak::{Kind, Tweak, annotations};

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

const ERROR_COLOUR: Color32 = Color32::from_rgb(240, 70, 60);
const WARNING_COLOUR: Color32 = Color32::from_rgb(235, 190, 50);
const PANEL_FILL: Color32 = Color32::from_rgba_premultiplied(14, 16, 20, 215);
const GUTTER_WIDTH: f32 = 44.0;
const TEXT_BACKDROP: Color32 = Color32::from_rgba_premultiplied(0, 0, 0, 170);

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
    /// The scene's main source (main.lua or main.glsl): what the editor shows when it is first toggled on.
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
            (None, _) => BuildState::Unknown,
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

    /// The whole overlay, for one egui pass.
    pub fn ui(&mut self, ui: &mut Ui) {
        if !self.visible {
            return;
        }
        if let Some(view) = self.preview.clone() {
            self.preview_panel(ui, &view);
        }
        let ctx = ui.ctx().clone();
        if !self.styled {
            let mut style = (*ctx.global_style()).clone();
            style.visuals.panel_fill = PANEL_FILL;
            style.visuals.window_fill = PANEL_FILL;
            ctx.set_global_style(style);
            self.styled = true;
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::F)) {
            self.find = if self.find.is_some() { None } else { Some(String::new()) };
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::S))
            && let Some(tab) = self.active.and_then(|i| self.tabs.get(i))
        {
            self.actions.push(Action::Save { path: tab.path.clone(), text: tab.text.clone() });
        }
        egui::Panel::top("tabs").show(ui, |ui| self.tab_bar(ui));
        // A third of the frame, whatever the console holds: the layout stays where the user's eyes (and scripts'
        // clicks) expect it.
        let console = (ctx.content_rect().height() * 0.32).clamp(120.0, 360.0);
        egui::Panel::bottom("console").resizable(false).exact_size(console).show(ui, |ui| self.console(ui));
        if self.tweaks.values().any(|l| !l.is_empty()) {
            egui::Panel::right("tweaks").resizable(true).default_size(240.0).show(ui, |ui| self.tweak_bar(ui));
        }
        // The code floats over the running scene: no panel fill, only a dark band behind each line of text.
        let clear = egui::Frame::NONE.inner_margin(6);
        egui::CentralPanel::default().frame(clear).show(ui, |ui| self.code(ui));
    }

    fn tab_bar(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            let mut close = None;
            for (i, tab) in self.tabs.iter().enumerate() {
                let failing = self.sources.get(&tab.path).is_some_and(|s| s.diagnostics.iter().any(|d| d.is_error()));
                let name = self.display(&tab.path).into_owned();
                let label = egui::RichText::new(name).color(if failing { ERROR_COLOUR } else { Color32::LIGHT_GRAY });
                if ui.selectable_label(self.active == Some(i), label).clicked() {
                    self.active = Some(i);
                    self.focus_code = true;
                }
                if ui.small_button("×").clicked() {
                    close = Some(i);
                }
            }
            if let Some(i) = close {
                self.tabs.remove(i);
                self.active = if self.tabs.is_empty() { None } else { Some(i.min(self.tabs.len() - 1)) };
            }
            let response = ui.menu_button("open…", |ui| {
                let files = self.files.clone();
                for file in files {
                    if ui.button(self.display(&file)).clicked() {
                        if let Err(e) = self.open(&file) {
                            self.log.push(Level::Error, e);
                        }
                        ui.close();
                    }
                }
            });
            if response.response.clicked() {
                self.files = source_files(&self.root);
            }
        });
    }

    fn status_line(&mut self, ui: &mut Ui, path: &Path) {
        let source = self.sources.get(path);
        let (text, colour) = match source.map(|s| &s.state) {
            Some(BuildState::Building { since }) => {
                (format!("building… {:.0} ms", since.elapsed().as_secs_f64() * 1e3), Color32::LIGHT_BLUE)
            }
            Some(BuildState::Ok { version, took }) => {
                (format!("ok · version {version} · built in {:.1} ms", took.as_secs_f64() * 1e3), Color32::LIGHT_GREEN)
            }
            Some(BuildState::Failed { version, errors, live }) => (
                format!(
                    "{errors} error{} in version {} · {} stays live",
                    if *errors == 1 { "" } else { "s" },
                    version.map_or("?".into(), |v| v.to_string()),
                    live.map_or("no version".into(), |v| format!("version {v}"))
                ),
                ERROR_COLOUR,
            ),
            Some(BuildState::Waiting { live }) => (
                format!(
                    "compiles · runs when you pause typing · {} runs until then",
                    live.map_or("no version".into(), |v| format!("version {v}"))
                ),
                Color32::LIGHT_BLUE,
            ),
            Some(BuildState::Unknown) | None => ("not built on its own".into(), Color32::GRAY),
        };
        let tab = self.tabs.iter().find(|t| t.path == path);
        let conflict = tab.is_some_and(|t| t.conflict.is_some());
        let saved = match tab {
            Some(t) if t.unsaved() => "unsaved",
            Some(_) => "saved",
            None => "",
        };
        let mut preview = false;
        ui.horizontal(|ui| {
            ui.monospace(self.display(path));
            ui.colored_label(colour, text);
            ui.colored_label(Color32::GRAY, saved);
            if Lang::of(path) == Lang::Lua {
                preview = ui.small_button("preview").on_hover_text("run this buffer as guest code, apart").clicked();
            }
        });
        if conflict {
            let name = self.display(path).into_owned();
            ui.colored_label(
                ERROR_COLOUR,
                format!(
                    "conflict: {name} changed on disk while this buffer had unsaved edits. Both are kept: ctrl+s \
                     writes this buffer over the file, `reload {name}` takes the file's text (this one stays in undo)"
                ),
            );
        }
        if preview && let Some(tab) = self.tabs.iter().find(|t| t.path == path) {
            self.actions.push(Action::Preview { path: tab.path.clone(), text: tab.text.clone() });
        }
    }

    /// The preview's stats under its frame: FPS and Lua time on its own clock, a frame-time graph against the
    /// budget, the frames within budget promotion needs, and the promote / reject buttons.
    fn preview_panel(&mut self, ui: &mut Ui, view: &PreviewView) {
        let screen = ui.ctx().content_rect();
        let [x, y, w, h] = view.rect;
        let at = Pos2::new(screen.width() * x, screen.height() * (y + h) + 2.0);
        let width = screen.width() * w;
        let mut act = None;
        egui::Area::new(egui::Id::unique("preview-panel")).fixed_pos(at).show(ui.ctx(), |ui| {
            egui::Frame::NONE.fill(PANEL_FILL).inner_margin(4).show(ui, |ui| {
                ui.set_width(width - 8.0);
                let mean = |v: &[f32]| if v.is_empty() { 0.0 } else { v.iter().sum::<f32>() / v.len() as f32 };
                let interval = mean(&view.intervals[view.intervals.len().saturating_sub(30)..]);
                let fps = if interval > 0.0 { 1000.0 / interval } else { 0.0 };
                ui.label(egui::RichText::new(format!("preview · {}", self.display(&view.path))).strong());
                match &view.stopped {
                    Some(why) => {
                        ui.colored_label(ERROR_COLOUR, format!("stopped: {}", first_line(why)));
                    }
                    None => {
                        let lua = view.lua_ms.last().copied().unwrap_or(0.0);
                        ui.label(format!(
                            "{fps:.0} fps · lua {lua:.1} of {:.1} ms · {}/{} frames within budget{}",
                            view.budget_ms,
                            view.good_in_a_row.min(view.required),
                            view.required,
                            if view.low_priority { " · low-priority context" } else { "" }
                        ));
                    }
                }
                let (rect, _) = ui.allocate_exact_size(Vec2::new(width - 8.0, 36.0), Sense::hover());
                let painter = ui.painter();
                painter.rect_filled(rect, 0.0, Color32::from_black_alpha(120));
                let scale = (view.budget_ms * 2.0).max(1.0);
                let budget_y = rect.bottom() - rect.height() * (view.budget_ms / scale).min(1.0);
                painter.hline(rect.x_range(), budget_y, Stroke::new(1.0, Color32::from_gray(140)));
                let n = view.lua_ms.len().max(2) as f32;
                let points: Vec<Pos2> = view
                    .lua_ms
                    .iter()
                    .enumerate()
                    .map(|(i, ms)| {
                        let px = rect.left() + rect.width() * i as f32 / (n - 1.0);
                        Pos2::new(px, rect.bottom() - rect.height() * (ms / scale).min(1.0))
                    })
                    .collect();
                if points.len() >= 2 {
                    painter.add(egui::Shape::line(points, Stroke::new(1.5, Color32::LIGHT_GREEN)));
                }
                ui.horizontal(|ui| {
                    let vetted = view.stopped.is_none() && view.good_in_a_row >= view.required;
                    if ui.add_enabled(vetted, egui::Button::new("promote")).clicked() {
                        act = Some(Action::Promote);
                    }
                    if ui.button("reject").clicked() {
                        act = Some(Action::Reject);
                    }
                });
            });
        });
        if let Some(a) = act {
            self.actions.push(a);
        }
    }

    fn code(&mut self, ui: &mut Ui) {
        let Some(index) = self.active.filter(|&i| i < self.tabs.len()) else {
            ui.label("No source open. Use the “open…” menu, or the console: open PATH");
            return;
        };
        let path = self.tabs[index].path.clone();
        self.status_line(ui, &path);
        if let Some(query) = &mut self.find {
            let mut next = false;
            ui.horizontal(|ui| {
                ui.label("find:");
                let r = ui.text_edit_singleline(query);
                next = r.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            });
            if next {
                let query = query.clone();
                self.find_next(index, &query);
            }
        }
        let id = Id::unique(("code", &path));
        if let Some((line, column)) = self.goto.take() {
            let at = char_index(&self.tabs[index].text, line, column);
            let mut state = egui::TextEdit::load_state(ui.ctx(), id).unwrap_or_default();
            state.cursor.set_char_range(Some(CCursorRange::one(CCursor::new(at))));
            egui::TextEdit::store_state(ui.ctx(), id, state);
        }
        let diagnostics: Vec<Diagnostic> = self
            .sources
            .get(&path)
            .map(|s| s.diagnostics.iter().filter(|d| allsource_live::same_file(&d.file, &path)).cloned().collect())
            .unwrap_or_default();
        let lang = self.tabs[index].lang;
        let font = FontId::monospace(13.0);
        let row_height = ui.ctx().fonts_mut(|f| f.row_height(&font));
        // Colouring is redone only when the text changed (egui asks for a layout every frame; a long file would
        // otherwise be tokenized 60 times a second).
        let cache = &mut self.layout_cache;
        let mut layouter = |ui: &Ui, buf: &dyn egui::TextBuffer, _wrap: f32| {
            let text = buf.as_str();
            let key = {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                (text, lang as u8).hash(&mut h);
                h.finish()
            };
            let job = match cache {
                Some((k, job)) if *k == key => job.clone(),
                _ => {
                    let job = layout_job(text, lang, &font);
                    *cache = Some((key, job.clone()));
                    job
                }
            };
            ui.ctx().fonts_mut(|f| f.layout_job(job))
        };
        let mut changed = false;
        let mut jump_rect = None;
        egui::ScrollArea::both().auto_shrink([false, false]).id_salt(("scroll", &path)).show(ui, |ui| {
            ui.horizontal_top(|ui| {
                let lines = self.tabs[index].text.split('\n').count().max(1);
                let (gutter, _) =
                    ui.allocate_exact_size(Vec2::new(GUTTER_WIDTH, lines as f32 * row_height), Sense::hover());
                let backdrop = ui.painter().add(egui::Shape::Noop);
                let output = egui::TextEdit::multiline(&mut self.tabs[index].text)
                    .id(id)
                    .code_editor()
                    .lock_focus(true)
                    .desired_width(f32::INFINITY)
                    .desired_rows(lines.max(20))
                    .frame(egui::Frame::NONE)
                    .layouter(&mut layouter)
                    .show(ui);
                if std::mem::take(&mut self.focus_code) {
                    output.response.request_focus();
                }
                changed = output.response.changed();
                if let Some(range) = output.cursor_range
                    && output.response.has_focus()
                {
                    let r = output.galley.pos_from_cursor(range.primary).translate(output.galley_pos.to_vec2());
                    jump_rect = Some(r);
                }
                let painter = ui.painter();
                let bands: Vec<egui::Shape> = output
                    .galley
                    .rows
                    .iter()
                    .map(|row| {
                        let r = row.rect().translate(output.galley_pos.to_vec2());
                        let r = Rect::from_min_max(
                            Pos2::new(gutter.left(), r.top()),
                            Pos2::new(r.right() + 4.0, r.bottom()),
                        );
                        egui::Shape::rect_filled(r, 0.0, TEXT_BACKDROP)
                    })
                    .collect();
                painter.set(backdrop, egui::Shape::Vec(bands));
                let text = &self.tabs[index].text;
                // Line numbers: one per source line (no wrapping, so galley rows are source lines).
                for (row, placed) in output.galley.rows.iter().enumerate() {
                    let y = output.galley_pos.y + placed.rect().min.y;
                    painter.text(
                        Pos2::new(gutter.right() - 6.0, y),
                        egui::Align2::RIGHT_TOP,
                        (row + 1).to_string(),
                        font.clone(),
                        Color32::from_gray(110),
                    );
                }
                // The error layer: a squiggle under each diagnostic's place, a dot in the gutter, the message on
                // hover. Warnings are yellow, errors red.
                for (n, d) in diagnostics.iter().enumerate() {
                    let Some(line) = d.line else { continue };
                    let colour = if d.is_error() { ERROR_COLOUR } else { WARNING_COLOUR };
                    let (start, end) = diagnostic_span(text, line, d.column);
                    let a = output.galley.pos_from_cursor(CCursor::new(start)).translate(output.galley_pos.to_vec2());
                    let b = output.galley.pos_from_cursor(CCursor::new(end)).translate(output.galley_pos.to_vec2());
                    squiggle(painter, a.left_bottom(), b.right_bottom().x.max(a.left() + 8.0), colour);
                    let dot = Pos2::new(gutter.left() + 6.0, a.center().y);
                    painter.circle_filled(dot, 4.0, colour);
                    let hover = Rect::from_min_max(
                        Pos2::new(a.left(), a.top()),
                        Pos2::new(b.right().max(a.left() + 8.0), b.bottom() + 2.0),
                    )
                    .union(Rect::from_center_size(dot, Vec2::splat(10.0)));
                    ui.interact(hover, id.with(("diagnostic", n)), Sense::hover()).on_hover_text(&d.message);
                }
            });
        });
        if let Some(r) = jump_rect.filter(|_| changed) {
            ui.scroll_to_rect(r, None);
        }
        if changed {
            let tab = &mut self.tabs[index];
            tab.changed_at = Some(Instant::now());
            self.sources.entry(tab.path.clone()).or_default().state = BuildState::Building { since: Instant::now() };
            self.actions.push(Action::Edit { path: tab.path.clone(), text: tab.text.clone() });
        }
    }

    fn find_next(&mut self, index: usize, query: &str) {
        if query.is_empty() {
            return;
        }
        let text = &self.tabs[index].text;
        // The first match after the caret's line, wrapping around to the top.
        let caret_line = self.find_from.get(&self.tabs[index].path).copied().unwrap_or(0);
        let after = text.split('\n').take(caret_line as usize).map(|l| l.len() + 1).sum::<usize>().min(text.len());
        let found = text[after..].find(query).map(|b| b + after).or_else(|| text.find(query));
        if let Some(byte) = found {
            let start = text[..byte].chars().count();
            let (line, column) = line_column(text, start);
            self.find_from.insert(self.tabs[index].path.clone(), line);
            self.goto = Some((line, column));
        }
    }

    fn console(&mut self, ui: &mut Ui) {
        let diagnostics: Vec<Diagnostic> = self.diagnostics().cloned().collect();
        if !diagnostics.is_empty() {
            ui.horizontal_wrapped(|ui| {
                for d in &diagnostics {
                    let colour = if d.is_error() { ERROR_COLOUR } else { WARNING_COLOUR };
                    let place =
                        format!("{}:{}", self.display(&d.file), d.line.map_or(String::new(), |l| l.to_string()));
                    let text = egui::RichText::new(format!("{place} {}", first_line(&d.message))).color(colour);
                    if ui.link(text).on_hover_text(&d.message).clicked() {
                        let file = d.file.clone();
                        if let Err(e) = self.open(&file) {
                            self.log.push(Level::Error, e);
                        } else if let Some(line) = d.line {
                            self.goto = Some((line, d.column.unwrap_or(1)));
                        }
                    }
                }
            });
            ui.separator();
        }
        let input_height = 28.0;
        egui::ScrollArea::vertical()
            .stick_to_bottom(true)
            .auto_shrink([false, false])
            .max_height((ui.available_height() - input_height).max(20.0))
            .show(ui, |ui| {
                self.log.with_lines(|lines| {
                    let first = lines.len().saturating_sub(400);
                    for line in lines.iter().skip(first) {
                        let colour = match line.level {
                            Level::Info => Color32::LIGHT_GRAY,
                            Level::Warn => WARNING_COLOUR,
                            Level::Error => ERROR_COLOUR,
                            Level::Command => Color32::LIGHT_BLUE,
                            Level::Result => Color32::WHITE,
                        };
                        ui.label(egui::RichText::new(&line.text).monospace().color(colour));
                    }
                });
            });
        let response = ui.add(
            egui::TextEdit::singleline(&mut self.input)
                .id(Id::unique("console-input"))
                .hint_text("command (open, goto, uniform, stats, …) or Lua")
                .desired_width(f32::INFINITY)
                .font(egui::TextStyle::Monospace),
        );
        if response.has_focus() {
            let (up, down) = ui.input(|i| (i.key_pressed(Key::ArrowUp), i.key_pressed(Key::ArrowDown)));
            if (up || down) && !self.history.is_empty() {
                let last = self.history.len() - 1;
                let at = match (self.history_at, up) {
                    (None, true) => Some(last),
                    (None, false) => None,
                    (Some(i), true) => Some(i.saturating_sub(1)),
                    (Some(i), false) => (i < last).then_some(i + 1),
                };
                self.history_at = at;
                self.input = at.map_or(String::new(), |i| self.history[i].clone());
            }
        }
        if response.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
            let line = std::mem::take(&mut self.input);
            if !line.trim().is_empty() {
                self.history.push(line.clone());
                self.history_at = None;
                self.actions.push(Action::Console(line));
            }
            response.request_focus();
        }
    }

    fn tweak_bar(&mut self, ui: &mut Ui) {
        let mut changes = Vec::new();
        egui::ScrollArea::vertical().show(ui, |ui| {
            for (source, list) in &self.tweaks {
                if list.is_empty() {
                    continue;
                }
                ui.label(egui::RichText::new(self.display(source)).strong());
                egui::Grid::new(("tweaks", source)).num_columns(2).show(ui, |ui| {
                    for t in list {
                        ui.label(&t.name);
                        if let Some(values) = tweak_widget(ui, t) {
                            changes.push((source.clone(), t.name.clone(), t.kind, t.normalised(&values)));
                        }
                        ui.end_row();
                    }
                });
            }
        });
        for (source, name, kind, values) in changes {
            self.change_tweak(&source, &name, kind, values);
        }
    }
}

/// One tweak's widget; the new value when the user changed it.
fn tweak_widget(ui: &mut Ui, t: &Tweak) -> Option<Vec<f64>> {
    let mut v = t.value.clone();
    let changed = match (t.kind, v.len()) {
        (Kind::Bool, 1) => {
            let mut b = v[0] != 0.0;
            let r = ui.checkbox(&mut b, "").changed();
            v[0] = f64::from(b);
            r
        }
        (Kind::Float, 3) if t.annotation.colour => {
            let mut rgb = [v[0] as f32, v[1] as f32, v[2] as f32];
            let r = ui.color_edit_button_rgb(&mut rgb).changed();
            v = rgb.iter().map(|&c| f64::from(c)).collect();
            r
        }
        (Kind::Float, 4) if t.annotation.colour => {
            let mut rgba = [v[0] as f32, v[1] as f32, v[2] as f32, v[3] as f32];
            let r = ui.color_edit_button_rgba_unmultiplied(&mut rgba).changed();
            v = rgba.iter().map(|&c| f64::from(c)).collect();
            r
        }
        (Kind::Float, 1) if t.annotation.range.is_some() => {
            let (lo, hi) = t.annotation.range.unwrap_or((0.0, 1.0));
            let mut slider = egui::Slider::new(&mut v[0], lo..=hi);
            if let Some(step) = t.annotation.step {
                slider = slider.step_by(step);
            }
            ui.add(slider).changed()
        }
        _ => {
            let speed = t.annotation.step.unwrap_or(match t.kind {
                Kind::Float => 0.01,
                _ => 1.0,
            });
            ui.horizontal(|ui| {
                let mut any = false;
                for c in &mut v {
                    let mut drag = egui::DragValue::new(c).speed(speed);
                    if let Some((lo, hi)) = t.annotation.range {
                        drag = drag.range(lo..=hi);
                    }
                    if t.kind != Kind::Float {
                        drag = drag.fixed_decimals(0);
                    }
                    any |= ui.add(drag).changed();
                }
                any
            })
            .inner
        }
    };
    changed.then_some(v)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Source files under `root` that the editor can open (two levels deep, hidden directories left out).
fn source_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if path.is_dir() && depth < 2 && !hidden {
                dirs.push((path, depth + 1));
            } else if Lang::of(&path) != Lang::Plain {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn colour_of(token: Token) -> Color32 {
    match token {
        Token::Plain => Color32::from_rgb(220, 220, 215),
        Token::Comment => Color32::from_rgb(120, 135, 120),
        Token::String => Color32::from_rgb(215, 170, 110),
        Token::Number => Color32::from_rgb(180, 205, 140),
        Token::Keyword => Color32::from_rgb(200, 130, 220),
        Token::Type => Color32::from_rgb(90, 180, 230),
        Token::Builtin => Color32::from_rgb(90, 200, 180),
        Token::Preprocessor => Color32::from_rgb(230, 120, 120),
    }
}

/// The coloured, unwrapped layout of a buffer.
pub(crate) fn layout_job(text: &str, lang: Lang, font: &FontId) -> LayoutJob {
    let mut job = LayoutJob::default();
    for (range, token) in tokens(text, lang) {
        job.append(&text[range], 0.0, TextFormat::simple(font.clone(), colour_of(token)));
    }
    job.wrap.max_width = f32::INFINITY;
    job
}

/// A wavy line from `start` to x = `end_x`.
fn squiggle(painter: &egui::Painter, start: Pos2, end_x: f32, colour: Color32) {
    let mut points = Vec::new();
    let mut x = start.x;
    let mut up = false;
    while x <= end_x {
        points.push(Pos2::new(x, start.y + if up { -1.5 } else { 1.0 }));
        up = !up;
        x += 3.0;
    }
    if points.len() >= 2 {
        painter.add(egui::Shape::line(points, Stroke::new(1.4, colour)));
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
