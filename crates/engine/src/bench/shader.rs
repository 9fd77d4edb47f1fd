//! Shader edits: a direct edit, an outside editor's atomic save and a keystroke through the editor, each from the
//! edit to the first composed frame drawn with the new program, against the quantized ideal of the floor (compile +
//! link + first draw + finish of the same source on a context of its own). And the editor's frame cost.

use std::path::Path;
use std::time::{Duration, Instant};

use allsource_gpu::{FullscreenTriangle, Program, Target};

use super::{
    BenchOptions, EditSplit, Figures, Ms, edit_timings, io, open_at, quantized_ideal, send_edit, settle, variant, write,
};
use crate::worker::{Command, EngineOptions, WorkerPlace};
use crate::{Error, HeadlessEngine, Scene};

pub(super) fn shader_edits(dir: &Path, options: &BenchOptions, figures: &mut Figures) -> Result<String, Error> {
    let period = options.period();
    let main = dir.join("main.glsl");
    write(&main, &variant(0))?;
    let (direct, written, woken, renderer);
    {
        let mut engine = HeadlessEngine::new(Scene::open(dir)?, options.realtime())?;
        settle(&mut engine, 1, period)?;
        direct = edit_timings(&mut engine, options.edits, period, |s| s.live_version, &mut |e, i| {
            send_edit(e, &main, variant(i));
            Ok(())
        })?;
        renderer = engine.renderer();
        // The same edits from outside: an editor's atomic save (a temporary file renamed over the source), picked
        // up by the file watcher. Constants differ from every other variant, so no cache serves them. First the
        // engine writes its own last edit to the file (as the editor's autosave would): a source with edits the
        // disk does not have would be in conflict with an outside write, which is then not built.
        engine.send(Command::Save { path: main.clone(), text: variant(options.edits), overwrite: true });
        engine.compositor_mut().sync(Duration::from_secs(20))?;
        let temp = dir.join(".main.glsl.bench-tmp");
        // When the worker began each rebuild, after its write (read when the next write is due, and at the end).
        let mut last_write: Option<Instant> = None;
        let mut wake_ups = Vec::with_capacity(options.edits);
        let mut woke = |e: &HeadlessEngine, written: Option<Instant>| {
            if let (Some(at), Some(start)) = (e.compositor().status().rebuilt_from_disk_at, written) {
                wake_ups.push(at.saturating_duration_since(start));
            }
        };
        written = edit_timings(&mut engine, options.edits, period, |s| s.live_version, &mut |e, i| {
            woke(e, last_write);
            write(&temp, &variant(i + 2 * options.edits))?;
            last_write = Some(Instant::now());
            std::fs::rename(&temp, &main).map_err(io(&main))
        })?;
        woke(&engine, last_write);
        woken = Ms::of(&wake_ups);
    }
    let floor = Ms::of(&floor(options)?);
    let period_ms = period.as_secs_f64() * 1e3;
    let ideal = quantized_ideal(floor.median(), period_ms);
    let (d, w) = (EditSplit::of(&direct), EditSplit::of(&written));
    figures.extend([
        ("shader_edit_to_pixels_median_ms", d.total.median()),
        ("shader_edit_to_pixels_p90_ms", d.total.at(0.9)),
        ("shader_edit_floor_median_ms", floor.median()),
        ("shader_edit_ideal_ms", ideal),
        ("shader_edit_over_ideal", d.total.median() / ideal),
        ("shader_edit_build_median_ms", d.build),
        ("shader_edit_to_submitted_median_ms", d.submitted),
        ("shader_edit_submitted_to_shown_median_ms", d.to_shown),
        ("outside_write_to_pixels_median_ms", w.total.median()),
        ("outside_write_to_pixels_p90_ms", w.total.at(0.9)),
        ("outside_write_over_ideal", w.total.median() / ideal),
        ("outside_write_rebuild_start_median_ms", woken.median()),
    ]);
    Ok(format!(
        "shader edits: {} edits of a {}x{} full-screen plasma, {} fps (period {period_ms:.1} ms), on {renderer}\n\
         \x20 floor (compile + link + first draw + finish, a context of its own): median {:.1} ms; \
         ideal (first frame at or after it): {ideal:.1} ms\n\
         \x20 edit -> first frame with the new program: median {:.1} ms, p90 {:.1} ms: x{:.2} the ideal \
         (target <= 1.2)\n\
         \x20   {}\n\
         \x20 outside editor's atomic save -> first frame: median {:.1} ms, p90 {:.1} ms: x{:.2} the ideal \
         (the watcher waits for {} ms of quiet; rebuilds started a median {:.1} ms after the write)\n\
         \x20   {}\n",
        options.edits,
        options.size.0,
        options.size.1,
        options.fps,
        floor.median(),
        d.total.median(),
        d.total.at(0.9),
        d.total.median() / ideal,
        d.describe(),
        w.total.median(),
        w.total.at(0.9),
        w.total.median() / ideal,
        crate::watch::DEBOUNCE.as_millis(),
        woken.median(),
        w.describe(),
    ))
}

