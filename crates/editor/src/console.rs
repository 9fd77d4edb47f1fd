//! The console's log: lines from the engine's tracing events, command echoes and their results. The log is a
//! shared buffer so that a tracing layer on any thread can append to it; the editor shows it, scripted runs print it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Lines kept; older ones are dropped.
const CAPACITY: usize = 4000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
    /// A command the user ran (echoed).
    Command,
    /// What a command answered.
    Result,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Counts every line ever pushed, so readers can ask for what is new since they last looked.
    pub seq: u64,
    pub level: Level,
    pub text: String,
    /// Lines of one kind of news about one thing (a source's newest build) share a key: see
    /// [`ConsoleLog::retract`].
    pub key: Option<String>,
    /// Replaced by newer news of its key: not shown in the console (followers by `seq` still get it).
    pub hidden: bool,
}

#[derive(Clone, Default)]
pub struct ConsoleLog {
    inner: Arc<Mutex<(u64, VecDeque<LogLine>)>>,
}

impl std::fmt::Debug for ConsoleLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsoleLog")
    }
}

impl ConsoleLog {
    pub fn push(&self, level: Level, text: impl Into<String>) {
        self.push_line(level, text.into(), None);
    }

    /// As `push`, with a key: the line's news is replaced by the next with the same key (see `retract`).
    pub fn push_keyed(&self, level: Level, key: &str, text: impl Into<String>) {
        self.push_line(level, text.into(), Some(key.to_owned()));
    }

    /// Hides the newest lines while they carry `key`: news that newer news of the same thing replaces in place
    /// (a source's build state while typing is one line that updates, not a line a keystroke). Readers that
    /// follow the log by `seq` (scripts, `since`) still get every line.
    pub fn retract(&self, key: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for line in inner.1.iter_mut().rev() {
            if line.key.as_deref() != Some(key) {
                break;
            }
            line.hidden = true;
        }
    }

    fn push_line(&self, level: Level, text: String, key: Option<String>) {
        // A poisoned lock means a panic elsewhere while pushing a line: the log is still usable.
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let seq = inner.0;
        inner.0 += 1;
        inner.1.push_back(LogLine { seq, level, text, key, hidden: false });
        while inner.1.len() > CAPACITY {
            inner.1.pop_front();
        }
    }

    /// Lines with `seq >= from`, oldest first.
    pub fn since(&self, from: u64) -> Vec<LogLine> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.1.iter().filter(|l| l.seq >= from).cloned().collect()
    }

    /// The `seq` the next line will get.
    pub fn next_seq(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    /// Calls `f` with the kept lines, oldest first.
    pub fn with_lines<R>(&self, f: impl FnOnce(&VecDeque<LogLine>) -> R) -> R {
        f(&self.inner.lock().unwrap_or_else(|e| e.into_inner()).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_news_replaces_the_newest_lines_of_its_key_only() {
        let log = ConsoleLog::default();
        log.push(Level::Info, "started");
        log.push_keyed(Level::Error, "a.glsl", "a.glsl: version 2 did not build");
        log.push_keyed(Level::Error, "a.glsl", "a.glsl:3:1: error: x");
        log.retract("a.glsl");
        log.push_keyed(Level::Info, "a.glsl", "a.glsl: version 3 built");
        log.push(Level::Result, "between");
        log.retract("a.glsl");
        log.push_keyed(Level::Info, "a.glsl", "a.glsl: version 4 built");
        let shown: Vec<String> = log.with_lines(|l| l.iter().filter(|l| !l.hidden).map(|l| l.text.clone()).collect());
        assert_eq!(shown, ["started", "a.glsl: version 3 built", "between", "a.glsl: version 4 built"]);
        assert_eq!(log.since(0).len(), 6, "followers get every line");
        assert_eq!(log.next_seq(), 6, "every line pushed was counted: followers saw each");
    }

    #[test]
    fn keeps_the_newest_lines_and_counts_all() {
        let log = ConsoleLog::default();
        for i in 0..CAPACITY + 10 {
            log.push(Level::Info, format!("{i}"));
        }
        assert_eq!(log.next_seq(), (CAPACITY + 10) as u64);
        let newest = log.since((CAPACITY + 8) as u64);
        assert_eq!(newest.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(), ["4008", "4009"]);
        assert_eq!(log.with_lines(|l| l.len()), CAPACITY);
    }
}
