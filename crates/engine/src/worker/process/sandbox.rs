//! The OS limits a preview process puts on itself before guest code runs, on top of the Lua sandbox: it dies with
//! the compositor, runs at a low priority, maps at most its address-space limit beyond what its GL driver mapped, reads files only under the scene
//! and the system's library directories (Landlock), writes none, and opens no network socket and starts no program
//! (seccomp).

use std::collections::BTreeMap;
use std::path::Path;

/// Kills this process when the compositor that started it goes away (whatever way it goes).
pub fn die_with_parent() {
    // SAFETY: plain calls with no pointers.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() == 1 {
            // The parent was gone before the call above: nothing would ever read this process's frames.
            libc::_exit(0);
        }
    }
}

/// Lowers the priority of this thread, and so of every thread it starts afterwards (they inherit it).
pub fn lower_priority(nice: i32) {
    // SAFETY: a plain call on the calling thread; failure leaves the priority as it was.
    if nice > 0 && unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) } != 0 {
        tracing::debug!("the worker process keeps its priority: {}", std::io::Error::last_os_error());
    }
}

/// Limits the address space the process may map to what it maps now and `bytes` more.
pub fn limit_address_space_beyond_now(bytes: u64) -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| format!("cannot read /proc: {e}"))?;
    let now_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or("no VmSize in /proc/self/status")?;
    let bytes = bytes.saturating_add(now_kib * 1024);
    let limit = libc::rlimit { rlim_cur: bytes as libc::rlim_t, rlim_max: bytes as libc::rlim_t };
    // SAFETY: a valid rlimit for a plain call.
    if unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) } != 0 {
        return Err(format!("cannot limit the address space: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Confines the calling thread and the threads it starts afterwards (the worker's): files under `scene` and the
/// system's libraries are readable, nothing is writable, no TCP connection or bind (Landlock); and the whole process:
/// no IPv4 or IPv6 socket, no exec (seccomp). Returns what is enforced, for the console; fails only when seccomp
/// cannot be installed (Landlock is missing from older kernels: then files are not confined, and it says so).
pub fn confine(scene: &Path) -> Result<String, String> {
    let files = landlock_files(scene);
    seccomp()?;
    Ok(match files {
        Ok(()) => "files under the scene only, no network, no exec".into(),
        Err(why) => format!("no network, no exec; files not confined ({why})"),
    })
}

fn landlock_files(scene: &Path) -> Result<(), String> {
    use landlock::{ABI, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus};
    let abi = ABI::V5;
    // What the driver and the libraries may still read after start-up (shared objects, drirc, device nodes).
    let system = ["/usr", "/lib", "/lib64", "/etc/drirc", "/usr/share/drirc.d", "/dev/dri", "/sys/devices"];
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.handle_access(AccessNet::from_all(abi)))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(landlock::path_beneath_rules(system, AccessFs::from_read(abi))))
        .and_then(|r| r.add_rules(landlock::path_beneath_rules([scene], AccessFs::from_read(abi))))
        .and_then(|r| r.restrict_self())
        .map_err(|e| e.to_string())?;
    match status.ruleset {
        RulesetStatus::FullyEnforced | RulesetStatus::PartiallyEnforced => Ok(()),
        RulesetStatus::NotEnforced => Err("this kernel has no Landlock".into()),
    }
}

fn seccomp() -> Result<(), String> {
    use seccompiler::{SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule};
    let domain = |family: i32| {
        SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, family as u64)
            .and_then(|c| SeccompRule::new(vec![c]))
    };
    let inet = vec![domain(libc::AF_INET), domain(libc::AF_INET6)].into_iter().collect::<Result<Vec<_>, _>>();
    let inet = inet.map_err(|e| e.to_string())?;
    let rules: BTreeMap<i64, Vec<SeccompRule>> =
        [(libc::SYS_socket, inet), (libc::SYS_execve, vec![]), (libc::SYS_execveat, vec![])].into_iter().collect();
    let arch = std::env::consts::ARCH.try_into().map_err(|e| format!("{e:?}"))?;
    let filter = SeccompFilter::new(rules, SeccompAction::Allow, SeccompAction::Errno(libc::EACCES as u32), arch)
        .map_err(|e| e.to_string())?;
    let program: seccompiler::BpfProgram = filter.try_into().map_err(|e: seccompiler::BackendError| e.to_string())?;
    seccompiler::apply_filter_all_threads(&program).map_err(|e| format!("cannot install the seccomp filter: {e}"))
}
