//! The editor, driven by scripted sessions (`run --script`) in lockstep: typing into a shader and a module, the
//! error layer, undo/redo of versions, the toggle key on a non-US layout, and the tweak bar.

mod common;

use std::time::Duration;

use allsource_engine::{EngineOptions, Error};

/// The editor's tests run at 640x400, 10 frames a second.
fn options() -> EngineOptions {
    EngineOptions { size: (640, 400), fps: 10.0, ..EngineOptions::default() }
}

/// Runs `text` on a scene of `files`; returns the result and what the console printed.
fn script(name: &str, files: &[(&str, &str)], text: &str) -> (Result<(), Error>, Vec<String>) {
    common::script(name, files, options(), text)
}

fn ok(name: &str, files: &[(&str, &str)], text: &str) -> Vec<String> {
    common::script_ok(name, files, options(), text)
}

const SHADER: &str = "#define RED vec3(1.0, 0.0, 0.0)
#define GRN vec3(0.0, 1.0, 0.0)
const vec3 C = RED;
layout(location = 0) out vec4 colour;
void main() { colour = vec4(C, 1.0); }
";

/// (600, 100) lies right of the code and above the console: the scene shows through the open editor there.
#[test]
fn typing_into_a_shader_keeps_the_last_good_output_until_the_fix_and_undo_redo_restore_pixels() {
    let out = ok(
        "type-shader",
        &[("main.glsl", SHADER)],
        "open main.glsl
         expect-pixel 600 100 255 0 0
         goto 3 16
         key Delete
         key Delete
         key Delete
         frames 1
         expect-diagnostic main.glsl 3
         # the error is on screen, and so is the last good output
         expect-pixel 600 100 255 0 0
         type GR
         frames 1
         expect-diagnostic main.glsl 3
         expect-pixel 600 100 255 0 0
         type N
         frames 1
         expect-no-diagnostics
         expect-pixel 600 100 0 255 0
         undo main.glsl
         frames 1
         expect-pixel 600 100 255 0 0
         redo main.glsl
         frames 1
         expect-pixel 600 100 0 255 0
         versions main.glsl",
    );
    let versions: Vec<&String> = out.iter().filter(|l| l.starts_with("version ")).collect();
    // The file, three deletes and two letters that fail, and GRN.
    assert_eq!(versions.len(), 7, "{out:#?}");
    assert!(versions[0].contains("ok") && versions[6].contains("ok (live)"), "{versions:?}");
    assert!(versions[1..6].iter().all(|v| v.contains("failed")), "{versions:?}");
}

#[test]
fn an_error_stops_the_script_with_its_line_and_a_diagnostic_at_the_right_line() {
    let (result, out) = script(
        "script-failure",
        &[("main.glsl", SHADER)],
        "open main.glsl\ngoto 5 15\ntype oops \nexpect-diagnostic main.glsl 5\nexpect-no-diagnostics\nframes 1",
    );
    let error = result.unwrap_err().to_string();
    assert!(error.starts_with("script line 5: expected no errors"), "{error}");
    assert!(error.contains("main.glsl:5:"), "{error}");
    assert!(out.iter().any(|l| l.contains("main.glsl:5:") && l.contains("error")), "{out:#?}");

    let (result, _) = script("script-unknown", &[("main.glsl", SHADER)], "frames 1\n\nfly away\n");
    assert_eq!(
        result.unwrap_err().to_string().lines().next().unwrap_or(""),
        "script line 3: unknown command `fly`; commands: open, goto, type, key, layout, frames, click, wheel, resize, \
         screenshot, diagnostics, undo, redo, versions, uniform, lua, stats, budget, reload, unload, preview, promote, reject, \
         wait-preview, debug-preview, debug-scene, expect-diagnostic, expect-no-diagnostics, expect-pixel, save, placement, quit"
    );

    // A key winit has no name for (X11's spelling) stops the script rather than doing nothing; winit's does not.
    let keys = "open main.glsl\ngoto 5 15\nkey Backspace\nkey ctrl+z\nkey BackSpace\nframes 1\n";
    let (result, _) = script("script-unknown-key", &[("main.glsl", SHADER)], keys);
    let error = result.unwrap_err().to_string();
    assert!(error.starts_with("script line 5: unknown key `BackSpace`: keys are winit's names"), "{error}");
}

