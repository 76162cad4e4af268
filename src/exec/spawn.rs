//! Starting the shell, and reaping it.
//!
//! `std::process::Command` is general: on every spawn it copies the whole environment into a map
//! to apply our few variables, opens `/dev/null` and dups the output pipes. A plan runs
//! thousands of trivial checks, and that work was a measurable share of fsi's per-check cost
//! (against `just`, which passes its environment through untouched). Here our environment is
//! turned into C strings once and a command's few variables are laid over it, `/dev/null` is
//! opened once, and the pipes' write ends are dup'ed onto 1 and 2 by the child.
//!
//! On Linux the child is started by [`super::vfork`] (`clone` with `CLONE_VM | CLONE_VFORK`),
//! which also changes into the command's directory. Elsewhere, or where that is refused (a
//! seccomp filter), `posix_spawn` does it. Its working directory: glibc's
//! `posix_spawn_file_actions_addchdir_np` has no safe wrapper, so the spawning thread gets its
//! own working directory (`unshare(CLONE_FS)`, once per thread), changes into the command's
//! directory, spawns — the child inherits the thread's directory — and changes back. Where
//! unsharing is not possible, a process-wide lock serialises that short window instead; a
//! relative path used by another thread within it would resolve against the command's directory,
//! which is why the engines work with absolute paths (the project root is absolute).

use std::cell::RefCell;
use std::ffi::{CStr, CString, OsStr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use nix::errno::Errno;
use nix::spawn::{PosixSpawnAttr, PosixSpawnFileActions, PosixSpawnFlags, posix_spawn};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// Where the child's standard streams go.
pub struct Streams<'a> {
    pub stdout: BorrowedFd<'a>,
    pub stderr: BorrowedFd<'a>,
}

/// Start `program` with `args` (argv[0] included) and the parent's environment plus `env`, in
/// `cwd`, as the leader of a new process group, stdin from `/dev/null`.
pub fn spawn(
    program: &Path,
    args: &[&str],
    env: &[(String, String)],
    cwd: &Path,
    streams: Streams<'_>,
) -> std::io::Result<Proc> {
    let program = cstring(program.as_os_str())?;
    let argv = args
        .iter()
        .map(|a| cstring(OsStr::new(a)))
        .collect::<std::io::Result<Vec<_>>>()?;
    let own = environment(env)?;
    let envp = envp(inherited(), env, &own);
    let fds = [
        devnull()?.as_raw_fd(),
        streams.stdout.as_raw_fd(),
        streams.stderr.as_raw_fd(),
    ];
    #[cfg(target_os = "linux")]
    {
        let argv: Vec<&CStr> = argv.iter().map(CString::as_c_str).collect();
        let dir = cstring(cwd.as_os_str())?;
        if let Some(spawned) = super::vfork::spawn(&program, &argv, &envp, &dir, fds) {
            return spawned.map(|pid| Proc { pid, exit: None });
        }
    }
    SETUPS.with_borrow_mut(|setups| {
        let setup = match setups.iter().position(|s| s.fds == fds) {
            Some(i) => &setups[i],
            None => {
                if setups.len() == MAX_SETUPS {
                    setups.remove(0);
                }
                setups.push(Setup::new(fds)?);
                setups.last().expect("just pushed")
            }
        };
        in_directory(cwd, || {
            posix_spawn(
                program.as_c_str(),
                &setup.actions,
                &setup.attr,
                &argv,
                &envp,
            )
            .map(|pid| Proc { pid, exit: None })
            .map_err(Into::into)
        })
    })
}

thread_local! {
    /// Recent spawns' attributes and file actions. Pipes are created afresh per command, but
    /// their descriptor numbers come round again in a short cycle, and glibc checks each
    /// `adddup2` against the descriptor limit with two `getrlimit` calls: reusing a set saves six
    /// system calls.
    static SETUPS: RefCell<Vec<Setup>> = const { RefCell::new(Vec::new()) };
}

/// How many descriptor combinations [`SETUPS`] remembers.
const MAX_SETUPS: usize = 4;

/// Spawn attributes, and file actions that dup `fds` onto 0, 1 and 2.
struct Setup {
    fds: [RawFd; 3],
    actions: PosixSpawnFileActions,
    attr: PosixSpawnAttr,
}

impl Setup {
    fn new(fds: [RawFd; 3]) -> std::io::Result<Setup> {
        let mut actions = PosixSpawnFileActions::init()?;
        for (target, fd) in fds.into_iter().enumerate() {
            actions.add_dup2(fd, target as RawFd)?;
        }
        let mut attr = PosixSpawnAttr::init()?;
        attr.set_pgroup(Pid::from_raw(0))?;
        // Rust ignores SIGPIPE, and an ignored signal stays ignored across exec: give the shell
        // the default back (std's Command does the same). Handlers are reset by exec anyway; the
        // mask is cleared in case the spawning thread blocks something.
        let mut defaults = SigSet::empty();
        defaults.add(Signal::SIGPIPE);
        attr.set_sigdefault(&defaults)?;
        attr.set_sigmask(&SigSet::empty())?;
        attr.set_flags(
            PosixSpawnFlags::POSIX_SPAWN_SETPGROUP
                | PosixSpawnFlags::POSIX_SPAWN_SETSIGDEF
                | PosixSpawnFlags::POSIX_SPAWN_SETSIGMASK,
        )?;
        Ok(Setup { fds, actions, attr })
    }
}

