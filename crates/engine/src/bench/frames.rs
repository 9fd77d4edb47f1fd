//! Frame times while something misbehaves: the compositor's frame intervals (median and p99) and the worker's rate
//! of new frames, for a well-behaved Lua scene, one whose module loops forever in every frame (a looping version
//! sent before every frame, so a loop is stopped in each), one whose module takes 30 ms a frame (the budget's
//! policy off, so it stays), and one beside a preview guest taking 30 ms a frame. Also the watchdog's own costs.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{BenchOptions, Figures, Ms, io, lua_scene, send_edit, with_update, write};
use crate::worker::{EngineOptions, SCENE_NICE, WorkerPlace};
use crate::{Error, HeadlessEngine, Scene};

/// What a run of frames measured.
pub(super) struct FrameRun {
    /// The intervals between composed frames, paced at the display rate.
    pub compositor: Ms,
    /// What each interval is made of: the compositor's own work (composing the frame), and how late its sleep
    /// until the frame's time woke (the OS's scheduling: on this machine's VM, up to 10 ms now and then, alone).
    pub work: Ms,
    pub late: Ms,
    /// New worker frames shown per second.
    pub worker_fps: f64,
    /// New preview frames per second, with a guest.
    guest_fps: f64,
    /// The guest's start to its first frame in the panel, and the compositor's time per guest frame it took.
    guest_first_ms: f64,
    guest_take_ms: f64,
}

/// Where the scene's worker runs, and at what nice value.
#[derive(Clone, Copy)]
pub(super) struct SceneAt {
    pub nice: i32,
    pub process: bool,
}

impl SceneAt {
    pub const THREAD: SceneAt = SceneAt { nice: SCENE_NICE, process: false };
    pub const PROCESS: SceneAt = SceneAt { nice: SCENE_NICE, process: true };
}

/// A guest previewed beside the scene: its file, whether it runs at a lower OS priority, and where.
#[derive(Clone, Copy)]
pub(super) struct Guest<'a> {
    path: &'a Path,
    nice: bool,
    process: bool,
}

/// `frames` frames of the Lua scene in `scene` in real time at the display rate (after its first frame appeared,
/// and a guest's when there is one), with `before_each(engine, n)` called before frame n. With `guest`, that module
/// is previewed meanwhile.
pub(super) fn scene_frames(
    scene: &Path,
    options: &BenchOptions,
    frames: usize,
    guest: Option<Guest>,
    at: SceneAt,
    before_each: &mut dyn FnMut(&mut HeadlessEngine, usize),
) -> Result<FrameRun, Error> {
    let period = options.period();
    // The module stays as it is for the whole measurement: the budget's policy would revert a slow one.
    let engine_options = EngineOptions {
        frame_budget: false,
        preview_nice: guest.is_none_or(|g| g.nice),
        preview_place: match guest {
            Some(Guest { process: false, .. }) => WorkerPlace::Thread,
            _ => WorkerPlace::Process(None),
        },
        scene_nice: at.nice,
        scene_place: if at.process { WorkerPlace::Process(None) } else { WorkerPlace::Thread },
        ..options.realtime()
    };
    let mut engine = HeadlessEngine::new(Scene::open(scene)?, engine_options)?;
    let waiting = |engine: &HeadlessEngine| {
        engine.compositor().status().shown_version.is_none()
            || guest.is_some() && engine.compositor().preview().is_none_or(|p| p.frames == 0)
    };
    let started = Instant::now();
    let mut guest_started = guest.is_none();
    while waiting(&engine) && started.elapsed() < Duration::from_secs(20) {
        engine.frame();
        if !guest_started && engine.compositor().status().shown_version.is_some() {
            if let Some(Guest { path, .. }) = guest {
                let text = std::fs::read_to_string(path).map_err(io(path))?;
                engine
                    .compositor_mut()
                    .start_preview(path, text)
                    .map_err(|message| Error::Io { path: path.into(), message })?;
            }
            guest_started = true;
        }
        std::thread::sleep(period);
    }
    let guest_frames = |engine: &HeadlessEngine| engine.compositor().preview().map_or(0, |p| p.frames);
    let worker_frames = |engine: &HeadlessEngine| engine.compositor().status().worker_frames_shown;
    let (first_guest, first_worker) = (guest_frames(&engine), worker_frames(&engine));
    let mut intervals = Vec::with_capacity(frames);
    let (mut work, mut late) = (Vec::with_capacity(frames), Vec::with_capacity(frames));
    let begin = Instant::now();
    let mut last = begin;
    let mut next = last;
    for n in 0..frames {
        before_each(&mut engine, n);
        let composing = Instant::now();
        engine.frame();
        let now = Instant::now();
        intervals.push(now - last);
        work.push(now - composing);
        last = now;
        next += period;
        if next > now {
            std::thread::sleep(next - now);
            late.push(Instant::now() - next);
        }
    }
    let seconds = begin.elapsed().as_secs_f64();
    let preview = engine.compositor().preview();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    Ok(FrameRun {
        compositor: Ms::of(&intervals),
        work: Ms::of(&work),
        late: Ms::of(&late),
        worker_fps: (worker_frames(&engine) - first_worker) as f64 / seconds,
        guest_fps: (guest_frames(&engine) - first_guest) as f64 / seconds,
        guest_first_ms: preview.and_then(|p| p.first_frame_after).map_or(f64::NAN, ms),
        guest_take_ms: preview.map_or(f64::NAN, |p| ms(p.taking.0) / p.taking.1.max(1) as f64),
    })
}

