//! Background servers: each runs in its own process group, with its output in a log file, and
//! is stopped by its pid (the whole group) when the guard is dropped.

use std::fs::File;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

pub struct Background {
    name: String,
    child: Child,
    log: PathBuf,
    stop_signal: Signal,
    stopped: bool,
}

impl Background {
    /// Start `cmd` in a new process group, stdout and stderr to `<log_dir>/<name>.log`.
    pub fn spawn(name: &str, mut cmd: Command, log_dir: &Path) -> Background {
        let log = log_dir.join(format!("{name}.log"));
        let file = File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        cmd.stdin(Stdio::null())
            .stdout(file.try_clone().expect("clone log handle"))
            .stderr(file)
            .process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        Background {
            name: name.to_string(),
            child,
            log,
            stop_signal: Signal::SIGTERM,
            stopped: false,
        }
    }

    /// The signal `stop` sends first (SIGTERM unless changed).
    pub fn with_stop_signal(mut self, signal: Signal) -> Background {
        self.stop_signal = signal;
        self
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The end of the server's log.
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        crate::common::tail(&text, 6000).to_string()
    }

    /// Panics (with the log) if the server has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited early ({status}); log {}:\n{}",
                self.name,
                self.log.display(),
                self.log_tail()
            );
        }
    }

    /// Send `signal` to the leader only (as `docker stop` does) and wait up to `limit` for it
    /// to exit; how long that took, or None if it is still running.
    pub fn signal_and_wait(&mut self, signal: Signal, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        self.signal(signal);
        self.wait_exit(start, limit)
    }

    /// Send `signal` to the leader only.
    pub fn signal(&self, signal: Signal) {
        let _ = nix::sys::signal::kill(Pid::from_raw(self.child.id() as i32), signal);
    }

    /// Wait until the leader has exited, at most until `start + limit`; the time since `start`.
    pub fn wait_exit(&mut self, start: Instant, limit: Duration) -> Option<Duration> {
        while start.elapsed() < limit {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Stop the whole process group: the stop signal, up to `grace` to exit, then SIGKILL.
    pub fn stop(&mut self, grace: Duration) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let group = Pid::from_raw(self.child.id() as i32);
        let _ = killpg(group, self.stop_signal);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever is left of the group (workers, a leader that ignored the signal).
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(10));
    }
}
