//! The module host: one LuaJIT VM per scene worker, its modules, and their live versions.
//!
//! Each module is a Lua file of the scene directory (`lib/vec.lua` is module `lib.vec`) with a history in the live
//! core (`Live<()>`): edits, file changes, undo and redo build a version (compile, run the top level, hand off to
//! `on_reload`, patch the module's table in place; see prelude.lua) and only a version that gets through all of it
//! becomes live. A runtime error in a callback reverts the module it happened in to its last good version, and
//! disables it when there is none.
//!
//! Typed text waits for the typing to pause before it runs (typing.rs); versions are built by registry.rs (with
//! prelude.lua, the Lua side); supervise.rs judges what runs; tweaks.rs serves the tweak bar.
//!
//! Locking: the registry of modules is behind a mutex because `require` reaches it from inside Lua calls. It is
//! held only between Lua calls, never across one, so a `require` inside a module's top level cannot deadlock.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use allsource_live::{BuildOutput, Change, Diagnostic, Live, Report, read_source, stamp};
use mlua::{Function, Lua, LuaOptions, StdLib, Table, Value};

use crate::api::{self, Collected, CurrentOwner, Graphics, GraphicsAccess, GraphicsSlot};
use crate::budget::{Budget, Overrun};
use crate::diag::from_lua_error;
use crate::interrupt::{INTERRUPTED, Interrupter};
use crate::watchdog::{Guarded, Watchdog};

mod registry;
mod supervise;
mod tweaks;
mod typing;

use registry::{
    Registry, Running, build_module, load_module, message, module_name, module_path, prelude, rollback, set_owner,
};
pub use tweaks::Exposed;

const HOST_KEY: &str = "allsource.host";
/// How the message of a call into an inert module starts (see prelude.lua): `inert module 'name': why`.
pub const INERT: &str = "inert module '";
const PRELUDE: &str = include_str!("prelude.lua");
/// The module that drives a scene.
pub const MAIN: &str = "main";

/// A scene's Lua VM and modules, with the engine's graphics of type `G` behind the `gfx` API.
pub struct ModuleHost<G> {
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
    graphics: std::marker::PhantomData<fn() -> G>,
}

/// How long typing pauses before a Lua module's typed text runs, unless told otherwise.
pub const DEFAULT_PAUSE: Duration = Duration::from_millis(500);

