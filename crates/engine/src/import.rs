//! `allsource import shadertoy`: a scene directory from Shadertoy's JSON export (the site's API answer
//! `{"Shader": {"info", "renderpass"}}`, a bare shader object, or an array of them): `main.glsl` for the Image pass,
//! `buffer_a.glsl` ... `buffer_d.glsl` for Buffers A-D, `common.glsl` for Common, each pass's inputs as
//! `#pragma channel` lines at the top of its file. Sound, Cube A and media passes and inputs (video, music,
//! webcam, microphone, volumes) are not supported: they are left out and said so.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// What an import wrote and what it could not carry over.
#[derive(Debug, Default)]
pub struct Imported {
    pub files: Vec<PathBuf>,
    /// Image files the channels name that must be put in the directory (Shadertoy's media are not downloaded).
    pub media: Vec<String>,
    /// What was left out, and why.
    pub notes: Vec<String>,
}

/// Shadertoy's output ids of Buffers A-D: the newer string ids, then the older numbers.
const BUFFER_IDS: [(&str, u64); 4] = [("4dXGR8", 257), ("XsXGR8", 258), ("4sXGR8", 259), ("XdfGR8", 260)];

/// Reads Shadertoy's JSON export `json` and writes the scene into `dir` (made if missing). Refuses to write over
/// a scene that is there.
pub fn import_shadertoy(json: &str, dir: &Path) -> Result<Imported, String> {
    let json = json.strip_prefix('\u{feff}').unwrap_or(json);
    let root: Value = serde_json::from_str(json).map_err(|e| format!("not Shadertoy's JSON export: {e}"))?;
    let mut imported = Imported::default();
    let shader = match &root {
        Value::Array(list) => {
            if list.len() > 1 {
                imported.notes.push(format!("the file holds {} shaders: the first was imported", list.len()));
            }
            list.first().ok_or("the file holds no shader")?
        }
        Value::Object(o) => o.get("Shader").unwrap_or(&root),
        _ => return Err("not Shadertoy's JSON export: expected an object with a renderpass list".into()),
    };
    let passes = shader.get("renderpass").and_then(Value::as_array).ok_or("no `renderpass` list in the file")?;
    let mut files: Vec<(&'static str, String)> = Vec::new();
    for pass in passes {
        let kind = text(pass, "type").unwrap_or_default();
        let name = text(pass, "name").unwrap_or_default();
        let file = match kind.as_str() {
            "image" => "main.glsl",
            "common" => "common.glsl",
            "buffer" => match buffer_of_pass(pass) {
                Some(i) => crate::scene::BUFFER_FILES[i],
                None => {
                    imported.notes.push(format!("pass `{name}`: not one of Buffers A-D; left out"));
                    continue;
                }
            },
            "" => {
                imported.notes.push(format!("pass `{name}` has no type; left out"));
                continue;
            }
            other => {
                let name = if name.is_empty() { other.to_owned() } else { name };
                imported.notes.push(format!("pass `{name}` ({other}): allsource has no {other} passes; left out"));
                continue;
            }
        };
        if files.iter().any(|(f, _)| *f == file) {
            imported.notes.push(format!("pass `{name}`: a second {file}; left out"));
            continue;
        }
        let Some(code) = text(pass, "code") else {
            // Shadertron's files name their code in a file of their own: not Shadertoy's export.
            let why = if pass.get("filename").is_some() { "its code is in a file the export names" } else { "no code" };
            if file == "main.glsl" {
                return Err(format!(
                    "the Image pass has {}: not Shadertoy's export",
                    why.replace("its code is", "its code")
                ));
            }
            imported.notes.push(format!("pass `{name}`: {why}; left out"));
            continue;
        };
        let pragmas = if file == "common.glsl" { String::new() } else { channel_pragmas(pass, &name, &mut imported) };
        files.push((file, format!("{pragmas}{code}")));
    }
    if !files.iter().any(|(f, _)| *f == "main.glsl") {
        return Err("the shader has no Image pass".into());
    }
    // Any pass file already there would join the new scene (a Common file before every pass): none may be.
    let pass_files = crate::scene::BUFFER_FILES.iter().chain(&["main.glsl", "common.glsl"]);
    for file in pass_files {
        let path = dir.join(file);
        if path.exists() {
            return Err(format!("{} exists: import into a new directory", path.display()));
        }
    }
    if dir.join("main.lua").exists() {
        return Err(format!("{} holds a Lua scene: import into a new directory", dir.display()));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (file, code) in files {
        let path = dir.join(file);
        let code = if code.ends_with('\n') { code } else { code + "\n" };
        std::fs::write(&path, code).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        imported.files.push(path);
    }
    Ok(imported)
}

/// A string field, or a number or boolean written as one.
fn text(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Which buffer (0-3) a buffer pass is: by its output's id, else by its name ("Buffer A", "Buf A").
fn buffer_of_pass(pass: &Value) -> Option<usize> {
    let outputs = pass.get("outputs").and_then(Value::as_array);
    let by_id = outputs.into_iter().flatten().find_map(|o| buffer_of_id(o.get("id")?));
    by_id.or_else(|| {
        let name = text(pass, "name")?;
        let letter = name.trim().chars().last()?.to_ascii_lowercase();
        ('a'..='d').contains(&letter).then(|| (letter as u8 - b'a') as usize)
    })
}

fn buffer_of_id(id: &Value) -> Option<usize> {
    BUFFER_IDS
        .iter()
        .position(|(s, n)| id.as_str() == Some(*s) || id.as_u64() == Some(*n) || id.as_str() == Some(&n.to_string()))
}

/// The `#pragma channel` lines for a pass's inputs. A pass with no inputs gets `none` for channel 0, so it does
/// not read its previous frame there (allsource's default for a file that names no channel).
fn channel_pragmas(pass: &Value, pass_name: &str, imported: &mut Imported) -> String {
    let mut lines = Vec::new();
    for input in pass.get("inputs").and_then(Value::as_array).into_iter().flatten() {
        let Some(channel) = input.get("channel").and_then(Value::as_u64).filter(|c| *c < 4) else {
            imported.notes.push(format!("{pass_name}: an input on no channel from 0 to 3; left out"));
            continue;
        };
        let kind = text(input, "ctype").or_else(|| text(input, "type")).unwrap_or_default();
        let src = text(input, "src").or_else(|| text(input, "filepath")).unwrap_or_default();
        let file_name = || src.rsplit('/').next().unwrap_or_default().to_owned();
        let source = match kind.as_str() {
            "buffer" => {
                let by_src = || (0..4).find(|i| src.contains(&format!("buffer0{i}")));
                match input.get("id").and_then(buffer_of_id).or_else(by_src) {
                    Some(i) => format!("buffer_{}", (b'a' + i as u8) as char),
                    None => {
                        imported
                            .notes
                            .push(format!("{pass_name}: channel {channel} reads an unknown buffer; left unbound"));
                        continue;
                    }
                }
            }
            "keyboard" => "keyboard".to_owned(),
            // Bound as a cube map all the same (code samples it with a direction), of files that are not there: it
            // reads black.
            "cubemap" if src.contains("/previz/cubemap") => {
                let note = format!(
                    "{pass_name}: channel {channel} reads the Cube A pass, which allsource does not have: it is bound to \
                     a cube map of cube_a.png (and cube_a_1.png ... cube_a_5.png), which reads black while they are not there"
                );
                imported.notes.push(note);
                "cubemap cube_a.png".to_owned()
            }
            "texture" | "cubemap" => {
                let name = file_name();
                if name.is_empty() {
                    imported.notes.push(format!("{pass_name}: channel {channel} names no file; left unbound"));
                    continue;
                }
                let wanted = match kind.as_str() {
                    "cubemap" => {
                        format!("{name} (a cube map: with its other faces, named with _1 ... _5 before the extension)")
                    }
                    _ => name.clone(),
                };
                if !imported.media.contains(&wanted) {
                    imported.media.push(wanted);
                }
                let quoted = if name.contains(char::is_whitespace) { format!("\"{name}\"") } else { name };
                if kind == "cubemap" { format!("cubemap {quoted}") } else { quoted }
            }
            other => {
                let kind = if other.is_empty() { "no type" } else { other };
                imported.notes.push(format!(
                    "{pass_name}: channel {channel} ({kind}) is not supported; left unbound: it reads black, and code \
                     that samples it as a 3D or cube texture does not compile"
                ));
                continue;
            }
        };
        let mut line = format!("#pragma channel {channel} {source}");
        if let Some(sampler) = input.get("sampler") {
            if let Some(filter) =
                text(sampler, "filter").filter(|f| ["nearest", "linear", "mipmap"].contains(&f.as_str()))
            {
                line.push_str(&format!(" filter={filter}"));
            }
            if let Some(wrap) = text(sampler, "wrap").filter(|w| ["clamp", "repeat"].contains(&w.as_str())) {
                line.push_str(&format!(" wrap={wrap}"));
            }
            if kind == "texture"
                && let Some(vflip) = text(sampler, "vflip").filter(|v| ["true", "false"].contains(&v.as_str()))
            {
                line.push_str(&format!(" vflip={vflip}"));
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push("#pragma channel 0 none".to_owned());
    }
    lines.sort();
    lines.iter().map(|l| format!("{l}\n")).collect()
}
