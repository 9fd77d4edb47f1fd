//! Live shaders through real frames: edits that build replace the program, edits that fail keep it (pixels prove
//! which is live) and report the exact file, line and column; undo and redo; includes; Shadertoy mode; every
//! stage kind in one file; user uniform values across rebuilds; the previous frame as a texture.

use std::time::Duration;

use allsource_engine::worker::Command;
use allsource_engine::{Clock, EngineOptions, HeadlessEngine, Scene};
use allsource_gpu::UniformValue;

mod common;
use common::{Fixture, scene_dir};

/// Blue, and past a 100 ms GPU timeout on any GPU.
const SLOW: &str = common::GPU_TIMEOUT_SHADER;

fn solid(r: f32) -> String {
    format!("out vec4 o;\nvoid main() {{\n    o = vec4({r:.1}, 0.0, 0.0, 1.0);\n}}\n")
}

#[test]
fn a_broken_edit_keeps_the_old_program_on_screen_and_points_at_the_error() {
    let mut f = Fixture::new("broken", &[("main.glsl", &solid(1.0))]);
    assert_eq!(f.step(), [255, 0, 0, 255]);
    // Syntax error: a missing semicolon on line 3.
    let pixel = f.edit("main.glsl", "out vec4 o;\nvoid main() {\n    float x = 0.5 o = vec4(x);\n}\n");
    assert_eq!(pixel, [255, 0, 0, 255], "the last good program is still drawing");
    let d = &f.status().diagnostics[0];
    assert_eq!((d.file.clone(), d.line, d.column, d.stage), (f.path("main.glsl"), Some(3), Some(19), Some("fragment")));
    assert!(f.status().failing);
    // Type error on line 3, column 10.
    f.edit("main.glsl", "out vec4 o;\nvoid main() {\n    o = vec3(1.0);\n}\n");
    assert_eq!(f.step(), [255, 0, 0, 255]);
    let d = &f.status().diagnostics[0];
    assert_eq!((d.line, d.column), (Some(3), Some(5)), "{d}");
    // A link error: the fragment stage reads an input no vertex stage writes. It points at the declaration.
    f.edit("main.glsl", "out vec4 o;\nin vec4 missing;\nvoid main() { o = missing; }\n");
    assert_eq!(f.step(), [255, 0, 0, 255]);
    let d = &f.status().diagnostics[0];
    assert_eq!((d.file.clone(), d.line, d.stage), (f.path("main.glsl"), Some(2), Some("fragment")), "{d}");
    assert!(d.message.contains("missing"), "{d}");
    // A good edit replaces the program.
    assert_eq!(f.edit("main.glsl", &solid(0.5)), [128, 0, 0, 255]);
    assert!(!f.status().failing && f.status().diagnostics.is_empty());
}

#[test]
fn errors_land_on_their_line_inside_an_included_file_and_inside_a_stage_section() {
    let main = "#include \"lib/colour.glsl\"\nout vec4 o;\nvoid main() { o = vec4(colour(), 1.0); }\n";
    std::fs::create_dir_all(std::env::temp_dir()).unwrap();
    let mut f = Fixture::new("include", &[("main.glsl", main)]);
    std::fs::create_dir_all(f.dir.join("lib")).unwrap();
    std::fs::write(f.dir.join("lib/colour.glsl"), "vec3 colour() {\n    return vec3(0.0, 1.0, 0.0);\n}\n").unwrap();
    // main.glsl did not build at first (its include was missing): the one error is on the include line.
    let diagnostics = &f.status().diagnostics;
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let d = &diagnostics[0];
    assert_eq!((d.file.clone(), d.line), (f.path("main.glsl"), Some(1)), "{d}");
    assert!(d.message.starts_with("cannot include `lib/colour.glsl`: cannot read the file"), "{d}");
    // Writing the included file rebuilds its includer.
    assert_eq!(f.step(), [0, 255, 0, 255]);
    assert_eq!(f.status().live_version, Some(2));
    std::fs::write(f.dir.join("lib/colour.glsl"), "vec3 colour() {\n    return vec3(0.0, 1.0, 0.0) * nope;\n}\n")
        .unwrap();
    assert_eq!(f.step(), [0, 255, 0, 255], "the last good program stays");
    let d = &f.status().diagnostics[0];
    assert_eq!(d.file, f.dir.join("lib/colour.glsl"));
    assert_eq!((d.line, d.column), (Some(2), Some(34)), "{d}");

    let sections = "#version 450 core\n// common\n#pragma stage vertex\nvoid main() {\n    \
                    gl_Position = vec4(0.0);\n}\n#pragma stage fragment\nout vec4 o;\nvoid main() {\n    o = 1;\n}\n";
    f.edit("main.glsl", sections);
    let d = &f.status().diagnostics[0];
    assert_eq!((d.file.clone(), d.line, d.stage), (f.path("main.glsl"), Some(10), Some("fragment")), "{d}");
}

