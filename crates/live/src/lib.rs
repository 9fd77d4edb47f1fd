//! The live core: what every kind of source (a GLSL shader file, a Lua module) goes through when it changes.
//!
//! A [`Live`] holds one source's history of [`Version`]s and the artifact built from its live version (a linked
//! program, a loaded module). Each edit becomes a version and is built by a closure the backend passes in; a build
//! that succeeds becomes live and hands back the artifact it replaced, a build that fails records its
//! [`Diagnostic`]s and leaves the live version and artifact as they were. Undo and redo move the live version to
//! the previous or next version that built, and rebuild it. A version that *ran* (the backend says so with
//! [`Live::mark_ran`], after a whole frame without error) is what a revert goes back to; a version superseded
//! before it ran, or that failed, folds away when a newer one arrives, and the version the session started from is
//! never dropped.
//!
//! Length: about 650 lines, 140 of them the unit tests of the history rules at the end, kept beside the rules they
//! pin down.
//!
//! This crate knows nothing of GL, Lua or threads: backends own those. Its only I/O is [`read_source`], the rules
//! every backend reads a source file by. It is the one place where the rule "a failed build never replaces the live
//! version" is written.

#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The largest source file read: anything bigger is a mistake, not a shader or a module.
pub const MAX_SOURCE_BYTES: u64 = 4 << 20;

