//! The `allsource` command: thin glue from the command line to the engine.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use allsource_editor::{ConsoleLog, Level};
use allsource_engine::{Clock, EngineOptions, Error, RunOptions, Scene, WorkerPlace};
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The bundled demo scene, in the source tree so that editing it live is the first thing a new user can try.
const DEMO_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../demo");

#[derive(Parser)]
#[command(
    name = "allsource",
    version,
    about = "A live-coding engine: every shader and module is source you edit while it runs."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<CliCommand>,
}

#[derive(Subcommand)]
enum CliCommand {
    /// Run a scene in a window (or headless), rebuilding its sources as they change.
    Run(RunArgs),
    /// Render a scene headless in lockstep and write its last frame as PNG.
    Render(RenderArgs),
    /// Build shaders headless and print their diagnostics; exits 1 when any has an error.
    Check(CheckArgs),
    /// Measure the live paths (shader rebuild latency beside its floor) and print the figures.
    Bench(BenchArgs),
    /// Run piglit .shader_test files through allsource's shader pipeline (and, with --compare, through piglit's
    /// shader_runner too); exits 1 on a failure (or, comparing, on a disagreement).
    Piglit(PiglitArgs),
    /// Make a scene to start from: `lua` (main.lua and a shader), `shader` (main.glsl) or `shadertoy` (an Image
    /// pass, a Buffer A that reads itself, a Common file).
    New {
        /// The directory to make (it must not hold a scene).
        dir: PathBuf,
        #[arg(long, default_value = "lua", value_parser = ["lua", "shader", "shadertoy"])]
        template: String,
    },
    /// Make a scene directory from another tool's export.
    Import {
        #[command(subcommand)]
        from: ImportFrom,
    },
    /// A worker process (the scene's worker by default, and the preview's guest code), started by the engine with
    /// its socket and frame ring as inherited file descriptors.
    #[command(hide = true)]
    Worker {
        #[arg(long)]
        socket: i32,
        #[arg(long)]
        ring: i32,
    },
}

#[derive(Subcommand)]
enum ImportFrom {
    /// A Shadertoy shader's JSON export (its passes, Common and channels) as a shader scene: main.glsl for Image,
    /// buffer_a.glsl ... buffer_d.glsl, common.glsl. Sound passes and media inputs are left out, and said so.
    Shadertoy {
        /// The JSON file (Shadertoy's API answer or an export of it).
        file: PathBuf,
        /// The scene directory to make (it must not hold a scene).
        dir: PathBuf,
    },
}

#[derive(Args)]
struct PiglitArgs {
    /// .shader_test files, or directories searched for them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print a JSON array of {file, result, reason} (with shader_runner's result when comparing).
    #[arg(long)]
    json: bool,
    /// Also run piglit's shader_runner on every file and print both outcomes and where they disagree.
    #[arg(long)]
    compare: bool,
    /// The shader_runner binary for --compare.
    #[arg(long, value_name = "PATH", default_value = allsource_piglit::SHADER_RUNNER)]
    shader_runner: PathBuf,
    /// Print one line per file (result, and shader_runner's when comparing).
    #[arg(long)]
    verbose: bool,
    /// Disagreements known and explained (lines of `path-suffix cause`): --compare fails on any other, and on a
    /// listed one that no longer happens (the list only shrinks).
    #[arg(long, value_name = "FILE")]
    known: Option<PathBuf>,
    /// Fail unless exactly this many files are found (a fixed subset that changed size is a different subset).
    #[arg(long, value_name = "N")]
    expect_files: Option<usize>,
}

#[derive(Args)]
struct CheckArgs {
    /// Shader files, or directories whose .glsl files are checked (those no other one includes).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print a JSON array of {file, line, column, stage, severity, message} instead.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct BenchArgs {
    /// Edits measured per benchmark.
    #[arg(long, default_value_t = 20)]
    edits: usize,
    /// Frame size in pixels.
    #[arg(long, default_value = "640x360", value_parser = parse_size)]
    size: (u32, u32),
    /// The display rate the compositor runs at.
    #[arg(long, default_value_t = 60.0, value_parser = parse_fps)]
    fps: f64,
    /// Reloads of a module and of a shader for the memory figures.
    #[arg(long, default_value_t = 1000)]
    reloads: usize,
    /// Print one JSON object of the figures (named with their units) instead of text.
    #[arg(long)]
    json: bool,
    /// Run only these groups (comma-separated); all by default.
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(allsource_engine::bench_groups()))]
    only: Vec<String>,
    /// Internal: the memory figure of one kind (module or shader), measured in this process alone; prints bytes per
    /// reload over the first and the second half, and the baseline's bytes. `allsource bench` runs itself this way.
    #[arg(long, value_name = "KIND", hide = true, value_parser = ["module", "shader"])]
    memory_of: Option<String>,
}

