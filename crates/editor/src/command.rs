//! Console commands: what the console's input line and `run --script FILE` accept, one per line. Their names are a
//! contract other tools rely on (see the README).

use std::path::PathBuf;

/// One parsed console command.
#[derive(Clone, Debug, PartialEq)]
pub enum ConsoleCommand {
    Open(PathBuf),
    Goto {
        line: u32,
        column: u32,
    },
    /// Text typed into the open buffer, character by character (escapes `\n`, `\t`, `\\` resolved).
    Type(String),
    Key(KeySpec),
    /// Selects the keyboard layout that `key` and `type` translate through (`us`, `de`, `fr`).
    Layout(String),
    Frames(u64),
    /// A click at (X, Y) pixels from the frame's top-left (scripts drive the pointer), of button 1 (primary), 2
    /// (secondary) or 3 (middle). The editor gets it when it is under the pointer, else the scene.
    Click {
        x: f32,
        y: f32,
        button: u8,
    },
    /// The wheel turned by (DX, DY) notches over the pointer.
    Wheel {
        x: f32,
        y: f32,
    },
    /// The window (the frame) resized to W x H pixels.
    Resize {
        width: u32,
        height: u32,
    },
    Screenshot(PathBuf),
    Diagnostics {
        json: bool,
    },
    Undo(PathBuf),
    Redo(PathBuf),
    Versions(PathBuf),
    Uniform {
        name: String,
        values: Vec<f64>,
    },
    Lua(String),
    Stats,
    Budget {
        ms: f64,
    },
    Reload(String),
    Unload(String),
    Preview(PathBuf),
    /// Hands the vetted preview to the scene, as the previewed file or as the module file given.
    Promote(Option<PathBuf>),
    Reject,
    /// Scripts: waits until the preview has run the frames promotion asks for, or was stopped; prints its state.
    WaitPreview,
    /// Makes the preview's worker process do a debugging act (`crash`, `spin`, `allocate BYTES`, `open PATH`,
    /// `connect HOST:PORT`): what its sandbox and the compositor do about it.
    DebugPreview(String),
    /// The same, for the scene's worker when it runs in a process.
    DebugScene(String),
    ExpectDiagnostic {
        path: PathBuf,
        line: u32,
    },
    ExpectNoDiagnostics,
    ExpectPixel {
        x: u32,
        y: u32,
        rgb: [u8; 3],
        tolerance: u8,
    },
    Save,
    /// Where the editor is drawn: `overlay` (over the frame) or `panel` (on a panel inside it, as VR needs).
    Placement {
        panel: bool,
    },
    Quit,
}

/// A key with modifiers, as `key` spells it: `Enter`, `ctrl+z`, `shift+Tab`, `Backquote`, `KeyA`, `a`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySpec {
    /// winit's name of the physical key (`KeyZ`, `Enter`, `Backquote`).
    pub code: String,
    pub ctrl: bool,
    pub shift: bool,
    pub alt: bool,
}

impl KeySpec {
    pub fn parse(spec: &str) -> Result<KeySpec, String> {
        let mut key = KeySpec { code: String::new(), ctrl: false, shift: false, alt: false };
        let parts: Vec<&str> = spec.split('+').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(format!("`{spec}` is not a key: a key such as Enter, ctrl+z or shift+Equal"));
        }
        let Some((last, mods)) = parts.split_last() else { return Err("no key given".into()) };
        for m in mods {
            match m.to_ascii_lowercase().as_str() {
                "ctrl" | "control" | "cmd" => key.ctrl = true,
                "shift" => key.shift = true,
                "alt" => key.alt = true,
                other => return Err(format!("unknown modifier `{other}` (ctrl, shift, alt)")),
            }
        }
        key.code = match *last {
            s if s.len() == 1 && s.chars().all(|c| c.is_ascii_alphabetic()) => format!("Key{}", s.to_uppercase()),
            s if s.len() == 1 && s.chars().all(|c| c.is_ascii_digit()) => format!("Digit{s}"),
            s => s.to_owned(),
        };
        Ok(key)
    }
}

/// Names of every command, for `help` and unknown-command messages.
pub const NAMES: &[&str] = &[
    "open",
    "goto",
    "type",
    "key",
    "layout",
    "frames",
    "click",
    "wheel",
    "resize",
    "screenshot",
    "diagnostics",
    "undo",
    "redo",
    "versions",
    "uniform",
    "lua",
    "stats",
    "budget",
    "reload",
    "unload",
    "preview",
    "promote",
    "reject",
    "wait-preview",
    "debug-preview",
    "debug-scene",
    "expect-diagnostic",
    "expect-no-diagnostics",
    "expect-pixel",
    "save",
    "placement",
    "quit",
];

