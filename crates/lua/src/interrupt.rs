//! Reaching into a running Lua call from another thread: LuaJIT documents `lua_sethook` as safe to call from another
//! thread or a signal handler, and with `LUAJIT_ENABLE_CHECKHOOK` compiled traces check for it too
//! (docs/facts/luajit-watchdog.md). Two uses share one hook:
//!
//! - **Interrupt**: the hook raises an error on every instruction until it is removed, so guest `pcall` cannot
//!   swallow it. The place where it first raised (the code that was running when the deadline passed) is kept: that
//!   is the code to blame, even when a `pcall` in its caller catches the error and the next raise lands there.
//! - **Sample**: the hook fires once, counts the chunk whose code is running, and removes itself. The watchdog asks
//!   for a sample every [`SAMPLE_EVERY`] of a call's Lua time, which gives each module's share of it while JIT
//!   speed is kept (no hook is installed between samples).
//!
//! The hook runs on the VM's own thread; it finds its VM's [`Signal`] through a thread-local set by the watchdog's
//! guard around each call.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mlua::ffi;

/// The message a VM interrupted this way raises.
pub const INTERRUPTED: &str = "interrupted: the call ran past its deadline";

/// How often a running call is sampled for the time per module.
pub const SAMPLE_EVERY: Duration = Duration::from_micros(500);

const IDLE: u8 = 0;
const SAMPLE: u8 = 1;
const INTERRUPT: u8 = 2;

/// What the hook of one VM is asked to do, and what it saw.
#[derive(Default)]
pub struct Signal {
    mode: AtomicU8,
    /// Held around every `lua_sethook` of this VM: LuaJIT's own update of the hook mask and dispatch table is not
    /// safe against a second `lua_sethook` at the same time (the watchdog arming while the hook removes itself left
    /// the dispatch table without the hook: a runaway loop that nothing stopped).
    sethook: Mutex<()>,
    /// Chunk names (`@path`) of the code the samples found running, with their counts.
    samples: Mutex<Vec<(String, u32)>>,
    /// Where the interrupt first raised: chunk name and line.
    stopped_in: Mutex<Option<(String, u32)>>,
    /// The chunk the newest sample found running (readable while the VM is stuck: a wedge is blamed on it).
    last: Mutex<Option<String>>,
}

impl Signal {
    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the samples counted since the last call: chunk name and count.
    pub fn take_samples(&self) -> Vec<(String, u32)> {
        std::mem::take(&mut *Signal::lock(&self.samples))
    }

    /// The chunk the newest sample of the call in progress found running.
    pub fn last_sampled(&self) -> Option<String> {
        Signal::lock(&self.last).clone()
    }

    /// Forgets the newest sample (a new call begins).
    pub(crate) fn new_call(&self) {
        Signal::lock(&self.last).take();
    }

    /// Takes where the last interrupt first raised.
    pub fn take_stopped_in(&self) -> Option<(String, u32)> {
        Signal::lock(&self.stopped_in).take()
    }
}

thread_local! {
    /// The signal of the VM whose guarded call runs on this thread.
    static CURRENT: RefCell<Option<Arc<Signal>>> = const { RefCell::new(None) };
}

/// Makes `signal` the one the hook uses on this thread until the returned guard is dropped.
pub(crate) fn enter(signal: &Arc<Signal>) -> impl Drop {
    struct Restore(Option<Arc<Signal>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = previous);
        }
    }
    Restore(CURRENT.with(|c| c.borrow_mut().replace(signal.clone())))
}

/// A handle on one VM's main state, to arm and disarm its hook from any thread.
#[derive(Clone)]
pub struct Interrupter {
    state: usize,
    signal: Arc<Signal>,
}

/// The chunk name and line of the function `ar` describes.
///
/// # Safety
/// `state` and `ar` are a hook's arguments.
unsafe fn location(state: *mut ffi::lua_State, ar: *mut ffi::lua_Debug) -> Option<(String, u32)> {
    // SAFETY: (caller) asking for the running function's source and line is allowed in a hook; `source` is a
    // NUL-terminated string owned by the function's prototype.
    unsafe {
        if ar.is_null() || ffi::lua_getinfo(state, c"Sl".as_ptr(), ar) == 0 || (*ar).source.is_null() {
            return None;
        }
        let source = std::ffi::CStr::from_ptr((*ar).source).to_string_lossy().into_owned();
        Some((source, (*ar).currentline.max(0) as u32))
    }
}

