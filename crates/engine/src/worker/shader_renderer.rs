//! Draws a shader scene: Shadertoy's passes (Buffers A-D in float targets, then the image pass into the frame),
//! each with the uniforms the engine sets and its channels bound; or one shader drawn full screen (or as its
//! `#pragma draw` says).
//!
//! A scene's files: `main.glsl` (the image pass), `buffer_a.glsl` ... `buffer_d.glsl`, and `common.glsl`, whose code
//! comes before each pass's in Shadertoy mode. Buffers and the Common file may be added or removed while it runs.

use std::path::{Path, PathBuf};

use allsource_gpu::{
    ColourFormat, FrameTarget, FullscreenTriangle, Gl, GpuError, Target, bind_cube_texture, bind_texture, glow,
    patch_vertices, unbind_units,
};
use allsource_gpu::{Filter, ImageUpload, Sampler};
use allsource_live::Report;
use allsource_shader::{CHANNEL_NAMES, Channel, PassOptions, Primitive, SHADERTOY_UNIFORMS, Source};

use super::FrameClock;
use super::channels::{ChannelTextures, FileTexture};
use super::protocol::StartFrom;
use super::shadertoy_input::{Keyboard, Pointer, shadertoy_date};
use crate::file_texture::UPRIGHT;
use crate::scene::{BUFFER_FILES, COMMON_FILE};
use crate::shader::{Linked, LiveShader};

/// Uniforms a shader scene's renderer sets every frame: not for the tweak bar.
///
/// Outside Shadertoy mode: `float u_time` (seconds), `vec2 u_resolution` (pixels), `int u_frame`, `float u_fps`, and
/// `sampler2D u_previous`, the pass's previous frame (black at first). In Shadertoy mode: Shadertoy's uniforms
/// (`iMouse` from the pointer over the scene with Shadertoy's signs, `iDate` from the wall clock, fixed in lockstep)
/// and the channels.
pub(super) fn engine_uniforms() -> Vec<&'static str> {
    let shadertoy = SHADERTOY_UNIFORMS.iter().map(|(_, name)| name.split('[').next().unwrap_or(name));
    ["u_time", "u_resolution", "u_frame", "u_fps", "u_previous"]
        .into_iter()
        .chain(shadertoy)
        .chain(CHANNEL_NAMES)
        .collect()
}

/// What a frame shows while a scene has no program that ever built.
pub(super) const NO_PROGRAM_COLOUR: [f32; 4] = [0.12, 0.12, 0.14, 1.0];

/// A buffer pass: its shader and the two float targets it draws into in turn.
struct BufferPass {
    /// 0 for Buffer A ... 3 for Buffer D.
    index: u8,
    shader: LiveShader,
    frames: Vec<Target>,
    /// Which of `frames` holds the frame drawn last.
    latest: usize,
    /// Made since the last look at the files: its file is read whatever the disk gate remembers of it (a file
    /// removed and written again with the same text is new to this pass).
    fresh: bool,
}

impl BufferPass {
    fn last_frame(&self) -> Option<Bound> {
        self.frames.get(self.latest).map(Bound::target)
    }
}

/// A texture bound to a channel.
#[derive(Clone, Copy)]
struct Bound {
    texture: glow::NativeTexture,
    cube: bool,
    size: (u32, u32),
}

impl Bound {
    fn target(t: &Target) -> Bound {
        Bound { texture: t.texture, cube: false, size: (t.width, t.height) }
    }
}

pub(super) struct ShaderRenderer {
    /// The image pass (`main.glsl`): drawn into the frame.
    pub(super) image: LiveShader,
    /// The buffers whose files exist, A to D: drawn before the image pass, in that order.
    buffers: Vec<BufferPass>,
    dir: PathBuf,
    common: Option<PathBuf>,
    pub(super) textures: ChannelTextures,
    pub(super) keyboard: Keyboard,
    pub(super) pointer: Pointer,
    triangle: FullscreenTriangle,
    /// How many buffer versions went live: with the image pass's live version, the scene's generation.
    buffer_generations: u64,
    /// The source whose version went live last: what a frame past the GPU timeout reverts.
    last_live: PathBuf,
    /// Buffer files a channel names that do not exist, told to the console once (until they appear).
    missing_buffers: Vec<PathBuf>,
}