/// Parses one line. `Ok(None)` for blank lines and `#` comments.
pub fn parse(line: &str) -> Result<Option<ConsoleCommand>, String> {
    let line = line.trim_start();
    if line.trim().is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest_raw = rest;
    let rest = rest.trim();
    let args: Vec<&str> = rest.split_whitespace().collect();
    let one = |what: &str| -> Result<&str, String> {
        match args.as_slice() {
            [a] => Ok(a),
            _ => Err(format!("`{name}` takes {what}")),
        }
    };
    let num = |s: &str, what: &str| -> Result<f64, String> {
        s.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| format!("`{s}` is not a number ({what})"))
    };
    let int = |s: &str, what: &str| -> Result<u64, String> {
        s.parse::<u64>().map_err(|_| format!("`{s}` is not a whole number ({what})"))
    };
    let command = match name {
        "open" => ConsoleCommand::Open(one("a path")?.into()),
        "goto" => match args.as_slice() {
            [l, c] => ConsoleCommand::Goto { line: int(l, "line")? as u32, column: int(c, "column")? as u32 },
            [l] => ConsoleCommand::Goto { line: int(l, "line")? as u32, column: 1 },
            _ => return Err("`goto` takes LINE [COLUMN]".into()),
        },
        // The rest of the line as written (one separating blank removed), escapes resolved.
        "type" => ConsoleCommand::Type(unescape(rest_raw)),
        "key" => ConsoleCommand::Key(KeySpec::parse(one("a key such as Enter, ctrl+z or Backquote")?)?),
        "layout" => ConsoleCommand::Layout(one("a layout name (us, de, fr)")?.to_owned()),
        "frames" => ConsoleCommand::Frames(int(one("a frame count")?, "frames")?),
        "click" => match args.as_slice() {
            [x, y] => ConsoleCommand::Click { x: num(x, "x")? as f32, y: num(y, "y")? as f32, button: 1 },
            [x, y, b] => {
                let button = int(b, "button").ok().filter(|b| (1..=3).contains(b)).ok_or("a button is 1, 2 or 3")?;
                ConsoleCommand::Click { x: num(x, "x")? as f32, y: num(y, "y")? as f32, button: button as u8 }
            }
            _ => return Err("`click` takes X Y [BUTTON]".into()),
        },
        "wheel" => match args.as_slice() {
            [x, y] => ConsoleCommand::Wheel { x: num(x, "x")? as f32, y: num(y, "y")? as f32 },
            _ => return Err("`wheel` takes DX DY (notches)".into()),
        },
        "resize" => match args.as_slice() {
            [w, h] => {
                let side = |s: &str, what: &str| {
                    int(s, what).ok().filter(|v| (1..=16384).contains(v)).ok_or("a side is 1 to 16384 pixels")
                };
                ConsoleCommand::Resize { width: side(w, "width")? as u32, height: side(h, "height")? as u32 }
            }
            _ => return Err("`resize` takes WIDTH HEIGHT".into()),
        },
        "screenshot" => ConsoleCommand::Screenshot(one("a file name")?.into()),
        "diagnostics" => match args.as_slice() {
            [] => ConsoleCommand::Diagnostics { json: false },
            ["--json"] => ConsoleCommand::Diagnostics { json: true },
            _ => return Err("`diagnostics` takes only --json".into()),
        },
        "undo" => ConsoleCommand::Undo(one("a path")?.into()),
        "redo" => ConsoleCommand::Redo(one("a path")?.into()),
        "versions" => ConsoleCommand::Versions(one("a path")?.into()),
        "uniform" => match args.split_first() {
            Some((n, values)) if !values.is_empty() => ConsoleCommand::Uniform {
                name: (*n).to_owned(),
                values: values.iter().map(|v| num(v, "uniform value")).collect::<Result<_, _>>()?,
            },
            _ => return Err("`uniform` takes NAME VALUE...".into()),
        },
        "lua" if !rest.is_empty() => ConsoleCommand::Lua(rest.to_owned()),
        "lua" => return Err("`lua` takes Lua code".into()),
        "stats" => ConsoleCommand::Stats,
        "budget" => ConsoleCommand::Budget { ms: num(one("milliseconds")?, "budget")? }.validated()?,
        "reload" => ConsoleCommand::Reload(one("a file or module name")?.to_owned()),
        "unload" => ConsoleCommand::Unload(one("a module name")?.to_owned()),
        "preview" => ConsoleCommand::Preview(one("a path")?.into()),
        "promote" => match args.as_slice() {
            [] => ConsoleCommand::Promote(None),
            [target] => ConsoleCommand::Promote(Some(target.into())),
            _ => return Err("`promote` takes at most a target path".into()),
        },
        "reject" => ConsoleCommand::Reject,
        "wait-preview" => ConsoleCommand::WaitPreview,
        "debug-preview" if !args.is_empty() => ConsoleCommand::DebugPreview(args.join(" ")),
        "debug-scene" if !args.is_empty() => ConsoleCommand::DebugScene(args.join(" ")),
        "debug-scene" => {
            return Err("`debug-scene` takes crash, spin, allocate BYTES, open PATH or connect HOST:PORT".into());
        }
        "debug-preview" => {
            return Err("`debug-preview` takes crash, spin, allocate BYTES, open PATH or connect HOST:PORT".into());
        }
        "expect-diagnostic" => match args.as_slice() {
            [p, l] => ConsoleCommand::ExpectDiagnostic { path: p.into(), line: int(l, "line")? as u32 },
            _ => return Err("`expect-diagnostic` takes PATH LINE".into()),
        },
        "expect-no-diagnostics" => ConsoleCommand::ExpectNoDiagnostics,
        "expect-pixel" => match args.as_slice() {
            [x, y, r, g, b, rest @ ..] if rest.len() <= 1 => {
                let byte = |s: &str| -> Result<u8, String> {
                    s.parse::<u8>().map_err(|_| format!("`{s}` is not a colour value (0-255)"))
                };
                ConsoleCommand::ExpectPixel {
                    x: int(x, "x")? as u32,
                    y: int(y, "y")? as u32,
                    rgb: [byte(r)?, byte(g)?, byte(b)?],
                    tolerance: rest.first().map_or(Ok(0), |t| byte(t))?,
                }
            }
            _ => return Err("`expect-pixel` takes X Y R G B [TOLERANCE]".into()),
        },
        "save" => ConsoleCommand::Save,
        "placement" => match one("overlay or panel")? {
            "overlay" => ConsoleCommand::Placement { panel: false },
            "panel" => ConsoleCommand::Placement { panel: true },
            other => return Err(format!("`placement` takes overlay or panel, not `{other}`")),
        },
        "quit" => ConsoleCommand::Quit,
        other => return Err(format!("unknown command `{other}`; commands: {}", NAMES.join(", "))),
    };
    Ok(Some(command))
}

