//! The worker: a thread with its own GL context in the compositor's share group, rendering a scene into its own
//! textures.
//!
//! The worker owns a small ring of render targets ([`SLOTS`]). It renders a frame into a free slot, ends it with a
//! fence, and sends the slot's texture and fence to the compositor. A slot becomes free again when the compositor
//! releases it, with a fence of the compositor's own that the worker waits for on the GPU before drawing into it
//! again. In real-time mode the worker draws a frame when it would be the next one shown (one slot on screen, one
//! free to draw), so it is paced by the compositor and draws no frame that is skipped; the third slot is used
//! only right after a new version went live, so that its first frame starts without waiting a frame.
//!
//! Files: protocol.rs (the messages and options, shared with the compositor and the file watcher), handle.rs (the
//! thread and its handle), this file (the worker's loop: slots, pacing, commands), disk.rs (the disk gate),
//! render.rs (what draws a scene), lua_renderer.rs and shader_renderer.rs (the two kinds of scene).
//!
//! Length: about 660 lines: the loop, the pacing and the command handlers share the slot ring and the renderer;
//! what could leave without dragging that state along has left (the files above).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::{self};
use std::time::{Duration, Instant};

use allsource_gpu::Gl;
use allsource_gpu::{Fence, GlContext, GpuError, SharedContext, Target};
use allsource_live::Report;

use crate::{Entry, Scene};

mod channels;
mod disk;
mod handle;
mod link;
mod lua_renderer;
pub mod process;
pub(crate) mod protocol;
mod render;
mod shader_renderer;
mod shadertoy_input;

pub(crate) use handle::PREVIEW_NICE;
pub use handle::WorkerHandle;
pub use link::{Transport, WorkerLink};
pub use protocol::*;

use disk::Disk;
use lua_renderer::LuaRenderer;
use render::{Change, FrameClock, Renderer};
use shader_renderer::ShaderRenderer;

struct Slot {
    target: Option<Target>,
    free: bool,
    /// The compositor's fence for its last use of this slot's texture.
    wait: Option<Fence>,
}

struct Worker {
    gl: Gl,
    options: EngineOptions,
    events: Sender<Event>,
    slots: Vec<Slot>,
    size: (u32, u32),
    renderer: Renderer,
    /// The slot drawn last: the scene's previous frame, which shaders may sample.
    previous: Option<usize>,
    last_time: Option<f64>,
    /// The live version the newest frame was drawn with.
    drawn_version: Option<u64>,
    /// Set by `DebugLoseContext`.
    lose_context: bool,
    /// The worker's own fence after its last frame, and when that frame was submitted (the GPU timeout).
    submitted: Option<(Fence, Instant)>,
    /// The fence of a frame that ran past the GPU timeout and was reverted, until it has left the GPU: frames
    /// submitted meanwhile queue behind it, and are timed only from then (or the version before would be judged
    /// for the slow one's time).
    behind: Option<Fence>,
    /// What the worker knows of the sources' files on disk (conflicts, its own writes).
    disk: Disk,
    /// The scene's persisted history (`EngineOptions::store`), and the scene directory its paths are relative to.
    history: Option<allsource_store::History>,
    root: PathBuf,
    /// The watcher wakes the worker when files change; without it, files are looked at every frame.
    watching: bool,
    /// When the files were last looked at (with a watcher, also every `fallback_poll`, in case it missed one).
    last_poll: Option<Instant>,
}

/// What the command loop should do after a command.
enum Flow {
    Continue,
    Render { index: u64, time: f64 },
    Stop,
}

