//! Reflection: what a linked program exposes (active uniforms, uniform blocks, storage blocks, transform-feedback
//! varyings), as the data model the tweak bar shows, and typed uniform values that survive rebuilds when a
//! uniform's name and type still match.

use glow::HasContext;

use crate::Gl;
use crate::extra;

/// The scalar kind of a GLSL type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scalar {
    Float,
    Int,
    UInt,
    Bool,
    Double,
    /// Samplers and images: set as an int (the texture or image unit).
    Opaque,
}

/// A GLSL type, by its GL enum (`glow::FLOAT_VEC3`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlslType(pub u32);

/// (GL enum, GLSL name, scalar kind, components).
const TYPES: &[(u32, &str, Scalar, u8)] = &[
    (glow::FLOAT, "float", Scalar::Float, 1),
    (glow::FLOAT_VEC2, "vec2", Scalar::Float, 2),
    (glow::FLOAT_VEC3, "vec3", Scalar::Float, 3),
    (glow::FLOAT_VEC4, "vec4", Scalar::Float, 4),
    (glow::INT, "int", Scalar::Int, 1),
    (glow::INT_VEC2, "ivec2", Scalar::Int, 2),
    (glow::INT_VEC3, "ivec3", Scalar::Int, 3),
    (glow::INT_VEC4, "ivec4", Scalar::Int, 4),
    (glow::UNSIGNED_INT, "uint", Scalar::UInt, 1),
    (glow::UNSIGNED_INT_VEC2, "uvec2", Scalar::UInt, 2),
    (glow::UNSIGNED_INT_VEC3, "uvec3", Scalar::UInt, 3),
    (glow::UNSIGNED_INT_VEC4, "uvec4", Scalar::UInt, 4),
    (glow::BOOL, "bool", Scalar::Bool, 1),
    (glow::BOOL_VEC2, "bvec2", Scalar::Bool, 2),
    (glow::BOOL_VEC3, "bvec3", Scalar::Bool, 3),
    (glow::BOOL_VEC4, "bvec4", Scalar::Bool, 4),
    (glow::FLOAT_MAT2, "mat2", Scalar::Float, 4),
    (glow::FLOAT_MAT3, "mat3", Scalar::Float, 9),
    (glow::FLOAT_MAT4, "mat4", Scalar::Float, 16),
    (glow::FLOAT_MAT2x3, "mat2x3", Scalar::Float, 6),
    (glow::FLOAT_MAT2x4, "mat2x4", Scalar::Float, 8),
    (glow::FLOAT_MAT3x2, "mat3x2", Scalar::Float, 6),
    (glow::FLOAT_MAT3x4, "mat3x4", Scalar::Float, 12),
    (glow::FLOAT_MAT4x2, "mat4x2", Scalar::Float, 8),
    (glow::FLOAT_MAT4x3, "mat4x3", Scalar::Float, 12),
    (glow::DOUBLE, "double", Scalar::Double, 1),
    (glow::DOUBLE_VEC2, "dvec2", Scalar::Double, 2),
    (glow::DOUBLE_VEC3, "dvec3", Scalar::Double, 3),
    (glow::DOUBLE_VEC4, "dvec4", Scalar::Double, 4),
    (glow::SAMPLER_1D, "sampler1D", Scalar::Opaque, 1),
    (glow::SAMPLER_2D, "sampler2D", Scalar::Opaque, 1),
    (glow::SAMPLER_3D, "sampler3D", Scalar::Opaque, 1),
    (glow::SAMPLER_CUBE, "samplerCube", Scalar::Opaque, 1),
    (glow::SAMPLER_2D_ARRAY, "sampler2DArray", Scalar::Opaque, 1),
    (glow::SAMPLER_2D_SHADOW, "sampler2DShadow", Scalar::Opaque, 1),
    (glow::SAMPLER_BUFFER, "samplerBuffer", Scalar::Opaque, 1),
    (glow::SAMPLER_2D_MULTISAMPLE, "sampler2DMS", Scalar::Opaque, 1),
    (glow::INT_SAMPLER_2D, "isampler2D", Scalar::Opaque, 1),
    (glow::UNSIGNED_INT_SAMPLER_2D, "usampler2D", Scalar::Opaque, 1),
    (glow::IMAGE_2D, "image2D", Scalar::Opaque, 1),
    (glow::IMAGE_3D, "image3D", Scalar::Opaque, 1),
    (glow::IMAGE_BUFFER, "imageBuffer", Scalar::Opaque, 1),
    (glow::INT_IMAGE_2D, "iimage2D", Scalar::Opaque, 1),
    (glow::UNSIGNED_INT_IMAGE_2D, "uimage2D", Scalar::Opaque, 1),
];