#[test]
fn undo_and_redo_move_the_live_version_and_the_pixels_follow() {
    let mut f = Fixture::new("undo", &[("main.glsl", &solid(1.0))]);
    f.edit("main.glsl", &solid(0.5));
    f.edit("main.glsl", "this does not build");
    assert_eq!(f.edit("main.glsl", &solid(0.2)), [51, 0, 0, 255]);
    let main = f.path("main.glsl");
    f.engine.send(Command::Undo { path: main.clone() });
    assert_eq!(f.step(), [128, 0, 0, 255], "undo skips the version that failed");
    f.engine.send(Command::Undo { path: main.clone() });
    assert_eq!(f.step(), [255, 0, 0, 255]);
    f.engine.send(Command::Redo { path: main.clone() });
    assert_eq!(f.step(), [128, 0, 0, 255]);
    f.engine.send(Command::Redo { path: main });
    assert_eq!(f.step(), [51, 0, 0, 255]);
    assert_eq!(f.status().shown_version, Some(4));
}

#[test]
fn a_shadertoy_shader_renders_with_its_uniforms() {
    let toy = "void mainImage(out vec4 fragColor, in vec2 fragCoord) {\n    \
               fragColor = vec4(fragCoord / iResolution.xy, fract(iTime), 1.0);\n}\n";
    let mut f = Fixture::new("toy", &[("main.glsl", toy)]);
    for _ in 0..4 {
        f.step();
    }
    // Frame 4 at 10 fps: iTime 0.4. Centre pixel (8.5, 7.5 from the bottom) of 16x16.
    let image = f.engine.image();
    assert_eq!(image.pixel(8, 8), [135, 120, 102, 255]);
    assert_eq!(image.pixel(0, 15), [8, 8, 102, 255]);
}

#[test]
fn older_shadertoy_spellings_run_with_a_warning_and_a_main_of_its_own_is_refused_on_its_line() {
    // texture2D and iGlobalTime, as shaders written before Shadertoy's WebGL 2 move spell them; and iSampleRate.
    let toy = "void mainImage(out vec4 fragColor, in vec2 fragCoord) {\n    \
               vec4 previous = texture2D(iChannel0, fragCoord / iResolution.xy);\n    \
               fragColor = vec4(iSampleRate / 88200.0, fract(iGlobalTime), previous.b, 1.0);\n}\n";
    let mut f = Fixture::new("toy-legacy", &[("main.glsl", toy)]);
    for _ in 0..4 {
        f.step();
    }
    let status = f.status();
    assert_eq!(status.live_version, Some(1));
    let warnings: Vec<(Option<u32>, &str)> = status.diagnostics.iter().map(|d| (d.line, d.message.as_str())).collect();
    assert_eq!(
        warnings,
        [
            (Some(2), "`texture2D` is an older spelling: it is read as `texture` (write `texture` instead)"),
            (Some(3), "`iGlobalTime` is an older spelling: it is read as `iTime` (write `iTime` instead)"),
        ]
    );
    assert!(status.diagnostics.iter().all(|d| !d.is_error()));
    // Frame 4 at 10 fps: iTime 0.4; iSampleRate 44100; the previous frame's blue is 0.
    assert_eq!(f.engine.image().pixel(8, 8), [128, 102, 0, 255]);

    let hosted = format!("{toy}\nvoid main() {{\n    mainImage(gl_FragColor, gl_FragCoord.xy);\n}}\n");
    std::fs::write(f.path("main.glsl"), hosted).unwrap();
    f.step();
    let status = f.status();
    let error = status.diagnostics.iter().find(|d| d.is_error()).expect("the own main is refused");
    assert_eq!(error.line, Some(6), "{error}");
    assert!(error.message.contains("remove this main()"), "{error}");
    assert_eq!(status.live_version, Some(1), "version 1 stays live");
}

