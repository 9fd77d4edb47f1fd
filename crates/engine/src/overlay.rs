//! The editor overlay on the compositor: an egui context, its painter, and the one input path that window events
//! and script commands both go through (so a script's `key Backquote` takes the same road as a real key press).
//!
//! Placement: drawn over the frame (the default), or into a texture shown on a panel inside the frame (what VR
//! needs: the same UI on a surface in the scene), with the pointer mapped onto the panel.

use std::time::{Duration, Instant};

use allsource_editor::{ConsoleLog, Editor};
use allsource_gpu::glow::NativeTexture;
use allsource_gpu::{FrameTarget, Gl, Rects, Target, UiPainter};
use egui::{Event, Key, Modifiers, Pos2, RawInput, Rect, Vec2};

use crate::Error;

/// Where the editor is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Placement {
    /// Over the whole frame.
    Overlay,
    /// Into a texture of `size` pixels, shown in the frame at `rect` (fractions of the frame: x, y from the
    /// top-left, width, height).
    Panel { rect: [f32; 4], size: (u32, u32) },
}

impl Placement {
    /// The panel `--panel` and `placement panel` use: the upper right of the frame, 900x640 pixels of editor.
    pub const PANEL: Placement = Placement::Panel { rect: [0.5, 0.04, 0.48, 0.6], size: (900, 640) };
}

/// Where a key went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRoute {
    /// The key under Escape: the editor was shown or hidden; nothing was typed.
    Toggled,
    /// The editor took it.
    Editor,
    /// The editor is hidden: the scene gets it.
    Scene,
}

/// The physical key that toggles the editor, whatever the layout: the one under Escape.
pub const TOGGLE_KEY: &str = "Backquote";

pub struct Overlay {
    ctx: egui::Context,
    painter: Option<UiPainter>,
    pub editor: Editor,
    events: Vec<Event>,
    modifiers: Modifiers,
    textures: egui::TexturesDelta,
    shapes: Vec<egui::epaint::ClippedShape>,
    pixels_per_point: f32,
    /// The clipboard of a headless run (a window uses the system's).
    pub clipboard: Option<String>,
    /// Text copied in the last pass, for the window's system clipboard.
    pub copied: Option<String>,
    start: Instant,
    /// In lockstep, the scene time of the frame being composed and the frame period: egui's clock then.
    lockstep: Option<(f64, f32)>,
    pub placement: Placement,
    /// The UI as the last pass laid it out: over the frame, painted premultiplied over transparency and blended
    /// over each frame until the next pass; on a panel, painted over the panel's own background.
    canvas: Option<Target>,
    /// The tiles of the canvas the last paint drew in but not opaquely (`cover.rs`), as geometry: over the frame,
    /// the canvas is blended over these only.
    tiles: Option<Rects>,
    /// The tiles it painted opaque: over the frame, these are copied in.
    opaque: Option<Rects>,
    /// The shares of the canvas's pixels blended and copied, for the bench.
    shares: (f64, f64),
    pointer: Option<Pos2>,
    /// Something the editor shows changed outside a pass (a report, an answer, a command): lay it out again.
    dirty: bool,
    /// When egui asked to run again (a hover fading, the caret blinking), if it did.
    repaint_at: Option<Instant>,
    /// What the last pass saw: the console's length, the editor shown, the surface's size and placement.
    seen: (u64, bool, (u32, u32), Placement),
    /// A pass ran since the last paint: its shapes are not painted yet.
    fresh: bool,
    /// egui passes run, by cause (tests and the bench count them).
    passes: [u64; PassCause::ALL.len()],
    /// Paints of a pass's shapes.
    pub paints: u64,
}

/// Why the editor was laid out again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PassCause {
    /// Keys, text, the pointer or the wheel were queued.
    Input,
    /// It was just shown.
    Shown,
    /// Its surface changed size, or it moved between the frame and a panel.
    Resized,
    /// Something it shows changed (a report, an answer, a command).
    Changed,
    /// The console has new lines.
    Console,
    /// What it shows moves with time (a build's clock, the preview's stats).
    Animating,
    /// egui asked to run again by now (a hover fading, the caret blinking).
    EguiAsked,
}

