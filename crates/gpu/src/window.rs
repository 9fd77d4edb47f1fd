//! A winit window with an OpenGL 4.5 core context on it, through glutin: EGL where the display offers it, GLX
//! otherwise.

use std::num::NonZeroU32;

use glutin::config::{Api, ConfigTemplateBuilder, GlConfig};
use glutin::context::{NotCurrentGlContext, PossiblyCurrentContext};
use glutin::display::{GetGlDisplay, GlDisplay};
use glutin::surface::{GlSurface, Surface, SurfaceAttributesBuilder, SwapInterval, WindowSurface};
use glutin_winit::{ApiPreference, DisplayBuilder, GlWindow};
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
        let template = ConfigTemplateBuilder::new().with_api(Api::OPENGL);
        let (window, config) = DisplayBuilder::new()
            .with_preference(ApiPreference::PreferEgl)
            .with_window_attributes(Some(attributes))
            .build(event_loop, template, |configs| {
                // Prefer a config without multisampling: the engine composites full-screen textures, and
                // screenshots read the default framebuffer directly.
                let mut configs: Vec<_> = configs.collect();
                configs.sort_by_key(|c| (c.num_samples(), !c.hardware_accelerated()));
                configs.into_iter().next().expect("glutin returns at least one config or an error")
            })
            .map_err(|e| GpuError::Window(e.to_string()))?;
        let window = window.ok_or_else(|| GpuError::Window("glutin made no window".into()))?;
        let display = config.display();
        let (context, robust) = create_context(&display, &config, None, None).map_err(GpuError::Window)?;
        let surface_attributes = window
            .build_surface_attributes(SurfaceAttributesBuilder::new())
            .map_err(|e| GpuError::Window(e.to_string()))?;
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
