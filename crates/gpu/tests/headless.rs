//! The GPU layer on a real driver (llvmpipe on CI): a headless 4.5 core context, exact pixels read back, and a
//! texture rendered on one thread's shared context and sampled on another's.

use std::time::Duration;

use allsource_gpu::{Fence, FullscreenTriangle, Image, Program, Stage, Target, headless};
use allsource_shader::FULLSCREEN_VERTEX;

const GRADIENT: &str = "#version 450 core
in vec2 uv;
layout(location = 0) out vec4 colour;
uniform float u_blue;
void main() { colour = vec4(floor(gl_FragCoord.x) / 255.0, floor(gl_FragCoord.y) / 255.0, u_blue, 1.0); }
";

#[test]
fn headless_context_is_opengl_45_core_and_robust() {
    let context = headless().expect("a headless OpenGL context");
    assert!(context.info.version.starts_with("4.5") || context.info.version.starts_with("4.6"), "{:?}", context.info);
    assert!(context.info.robust, "the context should lose itself on reset: {:?}", context.info);
}

#[test]
fn a_known_shader_renders_known_pixels() {
    let context = headless().expect("a headless OpenGL context");
    let gl = &context.gl;
    let target = Target::new(gl, 16, 8).unwrap();
    let program =
        Program::build_simple(gl, &[(Stage::Vertex, FULLSCREEN_VERTEX), (Stage::Fragment, GRADIENT)]).unwrap();
    let triangle = FullscreenTriangle::new(gl).unwrap();
    target.frame_target().bind(gl);
    program.use_program(gl);
    program.set_f32(gl, "u_blue", 1.0);
    triangle.draw(gl);
    let image = Image::read(gl, &target.frame_target());
    assert_eq!((image.width, image.height), (16, 8));
    // Row 0 of the image is the top row: GL's y = 7.
    assert_eq!(image.pixel(0, 0), [0, 7, 255, 255]);
    assert_eq!(image.pixel(15, 7), [15, 0, 255, 255]);
    assert_eq!(image.pixel(3, 5), [3, 2, 255, 255]);
}

#[test]
fn a_build_failure_returns_the_driver_log() {
    let context = headless().expect("a headless OpenGL context");
    let broken = "#version 450 core\nout vec4 c;\nvoid main() { c = vec4(1.0) }\n";
    let logs = Program::build(&context.gl, &[(Stage::Vertex, FULLSCREEN_VERTEX), (Stage::Fragment, broken)])
        .expect_err("a missing semicolon must not build");
    assert_eq!(logs.len(), 1, "only the fragment stage says something: {logs:?}");
    assert_eq!(logs[0].stage, Some(Stage::Fragment));
    assert!(logs[0].log.contains("0:3("), "the driver's log names line 3: {logs:?}");
}

#[test]
fn a_texture_rendered_on_a_worker_thread_is_sampled_by_the_main_context() {
    let main = headless().expect("a headless OpenGL context");
    let shared = main.share().expect("a context in the same share group");
    let (texture, fence) = std::thread::spawn(move || {
        let worker = shared.make_current().expect("the shared context becomes current on the worker thread");
        let gl = &worker.gl;
        let target = Target::new(gl, 4, 4).unwrap();
        target.frame_target().clear(gl, [1.0, 0.5, 0.0, 1.0], None);
        let fence = Fence::insert(gl).unwrap();
        // The texture outlives this thread's context: textures belong to the share group.
        (target.texture, fence)
    })
    .join()
    .unwrap();
    let gl = &main.gl;
    assert!(fence.wait(gl, Duration::from_secs(5)), "the worker's fence signals");
    fence.delete(gl);
    let out = Target::new(gl, 4, 4).unwrap();
    let blit =
        "#version 450 core\nin vec2 uv;\nout vec4 c;\nuniform sampler2D t;\nvoid main() { c = texture(t, uv); }\n";
    let program = Program::build_simple(gl, &[(Stage::Vertex, FULLSCREEN_VERTEX), (Stage::Fragment, blit)]).unwrap();
    let triangle = FullscreenTriangle::new(gl).unwrap();
    out.frame_target().bind(gl);
    program.use_program(gl);
    triangle.bind_texture(gl, texture);
    triangle.draw(gl);
    let image = Image::read(gl, &out.frame_target());
    assert_eq!(image.pixel(2, 2), [255, 128, 0, 255]);
}

/// The editor's opaque tiles are copied in with `Blitter::copy_regions`: exactly those rectangles, texel for pixel,
/// and the rest of the target as it was.
#[test]
fn copied_regions_are_exactly_the_rectangles_asked_for() {
    use allsource_gpu::Blitter;
    let context = headless().expect("a headless OpenGL context");
    let gl = &context.gl;
    let (source, target) = (Target::new(gl, 16, 8).unwrap(), Target::new(gl, 16, 8).unwrap());
    // The source: each texel its own (x, y) from the bottom-left; the target: grey.
    let pixels: Vec<u8> = (0..8u8).flat_map(|y| (0..16u8).flat_map(move |x| [x, y, 200, 255])).collect();
    source.upload_rgba8(gl, 16, 8, &pixels);
    target.frame_target().clear(gl, [0.5, 0.5, 0.5, 1.0], None);
    let blitter = Blitter::new(gl).unwrap();
    let rects = [[0, 0, 4, 2], [10, 5, 6, 3]];
    assert!(blitter.copy_regions(gl, source.texture, &target.frame_target(), &rects));
    let image = Image::read(gl, &target.frame_target());
    for y in 0..8u32 {
        for x in 0..16u32 {
            let gl_y = 7 - y; // image rows run from the top
            let inside = rects
                .iter()
                .any(|&[rx, ry, w, h]| (rx..rx + w).contains(&(x as i32)) && (ry..ry + h).contains(&(gl_y as i32)));
            let expected = if inside { [x as u8, gl_y as u8, 200, 255] } else { [128, 128, 128, 255] };
            let got = image.pixel(x, y);
            assert!(got.iter().zip(expected).all(|(g, e)| g.abs_diff(e) <= 1), "({x}, {gl_y}): {got:?}");
        }
    }
    blitter.delete(gl);
    source.delete(gl);
    target.delete(gl);
}