impl GlslType {
    fn entry(self) -> Option<&'static (u32, &'static str, Scalar, u8)> {
        TYPES.iter().find(|t| t.0 == self.0)
    }

    /// The GLSL spelling, or `type 0x...` for one this table does not name.
    pub fn name(self) -> String {
        self.entry().map_or_else(|| format!("type {:#x}", self.0), |t| t.1.to_owned())
    }

    pub fn scalar(self) -> Option<Scalar> {
        self.entry().map(|t| t.2)
    }

    /// Scalars per element (a mat3 has 9).
    pub fn components(self) -> usize {
        self.entry().map_or(1, |t| t.3 as usize)
    }
}

/// One active uniform.
#[derive(Clone, Debug, PartialEq)]
pub struct UniformInfo {
    /// Its name without a trailing `[0]` (arrays are reported as `name[0]` by GL).
    pub name: String,
    pub ty: GlslType,
    /// 1 for a non-array uniform.
    pub array_len: u32,
    /// The uniform block holding it, if any (such uniforms have no location and are set through buffers).
    pub block: Option<String>,
}

/// A uniform or shader-storage block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    pub name: String,
    pub binding: u32,
    pub size: u32,
}

/// A transform-feedback varying, as declared with `xfb_buffer` / `xfb_offset`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaryingInfo {
    pub name: String,
    pub ty: GlslType,
    pub array_len: u32,
    /// The `xfb_buffer` binding it is captured into, its byte offset there, and that buffer's stride.
    pub buffer: u32,
    pub offset: u32,
    pub stride: u32,
}

/// Everything a program exposes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reflection {
    pub uniforms: Vec<UniformInfo>,
    pub uniform_blocks: Vec<BlockInfo>,
    pub storage_blocks: Vec<BlockInfo>,
    pub feedback: Vec<VaryingInfo>,
}

impl Reflection {
    pub fn uniform(&self, name: &str) -> Option<&UniformInfo> {
        self.uniforms.iter().find(|u| u.name == name)
    }
}

/// A value for a uniform: as many scalars as its type has components, times its array length (fewer sets the
/// first elements). Bools, samplers and images take `Int`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum UniformValue {
    Float(Vec<f32>),
    Int(Vec<i32>),
    UInt(Vec<u32>),
}

impl UniformValue {
    pub(crate) fn len(&self) -> usize {
        match self {
            UniformValue::Float(v) => v.len(),
            UniformValue::Int(v) => v.len(),
            UniformValue::UInt(v) => v.len(),
        }
    }

    /// Its scalars as f64 (what the tweak bar and Lua hold).
    pub fn to_f64s(&self) -> Vec<f64> {
        match self {
            UniformValue::Float(v) => v.iter().map(|&x| f64::from(x)).collect(),
            UniformValue::Int(v) => v.iter().map(|&x| f64::from(x)).collect(),
            UniformValue::UInt(v) => v.iter().map(|&x| f64::from(x)).collect(),
        }
    }

    /// Whether this value can be given to a uniform of type `ty` with `array_len` elements.
    pub fn fits(&self, ty: GlslType, array_len: u32) -> bool {
        let n = ty.components();
        let kind_ok = matches!(
            (self, ty.scalar()),
            (UniformValue::Float(_), Some(Scalar::Float))
                | (UniformValue::Int(_), Some(Scalar::Int | Scalar::Bool | Scalar::Opaque))
                | (UniformValue::UInt(_), Some(Scalar::UInt))
        );
        kind_ok && self.len() >= n && self.len().is_multiple_of(n) && self.len() <= n * array_len as usize
    }
}

