//! A preview's guest code runs in a worker process: whatever it does (a draw that would take minutes, a crash, a
//! spin that ignores everything, memory past its limit), the compositor keeps presenting the scene, the console
//! says what happened, and the process is gone from /proc (its CPU comes back). The process cannot read files
//! outside the scene nor open a network connection. The scene's worker may run in a process too: one that crashes,
//! wedges or goes silent is killed and replaced from the last good versions.

mod common;

use std::time::{Duration, Instant};

use allsource_engine::{Clock, EngineOptions, HeadlessEngine, Scene, WorkerPlace};

fn options() -> EngineOptions {
    EngineOptions {
        size: (400, 300),
        fps: 30.0,
        promote_after: 5,
        gpu_timeout: Duration::from_millis(500),
        preview_place: WorkerPlace::Process(Some(env!("CARGO_BIN_EXE_allsource-worker").into())),
        ..EngineOptions::default()
    }
}

const RED_SCENE: &str = "local M = {}\nfunction M.draw() gfx.clear(1, 0, 0, 1) end\nreturn M\n";
const GREEN_GUEST: &str = "local M = {}\nfunction M.draw() gfx.clear(0, 1, 0, 1) end\nreturn M\n";

/// The pid in "previewing ... in worker process PID, ...".
fn pid(out: &[String]) -> u32 {
    let line = out.iter().find(|l| l.starts_with("previewing ")).expect("a previewing line");
    let after = line.split("worker process ").nth(1).expect("a worker process");
    after.split(',').next().and_then(|p| p.parse().ok()).expect("a pid")
}

/// Previews `guest`, runs `then` (console commands), and checks that the scene kept presenting its own frames and
/// the preview was stopped for a reason containing `why`, with its process gone.
fn contained(name: &str, guest: &str, then: &str, why: &str) -> Vec<String> {
    let script = format!(
        "preview guest.lua
         {then}
         wait-preview
         frames 3
         expect-pixel 20 200 255 0 0"
    );
    let out = common::script_ok(name, &[("main.lua", RED_SCENE), ("guest.lua", guest)], options(), &script);
    let stopped = out.iter().find(|l| l.starts_with("preview of ") && l.contains(": stopped:"));
    assert!(stopped.is_some_and(|l| l.contains(why)), "{name}: expected a stop for {why:?}: {out:#?}");
    let pid = pid(&out);
    assert!(common::gone(pid), "{name}: process {pid} is still there: {out:#?}");
    out
}

/// The hostile draw that froze the whole engine when the guest was a thread: two billion vertices, a thousand times.
const GIANT_DRAW: &str = "local M = {}
local s = gfx.shader('big.glsl')
local n = 0
function M.draw()
  n = n + 1
  gfx.clear(0, 1, 0, 1)
  if n > 2 then gfx.draw{ shader = s, count = 2000000000, instances = 1000 } end
end
return M
";
const BIG_SHADER: &str = "#pragma stage vertex
void main() { gl_Position = vec4(float(gl_VertexID % 3) - 1.0, float(gl_VertexID % 2), 0.0, 1.0); }
#pragma stage fragment
out vec4 o;
void main() { o = vec4(0.0, 0.0, 1.0, 1.0); }
";

#[test]
fn a_giant_guest_draw_is_killed_while_the_scene_keeps_presenting() {
    let script = "preview guest.lua
         frames 30
         wait-preview
         frames 3
         expect-pixel 20 200 255 0 0";
    let files = [("main.lua", RED_SCENE), ("guest.lua", GIANT_DRAW), ("big.glsl", BIG_SHADER)];
    let out = common::script_ok("process-giant", &files, options(), script);
    let stopped = out.iter().find(|l| l.starts_with("preview of ") && l.contains(": stopped:"));
    // No frame comes (the compositor kills the process that sends nothing), or the guest's VM is found stuck in the
    // draw call (wedged: killed too).
    assert!(stopped.is_some_and(|l| l.contains("killed")), "{out:#?}");
    assert!(common::gone(pid(&out)), "{out:#?}");
}

#[test]
fn a_guest_process_that_crashes_is_reported_with_its_signal() {
    contained("process-crash", GREEN_GUEST, "frames 3\ndebug-preview crash", "was killed by signal 11 (SIGSEGV)");
}

#[test]
fn a_guest_process_that_spins_without_sending_frames_is_killed() {
    contained("process-spin", GREEN_GUEST, "frames 3\ndebug-preview spin", "it sent nothing for 4.0 s");
}

