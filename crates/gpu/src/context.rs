//! OpenGL contexts: the compositor's (headless or on a window) and the shared ones workers make current on their
//! own threads.
//!
//! Every context asks for OpenGL 4.5 core with robust buffer access that loses the context on a GPU reset, and a
//! debug context whose KHR_debug messages go to `tracing`. Contexts in one share group must be created with the
//! same robustness attributes (docs/facts/gl.md), so a shared context copies its parent's.

use std::ffi::CStr;
use std::sync::Arc;

use glow::HasContext;
use glutin::api::egl;
use glutin::config::{Api, Config, ConfigSurfaceTypes, ConfigTemplateBuilder};
use glutin::context::{
    ContextApi, ContextAttributes, ContextAttributesBuilder, GlProfile, NotCurrentContext, PossiblyCurrentContext,
    Robustness, Version,
};
use glutin::display::{Display, GlDisplay};
use glutin::error::ErrorKind;

use crate::{Gl, GpuError};

/// What the driver says about itself, for logs and diagnostics.
#[derive(Clone, Debug)]
pub struct GlInfo {
    pub version: String,
    pub renderer: String,
    pub vendor: String,
    /// Whether the context was created with lose-context-on-reset robustness.
    pub robust: bool,
}

/// A GL context that is current on the thread that owns this value. Not `Send`: GL calls go to the context current
/// on the calling thread, so the value stays where it was made current.
pub struct GlContext {
    pub gl: Gl,
    pub info: GlInfo,
    display: Display,
    config: Config,
    // Dropped last: the GL objects of this context must be deleted while it is still alive.
    context: PossiblyCurrentContext,
}

/// A context in the share group of a [`GlContext`], not yet current anywhere: made on the compositor's thread,
/// sent to a worker, made current there.
pub struct SharedContext {
    context: NotCurrentContext,
    display: Display,
    config: Config,
    robust: bool,
}

/// The OpenGL profile of a context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// 4.5 core: every context of the engine.
    Core,
    /// 4.5 compatibility: fixed function and GLSL 1.10-1.30 shaders too (what piglit's older tests run in).
    Compatibility,
}

fn attributes(
    share_with: Option<&PossiblyCurrentContext>,
    robust: bool,
    low: bool,
    profile: Profile,
) -> ContextAttributes {
    let profile = match profile {
        Profile::Core => GlProfile::Core,
        Profile::Compatibility => GlProfile::Compatibility,
    };
    let mut builder = ContextAttributesBuilder::new()
        .with_context_api(ContextApi::OpenGl(Some(Version::new(4, 5))))
        .with_profile(profile)
        .with_debug(true);
    if robust {
        builder = builder.with_robustness(Robustness::RobustLoseContextOnReset);
    }
    if let Some(parent) = share_with {
        builder = builder.with_sharing(parent);
    }
    if low {
        // EGL_IMG_context_priority where the display has it (NVIDIA does; Mesa llvmpipe does not): glutin leaves
        // the attribute out elsewhere.
        builder = builder.with_priority(glutin::context::Priority::Low);
    }
    builder.build(None)
}

/// Creates a context on `display`, robust when the driver allows it. Returns the context and whether it is robust.
pub(crate) fn create_context(
    display: &Display,
    config: &Config,
    share_with: Option<&PossiblyCurrentContext>,
    robust: Option<bool>,
    low_priority: bool,
    profile: Profile,
) -> Result<(NotCurrentContext, bool), String> {
    let build = |robust: bool| {
        let attrs = attributes(share_with, robust, low_priority, profile);
        // SAFETY: the config and (if any) the shared context belong to `display`, which outlives the call.
        unsafe { display.create_context(config, &attrs) }
    };
    match robust {
        Some(robust) => build(robust).map(|c| (c, robust)).map_err(|e| e.to_string()),
        None => match build(true) {
            Ok(context) => Ok((context, true)),
            Err(robust_err) => {
                tracing::warn!(
                    "the driver refused a robust context ({robust_err}); continuing without GPU-reset robustness"
                );
                build(false).map(|c| (c, false)).map_err(|e| e.to_string())
            }
        },
    }
}