/// Reads a source file as UTF-8 text, with a message fit for a diagnostic when that fails (missing, unreadable,
/// too big, not UTF-8).
pub fn read_source(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read the file: {e}"))?;
    if meta.len() > MAX_SOURCE_BYTES {
        return Err(format!(
            "the file is {} bytes; sources larger than {MAX_SOURCE_BYTES} bytes are refused",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    String::from_utf8(bytes)
        .map_err(|e| format!("the file is not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()))
}

/// Asked, for each text read from a source's file because the file changed, whether to build it. The engine says no
/// to its own writes and to files whose buffers hold unsaved edits (a conflict: both are kept, nothing is built
/// over the user's edits). Pollers that are not asked pass `&mut |_, _| true`.
pub type Gate<'a> = &'a mut dyn FnMut(&Path, &str) -> bool;

/// A file's modification time, length and inode: a change in any means it was written or replaced (an editor's
/// atomic save renames a new file over it).
pub type Stamp = (Option<SystemTime>, u64, u64);

/// Whether `a` and `b` name the same file: equal paths, or paths that resolve to the same file (an editor's
/// `scene/./main.lua` and the engine's `scene/main.lua`).
pub fn same_file(a: &Path, b: &Path) -> bool {
    a == b || a.canonicalize().ok().zip(b.canonicalize().ok()).is_some_and(|(a, b)| a == b)
}

/// The file's stamp, or `None` when it cannot be read.
pub fn stamp(path: &Path) -> Option<Stamp> {
    #[cfg(unix)]
    let inode = |m: &std::fs::Metadata| std::os::unix::fs::MetadataExt::ino(m);
    #[cfg(not(unix))]
    let inode = |_: &std::fs::Metadata| 0;
    std::fs::metadata(path).ok().map(|m| (m.modified().ok(), m.len(), inode(&m)))
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// A message about a place in a source: file, 1-based line and column when known, the stage (for shaders) and
/// the message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub stage: Option<&'static str>,
    pub severity: Severity,
    pub message: String,
}

impl Diagnostic {
    pub fn error(file: impl Into<PathBuf>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.into(),
            line: None,
            column: None,
            stage: None,
            severity: Severity::Error,
            message: message.into(),
        }
    }

    pub fn at(mut self, line: u32, column: Option<u32>) -> Diagnostic {
        self.line = Some(line);
        self.column = column;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `file:line:column: severity: [stage] message`, the form editors and terminals recognise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}: ", self.severity.as_str())?;
        if let Some(stage) = self.stage {
            write!(f, "[{stage}] ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// What became of a version's build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Built; it is or was live.
    Built { took: Duration },
    /// Did not build; it never became live.
    Failed,
}

/// One text of a source, with what its build said.
#[derive(Clone, Debug)]
pub struct Version {
    /// Numbers start at 1 and grow by one per version of this source; they are never reused.
    pub number: u64,
    pub text: Arc<str>,
    pub created: SystemTime,
    pub outcome: Outcome,
    pub diagnostics: Vec<Diagnostic>,
    /// Whether it ran: it was live through a whole frame without error (or came from an earlier session, where it
    /// went live). Revert goes back only to versions that ran.
    pub ran: bool,
}

impl Version {
    pub fn built(&self) -> bool {
        matches!(self.outcome, Outcome::Built { .. })
    }
}

/// What a backend's build returns: the artifact when it built, and everything the build said (errors when it
/// failed, warnings either way).
pub struct BuildOutput<A> {
    pub artifact: Option<A>,
    pub diagnostics: Vec<Diagnostic>,
    pub took: Duration,
}

/// What an edit, undo, redo or rebuild did.
pub struct Change<A> {
    /// The version that was built, if anything was.
    pub version: Option<u64>,
    /// Whether that version is now live.
    pub live: bool,
    /// The artifact it replaced, for the backend to free (GL objects need the backend's context).
    pub replaced: Option<A>,
}

impl<A> Change<A> {
    fn nothing() -> Change<A> {
        Change { version: None, live: false, replaced: None }
    }
}

/// What a change to a live source produced, for the compositor, the console and the tools: the same for every
/// backend.
#[derive(Clone, Debug)]
pub struct Report {
    pub path: PathBuf,
    /// The version built, if a build ran (not when the file could not be read).
    pub version: Option<u64>,
    /// The live version after the change.
    pub live_version: Option<u64>,
    /// Whether the version built became live.
    pub became_live: bool,
    pub took: Duration,
    pub diagnostics: Vec<Diagnostic>,
    /// The live version's text, so that whoever keeps the reports can start a source again from its last good
    /// version (a worker given up is replaced from these).
    pub live_text: Option<Arc<str>>,
    /// The text compiled but has not run yet: a Lua module's typed text runs once the typing pauses.
    pub pending: bool,
    /// When the live version was judged at run time and reverted or disabled: what happened ("was stopped",
    /// "failed at run time", "went over the frame budget"). `None` for builds.
    pub verdict: Option<String>,
}

impl Report {
    /// A report of a problem found before any build (a file that cannot be read).
    pub fn without_build<A>(live: &Live<A>, diagnostic: Diagnostic) -> Report {
        Report {
            path: live.path.clone(),
            version: None,
            live_version: live.live().map(|v| v.number),
            became_live: false,
            took: Duration::ZERO,
            diagnostics: vec![diagnostic],
            live_text: live.live().map(|v| v.text.clone()),
            pending: false,
            verdict: None,
        }
    }

    /// A report about `path` that built nothing (a warning about how a version runs): the live version stays.
    pub fn about(path: PathBuf, live_version: Option<u64>, diagnostic: Diagnostic) -> Report {
        Report {
            path,
            version: None,
            live_version,
            became_live: false,
            took: Duration::ZERO,
            diagnostics: vec![diagnostic],
            live_text: None,
            pending: false,
            verdict: None,
        }
    }

    /// The report of `change` on `live`.
    pub fn of<A>(live: &Live<A>, change: &Change<A>) -> Report {
        let version = change.version.and_then(|n| live.version(n));
        Report {
            path: live.path.clone(),
            version: change.version,
            live_version: live.live().map(|v| v.number),
            became_live: change.live,
            took: match version.map(|v| &v.outcome) {
                Some(Outcome::Built { took }) => *took,
                _ => Duration::ZERO,
            },
            diagnostics: version.map(|v| v.diagnostics.clone()).unwrap_or_default(),
            live_text: live.live().map(|v| v.text.clone()),
            pending: false,
            verdict: None,
        }
    }
}

/// Versions kept per source unless told otherwise.
pub const DEFAULT_HISTORY: usize = 256;

/// One source, its history, and the artifact of its live version.
pub struct Live<A> {
    pub path: PathBuf,
    versions: VecDeque<Version>,
    live: Option<u64>,
    next_number: u64,
    capacity: usize,
    artifact: Option<A>,
    /// The version the session started from (the first that went live): never dropped, so undo reaches it.
    origin: Option<u64>,
    /// Whether the live version is already marked as having run (makes [`Live::mark_ran`] free every frame).
    live_ran: bool,
}

impl<A> Live<A> {
    /// An empty history keeping at most `capacity` versions (at least 2: the live one and the newest).
    pub fn new(path: impl Into<PathBuf>, capacity: usize) -> Live<A> {
        Live {
            path: path.into(),
            versions: VecDeque::new(),
            live: None,
            next_number: 1,
            capacity: capacity.max(2),
            artifact: None,
            origin: None,
            live_ran: false,
        }
    }

    pub fn artifact(&self) -> Option<&A> {
        self.artifact.as_ref()
    }

    /// Takes the artifact out (to free it when the source goes away).
    pub fn take_artifact(&mut self) -> Option<A> {
        self.artifact.take()
    }

    /// The live version: the one whose artifact runs.
    pub fn live(&self) -> Option<&Version> {
        self.live.and_then(|n| self.version(n))
    }

    /// The newest version, live or not.
    pub fn newest(&self) -> Option<&Version> {
        self.versions.back()
    }

    pub fn version(&self, number: u64) -> Option<&Version> {
        self.versions.iter().find(|v| v.number == number)
    }

    pub fn versions(&self) -> impl Iterator<Item = &Version> {
        self.versions.iter()
    }

    /// The diagnostics of the newest version: what the user's latest text produced.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        self.newest().map_or(&[], |v| &v.diagnostics)
    }

    /// The live version ran a whole frame without error: a later revert may come back to it.
    pub fn mark_ran(&mut self) {
        if self.live_ran {
            return;
        }
        let Some(live) = self.live else { return };
        if let Some(v) = self.versions.iter_mut().find(|v| v.number == live) {
            v.ran = true;
        }
        self.live_ran = true;
    }

    /// The version the session started from, if one went live.
    pub fn origin(&self) -> Option<&Version> {
        self.origin.and_then(|n| self.version(n))
    }

    /// Puts versions from an earlier session (oldest first) into the history, as versions that built, without
    /// building them: undo and redo reach them. Nothing becomes live. Only before the first version.
    pub fn seed(&mut self, texts: impl IntoIterator<Item = impl Into<Arc<str>>>) {
        if !self.versions.is_empty() {
            return;
        }
        for text in texts {
            let number = self.next_number;
            self.next_number += 1;
            self.versions.push_back(Version {
                number,
                text: text.into(),
                created: SystemTime::now(),
                outcome: Outcome::Built { took: Duration::ZERO },
                diagnostics: Vec::new(),
                ran: true,
            });
        }
        while self.versions.len() > self.capacity {
            self.versions.pop_front();
        }
    }

    /// Builds `text` as a new version. Text identical to the newest version's is not rebuilt (saving a file
    /// twice, an editor that writes twice). Use [`Live::rebuild`] when something outside the text changed.
    pub fn edit(&mut self, text: &str, build: impl FnOnce(&str) -> BuildOutput<A>) -> Change<A> {
        if self.newest().is_some_and(|v| &*v.text == text) {
            return Change::nothing();
        }
        self.build_new(Arc::from(text), build)
    }

    /// Builds the newest text again as a new version: for when something it depends on changed (an included
    /// file, a required module).
    pub fn rebuild(&mut self, build: impl FnOnce(&str) -> BuildOutput<A>) -> Change<A> {
        match self.newest() {
            Some(newest) => {
                let text = newest.text.clone();
                self.build_new(text, build)
            }
            None => Change::nothing(),
        }
    }

    /// Moves the live version back to the newest version before it that built, rebuilding it.
    pub fn undo(&mut self, build: impl FnOnce(&str) -> BuildOutput<A>) -> Change<A> {
        let Some(live) = self.live else {
            return Change::nothing();
        };
        let target = self.versions.iter().rev().find(|v| v.number < live && v.built()).map(|v| v.number);
        self.rebuild_version(target, build)
    }

    /// Moves the live version forward to the oldest version after it that built, rebuilding it.
    pub fn redo(&mut self, build: impl FnOnce(&str) -> BuildOutput<A>) -> Change<A> {
        let Some(live) = self.live else {
            return Change::nothing();
        };
        let target = self.versions.iter().find(|v| v.number > live && v.built()).map(|v| v.number);
        self.rebuild_version(target, build)
    }

    /// The live version failed while running (a runtime error in a callback, a blown budget): it is marked failed
    /// with `diagnostics`, and the newest version before it that *ran* is rebuilt and made live (versions that
    /// only built, or never ran, are passed over: one failure, one revert). When there is none, or it no longer
    /// builds, nothing is live: the caller disables the source until a new version builds.
    pub fn revert(&mut self, diagnostics: Vec<Diagnostic>, build: impl FnOnce(&str) -> BuildOutput<A>) -> Change<A> {
        let Some(failed) = self.live else { return Change::nothing() };
        if let Some(v) = self.versions.iter_mut().find(|v| v.number == failed) {
            v.outcome = Outcome::Failed;
            v.diagnostics = diagnostics;
        }
        let target = self.versions.iter().rev().find(|v| v.number < failed && v.built() && v.ran).map(|v| v.number);
        let change = self.rebuild_version(target, build);
        if !change.live {
            self.set_live(None);
            let replaced = self.artifact.take();
            return Change { version: change.version, live: false, replaced };
        }
        change
    }

    fn rebuild_version(&mut self, target: Option<u64>, build: impl FnOnce(&str) -> BuildOutput<A>) -> Change<A> {
        let Some(number) = target else {
            return Change::nothing();
        };
        let Some(text) = self.version(number).map(|v| v.text.clone()) else {
            return Change::nothing();
        };
        let output = build(&text);
        let Some(artifact) = output.artifact else {
            // It built before but not now (an included file changed since): the live version stays.
            if let Some(v) = self.versions.iter_mut().find(|v| v.number == number) {
                v.diagnostics = output.diagnostics;
            }
            return Change { version: Some(number), live: false, replaced: None };
        };
        if let Some(v) = self.versions.iter_mut().find(|v| v.number == number) {
            v.diagnostics = output.diagnostics;
        }
        self.set_live(Some(number));
        let replaced = self.artifact.replace(artifact);
        Change { version: Some(number), live: true, replaced }
    }

    fn set_live(&mut self, live: Option<u64>) {
        if live != self.live {
            self.live_ran = false;
        }
        self.live = live;
        if self.origin.is_none() {
            self.origin = live;
        }
    }

    fn build_new(&mut self, text: Arc<str>, build: impl FnOnce(&str) -> BuildOutput<A>) -> Change<A> {
        let number = self.next_number;
        self.next_number += 1;
        let output = build(&text);
        let ok = output.artifact.is_some();
        let outcome = if ok { Outcome::Built { took: output.took } } else { Outcome::Failed };
        self.versions.push_back(Version {
            number,
            text,
            created: SystemTime::now(),
            outcome,
            diagnostics: output.diagnostics,
            ran: false,
        });
        let replaced = match output.artifact {
            Some(artifact) => {
                self.set_live(Some(number));
                self.artifact.replace(artifact)
            }
            None => None,
        };
        self.fold_superseded();
        self.trim();
        Change { version: Some(number), live: ok, replaced }
    }

    /// A new version (the newest) supersedes the ones before it that never ran (they failed to build, or were
    /// replaced before a whole frame showed them: typing): they fold away unless live or the origin.
    fn fold_superseded(&mut self) {
        let newest = self.versions.back().map(|v| v.number);
        let (live, origin) = (self.live, self.origin);
        self.versions
            .retain(|v| v.ran || Some(v.number) == newest || Some(v.number) == live || Some(v.number) == origin);
    }

    /// Drops the oldest versions beyond the capacity, never the live one, the newest, or the origin.
    fn trim(&mut self) {
        while self.versions.len() > self.capacity {
            let newest = self.versions.back().map(|v| v.number);
            let pinned = |n: u64| Some(n) == self.live || Some(n) == newest || Some(n) == self.origin;
            let Some(index) = self.versions.iter().position(|v| !pinned(v.number)) else {
                break;
            };
            self.versions.remove(index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy backend: text that parses as a number builds into that number; anything else fails with a
    /// diagnostic on line 1.
    fn build(text: &str) -> BuildOutput<i64> {
        match text.trim().parse::<i64>() {
            Ok(n) => BuildOutput { artifact: Some(n), diagnostics: vec![], took: Duration::from_micros(5) },
            Err(e) => BuildOutput {
                artifact: None,
                diagnostics: vec![Diagnostic::error("n.txt", e.to_string()).at(1, Some(1))],
                took: Duration::ZERO,
            },
        }
    }

    #[test]
    fn a_failed_build_never_replaces_the_live_version() {
        let mut live = Live::new("n.txt", 8);
        assert!(live.edit("1", build).live);
        let change = live.edit("x", build);
        assert_eq!((change.version, change.live), (Some(2), false));
        assert_eq!(live.artifact(), Some(&1));
        assert_eq!(live.live().map(|v| v.number), Some(1));
        assert_eq!(live.diagnostics().len(), 1, "the newest version's errors are what the user sees");
        assert_eq!(live.edit("3", build).replaced, Some(1), "the replaced artifact comes back to be freed");
        assert!(live.diagnostics().is_empty());
    }

    #[test]
    fn undo_and_redo_move_the_live_version_over_failed_ones_and_rebuild() {
        let mut live = Live::new("n.txt", 8);
        for text in ["1", "2", "oops", "4"] {
            live.edit(text, build);
            live.mark_ran();
        }
        assert_eq!(live.artifact(), Some(&4));
        let mut builds = 0;
        let mut counting = |text: &str| {
            builds += 1;
            build(text)
        };
        assert_eq!(live.undo(&mut counting).replaced, Some(4));
        assert_eq!(live.artifact(), Some(&2), "undo skips the version that failed");
        live.undo(&mut counting);
        assert_eq!(live.artifact(), Some(&1));
        assert!(live.undo(&mut counting).version.is_none(), "nothing before the first version");
        live.redo(&mut counting);
        live.redo(&mut counting);
        assert_eq!(live.artifact(), Some(&4));
        assert_eq!(builds, 4, "each undo and redo rebuilt its version");
        assert_eq!(live.live().map(|v| v.number), Some(4));
    }

    #[test]
    fn identical_text_is_not_rebuilt_but_rebuild_forces_it() {
        let mut live = Live::new("n.txt", 8);
        live.edit("5", build);
        assert!(live.edit("5", build).version.is_none());
        assert_eq!(live.rebuild(build).version, Some(2));
    }

    #[test]
    fn history_is_bounded_and_keeps_the_live_version() {
        let mut live = Live::new("n.txt", 3);
        live.edit("1", build);
        for i in 2..=10 {
            live.edit(&i.to_string(), build);
            live.mark_ran();
        }
        assert_eq!(live.versions().map(|v| v.number).collect::<Vec<_>>(), [1, 9, 10], "the origin outlives the bound");
        live.undo(build);
        live.edit("bad", build);
        assert_eq!(live.versions().count(), 3);
        assert_eq!(live.live().map(|v| v.number), Some(9), "the live version outlives the bound");
        assert_eq!(live.newest().map(|v| v.number), Some(11));
    }

    #[test]
    fn revert_marks_the_live_version_failed_and_brings_back_the_one_before() {
        let mut live = Live::new("n.txt", 8);
        live.edit("1", build);
        live.mark_ran();
        live.edit("2", build);
        let runtime = vec![Diagnostic::error("n.txt", "attempt to call a nil value").at(1, None)];
        let change = live.revert(runtime, build);
        assert!(change.live);
        assert_eq!(live.artifact(), Some(&1));
        assert!(!live.version(2).unwrap().built(), "the version that failed at run time is marked failed");
        assert!(live.redo(build).version.is_none(), "redo does not bring back a version that failed");
        let change = live.revert(vec![], build);
        assert!(!change.live && change.replaced == Some(1), "nothing left to run: disabled");
        assert!(live.live().is_none() && live.artifact().is_none());
        assert!(live.edit("3", build).live, "a new version that builds brings it back");
    }

    #[test]
    fn a_revert_skips_versions_that_never_ran_and_superseded_ones_fold_away() {
        let mut live = Live::new("n.txt", 8);
        live.edit("1", build);
        live.mark_ran();
        // Typing: each text built and went live, but the next arrived before a frame showed it.
        for text in ["2", "x", "23", "234"] {
            live.edit(text, build);
        }
        let numbers = |live: &Live<i64>| live.versions().map(|v| v.number).collect::<Vec<_>>();
        assert_eq!(numbers(&live), [1, 5], "versions superseded before they ran fold away");
        let change = live.revert(vec![Diagnostic::error("n.txt", "boom")], build);
        assert!(change.live);
        assert_eq!(live.artifact(), Some(&1), "one revert goes straight to the version that ran");
        live.edit("6", build);
        live.mark_ran();
        live.edit("7", build);
        live.mark_ran();
        live.edit("8", build);
        live.revert(vec![], build);
        assert_eq!(live.artifact(), Some(&7));
        assert_eq!(live.origin().map(|v| &*v.text), Some("1"));
    }

    #[test]
    fn seeded_versions_from_an_earlier_session_are_reachable_by_undo() {
        let mut live = Live::new("n.txt", 8);
        live.seed(["1", "2"]);
        assert!(live.live().is_none() && live.artifact().is_none(), "seeding builds nothing");
        assert!(live.edit("3", build).live);
        assert_eq!(live.live().map(|v| v.number), Some(3));
        live.undo(build);
        assert_eq!(live.artifact(), Some(&2), "undo reaches the earlier session's versions");
        live.undo(build);
        assert_eq!(live.artifact(), Some(&1));
        live.seed(["9"]);
        assert_eq!(live.versions().count(), 3, "seeding is only for a history that has not started");
    }

    #[test]
    fn diagnostics_print_as_file_line_column() {
        let d = Diagnostic { stage: Some("fragment"), ..Diagnostic::error("a.glsl", "`x' undeclared").at(3, Some(19)) };
        assert_eq!(d.to_string(), "a.glsl:3:19: error: [fragment] `x' undeclared");
    }
}
