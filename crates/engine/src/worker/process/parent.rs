//! The compositor's end of a worker process: starting it (this executable's `worker` subcommand, with a socket and
//! the frame ring as inherited fds), a writer thread so that sending never blocks the compositor, a reader thread
//! that turns lines into [`News`] and, when the socket closes, reaps the process and says how it ended (with the
//! last line it wrote to stderr), and killing it.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::worker::Event;

use super::ring::Ring;
use super::wire::{FromChild, RingFrame, Start, ToChild};

/// What the compositor hears from a worker process.
#[derive(Debug)]
pub enum News {
    /// It made its context and confined itself: what the sandbox enforces.
    Ready {
        low_priority: bool,
        confined: String,
    },
    Frame(RingFrame),
    Event(Event),
    /// The process is gone: how it ended ("was killed by signal 11 (SIGSEGV)", with its last stderr line).
    Exited(String),
}

pub struct ProcessWorker {
    pid: u32,
    to_child: Sender<ToChild>,
    pub news: Receiver<News>,
    ring: Ring,
    /// Set (under the lock) once the process was reaped: its pid may belong to another process after that.
    reaped: Arc<Mutex<bool>>,
}

impl ProcessWorker {
    /// Starts `program` (this executable when `None`) as `PROGRAM worker --socket FD --ring FD` and sends it
    /// `start`.
    pub fn spawn(program: Option<&Path>, start: Start) -> Result<ProcessWorker, String> {
        let program = match program {
            Some(p) => p.to_path_buf(),
            None => std::env::current_exe().map_err(|e| format!("cannot find this program to start a worker: {e}"))?,
        };
        let (ours, theirs) = UnixStream::pair().map_err(|e| format!("cannot make the worker's socket: {e}"))?;
        let ring = Ring::create().map_err(|e| format!("cannot make the frame ring: {e}"))?;
        let (socket_fd, ring_fd) = (theirs.as_raw_fd(), ring.fd().as_raw_fd());
        let mut command = std::process::Command::new(&program);
        command
            .args(["worker", "--socket", &socket_fd.to_string(), "--ring", &ring_fd.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // The guest's shaders are not cached for other processes (the sandbox would refuse the writes anyway).
            .env("MESA_SHADER_CACHE_DISABLE", "true");
        // SAFETY: fcntl is async-signal-safe; it runs in the forked child only, where it keeps the two fds open
        // across exec (they are close-on-exec in this process, so no other child inherits them).
        unsafe {
            command.pre_exec(move || {
                for fd in [socket_fd, ring_fd] {
                    if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let mut child =
            command.spawn().map_err(|e| format!("cannot start the worker process {}: {e}", program.display()))?;
        drop(theirs);
        let pid = child.id();
        let stderr = child.stderr.take();
        let (to_child, outbox) = mpsc::channel::<ToChild>();
        let (tell, news) = mpsc::channel();
        let reaped = Arc::new(Mutex::new(false));
        let writer = ours.try_clone().map_err(|e| e.to_string())?;
        spawn_thread("worker-writer", move || write_lines(writer, outbox))?;
        let stderr = spawn_thread("worker-stderr", move || stderr.map(last_lines).unwrap_or_default())?;
        let reaper = reaped.clone();
        spawn_thread("worker-reader", move || read_lines(ours, child, stderr, reaper, tell))?;
        let worker = ProcessWorker { pid, to_child, news, ring, reaped };
        worker.send(ToChild::Start(Box::new(start)));
        Ok(worker)
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Queues a message for the process; never blocks (a process that stopped reading costs memory, not time).
    pub fn send(&self, message: ToChild) {
        let _ = self.to_child.send(message);
    }

    /// The pixels of a frame the process named (bottom row first), until it is released.
    pub fn pixels(&self, frame: &RingFrame) -> Option<&[u8]> {
        self.ring.slot(frame.slot, (frame.width * frame.height * 4) as usize)
    }

    /// Kills the process (SIGKILL: whatever it is doing, its memory, its threads and its GL context go with it).
    pub fn kill(&self) {
        let Ok(reaped) = self.reaped.lock() else { return };
        if !*reaped {
            // SAFETY: the pid is this worker's child, not yet reaped (the lock keeps it so), so it names no other
            // process.
            unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

impl Drop for ProcessWorker {
    /// Asks the process to stop and waits a little for it (its last log lines, Lua's last `print`, reach this
    /// process's log), then kills it. One already killed is gone at once.
    fn drop(&mut self) {
        self.send(ToChild::Stop);
        let deadline = std::time::Instant::now() + STOP_GRACE;
        while std::time::Instant::now() < deadline {
            if self.reaped.lock().map_or(true, |r| *r) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        self.kill();
    }
}

/// How long a clean stop waits for a worker process before it is killed.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

fn spawn_thread<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<JoinHandle<T>, String> {
    std::thread::Builder::new().name(name.into()).spawn(f).map_err(|e| format!("cannot start a thread: {e}"))
}

fn write_lines(mut stream: UnixStream, outbox: Receiver<ToChild>) {
    for message in outbox {
        let Ok(mut line) = serde_json::to_vec(&message) else { continue };
        line.push(b'\n');
        if stream.write_all(&line).is_err() {
            return;
        }
    }
    // The compositor dropped its end: the process reads the end of the stream and exits.
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// Passes the process's log lines on to this process's log at their level (Lua's `print` as Lua's `print`, with
/// its target), and returns the last few.
fn last_lines(stderr: std::process::ChildStderr) -> Vec<String> {
    let mut last = VecDeque::new();
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        // Kept for how the process ended: what it said of a problem (not its news, nor Lua's prints).
        let kept = match parse_log_line(&line) {
            Some((level, target, message)) => relog(level, target, message).then(|| message.to_owned()),
            // Not the log (a panic, an abort's message): an error, as it is.
            None => {
                tracing::error!("worker process: {line}");
                Some(line)
            }
        };
        let Some(kept) = kept else { continue };
        last.push_back(kept);
        if last.len() > 3 {
            last.pop_front();
        }
    }
    last.into()
}

/// Logs a line of a worker process's log again here, at its level, as a worker thread's line would be (Lua's
/// `print` as Lua's `print`; news such as the Lua budget at info). The GL context the process made for itself is
/// logged at debug: the compositor already said which driver the engine runs on. Returns whether it was a problem
/// (an error or a warning).
fn relog(level: &str, target: &str, message: &str) -> bool {
    match (level, target) {
        ("INFO", "lua") => tracing::info!(target: "lua", "{message}"),
        ("INFO", gpu) if gpu.starts_with("allsource_gpu") => tracing::debug!("worker process: {message}"),
        ("INFO", _) => tracing::info!("{message}"),
        ("ERROR", _) => tracing::error!("{message}"),
        ("WARN", _) => tracing::warn!("{message}"),
        _ => tracing::debug!("worker process: {message}"),
    }
    matches!(level, "ERROR" | "WARN")
}

/// Reads `LEVEL target: message`, as `allsource worker` logs to standard error before its socket is connected;
/// `None` for anything else.
fn parse_log_line(line: &str) -> Option<(&str, &str, &str)> {
    let (level, rest) = line.trim_start().split_once(' ')?;
    let (target, message) = rest.trim_start().split_once(": ")?;
    let known = matches!(level, "ERROR" | "WARN" | "INFO" | "DEBUG" | "TRACE");
    (known && !target.contains(' ')).then_some((level, target, message))
}

fn read_lines(
    stream: UnixStream,
    mut child: Child,
    stderr: JoinHandle<Vec<String>>,
    reaped: Arc<Mutex<bool>>,
    tell: Sender<News>,
) {
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { break };
        let news = match serde_json::from_str::<FromChild>(&line) {
            Ok(FromChild::Ready { low_priority, confined }) => News::Ready { low_priority, confined },
            Ok(FromChild::Frame(frame)) => News::Frame(frame),
            Ok(FromChild::Event(event)) => News::Event(event),
            Ok(FromChild::Log { level, target, message }) => {
                relog(&level, &target, &message);
                continue;
            }
            Err(e) => {
                tracing::error!("a worker process sent a line that does not parse ({e}); it is killed");
                // SAFETY: the child is not reaped yet (only this thread reaps it).
                unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
                break;
            }
        };
        if tell.send(news).is_err() {
            break;
        }
    }
    // The socket closed: the process exited or is about to. Wait for it without reaping, so that `kill` never
    // signals a pid that was reused, then reap it under the lock.
    // SAFETY: waitid on this child's pid with a zeroed siginfo to fill.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        libc::waitid(libc::P_PID, child.id(), &mut info, libc::WEXITED | libc::WNOWAIT);
    }
    // Every line it wrote is logged before it counts as gone (a clean stop waits for that).
    let last = stderr.join().unwrap_or_default();
    let status = {
        let mut reaped = reaped.lock().unwrap_or_else(|e| e.into_inner());
        let status = child.wait();
        *reaped = true;
        status
    };
    let how = match status {
        Ok(status) => describe(status),
        Err(e) => format!("could not be waited for ({e})"),
    };
    let how = match last.last() {
        Some(line) if !line.is_empty() => format!("{how}: {line}"),
        _ => how,
    };
    let _ = tell.send(News::Exited(how));
}

/// "exited with status 1", "was killed by signal 11 (SIGSEGV)".
fn describe(status: ExitStatus) -> String {
    if let Some(signal) = status.signal() {
        let name = match signal {
            libc::SIGSEGV => " (SIGSEGV)",
            libc::SIGABRT => " (SIGABRT)",
            libc::SIGKILL => " (SIGKILL)",
            libc::SIGBUS => " (SIGBUS)",
            libc::SIGILL => " (SIGILL)",
            libc::SIGFPE => " (SIGFPE)",
            libc::SIGSYS => " (SIGSYS)",
            libc::SIGTERM => " (SIGTERM)",
            libc::SIGINT => " (SIGINT)",
            libc::SIGPIPE => " (SIGPIPE)",
            _ => "",
        };
        return format!("was killed by signal {signal}{name}");
    }
    match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => "exited".into(),
    }
}
