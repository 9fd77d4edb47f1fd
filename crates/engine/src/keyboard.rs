//! Scripted key presses: which names a script may press (winit's names of physical keys, as the window gives
//! them), and what text and logical key a physical key gives in the keyboard layouts scripts can choose.

/// Whether `code` is winit's name of a physical key (`KeyZ`, `Backspace`, `ArrowLeft`), as the window gives them.
pub fn is_key_code(code: &str) -> bool {
    serde_json::from_value::<winit::keyboard::KeyCode>(serde_json::Value::String(code.to_owned())).is_ok()
}

/// A keyboard layout for scripted key presses: what text and logical key a physical key gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Us,
    /// German QWERTZ: Y and Z swapped, umlauts where US has punctuation; the key under Escape is a dead key (^)
    /// that types nothing by itself.
    De,
    /// French AZERTY: A/Q and Z/W swapped, M right of L, digits need shift; the key under Escape types ².
    Fr,
}

/// The keys other than letters and digits that type something: (physical key, text, text with shift), where ""
/// is a dead key (it types nothing by itself). A layout's entries come before the letters: AZERTY's `KeyM` types
/// a comma.
const US_KEYS: &[(&str, &str, &str)] = &[
    ("Backquote", "`", "~"),
    ("Minus", "-", "_"),
    ("Equal", "=", "+"),
    ("BracketLeft", "[", "{"),
    ("BracketRight", "]", "}"),
    ("Backslash", "\\", "|"),
    ("Semicolon", ";", ":"),
    ("Quote", "'", "\""),
    ("Comma", ",", "<"),
    ("Period", ".", ">"),
    ("Slash", "/", "?"),
];
const DE_KEYS: &[(&str, &str, &str)] = &[
    ("Backquote", "", ""),
    ("Minus", "ß", "?"),
    ("Equal", "", ""),
    ("BracketLeft", "ü", "Ü"),
    ("BracketRight", "+", "*"),
    ("Backslash", "#", "'"),
    ("Semicolon", "ö", "Ö"),
    ("Quote", "ä", "Ä"),
    ("Comma", ",", ";"),
    ("Period", ".", ":"),
    ("Slash", "-", "_"),
    ("IntlBackslash", "<", ">"),
];
const FR_KEYS: &[(&str, &str, &str)] = &[
    ("Backquote", "²", ""),
    ("Minus", ")", "°"),
    ("Equal", "=", "+"),
    ("BracketLeft", "", ""),
    ("BracketRight", "$", "£"),
    ("Backslash", "*", "µ"),
    ("Semicolon", "m", "M"),
    ("Quote", "ù", "%"),
    ("KeyM", ",", "?"),
    ("Comma", ";", "."),
    ("Period", ":", "/"),
    ("Slash", "!", "§"),
    ("IntlBackslash", "<", ">"),
];

/// Digit keys 0 to 9: the text without shift and with it.
const US_DIGITS: [[&str; 10]; 2] =
    [["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], [")", "!", "@", "#", "$", "%", "^", "&", "*", "("]];
const DE_DIGITS: [[&str; 10]; 2] =
    [["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], ["=", "!", "\"", "§", "$", "%", "&", "/", "(", ")"]];
const FR_DIGITS: [[&str; 10]; 2] =
    [["à", "&", "é", "\"", "'", "(", "-", "è", "_", "ç"], ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]];

impl Layout {
    pub fn parse(name: &str) -> Result<Layout, String> {
        match name.to_ascii_lowercase().as_str() {
            "us" | "en" => Ok(Layout::Us),
            "de" => Ok(Layout::De),
            "fr" => Ok(Layout::Fr),
            other => Err(format!("unknown layout `{other}` (us, de, fr)")),
        }
    }

