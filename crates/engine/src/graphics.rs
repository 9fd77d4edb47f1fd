//! The engine API that Lua modules call (`gfx`, `input`), implemented on GL: shaders by path (live, rebuilt when
//! their files change), buffers, render targets, draws of every kind, dispatches, transform feedback. Lua holds
//! handles; this table owns the GL objects, frees each when Lua collects its handle, and frees all of a module's
//! objects when the module is unloaded.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use allsource_gpu::{
    Attachments, Blend, Buffer, BufferTarget, ColourFormat, DrawState, FrameTarget, FullscreenTriangle, Gl, GlInfo,
    GpuError, GpuTimer, Sampler, Samplers, Scalar, Target, Timing, UniformValue, barrier, bind_texture,
    capture_feedback, dispatch, dispatch_indirect, draw_arrays_indirect, draw_elements, draw_elements_indirect,
    multi_draw_elements_indirect, patch_vertices, unbind_units,
};
use allsource_live::Report;

use crate::file_texture::{FileTexture, Loaded, TextureNews, UPRIGHT};
use allsource_lua::{
    Attachment, BlendMode, DispatchCall, DrawCall, Graphics, Id, ImageOptions, Owner, Primitive, TargetFormat,
    TargetSpec, TextCall, TextureUse,
};

use crate::text::TextPainter;

use crate::shader::LiveShader;

enum Resource {
    Shader(PathBuf),
    Buffer(Buffer),
    Target(Target),
    /// An image file's texture (`gfx.image`), loaded again when the file changes.
    Image(Loaded),
}

/// Frames between two GPU timings where timing waits on a fence.
const FENCE_SAMPLE: u64 = 16;

/// The Lua scene's GL objects and the frame it draws into.
pub struct EngineGraphics {
    gl: Gl,
    dir: PathBuf,
    next: Id,
    resources: HashMap<Id, (Owner, Resource)>,
    /// The GPU memory guest code may hold in buffers, targets and images (none for the scene: it is trusted).
    pub gpu_budget: Option<u64>,
    /// Bytes of GPU memory each buffer, target and image holds, as counted against the budget.
    held: HashMap<Id, u64>,
    /// The budget refused something since the last look.
    refused: std::cell::Cell<bool>,
    /// Live shaders by file, with how many handles refer to each.
    shaders: HashMap<PathBuf, (LiveShader, usize)>,
    vao: Option<FullscreenTriangle>,
    /// One sampler per filter and wrap, for textures drawn with a sampling of their own (until freed).
    samplers: Option<Samplers>,
    /// `gfx.text`'s fonts and painter, made at the first text drawn.
    text: Option<TextPainter>,
    pub frame: FrameTarget,
    pub time: f64,
    pub index: u64,
    pub keys: HashSet<String>,
    /// Mouse buttons held over the scene (1 primary, 2 secondary, 3 middle).
    pub buttons: HashSet<u8>,
    pub mouse: (f32, f32),
    /// Builds of shaders since the last look.
    pub reports: Vec<Report>,
    /// The shader whose version went live last: the one a GPU timeout reverts.
    pub last_changed_shader: Option<PathBuf>,
    /// Image files that could not be loaded, or load again: for the console.
    pub texture_news: Vec<TextureNews>,
    /// GPU time of each draw and dispatch, by the module owning its shader: pending, and gathered.
    timer: GpuTimer,
    timings: Vec<(Owner, Timing)>,
    gpu_time: Vec<(Owner, Duration)>,
    /// What a shader starts from instead of only its file, when a module first asks for it: versions of an earlier
    /// session (oldest first) and the last good text (a replacement worker's, or the previous session's).
    pub starts: HashMap<PathBuf, (Vec<String>, String)>,
}

impl EngineGraphics {
    pub fn new(gl: Gl, dir: &Path, info: &GlInfo) -> Result<EngineGraphics, GpuError> {
        let vao = FullscreenTriangle::new(&gl)?;
        let timer = GpuTimer::new(gl.clone(), info);
        let samplers = Some(Samplers::new(&gl)?);
        Ok(EngineGraphics {
            gl,
            dir: dir.to_path_buf(),
            next: 0,
            resources: HashMap::new(),
            gpu_budget: None,
            held: HashMap::new(),
            refused: std::cell::Cell::new(false),
            shaders: HashMap::new(),
            vao: Some(vao),
            samplers,
            text: None,
            frame: FrameTarget { framebuffer: None, width: 1, height: 1 },
            time: 0.0,
            index: 0,
            keys: HashSet::new(),
            buttons: HashSet::new(),
            mouse: (0.0, 0.0),
            reports: Vec::new(),
            last_changed_shader: None,
            texture_news: Vec::new(),
            timer,
            timings: Vec::new(),
            gpu_time: Vec::new(),
            starts: HashMap::new(),
        })
    }

