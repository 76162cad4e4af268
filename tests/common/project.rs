//! A throwaway project for session-engine tests: a temp dir holding a git repository with a test
//! identity, files written and read by relative path, and `.fsi/state.json` inspected.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct TempProject {
    dir: tempfile::TempDir,
}

impl TempProject {
    /// A new git repository with `files` (relative path, text) written into it.
    pub fn new(files: &[(&str, &str)]) -> TempProject {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let mut cfg = repo.config().unwrap();
        cfg.set_str("user.name", "Test").unwrap();
        cfg.set_str("user.email", "test@example.com").unwrap();
        let p = TempProject { dir };
        for (rel, text) in files {
            p.write(rel, text);
        }
        p
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    pub fn state(&self) -> serde_json::Value {
        serde_json::from_str(&self.read(".fsi/state.json")).unwrap()
    }

    /// A session's status in the state file (`pending` when it has none).
    pub fn status(&self, id: &str) -> String {
        self.state()["sessions"][id]["status"]
            .as_str()
            .unwrap_or("pending")
            .to_string()
    }

    pub fn repo(&self) -> git2::Repository {
        git2::Repository::open(self.root()).unwrap()
    }
}

/// A process exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .unwrap_or("");
            state != "Z" && state != "X"
        }
        Err(_) => false,
    }
}

/// Wait until `path` exists; panics after `limit`.
pub fn wait_for(path: &Path, limit: Duration) {
    let start = Instant::now();
    while !path.exists() {
        assert!(start.elapsed() < limit, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}
