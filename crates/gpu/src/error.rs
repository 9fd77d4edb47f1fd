//! What can go wrong below the engine, said so that a user knows what to install or change.

use std::fmt;

/// A failure to get or use OpenGL. The `Display` text is meant for the user: it names what is missing and how to
/// get it.
#[derive(Debug)]
pub enum GpuError {
    /// libEGL could not be loaded at all.
    NoEgl(String),
    /// EGL loaded but offers no device to render with.
    NoDevice(String),
    /// Devices exist but none gives an OpenGL 4.5 core context.
    NoGl45(String),
    /// A window or its GL surface could not be made.
    Window(String),
    /// A GL call failed (object creation, framebuffer completeness...).
    Gl(String),
}

const INSTALL_HINT: &str = "On Debian or Ubuntu, `apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri` installs \
     EGL with Mesa's drivers, whose llvmpipe renders on the CPU when there is no GPU; with an NVIDIA GPU, install \
     its driver's EGL library (libnvidia-egl). `__EGL_VENDOR_LIBRARY_FILENAMES` can point glvnd at a vendor file \
     if the driver lives somewhere unusual.";

impl fmt::Display for GpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuError::NoEgl(detail) => write!(
                f,
                "allsource needs EGL to reach OpenGL, and libEGL.so.1 could not be loaded ({detail}). {INSTALL_HINT}"
            ),
            GpuError::NoDevice(detail) => write!(
                f,
                "EGL loaded but found no device to render with ({detail}): no EGL driver (vendor library) is \
                 installed, or none of them sees a GPU or a software renderer. {INSTALL_HINT}"
            ),
            GpuError::NoGl45(detail) => write!(
                f,
                "No device offers an OpenGL 4.5 core context, which allsource needs ({detail}). Mesa 20 or newer \
                 (llvmpipe) and every current NVIDIA, AMD and Intel driver do. {INSTALL_HINT}"
            ),
            GpuError::Window(detail) => write!(
                f,
                "Could not open a window with OpenGL 4.5 ({detail}). Run with --headless to render without a \
                 window, or check that the X server offers GLX or EGL (`glxinfo -B` or `eglinfo`)."
            ),
            GpuError::Gl(detail) => write!(f, "OpenGL error: {detail}"),
        }
    }
}

impl std::error::Error for GpuError {}