impl ConsoleCommand {
    fn validated(self) -> Result<ConsoleCommand, String> {
        match self {
            ConsoleCommand::Budget { ms } if ms <= 0.0 => {
                Err("`budget` takes a positive number of milliseconds".into())
            }
            c => Ok(c),
        }
    }
}

/// `\n`, `\t` and `\\` in a `type` line; any other backslash stays as written.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(parse("type  a\\nb\\t\\\\x").unwrap(), Some(ConsoleCommand::Type(" a\nb\t\\x".into())));
        assert_eq!(parse("goto 3 7").unwrap(), Some(ConsoleCommand::Goto { line: 3, column: 7 }));
        assert_eq!(
            parse("key ctrl+z").unwrap(),
            Some(ConsoleCommand::Key(KeySpec { code: "KeyZ".into(), ctrl: true, shift: false, alt: false }))
        );
        assert_eq!(
            parse("expect-pixel 1 2 255 0 10 4").unwrap(),
            Some(ConsoleCommand::ExpectPixel { x: 1, y: 2, rgb: [255, 0, 10], tolerance: 4 })
        );
        assert_eq!(
            parse("uniform tint 1 0.5 0").unwrap(),
            Some(ConsoleCommand::Uniform { name: "tint".into(), values: vec![1.0, 0.5, 0.0] })
        );
        assert_eq!(parse("  # comment").unwrap(), None);
        assert_eq!(parse("").unwrap(), None);
    }

    #[test]
    fn mistakes_say_what_is_wrong() {
        assert!(parse("frobnicate").unwrap_err().contains("unknown command `frobnicate`"));
        assert!(parse("frames x").unwrap_err().contains("not a whole number"));
        assert!(parse("expect-pixel 1 2 300 0 0").unwrap_err().contains("0-255"));
        assert!(parse("budget -1").is_err());
        assert!(parse("uniform x nan").is_err());
        assert!(parse("key hyper+x").unwrap_err().contains("modifier"));
        assert!(parse("key +").unwrap_err().contains("`+` is not a key"));
        assert!(parse("key shift+").unwrap_err().contains("`shift+` is not a key"));
        assert!(parse("lua").is_err());
    }
}
