//! Acting on a plan: integration gate, tasks, verification, completion.
//!
//! The runner never prints. It reports through an [`Observer`] and asks a [`Confirm`] for manual
//! steps; both are implemented by the command layer. State changes are saved atomically as they
//! happen, so an interrupted run leaves a consistent file in which the interrupted session is
//! `interrupted`, never `complete`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::actions::{ActionContext, ActionRegistry};
use super::expect::Expectation;
use super::plan::{CheckStep, Plan, PlannedSession, Retry, TaskStep};
use super::state::{LastRun, State, StateError, StateStore, Status, StepRecord};
use super::{PlanSet, SessionsConfig, gitops, progress, sessionmd};
use crate::error::{Classify, ExitStatus};
use crate::exec::{Cancel, ShellCommand, Termination};
use crate::services::{self, ServiceSpec};

/// How to run.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Sessions run in parallel when independent.
    pub jobs: usize,
    /// Overwrite differing files of CREATE tasks.
    pub force: bool,
    /// Accept manual steps without asking (and without a TTY).
    pub accept_manual: bool,
    /// Commit, update PROGRESS.md / SESSION.md and mark complete. Without it sessions are run and
    /// verified but stay incomplete.
    pub commit: bool,
    /// Skip the gate and the tasks: verification and completion only (`fsi session complete`).
    pub verify_only: bool,
    /// After a session fails, go on with every session whose dependencies passed (`fsi run
    /// --keep-going`); without it nothing new starts once one has failed.
    pub keep_going: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: 1,
            force: false,
            accept_manual: false,
            commit: true,
            verify_only: false,
            keep_going: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Gate,
    Task,
    Check,
    Forbidden,
    Files,
    Commit,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Gate => "gate",
            Phase::Task => "task",
            Phase::Check => "check",
            Phase::Forbidden => "forbidden",
            Phase::Files => "files",
            Phase::Commit => "commit",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Passed,
    Failed,
    TimedOut,
    Interrupted,
    /// Prose shown to the human, not run.
    Note,
}

impl StepOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            StepOutcome::Passed => "passed",
            StepOutcome::Failed => "failed",
            StepOutcome::TimedOut => "timed_out",
            StepOutcome::Interrupted => "interrupted",
            StepOutcome::Note => "note",
        }
    }

    pub fn is_failure(self) -> bool {
        matches!(self, StepOutcome::Failed | StepOutcome::TimedOut)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    pub phase: Phase,
    pub name: String,
    pub outcome: StepOutcome,
    pub detail: String,
    pub command: Option<String>,
    #[serde(serialize_with = "ser_ms", rename = "duration_ms")]
    pub duration: Duration,
    pub attempts: u32,
    /// Last lines of the output of the final attempt.
    pub stdout: String,
    pub stderr: String,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl StepResult {
    fn new(phase: Phase, name: impl Into<String>, outcome: StepOutcome) -> StepResult {
        StepResult {
            phase,
            name: name.into(),
            outcome,
            detail: String::new(),
            command: None,
            duration: Duration::ZERO,
            attempts: 0,
            stdout: String::new(),
            stderr: String::new(),
        }
    }

    fn detail(mut self, d: impl Into<String>) -> StepResult {
        self.detail = d.into();
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionOutcome {
    /// Ran, verified and (with commits on) completed.
    Passed,
    Failed,
    Interrupted,
    /// Already complete; not run.
    Skipped,
    /// Not started because an earlier session failed or the run was interrupted.
    NotRun,
}

impl SessionOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionOutcome::Passed => "passed",
            SessionOutcome::Failed => "failed",
            SessionOutcome::Interrupted => "interrupted",
            SessionOutcome::Skipped => "skipped",
            SessionOutcome::NotRun => "not_run",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionResult {
    pub id: String,
    pub title: String,
    pub outcome: SessionOutcome,
    /// Why it failed / was not run; `action_on_fail` of a failed gate.
    pub message: Option<String>,
    pub commit: Option<String>,
    pub steps: Vec<StepResult>,
    #[serde(serialize_with = "ser_ms", rename = "duration_ms")]
    pub duration: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub sessions: Vec<SessionResult>,
    pub interrupted: bool,
}

impl RunSummary {
    pub fn exit_status(&self) -> ExitStatus {
        if self.interrupted
            || self
                .sessions
                .iter()
                .any(|s| s.outcome == SessionOutcome::Interrupted)
        {
            ExitStatus::Interrupted
        } else if self
            .sessions
            .iter()
            .any(|s| s.outcome == SessionOutcome::Failed)
        {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        }
    }
}

/// Progress reported by the runner, in order per session.
#[derive(Debug)]
pub enum Event<'a> {
    SessionStarted {
        id: &'a str,
        title: &'a str,
    },
    StepStarted {
        id: &'a str,
        phase: Phase,
        name: &'a str,
    },
    Retrying {
        id: &'a str,
        name: &'a str,
        attempt: u32,
        attempts: u32,
        wait: Duration,
        reason: &'a str,
    },
    StepFinished {
        id: &'a str,
        step: &'a StepResult,
    },
    SessionFinished {
        result: &'a SessionResult,
    },
}

pub trait Observer: Send + Sync {
    fn event(&self, event: &Event<'_>);
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {
    fn event(&self, _: &Event<'_>) {}
}

/// Asks a human. `None` when nobody can be asked (no TTY).
pub trait Confirm: Send + Sync {
    fn confirm(&self, session: &str, what: &str) -> Option<bool>;
}

/// Never asks: every manual step is "cannot ask".
pub struct NoPrompt;

impl Confirm for NoPrompt {
    fn confirm(&self, _: &str, _: &str) -> Option<bool> {
        None
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RunError {
    #[error(
        "refusing to overwrite files that differ from the plan's content: {}",
        .0.join(", ")
    )]
    #[diagnostic(
        code(fsi::run::would_overwrite),
        help("pass --force to overwrite them, or remove the CREATE task's file")
    )]
    Conflicts(Vec<String>),
    #[error("{0} is not inside a git repository; completing a session needs a commit")]
    #[diagnostic(
        code(fsi::run::no_git),
        help("run `git init`, or pass --no-commit to run and verify without completing")
    )]
    NoRepo(PathBuf),
    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] StateError),
}

