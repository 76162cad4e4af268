//! The project lock: one fsi at a time changes a project's sessions.
//!
//! `fsi run` and `fsi session start|checkpoint|complete|rollback` hold an exclusive `flock` on
//! `<state_dir>/lock` (`.fsi/lock`) for as long as they run, and write their pid into it. A
//! second one either stops at once (exit 3, naming the holder's pid) or, with `--wait`, waits
//! for the lock. The kernel releases a `flock` when its holder exits, however it exits (kill -9
//! included), so there is no stale lock to clean up; the pid left in the file is only a hint.
//! The descriptor is close-on-exec: commands a run starts do not inherit the lock.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::error::{Classify, ExitStatus};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LockError {
    #[error(
        "another fsi ({}) is changing this project's sessions (it holds {})",
        .pid.map(|p| format!("pid {p}")).unwrap_or_else(|| "pid unknown".into()),
        .path.display()
    )]
    #[diagnostic(
        code(fsi::lock::held),
        help("wait for it to finish, or pass --wait to queue behind it")
    )]
    Held { path: PathBuf, pid: Option<u32> },
    #[error("cannot lock {}: {source}", .path.display())]
    #[diagnostic(code(fsi::lock::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("interrupted while waiting for {}", .path.display())]
    #[diagnostic(code(fsi::lock::interrupted))]
    Interrupted { path: PathBuf },
}

impl Classify for LockError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            LockError::Held { .. } => ExitStatus::Refused,
            LockError::Io { .. } => ExitStatus::Failure,
            LockError::Interrupted { .. } => ExitStatus::Interrupted,
        }
    }
}

/// A held project lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct ProjectLock {
    _lock: Flock<File>,
    pub path: PathBuf,
}

/// How to take the lock.
pub enum Wait<'a> {
    /// Refuse at once when it is held.
    No,
    /// Wait for it; `on_wait` is called once with the holder's pid, and `cancelled` is asked
    /// every 100 ms.
    Yes {
        on_wait: &'a dyn Fn(Option<u32>),
        cancelled: &'a dyn Fn() -> bool,
    },
}

/// Take the lock of the project whose state lives in `state_dir` (created, with its
/// `.gitignore`, if missing).
pub fn acquire(state_dir: &Path, wait: Wait<'_>) -> Result<ProjectLock, LockError> {
    let path = state_dir.join("lock");
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    fs_err::create_dir_all(state_dir).map_err(io)?;
    let ignore = state_dir.join(".gitignore");
    if !ignore.exists() {
        crate::fsutil::write_atomic(&ignore, b"*\n", false).map_err(io)?;
    }
    let mut told = false;
    loop {
        // Opened afresh each time: `Flock::lock` hands the file back on failure, but a fresh
        // descriptor also sees a lock file that was replaced meanwhile.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(mut lock) => {
                let _ = lock.set_len(0);
                let _ = lock.rewind();
                let _ = writeln!(*lock, "{}", std::process::id());
                return Ok(ProjectLock { _lock: lock, path });
            }
            Err((_, Errno::EWOULDBLOCK)) => {}
            Err((_, e)) => return Err(io(std::io::Error::from(e))),
        }
        let pid = holder(&path);
        match &wait {
            Wait::No => return Err(LockError::Held { path, pid }),
            Wait::Yes { on_wait, cancelled } => {
                if !told {
                    on_wait(pid);
                    told = true;
                }
                if cancelled() {
                    return Err(LockError::Interrupted { path });
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// The pid the holder wrote (it writes it right after locking: try for a moment).
fn holder(path: &Path) -> Option<u32> {
    for _ in 0..20 {
        let mut text = String::new();
        if let Ok(mut f) = File::open(path) {
            let _ = f.read_to_string(&mut text);
        }
        if let Ok(pid) = text.trim().parse() {
            return Some(pid);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_with_the_holders_pid_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join(".fsi");
        let first = acquire(&state, Wait::No).unwrap();
        assert_eq!(
            std::fs::read_to_string(state.join("lock")).unwrap().trim(),
            std::process::id().to_string()
        );
        assert_eq!(
            std::fs::read_to_string(state.join(".gitignore")).unwrap(),
            "*\n"
        );
        match acquire(&state, Wait::No) {
            Err(LockError::Held { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Held, got {other:?}"),
        }
        let waited = std::cell::Cell::new(None);
        let err = acquire(
            &state,
            Wait::Yes {
                on_wait: &|p| waited.set(p),
                cancelled: &|| true,
            },
        )
        .unwrap_err();
        assert!(matches!(err, LockError::Interrupted { .. }), "{err:?}");
        assert_eq!(waited.get(), Some(std::process::id()));
        drop(first);
        acquire(&state, Wait::No).unwrap();
    }
}
