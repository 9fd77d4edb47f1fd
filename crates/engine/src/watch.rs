//! The file watcher: notify (inotify on Linux) through notify-debouncer-full, which folds the events of one save
//! into one: an editor's write-to-temp-and-rename, delete-and-recreate, or two writes in a row. After
//! [`DEBOUNCE`] without a new event it wakes the worker with `Command::FilesChanged`; the worker then looks at
//! its sources' files (their stamps, then their text) and rebuilds what changed, and whatever includes it. The
//! watcher never reads a file itself: it only says when to look.

use std::path::Path;
use std::sync::mpsc::Sender;
use std::time::Duration;

use notify_debouncer_full::notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use crate::worker::protocol::Command;

/// How long the files must be quiet before the worker looks: long enough to fold one save's events (measured:
/// an atomic save's create, write, rename arrive within a millisecond), short enough to keep a write's rebuild
/// starting within the 50 ms the engine aims for.
pub const DEBOUNCE: Duration = Duration::from_millis(20);

pub struct Watcher {
    _debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
}

impl Watcher {
    /// Watches `dir` and everything under it (but the store directory, `.allsource/`) for the worker at `commands`.
    pub fn start(dir: &Path, commands: Sender<Command>) -> Result<Watcher, String> {
        let handler = move |result: DebounceEventResult| {
            let wake = match result {
                // Reads (including the watcher's own walk of new directories) change nothing.
                Ok(events) => events.iter().any(|e| {
                    !matches!(e.kind, EventKind::Access(_))
                        && e.paths.iter().any(|p| !allsource_store::is_store_path(p))
                }),
                Err(errors) => {
                    // An overflowed queue or a watch lost: look at every file, to be sure.
                    tracing::debug!("file watcher: {errors:?}");
                    true
                }
            };
            if wake {
                let _ = commands.send(Command::FilesChanged);
            }
        };
        let mut debouncer = new_debouncer(DEBOUNCE, None, handler).map_err(|e| e.to_string())?;
        debouncer.watch(dir, RecursiveMode::Recursive).map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
        Ok(Watcher { _debouncer: debouncer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Waits for a wake-up; false after 5 s.
    fn woken(rx: &std::sync::mpsc::Receiver<Command>) -> bool {
        matches!(rx.recv_timeout(Duration::from_secs(5)), Ok(Command::FilesChanged))
    }

    #[test]
    fn a_save_wakes_the_worker_whatever_way_the_editor_writes_and_the_store_does_not() {
        let dir = std::env::temp_dir().join(format!("allsource-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let file = dir.join("sub/a.glsl");
        std::fs::write(&file, "one").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let _watcher = Watcher::start(&dir, tx).unwrap();
        // The store changes on every keystroke: it wakes nothing.
        std::fs::create_dir_all(dir.join(".allsource")).unwrap();
        std::fs::write(dir.join(".allsource/journal"), "x").unwrap();
        assert!(rx.recv_timeout(DEBOUNCE * 10).is_err(), "the store's own files are not watched");
        // Write to a temporary file and rename it over the source (most editors' atomic save).
        std::fs::write(dir.join("sub/.a.glsl.tmp"), "two").unwrap();
        let started = Instant::now();
        std::fs::rename(dir.join("sub/.a.glsl.tmp"), &file).unwrap();
        assert!(woken(&rx), "an atomic save wakes the worker");
        eprintln!("rename -> wake-up: {:?}", started.elapsed());
        // Delete and create again.
        std::fs::remove_file(&file).unwrap();
        std::fs::write(&file, "three").unwrap();
        assert!(woken(&rx));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