impl Classify for RunError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            RunError::Conflicts(_) | RunError::NoRepo(_) => ExitStatus::Refused,
            RunError::State(e) => e.exit_status(),
        }
    }
}

/// Everything a run needs.
pub struct Runner<'a> {
    pub set: &'a PlanSet,
    pub config: &'a SessionsConfig,
    /// fsi.toml `[services]`, ports already resolved; sessions name them in `<services>`.
    pub services: &'a BTreeMap<String, ServiceSpec>,
    pub registry: &'a ActionRegistry,
    pub store: &'a StateStore,
    pub cancel: &'a Cancel,
    pub observer: &'a dyn Observer,
    pub confirm: &'a dyn Confirm,
    pub opts: RunOptions,
    /// What had uncommitted changes before the run and is not the sessions' own (see
    /// [`run_baseline`]): never committed by a session, and a session that changes it again is
    /// not committed at all. `None` outside a git repository (nothing to attribute).
    pub baseline: Option<&'a gitops::Snapshot>,
}

/// Which planned sessions may start: those whose dependencies (within the run) have all passed,
/// in plan order. Dependencies are resolved to indices once, so picking the next session and
/// settling a finished one cost no string comparisons.
struct ReadyQueue {
    /// Sessions whose dependencies have all passed, by position in the plan.
    ready: BTreeSet<usize>,
    /// Per session: how many of its dependencies in the run have not passed yet.
    waiting: Vec<usize>,
    /// Per session: the sessions in the run that depend on it.
    dependents: Vec<Vec<usize>>,
}

impl ReadyQueue {
    fn new(to_run: &[&PlannedSession]) -> ReadyQueue {
        let index: std::collections::HashMap<&str, usize> = to_run
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect();
        let mut waiting = vec![0; to_run.len()];
        let mut dependents = vec![Vec::new(); to_run.len()];
        for (i, p) in to_run.iter().enumerate() {
            for d in &p.dependencies {
                // Dependencies outside the run were checked when the plan was made.
                if let Some(&j) = index.get(d.as_str()) {
                    waiting[i] += 1;
                    dependents[j].push(i);
                }
            }
        }
        let ready = (0..to_run.len()).filter(|&i| waiting[i] == 0).collect();
        ReadyQueue {
            ready,
            waiting,
            dependents,
        }
    }

    fn next(&mut self) -> Option<usize> {
        self.ready.pop_first()
    }

    fn passed(&mut self, i: usize) {
        for &j in &self.dependents[i] {
            self.waiting[j] -= 1;
            if self.waiting[j] == 0 {
                self.ready.insert(j);
            }
        }
    }
}

/// Minimum time between two coalesced state writes. Each rewrites the whole state and fsyncs
/// it, so the interval bounds what a long plan spends on them (at 250 ms, a 2,000-session run of
/// 2.5 s wrote ten times, each `fsync` taking 0.3–1.6 ms on a virtual disk). A run that is
/// interrupted writes at its end; one that is killed loses at most this much of its marks (a
/// completion is written at once, with its commit).
const SAVE_INTERVAL: Duration = Duration::from_secs(1);

struct Shared {
    /// One lock per service name: with `-j`, sessions that need the same service (and so the
    /// same port) take turns instead of talking to each other's server.
    service_locks: Mutex<BTreeMap<String, Arc<Mutex<()>>>>,
    state: Mutex<State>,
    last_save: Mutex<Instant>,
    dirty: AtomicBool,
    /// An intermediate (compact) write happened: the final write restores the pretty form.
    compacted: AtomicBool,
    git: Mutex<()>,
    prompt: Mutex<()>,
    /// Working directories found to exist during this run. A session's directory may be created
    /// by an earlier session, so it is checked when the session starts, but once seen it is not
    /// stat'ed again (were it removed later, the spawn reports the missing directory).
    dirs_seen: Mutex<DirsSeen>,
}

/// Working directories seen to exist; the last one is compared first (consecutive sessions
/// mostly share one, and a byte comparison is cheaper than hashing a path).
#[derive(Default)]
struct DirsSeen {
    last: Option<PathBuf>,
    all: std::collections::HashSet<PathBuf>,
}

impl Shared {
    fn dir_exists(&self, dir: &Path) -> bool {
        let mut seen = self.dirs_seen.lock().expect("dirs lock");
        if seen
            .last
            .as_deref()
            .is_some_and(|l| l.as_os_str() == dir.as_os_str())
        {
            return true;
        }
        let exists = seen.all.contains(dir) || (dir.is_dir() && seen.all.insert(dir.to_path_buf()));
        if exists {
            seen.last = Some(dir.to_path_buf());
        }
        exists
    }
}

