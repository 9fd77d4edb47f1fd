//! The worker process for the engine's own tests, which cannot start `allsource` (a binary of another package):
//! the same entry, and the same arguments, as `allsource worker`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fd = |s: &str| s.parse::<i32>().ok();
    let code = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["worker", "--socket", socket, "--ring", ring] => match (fd(socket), fd(ring)) {
            (Some(socket), Some(ring)) => allsource_engine::worker_process(socket, ring),
            _ => 2,
        },
        _ => {
            eprintln!("usage: allsource-worker worker --socket FD --ring FD (started by the engine, not by hand)");
            2
        }
    };
    std::process::exit(code);
}
