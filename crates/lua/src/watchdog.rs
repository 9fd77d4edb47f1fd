//! The watchdog: a thread that holds the deadline of the VM call in progress and, when the call runs past it, arms
//! the interrupting hook (see interrupt.rs). No hook is installed while calls stay within their deadlines, so
//! JIT-compiled code runs at full speed; the hook, once armed, raises on every instruction until the call returns,
//! so guest `pcall` cannot swallow it (facts/luajit-watchdog.md).

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::interrupt::Interrupter;

#[derive(Default)]
struct State {
    /// Nesting of guarded calls: only the outermost one has a deadline (a `require` inside a top level is part of it).
    depth: u32,
    /// Increments for every outermost call, so a late wake-up never interrupts the call after the one it was for.
    call: u64,
    deadline: Option<Instant>,
    /// The call the hook was armed for, and when.
    armed: Option<(u64, Instant)>,
    stop: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One VM's watchdog thread.
pub struct Watchdog {
    shared: Arc<Shared>,
    interrupter: Interrupter,
    thread: Option<JoinHandle<()>>,
}

/// How a guarded call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guarded {
    /// How long the call ran.
    pub took: Duration,
    /// When the watchdog interrupted it: how long after the deadline the call returned.
    pub overshoot: Option<Duration>,
}

impl Watchdog {
    pub fn start(interrupter: Interrupter) -> Watchdog {
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), wake: Condvar::new() });
        let watched = shared.clone();
        let thread = thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || watch(&watched, interrupter))
            .map_err(|e| tracing::error!("cannot start the watchdog thread: {e}; runaway Lua will not be stopped"))
            .ok();
        Watchdog { shared, interrupter, thread }
    }

    /// Runs `f` (a call into the VM) with a deadline `limit` from now. Nested guarded calls share the outermost
    /// deadline.
    pub fn guard<R>(&self, limit: Duration, f: impl FnOnce() -> R) -> (R, Guarded) {
        let started = Instant::now();
        let outermost = {
            let mut s = self.shared.lock();
            s.depth += 1;
            if s.depth == 1 {
                s.call += 1;
                s.deadline = Some(started + limit);
                self.shared.wake.notify_one();
                true
            } else {
                false
            }
        };
        let result = f();
        let ended = Instant::now();
        let mut overshoot = None;
        let mut s = self.shared.lock();
        s.depth -= 1;
        if outermost {
            if let Some((call, _)) = s.armed.take()
                && call == s.call
            {
                self.interrupter.disarm();
                overshoot = s.deadline.map(|d| ended.saturating_duration_since(d));
            }
            s.deadline = None;
        }
        (result, Guarded { took: ended - started, overshoot })
    }
}

fn watch(shared: &Shared, interrupter: Interrupter) {
    let mut s = shared.lock();
    loop {
        if s.stop {
            return;
        }
        match s.deadline {
            None => s = shared.wake.wait(s).unwrap_or_else(|p| p.into_inner()),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    if s.armed.is_none_or(|(call, _)| call != s.call) {
                        interrupter.arm();
                        s.armed = Some((s.call, now));
                    }
                    s = shared.wake.wait(s).unwrap_or_else(|p| p.into_inner());
                } else {
                    s = shared.wake.wait_timeout(s, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
                }
            }
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