impl Runner<'_> {
    /// Checks that must hold before anything runs (plan-then-act): no file conflicts, a git
    /// repository when commits are on.
    pub fn preflight(&self, plan: &Plan) -> Result<(), RunError> {
        if !plan.conflicts.is_empty() && !self.opts.force {
            return Err(RunError::Conflicts(
                plan.conflicts
                    .iter()
                    .map(|c| format!("{} ({})", self.set.display_path(&c.path), c.session))
                    .collect(),
            ));
        }
        if self.opts.commit
            && plan.to_run().next().is_some()
            && gitops::open(&self.set.root).is_err()
        {
            return Err(RunError::NoRepo(self.set.root.clone()));
        }
        Ok(())
    }

    /// Run the plan. State is saved after every change.
    pub fn execute(&self, plan: &Plan, state: State) -> Result<RunSummary, RunError> {
        self.preflight(plan)?;
        let shared = Shared {
            service_locks: Mutex::new(BTreeMap::new()),
            state: Mutex::new(state),
            // The first write comes one interval into the run (or at its end): a run that is
            // killed sooner leaves the state as it found it, which is consistent too.
            last_save: Mutex::new(Instant::now()),
            dirty: AtomicBool::new(false),
            compacted: AtomicBool::new(false),
            git: Mutex::new(()),
            prompt: Mutex::new(()),
            dirs_seen: Mutex::default(),
        };
        let to_run: Vec<&PlannedSession> = plan.to_run().collect();
        let mut queue = ReadyQueue::new(&to_run);
        let mut results: Vec<Option<SessionResult>> = to_run.iter().map(|_| None).collect();
        let mut running = 0usize;
        let mut stop = false;
        let jobs = self.opts.jobs.max(1);
        let (tx, rx) = mpsc::channel::<(usize, SessionResult)>();

        std::thread::scope(|scope| {
            let settle = |queue: &mut ReadyQueue,
                          results: &mut [Option<SessionResult>],
                          (i, r): (usize, SessionResult),
                          stop: &mut bool| {
                if r.outcome == SessionOutcome::Passed {
                    queue.passed(i);
                } else if !self.opts.keep_going || r.outcome == SessionOutcome::Interrupted {
                    *stop = true;
                }
                results[i] = Some(r);
            };
            loop {
                while !stop && !self.cancel.is_cancelled() && running < jobs {
                    let Some(i) = queue.next() else { break };
                    if jobs == 1 {
                        // One at a time: no thread needed, run it here.
                        let r = self.run_session(to_run[i], &shared);
                        settle(&mut queue, &mut results, (i, r), &mut stop);
                        continue;
                    }
                    running += 1;
                    let tx = tx.clone();
                    let (shared, p) = (&shared, to_run[i]);
                    scope.spawn(move || {
                        let _ = tx.send((i, self.run_session(p, shared)));
                    });
                }
                if running == 0 {
                    break;
                }
                let done = rx.recv().expect("a running session reports");
                running -= 1;
                settle(&mut queue, &mut results, done, &mut stop);
            }
        });
        let mut results: BTreeMap<&str, SessionResult> = to_run
            .iter()
            .zip(results)
            .filter_map(|(p, r)| Some((p.id.as_str(), r?)))
            .collect();

        if shared.dirty.load(Ordering::SeqCst) || shared.compacted.load(Ordering::SeqCst) {
            let st = shared.state.lock().expect("state lock");
            self.store.save(&st)?;
        }
        let interrupted = self.cancel.is_cancelled();
        // Failed sessions (mapped to themselves) and sessions not run because a dependency
        // failed (mapped to that failed session): why their dependents did not run. Plan order
        // puts dependencies first.
        let mut failed_root: BTreeMap<&str, &str> = BTreeMap::new();
        let mut sessions = Vec::new();
        for p in &plan.sessions {
            if let Some(r) = results.remove(p.id.as_str()) {
                if r.outcome == SessionOutcome::Failed {
                    failed_root.insert(p.id.as_str(), p.id.as_str());
                }
                sessions.push(r);
                continue;
            }
            let blocked_by = p
                .dependencies
                .iter()
                .find_map(|d| failed_root.get_key_value(d.as_str()))
                .map(|(&dep, &root)| (dep, root));
            if p.skip.is_none()
                && let Some((_, root)) = blocked_by
            {
                failed_root.insert(p.id.as_str(), root);
            }
            let (outcome, message) = match (&p.skip, blocked_by) {
                (Some(why), _) => (SessionOutcome::Skipped, why.clone()),
                (None, Some((dep, root))) if dep == root => {
                    (SessionOutcome::NotRun, format!("dependency {dep} failed"))
                }
                (None, Some((dep, root))) => (
                    SessionOutcome::NotRun,
                    format!("dependency {dep} was not run ({root} failed)"),
                ),
                (None, None) if interrupted => {
                    (SessionOutcome::NotRun, "the run was interrupted".into())
                }
                (None, None) => (
                    SessionOutcome::NotRun,
                    "not started: an earlier session failed".into(),
                ),
            };
            let r = SessionResult {
                id: p.id.clone(),
                title: p.title.clone(),
                outcome,
                message: Some(message),
                commit: None,
                steps: Vec::new(),
                duration: Duration::ZERO,
            };
            if outcome == SessionOutcome::NotRun {
                self.observer.event(&Event::SessionFinished { result: &r });
            }
            sessions.push(r);
        }
        Ok(RunSummary {
            sessions,
            interrupted,
        })
    }

    /// Apply `f` to the state and persist it. Writes are coalesced (at most one per
    /// [`SAVE_INTERVAL`]) unless `durable` — used when a session's completion must be on disk
    /// together with its commit. `execute` always flushes at the end, interrupted or not.
    fn save(&self, shared: &Shared, durable: bool, f: impl FnOnce(&mut State)) {
        let mut st = shared.state.lock().expect("state lock");
        f(&mut st);
        let mut last = shared.last_save.lock().expect("save lock");
        if durable || last.elapsed() >= SAVE_INTERVAL {
            // A failed save must not abort a run half-way; the next save retries with full
            // state.
            let ok = self.store.save_compact(&st).is_ok();
            shared.dirty.store(!ok, Ordering::SeqCst);
            shared.compacted.store(true, Ordering::SeqCst);
            *last = Instant::now();
        } else {
            shared.dirty.store(true, Ordering::SeqCst);
        }
    }

    fn run_session(&self, p: &PlannedSession, shared: &Shared) -> SessionResult {
        let start = Instant::now();
        let id = p.id.as_str();
        self.observer.event(&Event::SessionStarted {
            id,
            title: &p.title,
        });
        let started = super::state::now();
        self.save(shared, false, |st| {
            let e = st.entry(id);
            e.status = Status::Active;
            e.started_at = Some(started.clone());
        });
        let session = self.set.get(id).expect("planned sessions exist");
        if self.opts.commit && !self.opts.verify_only {
            let path = self.set.root.join(&self.config.session_file);
            let text = sessionmd::active(
                session,
                &started,
                &self.set.display_path(&p.workdir),
                &self.set.display_path(&session.source),
            );
            let _ = crate::fsutil::write_atomic(&path, text.as_bytes(), false);
        }

        let mut result = SessionResult {
            id: p.id.clone(),
            title: p.title.clone(),
            outcome: SessionOutcome::Passed,
            message: None,
            commit: None,
            steps: Vec::new(),
            duration: Duration::ZERO,
        };
        let locks = self.service_locks(session, shared);
        // Held for the whole session; taken in name order, so sessions cannot deadlock.
        let held: Vec<_> = locks
            .iter()
            .map(|l| l.lock().expect("service lock"))
            .collect();
        let outcome = match self.start_services(session, &mut result) {
            Some(running) => {
                // Services stay up for the gate, the tasks and the verification, and are
                // stopped (whole process groups) before the commit.
                let outcome = self.run_steps(p, session, shared, &mut result);
                drop(running);
                outcome
            }
            None if self.cancel.is_cancelled() => self.interrupted(&mut result),
            None => SessionOutcome::Failed,
        };
        drop(held);
        result.outcome = outcome;
        if outcome == SessionOutcome::Passed && self.opts.commit {
            if self.cancel.is_cancelled() {
                result.outcome = SessionOutcome::Interrupted;
            } else {
                let step = self.complete(p, session, shared, &mut result);
                let failed = step.outcome.is_failure();
                self.push(&mut result, step);
                if failed {
                    result.outcome = SessionOutcome::Failed;
                    result.message = Some("the session's commit failed".into());
                }
            }
        }
        result.duration = start.elapsed();
        let records: Vec<StepRecord> = result
            .steps
            .iter()
            .map(|s| StepRecord {
                phase: s.phase.as_str().into(),
                name: s.name.clone(),
                result: s.outcome.as_str().into(),
                detail: s.detail.clone(),
                duration_ms: s.duration.as_millis() as u64,
            })
            .collect();
        let final_outcome = result.outcome;
        let commit_on = self.opts.commit;
        // What the session changed but did not commit is remembered as its own, so that a
        // later run of it commits those files instead of taking them for the user's.
        let leftovers =
            if self.opts.verify_only || (final_outcome == SessionOutcome::Passed && commit_on) {
                None
            } else {
                let _git = shared.git.lock().expect("git lock");
                self.leftovers(&p.workdir)
            };
        self.save(
            shared,
            final_outcome == SessionOutcome::Passed && commit_on,
            |st| {
                let e = st.entry(id);
                if let Some(l) = leftovers {
                    e.uncommitted.extend(l);
                }
                e.last_run = Some(LastRun {
                    at: super::state::now(),
                    result: final_outcome.as_str().into(),
                    steps: records,
                });
                match final_outcome {
                    SessionOutcome::Passed if commit_on => {} // set by complete()
                    SessionOutcome::Passed => {
                        if e.status == Status::Active {
                            e.status = if e.commit.is_some() {
                                Status::Complete
                            } else {
                                Status::Pending
                            };
                        }
                    }
                    SessionOutcome::Interrupted => e.status = Status::Interrupted,
                    _ => e.status = Status::Failed,
                }
            },
        );
        self.observer
            .event(&Event::SessionFinished { result: &result });
        result
    }

    /// The paths below `workdir` changed since the run's baseline, with their fingerprints
    /// (`None` outside a git repository).
    fn leftovers(&self, workdir: &Path) -> Option<gitops::Snapshot> {
        let baseline = self.baseline?;
        let repo = gitops::open(workdir).ok()?;
        let exclude = excluded_paths(&repo, self.set, self.config);
        let scope = gitops::pathspec_for(&repo, workdir).pop();
        let att = gitops::attribute(&repo, baseline, scope.as_deref(), &exclude).ok()?;
        let root = repo.workdir()?.to_path_buf();
        Some(
            att.paths
                .into_iter()
                .map(|p| {
                    let f = gitops::fingerprint(&root.join(&p));
                    (p, f)
                })
                .collect(),
        )
    }

    /// The locks of the services a session needs, in name order. With `-j`, sessions that need
    /// the same service (and so the same port) take turns.
    fn service_locks(&self, session: &super::Session, shared: &Shared) -> Vec<Arc<Mutex<()>>> {
        let mut names: Vec<&str> = session.services.iter().map(|u| u.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let mut map = shared.service_locks.lock().expect("service locks");
        names
            .iter()
            .map(|n| map.entry(n.to_string()).or_default().clone())
            .collect()
    }

    /// Start the session's services in order, each waited on until its readiness probe answers.
    /// `None` (with a failed step recorded) when one does not come up.
    fn start_services(
        &self,
        session: &super::Session,
        result: &mut SessionResult,
    ) -> Option<Vec<services::Running>> {
        let mut running = Vec::new();
        for u in &session.services {
            if self.cancel.is_cancelled() {
                return None;
            }
            let name = format!("service {}", u.name);
            self.observer.event(&Event::StepStarted {
                id: &result.id,
                phase: Phase::Gate,
                name: &name,
            });
            let spec = super::service_spec(self.services, u);
            let started = Instant::now();
            match services::start(&u.name, &spec, &self.set.root) {
                Ok(r) => {
                    let mut step = StepResult::new(Phase::Gate, name, StepOutcome::Passed);
                    step.duration = started.elapsed();
                    let where_ = r.port.map(|p| format!(" on port {p}")).unwrap_or_default();
                    step =
                        step.detail(format!("up{where_}; log {}", self.set.display_path(&r.log)));
                    self.push(result, step);
                    running.push(r);
                }
                Err(e) => {
                    let mut step = StepResult::new(Phase::Gate, name, StepOutcome::Failed);
                    step.duration = started.elapsed();
                    step = step.detail(e.to_string());
                    self.push(result, step);
                    result.message = Some(format!("service `{}` did not start", u.name));
                    return None;
                }
            }
        }
        Some(running)
    }

    fn push(&self, result: &mut SessionResult, step: StepResult) {
        self.observer.event(&Event::StepFinished {
            id: &result.id,
            step: &step,
        });
        result.steps.push(step);
    }

    fn interrupted(&self, result: &mut SessionResult) -> SessionOutcome {
        result.message = Some("interrupted".into());
        SessionOutcome::Interrupted
    }

    fn run_steps(
        &self,
        p: &PlannedSession,
        session: &super::Session,
        shared: &Shared,
        result: &mut SessionResult,
    ) -> SessionOutcome {
        let id = p.id.as_str();
        if !shared.dir_exists(&p.workdir) {
            let step = StepResult::new(Phase::Gate, "working_directory", StepOutcome::Failed)
                .detail(format!(
                    "working directory {} does not exist",
                    self.set.display_path(&p.workdir)
                ));
            self.push(result, step);
            result.message = Some("the working directory does not exist".into());
            return SessionOutcome::Failed;
        }
        let (gate, tasks) = if self.opts.verify_only {
            (&[][..], &[][..])
        } else {
            (&p.gate[..], &p.tasks[..])
        };
        let mut touched: Vec<PathBuf> = session
            .tasks
            .iter()
            .filter_map(|t| t.file.as_ref().map(|f| p.workdir.join(f)))
            .collect();
        // 1. Integration gate.
        for g in gate {
            self.observer.event(&Event::StepStarted {
                id,
                phase: Phase::Gate,
                name: &g.name,
            });
            let step = self.run_command(
                id,
                Phase::Gate,
                &g.name,
                &g.command,
                &p.workdir,
                &g.retry,
                None,
            );
            let outcome = step.outcome;
            self.push(result, step);
            match outcome {
                StepOutcome::Interrupted => return self.interrupted(result),
                o if o.is_failure() => {
                    result.message = Some(p.action_on_fail.clone().unwrap_or_else(|| {
                        format!(
                            "integration gate `{}` failed; fix it before this session",
                            g.name
                        )
                    }));
                    return SessionOutcome::Failed;
                }
                _ => {}
            }
        }
        // 2. Tasks.
        for t in tasks {
            if self.cancel.is_cancelled() {
                return self.interrupted(result);
            }
            let name = match &t.id {
                Some(tid) => format!("{tid}. {}", t.title),
                None => t.title.clone(),
            };
            self.observer.event(&Event::StepStarted {
                id,
                phase: Phase::Task,
                name: &name,
            });
            let task = &session.tasks[t.index];
            let step = match &t.step {
                TaskStep::Run { command, timeout_s } => {
                    let retry = Retry {
                        timeout_s: *timeout_s,
                        retries: 0,
                        interval_s: 0.0,
                        max_backoff_s: 0.0,
                    };
                    self.run_command(id, Phase::Task, &name, command, &p.workdir, &retry, None)
                }
                TaskStep::Write { path, content, .. } => self.write_file(&name, path, content),
                TaskStep::Replace {
                    path,
                    marker,
                    content,
                } => self.replace_marker(&name, path, marker, content),
                TaskStep::Builtin {
                    action,
                    covered_by: Some(first),
                    ..
                } => StepResult::new(Phase::Task, &name, StepOutcome::Passed)
                    .detail(format!("covered by `{first}` (`{action}` runs once)")),
                TaskStep::Builtin { action, .. } => {
                    let started = Instant::now();
                    let ctx = ActionContext {
                        root: &self.set.root,
                        workdir: &p.workdir,
                        session,
                        task,
                        cancel: self.cancel,
                        force: self.opts.force,
                    };
                    let found = self.registry.lookup(task);
                    let mut step = match found.map(|(_, a)| a.run(&ctx)) {
                        Some(Ok(out)) => {
                            touched.extend(out.files.iter().map(|f| p.workdir.join(f)));
                            StepResult::new(Phase::Task, &name, StepOutcome::Passed)
                                .detail(out.summary)
                        }
                        Some(Err(e)) => {
                            StepResult::new(Phase::Task, &name, StepOutcome::Failed).detail(e)
                        }
                        None => StepResult::new(Phase::Task, &name, StepOutcome::Failed)
                            .detail(format!("built-in action `{action}` is not registered")),
                    };
                    step.duration = started.elapsed();
                    step
                }
                TaskStep::Manual { instruction } => {
                    self.manual(shared, id, Phase::Task, &name, instruction)
                }
            };
            let outcome = step.outcome;
            self.push(result, step);
            match outcome {
                StepOutcome::Interrupted => return self.interrupted(result),
                o if o.is_failure() => {
                    result.message = Some(format!("task `{name}` failed"));
                    return SessionOutcome::Failed;
                }
                _ => {}
            }
        }
        // 3. Verification: everything is checked, then the session fails if anything failed.
        let mut failures = Vec::new();
        for c in &p.checks {
            if self.cancel.is_cancelled() {
                return self.interrupted(result);
            }
            self.observer.event(&Event::StepStarted {
                id,
                phase: Phase::Check,
                name: &c.name,
            });
            let step = match &c.step {
                CheckStep::Command {
                    command,
                    expect,
                    retry,
                } => self.run_command(
                    id,
                    Phase::Check,
                    &c.name,
                    command,
                    &p.workdir,
                    retry,
                    Some(expect),
                ),
                CheckStep::Manual { text } => self.manual(shared, id, Phase::Check, &c.name, text),
                CheckStep::Note { text } => {
                    StepResult::new(Phase::Check, &c.name, StepOutcome::Note).detail(text.clone())
                }
            };
            let outcome = step.outcome;
            self.push(result, step);
            match outcome {
                StepOutcome::Interrupted => return self.interrupted(result),
                o if o.is_failure() => failures.push(format!("check `{}`", c.name)),
                _ => {}
            }
        }
        // Files that must exist.
        let mut missing = Vec::new();
        for f in p.files.iter().chain(&p.screenshots) {
            if !p.workdir.join(f).exists() {
                missing.push(f.clone());
            }
        }
        if !p.files.is_empty() || !p.screenshots.is_empty() {
            let step = if missing.is_empty() {
                StepResult::new(Phase::Files, "files exist", StepOutcome::Passed).detail(format!(
                    "{} file(s) present",
                    p.files.len() + p.screenshots.len()
                ))
            } else {
                failures.push("files".into());
                StepResult::new(Phase::Files, "files exist", StepOutcome::Failed)
                    .detail(format!("missing: {}", missing.join(", ")))
            };
            self.push(result, step);
        }
        // Forbidden literal patterns in the session's files.
        if !p.forbidden.is_empty() {
            touched.extend(files_matching(&p.workdir, &session.forbidden_paths));
            touched.sort();
            touched.dedup();
            let hits = grep_literal(&p.forbidden, &touched, &self.set.root);
            let step = if hits.is_empty() {
                StepResult::new(Phase::Forbidden, "forbidden patterns", StepOutcome::Passed).detail(
                    format!(
                        "{} pattern(s) absent from {} file(s)",
                        p.forbidden.len(),
                        touched.iter().filter(|f| f.is_file()).count()
                    ),
                )
            } else {
                failures.push("forbidden patterns".into());
                StepResult::new(Phase::Forbidden, "forbidden patterns", StepOutcome::Failed)
                    .detail(hits.join("\n"))
            };
            self.push(result, step);
        }
        if failures.is_empty() {
            SessionOutcome::Passed
        } else {
            result.message = Some(format!("verification failed: {}", failures.join(", ")));
            SessionOutcome::Failed
        }
    }

    /// Run a command with retries and capped backoff; evaluate `expect` (exit 0 when `None`).
    #[allow(clippy::too_many_arguments)]
    fn run_command(
        &self,
        id: &str,
        phase: Phase,
        name: &str,
        command: &str,
        cwd: &Path,
        retry: &Retry,
        expect: Option<&Expectation>,
    ) -> StepResult {
        let started = Instant::now();
        let attempts = retry.retries + 1;
        let mut step = StepResult::new(phase, name, StepOutcome::Failed);
        step.command = Some(command.to_string());
        for attempt in 1..=attempts {
            step.attempts = attempt;
            let timeout = (retry.timeout_s > 0.0).then(|| Duration::from_secs_f64(retry.timeout_s));
            let out = ShellCommand::new(command, cwd)
                .timeout(timeout)
                .grace(self.config.kill_grace.duration())
                .env("FSI_SESSION", id)
                .envs(fsi_on_path())
                .run(self.cancel);
            let out = match out {
                Ok(o) => o,
                Err(e) => {
                    step.detail = e.to_string();
                    break;
                }
            };
            step.stdout = tail(&out.stdout, 20);
            step.stderr = tail(&out.stderr, 20);
            let reason = match out.termination {
                Termination::Cancelled => {
                    step.outcome = StepOutcome::Interrupted;
                    step.detail = "interrupted; its process group was terminated".into();
                    break;
                }
                Termination::TimedOut => {
                    step.outcome = StepOutcome::TimedOut;
                    step.detail = format!(
                        "timed out after {}; its process group was terminated",
                        fmt_secs(retry.timeout_s)
                    );
                    step.detail.clone()
                }
                Termination::Exited(code) => {
                    let verdict = match expect {
                        Some(e) => e.evaluate(code, &out.stdout),
                        None if code == 0 => Ok(None),
                        None => Err(format!("exit status {code}")),
                    };
                    match verdict {
                        Ok(note) => {
                            step.outcome = StepOutcome::Passed;
                            step.detail = note.unwrap_or_default();
                            break;
                        }
                        Err(why) => {
                            step.outcome = StepOutcome::Failed;
                            step.detail = why.clone();
                            why
                        }
                    }
                }
            };
            if attempt < attempts {
                let wait = Duration::from_secs_f64(retry.backoff(attempt));
                self.observer.event(&Event::Retrying {
                    id,
                    name,
                    attempt,
                    attempts,
                    wait,
                    reason: &reason,
                });
                if !sleep_cancellable(wait, self.cancel) {
                    step.outcome = StepOutcome::Interrupted;
                    step.detail = "interrupted while waiting to retry".into();
                    break;
                }
            }
        }
        step.duration = started.elapsed();
        step
    }

    fn manual(
        &self,
        shared: &Shared,
        id: &str,
        phase: Phase,
        name: &str,
        what: &str,
    ) -> StepResult {
        let started = Instant::now();
        let mut step = if self.opts.accept_manual {
            StepResult::new(phase, name, StepOutcome::Passed)
                .detail(format!("manual step accepted (--accept-manual): {what}"))
        } else {
            let _guard = shared.prompt.lock().expect("prompt lock");
            match self.confirm.confirm(id, what) {
                Some(true) => StepResult::new(phase, name, StepOutcome::Passed)
                    .detail(format!("manual step confirmed: {what}")),
                Some(false) => StepResult::new(phase, name, StepOutcome::Failed)
                    .detail(format!("manual step not confirmed: {what}")),
                None => StepResult::new(phase, name, StepOutcome::Failed).detail(format!(
                    "manual step needs a human: {what}\n(run on a terminal to confirm it, or pass --accept-manual)"
                )),
            }
        };
        step.duration = started.elapsed();
        step
    }

    fn write_file(&self, name: &str, path: &Path, content: &str) -> StepResult {
        let shown = self.set.display_path(path);
        match std::fs::read(path) {
            Ok(existing) if existing == content.as_bytes() => {
                return StepResult::new(Phase::Task, name, StepOutcome::Passed)
                    .detail(format!("{shown} unchanged"));
            }
            Ok(_) if !self.opts.force => {
                return StepResult::new(Phase::Task, name, StepOutcome::Failed).detail(format!(
                    "{shown} exists with different content; pass --force to overwrite it"
                ));
            }
            _ => {}
        }
        match crate::fsutil::write_atomic(path, content.as_bytes(), false) {
            Ok(()) => StepResult::new(Phase::Task, name, StepOutcome::Passed)
                .detail(format!("wrote {shown}")),
            Err(e) => StepResult::new(Phase::Task, name, StepOutcome::Failed)
                .detail(format!("cannot write {shown}: {e}")),
        }
    }

    fn replace_marker(&self, name: &str, path: &Path, marker: &str, content: &str) -> StepResult {
        let shown = self.set.display_path(path);
        let text = match fs_err::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                return StepResult::new(Phase::Task, name, StepOutcome::Failed)
                    .detail(e.to_string());
            }
        };
        let marker = marker.trim();
        let mut out = String::with_capacity(text.len() + content.len());
        let mut replaced = false;
        for line in text.split_inclusive('\n') {
            if !replaced && line.trim() == marker {
                let indent = &line[..line.len() - line.trim_start().len()];
                for l in content.lines() {
                    if !l.is_empty() {
                        out.push_str(indent);
                    }
                    out.push_str(l);
                    out.push('\n');
                }
                replaced = true;
            } else {
                out.push_str(line);
            }
        }
        if !replaced {
            let first = content.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            if text.contains(first.trim()) {
                return StepResult::new(Phase::Task, name, StepOutcome::Passed)
                    .detail(format!("{shown}: already replaced"));
            }
            return StepResult::new(Phase::Task, name, StepOutcome::Failed)
                .detail(format!("{shown}: marker line `{marker}` not found"));
        }
        match crate::fsutil::write_atomic(path, out.as_bytes(), false) {
            Ok(()) => StepResult::new(Phase::Task, name, StepOutcome::Passed)
                .detail(format!("replaced the marker in {shown}")),
            Err(e) => StepResult::new(Phase::Task, name, StepOutcome::Failed).detail(e.to_string()),
        }
    }

    /// Commit, record the hash, update PROGRESS.md and SESSION.md, mark complete.
    fn complete(
        &self,
        p: &PlannedSession,
        session: &super::Session,
        shared: &Shared,
        result: &mut SessionResult,
    ) -> StepResult {
        let started = Instant::now();
        let _git = shared.git.lock().expect("git lock");
        let done = {
            let st = shared.state.lock().expect("state lock");
            st.clone()
        };
        // The files the session's CREATE tasks write are its own, whatever they were before
        // (an identical file, or one `--force` replaced).
        let owned: Vec<&Path> = p
            .tasks
            .iter()
            .filter_map(|t| match &t.step {
                TaskStep::Write { path, .. } => Some(path.as_path()),
                _ => None,
            })
            .collect();
        match complete_session(
            self.set,
            self.config,
            session,
            &p.workdir,
            done,
            self.baseline.unwrap_or(&NO_BASELINE),
            &owned,
        ) {
            Ok(c) => {
                result.commit = Some(c.hash.clone());
                self.save(shared, true, |st| *st.entry(&p.id) = c.entry.clone());
                let mut step = StepResult::new(Phase::Commit, "commit", StepOutcome::Passed)
                    .detail(c.summary());
                step.duration = started.elapsed();
                step
            }
            Err(e) => StepResult::new(Phase::Commit, "commit", StepOutcome::Failed).detail(e),
        }
    }
}

