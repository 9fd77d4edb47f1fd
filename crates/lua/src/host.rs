//! The module host: one LuaJIT VM per scene worker, its modules, and their live versions.
//!
//! Each module is a Lua file of the scene directory (`lib/vec.lua` is module `lib.vec`) with a history in the live
//! core (`Live<()>`): edits, file changes, undo and redo build a version (compile, run the top level, hand off to
//! `on_reload`, patch the module's table in place; see prelude.lua) and only a version that gets through all of it
//! becomes live. A runtime error in a callback reverts the module it happened in to its last good version, and
//! disables it when there is none.
//!
//! Locking: the registry of modules is behind a mutex because `require` reaches it from inside Lua calls. It is
//! held only between Lua calls, never across one, so a `require` inside a module's top level cannot deadlock.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use allsource_live::{BuildOutput, Change, Diagnostic, Live, Report, Severity, Stamp, read_source, stamp};
use mlua::{Function, Lua, LuaOptions, StdLib, Table, Value};

use crate::api::{self, Collected, CurrentOwner, FrameStats, Graphics, GraphicsSlot, Owner};
use crate::budget::{Budget, Overrun, Verdict};
use crate::diag::from_lua_error;
use crate::interrupt::{INTERRUPTED, Interrupter};
use crate::watchdog::{Guarded, Watchdog};

const HOST_KEY: &str = "allsource.host";
/// How the message of a call into an inert module starts (see prelude.lua): `inert module 'name': why`.
pub const INERT: &str = "inert module '";
const PRELUDE: &str = include_str!("prelude.lua");
/// The module that drives a scene.
pub const MAIN: &str = "main";

/// The file of module `name` under `root`, if `name` is a valid module name.
fn module_path(root: &Path, name: &str) -> Option<PathBuf> {
    let valid = !name.is_empty()
        && name
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    valid.then(|| root.join(format!("{}.lua", name.replace('.', "/"))))
}

/// The module name of `path` under `root` (`lib/vec.lua` -> `lib.vec`), if it is a module file there.
fn module_name(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?.with_extension("");
    let parts: Vec<&str> = relative.iter().map(|p| p.to_str()).collect::<Option<_>>()?;
    let name = parts.join(".");
    module_path(root, &name).is_some().then_some(name)
}

struct Record {
    name: String,
    path: PathBuf,
    /// Taken out while a build runs (builds run Lua, which may need the registry).
    live: Option<Live<()>>,
    seen: Option<Stamp>,
    read_error: Option<String>,
    unloaded: bool,
    /// Typed text that compiles and waits for the typing to pause before it runs, with the scene time it was typed.
    draft: Option<(String, f64)>,
    /// Why no version of it runs (a run-time failure with no earlier version that ran): it is inert until an edit
    /// builds, and not rebuilt when other modules change.
    disabled: Option<String>,
}

#[derive(Default)]
struct Registry {
    modules: Vec<Record>,
    reports: Vec<Report>,
    /// Texts to load instead of the files' (a replacement worker starts from the last good versions).
    overrides: std::collections::HashMap<PathBuf, String>,
    /// Versions of an earlier session, oldest first, put into a module's history when it is first loaded.
    seeds: std::collections::HashMap<PathBuf, Vec<String>>,
    /// Modules left out (they wedged a worker), with their files' stamps then: an edit or a write of the file
    /// brings one back.
    left_out: std::collections::HashMap<PathBuf, Option<Stamp>>,
}

impl Registry {
    fn find(&self, name: &str) -> Option<usize> {
        self.modules.iter().position(|m| m.name == name)
    }

    fn add(&mut self, name: &str, path: &Path) -> usize {
        if let Some(i) = self.find(name) {
            self.modules[i].unloaded = false;
            return i;
        }
        let mut live = Live::new(path, allsource_live::DEFAULT_HISTORY);
        if let Some(texts) = self.seeds.remove(path) {
            live.seed(texts);
        }
        self.modules.push(Record {
            name: name.to_owned(),
            path: path.to_path_buf(),
            live: Some(live),
            seen: stamp(path),
            read_error: None,
            unloaded: false,
            draft: None,
            disabled: None,
        });
        self.modules.len() - 1
    }
}

impl Record {
    /// A new text is on its way (an edit, undo, redo, a file written): what waited for the pause is dropped, and
    /// a disabled module may run again if it builds.
    fn clear_waiting(&mut self) {
        self.draft = None;
        self.disabled = None;
    }
}

/// The innermost message of an mlua error (callback errors wrap the Lua error that caused them).
fn message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => message(cause),
        mlua::Error::WithContext { cause, .. } => message(cause),
        mlua::Error::RuntimeError(m) | mlua::Error::SyntaxError { message: m, .. } | mlua::Error::MemoryError(m) => {
            m.clone()
        }
        other => other.to_string(),
    }
}

fn set_owner(lua: &Lua, owner: Owner) -> Owner {
    if let Some(running) = lua.app_data_ref::<Running>() {
        running.0.store(owner, std::sync::atomic::Ordering::Relaxed);
    }
    lua.set_app_data(CurrentOwner(owner)).map_or(0, |o| o.0)
}

/// The module whose code runs, and the module changed last, readable from the watchdog thread while the VM is
/// locked by a wedged call.
#[derive(Clone, Default)]
struct Running(Arc<std::sync::atomic::AtomicUsize>, Arc<std::sync::atomic::AtomicUsize>);

/// Compiles `text` as module `name`, runs its top level and installs it. The build closure of the live core.
/// Also says whether the version began to run (and so has a transaction that a failure must roll back).
fn build_module(lua: &Lua, name: &str, path: &Path, text: &str) -> (BuildOutput<()>, bool) {
    let started = Instant::now();
    let output = |m: String| BuildOutput {
        artifact: None,
        diagnostics: vec![from_lua_error(&m, path)],
        took: started.elapsed(),
    };
    let fail = |m: String| (output(m), false);
    let host: Table = match lua.named_registry_value(HOST_KEY) {
        Ok(host) => host,
        Err(e) => return fail(message(&e)),
    };
    let path_text = path.display().to_string();
    let step = |f: &str| host.get::<Function>(f);
    let compiled = step("compile").and_then(|f| f.call::<(Value, Value)>((name, path_text.as_str(), text)));
    let (chunk, env) = match compiled {
        Ok((Value::Function(chunk), Value::Table(env))) => (chunk, env),
        Ok((_, Value::String(err))) => return fail(err.to_string_lossy()),
        Ok(_) => return fail("the module did not compile".into()),
        Err(e) => return fail(message(&e)),
    };
    // A transaction: what the version changes is put back (by the caller, with `rollback`, once the watchdog has
    // let go) if its top level or hand-off fails, or later its first frame (see `ModuleHost::end_frame`).
    if let Err(e) = step("begin").and_then(|f| f.call::<()>(name)) {
        return fail(message(&e));
    }
    let new = match step("run").and_then(|f| f.call::<Table>((chunk, path_text.as_str()))) {
        Ok(table) => table,
        Err(e) => return (output(message(&e)), true),
    };
    if let Err(e) = step("install").and_then(|f| f.call::<bool>((name, env, new))) {
        return (output(message(&e)), true);
    }
    (BuildOutput { artifact: Some(()), diagnostics: Vec::new(), took: started.elapsed() }, false)
}