#[test]
fn scripted_punctuation_keys_type_their_characters_in_the_chosen_layout() {
    // A comment line at the top of the module, typed key by key, then saved.
    let keys = "Minus Comma Period Slash Semicolon Quote BracketLeft shift+Digit9 shift+Digit0 shift+Equal Equal Space";
    let presses: String = keys.split(' ').map(|k| format!("key {k}\n")).collect();
    let de = "key Semicolon\nkey shift+Digit7\n";
    let text = format!(
        "open main.lua\ngoto 1 1\ntype --\nkey Space\n{presses}layout de\n{de}layout fr\nkey KeyM\nkey Enter\nsave\n"
    );
    ok("script-punctuation", &[("main.lua", MODULE)], &text);
    let dir = common::scene_dir_path("script-punctuation");
    let saved = std::fs::read_to_string(dir.join("main.lua")).unwrap();
    assert_eq!(saved.lines().next(), Some("-- -,./;'[()+= ö/,"), "{saved}");
}

const MODULE: &str = "local M = {}
function M.draw()
  gfx.clear(1, 0, 0, 1)
end
return M
";

#[test]
fn typing_into_a_lua_module_compiles_each_keystroke_runs_after_a_pause_and_undo_redo_restore_pixels() {
    let out = ok(
        "type-module",
        &[("main.lua", MODULE)],
        "open main.lua
         expect-pixel 600 100 255 0 0
         goto 3 13
         key Delete
         frames 1
         expect-diagnostic main.lua 3
         expect-pixel 600 100 255 0 0
         type 0
         goto 3 16
         key Delete
         frames 40
         # `gfx.clear(0, 0, 0, 1)` compiled for a moment, but the typist went on before pausing: it never ran
         expect-diagnostic main.lua 3
         expect-pixel 600 100 255 0 0
         type 1
         frames 1
         expect-no-diagnostics
         # it compiles, and waits for the pause (0.5 s of scene time) before it runs
         expect-pixel 600 100 255 0 0
         frames 30
         expect-pixel 600 100 0 255 0
         undo main.lua
         frames 1
         expect-pixel 600 100 255 0 0
         redo main.lua
         frames 1
         expect-pixel 600 100 0 255 0
         lua print('from the console') return 6 * 7",
    );
    assert!(out.iter().any(|l| l == "42"), "{out:#?}");
}

#[test]
fn the_key_under_escape_toggles_the_editor_on_a_french_layout_without_typing() {
    let out = ok(
        "toggle-fr",
        &[("main.glsl", SHADER)],
        "layout fr
         open main.glsl
         frames 1
         # the tab bar covers the top-left corner while the editor is shown
         screenshot shown.png
         key Backquote
         frames 1
         expect-pixel 4 4 255 0 0
         key Backquote
         frames 1
         versions main.glsl
         # the same keyboard types: Digit2 is é on AZERTY, and that is an edit (a new version)
         goto 3 1
         key Digit2
         versions main.glsl",
    );
    let versions: Vec<&String> = out.iter().filter(|l| l.starts_with("version ")).collect();
    assert_eq!(versions, ["version 1: ok (live)", "version 1: ok (live)", "version 2: failed, 1 errors"], "{out:#?}");
    let dir = std::env::temp_dir().join(format!("allsource-engine-{}-toggle-fr", std::process::id()));
    let shown = png_pixel(&dir.join("shown.png"), 4, 4);
    // The editor's opaque panel fill (14, 16, 20) where the scene's red was.
    assert_eq!(shown, [14, 16, 20], "the editor's tab bar over the corner");
}

#[test]
fn the_first_toggle_opens_the_scenes_main_source_with_the_keyboard_in_it() {
    let out = ok(
        "toggle-first",
        &[("main.glsl", SHADER), ("other.glsl", SHADER)],
        "frames 1
         key Backquote
         frames 1
         key KeyX
         frames 1
         diagnostics",
    );
    let errors: Vec<&String> = out.iter().filter(|l| l.contains(": error: ")).collect();
    assert!(
        !errors.is_empty() && errors.iter().all(|l| l.contains("main.glsl:")),
        "the x went into main.glsl: {out:#?}"
    );
}

