//! The Lua side of the engine API: the `gfx` and `input` globals. The engine implements [`Graphics`] in Rust; these
//! bindings only convert between Lua values and the plain data of that trait, so the engine never sees Lua.
//!
//! Resources (shaders, buffers, targets) reach Lua as handles. A handle that Lua no longer holds is collected, and
//! its id goes on a list the engine drains once a frame to free the GL object; everything a module created is
//! freed when the module is unloaded.

use std::sync::{Arc, Mutex};

use allsource_shader::{Filter, Wrap};
use mlua::{AnyUserData, Lua, MetaMethod, Table, UserData, UserDataFields, UserDataMethods, Value};

/// A resource's id, given by the engine.
pub type Id = u64;

/// Which module a resource belongs to (the engine frees all of a module's resources when it is unloaded).
pub type Owner = usize;

/// The kinds of resource Lua can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Shader,
    Buffer,
    Target,
    Image,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Shader => "shader",
            Kind::Buffer => "buffer",
            Kind::Target => "target",
            Kind::Image => "image",
        }
    }
}

/// Element types for reading and writing buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Element {
    F32,
    U32,
    I32,
}

/// How vertices are assembled: the shader format's primitive kinds (`#pragma draw` names the same ones).
pub use allsource_shader::Primitive;

/// A draw, as plain data.
#[derive(Clone, Debug, Default)]
pub struct DrawCall {
    pub shader: Id,
    pub mode: Option<Primitive>,
    pub count: u32,
    pub first: u32,
    pub instances: u32,
    /// Draw into this target; `None` draws into the frame.
    pub target: Option<Id>,
    /// Targets and images sampled by the shader, bound to texture units 0, 1, ... in order.
    pub textures: Vec<TextureUse>,
    /// Buffers bound to shader-storage binding points.
    pub storage: Vec<(u32, Id)>,
    /// Targets bound to image units for `imageLoad`/`imageStore` (`images = {[unit] = target}`).
    pub images: Vec<(u32, Id)>,
    /// Uniform values by name, as numbers (converted to the uniform's type by the engine).
    pub uniforms: Vec<(String, Vec<f64>)>,
    /// Draw with the command(s) in this buffer at this byte offset.
    pub indirect: Option<(Id, usize)>,
    /// With `indirect` and `elements`: how many DrawElementsIndirectCommands (a multi-draw).
    pub multi: Option<u32>,
    /// Index buffer (u32 indices).
    pub elements: Option<Id>,
    /// Capture transform feedback into these buffers (binding, buffer).
    pub feedback: Vec<(u32, Id)>,
    /// Rasterize nothing (transform feedback only).
    pub discard: bool,
    /// Vertices per patch for `patches`.
    pub patch: u32,
    /// Depth test and write.
    pub depth: bool,
    /// "alpha" or "add" blending; `None` replaces.
    pub blend: Option<BlendMode>,
}

/// How a draw blends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlendMode {
    Alpha,
    Add,
}

/// A compute dispatch, as plain data.
#[derive(Clone, Debug, Default)]
pub struct DispatchCall {
    pub shader: Id,
    pub groups: [u32; 3],
    pub storage: Vec<(u32, Id)>,
    pub images: Vec<(u32, Id)>,
    pub uniforms: Vec<(String, Vec<f64>)>,
    pub textures: Vec<TextureUse>,
    pub indirect: Option<(Id, usize)>,
}

