//! The journal: every change to an editor buffer, appended before the change is shown.
//!
//! A record is the first text of a buffer (`B`), or one splice of it (`E`: where, how many bytes removed, what was
//! inserted), so a keystroke in a large file costs a few bytes; or the hash of what the buffer's file holds (`D`,
//! written when that is learnt: the buffer opened, saved, or followed its file), so that recovery can tell a file
//! that changed while the engine was not running. Each record leaves in one `write` call: once it
//! returns, the record is in the kernel and survives the process being killed. A background thread then
//! `fdatasync`s the file (so it also survives a power cut, a moment later) without the caller ever waiting on the
//! disk. Opening replays what an earlier process left and starts a fresh file from the texts recovered.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Sender};

use crate::record::{decode, encode};

/// The journal is rewritten from its texts once it grows past this many bytes.
const COMPACT_AT: u64 = 1 << 20;

/// What a journal held when it was opened.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Each buffer's last text, by the path it was recorded under.
    pub texts: BTreeMap<PathBuf, String>,
    /// How many changes of each buffer were replayed (its first text counts as one).
    pub edits: BTreeMap<PathBuf, usize>,
    /// The hash (`text_hash`) of what each buffer's file held when the engine last knew.
    pub disk: BTreeMap<PathBuf, u64>,
    /// What stopped the replay before the end of the file (a record cut short by a crash, garbage), if anything.
    /// The damaged file is kept beside the new one as `journal.damaged`.
    pub problem: Option<String>,
}

pub struct Journal {
    path: PathBuf,
    file: Arc<File>,
    texts: BTreeMap<PathBuf, String>,
    disk: BTreeMap<PathBuf, u64>,
    written: u64,
    sync: Sender<Arc<File>>,
}

impl Journal {
    /// Opens the journal in the store directory `store` (created if missing), replaying what it held.
    pub fn open(store: &Path) -> std::io::Result<(Journal, Recovered)> {
        std::fs::create_dir_all(store)?;
        let path = store.join("journal");
        let recovered = match std::fs::read(&path) {
            Ok(bytes) => {
                let recovered = replay(&bytes);
                if recovered.problem.is_some() {
                    std::fs::write(store.join("journal.damaged"), &bytes)?;
                }
                recovered
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Recovered::default(),
            Err(e) => return Err(e),
        };
        let (sync, rx) = mpsc::channel::<Arc<File>>();
        std::thread::Builder::new().name("journal-sync".into()).spawn(move || {
            while let Ok(mut file) = rx.recv() {
                while let Ok(newer) = rx.try_recv() {
                    file = newer;
                }
                let _ = file.sync_data();
            }
        })?;
        let mut journal = Journal {
            file: Arc::new(File::create(store.join("journal.new"))?),
            path,
            texts: recovered.texts.clone(),
            disk: recovered.disk.clone(),
            written: 0,
            sync,
        };
        journal.compact()?;
        Ok((journal, recovered))
    }

    /// The last text recorded for `path`.
    pub fn text(&self, path: &Path) -> Option<&str> {
        self.texts.get(path).map(String::as_str)
    }

    /// Every buffer's last text.
    pub fn texts(&self) -> &BTreeMap<PathBuf, String> {
        &self.texts
    }

    /// Records that the buffer `path` now holds `text`. Returns whether it changed (nothing is written if not).
    pub fn record(&mut self, path: &Path, text: &str) -> std::io::Result<bool> {
        let name = path.to_string_lossy();
        let bytes = match self.texts.get(path) {
            Some(old) if old == text => return Ok(false),
            Some(old) => {
                let (at, removed, inserted) = splice(old, text);
                let body = [name.as_bytes(), inserted.as_bytes()].concat();
                encode(b'E', &[name.len() as u64, at as u64, removed as u64], &body)
            }
            None => encode(b'B', &[name.len() as u64], &[name.as_bytes(), text.as_bytes()].concat()),
        };
        (&*self.file).write_all(&bytes)?;
        self.written += bytes.len() as u64;
        self.texts.insert(path.to_path_buf(), text.to_owned());
        let _ = self.sync.send(self.file.clone());
        if self.written > COMPACT_AT {
            self.compact()?;
        }
        Ok(true)
    }

    /// Records that `path`'s file holds the text of hash `hash` (`text_hash`). Nothing is written if known.
    pub fn record_disk(&mut self, path: &Path, hash: u64) -> std::io::Result<()> {
        if self.disk.get(path) == Some(&hash) {
            return Ok(());
        }
        let name = path.to_string_lossy();
        let bytes = encode(b'D', &[name.len() as u64, hash], name.as_bytes());
        (&*self.file).write_all(&bytes)?;
        self.written += bytes.len() as u64;
        self.disk.insert(path.to_path_buf(), hash);
        let _ = self.sync.send(self.file.clone());
        Ok(())
    }

    /// Whether the file of `path` is known (hash recorded).
    pub fn knows_disk(&self, path: &Path) -> bool {
        self.disk.contains_key(path)
    }

    /// Drops `path` from the journal: its buffer was closed with nothing left unsaved.
    pub fn forget(&mut self, path: &Path) -> std::io::Result<()> {
        self.disk.remove(path);
        if self.texts.remove(path).is_some() {
            self.compact()?;
        }
        Ok(())
    }

    /// Rewrites the journal as the first text of each buffer it knows (atomically: a new file renamed over it).
    pub fn compact(&mut self) -> std::io::Result<()> {
        let temp = self.path.with_extension("new");
        let mut file = File::create(&temp)?;
        let mut written = 0;
        for (path, text) in &self.texts {
            let name = path.to_string_lossy();
            let bytes = encode(b'B', &[name.len() as u64], &[name.as_bytes(), text.as_bytes()].concat());
            file.write_all(&bytes)?;
            written += bytes.len() as u64;
        }
        for (path, hash) in &self.disk {
            let name = path.to_string_lossy();
            let bytes = encode(b'D', &[name.len() as u64, *hash], name.as_bytes());
            file.write_all(&bytes)?;
            written += bytes.len() as u64;
        }
        file.sync_data()?;
        std::fs::rename(&temp, &self.path)?;
        self.file = Arc::new(File::options().append(true).open(&self.path)?);
        self.written = written;
        Ok(())
    }

    /// Ends the journal when nothing in it is unsaved (`saved` says, for each buffer, whether its text is on disk):
    /// the file is removed. Otherwise it stays, for the next start to recover.
    pub fn close(self, saved: impl Fn(&Path, &str) -> bool) -> std::io::Result<bool> {
        if self.texts.iter().all(|(p, t)| saved(p, t)) {
            std::fs::remove_file(&self.path)?;
            return Ok(true);
        }
        Ok(false)
    }
}

/// The one splice turning `old` into `new`: byte offset, bytes removed, text inserted (on character boundaries).
fn splice<'a>(old: &str, new: &'a str) -> (usize, usize, &'a str) {
    let mut prefix = old.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let room = old.len().min(new.len()) - prefix;
    let mut suffix = old.bytes().rev().zip(new.bytes().rev()).take(room).take_while(|(a, b)| a == b).count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    (prefix, old.len() - suffix - prefix, &new[prefix..new.len() - suffix])
}

