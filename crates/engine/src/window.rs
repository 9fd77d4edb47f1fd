//! Running a scene in a window: winit's event loop on the main thread drives the compositor, which draws into the
//! window's default framebuffer and swaps.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use allsource_gpu::WindowGl;
use winit::application::ApplicationHandler;
use winit::dpi::PhysicalSize;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::window::{Window, WindowId};

use crate::headless::LOCKSTEP_TIMEOUT;
use crate::overlay::{KeyRoute, TOGGLE_KEY};
use crate::session::{Driver, Next, Session};
use crate::worker::{Clock, Command, EngineOptions};
use crate::{Compositor, Error, Scene, write_png};

/// Opens a window on `scene` and runs until it is closed, or for `frames` frames when given, writing the last one
/// to `screenshot`.
pub fn run_window(
    scene: Scene,
    engine: EngineOptions,
    frames: Option<u64>,
    screenshot: Option<PathBuf>,
) -> Result<(), Error> {
    if let Some(path) = &screenshot {
        crate::png_file::check_writable(path)?;
    }
    let event_loop = EventLoop::new().map_err(|e| Error::NoDisplay(platform_reason(&e.to_string())))?;
    let period = Duration::from_secs_f64(1.0 / engine.fps);
    let mut app = App {
        scene_buttons: [false; 3],
        scene,
        engine,
        frames,
        screenshot,
        period,
        next_frame: Instant::now(),
        state: None,
        index: 0,
        result: Ok(()),
    };
    event_loop.run_app(&mut app).map_err(|e| Error::NoDisplay(e.to_string()))?;
    app.result
}

struct App {
    /// Which of the buttons 1-3 the scene has down (it got their press).
    scene_buttons: [bool; 3],
    scene: Scene,
    engine: EngineOptions,
    frames: Option<u64>,
    screenshot: Option<PathBuf>,
    period: Duration,
    next_frame: Instant,
    state: Option<State>,
    index: u64,
    result: Result<(), Error>,
}

struct State {
    // Field order is drop order: the compositor (and its worker) before the window's context.
    compositor: Compositor,
    session: Session,
    clipboard: egui_winit::clipboard::Clipboard,
    window: WindowGl,
}

/// The window's console runs commands without waiting: answers arrive in the log.
struct WindowDriver<'a> {
    compositor: &'a mut Compositor,
    target: allsource_gpu::FrameTarget,
}

impl Driver for WindowDriver<'_> {
    fn compositor(&mut self) -> &mut Compositor {
        self.compositor
    }

    fn frames(&mut self, _: u64) -> Result<(), String> {
        Err("`frames` is for scripts: a window's frames run on their own".into())
    }

    fn image(&mut self) -> Result<crate::Image, String> {
        Ok(self.compositor.screenshot(&self.target))
    }

    fn blocking(&self) -> bool {
        false
    }
}

impl App {
    fn fail(&mut self, event_loop: &ActiveEventLoop, error: Error) {
        self.result = Err(error);
        event_loop.exit();
    }

    fn open(&mut self, event_loop: &ActiveEventLoop) -> Result<State, Error> {
        let (w, h) = self.engine.size;
        let title = format!("allsource — {}", self.scene.dir.display());
        let attributes = Window::default_attributes()
            .with_title(title)
            .with_inner_size(PhysicalSize::new(w, h))
            .with_resizable(true);
        let window = WindowGl::new(event_loop, attributes)?;
        let size = window.window.inner_size();
        let mut engine = self.engine.clone();
        engine.size = (size.width.max(1), size.height.max(1));
        let compositor = Compositor::new(&window.context, self.scene.clone(), engine)?;
        // SAFETY: the display handle is read only by the Wayland clipboard, which is not compiled in (X11 uses
        // arboard, which opens its own connection); none is passed.
        let clipboard = unsafe { egui_winit::clipboard::Clipboard::new(None) };
        Ok(State { compositor, session: Session::new(&self.scene.dir), clipboard, window })
    }

    fn redraw(&mut self, event_loop: &ActiveEventLoop) -> Result<(), Error> {
        let Some(state) = &mut self.state else {
            return Ok(());
        };
        let target = state.window.frame_target();
        state.compositor.replenish(&state.window.context);
        match self.engine.clock {
            Clock::Realtime => state.compositor.compose(&target),
            Clock::Lockstep => {
                let time = self.index as f64 / self.engine.fps;
                state.compositor.compose_lockstep(&target, self.index, time, LOCKSTEP_TIMEOUT)?;
            }
        }
        for line in state.compositor.take_console_lines() {
            let mut driver = WindowDriver { compositor: &mut state.compositor, target };
            if state.session.console_line(&mut driver, &line) == Next::Quit {
                event_loop.exit();
            }
        }
        if let Some(text) = state.compositor.overlay.copied.take() {
            state.clipboard.set_text(text);
        }
        self.index += 1;
        let last = self.frames.is_some_and(|n| self.index >= n);
        if last {
            if let Some(path) = &self.screenshot {
                // Read the back buffer before the swap leaves it undefined.
                write_png(path, &state.compositor.screenshot(&target))?;
                tracing::info!("wrote {}", path.display());
            }
            // A run of a fixed number of frames is a check: it fails when a source never built.
            self.result = state.compositor.status().ended_well();
            event_loop.exit();
        }
        state.window.swap_buffers()?;
        Ok(())
    }
}