const TINTED: &str = "layout(location = 0) out vec4 colour;
uniform vec3 tint; // colour default 0,0,1
uniform float gain = 1.0; // range 0 2
void main() { colour = vec4(tint * gain, 1.0); }
";

#[test]
fn a_tweak_bar_change_shows_in_the_pixels_and_survives_a_rebuild() {
    let out = ok(
        "tweak",
        &[("main.glsl", TINTED)],
        "frames 1
         # the annotation's default was applied when the bar first saw the uniform
         expect-pixel 20 200 0 0 255
         uniform tint 1 0.5 0
         frames 1
         expect-pixel 20 200 255 128 0 1
         uniform gain 5
         frames 1
         # clamped to the annotated range: 2 * 0.5 = 1.0
         expect-pixel 20 200 255 255 0 1
         uniform gain 1
         open main.glsl
         goto 4 1
         type // rebuilt\\n
         frames 1
         expect-no-diagnostics
         versions main.glsl
         key Backquote
         frames 1
         expect-pixel 20 200 255 128 0 1",
    );
    // The rebuild happened: each of the 11 keystrokes made a version, the last one built and is live.
    let versions: Vec<&String> = out.iter().filter(|l| l.starts_with("version ")).collect();
    assert_eq!(versions.len(), 12, "{out:#?}");
    assert_eq!((versions[0].as_str(), versions[11].as_str()), ("version 1: ok", "version 12: ok (live)"), "{out:#?}");
}

fn png_pixel(path: &std::path::Path, x: usize, y: usize) -> [u8; 3] {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let i = (y * info.width as usize + x) * 4;
    [buf[i], buf[i + 1], buf[i + 2]]
}

const EXPOSED: &str = "local M = {}
function M.draw()
  local g = tweak('green', 0.0, { min = 0, max = 1 })
  gfx.clear(1, g, 0, 1)
end
return M
";

#[test]
fn a_value_a_lua_module_exposes_is_in_the_tweak_bar_and_keeps_its_value_across_a_reload() {
    let out = ok(
        "tweak-lua",
        &[("main.lua", EXPOSED)],
        "frames 1
         expect-pixel 20 200 255 0 0
         uniform green 1
         frames 1
         expect-pixel 20 200 255 255 0
         uniform green 7
         frames 1
         expect-pixel 20 200 255 255 0
         uniform green 0.5
         open main.lua
         goto 4 3
         type -- edited\\n  
         # typed Lua runs once the typing pauses (0.5 s of scene time)
         frames 10
         expect-no-diagnostics
         versions main.lua
         key Backquote
         frames 1
         expect-pixel 20 200 255 128 0 1",
    );
    // The reload happened: the typed text ran as version 2, which is live.
    let versions: Vec<&String> = out.iter().filter(|l| l.starts_with("version ")).collect();
    assert_eq!(versions, ["version 1: ok", "version 2: ok (live)"], "{out:#?}");
}

/// On a panel (the upper right: x 320..627, y 16..256 of 640x400), the editor leaves the rest of the frame to the
/// scene, even where the overlay would draw its tab bar.
#[test]
fn on_a_panel_the_editor_is_drawn_inside_the_scene_and_the_rest_is_the_scene() {
    let out = ok(
        "panel",
        &[("main.glsl", SHADER)],
        "placement panel
         open main.glsl
         frames 1
         expect-pixel 4 4 255 0 0
         expect-pixel 300 300 255 0 0
         expect-pixel 630 300 255 0 0
         screenshot panel.png",
    );
    let dir = std::env::temp_dir().join(format!("allsource-engine-{}-panel", std::process::id()));
    let path = dir.join("panel.png");
    // Inside the panel: the editor's tab bar along its top, its opaque fill (14, 16, 20), not the scene's red.
    let top = png_pixel(&path, 400, 20);
    assert_eq!(top, [14, 16, 20], "the panel's top at (400, 20): {out:?}");
}

/// Text undo (ctrl+z, egui's own history of the buffer) is not version undo: it changes the text, and the changed
/// text rebuilds like any keystroke.
#[test]
fn ctrl_z_undoes_typing_in_the_buffer_and_the_restored_text_rebuilds() {
    ok(
        "text-undo",
        &[("main.glsl", SHADER)],
        "open main.glsl
         goto 5 15
         type oops 
         frames 1
         expect-diagnostic main.glsl 5
         key ctrl+z
         frames 1
         expect-no-diagnostics
         expect-pixel 600 100 255 0 0
         key ctrl+shift+z
         frames 1
         expect-diagnostic main.glsl 5",
    );
}

