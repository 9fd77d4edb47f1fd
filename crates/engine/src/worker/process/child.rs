//! The worker process (`allsource worker --socket FD --ring FD`): it reads its [`Start`](super::wire::Start),
//! makes its own GL display and context, confines itself (guest code), and runs an ordinary worker on a thread.
//! Its main thread passes the worker's events on to the socket. A frame copier thread is the worker's compositor:
//! it waits for a ring slot the compositor gave back and for the newest frame's fence (a wait that may never end:
//! that is what the real compositor kills it for), copies the pixels into the slot and names it on the socket. A
//! third thread reads the socket.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::worker::{Command, Event, StartFrom, WorkerHandle};
use crate::{Entry, Scene};

use super::ring::{RING_SLOTS, Ring, SLOT_BYTES};
use super::sandbox;
use super::wire::{DebugAct, FromChild, RingFrame, ToChild};

/// Runs a worker process on the socket and ring the compositor handed down as `socket` and `ring`. Returns the
/// process's exit code.
pub fn main(socket: i32, ring: i32) -> i32 {
    sandbox::die_with_parent();
    // SAFETY: the compositor started this process with these two fds open for it, and nothing else owns them.
    let (stream, ring) = unsafe { (UnixStream::from_raw_fd(socket), OwnedFd::from_raw_fd(ring)) };
    let code = match serve(stream, ring) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: the worker process stopped: {e}");
            1
        }
    };
    end(code)
}

/// Ends the process at once, without the C library's exit handlers. The driver's threads (llvmpipe's, the
/// worker's, the frame copier's) may still be running, and running the driver's and LLVM's static destructors
/// under them crashed about one exit in a hundred ("double free or corruption"). Nothing here needs them: the log
/// went out over the socket, and files are written with plain writes.
fn end(code: i32) -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: _exit takes no pointers and does not return.
    unsafe { libc::_exit(code) }
}

/// Where a worker process's log goes once it is connected: the socket, in order with its events (Lua's `print`
/// before the answer of the `lua` command that printed).
static LOG: std::sync::OnceLock<Out> = std::sync::OnceLock::new();

/// Sends a log line of this worker process to the compositor; false before the process is connected (or outside
/// one), when the caller writes it to standard error instead.
pub fn log(level: &str, target: &str, message: &str) -> bool {
    LOG.get().is_some_and(|out| {
        out.send(&FromChild::Log { level: level.into(), target: target.into(), message: message.into() })
    })
}

/// The socket's writing end, shared by the two threads that write whole lines.
#[derive(Clone)]
struct Out(Arc<Mutex<UnixStream>>);

impl Out {
    fn send(&self, message: &FromChild) -> bool {
        let Ok(mut line) = serde_json::to_vec(message) else { return false };
        line.push(b'\n');
        let Ok(mut stream) = self.0.lock() else { return false };
        stream.write_all(&line).is_ok()
    }
}