pub(super) fn supervision(dir: &Path, options: &BenchOptions, figures: &mut Figures) -> Result<String, Error> {
    let lua_error = |e: String| Error::Io { path: dir.to_path_buf(), message: e };
    let runs = (options.edits * 10).max(30);
    let deadline = Duration::from_millis(5);
    let stops = Ms::of(&allsource_lua::measure::stop_latency(runs, deadline).map_err(lua_error)?);
    let allsource_lua::measure::WatchdogCost { plain, sampled, unsampled } =
        allsource_lua::measure::watchdog_cost(options.edits.clamp(3, 9)).map_err(lua_error)?;
    // Speeds are inverse times: plain time over guarded time is the guarded run's relative speed.
    let watchdog_ratio = Ms::of(&plain).median() / Ms::of(&sampled).median();
    let sampling_ratio = Ms::of(&unsampled).median() / Ms::of(&sampled).median();

    // Five seconds a scene: p99 of 300 frames is the third slowest, not the one slowest.
    let frames = (options.fps * 5.0) as usize;
    let quiet = "function M.update(dt) end";
    let good = scene_frames(
        &lua_scene(dir, "good", &with_update(quiet))?,
        options,
        frames,
        None,
        SceneAt::THREAD,
        &mut |_, _| {},
    )?;
    let looping_scene = lua_scene(dir, "looping", &with_update(quiet))?;
    let main = looping_scene.join("main.lua");
    let looping = scene_frames(&looping_scene, options, frames, None, SceneAt::THREAD, &mut |engine, n| {
        // A new looping version before every frame (the worker builds the newest waiting one): each worker frame
        // runs a loop until the watchdog stops it and the module goes back to its last version that ran.
        let text = with_update(&format!("function M.update(dt) while true do end end -- {n}"));
        send_edit(engine, &main, text);
    })?;
    let slow_update = "function M.update(dt) local t = gfx.clock() while gfx.clock() - t < 0.03 do end end";
    let slow_scene = lua_scene(dir, "slow", &with_update(slow_update))?;
    let slow = scene_frames(&slow_scene, options, frames, None, SceneAt::THREAD, &mut |_, _| {})?;
    // The same, with the scene worker's thread at the compositor's own OS priority.
    let level = scene_frames(&slow_scene, options, frames, None, SceneAt { nice: 0, process: false }, &mut |_, _| {})?;
    let (g, l, s, e) = (&good.compositor, &looping.compositor, &slow.compositor, &level.compositor);
    figures.extend([
        ("stop_latency_p50_us", stops.median() * 1e3),
        ("stop_latency_p99_us", stops.at(0.99) * 1e3),
        ("stop_latency_max_us", stops.max() * 1e3),
        ("lua_speed_watchdog_on_over_off", watchdog_ratio),
        ("lua_speed_sampling_on_over_off", sampling_ratio),
        ("compositor_frame_good_median_ms", g.median()),
        ("compositor_frame_good_p99_ms", g.at(0.99)),
        ("worker_fps_good", good.worker_fps),
        ("compositor_p99_over_good_loop_stopped_every_frame", l.at(0.99) / g.at(0.99)),
        ("compositor_median_over_good_loop_stopped_every_frame", l.median() / g.median()),
        ("worker_fps_loop_stopped_every_frame", looping.worker_fps),
        ("compositor_p99_over_good_30ms_module", s.at(0.99) / g.at(0.99)),
        ("compositor_median_over_good_30ms_module", s.median() / g.median()),
        ("worker_fps_30ms_module", slow.worker_fps),
        ("compositor_p99_over_good_30ms_module_worker_not_niced", e.at(0.99) / g.at(0.99)),
        ("worker_fps_30ms_module_worker_not_niced", level.worker_fps),
    ]);
    Ok(format!(
        "supervision:\n\
         \x20 stop latency past a {:.0} ms deadline ({runs} runaway calls, 7 loop forms): p50 {:.0} us, p99 {:.0} us, \
         max {:.0} us (target p99 < 1000 us)\n\
         \x20 JIT-heavy Lua under the watchdog / without (the same LuaJIT build): speed x{watchdog_ratio:.3} \
         (target >= 0.95)\n\
         \x20 with the time per module sampled every {:.1} ms / without sampling: speed x{sampling_ratio:.3} \
         (target >= 0.97)\n\
         \x20 compositor frame interval, well-behaved module: median {:.2} ms, p99 {:.2} ms; worker {:.1} new frames/s\n\
         \x20 a loop stopped in every worker frame: compositor median x{:.2}, p99 x{:.2} (target <= 1.1); worker {:.1} \
         new frames/s\n\
         \x20 a module taking 30 ms a frame: compositor median x{:.2}, p99 x{:.2} (target <= 1.1); worker {:.1} new \
         frames/s (worker thread at nice {SCENE_NICE}); at the compositor's priority: p99 x{:.2}, worker {:.1} new \
         frames/s\n",
        deadline.as_secs_f64() * 1e3,
        stops.median() * 1e3,
        stops.at(0.99) * 1e3,
        stops.max() * 1e3,
        allsource_lua::SAMPLE_EVERY.as_secs_f64() * 1e3,
        g.median(),
        g.at(0.99),
        good.worker_fps,
        l.median() / g.median(),
        l.at(0.99) / g.at(0.99),
        looping.worker_fps,
        s.median() / g.median(),
        s.at(0.99) / g.at(0.99),
        slow.worker_fps,
        e.at(0.99) / g.at(0.99),
        level.worker_fps,
    ))
}