/// Compile + link + first draw + finish of each variant on a context of its own, on this thread (after the
/// engine has stopped, so the two never compete for the CPU).
fn floor(options: &BenchOptions) -> Result<Vec<Duration>, Error> {
    let context = allsource_gpu::headless()?;
    let gl = &context.gl;
    let target = Target::new(gl, options.size.0, options.size.1)?;
    let triangle = FullscreenTriangle::new(gl)?;
    let mut samples = Vec::with_capacity(options.edits);
    for i in 1..=options.edits {
        // Different constants from the engine run's, so Mesa's in-memory cache cannot serve them either.
        let text = variant(i + options.edits);
        let start = Instant::now();
        let fragment = allsource_shader::prepare(Path::new("bench.glsl"), &text, &mut |_| Err(String::new()));
        let program = Program::build_simple(gl, &fragment.driver_stages(true))
            .map_err(|e| Error::Gpu(allsource_gpu::GpuError::Gl(e)))?;
        target.frame_target().bind(gl);
        program.use_program(gl);
        program.set_f32(gl, "u_time", 1.0);
        program.set_vec(gl, "u_resolution", &[options.size.0 as f32, options.size.1 as f32]);
        triangle.draw(gl);
        let fence = allsource_gpu::Fence::insert(gl)?;
        fence.wait(gl, Duration::from_secs(20));
        samples.push(start.elapsed());
        fence.delete(gl);
        program.delete(gl);
    }
    target.delete(gl);
    Ok(samples)
}