    /// (text, logical key text) of physical key `code` with `shift`; no text for keys that type none (Enter,
    /// arrows, dead keys).
    pub fn translate(self, code: &str, shift: bool) -> (Option<String>, Option<String>) {
        let (keys, digits) = match self {
            Layout::Us => (US_KEYS, US_DIGITS),
            Layout::De => (DE_KEYS, DE_DIGITS),
            Layout::Fr => (FR_KEYS, FR_DIGITS),
        };
        let typed = |text: &str| match text {
            "" => (None, None),
            t => (Some(t.to_owned()), Some(t.to_owned())),
        };
        if let Some(&(_, plain, shifted)) = keys.iter().find(|(key, ..)| *key == code) {
            return typed(if shift { shifted } else { plain });
        }
        if let Some(n) = code.strip_prefix("Digit").and_then(|d| d.parse::<usize>().ok()).filter(|&n| n < 10) {
            return typed(digits[usize::from(shift)][n]);
        }
        let letter = code.strip_prefix("Key").filter(|l| l.len() == 1).map(|l| l.to_ascii_lowercase());
        let swapped = letter.map(|l| match (self, l.as_str()) {
            (Layout::De, "y") => "z".to_owned(),
            (Layout::De, "z") => "y".to_owned(),
            (Layout::Fr, "a") => "q".to_owned(),
            (Layout::Fr, "q") => "a".to_owned(),
            (Layout::Fr, "z") => "w".to_owned(),
            (Layout::Fr, "w") => "z".to_owned(),
            (_, l) => l.to_owned(),
        });
        if let Some(l) = swapped {
            let text = if shift { l.to_uppercase() } else { l.clone() };
            return (Some(text), Some(l));
        }
        match code {
            "Space" => (Some(" ".to_owned()), None),
            _ => (None, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(layout: Layout, code: &str, shift: bool) -> Option<String> {
        layout.translate(code, shift).0
    }

    #[test]
    fn layouts_type_what_their_keys_say() {
        assert_eq!(text(Layout::Fr, "KeyQ", false).as_deref(), Some("a"));
        assert_eq!(text(Layout::De, "KeyZ", true).as_deref(), Some("Y"));
        assert_eq!(text(Layout::Fr, "Digit2", false).as_deref(), Some("é"));
        assert_eq!(text(Layout::Fr, "Backquote", false).as_deref(), Some("²"));
        assert_eq!(text(Layout::De, "Backquote", false), None);
        assert!(Layout::parse("dvorak").is_err());
    }

    #[test]
    fn punctuation_and_shifted_digits_type_their_characters() {
        let us: String = ["Minus", "Comma", "Period", "Slash", "Semicolon", "Quote", "BracketLeft", "Equal"]
            .iter()
            .filter_map(|k| text(Layout::Us, k, false))
            .collect();
        assert_eq!(us, "-,./;'[=");
        let shifted: String =
            ["Digit9", "Digit0", "Equal", "Digit7"].iter().filter_map(|k| text(Layout::Us, k, true)).collect();
        assert_eq!(shifted, "()+&");
        assert_eq!(text(Layout::De, "Digit7", true).as_deref(), Some("/"));
        assert_eq!(text(Layout::De, "Semicolon", false).as_deref(), Some("ö"));
        // AZERTY: M is right of L, and the key where QWERTY has M types a comma.
        assert_eq!(Layout::Fr.translate("Semicolon", false), (Some("m".into()), Some("m".into())));
        assert_eq!(text(Layout::Fr, "KeyM", false).as_deref(), Some(","));
        assert_eq!(text(Layout::Fr, "Digit7", true).as_deref(), Some("7"));
        // Dead keys and keys that type nothing.
        assert_eq!(Layout::De.translate("Equal", false), (None, None));
        assert_eq!(text(Layout::Us, "Enter", false), None);
        assert_eq!(text(Layout::Us, "Space", true).as_deref(), Some(" "));
    }

    #[test]
    fn key_names_are_winits() {
        assert!(is_key_code("Backspace") && is_key_code("KeyA") && is_key_code("Digit1") && is_key_code("F13"));
        assert!(!is_key_code("BackSpace") && !is_key_code("space") && !is_key_code(""));
    }
}