impl Worker {
    fn run(
        context: SharedContext,
        scene: Scene,
        options: EngineOptions,
        mut start: StartFrom,
        watching: bool,
        commands: Receiver<Command>,
        events: Sender<Event>,
    ) -> Result<(), GpuError> {
        let context: GlContext = context.make_current()?;
        let store = options.store && !start.guest;
        let history = store.then(|| allsource_store::History::open(&allsource_store::dir_of(&scene.dir)));
        if let Some(history) = &history
            && start.texts.is_empty()
        {
            // A fresh start: every source starts from its last good version of the previous session, with that
            // session's versions in its history; the file builds next (nothing, if it is the same text).
            for source in history.sources() {
                let mut texts = history.load(&source);
                if let Some(last_good) = texts.pop() {
                    start.texts.push((scene.dir.join(&source), last_good));
                    start.history.push((scene.dir.join(&source), texts));
                }
            }
        }
        let gl = context.gl.clone();
        // A guest runs its text as the main module of the scene's directory, whatever the scene's own entry is.
        let entry = if start.guest { Entry::Lua(scene.dir.join("main.lua")) } else { scene.entry.clone() };
        let renderer = match entry {
            Entry::FullscreenShader(path) => {
                // A replacement worker (or a new session) starts from the last good versions; the files (maybe
                // newer and broken) are read at the first frame and build as the next versions.
                let (shader, reports) = ShaderRenderer::new(&gl, path, &start)?;
                for report in reports {
                    let _ = events.send(Event::Built(report));
                }
                Renderer::Shader(Box::new(shader))
            }
            Entry::Lua(_) => {
                let gpu_budget = start.guest.then_some(options.preview_gpu_memory);
                let mut lua = LuaRenderer::new(&gl, &scene.dir, options.fps, &context.info, gpu_budget)?;
                lua.host.set_pause(options.lua_pause);
                if !options.frame_budget {
                    let budget = lua.host.budget().clone();
                    let never = u32::MAX;
                    lua.host.set_budget(allsource_lua::Budget {
                        warn_after: never,
                        throttle_after: never,
                        revert_after: never,
                        ..budget
                    });
                }
                let older: std::collections::HashMap<PathBuf, Vec<String>> = start.history.into_iter().collect();
                let starts = start
                    .texts
                    .iter()
                    .map(|(p, t)| (p.clone(), (older.get(p).cloned().unwrap_or_default(), t.clone())))
                    .collect();
                lua.graphics(|g| g.starts = starts);
                lua.host.seed(older.into_iter().collect());
                lua.host.start_from(start.texts, start.left_out);
                let wedged = events.clone();
                lua.host.on_wedged(move |suspects| {
                    let _ = wedged.send(Event::Wedged { suspects });
                });
                Renderer::Lua(Box::new(lua))
            }
        };
        let slots = (0..SLOTS).map(|_| Slot { target: None, free: true, wait: None }).collect();
        let mut worker = Worker {
            gl,
            size: options.size,
            options,
            events,
            slots,
            renderer,
            previous: None,
            last_time: None,
            drawn_version: None,
            lose_context: false,
            submitted: None,
            behind: None,
            disk: Disk::default(),
            history,
            root: scene.dir.clone(),
            watching,
            last_poll: None,
        };
        let result = worker.command_loop(&commands);
        worker.free();
        drop(context);
        result
    }

    fn command_loop(&mut self, commands: &Receiver<Command>) -> Result<(), GpuError> {
        let start = Instant::now();
        let mut next_index = 0u64;
        loop {
            let (index, time) = match self.options.clock {
                Clock::Realtime => {
                    let mut batch = Vec::new();
                    loop {
                        match commands.try_recv() {
                            Ok(command) => batch.push(command),
                            Err(TryRecvError::Empty) => break,
                            Err(TryRecvError::Disconnected) => return Ok(()),
                        }
                    }
                    for command in coalesce_edits(batch) {
                        if let Flow::Stop = self.handle(command) {
                            return Ok(());
                        }
                    }
                    if !self.poll_sources() {
                        return Ok(());
                    }
                    // Wait until a frame drawn now would be the next one shown, watching the last frame's GPU time
                    // meanwhile (the compositor takes only finished frames, so this is where a slow one shows).
                    while !self.may_render_ahead() {
                        let wait = match &self.submitted {
                            Some((_, at)) => self
                                .options
                                .gpu_timeout
                                .saturating_sub(at.elapsed())
                                .clamp(Duration::from_millis(1), Duration::from_millis(50)),
                            None => Duration::from_secs(3600),
                        };
                        match commands.recv_timeout(wait) {
                            Ok(command) => {
                                if let Flow::Stop = self.handle(command) {
                                    return Ok(());
                                }
                            }
                            Err(mpsc::RecvTimeoutError::Timeout) => {
                                if !self.poll_gpu_timeout() {
                                    return Ok(());
                                }
                            }
                            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
                        }
                    }
                    next_index += 1;
                    (next_index - 1, start.elapsed().as_secs_f64())
                }
                Clock::Lockstep => loop {
                    let Ok(command) = commands.recv() else { return Ok(()) };
                    match self.handle(command) {
                        Flow::Stop => return Ok(()),
                        Flow::Render { index, time } => break (index, time),
                        Flow::Continue => {}
                    }
                },
            };
            // Wait for the compositor to hand a slot back.
            while !self.slots.iter().any(|s| s.free) {
                let Ok(command) = commands.recv() else { return Ok(()) };
                if let Flow::Stop = self.handle(command) {
                    return Ok(());
                }
            }
            if !self.poll_sources() || !self.render(index, time)? {
                return Ok(());
            }
        }
    }

