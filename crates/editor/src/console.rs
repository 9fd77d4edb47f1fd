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
        // A poisoned lock means a panic elsewhere while pushing a line: the log is still usable.
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let seq = inner.0;
        inner.0 += 1;
        inner.1.push_back(LogLine { seq, level, text: text.into() });
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