/// What the engine provides to Lua. Every method reports failure as a message, raised in Lua as an error at the
/// caller's line.
pub trait Graphics: Send {
    fn shader(&mut self, path: &str, owner: Owner) -> Result<Id, String>;
    /// Refuses `bytes` more of GPU memory for `what` ("a buffer") when they would pass a guest's budget: asked
    /// before making the bytes of a large buffer.
    fn admit(&self, bytes: u64, what: &str) -> Result<(), String> {
        let _ = (bytes, what);
        Ok(())
    }
    /// Whether the last refusal was the guest's GPU memory budget (and forgets it): then collecting Lua's garbage
    /// may make room.
    fn refused_for_memory(&mut self) -> bool {
        false
    }
    fn buffer(&mut self, bytes: &[u8], owner: Owner) -> Result<Id, String>;
    fn write_buffer(&mut self, buffer: Id, offset: usize, bytes: &[u8]) -> Result<(), String>;
    fn read_buffer(&mut self, buffer: Id) -> Result<Vec<u8>, String>;
    fn buffer_size(&self, buffer: Id) -> Result<usize, String>;
    fn target(&mut self, width: u32, height: u32, spec: TargetSpec, owner: Owner) -> Result<Id, String>;
    /// Every pixel of a target's colour texture as RGBA numbers, or of its depth texture as one number each; row 0
    /// at the bottom.
    fn read_target(&mut self, target: Id, attachment: Attachment) -> Result<Vec<f32>, String>;
    /// A target's or an image's size (an image never loaded is 0 x 0).
    fn target_size(&self, target: Id) -> Result<(u32, u32), String>;
    /// The texture of an image file (PNG, JPEG) relative to the scene: loaded again when the file changes, the
    /// last good pixels kept when it cannot be read.
    fn image(&mut self, path: &str, options: ImageOptions, owner: Owner) -> Result<Id, String>;
    /// Draws a line of text with the bundled font; returns its width in pixels.
    fn text(&mut self, call: &TextCall) -> Result<f32, String>;
    /// The width in pixels a line of text of `size` pixels would take.
    fn text_width(&mut self, text: &str, size: f32) -> Result<f32, String>;
    fn clear(&mut self, target: Option<Id>, rgba: [f32; 4]) -> Result<(), String>;
    fn draw(&mut self, call: &DrawCall) -> Result<(), String>;
    fn dispatch(&mut self, call: &DispatchCall) -> Result<(), String>;
    fn barrier(&mut self);
    /// The frame's size in pixels.
    fn size(&self) -> (u32, u32);
    /// Scene time in seconds, and the frame index.
    fn time(&self) -> (f64, u64);
    fn key_down(&self, key: &str) -> bool;
    fn mouse(&self) -> (f32, f32);
    /// Whether mouse button `button` (1 primary, 2 secondary, 3 middle) is held over the scene.
    fn mouse_down(&self, button: u8) -> bool;
    /// How many GL objects Lua's handles hold now.
    fn objects(&self) -> usize;
    /// Frees a resource Lua no longer holds.
    fn release(&mut self, id: Id);
    /// Frees every resource `owner` created.
    fn release_owned_by(&mut self, owner: Owner);
    /// GPU time measured since the last call, by the module owning the shader each draw or dispatch used.
    fn take_gpu_time(&mut self) -> Vec<(Owner, std::time::Duration)>;
}

/// The engine's implementation, of its own type, in the VM's app data: the host that made it reaches it as that
/// type (`ModuleHost::with_graphics`), no downcast.
pub(crate) struct GraphicsSlot<G>(pub G);

/// How Lua's bindings reach the graphics without naming its type: a function made for that type when the VM was
/// set up ([`access`]), kept in the VM's app data.
#[derive(Clone, Copy)]
pub(crate) struct GraphicsAccess(pub AccessFn);

/// Runs a closure with the VM's graphics, whatever their type.
pub(crate) type AccessFn = fn(&Lua, &mut dyn FnMut(&mut dyn Graphics));

/// The [`GraphicsAccess`] of graphics of type `G`.
pub(crate) fn access<G: Graphics + 'static>(lua: &Lua, f: &mut dyn FnMut(&mut dyn Graphics)) {
    if let Some(mut slot) = lua.app_data_mut::<GraphicsSlot<G>>() {
        f(&mut slot.0);
    }
}

/// Ids of handles Lua has collected, for the engine to free on its next frame (GC runs inside Lua calls, where
/// the engine cannot be reached).
#[derive(Clone, Default)]
pub(crate) struct Collected(pub Arc<Mutex<Vec<Id>>>);

impl Collected {
    /// The ids collected since the last call.
    pub(crate) fn take(&self) -> Vec<Id> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The module whose code is running: resources it creates belong to it.
#[derive(Clone, Copy, Default)]
pub(crate) struct CurrentOwner(pub Owner);

/// The last frame's times: Lua's own, the engine's (inside `gfx.*` calls), and the GPU's per module; Lua's own
/// time per module too (from samples of the running code), largest first.
#[derive(Clone, Debug, Default)]
pub struct FrameStats {
    pub lua: std::time::Duration,
    pub engine: std::time::Duration,
    pub gpu: Vec<(String, std::time::Duration)>,
    pub lua_by_module: Vec<(String, std::time::Duration)>,
}

/// A resource held by Lua.
pub struct Handle {
    pub id: Id,
    pub kind: Kind,
    collected: Collected,
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Ok(mut ids) = self.collected.0.lock() {
            ids.push(self.id);
        }
    }
}

