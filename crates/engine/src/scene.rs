//! A directory is a scene: `main.lua` drives it when present; without one, `main.glsl` is drawn full screen, after
//! the Shadertoy buffers `buffer_a.glsl` ... `buffer_d.glsl` when there are any, with `common.glsl` before each
//! pass's code.

use std::path::{Path, PathBuf};

use crate::Error;

/// What runs a scene.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A fragment shader drawn over the whole frame.
    FullscreenShader(PathBuf),
    /// Lua modules, driven by `main.lua` in the scene directory.
    Lua(PathBuf),
}

#[derive(Clone, Debug)]
pub struct Scene {
    pub dir: PathBuf,
    pub entry: Entry,
}

impl Scene {
    pub fn open(dir: &Path) -> Result<Scene, Error> {
        if !dir.exists() {
            return Err(Error::SceneNotFound(dir.to_path_buf()));
        }
        if !dir.is_dir() {
            return Err(Error::NotADirectory(dir.to_path_buf()));
        }
        // Absolute: every path of the scene (the editor's buffers, the journal's names joined to it, the worker's
        // sources) then means the same file whatever it is joined to or resolved against. A relative directory
        // (`allsource run examples/plasma`) joined a scene's paths to it twice, where a path that already
        // started with it was taken as relative to it.
        let dir = &std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let lua = dir.join("main.lua");
        let glsl = dir.join("main.glsl");
        if lua.is_file() {
            return Ok(Scene { dir: dir.to_path_buf(), entry: Entry::Lua(lua) });
        }
        if glsl.is_file() {
            return Ok(Scene { dir: dir.to_path_buf(), entry: Entry::FullscreenShader(glsl) });
        }
        Err(Error::NoEntry(dir.to_path_buf()))
    }
}

/// The buffer passes' files of a shader scene, A to D.
pub const BUFFER_FILES: [&str; 4] = ["buffer_a.glsl", "buffer_b.glsl", "buffer_c.glsl", "buffer_d.glsl"];
/// The Common pass's file of a shader scene.
pub const COMMON_FILE: &str = "common.glsl";

/// How the shader file `path` is prepared as a pass of its scene: the image pass (`main.glsl`) and the buffers of a
/// shader scene (one without `main.lua`) get the scene's Common file; buffers keep alpha. Any other file is alone.
pub fn pass_options(path: &Path) -> allsource_shader::PassOptions {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Default::default();
    };
    let buffer = BUFFER_FILES.contains(&name);
    if !(buffer || name == "main.glsl") || dir.join("main.lua").is_file() {
        return Default::default();
    }
    let common = Some(dir.join(COMMON_FILE)).filter(|c| c.is_file());
    allsource_shader::PassOptions { common, keeps_alpha: buffer }
}
