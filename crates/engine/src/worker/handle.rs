//! A worker's thread and the compositor's handle on it: starting one, giving one up (a wedged thread cannot be
//! killed: it is dropped to the lowest priority), and stopping one cleanly.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use allsource_gpu::SharedContext;

use crate::Scene;

use super::{Clock, Command, EngineOptions, Event, StartFrom, Worker};

/// The stack of a worker thread. The driver compiles shaders on it, and Mesa's compiler recurses once per level of
/// an expression's nesting: a user's expression 5 000 parentheses deep overflowed the default 2 MiB and aborted the
/// whole engine, where it should be a diagnostic (the parser gives up at 10 000 levels with "memory exhausted").
/// Only touched pages are committed.
const WORKER_STACK: usize = 256 << 20;

/// The compositor's end of a worker.
pub struct WorkerHandle {
    pub commands: Sender<Command>,
    pub events: Receiver<Event>,
    thread: Option<JoinHandle<()>>,
    /// The worker thread's OS id (0 until it started), to lower its priority when it is given up.
    tid: Arc<std::sync::atomic::AtomicI32>,
    /// Watches the scene's files while the worker lives.
    _watcher: Option<crate::watch::Watcher>,
}

impl WorkerHandle {
    /// Starts a worker for `scene` on a new thread, with `context` (in the compositor's share group).
    pub fn spawn(context: SharedContext, scene: Scene, options: EngineOptions) -> Result<WorkerHandle, String> {
        WorkerHandle::spawn_from(context, scene, options, StartFrom::default())
    }

    /// Starts a worker as `spawn` does, from `start`.
    pub fn spawn_from(
        context: SharedContext,
        scene: Scene,
        options: EngineOptions,
        start: StartFrom,
    ) -> Result<WorkerHandle, String> {
        let (command_tx, command_rx) = mpsc::channel();
        let (event_tx, event_rx) = mpsc::channel();
        let name = if start.guest { "worker-preview" } else { "worker-scene" };
        // Real time: the file watcher wakes the worker when files change. Lockstep looks at the files before every
        // frame instead, so that what a frame shows never depends on when the watcher's thread ran.
        let watcher = match (options.clock, start.guest) {
            (Clock::Realtime, false) => match crate::watch::Watcher::start(&scene.dir, command_tx.clone()) {
                Ok(w) => Some(w),
                Err(e) => {
                    tracing::warn!("files are not watched ({e}); they are looked at every frame instead");
                    None
                }
            },
            _ => None,
        };
        let watching = watcher.is_some();
        let tid = Arc::new(std::sync::atomic::AtomicI32::new(0));
        let own_tid = tid.clone();
        let thread = thread::Builder::new()
            .name(name.into())
            .stack_size(WORKER_STACK)
            .spawn(move || {
                #[cfg(target_os = "linux")]
                // SAFETY: gettid has no preconditions.
                own_tid.store(unsafe { libc::gettid() }, std::sync::atomic::Ordering::Relaxed);
                #[cfg(not(target_os = "linux"))]
                let _ = own_tid;
                lower_thread_priority(if start.guest && options.preview_nice {
                    PREVIEW_NICE
                } else {
                    options.scene_nice
                });
                let failed = event_tx.clone();
                if let Err(e) = Worker::run(context, scene, options, start, watching, command_rx, event_tx) {
                    let _ = failed.send(Event::Died(e.to_string()));
                }
            })
            .map_err(|e| format!("cannot start the worker thread: {e}"))?;
        Ok(WorkerHandle { commands: command_tx, events: event_rx, thread: Some(thread), tid, _watcher: watcher })
    }

    pub fn send(&self, command: Command) {
        // A worker that has gone away reports why through its events; a lost command changes nothing then.
        let _ = self.commands.send(command);
    }

    /// Gives the worker up without waiting for it: its thread is wedged and may never return. The thread, its
    /// context and its objects are left behind (only a worker process could be killed and reclaimed), but it no
    /// longer competes with the scene: it runs at the lowest OS priority (SCHED_IDLE). Returns whether it could be
    /// lowered.
    pub fn abandon(mut self) -> bool {
        let _ = self.commands.send(Command::Stop);
        self.thread = None;
        let tid = self.tid.load(std::sync::atomic::Ordering::Relaxed);
        tid != 0 && lowest_priority(tid)
    }
}

/// The preview worker's nice value: the OS runs it on what the scene's threads leave. On llvmpipe, where the GPU is
/// these same CPUs, this is also how the guest's GPU work gets only surplus time.
pub(crate) const PREVIEW_NICE: i32 = 10;

/// Lowers the calling thread's OS priority to `nice` (nothing for 0 or less).
pub(super) fn lower_thread_priority(nice: i32) {
    if nice <= 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread's own id; failure only leaves the priority as it was.
        let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, nice) };
        if result != 0 {
            tracing::debug!("the worker keeps its priority: {}", std::io::Error::last_os_error());
        }
    }
}

/// Moves thread `tid` to SCHED_IDLE (it runs only when nothing else wants the CPU) at nice 19.
pub(super) fn lowest_priority(tid: i32) -> bool {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: plain system calls on a thread id of this process; failure leaves the priority as it was.
        let (idle, nice) = unsafe {
            (
                libc::sched_setscheduler(tid, libc::SCHED_IDLE, &param),
                libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19),
            )
        };
        idle == 0 || nice == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = tid;
        false
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