    fn add(&mut self, owner: Owner, resource: Resource) -> Id {
        self.next += 1;
        self.resources.insert(self.next, (owner, resource));
        self.next
    }

    /// As `add`, for a resource holding `bytes` of GPU memory.
    fn add_held(&mut self, owner: Owner, resource: Resource, bytes: u64) -> Id {
        let id = self.add(owner, resource);
        self.held.insert(id, bytes);
        id
    }

    /// GPU memory held by buffers, targets and images.
    pub fn gpu_memory_held(&self) -> u64 {
        self.held.values().sum()
    }

    /// Refuses `bytes` more of GPU memory for `what` past the budget.
    fn admit_bytes(&self, bytes: u64, what: &str) -> Result<(), String> {
        let Some(budget) = self.gpu_budget else { return Ok(()) };
        let held = self.gpu_memory_held();
        if held.saturating_add(bytes) <= budget {
            return Ok(());
        }
        self.refused.set(true);
        let mib = |b: u64| b as f64 / f64::from(1 << 20);
        Err(format!(
            "{what} of {:.1} MiB would pass this guest's GPU memory budget of {:.0} MiB ({:.1} MiB held)",
            mib(bytes),
            mib(budget),
            mib(held)
        ))
    }

    /// Rebuilds shaders whose files changed, when `gate` admits their text, and loads again images whose files
    /// changed.
    pub fn poll_shaders(&mut self, gate: allsource_live::Gate) {
        for (_, resource) in self.resources.values_mut() {
            if let Resource::Image(image) = resource {
                self.texture_news.extend(image.reload_if_changed(&self.gl));
            }
        }
        for (shader, _) in self.shaders.values_mut() {
            if let Some(report) = shader.poll_files(&self.gl, gate) {
                if report.became_live {
                    self.last_changed_shader = Some(report.path.clone());
                }
                self.reports.push(report);
            }
        }
    }

    /// The live shader of file `path`, if a module uses it.
    /// A frame was drawn: every shader's live version ran.
    pub fn frame_ran(&mut self) {
        self.shaders.values_mut().for_each(|(shader, _)| shader.mark_ran());
    }

    pub fn shader_mut(&mut self, path: &Path) -> Option<&mut LiveShader> {
        self.shaders.iter_mut().find(|(p, _)| allsource_live::same_file(p, path)).map(|(_, (s, _))| s)
    }

    pub fn gl(&self) -> &Gl {
        &self.gl
    }

    fn buffer_ref(&self, id: Id) -> Result<&Buffer, String> {
        match self.resources.get(&id) {
            Some((_, Resource::Buffer(b))) => Ok(b),
            _ => Err(format!("buffer#{id} was freed")),
        }
    }

    fn target_of(&self, id: Id) -> Result<&Target, String> {
        match self.resources.get(&id) {
            Some((_, Resource::Target(t))) => Ok(t),
            _ => Err(format!("target#{id} was freed")),
        }
    }

    /// What a texture handle (a target or an image) binds for `attachment`, and its size: None for an image never
    /// loaded (it reads black).
    fn texture_of(
        &self,
        id: Id,
        attachment: Attachment,
    ) -> Result<Option<(allsource_gpu::glow::NativeTexture, u32, u32)>, String> {
        match (self.resources.get(&id), attachment) {
            (Some((_, Resource::Target(t))), Attachment::Colour(i)) => match t.colour(i) {
                Some(texture) => Ok(Some((texture, t.width, t.height))),
                None => Err(format!("target#{id} has {} colour texture(s); there is no attachment {i}", t.colours())),
            },
            (Some((_, Resource::Target(t))), Attachment::Depth) => match t.depth_texture() {
                Some(texture) => Ok(Some((texture, t.width, t.height))),
                None => Err(format!("target#{id} has no depth texture: make it with {{depth = true}}")),
            },
            (Some((_, Resource::Image(i))), Attachment::Colour(0)) => {
                Ok(i.texture.as_ref().map(|t| (t.raw(), t.width, t.height)))
            }
            (Some((_, Resource::Image(_))), _) => Err(format!("image#{id} has one texture: no attachment")),
            _ => Err(format!("texture#{id} was freed")),
        }
    }

