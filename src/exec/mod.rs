//! Shell execution behind one small interface: `bash -o pipefail -c`, own process group,
//! timeout, output capture, and termination of the whole group (TERM, grace, KILL).
//!
//! Every gate check, task command and verification check of the session engine goes through
//! [`ShellCommand::run`]; services started by other engines should use it too, so that timeouts,
//! cancellation and "no orphans" hold everywhere.
//!
//! Why our own process group: a check like `curl … | jq` is a pipeline of several processes, and
//! a task may start servers in the background. Killing only the direct child leaves those alive.
//! Every command is started with `process_group(0)`, and on timeout or cancellation the whole group
//! gets SIGTERM, a grace period, then SIGKILL. Because the group is not the terminal's foreground
//! group, a Ctrl-C at the terminal reaches only fsi, which then terminates the group itself.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// A cancellation flag shared by everything a command runs. Set by SIGINT/SIGTERM once
/// [`Cancel::install_signal_handlers`] has been called, or by hand.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Route SIGINT and SIGTERM to this flag. A second signal while the flag is already set
    /// exits the process immediately with status 130 (the usual "press Ctrl-C twice").
    pub fn install_signal_handlers(&self) -> std::io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        for sig in [SIGINT, SIGTERM] {
            signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&self.0))?;
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
    pub fn run(&self, cancel: &Cancel) -> Result<Output, SpawnError> {
        use std::os::unix::process::CommandExt;
        let start = Instant::now();
        let mut cmd = Command::new("bash");
        cmd.arg("-o")
            .arg("pipefail")
            .arg("-c")
            .arg(&self.script)
            .current_dir(&self.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|source| SpawnError {
            cwd: self.cwd.clone(),
            source,
        })?;
        let pid = child.id() as i32;
        let out_rx = capture(child.stdout.take());
        let err_rx = capture(child.stderr.take());

        let (tx, rx) = mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let status = child.wait();
            let _ = tx.send(());
            status
        });

        let deadline = self.timeout.map(|t| start + t);
        let mut stopped: Option<Termination> = None;
        loop {
            let now = Instant::now();
            let mut slice = Duration::from_millis(25);
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
            match rx.recv_timeout(slice) {
                Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
        if stopped.is_some() {
            terminate_group(pid, self.grace, &rx);
        }
        let status = waiter.join().expect("waiter thread");
        // The shell is gone; make sure nothing it left in its group survives either (a
        // backgrounded `sleep &` keeps the pipes open and would otherwise outlive us).
        if group_alive(pid) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
            wait_group_gone(pid, Duration::from_secs(1));
        }
        let stdout = collect(out_rx);
        let stderr = collect(err_rx);
        let termination = match stopped {
            Some(t) => t,
            None => {
                use std::os::unix::process::ExitStatusExt;
                let status = status.map_err(|source| SpawnError {
                    cwd: self.cwd.clone(),
                    source,
                })?;
                match (status.code(), status.signal()) {
                    (Some(c), _) => Termination::Exited(c),
                    (None, Some(s)) => Termination::Exited(128 + s),
                    _ => Termination::Exited(-1),
                }
            }
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

/// SIGTERM to the group, wait up to `grace` for the leader, then SIGKILL the group.
fn terminate_group(pgid: i32, grace: Duration, exited: &mpsc::Receiver<()>) {
    let group = Pid::from_raw(pgid);
    let _ = killpg(group, Signal::SIGTERM);
    // Processes stopped by job control would not act on TERM.
    let _ = killpg(group, Signal::SIGCONT);
    let _ = exited.recv_timeout(grace);
    // Whether or not the leader obeyed, members may linger: KILL whatever is left.
    let deadline = Instant::now() + grace;
    while group_alive(pgid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = killpg(group, Signal::SIGKILL);
    wait_group_gone(pgid, Duration::from_secs(1));
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
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("");
        let _ppid = fields.next();
        let pgrp: i32 = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
        if pgrp == pgid && state != "Z" && state != "X" {
            return true;
        }
    }
    false
}

fn capture<R: Read + Send + 'static>(stream: Option<R>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut s) = stream {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            loop {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if buf.len() < CAPTURE_LIMIT {
                            let take = n.min(CAPTURE_LIMIT - buf.len());
                            buf.extend_from_slice(&chunk[..take]);
                        }
                    }
                }
            }
            let _ = tx.send(buf);
        });
    }
    rx
}

fn collect(rx: mpsc::Receiver<Vec<u8>>) -> String {
    // A process that escaped the group (setsid) could hold the pipe open forever; don't wait
    // for it longer than a moment.
    let bytes = rx.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
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