#[test]
fn every_stage_kind_in_one_file_draws() {
    let shader = "#version 450 core
#pragma draw patches 3
#pragma stage vertex
void main() {
    vec2 p[3] = vec2[](vec2(-1.0, -1.0), vec2(3.0, -1.0), vec2(-1.0, 3.0));
    gl_Position = vec4(p[gl_VertexID], 0.0, 1.0);
}
#pragma stage tess_control
layout(vertices = 3) out;
void main() {
    gl_out[gl_InvocationID].gl_Position = gl_in[gl_InvocationID].gl_Position;
    gl_TessLevelOuter[0] = 2.0; gl_TessLevelOuter[1] = 2.0; gl_TessLevelOuter[2] = 2.0; gl_TessLevelInner[0] = 2.0;
}
#pragma stage tess_evaluation
layout(triangles) in;
void main() {
    gl_Position = gl_TessCoord.x * gl_in[0].gl_Position + gl_TessCoord.y * gl_in[1].gl_Position
                + gl_TessCoord.z * gl_in[2].gl_Position;
}
#pragma stage geometry
layout(triangles) in;
layout(triangle_strip, max_vertices = 3) out;
out vec3 colour;
void main() {
    for (int i = 0; i < 3; i++) { gl_Position = gl_in[i].gl_Position; colour = vec3(0.0, 0.0, 1.0); EmitVertex(); }
}
#pragma stage fragment
in vec3 colour;
out vec4 o;
void main() { o = vec4(colour, 1.0); }
";
    let mut f = Fixture::new("stages", &[("main.glsl", shader)]);
    assert!(f.status().diagnostics.is_empty(), "{:?}", f.status().diagnostics);
    assert_eq!(f.step(), [0, 0, 255, 255]);
}

#[test]
fn a_uniform_value_set_by_the_user_survives_rebuilds_while_name_and_type_match() {
    let text = |extra: &str| {
        format!("uniform float gain;\nout vec4 o;\nvoid main() {{ o = vec4(gain, 0.0, 0.0, 1.0); }}{extra}\n")
    };
    let mut f = Fixture::new("uniforms", &[("main.glsl", &text(""))]);
    assert_eq!(f.step(), [0, 0, 0, 255]);
    let main = f.path("main.glsl");
    f.engine.send(Command::SetUniform {
        path: main.clone(),
        name: "gain".into(),
        value: UniformValue::Float(vec![0.6]),
    });
    assert_eq!(f.step(), [153, 0, 0, 255]);
    assert_eq!(f.edit("main.glsl", &text("\n// an edit")), [153, 0, 0, 255], "the value outlived the rebuild");
    f.engine.send(Command::SetUniform { path: main, name: "gain".into(), value: UniformValue::Int(vec![1]) });
    f.step();
    assert_eq!(f.status().uniform_answers, vec![("gain".to_owned(), true), ("gain".to_owned(), false)]);
    // Same name, another type: the value is not applied.
    assert_eq!(
        f.edit("main.glsl", "uniform int gain;\nout vec4 o;\nvoid main() { o = vec4(float(gain), 0.0, 0.0, 1.0); }\n"),
        [0, 0, 0, 255]
    );
}

#[test]
fn the_previous_frame_is_a_texture_the_next_frame_reads() {
    let accumulate = "uniform sampler2D u_previous;\nin vec2 uv;\nout vec4 o;\n\
                      void main() { o = texture(u_previous, uv) + vec4(10.0 / 255.0, 0.0, 0.0, 1.0); }\n";
    let mut f = Fixture::new("feedback", &[("main.glsl", accumulate)]);
    for _ in 0..4 {
        f.step();
    }
    assert_eq!(f.engine.image().pixel(3, 3), [50, 0, 0, 255], "five frames, each adding 10 to the last");
}