pub(crate) fn reflect(gl: &Gl, program: glow::NativeProgram) -> Reflection {
    let raw = extra::raw_name(program);
    let mut reflection = Reflection::default();
    // SAFETY: queries on a live, linked program; indices stay below the counts GL reported.
    unsafe {
        let blocks = gl.get_program_parameter_i32(program, glow::ACTIVE_UNIFORM_BLOCKS).max(0) as u32;
        for index in 0..blocks {
            reflection.uniform_blocks.push(BlockInfo {
                name: gl.get_active_uniform_block_name(program, index),
                binding: gl.get_active_uniform_block_parameter_i32(program, index, glow::UNIFORM_BLOCK_BINDING).max(0)
                    as u32,
                size: gl.get_active_uniform_block_parameter_i32(program, index, glow::UNIFORM_BLOCK_DATA_SIZE).max(0)
                    as u32,
            });
        }
        for index in 0..gl.get_active_uniforms(program) {
            let Some(active) = gl.get_active_uniform(program, index) else { continue };
            let block = gl.get_active_uniforms_parameter(program, &[index], glow::UNIFORM_BLOCK_INDEX);
            let block =
                block.first().copied().filter(|&b| b >= 0).and_then(|b| reflection.uniform_blocks.get(b as usize));
            let name = active.name.strip_suffix("[0]").unwrap_or(&active.name).to_owned();
            reflection.uniforms.push(UniformInfo {
                name,
                ty: GlslType(active.utype),
                array_len: active.size.max(1) as u32,
                block: block.map(|b| b.name.clone()),
            });
        }
    }
    for index in 0..extra::interface_count(program, glow::SHADER_STORAGE_BLOCK) {
        let values = extra::resource_i32(
            raw,
            glow::SHADER_STORAGE_BLOCK,
            index,
            &[glow::BUFFER_BINDING, glow::BUFFER_DATA_SIZE],
        );
        reflection.storage_blocks.push(BlockInfo {
            name: extra::resource_name(raw, glow::SHADER_STORAGE_BLOCK, index),
            binding: values[0].max(0) as u32,
            size: values[1].max(0) as u32,
        });
    }
    for index in 0..extra::interface_count(program, glow::TRANSFORM_FEEDBACK_VARYING) {
        let v = extra::resource_i32(
            raw,
            glow::TRANSFORM_FEEDBACK_VARYING,
            index,
            &[glow::TYPE, glow::ARRAY_SIZE, glow::OFFSET, glow::TRANSFORM_FEEDBACK_BUFFER_INDEX],
        );
        let buffer = extra::resource_i32(
            raw,
            glow::TRANSFORM_FEEDBACK_BUFFER,
            v[3].max(0) as u32,
            &[glow::BUFFER_BINDING, glow::TRANSFORM_FEEDBACK_BUFFER_STRIDE],
        );
        reflection.feedback.push(VaryingInfo {
            name: extra::resource_name(raw, glow::TRANSFORM_FEEDBACK_VARYING, index),
            ty: GlslType(v[0] as u32),
            array_len: v[1].max(1) as u32,
            offset: v[2].max(0) as u32,
            buffer: buffer[0].max(0) as u32,
            stride: buffer[1].max(0) as u32,
        });
    }
    reflection
}

fn element_location(
    gl: &Gl,
    program: glow::NativeProgram,
    uniform: &UniformInfo,
    i: u32,
) -> Option<glow::NativeUniformLocation> {
    let name = if uniform.array_len > 1 { format!("{}[{i}]", uniform.name) } else { uniform.name.clone() };
    // SAFETY: a query on a live program.
    unsafe { gl.get_uniform_location(program, &name) }
}

pub(crate) fn set_uniform(gl: &Gl, program: glow::NativeProgram, uniform: &UniformInfo, value: &UniformValue) -> bool {
    if uniform.block.is_some() || !value.fits(uniform.ty, uniform.array_len) {
        return false;
    }
    let Some(loc) = element_location(gl, program, uniform, 0) else { return false };
    // SAFETY: the location belongs to the program in use and `fits` checked that the slice holds whole elements
    // of the uniform's type, no more than it has.
    unsafe { upload(gl, &loc, uniform.ty.shape(), value) }
}

/// A uniform's shape: a matrix (columns, rows) or a vector of n (1 for scalars).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UniformShape {
    Vector(usize),
    Matrix(usize, usize),
}

impl GlslType {
    pub fn shape(self) -> UniformShape {
        match self.0 {
            glow::FLOAT_MAT2 => UniformShape::Matrix(2, 2),
            glow::FLOAT_MAT3 => UniformShape::Matrix(3, 3),
            glow::FLOAT_MAT4 => UniformShape::Matrix(4, 4),
            glow::FLOAT_MAT2x3 => UniformShape::Matrix(2, 3),
            glow::FLOAT_MAT2x4 => UniformShape::Matrix(2, 4),
            glow::FLOAT_MAT3x2 => UniformShape::Matrix(3, 2),
            glow::FLOAT_MAT3x4 => UniformShape::Matrix(3, 4),
            glow::FLOAT_MAT4x2 => UniformShape::Matrix(4, 2),
            glow::FLOAT_MAT4x3 => UniformShape::Matrix(4, 3),
            _ => UniformShape::Vector(self.components()),
        }
    }
}