impl PassCause {
    pub const ALL: [PassCause; 7] = [
        PassCause::Input,
        PassCause::Shown,
        PassCause::Resized,
        PassCause::Changed,
        PassCause::Console,
        PassCause::Animating,
        PassCause::EguiAsked,
    ];
}

/// What the compositor draws of the editor this frame.
pub enum UiLayer<'a> {
    /// A texture the size of the frame, premultiplied: copied over the frame where `opaque` covers it (alpha 1 in
    /// every pixel), blended over it where `tiles` cover it (the rest of the texture is transparent).
    Over { texture: NativeTexture, tiles: &'a Rects, opaque: &'a Rects },
    /// The panel's opaque texture, drawn into `rect` of the frame.
    Panel { texture: NativeTexture, rect: [i32; 4], size: (u32, u32) },
}

impl Overlay {
    pub fn new(root: &std::path::Path, log: ConsoleLog) -> Overlay {
        let ctx = egui::Context::default();
        ctx.set_visuals(egui::Visuals::dark());
        Overlay {
            ctx,
            painter: None,
            editor: Editor::new(root, log),
            events: Vec::new(),
            modifiers: Modifiers::default(),
            textures: Default::default(),
            shapes: Vec::new(),
            pixels_per_point: 1.0,
            clipboard: None,
            copied: None,
            start: Instant::now(),
            lockstep: None,
            placement: Placement::Overlay,
            canvas: None,
            tiles: None,
            opaque: None,
            shares: (0.0, 0.0),
            pointer: None,
            dirty: true,
            repaint_at: None,
            seen: (0, false, (0, 0), Placement::Overlay),
            fresh: false,
            passes: [0; PassCause::ALL.len()],
            paints: 0,
        }
    }

    /// Something the editor shows changed outside its pass: the next pass lays it out again.
    pub fn invalidate(&mut self) {
        self.dirty = true;
    }

    pub fn visible(&self) -> bool {
        self.editor.visible
    }

    /// A key went down or up. `code` is winit's name of the physical key (`KeyZ`, `Backquote`), `text` what the
    /// keyboard layout made of it. The key under Escape toggles the editor and is never typed, on any layout.
    pub fn key(&mut self, code: &str, pressed: bool, text: Option<&str>, logical: Option<&str>) -> KeyRoute {
        if code == TOGGLE_KEY {
            if pressed {
                self.editor.visible = !self.editor.visible;
                self.dirty = true;
                if self.editor.visible {
                    self.editor.shown();
                }
                // A character already queued from this key (a layout that types one for it) is dropped too.
                self.events.retain(|e| !matches!(e, Event::Text(t) if Some(t.as_str()) == text));
            }
            return KeyRoute::Toggled;
        }
        match code {
            "ControlLeft" | "ControlRight" => self.modifiers.ctrl = pressed,
            "ShiftLeft" | "ShiftRight" => self.modifiers.shift = pressed,
            "AltLeft" | "AltRight" => self.modifiers.alt = pressed,
            _ => {}
        }
        self.modifiers.command = self.modifiers.ctrl;
        if !self.editor.visible {
            return KeyRoute::Scene;
        }
        let physical = egui_key(code);
        let key = logical.and_then(egui_key_from_text).or(physical);
        if let Some(key) = key {
            let modifiers = self.modifiers;
            if pressed && modifiers.command && !modifiers.alt {
                match key {
                    Key::C => self.events.push(Event::Copy),
                    Key::X => self.events.push(Event::Cut),
                    Key::V => {
                        if let Some(text) = self.clipboard.clone() {
                            self.events.push(Event::Paste(text));
                        }
                    }
                    _ => {}
                }
            }
            self.events.push(Event::Key { key, physical_key: physical, pressed, repeat: false, modifiers });
        }
        // A shortcut (ctrl, not AltGr) types nothing.
        let shortcut = self.modifiers.command && !self.modifiers.alt;
        if let Some(text) = text.filter(|t| pressed && !shortcut && !t.is_empty() && !t.chars().any(char::is_control)) {
            self.events.push(Event::Text(text.to_owned()));
        }
        KeyRoute::Editor
    }

    /// Text typed (one character or an IME commit).
    pub fn text(&mut self, text: &str) {
        if self.editor.visible {
            self.events.push(Event::Text(text.to_owned()));
        }
    }

