//! Shell execution behind one small interface: `bash -o pipefail -c`, own process group,
//! timeout, output capture, and termination of the whole group (TERM, grace, KILL).
//!
//! Every gate check, task command and verification check of the session engine goes through
//! [`ShellCommand::run`]; services started by other engines should use it too, so that timeouts,
//! cancellation and "no orphans" hold everywhere.
//!
//! Why our own process group: a check like `curl … | jq` is a pipeline of several processes, and
//! a task may start servers in the background. Killing only the direct child leaves those alive.
//! Every command is started in a process group of its own, and on timeout or cancellation the
//! whole group gets SIGTERM, a grace period, then SIGKILL. Because the group is not the terminal's
//! foreground group, a Ctrl-C at the terminal reaches only fsi, which then terminates the group
//! itself.
//!
//! Processes that leave the group (`setsid`, a double fork) are handled by [`reap`]: fsi is a
//! child subreaper, every command's processes carry its mark in their environment, and a stopped
//! command's marked processes are killed with its group; a second Ctrl-C kills everything below
//! fsi before it exits.

use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

pub(crate) mod procfs;
mod reap;
mod spawn;
#[cfg(target_os = "linux")]
mod vfork;

pub use reap::{Supervisor, TOKEN_VAR, become_subreaper, descendants, kill_descendants};

