//! Judging a scene's Lua while it runs: main's callbacks under the watchdog, what a failure reverts or makes inert
//! (always the module whose code failed, looped or spent the time, never its caller), the frame budget's verdicts
//! by each module's own time, and the frame's statistics.

use std::path::PathBuf;
use std::time::Duration;

use allsource_live::{BuildOutput, Diagnostic, Report, Severity};

use super::registry::{Registry, message, prelude, rollback, set_owner};
use super::{INERT, MAIN, ModuleHost};
use crate::api::FrameStats;
use crate::api::Graphics;
use crate::budget::Verdict;
use crate::diag::from_lua_error;
use crate::interrupt::INTERRUPTED;
use crate::watchdog::Guarded;

impl<G: Graphics + 'static> ModuleHost<G> {
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
        let (result, guarded) =
            self.watchdog.guard(self.budget.hard, || prelude::<()>(lua, "call", (MAIN, callback, args)));
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
        crate::diag::place_by_traceback(&mut diagnostic, &e);
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
            let whose = if self.guest { "the guest's" } else { "the scene's" };
            format!("in {callback}(): out of memory ({whose} Lua memory limit is {} MiB)", self.budget.memory >> 20)
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
    pub(super) fn inert_called(&mut self, message: &str) -> Vec<Report> {
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
        vec![Report::about(record.path.clone(), live, d)]
    }

    /// In a guest, after its code went on without an error: modules that failed their first load raised in a
    /// `require` that the guest handled (`pcall`). Their errors become warnings, so they do not stop the preview;
    /// a failure the guest did not handle reaches its own call, which reports an error.
    pub(super) fn handled(&self, reports: &mut [Report]) {
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
    pub(super) fn recover(&self) {
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
    /// Throttling slows `main` itself: only when main's own code spent most of the time (a callee's time is that
    /// callee's to answer for, with a warning and then a revert).
    pub fn throttled(&self) -> bool {
        self.overrun.frames() >= self.budget.throttle_after && self.overrun.culprit() == self.registry().find(MAIN)
    }

    /// Closes a frame without judging it against the budget (lockstep runs: their output must not depend on how
    /// fast the machine is).
    pub fn end_frame_unjudged(&mut self) {
        self.record_stats();
    }

    /// A frame ended: the versions live now got through it. They are marked as having run (a later revert may come
    /// back to them) and their transactions are committed.
    pub(super) fn frame_ran(&mut self) {
        if !self.unran.replace(false) {
            return;
        }
        let _ = prelude::<()>(&self.lua, "commit_all", ());
        for record in &mut self.registry().modules {
            if let Some(live) = record.live.as_mut() {
                live.mark_ran();
            }
        }
    }

    /// Publishes the frame's times (`gfx.stats()`, [`ModuleHost::last_frame`]) and starts the next frame's. Returns
    /// the frame's Lua time, and each module's own share of it (by index) from the samples of the running code.
    pub(super) fn record_stats(&mut self) -> (Duration, Vec<(usize, Duration)>) {
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
    pub(super) fn lua_by_module(&self, lua: Duration) -> Vec<(usize, Duration)> {
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
                vec![Report { version: live, ..Report::about(path, live, d) }]
            }
            Verdict::Throttle { culprit, frames } => {
                if self.throttled() {
                    let (path, _) = record(self, culprit);
                    tracing::warn!(
                        "{}: over the frame budget for {frames} frames (most of the time in its own code): its update \
                         throttled to every other frame",
                        path.display(),
                    );
                }
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
    pub(super) fn revert_at_run_time(&mut self, index: usize, diagnostic: Diagnostic, what: &str) -> Vec<Report> {
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
    pub(super) fn module_loaded(&self, name: &str) -> bool {
        prelude::<bool>(&self.lua, "loaded", name).unwrap_or(false)
    }

    /// Makes module `index` inert: every function its file defined fails at once with `why` (see prelude.lua).
    pub(super) fn disable(&mut self, index: usize, why: &str) {
        let (name, path) = {
            let mut registry = self.registry();
            let r = &mut registry.modules[index];
            r.disabled = Some(why.to_owned());
            (r.name.clone(), r.path.clone())
        };
        self.inert_reported.remove(&name);
        let disabled = prelude::<()>(&self.lua, "disable", (name.as_str(), path.display().to_string(), why));
        if let Err(e) = disabled {
            tracing::warn!("{}: could not make the module inert: {}", path.display(), message(&e));
        }
    }
}