    /// Real-time pacing. With two free slots (one is on screen), a new frame is the next one shown: draw it. With
    /// one free slot a finished frame already waits to be shown, and drawing another would be work the compositor
    /// skips, unless a new version went live since: then the third slot lets its first frame start at once
    /// instead of a frame later.
    fn may_render_ahead(&self) -> bool {
        let free = self.slots.iter().filter(|s| s.free).count();
        free >= 2 || (free >= 1 && self.renderer.generation() != self.drawn_version)
    }

    /// Rebuilds sources whose files changed, when it is time to look. Returns false when the compositor has gone
    /// away.
    fn poll_sources(&mut self) -> bool {
        let due = !self.watching
            || self.options.clock == Clock::Lockstep
            || self.last_poll.is_none_or(|at| at.elapsed() >= self.options.fallback_poll);
        if due { self.poll_now() } else { true }
    }

    fn poll_now(&mut self) -> bool {
        let at = Instant::now();
        self.last_poll = Some(at);
        let (disk, events) = (&mut self.disk, &self.events);
        let reports = self.renderer.poll(&self.gl, &mut |path, text| {
            let _ = events.send(Event::Progress);
            disk.admit(path, text)
        });
        for event in self.disk.events.drain(..) {
            let _ = self.events.send(event);
        }
        if reports.iter().any(|r| r.version.is_some()) {
            let _ = self.events.send(Event::RebuiltFromDisk { at });
        }
        self.send_reports(reports)
    }

    /// Persists the versions that went live (`EngineOptions::store`). A failure to write is logged, never fatal.
    fn persist(&mut self, reports: &[Report]) {
        let Some(history) = &mut self.history else { return };
        for r in reports.iter().filter(|r| r.became_live) {
            let (Some(text), Ok(source)) = (&r.live_text, r.path.strip_prefix(&self.root)) else { continue };
            if let Err(e) = history.push(source, text) {
                tracing::warn!("the history of {} was not saved: {e}", r.path.display());
            }
        }
    }

    fn send_reports(&mut self, reports: Vec<Report>) -> bool {
        let news = match &mut self.renderer {
            Renderer::Shader(r) => std::mem::take(&mut r.textures.news),
            Renderer::Lua(r) => r.graphics(|g| std::mem::take(&mut g.texture_news)).unwrap_or_default(),
        };
        for (path, problem) in news {
            let _ = self.events.send(Event::Texture { path, problem });
        }
        self.persist(&reports);
        reports.into_iter().all(|r| {
            let tweaks = r.became_live.then(|| self.renderer.tweaks(&self.gl, &r.path)).flatten();
            let path = r.path.clone();
            let sent = self.events.send(Event::Built(r)).is_ok();
            if let Some(tweaks) = tweaks {
                let noted_only = matches!(self.renderer, Renderer::Lua(_));
                let _ = self.events.send(Event::Uniforms { path, tweaks, noted_only });
            }
            sent
        })
    }