fn with_gfx<R>(lua: &Lua, f: impl FnOnce(&mut dyn Graphics) -> Result<R, String>) -> mlua::Result<R> {
    // Engine work (a draw whose program the driver compiles now) does not count against the Lua deadline.
    let watch = lua.app_data_ref::<crate::watchdog::WatchHandle>().map(|w| w.clone());
    let _paused = watch.as_ref().map(|w| w.pause());
    let unavailable = || mlua::Error::runtime("gfx is only available while the scene runs");
    let access = lua.app_data_ref::<GraphicsAccess>().map(|a| *a).ok_or_else(unavailable)?;
    let (mut f, mut out) = (Some(f), None);
    (access.0)(lua, &mut |g| {
        if let Some(f) = f.take() {
            out = Some(f(g));
        }
    });
    out.ok_or_else(unavailable)?.map_err(mlua::Error::runtime)
}

fn owner(lua: &Lua) -> Owner {
    lua.app_data_ref::<CurrentOwner>().map_or(0, |o| o.0)
}

/// As `with_gfx`, for what takes GPU memory: when a guest's budget refuses it, Lua's garbage is collected first
/// (handles no longer held may not have been collected yet), what that released is freed, and `f` tries once more.
fn with_room<R>(lua: &Lua, f: impl Fn(&mut dyn Graphics) -> Result<R, String>) -> mlua::Result<R> {
    let first = with_gfx(lua, |g| Ok(f(g).map_err(|e| (e, g.refused_for_memory()))))?;
    match first {
        Ok(r) => Ok(r),
        Err((e, false)) => Err(mlua::Error::runtime(e)),
        Err((_, true)) => {
            lua.gc_collect()?;
            let ids = lua.app_data_ref::<Collected>().map(|c| c.take()).unwrap_or_default();
            with_gfx(lua, |g| {
                ids.into_iter().for_each(|id| g.release(id));
                f(g)
            })
        }
    }
}

fn handle(lua: &Lua, id: Id, kind: Kind) -> mlua::Result<AnyUserData> {
    let collected = lua.app_data_ref::<Collected>().map(|c| c.clone()).unwrap_or_default();
    lua.create_userdata(Handle { id, kind, collected })
}

fn element(name: Option<String>) -> mlua::Result<Element> {
    match name.as_deref() {
        None | Some("f32") | Some("float") => Ok(Element::F32),
        Some("u32") | Some("uint") => Ok(Element::U32),
        Some("i32") | Some("int") => Ok(Element::I32),
        Some(other) => Err(mlua::Error::runtime(format!("unknown element type '{other}': use f32, u32 or i32"))),
    }
}

fn encode(values: &[f64], element: Element) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(values.len() * 4);
    for &v in values {
        match element {
            Element::F32 => bytes.extend((v as f32).to_ne_bytes()),
            Element::U32 => bytes.extend((v as u32).to_ne_bytes()),
            Element::I32 => bytes.extend((v as i32).to_ne_bytes()),
        }
    }
    bytes
}

fn decode(bytes: &[u8], element: Element) -> Vec<f64> {
    bytes
        .chunks_exact(4)
        .map(|b| {
            let b = [b[0], b[1], b[2], b[3]];
            match element {
                Element::F32 => f32::from_ne_bytes(b) as f64,
                Element::U32 => u32::from_ne_bytes(b) as f64,
                Element::I32 => i32::from_ne_bytes(b) as f64,
            }
        })
        .collect()
}

/// A texture a draw samples (a target or an image), and how: a filter and wrap of its own, or the texture's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextureUse {
    pub id: Id,
    pub sampler: Option<(Filter, Wrap)>,
    /// Which of a target's textures (an image has only colour 0).
    pub attachment: Attachment,
}

/// One of a target's textures: colour `N` (written by `layout(location = N) out`), or its depth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attachment {
    Colour(u32),
    Depth,
}

/// What `gfx.target` makes: colour textures of one format, and a depth buffer that may be sampled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetSpec {
    pub format: TargetFormat,
    /// How many colour textures (1 to 8).
    pub colours: u32,
    /// The depth buffer is a texture draws can sample (`attachment = "depth"`).
    pub depth: bool,
}

/// How an image file becomes a texture (`gfx.image(path, {srgb = true, mipmaps = false})`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageOptions {
    /// The file's values are sRGB-encoded colour: sampling returns them linearized.
    pub srgb: bool,
    /// A full mipmap chain (for minified and `filter = "mipmap"` sampling).
    pub mipmaps: bool,
}

impl Default for ImageOptions {
    fn default() -> ImageOptions {
        ImageOptions { srgb: false, mipmaps: true }
    }
}

/// A line of text to draw (`gfx.text`).
#[derive(Clone, Debug, PartialEq)]
pub struct TextCall {
    pub text: String,
    /// The top-left corner in pixels from the top-left of the target, as `input.mouse` counts.
    pub x: f32,
    pub y: f32,
    /// The font's size in pixels.
    pub size: f32,
    pub colour: [f32; 4],
    /// Draw into this target; `None` draws into the frame.
    pub target: Option<Id>,
}