/// What completing a session did.
#[derive(Debug, Clone)]
pub struct Completion {
    pub hash: String,
    pub subject: String,
    pub progress: Option<(PathBuf, bool)>,
    pub docs_commit: Option<String>,
    pub entry: super::state::SessionState,
}

impl Completion {
    pub fn summary(&self) -> String {
        let mut s = format!("{} {}", self.hash, self.subject);
        match &self.progress {
            Some((p, true)) => s.push_str(&format!("; PROGRESS row updated in {}", p.display())),
            Some((p, false)) => {
                s.push_str(&format!("; no row for this session in {}", p.display()))
            }
            None => {}
        }
        s
    }
}

/// Paths fsi manages itself and that never belong to a session's commit: PROGRESS.md and
/// SESSION.md (they go into the docs commit) and the state directory. Repository-relative.
pub fn excluded_paths(
    repo: &git2::Repository,
    set: &PlanSet,
    config: &SessionsConfig,
) -> Vec<String> {
    let progress_path = progress::discover(&set.root, config.progress_file.as_deref());
    let session_md = set.root.join(&config.session_file);
    let state_dir = set.root.join(&config.state_dir);
    progress_path
        .iter()
        .chain([&session_md, &state_dir])
        .filter_map(|p| gitops::relative(repo, p))
        .collect()
}

