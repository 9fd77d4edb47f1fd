//! Probes of the frame (piglit's tolerances: single pixels in float with `> tolerance`, rectangles in bytes with
//! `>= ceil(tolerance * 255)`) and `tolerance`.

use super::commands::Line;
use super::words::{floats, numbers, parse_i64, show};
use super::{Run, Step};

impl Run<'_> {
    /// `probe ...`, `relative probe ...`, `tolerance ...`.
    pub(super) fn probe_command(&mut self, command: &Line) -> Result<(), Step> {
        let (line, words) = (command.text, command.words.as_slice());
        let rest_after = |n: usize| command.rest_after(n);
        match words {
            ["probe", "rgba", ..] => {
                let v = floats(rest_after(2), 6).map_err(Step::Fail)?;
                self.probe_pixel(v[0] as i64, v[1] as i64, &v[2..6])?;
            }
            ["probe", "rgb", ..] => {
                let v = floats(rest_after(2), 5).map_err(Step::Fail)?;
                self.probe_pixel(v[0] as i64, v[1] as i64, &v[2..5])?;
            }
            ["probe", "rect", kind @ ("rgba" | "rgb"), ..] => {
                let n = if *kind == "rgba" { 4 } else { 3 };
                let words = numbers(rest_after(3));
                let ints: Vec<i64> = words.iter().take(4).filter_map(|w| parse_i64(w)).collect();
                let colour = floats(&words.get(4..).unwrap_or(&[]).join(" "), n).map_err(Step::Fail)?;
                if ints.len() != 4 {
                    return Err(Step::Fail(format!("bad rectangle in `{line}`")));
                }
                self.probe_rect(ints[0], ints[1], ints[2], ints[3], &colour)?;
            }
            ["relative", "probe", "rect", kind @ ("rgba" | "rgb"), ..] => {
                let n = if *kind == "rgba" { 4 } else { 3 };
                let v = floats(rest_after(4), 4 + n).map_err(Step::Fail)?;
                let (w, h) = (self.frame.width as f32, self.frame.height as f32);
                let rect = [(v[0] * w) as i64, (v[1] * h) as i64, (v[2] * w) as i64, (v[3] * h) as i64];
                self.probe_rect(rect[0], rect[1], rect[2], rect[3], &v[4..4 + n])?;
            }
            ["relative", "probe", kind @ ("rgba" | "rgb"), ..] => {
                let n = if *kind == "rgba" { 4 } else { 3 };
                let v = floats(rest_after(3), 2 + n).map_err(Step::Fail)?;
                let (w, h) = (self.frame.width as i64, self.frame.height as i64);
                let x = ((v[0] * w as f32) as i64).min(w - 1);
                let y = ((v[1] * h as f32) as i64).min(h - 1);
                self.probe_pixel(x, y, &v[2..2 + n])?;
            }
            ["probe", "all", kind @ ("rgba" | "rgb"), ..] => {
                let n = if *kind == "rgba" { 4 } else { 3 };
                let v = floats(rest_after(3), n).map_err(Step::Fail)?;
                let (w, h) = (self.frame.width as i64, self.frame.height as i64);
                self.probe_rect(0, 0, w, h, &v)?;
            }
            ["tolerance", ..] => {
                let v = floats(rest_after(1), 4).map_err(Step::Fail)?;
                self.tolerance = [v[0], v[1], v[2], v[3]];
            }
            _ => return Err(Step::Unsupported),
        }
        Ok(())
    }

    fn probe_pixel(&mut self, x: i64, y: i64, expected: &[f32]) -> Result<(), Step> {
        let got = self.pixel(x, y)?;
        let n = expected.len();
        if (0..n).any(|i| (got[i] - expected[i]).abs() > self.tolerance[i]) {
            return Err(Step::Fail(format!(
                "probe at ({x}, {y}): expected {}, observed {}",
                show(expected),
                show(&got[..n])
            )));
        }
        Ok(())
    }

    /// piglit's rectangle probe on an 8-bit target: expected * 255 truncated, tolerance * 255 rounded up, and a
    /// channel fails when it is off by the tolerance or more.
    fn probe_rect(&mut self, x: i64, y: i64, w: i64, h: i64, expected: &[f32]) -> Result<(), Step> {
        let n = expected.len();
        let want: Vec<i32> = expected.iter().map(|&e| (e * 255.0) as u8 as i32).collect();
        let tolerance: Vec<i32> = self.tolerance[..n].iter().map(|&t| (t * 255.0).ceil() as i32).collect();
        let image = self.image().clone();
        let (iw, ih) = (image.width as i64, image.height as i64);
        for j in y.max(0)..(y + h).min(ih) {
            for i in x.max(0)..(x + w).min(iw) {
                let p = image.pixel(i as u32, (ih - 1 - j) as u32);
                if (0..n).any(|c| (i32::from(p[c]) - want[c]).abs() >= tolerance[c]) {
                    return Err(Step::Fail(format!(
                        "probe at ({i}, {j}) in rect ({x}, {y}, {w}, {h}): expected {:?}, observed {:?}",
                        &want,
                        &p[..n]
                    )));
                }
            }
        }
        Ok(())
    }
}
