//! Each source's versions that went live, kept across restarts: `history/<path>.hist` in the store, one record per
//! version (oldest first), the last one the source's last good version. Bounded: past twice [`History::keep`]
//! records the file is rewritten with the newest `keep`, always keeping the text the last session started from
//! (a `P` record pins it), so that undo reaches it after a restart however long that session was.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::record::{decode, encode};
use crate::text_hash;

pub struct History {
    dir: PathBuf,
    keep: usize,
    /// Per source: records in its file, and the hash of the last one.
    known: HashMap<PathBuf, (usize, u64)>,
}

/// Versions kept per source.
pub const KEEP: usize = 64;

impl History {
    /// The history in the store directory `store` (its files are created as versions arrive).
    pub fn open(store: &Path) -> History {
        History { dir: store.join("history"), keep: KEEP, known: HashMap::new() }
    }

    pub fn keep(&self) -> usize {
        self.keep
    }

    pub fn with_keep(mut self, keep: usize) -> History {
        self.keep = keep.max(1);
        self
    }

    fn file_of(&self, source: &Path) -> PathBuf {
        let name = source.to_string_lossy().replace('%', "%25").replace('/', "%2F");
        self.dir.join(format!("{name}.hist"))
    }

    /// `text` went live for `source` (a path relative to the scene): it is appended, unless it is the last one
    /// already (a rebuild of the same text). The first push of a session also pins the text the session started
    /// from (the last one before it, or this one when there is none): however many versions follow, it stays.
    pub fn push(&mut self, source: &Path, text: &str) -> std::io::Result<()> {
        let hash = text_hash(text);
        let first_of_session = !self.known.contains_key(source);
        let (count, last) = match self.known.get(source) {
            Some(&known) => known,
            None => {
                let texts = self.load(source);
                (texts.len(), texts.last().map_or(0, |t| text_hash(t)))
            }
        };
        if count > 0 && last == hash {
            self.known.insert(source.to_path_buf(), (count, last));
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir)?;
        let file = self.file_of(source);
        let mut bytes = Vec::new();
        if first_of_session {
            bytes.extend(encode(b'P', &[if count > 0 { last } else { hash }], &[]));
        }
        bytes.extend(encode(b'V', &[], text.as_bytes()));
        let count = if count + 1 > 2 * self.keep {
            let (mut texts, pin) = self.read(source);
            texts.push(text.to_owned());
            let pin = if first_of_session && count == 0 { Some(hash) } else { pin };
            let kept = self.select(texts, pin);
            let mut bytes: Vec<u8> = kept.iter().flat_map(|t| encode(b'V', &[], t.as_bytes())).collect();
            if let Some(pin) = pin {
                bytes.extend(encode(b'P', &[pin], &[]));
            }
            crate::write_atomically(&file, &bytes)?;
            kept.len()
        } else {
            File::options().create(true).append(true).open(&file)?.write_all(&bytes)?;
            count + 1
        };
        self.known.insert(source.to_path_buf(), (count, hash));
        Ok(())
    }

    /// Every text of `source`'s file, oldest first, and the hash of the newest pinned one. A damaged file gives the
    /// records before the damage.
    fn read(&self, source: &Path) -> (Vec<String>, Option<u64>) {
        let Ok(bytes) = std::fs::read(self.file_of(source)) else { return (Vec::new(), None) };
        let (records, _) = decode(&bytes);
        let mut texts = Vec::new();
        let mut pin = None;
        for r in &records {
            match r.tag {
                b'V' => match std::str::from_utf8(r.body) {
                    Ok(text) => texts.push(text.to_owned()),
                    Err(_) => break,
                },
                b'P' => pin = r.numbers.first().copied(),
                _ => {}
            }
        }
        (texts, pin)
    }

    /// The newest `keep` of `texts`, or, when the pinned text is older than those, it and the newest `keep - 1`.
    fn select(&self, texts: Vec<String>, pin: Option<u64>) -> Vec<String> {
        let from = texts.len().saturating_sub(self.keep);
        let pinned = pin.and_then(|h| texts.iter().rposition(|t| text_hash(t) == h)).filter(|&i| i < from);
        match pinned {
            Some(i) => {
                let mut kept = vec![texts[i].clone()];
                kept.extend_from_slice(&texts[(from + 1).min(texts.len())..]);
                kept
            }
            None => texts[from..].to_vec(),
        }
    }

    /// The versions of `source` that went live, oldest first (the last is its last good version); at most `keep`,
    /// the text the last session started from among them. A damaged file gives the versions before the damage.
    pub fn load(&self, source: &Path) -> Vec<String> {
        let (texts, pin) = self.read(source);
        self.select(texts, pin)
    }

    /// Every source with a history: paths relative to the scene.
    pub fn sources(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        let mut sources: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let name = name.strip_suffix(".hist")?;
                Some(PathBuf::from(name.replace("%2F", "/").replace("%25", "%")))
            })
            .collect();
        sources.sort();
        sources
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_persist_bounded_in_order_without_repeats() {
        let dir = std::env::temp_dir().join(format!("allsource-history-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut history = History::open(&dir).with_keep(3);
        let source = Path::new("shaders/a%b.glsl");
        for text in ["1", "2", "2", "3"] {
            history.push(source, text).unwrap();
        }
        assert_eq!(History::open(&dir).with_keep(3).load(source), ["1", "2", "3"]);
        for i in 4..=20 {
            history.push(source, &i.to_string()).unwrap();
        }
        let again = History::open(&dir).with_keep(3);
        assert_eq!(again.load(source), ["1", "19", "20"], "the newest, and the text the session started from");
        assert_eq!(again.sources(), [PathBuf::from("shaders/a%b.glsl")]);
        let file = again.file_of(source);
        assert!(std::fs::read(&file).unwrap().len() < 8 * 8, "the file is rewritten, not grown without bound");
        let mut torn = std::fs::read(&file).unwrap();
        torn.truncate(torn.len() - 2);
        std::fs::write(&file, torn).unwrap();
        assert_eq!(again.load(source), ["1", "18", "19"], "a torn last record is dropped, the ones before stay");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_text_a_session_started_from_is_kept_however_long_the_session() {
        let dir = std::env::temp_dir().join(format!("allsource-history-pin-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let source = Path::new("main.lua");
        let mut first = History::open(&dir).with_keep(4);
        for text in ["a", "b", "start"] {
            first.push(source, text).unwrap();
        }
        // The next session starts from "start", its last good version, and goes on for a long time.
        let mut second = History::open(&dir).with_keep(4);
        for i in 0..50 {
            second.push(source, &i.to_string()).unwrap();
        }
        assert_eq!(History::open(&dir).with_keep(4).load(source), ["start", "47", "48", "49"]);
        let mut third = History::open(&dir).with_keep(4);
        third.push(source, "x").unwrap();
        assert_eq!(third.load(source), ["47", "48", "49", "x"], "the newest session's start is the one pinned");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