/// Keystrokes through the editor: from a key typed into the open buffer (the egui pass that takes it, the edit
/// it sends) to the first composed frame drawn with the program it produced, against the shader group's ideal.
/// Then the open editor's frame cost: compose + GPU finish per frame with the editor shown, against hidden.
pub(super) fn editor(dir: &Path, options: &BenchOptions, figures: &mut Figures) -> Result<String, Error> {
    let period = options.period();
    let main = dir.join("main.glsl");
    write(&main, &variant(0))?;
    let mut engine = HeadlessEngine::new(Scene::open(dir)?, options.realtime())?;
    settle(&mut engine, 1, period)?;
    // The caret goes right after the constant's first digit ("+ 1.0 * 1e-6"): every digit typed there is a new,
    // valid constant, so every keystroke is a new program.
    let text = variant(0);
    let (line, column) = text
        .lines()
        .enumerate()
        .find_map(|(n, l)| l.find("4.2) + ").map(|c| (n as u32 + 1, c as u32 + 9)))
        .ok_or_else(|| Error::Io { path: main.clone(), message: "the bench shader has no constant".into() })?;
    open_at(&mut engine, &main, line, column)?;
    let mut typing_frames = Vec::with_capacity(options.edits);
    let keys = edit_timings(&mut engine, options.edits, period, |s| s.live_version, &mut |e, i| {
        let start = Instant::now();
        e.compositor_mut().overlay.text(&(((i - 1) % 9) + 1).to_string());
        // The frame that takes the keystroke: its egui pass sends the edit; it must not wait for the build.
        e.frame();
        typing_frames.push(start.elapsed());
        Ok(())
    })?;
    let [busy_hidden, busy_shown, _] = editor_frame_cost(&mut engine, 300, |_, _| Ok(()))?;
    drop(engine);
    // The compositor's own cost, with the worker idle between frames (lockstep: it draws a frame when asked, then
    // waits): beside a drawing worker, its llvmpipe threads share the two cores and the figures move by 1-2 ms from
    // run to run. The untimed lockstep frame before each timed compose brings a new worker frame. The worker is a
    // process, as in `allsource run`: its frames are the compositor's own textures, copied in with a blit (a worker
    // thread's are drawn, 1.2 ms more a frame at 640x360 on llvmpipe, with the editor shown or not).
    let quiet = EngineOptions { scene_place: WorkerPlace::Process(None), ..options.lockstep() };
    let mut engine = HeadlessEngine::new(Scene::open(dir)?, quiet)?;
    engine.frame_lockstep(0)?;
    open_at(&mut engine, &main, line, column)?;
    let passes = engine.compositor_mut().overlay.all_passes();
    let [hidden, shown, active] = editor_frame_cost(&mut engine, 300, |e, i| {
        e.frame_lockstep(i as u64 + 1)?;
        e.finish();
        Ok(())
    })?;
    let passes = engine.compositor_mut().overlay.all_passes() - passes;
    let (blended, copied) = engine.compositor_mut().overlay.layer_shares();
    drop(engine);
    let k = EditSplit::of(&keys);
    let typing = Ms::of(&typing_frames);
    let ideal = figures.get("shader_edit_ideal_ms");
    let direct = figures.get("shader_edit_to_pixels_median_ms");
    let (hidden, shown, active) = (Ms::of(&hidden), Ms::of(&shown), Ms::of(&active));
    let (busy_hidden, busy_shown) = (Ms::of(&busy_hidden), Ms::of(&busy_shown));
    figures.extend([
        ("keystroke_to_pixels_median_ms", k.total.median()),
        ("keystroke_to_pixels_p90_ms", k.total.at(0.9)),
        ("keystroke_over_ideal", k.total.median() / ideal),
        ("keystroke_over_direct_edit", k.total.median() / direct),
        ("keystroke_frame_max_ms", typing.max()),
        ("editor_frame_hidden_median_ms", hidden.median()),
        ("editor_frame_hidden_p99_ms", hidden.at(0.99)),
        ("editor_frame_shown_median_ms", shown.median()),
        ("editor_frame_shown_p99_ms", shown.at(0.99)),
        ("editor_frame_active_median_ms", active.median()),
        ("editor_frame_active_p99_ms", active.at(0.99)),
        ("editor_idle_cost_ms", shown.median() - hidden.median()),
        ("editor_idle_cost_beside_worker_ms", busy_shown.median() - busy_hidden.median()),
        ("editor_frame_cost_passes", passes as f64),
        ("editor_layer_blended_share", blended),
        ("editor_layer_copied_share", copied),
    ]);
    Ok(format!(
        "editor: {} keystrokes into the open shader, {} fps\n\
         \x20 keystroke -> first frame with the new program: median {:.1} ms, p90 {:.1} ms: x{:.2} the ideal \
         {ideal:.1} ms, x{:.2} a direct edit\n\
         \x20   {}\n\
         \x20 the frame that takes the keystroke (egui pass + edit sent, no build): max {:.2} ms\n\
         \x20 compose + GPU finish, 300 frames each, the worker (a process) idle: editor hidden median {:.2} ms, p99 {:.2} ms; \
         shown and idle median {:.2} ms, p99 {:.2} ms (+{:.2} ms); shown with the pointer moving median {:.2} ms, \
         p99 {:.2} ms; {passes} egui passes in the 900 frames; the layer is copied over {:.0}% of the frame (the \
         tiles it painted opaque) and blended over {:.0}% (the other tiles it drew in)\n\
         \x20 the same beside the worker (a thread) drawing in real time: hidden median {:.2} ms, shown and idle {:.2} ms \
         (+{:.2} ms)\n",
        options.edits,
        options.fps,
        k.total.median(),
        k.total.at(0.9),
        k.total.median() / ideal,
        k.total.median() / direct,
        k.describe(),
        typing.max(),
        hidden.median(),
        hidden.at(0.99),
        shown.median(),
        shown.at(0.99),
        shown.median() - hidden.median(),
        active.median(),
        active.at(0.99),
        copied * 100.0,
        blended * 100.0,
        busy_hidden.median(),
        busy_shown.median(),
        busy_shown.median() - busy_hidden.median(),
    ))
}

/// Compose + GPU finish per frame, `frames` each with the editor hidden, shown and idle (nothing new to lay out:
/// its last paint is drawn again), and shown with the pointer moving over it every frame (a pass and a paint each
/// frame), in turn in blocks of 10, so drift in the machine's speed hits all three. `before(engine, i)` runs
/// untimed before timed frame `i` (a lockstep frame that brings the worker's next frame).
fn editor_frame_cost(
    engine: &mut HeadlessEngine,
    frames: usize,
    mut before: impl FnMut(&mut HeadlessEngine, usize) -> Result<(), Error>,
) -> Result<[Vec<Duration>; 3], Error> {
    let mut times: [Vec<Duration>; 3] = Default::default();
    let (w, h) = engine.compositor_mut().size();
    let mut n = 0;
    for block in 0..frames * 3 / 10 {
        let mode = block % 3;
        engine.compositor_mut().overlay.editor.visible = mode > 0;
        before(engine, n)?;
        n += 1;
        engine.frame_finished();
        for i in 0..10 {
            before(engine, n)?;
            n += 1;
            if mode == 2 {
                let x = (w / 2) as f32 + (i % 2) as f32 * 7.0;
                engine.compositor_mut().overlay.pointer_moved(x, (h / 2) as f32, (w, h));
            }
            let start = Instant::now();
            engine.frame_finished();
            times[mode].push(start.elapsed());
        }
    }
    Ok(times)
}
