//! The compositor's end of the scene's worker, a thread or a process, behind one face: commands in, events out, a
//! frame given back. A process's frames arrive in the shared-memory ring: each is uploaded into a texture of the
//! compositor's own (the least recently used of a few) and handed on as an ordinary [`WorkerFrame`], so the
//! compositor shows both kinds alike.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use allsource_gpu::{Fence, Gl, SharedContext, Target};

use crate::Scene;

use super::process::wire::{Start, ToChild};
use super::process::{News, ProcessWorker, RING_SLOTS};
use super::{Command, EngineOptions, Event, StartFrom, WorkerFrame, WorkerHandle, WorkerPlace};

/// Free upload textures kept beyond those in use, so that the one uploaded into was last sampled a few frames ago.
const SPARE_UPLOAD_TARGETS: usize = 2;

pub enum WorkerLink {
    Thread(WorkerHandle),
    Process(ProcessLink),
}

pub struct ProcessLink {
    process: ProcessWorker,
    /// The compositor's textures the ring's frames are uploaded into: those holding a frame the compositor has not
    /// given back, by ring slot, and the free ones, least recently used first. A frame goes into the texture given
    /// back longest ago: on llvmpipe an upload into a texture that a draw still being rasterized samples waits for
    /// that draw (4 ms a frame at 640x360, measured, with one texture per ring slot).
    in_use: Vec<Option<Target>>,
    free: std::collections::VecDeque<Target>,
    /// When the process last said anything, when the compositor last gave a slot back (a process that holds no
    /// slot cannot send), and whether a frame ever came: the silence that gets a process killed.
    last_news: Instant,
    last_release: Instant,
    framed: bool,
    /// Ring slots with the compositor.
    held: usize,
    /// The frames' transport: the process's read-backs and this side's uploads, in total, and how many frames.
    pub transport: Transport,
}

/// What carrying a process's frames cost, in total over `frames` frames.
#[derive(Clone, Copy, Debug, Default)]
pub struct Transport {
    pub read_back: Duration,
    pub upload: Duration,
    pub frames: u64,
}

impl WorkerLink {
    /// Starts the scene's worker where `place` says: a thread needs `context`.
    pub fn spawn(
        place: &WorkerPlace,
        context: Option<SharedContext>,
        scene: &Scene,
        options: &EngineOptions,
        start: StartFrom,
    ) -> Result<WorkerLink, String> {
        match place {
            WorkerPlace::Thread => {
                let context = context.ok_or("no spare GL context for the worker")?;
                WorkerHandle::spawn_from(context, scene.clone(), options.clone(), start).map(WorkerLink::Thread)
            }
            WorkerPlace::Process(program) => {
                let start = Start::of(&scene.dir, options, start, options.scene_nice, options.scene_address_space);
                let process = ProcessWorker::spawn(program.as_deref().map(Path::new), start)?;
                Ok(WorkerLink::Process(ProcessLink {
                    process,
                    in_use: (0..RING_SLOTS).map(|_| None).collect(),
                    free: Default::default(),
                    last_news: Instant::now(),
                    last_release: Instant::now(),
                    framed: false,
                    held: 0,
                    transport: Transport::default(),
                }))
            }
        }
    }

    /// Never waits.
    pub fn send(&self, command: Command) {
        match self {
            WorkerLink::Thread(worker) => worker.send(command),
            WorkerLink::Process(link) => {
                if let Some(message) = ToChild::from_command(command) {
                    link.process.send(message);
                }
            }
        }
    }

    /// The next event: waiting at most `wait`, or not at all for `None`. A process's frame is uploaded first;
    /// its end comes as `Event::Gone`.
    pub fn recv(&mut self, gl: &Gl, wait: Option<Duration>) -> Result<Event, RecvTimeoutError> {
        match self {
            WorkerLink::Thread(worker) => next(&worker.events, wait),
            WorkerLink::Process(link) => link.recv(gl, wait),
        }
    }

    /// Gives a frame back to the worker, with the compositor's fence for its last use of it (a thread's; a process's
    /// frame is in a texture of the compositor's own, which later uploads follow in order on its context).
    pub fn release(&mut self, gl: &Gl, mut frame: WorkerFrame, after: Option<Fence>) {
        frame.forget_fence(gl);
        match self {
            WorkerLink::Thread(worker) => worker.send(Command::Release { slot: frame.slot, after }),
            WorkerLink::Process(link) => {
                if let Some(after) = after {
                    after.delete(gl);
                }
                link.held = link.held.saturating_sub(1);
                if let Some(target) = link.in_use.get_mut(frame.slot).and_then(Option::take) {
                    link.free.push_back(target);
                }
                link.last_release = Instant::now();
                link.process.send(ToChild::Release { slot: frame.slot });
            }
        }
    }