    fn handle(&mut self, command: Command) -> Flow {
        match command {
            Command::Render { index, time } => Flow::Render { index, time },
            Command::Release { slot, after } => {
                if let Some(s) = self.slots.get_mut(slot) {
                    s.free = true;
                    if let Some(old) = std::mem::replace(&mut s.wait, after) {
                        old.delete(&self.gl);
                    }
                }
                Flow::Continue
            }
            Command::Resize { width, height } => {
                let size = (width.max(1), height.max(1));
                let changed = size != self.size;
                self.size = size;
                if let Renderer::Lua(r) = &mut self.renderer
                    && changed
                {
                    // gfx.width() and gfx.height() inside the callback already say the new size.
                    r.graphics(|g| (g.frame.width, g.frame.height) = size);
                    let reports = r.host.call("resize", size);
                    let reports = r.count(reports);
                    self.send_reports(reports);
                }
                Flow::Continue
            }
            Command::Edit { path, text } => self.edit(path, &text, false),
            Command::Type { path, text } => self.edit(path, &text, true),
            Command::Undo { path } => self.version_change(path, Change::Undo),
            Command::Redo { path } => self.version_change(path, Change::Redo),
            Command::FilesChanged => {
                if self.poll_now() {
                    Flow::Continue
                } else {
                    Flow::Stop
                }
            }
            Command::Save { path, text, overwrite } => {
                let result = if !overwrite && let Some(disk) = self.disk.changed_behind(&path, &text) {
                    let _ = self.events.send(Event::Conflict { path: path.clone(), disk });
                    Err(format!("{} was not written: it changed on disk since the engine read it", path.display()))
                } else {
                    allsource_store::write_atomically(&path, text.as_bytes())
                        .map_err(|e| format!("could not write {}: {e}", path.display()))
                };
                if result.is_ok() {
                    self.disk.wrote(&path, &text);
                }
                let saved = result.is_ok();
                let _ = self.events.send(Event::Saved { path: path.clone(), text: text.clone(), result });
                // A save runs the typed Lua text that waits for the pause at once (the pause is for typing); a text
                // that runs already is not built again.
                if saved && let Renderer::Lua(r) = &mut self.renderer {
                    let reports = r.host.run_waiting(&path).unwrap_or_default();
                    let reports = r.count(reports);
                    self.send_reports(reports);
                }
                Flow::Continue
            }
            Command::SetUniform { path, name, value } => {
                let ok = self.renderer.set_uniform(&self.gl, &path, &name, value);
                let _ = self.events.send(Event::UniformSet { path, name, ok });
                Flow::Continue
            }
            Command::Eval { code } => {
                let result = self.renderer.eval(&code);
                let _ = self.events.send(Event::Answer { request: code, result });
                Flow::Continue
            }
            Command::Key { code, down } => {
                if let Renderer::Shader(r) = &mut self.renderer {
                    r.keyboard.key(&code, down);
                }
                if let Renderer::Lua(r) = &mut self.renderer {
                    r.graphics(|g| if down { g.keys.insert(code.clone()) } else { g.keys.remove(&code) });
                    let reports = r.host.call(if down { "keypressed" } else { "keyreleased" }, code);
                    let reports = r.count(reports);
                    self.send_reports(reports);
                }
                Flow::Continue
            }
            Command::Mouse { x, y } => {
                match &mut self.renderer {
                    Renderer::Lua(r) => {
                        r.graphics(|g| g.mouse = (x, y));
                    }
                    Renderer::Shader(r) => r.pointer.moved(x, y),
                }
                Flow::Continue
            }
            Command::MouseButton { button, down } => {
                match &mut self.renderer {
                    Renderer::Shader(r) if button == 1 => r.pointer.button(down),
                    Renderer::Shader(_) => {}
                    Renderer::Lua(r) => {
                        let at = r.graphics(|g| {
                            if down {
                                g.buttons.insert(button)
                            } else {
                                g.buttons.remove(&button)
                            };
                            g.mouse
                        });
                        let (x, y) = at.unwrap_or_default();
                        let callback = if down { "mousepressed" } else { "mousereleased" };
                        let reports = r.host.call(callback, (x, y, button));
                        let reports = r.count(reports);
                        self.send_reports(reports);
                    }
                }
                Flow::Continue
            }
            Command::Wheel { x, y } => {
                if let Renderer::Lua(r) = &mut self.renderer {
                    let reports = r.host.call("wheelmoved", (x, y));
                    let reports = r.count(reports);
                    self.send_reports(reports);
                }
                Flow::Continue
            }
            Command::Text { text } => {
                if let Renderer::Lua(r) = &mut self.renderer {
                    let reports = r.host.call("textinput", text);
                    let reports = r.count(reports);
                    self.send_reports(reports);
                }
                Flow::Continue
            }
            Command::Unload { module } => {
                let result = match self.renderer.unload(&module) {
                    true => Ok(format!("unloaded {module}")),
                    false => Err(format!("no module {module} is loaded")),
                };
                let _ = self.events.send(Event::Answer { request: format!("unload {module}"), result });
                Flow::Continue
            }
            Command::Stats => {
                let result = match &self.renderer {
                    Renderer::Lua(r) => Ok(r.stats_text()),
                    Renderer::Shader(_) => {
                        Err("this scene has no Lua modules; stats are Lua and GPU times per module".into())
                    }
                };
                let _ = self.events.send(Event::Answer { request: "stats".into(), result });
                Flow::Continue
            }
            Command::GpuTimedOut { took } => {
                let reports = self.renderer.gpu_timeout(&self.gl, took, self.options.gpu_timeout);
                self.send_reports(reports);
                Flow::Continue
            }
            Command::DebugLoseContext => {
                self.lose_context = true;
                Flow::Continue
            }
            Command::Budget { ms } => {
                let result = match &mut self.renderer {
                    Renderer::Lua(r) => {
                        let memory = r.host.budget().memory;
                        let budget = allsource_lua::Budget { memory, ..allsource_lua::Budget::for_rate(1e3 / ms) };
                        let text = format!("budget: {budget}");
                        r.host.set_budget(budget);
                        Ok(text)
                    }
                    Renderer::Shader(_) => Err("this scene has no Lua modules; the budget is for Lua time".into()),
                };
                let _ = self.events.send(Event::Answer { request: format!("budget {ms}"), result });
                Flow::Continue
            }
            Command::Sync(n) => {
                let _ = self.events.send(Event::Synced(n));
                Flow::Continue
            }
            Command::Stop => Flow::Stop,
        }
    }