impl ShaderRenderer {
    /// The scene whose image pass is `path`, each pass starting from `start`'s text for it when there is one (a
    /// replacement worker, a new session); the files are read at the first frame and build as the next versions.
    pub(super) fn new(gl: &Gl, path: PathBuf, start: &StartFrom) -> Result<(ShaderRenderer, Vec<Report>), GpuError> {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let common = Some(dir.join(COMMON_FILE)).filter(|c| c.is_file());
        let mut r = ShaderRenderer {
            image: LiveShader::pass(path.clone(), PassOptions { common: common.clone(), keeps_alpha: false }),
            buffers: Vec::new(),
            dir,
            common,
            textures: ChannelTextures::new(gl)?,
            keyboard: Keyboard::default(),
            pointer: Pointer::default(),
            triangle: FullscreenTriangle::new(gl)?,
            buffer_generations: 0,
            last_live: path,
            missing_buffers: Vec::new(),
        };
        r.find_buffers(gl);
        let mut reports = Vec::new();
        for shader in r.shaders_mut() {
            let path = shader.path().to_path_buf();
            if let Some((_, older)) = start.history.iter().find(|(p, _)| *p == path) {
                shader.seed(older);
            }
            if let Some((_, text)) = start.texts.iter().find(|(p, _)| *p == path) {
                reports.push(shader.edit(gl, text));
            }
        }
        let reports = r.count(reports);
        Ok((r, reports))
    }

    fn shaders_mut(&mut self) -> impl Iterator<Item = &mut LiveShader> {
        std::iter::once(&mut self.image).chain(self.buffers.iter_mut().map(|b| &mut b.shader))
    }

    fn shaders(&self) -> impl Iterator<Item = &LiveShader> {
        std::iter::once(&self.image).chain(self.buffers.iter().map(|b| &b.shader))
    }

    /// The shader of the pass `path`, if it is one of this scene's passes.
    pub(super) fn shader(&self, path: &Path) -> Option<&LiveShader> {
        self.shaders().find(|s| allsource_live::same_file(s.path(), path))
    }

    /// The live shader for `path`, if it is one of this scene's passes.
    pub(super) fn shader_for(&mut self, path: &Path) -> Option<&mut LiveShader> {
        self.shaders_mut().find(|s| allsource_live::same_file(s.path(), path))
    }

    /// Notes the versions that went live in `reports` (the generation, what a GPU timeout reverts).
    pub(super) fn count(&mut self, reports: Vec<Report>) -> Vec<Report> {
        for r in reports.iter().filter(|r| r.became_live) {
            self.last_live = r.path.clone();
            if r.path.as_path() != self.image.path() {
                self.buffer_generations += 1;
            }
        }
        reports
    }

    /// The scene's generation: the image pass's live version, plus the buffer versions that went live.
    pub(super) fn generation(&self) -> Option<u64> {
        self.image.live_version().map(|v| v + self.buffer_generations)
    }

    /// The shader a frame past the GPU timeout reverts: the one that went live last.
    pub(super) fn last_live(&mut self) -> &mut LiveShader {
        let path = self.last_live.clone();
        match self.buffers.iter().position(|b| b.shader.path() == path.as_path()) {
            Some(i) => &mut self.buffers[i].shader,
            None => &mut self.image,
        }
    }