    /// The pointer moved to (`x`, `y`) pixels from the frame's top-left. Returns whether the editor is under it.
    pub fn pointer_moved(&mut self, x: f32, y: f32, frame: (u32, u32)) -> bool {
        let at = self.map_pointer(x, y, frame);
        self.pointer = at;
        match at {
            Some(p) => self.events.push(Event::PointerMoved(p)),
            None => self.events.push(Event::PointerGone),
        }
        self.editor.visible && at.is_some() && self.wants_pointer()
    }

    /// A button over the frame: egui gets it while the editor is shown; returns whether the editor takes it (the
    /// pointer is over its windows), or the scene may have it.
    pub fn pointer_button(&mut self, button: egui::PointerButton, pressed: bool) -> bool {
        let Some(pos) = self.pointer.filter(|_| self.editor.visible) else { return false };
        self.events.push(Event::PointerButton { pos, button, pressed, modifiers: self.modifiers });
        self.wants_pointer()
    }

    pub fn scroll(&mut self, dx: f32, dy: f32) -> bool {
        if self.pointer.is_none() || !self.editor.visible {
            return false;
        }
        self.events.push(Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: Vec2::new(dx, dy),
            phase: egui::TouchPhase::Move,
            modifiers: self.modifiers,
            source: egui::MouseWheelSource::Wheel,
        });
        true
    }

    /// Whether egui wants the pointer (it is over a panel or dragging): then the scene does not get it.
    pub fn wants_pointer(&self) -> bool {
        self.ctx.egui_wants_pointer_input()
    }

    /// Frame pixels to the editor's points: the identity over the frame, or onto the panel.
    fn map_pointer(&self, x: f32, y: f32, frame: (u32, u32)) -> Option<Pos2> {
        match self.placement {
            Placement::Overlay => Some(Pos2::new(x, y) / self.pixels_per_point),
            Placement::Panel { rect, size } => {
                let (fw, fh) = (frame.0 as f32, frame.1 as f32);
                let (u, v) = ((x / fw - rect[0]) / rect[2], (y / fh - rect[1]) / rect[3]);
                ((0.0..=1.0).contains(&u) && (0.0..=1.0).contains(&v))
                    .then(|| Pos2::new(u * size.0 as f32, v * size.1 as f32) / self.pixels_per_point)
            }
        }
    }

    /// The size in pixels the editor is laid out for.
    fn surface(&self, frame: (u32, u32)) -> (u32, u32) {
        match self.placement {
            Placement::Overlay => frame,
            Placement::Panel { size, .. } => size,
        }
    }

    /// Runs one egui pass with the input queued since the last one, when it is needed: input is queued, or the
    /// editor is shown and something it shows changed (see `needs_pass`). What the editor asks of the engine is
    /// then in `editor.take_actions()`. A shown editor with nothing new keeps its last layout and paint.
    pub fn pass(&mut self, frame: (u32, u32)) {
        let Some(cause) = self.needs_pass(frame) else { return };
        self.passes[cause as usize] += 1;
        let (w, h) = self.surface(frame);
        let (time, predicted_dt) = match self.lockstep {
            Some((time, period)) => (time, period),
            None => (self.start.elapsed().as_secs_f64(), RawInput::default().predicted_dt),
        };
        let raw = RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, Vec2::new(w as f32, h as f32) / self.pixels_per_point)),
            time: Some(time),
            predicted_dt,
            events: std::mem::take(&mut self.events),
            focused: true,
            ..Default::default()
        };
        self.seen = (self.editor.log.next_seq(), self.editor.visible, (w, h), self.placement);
        self.dirty = false;
        let editor = &mut self.editor;
        let output = self.ctx.run_ui(raw, |ui| editor.ui(ui));
        self.fresh = true;
        self.textures.append(output.textures_delta);
        self.shapes = output.shapes;
        self.pixels_per_point = output.pixels_per_point;
        // egui says when it wants to run again by itself (never: a delay of about `Duration::MAX`).
        self.repaint_at = output
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .and_then(|v| Instant::now().checked_add(v.repaint_delay));
        for command in output.platform_output.commands {
            if let egui::OutputCommand::CopyText(text) = command {
                self.clipboard = Some(text.clone());
                self.copied = Some(text);
            }
        }
    }

    /// Why the next pass must run, if it must: input is queued (shown or not: a key up must reach egui); or the
    /// editor is shown and it was just shown, resized, told something changed, the console has lines it has not
    /// laid out, what it shows moves with time, or egui asked to run again by now.
    fn needs_pass(&self, frame: (u32, u32)) -> Option<PassCause> {
        if !self.events.is_empty() {
            return Some(PassCause::Input);
        }
        if !self.editor.visible {
            return None;
        }
        let (log, shown, surface, placement) = self.seen;
        let cause = if !shown {
            PassCause::Shown
        } else if surface != self.surface(frame) || placement != self.placement {
            PassCause::Resized
        } else if self.dirty {
            PassCause::Changed
        } else if log != self.editor.log.next_seq() {
            PassCause::Console
        } else if self.editor.animating() {
            PassCause::Animating
        } else if self.repaint_at.is_some_and(|at| Instant::now() >= at) {
            PassCause::EguiAsked
        } else {
            return None;
        };
        Some(cause)
    }

    /// Lockstep: egui's clock is the scene's (`time` seconds, frames `period` apart), so what moves with time in the
    /// editor (the wheel's smooth scrolling) moves by frames, the same in every run, not by how fast the machine
    /// composed them.
    pub fn lockstep_clock(&mut self, time: f64, period: f32) {
        self.lockstep = Some((time, period));
    }

    /// egui passes run so far for `cause`.
    pub fn passes(&self, cause: PassCause) -> u64 {
        self.passes[cause as usize]
    }

    /// egui passes run so far.
    pub fn all_passes(&self) -> u64 {
        self.passes.iter().sum()
    }

    /// The pixels of the editor's last paint (premultiplied, top row first), if it was painted.
    pub fn layer_image(&self, gl: &Gl) -> Option<allsource_gpu::Image> {
        self.canvas.as_ref().map(|c| allsource_gpu::Image::read(gl, &c.frame_target()))
    }

    /// The shares of the frame the editor's layer is blended over (the tiles its last paint drew in, not
    /// opaquely) and copied over (the tiles it painted opaque), 0 to 1 each.
    pub fn layer_shares(&self) -> (f64, f64) {
        self.shares
    }

    /// How long until the shown editor needs a pass by itself (egui's next animation step), if it asked for one.
    pub fn repaint_in(&self) -> Option<Duration> {
        self.repaint_at.map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// Paints what the last pass laid out, if it was not painted yet, and says what the compositor draws of the
    /// editor this frame (nothing when hidden): over the frame, the UI layer blended over it; in panel placement,
    /// the panel's texture in its rectangle. Between passes the same layer is drawn again: a shown editor with
    /// nothing new costs one blended draw over the tiles it drew in, not a layout, a tessellation and a paint.
    pub fn paint(&mut self, gl: &Gl, target: &FrameTarget) -> Result<Option<UiLayer<'_>>, Error> {
        if !self.editor.visible {
            return Ok(None);
        }
        let size = self.surface((target.width, target.height));
        if self.canvas.as_ref().is_some_and(|t| (t.width, t.height) != size)
            && let Some(old) = self.canvas.take()
        {
            old.delete(gl);
        }
        if self.canvas.is_none() {
            self.canvas = Some(Target::new(gl, size.0, size.1)?);
            // Nothing is painted in a new canvas until the next paint.
            for tiles in [self.tiles.as_mut(), self.opaque.as_mut()].into_iter().flatten() {
                tiles.set(gl, &[], size);
            }
        }
        if self.tiles.is_none() {
            self.tiles = Some(Rects::new(gl)?);
        }
        if self.opaque.is_none() {
            self.opaque = Some(Rects::new(gl)?);
        }
        if self.fresh {
            self.fresh = false;
            self.paints += 1;
            if self.painter.is_none() {
                self.painter = Some(UiPainter::new(gl)?);
            }
            let primitives = self.ctx.tessellate(std::mem::take(&mut self.shapes), self.pixels_per_point);
            if let (Placement::Overlay, Some(tiles), Some(opaque)) =
                (self.placement, self.tiles.as_mut(), self.opaque.as_mut())
            {
                use crate::cover::{Cover, covered};
                let cover = covered(&primitives, self.pixels_per_point, size);
                self.shares = (Cover::share(&cover.blended, size), Cover::share(&cover.opaque, size));
                tiles.set(gl, &cover.blended, size);
                opaque.set(gl, &cover.opaque, size);
            }
            let (Some(painter), Some(canvas)) = (self.painter.as_mut(), self.canvas.as_ref()) else { return Ok(None) };
            let into = canvas.frame_target();
            // The panel is opaque; the layer over the frame is transparent where the editor draws nothing.
            let background = match self.placement {
                Placement::Overlay => [0.0; 4],
                Placement::Panel { .. } => [0.05, 0.06, 0.08, 1.0],
            };
            into.clear(gl, background, None);
            painter.paint(gl, &into, self.pixels_per_point, &primitives, &mut self.textures);
        }
        let (Some(canvas), Some(tiles), Some(opaque)) =
            (self.canvas.as_ref(), self.tiles.as_ref(), self.opaque.as_ref())
        else {
            return Ok(None);
        };
        Ok(Some(match self.placement {
            Placement::Overlay => UiLayer::Over { texture: canvas.texture, tiles, opaque },
            Placement::Panel { rect, .. } => UiLayer::Panel {
                texture: canvas.texture,
                rect: viewport_of(rect, target),
                size: (canvas.width, canvas.height),
            },
        }))
    }

    /// Frees the overlay's GL objects; call with the compositor's context current.
    pub fn free(&mut self, gl: &Gl) {
        if let Some(p) = self.painter.take() {
            p.destroy();
        }
        if let Some(t) = self.canvas.take() {
            t.delete(gl);
        }
        for t in [self.tiles.take(), self.opaque.take()].into_iter().flatten() {
            t.delete(gl);
        }
    }
}