    /// Kills a process that has sent nothing for `limit` though it held ring slots to send in and had sent a
    /// frame before (a hung GPU, a wedge no watchdog saw): returns why, once. `Event::Gone` follows.
    pub fn kill_if_silent(&mut self, limit: Duration) -> Option<String> {
        let WorkerLink::Process(link) = self else { return None };
        let silent = link.last_news.max(link.last_release).elapsed();
        if !link.framed || link.held >= RING_SLOTS || silent <= limit {
            return None;
        }
        link.framed = false;
        link.process.kill();
        Some(format!(
            "the scene's worker process ({}) sent no frame for {:.1} s (a hung GPU, a wedge, or no CPU time for it): it \
             was killed",
            link.process.pid(),
            silent.as_secs_f64()
        ))
    }

    /// Makes a process do a debugging act (`debug-scene`).
    pub fn debug(&self, act: super::process::wire::DebugAct) -> Result<(), String> {
        match self {
            WorkerLink::Thread(_) => Err("the scene's worker runs on a thread, not in a process".into()),
            WorkerLink::Process(link) => {
                link.process.send(ToChild::Debug(act));
                Ok(())
            }
        }
    }

    /// What carrying a process's frames cost so far (`None` for a thread: its frames are not carried).
    pub fn transport(&self) -> Option<Transport> {
        match self {
            WorkerLink::Thread(_) => None,
            WorkerLink::Process(link) => Some(link.transport),
        }
    }

    /// The process's id, for a process.
    pub fn pid(&self) -> Option<u32> {
        match self {
            WorkerLink::Thread(_) => None,
            WorkerLink::Process(link) => Some(link.process.pid()),
        }
    }

    /// Gives the worker up without waiting: a thread is left behind at the lowest priority (returns whether it
    /// could be lowered); a process is killed, and its textures come back to be freed once nothing shows them.
    pub fn give_up(self, retired: &mut Vec<Target>) -> bool {
        match self {
            WorkerLink::Thread(worker) => worker.abandon(),
            WorkerLink::Process(link) => {
                link.process.kill();
                retired.extend(link.in_use.into_iter().flatten().chain(link.free));
                false
            }
        }
    }

    /// Frees a process's textures (the compositor's, made on its context).
    pub fn free(&mut self, gl: &Gl) {
        if let WorkerLink::Process(link) = self {
            for target in link.in_use.iter_mut().filter_map(Option::take).chain(link.free.drain(..)) {
                target.delete(gl);
            }
        }
    }
}

/// The next message: waiting at most `wait`, or not at all for `None` (an empty channel is then a timeout).
fn next<T>(from: &Receiver<T>, wait: Option<Duration>) -> Result<T, RecvTimeoutError> {
    match wait {
        Some(wait) => from.recv_timeout(wait),
        None => from.try_recv().map_err(|e| match e {
            TryRecvError::Empty => RecvTimeoutError::Timeout,
            TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
        }),
    }
}

impl ProcessLink {
    fn recv(&mut self, gl: &Gl, wait: Option<Duration>) -> Result<Event, RecvTimeoutError> {
        let deadline = wait.map(|w| Instant::now() + w);
        loop {
            let news = next(&self.process.news, deadline.map(|d| d.saturating_duration_since(Instant::now())))?;
            self.last_news = Instant::now();
            match news {
                News::Ready { .. } => continue,
                News::Event(event) => return Ok(event),
                News::Exited(how) => {
                    return Ok(Event::Gone(format!("process ({}) {how}", self.process.pid())));
                }
                News::Frame(frame) => {
                    if frame.slot >= self.in_use.len() {
                        continue;
                    }
                    // The least recently used free texture of the frame's size (a resize retires the others).
                    let (kept, resized): (Vec<Target>, Vec<Target>) =
                        self.free.drain(..).partition(|t| (t.width, t.height) == (frame.width, frame.height));
                    for t in resized {
                        t.delete(gl);
                    }
                    self.free.extend(kept);
                    let target = match self.free.pop_front() {
                        Some(t) if self.free.len() + 1 >= SPARE_UPLOAD_TARGETS => t,
                        spare => {
                            if let Some(t) = spare {
                                self.free.push_front(t);
                            }
                            match Target::new(gl, frame.width, frame.height) {
                                Ok(t) => t,
                                Err(e) => {
                                    tracing::error!("no texture for the worker process's frame: {e}");
                                    self.process.send(ToChild::Release { slot: frame.slot });
                                    continue;
                                }
                            }
                        }
                    };
                    let uploading = Instant::now();
                    if let Some(pixels) = self.process.pixels(&frame) {
                        target.upload_rgba8(gl, frame.width, frame.height, pixels);
                    }
                    self.transport.upload += uploading.elapsed();
                    self.transport.read_back += frame.read_back;
                    self.transport.frames += 1;
                    let texture = target.texture;
                    if let Some(old) = self.in_use[frame.slot].replace(target) {
                        self.free.push_back(old);
                    }
                    self.framed = true;
                    self.held += 1;
                    return Ok(Event::Frame(WorkerFrame {
                        index: frame.index,
                        time: frame.time,
                        version: frame.version,
                        stats: frame.stats,
                        slot: frame.slot,
                        texture,
                        width: frame.width,
                        height: frame.height,
                        fence: None,
                        own: true,
                        submitted: Instant::now(),
                    }));
                }
            }
        }
    }
}
