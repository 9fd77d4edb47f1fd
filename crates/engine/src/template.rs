//! `allsource new DIR [--template lua|shader|shadertoy]`: a scene to start from. The templates are files of this
//! crate (`templates/`), built into the binary, so a new scene needs nothing beside it.

use std::path::{Path, PathBuf};

/// What a new scene starts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    /// `main.lua` with `update`, `draw`, a tweak, persisted state and a mouse callback, and the shader it draws.
    Lua,
    /// `main.glsl`, one fragment shader drawn full screen.
    Shader,
    /// Shadertoy's Image pass with a Buffer A that reads itself and a Common file.
    Shadertoy,
}

impl Template {
    pub const ALL: [Template; 3] = [Template::Lua, Template::Shader, Template::Shadertoy];

    pub fn name(self) -> &'static str {
        match self {
            Template::Lua => "lua",
            Template::Shader => "shader",
            Template::Shadertoy => "shadertoy",
        }
    }

    pub fn from_name(name: &str) -> Option<Template> {
        Template::ALL.into_iter().find(|t| t.name() == name)
    }

    fn files(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Template::Lua => &[
                ("main.lua", include_str!("../templates/lua/main.lua")),
                ("rings.glsl", include_str!("../templates/lua/rings.glsl")),
            ],
            Template::Shader => &[("main.glsl", include_str!("../templates/shader/main.glsl"))],
            Template::Shadertoy => &[
                ("main.glsl", include_str!("../templates/shadertoy/main.glsl")),
                ("buffer_a.glsl", include_str!("../templates/shadertoy/buffer_a.glsl")),
                ("common.glsl", include_str!("../templates/shadertoy/common.glsl")),
            ],
        }
    }
}

/// Writes a new scene of `template` into `dir` (made if missing). Refuses a directory that holds a scene already,
/// or any file of the template: nothing is written over.
pub fn new_scene(dir: &Path, template: Template) -> Result<Vec<PathBuf>, String> {
    for file in ["main.lua", "main.glsl"].into_iter().chain(template.files().iter().map(|(f, _)| *f)) {
        let path = dir.join(file);
        if path.exists() {
            return Err(format!("{} exists: make the scene in a new directory", path.display()));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for (file, text) in template.files() {
        let path = dir.join(file);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
