//! GL entry points glow lacks or wraps wrongly, loaded through the context's proc-address loader:
//! program-interface queries (storage blocks and transform-feedback layout for reflection; glow's
//! `get_program_resource_i32` asks for the result size with a zero-sized buffer and so returns nothing) and
//! `glMultiDrawElementsIndirect`.
//!
//! EGL and GLX return context-independent entry points, so one table serves every context of the process.

use std::ffi::{CStr, c_void};
use std::sync::OnceLock;

type GetProgramInterfaceiv = unsafe extern "system" fn(u32, u32, u32, *mut i32);
type GetProgramResourceName = unsafe extern "system" fn(u32, u32, u32, i32, *mut i32, *mut u8);
type GetProgramResourceiv = unsafe extern "system" fn(u32, u32, u32, i32, *const u32, i32, *mut i32, *mut i32);
type MultiDrawElementsIndirect = unsafe extern "system" fn(u32, u32, *const c_void, i32, i32);
type GetGraphicsResetStatus = unsafe extern "system" fn() -> u32;
type PatchParameterfv = unsafe extern "system" fn(u32, *const f32);
type MatrixMode = unsafe extern "system" fn(u32);
type LoadIdentity = unsafe extern "system" fn();
type OrthoOrFrustum = unsafe extern "system" fn(f64, f64, f64, f64, f64, f64);
type ClipPlane = unsafe extern "system" fn(u32, *const f64);
type ProvokingVertex = unsafe extern "system" fn(u32);
type GenLists = unsafe extern "system" fn(i32) -> u32;
type NewList = unsafe extern "system" fn(u32, u32);
type EndList = unsafe extern "system" fn();
type CallList = unsafe extern "system" fn(u32);
type DeleteLists = unsafe extern "system" fn(u32, i32);

pub(crate) struct Extra {
    pub get_program_interfaceiv: Option<GetProgramInterfaceiv>,
    pub get_program_resource_name: Option<GetProgramResourceName>,
    pub get_program_resourceiv: Option<GetProgramResourceiv>,
    pub multi_draw_elements_indirect: Option<MultiDrawElementsIndirect>,
    pub get_graphics_reset_status: Option<GetGraphicsResetStatus>,
    pub patch_parameterfv: Option<PatchParameterfv>,
    pub provoking_vertex: Option<ProvokingVertex>,
    /// Compatibility profile only (fixed-function matrices and clip planes): present in the table on every
    /// driver, an error to call in a core context.
    pub matrix_mode: Option<MatrixMode>,
    pub load_identity: Option<LoadIdentity>,
    pub ortho: Option<OrthoOrFrustum>,
    pub frustum: Option<OrthoOrFrustum>,
    pub clip_plane: Option<ClipPlane>,
    pub gen_lists: Option<GenLists>,
    pub new_list: Option<NewList>,
    pub end_list: Option<EndList>,
    pub call_list: Option<CallList>,
    pub delete_lists: Option<DeleteLists>,
}

static EXTRA: OnceLock<Extra> = OnceLock::new();

/// Loads the table once; later calls do nothing.
pub(crate) fn load(loader: &dyn Fn(&CStr) -> *const c_void) {
    EXTRA.get_or_init(|| {
        let get = |name: &CStr| {
            let ptr = loader(name);
            (!ptr.is_null()).then_some(ptr)
        };
        // SAFETY: each pointer comes from the GL loader for exactly the named function, whose C signature the
        // type alias it is transmuted to matches (OpenGL 4.5 core and compatibility specifications).
        unsafe {
            Extra {
                get_program_interfaceiv: get(c"glGetProgramInterfaceiv").map(|p| std::mem::transmute(p)),
                get_program_resource_name: get(c"glGetProgramResourceName").map(|p| std::mem::transmute(p)),
                get_program_resourceiv: get(c"glGetProgramResourceiv").map(|p| std::mem::transmute(p)),
                multi_draw_elements_indirect: get(c"glMultiDrawElementsIndirect").map(|p| std::mem::transmute(p)),
                get_graphics_reset_status: get(c"glGetGraphicsResetStatus")
                    .or_else(|| get(c"glGetGraphicsResetStatusKHR"))
                    .or_else(|| get(c"glGetGraphicsResetStatusARB"))
                    .map(|p| std::mem::transmute(p)),
                patch_parameterfv: get(c"glPatchParameterfv").map(|p| std::mem::transmute(p)),
                provoking_vertex: get(c"glProvokingVertex").map(|p| std::mem::transmute(p)),
                matrix_mode: get(c"glMatrixMode").map(|p| std::mem::transmute(p)),
                load_identity: get(c"glLoadIdentity").map(|p| std::mem::transmute(p)),
                ortho: get(c"glOrtho").map(|p| std::mem::transmute(p)),
                frustum: get(c"glFrustum").map(|p| std::mem::transmute(p)),
                clip_plane: get(c"glClipPlane").map(|p| std::mem::transmute(p)),
                gen_lists: get(c"glGenLists").map(|p| std::mem::transmute(p)),
                new_list: get(c"glNewList").map(|p| std::mem::transmute(p)),
                end_list: get(c"glEndList").map(|p| std::mem::transmute(p)),
                call_list: get(c"glCallList").map(|p| std::mem::transmute(p)),
                delete_lists: get(c"glDeleteLists").map(|p| std::mem::transmute(p)),
            }
        }
    });
}