#[test]
fn a_deleted_or_non_utf8_file_keeps_the_last_good_version_with_a_diagnostic() {
    let mut f = Fixture::new("files", &[("main.glsl", &solid(1.0))]);
    std::fs::write(f.path("main.glsl"), [0x6f, 0x75, 0x74, 0xff, 0xfe, 0x0a]).unwrap();
    assert_eq!(f.step(), [255, 0, 0, 255]);
    assert!(f.status().diagnostics[0].message.contains("not UTF-8"), "{:?}", f.status().diagnostics);
    std::fs::remove_file(f.path("main.glsl")).unwrap();
    assert_eq!(f.step(), [255, 0, 0, 255]);
    assert!(f.status().diagnostics[0].message.contains("cannot read"), "{:?}", f.status().diagnostics);
    std::fs::write(f.path("main.glsl"), solid(0.2)).unwrap();
    assert_eq!(f.step(), [51, 0, 0, 255], "written again, it rebuilds");
}

#[test]
fn a_shader_whose_frames_blow_the_gpu_timeout_is_reverted() {
    // On a worker thread, and in a worker process (where the process's frame copier times the frame).
    let process = allsource_engine::WorkerPlace::Process(Some(env!("CARGO_BIN_EXE_allsource-worker").into()));
    for place in [allsource_engine::WorkerPlace::Thread, process] {
        a_shader_whose_frames_blow_the_gpu_timeout_is_reverted_on(place);
    }
}

fn a_shader_whose_frames_blow_the_gpu_timeout_is_reverted_on(place: allsource_engine::WorkerPlace) {
    let _gpu = one_gpu_timeout_test_at_a_time();
    let dir = scene_dir("gpu-timeout", &[("main.glsl", &solid(1.0))]);
    let options = EngineOptions {
        size: (64, 64),
        fps: 10.0,
        clock: Clock::Lockstep,
        gpu_timeout: Duration::from_millis(100),
        scene_place: place,
        ..EngineOptions::default()
    };
    let mut engine = HeadlessEngine::new(Scene::open(&dir).unwrap(), options).unwrap();
    engine.frame_lockstep(0).unwrap();
    assert_eq!(engine.image().pixel(8, 8), [255, 0, 0, 255]);
    engine.send(Command::Edit { path: dir.join("main.glsl"), text: SLOW.to_owned() });
    engine.frame_lockstep(1).unwrap();
    // Lockstep waits for the slow frame: the compositor reports it, and the worker reverts before the next frame.
    engine.frame_lockstep(2).unwrap();
    let status = engine.compositor().status();
    let d = status.diagnostics.iter().find(|d| d.message.contains("GPU timeout")).expect("the timeout is reported");
    assert!(d.message.contains("version 2 reverted"), "{d}");
    engine.frame_lockstep(3).unwrap();
    assert_eq!(engine.image().pixel(8, 8), [255, 0, 0, 255], "version 1 draws again");
    assert_eq!(engine.compositor().status().live_version, Some(1));
}

#[test]
fn a_lost_context_gets_a_new_worker_and_context_running_the_last_good_version() {
    let mut f = Fixture::new("context-lost", &[("main.glsl", &solid(0.2))]);
    assert_eq!(f.step(), [51, 0, 0, 255]);
    // The file on disk is broken now: version 2 fails and version 1 stays live.
    std::fs::write(f.path("main.glsl"), "this is not GLSL").unwrap();
    assert_eq!(f.step(), [51, 0, 0, 255]);
    f.engine.send(Command::DebugLoseContext);
    // The lockstep frame is asked again of the new worker: no error, no hang.
    assert_eq!(f.step(), [51, 0, 0, 255], "the new worker runs the last good version, not the broken file");
    let status = f.status();
    assert_eq!(status.replacements, 1);
    // The new worker read the file too: its newest version (the broken one) reports its error again.
    assert!(status.diagnostics.iter().any(|d| d.message.contains("syntax error")), "{:?}", status.diagnostics);
    // The broken file still builds as the next version (and fails), and fixing it goes live.
    std::fs::write(f.path("main.glsl"), solid(0.6)).unwrap();
    assert_eq!(f.step(), [153, 0, 0, 255]);
}