/// Puts back what module `name` had before its newest version ran (a build that failed), or with `all` before
/// the first of its versions that has not been through a frame yet (a first frame that failed); see prelude.lua's
/// transactions. Returns whether there was anything to put back.
fn rollback(lua: &Lua, name: &str, all: bool) -> bool {
    lua.named_registry_value::<Table>(HOST_KEY)
        .and_then(|h| h.get::<Function>("rollback"))
        .and_then(|f| f.call::<bool>((name, all)))
        .unwrap_or(false)
}

/// Compiles `text` as module code without running it: the syntax error, if any.
fn check_module(lua: &Lua, path: &Path, text: &str) -> Option<Diagnostic> {
    let checked = lua
        .named_registry_value::<Table>(HOST_KEY)
        .and_then(|h| h.get::<Function>("check"))
        .and_then(|f| f.call::<Option<String>>((path.display().to_string(), text)));
    match checked {
        Ok(None) => None,
        Ok(Some(e)) => Some(from_lua_error(&e, path)),
        Err(e) => Some(from_lua_error(&message(&e), path)),
    }
}

/// A scene's Lua VM and modules.
pub struct ModuleHost {
    /// Declared (and so dropped) before the VM: its thread is joined before the state it arms is closed.
    watchdog: Watchdog,
    running: Running,
    lua: Lua,
    registry: Arc<Mutex<Registry>>,
    root: PathBuf,
    interrupter: Interrupter,
    budget: Budget,
    collected: Collected,
    main_loaded: bool,
    /// Lua time of the frame so far, consecutive frames over the period, and the module changed last (the one a
    /// new slowdown is blamed on).
    frame_time: Duration,
    overrun: Overrun,
    last_changed: Option<usize>,
    /// Inert modules whose calls were already reported (a call into one fails every frame; it is said once).
    inert_reported: std::collections::HashSet<String>,
    /// How the last callback went (for tests and the bench).
    last_call: Option<Guarded>,
    /// While throttled: frames since `update` last ran, and the time it missed.
    skipped: u32,
    missed: f64,
    /// This frame's update was skipped by the throttle: the frame is not judged.
    frame_skipped: bool,
    frame_engine: Duration,
    /// A version went live since the last frame ended: at the end of this one, versions that got through it are
    /// marked as having run and their transactions committed.
    unran: std::cell::Cell<bool>,
    /// Guest code (a preview): a failed `require` its own `pcall` handled is a warning, not an error.
    guest: bool,
    /// How long typing must pause before a typed text that compiles runs, and the scene time now.
    pause: Duration,
    now: f64,
}

/// How long typing pauses before a Lua module's typed text runs, unless told otherwise.
pub const DEFAULT_PAUSE: Duration = Duration::from_millis(500);

impl ModuleHost {
    /// A VM for the scene in `root`, with the engine API backed by `graphics`. Project modules are trusted: they
    /// get LuaJIT's whole library (ffi and debug included), under the watchdog and the budget.
    pub fn new(root: &Path, graphics: Box<dyn Graphics>) -> Result<ModuleHost, String> {
        // SAFETY: ffi and debug are what trusted project code may use; guests get their own sandboxed VM.
        let lua = unsafe { Lua::unsafe_new_with(StdLib::ALL, LuaOptions::default()) };
        let registry = Arc::new(Mutex::new(Registry::default()));
        let collected = Collected::default();
        lua.set_app_data(GraphicsSlot(graphics));
        lua.set_app_data(collected.clone());
        lua.set_app_data(CurrentOwner(0));
        let running = Running::default();
        lua.set_app_data(running.clone());
        let setup = || -> mlua::Result<Interrupter> {
            // `print` goes to the engine's log, target "lua": the console shows it, and `allsource run` writes it to
            // standard output too.
            let print = lua.create_function(|_, args: mlua::MultiValue| {
                let parts: Vec<String> =
                    args.iter().map(|v| v.to_string().unwrap_or_else(|_| v.type_name().to_owned())).collect();
                tracing::info!(target: "lua", "{}", parts.join("\t"));
                Ok(())
            })?;
            lua.globals().set("print", print)?;
            let host: Table = lua.load(PRELUDE).set_name("=allsource/prelude.lua").call(())?;
            lua.set_named_registry_value(HOST_KEY, host.clone())?;
            let load_registry = registry.clone();
            let load_root = root.to_path_buf();
            host.set(
                "load",
                lua.create_function(move |lua, name: String| load_module(lua, &load_registry, &load_root, &name))?,
            )?;
            lua.globals().set("require", host.get::<Function>("require")?)?;
            api::install(&lua)?;
            Interrupter::of(&lua)
        };
        let interrupter = setup().map_err(|e| format!("the Lua VM could not be set up: {}", message(&e)))?;
        let budget = Budget::default();
        lua.set_memory_limit(budget.memory).map_err(|e| format!("the Lua VM refused a memory limit: {e}"))?;
        let watchdog = Watchdog::start(interrupter.clone());
        lua.set_app_data(watchdog.handle());
        Ok(ModuleHost {
            running,
            lua,
            registry,
            root: root.to_path_buf(),
            interrupter,
            watchdog,
            budget,
            collected,
            main_loaded: false,
            frame_time: Duration::ZERO,
            overrun: Overrun::default(),
            last_changed: None,
            inert_reported: Default::default(),
            last_call: None,
            skipped: 0,
            missed: 0.0,
            frame_skipped: false,
            frame_engine: Duration::ZERO,
            unran: std::cell::Cell::new(false),
            guest: false,
            pause: DEFAULT_PAUSE,
            now: 0.0,
        })
    }

    /// How long typing must pause before a typed text runs (0: at the next frame).
    pub fn set_pause(&mut self, pause: Duration) {
        self.pause = pause;
    }

