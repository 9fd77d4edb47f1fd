//! A winit window with an OpenGL 4.5 core context on it, through glutin: EGL where the display offers it, GLX
//! otherwise.

use std::num::NonZeroU32;

use glutin::config::{Api, Config, ConfigTemplateBuilder, GlConfig};
use glutin::context::{NotCurrentGlContext, PossiblyCurrentContext};
use glutin::display::{Display, DisplayApiPreference, GlDisplay};
use glutin::surface::{GlSurface, Surface, SurfaceAttributesBuilder, SwapInterval, WindowSurface};
use glutin_winit::GlWindow;
use raw_window_handle::{HasDisplayHandle, HasWindowHandle};
use winit::event_loop::ActiveEventLoop;
use winit::window::{Window, WindowAttributes};

use crate::context::create_context;
use crate::{FrameTarget, GlContext, GpuError};

/// A window, its GL surface, and the compositor's context current on it.
pub struct WindowGl {
    // Field order is drop order: the context goes before the surface, the surface before the window.
    pub context: GlContext,
    surface: Surface<WindowSurface>,
    pub window: Window,
}

impl WindowGl {
    pub fn new(event_loop: &ActiveEventLoop, attributes: WindowAttributes) -> Result<WindowGl, GpuError> {
        let window_error = |e: &dyn std::fmt::Display| GpuError::Window(e.to_string());
        let handle = event_loop.display_handle().map_err(|e| window_error(&e))?.as_raw();
        // EGL where the display offers it, GLX otherwise; GLX needs Xlib errors routed through winit's handler.
        let preference = DisplayApiPreference::EglThenGlx(Box::new(winit::platform::x11::register_xlib_error_hook));
        // SAFETY: the display handle comes from the live event loop, which outlives the window and its context.
        let display = unsafe { Display::new(handle, preference) }.map_err(|e| window_error(&e))?;
        let template = ConfigTemplateBuilder::new().with_api(Api::OPENGL).build();
        // SAFETY: the template names no native window, so any config returned is usable with a new one.
        let configs: Vec<Config> = unsafe { display.find_configs(template) }.map_err(|e| window_error(&e))?.collect();
        // Prefer no multisampling (the engine composites full-screen textures, and screenshots read the default
        // framebuffer directly) and hardware acceleration.
        let config = configs
            .into_iter()
            .min_by_key(|c| (c.num_samples(), !c.hardware_accelerated()))
            .ok_or_else(|| GpuError::Window("the display offers no OpenGL framebuffer configuration".into()))?;
        let window = glutin_winit::finalize_window(event_loop, attributes, &config).map_err(|e| window_error(&e))?;
        let (context, robust) = create_context(&display, &config, None, None, false, crate::context::Profile::Core)
            .map_err(GpuError::Window)?;
        // Not GlWindow::build_surface_attributes: it panics on a zero-sized window.
        let size = window.inner_size();
        let (Some(w), Some(h)) = (NonZeroU32::new(size.width), NonZeroU32::new(size.height)) else {
            return Err(GpuError::Window(format!("the window came out {}x{} pixels", size.width, size.height)));
        };
        let raw_window = window.window_handle().map_err(|e| window_error(&e))?.as_raw();
        let surface_attributes = SurfaceAttributesBuilder::<WindowSurface>::new().build(raw_window, w, h);
        // SAFETY: the window outlives the surface (field order of WindowGl).
        let surface = unsafe { display.create_window_surface(&config, &surface_attributes) }
            .map_err(|e| GpuError::Window(e.to_string()))?;
        let current = context.make_current(&surface).map_err(|e| GpuError::Window(e.to_string()))?;
        if let Err(e) = surface.set_swap_interval(&current, SwapInterval::Wait(NonZeroU32::MIN)) {
            tracing::debug!("vsync not available: {e}");
        }
        let api = match &current {
            PossiblyCurrentContext::Egl(_) => "EGL",
            PossiblyCurrentContext::Glx(_) => "GLX",
        };
        let context = GlContext::from_current(display, config, current, robust)?;
        tracing::info!("OpenGL {} on {} ({api} window)", context.info.version, context.info.renderer);
        Ok(WindowGl { context, surface, window })
    }

    /// The default framebuffer at the window's current size.
    pub fn frame_target(&self) -> FrameTarget {
        let size = self.window.inner_size();
        FrameTarget { framebuffer: None, width: size.width.max(1), height: size.height.max(1) }
    }

    pub fn resize(&self) {
        self.window.resize_surface(&self.surface, self.context.raw());
    }

    pub fn swap_buffers(&self) -> Result<(), GpuError> {
        self.surface.swap_buffers(self.context.raw()).map_err(|e| GpuError::Gl(format!("swap buffers: {e}")))
    }
}