fn serve(stream: UnixStream, ring: OwnedFd) -> Result<(), String> {
    let ring = Ring::open(ring).map_err(|e| format!("cannot map the frame ring: {e}"))?;
    let mut lines = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let out = Out(Arc::new(Mutex::new(stream)));
    let _ = LOG.set(out.clone());
    let start = match read(&mut lines)? {
        Some(ToChild::Start(start)) => *start,
        other => return Err(format!("expected the start, got {other:?}")),
    };
    sandbox::lower_priority(start.nice);
    let context = allsource_gpu::headless().map_err(|e| e.to_string())?;
    let shared = context.share_with_priority(start.guest).map_err(|e| e.to_string())?;
    // The limit counts from what the process maps once its contexts exist: drivers map very different amounts.
    if start.address_space > 0 {
        sandbox::limit_address_space_beyond_now(start.address_space)?;
    }
    let low_priority = shared.low_priority();
    // Guest code is confined; the scene is the user's own code, and reads and writes what they wrote it to.
    let confined = if start.guest { sandbox::confine(&start.scene)? } else { "not confined (the scene)".into() };

    let scene = if start.guest {
        Scene { dir: start.scene.clone(), entry: Entry::Lua(start.scene.join("main.lua")) }
    } else {
        Scene::open(&start.scene).map_err(|e| e.to_string())?
    };
    let options = start.options();
    let (gpu_timeout, lockstep) = (start.gpu_timeout, start.lockstep);
    let from = StartFrom { texts: start.texts, left_out: start.left_out, guest: start.guest, ..StartFrom::default() };
    let worker = WorkerHandle::spawn_from(shared, scene, options, from)?;
    out.send(&FromChild::Ready { low_priority, confined });

    // Ring slots the compositor has given back, as bits.
    let free = Arc::new((Mutex::new(RingSlots::new()), Condvar::new()));
    let commands = worker.commands.clone();
    let (reader_free, reader_out) = (free.clone(), out.clone());
    // Set by `debug-preview spin`: the frame loop stops and spins.
    let spin = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader_spin = spin.clone();
    // Whether the copier may still read the worker's frames: closed (under the lock, so never during a read) before
    // the worker is told to stop and frees its textures.
    let copying = Arc::new(Mutex::new(true));
    let reader_copying = copying.clone();
    std::thread::Builder::new()
        .name("worker-socket".into())
        .spawn(move || {
            loop {
                match read(&mut lines) {
                    Ok(Some(ToChild::Command(command))) => {
                        let _ = commands.send(command);
                    }
                    Ok(Some(ToChild::Release { slot })) if slot < RING_SLOTS => {
                        let (slots, given_back) = &*reader_free;
                        let mut slots = slots.lock().unwrap_or_else(|e| e.into_inner());
                        slots.free |= 1 << slot;
                        // The worker's slot goes back with the ring's: the worker draws as the compositor takes its
                        // frames, as it does beside a compositor in its own process.
                        if let Some(worker_slot) = slots.worker_slot[slot].take() {
                            let _ = commands.send(Command::Release { slot: worker_slot, after: None });
                        }
                        given_back.notify_one();
                    }
                    Ok(Some(ToChild::Debug(DebugAct::Spin))) => {
                        reader_spin.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    Ok(Some(ToChild::Debug(act))) => debug(act, &reader_out),
                    // A clean stop: the worker stops (its last reports and log lines go out) and the process ends
                    // when it has.
                    Ok(Some(ToChild::Stop)) => {
                        *reader_copying.lock().unwrap_or_else(|e| e.into_inner()) = false;
                        let _ = commands.send(Command::Stop);
                    }
                    // The compositor has gone: nothing here needs saving.
                    Ok(None) | Err(_) => end(0),
                    Ok(Some(_)) => {}
                }
            }
        })
        .map_err(|e| format!("cannot start the socket thread: {e}"))?;

    // Frames are copied into the ring on a thread of their own (a context of this share group), so that a frame
    // the GPU takes long over never holds up the worker's reports.
    let copier = Copier {
        ring,
        free,
        spin,
        copying,
        commands: worker.commands.clone(),
        out: out.clone(),
        gpu_timeout,
        lockstep,
    };
    let (frames, frames_in) = std::sync::mpsc::channel();
    let copier_context = context.share().map_err(|e| e.to_string())?;
    std::thread::Builder::new()
        .name("worker-frames".into())
        .spawn(move || match copier_context.make_current() {
            Ok(context) => copier.run(&context.gl, frames_in),
            Err(e) => eprintln!("error: the frame copier has no context: {e}"),
        })
        .map_err(|e| format!("cannot start the frame copier: {e}"))?;
    for event in worker.events.iter() {
        match event {
            Event::Frame(frame) => {
                if frames.send(frame).is_err() {
                    return Ok(());
                }
            }
            other => {
                if !out.send(&FromChild::Event(other)) {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Copies the worker's finished frames into the ring, as a compositor takes them: it keeps the newest frame's
/// slot (the worker's shaders may read the previous frame, which must not be drawn over) and gives the one before
/// back.
struct Copier {
    ring: Ring,
    free: Arc<(Mutex<RingSlots>, Condvar)>,
    spin: Arc<std::sync::atomic::AtomicBool>,
    /// False once the process is stopping: the worker may free the textures of frames still queued here.
    copying: Arc<Mutex<bool>>,
    commands: std::sync::mpsc::Sender<Command>,
    out: Out,
    gpu_timeout: Duration,
    lockstep: bool,
}

impl Copier {
    fn run(mut self, gl: &allsource_gpu::Gl, frames: std::sync::mpsc::Receiver<crate::worker::WorkerFrame>) {
        let mut too_large_said = false;
        for first in frames.iter() {
            while self.spin.load(std::sync::atomic::Ordering::Relaxed) {
                std::hint::spin_loop();
            }
            // Wait for a slot the compositor gave back (the worker draws no faster than its frames are taken), then
            // copy the newest frame that finished meanwhile: older ones are skipped, as a compositor skips them.
            let slot = take_free_slot(&self.free);
            let mut frame = first;
            while let Ok(newer) = frames.try_recv() {
                self.give_back(gl, frame);
                frame = newer;
            }
            let bytes = (frame.width * frame.height * 4) as usize;
            if bytes > SLOT_BYTES {
                if !too_large_said {
                    too_large_said = true;
                    tracing::warn!("a {}x{} frame does not fit the frame ring: not shown", frame.width, frame.height);
                }
                self.free.0.lock().unwrap_or_else(|e| e.into_inner()).free |= 1 << slot;
                self.give_back(gl, frame);
                continue;
            }
            // In lockstep this thread times the frame against the GPU timeout, as the compositor does for a worker
            // thread (in real time the worker does). Past it, the compositor kills this process when no frame comes:
            // waiting here for as long as the frame takes is all this thread can do.
            let waited = std::time::Instant::now();
            if !frame.wait(gl, self.gpu_timeout) && self.lockstep {
                let _ = self.commands.send(Command::GpuTimedOut { took: waited.elapsed() });
            }
            while !frame.wait(gl, Duration::from_millis(100)) {}
            let reading = std::time::Instant::now();
            {
                let copying = self.copying.lock().unwrap_or_else(|e| e.into_inner());
                if !*copying {
                    return;
                }
                if let Some(pixels) = self.ring.slot_mut(slot, bytes) {
                    allsource_gpu::read_texture_rgba8(gl, frame.texture, frame.width, frame.height, pixels);
                }
            }
            let read_back = reading.elapsed();
            let (index, time, version, stats, width, height) =
                (frame.index, frame.time, frame.version, frame.stats.clone(), frame.width, frame.height);
            let ring_frame = RingFrame { index, time, version, stats, slot, width, height, read_back };
            if !self.out.send(&FromChild::Frame(ring_frame)) {
                return;
            }
            // The worker's slot stays taken while the compositor holds the ring's (the next frame may read it as
            // the previous frame).
            frame.forget_fence(gl);
            self.free.0.lock().unwrap_or_else(|e| e.into_inner()).worker_slot[slot] = Some(frame.slot);
        }
    }

    /// Gives a frame that is not copied back to the worker.
    fn give_back(&self, gl: &allsource_gpu::Gl, mut frame: crate::worker::WorkerFrame) {
        frame.forget_fence(gl);
        let _ = self.commands.send(Command::Release { slot: frame.slot, after: None });
    }
}

/// The ring's slots as this process sees them: which are free (bits), and which worker slot holds the frame each
/// slot the compositor has carries.
struct RingSlots {
    free: u32,
    worker_slot: [Option<usize>; RING_SLOTS],
}

impl RingSlots {
    fn new() -> RingSlots {
        RingSlots { free: (1 << RING_SLOTS) - 1, worker_slot: [None; RING_SLOTS] }
    }
}

/// Waits for a ring slot the compositor gave back, and takes it.
fn take_free_slot(ring: &(Mutex<RingSlots>, Condvar)) -> usize {
    let (slots, given_back) = ring;
    let mut slots = slots.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(slot) = (0..RING_SLOTS).find(|s| slots.free & (1 << s) != 0) {
            slots.free &= !(1 << slot);
            return slot;
        }
        slots = given_back.wait(slots).unwrap_or_else(|e| e.into_inner());
    }
}

/// Reads one message; `None` at the end of the stream.
fn read(lines: &mut impl BufRead) -> Result<Option<ToChild>, String> {
    let mut line = String::new();
    match lines.read_line(&mut line) {
        Ok(0) => Ok(None),
        Ok(_) => serde_json::from_str(&line).map(Some).map_err(|e| format!("a message that does not parse: {e}")),
        Err(e) => Err(e.to_string()),
    }
}

fn debug(act: DebugAct, out: &Out) {
    let (request, result) = match act {
        // Handled by the frame loop.
        DebugAct::Spin => return,
        DebugAct::Crash => {
            // Rust's own SIGSEGV handler (stack-overflow reports) would return from a raised signal: take the
            // default action, as a real fault in a driver would.
            // SAFETY: restoring a default disposition and raising a signal at this process is what was asked.
            unsafe {
                libc::signal(libc::SIGSEGV, libc::SIG_DFL);
                libc::raise(libc::SIGSEGV);
            }
            return;
        }
        DebugAct::Allocate(bytes) => {
            let mut hoard = Vec::<u8>::new();
            // What the guest's allocator does when the limit refuses memory: the process aborts.
            if hoard.try_reserve_exact(bytes as usize).is_err() {
                eprintln!("error: memory allocation of {bytes} bytes failed (the address-space limit)");
                std::process::abort();
            }
            hoard.resize(bytes as usize, 1);
            (format!("allocate {bytes}"), Ok(format!("{} bytes allocated", std::hint::black_box(hoard).len())))
        }
        DebugAct::Open(path) => (
            format!("open {}", path.display()),
            std::fs::File::open(&path).map(|_| "opened".to_owned()).map_err(|e| e.to_string()),
        ),
        DebugAct::Connect(address) => {
            let result = std::net::TcpStream::connect(&address).map(|_| "connected".to_owned());
            (format!("connect {address}"), result.map_err(|e| e.to_string()))
        }
    };
    out.send(&FromChild::Event(Event::Answer { request, result }));
}