fn replay(bytes: &[u8]) -> Recovered {
    let mut recovered = Recovered::default();
    let (records, stop) = decode(bytes);
    let mut problem = stop.map(|at| format!("the journal is cut short or damaged at byte {at} of {}", bytes.len()));
    for (i, record) in records.iter().enumerate() {
        let applied = (|| {
            let name_len = usize::try_from(*record.numbers.first()?).ok()?;
            let name = std::str::from_utf8(record.body.get(..name_len)?).ok()?;
            let rest = std::str::from_utf8(record.body.get(name_len..)?).ok()?;
            let path = PathBuf::from(name);
            match (record.tag, &record.numbers[1..]) {
                (b'B', []) => {
                    recovered.texts.insert(path.clone(), rest.to_owned());
                }
                (b'D', &[hash]) if rest.is_empty() => {
                    recovered.disk.insert(path, hash);
                    return Some(());
                }
                (b'E', &[at, removed]) => {
                    let text = recovered.texts.get_mut(&path)?;
                    let at = usize::try_from(at).ok()?;
                    let end = at.checked_add(usize::try_from(removed).ok()?)?;
                    if end > text.len() || !text.is_char_boundary(at) || !text.is_char_boundary(end) {
                        return None;
                    }
                    text.replace_range(at..end, rest);
                }
                _ => return None,
            }
            *recovered.edits.entry(path).or_default() += 1;
            Some(())
        })();
        if applied.is_none() {
            problem = Some(format!("record {} of the journal does not apply; replay stopped there", i + 1));
            break;
        }
    }
    recovered.problem = problem;
    recovered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("allsource-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn splices_are_minimal_and_respect_characters() {
        assert_eq!(splice("hello", "help"), (3, 2, "p"));
        assert_eq!(splice("aaa", "aaaa"), (3, 0, "a"));
        assert_eq!(splice("é", "è"), (0, 2, "è"), "never half a character");
        assert_eq!(splice("", "x"), (0, 0, "x"));
        assert_eq!(splice("abc", ""), (0, 3, ""));
    }

    #[test]
    fn every_recorded_text_comes_back_after_the_process_goes_away() {
        let dir = temp("replay");
        let (mut journal, recovered) = Journal::open(&dir).unwrap();
        assert!(recovered.texts.is_empty() && recovered.problem.is_none());
        let mut text = String::from("void main() {}\n");
        journal.record(Path::new("main.glsl"), &text).unwrap();
        let typed = "// ünïcode ✓ typed one key at a time";
        for c in typed.chars() {
            text.insert(text.len() - 2, c);
            assert!(journal.record(Path::new("main.glsl"), &text).unwrap());
        }
        assert!(!journal.record(Path::new("main.glsl"), &text).unwrap(), "an unchanged buffer writes nothing");
        text.replace_range(0..4, "");
        journal.record(Path::new("main.glsl"), &text).unwrap();
        journal.record(Path::new("lib/a.lua"), "return {}").unwrap();
        journal.record_disk(Path::new("main.glsl"), 42).unwrap();
        std::mem::forget(journal); // as if killed: no close, no compaction
        let (_, recovered) = Journal::open(&dir).unwrap();
        assert_eq!(recovered.texts.get(Path::new("main.glsl")), Some(&text));
        assert_eq!(recovered.texts.get(Path::new("lib/a.lua")).map(String::as_str), Some("return {}"));
        assert_eq!(recovered.edits[Path::new("main.glsl")], 1 + typed.chars().count() + 1);
        assert_eq!(recovered.disk.get(Path::new("main.glsl")), Some(&42), "what the file held");
        assert!(recovered.problem.is_none());
        let (journal, again) = Journal::open(&dir).unwrap();
        assert_eq!(again.disk.get(Path::new("main.glsl")), Some(&42), "compaction keeps it");
        assert!(journal.knows_disk(Path::new("main.glsl")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_torn_or_damaged_journal_gives_back_what_came_before_and_says_so() {
        let dir = temp("torn");
        let (mut journal, _) = Journal::open(&dir).unwrap();
        journal.record(Path::new("a.glsl"), "one").unwrap();
        journal.record(Path::new("a.glsl"), "one two").unwrap();
        let good = std::fs::read(dir.join("journal")).unwrap();
        journal.record(Path::new("a.glsl"), "one two three").unwrap();
        drop(journal);
        let whole = std::fs::read(dir.join("journal")).unwrap();
        for cut in good.len()..whole.len() {
            std::fs::write(dir.join("journal"), &whole[..cut]).unwrap();
            let (_, recovered) = Journal::open(&dir).unwrap();
            assert_eq!(recovered.texts[Path::new("a.glsl")], "one two", "cut at {cut}");
            assert_eq!(recovered.problem.is_some(), cut > good.len());
        }
        let mut garbage = good.clone();
        garbage.extend(encode(b'E', &[6, 99, 0], b"a.glslXXX"));
        garbage.extend_from_slice(b"\x00\xff binary");
        std::fs::write(dir.join("journal"), &garbage).unwrap();
        let (journal, recovered) = Journal::open(&dir).unwrap();
        assert_eq!(recovered.texts[Path::new("a.glsl")], "one two");
        assert!(recovered.problem.as_deref().is_some_and(|p| p.contains("does not apply")), "{:?}", recovered.problem);
        assert_eq!(std::fs::read(dir.join("journal.damaged")).unwrap(), garbage, "the damaged file is kept");
        assert_eq!(
            journal.text(Path::new("a.glsl")),
            Some("one two"),
            "the new journal starts from what was recovered"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_journal_with_everything_saved_is_removed_at_close_and_compaction_keeps_the_texts() {
        let dir = temp("close");
        let (mut journal, _) = Journal::open(&dir).unwrap();
        let big = "x".repeat(300_000);
        for i in 0..5 {
            journal.record(Path::new("big.lua"), &format!("{big}{i}")).unwrap();
        }
        journal.compact().unwrap();
        assert!(std::fs::metadata(dir.join("journal")).unwrap().len() < 300_100);
        assert!(!journal.close(|_, _| false).unwrap(), "unsaved text keeps the journal");
        let (journal, recovered) = Journal::open(&dir).unwrap();
        assert_eq!(recovered.texts[Path::new("big.lua")], format!("{big}4"));
        assert!(journal.close(|_, _| true).unwrap());
        assert!(!dir.join("journal").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
