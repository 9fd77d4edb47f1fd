//! `allsource import shadertoy`: a JSON export in Shadertoy's format (Image reading Buffer A and the keyboard,
//! Buffer A reading itself and a texture, Common, and a Sound pass) becomes a scene that renders with one command.

mod common;

use common::{allsource, fresh_dir, run};

/// Shadertoy's API answer for a shader with an Image pass, Buffer A, Common and Sound, as the site writes it:
/// inputs name their buffer by output id, samplers give booleans as strings, media live under /media/.
const EXPORT: &str = r##"{"Shader": {"ver": "0.1",
 "info": {"id": "XtT3zA", "date": "1700000000", "viewed": 12, "name": "float counter", "username": "someone",
          "description": "counts in a float buffer", "likes": 1, "published": 3, "flags": 32, "tags": ["buffer"]},
 "renderpass": [
  {"inputs": [
     {"id": "4dXGR8", "filepath": "/media/previz/buffer00.png", "previewfilepath": "/media/previz/buffer00.png",
      "type": "buffer", "channel": 0,
      "sampler": {"filter": "nearest", "wrap": "clamp", "vflip": "true", "srgb": "false", "internal": "byte"},
      "published": 1},
     {"id": "4dXGRr", "filepath": "/presets/tex00.jpg", "type": "keyboard", "channel": 1,
      "sampler": {"filter": "nearest", "wrap": "clamp", "vflip": "true", "srgb": "false", "internal": "byte"},
      "published": 1},
     {"id": "4dX3Rr", "filepath": "/media/previz/cubemap00.png", "type": "cubemap", "channel": 2,
      "sampler": {"filter": "linear", "wrap": "clamp", "vflip": "false", "srgb": "false", "internal": "byte"},
      "published": 1}],
   "outputs": [{"id": "4dfGRr", "channel": 0}],
   "code": "void mainImage(out vec4 fragColor, in vec2 fragCoord)\n{\n    vec4 a = texelFetch(iChannel0, ivec2(fragCoord), 0);\n    float held = texelFetch(iChannel1, ivec2(65, 0), 0).x;\n    fragColor = vec4(a.r * 10.24, a.g, held, 1.0);\n}",
   "name": "Image", "description": "", "type": "image"},
  {"inputs": [
     {"id": "4dXGR8", "filepath": "/media/previz/buffer00.png", "type": "buffer", "channel": 0,
      "sampler": {"filter": "nearest", "wrap": "clamp", "vflip": "true", "srgb": "false", "internal": "byte"},
      "published": 1},
     {"id": "XsX3Rn", "filepath": "/media/a/cd4c518bc6ef165c39d4405b347b51ba40f8d7a065ab0e8d2e4f422cbc1e8a43.jpg",
      "type": "texture", "channel": 1,
      "sampler": {"filter": "mipmap", "wrap": "repeat", "vflip": "false", "srgb": "false", "internal": "byte"},
      "published": 1}],
   "outputs": [{"id": "4dXGR8", "channel": 0}],
   "code": "void mainImage(out vec4 fragColor, in vec2 fragCoord)\n{\n    vec4 last = texelFetch(iChannel0, ivec2(fragCoord), 0);\n    fragColor = last + vec4(STEP, 0.0, 0.0, 0.0) + vec4(0.0, texture(iChannel1, vec2(0.5)).r, 0.0, 0.0);\n}",
   "name": "Buffer A", "description": "", "type": "buffer"},
  {"inputs": [], "outputs": [], "code": "#define STEP (1.0 / 1024.0)", "name": "Common", "description": "",
   "type": "common"},
  {"inputs": [], "outputs": [{"id": "4sXGRn", "channel": 0}],
   "code": "vec2 mainSound(int samp, float time) { return vec2(sin(6.2831 * 440.0 * time)); }", "name": "Sound",
   "description": "", "type": "sound"}
 ]}}"##;

#[test]
fn an_export_with_buffers_common_and_channels_imports_into_a_scene_that_renders() {
    let work = fresh_dir("import", "counter");
    let json = work.join("counter.json");
    std::fs::write(&json, EXPORT).unwrap();
    let scene = work.join("counter");
    let output = run(allsource(&["import", "shadertoy"]).arg(&json).arg(&scene));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    // The files of the scene, with the channels as pragmas.
    let read = |name: &str| std::fs::read_to_string(scene.join(name)).unwrap();
    assert!(read("main.glsl").starts_with(
        "#pragma channel 0 buffer_a filter=nearest wrap=clamp\n#pragma channel 1 keyboard filter=nearest wrap=clamp\n"
    ));
    let texture = "cd4c518bc6ef165c39d4405b347b51ba40f8d7a065ab0e8d2e4f422cbc1e8a43.jpg";
    assert!(
        read("buffer_a.glsl").contains(&format!("#pragma channel 1 {texture} filter=mipmap wrap=repeat vflip=false\n"))
    );
    assert_eq!(read("common.glsl"), "#define STEP (1.0 / 1024.0)\n");
    // The sound pass is left out and said so; the texture to provide is named.
    assert!(stdout.contains("pass `Sound` (sound): allsource has no sound passes; left out"), "{stdout}");
    assert!(stdout.contains(&format!("  {texture}")), "{stdout}");
    // The output of a Cube A pass is not a file to provide.
    assert!(stdout.contains("Image: channel 2 reads the Cube A pass, which allsource does not have"), "{stdout}");
    assert!(!stdout.contains("cubemap00"), "{stdout}");
    // It is bound as a cube map all the same (code samples it with a direction): black until its files are there.
    assert!(read("main.glsl").contains("#pragma channel 2 cubemap cube_a.png filter=linear wrap=clamp\n"));

    // It renders with one command: 100 frames add 100/1024 in Buffer A's float red, shown as 1.0; the missing texture
    // reads black.
    let png = work.join("counter.png");
    let output = run(allsource(&["render"]).arg(&scene).args(["--frames", "100", "--size", "8x8", "--out"]).arg(&png));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut rgba = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut rgba).unwrap();
    assert_eq!(rgba[..4], [255, 0, 0, 255]);

    // A second import into the same directory writes nothing and says why.
    let again = run(allsource(&["import", "shadertoy"]).arg(&json).arg(&scene));
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("exists: import into a new directory"), "{stderr}");
    // Not an export: a clear error, nothing made.
    std::fs::write(work.join("bad.json"), "{\"Shader\": {\"info\": {}}}").unwrap();
    let bad = run(allsource(&["import", "shadertoy"]).arg(work.join("bad.json")).arg(work.join("bad")));
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no `renderpass` list"));
    assert!(!work.join("bad").exists());
    // A directory holding a pass file of another scene: it would join this one (a Common file before every pass).
    std::fs::create_dir_all(work.join("stale")).unwrap();
    std::fs::write(work.join("stale/common.glsl"), "#define OLD 1\n").unwrap();
    let stale = run(allsource(&["import", "shadertoy"]).arg(&json).arg(work.join("stale")));
    assert!(!stale.status.success());
    assert!(String::from_utf8_lossy(&stale.stderr).contains("common.glsl exists"));
    assert!(!work.join("stale/main.glsl").exists());
}