    /// New typed text for the module in `path` (a keystroke in the editor): it is compiled at once (a syntax error
    /// is reported on its line), but it *runs* (top level, hand-off, callbacks) only once it compiles and `pause`
    /// has passed without another keystroke, measured in scene time from `now`: see [`ModuleHost::run_due`].
    /// `None` when `path` is not a module of this scene.
    pub fn draft(&mut self, path: &Path, text: &str, now: f64) -> Option<Vec<Report>> {
        if self.registry().left_out.contains_key(path) {
            return self.edit(path, text);
        }
        let index = self.index_of_path(path)?;
        let error = check_module(&self.lua, path, text);
        let mut registry = self.registry();
        let record = &mut registry.modules[index];
        let live = record.live.as_ref()?;
        let live_text = live.live().map(|v| v.text.clone());
        let mut report = Report {
            path: record.path.clone(),
            version: None,
            live_version: live.live().map(|v| v.number),
            became_live: false,
            took: Duration::ZERO,
            diagnostics: Vec::new(),
            live_text: live_text.clone(),
            pending: false,
            verdict: None,
        };
        match error {
            Some(d) => {
                // What waited is stale now: the typist went on.
                record.draft = None;
                report.diagnostics.push(d);
            }
            None if live_text.as_deref() == Some(text) => record.draft = None,
            None => {
                record.draft = Some((text.to_owned(), now));
                report.pending = true;
            }
        }
        Some(vec![report])
    }

    /// Runs typed texts whose pause has passed by scene time `now` (called before each frame's callbacks).
    pub fn run_due(&mut self, now: f64) -> Vec<Report> {
        self.now = now;
        let pause = self.pause.as_secs_f64();
        let due: Vec<(usize, String)> = {
            let mut registry = self.registry();
            registry
                .modules
                .iter_mut()
                .enumerate()
                .filter(|(_, m)| m.draft.as_ref().is_some_and(|(_, at)| now - at >= pause - 1e-9))
                .filter_map(|(i, m)| {
                    m.disabled = None;
                    m.draft.take().map(|(text, _)| (i, text))
                })
                .collect()
        };
        let mut reports = Vec::new();
        for (index, text) in due {
            if let Some(report) = self.change(index, |live, build| live.edit(&text, build)) {
                reports.extend(self.finish(report));
            }
        }
        reports
    }

    /// The scene time of the last frame (what typed texts are stamped with).
    pub fn now(&self) -> f64 {
        self.now
    }

    /// A VM for untrusted (guest) code: only a whitelist of globals (no io, os beyond clock/time/date, package,
    /// debug, ffi, jit, load/loadstring/dofile/loadfile, getfenv/setfenv, newproxy, string.dump), `require` limited
    /// to the guest's own modules, the string metatable locked, `string.rep` limited to 16 MiB results and pattern
    /// functions to 64 KiB subjects, and a 64 MiB memory limit. The watchdog and the budget apply as to trusted
    /// code.
    pub fn guest(root: &Path, graphics: Box<dyn Graphics>) -> Result<ModuleHost, String> {
        let mut host = ModuleHost::new(root, graphics)?;
        let limits = host.lua.create_table().map_err(|e| e.to_string())?;
        let sandbox = || -> mlua::Result<()> {
            limits.set("rep", 16 << 20)?;
            limits.set("subject", 64 << 10)?;
            let prelude: Table = host.lua.named_registry_value(HOST_KEY)?;
            prelude.get::<Function>("sandbox")?.call::<()>(limits.clone())
        };
        sandbox().map_err(|e| format!("the guest sandbox could not be set up: {}", message(&e)))?;
        host.guest = true;
        host.set_budget(Budget { memory: 64 << 20, ..Budget::default() });
        Ok(host)
    }

    /// What to do when the VM wedges (a call ignores its interrupt: a looping finalizer, one long C call): `f`
    /// gets the file of the module that was running, and runs on the watchdog thread.
    pub fn on_wedged(&self, f: impl Fn(Option<PathBuf>) + Send + 'static) {
        let (running, registry, signal) = (self.running.clone(), self.registry.clone(), self.watchdog.signal().clone());
        self.watchdog.on_wedged(Box::new(move || {
            use std::sync::atomic::Ordering::Relaxed;
            let (index, changed) = (running.0.load(Relaxed), running.1.load(Relaxed));
            // The code that ran last before the VM stopped answering: the module that called the C function that
            // does not return, or whose code set off the finalizer that loops.
            let sampled = signal.last_sampled().and_then(|s| s.strip_prefix('@').map(PathBuf::from));
            let path = registry.lock().ok().and_then(|r| {
                if let Some(path) = sampled.filter(|p| r.modules.iter().any(|m| &m.path == p)) {
                    return Some(path);
                }
                // No sample: in main's callbacks the code that wedged can be any module main calls: blame the one
                // changed last. While a module loads, it is the one loading.
                let culprit = if Some(index) == r.find(MAIN) && changed > 0 { changed - 1 } else { index };
                r.modules.get(culprit).map(|m| m.path.clone())
            });
            f(path);
        }));
    }

    /// Starts modules from these texts instead of their files (the last good versions of a worker given up), and
    /// leaves out these modules (the one that wedged it).
    pub fn start_from(&mut self, texts: Vec<(PathBuf, String)>, left_out: Vec<PathBuf>) {
        let mut registry = self.registry();
        registry.overrides.extend(texts);
        registry.left_out.extend(left_out.into_iter().map(|p| {
            let seen = stamp(&p);
            (p, seen)
        }));
    }

    /// Versions of an earlier session per module file, oldest first: each joins its module's history (undo reaches
    /// them) when the module first loads. See [`Live::seed`].
    pub fn seed(&mut self, history: Vec<(PathBuf, Vec<String>)>) {
        self.registry().seeds.extend(history);
    }

