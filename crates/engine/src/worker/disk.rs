//! The disk gate: what the worker knows of each source file on disk, so that its own writes, outside changes and
//! conflicts with unsaved edits are told apart.

use std::path::{Path, PathBuf};

use super::Event;

/// What the worker knows of each source file on disk, by path: the hash of the text last read from it or written
/// to it, and the hash of the newest text the engine built from an edit when that is not what the disk holds.
#[derive(Default)]
pub(super) struct Disk {
    pub(super) files: std::collections::HashMap<PathBuf, DiskFile>,
    pub(super) events: Vec<Event>,
}

#[derive(Default)]
pub(super) struct DiskFile {
    pub(super) known: Option<u64>,
    pub(super) unsaved: Option<u64>,
}

impl Disk {
    /// A text read from `path` because the file changed: build it? Not when it is what the engine knows is there
    /// (its own write), nor when the engine holds unsaved edits of it (a conflict, reported).
    pub(super) fn admit(&mut self, path: &Path, text: &str) -> bool {
        let hash = allsource_store::text_hash(text);
        let file = self.files.entry(path.to_path_buf()).or_default();
        if file.known == Some(hash) {
            return false;
        }
        file.known = Some(hash);
        if file.unsaved.is_some_and(|u| u != hash) {
            self.events.push(Event::Conflict { path: path.to_path_buf(), disk: text.to_owned() });
            return false;
        }
        file.unsaved = None;
        self.events.push(Event::FromDisk { path: path.to_path_buf(), text: text.to_owned() });
        true
    }

    /// The engine built `text` for `path` from an edit (a keystroke, an undo). The first time, what the disk holds
    /// is read, so that a later change of the file is told apart from the text the engine started from.
    pub(super) fn edited(&mut self, path: &Path, text: &str) {
        let hash = allsource_store::text_hash(text);
        let file = self.files.entry(path.to_path_buf()).or_default();
        if file.known.is_none() {
            file.known = allsource_live::read_source(path).ok().map(|t| allsource_store::text_hash(&t));
        }
        file.unsaved = (file.known != Some(hash)).then_some(hash);
    }

    /// Before an autosave of `text` to `path`: the file's text when it changed since the engine last read or
    /// wrote it (an outside write the watcher has not reported yet), else None. The change is then known.
    pub(super) fn changed_behind(&mut self, path: &Path, text: &str) -> Option<String> {
        let disk = std::fs::read(path).ok().map(|b| String::from_utf8_lossy(&b).into_owned())?;
        let hash = allsource_store::text_hash(&disk);
        let file = self.files.entry(path.to_path_buf()).or_default();
        if file.known.is_none_or(|k| k == hash) || disk == text {
            return None;
        }
        file.known = Some(hash);
        Some(disk)
    }

    /// The engine wrote `text` to `path`.
    pub(super) fn wrote(&mut self, path: &Path, text: &str) {
        let file = self.files.entry(path.to_path_buf()).or_default();
        file.known = Some(allsource_store::text_hash(text));
        file.unsaved = None;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_disk_gate_tells_own_writes_outside_changes_and_conflicts_apart() {
        use super::{Disk, Event};
        let dir = std::env::temp_dir().join(format!("allsource-disk-gate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.glsl");
        std::fs::write(&file, "one").unwrap();
        let mut disk = Disk::default();
        assert!(disk.admit(&file, "one"), "the first read builds");
        assert!(!disk.admit(&file, "one"), "the same text again does not");
        assert!(disk.admit(&file, "two"), "an outside change builds");
        assert!(matches!(disk.events.last(), Some(Event::FromDisk { text, .. }) if text == "two"));
        disk.edited(&file, "mine");
        assert!(!disk.admit(&file, "theirs"), "an outside change over unsaved edits is not built");
        assert!(matches!(disk.events.last(), Some(Event::Conflict { disk, .. }) if disk == "theirs"));
        disk.wrote(&file, "mine");
        assert!(!disk.admit(&file, "mine"), "the engine's own write is not read back");
        // An autosave finds the file changed behind it (the watcher has not said so yet): it must not write.
        disk.edited(&file, "mine, more");
        std::fs::write(&file, "written by another editor").unwrap();
        assert_eq!(disk.changed_behind(&file, "mine, more").as_deref(), Some("written by another editor"));
        std::fs::write(&file, "x").unwrap();
        let mut fresh = Disk::default();
        fresh.edited(&file, "edited before the first look");
        assert!(!fresh.admit(&file, "x"), "the file the engine started from is not news");
        assert!(fresh.changed_behind(&file, "edited before the first look").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
