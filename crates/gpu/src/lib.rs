//! The GPU layer: the only crate that calls OpenGL.
//!
//! It makes OpenGL 4.5 core contexts (headless through EGL's device platform, or on a winit window through
//! glutin), contexts that share objects with them for worker threads, and the few GL objects the engine moves
//! between threads: render targets, programs, fences, and pixels read back. Everything above this crate talks in
//! these types and never names a GL function; the `unsafe` that GL needs lives here and says why it is sound.

mod blit;
mod buffer;
mod compat;
mod context;
mod error;
mod extra;
mod fence;
mod image;
mod kinds;
mod program;
mod rects;
mod reflect;
mod sampled;
mod state;
mod target;
mod texture;
mod timing;
mod ui;
mod window;

pub use blit::Blitter;
pub use buffer::{
    Buffer, barrier, capture_feedback, dispatch, dispatch_indirect, draw_arrays_indirect, draw_elements,
    draw_elements_indirect, multi_draw_elements_indirect, patch_vertices,
};
pub use compat::{CompatPrimitive, DisplayList, Projection, clip_plane, reset_fixed_function, set_projection};
pub use context::{GlContext, GlInfo, Profile, SharedContext, headless, headless_profile};
pub use error::GpuError;
pub use extra::context_lost;
pub use fence::{Fence, finish};
pub use image::{Image, read_texture_rgba8};
pub use kinds::{BufferTarget, Primitive, Stage};
pub use program::{FullscreenTriangle, Program, StageLog, bind_texture};
pub use rects::{RECTS_VERTEX, Rects};
pub use reflect::{BlockInfo, GlslType, Reflection, Scalar, UniformInfo, UniformShape, UniformValue, VaryingInfo};
pub use sampled::{
    Filter, ImageUpload, PixelKind, PixelTexture, Sampler, Samplers, Wrap, bind_cube_texture, unbind_units,
};
pub use state::{
    Attrib, AttribKind, BlockMember, PolygonMode, VertexInput, extensions, get_integer, patch_default_levels,
    polygon_mode, provoking_vertex_first, reset, set_capability,
};
pub use target::{Attachments, Blend, ColourFormat, DrawState, FrameTarget, Target};
pub use texture::Texture2D;
pub use timing::{GpuTimer, Timing};
pub use ui::UiPainter;
pub use window::WindowGl;

/// The GL function table. `Arc` because egui's painter (the editor overlay) takes it that way.
pub type Gl = std::sync::Arc<glow::Context>;

/// Re-exported so the layers above can name GL handles (texture ids in messages) without depending on glow.
pub use glow;
