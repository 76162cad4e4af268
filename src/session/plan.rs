//! Plan, then act: the ordered list of exactly what a run would do. `fsi plan`, `fsi run
//! --dry-run` and `fsi run` all go through [`build`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::actions::{ActionContext, ActionRegistry};
use super::expect::Expectation;
use super::model::{GateClass, Session, Task, Timing};
use super::state::{State, Status};
use super::{PlanSet, SessionsConfig};
use crate::error::{Classify, ExitStatus};
use crate::exec::Cancel;

/// Which sessions to plan.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub ids: Vec<String>,
    pub all: bool,
    /// Add incomplete dependencies of the selected sessions (transitively), run first.
    pub with_deps: bool,
    /// Run selected sessions again even when already complete.
    pub rerun: bool,
    /// Treat dependencies outside the plan as satisfied: an outside scheduler (CI `needs:`)
    /// already ran them, on another machine.
    pub assume_deps: bool,
}

/// Knobs that change what a plan contains.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// Overwrite differing files of CREATE tasks.
    pub force: bool,
}

/// Resolved timing of one command.
#[derive(Debug, Clone, Serialize)]
pub struct Retry {
    pub timeout_s: f64,
    pub retries: u32,
    pub interval_s: f64,
    pub max_backoff_s: f64,
}

impl Retry {
    fn resolve(own: &Timing, group: &Timing, d: (f64, u32, f64, f64)) -> Retry {
        Retry {
            timeout_s: own.timeout.or(group.timeout).unwrap_or(d.0),
            retries: own.retries.or(group.retries).unwrap_or(d.1),
            interval_s: own.interval.or(group.interval).unwrap_or(d.2),
            max_backoff_s: own.max_backoff.or(group.max_backoff).unwrap_or(d.3),
        }
    }