impl<G: Graphics + 'static> ModuleHost<G> {
    /// A VM for the scene in `root`, with the engine API backed by `graphics`. Project modules are trusted: they
    /// get LuaJIT's whole library (ffi and debug included), under the watchdog and the budget.
    pub fn new(root: &Path, graphics: G) -> Result<ModuleHost<G>, String> {
        // SAFETY: ffi and debug are what trusted project code may use; guests get their own sandboxed VM.
        let lua = unsafe { Lua::unsafe_new_with(StdLib::ALL, LuaOptions::default()) };
        let registry = Arc::new(Mutex::new(Registry::default()));
        let collected = Collected::default();
        lua.set_app_data(GraphicsSlot(graphics));
        lua.set_app_data(GraphicsAccess(api::access::<G>));
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
            graphics: std::marker::PhantomData,
        })
    }

    /// A VM for untrusted (guest) code: only a whitelist of globals (no io, os beyond clock/time/date, package,
    /// debug, ffi, jit, load/loadstring/dofile/loadfile, getfenv/setfenv, newproxy, string.dump), `require` limited
    /// to the guest's own modules, the string metatable locked, `string.rep` limited to 16 MiB results and pattern
    /// functions to 64 KiB subjects, and a 64 MiB memory limit. The watchdog and the budget apply as to trusted
    /// code.
    pub fn guest(root: &Path, graphics: G) -> Result<ModuleHost<G>, String> {
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

    /// In a running scene: a module that fails to load stands in inert for the modules that require it (they load
    /// and run; a call into it fails at once) instead of failing them. Off by default: `allsource check` and guests
    /// report the failed `require` on its line.
    pub fn set_inert_requires(&mut self, on: bool) {
        let set = prelude::<()>(&self.lua, "set_inert_requires", on);
        if let Err(e) = set {
            tracing::warn!("failed requires keep failing their callers: {}", message(&e));
        }
    }

    /// What to do when the VM wedges (a call ignores its interrupt: a looping finalizer, one long C call): `f` gets
    /// the modules to suspect, likeliest first, and runs on the watchdog thread. First the module whose code the
    /// newest sample found running (it called the C function that does not return, or set off the finalizer), or
    /// while a module loads, that one; then the module changed last; then every other module, `main` last. Where the
    /// first is wrong, the compositor finds the culprit by elimination.
    pub fn on_wedged(&self, f: impl Fn(Vec<PathBuf>) + Send + 'static) {
        let (running, registry, signal) = (self.running.clone(), self.registry.clone(), self.watchdog.signal().clone());
        self.watchdog.on_wedged(Box::new(move || {
            use std::sync::atomic::Ordering::Relaxed;
            let (index, changed) = (running.0.load(Relaxed), running.1.load(Relaxed));
            let sampled = signal.last_sampled().and_then(|s| s.strip_prefix('@').map(PathBuf::from));
            let suspects = registry
                .lock()
                .map(|r| {
                    let main = r.find(MAIN);
                    let loading = (Some(index) != main).then_some(index);
                    let mut order: Vec<PathBuf> = Vec::new();
                    let sampled = sampled.filter(|p| r.modules.iter().any(|m| &m.path == p));
                    let candidates = sampled
                        .into_iter()
                        .chain(loading.and_then(|i| r.modules.get(i)).map(|m| m.path.clone()))
                        .chain(changed.checked_sub(1).and_then(|i| r.modules.get(i)).map(|m| m.path.clone()))
                        .chain(
                            r.modules.iter().enumerate().filter(|(i, _)| Some(*i) != main).map(|(_, m)| m.path.clone()),
                        )
                        .chain(main.and_then(|i| r.modules.get(i)).map(|m| m.path.clone()));
                    for path in candidates {
                        if !order.contains(&path) {
                            order.push(path);
                        }
                    }
                    order
                })
                .unwrap_or_default();
            f(suspects);
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

    /// Runs `f` with the engine's graphics, as the type the engine made.
    pub fn with_graphics<R>(&self, f: impl FnOnce(&mut G) -> R) -> Option<R> {
        let mut slot = self.lua.app_data_mut::<GraphicsSlot<G>>()?;
        Some(f(&mut slot.0))
    }

    /// Loads `main` (and what it requires), then calls its `load`. Returns what happened.
    pub fn start(&mut self) -> Vec<Report> {
        let lua = &self.lua;
        let (result, _) = self.watchdog.guard(self.budget.load, || prelude::<Value>(lua, "require", MAIN));
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
        let (result, _) = self.watchdog.guard(self.budget.load, || prelude::<Value>(lua, "require", name));
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
        // How the newest build failed after it compiled (its top level or hand-off ran): said as such, not as a
        // build that failed.
        let mut loading_failed = None;
        let mut builder = |text: &str| {
            let ((mut output, began), guarded) = watchdog.guard(limit, || build_module(lua, &name, &path, text));
            if began {
                rollback(lua, &name, false);
                loading_failed = Some(if guarded.overshoot.is_some() {
                    "was stopped while loading"
                } else {
                    "failed while loading"
                });
            } else {
                loading_failed = None;
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
        let mut report = Report::of(&live, &change);
        if !change.live && report.version.is_some() {
            report.verdict = loading_failed.map(|what| format!("{what} (its top level or on_reload)"));
        }
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

    /// Unloads module `name`: it leaves the VM (as `package.loaded[name] = nil` would), its persisted state is
    /// dropped, and every GL object it created is freed. Returns false when no such module is loaded.
    pub fn unload(&mut self, name: &str) -> bool {
        let Some(index) = self.registry().find(name) else { return false };
        let unloaded = prelude::<bool>(&self.lua, "unload", name).unwrap_or(false);
        self.registry().modules[index].unloaded = true;
        self.with_graphics(|g| g.release_owned_by(index));
        self.collect();
        unloaded
    }

    /// Frees the GL objects of handles Lua has collected.
    pub fn collect(&mut self) {
        let ids = self.collected.take();
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