#[derive(Args, Default)]
struct RunArgs {
    /// The scene directory (default: the bundled demo).
    dir: Option<PathBuf>,
    /// Render without a window, through EGL.
    #[arg(long)]
    headless: bool,
    /// Window or frame size in pixels.
    #[arg(long, default_value = "1280x720", value_parser = parse_size)]
    size: (u32, u32),
    /// Frames per second of the compositor (and, in lockstep, of scene time).
    #[arg(long, default_value_t = 60.0, value_parser = parse_fps)]
    fps: f64,
    /// Stop after N frames.
    #[arg(long, value_name = "N")]
    frames: Option<u64>,
    /// Write the last frame to this PNG file (with --frames).
    #[arg(long, value_name = "FILE.png", requires = "frames")]
    screenshot: Option<PathBuf>,
    /// Deterministic frames: frame i shows the scene at time i/fps, waiting for each worker frame.
    #[arg(long)]
    lockstep: bool,
    /// Draw the frame's times in the overlay: Lua's own time (yellow) and GPU time per module, against a white tick
    /// at one frame period.
    #[arg(long)]
    stats: bool,
    /// Run the console commands in FILE (one per line) headless, in lockstep frames, printing what the console
    /// shows; exits 1 at the first failed command, with its line number.
    #[arg(long, value_name = "FILE")]
    script: Option<PathBuf>,
    /// Start with the editor shown, on the scene's main source (the key under Escape toggles it).
    #[arg(long)]
    editor: bool,
    /// Draw the editor on a panel inside the frame (a texture, as a VR scene would show it) instead of over it.
    #[arg(long)]
    panel: bool,
    /// Keep nothing in the scene's `.allsource/` directory: no journal of the editor's buffers (a crash loses
    /// unsaved edits), no history or last good versions carried to the next start.
    #[arg(long)]
    no_store: bool,
    /// How long typing must pause before a Lua module's typed text runs (every keystroke compiles at once; shaders
    /// rebuild on every keystroke). In scene time: lockstep runs and scripts count frames, not the wall clock.
    #[arg(long, value_name = "MS", default_value_t = EngineOptions::default().lua_pause.as_millis() as u64)]
    lua_pause_ms: u64,
    /// Where the scene's worker runs: `process` (a child process with its own GL display: a crash, a wedge or a
    /// hung GPU costs a replacement worker, not the engine) or `thread` (a thread of this process).
    #[arg(long, value_name = "WHERE", default_value = "process", value_parser = ["process", "thread"])]
    worker: String,
    /// Make the worker spend this long on every frame (to watch the compositor keep its pace).
    #[arg(long, value_name = "MS", hide = true, default_value_t = 0)]
    debug_worker_delay_ms: u64,
}

#[derive(Args)]
struct RenderArgs {
    /// The scene directory.
    dir: PathBuf,
    /// Number of frames to run; the last one is written.
    #[arg(long, default_value_t = 1, value_name = "N")]
    frames: u64,
    /// Frame size in pixels.
    #[arg(long, default_value = "1280x720", value_parser = parse_size)]
    size: (u32, u32),
    /// Frames per second of scene time: frame i is rendered at time i/fps.
    #[arg(long, default_value_t = 60.0, value_parser = parse_fps)]
    fps: f64,
    /// The PNG file to write.
    #[arg(long, value_name = "FILE.png")]
    out: PathBuf,
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text.split_once(['x', 'X']).ok_or("expected WIDTHxHEIGHT, e.g. 1280x720")?;
    let parse = |s: &str| s.trim().parse::<u32>().map_err(|_| format!("{s:?} is not a whole number of pixels"));
    let (w, h) = (parse(w)?, parse(h)?);
    if !(1..=16384).contains(&w) || !(1..=16384).contains(&h) {
        return Err("each side must be between 1 and 16384 pixels".into());
    }
    Ok((w, h))
}

fn parse_fps(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(fps) if fps.is_finite() && (1.0..=1000.0).contains(&fps) => Ok(fps),
        _ => Err("expected a frame rate between 1 and 1000".into()),
    }
}

fn demo_dir() -> PathBuf {
    let dir = Path::new(DEMO_DIR);
    dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
}

