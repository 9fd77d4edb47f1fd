//! The Rust side of the module system: which file is which module, the registry of modules and their histories,
//! and building a module's version in the VM (compile, transaction, top level, hand-off; the Lua side is
//! prelude.lua). `require` of a module not loaded yet comes here through `load_module`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use allsource_live::{BuildOutput, Diagnostic, Live, Report, Stamp, read_source, stamp};
use mlua::{Function, Lua, Table, Value};

use super::HOST_KEY;
use crate::api::{CurrentOwner, Owner};
use crate::diag::from_lua_error;

/// The file of module `name` under `root`, if `name` is a valid module name.
pub(super) fn module_path(root: &Path, name: &str) -> Option<PathBuf> {
    let valid = !name.is_empty()
        && name
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    valid.then(|| root.join(format!("{}.lua", name.replace('.', "/"))))
}

/// The module name of `path` under `root` (`lib/vec.lua` -> `lib.vec`), if it is a module file there.
pub(super) fn module_name(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?.with_extension("");
    let parts: Vec<&str> = relative.iter().map(|p| p.to_str()).collect::<Option<_>>()?;
    let name = parts.join(".");
    module_path(root, &name).is_some().then_some(name)
}

pub(super) struct Record {
    pub(super) name: String,
    pub(super) path: PathBuf,
    /// Taken out while a build runs (builds run Lua, which may need the registry).
    pub(super) live: Option<Live<()>>,
    pub(super) seen: Option<Stamp>,
    pub(super) read_error: Option<String>,
    pub(super) unloaded: bool,
    /// Typed text that compiles and waits for the typing to pause before it runs, with the scene time it was typed.
    pub(super) draft: Option<(String, f64)>,
    /// Why no version of it runs (a run-time failure with no earlier version that ran): it is inert until an edit
    /// builds, and not rebuilt when other modules change.
    pub(super) disabled: Option<String>,
}

#[derive(Default)]
pub(super) struct Registry {
    pub(super) modules: Vec<Record>,
    pub(super) reports: Vec<Report>,
    /// Texts to load instead of the files' (a replacement worker starts from the last good versions).
    pub(super) overrides: std::collections::HashMap<PathBuf, String>,
    /// Versions of an earlier session, oldest first, put into a module's history when it is first loaded.
    pub(super) seeds: std::collections::HashMap<PathBuf, Vec<String>>,
    /// Modules left out (they wedged a worker), with their files' stamps then: an edit or a write of the file
    /// brings one back.
    pub(super) left_out: std::collections::HashMap<PathBuf, Option<Stamp>>,
}

impl Registry {
    pub(super) fn find(&self, name: &str) -> Option<usize> {
        self.modules.iter().position(|m| m.name == name)
    }

    pub(super) fn add(&mut self, name: &str, path: &Path) -> usize {
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
    pub(super) fn clear_waiting(&mut self) {
        self.draft = None;
        self.disabled = None;
    }
}

/// The innermost message of an mlua error (callback errors wrap the Lua error that caused them).
pub(super) fn message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => message(cause),
        mlua::Error::WithContext { cause, .. } => message(cause),
        mlua::Error::RuntimeError(m) | mlua::Error::SyntaxError { message: m, .. } | mlua::Error::MemoryError(m) => {
            m.clone()
        }
        other => other.to_string(),
    }
}

pub(super) fn set_owner(lua: &Lua, owner: Owner) -> Owner {
    if let Some(running) = lua.app_data_ref::<Running>() {
        running.0.store(owner, std::sync::atomic::Ordering::Relaxed);
    }
    lua.set_app_data(CurrentOwner(owner)).map_or(0, |o| o.0)
}

/// The module whose code runs, and the module changed last, readable from the watchdog thread while the VM is
/// locked by a wedged call.
#[derive(Clone, Default)]
pub(super) struct Running(
    pub(super) Arc<std::sync::atomic::AtomicUsize>,
    pub(super) Arc<std::sync::atomic::AtomicUsize>,
);

/// Compiles `text` as module `name`, runs its top level and installs it. The build closure of the live core.
/// Also says whether the version began to run (and so has a transaction that a failure must roll back).
pub(super) fn build_module(lua: &Lua, name: &str, path: &Path, text: &str) -> (BuildOutput<()>, bool) {
    let started = Instant::now();
    let output = |m: String| BuildOutput {
        artifact: None,
        diagnostics: vec![from_lua_error(&m, path)],
        took: started.elapsed(),
    };
    let fail = |m: String| (output(m), false);
    // The top level failed: an engine call that refused its arguments is placed as in callbacks.
    let failed_running = |e: &mlua::Error| {
        let mut built = output(message(e));
        built.diagnostics.iter_mut().for_each(|d| crate::diag::place_by_traceback(d, e));
        (built, true)
    };
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
        Err(e) => return failed_running(&e),
    };
    if let Err(e) = step("install").and_then(|f| f.call::<bool>((name, env, new))) {
        return (output(message(&e)), true);
    }
    (BuildOutput { artifact: Some(()), diagnostics: Vec::new(), took: started.elapsed() }, false)
}

/// Calls the prelude's function `name` (prelude.lua's `host.NAME`) with `args`.
pub(super) fn prelude<R: mlua::FromLuaMulti>(lua: &Lua, name: &str, args: impl mlua::IntoLuaMulti) -> mlua::Result<R> {
    lua.named_registry_value::<Table>(HOST_KEY)?.get::<Function>(name)?.call::<R>(args)
}

/// Puts back what module `name` had before its newest version ran (a build that failed), or with `all` before
/// the first of its versions that has not been through a frame yet (a first frame that failed); see prelude.lua's
/// transactions. Returns whether there was anything to put back.
pub(super) fn rollback(lua: &Lua, name: &str, all: bool) -> bool {
    prelude::<bool>(lua, "rollback", (name, all)).unwrap_or(false)
}

/// Compiles `text` as module code without running it: the syntax error, if any.
pub(super) fn check_module(lua: &Lua, path: &Path, text: &str) -> Option<Diagnostic> {
    let checked = prelude::<Option<String>>(lua, "check", (path.display().to_string(), text));
    match checked {
        Ok(None) => None,
        Ok(Some(e)) => Some(from_lua_error(&e, path)),
        Err(e) => Some(from_lua_error(&message(&e), path)),
    }
}

/// `require` of a project module that is not loaded yet: registers it and builds its first version.
pub(super) fn load_module(lua: &Lua, registry: &Arc<Mutex<Registry>>, root: &Path, name: &str) -> mlua::Result<Value> {
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