static NO_BASELINE: gitops::Snapshot = gitops::Snapshot::new();

/// The baseline of a run (see [`Runner::baseline`]): every path with uncommitted changes now,
/// except fsi's own files and what the sessions about to run left uncommitted in an earlier
/// run and nobody touched since (`uncommitted` in their state). `None` outside a git
/// repository.
pub fn run_baseline<'a>(
    set: &PlanSet,
    config: &SessionsConfig,
    state: &State,
    sessions: impl IntoIterator<Item = &'a str>,
) -> Result<Option<gitops::Snapshot>, gitops::GitError> {
    let Ok(repo) = gitops::open(&set.root) else {
        return Ok(None);
    };
    let exclude = excluded_paths(&repo, set, config);
    let mut snap = gitops::snapshot(&repo, &exclude)?;
    // A leftover counts as the session's only while it is as the session left it: one the user
    // edited since is the user's again.
    for id in sessions {
        if let Some(e) = state.sessions.get(id) {
            for (p, f) in &e.uncommitted {
                if snap.get(p) == Some(f) {
                    snap.remove(p);
                }
            }
        }
    }
    Ok(Some(snap))
}

/// Completion shared by `fsi run` and `fsi session complete`: commit what the session changed
/// within its working directory — the paths with uncommitted changes that are not in
/// `baseline` (the user's) — and nothing else; record the short hash, update PROGRESS.md in
/// place, reset SESSION.md, optionally commit those docs. Refused, committing nothing, when
/// the session changed a path of the baseline: the user's edits and the session's are mixed
/// there. The `owned` paths (files the session's CREATE tasks write) are the session's
/// whatever the baseline says. Returns the new state entry (the caller saves it).
pub fn complete_session(
    set: &PlanSet,
    config: &SessionsConfig,
    session: &super::Session,
    workdir: &Path,
    state: State,
    baseline: &gitops::Snapshot,
    owned: &[&Path],
) -> Result<Completion, String> {
    let repo = gitops::open(workdir)
        .or_else(|_| gitops::open(&set.root))
        .map_err(|e| e.to_string())?;
    let msg = gitops::message(session);
    let scope = gitops::pathspec_for(&repo, workdir).pop();
    // PROGRESS.md and SESSION.md belong to the docs commit, so that reverting a session's commit
    // never conflicts with them.
    let progress_path = progress::discover(&set.root, config.progress_file.as_deref());
    let session_md = set.root.join(&config.session_file);
    let exclude = excluded_paths(&repo, set, config);
    let mut baseline = std::borrow::Cow::Borrowed(baseline);
    for o in owned {
        if let Some(rel) = gitops::relative(&repo, o)
            && baseline.contains_key(&rel)
        {
            baseline.to_mut().remove(&rel);
        }
    }
    let att = gitops::attribute(&repo, &baseline, scope.as_deref(), &exclude)
        .map_err(|e| e.to_string())?;
    if !att.conflicts.is_empty() {
        return Err(format!(
            "not committed: the session changed {}, which had uncommitted changes before it started (your edits and the session's are mixed there). Commit or stash your own changes and run the session again",
            att.conflicts.join(", ")
        ));
    }
    let hash = gitops::commit_paths(&repo, &att.paths, &msg).map_err(|e| e.to_string())?;
    let now = super::state::now();
    let mut entry = state.sessions.get(&session.id).cloned().unwrap_or_default();
    entry.status = Status::Complete;
    entry.completed_at = Some(now.clone());
    entry.commit = Some(hash.clone());
    entry.uncommitted.clear();
    entry.baseline.clear();
    let mut docs: Vec<PathBuf> = Vec::new();
    let date = now.get(..10).unwrap_or(&now).to_string();
    let progress = progress_path.map(|path| {
        let update = progress::RowUpdate {
            status: Some(progress::COMPLETE.into()),
            completed: Some(date.clone()),
            commit: Some(format!("`{hash}`")),
            started: entry
                .started_at
                .as_ref()
                .map(|s| s.get(..10).unwrap_or(s).to_string()),
            started_if_empty: true,
        };
        let found = progress::update_file(&path, &session.id, &update).unwrap_or(false);
        if found {
            docs.push(path.clone());
        }
        (set.display_path(&path).into(), found)
    });
    // SESSION.md: reset, naming what is ready next.
    let mut after = state.clone();
    after.sessions.insert(session.id.clone(), entry.clone());
    let ready: Vec<String> = set
        .ordered()
        .filter(|s| !after.is_complete(&s.id) && s.dep_ids().all(|d| after.is_complete(d)))
        .map(|s| {
            if s.title().is_empty() {
                s.id.clone()
            } else {
                format!("{} - {}", s.id, s.title())
            }
        })
        .collect();
    if session_md.parent().is_some_and(Path::exists) || session_md.exists() {
        let text = sessionmd::complete(session, &hash, &now, &ready);
        if crate::fsutil::write_atomic(&session_md, text.as_bytes(), false).is_ok() {
            docs.push(session_md);
        }
    }
    let mut docs_commit = None;
    if config.commit_docs && !docs.is_empty() {
        let specs: Vec<String> = docs
            .iter()
            .filter_map(|d| gitops::relative(&repo, d))
            .collect();
        if !specs.is_empty() && docs_changed(&repo, &specs) {
            docs_commit = gitops::commit_paths(
                &repo,
                &specs,
                &format!("docs: complete session {}\n", session.id),
            )
            .ok();
        }
    }
    Ok(Completion {
        subject: msg.lines().next().unwrap_or("").to_string(),
        hash,
        progress,
        docs_commit,
        entry,
    })
}

