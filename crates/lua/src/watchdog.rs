//! The watchdog: a thread that holds the deadline of the VM call in progress and, when the call runs past it, arms
//! the interrupting hook (see interrupt.rs). No hook is installed while calls stay within their deadlines, so
//! JIT-compiled code runs at full speed; the hook, once armed, raises on every instruction until the call returns,
//! so guest `pcall` cannot swallow it (docs/facts/luajit-watchdog.md). While a call runs Lua (not an engine call),
//! the watchdog also asks for a one-shot sample of the running code every `SAMPLE_EVERY`: the time per module.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::interrupt::{Interrupter, SAMPLE_EVERY, Signal, enter};

#[derive(Default)]
struct State {
    /// Nesting of guarded calls: only the outermost one has a deadline (a `require` inside a top level is part of it).
    depth: u32,
    /// Increments for every outermost call, so a late wake-up never interrupts the call after the one it was for.
    call: u64,
    deadline: Option<Instant>,
    /// The call the hook was armed for, and when.
    armed: Option<(u64, Instant)>,
    /// The call reported as wedged (it ignored the hook past `wedge_after`).
    wedged: Option<u64>,
    /// Nesting of engine calls in progress (`gfx.*`): their time does not count against the deadline, which
    /// limits the Lua code, not the driver (llvmpipe compiles a program at its first draw: tens of ms).
    paused: u32,
    /// Time spent in engine calls during the call in progress.
    engine: Duration,
    /// Sample the running code every `SAMPLE_EVERY` (off: only the deadline is watched).
    sampling: bool,
    stop: bool,
}

/// Called on the watchdog thread when a call ignores its interrupt: the VM is wedged (a finalizer, one long C call)
/// and its thread should be given up.
pub type WedgeHandler = Box<dyn Fn() + Send>;

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
    handler: Arc<Mutex<Option<WedgeHandler>>>,
    thread: Option<JoinHandle<()>>,
}

/// How often an armed interrupt is armed again while its call runs on.
const REARM_EVERY: Duration = Duration::from_millis(20);

/// How long an armed call may ignore the hook before its VM is reported wedged.
pub const WEDGE_AFTER: Duration = Duration::from_millis(500);

/// How a guarded call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guarded {
    /// How long the call ran.
    pub took: Duration,
    /// Of which in engine calls (`gfx.*`): the rest is Lua's own time.
    pub engine: Duration,
    /// When the watchdog interrupted it: how long after the deadline the call returned.
    pub overshoot: Option<Duration>,
}

impl Watchdog {
    pub fn start(interrupter: Interrupter) -> Watchdog {
        let state = State { sampling: true, ..State::default() };
        let shared = Arc::new(Shared { state: Mutex::new(state), wake: Condvar::new() });
        let handler: Arc<Mutex<Option<WedgeHandler>>> = Arc::new(Mutex::new(None));
        let (watched, told, hook) = (shared.clone(), handler.clone(), interrupter.clone());
        let thread = thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || watch(&watched, hook, &told))
            .map_err(|e| tracing::error!("cannot start the watchdog thread: {e}; runaway Lua will not be stopped"))
            .ok();
        Watchdog { shared, interrupter, handler, thread }
    }

    /// Turns the sampling of the running code (the time per module) on or off.
    pub fn set_sampling(&self, on: bool) {
        self.shared.lock().sampling = on;
    }

    /// What the hook saw: samples of the running code, where the last interrupt first raised.
    pub fn signal(&self) -> &Arc<Signal> {
        self.interrupter.signal()
    }

    /// A handle that engine calls use to pause the deadline while they run.
    pub fn handle(&self) -> WatchHandle {
        WatchHandle(self.shared.clone())
    }

    /// Sets what to do when a call ignores its interrupt for [`WEDGE_AFTER`].
    pub fn on_wedged(&self, handler: WedgeHandler) {
        *self.handler.lock().unwrap_or_else(|p| p.into_inner()) = Some(handler);
    }

    /// Runs `f` (a call into the VM) with a deadline `limit` from now. Nested guarded calls share the outermost
    /// deadline.
    pub fn guard<R>(&self, limit: Duration, f: impl FnOnce() -> R) -> (R, Guarded) {
        let started = Instant::now();
        let _current = enter(self.interrupter.signal());
        let outermost = {
            let mut s = self.shared.lock();
            s.depth += 1;
            if s.depth == 1 {
                self.interrupter.signal().new_call();
                s.call += 1;
                s.engine = Duration::ZERO;
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
        let engine = if outermost { std::mem::take(&mut s.engine) } else { Duration::ZERO };
        if outermost {
            if let Some((call, _)) = s.armed.take()
                && call == s.call
            {
                overshoot = s.deadline.map(|d| ended.saturating_duration_since(d));
            }
            // Whatever was asked (an interrupt, a sample that has not fired yet) ends with the call.
            self.interrupter.disarm();
            s.deadline = None;
        }
        (result, Guarded { took: ended - started, engine, overshoot })
    }
}

/// Pauses the deadline of the call in progress while the engine works for it.
#[derive(Clone)]
pub struct WatchHandle(Arc<Shared>);

/// Resumes the deadline, moved later by the time paused, when dropped.
pub struct Paused<'a> {
    shared: &'a Shared,
    since: Instant,
}