    /// The budget in force.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Changes the budget (the display rate changed, or the user asked).
    pub fn set_budget(&mut self, budget: Budget) {
        if let Err(e) = self.lua.set_memory_limit(budget.memory) {
            tracing::warn!("memory limit not changed: {e}");
        }
        self.budget = budget;
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        // A panic while the lock was held leaves data that is still consistent (plain fields): keep going.
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn interrupter(&self) -> Interrupter {
        self.interrupter.clone()
    }

    /// Runs `f` with the engine's graphics.
    pub fn with_graphics<R>(&self, f: impl FnOnce(&mut dyn Graphics) -> R) -> Option<R> {
        let mut slot = self.lua.app_data_mut::<GraphicsSlot>()?;
        Some(f(slot.0.as_mut()))
    }

    /// Loads `main` (and what it requires), then calls its `load`. Returns what happened.
    pub fn start(&mut self) -> Vec<Report> {
        let lua = &self.lua;
        let (result, _) = self.watchdog.guard(self.budget.load, || {
            lua.named_registry_value::<Table>(HOST_KEY)
                .and_then(|h| h.get::<Function>("require"))
                .and_then(|f| f.call::<Value>(MAIN))
        });
        if let Err(e) = result {
            tracing::debug!("main did not load: {}", message(&e));
        }
        self.after_change();
        let mut reports = self.take_reports();
        if self.main_live() {
            self.handled(&mut reports);
        }
        if self.main_live() && !self.main_loaded {
            self.main_loaded = true;
            reports.extend(self.call("load", ()));
        }
        reports
    }

    /// Loads module `name` (as `require` would) without calling any callback: what `allsource check` runs.
    /// Returns the reports of every module that loaded with it.
    pub fn load(&mut self, name: &str) -> Vec<Report> {
        let lua = &self.lua;
        let (result, _) = self.watchdog.guard(self.budget.load, || {
            lua.named_registry_value::<Table>(HOST_KEY)
                .and_then(|h| h.get::<Function>("require"))
                .and_then(|f| f.call::<Value>(name))
        });
        let mut reports = self.take_reports();
        if let Err(e) = result
            && reports.iter().all(|r| r.diagnostics.is_empty())
        {
            let path = module_path(&self.root, name).unwrap_or_else(|| self.root.join(name));
            let d = from_lua_error(&message(&e), &path);
            reports.push(Report {
                path,
                version: None,
                live_version: None,
                became_live: false,
                took: std::time::Duration::ZERO,
                diagnostics: vec![d],
                live_text: None,
                pending: false,
                verdict: None,
            });
        }
        reports
    }

    fn main_live(&self) -> bool {
        let registry = self.registry();
        registry.find(MAIN).and_then(|i| registry.modules[i].live.as_ref()).is_some_and(|l| l.live().is_some())
    }

    fn take_reports(&self) -> Vec<Report> {
        let reports = std::mem::take(&mut self.registry().reports);
        if reports.iter().any(|r| r.became_live) {
            self.unran.set(true);
        }
        reports
    }

    /// The live version of the module in `path`, if it is one.
    pub fn live_version(&self, path: &Path) -> Option<u64> {
        let registry = self.registry();
        let record = registry.modules.iter().find(|m| m.path == path)?;
        record.live.as_ref()?.live().map(|v| v.number)
    }

    /// Names of the modules loaded (not unloaded).
    pub fn modules(&self) -> Vec<String> {
        self.registry().modules.iter().filter(|m| !m.unloaded).map(|m| m.name.clone()).collect()
    }

    fn index_of_path(&self, path: &Path) -> Option<usize> {
        self.registry().modules.iter().position(|m| allsource_live::same_file(&m.path, path))
    }

    /// Runs a change of the live core on module `index` with the module build closure.
    fn change(
        &mut self,
        index: usize,
        f: impl FnOnce(&mut Live<()>, &mut dyn FnMut(&str) -> BuildOutput<()>) -> Change<()>,
    ) -> Option<Report> {
        let (name, path, mut live) = {
            let mut registry = self.registry();
            let record = registry.modules.get_mut(index)?;
            (record.name.clone(), record.path.clone(), record.live.take()?)
        };
        let previous = set_owner(&self.lua, index);
        let lua = &self.lua;
        let (watchdog, limit) = (&self.watchdog, self.budget.load);
        let mut builder = |text: &str| {
            let ((mut output, began), guarded) = watchdog.guard(limit, || build_module(lua, &name, &path, text));
            if began {
                rollback(lua, &name, false);
            }
            if guarded.overshoot.is_some() {
                for d in &mut output.diagnostics {
                    d.message = format!(
                        "the top level ran past its {:.0} ms limit and was stopped here",
                        limit.as_secs_f64() * 1e3
                    );
                }
            }
            output
        };
        let change = f(&mut live, &mut builder);
        set_owner(&self.lua, previous);
        if change.live {
            self.unran.set(true);
            self.last_changed = Some(index);
            self.running.1.store(index + 1, std::sync::atomic::Ordering::Relaxed);
        } else {
            self.recover();
        }
        let report = Report::of(&live, &change);
        if let Some(record) = self.registry().modules.get_mut(index) {
            record.live = Some(live);
        }
        Some(report)
    }

    /// Modules left out were edited (`paths`): each loads into the inert stand-in its callers hold, and what failed
    /// without them loads again (`main` itself, when it never loaded).
    fn bring_back(&mut self, paths: &[PathBuf]) -> Vec<Report> {
        for path in paths {
            let Some(name) = module_name(&self.root, path) else { continue };
            let (lua, registry, root) = (&self.lua, &self.registry, &self.root);
            let (loaded, _) = self.watchdog.guard(self.budget.load, || load_module(lua, registry, root, &name));
            if let Err(e) = loaded {
                tracing::debug!("{}: not brought back: {}", path.display(), message(&e));
            }
            self.recover();
        }
        if self.main_live() {
            self.after_change();
            self.take_reports()
        } else {
            self.start()
        }
    }

    /// Rebuilds modules whose files changed. Returns what happened.
    pub fn poll_files(&mut self) -> Vec<Report> {
        self.poll_files_gated(&mut |_, _| true)
    }

    /// Rebuilds modules whose files changed, each only if `gate` admits the text read. Returns what happened.
    pub fn poll_files_gated(&mut self, gate: allsource_live::Gate) -> Vec<Report> {
        let returning: Vec<PathBuf> = {
            let mut registry = self.registry();
            let changed: Vec<PathBuf> =
                registry.left_out.iter().filter(|(p, seen)| stamp(p) != **seen).map(|(p, _)| p.clone()).collect();
            for p in &changed {
                registry.left_out.remove(p);
            }
            changed
        };
        if !returning.is_empty() {
            let mut reports = self.bring_back(&returning);
            reports.extend(self.poll_changed_files(gate));
            return reports;
        }
        self.poll_changed_files(gate)
    }

    fn poll_changed_files(&mut self, gate: allsource_live::Gate) -> Vec<Report> {
        let changed: Vec<(usize, Result<String, String>)> = {
            let mut registry = self.registry();
            registry
                .modules
                .iter_mut()
                .enumerate()
                .filter(|(_, m)| !m.unloaded)
                .filter_map(|(i, m)| {
                    let now = stamp(&m.path);
                    if now == m.seen {
                        return None;
                    }
                    m.seen = now;
                    Some((i, read_source(&m.path)))
                })
                .collect()
        };
        let mut reports = Vec::new();
        for (index, text) in changed {
            match text {
                Ok(text) => {
                    let path = self.registry().modules[index].path.clone();
                    self.registry().modules[index].read_error = None;
                    if !gate(&path, &text) {
                        continue;
                    }
                    self.registry().modules[index].clear_waiting();
                    if let Some(r) = self.change(index, |live, build| live.edit(&text, build)) {
                        reports.push(r);
                    }
                }
                Err(e) => {
                    let mut registry = self.registry();
                    let record = &mut registry.modules[index];
                    if record.read_error.as_deref() != Some(e.as_str()) {
                        record.read_error = Some(e.clone());
                        let d =
                            Diagnostic::error(record.path.clone(), format!("{e}; the last good version stays live"));
                        if let Some(live) = &record.live {
                            reports.push(Report::without_build(live, d));
                        }
                    }
                }
            }
        }
        if reports.iter().any(|r| r.became_live) {
            self.after_change();
        }
        reports.extend(self.take_reports());
        reports
    }

    /// New text for the module in `path`, run at once (a save, a reload, a promoted preview; typing goes through
    /// [`ModuleHost::draft`]). `None` when `path` is not a module of this scene.
    pub fn edit(&mut self, path: &Path, text: &str) -> Option<Vec<Report>> {
        if self.registry().left_out.remove(path).is_some() {
            self.registry().overrides.insert(path.to_path_buf(), text.to_owned());
            return Some(self.bring_back(&[path.to_path_buf()]));
        }
        let index = self.index_of_path(path)?;
        self.registry().modules[index].clear_waiting();
        let report = self.change(index, |live, build| live.edit(text, build))?;
        Some(self.finish(report))
    }

    pub fn undo(&mut self, path: &Path) -> Option<Vec<Report>> {
        let index = self.index_of_path(path)?;
        self.registry().modules[index].clear_waiting();
        let report = self.change(index, |live, build| live.undo(build))?;
        Some(self.finish(report))
    }

    pub fn redo(&mut self, path: &Path) -> Option<Vec<Report>> {
        let index = self.index_of_path(path)?;
        self.registry().modules[index].clear_waiting();
        let report = self.change(index, |live, build| live.redo(build))?;
        Some(self.finish(report))
    }

    fn finish(&mut self, report: Report) -> Vec<Report> {
        if report.became_live {
            self.after_change();
        }
        let mut reports = vec![report];
        reports.extend(self.take_reports());
        reports
    }

    /// After a version went live, modules with no live version (they may have failed because of it) are built
    /// again, and `main` gets its `load` call if it never had one.
    fn after_change(&mut self) {
        let waiting: Vec<usize> = {
            let registry = self.registry();
            registry
                .modules
                .iter()
                .enumerate()
                .filter(|(_, m)| {
                    !m.unloaded
                        && m.disabled.is_none()
                        && m.live.as_ref().is_some_and(|l| l.live().is_none() && l.newest().is_some())
                })
                .map(|(i, _)| i)
                .collect()
        };
        for index in waiting {
            if let Some(report) = self.change(index, |live, build| live.rebuild(build))
                && report.became_live
            {
                self.registry().reports.push(report);
            }
        }
        if !self.main_loaded && self.main_live() {
            self.main_loaded = true;
            let reports = self.call("load", ());
            self.registry().reports.extend(reports);
        }
    }

    /// Calls `main`'s `callback` if it has one. A runtime error reverts the module it happened in to its last good
    /// version (or disables it), and is reported.
    pub fn call(&mut self, callback: &str, args: impl mlua::IntoLuaMulti) -> Vec<Report> {
        let Some(main) = self.registry().find(MAIN) else { return Vec::new() };
        if !self.main_live() {
            return Vec::new();
        }
        let previous = set_owner(&self.lua, main);
        let lua = &self.lua;
        self.watchdog.signal().take_stopped_in();
        let (result, guarded) = self.watchdog.guard(self.budget.hard, || {
            lua.named_registry_value::<Table>(HOST_KEY)
                .and_then(|h| h.get::<Function>("call"))
                .and_then(|f| f.call::<()>((MAIN, callback, args)))
        });
        set_owner(&self.lua, previous);
        // The budget judges Lua's own time: engine calls (a driver compiling at a first draw, GPU timing waits)
        // are the engine's, and GPU time is measured per module on its own.
        self.frame_time += guarded.took.saturating_sub(guarded.engine);
        self.frame_engine += guarded.engine;
        self.last_call = Some(guarded);
        let Err(e) = result else {
            let mut reports = self.take_reports();
            self.handled(&mut reports);
            return reports;
        };
        self.recover();
        let main_path = self.registry().modules[main].path.clone();
        let text = message(&e);
        // A call into an inert module: that module was judged already. Said once; nobody else is blamed.
        if let Some(at) = text.find(INERT) {
            return self.inert_called(&text[at..]);
        }
        let stopped = guarded.overshoot.is_some() || text.contains(INTERRUPTED);
        // For a stop, the code to blame is where the interrupt first raised: the caller may have caught that with
        // `pcall` and been interrupted next, which is where the error that came out was raised.
        let first_stop = self.watchdog.signal().take_stopped_in();
        let mut diagnostic = match (stopped, first_stop) {
            (true, Some((source, line))) if source.starts_with('@') && line > 0 => {
                Diagnostic::error(PathBuf::from(&source[1..]), String::new()).at(line, None)
            }
            _ => from_lua_error(&text, &main_path),
        };
        if diagnostic.line.is_none()
            && let Some((file, line)) = crate::diag::traceback_location(&e)
        {
            // An engine call that refused its arguments: the Lua line that made it.
            diagnostic.file = file;
            diagnostic.line = Some(line);
        }
        let what;
        diagnostic.message = if stopped {
            what = "was stopped";
            format!(
                "in {callback}(): stopped here after {:.0} ms: one callback may take at most {:.0} ms (hard limit of the frame budget)",
                guarded.took.as_secs_f64() * 1e3,
                self.budget.hard.as_secs_f64() * 1e3
            )
        } else if matches!(e, mlua::Error::MemoryError(_)) || text.contains("not enough memory") {
            what = "ran out of memory";
            format!("in {callback}(): out of memory (the scene's Lua memory limit is {} MiB)", self.budget.memory >> 20)
        } else {
            what = "failed at run time";
            format!("in {callback}(): {}", diagnostic.message)
        };
        let culprit = self.index_of_path(&diagnostic.file).unwrap_or(main);
        let quoted = {
            let registry = self.registry();
            let live = registry.modules[culprit].live.as_ref().and_then(|l| l.live());
            // The text that failed, quoted from the version that ran it (not from whatever the buffer holds now).
            live.zip(diagnostic.line)
                .and_then(|(v, n)| v.text.lines().nth(n.saturating_sub(1) as usize).map(|l| l.trim().to_owned()))
        };
        if let Some(line) = quoted.filter(|l| !l.is_empty()) {
            diagnostic.message.push_str(&format!(" — in `{line}`"));
        }
        self.revert_at_run_time(culprit, diagnostic, what)
    }

    /// A callback failed because it called into an inert module (`message` starts with [`INERT`]): reported once
    /// per module, as a warning on that module; the caller is not judged for it.
    fn inert_called(&mut self, message: &str) -> Vec<Report> {
        let name = message[INERT.len()..].split('\'').next().unwrap_or("").to_owned();
        let Some(index) = self.registry().find(&name) else { return Vec::new() };
        if !self.inert_reported.insert(name) {
            return Vec::new();
        }
        let registry = self.registry();
        let record = &registry.modules[index];
        let d = Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(record.path.clone(), format!("a call into it failed at once: {message}"))
        };
        let live = record.live.as_ref().and_then(|l| l.live().map(|v| v.number));
        vec![Report {
            path: record.path.clone(),
            version: None,
            live_version: live,
            became_live: false,
            took: Duration::ZERO,
            diagnostics: vec![d],
            live_text: None,
            pending: false,
            verdict: None,
        }]
    }

