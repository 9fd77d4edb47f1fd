//! Fixed-function state of compatibility-profile contexts, which only piglit's older tests use: the projection
//! (`ftransform()` and `gl_ModelViewProjectionMatrix` read it) and user clip planes. Calls in a core context are GL
//! errors, reported as `false`.

use glow::HasContext;

use crate::Gl;

/// The projection a compatibility context's fixed-function matrices give.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Projection {
    /// `glOrtho(left, right, bottom, top, near, far)`.
    Ortho([f64; 6]),
    /// `glFrustum(left, right, bottom, top, near, far)`.
    Frustum([f64; 6]),
    /// Both matrices the identity (a context's start).
    Identity,
}

/// Sets the projection matrix, and the modelview matrix to the identity. False when the context refused it.
pub fn set_projection(gl: &Gl, projection: Projection) -> bool {
    let Some(e) = crate::extra::get() else { return false };
    let (Some(mode), Some(identity), Some(ortho), Some(frustum)) = (e.matrix_mode, e.load_identity, e.ortho, e.frustum)
    else {
        return false;
    };
    // SAFETY: entry points of the compatibility profile called with plain values; in a core context they raise
    // GL_INVALID_OPERATION, which is checked.
    unsafe {
        while gl.get_error() != glow::NO_ERROR {}
        mode(0x1701); // GL_PROJECTION
        identity();
        match projection {
            Projection::Ortho([l, r, b, t, n, f]) => ortho(l, r, b, t, n, f),
            Projection::Frustum([l, r, b, t, n, f]) => frustum(l, r, b, t, n, f),
            Projection::Identity => {}
        }
        mode(0x1700); // GL_MODELVIEW
        identity();
        gl.get_error() == glow::NO_ERROR
    }
}

/// Sets user clip plane `index` (`glClipPlane`, in eye coordinates). False when the context refused it.
pub fn clip_plane(gl: &Gl, index: u32, plane: [f64; 4]) -> bool {
    let Some(f) = crate::extra::get().and_then(|e| e.clip_plane) else { return false };
    // SAFETY: the plane is four doubles, as glClipPlane reads; errors are checked.
    unsafe {
        while gl.get_error() != glow::NO_ERROR {}
        f(glow::CLIP_DISTANCE0 + index, plane.as_ptr());
        gl.get_error() == glow::NO_ERROR
    }
}

/// Back to a compatibility context's start: identity matrices, every user clip plane (0, 0, 0, 0).
pub fn reset_fixed_function(gl: &Gl) -> bool {
    let mut ok = set_projection(gl, Projection::Identity);
    for index in 0..8 {
        ok &= clip_plane(gl, index, [0.0; 4]);
    }
    ok
}

/// A display list being recorded or recorded (compatibility profile).
#[derive(Debug)]
pub struct DisplayList(u32);

impl DisplayList {
    /// Starts recording GL calls into a new list (with `execute`, they also run now). None when the context has no
    /// display lists.
    pub fn begin(gl: &Gl, execute: bool) -> Option<DisplayList> {
        let e = crate::extra::get()?;
        let (gen_lists, new_list) = (e.gen_lists?, e.new_list?);
        // SAFETY: compatibility-profile entry points called with plain values; errors are checked.
        unsafe {
            while gl.get_error() != glow::NO_ERROR {}
            let id = gen_lists(1);
            if id == 0 {
                return None;
            }
            new_list(id, if execute { 0x1301 } else { 0x1300 }); // GL_COMPILE_AND_EXECUTE, GL_COMPILE
            (gl.get_error() == glow::NO_ERROR).then_some(DisplayList(id))
        }
    }

    /// Ends the recording started last.
    pub fn end(&self, gl: &Gl) -> bool {
        let Some(end) = crate::extra::get().and_then(|e| e.end_list) else { return false };
        // SAFETY: as `begin`.
        unsafe {
            end();
            gl.get_error() == glow::NO_ERROR
        }
    }

    /// Runs the recorded calls.
    pub fn call(&self, gl: &Gl) -> bool {
        let Some(call) = crate::extra::get().and_then(|e| e.call_list) else { return false };
        // SAFETY: as `begin`; the list's name came from glGenLists.
        unsafe {
            call(self.0);
            gl.get_error() == glow::NO_ERROR
        }
    }

    pub fn delete(self) {
        if let Some(delete) = crate::extra::get().and_then(|e| e.delete_lists) {
            // SAFETY: consuming `self` deletes its list once.
            unsafe { delete(self.0, 1) }
        }
    }
}

/// Draw modes of the compatibility profile only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompatPrimitive {
    Quads,
    QuadStrip,
    Polygon,
}

impl CompatPrimitive {
    /// The mode of a GL enum's name (`GL_QUADS`).
    pub fn from_gl_name(name: &str) -> Option<CompatPrimitive> {
        Some(match name {
            "GL_QUADS" => CompatPrimitive::Quads,
            "GL_QUAD_STRIP" => CompatPrimitive::QuadStrip,
            "GL_POLYGON" => CompatPrimitive::Polygon,
            _ => return None,
        })
    }

    pub(crate) fn gl(self) -> u32 {
        match self {
            CompatPrimitive::Quads => 0x0007,
            CompatPrimitive::QuadStrip => 0x0008,
            CompatPrimitive::Polygon => 0x0009,
        }
    }
}