/// The GPU-timeout tests take the GPU in turn: llvmpipe renders on the CPU, and one test's slow frame (a second of
/// both cores) would starve another test's quick frames past their 100 ms.
fn one_gpu_timeout_test_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static GPU: std::sync::Mutex<()> = std::sync::Mutex::new(());
    GPU.lock().unwrap_or_else(|e| e.into_inner())
}

/// A real-time engine at 64x64 with a 100 ms GPU timeout showing version 1 (red) of main.glsl.
fn realtime_red(name: &str) -> (HeadlessEngine, std::path::PathBuf) {
    let dir = scene_dir(name, &[("main.glsl", &solid(1.0))]);
    let options = EngineOptions {
        size: (64, 64),
        fps: 60.0,
        clock: Clock::Realtime,
        gpu_timeout: Duration::from_millis(100),
        ..EngineOptions::default()
    };
    let mut engine = HeadlessEngine::new(Scene::open(&dir).unwrap(), options).unwrap();
    common::wait_for(&mut engine, [255, 0, 0, 255], 60);
    (engine, dir)
}

/// As [`realtime_red`], then sent the slow shader as version 2.
fn realtime_with_a_slow_edit(name: &str) -> (HeadlessEngine, std::path::PathBuf) {
    let (engine, dir) = realtime_red(name);
    engine.send(Command::Edit { path: dir.join("main.glsl"), text: SLOW.to_owned() });
    (engine, dir)
}

#[test]
fn in_real_time_the_worker_reverts_a_shader_past_the_gpu_timeout_without_the_compositor_waiting() {
    let _gpu = one_gpu_timeout_test_at_a_time();
    let (mut engine, dir) = realtime_red("gpu-timeout-realtime");
    // The slow shader with its loop count a uniform, 0 at first: version 2 goes live and draws quickly (blue), so
    // the driver has compiled what it needs before the slow frames begin.
    let slow = SLOW.replacen("? 60000 : 0", "? work : 0", 1);
    assert_ne!(slow, SLOW);
    let main = dir.join("main.glsl");
    // On llvmpipe the GPU is the CPU: on a machine busy with other tests even a quick frame can pass a 100 ms
    // timeout, and version 2 is reverted before the slow frames begin (the uniform then belongs to no live
    // program). Then it is sent again (a few times at most).
    for attempt in 1.. {
        let text = format!("uniform int work;\n{slow}// attempt {attempt}\n");
        engine.send(Command::Edit { path: main.clone(), text });
        common::wait_for(&mut engine, [0, 0, 255, 255], 60);
        let asked = engine.compositor().status().uniform_answers.len();
        engine.send(Command::SetUniform {
            path: main.clone(),
            name: "work".into(),
            value: UniformValue::Int(vec![60000]),
        });
        let start = std::time::Instant::now();
        while engine.compositor().status().uniform_answers.len() == asked {
            assert!(start.elapsed() < Duration::from_secs(30), "the worker never answered the uniform");
            engine.frame();
            std::thread::sleep(Duration::from_millis(5));
        }
        if engine.compositor().status().uniform_answers[asked] == ("work".to_owned(), true) {
            break;
        }
        assert!(attempt < 5, "version 2 was reverted before its slow frames {attempt} times");
    }
    // Once the worker has the value, its next frame is slow: at least 160 ms on any GPU, about 1 s on llvmpipe.
    // Meanwhile the compositor composes frames showing the frame before it, for as long as the slow one is
    // outstanding; one that waited for it would show a new frame at nearly every compose.
    let start = std::time::Instant::now();
    let (mut runs, mut timed_out, mut shown_since) = (Vec::<u32>::new(), None, None);
    let mut last = None;
    loop {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out: {timed_out:?}; composes per frame {runs:?}");
        std::thread::sleep(Duration::from_millis(5));
        engine.frame();
        let status = engine.compositor().status();
        match runs.last_mut() {
            Some(run) if last == Some(status.shown) => *run += 1,
            _ => runs.push(1),
        }
        last = Some(status.shown);
        if timed_out.is_none() {
            timed_out = status.diagnostics.iter().find(|d| d.message.contains("GPU timeout")).map(|d| d.to_string());
            shown_since = Some(status.worker_frames_shown);
        }
        // Done once frames flow again after the timeout.
        if timed_out.is_some() && shown_since.is_some_and(|n| status.worker_frames_shown >= n + 2) {
            break;
        }
    }
    let longest = runs.iter().copied().max().unwrap_or(0);
    eprintln!("composes per worker frame shown: {runs:?}");
    assert!(longest >= 10, "at most {longest} composes showed one frame while the slow one was drawn: {runs:?}");
    // Which version: see the next test.
    let message = timed_out.unwrap();
    assert!(message.contains("past the 100 ms GPU timeout: version ") && message.ends_with(" reverted"), "{message}");
}