    fn shader_path(&self, id: Id) -> Result<&PathBuf, String> {
        match self.resources.get(&id) {
            Some((_, Resource::Shader(p))) => Ok(p),
            _ => Err(format!("shader#{id} was freed")),
        }
    }

    fn free(&mut self, resource: Resource) {
        match resource {
            Resource::Buffer(b) => b.delete(&self.gl),
            Resource::Target(t) => t.delete(&self.gl),
            Resource::Image(i) => {
                if i.problem.is_some() {
                    self.texture_news.push((i.what.path.clone(), None));
                }
                i.free(&self.gl);
            }
            Resource::Shader(path) => {
                if let Some((shader, refs)) = self.shaders.get_mut(&path) {
                    *refs -= 1;
                    if *refs == 0 {
                        shader.free(&self.gl);
                        self.shaders.remove(&path);
                    }
                }
            }
        }
    }

    /// After a draw or dispatch that had targets bound as images: what it wrote is visible to every later read
    /// (sampling, fetches, the frame), and the units are free again.
    fn images_written(&self, images: &[(u32, Id)]) {
        if let Some(last) = images.iter().map(|(unit, _)| unit + 1).max() {
            barrier(&self.gl);
            Target::unbind_images(&self.gl, last);
        }
    }

    /// The text painter, made now if this is the scene's first text.
    fn text_painter(&mut self) -> Result<&mut TextPainter, String> {
        if self.text.is_none() {
            self.text = Some(TextPainter::new(&self.gl).map_err(|e| e.to_string())?);
        }
        self.text.as_mut().ok_or_else(|| "the text painter could not be made".to_owned())
    }

    /// Binds what a draw or dispatch shares: program, standard and given uniforms, textures, storage buffers.
    /// Returns false when the shader has no program that ever built (its diagnostics were reported).
    fn prepare(
        &self,
        shader: Id,
        uniforms: &[(String, Vec<f64>)],
        textures: &[TextureUse],
        storage: &[(u32, Id)],
        images: &[(u32, Id)],
        size: (u32, u32),
    ) -> Result<Option<&crate::shader::Linked>, String> {
        let path = self.shader_path(shader)?;
        let Some(linked) = self.shaders.get(path).and_then(|(s, _)| s.linked()) else { return Ok(None) };
        let gl = &self.gl;
        let p = &linked.program;
        p.use_program(gl);
        p.set_f32(gl, "u_time", self.time as f32);
        p.set_vec(gl, "u_resolution", &[size.0 as f32, size.1 as f32]);
        p.set_i32(gl, "u_frame", self.index as i32);
        for (name, values) in uniforms {
            let Some(uniform) = linked.reflection.uniform(name) else { continue };
            let value = match uniform.ty.scalar() {
                Some(Scalar::Float) => UniformValue::Float(values.iter().map(|&v| v as f32).collect()),
                Some(Scalar::UInt) => UniformValue::UInt(values.iter().map(|&v| v as u32).collect()),
                Some(_) => UniformValue::Int(values.iter().map(|&v| v as i32).collect()),
                None => continue,
            };
            if !p.set_uniform(gl, uniform, &value) {
                return Err(format!(
                    "uniform {name} is a {}{}; {} value(s) do not fit it",
                    uniform.ty.name(),
                    if uniform.array_len > 1 { format!("[{}]", uniform.array_len) } else { String::new() },
                    values.len()
                ));
            }
        }
        for (unit, texture) in textures.iter().enumerate() {
            bind_texture(gl, unit as u32, self.texture_of(texture.id, texture.attachment)?.map(|(t, _, _)| t));
            let sampler = texture.sampler.zip(self.samplers.as_ref()).map(|((filter, wrap), s)| s.get(filter, wrap));
            Sampler::bind(gl, unit as u32, sampler);
        }
        for (binding, id) in storage {
            self.buffer_ref(*id)?.bind_base(gl, BufferTarget::ShaderStorage, *binding);
        }
        for (unit, id) in images {
            self.target_of(*id)?.bind_image(gl, *unit);
        }
        Ok(Some(linked))
    }