/// What a render target holds per pixel (`gfx.target(w, h, format)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetFormat {
    Rgba8,
    Rgba16F,
    Rgba32F,
    R16F,
    R32F,
    Rg16F,
    Rg32F,
}

impl TargetFormat {
    pub const ALL: [TargetFormat; 7] = [
        TargetFormat::Rgba8,
        TargetFormat::Rgba16F,
        TargetFormat::Rgba32F,
        TargetFormat::R16F,
        TargetFormat::R32F,
        TargetFormat::Rg16F,
        TargetFormat::Rg32F,
    ];

    /// The name scenes write: `rgba8`, `rgba32f` ...
    pub fn name(self) -> &'static str {
        match self {
            TargetFormat::Rgba8 => "rgba8",
            TargetFormat::Rgba16F => "rgba16f",
            TargetFormat::Rgba32F => "rgba32f",
            TargetFormat::R16F => "r16f",
            TargetFormat::R32F => "r32f",
            TargetFormat::Rg16F => "rg16f",
            TargetFormat::Rg32F => "rg32f",
        }
    }
}

fn target_format(name: Option<String>) -> mlua::Result<TargetFormat> {
    let Some(name) = name else { return Ok(TargetFormat::Rgba8) };
    TargetFormat::ALL.into_iter().find(|f| f.name() == name).ok_or_else(|| {
        let names: Vec<&str> = TargetFormat::ALL.iter().map(|f| f.name()).collect();
        mlua::Error::runtime(format!("unknown target format '{name}': one of {}", names.join(", ")))
    })
}

/// `gfx.target(w, h, "rgba16f")` or `gfx.target(w, h, {format = "rgba16f", colours = 2, depth = true})`.
fn target_spec(value: Value) -> mlua::Result<TargetSpec> {
    let table = match value {
        Value::Nil => return Ok(TargetSpec { format: TargetFormat::Rgba8, colours: 1, depth: false }),
        Value::String(s) => {
            let format = target_format(Some(s.to_str()?.to_owned()))?;
            return Ok(TargetSpec { format, colours: 1, depth: false });
        }
        Value::Table(t) => t,
        _ => return Err(mlua::Error::runtime("gfx.target(width, height, format or {format =, colours =, depth =})")),
    };
    known_options(&table, &["format", "colours", "depth"], "gfx.target")?;
    let colours = table.get::<Option<u32>>("colours")?.unwrap_or(1);
    if !(1..=8).contains(&colours) {
        return Err(mlua::Error::runtime(format!("gfx.target: colours = {colours}; a target has 1 to 8")));
    }
    Ok(TargetSpec {
        format: target_format(table.get("format")?)?,
        colours,
        depth: table.get::<Option<bool>>("depth")?.unwrap_or(false),
    })
}

