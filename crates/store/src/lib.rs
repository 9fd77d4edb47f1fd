//! What allsource keeps on disk beside a scene, in its `.allsource/` directory:
//!
//! - [`Journal`]: an append-only log of every change to an editor buffer, written before the change is shown, so
//!   that a crash or `kill -9` loses no keystroke the editor had shown. The next start replays it.
//! - [`History`]: each source's versions that went live, bounded, so that undo reaches the previous session's
//!   versions and a source that no longer builds at start-up runs its last good version.
//! - [`write_atomically`]: how the engine writes a source file (temporary file, then rename), so that an external
//!   editor or tool never reads half a file.
//!
//! Plain std, no GL, no Lua. Every reader here is written for files that may be torn (the process died in the
//! middle of a write) or garbage: it keeps what came before the first bad record and says where it stopped.

#![forbid(unsafe_code)]

mod history;
mod journal;
mod record;

pub use history::History;
pub use journal::{Journal, Recovered};

use std::io::Write;
use std::path::{Path, PathBuf};

/// The directory beside a scene's sources where allsource keeps its files.
pub const DIR: &str = ".allsource";

/// The store directory of the scene in `root`.
pub fn dir_of(root: &Path) -> PathBuf {
    root.join(DIR)
}

/// Whether `path` lies in a store directory (the file watcher ignores those: they change on every keystroke).
pub fn is_store_path(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == DIR)
}

/// Writes `text` to `path` so that readers see the old file or the new one, never part of one: a temporary file in
/// the same directory, synced, given the old file's permissions, then renamed over it.
pub fn write_atomically(path: &Path, text: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| std::io::Error::other("not a file path"))?;
    let temp = dir.join(format!(".{}.allsource-tmp", name.to_string_lossy()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text)?;
        file.sync_data()?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&temp, meta.permissions())?;
        }
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// A short, stable hash of a text (FNV-1a 64): to tell texts apart without keeping them.
pub fn text_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_the_file_and_keep_its_permissions() {
        let dir = std::env::temp_dir().join(format!("allsource-store-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.glsl");
        std::fs::write(&file, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        }
        write_atomically(&file, b"new text").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new text");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o640);
        }
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind: {left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn store_paths_are_recognised() {
        assert!(is_store_path(Path::new("/s/.allsource/journal")));
        assert!(!is_store_path(Path::new("/s/main.glsl")));
    }
}