/// The scene's frame intervals while a preview guest takes 30 ms of Lua a frame, against no preview: the guest in a
/// process (the default), on a thread at a lower OS priority, and on a thread at the scene's priority.
pub(super) fn preview(dir: &Path, options: &BenchOptions, figures: &mut Figures) -> Result<String, Error> {
    let scene = lua_scene(dir, "preview", &with_update("function M.update(dt) end"))?;
    let guest = scene.join("guest.lua");
    write(
        &guest,
        "local M = {}\nfunction M.draw()\n  local t = gfx.clock() while gfx.clock() - t < 0.03 do end\n  \
         gfx.clear(0, 0.5, 1, 1)\nend\nreturn M\n",
    )?;
    let frames = (options.fps * 5.0) as usize;
    let mut none = |_: &mut HeadlessEngine, _: usize| {};
    let path = guest.as_path();
    // The scene's worker in a process, as `allsource run` starts it.
    let mut run = |guest: Option<Guest>| scene_frames(&scene, options, frames, guest, SceneAt::PROCESS, &mut none);
    // Alone, with the guest each way, and alone again: the machine's drift over the runs shows in the two alone
    // figures.
    let before = run(None)?;
    let process = run(Some(Guest { path, nice: true, process: true }))?;
    let nice = run(Some(Guest { path, nice: true, process: false }))?;
    let same = run(Some(Guest { path, nice: false, process: false }))?;
    let after = run(None)?;
    let alone = (before.compositor.at(0.99) + after.compositor.at(0.99)) / 2.0;
    let alone_work = (before.work.at(0.99) + after.work.at(0.99)) / 2.0;
    let alone_late = (before.late.at(0.99) + after.late.at(0.99)) / 2.0;
    let alone_worker = (before.worker_fps + after.worker_fps) / 2.0;
    figures.extend([
        ("preview_scene_p99_alone_ms", alone),
        ("preview_scene_work_p99_alone_ms", alone_work),
        ("preview_scene_late_p99_alone_ms", alone_late),
        ("preview_scene_p99_over_alone_30ms_guest_process", process.compositor.at(0.99) / alone),
        ("preview_scene_p99_over_alone_30ms_guest", nice.compositor.at(0.99) / alone),
        ("preview_scene_p99_over_alone_30ms_guest_same_priority", same.compositor.at(0.99) / alone),
        ("preview_scene_work_p99_30ms_guest_process_ms", process.work.at(0.99)),
        ("preview_scene_late_p99_30ms_guest_process_ms", process.late.at(0.99)),
        ("preview_scene_worker_fps_alone", alone_worker),
        ("preview_scene_worker_fps_30ms_guest_process", process.worker_fps),
        ("preview_scene_worker_fps_30ms_guest", nice.worker_fps),
        ("preview_guest_fps_process", process.guest_fps),
        ("preview_guest_fps", nice.guest_fps),
        ("preview_guest_fps_same_priority", same.guest_fps),
        ("preview_guest_first_frame_ms_process", process.guest_first_ms),
        ("preview_guest_first_frame_ms_thread", nice.guest_first_ms),
        ("preview_guest_take_ms_process", process.guest_take_ms),
        ("preview_guest_take_ms_thread", nice.guest_take_ms),
    ]);
    let line = |name: &str, r: &FrameRun| {
        format!(
            "  {name}: p99 x{:.2} (target <= 1.1; work p99 {:.2} ms, woken late p99 {:.2} ms), scene worker {:.1} new \
             frames/s, guest {:.1} fps; start -> first frame {:.0} ms; taking a frame {:.3} ms\n",
            r.compositor.at(0.99) / alone,
            r.work.at(0.99),
            r.late.at(0.99),
            r.worker_fps,
            r.guest_fps,
            r.guest_first_ms,
            r.guest_take_ms,
        )
    };
    Ok(format!(
        "preview (a guest taking 30 ms a frame beside the scene, whose worker is a process):\n\
         \x20 scene compositor p99 alone: {:.2} ms before, {:.2} ms after (its work p99 {alone_work:.2} ms, woken late \
         p99 {alone_late:.2} ms); worker {alone_worker:.1} new frames/s\n\
         {}{}{}",
        before.compositor.at(0.99),
        after.compositor.at(0.99),
        line("guest in a process (nice 10)", &process),
        line("guest on a thread (nice 10)", &nice),
        line("guest on a thread at the scene's priority", &same),
    ))
}
