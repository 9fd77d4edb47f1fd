//! The `allsource` command as a user runs it: `render` of the demo, a real window under Xvfb with a screenshot,
//! and clear errors for user mistakes and missing system pieces.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{allsource, run};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../demo");
const PLASMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/plasma");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("allsource-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Png {
    width: u32,
    height: u32,
    rgba: Vec<u8>,
}

impl Png {
    fn read(path: &Path) -> Png {
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut rgba = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut rgba).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgba);
        Png { width: info.width, height: info.height, rgba }
    }

    /// Pixel at column x, row y from the top.
    fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * self.width + x) * 4) as usize;
        self.rgba[i..i + 4].try_into().unwrap()
    }
}

/// The plasma example (examples/plasma/main.glsl), evaluated on the CPU for the pixel whose centre is (x, y) from the
/// bottom-left.
fn demo_plasma(x: f32, y: f32, height: f32, time: f32) -> [f32; 3] {
    let (px, py) = (x / height * 4.0, y / height * 4.0);
    let v = (px + time).sin()
        + (py * 1.3 - time * 0.7).sin()
        + ((px + py) * 0.8 + time * 1.1).sin()
        + (((px - 3.5).powi(2) + (py - 2.0).powi(2)).sqrt() * 2.0 - time * 1.6).sin();
    [0.0f32, 2.1, 4.2].map(|phase| 0.5 + 0.5 * (v * 1.2 + phase).cos())
}

#[test]
fn render_of_the_plasma_example_writes_the_plasma_at_the_last_frames_time() {
    let out = temp_dir("render").join("plasma.png");
    let output =
        run(allsource(&["render", PLASMA, "--frames", "31", "--size", "160x90", "--fps", "30", "--out"]).arg(&out));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let image = Png::read(&out);
    assert_eq!((image.width, image.height), (160, 90));
    // Frame 30 at 30 fps: time 1.0 s.
    for (x, y) in [(0, 0), (80, 45), (159, 89), (17, 70), (120, 5)] {
        let expected = demo_plasma(x as f32 + 0.5, (89 - y) as f32 + 0.5, 90.0, 1.0);
        let got = image.pixel(x, y);
        for c in 0..3 {
            let want = expected[c] * 255.0;
            assert!((got[c] as f32 - want).abs() <= 3.0, "pixel ({x},{y}) channel {c}: got {got:?}, want {expected:?}");
        }
        assert_eq!(got[3], 255);
    }
}

