//! Draws a Lua scene: the module host's callbacks each frame, typed text run after its pause, statistics.

use std::path::{Path, PathBuf};
use std::time::Duration;

use allsource_gpu::Gl;
use allsource_gpu::{FrameTarget, GpuError};
use allsource_live::Report;
use allsource_lua::ModuleHost;

use crate::graphics::EngineGraphics;

use super::{Change, FrameClock, FrameTimes};

/// Draws a Lua scene: `main`'s `update(dt)`, then its `draw()` into the frame, cleared to black.
pub(super) struct LuaRenderer {
    pub(super) host: ModuleHost<EngineGraphics>,
    pub(super) started: bool,
    pub(super) generation: u64,
    /// The version of the values modules expose with `tweak(...)` last sent to the tweak bar.
    pub(super) exposed_sent: u64,
    /// Guest code (a preview): its text came with the worker; files are not watched.
    pub(super) guest: bool,
}

impl LuaRenderer {
    pub(super) fn new(
        gl: &Gl,
        dir: &Path,
        fps: f64,
        info: &allsource_gpu::GlInfo,
        guest_gpu_budget: Option<u64>,
    ) -> Result<LuaRenderer, GpuError> {
        let guest = guest_gpu_budget.is_some();
        let mut graphics = EngineGraphics::new(gl.clone(), dir, info)?;
        graphics.gpu_budget = guest_gpu_budget;
        let mut host = if guest { ModuleHost::guest(dir, graphics) } else { ModuleHost::new(dir, graphics) }
            .map_err(GpuError::Gl)?;
        // The frame budget follows the display rate (60 Hz by default; 90 and 120 for VR); a guest keeps its
        // smaller memory limit.
        let memory = host.budget().memory;
        let budget = allsource_lua::Budget::for_rate(fps);
        host.set_budget(if guest { allsource_lua::Budget { memory, ..budget } } else { budget });
        host.set_inert_requires(!guest);
        if !guest {
            tracing::info!("Lua budget: {}", host.budget());
        }
        Ok(LuaRenderer { host, started: false, generation: 0, exposed_sent: 0, guest })
    }

    pub(super) fn graphics<R>(&self, f: impl FnOnce(&mut EngineGraphics) -> R) -> Option<R> {
        self.host.with_graphics(f)
    }

    /// Adds the builds of shaders the modules use, and counts what went live.
    pub(super) fn count(&mut self, mut reports: Vec<Report>) -> Vec<Report> {
        reports.extend(self.graphics(|g| std::mem::take(&mut g.reports)).unwrap_or_default());
        self.generation += reports.iter().filter(|r| r.became_live).count() as u64;
        reports
    }

    /// Loads `main` (and calls its `load`) the first time it is called; nothing after that.
    pub(super) fn start_once(&mut self) -> Vec<Report> {
        if std::mem::replace(&mut self.started, true) { Vec::new() } else { self.host.start() }
    }

    pub(super) fn poll(&mut self, gate: allsource_live::Gate) -> Vec<Report> {
        let mut reports = self.start_once();
        if !self.guest {
            reports.extend(self.host.poll_files_gated(gate));
            self.graphics(|g| g.poll_shaders(gate));
        }
        self.count(reports)
    }

    pub(super) fn edit(&mut self, path: &Path, change: Change) -> Vec<Report> {
        // An edit that arrives before the first frame (edits recovered from the journal) starts the scene first,
        // so that it applies to the module or shader it names, and builds after the file's version.
        let mut early = self.start_once();
        let module = match change {
            Change::Edit(text) => self.host.edit(path, text),
            Change::Type(text) => {
                let now = self.host.now();
                self.host.draft(path, text, now)
            }
            Change::Undo => self.host.undo(path),
            Change::Redo => self.host.redo(path),
        };
        let reports = match module {
            Some(reports) => reports,
            None => self
                .graphics(|g| {
                    let gl = g.gl().clone();
                    let report = g.shader_mut(path).map(|s| change.apply(s, &gl));
                    if report.as_ref().is_some_and(|r| r.became_live) {
                        g.last_changed_shader = Some(path.to_path_buf());
                    }
                    report
                })
                .flatten()
                .into_iter()
                .collect(),
        };
        early.extend(reports);
        self.count(early)
    }

    /// The values modules expose with `tweak(...)`, when one was added since the last call.
    pub(super) fn exposed_if_changed(&mut self) -> Option<Vec<allsource_editor::Tweak>> {
        if self.host.exposed_version() == self.exposed_sent {
            return None;
        }
        let (version, exposed) = self.host.exposed();
        self.exposed_sent = version;
        let tweaks = exposed
            .into_iter()
            .map(|e| allsource_editor::Tweak {
                source: PathBuf::from(allsource_editor::LUA_VALUES),
                name: e.name,
                kind: if e.boolean { allsource_editor::Kind::Bool } else { allsource_editor::Kind::Float },
                value: e.values,
                annotation: allsource_editor::Annotation {
                    range: e.range,
                    step: e.step,
                    default: None,
                    colour: e.colour,
                    noted: true,
                },
            })
            .collect();
        Some(tweaks)
    }

    pub(super) fn frame_times(&self) -> FrameTimes {
        let last = self.host.last_frame();
        FrameTimes {
            lua_ms: last.lua.as_secs_f32() * 1e3,
            lua_by_module: last.lua_by_module.iter().map(|(m, d)| (m.clone(), d.as_secs_f32() * 1e3)).collect(),
            gpu_ms: last.gpu.iter().map(|(m, d)| (m.clone(), d.as_secs_f32() * 1e3)).collect(),
            budget_ms: self.host.budget().period.as_secs_f32() * 1e3,
        }
    }

    /// The console's `stats`: the last frame's times against the budget.
    pub(super) fn stats_text(&self) -> String {
        let last = self.host.last_frame();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mut text = format!(
            "lua {:.2} ms of a {:.1} ms frame (engine calls {:.2} ms){}\n",
            ms(last.lua),
            ms(self.host.budget().period),
            ms(last.engine),
            if self.host.throttled() { "; update throttled" } else { "" }
        );
        for (module, d) in &last.lua_by_module {
            text.push_str(&format!("lua {module}: {:.2} ms (its own code, sampled)\n", ms(*d)));
        }
        let mut gpu = last.gpu.clone();
        gpu.sort_by_key(|(_, d)| std::cmp::Reverse(*d));
        for (module, d) in gpu {
            text.push_str(&format!("gpu {module}: {:.2} ms\n", ms(d)));
        }
        text.push_str(&format!("budget: {}", self.host.budget()));
        text
    }

    pub(super) fn draw(&mut self, gl: &Gl, target: &FrameTarget, clock: &FrameClock) -> Vec<Report> {
        self.graphics(|g| {
            g.frame = *target;
            g.time = clock.time;
            g.index = clock.index;
        });
        // Typed texts whose pause has passed run now, before the frame's callbacks.
        let mut reports = self.host.run_due(clock.time);
        reports.extend(self.host.update(clock.delta));
        target.clear(gl, [0.0, 0.0, 0.0, 1.0], None);
        reports.extend(self.host.call("draw", ()));
        if clock.lockstep {
            // Offline frames take what they take: judging them would make output depend on the machine.
            self.host.end_frame_unjudged();
        } else {
            reports.extend(self.host.end_frame());
        }
        self.host.collect();
        self.count(reports)
    }
}