/// A version brings its tweak values back with it: undo to a version restores the values it last ran with, redo
/// the newer ones.
#[test]
fn undo_and_redo_of_a_version_restore_the_tweak_values_it_ran_with() {
    ok(
        "tweak-versions",
        &[("main.glsl", TINTED)],
        "uniform tint 1 0 0
         frames 1
         expect-pixel 20 200 255 0 0
         open main.glsl
         goto 4 1
         type // v2\\n
         uniform tint 0 1 0
         key Backquote
         frames 1
         expect-pixel 20 200 0 255 0
         undo main.glsl
         frames 1
         expect-pixel 20 200 255 0 0
         redo main.glsl
         frames 1
         expect-pixel 20 200 0 255 0",
    );
}

/// The pointer: a click in the code places the caret (typing lands on line 3, not where the caret was), and a
/// click on a diagnostic in the console's list brings its source to the front at its place (typing then edits
/// main.glsl, not the tab that was in front). Positions are those egui lays out at 640x400 with its own fonts.
#[test]
fn clicks_place_the_caret_and_jump_to_a_diagnostic() {
    let out = ok(
        "clicks",
        &[("main.glsl", SHADER), ("notes.glsl", "// not part of the scene\n")],
        "open main.glsl
         click 59 91
         type oops 
         frames 1
         expect-diagnostic main.glsl 3
         open notes.glsl
         click 60 285
         type x
         versions main.glsl",
    );
    let versions: Vec<&String> = out.iter().filter(|l| l.starts_with("version ")).collect();
    // The file, five keystrokes of `oops `, and the `x` typed after the jump.
    assert_eq!(versions.len(), 7, "{out:#?}");
}

/// Typing a word into a shader, one keystroke a frame, where every keystroke but the last does not build: the
/// console shows the source's newest build news (one line and its error), not a pair of lines a keystroke; a
/// follower of the log (a script's transcript) still gets every line.
#[test]
fn the_console_shows_one_build_state_per_source_while_typing() {
    use allsource_engine::{Clock, HeadlessEngine, Scene};
    let dir = common::scene_dir("console-typing", &[("main.glsl", SHADER)]);
    let options = EngineOptions { clock: Clock::Lockstep, store: false, ..options() };
    let mut engine = HeadlessEngine::new(Scene::open(&dir).unwrap(), options).unwrap();
    engine.frame_lockstep(0).unwrap();
    let log = engine.compositor().overlay.editor.log.clone();
    let from = log.next_seq();
    let c = engine.compositor_mut();
    c.overlay.editor.open(&dir.join("main.glsl")).unwrap();
    c.overlay.editor.visible = true;
    c.ui_pass();
    // `const vec3 C = RED;` becomes `const vec3 C = REDGRN;`: three keystrokes, three versions that do not build.
    c.overlay.editor.goto(3, 19).unwrap();
    c.ui_pass();
    for (frame, key) in (1..).zip(["G", "R", "N", ""]) {
        engine.compositor_mut().overlay.text(key);
        engine.frame_lockstep(frame).unwrap();
    }
    let shown: Vec<String> =
        log.with_lines(|lines| lines.iter().filter(|l| l.seq >= from && !l.hidden).map(|l| l.text.clone()).collect());
    let news: Vec<&String> = shown.iter().filter(|l| l.contains("main.glsl")).collect();
    assert!(news[0].ends_with("main.glsl: version 4 did not build; version 1 stays live"), "{shown:#?}");
    assert!(news[1].contains("main.glsl:3:16: error: [fragment] `REDGRN' undeclared"), "{shown:#?}");
    assert!(news[2..].iter().all(|l| l.contains(": warning: ")), "then its warnings only: {shown:#?}");
    let all = log.since(from);
    assert_eq!(all.iter().filter(|l| l.text.contains("did not build")).count(), 3, "followers got each build");
}