#[test]
fn a_missing_scene_directory_is_a_one_line_error_without_a_backtrace() {
    let output = run(&mut allsource(&["render", "/nonexistent/scene", "--out", "/tmp/never.png"]));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: scene directory /nonexistent/scene does not exist"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn without_a_usable_egl_driver_the_error_says_what_to_install() {
    // glvnd finds no vendor library through a vendor file that does not exist: as on a machine without a driver.
    let output = run(allsource(&["render", DEMO, "--out", "/tmp/never.png"])
        .env("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/vendor.json"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn without_a_display_the_window_error_suggests_headless() {
    let output = run(allsource(&["run", DEMO, "--frames", "1"]).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--headless"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn version_prints_the_crate_version() {
    let output = run(&mut allsource(&["--version"]));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), format!("allsource {}", env!("CARGO_PKG_VERSION")));
}

/// An Xvfb server on a display number of its own, stopped when dropped.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    /// Starts Xvfb. Panics (never skips) when it is not installed: CI installs it, and a window test that silently
    /// does nothing would hide a broken window path.
    fn start() -> Xvfb {
        // A display number nobody holds: no lock file and no socket (a killed server can leave either behind).
        let free = |n: u32| {
            !PathBuf::from(format!("/tmp/.X{n}-lock")).exists()
                && !PathBuf::from(format!("/tmp/.X11-unix/X{n}")).exists()
        };
        let first = 90 + std::process::id() % 400;
        for number in (first..first + 200).filter(|&n| free(n)) {
            let display = format!(":{number}");
            let mut child = Command::new("Xvfb")
                .args([display.as_str(), "-screen", "0", "640x480x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("Xvfb is required for the window test ({e}): apt-get install xvfb"));
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
            let start = Instant::now();
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // lost a race for this number: try the next
                }
                if socket.exists() {
                    return Xvfb { child, display };
                }
                assert!(start.elapsed() < Duration::from_secs(10), "Xvfb did not open {}", socket.display());
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("no free X display number for Xvfb");
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM lets Xvfb remove its socket and lock file; SIGKILL (Child::kill) would leave them behind.
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_real_window_under_xvfb_renders_and_its_screenshot_has_the_scenes_pixels() {
    let xvfb = Xvfb::start();
    let dir = temp_dir("window");
    std::fs::write(
        dir.join("main.glsl"),
        "uniform float u_time;\nout vec4 colour;\n\
         void main() { colour = vec4(floor(gl_FragCoord.x) / 255.0, floor(gl_FragCoord.y) / 255.0, u_time, 1.0); }\n",
    )
    .unwrap();
    let shot = dir.join("window.png");
    let output = run(allsource(&["run", "--size", "200x100", "--lockstep", "--fps", "10", "--frames", "6"])
        .arg(&dir)
        .arg("--screenshot")
        .arg(&shot)
        .env("DISPLAY", &xvfb.display)
        .env("RUST_LOG", "info"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("window)"), "the log names the window platform: {stderr}");
    let image = Png::read(&shot);
    assert_eq!((image.width, image.height), (200, 100));
    // Frame 5 at 10 fps: u_time = 0.5, blue 128. Row 0 of the PNG is the window's top row (GL y = 99).
    assert_eq!(image.pixel(0, 0), [0, 99, 128, 255]);
    assert_eq!(image.pixel(150, 99), [150, 0, 128, 255]);
    assert_eq!(image.pixel(42, 60), [42, 39, 128, 255]);
}

fn check_fixture() -> PathBuf {
    let dir = temp_dir("check");
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::write(dir.join("bad.glsl"), "out vec4 o;\nvoid main() {\n\to = vec4(1.0) + nope;\n}\n").unwrap();
    std::fs::write(dir.join("good.glsl"), "#include \"lib/f.glsl\"\nout vec4 o;\nvoid main() { o = vec4(f()); }\n")
        .unwrap();
    std::fs::write(dir.join("lib/f.glsl"), "float f() {\n    return 1.0 * true;\n}\n").unwrap();
    std::fs::write(dir.join("fine.glsl"), "out vec4 o;\nvoid main() { o = vec4(1.0); }\n").unwrap();
    dir
}

#[test]
fn check_prints_each_error_with_its_source_line_and_a_caret_and_exits_1() {
    let dir = check_fixture();
    let output = run(allsource(&["check"]).arg(&dir));
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let bad = dir.join("bad.glsl").display().to_string();
    assert!(stdout.contains(&format!("error: `nope' undeclared\n  --> {bad}:3:18 (fragment)\n  |\n3 | \to = vec4(1.0) + nope;\n  | \t                ^\n  = note: operands to arithmetic operators must be numeric\n\n")), "{stdout}");
    let lib = dir.join("lib/f.glsl").display().to_string();
    assert!(stdout.contains(&format!("  --> {lib}:2:")), "an error inside the included file names it: {stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("checked 3 file(s)"), "lib/f.glsl is checked through good.glsl, not alone: {stderr}");
}

#[test]
fn check_json_lists_file_line_column_stage_severity_and_message() {
    let dir = check_fixture();
    let output = run(allsource(&["check", "--json"]).arg(dir.join("bad.glsl")).arg(dir.join("fine.glsl")));
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let bad = dir.join("bad.glsl").display().to_string();
    let expected = format!(
        "[{{\"column\":18,\"file\":\"{bad}\",\"line\":3,\"message\":\"`nope' undeclared\\n  operands to arithmetic \
         operators must be numeric\",\"severity\":\"error\",\"stage\":\"fragment\"}}]\n"
    );
    assert_eq!(stdout, expected);
    let clean = run(allsource(&["check", "--json"]).arg(dir.join("fine.glsl")));
    assert_eq!(clean.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&clean.stdout), "[]\n");
}

#[test]
fn check_of_the_demo_finds_nothing_wrong() {
    let output = run(&mut allsource(&["check", DEMO]));
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stdout}{stderr}");
    // Every source of the demo, each built once: main.lua, lib/mat4.lua and the five shaders/ (lib/terrain.glsl is
    // checked through shaders/terrain.glsl, which includes it). Nothing printed, no diagnostic.
    assert!(stderr.contains("checked 7 file(s): 0 error(s), 0 warning(s)"), "{stderr}");
    assert_eq!(stdout, "", "no diagnostics");
    let json = run(&mut allsource(&["check", "--json", DEMO]));
    assert_eq!(String::from_utf8_lossy(&json.stdout), "[]\n", "{}", String::from_utf8_lossy(&json.stderr));
}

#[test]
fn render_of_the_demo_shows_sky_terrain_and_particles_and_is_deterministic() {
    let dir = temp_dir("demo");
    let render = |name: &str| {
        let out = dir.join(name);
        let output =
            run(allsource(&["render", DEMO, "--frames", "91", "--size", "160x90", "--fps", "30", "--out"]).arg(&out));
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert!(
            !String::from_utf8_lossy(&output.stderr).contains("ERROR"),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        Png::read(&out)
    };
    let image = render("a.png");
    let count = |f: &dyn Fn([u8; 4]) -> bool| {
        (0..image.height)
            .flat_map(|y| (0..image.width).map(move |x| (x, y)))
            .filter(|&(x, y)| f(image.pixel(x, y)))
            .count()
    };
    let sky = |[r, g, b, _]: [u8; 4]| b as i32 > r as i32 + 40 && b as i32 > g as i32 + 20;
    let grass = |[r, g, b, _]: [u8; 4]| g as i32 > r as i32 + 15 && g as i32 > b as i32 + 15;
    let sparks = |[r, g, _, _]: [u8; 4]| r > 200 && g > 170;
    assert!(sky(image.pixel(80, 2)), "the top is sky: {:?}", image.pixel(80, 2));
    assert!(grass(image.pixel(80, 80)), "the bottom is tessellated terrain: {:?}", image.pixel(80, 80));
    let (sky, grass, sparks) = (count(&sky), count(&grass), count(&sparks));
    assert!(sky > 2000 && grass > 2000, "sky {sky}, terrain {grass} of 14400 pixels");
    assert!(sparks > 50, "particles (compute, indirect draw, geometry stage) light {sparks} pixels");
    assert_eq!(render("b.png").rgba, image.rgba, "lockstep renders of the demo are identical");
}

#[test]
fn check_reports_lua_syntax_and_top_level_errors_and_failed_requires_on_their_lines() {
    let dir = temp_dir("check-lua");
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::write(dir.join("main.lua"), "local M = {}\nlocal v = require('lib.vec')\nreturn M\n").unwrap();
    std::fs::write(dir.join("lib/vec.lua"), "local V = {}\nfunction V.add(a, b)\n  return a +\nend\nreturn V\n")
        .unwrap();
    std::fs::write(dir.join("boom.lua"), "local X = {}\nerror('boom at load')\nreturn X\n").unwrap();
    let output = run(allsource(&["check", "--json"]).arg(&dir));
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let has = |file: &str, line: u32, text: &str| {
        stdout.contains(&format!("\"file\":\"{}\",\"line\":{line},\"message\":\"", dir.join(file).display()))
            && stdout.contains(text)
    };
    assert!(has("boom.lua", 2, "boom at load"), "{stdout}");
    assert!(has("lib/vec.lua", 4, "unexpected symbol near 'end'"), "{stdout}");
    assert!(has("main.lua", 2, "module 'lib.vec' did not load"), "{stdout}");
}

#[test]
fn render_finishes_when_the_scene_wedges_its_worker_in_a_finalizer_or_a_long_c_call() {
    let wedges = [
        (
            "finalizer",
            "local p = newproxy(true) getmetatable(p).__gc = function() while true do end end p = nil collectgarbage()",
        ),
        ("c-call", "string.find(string.rep('a', 5000), '.-.-.-.-b')"),
    ];
    let fill = "uniform vec4 colour;\nout vec4 o;\nvoid main() { o = colour; }\n";
    let draw = "function M.draw() gfx.draw{ shader = fill, uniforms = { colour = { 0, 1, 0, 1 } } } end\nreturn M\n";
    // The wedge in main itself, or in a module main calls (with pcall: a left-out module's calls fail at once).
    for (culprit, kind, wedge) in
        wedges.iter().flat_map(|&(kind, wedge)| [("main", kind, wedge), ("callee", kind, wedge)])
    {
        let name = format!("{culprit}-{kind}");
        let dir = temp_dir(&format!("wedge-{name}"));
        std::fs::write(dir.join("fill.glsl"), fill).unwrap();
        let main = if culprit == "main" {
            format!(
                "local M = {{}}\nlocal fill = gfx.shader('fill.glsl')\n\
                     function M.update(dt) if gfx.frame() == 3 then {wedge} end end\n{draw}"
            )
        } else {
            std::fs::write(
                dir.join("wedge.lua"),
                format!("local W = {{}}\nfunction W.tick() if gfx.frame() == 3 then {wedge} end end\nreturn W\n"),
            )
            .unwrap();
            format!(
                "local M = {{}}\nlocal wedge = require('wedge')\nlocal fill = gfx.shader('fill.glsl')\n\
                     function M.update(dt) pcall(wedge.tick) end\n{draw}"
            )
        };
        std::fs::write(dir.join("main.lua"), main).unwrap();
        let out = dir.join("out.png");
        let started = Instant::now();
        let output = run(allsource(&["render", "--frames", "8", "--size", "16x16", "--out"]).arg(&out).arg(&dir));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{name}: {stderr}");
        let file = if culprit == "main" { "main.lua" } else { "wedge.lua" };
        assert!(
            stderr.contains(&format!("the scene's worker wedged in {}", dir.join(file).display())),
            "{name}: the wedge is reported, in {file}: {stderr}"
        );
        assert!(started.elapsed() < Duration::from_secs(15), "{name}: took {:?}", started.elapsed());
        // The last frame, drawn by the replacement worker, which left the module that wedged out. Without main
        // nothing draws: the Lua frame's black, under the red strip of the error. Without the callee, main draws
        // its green on, and nothing failed to build.
        let image = Png::read(&out);
        assert_eq!((image.width, image.height), (16, 16), "{name}");
        for (x, y) in (0..16).flat_map(|y| (0..16).map(move |x| (x, y))) {
            let expected = match culprit {
                "main" if y < 4 => [217, 38, 38, 255],
                "main" => [0, 0, 0, 255],
                _ => [0, 255, 0, 255],
            };
            assert_eq!(image.pixel(x, y), expected, "{name}: the last frame at ({x}, {y})");
        }
    }
}

/// The editor open over the demo in a real window: compared with the same lockstep frame without the editor, by
/// regions (robust to how fonts rasterise): the scene shows through beside the code; the code has coloured
/// keywords and comments on separate rows with line numbers; the console and tab bar darken what is under them.
#[test]
fn the_editor_over_the_demo_in_a_real_window_shows_coloured_code_a_console_and_the_scene_through_it() {
    let xvfb = Xvfb::start();
    let dir = temp_dir("editor-window");
    let shot = |name: &str, editor: bool| {
        let out = dir.join(name);
        let mut command = allsource(&["run", DEMO, "--size", "960x540", "--lockstep", "--fps", "30", "--frames", "20"]);
        command.arg("--screenshot").arg(&out).env("DISPLAY", &xvfb.display);
        if editor {
            command.arg("--editor");
        }
        let output = run(&mut command);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        Png::read(&out)
    };
    let plain = shot("plain.png", false);
    let editor = shot("editor.png", true);
    let region = |x0: u32, y0: u32, x1: u32, y1: u32| (y0..y1).flat_map(move |y| (x0..x1).map(move |x| (x, y)));
    let luma = |p: [u8; 4]| p[0] as f32 * 0.3 + p[1] as f32 * 0.59 + p[2] as f32 * 0.11;
    let mean = |image: &Png, x0, y0, x1, y1| {
        let points: Vec<_> = region(x0, y0, x1, y1).collect();
        points.iter().map(|&(x, y)| luma(image.pixel(x, y))).sum::<f32>() / points.len() as f32
    };

    // Right of the code, above the console: the scene itself.
    let differing = region(800, 140, 950, 300).filter(|&(x, y)| plain.pixel(x, y) != editor.pixel(x, y)).count();
    assert!(differing < 50, "{differing} pixels beside the code differ from the scene");

    // The code: keyword purple and comment grey-green glyph pixels, where the scene has neither.
    let near = |p: [u8; 4], c: [i32; 3]| (0..3).all(|i| (p[i] as i32 - c[i]).abs() < 45);
    let code = || region(50, 40, 760, 330);
    let keyword = code().filter(|&(x, y)| near(editor.pixel(x, y), [200, 130, 220])).count();
    let keyword_in_scene = code().filter(|&(x, y)| near(plain.pixel(x, y), [200, 130, 220])).count();
    let comment = code().filter(|&(x, y)| near(editor.pixel(x, y), [120, 135, 120])).count();
    assert!(keyword > 40 && keyword > 4 * keyword_in_scene, "keyword pixels: {keyword} (scene {keyword_in_scene})");
    assert!(comment > 200, "comment pixels: {comment}");
    // Text rows: bands of rows holding bright glyph pixels, separated by rows without (line spacing).
    let bright_row =
        |y: u32| (50..760).any(|x| luma(editor.pixel(x, y)) > 170.0 && plain.pixel(x, y) != editor.pixel(x, y));
    let rows: Vec<bool> = (40..330).map(bright_row).collect();
    let bands = rows.windows(2).filter(|w| !w[0] && w[1]).count();
    assert!(bands >= 8, "{bands} text rows in the code area");
    // Line numbers in the gutter.
    let gutter = region(4, 40, 44, 330)
        .filter(|&(x, y)| luma(editor.pixel(x, y)) > 80.0 && luma(editor.pixel(x, y)) < 140.0)
        .count();
    assert!(gutter > 100, "line-number pixels: {gutter}");

    // The console along the bottom and the tab bar along the top darken the scene under them.
    let (console, console_scene) = (mean(&editor, 0, 460, 960, 520), mean(&plain, 0, 460, 960, 520));
    assert!(console < console_scene * 0.8, "console {console} over scene {console_scene}");
    let same = region(0, 460, 960, 520).filter(|&(x, y)| plain.pixel(x, y) == editor.pixel(x, y)).count();
    assert!(same < 960 * 60 / 20, "{same} console pixels are the scene's own");
    let (tabs, tabs_scene) = (mean(&editor, 300, 2, 960, 18), mean(&plain, 300, 2, 960, 18));
    assert!(tabs < tabs_scene * 0.6, "tab bar {tabs} over scene {tabs_scene}");
}

/// `run --script`: the console's lines (command echoes, Lua's print, answers) on standard output; a failed
/// expectation stops it with its line number and exit status 1.
#[test]
fn a_script_prints_what_the_console_shows_and_fails_with_the_line_number() {
    let dir = temp_dir("script");
    std::fs::write(dir.join("main.lua"), "local M = {}\nfunction M.draw() gfx.clear(0, 0, 1, 1) end\nreturn M\n")
        .unwrap();
    let script = dir.join("session.txt");
    std::fs::write(&script, "frames 2\nlua print('hello from lua') return 40 + 2\nexpect-pixel 1 1 0 0 255\nexpect-pixel 1 1 255 0 0\nframes 1\n").unwrap();
    let output = run(allsource(&["run", "--size", "64x64"]).arg(&dir).arg("--script").arg(&script));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    for expected in ["> frames 2", "hello from lua", "42", "> expect-pixel 1 1 255 0 0"] {
        assert!(lines.contains(&expected), "stdout lacks {expected:?}:\n{stdout}");
    }
    assert!(!lines.contains(&"> frames 1"), "the script went on after the failure:\n{stdout}");
    assert!(stderr.contains("script line 4: pixel (1, 1) is 0 0 255, expected 255 0 0"), "{stderr}");
}

/// Issue 8: `kill -9` in the middle of a scripted typing session loses no edit that the editor had shown. Each
/// `type` prints its build's report once the keystroke was shown; the next start replays the journal, says so, and
/// `save` writes the recovered buffer, which holds at least every keystroke reported before the kill, in order.
#[test]
fn a_process_killed_mid_typing_loses_no_edit_the_editor_had_shown() {
    use std::io::BufRead;
    let dir = temp_dir("sigkill");
    let _ = std::fs::remove_dir_all(dir.join(".allsource"));
    let original = "out vec4 o;\nvoid main() {\n    o = vec4(1.0, 0.0, 0.0, 1.0);\n}\n";
    std::fs::write(dir.join("main.glsl"), original).unwrap();
    let typed: String = "//every-keystroke-is-journaled-before-it-is-shown".repeat(6);
    let mut script = String::from("open main.glsl\ngoto 4 2\n");
    for c in typed.chars() {
        script.push_str(&format!("type {c}\n"));
    }
    std::fs::write(dir.join("typing.txt"), script).unwrap();
    let mut child = allsource(&["run", "--size", "160x120"])
        .arg(&dir)
        .arg("--script")
        .arg(dir.join("typing.txt"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut shown = 0;
    let mut transcript = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let typing_build = line.contains("main.glsl: version")
            && !line.contains("version 1 ")
            && (line.contains("built in") || line.contains("did not build"));
        shown += usize::from(typing_build);
        transcript.push(line);
        if shown == 40 {
            child.kill().unwrap(); // SIGKILL: no destructor, no flush, no clean exit
            break;
        }
    }
    let _ = child.wait();
    assert_eq!(shown, 40, "the typing session reported its builds:\n{}", transcript.join("\n"));
    std::fs::write(dir.join("after.txt"), "save\n").unwrap();
    let output = run(allsource(&["run", "--size", "160x120"]).arg(&dir).arg("--script").arg(dir.join("after.txt")));
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{out}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(out.contains("recovered main.glsl from the journal"), "the user is told:\n{out}");
    let recovered = std::fs::read_to_string(dir.join("main.glsl")).unwrap();
    let (head, tail) = original.split_at(original.len() - 1);
    let inserted = recovered
        .strip_prefix(head)
        .and_then(|r| r.strip_suffix(tail))
        .unwrap_or_else(|| panic!("the recovered text is the file with keystrokes inserted:\n{recovered}"));
    assert!(typed.starts_with(inserted), "keystrokes in order, nothing else: {inserted:?}");
    eprintln!("{} keystrokes recovered, {shown} shown before the kill, of {}", inserted.len(), typed.len());
    assert!(
        inserted.chars().count() >= shown,
        "{} keystrokes recovered, {shown} had been shown before the kill",
        inserted.chars().count()
    );
}

#[test]
fn lua_print_reaches_standard_output_headless_and_rendering_and_a_script_prints_it_once() {
    let dir = temp_dir("print");
    std::fs::write(
        dir.join("main.lua"),
        "local M = {}\nfunction M.load() print('hello from lua', 42) end\nfunction M.draw() gfx.clear(0, 0, 0, 1) end\nreturn M\n",
    )
    .unwrap();
    let out = run(&mut allsource(&["run", dir.to_str().unwrap(), "--headless", "--frames", "3", "--no-store"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().any(|l| l == "hello from lua\t42"), "stdout: {stdout:?}");
    let png = dir.join("out.png");
    let out = run(&mut allsource(&["render", dir.to_str().unwrap(), "--frames", "2", "--out", png.to_str().unwrap()]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().any(|l| l == "hello from lua\t42"), "render's stdout: {stdout:?}");
    let script = dir.join("script.txt");
    std::fs::write(&script, "frames 2\n").unwrap();
    let out = run(&mut allsource(&["run", dir.to_str().unwrap(), "--script", script.to_str().unwrap(), "--no-store"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().filter(|l| *l == "hello from lua\t42").count(), 1, "stdout: {stdout:?}");
}

/// The scene's worker in a process (the default) says what a worker thread says: its Lua budget once, and the
/// driver once (the compositor's line; the process's own context is not news).
#[test]
fn a_worker_process_says_what_a_worker_thread_says() {
    let dir = temp_dir("worker-news");
    std::fs::write(dir.join("main.lua"), "local M = {}\nfunction M.draw() gfx.clear(0, 0, 0, 1) end\nreturn M\n")
        .unwrap();
    let script = dir.join("script.txt");
    std::fs::write(&script, "frames 2\n").unwrap();
    for worker in ["process", "thread"] {
        let args =
            ["run", dir.to_str().unwrap(), "--script", script.to_str().unwrap(), "--no-store", "--worker", worker];
        let out = run(&mut allsource(&args));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let count = |start: &str| stdout.lines().filter(|l| l.starts_with(start)).count();
        assert_eq!(count("Lua budget: frame 16.7 ms"), 1, "--worker {worker}: {stdout}");
        assert_eq!(count("OpenGL "), 1, "--worker {worker}: {stdout}");
    }
}

/// `allsource run examples/plasma --editor`, the scene named relative to the working directory: the editor opens its
/// main source, and typing goes into it (the entry's path was joined to the scene's directory twice).
#[test]
fn the_editor_opens_the_main_source_of_a_scene_named_relative_to_the_working_directory() {
    let dir = temp_dir("relative");
    std::fs::create_dir_all(dir.join("scene")).unwrap();
    std::fs::write(
        dir.join("scene/main.glsl"),
        "layout(location = 0) out vec4 colour;\nvoid main() { colour = vec4(1.0); }\n",
    )
    .unwrap();
    std::fs::write(dir.join("script.txt"), "frames 1\ntype x\nframes 2\n").unwrap();
    let out = run(allsource(&["run", "scene", "--editor", "--no-store", "--script", "script.txt"]).current_dir(&dir));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("could not open"), "{stdout}");
    assert!(
        stdout.contains("scene/main.glsl: version 2 did not build"),
        "the typed x reached the file's buffer: {stdout}"
    );
}

/// Edits left unsaved by a run of a scene named relative to the working directory come back in the next such run
/// and are saved to the scene's file (the journal's name was joined to the scene's directory twice: the recovered
/// buffer opened as `scene/scene/main.glsl` beside `main.glsl`, and saving it failed).
#[test]
fn edits_recovered_in_a_scene_named_relative_to_the_working_directory_are_saved_to_its_file() {
    let dir = temp_dir("relative-journal");
    std::fs::create_dir_all(dir.join("scene")).unwrap();
    let shader = "layout(location = 0) out vec4 colour;\nvoid main() { colour = vec4(1.0); }\n";
    std::fs::write(dir.join("scene/main.glsl"), shader).unwrap();
    std::fs::write(dir.join("type.txt"), "frames 1\ngoto 2 1\ntype // typed\nframes 2\nquit\n").unwrap();
    let out = run(allsource(&["run", "scene", "--editor", "--script", "type.txt"]).current_dir(&dir));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    std::fs::write(dir.join("save.txt"), "frames 2\nsave\nframes 2\n").unwrap();
    let out = run(allsource(&["run", "scene", "--editor", "--script", "save.txt"]).current_dir(&dir));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("recovered main.glsl from the journal"), "{stdout}");
    assert!(!stdout.contains("could not write"), "{stdout}");
    let saved = std::fs::read_to_string(dir.join("scene/main.glsl")).unwrap();
    assert!(saved.contains("// typed"), "the recovered edit is in the file: {saved}");
    assert!(!dir.join("scene/scene").exists(), "nothing is written under a doubled path");
}