    /// In a guest, after its code went on without an error: modules that failed their first load raised in a
    /// `require` that the guest handled (`pcall`). Their errors become warnings, so they do not stop the preview;
    /// a failure the guest did not handle reaches its own call, which reports an error.
    fn handled(&self, reports: &mut [Report]) {
        if !self.guest {
            return;
        }
        for r in reports.iter_mut().filter(|r| r.version.is_some() && !r.became_live && r.live_version.is_none()) {
            for d in r.diagnostics.iter_mut().filter(|d| d.is_error()) {
                d.severity = Severity::Warning;
                d.message.push_str(" (its require raised, and the guest handled the error)");
            }
        }
    }

    /// After a failed call: whatever the failed code did to the collector (`collectgarbage('stop')`) is undone, and
    /// its garbage collected at once. LuaJIT has no emergency collection, so after a memory bomb the VM would stay
    /// at its limit until the next step.
    fn recover(&self) {
        self.lua.gc_restart();
        let _ = self.lua.gc_collect();
        let _ = self.lua.gc_collect();
    }

    /// How the last callback went: its time, and how far past its deadline it was stopped, if it was.
    pub fn last_call(&self) -> Option<Guarded> {
        self.last_call
    }

    /// Calls `main.update(dt)`, every other frame while the budget throttles it (with the time it missed).
    pub fn update(&mut self, dt: f64) -> Vec<Report> {
        if self.throttled() && self.skipped == 0 {
            self.skipped = 1;
            self.missed += dt;
            self.frame_skipped = true;
            return Vec::new();
        }
        let dt = dt + std::mem::take(&mut self.missed);
        self.skipped = 0;
        self.call("update", dt)
    }