    /// Adds the buffers whose files appeared and drops those whose files went away.
    fn find_buffers(&mut self, gl: &Gl) {
        for (index, name) in BUFFER_FILES.iter().enumerate() {
            let path = self.dir.join(name);
            let at = self.buffers.iter().position(|b| usize::from(b.index) == index);
            match (path.is_file(), at) {
                (true, None) => {
                    if let Some(at) = self.missing_buffers.iter().position(|m| *m == path) {
                        self.missing_buffers.remove(at);
                        self.textures.news.push((path.clone(), None));
                    }
                    let pass = PassOptions { common: self.common.clone(), keeps_alpha: true };
                    let shader = LiveShader::pass(path, pass);
                    let buffer = BufferPass { index: index as u8, shader, frames: Vec::new(), latest: 0, fresh: true };
                    let at =
                        self.buffers.iter().position(|b| usize::from(b.index) > index).unwrap_or(self.buffers.len());
                    self.buffers.insert(at, buffer);
                }
                (false, Some(at)) => {
                    let mut gone = self.buffers.remove(at);
                    gone.shader.free(gl);
                    for t in gone.frames.drain(..) {
                        t.delete(gl);
                    }
                }
                _ => {}
            }
        }
    }

    /// Looks at the scene's files: the Common file and buffers coming or going, sources and textures changed.
    pub(super) fn poll(&mut self, gl: &Gl, gate: allsource_live::Gate) -> Vec<Report> {
        let mut reports = Vec::new();
        let common = Some(self.dir.join(COMMON_FILE)).filter(|c| c.is_file());
        if common != self.common {
            self.common = common.clone();
            for shader in self.shaders_mut() {
                let report = shader.set_common(gl, common.clone());
                if report.version.is_some() {
                    reports.push(report);
                }
            }
        }
        self.find_buffers(gl);
        reports.extend(self.image.poll_files(gl, &mut *gate));
        for b in &mut self.buffers {
            let admit_all = &mut |_: &Path, _: &str| true;
            let gate = if std::mem::take(&mut b.fresh) { admit_all } else { &mut *gate };
            reports.extend(b.shader.poll_files(gl, gate));
        }
        let used: Vec<FileTexture> = self
            .shaders()
            .filter_map(LiveShader::linked)
            .flat_map(|l| l.channels.iter().filter_map(|c| self.file_texture(c)))
            .collect();
        self.textures.poll(gl, &used);
        // A missing buffer no channel names any more is no longer news.
        let named: Vec<PathBuf> = self
            .shaders()
            .filter_map(LiveShader::linked)
            .flat_map(|l| l.channels.iter())
            .filter_map(|c| match c.source {
                Source::Buffer(k) => Some(self.dir.join(BUFFER_FILES[usize::from(k)])),
                _ => None,
            })
            .collect();
        let (still, gone): (Vec<PathBuf>, Vec<PathBuf>) =
            std::mem::take(&mut self.missing_buffers).into_iter().partition(|m| named.contains(m));
        self.missing_buffers = still;
        self.textures.news.extend(gone.into_iter().map(|path| (path, None)));
        self.count(reports)
    }

    /// The file texture a channel reads, if it reads one.
    fn file_texture(&self, channel: &Channel) -> Option<FileTexture> {
        match &channel.source {
            Source::Image(name) => Some(FileTexture {
                path: self.dir.join(name),
                cube: false,
                how: ImageUpload { flip: channel.vflip, ..UPRIGHT },
            }),
            Source::Cubemap(name) => Some(FileTexture { path: self.dir.join(name), cube: true, how: UPRIGHT }),
            _ => None,
        }
    }

    /// A frame was drawn: the passes' live versions ran, and the inputs it saw are spent.
    pub(super) fn frame_ran(&mut self) {
        for shader in self.shaders_mut() {
            shader.mark_ran();
        }
        self.pointer.frame_drawn();
        self.keyboard.frame_drawn();
    }

