//! Console commands, run against a compositor: the console's input line in a window, and `run --script FILE`
//! headless, where every command runs in lockstep frames and everything the console shows also goes to standard
//! output. A failed `expect-*` or an unknown command stops a script with its line number.

use std::path::{Path, PathBuf};
use std::time::Duration;

use allsource_editor::Level;
use allsource_editor::command::{self, ConsoleCommand};

use crate::keyboard::Layout;
use crate::overlay::{KeyRoute, Placement};
use crate::worker::{Clock, Command as WorkerCommand, EngineOptions};
use crate::{Compositor, Error, HeadlessEngine, Image, Scene, write_png};

/// How long a script waits for the worker to answer one command.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

/// What runs commands needs from its driver.
pub trait Driver {
    fn compositor(&mut self) -> &mut Compositor;
    /// Composes `n` frames (lockstep in scripts).
    fn frames(&mut self, n: u64) -> Result<(), String>;
    /// The pixels of the last composed frame.
    fn image(&mut self) -> Result<Image, String>;
    /// The frame becomes `width` x `height` (a window's size is its own: only the scene is told).
    fn resize(&mut self, width: u32, height: u32) -> Result<(), String> {
        self.compositor().resize(width, height);
        Ok(())
    }
    /// Whether commands may wait for the worker (scripts), or must not (a window's console: answers arrive in
    /// the log later).
    fn blocking(&self) -> bool;
}

/// What a command asks of the caller.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Continue,
    Quit,
}

/// Runs console commands; keeps the state commands share (the keyboard layout scripts type through).
pub struct Session {
    pub layout: Layout,
    root: PathBuf,
}

impl Session {
    pub fn new(root: &Path) -> Session {
        Session { layout: Layout::Us, root: root.to_path_buf() }
    }

    fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() { path.to_path_buf() } else { self.root.join(path) }
    }

    /// Runs a console line: a command, or else Lua for the scene VM. Results go to the console log.
    pub fn console_line(&mut self, driver: &mut dyn Driver, line: &str) -> Next {
        let log = driver.compositor().overlay.editor.log.clone();
        log.push(Level::Command, format!("> {line}"));
        let first = line.split_whitespace().next().unwrap_or("");
        let parsed = if command::NAMES.contains(&first) {
            command::parse(line)
        } else {
            Ok(Some(ConsoleCommand::Lua(line.to_owned())))
        };
        let result = parsed.and_then(|c| match c {
            Some(c) => self.execute(driver, c),
            None => Ok(Next::Continue),
        });
        match result {
            Ok(next) => next,
            Err(e) => {
                log.push(Level::Error, e);
                Next::Continue
            }
        }
    }

    /// Runs one command. Its output goes to the console log; an error is returned (scripts stop on it).
    pub fn execute(&mut self, d: &mut dyn Driver, command: ConsoleCommand) -> Result<Next, String> {
        let blocking = d.blocking();
        // A command may change what the editor shows (a file opened, the preview promoted): its next pass lays it
        // out again.
        d.compositor().overlay.invalidate();
        let log = d.compositor().overlay.editor.log.clone();
        let say = |text: String| {
            if !text.is_empty() {
                log.push(Level::Result, text);
            }
        };
        match command {
            ConsoleCommand::Open(path) => {
                let c = d.compositor();
                c.overlay.editor.open(&path)?;
                c.overlay.editor.visible = true;
                c.ui_pass();
            }
            ConsoleCommand::Goto { line, column } => {
                let c = d.compositor();
                c.overlay.editor.goto(line, column)?;
                c.ui_pass();
            }
            ConsoleCommand::Type(text) => {
                let c = d.compositor();
                if !c.overlay.visible() || c.overlay.editor.active().is_none() {
                    return Err("`type` needs the editor shown with a source open (`open PATH`)".into());
                }
                for ch in text.chars() {
                    match ch {
                        '\n' => {
                            c.overlay.key("Enter", true, None, None);
                            c.overlay.key("Enter", false, None, None);
                        }
                        ch => c.overlay.text(&ch.to_string()),
                    }
                    // One pass per keystroke: each one rebuilds, as typing does.
                    c.ui_pass();
                }
                self.settle(d, blocking)?;
            }
            ConsoleCommand::Key(spec) => {
                if !crate::keyboard::is_key_code(&spec.code) {
                    return Err(format!(
                        "unknown key `{}`: keys are winit's names of the keys of a US keyboard (Enter, Escape, \
                         Space, Backspace, Tab, ArrowLeft, PageDown, F5, Minus, Backquote, KeyA or a, Digit1 or 1)",
                        spec.code
                    ));
                }
                let layout = self.layout;
                let c = d.compositor();
                let modifiers: Vec<&str> =
                    [(spec.ctrl, "ControlLeft"), (spec.shift, "ShiftLeft"), (spec.alt, "AltLeft")]
                        .into_iter()
                        .filter_map(|(on, code)| on.then_some(code))
                        .collect();
                for m in &modifiers {
                    c.overlay.key(m, true, None, None);
                }
                let (text, logical) = layout.translate(&spec.code, spec.shift);
                let route = c.overlay.key(&spec.code, true, text.as_deref(), logical.as_deref());
                c.ui_pass();
                c.overlay.key(&spec.code, false, None, logical.as_deref());
                for m in modifiers.iter().rev() {
                    c.overlay.key(m, false, None, None);
                }
                c.ui_pass();
                if route == KeyRoute::Scene {
                    c.send(WorkerCommand::Key { code: spec.code.clone(), down: true });
                    if let Some(text) = text.filter(|t| !spec.ctrl && !spec.alt && !t.chars().any(char::is_control)) {
                        c.send(WorkerCommand::Text { text });
                    }
                    c.send(WorkerCommand::Key { code: spec.code, down: false });
                }
                self.settle(d, blocking)?;
            }
            ConsoleCommand::Layout(name) => self.layout = Layout::parse(&name)?,
            ConsoleCommand::Frames(n) => d.frames(n)?,
            ConsoleCommand::Click { x, y, button } => {
                let c = d.compositor();
                let size = c.size();
                let over_editor = c.overlay.pointer_moved(x, y, size);
                c.ui_pass();
                let pointer = match button {
                    1 => egui::PointerButton::Primary,
                    2 => egui::PointerButton::Secondary,
                    _ => egui::PointerButton::Middle,
                };
                let taken = c.overlay.pointer_button(pointer, true);
                c.ui_pass();
                c.overlay.pointer_button(pointer, false);
                c.ui_pass();
                // As the window: what the editor does not take is the scene's.
                if !over_editor && !taken {
                    c.send(WorkerCommand::Mouse { x, y });
                    c.send(WorkerCommand::MouseButton { button, down: true });
                    c.send(WorkerCommand::MouseButton { button, down: false });
                }
                self.settle(d, blocking)?;
            }
            ConsoleCommand::Wheel { x, y } => {
                let c = d.compositor();
                if !c.overlay.scroll(x * 24.0, y * 24.0) {
                    c.send(WorkerCommand::Wheel { x, y });
                }
                c.ui_pass();
                self.settle(d, blocking)?;
            }
            ConsoleCommand::Resize { width, height } => {
                d.resize(width, height)?;
                self.settle(d, blocking)?;
            }
            ConsoleCommand::Screenshot(path) => {
                let path = self.resolve(&path);
                let image = d.image()?;
                write_png(&path, &image).map_err(|e| e.to_string())?;
                say(format!("wrote {}", path.display()));
            }
            ConsoleCommand::Diagnostics { json } => {
                self.settle(d, blocking)?;
                say(diagnostics_text(d.compositor(), json));
            }
            ConsoleCommand::Undo(path) => self.version_change(d, &path, false, blocking, &say)?,
            ConsoleCommand::Redo(path) => self.version_change(d, &path, true, blocking, &say)?,
            ConsoleCommand::Versions(path) => {
                let path = self.resolve(&path);
                let editor = &d.compositor().overlay.editor;
                let source = editor
                    .sources()
                    .iter()
                    .find(|(p, _)| allsource_live::same_file(p, &path))
                    .map(|(_, s)| s)
                    .ok_or_else(|| format!("no builds of {} yet", path.display()))?;
                let lines: Vec<String> = source
                    .versions
                    .iter()
                    .map(|v| {
                        let live = if source.live_version == Some(v.version) { " (live)" } else { "" };
                        let outcome = if v.ok { "ok".to_owned() } else { format!("failed, {} errors", v.errors) };
                        format!("version {}: {outcome}{live}", v.version)
                    })
                    .collect();
                say(lines.join("\n"));
            }
            ConsoleCommand::Uniform { name, values } => {
                let c = d.compositor();
                if blocking {
                    c.sync(ANSWER_TIMEOUT).map_err(|e| e.to_string())?;
                }
                let before = c.status().uniform_answers.len();
                c.overlay.editor.set_uniform(&name, &values)?;
                c.ui_pass();
                if blocking {
                    c.sync(ANSWER_TIMEOUT).map_err(|e| e.to_string())?;
                    let ok = c.status().uniform_answers[before..].iter().any(|(n, ok)| *n == name && *ok);
                    if !ok {
                        return Err(format!("the program did not take {name} = {values:?}"));
                    }
                }
                say(format!("{name} = {values:?}"));
            }
            // The compositor puts the answers in the console as they arrive.
            ConsoleCommand::Lua(code) => drop(self.request(d, WorkerCommand::Eval { code }, blocking)?),
            ConsoleCommand::Stats => drop(self.request(d, WorkerCommand::Stats, blocking)?),
            ConsoleCommand::Budget { ms } => drop(self.request(d, WorkerCommand::Budget { ms }, blocking)?),
            ConsoleCommand::Unload(module) => drop(self.request(d, WorkerCommand::Unload { module }, blocking)?),
            ConsoleCommand::Reload(name) => {
                // A file of the scene (`reload shaders/a.glsl`), else a module name (`reload player.input`).
                let file = self.resolve(Path::new(&name));
                let path =
                    if file.is_file() { file } else { self.root.join(format!("{}.lua", name.replace('.', "/"))) };
                say(d.compositor().reload(&path)?);
                self.settle(d, blocking)?;
            }
            ConsoleCommand::Preview(path) => {
                let path = self.resolve(&path);
                let c = d.compositor();
                // The buffer's text when the file is open in the editor (unsaved edits included), else the file.
                let text = match c.overlay.editor.active().filter(|(p, _)| allsource_live::same_file(p, &path)) {
                    Some((_, text)) => text.to_owned(),
                    None => allsource_live::read_source(&path)?,
                };
                say(c.start_preview(&path, text)?);
                if blocking {
                    c.wait_preview_shown(ANSWER_TIMEOUT);
                }
            }
            ConsoleCommand::Promote(target) => {
                let target = target.map(|t| self.resolve(&t));
                let c = d.compositor();
                if blocking {
                    // A script gives the guest the time it needs to run the frames promotion asks for.
                    c.wait_preview(ANSWER_TIMEOUT);
                }
                say(c.promote(target)?);
                self.settle(d, blocking)?;
            }
            ConsoleCommand::Reject => say(d.compositor().reject()?),
            ConsoleCommand::DebugScene(act) => say(d.compositor().debug_scene(&act)?),
            ConsoleCommand::DebugPreview(act) => {
                // A script waits for the answer, or for the process to be stopped for what it did.
                d.compositor().debug_preview(&act, blocking.then_some(ANSWER_TIMEOUT))?
            }
            ConsoleCommand::WaitPreview => {
                let c = d.compositor();
                if blocking {
                    c.wait_preview(ANSWER_TIMEOUT);
                }
                let p = c.preview().ok_or("nothing is being previewed")?;
                say(match &p.state {
                    crate::preview::PreviewState::Running => format!(
                        "preview of {}: running, {} frames, the newest {} in a row within budget",
                        p.path.display(),
                        p.frames,
                        p.good_in_a_row
                    ),
                    crate::preview::PreviewState::Stopped(why) => {
                        format!("preview of {}: stopped: {why}", p.path.display())
                    }
                });
            }
            ConsoleCommand::ExpectDiagnostic { path, line } => {
                self.settle(d, blocking)?;
                let path = self.resolve(&path);
                let editor = &d.compositor().overlay.editor;
                let found =
                    editor.diagnostics().any(|x| x.line == Some(line) && allsource_live::same_file(&x.file, &path));
                if !found {
                    return Err(format!(
                        "expected a diagnostic at {}:{line}; there are: {}",
                        path.display(),
                        diagnostics_text(d.compositor(), false)
                    ));
                }
            }
            ConsoleCommand::ExpectNoDiagnostics => {
                self.settle(d, blocking)?;
                let c = d.compositor();
                if c.overlay.editor.diagnostics().any(|x| x.is_error()) {
                    return Err(format!("expected no errors; there are: {}", diagnostics_text(c, false)));
                }
            }
            ConsoleCommand::ExpectPixel { x, y, rgb, tolerance } => {
                let image = d.image()?;
                if x >= image.width || y >= image.height {
                    return Err(format!("({x}, {y}) is outside the {}x{} frame", image.width, image.height));
                }
                let got = image.pixel(x, y);
                let off = (0..3).map(|i| got[i].abs_diff(rgb[i])).max().unwrap_or(0);
                if off > tolerance {
                    return Err(format!(
                        "pixel ({x}, {y}) is {} {} {}, expected {} {} {} (tolerance {tolerance})",
                        got[0], got[1], got[2], rgb[0], rgb[1], rgb[2]
                    ));
                }
            }
            ConsoleCommand::Save => {
                let c = d.compositor();
                let (path, text) = c.overlay.editor.active().ok_or("no source is open")?;
                let (path, text) = (path.to_path_buf(), text.to_owned());
                c.save(&path, text);
                self.settle(d, blocking)?;
            }
            ConsoleCommand::Placement { panel } => {
                let overlay = &mut d.compositor().overlay;
                overlay.placement = if panel { Placement::PANEL } else { Placement::Overlay };
            }
            ConsoleCommand::Quit => return Ok(Next::Quit),
        }
        Ok(Next::Continue)
    }

    fn version_change(
        &self,
        d: &mut dyn Driver,
        path: &Path,
        redo: bool,
        blocking: bool,
        say: &dyn Fn(String),
    ) -> Result<(), String> {
        let path = self.resolve(path);
        d.compositor().version_change(&path, redo);
        self.settle(d, blocking)?;
        if blocking {
            let live = d.compositor().overlay.editor.sources().get(&path).and_then(|s| s.live_version);
            say(format!("{}: version {} is live", path.display(), live.map_or("none".into(), |v| v.to_string())));
        }
        Ok(())
    }

    /// In scripts: waits until the worker has handled everything sent so far (builds included).
    fn settle(&self, d: &mut dyn Driver, blocking: bool) -> Result<(), String> {
        if blocking {
            d.compositor().sync(ANSWER_TIMEOUT).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn request(&self, d: &mut dyn Driver, command: WorkerCommand, blocking: bool) -> Result<String, String> {
        let c = d.compositor();
        if !blocking {
            // The answer is logged when it arrives.
            c.send(command);
            return Ok(String::new());
        }
        c.request(command, ANSWER_TIMEOUT).map_err(|e| e.to_string())?
    }
}

/// The diagnostics of every source's newest build, as lines or as a JSON array.
fn diagnostics_text(c: &Compositor, json: bool) -> String {
    let diagnostics: Vec<allsource_live::Diagnostic> = c.overlay.editor.diagnostics().cloned().collect();
    if json {
        // The same form as `allsource check --json`.
        return crate::check::render_json(&diagnostics);
    }
    if diagnostics.is_empty() {
        return "no diagnostics".into();
    }
    diagnostics.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
}

/// `allsource run DIR --headless --script FILE`: runs the script's commands in lockstep frames, printing what the
/// console shows to standard output. Fails with the script's line number at the first failed command.
pub fn run_script(scene: Scene, options: EngineOptions, script: &Path) -> Result<(), Error> {
    let text = allsource_live::read_source(script).map_err(|e| Error::Script { line: 0, message: e })?;
    run_script_text(scene, options, &text, &mut |line| println!("{line}"))
}

/// Runs the commands in `text` as `run --script` does, handing each line the console shows to `out`.
pub fn run_script_text(
    scene: Scene,
    mut options: EngineOptions,
    text: &str,
    out: &mut dyn FnMut(&str),
) -> Result<(), Error> {
    options.clock = Clock::Lockstep;
    let log = options.console.clone();
    let root = scene.dir.clone();
    let mut driver = ScriptDriver::new(HeadlessEngine::new(scene, options)?);
    // The first frame: the scene's sources are built and on screen before the first command.
    driver.frames(1).map_err(|message| Error::Script { line: 0, message })?;
    let mut session = Session::new(&root);
    // From the start: what the engine said while starting (a recovered journal, the first builds) is shown too.
    let mut printed = 0;
    for (n, line) in text.lines().enumerate() {
        let number = n + 1;
        let fail = |message: String| Error::Script { line: number, message };
        let Some(command) = command::parse(line).map_err(fail)? else { continue };
        log.push(Level::Command, format!("> {}", line.trim()));
        let result = session.execute(&mut driver, command);
        for l in log.since(printed) {
            out(&l.text);
            printed = l.seq + 1;
        }
        match result {
            Ok(Next::Quit) => break,
            Ok(Next::Continue) => {}
            Err(message) => return Err(fail(message)),
        }
    }
    Ok(())
}

/// Drives a headless engine in lockstep frames for commands that may wait: what scripts (and tests that interleave
/// commands with their own steps) run commands against.
pub struct ScriptDriver {
    pub engine: HeadlessEngine,
    index: u64,
}

impl ScriptDriver {
    pub fn new(engine: HeadlessEngine) -> ScriptDriver {
        ScriptDriver { engine, index: 0 }
    }
}

impl Driver for ScriptDriver {
    fn compositor(&mut self) -> &mut Compositor {
        self.engine.compositor_mut()
    }

    fn frames(&mut self, n: u64) -> Result<(), String> {
        for _ in 0..n {
            self.engine.frame_lockstep(self.index).map_err(|e| e.to_string())?;
            self.index += 1;
        }
        Ok(())
    }

    fn image(&mut self) -> Result<Image, String> {
        Ok(self.engine.image())
    }

    fn resize(&mut self, width: u32, height: u32) -> Result<(), String> {
        self.engine.resize(width, height).map_err(|e| e.to_string())
    }

    fn blocking(&self) -> bool {
        true
    }
}
