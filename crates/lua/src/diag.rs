//! Lua error messages as diagnostics: `path:line: message` (syntax errors, runtime errors, `error()` with a
//! level) becomes a diagnostic on that file and line; anything else lands on the module's file without a line.

use std::path::Path;

use allsource_live::Diagnostic;

/// The diagnostic for a Lua error `message` raised while running module file `fallback`.
pub fn from_lua_error(message: &str, fallback: &Path) -> Diagnostic {
    // mlua appends a traceback; the first line holds the message.
    let first = message.lines().next().unwrap_or(message).trim();
    let first = first.strip_prefix("runtime error: ").or_else(|| first.strip_prefix("syntax error: ")).unwrap_or(first);
    if let Some((file, line, rest)) = locate(first) {
        return Diagnostic::error(file, rest.trim()).at(line, None);
    }
    Diagnostic::error(fallback.to_path_buf(), first)
}

/// Places a diagnostic with no line at the Lua line that made the failing call into the engine (a `gfx.*` argument
/// Lua got wrong): such errors carry no position in their message, only in their traceback.
pub(crate) fn place_by_traceback(diagnostic: &mut Diagnostic, error: &mlua::Error) {
    if diagnostic.line.is_none()
        && let Some((file, line)) = traceback_location(error)
    {
        diagnostic.file = file;
        diagnostic.line = Some(line);
    }
}

/// The first Lua line of the error's traceback, as file and line.
fn traceback_location(error: &mlua::Error) -> Option<(std::path::PathBuf, u32)> {
    let traceback = match error {
        mlua::Error::CallbackError { traceback, .. } => traceback,
        mlua::Error::WithContext { cause, .. } => return traceback_location(cause),
        _ => return None,
    };
    traceback.lines().find_map(|l| locate(l.trim()).map(|(file, line, _)| (std::path::PathBuf::from(file), line)))
}

/// Splits `file:line: message` where `file` names a Lua source.
fn locate(text: &str) -> Option<(&str, u32, &str)> {
    let mut from = 0;
    while let Some(at) = text[from..].find(".lua:").map(|i| i + from) {
        let file = &text[..at + 4];
        let rest = &text[at + 5..];
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits > 0
            && let Some(message) = rest[digits..].strip_prefix(':')
            && let Ok(line) = rest[..digits].parse::<u32>()
        {
            return Some((file, line, message));
        }
        from = at + 5;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lua_errors_land_on_their_file_and_line() {
        let d = from_lua_error("scene/main.lua:4: unexpected symbol near 'end'", Path::new("x.lua"));
        assert_eq!(
            (d.file.to_str(), d.line, d.message.as_str()),
            (Some("scene/main.lua"), Some(4), "unexpected symbol near 'end'")
        );
        let d = from_lua_error(
            "runtime error: /a/lib/vec.lua:12: attempt to call a nil value\nstack traceback:\n\t[C]: in ?",
            Path::new("x.lua"),
        );
        assert_eq!((d.file.to_str(), d.line), (Some("/a/lib/vec.lua"), Some(12)));
        let d = from_lua_error("main.lua: a module must return a table, not nil", Path::new("main.lua"));
        assert_eq!((d.file.to_str(), d.line), (Some("main.lua"), None));
    }
}