    /// Whether `update` is being throttled by the frame budget.
    pub fn throttled(&self) -> bool {
        self.overrun.frames() >= self.budget.throttle_after
    }

    /// Closes a frame without judging it against the budget (lockstep runs: their output must not depend on how
    /// fast the machine is).
    pub fn end_frame_unjudged(&mut self) {
        self.record_stats();
    }

    /// A frame ended: the versions live now got through it. They are marked as having run (a later revert may come
    /// back to them) and their transactions are committed.
    fn frame_ran(&mut self) {
        if !self.unran.replace(false) {
            return;
        }
        let _ = self
            .lua
            .named_registry_value::<Table>(HOST_KEY)
            .and_then(|h| h.get::<Function>("commit_all"))
            .and_then(|f| f.call::<()>(()));
        for record in &mut self.registry().modules {
            if let Some(live) = record.live.as_mut() {
                live.mark_ran();
            }
        }
    }

    /// Publishes the frame's times (`gfx.stats()`, [`ModuleHost::last_frame`]) and starts the next frame's. Returns
    /// the frame's Lua time, and each module's own share of it (by index) from the samples of the running code.
    fn record_stats(&mut self) -> (Duration, Vec<(usize, Duration)>) {
        self.frame_ran();
        let lua = std::mem::take(&mut self.frame_time);
        let engine = std::mem::take(&mut self.frame_engine);
        let by_index = self.lua_by_module(lua);
        let gpu_by_owner = self.with_graphics(|g| g.take_gpu_time()).unwrap_or_default();
        let names =
            |registry: &Registry, i: usize| registry.modules.get(i).map_or_else(|| format!("#{i}"), |m| m.name.clone());
        let (gpu, lua_by_module) = {
            let registry = self.registry();
            let mut gpu: Vec<(String, Duration)> = Vec::new();
            for (owner, d) in gpu_by_owner.iter() {
                let name = names(&registry, *owner);
                match gpu.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, total)) => *total += *d,
                    None => gpu.push((name, *d)),
                }
            }
            (gpu, by_index.iter().map(|(i, d)| (names(&registry, *i), *d)).collect())
        };
        // GPU time is sampled on some drivers: a frame without a measurement keeps the last one.
        let gpu = if gpu_by_owner.is_empty() { self.last_frame().gpu } else { gpu };
        self.lua.set_app_data(FrameStats { lua, engine, gpu, lua_by_module });
        (lua, by_index)
    }

    /// Each module's own share of `lua`, the frame's Lua time, from the samples of the running code taken since
    /// the last frame; modules by index, largest first. Code outside any module (the console, the prelude) is left
    /// out.
    fn lua_by_module(&self, lua: Duration) -> Vec<(usize, Duration)> {
        let samples = self.watchdog.signal().take_samples();
        let total: u32 = samples.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return Vec::new();
        }
        let registry = self.registry();
        let mut out: Vec<(usize, Duration)> = Vec::new();
        for (source, n) in samples {
            let Some(path) = source.strip_prefix('@') else { continue };
            let Some(index) = registry.modules.iter().position(|m| m.path.as_os_str() == path) else { continue };
            let share = lua.mul_f64(f64::from(n) / f64::from(total));
            match out.iter_mut().find(|(i, _)| *i == index) {
                Some((_, d)) => *d += share,
                None => out.push((index, share)),
            }
        }
        out.sort_by_key(|(_, d)| std::cmp::Reverse(*d));
        out
    }

    /// The last frame's times.
    pub fn last_frame(&self) -> FrameStats {
        self.lua.app_data_ref::<FrameStats>().map(|s| s.clone()).unwrap_or_default()
    }

    /// Closes a frame for the budget: when the frame's callbacks took longer than the period for `warn_after`
    /// frames in a row a warning is reported, at `throttle_after` `update` is throttled, and at `revert_after` the
    /// module whose own code spent the most of that time is reverted to the last version that ran (or disabled).
    /// A caller is never judged for the time of the modules it calls.
    pub fn end_frame(&mut self) -> Vec<Report> {
        let (took, by_module) = self.record_stats();
        if std::mem::take(&mut self.frame_skipped) {
            return Vec::new();
        }
        let Some(main) = self.registry().find(MAIN) else { return Vec::new() };
        let verdict = self.overrun.frame(&self.budget, took, &by_module, main);
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let record = |host: &Self, i: usize| {
            let registry = host.registry();
            let r = &registry.modules[i];
            (r.path.clone(), r.live.as_ref().and_then(|l| l.live().map(|v| v.number)))
        };
        match verdict {
            Verdict::Fine => Vec::new(),
            Verdict::Warn { culprit, took, frames } => {
                let (path, live) = record(self, culprit);
                let message = format!(
                    "Lua took {:.1} ms a frame for {frames} frames in a row, most of it in this module's own code; \
                     the frame budget is {:.1} ms (reverted after {})",
                    ms(took),
                    ms(self.budget.period),
                    self.budget.revert_after
                );
                let d = Diagnostic { severity: Severity::Warning, ..Diagnostic::error(path.clone(), message) };
                vec![Report {
                    path,
                    version: live,
                    live_version: live,
                    became_live: false,
                    took: Duration::ZERO,
                    diagnostics: vec![d],
                    live_text: None,
                    pending: false,
                    verdict: None,
                }]
            }
            Verdict::Throttle { culprit, frames } => {
                let (path, _) = record(self, culprit);
                tracing::warn!(
                    "{}: over the frame budget for {frames} frames (most of the time in its code): main's update \
                     throttled to every other frame",
                    path.display(),
                );
                Vec::new()
            }
            Verdict::Revert { culprit, took, frames } => {
                let (path, _) = record(self, culprit);
                let d = Diagnostic::error(
                    path,
                    format!(
                        "Lua took {:.1} ms a frame for {frames} frames in a row, most of it in this module's own \
                         code, over the {:.1} ms frame budget",
                        ms(took),
                        ms(self.budget.period)
                    ),
                );
                self.revert_at_run_time(culprit, d, "went over the frame budget")
            }
        }
    }

    /// Module `index` failed while running (`diagnostic` says how): its uncommitted versions' changes are put back,
    /// and it goes back to its last version that ran, or, with none, becomes inert until an edit builds. `what`
    /// says what happened, for the console ("failed at run time", "was stopped", "went over the frame budget").
    fn revert_at_run_time(&mut self, index: usize, diagnostic: Diagnostic, what: &str) -> Vec<Report> {
        let (name, path, failed) = {
            let registry = self.registry();
            let r = &registry.modules[index];
            (r.name.clone(), r.path.clone(), r.live.as_ref().and_then(|l| l.live().map(|v| v.number)))
        };
        // Within its first frame the version's transaction is still open: what it changed is put back, the module's
        // table and environment included, which hold the code of the version live before (the one that ran a frame,
        // and so the one the revert goes to): it is live again without running its top level a second time.
        let undone = rollback(&self.lua, &name, true);
        let restored = undone && self.module_loaded(&name);
        let d = diagnostic.clone();
        let Some(mut report) = self.change(index, move |live, build| {
            if restored {
                live.revert(vec![d], |_| BuildOutput {
                    artifact: Some(()),
                    diagnostics: Vec::new(),
                    took: Duration::ZERO,
                })
            } else {
                live.revert(vec![d], build)
            }
        }) else {
            return Vec::new();
        };
        let undone = if undone { "; what it changed in persisted state was put back" } else { "" };
        // What happened is `report.verdict` (the console's line says it); the note says what runs now.
        let failed_text = failed.map_or("the live version".to_owned(), |v| format!("version {v}"));
        let note = match report.live_version {
            Some(v) => format!("version {v}, the last that ran, is live again{undone}"),
            None => {
                let why = format!(
                    "{failed_text} {what} and no earlier version ran; edit {} to bring it back",
                    path.display()
                );
                self.disable(index, &why);
                format!(
                    "no earlier version of this module ran: it is disabled: inert (a call into it fails at once) \
                     until an edit builds{undone}"
                )
            }
        };
        report.version = failed;
        report.became_live = false;
        report.verdict = Some(what.to_owned());
        report.diagnostics =
            vec![diagnostic, Diagnostic { severity: Severity::Note, ..Diagnostic::error(report.path.clone(), note) }];
        self.finish(report)
    }

    /// Whether module `name` has a table in the VM (loaded, not unloaded).
    fn module_loaded(&self, name: &str) -> bool {
        self.lua
            .named_registry_value::<Table>(HOST_KEY)
            .and_then(|h| h.get::<Function>("loaded"))
            .and_then(|f| f.call::<bool>(name))
            .unwrap_or(false)
    }

    /// Makes module `index` inert: every function its file defined fails at once with `why` (see prelude.lua).
    fn disable(&mut self, index: usize, why: &str) {
        let (name, path) = {
            let mut registry = self.registry();
            let r = &mut registry.modules[index];
            r.disabled = Some(why.to_owned());
            (r.name.clone(), r.path.clone())
        };
        self.inert_reported.remove(&name);
        let disabled = self
            .lua
            .named_registry_value::<Table>(HOST_KEY)
            .and_then(|h| h.get::<Function>("disable"))
            .and_then(|f| f.call::<()>((name.as_str(), path.display().to_string(), why)));
        if let Err(e) = disabled {
            tracing::warn!("{}: could not make the module inert: {}", path.display(), message(&e));
        }
    }

    /// Unloads module `name`: it leaves the VM (as `package.loaded[name] = nil` would), its persisted state is
    /// dropped, and every GL object it created is freed. Returns false when no such module is loaded.
    pub fn unload(&mut self, name: &str) -> bool {
        let Some(index) = self.registry().find(name) else { return false };
        let unloaded = self
            .lua
            .named_registry_value::<Table>(HOST_KEY)
            .and_then(|h| h.get::<Function>("unload"))
            .and_then(|f| f.call::<bool>(name))
            .unwrap_or(false);
        self.registry().modules[index].unloaded = true;
        self.with_graphics(|g| g.release_owned_by(index));
        self.collect();
        unloaded
    }

    /// Frees the GL objects of handles Lua has collected.
    pub fn collect(&mut self) {
        let ids = std::mem::take(&mut *self.collected.0.lock().unwrap_or_else(|p| p.into_inner()));
        if !ids.is_empty() {
            self.with_graphics(|g| ids.into_iter().for_each(|id| g.release(id)));
        }
    }

    /// Runs a full garbage collection (tests and unloads).
    pub fn collect_garbage(&mut self) {
        let _ = self.lua.gc_collect();
        let _ = self.lua.gc_collect();
        self.collect();
    }

    /// A number that changes when a module exposes a new value with `tweak(...)` (cheap: read every frame).
    pub fn exposed_version(&self) -> u64 {
        let read = || -> mlua::Result<u64> {
            let host: Table = self.lua.named_registry_value(HOST_KEY)?;
            host.get::<Table>("tweaks")?.get("version")
        };
        read().unwrap_or(0)
    }

    /// The values modules exposed with `tweak(...)`, and a number that changes when one is added.
    pub fn exposed(&self) -> (u64, Vec<Exposed>) {
        let read = || -> mlua::Result<(u64, Vec<Exposed>)> {
            let host: Table = self.lua.named_registry_value(HOST_KEY)?;
            let tweaks: Table = host.get("tweaks")?;
            let version: u64 = tweaks.get("version")?;
            let values: Table = tweaks.get("values")?;
            let specs: Table = tweaks.get("specs")?;
            let order: Table = tweaks.get("order")?;
            let mut out = Vec::new();
            for name in order.sequence_values::<String>() {
                let name = name?;
                let spec: Option<Table> = specs.get(name.as_str()).ok();
                let num = |k: &str| spec.as_ref().and_then(|s| s.get::<Option<f64>>(k).ok().flatten());
                let (values, boolean) = match values.get::<mlua::Value>(name.as_str())? {
                    mlua::Value::Boolean(b) => (vec![f64::from(b)], true),
                    mlua::Value::Table(t) => (t.sequence_values::<f64>().filter_map(Result::ok).collect(), false),
                    mlua::Value::Integer(i) => (vec![i as f64], false),
                    mlua::Value::Number(n) => (vec![n], false),
                    _ => (Vec::new(), false),
                };
                let range = match (num("min"), num("max")) {
                    (Some(lo), Some(hi)) => Some((lo, hi)),
                    (Some(lo), None) => Some((lo, lo.max(1.0))),
                    (None, Some(hi)) => Some((hi.min(0.0), hi)),
                    _ => None,
                };
                let colour =
                    spec.as_ref().and_then(|s| s.get::<Option<bool>>("colour").ok().flatten()).unwrap_or(false);
                out.push(Exposed { name, values, boolean, range, step: num("step"), colour });
            }
            Ok((version, out))
        };
        read().unwrap_or_default()
    }

    /// Sets a value exposed with `tweak(...)` (the tweak bar). False when there is no such value or the new one
    /// does not fit it.
    pub fn set_exposed(&self, name: &str, values: &[f64]) -> bool {
        let set = || -> mlua::Result<bool> {
            let host: Table = self.lua.named_registry_value(HOST_KEY)?;
            let current: Table = host.get::<Table>("tweaks")?.get("values")?;
            let value = match (current.get::<mlua::Value>(name)?, values) {
                (mlua::Value::Boolean(_), [v]) => mlua::Value::Boolean(*v != 0.0),
                (mlua::Value::Number(_) | mlua::Value::Integer(_), [v]) => mlua::Value::Number(*v),
                (mlua::Value::Table(t), vs) if t.raw_len() == vs.len() => {
                    for (i, v) in vs.iter().enumerate() {
                        t.raw_set(i + 1, *v)?;
                    }
                    return Ok(true);
                }
                _ => return Ok(false),
            };
            current.set(name, value)?;
            Ok(true)
        };
        set().unwrap_or(false)
    }

    /// Evaluates `code` in the scene VM (the console): returns what it printed as a value, or the error.
    pub fn eval(&mut self, code: &str) -> Result<String, String> {
        let chunk = self.lua.load(code).set_name("=console");
        let (value, guarded) = self.watchdog.guard(self.budget.load, || chunk.eval::<mlua::MultiValue>());
        if guarded.overshoot.is_some() {
            return Err(format!("stopped after {:.0} ms: {INTERRUPTED}", guarded.took.as_secs_f64() * 1e3));
        }
        let value = value.map_err(|e| {
            self.recover();
            message(&e)
        })?;
        Ok(value.iter().map(|v| v.to_string().unwrap_or_else(|_| format!("{v:?}"))).collect::<Vec<_>>().join("\t"))
    }

    /// The scene directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// A value a module exposed to the tweak bar with `tweak(name, default, opts)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Exposed {
    pub name: String,
    pub values: Vec<f64>,
    pub boolean: bool,
    pub range: Option<(f64, f64)>,
    pub step: Option<f64>,
    pub colour: bool,
}

