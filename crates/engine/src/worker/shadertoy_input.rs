//! The inputs of a Shadertoy scene that come from outside the shader: the pointer (`iMouse`), the keyboard (the
//! keyboard channel's texture) and the wall clock (`iDate`).

use super::FrameClock;

/// The pointer as Shadertoy's `iMouse` reports it.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Pointer {
    /// Where it is (pixels from the frame's top-left).
    at: (f32, f32),
    /// Where it was while the button was last down: `iMouse.xy`.
    dragged: (f32, f32),
    /// Where the button last went down: `iMouse.zw`. None before the first click: `iMouse` is zero, as on Shadertoy.
    click: Option<(f32, f32)>,
    down: bool,
    /// The button went down since the last frame drawn.
    clicked: bool,
}

impl Pointer {
    pub(super) fn moved(&mut self, x: f32, y: f32) {
        self.at = (x, y);
        if self.down {
            self.dragged = self.at;
        }
    }

    /// The click's frame has been drawn: `iMouse.w` turns negative.
    pub(super) fn frame_drawn(&mut self) {
        self.clicked = false;
    }

    pub(super) fn button(&mut self, down: bool) {
        if down && !self.down {
            (self.click, self.dragged, self.clicked) = (Some(self.at), self.at, true);
        }
        self.down = down;
    }

    /// Shadertoy's `iMouse` in a frame `height` pixels high (origin at the bottom-left): xy where the pointer was while
    /// the button was last down; zw where it went down, z negative once it is up, w negative after the click's
    /// frame.
    pub(super) fn shadertoy(&self, height: f32) -> [f32; 4] {
        let Some(click) = self.click else { return [0.0; 4] };
        let flip = |(x, y): (f32, f32)| (x, height - y);
        let ((x, y), (cx, cy)) = (flip(self.dragged), flip(click));
        let z = if self.down { cx } else { -cx };
        let w = if self.clicked { cy } else { -cy };
        [x, y, z, w]
    }
}

/// Shadertoy's keyboard texture: 256 x 3 bytes indexed by JavaScript key code. Row 0: the key is held; row 1: it went
/// down since the last frame drawn; row 2: it toggles at each press.
pub(super) struct Keyboard {
    bytes: [u8; 256 * 3],
    /// Changed since the texture was last written.
    pub(super) changed: bool,
}

impl Default for Keyboard {
    fn default() -> Keyboard {
        Keyboard { bytes: [0; 256 * 3], changed: true }
    }
}

impl Keyboard {
    /// A key went down or up; `code` is winit's name of the key ("KeyA", "ArrowLeft"). Keys without a JavaScript
    /// code are ignored.
    pub(super) fn key(&mut self, code: &str, down: bool) {
        let Some(k) = js_key_code(code) else { return };
        let k = usize::from(k);
        let was = self.bytes[k] != 0;
        if down && !was {
            self.bytes[256 + k] = 255;
            self.bytes[512 + k] ^= 255;
        }
        self.bytes[k] = if down { 255 } else { 0 };
        self.changed = true;
    }

    pub(super) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The frame that saw the presses has been drawn: row 1 is cleared.
    pub(super) fn frame_drawn(&mut self) {
        if self.bytes[256..512].iter().any(|b| *b != 0) {
            self.bytes[256..512].fill(0);
            self.changed = true;
        }
    }
}

/// The JavaScript `keyCode` of a key named as winit names it, as Shadertoy's keyboard texture is indexed.
fn js_key_code(code: &str) -> Option<u8> {
    let letter_or_digit = |rest: &str| (rest.len() == 1).then(|| rest.as_bytes()[0]);
    if let Some(c) = code.strip_prefix("Key").and_then(letter_or_digit).filter(u8::is_ascii_uppercase) {
        return Some(c);
    }
    if let Some(c) = code.strip_prefix("Digit").and_then(letter_or_digit).filter(u8::is_ascii_digit) {
        return Some(c);
    }
    if let Some(n) = code.strip_prefix('F').and_then(|n| n.parse::<u8>().ok()).filter(|n| (1..=12).contains(n)) {
        return Some(111 + n);
    }
    Some(match code {
        "Backspace" => 8,
        "Tab" => 9,
        "Enter" | "NumpadEnter" => 13,
        "ShiftLeft" | "ShiftRight" => 16,
        "ControlLeft" | "ControlRight" => 17,
        "AltLeft" | "AltRight" => 18,
        "Escape" => 27,
        "Space" => 32,
        "PageUp" => 33,
        "PageDown" => 34,
        "End" => 35,
        "Home" => 36,
        "ArrowLeft" => 37,
        "ArrowUp" => 38,
        "ArrowRight" => 39,
        "ArrowDown" => 40,
        "Insert" => 45,
        "Delete" => 46,
        _ => return None,
    })
}

/// Shadertoy's iDate: year, month (0-based), day, seconds since midnight. In lockstep mode the date is fixed
/// (1 January 2026 at midnight, plus the scene time) so that output stays deterministic.
pub(super) fn shadertoy_date(clock: &FrameClock) -> [f32; 4] {
    let seconds = if clock.lockstep {
        1_767_225_600.0 + clock.time
    } else {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
    };
    let days = (seconds / 86_400.0).floor() as i64;
    let (year, month, day) = civil_from_days(days);
    [year as f32, (month - 1) as f32, day as f32, (seconds - days as f64 * 86_400.0) as f32]
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31): Howard Hinnant's civil_from_days.
pub(super) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_indexed_by_javascript_code_with_press_and_toggle_rows() {
        let mut k = super::Keyboard::default();
        k.key("KeyA", true);
        assert_eq!((k.bytes()[65], k.bytes()[256 + 65], k.bytes()[512 + 65]), (255, 255, 255));
        k.key("KeyA", true); // auto-repeat: no new press
        k.frame_drawn();
        assert_eq!((k.bytes()[65], k.bytes()[256 + 65], k.bytes()[512 + 65]), (255, 0, 255));
        k.key("KeyA", false);
        k.key("ArrowLeft", true);
        k.key("KeyA", true);
        assert_eq!((k.bytes()[65], k.bytes()[512 + 65], k.bytes()[37]), (255, 0, 255), "the second press toggles back");
        assert_eq!(super::js_key_code("Digit7"), Some(b'7'));
        assert_eq!(super::js_key_code("F5"), Some(116));
        assert_eq!(super::js_key_code("Keyboard"), None);
    }

    #[test]
    fn civil_dates_from_day_numbers() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(super::civil_from_days(20_513), (2026, 3, 1));
    }
}