/// A cancellation flag shared by everything a command runs. Set by SIGINT/SIGTERM once
/// [`Cancel::install_signal_handlers`] has been called, or by hand.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Route SIGINT and SIGTERM to this flag. A second signal while the first is being acted on
    /// ends fsi at once with status 130 (the usual "press Ctrl-C twice") — after killing every
    /// process below fsi: the running commands' groups and whatever escaped them (see
    /// [`reap`]). Counting happens on a thread of its own, woken through a pipe the signal
    /// handler writes a byte to, so the handler itself only sets a flag and writes.
    pub fn install_signal_handlers(&self) -> std::io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        self.install_flag_handlers()?;
        let (read, write) = UnixStream::pair()?;
        write.set_nonblocking(true)?;
        for sig in [SIGINT, SIGTERM] {
            signal_hook::low_level::pipe::register(sig, write.try_clone()?)?;
        }
        std::thread::Builder::new()
            .name("fsi-signals".into())
            .spawn(move || {
                let mut seen = 0usize;
                let mut buf = [0u8; 16];
                loop {
                    match (&read).read(&mut buf) {
                        Ok(0) => return,
                        Ok(n) => {
                            seen += n;
                            if seen >= 2 {
                                reap::kill_descendants(Signal::SIGKILL, Duration::ZERO);
                                std::process::exit(130);
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => return,
                    }
                }
            })?;
        Ok(())
    }

    /// Route SIGINT and SIGTERM to this flag only, for commands that always finish their
    /// clean-up promptly (`fsi new`): every signal just asks them to stop.
    pub fn install_flag_handlers(&self) -> std::io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        for sig in [SIGINT, SIGTERM] {
            signal_hook::flag::register(sig, Arc::clone(&self.0))?;
        }
        Ok(())
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// One shell command to run.
#[derive(Debug, Clone)]
pub struct ShellCommand {
    pub script: String,
    pub cwd: PathBuf,
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL when the group has to be stopped.
    pub grace: Duration,
    pub env: Vec<(String, String)>,
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Termination {
    /// Exited with this code (a death by signal is reported as 128 + signal).
    Exited(i32),
    TimedOut,
    Cancelled,
}

/// The result of a finished command.
#[derive(Debug, Clone)]
pub struct Output {
    pub termination: Termination,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
    /// Process group id the command ran in (equal to the shell's pid).
    pub pgid: i32,
}

impl Output {
    pub fn success(&self) -> bool {
        self.termination == Termination::Exited(0)
    }

    pub fn code(&self) -> Option<i32> {
        match self.termination {
            Termination::Exited(c) => Some(c),
            _ => None,
        }
    }
}

/// Spawning failed (bash missing, cwd missing, …).
#[derive(Debug, thiserror::Error)]
#[error("cannot start `bash` in {cwd}: {source}")]
pub struct SpawnError {
    pub cwd: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Upper bound on captured bytes per stream; the rest is dropped (a noisy check must not eat
/// memory).
const CAPTURE_LIMIT: usize = 4 * 1024 * 1024;

/// How long a command may run before its exit is watched for (see [`ShellCommand::run`]);
/// until then, stderr's hang-up or this time passing prompts the check.
const WATCH_AFTER: Duration = Duration::from_millis(5);

impl ShellCommand {
    pub fn new(script: impl Into<String>, cwd: impl AsRef<Path>) -> ShellCommand {
        ShellCommand {
            script: script.into(),
            cwd: cwd.as_ref().to_path_buf(),
            timeout: None,
            grace: Duration::from_secs(2),
            env: Vec::new(),
        }
    }

    pub fn timeout(mut self, t: Option<Duration>) -> ShellCommand {
        self.timeout = t;
        self
    }

    pub fn grace(mut self, g: Duration) -> ShellCommand {
        self.grace = g;
        self
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> ShellCommand {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn envs(mut self, vars: impl IntoIterator<Item = (String, String)>) -> ShellCommand {
        self.env.extend(vars);
        self
    }

    /// Run to completion, timeout or cancellation. Never leaves processes of its group behind.
    ///
    /// Everything happens on the calling thread: one `poll` loop reads stdout and stderr, notices
    /// the shell's exit, and handles the timeout and cancellation checks. No helper threads: a
    /// thread hand-off per event costs a scheduler round trip, which on a busy machine is most of
    /// the per-command overhead.
    ///
    /// Noticing the exit: fsi gives up its copy of stderr's write end right after the spawn (it
    /// holds stdout's until the shell is reaped), so a shell that exits hangs that pipe up — for
    /// a short command the only sign needed: the shell is reaped a few microseconds later (see
    /// [`reap_soon`]). Only when that does not work (the shell closed its stderr but runs on, a
    /// background member of its group holds it, or the command runs longer than [`WATCH_AFTER`])
    /// is an exit watch armed: the shell's pidfd (Linux ≥ 5.3), else a SIGCHLD self-pipe
    /// registered once per thread ([`ChildWake::for_thread`]). Short commands thus cost no
    /// pidfd, and stdout's held write end spares a second wake-up for its hang-up.
    pub fn run(&self, cancel: &Cancel) -> Result<Output, SpawnError> {
        let start = Instant::now();
        let spawn_error = |source| SpawnError {
            cwd: self.cwd.clone(),
            source,
        };
        // The spawn wants the program's path: look `bash` up on the child's PATH, once per
        // PATH value.
        let child_path = self
            .env
            .iter()
            .rev()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v);
        let bash = resolve_bash(child_path, &self.cwd).ok_or_else(|| {
            spawn_error(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "`bash` not found on PATH",
            ))
        })?;
        let out = Capture::pipe().map_err(spawn_error)?;
        let err = Capture::pipe().map_err(spawn_error)?;
        // The command's mark, inherited by everything it starts (see `reap`).
        let token = reap::new_token();
        let mut env = Vec::with_capacity(self.env.len() + 1);
        env.extend_from_slice(&self.env);
        env.push((TOKEN_VAR.to_string(), token.clone()));
        let mut child = spawn::spawn(
            &bash,
            &["bash", "-o", "pipefail", "-c", &self.script],
            &env,
            &self.cwd,
            spawn::Streams {
                stdout: out.write_end(),
                stderr: err.write_end(),
            },
        )
        .map_err(spawn_error)?;
        // The shell is starting on another core: meanwhile, get the next command's pipes ready.
        reserve::restock();
        let pid = child.pid();
        let mut io = Io {
            out,
            err,
            watch: Watch::Off,
            exit_seen: false,
        };
        // Only the shell's copy of stderr's write end remains: that pipe hangs up when the shell
        // exits. Stdout's is held until the shell is reaped, so that the exit wakes the loop
        // once, not once per pipe.
        io.err.release();

        let deadline = self.timeout.map(|t| start + t);
        let mut stopped: Option<Termination> = None;
        let mut status: Option<std::io::Result<spawn::Exit>> = None;
        loop {
            let unwatched = matches!(io.watch, Watch::Off);
            let may_have_exited = if unwatched {
                !io.err.open() || start.elapsed() >= WATCH_AFTER
            } else {
                io.exit_seen || !matches!(io.watch, Watch::Pidfd(_))
            };
            if may_have_exited {
                let hung_up = unwatched && !io.err.open();
                let reaped = if hung_up {
                    reap_soon(&mut child)
                } else {
                    child.try_reap()
                };
                if reaped {
                    status = Some(child.wait());
                    break;
                }
                if unwatched {
                    io.watch = Watch::arm(pid);
                }
            }
            let now = Instant::now();
            let mut slice = match io.watch {
                Watch::Off => (start + WATCH_AFTER).saturating_duration_since(now),
                _ => Duration::from_millis(25),
            };
            if let Some(d) = deadline {
                if now >= d {
                    stopped = Some(Termination::TimedOut);
                    break;
                }
                slice = slice.min(d - now);
            }
            if cancel.is_cancelled() {
                stopped = Some(Termination::Cancelled);
                break;
            }
            io.pump(slice);
        }
        if stopped.is_some() {
            if matches!(io.watch, Watch::Off) {
                io.watch = Watch::arm(pid);
            }
            terminate_group(pid, self.grace, &mut io, &mut child);
        }
        let status = match status {
            Some(s) => s,
            None => child.wait(),
        };
        // The shell is gone; make sure nothing it left in its group survives either (a
        // backgrounded `sleep &` keeps the pipes open and would otherwise outlive us).
        if group_alive(pid) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
            wait_group_gone(pid, Duration::from_secs(1));
            reap_group_orphans(pid);
        }
        // A stopped command's processes that left its group (`setsid`, a double fork) are
        // still fsi's descendants (it is their subreaper), marked with the command's token.
        if stopped.is_some() {
            reap::kill_marked(&token);
        }
        io.out.release();
        // Read what is left to end of file. A process that escaped the group (setsid) could hold
        // the pipes open forever; don't wait for it longer than a moment.
        let drain_until = Instant::now() + Duration::from_secs(2);
        while io.out.open() || io.err.open() {
            let now = Instant::now();
            if now >= drain_until {
                break;
            }
            io.pump_pipes((drain_until - now).min(Duration::from_millis(100)));
        }
        let stdout = String::from_utf8_lossy(&io.out.buf).into_owned();
        let stderr = String::from_utf8_lossy(&io.err.buf).into_owned();
        let termination = match stopped {
            Some(t) => t,
            None => match status.map_err(spawn_error)? {
                spawn::Exit::Code(c) => Termination::Exited(c),
                spawn::Exit::Signal(s) => Termination::Exited(128 + s),
            },
        };
        Ok(Output {
            termination,
            stdout,
            stderr,
            duration: start.elapsed(),
            pgid: pid,
        })
    }
}

/// The path of the `bash` that `execvp` would find on `path` (the child's PATH, or ours when
/// the command does not set one), the way the shell's own lookup goes: an empty or relative
/// entry is taken relative to the child's directory `cwd`. Lookups that only met absolute
/// directories are cached per PATH value (a plan runs thousands of commands with the same one).
fn resolve_bash(path: Option<&String>, cwd: &Path) -> Option<Arc<Path>> {
    use std::os::unix::fs::PermissionsExt;
    type Cache = Mutex<Vec<(Option<String>, Option<Arc<Path>>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some((_, hit)) = cache
        .lock()
        .expect("bash cache")
        .iter()
        .find(|(k, _)| k.as_ref() == path)
    {
        return hit.clone();
    }
    let search = path
        .cloned()
        .or_else(|| std::env::var("PATH").ok())
        .unwrap_or_else(|| "/bin:/usr/bin".to_string());
    let mut found = None;
    let mut relative = false;
    for dir in search.split(':') {
        let candidate = if dir.starts_with('/') {
            Path::new(dir).join("bash")
        } else {
            relative = true;
            cwd.join(dir).join("bash")
        };
        if let Ok(meta) = std::fs::metadata(&candidate)
            && meta.is_file()
            && meta.permissions().mode() & 0o111 != 0
        {
            found = Some(Arc::from(candidate));
            break;
        }
    }
    let mut c = cache.lock().expect("bash cache");
    if !relative && c.len() < 8 {
        c.push((path.cloned(), found.clone()));
    }
    found
}

/// Process file descriptors (Linux): a pidfd polls readable when its process exits, so the run
/// loop needs no SIGCHLD handler, whose delivery and self-pipe write and drain cost a handful of
/// system calls per command.
mod pidfd {
    use std::os::fd::OwnedFd;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Cleared on the first failure (an older kernel, or a sandbox that forbids the call).
    static WORKS: AtomicBool = AtomicBool::new(cfg!(target_os = "linux"));

    pub fn available() -> bool {
        WORKS.load(Ordering::Relaxed)
    }

    pub fn open(pid: i32) -> Option<OwnedFd> {
        #[cfg(target_os = "linux")]
        {
            let pid = rustix::process::Pid::from_raw(pid)?;
            match rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) {
                Ok(fd) => return Some(fd),
                Err(_) => WORKS.store(false, Ordering::Relaxed),
            }
        }
        let _ = pid;
        None
    }
}

/// A self-pipe written on every SIGCHLD, so `poll` wakes when the shell exits. One per thread
/// that runs commands, registered on its first command and kept until the thread ends
/// (unregistered and closed on drop): a socketpair and a signal-hook registry update per
/// command were a measurable part of the per-command cost. Per thread rather than per process
/// because a drain by one command's loop must not swallow another thread's wake-up. `None` when
/// registration fails; the run loop then falls back to short polls.
struct ChildWake {
    read: UnixStream,
    id: signal_hook::SigId,
}

impl ChildWake {
    fn for_thread() -> Option<Rc<ChildWake>> {
        thread_local! {
            static WAKE: Option<Rc<ChildWake>> = ChildWake::register().map(Rc::new);
        }
        WAKE.with(Clone::clone)
    }

    fn register() -> Option<ChildWake> {
        let (read, write) = UnixStream::pair().ok()?;
        read.set_nonblocking(true).ok()?;
        let id =
            signal_hook::low_level::pipe::register(signal_hook::consts::SIGCHLD, write).ok()?;
        Some(ChildWake { read, id })
    }

    fn drain(&self) {
        let mut buf = [0u8; 64];
        while matches!((&self.read).read(&mut buf), Ok(n) if n > 0) {}
    }
}

impl Drop for ChildWake {
    fn drop(&mut self) {
        signal_hook::low_level::unregister(self.id);
    }
}

/// One captured stream: the pipe's read end (until EOF), fsi's copy of the write end for as long
/// as it holds one (see [`ShellCommand::run`]), and the bytes read so far, capped.
struct Capture {
    file: Option<std::fs::File>,
    hold: Option<OwnedFd>,
    buf: Vec<u8>,
}

impl Capture {
    /// A pipe for one stream; its write end is held until [`Capture::release`].
    fn pipe() -> std::io::Result<Capture> {
        let (read, write) = reserve::pipe()?;
        Ok(Capture {
            file: Some(read.into()),
            hold: Some(write),
            buf: Vec::new(),
        })
    }

    /// The write end, for the child's stdout or stderr (before any [`Capture::release`]).
    fn write_end(&self) -> BorrowedFd<'_> {
        self.hold
            .as_ref()
            .expect("write end not released yet")
            .as_fd()
    }

    /// Close our write end (once the shell has its copy): the pipe then reaches end of file when
    /// the shell's copies close.
    fn release(&mut self) {
        self.hold = None;
    }

    fn open(&self) -> bool {
        self.file.is_some()
    }

    /// Act on what `poll` reported: read once if there is data (the read does not block), and
    /// on a bare hang-up — no writer left, nothing buffered — take end of file without a read.
    fn ready(&mut self, revents: PollFlags) {
        if revents == PollFlags::POLLHUP {
            self.finish();
        } else if !revents.is_empty() {
            self.read_once();
        }
    }

    fn read_once(&mut self) {
        let Some(f) = self.file.as_mut() else { return };
        let mut chunk = [0u8; 8192];
        match f.read(&mut chunk) {
            Ok(0) => self.finish(),
            Ok(n) => {
                if self.buf.len() < CAPTURE_LIMIT {
                    let take = n.min(CAPTURE_LIMIT - self.buf.len());
                    self.buf.extend_from_slice(&chunk[..take]);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => self.finish(),
        }
    }

    /// End of file: the read end is done with (closed after the next spawn).
    fn finish(&mut self) {
        if let Some(f) = self.file.take() {
            reserve::retire(f.into());
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Per thread: pipes made ahead of the command that will use them, and read ends whose closing
/// can wait. Both happen right after a spawn, while the shell starts up on another core, instead
/// of between one command's exit and the next one's start — the stretch a plan of many short
/// checks spends its overhead in.
mod reserve {
    use std::cell::RefCell;
    use std::os::fd::OwnedFd;

    /// Pipes kept ready: stdout and stderr of the next command.
    const SPARE: usize = 2;
    /// Read ends waiting to be closed; beyond this many, they are closed at once.
    const MAX_RETIRED: usize = 8;

    #[derive(Default)]
    struct Reserve {
        spare: Vec<(OwnedFd, OwnedFd)>,
        retired: Vec<OwnedFd>,
    }

    thread_local! {
        static RESERVE: RefCell<Reserve> = RefCell::default();
    }

    fn new_pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
        Ok(nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?)
    }

    /// A fresh pipe (close-on-exec): one made ahead if there is one. (Never one that any
    /// process has seen: nothing of an earlier command can write into it.)
    pub fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
        match RESERVE.with_borrow_mut(|r| r.spare.pop()) {
            Some(p) => Ok(p),
            None => new_pipe(),
        }
    }

    /// Close `fd` later (see [`restock`]).
    pub fn retire(fd: OwnedFd) {
        RESERVE.with_borrow_mut(|r| {
            if r.retired.len() < MAX_RETIRED {
                r.retired.push(fd);
            }
        });
    }

    /// Close the retired descriptors and make the next command's pipes. Failing to make them
    /// now is not an error: [`pipe`] makes them when needed (and reports failure then).
    pub fn restock() {
        RESERVE.with_borrow_mut(|r| {
            r.retired.clear();
            while r.spare.len() < SPARE {
                match new_pipe() {
                    Ok(p) => r.spare.push(p),
                    Err(_) => break,
                }
            }
        });
    }
}

/// The shell closed its stderr; most likely it is on its way out and can be reaped within
/// microseconds. Its hang-up usually wakes fsi on the shell's own core, before the shell has
/// finished exiting, so the core is yielded first (a `waitpid` then would only fail); try for a
/// moment before arming a watch (which costs a system call to set up and a second wake-up).
fn reap_soon(child: &mut spawn::Proc) -> bool {
    let until = Instant::now() + Duration::from_micros(50);
    loop {
        std::thread::yield_now();
        if child.try_reap() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
    }
}

/// How the shell's exit is watched for, once it is.
enum Watch {
    /// Not yet: stderr's hang-up (or [`WATCH_AFTER`]) prompts a check.
    Off,
    /// The shell's pidfd: readable once it has exited.
    Pidfd(OwnedFd),
    /// This thread's SIGCHLD self-pipe.
    Sigchld(Rc<ChildWake>),
    /// Nothing works: short polls.
    Polling,
}

impl Watch {
    fn arm(pid: i32) -> Watch {
        if pidfd::available()
            && let Some(fd) = pidfd::open(pid)
        {
            return Watch::Pidfd(fd);
        }
        // A SIGCHLD that came before this point is still in the pipe: the loop then checks at
        // once. One of an earlier command costs a loop turn, nothing more.
        match ChildWake::for_thread() {
            Some(w) => Watch::Sigchld(w),
            None => Watch::Polling,
        }
    }
}

/// The pipes and the exit watch of one running command.
struct Io {
    out: Capture,
    err: Capture,
    watch: Watch,
    /// The pidfd has polled readable: from then on `waitpid` will reap.
    exit_seen: bool,
}

impl Io {
    /// Whether the shell has exited (reaping it: a later `wait` returns the kept status).
    fn leader_exited(&mut self, child: &mut spawn::Proc) -> bool {
        // With a pidfd, a `waitpid` before it fires would only say "still running".
        (!matches!(self.watch, Watch::Pidfd(_)) || self.exit_seen) && child.try_reap()
    }

    /// Wait up to `limit` for output or the exit watch, reading what arrived.
    fn pump(&mut self, limit: Duration) {
        if matches!(self.watch, Watch::Polling) {
            // Without a watch, exit is only noticed between polls: keep them short.
            let cap = if self.out.open() || self.err.open() {
                5
            } else {
                1
            };
            self.poll_and_read(false, limit.min(Duration::from_millis(cap)));
        } else {
            self.poll_and_read(true, limit);
        }
    }

    /// Wait up to `limit` for output only.
    fn pump_pipes(&mut self, limit: Duration) {
        self.poll_and_read(false, limit);
    }

    fn poll_and_read(&mut self, with_wake: bool, limit: Duration) {
        let wake = match &self.watch {
            _ if !with_wake => None,
            Watch::Pidfd(fd) => Some(fd.as_fd()),
            Watch::Sigchld(w) => Some(w.read.as_fd()),
            Watch::Off | Watch::Polling => None,
        };
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(3);
        let mut slots = [usize::MAX; 3]; // out, err, wake -> index in fds
        if let Some(f) = &self.out.file {
            slots[0] = fds.len();
            fds.push(PollFd::new(f.as_fd(), PollFlags::POLLIN));
        }
        if let Some(f) = &self.err.file {
            slots[1] = fds.len();
            fds.push(PollFd::new(f.as_fd(), PollFlags::POLLIN));
        }
        if let Some(w) = wake {
            slots[2] = fds.len();
            fds.push(PollFd::new(w, PollFlags::POLLIN));
        }
        if fds.is_empty() {
            std::thread::sleep(limit);
            return;
        }
        // Round up so a sub-millisecond remainder does not turn into a busy loop.
        let ms = limit.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        let ready = poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
        );
        if !matches!(ready, Ok(n) if n > 0) {
            return; // timeout or EINTR (a signal: the caller re-checks everything)
        }
        let revents = |k: usize| match slots[k] {
            usize::MAX => PollFlags::empty(),
            i => fds[i].revents().unwrap_or(PollFlags::empty()),
        };
        let (out_ready, err_ready, wake_ready) = (revents(0), revents(1), !revents(2).is_empty());
        drop(fds);
        self.out.ready(out_ready);
        self.err.ready(err_ready);
        if wake_ready {
            match &self.watch {
                Watch::Sigchld(w) => w.drain(),
                _ => self.exit_seen = true,
            }
        }
    }
}

/// SIGTERM to the group, wait up to `grace` for the leader, then SIGKILL the group. Output keeps
/// being read meanwhile, so a shell that logs on its way out does not block on a full pipe.
fn terminate_group(pgid: i32, grace: Duration, io: &mut Io, child: &mut spawn::Proc) {
    let group = Pid::from_raw(pgid);
    let _ = killpg(group, Signal::SIGTERM);
    // Processes stopped by job control would not act on TERM.
    let _ = killpg(group, Signal::SIGCONT);
    let end = Instant::now() + grace;
    loop {
        if io.leader_exited(child) {
            break;
        }
        let now = Instant::now();
        if now >= end {
            break;
        }
        io.pump((end - now).min(Duration::from_millis(25)));
    }
    // Whether or not the leader obeyed, members may linger: KILL whatever is left.
    let deadline = Instant::now() + grace;
    while group_alive(pgid) && Instant::now() < deadline {
        io.pump_pipes(Duration::from_millis(10));
    }
    let _ = killpg(group, Signal::SIGKILL);
    wait_group_gone(pgid, Duration::from_secs(1));
    reap_group_orphans(pgid);
}

/// Reap the members of the group `pgid` that fsi adopted (as their subreaper) and that are dead
/// now: a background process whose shell exited before it. They are this command's own — every
/// command has a group of its own, and its leader was reaped by `run` — so reaping them by pid
/// cannot take another command's exit status; left alone they would stay zombies until fsi
/// exits.
fn reap_group_orphans(pgid: i32) {
    let me = std::process::id() as i32;
    for p in procfs::all() {
        if p.pid != pgid && p.state == 'Z' && p.ppid == me && p.pgrp == pgid {
            let _ = nix::sys::wait::waitpid(
                Pid::from_raw(p.pid),
                Some(nix::sys::wait::WaitPidFlag::WNOHANG),
            );
        }
    }
}

/// SIGKILL is asynchronous: wait (bounded) until no live member of the group is left.
fn wait_group_gone(pgid: i32, limit: Duration) {
    let deadline = Instant::now() + limit;
    while group_alive(pgid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether any live (non-zombie) process of the group still exists.
///
/// On Linux this reads `/proc/*/stat`, so that zombies waiting for a (possibly absent) init to
/// reap them do not count; elsewhere it falls back to `killpg(pgid, 0)`.
pub fn group_alive(pgid: i32) -> bool {
    if killpg(Pid::from_raw(pgid), None).is_err() {
        return false;
    }
    if !std::path::Path::new("/proc/self/stat").exists() {
        return true;
    }
    procfs::all().any(|p| p.pgrp == pgid && !p.is_dead())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> ShellCommand {
        ShellCommand::new(script, std::env::temp_dir())
    }

    #[test]
    fn captures_output_and_exit_code() {
        let out = sh("echo out; echo err >&2; exit 3")
            .run(&Cancel::new())
            .unwrap();
        assert_eq!(out.termination, Termination::Exited(3));
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
    }

    #[test]
    fn output_larger_than_a_pipe_buffer_and_reopened_std_streams_are_captured() {
        let out = sh("head -c 300000 /dev/zero | tr '\\0' x; echo a >&2; echo b > /dev/stderr")
            .run(&Cancel::new())
            .unwrap();
        assert!(out.success(), "{out:?}");
        assert_eq!(out.stdout.len(), 300_000);
        assert!(out.stdout.bytes().all(|b| b == b'x'));
        assert_eq!(out.stderr, "a\nb\n");
    }

    #[test]
    fn a_command_that_closes_its_output_still_times_out() {
        let out = sh("exec >&- 2>&-; sleep 30")
            .timeout(Some(Duration::from_millis(200)))
            .grace(Duration::from_millis(100))
            .run(&Cancel::new())
            .unwrap();
        assert_eq!(out.termination, Termination::TimedOut);
        assert!(out.duration < Duration::from_secs(5), "{:?}", out.duration);
    }

    #[test]
    fn exit_is_noticed_promptly() {
        // The loop must wake on the exit itself (stderr's hang-up, or the watch armed after
        // WATCH_AFTER), not on a hang-up that cannot come — fsi holds stdout's write end — nor
        // wait for a poll slice to lapse: otherwise every command would last at least 25 ms.
        let quick = (0..20)
            .map(|_| sh("true").run(&Cancel::new()).unwrap())
            .inspect(|out| assert!(out.success()))
            .filter(|out| out.duration < Duration::from_millis(20))
            .count();
        assert!(
            quick >= 10,
            "only {quick} of 20 commands ended within 20 ms"
        );
    }

    #[test]
    fn a_shell_that_closes_stderr_early_is_still_waited_for() {
        // stderr's hang-up is only a hint that the shell is exiting.
        let out = sh("exec 2>&-; sleep 0.2; echo done")
            .run(&Cancel::new())
            .unwrap();
        assert!(out.success(), "{out:?}");
        assert_eq!(out.stdout, "done\n");
        assert!(out.duration >= Duration::from_millis(200), "{out:?}");
    }

    #[test]
    fn output_of_an_escaped_process_never_reaches_a_later_command() {
        // A process that left the group (setsid) keeps the first command's pipes past the
        // first command's end (whose drain gives up after 2 s); the next command must get pipes
        // of its own, not see that process's late output.
        let first = sh("setsid sh -c 'sleep 2.5; echo late' & echo first")
            .run(&Cancel::new())
            .unwrap();
        assert_eq!(first.stdout, "first\n", "{first:?}");
        let second = sh("sleep 1").run(&Cancel::new()).unwrap();
        assert!(second.success());
        assert_eq!(second.stdout, "", "{second:?}");
    }

    #[test]
    fn runs_in_its_directory_with_its_variables_and_leaves_ours_alone() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().canonicalize().unwrap();
        let before = std::env::current_dir().unwrap();
        let out = ShellCommand::new("pwd; echo \"$FSI_TEST_A $HOME\"", &dir)
            .env("FSI_TEST_A", "one")
            .env("HOME", "/nowhere")
            .env("FSI_TEST_A", "two")
            .run(&Cancel::new())
            .unwrap();
        assert!(out.success(), "{out:?}");
        assert_eq!(out.stdout, format!("{}\ntwo /nowhere\n", dir.display()));
        assert_eq!(std::env::current_dir().unwrap(), before);
        // Variables of one command do not leak into the next.
        let out = ShellCommand::new("echo \"${FSI_TEST_A-unset}\"", &dir)
            .run(&Cancel::new())
            .unwrap();
        assert_eq!(out.stdout, "unset\n");
    }

    #[test]
    fn a_missing_directory_is_a_spawn_error() {
        let err = ShellCommand::new("true", "/nonexistent/fsi-test")
            .run(&Cancel::new())
            .unwrap_err();
        assert_eq!(err.source.kind(), std::io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/nonexistent/fsi-test"), "{err}");
    }

    #[test]
    fn sigpipe_has_its_default_action_in_the_shell() {
        // fsi (like every Rust program) ignores SIGPIPE; an ignored signal survives exec, and
        // `yes` would then see EPIPE and complain instead of quietly dying of the signal.
        let out = sh("yes | head -n 1").run(&Cancel::new()).unwrap();
        assert_eq!(out.stdout, "y\n");
        assert_eq!(out.stderr, "", "{out:?}");
        assert_eq!(out.termination, Termination::Exited(141));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_command_starts_with_no_signal_blocked_and_only_inherited_ones_ignored() {
        // The spawn blocks every signal around the clone; the child unblocks them all and puts
        // SIGPIPE (which Rust ignores) and fsi's handlers back to the default. Signals that fsi
        // itself was started with ignored stay ignored (`nohup fsi run …`). `exec` hands the
        // shell's state to `grep`, which reads it from the kernel.
        let cancel = Cancel::new();
        cancel.install_signal_handlers().unwrap();
        let out = sh("exec grep -E '^Sig(Blk|Ign):' /proc/self/status")
            .run(&cancel)
            .unwrap();
        assert!(out.success(), "{out:?}");
        let mask = |text: &str, name: &str| -> u64 {
            let line = text.lines().find(|l| l.starts_with(name)).expect(name);
            u64::from_str_radix(line.split_once(':').unwrap().1.trim(), 16).unwrap()
        };
        let ours = std::fs::read_to_string("/proc/self/status").unwrap();
        let sigpipe = 1u64 << (libc::SIGPIPE - 1);
        assert_ne!(mask(&ours, "SigIgn") & sigpipe, 0, "Rust ignores SIGPIPE");
        assert_eq!(mask(&out.stdout, "SigBlk"), 0, "{out:?}");
        assert_eq!(
            mask(&out.stdout, "SigIgn"),
            mask(&ours, "SigIgn") & !sigpipe,
            "{out:?}"
        );
    }

    #[test]
    fn stdin_is_empty() {
        let out = sh("wc -c").run(&Cancel::new()).unwrap();
        assert_eq!(out.stdout.trim(), "0");
    }

    #[test]
    fn commands_on_several_threads_keep_their_directories() {
        let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
        std::thread::scope(|s| {
            for d in &dirs {
                s.spawn(move || {
                    let want = format!("{}\n", d.path().canonicalize().unwrap().display());
                    for _ in 0..25 {
                        let out = ShellCommand::new("pwd", d.path())
                            .run(&Cancel::new())
                            .unwrap();
                        assert_eq!(out.stdout, want);
                    }
                });
            }
        });
    }

    #[test]
    fn pipefail_is_on() {
        let out = sh("false | cat").run(&Cancel::new()).unwrap();
        assert_eq!(out.termination, Termination::Exited(1));
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let out = sh("sleep 30 & sleep 30; echo never")
            .timeout(Some(Duration::from_millis(200)))
            .grace(Duration::from_millis(200))
            .run(&Cancel::new())
            .unwrap();
        assert_eq!(out.termination, Termination::TimedOut);
        assert!(out.duration < Duration::from_secs(5));
        assert!(!group_alive(out.pgid));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn adopted_background_children_are_killed_and_reaped_not_left_as_zombies() {
        // The shell exits before its background child: with fsi as subreaper the child is
        // re-parented to this process, killed with the group, and must then be reaped.
        assert!(become_subreaper());
        let out = sh("sleep 30 & echo $!").run(&Cancel::new()).unwrap();
        assert!(out.success());
        let child: i32 = out.stdout.trim().parse().unwrap();
        assert!(!group_alive(out.pgid));
        assert!(
            !std::path::Path::new(&format!("/proc/{child}")).exists(),
            "{child} is still in the process table (a zombie of ours?)"
        );
    }

    #[test]
    fn background_children_do_not_survive_a_normal_exit() {
        let out = sh("sleep 30 & echo started").run(&Cancel::new()).unwrap();
        assert!(out.success());
        assert!(!group_alive(out.pgid));
    }

    #[test]
    fn cancellation_stops_the_command() {
        let cancel = Cancel::new();
        let c2 = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            c2.cancel();
        });
        let out = sh("trap '' TERM; sleep 30")
            .grace(Duration::from_millis(100))
            .run(&cancel)
            .unwrap();
        assert_eq!(out.termination, Termination::Cancelled);
        assert!(!group_alive(out.pgid));
    }
}