/// The pixels (from the bottom-left, as GL's viewport counts) of `rect`, given as fractions of the frame from its
/// top-left: x, y, width, height.
pub fn viewport_of(rect: [f32; 4], target: &FrameTarget) -> [i32; 4] {
    let (fw, fh) = (target.width as f32, target.height as f32);
    [(rect[0] * fw) as i32, ((1.0 - rect[1] - rect[3]) * fh) as i32, (rect[2] * fw) as i32, (rect[3] * fh) as i32]
}

impl Drop for Overlay {
    fn drop(&mut self) {
        // Deltas not painted yet die with the painter's textures; egui insists they are dropped on purpose.
        self.textures.clear();
    }
}

/// egui's key for winit's name of a physical key.
pub fn egui_key(code: &str) -> Option<Key> {
    let name = code.strip_prefix("Key").or_else(|| code.strip_prefix("Digit")).unwrap_or(code);
    match name {
        "Backquote" => Some(Key::Backtick),
        "BracketLeft" => Some(Key::OpenBracket),
        "BracketRight" => Some(Key::CloseBracket),
        "Quote" => Some(Key::Quote),
        "Backslash" => Some(Key::Backslash),
        "Slash" => Some(Key::Slash),
        other => Key::from_name(other),
    }
}

/// egui's key for a logical key's text (`z` on any layout that types z).
fn egui_key_from_text(text: &str) -> Option<Key> {
    let mut chars = text.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return Key::from_name(text);
    }
    Key::from_name(&c.to_ascii_uppercase().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pointer_maps_onto_the_panel_and_misses_it_outside() {
        let mut overlay = Overlay::new(std::path::Path::new("."), Default::default());
        overlay.placement = Placement::Panel { rect: [0.5, 0.25, 0.5, 0.5], size: (400, 200) };
        // The panel covers x 500..1000, y 250..750 of a 1000x1000 frame.
        assert_eq!(overlay.map_pointer(750.0, 500.0, (1000, 1000)), Some(Pos2::new(200.0, 100.0)));
        assert_eq!(overlay.map_pointer(500.0, 250.0, (1000, 1000)), Some(Pos2::new(0.0, 0.0)));
        assert_eq!(overlay.map_pointer(499.0, 500.0, (1000, 1000)), None);
        overlay.placement = Placement::Overlay;
        assert_eq!(overlay.map_pointer(499.0, 500.0, (1000, 1000)), Some(Pos2::new(499.0, 500.0)));
    }
}