#[test]
fn a_guest_process_past_its_address_space_limit_dies_and_says_so() {
    // 6 GiB: a reservation this machine grants (24 GiB, overcommit by heuristic), past the 4 GiB beyond the driver's
    // mappings the guest may have.
    let out = contained(
        "process-memory",
        GREEN_GUEST,
        "frames 3\ndebug-preview allocate 6442450944",
        "was killed by signal 6 (SIGABRT)",
    );
    let stopped = out.iter().find(|l| l.contains(": stopped:")).unwrap();
    assert!(stopped.contains("memory allocation of 6442450944 bytes failed"), "{out:#?}");
}

#[test]
fn a_guest_process_reads_only_the_scene_and_opens_no_connection() {
    let name = "process-sandbox";
    let dir = std::env::temp_dir().join(format!("allsource-engine-{}-{name}", std::process::id()));
    let outside = std::env::temp_dir().join(format!("allsource-engine-{}-outside.txt", std::process::id()));
    std::fs::write(&outside, "secret").unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = format!(
        "preview guest.lua
         debug-preview open {inside}
         debug-preview open {outside}
         debug-preview open /etc/passwd
         debug-preview connect 127.0.0.1:{port}
         frames 3
         expect-pixel 300 80 0 255 0",
        inside = dir.join("main.lua").display(),
        outside = outside.display(),
    );
    let out = common::script_ok(name, &[("main.lua", RED_SCENE), ("guest.lua", GREEN_GUEST)], options(), &script);
    let _ = std::fs::remove_file(&outside);
    let answer = |request: &str| {
        out.iter().find(|l| l.starts_with(&format!("preview: {request}: "))).cloned().unwrap_or_default()
    };
    assert!(out.iter().any(|l| l.contains("is confined: files under the scene only, no network, no exec")), "{out:#?}");
    assert!(answer(&format!("open {}", dir.join("main.lua").display())).ends_with(": opened"), "{out:#?}");
    assert!(answer(&format!("open {}", outside.display())).contains("failed: Permission denied"), "{out:#?}");
    assert!(answer("open /etc/passwd").contains("failed: Permission denied"), "{out:#?}");
    assert!(answer(&format!("connect 127.0.0.1:{port}")).contains("failed: Permission denied"), "{out:#?}");
    // The guest kept running through all of it: its frame is in the panel.
    assert!(!out.iter().any(|l| l.contains(": stopped:")), "{out:#?}");
    // Each question comes before its answer in the transcript.
    let at = |start: &str| out.iter().position(|l| l.starts_with(start));
    let asked = at("asked the preview process to open /etc/passwd").expect("the question is in the transcript");
    assert!(Some(asked) < at("preview: open /etc/passwd: "), "{out:#?}");
}

// The scene's worker in a process (`EngineOptions::scene_place`): killed and replaced from the last good versions.

fn scene_in_a_process() -> EngineOptions {
    EngineOptions {
        scene_place: WorkerPlace::Process(Some(env!("CARGO_BIN_EXE_allsource-worker").into())),
        ..options()
    }
}

/// The pid in "asked the scene's worker process (PID) to ...", the last such line.
fn scene_pid(out: &[String]) -> u32 {
    let line = out.iter().rev().find(|l| l.starts_with("asked the scene's worker process (")).expect("an asked line");
    line["asked the scene's worker process (".len()..].split(')').next().and_then(|p| p.parse().ok()).expect("a pid")
}

const GREEN_SCENE: &str = "local c = { 0, 1, 0, 1 }
local M = {}
function M.draw() gfx.clear(c[1], c[2], c[3], c[4]) end
return M
";

#[test]
fn a_scene_worker_process_that_crashes_is_replaced_from_the_last_good_versions() {
    // The file on disk is saved broken: the last good version (green) is what the replacement must run.
    let script = "open main.lua
         goto 1 1
         type x
         save
         key Backquote
         frames 10
         expect-pixel 20 200 0 255 0
         debug-scene crash
         frames 5
         expect-pixel 20 200 0 255 0";
    let out = common::script_ok("process-scene-crash", &[("main.lua", GREEN_SCENE)], scene_in_a_process(), script);
    let replaced = out.iter().find(|l| l.starts_with("the scene's worker process ("));
    assert!(
        replaced.is_some_and(|l| l.contains("was killed by signal 11 (SIGSEGV): a new one started from the last good")),
        "{out:#?}"
    );
    assert!(common::gone(scene_pid(&out)), "{out:#?}");
    // The replacement read the broken file too, and kept the last good version live.
    let after = out.iter().position(|l| l.starts_with("the scene's worker process (")).unwrap();
    assert!(out[after..].iter().any(|l| l.contains("did not build; version") && l.contains("stays live")), "{out:#?}");
}

