//! The worker: a thread with its own GL context in the compositor's share group, rendering a scene into its own
//! textures.
//!
//! The worker owns a small ring of render targets ([`SLOTS`]). It renders a frame into a free slot, ends it with a
//! fence, and sends the slot's texture and fence to the compositor. A slot becomes free again when the compositor
//! releases it, with a fence of the compositor's own that the worker waits for on the GPU before drawing into it
//! again. With three slots one is on screen, one can wait to be shown and one is being drawn, so in real-time
//! mode the worker runs at most one frame ahead of what the compositor shows, paced by the compositor.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use allsource_gpu::{FULLSCREEN_VERTEX, Gl, glow};
use allsource_gpu::{
    Fence, FrameTarget, FullscreenTriangle, GlContext, GpuError, Program, SharedContext, Target,
};

use crate::{Entry, Scene};

/// Render targets per worker.
pub const SLOTS: usize = 3;

/// Which clock a worker's frames follow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clock {
    /// The worker renders on its own, at the pace the compositor takes its frames, with time from the wall clock.
    Realtime,
    /// The worker renders frame i when asked, at time i/fps (scripted runs and `render`).
    Lockstep,
}

/// How an engine is set up.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    pub size: (u32, u32),
    pub fps: f64,
    pub clock: Clock,
    /// Extra CPU time the worker spends on every frame before drawing. A diagnostic knob: it stands in for a slow
    /// scene when checking that presentation never waits for the worker.
    pub worker_cost: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            size: (1280, 720),
            fps: 60.0,
            clock: Clock::Realtime,
            worker_cost: Duration::ZERO,
        }
    }
}

/// Messages to a worker.
#[derive(Debug)]
pub enum Command {
    /// Lockstep: render frame `index` at `time` seconds.
    Render {
        index: u64,
        time: f64,
    },
    /// The compositor is done with `slot`; `after` signals when its last use of the texture has finished.
    Release {
        slot: usize,
        after: Option<Fence>,
    },
    /// Render later frames at this size.
    Resize {
        width: u32,
        height: u32,
    },
    Stop,
}

/// A finished frame: the texture holding it and the fence that signals when drawing it has completed.
#[derive(Debug)]
pub struct WorkerFrame {
    pub index: u64,
    pub time: f64,
    pub slot: usize,
    pub texture: glow::NativeTexture,
    pub width: u32,
    pub height: u32,
    pub fence: Fence,
}

/// Messages from a worker.
#[derive(Debug)]
pub enum Event {
    Frame(WorkerFrame),
    /// A source was (re)built: how long it took, or the driver's log when it failed. A failed build leaves the
    /// last good version live.
    Built {
        path: PathBuf,
        outcome: Result<Duration, String>,
    },
    /// The worker stopped because of an error.
    Died(String),
}

/// The compositor's end of a worker.
pub struct WorkerHandle {
    pub commands: Sender<Command>,
    pub events: Receiver<Event>,
    thread: Option<JoinHandle<()>>,
}

impl WorkerHandle {
    /// Starts a worker for `scene` on a new thread, with `context` (in the compositor's share group).
    pub fn spawn(
        context: SharedContext,
        scene: Scene,
        options: EngineOptions,
    ) -> Result<WorkerHandle, String> {
        let (command_tx, command_rx) = mpsc::channel();
        let (event_tx, event_rx) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("worker-scene".into())
            .spawn(move || {
                let failed = event_tx.clone();
                if let Err(e) = Worker::run(context, scene, options, command_rx, event_tx) {
                    let _ = failed.send(Event::Died(e.to_string()));
                }
            })
            .map_err(|e| format!("cannot start the worker thread: {e}"))?;
        Ok(WorkerHandle {
            commands: command_tx,
            events: event_rx,
            thread: Some(thread),
        })
    }