impl GlContext {
    /// Wraps a context that was just made current on this thread: loads the GL functions, checks the version and
    /// routes debug messages to `tracing`.
    pub(crate) fn from_current(
        display: Display,
        config: Config,
        context: PossiblyCurrentContext,
        robust: bool,
    ) -> Result<GlContext, GpuError> {
        // SAFETY: the context is current on this thread, and the loader returns entry points of this display.
        let mut gl = unsafe { glow::Context::from_loader_function_cstr(|name: &CStr| display.get_proc_address(name)) };
        // SAFETY: plain queries on the current context.
        let info = unsafe {
            GlInfo {
                version: gl.get_parameter_string(glow::VERSION),
                renderer: gl.get_parameter_string(glow::RENDERER),
                vendor: gl.get_parameter_string(glow::VENDOR),
                robust,
            }
        };
        let version = gl.version();
        if (version.major, version.minor) < (4, 5) {
            return Err(GpuError::NoGl45(format!("got OpenGL {}", info.version)));
        }
        crate::extra::load(&|name: &CStr| display.get_proc_address(name));
        route_debug_messages(&mut gl);
        Ok(GlContext { gl: Arc::new(gl), info, display, config, context })
    }

    /// Makes a context in this context's share group, to be made current on another thread.
    /// Makes this context current on the calling thread again (after another was made current there).
    pub fn make_current_again(&self) -> Result<(), GpuError> {
        let made = match &self.context {
            PossiblyCurrentContext::Egl(context) => context.make_current_surfaceless(),
            PossiblyCurrentContext::Glx(context) => context.make_current_surfaceless(),
        };
        made.map_err(|e| GpuError::Gl(format!("cannot make the context current: {e}")))
    }

    pub fn share(&self) -> Result<SharedContext, GpuError> {
        self.share_with_priority(false)
    }

    /// A context in this one's share group for a worker, created with low priority where the display offers
    /// EGL_IMG_context_priority (the preview worker: guest code should get the GPU time the scene leaves).
    pub fn share_with_priority(&self, low: bool) -> Result<SharedContext, GpuError> {
        let (context, robust) = create_context(
            &self.display,
            &self.config,
            Some(&self.context),
            Some(self.info.robust),
            low,
            Profile::Core,
        )
        .map_err(|e| GpuError::Gl(format!("could not create a shared context: {e}")))?;
        Ok(SharedContext { context, display: self.display.clone(), config: self.config.clone(), robust })
    }

    /// The glutin context, for the window layer (swap buffers, resize).
    pub(crate) fn raw(&self) -> &PossiblyCurrentContext {
        &self.context
    }
}

impl SharedContext {
    /// Whether the driver gave this context a low priority (EGL_IMG_context_priority).
    pub fn low_priority(&self) -> bool {
        use glutin::context::GlContext as _;
        self.context.priority() == glutin::context::Priority::Low
    }

    /// Makes the context current on the calling thread, without a surface (it renders into framebuffer objects).
    pub fn make_current(self) -> Result<GlContext, GpuError> {
        let current = match self.context {
            NotCurrentContext::Egl(context) => context.make_current_surfaceless().map(PossiblyCurrentContext::Egl),
            NotCurrentContext::Glx(context) => context.make_current_surfaceless().map(PossiblyCurrentContext::Glx),
        }
        .map_err(|e| GpuError::Gl(format!("could not make a worker context current: {e}")))?;
        GlContext::from_current(self.display, self.config, current, self.robust)
    }
}

