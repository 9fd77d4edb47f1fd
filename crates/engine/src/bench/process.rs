//! The scene's worker in a process against a thread, side by side in one run: edit -> pixels for a shader and a
//! module, what carrying a frame from the process costs (its read-back into the ring, the compositor's upload), the
//! compositor's frame-time p99 beside a module taking 30 ms a frame, and, for the process, a kill -> the first frame
//! of its replacement.

use std::path::Path;
use std::time::{Duration, Instant};

use super::frames::{SceneAt, scene_frames};
use super::{
    BenchOptions, EditSplit, Figures, Ms, edit_timings, lua_scene, module_variant, send_edit, settle, variant,
    with_update, write,
};
use crate::worker::{EngineOptions, WorkerPlace};
use crate::{Error, HeadlessEngine, Scene};

/// One place's figures.
struct Place {
    shader: Ms,
    module: Ms,
    read_back_ms: f64,
    upload_ms: f64,
    p99_ratio: f64,
    /// The compositor's work p99 and how late its sleeps woke (p99), alone and beside the 30 ms module.
    work_p99: (f64, f64),
    late_p99: (f64, f64),
    worker_fps: f64,
}

pub(super) fn process(dir: &Path, options: &BenchOptions, figures: &mut Figures) -> Result<String, Error> {
    let period = options.period();
    let shader_scene = dir.join("process-shader");
    std::fs::create_dir_all(&shader_scene).map_err(super::io(&shader_scene))?;
    let main_glsl = shader_scene.join("main.glsl");
    let module_scene = lua_scene(dir, "process-module", &module_variant(0))?;
    let main_lua = module_scene.join("main.lua");
    let quiet = lua_scene(dir, "process-quiet", &with_update("function M.update(dt) end"))?;
    let slow_update = "function M.update(dt) local t = gfx.clock() while gfx.clock() - t < 0.03 do end end";
    let slow = lua_scene(dir, "process-slow", &with_update(slow_update))?;
    let frames = (options.fps * 5.0) as usize;

    let measure = |at: SceneAt| -> Result<Place, Error> {
        let place = if at.process { WorkerPlace::Process(None) } else { WorkerPlace::Thread };
        let engine_options = EngineOptions { scene_place: place, ..options.realtime() };
        write(&main_glsl, &variant(0))?;
        let mut engine = HeadlessEngine::new(Scene::open(&shader_scene)?, engine_options.clone())?;
        settle(&mut engine, 1, period)?;
        let shader = edit_timings(&mut engine, options.edits, period, |s| s.live_version, &mut |e, i| {
            send_edit(e, &main_glsl, variant(i));
            Ok(())
        })?;
        let transport = engine.compositor().worker_transport().unwrap_or_default();
        drop(engine);
        let mut engine = HeadlessEngine::new(Scene::open(&module_scene)?, engine_options)?;
        settle(&mut engine, 2, period)?;
        let module = edit_timings(&mut engine, options.edits, period, |s| s.shown_version, &mut |e, i| {
            send_edit(e, &main_lua, module_variant(i));
            Ok(())
        })?;
        drop(engine);
        let none = &mut |_: &mut HeadlessEngine, _: usize| {};
        let alone = scene_frames(&quiet, options, frames, None, at, none)?;
        let busy = scene_frames(&slow, options, frames, None, at, none)?;
        let per_frame = |d: Duration| d.as_secs_f64() * 1e3 / transport.frames.max(1) as f64;
        Ok(Place {
            shader: EditSplit::of(&shader).total,
            module: EditSplit::of(&module).total,
            read_back_ms: per_frame(transport.read_back),
            upload_ms: per_frame(transport.upload),
            p99_ratio: busy.compositor.at(0.99) / alone.compositor.at(0.99),
            work_p99: (alone.work.at(0.99), busy.work.at(0.99)),
            late_p99: (alone.late.at(0.99), busy.late.at(0.99)),
            worker_fps: busy.worker_fps,
        })
    };
    let thread = measure(SceneAt::THREAD)?;
    let process = measure(SceneAt::PROCESS)?;
    let (kill, replaced) = kill_to_first_frame(&quiet, options)?;

    figures.extend([
        ("process_shader_edit_to_pixels_median_ms", process.shader.median()),
        ("thread_shader_edit_to_pixels_median_ms", thread.shader.median()),
        ("process_module_edit_to_pixels_median_ms", process.module.median()),
        ("thread_module_edit_to_pixels_median_ms", thread.module.median()),
        ("process_frame_read_back_ms", process.read_back_ms),
        ("process_frame_upload_ms", process.upload_ms),
        ("process_p99_over_quiet_30ms_module", process.p99_ratio),
        ("thread_p99_over_quiet_30ms_module", thread.p99_ratio),
        ("process_work_p99_quiet_ms", process.work_p99.0),
        ("process_work_p99_30ms_module_ms", process.work_p99.1),
        ("process_late_p99_quiet_ms", process.late_p99.0),
        ("process_late_p99_30ms_module_ms", process.late_p99.1),
        ("process_worker_fps_30ms_module", process.worker_fps),
        ("thread_worker_fps_30ms_module", thread.worker_fps),
        ("process_kill_to_first_frame_median_ms", kill.median()),
        ("process_kill_to_first_frame_max_ms", kill.max()),
    ]);
    let line = |name: &str, p: &Place| {
        format!(
            "  {name}: shader edit -> pixels median {:.1} ms; module edit -> pixels median {:.1} ms; beside a 30 ms \
             module p99 x{:.2} of a quiet scene's (target <= 1.1; the compositor's work p99 {:.2} ms against {:.2}, \
             woken late p99 {:.2} ms against {:.2}), worker {:.1} new frames/s\n",
            p.shader.median(),
            p.module.median(),
            p.p99_ratio,
            p.work_p99.1,
            p.work_p99.0,
            p.late_p99.1,
            p.late_p99.0,
            p.worker_fps
        )
    };
    Ok(format!(
        "the scene's worker, a thread against a process ({}x{}, {} fps):\n{}{}\
         \x20 carrying a frame from the process: read back {:.2} ms (the process's time), upload {:.2} ms (the \
         compositor's)\n\
         \x20 kill (SIGSEGV) -> first frame of the replacement: median {:.0} ms, max {:.0} ms over {replaced} kills \
         (target < 300 ms)\n",
        options.size.0,
        options.size.1,
        options.fps,
        line("thread", &thread),
        line("process", &process),
        process.read_back_ms,
        process.upload_ms,
        kill.median(),
        kill.max(),
    ))
}