/// A real-time engine at 16x16 on `files` with the scene's worker in a process; composes until `done`.
fn realtime_until(
    name: &str,
    files: &[(&str, &str)],
    done: impl Fn(&allsource_engine::Status) -> bool,
) -> HeadlessEngine {
    let dir = common::scene_dir(name, files);
    let options = EngineOptions { size: (16, 16), clock: Clock::Realtime, fps: 60.0, ..scene_in_a_process() };
    let mut engine = HeadlessEngine::new(Scene::open(&dir).unwrap(), options).unwrap();
    let start = Instant::now();
    while !done(engine.compositor().status()) {
        assert!(start.elapsed() < Duration::from_secs(30), "{:?}", engine.compositor().status().diagnostics);
        engine.frame();
        std::thread::sleep(Duration::from_millis(5));
    }
    engine
}

#[test]
fn a_scene_worker_process_past_its_memory_limit_is_replaced_from_the_last_good_versions() {
    let options = EngineOptions { scene_address_space: 2 << 30, ..scene_in_a_process() };
    let script = "frames 3
         expect-pixel 20 200 0 255 0
         debug-scene allocate 6442450944
         frames 5
         expect-pixel 20 200 0 255 0";
    let out = common::script_ok("process-scene-memory", &[("main.lua", GREEN_SCENE)], options, script);
    let replaced = out.iter().find(|l| l.starts_with("the scene's worker process ("));
    assert!(
        replaced.is_some_and(|l| l.contains(
            "was killed by signal 6 (SIGABRT): error: memory allocation of 6442450944 \
                                             bytes failed"
        )),
        "{out:#?}"
    );
    assert!(common::gone(scene_pid(&out)), "{out:#?}");
}

#[test]
fn a_silent_scene_worker_process_is_killed_and_replaced() {
    let files = [("main.lua", GREEN_GUEST)];
    let mut engine = realtime_until("process-scene-spin", &files, |s| s.worker_frames_shown > 2);
    engine.compositor_mut().debug_scene("spin").unwrap();
    let start = Instant::now();
    while engine.compositor().status().replacements == 0 {
        assert!(start.elapsed() < Duration::from_secs(30), "never replaced");
        engine.frame();
        std::thread::sleep(Duration::from_millis(5));
    }
    let d = &engine.compositor().status().diagnostics[0];
    assert!(d.message.contains("a new one started from the last good versions"), "{d}");
    common::wait_for(&mut engine, [0, 255, 0, 255], 20);
}

#[test]
fn a_scene_worker_process_that_spins_in_lockstep_is_killed_and_replaced() {
    let script = "frames 3
         debug-scene spin
         frames 3
         expect-pixel 20 200 0 255 0";
    let out =
        common::script_ok("process-scene-spin-lockstep", &[("main.lua", GREEN_SCENE)], scene_in_a_process(), script);
    assert!(out.iter().any(|l| l.contains("sent no frame for") && l.contains("it was killed")), "{out:#?}");
    assert!(common::gone(scene_pid(&out)), "{out:#?}");
}

#[test]
fn a_replacement_worker_process_keeps_the_frame_size_the_history_and_the_unsaved_drafts() {
    // With the store: the replacement's sources start from their persisted versions, numbers going on.
    let options = EngineOptions { store: true, ..scene_in_a_process() };
    let script = "open main.lua
         goto 1 1
         type -- two\\n
         key Backquote
         frames 40
         versions main.lua
         resize 200 150
         frames 2
         key Backquote
         goto 1 1
         type x
         frames 2
         debug-scene crash
         frames 5
         diagnostics
         versions main.lua
         lua return gfx.width() .. 'x' .. gfx.height()";
    let out = common::script_ok("process-scene-replaced-state", &[("main.lua", GREEN_SCENE)], options, script);
    let crash = out.iter().position(|l| l.starts_with("the scene's worker process (")).expect("a replacement");
    // The version typed before the crash is still version 2, live; the draft (`x` before the first line, broken,
    // unsaved: an error on line 2) is built again.
    let versions: Vec<&String> = out[crash..].iter().filter(|l| l.starts_with("version ")).collect();
    assert!(versions.iter().any(|l| *l == "version 2: ok (live)"), "{out:#?}");
    assert!(!versions.iter().any(|l| *l == "version 1: ok (live)"), "{out:#?}");
    assert!(out[crash..].iter().any(|l| l == "200x150"), "the replacement draws at the frame's size now: {out:#?}");
    let listed = out.iter().rposition(|l| l == "> diagnostics").unwrap();
    assert!(out[listed..].iter().any(|l| l.contains("main.lua:2:") && l.contains("error")), "{out:#?}");
}
