//! Recorded state: statuses, timestamps, commit hashes and last results of every session, in one
//! JSON file (`.fsi/state.json` by default), always written atomically. Read-only commands load
//! it and never write it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Classify, ExitStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Pending,
    Active,
    Complete,
    Failed,
    Interrupted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Active => "active",
            Status::Complete => "complete",
            Status::Failed => "failed",
            Status::Interrupted => "interrupted",
        }
    }
}

/// One step's result as recorded (a gate check, task, verification check…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub phase: String,
    pub name: String,
    pub result: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    #[serde(default)]
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastRun {
    pub at: String,
    /// passed | failed | interrupted
    pub result: String,
    #[serde(default)]
    pub steps: Vec<StepRecord>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionState {
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// Short hash of the session's commit (mandatory for `complete`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub checkpoints: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<LastRun>,
    /// Paths this session changed in a run that did not commit them (it failed, was
    /// interrupted, or ran with `--no-commit`), repository-relative → fingerprint. A later run
    /// of the session counts them as its own, not as the user's uncommitted work.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub uncommitted: BTreeMap<String, String>,
    /// `fsi session start`: the paths that already had uncommitted changes then (→
    /// fingerprint). Checkpoints and `complete` leave them out of the session's commits.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub baseline: BTreeMap<String, String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    #[serde(default)]
    pub sessions: BTreeMap<String, SessionState>,
    /// What git history said at a commit: a cache, so that loading the state does not walk the
    /// whole history every time. Git history is the truth (see [`State::apply_history`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<History>,
}

/// Sessions complete according to the history of one commit (see
/// [`super::gitops::history`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The commit (full hash) this was read at; `""` for a repository without commits.
    pub head: String,
    /// Session id → short hash of its commit.
    #[serde(default)]
    pub complete: BTreeMap<String, String>,
}

impl Default for State {
    fn default() -> Self {
        State {
            version: 1,
            sessions: BTreeMap::new(),
            history: None,
        }
    }
}

impl State {
    pub fn status(&self, id: &str) -> Status {
        self.sessions.get(id).map_or(Status::Pending, |s| s.status)
    }

    pub fn is_complete(&self, id: &str) -> bool {
        self.status(id) == Status::Complete
    }

    pub fn entry(&mut self, id: &str) -> &mut SessionState {
        self.sessions.entry(id.to_string()).or_default()
    }

    /// Make the recorded statuses agree with git history, which is the truth: a session is
    /// complete exactly when the newest `Session: ID` trailer of HEAD's history completes it
    /// (with that commit); one recorded complete that history does not know (its commit was
    /// reset away, or reverted by hand) is pending again. Returns whether a session's record
    /// changed (not counting the cache itself).
    pub fn apply_history(&mut self, history: History) -> bool {
        let before = self.sessions.clone();
        for (id, e) in self.sessions.iter_mut() {
            if e.status == Status::Complete && !history.complete.contains_key(id) {
                e.status = Status::Pending;
                e.commit = None;
                e.completed_at = None;
            }
        }
        for (id, hash) in &history.complete {
            let e = self.entry(id);
            e.status = Status::Complete;
            e.uncommitted.clear();
            if e.commit.as_deref() != Some(hash.as_str()) {
                e.commit = Some(hash.clone());
            }
        }
        self.history = Some(history);
        self.sessions != before
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StateError {
    #[error("cannot read state file {path}")]
    #[diagnostic(code(fsi::state::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("state file {path} is not valid: {message}")]
    #[diagnostic(
        code(fsi::state::invalid),
        help("fix or delete the file; it only records session statuses and results")
    )]
    Invalid { path: PathBuf, message: String },
}

impl Classify for StateError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            StateError::Io { .. } => ExitStatus::Failure,
            StateError::Invalid { .. } => ExitStatus::Invalid,
        }
    }
}

/// Where the state lives.
#[derive(Debug, Clone)]
pub struct StateStore {
    pub path: PathBuf,
}

impl StateStore {
    pub fn new(root: &Path, state_dir: &Path) -> StateStore {
        StateStore {
            path: root.join(state_dir).join("state.json"),
        }
    }

    pub fn load(&self) -> Result<State, StateError> {
        match fs_err::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| StateError::Invalid {
                path: self.path.clone(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(source) => Err(StateError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Atomic write (temp file + rename). The state directory gets a `.gitignore` so session
    /// commits never pick it up.
    pub fn save(&self, state: &State) -> Result<(), StateError> {
        let mut text = serde_json::to_string_pretty(state).expect("state serializes");
        text.push('\n');
        self.write(&text)
    }

    /// Like [`StateStore::save`] (atomic, fsynced) but compact JSON: for the intermediate
    /// writes of a run, which rewrite the whole state once a second. Readers parse the
    /// file either way; the run's final write is [`StateStore::save`] again.
    ///
    /// Every write is flushed to disk before it replaces the file: on file systems that do not
    /// order a rename after the renamed file's data (XFS, ext4 without `auto_da_alloc`), an
    /// unsynced replacement could leave an empty file after a power cut, losing completions that
    /// an earlier write had made durable.
    pub fn save_compact(&self, state: &State) -> Result<(), StateError> {
        let mut text = serde_json::to_string(state).expect("state serializes");
        text.push('\n');
        self.write(&text)
    }

    fn write(&self, text: &str) -> Result<(), StateError> {
        let io = |source| StateError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            let ignore = dir.join(".gitignore");
            if !ignore.exists() {
                crate::fsutil::write_atomic(&ignore, b"*\n", false).map_err(io)?;
            }
        }
        crate::fsutil::write_atomic(&self.path, text.as_bytes(), false).map_err(io)
    }
}

/// Now, as RFC 3339 (seconds, local offset).
///
/// A run stamps every session twice; the text is kept for the current second (per thread), so
/// the local offset is looked up and the text formatted at most once a second.
pub fn now() -> String {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<Option<(u64, String)>> = const { RefCell::new(None) };
    }
    let second = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    LAST.with_borrow_mut(|last| match last {
        Some((s, text)) if *s == second => text.clone(),
        _ => {
            let text = chrono::DateTime::from_timestamp(second as i64, 0)
                .unwrap_or_default()
                .with_timezone(&chrono::Local)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
            *last = Some((second, text.clone()));
            text
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_rfc3339_with_the_local_offset_and_stays_current() {
        let first = now();
        let parsed = chrono::DateTime::parse_from_rfc3339(&first).expect("RFC 3339");
        let local = chrono::Local::now();
        assert_eq!(
            parsed.offset().local_minus_utc(),
            local.offset().local_minus_utc()
        );
        assert!((local.timestamp() - parsed.timestamp()).abs() <= 1);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let later = chrono::DateTime::parse_from_rfc3339(&now()).unwrap();
        assert!(
            later.timestamp() > parsed.timestamp(),
            "a cached second is not reused later"
        );
    }

    #[test]
    fn round_trip_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path(), Path::new(".fsi"));
        assert_eq!(store.load().unwrap(), State::default());
        let mut s = State::default();
        s.entry("A-01").status = Status::Complete;
        s.entry("A-01").commit = Some("abc1234".into());
        store.save(&s).unwrap();
        assert_eq!(store.load().unwrap(), s);
        assert!(dir.path().join(".fsi/.gitignore").exists());
        s.entry("B-01").status = Status::Failed;
        store.save_compact(&s).unwrap();
        assert_eq!(store.load().unwrap(), s);
    }
}
