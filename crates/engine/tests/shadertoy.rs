//! Shadertoy scenes through real frames: buffers in float targets drawn in order (this frame's when drawn before,
//! the last frame's otherwise), the Common file, image and cube map channels (loaded live, the last good pixels
//! kept when a file goes bad), the keyboard's texture, and the channels' uniforms. Checked by pixels.

use allsource_engine::worker::Command;

mod common;
use common::Fixture;

/// Writes an RGBA8 image file (PNG, or JPEG when the name says so) of `width` x `height` pixels, top row first.
fn write_image(path: &std::path::Path, width: u32, rgba: &[[u8; 4]]) {
    let height = rgba.len() as u32 / width;
    let image = image::DynamicImage::from(image::RgbaImage::from_raw(width, height, rgba.concat()).unwrap());
    let jpeg = path.extension().is_some_and(|e| e == "jpg");
    if jpeg { image.to_rgb8().save(path) } else { image.save(path) }.unwrap();
}

const RED: [u8; 4] = [255, 0, 0, 255];
const GREEN: [u8; 4] = [0, 255, 0, 255];
const BLUE: [u8; 4] = [0, 0, 255, 255];
const WHITE: [u8; 4] = [255, 255, 255, 255];

#[test]
fn a_buffer_reading_itself_accumulates_in_float_beyond_one_and_below_zero() {
    // Each frame adds 1/1024 to red, 2 to green, -0.5 to blue and 0.25 to alpha: an 8-bit buffer would keep none.
    let buffer = "#pragma channel 0 buffer_a filter=nearest\n\
                  void mainImage(out vec4 o, in vec2 p) {\n    \
                  o = texelFetch(iChannel0, ivec2(p), 0) + vec4(1.0 / 1024.0, 2.0, -0.5, 0.25);\n}\n";
    let image = "#pragma channel 0 buffer_a filter=nearest\n\
                 void mainImage(out vec4 o, in vec2 p) {\n    \
                 vec4 a = texelFetch(iChannel0, ivec2(p), 0);\n    \
                 o = vec4(a.r * 10.24, a.g / 400.0, -a.b / 100.0, 1.0) * (a.a == 25.0 ? 1.0 : 0.0);\n}\n";
    let mut f = Fixture::new("toy-float", &[("buffer_a.glsl", buffer), ("main.glsl", image)]);
    assert!(f.status().diagnostics.is_empty(), "{:?}", f.status().diagnostics);
    let mut pixel = [0; 4];
    for _ in 1..100 {
        pixel = f.step();
    }
    // 100 frames: red 100/1024 * 10.24 = 1, green 200 / 400, blue 50 / 100; alpha 25 exactly, or all would be black.
    assert_eq!(pixel, [255, 128, 128, 255]);
}