/// The shown editor is laid out and painted again only when something it shows changed: input, a console line, a
/// report; in between, the compositor draws its last paint again, and the frame looks the same.
#[test]
fn a_shown_editor_with_nothing_new_is_not_laid_out_again_and_looks_the_same() {
    use allsource_engine::overlay::PassCause;
    let mut f = common::Fixture::sized(common::scene_dir("idle-editor", &[("main.glsl", SHADER)]), (640, 400));
    f.engine.compositor_mut().overlay.key("Backquote", true, Some("`"), None);
    // Just shown, egui lays the editor out a few times over until it settles (and asks for those passes itself).
    for _ in 0..20 {
        f.step();
        if f.engine.compositor().overlay.repaint_in().is_none_or(|d| d > Duration::ZERO) {
            break;
        }
    }
    assert!(
        f.engine.compositor().overlay.repaint_in().is_none(),
        "settled, egui asks for nothing more: the caret is steady"
    );
    let overlay = &f.engine.compositor().overlay;
    let (passes, paints) = (overlay.all_passes(), overlay.paints);
    let picture = f.engine.image();
    for _ in 0..10 {
        f.step();
    }
    let overlay = &f.engine.compositor().overlay;
    assert_eq!((overlay.all_passes(), overlay.paints), (passes, paints), "no pass and no paint without news");
    let now = f.engine.image();
    assert!(picture.pixels == now.pixels, "the editor drawn again from its last paint looks the same");
    // Over the red scene, the tab bar's opaque fill (14, 16, 20), copied in from the last paint.
    assert_eq!(now.pixel(400, 10), [14, 16, 20, 255]);

    // A console line: one pass, and the line is laid out.
    f.engine.compositor().overlay.editor.log.push(allsource_editor::Level::Info, "a line of news");
    f.step();
    assert_eq!(f.engine.compositor().overlay.passes(PassCause::Console), 1);
    // A report (the source rebuilt from an edit): the scene turns green behind the editor, the editor is laid out.
    let changed = f.engine.compositor().overlay.passes(PassCause::Changed);
    f.edit("main.glsl", &SHADER.replace("C = RED", "C = GRN"));
    f.step();
    assert!(f.engine.compositor().overlay.passes(PassCause::Changed) > changed);
    assert_eq!(f.engine.image().pixel(600, 100), [0, 255, 0, 255], "the scene shows through the cached editor");
    // The pointer over it: input, a pass.
    let input = f.engine.compositor().overlay.passes(PassCause::Input);
    f.engine.compositor_mut().overlay.pointer_moved(300.0, 200.0, (640, 400));
    f.step();
    assert_eq!(f.engine.compositor().overlay.passes(PassCause::Input), input + 1);
    // Hidden: nothing is laid out or painted, and the scene is all there is.
    f.engine.compositor_mut().overlay.key("Backquote", true, Some("`"), None);
    f.step();
    let (all, paints) = (f.engine.compositor().overlay.all_passes(), f.engine.compositor().overlay.paints);
    for _ in 0..3 {
        f.step();
    }
    assert_eq!((f.engine.compositor().overlay.all_passes(), f.engine.compositor().overlay.paints), (all, paints));
    assert_eq!(f.engine.image().pixel(400, 10), [0, 255, 0, 255]);
}