    /// Draws the buffers, then the image pass into `target`. `previous` is the frame drawn before (the image pass's
    /// own previous frame).
    pub(super) fn draw(&mut self, gl: &Gl, target: &FrameTarget, clock: &FrameClock, previous: Option<PreviousFrame>) {
        let size = (target.width, target.height);
        for i in 0..self.buffers.len() {
            if let Err(e) = self.draw_buffer(gl, i, size, clock) {
                tracing::warn!("{}: {e}", self.buffers[i].shader.path().display());
            }
        }
        target.bind(gl);
        let Some(channels) = self.image.linked().filter(|l| !l.compute).map(|l| l.channels.clone()) else {
            target.clear(gl, NO_PROGRAM_COLOUR, None);
            return;
        };
        let previous = previous.map(|(texture, w, h)| Bound { texture, cube: false, size: (w, h) });
        let bound = self.bind_channels(gl, &channels, previous);
        if let Some(linked) = self.image.linked() {
            self.draw_pass(gl, linked, size, clock, &bound);
        }
        unbind_units(gl, 4);
    }

    /// Draws buffer `i` into its other target at `size` (made, and cleared, when it has none of that size).
    fn draw_buffer(&mut self, gl: &Gl, i: usize, size: (u32, u32), clock: &FrameClock) -> Result<(), GpuError> {
        let buffer = &mut self.buffers[i];
        if buffer.frames.len() != 2 || buffer.frames.iter().any(|t| (t.width, t.height) != size) {
            for t in buffer.frames.drain(..) {
                t.delete(gl);
            }
            // Both or neither: a pair half made (out of memory) is made again next frame.
            let first = Target::with_format(gl, size.0, size.1, ColourFormat::Rgba32F)?;
            let second = match Target::with_format(gl, size.0, size.1, ColourFormat::Rgba32F) {
                Ok(t) => t,
                Err(e) => {
                    first.delete(gl);
                    return Err(e);
                }
            };
            for t in [&first, &second] {
                t.frame_target().clear(gl, [0.0; 4], None);
                t.generate_mipmaps(gl);
            }
            buffer.frames = vec![first, second];
        }
        let Some(channels) = buffer.shader.linked().filter(|l| !l.compute).map(|l| l.channels.clone()) else {
            return Ok(());
        };
        let own = buffer.last_frame();
        let into = 1 - buffer.latest;
        let bound = self.bind_channels(gl, &channels, own);
        let buffer = &self.buffers[i];
        buffer.frames[into].frame_target().bind(gl);
        if let Some(linked) = buffer.shader.linked() {
            self.draw_pass(gl, linked, size, clock, &bound);
        }
        unbind_units(gl, 4);
        // Mipmaps when a pass samples this buffer with them: another pass by its name, or this one as `previous`.
        let index = self.buffers[i].index;
        let mipmapped = |c: &Channel| c.filter == Filter::Mipmap;
        let wants_mipmaps = channels.iter().any(|c| c.source == Source::Previous && mipmapped(c))
            || self
                .shaders()
                .filter_map(LiveShader::linked)
                .flat_map(|l| &l.channels)
                .any(|c| c.source == Source::Buffer(index) && mipmapped(c));
        let buffer = &mut self.buffers[i];
        buffer.latest = into;
        if wants_mipmaps {
            buffer.frames[into].generate_mipmaps(gl);
        }
        Ok(())
    }

