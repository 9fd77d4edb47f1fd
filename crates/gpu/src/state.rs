//! Small pieces of GL state and queries that tools driving GL by script need (the `piglit` runner): extensions,
//! integer limits, capabilities, tessellation defaults, uniforms set by name with an explicit type, and vertex
//! inputs from attribute data.

use glow::HasContext;

use crate::{Gl, GpuError, Program, UniformShape, UniformValue};

/// The context's extensions.
pub fn extensions(gl: &Gl) -> &std::collections::HashSet<String> {
    gl.supported_extensions()
}

/// An integer the context reports (`glGetIntegerv`), or None when GL does not know `pname`.
pub fn get_integer(gl: &Gl, pname: u32) -> Option<i32> {
    // SAFETY: a plain query; an unknown pname raises a GL error, checked below, and returns nothing.
    unsafe {
        while gl.get_error() != glow::NO_ERROR {}
        let value = gl.get_parameter_i32(pname);
        (gl.get_error() == glow::NO_ERROR).then_some(value)
    }
}

/// Turns a capability (`glEnable`) on or off; false when GL refused it.
pub fn set_capability(gl: &Gl, cap: u32, on: bool) -> bool {
    // SAFETY: plain state changes; an invalid enum is a GL error, checked.
    unsafe {
        while gl.get_error() != glow::NO_ERROR {}
        if on {
            gl.enable(cap)
        } else {
            gl.disable(cap)
        }
        gl.get_error() == glow::NO_ERROR
    }
}

/// Which vertex of a primitive gives flat-shaded outputs: the first, or (GL's default) the last.
pub fn provoking_vertex_first(first: bool) {
    let convention = if first { glow::FIRST_VERTEX_CONVENTION } else { glow::LAST_VERTEX_CONVENTION };
    crate::extra::provoking_vertex(convention);
}

/// How polygons are rasterised, front and back: filled (GL's default), as lines, or as points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolygonMode {
    Fill,
    Line,
    Point,
}

pub fn polygon_mode(gl: &Gl, mode: PolygonMode) {
    let mode = match mode {
        PolygonMode::Fill => glow::FILL,
        PolygonMode::Line => glow::LINE,
        PolygonMode::Point => glow::POINT,
    };
    // SAFETY: plain state change.
    unsafe { gl.polygon_mode(glow::FRONT_AND_BACK, mode) }
}

/// Back to a clean slate between scripted tests on one context: no program, no errors pending, the capabilities
/// given off, patches of 3 vertices with default levels of 1, filled polygons, the last vertex provoking.
pub fn reset(gl: &Gl, capabilities: &[u32]) {
    // SAFETY: plain state changes on the current context.
    unsafe {
        gl.use_program(None);
        gl.polygon_mode(glow::FRONT_AND_BACK, glow::FILL);
        for &cap in capabilities {
            gl.disable(cap);
        }
        gl.patch_parameter_i32(glow::PATCH_VERTICES, 3);
        while gl.get_error() != glow::NO_ERROR {}
    }
    patch_default_levels(Some([1.0; 4]), Some([1.0; 2]));
    provoking_vertex_first(false);
}

/// The tessellation levels used when a program has no tessellation control stage.
/// False when the driver lacks the entry point.
pub fn patch_default_levels(outer: Option<[f32; 4]>, inner: Option<[f32; 2]>) -> bool {
    let outer = outer.is_none_or(|o| crate::extra::patch_parameter_f32(glow::PATCH_DEFAULT_OUTER_LEVEL, &o));
    let inner = inner.is_none_or(|i| crate::extra::patch_parameter_f32(glow::PATCH_DEFAULT_INNER_LEVEL, &i));
    outer && inner
}

impl Program {
    /// Sets one uniform by name as GL resolves it (`a[2]`, `s.member`), with the type the caller says: the
    /// program must be in use. Errors when the program has no active uniform of that name.
    pub fn set_uniform_named(
        &self,
        gl: &Gl,
        name: &str,
        shape: UniformShape,
        value: &UniformValue,
    ) -> Result<(), String> {
        // SAFETY: a query on a live program.
        let loc = unsafe { gl.get_uniform_location(self.raw(), name) }
            .ok_or_else(|| format!("cannot get location of uniform \"{name}\""))?;
        let needed = match shape {
            UniformShape::Vector(n) => n,
            UniformShape::Matrix(c, r) => c * r,
        };
        let len = value.len();
        if len != needed {
            return Err(format!("uniform \"{name}\": {len} values for a type of {needed}"));
        }
        // SAFETY: the location belongs to the program in use, and the value is exactly one element of the shape.
        if !unsafe { crate::reflect::upload(gl, &loc, shape, value) } {
            return Err(format!("uniform \"{name}\": not a float matrix"));
        }
        Ok(())
    }

    /// Where the uniform `name` lies in its uniform block's buffer, if it is an active uniform of a block (as
    /// `glGetUniformIndices` names it: `Block.member`, an array by its first element).
    pub fn block_member(&self, gl: &Gl, name: &str) -> Option<BlockMember> {
        let program = self.raw();
        // SAFETY: queries on a live program about an index it returned.
        unsafe {
            let index = gl.get_uniform_indices(program, &[name]).first().copied().flatten()?;
            let get = |pname| gl.get_active_uniforms_parameter(program, &[index], pname).first().copied().unwrap_or(-1);
            let block = u32::try_from(get(glow::UNIFORM_BLOCK_INDEX)).ok()?;
            Some(BlockMember {
                block,
                offset: get(glow::UNIFORM_OFFSET).max(0) as u32,
                array_stride: get(glow::UNIFORM_ARRAY_STRIDE).max(0) as u32,
                matrix_stride: get(glow::UNIFORM_MATRIX_STRIDE).max(0) as u32,
                row_major: get(glow::UNIFORM_IS_ROW_MAJOR) == 1,
            })
        }
    }