pub(crate) fn get() -> Option<&'static Extra> {
    EXTRA.get()
}

/// `glProvokingVertex` (glow 0.17 lacks it); false when the entry point is missing.
pub(crate) fn provoking_vertex(convention: u32) -> bool {
    let Some(f) = get().and_then(|e| e.provoking_vertex) else { return false };
    // SAFETY: a plain state change with an enum; a bad one is a GL error.
    unsafe { f(convention) };
    true
}

/// `glPatchParameterfv` (glow 0.17 has only the integer form); false when the entry point is missing.
pub(crate) fn patch_parameter_f32(pname: u32, values: &[f32]) -> bool {
    let Some(f) = get().and_then(|e| e.patch_parameterfv) else { return false };
    // SAFETY: the caller passes as many values as `pname` takes (4 outer or 2 inner levels).
    unsafe { f(pname, values.as_ptr()) };
    true
}

/// Number of active resources of `interface` in `program`.
pub(crate) fn active_resources(program: u32, interface: u32) -> u32 {
    let Some(f) = get().and_then(|e| e.get_program_interfaceiv) else { return 0 };
    let mut count = 0;
    // SAFETY: one i32 is written to `count`; the program name is valid in the current context.
    unsafe { f(program, interface, glow::ACTIVE_RESOURCES, &mut count) };
    u32::try_from(count).unwrap_or(0)
}

/// The name of resource `index` of `interface`.
pub(crate) fn resource_name(program: u32, interface: u32, index: u32) -> String {
    let Some(f) = get().and_then(|e| e.get_program_resource_name) else { return String::new() };
    let length = resource_i32(program, interface, index, &[glow::NAME_LENGTH]).first().copied().unwrap_or(0);
    let mut buffer = vec![0u8; length.max(1) as usize];
    let mut written = 0;
    // SAFETY: the buffer holds `length` bytes and GL writes at most that many, including the terminating zero.
    unsafe { f(program, interface, index, buffer.len() as i32, &mut written, buffer.as_mut_ptr()) };
    buffer.truncate(written.max(0) as usize);
    String::from_utf8_lossy(&buffer).into_owned()
}

/// The values of `properties` of resource `index` of `interface`, one i32 each (array properties are not asked for).
pub(crate) fn resource_i32(program: u32, interface: u32, index: u32, properties: &[u32]) -> Vec<i32> {
    let Some(f) = get().and_then(|e| e.get_program_resourceiv) else { return vec![0; properties.len()] };
    let mut values = vec![0i32; properties.len()];
    let mut written = 0;
    // SAFETY: `values` has room for one i32 per property, and the size passed says so.
    unsafe {
        f(
            program,
            interface,
            index,
            properties.len() as i32,
            properties.as_ptr(),
            values.len() as i32,
            &mut written,
            values.as_mut_ptr(),
        )
    };
    values
}

/// Whether the current context was lost to a GPU reset (robust contexts report it; others always say no).
pub fn context_lost() -> bool {
    let Some(f) = get().and_then(|e| e.get_graphics_reset_status) else { return false };
    // SAFETY: a query of the current context's reset status, without arguments.
    unsafe { f() != 0 }
}

/// The GL name of a glow program (the entry points here take raw names).
pub(crate) fn raw_name(program: glow::NativeProgram) -> u32 {
    program.0.get()
}

/// How many resources of `interface` (storage blocks, transform-feedback varyings) `program` has: reflection's.
pub(crate) fn interface_count(program: glow::NativeProgram, interface: u32) -> u32 {
    active_resources(raw_name(program), interface)
}