impl WatchHandle {
    pub fn pause(&self) -> Paused<'_> {
        self.0.lock().paused += 1;
        Paused { shared: &self.0, since: Instant::now() }
    }
}

impl Drop for Paused<'_> {
    fn drop(&mut self) {
        let mut s = self.shared.lock();
        s.paused = s.paused.saturating_sub(1);
        let paused = self.since.elapsed();
        if s.paused == 0 {
            s.engine += paused;
        }
        if let Some(deadline) = s.deadline.as_mut() {
            *deadline += paused;
        }
        self.shared.wake.notify_one();
    }
}

fn watch(shared: &Shared, interrupter: Interrupter, handler: &Mutex<Option<WedgeHandler>>) {
    let mut s = shared.lock();
    // The first sample of a call comes SAMPLE_EVERY after it starts.
    let mut next_sample = Instant::now();
    let mut sampled_call = 0;
    loop {
        if s.stop {
            return;
        }
        match s.deadline {
            None => s = shared.wake.wait(s).unwrap_or_else(|p| p.into_inner()),
            Some(_) if s.paused > 0 && s.armed.is_none() => s = shared.wake.wait(s).unwrap_or_else(|p| p.into_inner()),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    match s.armed {
                        Some((call, at)) if call == s.call => {
                            if now >= at + WEDGE_AFTER && s.wedged != Some(call) {
                                // The hook has raised on every instruction for WEDGE_AFTER and the call still runs:
                                // it is not running Lua (a finalizer runs with hooks off, or one C call).
                                s.wedged = Some(call);
                                drop(s);
                                if let Some(h) = handler.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                                    h();
                                }
                                s = shared.lock();
                                continue;
                            }
                            // Armed again every REARM_EVERY: an arm can be lost to LuaJIT's own read-modify-write of
                            // the hook mask when the VM enters or leaves a finalizer at that moment (hook_entergc,
                            // hook_restore), which would leave a loop running with no hook until the wedge verdict.
                            let until = (at + WEDGE_AFTER).min(now + REARM_EVERY);
                            s = shared
                                .wake
                                .wait_timeout(s, until.saturating_duration_since(now))
                                .unwrap_or_else(|p| p.into_inner())
                                .0;
                            if s.armed.is_some_and(|(c, _)| c == call) && s.wedged != Some(call) {
                                interrupter.arm();
                            }
                            // Reported already: nothing to do until this call ends and another begins.
                            if s.armed.is_some_and(|(c, _)| Some(c) == s.wedged) {
                                s = shared.wake.wait(s).unwrap_or_else(|p| p.into_inner());
                            }
                        }
                        _ => {
                            interrupter.arm();
                            s.armed = Some((s.call, now));
                        }
                    }
                } else if s.sampling {
                    if sampled_call != s.call {
                        sampled_call = s.call;
                        next_sample = now + SAMPLE_EVERY;
                    }
                    // Lua runs (an engine call would have paused us): a sample every SAMPLE_EVERY, whatever else
                    // wakes us (engine calls that end notify; they must not make samples more frequent).
                    if next_sample <= now {
                        interrupter.sample();
                        next_sample = now + SAMPLE_EVERY;
                    }
                    let wait = (deadline - now).min(next_sample - now);
                    s = shared.wake.wait_timeout(s, wait).unwrap_or_else(|p| p.into_inner()).0;
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
