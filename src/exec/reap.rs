//! Nothing a command started outlives it: fsi as a child subreaper, and the processes it has to
//! stop found by their ancestry and their command's mark.
//!
//! A check's process group is not enough: a grandchild that calls `setsid` (or forks twice)
//! leaves the group, and once its parent exits it is re-parented — to init, normally, where fsi
//! could no longer tell it from anything else on the machine. fsi makes itself a *child
//! subreaper* (`PR_SET_CHILD_SUBREAPER`, Linux ≥ 3.4): orphans of its descendants are
//! re-parented to fsi instead, so every process a command started stays in fsi's process tree.
//!
//! Which command a process belongs to survives neither re-parenting nor `setsid`, so every
//! command gets a mark in its environment ([`TOKEN_VAR`]), inherited by everything it starts.
//! When a command is stopped (timeout, Ctrl-C), its group is terminated as before, then every
//! remaining descendant of fsi carrying the command's mark is killed ([`kill_marked`]). When fsi
//! leaves a run (or on a second Ctrl-C), every descendant left is killed ([`Supervisor`],
//! [`kill_descendants`]). All of it reads `/proc`; no `unsafe` here.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

/// The environment variable that marks a command's processes: `<fsi pid>-<serial>`.
pub const TOKEN_VAR: &str = "FSI_COMMAND_ID";

/// Make fsi the reaper of its descendants' orphans (Linux; elsewhere a no-op). Returns whether
/// it worked.
pub fn become_subreaper() -> bool {
    #[cfg(target_os = "linux")]
    {
        nix::sys::prctl::set_child_subreaper(true).is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// A fresh mark for one command.
pub fn new_token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SERIAL: AtomicU64 = AtomicU64::new(1);
    format!(
        "{}-{}",
        std::process::id(),
        SERIAL.fetch_add(1, Ordering::Relaxed)
    )
}

/// Live (non-zombie) processes below fsi, with their parents: `(pid, ppid)`.
pub fn descendants() -> Vec<(i32, i32)> {
    let me = std::process::id() as i32;
    let mut parent: HashMap<i32, i32> = HashMap::new();
    let mut zombie = std::collections::HashSet::new();
    for p in super::procfs::all() {
        if p.is_dead() {
            zombie.insert(p.pid);
        }
        parent.insert(p.pid, p.ppid);
    }
    let mut out = Vec::new();
    for (&pid, &ppid) in &parent {
        if pid == me || zombie.contains(&pid) {
            continue;
        }
        // Walk up; a cycle cannot happen, but bound the walk anyway.
        let mut p = ppid;
        for _ in 0..4096 {
            if p == me {
                out.push((pid, ppid));
                break;
            }
            match parent.get(&p) {
                Some(&up) if up != p && p > 1 => p = up,
                _ => break,
            }
        }
    }
    out
}

/// Whether `pid`'s environment holds `TOKEN_VAR=token`.
fn carries(pid: i32, token: &str) -> bool {
    let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    let want = format!("{TOKEN_VAR}={token}");
    env.split(|&b| b == 0).any(|kv| kv == want.as_bytes())
}

/// SIGKILL every descendant of fsi that carries `token`, and reap the ones fsi adopted. Returns
/// how many were killed.
pub fn kill_marked(token: &str) -> usize {
    let victims: Vec<(i32, i32)> = descendants()
        .into_iter()
        .filter(|&(pid, _)| carries(pid, token))
        .collect();
    kill_all(&victims, Signal::SIGKILL, Duration::ZERO);
    victims.len()
}

/// Signal every descendant of fsi: `first`, up to `grace` for them to go, then SIGKILL for the
/// rest; adopted ones are reaped. Returns how many there were.
pub fn kill_descendants(first: Signal, grace: Duration) -> usize {
    let victims = descendants();
    kill_all(&victims, first, grace);
    victims.len()
}

fn kill_all(victims: &[(i32, i32)], first: Signal, grace: Duration) {
    if victims.is_empty() {
        return;
    }
    let me = std::process::id() as i32;
    for &(pid, _) in victims {
        let _ = kill(Pid::from_raw(pid), first);
        if first != Signal::SIGKILL {
            let _ = kill(Pid::from_raw(pid), Signal::SIGCONT);
        }
    }
    let alive = |pid: i32| super::procfs::stat(pid).is_some_and(|p| !p.is_dead());
    let deadline = Instant::now() + grace;
    while first != Signal::SIGKILL
        && Instant::now() < deadline
        && victims.iter().any(|&(p, _)| alive(p))
    {
        reap_adopted(victims, me);
        std::thread::sleep(Duration::from_millis(10));
    }
    for &(pid, _) in victims {
        if alive(pid) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    // SIGKILL is asynchronous: wait (bounded) until they are gone, reaping fsi's own.
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        reap_adopted(victims, me);
        if Instant::now() >= deadline || !victims.iter().any(|&(p, _)| alive(p)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    reap_adopted(victims, me);
}

/// Reap the victims whose parent is fsi (orphans it adopted as subreaper). Only those pids, by
/// pid: a wildcard wait could take the exit status of a command another thread is waiting for.
/// (A command's own shell is never a victim while its `run` waits for it: it carries its own
/// mark, and the mark is only swept after the shell has been reaped.)
fn reap_adopted(victims: &[(i32, i32)], me: i32) {
    for &(pid, _) in victims {
        if super::procfs::stat(pid).is_some_and(|p| p.ppid == me) {
            let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
        }
    }
}

/// For the lifetime of a command that runs other commands (`fsi run`, `fsi verify`, `fsi
/// session complete`): fsi is a subreaper, and when it is dropped every descendant still alive
/// gets SIGTERM, `grace`, then SIGKILL.
pub struct Supervisor {
    grace: Duration,
}

impl Supervisor {
    pub fn start(grace: Duration) -> Supervisor {
        become_subreaper();
        Supervisor { grace }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        kill_descendants(Signal::SIGTERM, self.grace);
    }
}