/// Crashes the scene's worker process (a fresh engine each time: a second death soon after the first would leave
/// a source out of the replacement), timing the crash request to the first frame the replacement shows.
fn kill_to_first_frame(scene: &Path, options: &BenchOptions) -> Result<(Ms, usize), Error> {
    let period = options.period();
    let kills = options.edits.clamp(3, 10);
    let mut times = Vec::with_capacity(kills);
    for _ in 0..kills {
        let engine_options = EngineOptions { scene_place: WorkerPlace::Process(None), ..options.realtime() };
        let mut engine = HeadlessEngine::new(Scene::open(scene)?, engine_options)?;
        settle(&mut engine, 2, period)?;
        let io = |message| Error::Io { path: scene.to_path_buf(), message };
        engine.compositor_mut().debug_scene("crash").map_err(io)?;
        let start = Instant::now();
        // Frames the old process sent before it died may still arrive: count from the replacement on.
        let mut replaced_at: Option<u64> = None;
        loop {
            engine.frame();
            let status = engine.compositor().status();
            if status.replacements >= 1 {
                let base = *replaced_at.get_or_insert(status.worker_frames_shown);
                if status.worker_frames_shown > base {
                    break;
                }
            }
            if start.elapsed() > Duration::from_secs(20) {
                return Err(Error::WorkerTimeout { frame: status.composed, seconds: 20.0 });
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        times.push(start.elapsed());
    }
    Ok((Ms::of(&times), kills))
}