    /// New text for `path`, typed (a Lua module runs it after the pause) or to build now.
    fn edit(&mut self, path: PathBuf, text: &str, typed: bool) -> Flow {
        self.disk.edited(&path, text);
        let change = if typed { Change::Type(text) } else { Change::Edit(text) };
        let mut reports = self.renderer.edit(&self.gl, &path, change);
        if reports.is_empty() {
            // Not a source of its own (an included file, a module nothing requires): say so, so that the
            // editor does not wait for a build.
            reports.push(Report {
                path,
                version: None,
                live_version: None,
                became_live: false,
                took: Duration::ZERO,
                diagnostics: Vec::new(),
                live_text: None,
                pending: false,
                verdict: None,
            });
        }
        self.send_reports(reports);
        Flow::Continue
    }

    /// Undo or redo of `path`'s live version.
    fn version_change(&mut self, path: PathBuf, change: Change) -> Flow {
        let reports = self.renderer.edit(&self.gl, &path, change);
        // The buffer shows the version that went live: that text is now the engine's, and not on disk.
        let live = reports.iter().find(|r| r.path == path && r.became_live).and_then(|r| r.live_text.clone());
        if let Some(text) = live {
            self.disk.edited(&path, &text);
        }
        self.send_reports(reports);
        Flow::Continue
    }

    /// Renders one frame into a free slot and sends it. Returns false when the compositor has gone away, or the
    /// context was lost (the worker stops; the compositor starts another).
    fn render(&mut self, index: u64, time: f64) -> Result<bool, GpuError> {
        if std::mem::take(&mut self.lose_context) || allsource_gpu::context_lost() {
            tracing::error!("the worker's GL context was lost (GPU reset)");
            let _ = self.events.send(Event::ContextLost);
            return Ok(false);
        }
        if !self.options.worker_cost.is_zero() {
            thread::sleep(self.options.worker_cost);
        }
        if !self.poll_gpu_timeout() {
            return Ok(false);
        }
        let gl = &self.gl;
        let (width, height) = self.size;
        let Some(slot_index) = self.slots.iter().position(|s| s.free) else {
            return Ok(true);
        };
        let slot = &mut self.slots[slot_index];
        if let Some(fence) = slot.wait.take() {
            fence.wait_on_gpu(gl);
            fence.delete(gl);
        }
        let target = match slot.target.take() {
            Some(t) if (t.width, t.height) == (width, height) => t,
            old => {
                if let Some(t) = old {
                    t.delete(gl);
                }
                Target::new(gl, width, height)?
            }
        };
        let previous =
            self.previous.and_then(|i| self.slots[i].target.as_ref()).map(|t| (t.texture, t.width, t.height));
        let clock = FrameClock {
            time,
            delta: self.last_time.map_or(1.0 / self.options.fps, |last| (time - last).max(0.0)),
            index,
            fps: self.options.fps,
            lockstep: self.options.clock == Clock::Lockstep,
        };
        let reports = self.renderer.draw(gl, &target.frame_target(), &clock, previous);
        self.renderer.frame_ran();
        let fence = Fence::insert(gl)?;
        if let Ok(own) = Fence::insert(gl) {
            // A frame still pending keeps its (earlier) submission time: the new fence covers both.
            let at = match self.submitted.take() {
                Some((older, at)) => {
                    older.delete(gl);
                    at
                }
                None => Instant::now(),
            };
            self.submitted = Some((own, at));
        }
        let version = self.renderer.generation();
        self.drawn_version = version;
        let stats = match &self.renderer {
            Renderer::Lua(r) => Some(r.frame_times()),
            Renderer::Shader(_) => None,
        };
        let frame = WorkerFrame {
            index,
            time,
            version,
            stats,
            slot: slot_index,
            texture: target.texture,
            width,
            height,
            fence: Some(fence),
            own: false,
            submitted: Instant::now(),
        };
        let slot = &mut self.slots[slot_index];
        slot.target = Some(target);
        slot.free = false;
        self.previous = Some(slot_index);
        self.last_time = Some(time);
        if !self.send_reports(reports) {
            return Ok(false);
        }
        if let Renderer::Lua(r) = &mut self.renderer
            && let Some(tweaks) = r.exposed_if_changed()
        {
            let path = PathBuf::from(allsource_editor::LUA_VALUES);
            let _ = self.events.send(Event::Uniforms { path, tweaks, noted_only: false });
        }
        Ok(self.events.send(Event::Frame(frame)).is_ok())
    }