    /// The wait before attempt `n + 1` (after `n` failures): interval · 2ⁿ⁻¹, capped.
    pub fn backoff(&self, failures: u32) -> f64 {
        let exp = failures.saturating_sub(1).min(30);
        (self.interval_s * f64::from(1u32 << exp)).min(self.max_backoff_s)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedCommand {
    pub name: String,
    pub command: String,
    pub retry: Retry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteState {
    New,
    Unchanged,
    /// Differs from the existing file; allowed by `--force`.
    Overwrite,
    /// Differs from the existing file; the run is refused without `--force`.
    Conflict,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TaskStep {
    Run {
        command: String,
        timeout_s: f64,
    },
    Write {
        path: PathBuf,
        #[serde(skip)]
        content: String,
        bytes: usize,
        state: WriteState,
    },
    Replace {
        path: PathBuf,
        marker: String,
        #[serde(skip)]
        content: String,
    },
    Builtin {
        action: String,
        description: String,
        /// The earlier task of the session whose run of the same action this one shares
        /// (`1. Generate TypeScript types…`): an action runs once for consecutive tasks that
        /// name it, the others report that they were covered.
        #[serde(skip_serializing_if = "Option::is_none")]
        covered_by: Option<String>,
    },
    Manual {
        instruction: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedTask {
    pub id: Option<String>,
    pub title: String,
    pub step: TaskStep,
    #[serde(skip)]
    pub index: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CheckStep {
    Command {
        command: String,
        expect: Expectation,
        retry: Retry,
    },
    /// `gate_class="manual"` (or critical) without a command: a human confirms.
    Manual { text: String },
    /// A prose check without a command: shown, not run.
    Note { text: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedCheck {
    pub name: String,
    pub step: CheckStep,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedSession {
    pub id: String,
    pub title: String,
    /// Why the session is not run (already complete …).
    pub skip: Option<String>,
    pub workdir: PathBuf,
    pub workdir_exists: bool,
    pub dependencies: Vec<String>,
    pub preconditions: Vec<String>,
    pub gate: Vec<PlannedCommand>,
    pub action_on_fail: Option<String>,
    pub tasks: Vec<PlannedTask>,
    pub checks: Vec<PlannedCheck>,
    /// Literal forbidden patterns, grepped in the session's files.
    pub forbidden: Vec<String>,
    /// Prose rules, shown as reminders.
    pub reminders: Vec<String>,
    /// Files that must exist after the tasks (relative to `workdir`).
    pub files: Vec<String>,
    /// Screenshots that must exist (relative to `workdir`).
    pub screenshots: Vec<String>,
    pub commit_message: String,
}

impl PlannedSession {
    pub fn runs(&self) -> bool {
        self.skip.is_none()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    pub session: String,
    pub path: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub sessions: Vec<PlannedSession>,
    /// CREATE tasks that would overwrite a different existing file (refused without --force).
    pub conflicts: Vec<Conflict>,
}

impl Plan {
    pub fn to_run(&self) -> impl Iterator<Item = &PlannedSession> {
        self.sessions.iter().filter(|s| s.runs())
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PlanBuildError {
    #[error("no session {id} in the plan")]
    #[diagnostic(code(fsi::plan::unknown_session))]
    UnknownSession {
        id: String,
        #[help]
        help: Option<String>,
    },
    #[error("nothing selected: name sessions or pass --all")]
    #[diagnostic(code(fsi::plan::empty_selection))]
    Empty,
    #[error("refusing to run: {}", describe_unmet(.unmet))]
    #[diagnostic(
        code(fsi::run::dependencies_unmet),
        help("complete them first, or pass --with-deps to run them before")
    )]
    Unmet { unmet: Vec<Unmet> },
}

#[derive(Debug, Clone, Serialize)]
pub struct Unmet {
    pub session: String,
    pub dependency: String,
    pub status: Status,
}

fn describe_unmet(unmet: &[Unmet]) -> String {
    unmet
        .iter()
        .map(|u| {
            format!(
                "{} requires {} ({})",
                u.session,
                u.dependency,
                u.status.as_str()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl Classify for PlanBuildError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            PlanBuildError::UnknownSession { .. } | PlanBuildError::Empty => ExitStatus::Invalid,
            PlanBuildError::Unmet { .. } => ExitStatus::Refused,
        }
    }
}

/// Resolve the ids of `sel` (did-you-mean on typos).
pub fn resolve_ids(set: &PlanSet, ids: &[String]) -> Result<Vec<usize>, PlanBuildError> {
    let known: Vec<&str> = set.index.keys().map(String::as_str).collect();
    ids.iter()
        .map(|id| {
            set.index
                .get(id)
                .copied()
                .ok_or_else(|| PlanBuildError::UnknownSession {
                    id: id.clone(),
                    help: super::did_you_mean(id, &known).map(|s| format!("did you mean `{s}`?")),
                })
        })
        .collect()
}

/// The ordered plan for `sel`. Plans are computed against the recorded state; nothing runs.
pub fn build(
    set: &PlanSet,
    state: &State,
    sel: &Selection,
    config: &SessionsConfig,
    registry: &ActionRegistry,
    opts: PlanOptions,
) -> Result<Plan, PlanBuildError> {
    let mut deps_of: Vec<Vec<usize>> = vec![Vec::new(); set.sessions.len()];
    for &(a, b) in &set.edges {
        deps_of[a].push(b);
    }
    let mut chosen: BTreeSet<usize> = BTreeSet::new();
    let named: BTreeSet<usize> = resolve_ids(set, &sel.ids)?.into_iter().collect();
    if sel.all {
        chosen.extend(set.order.iter().copied());
    } else {
        if named.is_empty() {
            return Err(PlanBuildError::Empty);
        }
        chosen.extend(named.iter().copied());
        if sel.with_deps {
            let mut stack: Vec<usize> = chosen.iter().copied().collect();
            while let Some(i) = stack.pop() {
                for &b in &deps_of[i] {
                    if !state.is_complete(&set.sessions[b].id) && chosen.insert(b) {
                        stack.push(b);
                    }
                }
            }
        }
    }
    let will_run = |i: usize| {
        chosen.contains(&i)
            && (!state.is_complete(&set.sessions[i].id) || (sel.rerun && named.contains(&i)))
    };
    // Every dependency must be complete or run earlier in this plan.
    let mut unmet = Vec::new();
    for &i in &chosen {
        if !will_run(i) {
            continue;
        }
        for &b in &deps_of[i] {
            if !sel.assume_deps && !state.is_complete(&set.sessions[b].id) && !will_run(b) {
                unmet.push(Unmet {
                    session: set.sessions[i].id.clone(),
                    dependency: set.sessions[b].id.clone(),
                    status: state.status(&set.sessions[b].id),
                });
            }
        }
    }
    if !unmet.is_empty() {
        return Err(PlanBuildError::Unmet { unmet });
    }
    let mut plan = Plan {
        sessions: Vec::new(),
        conflicts: Vec::new(),
    };
    let cancel = Cancel::new();
    let mut memo = Memo::default();
    for &i in &set.order {
        if !chosen.contains(&i) {
            continue;
        }
        let s = &set.sessions[i];
        let mut p = plan_session(set, s, config, registry, opts, &cancel, &mut memo);
        if !will_run(i) {
            p.skip = Some(format!(
                "already complete{}",
                state
                    .sessions
                    .get(&s.id)
                    .and_then(|x| x.commit.as_ref())
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            ));
        } else {
            for t in &p.tasks {
                if let TaskStep::Write {
                    path,
                    state: WriteState::Conflict,
                    ..
                } = &t.step
                {
                    plan.conflicts.push(Conflict {
                        session: s.id.clone(),
                        path: path.clone(),
                    });
                }
            }
        }
        plan.sessions.push(p);
    }
    Ok(plan)
}

/// How a task is named in run output: `1. Title`, or the title when it has no id.
fn task_label(t: &Task) -> String {
    match &t.id {
        Some(id) => format!("{id}. {}", t.title),
        None => t.title.clone(),
    }
}

/// The first `` `code` `` span of a title, for RUN tasks written as prose.
fn backticked(title: &str) -> Option<&str> {
    let start = title.find('`')? + 1;
    let len = title[start..].find('`')?;
    let inner = title[start..start + len].trim();
    (!inner.is_empty()).then_some(inner)
}

#[allow(clippy::too_many_arguments)]
fn task_step(
    s: &Session,
    t: &Task,
    workdir: &Path,
    root: &Path,
    config: &SessionsConfig,
    registry: &ActionRegistry,
    opts: PlanOptions,
    cancel: &Cancel,
) -> TaskStep {
    if let Some((name, action)) = registry.lookup(t) {
        let ctx = ActionContext {
            root,
            workdir,
            session: s,
            task: t,
            cancel,
            force: opts.force,
        };
        return TaskStep::Builtin {
            action: name.to_string(),
            description: action.describe(&ctx),
            covered_by: None,
        };
    }
    let action = t.action_upper();
    let timeout_s = t.timing.timeout.unwrap_or(config.task_timeout.0);
    if let Some(c) = &t.command {
        return TaskStep::Run {
            command: c.clone(),
            timeout_s,
        };
    }
    match (action.as_deref(), &t.file, &t.code_snippet, &t.find_marker) {
        (Some("RUN" | "VERIFY"), _, _, _) => {
            let cmd = backticked(&t.title).unwrap_or(&t.title).to_string();
            TaskStep::Run {
                command: cmd,
                timeout_s,
            }
        }
        (Some("CREATE"), Some(file), Some(snippet), _) => {
            let path = workdir.join(file);
            let state = match std::fs::read(&path) {
                Err(_) => WriteState::New,
                Ok(existing) if existing == snippet.text.as_bytes() => WriteState::Unchanged,
                Ok(_) if opts.force => WriteState::Overwrite,
                Ok(_) => WriteState::Conflict,
            };
            TaskStep::Write {
                path,
                bytes: snippet.text.len(),
                content: snippet.text.clone(),
                state,
            }
        }
        (Some("REPLACE_PLACEHOLDER"), Some(file), Some(snippet), Some(marker)) => {
            TaskStep::Replace {
                path: workdir.join(file),
                marker: marker.clone(),
                content: snippet.text.clone(),
            }
        }
        _ => {
            let mut instruction = t.title.clone();
            if let Some(d) = &t.description {
                instruction.push_str(" — ");
                instruction.push_str(&d.split_whitespace().collect::<Vec<_>>().join(" "));
            }
            if let (Some(a), Some(f)) = (&action, &t.file) {
                instruction = format!("{a} {f}: {instruction}");
            }
            TaskStep::Manual { instruction }
        }
    }
}

/// Pure results repeated across sessions (most share a working directory and expected texts
/// like `exit 0`), computed once per plan.
#[derive(Default)]
struct Memo {
    is_dir: std::collections::HashMap<PathBuf, bool>,
    expect: std::collections::HashMap<String, Expectation>,
}

impl Memo {
    fn is_dir(&mut self, p: &Path) -> bool {
        if let Some(&d) = self.is_dir.get(p) {
            return d;
        }
        let d = p.is_dir();
        self.is_dir.insert(p.to_path_buf(), d);
        d
    }

    fn expect(&mut self, text: &str) -> Expectation {
        if let Some(e) = self.expect.get(text) {
            return e.clone();
        }
        let e = Expectation::parse(text);
        self.expect.insert(text.to_string(), e.clone());
        e
    }
}

fn plan_session(
    set: &PlanSet,
    s: &Session,
    config: &SessionsConfig,
    registry: &ActionRegistry,
    opts: PlanOptions,
    cancel: &Cancel,
    memo: &mut Memo,
) -> PlannedSession {
    let workdir = super::working_dir(&set.root, s.meta.working_directory.as_deref());
    let g = &config.gate;
    let gate_defaults = (g.timeout.0, g.retries, g.interval.0, g.max_backoff.0);
    let c = &config.checks;
    let check_defaults = (c.timeout.0, c.retries, c.interval.0, c.max_backoff.0);
    let mut gate = Vec::new();
    let mut action_on_fail = None;
    if let Some(gt) = s.gate.as_ref().filter(|g| g.enabled) {
        for ch in &gt.checks {
            gate.push(PlannedCommand {
                name: ch.name.clone(),
                command: ch.command.clone(),
                retry: Retry::resolve(&ch.timing, &gt.timing, gate_defaults),
            });
        }
        action_on_fail = gt.action_on_fail.clone();
    }
    // Consecutive tasks backed by the same built-in action (INT-01's "Generate TypeScript
    // types…", "Add Zod schemas…", "Export from src/types/index.ts") run it once: the later ones
    // are covered by the first. Any other task in between (which may change the action's
    // inputs) makes the next one run it again.
    let mut last_builtin: Option<(String, String)> = None;
    let tasks = s
        .tasks
        .iter()
        .enumerate()
        .map(|(index, t)| {
            let mut step = task_step(s, t, &workdir, &set.root, config, registry, opts, cancel);
            match &mut step {
                TaskStep::Builtin {
                    action, covered_by, ..
                } => match &last_builtin {
                    Some((a, label)) if a == action => *covered_by = Some(label.clone()),
                    _ => last_builtin = Some((action.clone(), task_label(t))),
                },
                _ => last_builtin = None,
            }
            PlannedTask {
                id: t.id.clone(),
                title: t.title.clone(),
                step,
                index,
            }
        })
        .collect();
    let checks = s
        .checks
        .iter()
        .map(|ch| PlannedCheck {
            name: ch.name.clone(),
            step: match &ch.command {
                Some(cmd) => CheckStep::Command {
                    command: cmd.clone(),
                    expect: memo.expect(&ch.expected),
                    retry: Retry::resolve(&ch.timing, &Timing::default(), check_defaults),
                },
                None if matches!(ch.gate_class, Some(GateClass::Manual | GateClass::Critical)) => {
                    CheckStep::Manual {
                        text: ch.expected.clone(),
                    }
                }
                None => CheckStep::Note {
                    text: ch.expected.clone(),
                },
            },
        })
        .collect();
    let mut files: Vec<String> = Vec::new();
    for t in s.tasks.iter().filter(|t| t.produces_file()) {
        let f = t.file.clone().expect("produces_file");
        if !files.contains(&f) {
            files.push(f);
        }
    }
    PlannedSession {
        id: s.id.clone(),
        title: s.title().to_string(),
        skip: None,
        workdir_exists: memo.is_dir(&workdir),
        workdir,
        dependencies: s.dep_ids().map(str::to_string).collect(),
        preconditions: s.preconditions.clone(),
        gate,
        action_on_fail,
        tasks,
        checks,
        forbidden: s
            .forbidden
            .iter()
            .filter(|f| f.literal)
            .map(|f| f.pattern.clone())
            .collect(),
        reminders: s
            .forbidden
            .iter()
            .filter(|f| !f.literal)
            .map(|f| f.pattern.clone())
            .collect(),
        files,
        screenshots: s
            .screenshots
            .iter()
            .map(|sc| format!("docs/screenshots/{}.png", sc.name))
            .collect(),
        commit_message: super::gitops::message(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let r = Retry {
            timeout_s: 1.0,
            retries: 5,
            interval_s: 1.0,
            max_backoff_s: 5.0,
        };
        let waits: Vec<f64> = (1..=5).map(|n| r.backoff(n)).collect();
        assert_eq!(waits, [1.0, 2.0, 4.0, 5.0, 5.0]);
    }

    #[test]
    fn backticks() {
        assert_eq!(backticked("Run `npm test` now"), Some("npm test"));
        assert_eq!(backticked("no code"), None);
    }
}