/// How the shell ended, once reaped.
#[derive(Debug, Clone, Copy)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

/// A spawned process, reaped at most once.
pub struct Proc {
    pid: Pid,
    exit: Option<Result<Exit, Errno>>,
}

impl Proc {
    /// The process id (also its process group id).
    pub fn pid(&self) -> i32 {
        self.pid.as_raw()
    }

    /// Reap the process if it has exited; `true` once it has (or cannot be waited for).
    pub fn try_reap(&mut self) -> bool {
        if self.exit.is_none() {
            self.exit = reap(self.pid, Some(WaitPidFlag::WNOHANG));
        }
        self.exit.is_some()
    }

    /// Block until the process has exited, and return how.
    pub fn wait(&mut self) -> std::io::Result<Exit> {
        while self.exit.is_none() {
            self.exit = reap(self.pid, None);
        }
        self.exit.expect("reaped").map_err(Into::into)
    }
}

/// One `waitpid`: `None` while the process runs (or the call was interrupted).
fn reap(pid: Pid, flags: Option<WaitPidFlag>) -> Option<Result<Exit, Errno>> {
    match waitpid(pid, flags) {
        Ok(WaitStatus::Exited(_, code)) => Some(Ok(Exit::Code(code))),
        Ok(WaitStatus::Signaled(_, sig, _)) => Some(Ok(Exit::Signal(sig as i32))),
        Ok(_) | Err(Errno::EINTR) => None,
        Err(e) => Some(Err(e)),
    }
}

fn cstring(s: &OsStr) -> std::io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| nul_error())
}

fn nul_error() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        "a NUL byte in an argument or the environment",
    )
}

/// Our environment as `KEY=VALUE` strings with the length of each key, read once: fsi never
/// changes its own environment.
fn inherited() -> &'static [(CString, usize)] {
    static BASE: OnceLock<Vec<(CString, usize)>> = OnceLock::new();
    BASE.get_or_init(|| {
        std::env::vars_os()
            .filter_map(|(k, v)| {
                let mut kv = k.into_vec();
                let key_len = kv.len();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                Some((CString::new(kv).ok()?, key_len))
            })
            .collect()
    })
}

/// The command's own variables as `KEY=VALUE` strings (the last value of a key wins).
fn environment(overrides: &[(String, String)]) -> std::io::Result<Vec<CString>> {
    let mut own: Vec<CString> = Vec::with_capacity(overrides.len());
    for (i, (k, v)) in overrides.iter().enumerate() {
        if overrides[i + 1..].iter().any(|(later, _)| later == k) {
            continue;
        }
        let mut kv = Vec::with_capacity(k.len() + v.len() + 2);
        kv.extend_from_slice(k.as_bytes());
        kv.push(b'=');
        kv.extend_from_slice(v.as_bytes());
        own.push(CString::new(kv).map_err(|_| nul_error())?);
    }
    Ok(own)
}

/// The child's environment: `inherited` without the keys that `overrides` sets, then `own`
/// (those overrides as strings).
fn envp<'a>(
    inherited: &'a [(CString, usize)],
    overrides: &[(String, String)],
    own: &'a [CString],
) -> Vec<&'a CStr> {
    let mut all = Vec::with_capacity(inherited.len() + own.len());
    all.extend(
        inherited
            .iter()
            .filter(|(kv, n)| {
                let key = &kv.as_bytes()[..*n];
                !overrides.iter().any(|(k, _)| k.as_bytes() == key)
            })
            .map(|(kv, _)| kv.as_c_str()),
    );
    all.extend(own.iter().map(CString::as_c_str));
    all
}

/// `/dev/null`, opened once (close-on-exec; the spawn dups it onto the child's stdin).
fn devnull() -> std::io::Result<BorrowedFd<'static>> {
    static NULL: OnceLock<OwnedFd> = OnceLock::new();
    if let Some(fd) = NULL.get() {
        return Ok(fd.as_fd());
    }
    let file = std::fs::File::open("/dev/null")?;
    Ok(NULL.get_or_init(|| file.into()).as_fd())
}

/// Run `f` with the calling thread in `dir`, then change back.
fn in_directory<T>(dir: &Path, f: impl FnOnce() -> std::io::Result<T>) -> std::io::Result<T> {
    thread_local! {
        /// Whether this thread has its own working directory, and where it was to begin with.
        static OWN: Option<OwnedFd> = own_directory();
    }
    static SHARED: Mutex<()> = Mutex::new(());
    OWN.with(|own| {
        let (_guard, opened);
        let back = match own {
            Some(fd) => fd.as_fd(),
            None => {
                _guard = SHARED.lock().unwrap_or_else(|p| p.into_inner());
                opened = OwnedFd::from(std::fs::File::open(".")?);
                opened.as_fd()
            }
        };
        nix::unistd::chdir(dir)?;
        let result = f();
        // Going back to an open directory handle cannot fail short of its search permission
        // being revoked meanwhile; even then the spawned child must be returned to the caller
        // (it has to be reaped), and later spawns change directory by absolute path anyway.
        let _ = nix::unistd::fchdir(back);
        result
    })
}

/// Give the thread a working directory of its own; a handle to where it started.
fn own_directory() -> Option<OwnedFd> {
    #[cfg(target_os = "linux")]
    {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_FS).ok()?;
        std::fs::File::open(".").ok().map(Into::into)
    }
    #[cfg(not(target_os = "linux"))]
    None
}