fn docs_changed(repo: &git2::Repository, specs: &[String]) -> bool {
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true).recurse_untracked_dirs(true);
    for s in specs {
        opts.pathspec(s);
    }
    repo.statuses(Some(&mut opts))
        .map(|s| !s.is_empty())
        .unwrap_or(false)
}

/// `file:line: pattern` for every line of `files` containing one of `patterns`.
/// Files below `dir` matching any of `globs` (relative to `dir`), skipping dependency and build
/// folders (node_modules, .venv, .git, dist, __pycache__).
pub fn files_matching(dir: &Path, globs: &[String]) -> Vec<PathBuf> {
    if globs.is_empty() {
        return Vec::new();
    }
    let mut builder = globset::GlobSetBuilder::new();
    for g in globs {
        if let Ok(glob) = globset::Glob::new(g) {
            builder.add(glob);
        }
    }
    let Ok(set) = builder.build() else {
        return Vec::new();
    };
    const SKIP: &[&str] = &[
        "node_modules",
        ".venv",
        ".git",
        "dist",
        "__pycache__",
        ".fsi",
    ];
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(|e| !(e.file_type().is_dir() && SKIP.iter().any(|s| e.file_name() == *s)))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            e.path()
                .strip_prefix(dir)
                .is_ok_and(|rel| set.is_match(rel))
        })
        .map(|e| e.into_path())
        .collect()
}