fn run(args: RunArgs, console: ConsoleLog) -> Result<(), Error> {
    let dir = args.dir.unwrap_or_else(demo_dir);
    let scene = Scene::open(&dir)?;
    let engine = EngineOptions {
        console,
        editor: args.editor,
        panel: args.panel,
        size: args.size,
        fps: args.fps,
        clock: if args.lockstep { Clock::Lockstep } else { Clock::Realtime },
        worker_cost: Duration::from_millis(args.debug_worker_delay_ms),
        stats_overlay: args.stats,
        store: !args.no_store,
        lua_pause: Duration::from_millis(args.lua_pause_ms),
        scene_place: match args.worker.as_str() {
            "thread" => WorkerPlace::Thread,
            _ => WorkerPlace::Process(None),
        },
        ..EngineOptions::default()
    };
    // Lua's `print` goes to standard output, as in LÖVE; a script prints the whole console there instead.
    LUA_PRINT_TO_STDOUT.store(args.script.is_none(), std::sync::atomic::Ordering::Relaxed);
    if let Some(script) = &args.script {
        allsource_engine::session::run_script(scene, engine, script)
    } else if args.headless {
        allsource_engine::run_headless(scene, RunOptions { engine, frames: args.frames, screenshot: args.screenshot })
    } else {
        allsource_engine::run_window(scene, engine, args.frames, args.screenshot)
    }
}

fn render(args: RenderArgs) -> Result<(), Error> {
    let scene = Scene::open(&args.dir)?;
    // Rendering reads a scene: it keeps nothing beside it (no journal, no persisted history).
    let engine = EngineOptions { size: args.size, fps: args.fps, store: false, ..EngineOptions::default() };
    LUA_PRINT_TO_STDOUT.store(true, std::sync::atomic::Ordering::Relaxed);
    allsource_engine::render(scene, engine, args.frames, args.out)
}

/// Prints the diagnostics of `paths`; Ok(true) when none is an error.
fn check(args: CheckArgs) -> Result<bool, Error> {
    let report = allsource_engine::check::check(&args.paths)?;
    if args.json {
        println!("{}", allsource_engine::check::render_json(&report.diagnostics));
    } else {
        print!("{}", allsource_engine::check::render_human(&report.diagnostics));
        eprintln!(
            "checked {} file(s): {} error(s), {} warning(s)",
            report.files.len(),
            report.errors(),
            report.warnings()
        );
    }
    Ok(report.errors() == 0)
}

fn bench(args: BenchArgs) -> Result<(), Error> {
    if let Some(kind) = args.memory_of.as_deref().and_then(allsource_engine::MemoryKind::from_name) {
        let m = allsource_engine::memory_child(kind, args.reloads)?;
        println!("{} {} {}", m.first_half_per_reload, m.second_half_per_reload, m.baseline);
        return Ok(());
    }
    let options = allsource_engine::BenchOptions {
        edits: args.edits.max(1),
        size: args.size,
        fps: args.fps,
        reloads: args.reloads,
        only: args.only,
    };
    let report = allsource_engine::bench(&options)?;
    if args.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.text);
    }
    Ok(())
}

/// Ok(true) when nothing failed (or, comparing, when allsource and shader_runner agree on every file).
fn piglit(args: PiglitArgs) -> Result<bool, String> {
    let files = allsource_piglit::collect(&args.paths)?;
    if let Some(expected) = args.expect_files
        && files.len() != expected
    {
        return Err(format!(
            "found {} .shader_test files where {expected} were expected (--expect-files): the subset changed",
            files.len()
        ));
    }
    if args.compare && !args.shader_runner.is_file() {
        return Err(format!(
            "{} not found: install piglit (apt-get install piglit) or pass --shader-runner PATH",
            args.shader_runner.display()
        ));
    }
    let known = match &args.known {
        Some(path) => allsource_piglit::Known::read(path)?,
        None => allsource_piglit::Known::default(),
    };
    let mut runner = allsource_piglit::Runner::new()?;
    let mut results = Vec::with_capacity(files.len());
    let (mut ours, mut theirs) = (Duration::ZERO, Duration::ZERO);
    for file in files {
        let started = std::time::Instant::now();
        let outcome = runner.run_file(&file);
        ours += started.elapsed();
        let runner = args.compare.then(|| {
            let started = std::time::Instant::now();
            let r = allsource_piglit::run_shader_runner(&args.shader_runner, &file, Duration::from_secs(120));
            theirs += started.elapsed();
            r
        });
        let result = allsource_piglit::FileResult { file, outcome, runner };
        if args.verbose && !args.json {
            let runner = result.runner.as_ref().map_or(String::new(), |r| format!(" {:<5}", r.result));
            let mark = if result.disagrees() { " DISAGREE" } else { "" };
            println!(
                "{:<5}{runner} {}{mark}{}",
                result.outcome.name(),
                result.file.display(),
                if result.outcome.reason().is_empty() {
                    String::new()
                } else {
                    format!(": {}", result.outcome.reason())
                }
            );
        }
        results.push(result);
    }
    if args.json {
        println!("{}", allsource_piglit::json(&results));
    } else {
        print!("{}", allsource_piglit::summary(&results, &known, ours, args.compare.then_some(theirs)));
    }
    Ok(if args.compare {
        known.problems(&results).is_empty()
    } else {
        !results.iter().any(|r| r.outcome.name() == "fail")
    })
}