    /// Moves finished GPU timings into the totals; running ones wait for the next look.
    fn gather_timings(&mut self) {
        let mut still = Vec::new();
        for (owner, timing) in self.timings.drain(..) {
            match self.timer.result(&timing) {
                Some(d) => {
                    self.timer.forget(timing);
                    match self.gpu_time.iter_mut().find(|(o, _)| *o == owner) {
                        Some((_, total)) => *total += d,
                        None => self.gpu_time.push((owner, d)),
                    }
                }
                None => still.push((owner, timing)),
            }
        }
        self.timings = still;
    }

    /// Runs `issue`, timing it when this frame is measured: every frame with timer queries (they do not block),
    /// every `FENCE_SAMPLE`th frame where timing means waiting on a fence (llvmpipe), to keep the cost small.
    fn timed(&self, issue: impl FnOnce()) -> Option<Timing> {
        if self.timer.uses_queries() || self.index.is_multiple_of(FENCE_SAMPLE) {
            Some(self.timer.time(issue))
        } else {
            issue();
            None
        }
    }

    fn owner_of(&self, id: Id) -> Owner {
        self.resources.get(&id).map_or(0, |(owner, _)| *owner)
    }

    pub fn free_all(&mut self) {
        for (_, timing) in self.timings.drain(..) {
            self.timer.forget(timing);
        }
        let all: Vec<Id> = self.resources.keys().copied().collect();
        for id in all {
            self.release(id);
        }
        for (_, (mut shader, _)) in self.shaders.drain() {
            shader.free(&self.gl);
        }
        if let Some(samplers) = self.samplers.take() {
            samplers.delete(&self.gl);
        }
        if let Some(text) = self.text.take() {
            text.destroy();
        }
        if let Some(vao) = self.vao.take() {
            vao.delete(&self.gl);
        }
    }
}

impl Graphics for EngineGraphics {
    fn shader(&mut self, path: &str, owner: Owner) -> Result<Id, String> {
        let full = self.dir.join(path);
        if !self.shaders.contains_key(&full) {
            let mut shader = LiveShader::new(full.clone());
            if let Some((older, last_good)) = self.starts.remove(&full) {
                shader.seed(&older);
                self.reports.push(shader.edit(&self.gl, &last_good));
            }
            // The file next: it builds as a new version unless it is the last good text.
            if let Some(report) = shader.poll_files(&self.gl, &mut |_, _| true) {
                self.reports.push(report);
            }
            self.shaders.insert(full.clone(), (shader, 0));
        }
        if let Some((_, refs)) = self.shaders.get_mut(&full) {
            *refs += 1;
        }
        Ok(self.add(owner, Resource::Shader(full)))
    }

    fn admit(&self, bytes: u64, what: &str) -> Result<(), String> {
        self.admit_bytes(bytes, what)
    }

    fn refused_for_memory(&mut self) -> bool {
        self.refused.replace(false)
    }

    fn buffer(&mut self, bytes: &[u8], owner: Owner) -> Result<Id, String> {
        let size = bytes.len() as u64;
        self.admit_bytes(size, "a buffer")?;
        let buffer = Buffer::new(&self.gl, bytes).map_err(|e| e.to_string())?;
        Ok(self.add_held(owner, Resource::Buffer(buffer), size))
    }

    fn write_buffer(&mut self, buffer: Id, offset: usize, bytes: &[u8]) -> Result<(), String> {
        let b = self.buffer_ref(buffer)?;
        if offset + bytes.len() > b.size {
            return Err(format!("writing {} bytes at {offset} overruns a {}-byte buffer", bytes.len(), b.size));
        }
        b.write(&self.gl, offset, bytes);
        Ok(())
    }

    fn read_buffer(&mut self, buffer: Id) -> Result<Vec<u8>, String> {
        Ok(self.buffer_ref(buffer)?.read(&self.gl))
    }

    fn buffer_size(&self, buffer: Id) -> Result<usize, String> {
        Ok(self.buffer_ref(buffer)?.size)
    }