    pub fn send(&self, command: Command) {
        // A worker that has gone away reports why through its events; a lost command changes nothing then.
        let _ = self.commands.send(command);
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        let Some(thread) = self.thread.take() else {
            return;
        };
        // Wait a little for a clean stop (it frees the worker's GL objects), but never hang the compositor on a
        // worker that does not answer.
        let deadline = Instant::now() + Duration::from_secs(2);
        while !thread.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        if thread.is_finished() {
            let _ = thread.join();
        } else {
            tracing::warn!("the worker did not stop within 2 s; leaving its thread behind");
        }
    }
}

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
    renderer: ShaderRenderer,
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
        commands: Receiver<Command>,
        events: Sender<Event>,
    ) -> Result<(), GpuError> {
        let context: GlContext = context.make_current()?;
        let gl = context.gl.clone();
        let Entry::FullscreenShader(path) = scene.entry;
        let renderer = ShaderRenderer::new(&gl, path)?;
        let slots = (0..SLOTS)
            .map(|_| Slot {
                target: None,
                free: true,
                wait: None,
            })
            .collect();
        let mut worker = Worker {
            gl,
            size: options.size,
            options,
            events,
            slots,
            renderer,
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
                    loop {
                        match commands.try_recv() {
                            Ok(command) => match self.handle(command) {
                                Flow::Stop => return Ok(()),
                                Flow::Continue | Flow::Render { .. } => {}
                            },
                            Err(TryRecvError::Empty) => break,
                            Err(TryRecvError::Disconnected) => return Ok(()),
                        }
                    }
                    next_index += 1;
                    (next_index - 1, start.elapsed().as_secs_f64())
                }
                Clock::Lockstep => loop {
                    let Ok(command) = commands.recv() else {
                        return Ok(());
                    };
                    match self.handle(command) {
                        Flow::Stop => return Ok(()),
                        Flow::Render { index, time } => break (index, time),
                        Flow::Continue => {}
                    }
                },
            };
            // Wait for the compositor to hand a slot back.
            while !self.slots.iter().any(|s| s.free) {
                let Ok(command) = commands.recv() else {
                    return Ok(());
                };
                if let Flow::Stop = self.handle(command) {
                    return Ok(());
                }
            }
            if !self.render(index, time)? {
                return Ok(());
            }
        }
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
                self.size = (width.max(1), height.max(1));
                Flow::Continue
            }
            Command::Stop => Flow::Stop,
        }
    }

    /// Renders one frame into a free slot and sends it. Returns false when the compositor has gone away.
    fn render(&mut self, index: u64, time: f64) -> Result<bool, GpuError> {
        if !self.options.worker_cost.is_zero() {
            thread::sleep(self.options.worker_cost);
        }
        for event in self.renderer.refresh(&self.gl) {
            if self.events.send(event).is_err() {
                return Ok(false);
            }
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
        self.renderer
            .draw(gl, &target.frame_target(), time, index, self.options.fps);
        let fence = Fence::insert(gl)?;
        let frame = WorkerFrame {
            index,
            time,
            slot: slot_index,
            texture: target.texture,
            width,
            height,
            fence,
        };
        slot.target = Some(target);
        slot.free = false;
        Ok(self.events.send(Event::Frame(frame)).is_ok())
    }

    fn free(&mut self) {
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

/// Draws one fragment shader file full screen, rebuilding it when the file changes and keeping the last program
/// that built while a newer version fails.
///
/// Uniforms it provides when the shader declares them: `float u_time` (seconds), `vec2 u_resolution` (pixels),
/// `int u_frame` and `float u_fps`.
struct ShaderRenderer {
    path: PathBuf,
    /// Modification time and length of the file when it was last read.
    seen: Option<(Option<SystemTime>, u64)>,
    missing_reported: bool,
    program: Option<Program>,
    triangle: FullscreenTriangle,
}

/// What a frame shows while a scene has no program that ever built.
const NO_PROGRAM_COLOUR: [f32; 4] = [0.12, 0.12, 0.14, 1.0];

impl ShaderRenderer {
    fn new(gl: &Gl, path: PathBuf) -> Result<ShaderRenderer, GpuError> {
        Ok(ShaderRenderer {
            path,
            seen: None,
            missing_reported: false,
            program: None,
            triangle: FullscreenTriangle::new(gl)?,
        })
    }

    /// Rebuilds the program if the file changed since it was last read. Returns what happened, as events.
    fn refresh(&mut self, gl: &Gl) -> Vec<Event> {
        let stamp = match std::fs::metadata(&self.path) {
            Ok(meta) => (meta.modified().ok(), meta.len()),
            Err(e) => {
                if self.missing_reported {
                    return vec![];
                }
                self.missing_reported = true;
                self.seen = None;
                return vec![self.built(Err(format!(
                    "cannot read the file ({e}); the last good version stays live"
                )))];
            }
        };
        self.missing_reported = false;
        if self.seen == Some(stamp) {
            return vec![];
        }
        self.seen = Some(stamp);
        let text = match std::fs::read(&self.path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => {
                    let at = e.utf8_error().valid_up_to();
                    return vec![self.built(Err(format!(
                        "the file is not UTF-8 text (invalid byte at offset {at})"
                    )))];
                }
            },
            Err(e) => return vec![self.built(Err(format!("cannot read the file: {e}")))],
        };
        let started = Instant::now();
        let fragment = allsource_shader::stage_source(&text);
        match Program::build(
            gl,
            &[
                (glow::VERTEX_SHADER, FULLSCREEN_VERTEX),
                (glow::FRAGMENT_SHADER, &fragment),
            ],
        ) {
            Ok(program) => {
                if let Some(old) = self.program.replace(program) {
                    old.delete(gl);
                }
                vec![self.built(Ok(started.elapsed()))]
            }
            Err(log) => vec![self.built(Err(log))],
        }
    }

    fn built(&self, outcome: Result<Duration, String>) -> Event {
        Event::Built {
            path: self.path.clone(),
            outcome,
        }
    }

    fn draw(&self, gl: &Gl, target: &FrameTarget, time: f64, index: u64, fps: f64) {
        target.bind(gl);
        let Some(program) = &self.program else {
            target.clear(gl, NO_PROGRAM_COLOUR, None);
            return;
        };
        program.use_program(gl);
        program.set_f32(gl, "u_time", time as f32);
        program.set_vec2(
            gl,
            "u_resolution",
            [target.width as f32, target.height as f32],
        );
        program.set_i32(gl, "u_frame", index as i32);
        program.set_f32(gl, "u_fps", fps as f32);
        self.triangle.draw(gl);
    }

    fn free(&mut self, gl: &Gl) {
        if let Some(p) = self.program.take() {
            p.delete(gl);
        }
        // The triangle's VAO is deleted with the context; VAOs are per context and this one dies with the worker.
    }
}