/// `require` of a project module that is not loaded yet: registers it and builds its first version.
fn load_module(lua: &Lua, registry: &Arc<Mutex<Registry>>, root: &Path, name: &str) -> mlua::Result<Value> {
    let Some(path) = module_path(root, name) else { return Ok(Value::Boolean(false)) };
    let lock = || registry.lock().unwrap_or_else(|p| p.into_inner());
    // A module given as text (a replacement worker's last good version, a preview's candidate) needs no file.
    if !path.is_file() && !lock().overrides.contains_key(&path) {
        return Ok(Value::Boolean(false));
    }
    if lock().left_out.contains_key(&path) {
        // Its callers get an inert stand-in (prelude.lua), so that they load and run without it.
        let why = format!("left out after it wedged the scene's worker; edit {} to bring it back", path.display());
        return Ok(Value::String(lua.create_string(why)?));
    }
    let was_unloaded = {
        let registry = lock();
        registry.find(name).is_some_and(|i| registry.modules[i].unloaded)
    };
    let index = lock().add(name, &path);
    let override_text = lock().overrides.remove(&path);
    let from_override = override_text.is_some();
    let text = match override_text.map_or_else(|| read_source(&path), Ok) {
        Ok(text) => text,
        Err(e) => return Err(mlua::Error::runtime(format!("{}: {e}", path.display()))),
    };
    let previous = set_owner(lua, index);
    let (output, began) = build_module(lua, name, &path, &text);
    if began {
        rollback(lua, name, false);
    }
    set_owner(lua, previous);
    let first_error = output.diagnostics.first().map(ToString::to_string);
    let mut registry = lock();
    let record = &mut registry.modules[index];
    // Loaded from a given text (a last good version): the file, maybe newer and broken, is read at the next poll
    // and builds as the next version (identical text builds nothing).
    record.seen = if from_override { None } else { stamp(&path) };
    record.draft = None;
    let Some(live) = record.live.as_mut() else { return Ok(Value::Boolean(false)) };
    // Loaded again after an unload: its text may be the newest version's, which must build all the same.
    let same = live.newest().is_some_and(|v| *v.text == *text);
    let change = if was_unloaded && same { live.rebuild(move |_| output) } else { live.edit(&text, move |_| output) };
    let report = Report::of(live, &change);
    let ok = change.live;
    registry.reports.push(report);
    match (ok, first_error) {
        (true, _) => Ok(Value::Boolean(true)),
        (false, Some(e)) => Err(mlua::Error::runtime(format!("module '{name}' did not load ({e})"))),
        (false, None) => Err(mlua::Error::runtime(format!("module '{name}' did not load"))),
    }
}

/// The floor of a module reload, for `allsource bench`: compile and run `text` as a chunk in a bare VM, `times`
/// times (a fresh chunk each time), returning each duration.
pub fn raw_load_and_run(text: &str, times: usize) -> Result<Vec<std::time::Duration>, String> {
    let lua = Lua::new();
    let mut out = Vec::with_capacity(times);
    for i in 0..times {
        let chunk = format!("{text}\n-- {i}");
        let started = Instant::now();
        lua.load(&chunk).set_name("@bench.lua").exec().map_err(|e| message(&e))?;
        out.push(started.elapsed());
    }
    Ok(out)
}