    /// Binds channel N's texture and sampler to texture unit N. `own` is the pass's previous frame. Returns what
    /// each channel is bound to.
    fn bind_channels(&mut self, gl: &Gl, channels: &[Channel; 4], own: Option<Bound>) -> [Option<Bound>; 4] {
        let mut bound = [None; 4];
        for (unit, channel) in channels.iter().enumerate() {
            let texture = match &channel.source {
                Source::Nothing => None,
                Source::Previous => own,
                Source::Buffer(k) => match self.buffers.iter().find(|b| b.index == *k) {
                    Some(buffer) => buffer.last_frame(),
                    None => {
                        let path = self.dir.join(BUFFER_FILES[usize::from(*k)]);
                        if !self.missing_buffers.contains(&path) {
                            let problem = format!(
                                "{}: no such file: the channels that name this buffer read black",
                                path.display()
                            );
                            self.textures.news.push((path.clone(), Some(problem)));
                            self.missing_buffers.push(path);
                        }
                        None
                    }
                },
                Source::Image(_) | Source::Cubemap(_) => {
                    let what = self.file_texture(channel);
                    what.and_then(|w| self.textures.file(gl, &w)).map(|t| Bound {
                        texture: t.raw(),
                        cube: t.kind == allsource_gpu::PixelKind::Cube,
                        size: (t.width, t.height),
                    })
                }
                Source::Keyboard => self.textures.keyboard(gl, &mut self.keyboard).map(|t| Bound {
                    texture: t.raw(),
                    cube: false,
                    size: (t.width, t.height),
                }),
            };
            let Some(texture) = texture else { continue };
            let unit = unit as u32;
            if texture.cube {
                bind_cube_texture(gl, unit, Some(texture.texture));
            } else {
                bind_texture(gl, unit, Some(texture.texture));
            }
            Sampler::bind(gl, unit, self.textures.sampler(channel.filter, channel.wrap));
            bound[unit as usize] = Some(texture);
        }
        bound
    }

    /// Draws one pass with its uniforms set; its channels are bound.
    fn draw_pass(&self, gl: &Gl, linked: &Linked, size: (u32, u32), clock: &FrameClock, channels: &[Option<Bound>; 4]) {
        let p = &linked.program;
        let (w, h) = (size.0 as f32, size.1 as f32);
        p.use_program(gl);
        if linked.shadertoy {
            p.set_vec(gl, "iResolution", &[w, h, 1.0]);
            p.set_f32(gl, "iTime", clock.time as f32);
            p.set_f32(gl, "iTimeDelta", clock.delta as f32);
            p.set_f32(gl, "iFrameRate", clock.fps as f32);
            p.set_i32(gl, "iFrame", clock.index as i32);
            p.set_vec(gl, "iMouse", &self.pointer.shadertoy(h));
            p.set_vec(gl, "iDate", &shadertoy_date(clock));
            // Shadertoy's sound output rate (allsource plays no sound: the value shaders compute with).
            p.set_f32(gl, "iSampleRate", 44100.0);
            let mut resolutions = [0.0f32; 12];
            let mut times = [0.0f32; 4];
            for (i, c) in channels.iter().enumerate() {
                p.set_i32(gl, CHANNEL_NAMES[i], i as i32);
                if let Some(c) = c {
                    resolutions[i * 3..i * 3 + 3].copy_from_slice(&[c.size.0 as f32, c.size.1 as f32, 1.0]);
                    // A bound channel plays along with the scene (Shadertoy's media time for video and sound).
                    times[i] = clock.time as f32;
                }
            }
            p.set_f32_array(gl, "iChannelResolution", 3, &resolutions);
            p.set_f32_array(gl, "iChannelTime", 1, &times);
        } else {
            p.set_f32(gl, "u_time", clock.time as f32);
            p.set_vec(gl, "u_resolution", &[w, h]);
            p.set_i32(gl, "u_frame", clock.index as i32);
            p.set_f32(gl, "u_fps", clock.fps as f32);
            p.set_i32(gl, "u_previous", 0);
        }
        if linked.builtin_vertex {
            self.triangle.draw(gl);
        } else {
            let d = linked.draw;
            if d.mode == Primitive::Patches {
                patch_vertices(gl, d.patch as i32);
            }
            self.triangle.draw_arrays(gl, d.mode, d.count as i32, d.instances as i32);
        }
    }

    pub(super) fn free(&mut self, gl: &Gl) {
        for shader in self.shaders_mut() {
            shader.free(gl);
        }
        for b in &mut self.buffers {
            for t in b.frames.drain(..) {
                t.delete(gl);
            }
        }
        self.textures.free(gl);
        // The triangle's VAO is per context and dies with the worker's context.
    }
}

/// The frame drawn before, as the worker hands it over: texture, width, height.
pub(super) type PreviousFrame = (glow::NativeTexture, u32, u32);