/// Uploads `value` (whole elements of `shape`, one or more for arrays) to the uniform at `loc` of the program in
/// use: the one place that picks the `glUniform*` call. False for a matrix given anything but floats.
///
/// # Safety
/// `loc` must belong to the program in use, and `value` must hold whole elements of `shape`, no more than the
/// uniform has.
pub(crate) unsafe fn upload(
    gl: &Gl,
    loc: &glow::NativeUniformLocation,
    shape: UniformShape,
    value: &UniformValue,
) -> bool {
    let loc = Some(loc);
    // SAFETY: as the caller promised.
    unsafe {
        match (shape, value) {
            (UniformShape::Matrix(2, 2), UniformValue::Float(v)) => gl.uniform_matrix_2_f32_slice(loc, false, v),
            (UniformShape::Matrix(3, 3), UniformValue::Float(v)) => gl.uniform_matrix_3_f32_slice(loc, false, v),
            (UniformShape::Matrix(4, 4), UniformValue::Float(v)) => gl.uniform_matrix_4_f32_slice(loc, false, v),
            (UniformShape::Matrix(2, 3), UniformValue::Float(v)) => gl.uniform_matrix_2x3_f32_slice(loc, false, v),
            (UniformShape::Matrix(2, 4), UniformValue::Float(v)) => gl.uniform_matrix_2x4_f32_slice(loc, false, v),
            (UniformShape::Matrix(3, 2), UniformValue::Float(v)) => gl.uniform_matrix_3x2_f32_slice(loc, false, v),
            (UniformShape::Matrix(3, 4), UniformValue::Float(v)) => gl.uniform_matrix_3x4_f32_slice(loc, false, v),
            (UniformShape::Matrix(4, 2), UniformValue::Float(v)) => gl.uniform_matrix_4x2_f32_slice(loc, false, v),
            (UniformShape::Matrix(4, 3), UniformValue::Float(v)) => gl.uniform_matrix_4x3_f32_slice(loc, false, v),
            (UniformShape::Matrix(..), _) => return false,
            (UniformShape::Vector(n), UniformValue::Float(v)) => match n {
                1 => gl.uniform_1_f32_slice(loc, v),
                2 => gl.uniform_2_f32_slice(loc, v),
                3 => gl.uniform_3_f32_slice(loc, v),
                _ => gl.uniform_4_f32_slice(loc, v),
            },
            (UniformShape::Vector(n), UniformValue::Int(v)) => match n {
                1 => gl.uniform_1_i32_slice(loc, v),
                2 => gl.uniform_2_i32_slice(loc, v),
                3 => gl.uniform_3_i32_slice(loc, v),
                _ => gl.uniform_4_i32_slice(loc, v),
            },
            (UniformShape::Vector(n), UniformValue::UInt(v)) => match n {
                1 => gl.uniform_1_u32_slice(loc, v),
                2 => gl.uniform_2_u32_slice(loc, v),
                3 => gl.uniform_3_u32_slice(loc, v),
                _ => gl.uniform_4_u32_slice(loc, v),
            },
        }
    }
    true
}

pub(crate) fn uniform_value(gl: &Gl, program: glow::NativeProgram, uniform: &UniformInfo) -> Option<UniformValue> {
    if uniform.block.is_some() || uniform.ty.scalar() == Some(Scalar::Double) {
        return None;
    }
    let n = uniform.ty.components();
    let scalar = uniform.ty.scalar()?;
    let mut floats = Vec::new();
    let mut ints = Vec::new();
    let mut uints = Vec::new();
    for i in 0..uniform.array_len {
        let loc = element_location(gl, program, uniform, i)?;
        // SAFETY: each buffer holds exactly the element's scalar count, which GL writes.
        unsafe {
            match scalar {
                Scalar::Float => {
                    let mut v = vec![0f32; n];
                    gl.get_uniform_f32(program, &loc, &mut v);
                    floats.extend(v);
                }
                Scalar::UInt => {
                    let mut v = vec![0u32; n];
                    gl.get_uniform_u32(program, &loc, &mut v);
                    uints.extend(v);
                }
                _ => {
                    let mut v = vec![0i32; n];
                    gl.get_uniform_i32(program, &loc, &mut v);
                    ints.extend(v);
                }
            }
        }
    }
    Some(match scalar {
        Scalar::Float => UniformValue::Float(floats),
        Scalar::UInt => UniformValue::UInt(uints),
        _ => UniformValue::Int(ints),
    })
}