unsafe extern "C-unwind" fn hook(state: *mut ffi::lua_State, ar: *mut ffi::lua_Debug) {
    let Some(signal) = CURRENT.with(|c| c.borrow().clone()) else {
        // No guarded call on this thread (a sample that arrived as a call ended): nothing to do.
        // SAFETY: removing the hook from the VM's own thread is always allowed.
        unsafe { ffi::lua_sethook(state, None, 0, 0) };
        return;
    };
    if signal.mode.load(Ordering::Acquire) == INTERRUPT {
        // SAFETY: a hook's arguments.
        let place = unsafe { location(state, ar) };
        let mut message = INTERRUPTED.to_owned();
        if let Some((source, line)) = &place
            && *line > 0
        {
            let short = source.strip_prefix('@').unwrap_or(source);
            message = format!("{short}:{line}: {INTERRUPTED}");
        }
        {
            let mut first = Signal::lock(&signal.stopped_in);
            if first.is_none() {
                *first = place;
            }
        }
        drop(signal);
        // SAFETY: raising an error from a hook is allowed. Lua copies the message when it is pushed, and nothing
        // with a destructor is left alive across the raise.
        unsafe {
            ffi::lua_pushlstring(state, message.as_ptr().cast(), message.len());
            drop(message);
            ffi::lua_error(state);
        }
    }
    // A sample: count the running chunk, then remove the hook, unless an interrupt was armed meanwhile.
    // SAFETY: a hook's arguments.
    if let Some((source, _)) = unsafe { location(state, ar) } {
        let mut samples = Signal::lock(&signal.samples);
        match samples.iter_mut().find(|(s, _)| *s == source) {
            Some((_, n)) => *n += 1,
            None => samples.push((source.clone(), 1)),
        }
        drop(samples);
        *Signal::lock(&signal.last) = Some(source);
    }
    let _serial = Signal::lock(&signal.sethook);
    if signal.mode.compare_exchange(SAMPLE, IDLE, Ordering::AcqRel, Ordering::Acquire).is_ok() {
        // SAFETY: the VM's own thread, with no other lua_sethook of this VM running (the lock).
        unsafe { ffi::lua_sethook(state, None, 0, 0) };
    }
}

impl Interrupter {
    /// Captures the main state of `lua`.
    pub fn of(lua: &mlua::Lua) -> mlua::Result<Interrupter> {
        let mut state = 0usize;
        // SAFETY: the closure only reads the state pointer, which lives as long as the VM.
        unsafe { lua.exec_raw::<()>((), |s| state = s as usize)? };
        Ok(Interrupter { state, signal: Arc::new(Signal::default()) })
    }

    /// What the hook saw: samples and the place of the last stop.
    pub fn signal(&self) -> &Arc<Signal> {
        &self.signal
    }

    fn set_hook(&self) {
        // SAFETY: the state is the main state of a live VM (the caller's contract on every method); LuaJIT allows
        // lua_sethook from another thread, and the hook is global to the VM. Callers hold `signal.sethook`.
        unsafe { ffi::lua_sethook(self.state as *mut ffi::lua_State, Some(hook), ffi::LUA_MASKCOUNT, 1) };
    }

    /// Makes the running call (if any) raise [`INTERRUPTED`] at its next instruction, and every one after, until
    /// [`Interrupter::disarm`]. The VM must outlive every use of this handle.
    pub fn arm(&self) {
        let _serial = Signal::lock(&self.signal.sethook);
        self.signal.mode.store(INTERRUPT, Ordering::Release);
        self.set_hook();
    }

    /// Asks the running call for one sample of the code it runs. Nothing when an interrupt is armed or a sample is
    /// pending. The hook removes itself after the sample, under the same lock, unless an interrupt was armed.
    pub fn sample(&self) {
        let _serial = Signal::lock(&self.signal.sethook);
        if self.signal.mode.compare_exchange(IDLE, SAMPLE, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            self.set_hook();
        }
    }

    /// Removes the hook. Call on the VM's own thread once the interrupted (or sampled) call has returned. Under the
    /// sethook lock the mode says whether a hook is installed (every install and removal changes both together), so
    /// nothing is done when none is: the end of every guarded call comes here.
    pub fn disarm(&self) {
        let _serial = Signal::lock(&self.signal.sethook);
        if self.signal.mode.swap(IDLE, Ordering::AcqRel) == IDLE {
            return;
        }
        // SAFETY: as `set_hook`.
        unsafe { ffi::lua_sethook(self.state as *mut ffi::lua_State, None, 0, 0) };
    }
}