impl ApplicationHandler for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.state.is_some() {
            return;
        }
        match self.open(event_loop) {
            Ok(state) => self.state = Some(state),
            Err(e) => self.fail(event_loop, e),
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested => event_loop.exit(),
            WindowEvent::Resized(size) => {
                if let Some(state) = &mut self.state {
                    state.window.resize();
                    state.compositor.resize(size.width.max(1), size.height.max(1));
                }
            }
            WindowEvent::KeyboardInput { event, .. } => {
                if let Some(state) = &mut self.state {
                    let down = event.state == winit::event::ElementState::Pressed;
                    // A key without a known physical code (synthetic input, unusual keyboards) still types its
                    // text; it cannot be the toggle, which is a physical key.
                    let code = match event.physical_key {
                        winit::keyboard::PhysicalKey::Code(code) => format!("{code:?}"),
                        winit::keyboard::PhysicalKey::Unidentified(_) => "Unidentified".to_owned(),
                    };
                    if event.repeat && code == TOGGLE_KEY {
                        return;
                    }
                    let logical = match &event.logical_key {
                        winit::keyboard::Key::Character(c) => Some(c.to_string()),
                        _ => None,
                    };
                    let overlay = &mut state.compositor.overlay;
                    if down && code == "KeyV" && overlay.visible() {
                        overlay.clipboard = state.clipboard.get();
                    }
                    let route = overlay.key(&code, down, event.text.as_deref(), logical.as_deref());
                    if route == KeyRoute::Scene && code != "Unidentified" {
                        state.compositor.send(Command::Key { code, down });
                        if let Some(text) = event.text.as_deref().filter(|t| down && !t.chars().any(char::is_control)) {
                            state.compositor.send(Command::Text { text: text.to_owned() });
                        }
                    }
                }
            }
            WindowEvent::Ime(winit::event::Ime::Commit(text)) => {
                if let Some(state) = &mut self.state {
                    state.compositor.overlay.text(&text);
                }
            }
            WindowEvent::CursorMoved { position, .. } => {
                if let Some(state) = &mut self.state {
                    let size = state.window.window.inner_size();
                    let (x, y) = (position.x as f32, position.y as f32);
                    let size = (size.width, size.height);
                    if !state.compositor.overlay.pointer_moved(x, y, size) {
                        state.compositor.send(Command::Mouse { x, y });
                    }
                }
            }
            WindowEvent::MouseInput { state: pressed, button, .. } => {
                if let Some(state) = &mut self.state {
                    let button = match button {
                        winit::event::MouseButton::Left => egui::PointerButton::Primary,
                        winit::event::MouseButton::Right => egui::PointerButton::Secondary,
                        winit::event::MouseButton::Middle => egui::PointerButton::Middle,
                        _ => return,
                    };
                    let down = pressed == winit::event::ElementState::Pressed;
                    let taken = state.compositor.overlay.pointer_button(button, down);
                    let number: u8 = match button {
                        egui::PointerButton::Primary => 1,
                        egui::PointerButton::Secondary => 2,
                        _ => 3,
                    };
                    // A press the scene got gets its release wherever the pointer is then (or iMouse stays down).
                    let held = &mut self.scene_buttons[usize::from(number - 1)];
                    if down && !taken || !down && *held {
                        *held = down;
                        state.compositor.send(Command::MouseButton { button: number, down });
                    }
                }
            }
            WindowEvent::MouseWheel { delta, .. } => {
                if let Some(state) = &mut self.state {
                    let (dx, dy) = match delta {
                        winit::event::MouseScrollDelta::LineDelta(x, y) => (x * 24.0, y * 24.0),
                        winit::event::MouseScrollDelta::PixelDelta(p) => (p.x as f32, p.y as f32),
                    };
                    if !state.compositor.overlay.scroll(dx, dy) {
                        // In notches, as a wheel turns (a touchpad's pixels at 24 a notch).
                        state.compositor.send(Command::Wheel { x: dx / 24.0, y: dy / 24.0 });
                    }
                }
            }
            WindowEvent::RedrawRequested => {
                if let Err(e) = self.redraw(event_loop) {
                    self.fail(event_loop, e);
                }
            }
            _ => {}
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        let Some(state) = &self.state else { return };
        // Pace frames at the engine's rate even where the swap does not wait for vertical sync (Xvfb).
        let now = Instant::now();
        if now >= self.next_frame {
            state.window.window.request_redraw();
            self.next_frame = (self.next_frame + self.period).max(now);
        }
        event_loop.set_control_flow(ControlFlow::WaitUntil(self.next_frame));
    }
}

/// winit's platform errors start with the source location they were raised at; the user needs only the reason.
fn platform_reason(message: &str) -> String {
    message.rsplit(": ").next().unwrap_or(message).trim_end_matches('.').to_owned()
}