/// The open editor is blended over the frame only in the tiles it drew in, and the frame is copied in with a blit:
/// every composed pixel is still the editor's layer over the scene's (premultiplied "over"), in the right place,
/// on a scene whose every pixel differs (a flip or an offset would show), and part of the frame is left out.
#[test]
fn the_editor_over_the_frame_is_its_layer_over_the_scene_in_every_pixel() {
    use allsource_engine::{Clock, HeadlessEngine, Scene};
    let gradient = "layout(location = 0) out vec4 colour;
void main() { colour = vec4(fract(gl_FragCoord.x / 256.0), fract(gl_FragCoord.y / 256.0), 0.5, 1.0); }
";
    let dir = common::scene_dir("editor-over-frame", &[("main.glsl", gradient)]);
    let options = EngineOptions { clock: Clock::Lockstep, store: false, ..options() };
    let mut engine = HeadlessEngine::new(Scene::open(&dir).unwrap(), options).unwrap();
    engine.frame_lockstep(0).unwrap();
    let scene = engine.image();
    assert_eq!(scene.pixel(3, 399), [3, 0, 128, 255], "the frame is copied the right way up");
    assert_eq!(scene.pixel(300, 0), [44, 143, 128, 255], "(300 % 256, 399 % 256)");
    let c = engine.compositor_mut();
    c.overlay.editor.open(&dir.join("main.glsl")).unwrap();
    c.overlay.editor.visible = true;
    engine.frame_lockstep(1).unwrap();
    let (out, layer) = (engine.image(), engine.editor_layer().expect("the editor was painted"));
    let (blended, copied) = engine.compositor().overlay.layer_shares();
    assert!(blended > 0.1 && copied > 0.1 && blended + copied < 0.95, "blended over {blended}, copied over {copied}");
    let drawn = layer.pixels.chunks(4).filter(|p| p[3] > 0).count() as f64 / (640.0 * 400.0);
    assert!(drawn > 0.1, "the editor drew in {drawn} of the layer");
    let mut wrong = Vec::new();
    for y in 0..400 {
        for x in 0..640 {
            let (l, f, o) = (layer.pixel(x, y), scene.pixel(x, y), out.pixel(x, y));
            for ch in 0..3 {
                let expected = f32::from(l[ch]) + f32::from(f[ch]) * (1.0 - f32::from(l[3]) / 255.0);
                if (f32::from(o[ch]) - expected).abs() > 2.0 && wrong.len() < 10 {
                    wrong.push(((x, y), ch, l, f, o));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "composed pixels that are not the layer over the frame: {wrong:?}");
}

/// In lockstep the editor's clock is the scene's: the wheel's smooth scrolling lands in the same place after the
/// same frames however long the machine took over them (it moved by the wall clock, a few pixels apart from run to
/// run).
#[test]
fn lockstep_wheel_scrolling_moves_by_frames_not_by_the_wall_clock() {
    // The code, between the status line (which says how long the build took) and the console (the same).
    let code = |image: &allsource_gpu::Image| image.pixels[60 * 320 * 4..115 * 320 * 4].to_vec();
    let long: String = (1..=200).map(|i| format!("// line {i}\n")).collect::<String>() + "void main() {}\n";
    let scroll = |name: &str, pause: Duration| {
        let dir = common::scene_dir(name, &[("main.glsl", long.as_str())]);
        let mut f = common::Fixture::sized(dir.clone(), (320, 240));
        let overlay = &mut f.engine.compositor_mut().overlay;
        overlay.editor.open(&dir.join("main.glsl")).unwrap();
        overlay.editor.visible = true;
        f.step();
        let before = f.engine.editor_layer().expect("the editor was painted");
        let overlay = &mut f.engine.compositor_mut().overlay;
        overlay.pointer_moved(160.0, 80.0, (320, 240));
        assert!(overlay.scroll(0.0, -300.0), "the wheel is the editor's over its code");
        for _ in 0..4 {
            std::thread::sleep(pause);
            f.step();
        }
        let after = f.engine.editor_layer().expect("the editor was painted");
        assert!(code(&before) != code(&after), "the code scrolled");
        after
    };
    let (slow, fast) = (scroll("wheel-slow", Duration::from_millis(60)), scroll("wheel-fast", Duration::ZERO));
    let differ = code(&slow).chunks(4).zip(code(&fast).chunks(4)).filter(|(a, b)| a != b).count();
    assert_eq!(differ, 0, "pixels of the code that differ between a slow and a fast run");
}

/// A build report with no news (the same text sent again, as the editor does when it opens a source) leaves the
/// console's line about the source as it was: it hid the line "version 1 built" whenever it came before any other
/// line, so what the console showed depended on timing.
#[test]
fn a_report_with_no_news_leaves_the_last_build_line_shown() {
    let mut f = common::Fixture::new("quiet-report", &[("main.glsl", SHADER)]);
    let log = f.engine.compositor().overlay.editor.log.clone();
    let shown = |log: &allsource_editor::ConsoleLog| {
        log.with_lines(|lines| lines.iter().filter(|l| !l.hidden).map(|l| l.text.clone()).collect::<Vec<_>>())
    };
    let built = |lines: &[String]| lines.iter().any(|l| l.contains("main.glsl: version 1 built in"));
    assert!(built(&shown(&log)), "{:#?}", shown(&log));
    f.edit("main.glsl", SHADER);
    f.step();
    assert!(built(&shown(&log)), "{:#?}", shown(&log));
}