fn main() -> ExitCode {
    // A worker process sends its log to the compositor over its socket, in order with its events (Lua's `print`
    // included, told apart by its target), and the compositor logs each line again; before the socket is
    // connected, to standard error as `LEVEL target: message`.
    let worker = std::env::args().nth(1).as_deref() == Some("worker");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let ours = "warn,winit=error,allsource=info,allsource_engine=info,allsource_gpu=info";
        tracing_subscriber::EnvFilter::new(if worker { format!("{ours},lua=info") } else { ours.to_owned() })
    });
    // Everything logged also reaches the console's log, which the editor shows and scripts print.
    let console = ConsoleLog::default();
    // Colour only on a terminal, and never with NO_COLOR set (https://no-color.org).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    if worker {
        tracing_subscriber::registry().with(WorkerLogLayer.with_filter(filter)).init();
    } else {
        let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).with_ansi(colour);
        tracing_subscriber::registry().with(fmt.with_filter(filter)).with(ConsoleLayer(console.clone())).init();
    }

    let cli = Cli::parse();
    let result = match cli.command {
        None => run(RunArgs { size: (1280, 720), fps: 60.0, ..RunArgs::default() }, console),
        Some(CliCommand::Run(args)) => run(args, console),
        Some(CliCommand::Render(args)) => render(args),
        Some(CliCommand::Check(args)) => match check(args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(e) => Err(e),
        },
        Some(CliCommand::Bench(args)) => bench(args),
        Some(CliCommand::Import { from: ImportFrom::Shadertoy { file, dir } }) => import_shadertoy(&file, &dir),
        Some(CliCommand::Worker { socket, ring }) => {
            return ExitCode::from(allsource_engine::worker_process(socket, ring).clamp(0, 255) as u8);
        }
        Some(CliCommand::New { dir, template }) => new_scene(&dir, &template),
        Some(CliCommand::Piglit(args)) => match piglit(args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn new_scene(dir: &Path, template: &str) -> Result<(), Error> {
    let fail = |message: String| Error::Io { path: dir.to_path_buf(), message };
    let template =
        allsource_engine::Template::from_name(template).ok_or_else(|| fail(format!("no template {template}")))?;
    let written = allsource_engine::new_scene(dir, template).map_err(fail)?;
    for path in &written {
        println!("wrote {}", path.display());
    }
    println!("run it: allsource run {}   (the key under Escape shows the editor)", dir.display());
    Ok(())
}

fn import_shadertoy(file: &Path, dir: &Path) -> Result<(), Error> {
    let fail = |message: String| Error::Io { path: file.to_path_buf(), message };
    let json = std::fs::read_to_string(file).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let imported = allsource_engine::import_shadertoy(&json, dir).map_err(fail)?;
    for path in &imported.files {
        println!("wrote {}", path.display());
    }
    for note in &imported.notes {
        println!("note: {note}");
    }
    if !imported.media.is_empty() {
        println!(
            "the channels read these files, which Shadertoy serves and the export does not hold; put them in {}:",
            dir.display()
        );
        for name in &imported.media {
            println!("  {name}");
        }
    }
    println!("run it: allsource run {}", dir.display());
    Ok(())
}

/// Whether Lua's `print` is written to standard output (every mode but scripts, which print the console).
static LUA_PRINT_TO_STDOUT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A worker process's log: to the compositor, over the worker's socket.
struct WorkerLogLayer;

impl<S: tracing::Subscriber> Layer<S> for WorkerLogLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let meta = event.metadata();
        let mut text = String::new();
        event.record(&mut MessageText(&mut text));
        let level = meta.level().as_str();
        if !allsource_engine::worker_process_log(level, meta.target(), &text) {
            eprintln!("{level} {}: {text}", meta.target());
        }
    }
}

/// Sends the engine's log lines (info and above, from our crates and Lua's `print`) to the console, and Lua's
/// `print` to standard output.
struct ConsoleLayer(ConsoleLog);

impl<S: tracing::Subscriber> Layer<S> for ConsoleLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let meta = event.metadata();
        // The compositor writes its lines to the console itself.
        let ours = (meta.target().starts_with("allsource") && meta.target() != "allsource_engine::compositor")
            || meta.target() == "lua";
        let level = match *meta.level() {
            tracing::Level::ERROR => Level::Error,
            tracing::Level::WARN => Level::Warn,
            tracing::Level::INFO => Level::Info,
            _ => return,
        };
        if !ours {
            return;
        }
        let mut text = String::new();
        event.record(&mut MessageText(&mut text));
        if meta.target() == "lua" && LUA_PRINT_TO_STDOUT.load(std::sync::atomic::Ordering::Relaxed) {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
        self.0.push(level, text);
    }
}

struct MessageText<'a>(&'a mut String);

impl tracing::field::Visit for MessageText<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            self.0.push_str(&format!(" {}={value}", field.name()));
        }
    }
}
