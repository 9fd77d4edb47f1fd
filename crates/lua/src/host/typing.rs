//! Typed text of a Lua module: every keystroke compiles at once (its syntax error shows), but the text runs only
//! once it compiles and the typing has paused for `pause` of scene time, so half-typed code never runs into state.

use std::path::Path;
use std::time::Duration;

use allsource_live::Report;

use super::ModuleHost;
use super::registry::check_module;
use crate::api::Graphics;

impl<G: Graphics + 'static> ModuleHost<G> {
    /// How long typing must pause before a typed text runs (0: at the next frame).
    pub fn set_pause(&mut self, pause: Duration) {
        self.pause = pause;
    }

    /// New typed text for the module in `path` (a keystroke in the editor): it is compiled at once (a syntax error
    /// is reported on its line), but it *runs* (top level, hand-off, callbacks) only once it compiles and `pause`
    /// has passed without another keystroke, measured in scene time from `now`: see [`ModuleHost::run_due`].
    /// `None` when `path` is not a module of this scene.
    pub fn draft(&mut self, path: &Path, text: &str, now: f64) -> Option<Vec<Report>> {
        if self.registry().left_out.contains_key(path) {
            return self.edit(path, text);
        }
        let index = self.index_of_path(path)?;
        let error = check_module(&self.lua, path, text);
        let mut registry = self.registry();
        let record = &mut registry.modules[index];
        let live = record.live.as_ref()?;
        let live_text = live.live().map(|v| v.text.clone());
        let mut report = Report {
            path: record.path.clone(),
            version: None,
            live_version: live.live().map(|v| v.number),
            became_live: false,
            took: Duration::ZERO,
            diagnostics: Vec::new(),
            live_text: live_text.clone(),
            pending: false,
            verdict: None,
        };
        match error {
            Some(d) => {
                // What waited is stale now: the typist went on.
                record.draft = None;
                report.diagnostics.push(d);
            }
            None if live_text.as_deref() == Some(text) => record.draft = None,
            None => {
                record.draft = Some((text.to_owned(), now));
                report.pending = true;
            }
        }
        Some(vec![report])
    }

    /// Runs typed texts whose pause has passed by scene time `now` (called before each frame's callbacks).
    pub fn run_due(&mut self, now: f64) -> Vec<Report> {
        self.now = now;
        let pause = self.pause.as_secs_f64();
        let due: Vec<(usize, String)> = {
            let mut registry = self.registry();
            registry
                .modules
                .iter_mut()
                .enumerate()
                .filter(|(_, m)| m.draft.as_ref().is_some_and(|(_, at)| now - at >= pause - 1e-9))
                .filter_map(|(i, m)| {
                    m.disabled = None;
                    m.draft.take().map(|(text, _)| (i, text))
                })
                .collect()
        };
        let mut reports = Vec::new();
        for (index, text) in due {
            if let Some(report) = self.change(index, |live, build| live.edit(&text, build)) {
                reports.extend(self.finish(report));
            }
        }
        reports
    }

    /// A save of `path` (ctrl+s, `save`): the typed text waiting for the pause runs now. `None` when nothing waits
    /// (the text already runs, or it does not compile: its error is shown already).
    pub fn run_waiting(&mut self, path: &Path) -> Option<Vec<Report>> {
        let index = self.index_of_path(path)?;
        let (text, _) = self.registry().modules[index].draft.take()?;
        self.edit(path, &text)
    }

    /// The scene time of the last frame (what typed texts are stamped with).
    pub fn now(&self) -> f64 {
        self.now
    }
}