#[test]
fn buffers_draw_in_order_with_the_common_file_before_each_pass() {
    // A holds (frame, B's value); B copies A. B is drawn after A, so A reads B's last frame: one behind.
    let common = "float value(sampler2D s) { return texelFetch(s, ivec2(0), 0).x; }\nconst float GREEN = 1.0;\n";
    let a = "#pragma channel 0 buffer_b\nvoid mainImage(out vec4 o, in vec2 p) { o = vec4(float(iFrame), value(iChannel0), 0.0, 1.0); }\n";
    let b = "#pragma channel 0 buffer_a\nvoid mainImage(out vec4 o, in vec2 p) { o = vec4(value(iChannel0), 0.0, 0.0, 1.0); }\n";
    let image = "#pragma channel 0 buffer_a\n#pragma channel 1 buffer_b\n\
                 void mainImage(out vec4 o, in vec2 p) {\n    \
                 vec4 a = texelFetch(iChannel0, ivec2(0), 0);\n    \
                 o = vec4(a.x / 255.0, a.y / 255.0, value(iChannel1) / 255.0, 1.0);\n}\n";
    let files = [("common.glsl", common), ("buffer_a.glsl", a), ("buffer_b.glsl", b), ("main.glsl", image)];
    let mut f = Fixture::new("toy-order", &files);
    assert!(f.status().diagnostics.is_empty(), "{:?}", f.status().diagnostics);
    for _ in 1..5 {
        f.step();
    }
    assert_eq!(f.step(), [5, 4, 5, 255], "frame 5: A has 5 and B's 4 from the frame before; B has 5");

    // A mistake in the Common file is reported on its line there, and each pass keeps drawing its last good version.
    std::fs::write(f.path("common.glsl"), "float value(sampler2D s) {\n    return texelFetch(s, ivec2(0), 0).x\n}\n")
        .unwrap();
    assert_eq!(f.step(), [6, 5, 6, 255]);
    let d = f.status().diagnostics.first().expect("an error").clone();
    assert_eq!((d.file, d.line), (f.path("common.glsl"), Some(3)), "{}", d.message);
    std::fs::write(f.path("common.glsl"), common).unwrap();
    assert_eq!(f.step(), [7, 6, 7, 255]);

    // A buffer removed while running: its channel reads black. Added again: it draws again.
    std::fs::remove_file(f.path("buffer_b.glsl")).unwrap();
    assert_eq!(f.step(), [8, 0, 0, 255]);
    let missing = f.status().texture_problems.get(&f.path("buffer_b.glsl")).cloned().unwrap_or_default();
    assert!(
        missing.ends_with("buffer_b.glsl: no such file: the channels that name this buffer read black"),
        "{missing:?}"
    );
    std::fs::write(f.path("buffer_b.glsl"), b).unwrap();
    f.step();
    assert_eq!(f.step(), [10, 9, 10, 255]);
    assert!(f.status().texture_problems.is_empty());
}

#[test]
fn an_image_channel_is_upright_reloads_live_and_keeps_its_last_pixels_when_the_file_goes_bad() {
    let image = "#pragma channel 1 picture.png filter=nearest\n\
                 void mainImage(out vec4 o, in vec2 p) { o = texture(iChannel1, p / iResolution.xy); }\n";
    let mut f = Fixture::new("toy-image", &[("main.glsl", image)]);
    // Top row red, green; bottom row blue, white.
    write_image(&f.path("picture.png"), 2, &[RED, GREEN, BLUE, WHITE]);
    f.step();
    let corners = |f: &Fixture| {
        let i = f.engine.image();
        [i.pixel(2, 2), i.pixel(13, 2), i.pixel(2, 13), i.pixel(13, 13)]
    };
    assert_eq!(corners(&f), [RED, GREEN, BLUE, WHITE], "the picture as a viewer shows it");
    let problem = f.status().texture_problems.get(&f.path("picture.png"));
    assert!(problem.is_none(), "{problem:?}");

    // vflip=false: the top row of the file is at the bottom, as the bytes lie in GL.
    f.edit("main.glsl", &image.replace("filter=nearest", "filter=nearest vflip=false"));
    assert_eq!(corners(&f), [BLUE, WHITE, RED, GREEN]);
    f.edit("main.glsl", image);

    // The channels' sizes; channel 0 is named by no pragma, so it is bound to nothing (not to the previous frame).
    let sizes = "#pragma channel 1 picture.png\n\
                 void mainImage(out vec4 o, in vec2 p) {\n    \
                 o = vec4(iChannelResolution[1].xy / 4.0, iChannelResolution[0].x + texture(iChannel0, vec2(0.5)).r, 1.0);\n}\n";
    assert_eq!(f.edit("main.glsl", sizes), [128, 128, 0, 255]);
    f.edit("main.glsl", image);

    // The file changes: the next frame shows the new pixels.
    write_image(&f.path("picture.png"), 1, &[[255, 255, 0, 255]]);
    assert_eq!(f.step(), [255, 255, 0, 255]);
    // Garbage: a diagnostic, and the last good pixels stay.
    std::fs::write(f.path("picture.png"), b"\x89PNG\r\n\x1a\n not really").unwrap();
    assert_eq!(f.step(), [255, 255, 0, 255]);
    let problem = f.status().texture_problems.get(&f.path("picture.png")).cloned().unwrap_or_default();
    assert!(problem.contains("not an image") && problem.ends_with("the last good pixels stay"), "{problem}");
    // A good file again clears it.
    write_image(&f.path("picture.png"), 1, &[GREEN]);
    assert_eq!(f.step(), GREEN);
    assert!(f.status().texture_problems.is_empty());
}