/// Sends KHR_debug messages to `tracing`, at a level that follows the message's severity.
fn route_debug_messages(gl: &mut glow::Context) {
    if !gl.supported_extensions().contains("GL_KHR_debug") && gl.version().major < 4 {
        return;
    }
    // SAFETY: the context is current; the callback only formats and logs, and is Send + Sync as glow requires.
    unsafe {
        gl.enable(glow::DEBUG_OUTPUT);
        gl.debug_message_callback(|source, kind, id, severity, message| {
            let source = match source {
                glow::DEBUG_SOURCE_API => "api",
                glow::DEBUG_SOURCE_SHADER_COMPILER => "shader compiler",
                glow::DEBUG_SOURCE_WINDOW_SYSTEM => "window system",
                glow::DEBUG_SOURCE_APPLICATION => "application",
                _ => "driver",
            };
            // Compile and link logs reach the user as diagnostics on their lines; here they would only repeat.
            if source == "shader compiler" {
                tracing::debug!(target: "gl", source, id, "{message}");
                return;
            }
            let error = kind == glow::DEBUG_TYPE_ERROR;
            match severity {
                glow::DEBUG_SEVERITY_HIGH => tracing::error!(target: "gl", source, id, "{message}"),
                glow::DEBUG_SEVERITY_MEDIUM if error => {
                    tracing::error!(target: "gl", source, id, "{message}")
                }
                glow::DEBUG_SEVERITY_MEDIUM => {
                    tracing::warn!(target: "gl", source, id, "{message}")
                }
                glow::DEBUG_SEVERITY_LOW => tracing::debug!(target: "gl", source, id, "{message}"),
                _ => tracing::trace!(target: "gl", source, id, "{message}"),
            }
        });
    }
}

/// A headless context through EGL's device platform, current on the calling thread.
///
/// Hardware devices are tried before software ones (Mesa's llvmpipe device advertises
/// `EGL_MESA_device_software`), so a machine with a GPU uses it and one without still renders.
pub fn headless() -> Result<GlContext, GpuError> {
    headless_profile(Profile::Core)
}

/// [`headless`] with the given profile.
pub fn headless_profile(profile: Profile) -> Result<GlContext, GpuError> {
    let devices = match egl::device::Device::query_devices() {
        Ok(devices) => devices.collect::<Vec<_>>(),
        Err(e) if e.error_kind() == ErrorKind::NotFound => {
            return Err(GpuError::NoEgl(e.to_string()));
        }
        Err(e) => return Err(GpuError::NoDevice(e.to_string())),
    };
    if devices.is_empty() {
        return Err(GpuError::NoDevice("eglQueryDevicesEXT returned no device".into()));
    }
    let mut ordered = devices;
    ordered.sort_by_key(|d| d.extensions().contains("EGL_MESA_device_software"));
    let mut failures = Vec::new();
    for device in &ordered {
        let name = device.name().or(device.vendor()).unwrap_or("unnamed device");
        match headless_on(device, profile) {
            Ok(context) => {
                tracing::info!(
                    "OpenGL {} on {} (EGL device platform, {})",
                    context.info.version,
                    context.info.renderer,
                    name
                );
                return Ok(context);
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    Err(GpuError::NoGl45(failures.join("; ")))
}

fn headless_on(device: &egl::device::Device, profile: Profile) -> Result<GlContext, String> {
    // SAFETY: no native display handle is passed, which `with_device` allows.
    let display = unsafe { egl::display::Display::with_device(device, None) }.map_err(|e| e.to_string())?;
    let template =
        ConfigTemplateBuilder::new().with_surface_type(ConfigSurfaceTypes::empty()).with_api(Api::OPENGL).build();
    // SAFETY: the template asks for no surface, so any config returned is usable surfaceless.
    let config = unsafe { display.find_configs(template) }
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no EGL config with desktop OpenGL")?;
    let display = Display::Egl(display);
    let config = Config::Egl(config);
    let (context, robust) = create_context(&display, &config, None, None, false, profile)?;
    let current = match context {
        NotCurrentContext::Egl(context) => context.make_current_surfaceless().map_err(|e| e.to_string())?,
        NotCurrentContext::Glx(_) => return Err("EGL display made a GLX context".into()),
    };
    GlContext::from_current(display, config, PossiblyCurrentContext::Egl(current), robust).map_err(|e| e.to_string())
}