#[test]
fn in_real_time_after_a_gpu_timeout_the_version_before_draws_again() {
    let _gpu = one_gpu_timeout_test_at_a_time();
    let (mut engine, _) = realtime_with_a_slow_edit("gpu-timeout-realtime-after");
    let start = std::time::Instant::now();
    while !engine.compositor().status().diagnostics.iter().any(|d| d.message.contains("GPU timeout")) {
        assert!(start.elapsed() < Duration::from_secs(30), "no GPU timeout reported");
        engine.frame();
        std::thread::sleep(Duration::from_millis(5));
    }
    // Once the slow frame has left the GPU, version 1 draws again; it is live, and the slow version alone was reverted.
    common::wait_for(&mut engine, [255, 0, 0, 255], 60);
    std::thread::sleep(Duration::from_millis(500));
    common::wait_for(&mut engine, [255, 0, 0, 255], 60);
    let status = engine.compositor().status();
    let reverted: Vec<&str> = status.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert!(!reverted.is_empty() && reverted.iter().all(|m| m.ends_with("version 2 reverted")), "{reverted:?}");
    assert_eq!(status.live_version, Some(1));
}

#[test]
fn imouse_follows_the_pointer_with_shadertoys_signs() {
    // The left half shows iMouse.xy / 16 in red and green, the right half 0.5 + iMouse.zw / 32.
    let toy = "void mainImage(out vec4 fragColor, in vec2 fragCoord) {\n    \
               fragColor = fragCoord.x < 8.0 ? vec4(iMouse.xy / 16.0, 0.0, 1.0) : vec4(0.5 + iMouse.zw / 32.0, 0.0, 1.0);\n}\n";
    let dir = scene_dir("toy-mouse", &[("main.glsl", toy)]);
    let options = EngineOptions { size: (16, 16), clock: Clock::Lockstep, store: false, ..EngineOptions::default() };
    let mut engine = HeadlessEngine::new(Scene::open(&dir).unwrap(), options).unwrap();
    let mut frame = 0;
    // (iMouse.xy, iMouse.zw) as the frame shows them, in bytes.
    let mut step = |engine: &mut HeadlessEngine, commands: Vec<Command>| {
        for c in commands {
            engine.send(c);
        }
        engine.frame_lockstep(frame).unwrap();
        frame += 1;
        let (xy, zw) = (engine.image().pixel(2, 8), engine.image().pixel(12, 8));
        ([xy[0], xy[1]], [zw[0], zw[1]])
    };
    assert_eq!(step(&mut engine, vec![Command::Mouse { x: 4.0, y: 4.0 }]), ([0, 0], [128, 128]), "no click yet: zero");
    // Down at (4, 4) from the top-left, (4, 12) from the bottom-left: z and w positive on the click's frame.
    assert_eq!(step(&mut engine, vec![Command::MouseButton { button: 1, down: true }]), ([64, 191], [159, 223]));
    // Dragged to (8, 2) while down: xy follow, z stays positive, w is negative after the click's frame.
    assert_eq!(step(&mut engine, vec![Command::Mouse { x: 8.0, y: 2.0 }]), ([128, 223], [159, 32]));
    // Up, then moved: xy stay where the drag ended, z turns negative.
    let up = vec![Command::MouseButton { button: 1, down: false }, Command::Mouse { x: 1.0, y: 1.0 }];
    assert_eq!(step(&mut engine, up), ([128, 223], [96, 32]));
}
