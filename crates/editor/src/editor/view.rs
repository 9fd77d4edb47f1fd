//! The editor drawn with egui: the tab bar, the status line, the code with its error layer, the preview panel, the
//! console and the tweak bar. The model it draws (buffers, build states, tweaks, actions) is the parent module's.

use super::*;

const ERROR_COLOUR: Color32 = Color32::from_rgb(240, 70, 60);
const WARNING_COLOUR: Color32 = Color32::from_rgb(235, 190, 50);
/// Opaque: the compositor copies opaque tiles of the editor's layer in with a blit and blends only the rest (on
/// llvmpipe a blend costs the fragment pipeline on every pixel). The code floats over the scene on translucent
/// bands instead (`TEXT_BACKDROP`).
const PANEL_FILL: Color32 = Color32::from_rgb(14, 16, 20);
const GUTTER_WIDTH: f32 = 44.0;
const TEXT_BACKDROP: Color32 = Color32::from_rgba_premultiplied(0, 0, 0, 170);

impl Editor {
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
            // A steady caret: a blinking one lays the editor out and paints it again twice a second, frames
            // that cost milliseconds on a software rasterizer and show in the frame-time p99.
            style.visuals.text_cursor.blink = false;
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
        // No separator lines: the opaque panels end where the scene begins, and a line there (outside the fill)
        // would cost a row of blended tiles.
        egui::Panel::top("tabs").show_separator_line(false).show(ui, |ui| self.tab_bar(ui));
        // A third of the frame, whatever the console holds: the layout stays where the user's eyes (and scripts'
        // clicks) expect it.
        let console = (ctx.content_rect().height() * 0.32).clamp(120.0, 360.0);
        egui::Panel::bottom("console")
            .resizable(false)
            .show_separator_line(false)
            .exact_size(console)
            .show(ui, |ui| self.console(ui));
        if self.tweaks.values().any(|l| !l.is_empty()) {
            egui::Panel::right("tweaks")
                .resizable(true)
                .show_separator_line(false)
                .default_size(240.0)
                .show(ui, |ui| self.tweak_bar(ui));
        }
        // The code floats over the running scene: no panel fill, only a dark band behind each line of text.
        let clear = egui::Frame::NONE.inner_margin(6);
        egui::CentralPanel::default().frame(clear).show(ui, |ui| self.code(ui));
    }

    pub(super) fn tab_bar(&mut self, ui: &mut Ui) {
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
                // Each name on one line: the menu takes the width of the longest (egui wrapped them to the width of
                // the narrow "open…" button, a letter a line).
                ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
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

    pub(super) fn status_line(&mut self, ui: &mut Ui, path: &Path) {
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
                    "{errors} error{} in {} · {} stays live",
                    if *errors == 1 { "" } else { "s" },
                    // Typed text that does not compile is no version yet.
                    version.map_or("the typed text".into(), |v| format!("version {v}")),
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
        // On a band as the code's lines are: readable over a bright scene.
        egui::Frame::NONE.fill(TEXT_BACKDROP).show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.monospace(self.display(path));
                ui.colored_label(colour, text);
                ui.colored_label(Color32::GRAY, saved);
                if Lang::of(path) == Lang::Lua {
                    preview =
                        ui.small_button("preview").on_hover_text("run this buffer as guest code, apart").clicked();
                }
            });
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
    pub(super) fn preview_panel(&mut self, ui: &mut Ui, view: &PreviewView) {
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

    pub(super) fn code(&mut self, ui: &mut Ui) {
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

    pub(super) fn find_next(&mut self, index: usize, query: &str) {
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

    pub(super) fn console(&mut self, ui: &mut Ui) {
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
                    // The newest 400 lines shown; news that newer news replaced (a build while typing) is not.
                    let shown: Vec<&LogLine> = lines.iter().filter(|l| !l.hidden).collect();
                    for line in &shown[shown.len().saturating_sub(400)..] {
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

    pub(super) fn tweak_bar(&mut self, ui: &mut Ui) {
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
pub(super) fn tweak_widget(ui: &mut Ui, t: &Tweak) -> Option<Vec<f64>> {
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

pub(super) fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Source files under `root` that the editor can open (two levels deep, hidden directories left out).
pub(super) fn source_files(root: &Path) -> Vec<PathBuf> {
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

pub(super) fn colour_of(token: Token) -> Color32 {
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
pub(super) fn squiggle(painter: &egui::Painter, start: Pos2, end_x: f32, colour: Color32) {
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