#[test]
fn a_cube_map_channel_reads_each_face_from_its_file() {
    let image = "#pragma channel 3 cubemap sky.jpg\n\
                 void mainImage(out vec4 o, in vec2 p) {\n    \
                 o = texture(iChannel3, p.x < 8.0 ? vec3(1.0, 0.0, 0.0) : vec3(0.0, -1.0, 0.0));\n}\n";
    let mut f = Fixture::new("toy-cube", &[("main.glsl", image)]);
    // Before the faces exist the channel reads black, with a diagnostic naming the file.
    let missing = f.status().texture_problems.get(&f.path("sky.jpg")).cloned().unwrap_or_default();
    assert!(missing.contains("cannot read it") && missing.ends_with("it reads black until it loads"), "{missing}");
    // +X red, -Y (the fourth face, sky_3) blue; JPEG, so colours come back close, not exact.
    let colours = [RED, GREEN, WHITE, BLUE, WHITE, WHITE];
    for (i, c) in colours.iter().enumerate() {
        let name = if i == 0 { "sky.jpg".to_owned() } else { format!("sky_{i}.jpg") };
        write_image(&f.path(&name), 4, &[*c; 16]);
    }
    f.step();
    let (left, right) = (f.engine.image().pixel(2, 8), f.engine.image().pixel(13, 8));
    let near = |a: [u8; 4], b: [u8; 4]| a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 8);
    assert!(near(left, RED) && near(right, BLUE), "{left:?} {right:?}");
    assert!(f.status().texture_problems.is_empty());
}

#[test]
fn the_keyboard_channel_holds_held_pressed_and_toggled_rows_by_javascript_key_code() {
    let image = "#pragma channel 2 keyboard\n\
                 void mainImage(out vec4 o, in vec2 p) {\n    \
                 o = vec4(texelFetch(iChannel2, ivec2(65, 0), 0).x, texelFetch(iChannel2, ivec2(65, 1), 0).x,\n             \
                 texelFetch(iChannel2, ivec2(65, 2), 0).x, 1.0);\n}\n";
    let mut f = Fixture::new("toy-keys", &[("main.glsl", image)]);
    assert_eq!(f.step(), [0, 0, 0, 255]);
    let key = |f: &mut Fixture, down| f.engine.send(Command::Key { code: "KeyA".into(), down });
    key(&mut f, true);
    assert_eq!(f.step(), [255, 255, 255, 255], "held, pressed this frame, toggled on");
    assert_eq!(f.step(), [255, 0, 255, 255], "the press is one frame's");
    key(&mut f, false);
    assert_eq!(f.step(), [0, 0, 255, 255]);
    key(&mut f, true);
    assert_eq!(f.step(), [255, 255, 0, 255], "toggled off by the second press");
}

#[test]
fn real_shadertoy_habits_run_a_main_image_macro_of_the_common_file_and_names_that_are_desktop_keywords() {
    // As some authors write: mainImage through a macro of the Common file, and `buffer` / `sample` as names (free in
    // Shadertoy's GLSL ES, keywords in desktop GLSL).
    let common = "#define Main void mainImage(out vec4 Q, in vec2 U)\nfloat sample(float x) { return x; }\n";
    let image = "Main {\n    float buffer = sample(0.5);\n    Q = vec4(buffer, 0.0, 1.0, 1.0);\n}\n";
    let mut f = Fixture::new("toy-habits", &[("common.glsl", common), ("main.glsl", image)]);
    let errors: Vec<_> = f.status().diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(f.step(), [128, 0, 255, 255]);
}