    fn target(&mut self, width: u32, height: u32, spec: TargetSpec, owner: Owner) -> Result<Id, String> {
        let format = match spec.format {
            TargetFormat::Rgba8 => ColourFormat::Rgba8,
            TargetFormat::Rgba16F => ColourFormat::Rgba16F,
            TargetFormat::Rgba32F => ColourFormat::Rgba32F,
            TargetFormat::R16F => ColourFormat::R16F,
            TargetFormat::R32F => ColourFormat::R32F,
            TargetFormat::Rg16F => ColourFormat::Rg16F,
            TargetFormat::Rg32F => ColourFormat::Rg32F,
        };
        let attachments = Attachments { colours: spec.colours, depth_texture: spec.depth };
        // The colour textures, and the depth buffer (32 bits a pixel, a texture or a renderbuffer).
        let bytes =
            format.bytes(width, height) * u64::from(spec.colours.max(1)) + u64::from(width) * u64::from(height) * 4;
        self.admit_bytes(bytes, "a target")?;
        let target =
            Target::with_attachments(&self.gl, width, height, format, attachments).map_err(|e| e.to_string())?;
        Ok(self.add_held(owner, Resource::Target(target), bytes))
    }

    fn read_target(&mut self, target: Id, attachment: Attachment) -> Result<Vec<f32>, String> {
        // The same checks as sampling: an attachment the target has.
        self.texture_of(target, attachment)?;
        let t = self.target_of(target)?;
        Ok(match attachment {
            Attachment::Colour(i) => t.read_rgba_f32(&self.gl, i).unwrap_or_default(),
            Attachment::Depth => t.read_depth(&self.gl),
        })
    }

    fn target_size(&self, target: Id) -> Result<(u32, u32), String> {
        Ok(self.texture_of(target, Attachment::Colour(0))?.map_or((0, 0), |(_, w, h)| (w, h)))
    }

    fn image(&mut self, path: &str, options: ImageOptions, owner: Owner) -> Result<Id, String> {
        let how = allsource_gpu::ImageUpload { srgb: options.srgb, mipmaps: options.mipmaps, ..UPRIGHT };
        let what = FileTexture { path: self.dir.join(path), cube: false, how };
        let (image, news) = Loaded::new(&self.gl, what);
        self.texture_news.extend(news);
        // Counted as loaded (RGBA, 8 bits a channel, a third more with mipmaps); a reload is not counted again.
        let (w, h) = image.texture.as_ref().map_or((0, 0), |t| (u64::from(t.width), u64::from(t.height)));
        let bytes = w * h * 4 * if options.mipmaps { 4 } else { 3 } / 3;
        if let Err(e) = self.admit_bytes(bytes, "an image") {
            image.free(&self.gl);
            return Err(e);
        }
        Ok(self.add_held(owner, Resource::Image(image), bytes))
    }

    fn text(&mut self, call: &TextCall) -> Result<f32, String> {
        let frame = match call.target {
            Some(id) => self.target_of(id)?.frame_target(),
            None => self.frame,
        };
        let (gl, index) = (self.gl.clone(), self.index);
        let painter = self.text_painter()?;
        Ok(painter.draw(&gl, index, &frame, call))
    }

    fn text_width(&mut self, text: &str, size: f32) -> Result<f32, String> {
        let index = self.index;
        Ok(self.text_painter()?.width(index, text, size))
    }

    fn clear(&mut self, target: Option<Id>, rgba: [f32; 4]) -> Result<(), String> {
        let frame = match target {
            Some(id) => self.target_of(id)?.frame_target(),
            None => self.frame,
        };
        frame.clear(&self.gl, rgba, None);
        Ok(())
    }

