//! The Lua graphics API's costs beside a frame: lockstep frames (each waited for, drawn and composed) of a plain
//! scene (one full-screen draw), of the same scene drawing 1,000 glyphs of `gfx.text` a frame, and of the same
//! scene sampling a `gfx.image` whose file (a 512x512 PNG) is saved again before every frame, so that every frame
//! decodes and uploads it.

use std::path::Path;
use std::time::Instant;

use super::{BenchOptions, Figures, Ms, io, lua_scene, write};
use crate::worker::{Clock, EngineOptions};
use crate::{Error, HeadlessEngine, Scene};

const PLAIN: &str = "local M = {}
local fill = gfx.shader('fill.glsl')
function M.draw()
  gfx.draw{ shader = fill, uniforms = { colour = { 0.2, 0.3, 0.4, 1 } } }
  EXTRA
end
return M
";

/// 20 lines of 50 characters.
const TEXT: &str = "for line = 1, 20 do
    gfx.text(string.rep(string.char(64 + line), 50), 4, line * 16, { size = 14 })
  end";

const IMAGE: &str = "gfx.draw{ shader = show, textures = { picture } }";

const SHOW: &str = "uniform sampler2D picture;\nuniform vec2 u_resolution;\nout vec4 o;\n\
                    void main() { o = texture(picture, gl_FragCoord.xy / u_resolution) * 0.5; }\n";

/// A 512x512 PNG, one of two patterns.
fn picture(which: u8) -> Vec<u8> {
    let image = image::RgbaImage::from_fn(512, 512, |x, y| {
        image::Rgba([(x as u8) ^ which, (y as u8).wrapping_mul(3), ((x + y) as u8) ^ which, 255])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    let _ = image.write_to(&mut bytes, image::ImageFormat::Png);
    bytes.into_inner()
}

/// The medians of `frames` lockstep frames of the scene in `scene`, with `before_each` run before each frame
/// (outside the time measured).
fn frames_of(
    scene: &Path,
    options: &BenchOptions,
    frames: usize,
    before_each: &mut dyn FnMut(usize) -> Result<(), Error>,
) -> Result<Ms, Error> {
    let engine_options =
        EngineOptions { clock: Clock::Lockstep, store: false, frame_budget: false, ..options.realtime() };
    let mut engine = HeadlessEngine::new(Scene::open(scene)?, engine_options)?;
    // The first frames build the shaders and lay out the first glyphs.
    for i in 0..3 {
        engine.frame_lockstep(i)?;
    }
    let mut times = Vec::with_capacity(frames);
    for i in 0..frames {
        before_each(i)?;
        let start = Instant::now();
        engine.frame_lockstep(3 + i as u64)?;
        times.push(start.elapsed());
    }
    Ok(Ms::of(&times))
}

pub(super) fn api(dir: &Path, options: &BenchOptions, figures: &mut Figures) -> Result<String, Error> {
    let frames = (options.edits * 6).clamp(20, 120);
    let plain = lua_scene(dir, "api-plain", &PLAIN.replace("EXTRA", ""))?;
    let text = lua_scene(dir, "api-text", &PLAIN.replace("EXTRA", TEXT))?;
    let image_main = PLAIN.replace("EXTRA", IMAGE).replace(
        "function M.draw()",
        "local show = gfx.shader('show.glsl')\nlocal picture = gfx.image('picture.png')\nfunction M.draw()",
    );
    let image = lua_scene(dir, "api-image", &image_main)?;
    write(&image.join("show.glsl"), SHOW)?;
    let pictures = [picture(0), picture(0x55)];
    let file = image.join("picture.png");
    let saved = image.join("picture.png.new");
    std::fs::write(&file, &pictures[1]).map_err(io(&file))?;

    let base = frames_of(&plain, options, frames, &mut |_| Ok(()))?;
    let with_text = frames_of(&text, options, frames, &mut |_| Ok(()))?;
    // Saved as an editor saves: a new file renamed over the old one.
    let with_image = frames_of(&image, options, frames, &mut |i| {
        std::fs::write(&saved, &pictures[i % 2]).map_err(io(&saved))?;
        std::fs::rename(&saved, &file).map_err(io(&file))
    })?;
    let (b, t, m) = (base.median(), with_text.median(), with_image.median());
    figures.extend([
        ("api_frame_plain_median_ms", b),
        ("api_frame_text_1000_glyphs_median_ms", t),
        ("api_text_1000_glyphs_over_plain", t / b),
        ("api_frame_image_reload_median_ms", m),
        ("api_image_reload_over_plain", m / b),
    ]);
    Ok(format!(
        "Lua API beside a frame: {frames} lockstep frames each, {}x{}\n\
         \x20 plain frame (one full-screen draw): median {b:.2} ms\n\
         \x20 + gfx.text of 1,000 glyphs (20 lines of 50): median {t:.2} ms (x{:.2}, +{:.2} ms)\n\
         \x20 + a 512x512 PNG gfx.image reloaded every frame: median {m:.2} ms (x{:.2}, +{:.2} ms)\n",
        options.size.0,
        options.size.1,
        t / b,
        t - b,
        m / b,
        m - b,
    ))
}
