//! The GL enums of the kinds that cross this crate's API, typed: shader stages and draw modes are the shader
//! format's own `Stage` and `Primitive` (one vocabulary from `#pragma` to the driver), buffer binding points are
//! [`BufferTarget`]. The numbers live here and nowhere above this crate.

pub use allsource_shader::{Primitive, Stage};

/// The GL shader type of a stage (`GL_VERTEX_SHADER`, ...).
pub(crate) fn shader_type(stage: Stage) -> u32 {
    match stage {
        Stage::Vertex => glow::VERTEX_SHADER,
        Stage::TessControl => glow::TESS_CONTROL_SHADER,
        Stage::TessEvaluation => glow::TESS_EVALUATION_SHADER,
        Stage::Geometry => glow::GEOMETRY_SHADER,
        Stage::Fragment => glow::FRAGMENT_SHADER,
        Stage::Compute => glow::COMPUTE_SHADER,
    }
}

/// The GL draw mode of a primitive (`GL_POINTS` ... `GL_PATCHES`).
pub(crate) fn draw_mode(primitive: Primitive) -> u32 {
    match primitive {
        Primitive::Points => glow::POINTS,
        Primitive::Lines => glow::LINES,
        Primitive::LineLoop => glow::LINE_LOOP,
        Primitive::LineStrip => glow::LINE_STRIP,
        Primitive::Triangles => glow::TRIANGLES,
        Primitive::TriangleStrip => glow::TRIANGLE_STRIP,
        Primitive::TriangleFan => glow::TRIANGLE_FAN,
        Primitive::LinesAdjacency => glow::LINES_ADJACENCY,
        Primitive::LineStripAdjacency => glow::LINE_STRIP_ADJACENCY,
        Primitive::TrianglesAdjacency => glow::TRIANGLES_ADJACENCY,
        Primitive::TriangleStripAdjacency => glow::TRIANGLE_STRIP_ADJACENCY,
        Primitive::Patches => glow::PATCHES,
    }
}

/// The mode transform feedback captures draws of `primitive` in (`GL_POINTS`, `GL_LINES` or `GL_TRIANGLES`; a
/// geometry or tessellation stage's output is what counts, and the caller says which when it has one).
pub(crate) fn feedback_mode(primitive: Primitive) -> u32 {
    match primitive {
        Primitive::Points => glow::POINTS,
        Primitive::Lines
        | Primitive::LineLoop
        | Primitive::LineStrip
        | Primitive::LinesAdjacency
        | Primitive::LineStripAdjacency => glow::LINES,
        _ => glow::TRIANGLES,
    }
}

/// Where a buffer is bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BufferTarget {
    /// Vertex attributes.
    Array,
    /// Indices of indexed draws.
    ElementArray,
    /// `buffer` blocks (indexed: the block's `binding`).
    ShaderStorage,
    /// `uniform` blocks (indexed: the block's `binding`).
    Uniform,
    /// `atomic_uint` counters (indexed: the counter's `binding`).
    AtomicCounter,
    /// Transform-feedback capture (indexed: the varying's `xfb_buffer`).
    TransformFeedback,
}

impl BufferTarget {
    pub(crate) fn gl(self) -> u32 {
        match self {
            BufferTarget::Array => glow::ARRAY_BUFFER,
            BufferTarget::ElementArray => glow::ELEMENT_ARRAY_BUFFER,
            BufferTarget::ShaderStorage => glow::SHADER_STORAGE_BUFFER,
            BufferTarget::Uniform => glow::UNIFORM_BUFFER,
            BufferTarget::AtomicCounter => glow::ATOMIC_COUNTER_BUFFER,
            BufferTarget::TransformFeedback => glow::TRANSFORM_FEEDBACK_BUFFER,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_and_primitive_has_its_own_gl_enum() {
        let stages: std::collections::HashSet<u32> = Stage::ALL.into_iter().map(shader_type).collect();
        assert_eq!(stages.len(), Stage::ALL.len());
        let modes: std::collections::HashSet<u32> = Primitive::ALL.into_iter().map(draw_mode).collect();
        assert_eq!(modes.len(), Primitive::ALL.len());
        assert_eq!(draw_mode(Primitive::TriangleFan), 0x0006);
        assert_eq!(shader_type(Stage::Compute), 0x91B9);
    }
}