    /// Without waiting: forgets the last frame's fence once it signalled, or reverts when it has not signalled by
    /// the GPU timeout. Returns false when the compositor has gone away.
    fn poll_gpu_timeout(&mut self) -> bool {
        if let Some(behind) = self.behind.take() {
            // Until the timed-out frame has left the GPU, what was submitted since has not started: its clock starts
            // when it can.
            if let Some((_, at)) = &mut self.submitted {
                *at = Instant::now();
            }
            if !behind.is_signalled(&self.gl) {
                self.behind = Some(behind);
                return true;
            }
            behind.delete(&self.gl);
        }
        let Some((own, at)) = self.submitted.take() else { return true };
        if own.is_signalled(&self.gl) {
            own.delete(&self.gl);
            return true;
        }
        if at.elapsed() < self.options.gpu_timeout {
            self.submitted = Some((own, at));
            return true;
        }
        self.behind = Some(own);
        let reports = self.renderer.gpu_timeout(&self.gl, at.elapsed(), self.options.gpu_timeout);
        self.send_reports(reports)
    }

    fn free(&mut self) {
        if let Some((fence, _)) = self.submitted.take() {
            fence.delete(&self.gl);
        }
        if let Some(fence) = self.behind.take() {
            fence.delete(&self.gl);
        }
        for slot in self.slots.drain(..) {
            if let Some(t) = slot.target {
                t.delete(&self.gl);
            }
            if let Some(f) = slot.wait {
                f.delete(&self.gl);
            }
        }
        self.renderer.free(&self.gl);
    }
}

/// Real time: of several edits of one source waiting together (keystrokes that arrived while a slow build ran),
/// only the newest is built; an undo or redo of that source in between keeps the edits before it. Typing faster
/// than builds then costs no growing backlog. Lockstep builds every edit (scripts rebuild each keystroke).
fn coalesce_edits(batch: Vec<Command>) -> Vec<Command> {
    let superseded = |i: usize, path: &Path| {
        batch[i + 1..]
            .iter()
            .take_while(|c| !matches!(c, Command::Undo { path: p } | Command::Redo { path: p } if p == path))
            .any(|c| matches!(c, Command::Edit { path: p, .. } | Command::Type { path: p, .. } if p == path))
    };
    let keep: Vec<bool> = batch
        .iter()
        .enumerate()
        .map(|(i, c)| !matches!(c, Command::Edit { path, .. } | Command::Type { path, .. } if superseded(i, path)))
        .collect();
    batch.into_iter().zip(keep).filter_map(|(c, k)| k.then_some(c)).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_newest_of_waiting_edits_of_a_source_is_built() {
        use super::Command;
        use std::path::PathBuf;
        let edit = |p: &str, t: &str| Command::Edit { path: PathBuf::from(p), text: t.into() };
        let batch = vec![
            edit("a", "1"),
            edit("b", "1"),
            edit("a", "2"),
            Command::Undo { path: "a".into() },
            edit("a", "3"),
            edit("a", "4"),
            Command::Stats,
        ];
        let kept: Vec<String> = super::coalesce_edits(batch)
            .iter()
            .map(|c| match c {
                Command::Edit { path, text } => format!("{}{text}", path.display()),
                Command::Undo { .. } => "undo".into(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(kept, ["b1", "a2", "undo", "a4", "Stats"]);
    }
}