    /// The data size of each active uniform block, by block index.
    pub fn uniform_block_sizes(&self, gl: &Gl) -> Vec<u32> {
        let program = self.raw();
        // SAFETY: queries on a live program for indices below its block count.
        unsafe {
            let blocks = gl.get_program_parameter_i32(program, glow::ACTIVE_UNIFORM_BLOCKS).max(0) as u32;
            (0..blocks)
                .map(|i| {
                    gl.get_active_uniform_block_parameter_i32(program, i, glow::UNIFORM_BLOCK_DATA_SIZE).max(0) as u32
                })
                .collect()
        }
    }

    /// Binds uniform block `block` of the program to uniform buffer binding point `binding`.
    pub fn bind_uniform_block(&self, gl: &Gl, block: u32, binding: u32) {
        // SAFETY: plain program state; a bad index is a GL error, not undefined behaviour.
        unsafe { gl.uniform_block_binding(self.raw(), block, binding) }
    }

    /// The location of an active vertex input, if the program has one of that name.
    pub fn attrib_location(&self, gl: &Gl, name: &str) -> Option<u32> {
        // SAFETY: a query on a live program.
        unsafe { gl.get_attrib_location(self.raw(), name) }
    }
}

/// Where a uniform of a uniform block lies in the block's buffer (`glGetActiveUniformsiv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockMember {
    /// The active uniform block's index (of an array of blocks, the first element's).
    pub block: u32,
    /// Bytes from the block's start; between array elements; between a matrix's columns (rows when row-major).
    pub offset: u32,
    pub array_stride: u32,
    pub matrix_stride: u32,
    pub row_major: bool,
}

/// How a vertex attribute's values reach the shader.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AttribKind {
    Float,
    Int,
    UInt,
}

/// One attribute of interleaved vertex data: location, components, kind, byte offset in a vertex.
#[derive(Clone, Copy, Debug)]
pub struct Attrib {
    pub location: u32,
    pub components: i32,
    pub kind: AttribKind,
    pub offset: i32,
}

/// A vertex array with one buffer of interleaved vertices.
pub struct VertexInput {
    vao: glow::NativeVertexArray,
    buffer: glow::NativeBuffer,
}

impl VertexInput {
    /// A vertex array reading `attribs` from `data`, `stride` bytes per vertex.
    pub fn new(gl: &Gl, data: &[u8], stride: i32, attribs: &[Attrib]) -> Result<VertexInput, GpuError> {
        // SAFETY: object creation; the attribute pointers are offsets into the buffer bound here.
        unsafe {
            let vao = gl.create_vertex_array().map_err(GpuError::Gl)?;
            let buffer = match gl.create_buffer() {
                Ok(b) => b,
                Err(e) => {
                    gl.delete_vertex_array(vao);
                    return Err(GpuError::Gl(e));
                }
            };
            gl.bind_vertex_array(Some(vao));
            gl.bind_buffer(glow::ARRAY_BUFFER, Some(buffer));
            gl.buffer_data_u8_slice(glow::ARRAY_BUFFER, data, glow::STATIC_DRAW);
            for a in attribs {
                match a.kind {
                    AttribKind::Float => {
                        gl.vertex_attrib_pointer_f32(a.location, a.components, glow::FLOAT, false, stride, a.offset)
                    }
                    AttribKind::Int => {
                        gl.vertex_attrib_pointer_i32(a.location, a.components, glow::INT, stride, a.offset)
                    }
                    AttribKind::UInt => {
                        gl.vertex_attrib_pointer_i32(a.location, a.components, glow::UNSIGNED_INT, stride, a.offset)
                    }
                }
                gl.enable_vertex_attrib_array(a.location);
            }
            gl.bind_vertex_array(None);
            gl.bind_buffer(glow::ARRAY_BUFFER, None);
            Ok(VertexInput { vao, buffer })
        }
    }

    /// Draws `count` vertices from `first`, `instances` times, with the program in use.
    pub fn draw(&self, gl: &Gl, mode: crate::Primitive, first: i32, count: i32, instances: i32) {
        self.draw_gl_mode(gl, crate::kinds::draw_mode(mode), first, count, instances);
    }

    /// [`VertexInput::draw`] with a draw mode of the compatibility profile (quads, quad strips, polygons).
    pub fn draw_compat(&self, gl: &Gl, mode: crate::CompatPrimitive, first: i32, count: i32, instances: i32) {
        self.draw_gl_mode(gl, mode.gl(), first, count, instances);
    }

    fn draw_gl_mode(&self, gl: &Gl, mode: u32, first: i32, count: i32, instances: i32) {
        // SAFETY: the vertex array is alive; GL checks the range against the buffer (robust access) and reports
        // errors rather than reading out of bounds on the drivers we use. A mode the context lacks is a GL error.
        unsafe {
            gl.bind_vertex_array(Some(self.vao));
            if instances > 1 {
                gl.draw_arrays_instanced(mode, first, count, instances);
            } else {
                gl.draw_arrays(mode, first, count);
            }
            gl.bind_vertex_array(None);
        }
    }

    pub fn delete(self, gl: &Gl) {
        // SAFETY: consuming `self` deletes each object once.
        unsafe {
            gl.delete_vertex_array(self.vao);
            gl.delete_buffer(self.buffer);
        }
    }
}