    fn draw(&mut self, call: &DrawCall) -> Result<(), String> {
        let frame = match call.target {
            Some(id) => self.target_of(id)?.frame_target(),
            None => self.frame,
        };
        let Some(linked) = self.prepare(
            call.shader,
            &call.uniforms,
            &call.textures,
            &call.storage,
            &call.images,
            (frame.width, frame.height),
        )?
        else {
            return Ok(());
        };
        if linked.compute {
            return Err("gfx.draw: this is a compute shader; use gfx.dispatch".into());
        }
        let mode = call.mode.unwrap_or(linked.draw.mode);
        let gl = &self.gl;
        frame.bind(gl);
        let blend = match call.blend {
            None => Blend::None,
            Some(BlendMode::Alpha) => Blend::Alpha,
            Some(BlendMode::Add) => Blend::Add,
        };
        DrawState { depth: call.depth, blend }.apply(gl);
        if mode == Primitive::Patches {
            patch_vertices(gl, call.patch.clamp(1, 32) as i32);
        }
        for (binding, id) in &call.feedback {
            self.buffer_ref(*id)?.bind_base(gl, BufferTarget::TransformFeedback, *binding);
        }
        let vao = self.vao.as_ref().ok_or("the graphics are shut down")?;
        let elements = call.elements.map(|id| self.buffer_ref(id)).transpose()?;
        let indirect = call.indirect.map(|(id, offset)| self.buffer_ref(id).map(|b| (b, offset))).transpose()?;
        let mut result = Ok(());
        let mut issue = || {
            vao.bind(gl);
            if let Some(e) = elements {
                e.bind(gl, BufferTarget::ElementArray);
            }
            match (indirect, elements) {
                (Some((b, offset)), Some(_)) => match call.multi {
                    Some(n) => {
                        result =
                            multi_draw_elements_indirect(gl, mode, b, offset, n as i32, 0).map_err(|e| e.to_string())
                    }
                    None => draw_elements_indirect(gl, mode, b, offset),
                },
                (Some((b, offset)), None) => draw_arrays_indirect(gl, mode, b, offset),
                (None, Some(_)) => draw_elements(gl, mode, call.count as i32, call.first, call.instances as i32),
                (None, None) => {
                    vao.draw_arrays_from(gl, mode, call.first as i32, call.count as i32, call.instances as i32)
                }
            }
        };
        let timing = self.timed(|| {
            if call.feedback.is_empty() {
                issue();
            } else {
                capture_feedback(gl, mode, call.discard, issue);
            }
        });
        if let Some(timing) = timing {
            let owner = self.owner_of(call.shader);
            self.timings.push((owner, timing));
        }
        unbind_units(gl, call.textures.len() as u32);
        self.images_written(&call.images);
        DrawState::default().apply(gl);
        result
    }

    fn dispatch(&mut self, call: &DispatchCall) -> Result<(), String> {
        let size = (self.frame.width, self.frame.height);
        let Some(linked) =
            self.prepare(call.shader, &call.uniforms, &call.textures, &call.storage, &call.images, size)?
        else {
            return Ok(());
        };
        if !linked.compute {
            return Err("gfx.dispatch: this shader has no compute stage; use gfx.draw".into());
        }
        let indirect = call.indirect.map(|(id, offset)| self.buffer_ref(id).map(|b| (b, offset))).transpose()?;
        let timing = self.timed(|| match indirect {
            Some((buffer, offset)) => dispatch_indirect(&self.gl, buffer, offset),
            None => dispatch(&self.gl, call.groups[0], call.groups[1], call.groups[2]),
        });
        if let Some(timing) = timing {
            let owner = self.owner_of(call.shader);
            self.timings.push((owner, timing));
        }
        unbind_units(&self.gl, call.textures.len() as u32);
        self.images_written(&call.images);
        Ok(())
    }

    fn barrier(&mut self) {
        barrier(&self.gl);
    }

    fn size(&self) -> (u32, u32) {
        (self.frame.width, self.frame.height)
    }

    fn time(&self) -> (f64, u64) {
        (self.time, self.index)
    }

    fn key_down(&self, key: &str) -> bool {
        self.keys.contains(key)
    }

    fn mouse(&self) -> (f32, f32) {
        self.mouse
    }

    fn mouse_down(&self, button: u8) -> bool {
        self.buttons.contains(&button)
    }

    fn objects(&self) -> usize {
        self.resources.len()
    }

    fn release(&mut self, id: Id) {
        self.held.remove(&id);
        if let Some((_, resource)) = self.resources.remove(&id) {
            self.free(resource);
        }
    }

    fn release_owned_by(&mut self, owner: Owner) {
        let ids: Vec<Id> = self.resources.iter().filter(|(_, (o, _))| *o == owner).map(|(id, _)| *id).collect();
        for id in ids {
            self.release(id);
        }
    }

    fn take_gpu_time(&mut self) -> Vec<(Owner, Duration)> {
        self.gather_timings();
        std::mem::take(&mut self.gpu_time)
    }
}
