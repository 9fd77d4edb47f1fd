//! Running a scene without a window: the compositor draws into a render target of its own context.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use allsource_gpu::{FrameTarget, GlContext, Image, Target};

use crate::worker::{Clock, EngineOptions};
use crate::{Compositor, Error, Scene, write_png};

/// How long lockstep mode waits for a worker that reports nothing before giving up with an error instead of
/// hanging: longer than one build of a heavy real shader on a busy software rasterizer (a pass of Shadertoy's
/// "turn burn" compiled and warmed up in over 10 s on 2 loaded cores). Each report restarts it.
pub const LOCKSTEP_TIMEOUT: Duration = Duration::from_secs(30);

/// A compositor, its worker and the headless target they present into.
pub struct HeadlessEngine {
    // Field order is drop order: the compositor (and its worker) go first, the context last.
    compositor: Compositor,
    target: Option<Target>,
    options: EngineOptions,
    context: GlContext,
}

impl HeadlessEngine {
    pub fn new(scene: Scene, options: EngineOptions) -> Result<HeadlessEngine, Error> {
        let context = allsource_gpu::headless()?;
        let (w, h) = options.size;
        let target = Target::new(&context.gl, w, h)?;
        let compositor = Compositor::new(&context, scene, options.clone())?;
        Ok(HeadlessEngine { compositor, target: Some(target), options, context })
    }

    pub fn compositor(&self) -> &Compositor {
        &self.compositor
    }

    pub fn compositor_mut(&mut self) -> &mut Compositor {
        &mut self.compositor
    }

    /// The frame becomes `width` x `height` pixels: the target composed into, and the worker's frames after this.
    pub fn resize(&mut self, width: u32, height: u32) -> Result<(), Error> {
        let (width, height) = (width.max(1), height.max(1));
        if (width, height) == self.options.size {
            return Ok(());
        }
        let target = Target::new(&self.context.gl, width, height)?;
        if let Some(old) = self.target.replace(target) {
            old.delete(&self.context.gl);
        }
        self.options.size = (width, height);
        self.compositor.resize(width, height);
        Ok(())
    }

    /// Sends a command to the worker; in lockstep mode it takes effect before the next frame is drawn.
    pub fn send(&self, command: crate::worker::Command) {
        self.compositor.send(command);
    }

    fn frame_target(&self) -> FrameTarget {
        let (width, height) = self.options.size;
        FrameTarget { framebuffer: self.target.as_ref().map(|t| t.framebuffer), width, height }
    }

    /// Composes one real-time frame. Never waits for the worker.
    pub fn frame(&mut self) {
        let target = self.frame_target();
        self.compositor.replenish(&self.context);
        self.compositor.compose(&target);
    }

    /// Composes one real-time frame and waits until the GPU has finished it (benchmarks of frame cost).
    pub fn frame_finished(&mut self) {
        self.frame();
        self.finish();
    }

    /// Waits until the GPU has finished everything this engine's context was asked to draw.
    pub fn finish(&self) {
        allsource_gpu::finish(&self.context.gl);
    }

    /// Composes lockstep frame `index`, which shows the worker's frame at time `index / fps`.
    pub fn frame_lockstep(&mut self, index: u64) -> Result<(), Error> {
        let target = self.frame_target();
        let time = index as f64 / self.options.fps;
        self.compositor.replenish(&self.context);
        self.compositor.compose_lockstep(&target, index, time, LOCKSTEP_TIMEOUT)
    }

    /// The renderer's name, as the driver gives it.
    pub fn renderer(&self) -> String {
        self.context.info.renderer.clone()
    }

    /// The pixels of the editor's last paint (premultiplied over transparency, top row first), if it was painted.
    pub fn editor_layer(&self) -> Option<Image> {
        self.compositor.overlay.layer_image(&self.context.gl)
    }

    /// The pixels of the last composed frame.
    pub fn image(&self) -> Image {
        self.compositor.screenshot(&self.frame_target())
    }
}

impl Drop for HeadlessEngine {
    fn drop(&mut self) {
        if let Some(target) = self.target.take() {
            target.delete(&self.context.gl);
        }
    }
}

/// A headless run from the command line.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub engine: EngineOptions,
    /// Stop after this many frames; run until killed when `None`.
    pub frames: Option<u64>,
    /// Write the last frame here.
    pub screenshot: Option<PathBuf>,
}

/// How long `run_headless` waits for the worker's first frame before it counts frames anyway.
const FIRST_FRAME_WAIT: Duration = Duration::from_secs(30);

/// Runs `scene` headless: lockstep as fast as frames finish, or real-time paced at the frame rate (counting from
/// the worker's first frame).
pub fn run_headless(scene: Scene, options: RunOptions) -> Result<(), Error> {
    let clock = options.engine.clock;
    let period = Duration::from_secs_f64(1.0 / options.engine.fps);
    if let Some(path) = &options.screenshot {
        crate::png_file::check_writable(path)?;
    }
    let mut engine = HeadlessEngine::new(scene, options.engine)?;
    if clock == Clock::Realtime {
        // The frames counted are the scene's: they start with the worker's first (a worker process takes a moment
        // to start, and a screenshot of the grey before it would show nothing of the scene).
        let start = Instant::now();
        while engine.compositor().status().worker_frames_shown == 0
            && engine.compositor().status().worker_died.is_none()
            && start.elapsed() < FIRST_FRAME_WAIT
        {
            engine.frame();
            std::thread::sleep(period);
        }
    }
    let mut next = Instant::now();
    let mut index = 0u64;
    while options.frames.is_none_or(|n| index < n) {
        match clock {
            Clock::Lockstep => engine.frame_lockstep(index)?,
            Clock::Realtime => {
                engine.frame();
                next += period;
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                } else {
                    next = now;
                }
            }
        }
        index += 1;
    }
    if let Some(path) = &options.screenshot {
        write_png(path, &engine.image())?;
        tracing::info!("wrote {}", path.display());
    }
    engine.compositor().status().ended_well()
}

/// `allsource render`: `frames` lockstep frames of `scene`; the last one is written to `out` as PNG. Fails (after
/// writing it) when a source never built.
pub fn render(scene: Scene, mut engine: EngineOptions, frames: u64, out: PathBuf) -> Result<(), Error> {
    engine.clock = Clock::Lockstep;
    run_headless(scene, RunOptions { engine, frames: Some(frames.max(1)), screenshot: Some(out) })
}