/// Refuses a key of an options table that is none of `known`: a misspelt option would otherwise do nothing, quietly.
fn known_options(table: &Table, known: &[&str], what: &str) -> mlua::Result<()> {
    for pair in table.pairs::<Value, Value>() {
        let (key, _) = pair?;
        let name = match &key {
            Value::String(s) => s.to_string_lossy(),
            other => format!("a {} key", other.type_name()),
        };
        if !known.contains(&name.as_str()) {
            return Err(mlua::Error::runtime(format!(
                "{what}: unknown option '{name}' (it takes {})",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// `attachment = 0, 1 ... 7` or `"depth"` (nil is 0).
fn attachment(value: Value) -> mlua::Result<Attachment> {
    match value {
        Value::Nil => Ok(Attachment::Colour(0)),
        Value::Integer(i) if (0..8).contains(&i) => Ok(Attachment::Colour(i as u32)),
        Value::Number(n) if n.fract() == 0.0 && (0.0..8.0).contains(&n) => Ok(Attachment::Colour(n as u32)),
        Value::String(s) if s.to_str().is_ok_and(|s| s == "depth") => Ok(Attachment::Depth),
        _ => Err(mlua::Error::runtime("attachment: a colour number 0 to 7 (layout(location = N)), or \"depth\"")),
    }
}

/// `{r, g, b[, a]}` numbers from 0 to 1.
fn colour(value: Value) -> mlua::Result<[f32; 4]> {
    match value {
        Value::Nil => Ok([1.0; 4]),
        Value::Table(t) => {
            let c: Vec<f32> = t.sequence_values::<f32>().collect::<mlua::Result<_>>()?;
            match c[..] {
                [r, g, b] => Ok([r, g, b, 1.0]),
                [r, g, b, a] => Ok([r, g, b, a]),
                _ => Err(mlua::Error::runtime("colour = {r, g, b} or {r, g, b, a}, each from 0 to 1")),
            }
        }
        _ => Err(mlua::Error::runtime("colour = {r, g, b} or {r, g, b, a}, each from 0 to 1")),
    }
}

/// The text size a call asks for (16 pixels unless told), within what a font atlas can hold.
fn text_size(size: Option<f32>) -> mlua::Result<f32> {
    let size = size.unwrap_or(16.0);
    if (1.0..=256.0).contains(&size) {
        Ok(size)
    } else {
        Err(mlua::Error::runtime(format!("text size {size}: from 1 to 256 pixels")))
    }
}

/// Largest buffer Lua may ask for (1 GiB): beyond this a number is a mistake, not a size.
const MAX_BUFFER: usize = 1 << 30;

impl UserData for Handle {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("kind", |_, h| Ok(h.kind.name()));
        fields.add_field_method_get("size", |lua, h| match h.kind {
            Kind::Buffer => with_gfx(lua, |g| g.buffer_size(h.id)).map(|s| Value::Integer(s as i64)),
            _ => Ok(Value::Nil),
        });
        fields.add_field_method_get("width", |lua, h| match h.kind {
            Kind::Target | Kind::Image => with_gfx(lua, |g| g.target_size(h.id)).map(|s| Value::Integer(s.0 as i64)),
            _ => Ok(Value::Nil),
        });
        fields.add_field_method_get("height", |lua, h| match h.kind {
            Kind::Target | Kind::Image => with_gfx(lua, |g| g.target_size(h.id)).map(|s| Value::Integer(s.1 as i64)),
            _ => Ok(Value::Nil),
        });
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("write", |lua, h, (offset, values, ty): (usize, Vec<f64>, Option<String>)| {
            expect(h, Kind::Buffer)?;
            let bytes = encode(&values, element(ty)?);
            with_gfx(lua, |g| g.write_buffer(h.id, offset, &bytes))
        });
        methods.add_method("read", |lua, h, arg: Value| match h.kind {
            Kind::Target => {
                let attachment = attachment(arg)?;
                let values = with_gfx(lua, |g| g.read_target(h.id, attachment))?;
                Ok(values.into_iter().map(f64::from).collect::<Vec<f64>>())
            }
            _ => {
                expect(h, Kind::Buffer)?;
                let ty = match arg {
                    Value::Nil => None,
                    Value::String(s) => Some(s.to_str()?.to_owned()),
                    _ => return Err(mlua::Error::runtime("buffer:read(type): type is f32, u32 or i32")),
                };
                let element = element(ty)?;
                with_gfx(lua, |g| g.read_buffer(h.id)).map(|bytes| decode(&bytes, element))
            }
        });
        methods.add_meta_method(MetaMethod::ToString, |_, h, ()| Ok(format!("{}#{}", h.kind.name(), h.id)));
    }
}

fn expect(h: &Handle, kind: Kind) -> mlua::Result<()> {
    if h.kind == kind {
        Ok(())
    } else {
        Err(mlua::Error::runtime(format!("expected a {}, got a {}", kind.name(), h.kind.name())))
    }
}

/// The id of a handle of `kind` in `value`.
fn id_of(value: &Value, kind: Kind, what: &str) -> mlua::Result<Id> {
    let Value::UserData(ud) = value else {
        return Err(mlua::Error::runtime(format!("{what}: expected a {}", kind.name())));
    };
    let h = ud.borrow::<Handle>().map_err(|_| mlua::Error::runtime(format!("{what}: expected a {}", kind.name())))?;
    expect(&h, kind)?;
    Ok(h.id)
}

fn optional_id(t: &Table, key: &str, kind: Kind) -> mlua::Result<Option<Id>> {
    match t.get::<Value>(key)? {
        Value::Nil => Ok(None),
        v => id_of(&v, kind, key).map(Some),
    }
}

fn bindings(t: &Table, key: &str) -> mlua::Result<Vec<(u32, Id)>> {
    bindings_of(t, key, Kind::Buffer)
}

/// `{[binding] = handle}` of handles of `kind`, sorted by binding.
fn bindings_of(t: &Table, key: &str, kind: Kind) -> mlua::Result<Vec<(u32, Id)>> {
    let mut out = Vec::new();
    if let Value::Table(list) = t.get::<Value>(key)? {
        for pair in list.pairs::<Value, Value>() {
            let (k, v) = pair?;
            let binding = match k {
                Value::Integer(i) if i >= 0 => i as u32,
                _ => return Err(mlua::Error::runtime(format!("{key}: keys are binding numbers (0, 1, ...)"))),
            };
            out.push((binding, id_of(&v, kind, key)?));
        }
    }
    out.sort_unstable();
    Ok(out)
}

fn uniforms(t: &Table) -> mlua::Result<Vec<(String, Vec<f64>)>> {
    let mut out = Vec::new();
    if let Value::Table(list) = t.get::<Value>("uniforms")? {
        for pair in list.pairs::<String, Value>() {
            let (name, v) = pair?;
            let values = match v {
                Value::Number(n) => vec![n],
                Value::Integer(i) => vec![i as f64],
                Value::Boolean(b) => vec![if b { 1.0 } else { 0.0 }],
                Value::Table(list) => list.sequence_values::<f64>().collect::<mlua::Result<_>>()?,
                _ => {
                    return Err(mlua::Error::runtime(format!(
                        "uniforms.{name}: a number, a boolean or a list of numbers"
                    )));
                }
            };
            out.push((name, values));
        }
    }
    Ok(out)
}

/// `textures = { a, { b, filter = "nearest", wrap = "repeat" } }`: targets or images, each alone or in a table with
/// how it is sampled (filter "nearest", "linear" or "mipmap"; wrap "clamp" or "repeat"; linear and clamp by default).
fn textures(t: &Table) -> mlua::Result<Vec<TextureUse>> {
    let mut out = Vec::new();
    let Value::Table(list) = t.get::<Value>("textures")? else { return Ok(out) };
    for v in list.sequence_values::<Value>() {
        let (handle, sampler, attachment) = match v? {
            Value::Table(entry) => {
                let filter = match entry.get::<Option<String>>("filter")?.as_deref() {
                    None | Some("linear") => Filter::Linear,
                    Some("nearest") => Filter::Nearest,
                    Some("mipmap") => Filter::Mipmap,
                    Some(other) => {
                        return Err(mlua::Error::runtime(format!(
                            "unknown filter '{other}': nearest, linear or mipmap"
                        )));
                    }
                };
                let wrap = match entry.get::<Option<String>>("wrap")?.as_deref() {
                    None | Some("clamp") => Wrap::Clamp,
                    Some("repeat") => Wrap::Repeat,
                    Some(other) => {
                        return Err(mlua::Error::runtime(format!("unknown wrap '{other}': clamp or repeat")));
                    }
                };
                let attachment = attachment(entry.get::<Value>("attachment")?)?;
                let sampled = entry.contains_key("filter")? || entry.contains_key("wrap")?;
                (entry.get::<Value>(1)?, sampled.then_some((filter, wrap)), attachment)
            }
            handle => (handle, None, Attachment::Colour(0)),
        };
        let image =
            matches!(&handle, Value::UserData(ud) if ud.borrow::<Handle>().is_ok_and(|h| h.kind == Kind::Image));
        let id = id_of(&handle, if image { Kind::Image } else { Kind::Target }, "textures")?;
        out.push(TextureUse { id, sampler, attachment });
    }
    Ok(out)
}

fn indirect(t: &Table) -> mlua::Result<Option<(Id, usize)>> {
    Ok(match optional_id(t, "indirect", Kind::Buffer)? {
        Some(id) => Some((id, t.get::<Option<usize>>("indirect_offset")?.unwrap_or(0))),
        None => None,
    })
}

fn mode(name: Option<String>) -> mlua::Result<Option<Primitive>> {
    let Some(name) = name else { return Ok(None) };
    Primitive::from_name(&name).map(Some).ok_or_else(|| {
        let names: Vec<&str> = Primitive::ALL.iter().map(|p| p.name()).collect();
        mlua::Error::runtime(format!("unknown mode '{name}': one of {}", names.join(", ")))
    })
}

/// Every name of the Lua API, for the reference in docs/lua.md and the test that keeps the two in step.
pub const API: &[&str] = &[
    "gfx.shader",
    "gfx.buffer",
    "gfx.target",
    "gfx.image",
    "gfx.text",
    "gfx.text_width",
    "gfx.clear",
    "gfx.draw",
    "gfx.dispatch",
    "gfx.barrier",
    "gfx.width",
    "gfx.height",
    "gfx.time",
    "gfx.frame",
    "gfx.objects",
    "gfx.clock",
    "gfx.stats",
    "buffer:write",
    "buffer:read",
    "buffer.size",
    "target.width",
    "target.height",
    "target:read",
    "image.width",
    "image.height",
    "input.key_down",
    "input.mouse",
    "input.mouse_down",
    "require",
    "persist",
    "tweak",
    "load",
    "update",
    "draw",
    "on_reload",
    "keypressed",
    "keyreleased",
    "mousepressed",
    "mousereleased",
    "wheelmoved",
    "textinput",
    "resize",
];

/// Installs `gfx` and `input` in the VM's globals.
pub(crate) fn install(lua: &Lua) -> mlua::Result<()> {
    let gfx = lua.create_table()?;
    gfx.set(
        "shader",
        lua.create_function(|lua, path: String| {
            let id = with_gfx(lua, |g| g.shader(&path, owner(lua)))?;
            handle(lua, id, Kind::Shader)
        })?,
    )?;
    gfx.set(
        "buffer",
        lua.create_function(|lua, (init, ty): (Value, Option<String>)| {
            let zeros = |lua: &Lua, n: usize| {
                with_room(lua, |g| g.admit(n as u64, "a buffer"))?;
                Ok::<_, mlua::Error>(vec![0; n])
            };
            let bytes = match init {
                Value::Integer(n) if n >= 0 && (n as usize) <= MAX_BUFFER => zeros(lua, n as usize)?,
                Value::Number(n) if n >= 0.0 && n <= MAX_BUFFER as f64 => zeros(lua, n as usize)?,
                Value::Table(list) => {
                    let values: Vec<f64> = list.sequence_values::<f64>().collect::<mlua::Result<_>>()?;
                    encode(&values, element(ty)?)
                }
                _ => return Err(mlua::Error::runtime("gfx.buffer(size_in_bytes) or gfx.buffer({numbers}, type)")),
            };
            let id = with_room(lua, |g| g.buffer(&bytes, owner(lua)))?;
            handle(lua, id, Kind::Buffer)
        })?,
    )?;
    gfx.set(
        "target",
        lua.create_function(|lua, (w, h, spec): (u32, u32, Value)| {
            if !(1..=16384).contains(&w) || !(1..=16384).contains(&h) {
                return Err(mlua::Error::runtime("gfx.target(width, height, format): each side from 1 to 16384"));
            }
            let spec = target_spec(spec)?;
            let id = with_room(lua, |g| g.target(w, h, spec, owner(lua)))?;
            handle(lua, id, Kind::Target)
        })?,
    )?;
    gfx.set(
        "image",
        lua.create_function(|lua, (path, options): (String, Option<Table>)| {
            let mut o = ImageOptions::default();
            if let Some(t) = options {
                known_options(&t, &["srgb", "mipmaps"], "gfx.image")?;
                o.srgb = t.get::<Option<bool>>("srgb")?.unwrap_or(o.srgb);
                o.mipmaps = t.get::<Option<bool>>("mipmaps")?.unwrap_or(o.mipmaps);
            }
            let id = with_room(lua, |g| g.image(&path, o, owner(lua)))?;
            handle(lua, id, Kind::Image)
        })?,
    )?;
    gfx.set(
        "text",
        lua.create_function(|lua, (text, x, y, options): (String, f32, f32, Option<Table>)| {
            let mut call = TextCall { text, x, y, size: 16.0, colour: [1.0; 4], target: None };
            if let Some(t) = options {
                known_options(&t, &["size", "colour", "color", "target"], "gfx.text")?;
                call.size = text_size(t.get("size")?)?;
                // Either spelling: LÖVE's users write color.
                let spelt = t.get::<Value>("colour")?;
                call.colour = colour(if spelt.is_nil() { t.get("color")? } else { spelt })?;
                call.target = optional_id(&t, "target", Kind::Target)?;
            }
            with_gfx(lua, |g| g.text(&call))
        })?,
    )?;
    gfx.set(
        "text_width",
        lua.create_function(|lua, (text, size): (String, Option<f32>)| {
            let size = text_size(size)?;
            with_gfx(lua, |g| g.text_width(&text, size))
        })?,
    )?;
    gfx.set(
        "clear",
        lua.create_function(|lua, (r, g, b, a, target): (f32, f32, f32, Option<f32>, Value)| {
            let target = match target {
                Value::Nil => None,
                v => Some(id_of(&v, Kind::Target, "gfx.clear")?),
            };
            with_gfx(lua, |gfx| gfx.clear(target, [r, g, b, a.unwrap_or(1.0)]))
        })?,
    )?;
    gfx.set(
        "draw",
        lua.create_function(|lua, t: Table| {
            let call = DrawCall {
                shader: id_of(&t.get::<Value>("shader")?, Kind::Shader, "gfx.draw: shader")?,
                mode: mode(t.get("mode")?)?,
                count: t.get::<Option<u32>>("count")?.unwrap_or(3),
                first: t.get::<Option<u32>>("first")?.unwrap_or(0),
                instances: t.get::<Option<u32>>("instances")?.unwrap_or(1),
                target: optional_id(&t, "target", Kind::Target)?,
                textures: textures(&t)?,
                storage: bindings(&t, "storage")?,
                images: bindings_of(&t, "images", Kind::Target)?,
                uniforms: uniforms(&t)?,
                indirect: indirect(&t)?,
                multi: t.get("multi")?,
                elements: optional_id(&t, "elements", Kind::Buffer)?,
                feedback: bindings(&t, "feedback")?,
                discard: t.get::<Option<bool>>("discard")?.unwrap_or(false),
                patch: t.get::<Option<u32>>("patch")?.unwrap_or(3),
                depth: t.get::<Option<bool>>("depth")?.unwrap_or(false),
                blend: match t.get::<Option<String>>("blend")?.as_deref() {
                    None | Some("none") => None,
                    Some("alpha") => Some(BlendMode::Alpha),
                    Some("add") => Some(BlendMode::Add),
                    Some(other) => {
                        return Err(mlua::Error::runtime(format!("unknown blend '{other}': none, alpha or add")));
                    }
                },
            };
            with_gfx(lua, |g| g.draw(&call))
        })?,
    )?;
    gfx.set(
        "dispatch",
        lua.create_function(|lua, t: Table| {
            let groups: Vec<u32> = match t.get::<Value>("groups")? {
                Value::Table(list) => list.sequence_values::<u32>().collect::<mlua::Result<_>>()?,
                Value::Nil => vec![1],
                _ => return Err(mlua::Error::runtime("gfx.dispatch: groups = {x, y, z}")),
            };
            let call = DispatchCall {
                shader: id_of(&t.get::<Value>("shader")?, Kind::Shader, "gfx.dispatch: shader")?,
                groups: [
                    groups.first().copied().unwrap_or(1),
                    groups.get(1).copied().unwrap_or(1),
                    groups.get(2).copied().unwrap_or(1),
                ],
                storage: bindings(&t, "storage")?,
                images: bindings_of(&t, "images", Kind::Target)?,
                uniforms: uniforms(&t)?,
                textures: textures(&t)?,
                indirect: indirect(&t)?,
            };
            with_gfx(lua, |g| g.dispatch(&call))
        })?,
    )?;
    gfx.set(
        "barrier",
        lua.create_function(|lua, ()| {
            with_gfx(lua, |g| {
                g.barrier();
                Ok(())
            })
        })?,
    )?;
    gfx.set("width", lua.create_function(|lua, ()| with_gfx(lua, |g| Ok(g.size().0)))?)?;
    gfx.set("height", lua.create_function(|lua, ()| with_gfx(lua, |g| Ok(g.size().1)))?)?;
    gfx.set("time", lua.create_function(|lua, ()| with_gfx(lua, |g| Ok(g.time().0)))?)?;
    gfx.set("frame", lua.create_function(|lua, ()| with_gfx(lua, |g| Ok(g.time().1)))?)?;
    gfx.set("objects", lua.create_function(|lua, ()| with_gfx(lua, |g| Ok(g.objects())))?)?;
    gfx.set(
        "stats",
        lua.create_function(|lua, ()| {
            let stats = lua.app_data_ref::<FrameStats>().map(|s| s.clone()).unwrap_or_default();
            let t = lua.create_table()?;
            t.set("lua_ms", stats.lua.as_secs_f64() * 1e3)?;
            t.set("engine_ms", stats.engine.as_secs_f64() * 1e3)?;
            let gpu = lua.create_table()?;
            for (module, d) in &stats.gpu {
                gpu.set(module.as_str(), d.as_secs_f64() * 1e3)?;
            }
            t.set("gpu_ms", gpu)?;
            let by_module = lua.create_table()?;
            for (module, d) in &stats.lua_by_module {
                by_module.set(module.as_str(), d.as_secs_f64() * 1e3)?;
            }
            t.set("lua_ms_by_module", by_module)?;
            Ok(t)
        })?,
    )?;
    let epoch = std::time::Instant::now();
    gfx.set("clock", lua.create_function(move |_, ()| Ok(epoch.elapsed().as_secs_f64()))?)?;
    lua.globals().set("gfx", gfx)?;

    let input = lua.create_table()?;
    input.set("key_down", lua.create_function(|lua, key: String| with_gfx(lua, |g| Ok(g.key_down(&key))))?)?;
    input.set("mouse", lua.create_function(|lua, ()| with_gfx(lua, |g| Ok(g.mouse())))?)?;
    input.set("mouse_down", lua.create_function(|lua, button: u8| with_gfx(lua, |g| Ok(g.mouse_down(button))))?)?;
    lua.globals().set("input", input)?;
    Ok(())
}