/// Whether `line` contains the literal `pattern`. A pattern that starts (ends) with a word
/// character only matches where the line has no word character right before (after) it, so
/// `print(` does not match `Blueprint(`.
pub fn contains_literal(line: &str, pattern: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let starts_word = pattern.chars().next().is_some_and(word);
    let ends_word = pattern.chars().last().is_some_and(word);
    line.match_indices(pattern).any(|(i, m)| {
        let before_ok = !starts_word || !line[..i].chars().next_back().is_some_and(word);
        let after_ok = !ends_word || !line[i + m.len()..].chars().next().is_some_and(word);
        before_ok && after_ok
    })
}

pub fn grep_literal(patterns: &[String], files: &[PathBuf], root: &Path) -> Vec<String> {
    let mut hits = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            for p in patterns {
                if contains_literal(line, p) {
                    let shown = f.strip_prefix(root).unwrap_or(f).display().to_string();
                    hits.push(format!("{shown}:{}: forbidden `{p}`", n + 1));
                }
            }
        }
    }
    hits
}

/// `FSI` (this binary) and its directory first on `PATH`, so that plans can call `fsi` itself
/// (INT-01's `fsi types --check`) whether or not it is installed.
fn fsi_on_path() -> Vec<(String, String)> {
    static ENV: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        let Ok(exe) = std::env::current_exe() else {
            return Vec::new();
        };
        let mut env = vec![("FSI".to_string(), exe.display().to_string())];
        if let Some(dir) = exe.parent() {
            let path = std::env::var("PATH").unwrap_or_default();
            env.push(("PATH".to_string(), format!("{}:{path}", dir.display())));
        }
        env
    })
    .clone()
}

