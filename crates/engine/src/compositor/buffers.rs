//! The editor's buffers and their files: journaling each change before the frame that shows it, autosaves,
//! `save` and `reload`, conflicts, and what a journal left by an earlier process brings back.

use super::*;

impl Compositor {
    /// After an egui pass: every buffer that changed goes to the journal (one write each, before the frame that
    /// shows it), and buffers due for autosave are written by the worker.
    pub(super) fn keep_buffers(&mut self) {
        if let Some(journal) = &mut self.journal {
            let root = &self.scene.dir;
            let mut failed = None;
            let editor = &self.overlay.editor;
            for (path, text) in editor.buffers() {
                let name = path.strip_prefix(root).unwrap_or(path);
                let mut result = journal.record(name, text);
                // What the file held when the buffer opened: recovery compares it with the file then.
                if !journal.knows_disk(name)
                    && let Some(disk) = editor.disk_text(path)
                {
                    result = result.and(journal.record_disk(name, allsource_store::text_hash(disk)).map(|()| true));
                }
                if let Err(e) = result {
                    failed = Some(format!("the journal could not record {}: {e}", name.display()));
                }
            }
            if let Some(message) = failed {
                // Keep the engine going without it rather than fail every keystroke.
                say(&self.overlay.editor.log, Level::Error, format!("{message}; edits are no longer journaled"));
                self.journal = None;
            }
        }
        for (path, text) in self.overlay.editor.autosave_due(allsource_editor::AUTOSAVE_IDLE) {
            self.send(Command::Save { path, text, overwrite: false });
        }
    }

    /// Notes in the journal what `path`'s file holds now (it was saved, or read back).
    pub(super) fn journal_disk(&mut self, path: &std::path::Path, text: &str) {
        if let Some(journal) = &mut self.journal {
            let name = path.strip_prefix(&self.scene.dir).unwrap_or(path);
            if let Err(e) = journal.record_disk(name, allsource_store::text_hash(text)) {
                tracing::warn!("the journal could not record {}: {e}", name.display());
            }
        }
    }

    /// Takes the file's text into the buffer of `path` and rebuilds it: `reload`, and how a conflict is resolved
    /// for the disk's side.
    pub fn reload(&mut self, path: &std::path::Path) -> Result<String, String> {
        let editor = &mut self.overlay.editor;
        let open = editor.buffers().any(|(p, _)| allsource_live::same_file(p, path));
        let text = if open { editor.take_disk(path)? } else { allsource_live::read_source(path)? };
        self.journal_disk(path, &text);
        self.send(Command::Edit { path: path.to_path_buf(), text });
        Ok(format!("reloaded {} from its file", path.display()))
    }

    /// Writes the buffer `text` to `path` now (ctrl+s, `save`), whatever its build says; ends a conflict on it.
    pub fn save(&mut self, path: &std::path::Path, text: String) {
        self.asked_saves.insert(path.to_path_buf());
        self.send(Command::Save { path: path.to_path_buf(), text, overwrite: true });
    }

    pub(super) fn say_conflict(&self, path: &std::path::Path) {
        let name = path.strip_prefix(&self.scene.dir).unwrap_or(path).display();
        say(
            &self.overlay.editor.log,
            Level::Warn,
            format!(
                "{name} changed on disk while its buffer has unsaved edits: both are kept, nothing was overwritten. \
                 The buffer's version stays live; `save` (ctrl+s) writes it over the file, `reload {name}` takes the \
                 file's text instead"
            ),
        );
    }
}

/// Opens the scene's journal and brings back what an earlier process left unsaved in it (it crashed, was killed,
/// or quit with edits that never built): each such buffer opens in the editor with its text, which the worker
/// builds, and the console says what was recovered.
pub(super) fn open_journal(
    scene: &Scene,
    overlay: &mut Overlay,
    worker: &crate::worker::WorkerLink,
) -> Option<allsource_store::Journal> {
    let log = overlay.editor.log.clone();
    let (journal, recovered) = match allsource_store::Journal::open(&allsource_store::dir_of(&scene.dir)) {
        Ok(opened) => opened,
        Err(e) => {
            say(&log, Level::Error, format!("no journal: {e}; edits in the editor are not protected against a crash"));
            return None;
        }
    };
    if let Some(problem) = &recovered.problem {
        say(
            &log,
            Level::Warn,
            format!("{problem}; what came before it was recovered (the file is kept as journal.damaged)"),
        );
    }
    for (name, text) in &recovered.texts {
        let path = scene.dir.join(name);
        let disk = allsource_live::read_source(&path);
        if disk.as_ref().is_ok_and(|disk| disk == text) {
            continue;
        }
        let edits = recovered.edits.get(name).copied().unwrap_or(0);
        overlay.editor.open_recovered(&path, text.clone());
        worker.send(Command::Edit { path: path.clone(), text: text.clone() });
        // The file changed while the engine was not running: the recovered buffer must not be written over it.
        let then = recovered.disk.get(name).copied();
        if let (Some(then), Ok(now)) = (then, &disk)
            && allsource_store::text_hash(now) != then
        {
            overlay.editor.conflict(&path, now);
            say(
                &log,
                Level::Warn,
                format!(
                    "recovered {} from the journal ({edits} unsaved changes), but its file changed while the engine \
                     was not running: both are kept, nothing is overwritten. The recovered buffer runs; `save` writes \
                     it over the file, `reload {}` takes the file's text",
                    name.display(),
                    name.display()
                ),
            );
            overlay.editor.visible = true;
            continue;
        }
        say(
            &log,
            Level::Warn,
            format!(
                "recovered {} from the journal: {edits} change{} not saved to the file when the engine stopped. \
                 The buffer runs now and is written to the file once it builds",
                name.display(),
                if edits == 1 { "" } else { "s" }
            ),
        );
        overlay.editor.visible = true;
    }
    Some(journal)
}
