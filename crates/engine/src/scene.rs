//! A directory is a scene: `main.lua` drives it when present; without one, `main.glsl` is drawn full screen.

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