fn sleep_cancellable(d: Duration, cancel: &Cancel) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if cancel.is_cancelled() {
            return false;
        }
        std::thread::sleep((end - Instant::now()).min(Duration::from_millis(25)));
    }
    !cancel.is_cancelled()
}

fn tail(s: &str, lines: usize) -> String {
    if s.is_empty() {
        return String::new();
    }
    let all: Vec<&str> = s.lines().collect();
    let from = all.len().saturating_sub(lines);
    all[from..].join("\n")
}

pub fn fmt_secs(s: f64) -> String {
    if s < 1.0 {
        format!("{}ms", (s * 1000.0).round())
    } else if s.fract() == 0.0 {
        format!("{}s", s as u64)
    } else {
        format!("{s:.1}s")
    }
}

#[cfg(test)]
mod literal_tests {
    use super::contains_literal;

    #[test]
    fn literals_respect_word_boundaries() {
        assert!(contains_literal("    print(x)", "print("));
        assert!(!contains_literal("app.register_blueprint(bp)", "print("));
        assert!(!contains_literal("Blueprint(\"a\")", "print("));
        assert!(contains_literal("except: pass", "except: pass"));
        assert!(!contains_literal("except: password = 1", "except: pass"));
        assert!(contains_literal(
            "x = {}; // TODO: replace with real API",
            "// TODO: replace with real API"
        ));
        assert!(contains_literal(
            "return response?.data ?? [];",
            "response?.data ?? []"
        ));
    }
}
