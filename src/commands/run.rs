//! `fsi run` and `fsi session start|checkpoint|complete|rollback`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use super::Ctx;
use super::sessions::{SourceArgs, load_valid, print_plan};
use crate::error::{CmdResult, CommandError, ExitStatus};
use crate::exec::Cancel;
use crate::session::actions::ActionRegistry;
use crate::session::lock::{self, ProjectLock};
use crate::session::plan::{self, PlanOptions, Selection};
use crate::session::run::{
    Confirm, Event, Observer, RunOptions, RunSummary, Runner, SessionOutcome, StepOutcome, fmt_secs,
};
use crate::session::state::{self, Status};
use crate::session::{gitops, progress, sessionmd};
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Sessions to run (in dependency order).
    pub ids: Vec<String>,
    /// Run every session that is not complete.
    #[arg(long, conflicts_with = "ids")]
    pub all: bool,
    /// Run incomplete dependencies of the named sessions first.
    #[arg(long)]
    pub with_deps: bool,
    /// Print the plan and stop: exactly what a run would do.
    #[arg(long)]
    pub dry_run: bool,
    /// After a session fails, go on with every session whose dependencies passed; report all
    /// failures at the end (exit 1).
    #[arg(short = 'k', long)]
    pub keep_going: bool,
    /// Run up to N independent sessions in parallel.
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// Overwrite files of CREATE tasks that differ from the plan's content.
    #[arg(long)]
    pub force: bool,
    /// Run named sessions again even when already complete.
    #[arg(long)]
    pub rerun: bool,
    /// Accept manual steps without asking (needed to pass them without a TTY).
    #[arg(long)]
    pub accept_manual: bool,
    /// Run and verify, but do not commit, touch PROGRESS.md/SESSION.md or mark complete.
    #[arg(long)]
    pub no_commit: bool,
    /// Treat dependencies outside this run as satisfied (for CI runners, where `needs:` already
    /// ran them on other machines; see `fsi ci github`).
    #[arg(long)]
    pub assume_deps: bool,
    /// Write a JUnit XML report of every gate, task and check.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Print a JSON summary of the run on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub lock: LockArgs,
    #[command(flatten)]
    pub src: SourceArgs,
}

/// The project lock (`.fsi/lock`): held by every command that changes sessions.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LockArgs {
    /// When another fsi is changing this project's sessions, wait for it to finish instead of
    /// exiting with status 3.
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum LifecycleCommand {
    /// Mark a session active (refused while dependencies are incomplete), write SESSION.md and
    /// the PROGRESS row.
    Start {
        id: String,
        #[command(flatten)]
        lock: LockArgs,
        #[command(flatten)]
        src: SourceArgs,
    },
    /// Commit work in progress: `WIP: [ID] checkpoint N - MESSAGE`.
    Checkpoint {
        id: String,
        /// What this checkpoint is about.
        #[arg(short, long)]
        message: String,
        /// Items done so far (repeatable).
        #[arg(long = "done", value_name = "ITEM")]
        done: Vec<String>,
        /// Items remaining (repeatable).
        #[arg(long = "remaining", value_name = "ITEM")]
        remaining: Vec<String>,
        #[command(flatten)]
        lock: LockArgs,
        #[command(flatten)]
        src: SourceArgs,
    },
    /// Verify, then commit, update PROGRESS.md and SESSION.md and mark complete.
    Complete {
        id: String,
        /// Accept manual verification steps without asking.
        #[arg(long)]
        accept_manual: bool,
        #[command(flatten)]
        lock: LockArgs,
        #[command(flatten)]
        src: SourceArgs,
    },
    /// Revert the session's commit and mark it pending again.
    Rollback {
        id: String,
        #[command(flatten)]
        lock: LockArgs,
        #[command(flatten)]
        src: SourceArgs,
    },
}

/// The built-in task actions. Other engines register theirs here (the command layer composes
/// engines; `session/` never imports them).
pub fn registry() -> ActionRegistry {
    super::builtin::registry()
}

/// Prints runner events: grouped plain lines without a TTY (`::group::` under GitHub Actions),
/// an indicatif bar with step lines above it on a TTY. With several jobs, plain output is
/// buffered per session so groups do not interleave.
struct Printer<'a> {
    ui: &'a Ui,
    bar: indicatif::ProgressBar,
    buffered: bool,
    buffers: Mutex<BTreeMap<String, Vec<String>>>,
}

impl Printer<'_> {
    fn line(&self, id: &str, text: String) {
        if self.buffered {
            self.buffers
                .lock()
                .expect("buffer lock")
                .entry(id.to_string())
                .or_default()
                .push(text);
        } else {
            self.bar.suspend(|| self.ui.info(text));
        }
    }
}

impl Observer for Printer<'_> {
    fn event(&self, event: &Event<'_>) {
        if self.ui.silent() {
            return; // every line below would be dropped (and the bar is hidden)
        }
        match event {
            Event::SessionStarted { id, title } => {
                self.bar.set_message(id.to_string());
                if !self.buffered {
                    self.bar
                        .suspend(|| self.ui.group_start(&format!("{id} {title}")));
                }
            }
            Event::StepStarted { id, phase, name } => {
                self.bar
                    .set_message(format!("{id}: {} {name}", phase.as_str()));
            }
            Event::Retrying {
                id,
                name,
                attempt,
                attempts,
                wait,
                reason,
            } => self.line(
                id,
                format!(
                    "  ~ {name}: attempt {attempt}/{attempts} failed ({reason}); retrying in {}",
                    fmt_secs(wait.as_secs_f64())
                ),
            ),
            Event::StepFinished { id, step } => {
                let mark = match step.outcome {
                    StepOutcome::Passed => "✓",
                    StepOutcome::Note => "·",
                    StepOutcome::Interrupted => "!",
                    StepOutcome::Failed | StepOutcome::TimedOut => "✗",
                };
                let mut text = format!(
                    "  {mark} {} {} ({})",
                    step.phase.as_str(),
                    step.name,
                    fmt_secs(step.duration.as_secs_f64())
                );
                if !step.detail.is_empty()
                    && (step.outcome != StepOutcome::Passed || step.detail.len() < 100)
                {
                    let mut lines = step.detail.lines();
                    text.push_str(": ");
                    text.push_str(lines.next().unwrap_or(""));
                    for l in lines {
                        text.push_str("\n      ");
                        text.push_str(l);
                    }
                }
                if step.outcome.is_failure() {
                    if let Some(c) = &step.command {
                        text.push_str(&format!("\n      command: {c}"));
                    }
                    for (name, out) in [("stdout", &step.stdout), ("stderr", &step.stderr)] {
                        if !out.trim().is_empty() {
                            text.push_str(&format!("\n      {name}:"));
                            for l in out.lines() {
                                text.push_str(&format!("\n        | {l}"));
                            }
                        }
                    }
                }
                self.line(id, text);
            }
            Event::SessionFinished { result } => {
                let mut tail = match result.outcome {
                    SessionOutcome::Passed => format!(
                        "  = {} passed{} ({})",
                        result.id,
                        result
                            .commit
                            .as_ref()
                            .map(|c| format!(", committed {c}"))
                            .unwrap_or_default(),
                        fmt_secs(result.duration.as_secs_f64())
                    ),
                    other => format!(
                        "  = {} {}{}",
                        result.id,
                        other.as_str().replace('_', " "),
                        result
                            .message
                            .as_ref()
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default()
                    ),
                };
                if result.outcome == SessionOutcome::NotRun {
                    tail = format!(
                        "  - {} not run: {}",
                        result.id,
                        result.message.clone().unwrap_or_default()
                    );
                    self.bar.suspend(|| self.ui.info(tail));
                    return;
                }
                self.bar.inc(1);
                if self.buffered {
                    let lines = self
                        .buffers
                        .lock()
                        .expect("buffer lock")
                        .remove(&result.id)
                        .unwrap_or_default();
                    self.bar.suspend(|| {
                        self.ui
                            .group_start(&format!("{} {}", result.id, result.title));
                        for l in lines {
                            self.ui.info(l);
                        }
                        self.ui.info(&tail);
                        self.ui.group_end();
                    });
                } else {
                    self.bar.suspend(|| {
                        self.ui.info(&tail);
                        self.ui.group_end();
                    });
                }
            }
        }
    }
}

/// Manual steps: a dialoguer prompt on a TTY, nobody to ask otherwise.
struct Prompter<'a> {
    ui: &'a Ui,
    bar: &'a indicatif::ProgressBar,
}

impl Confirm for Prompter<'_> {
    fn confirm(&self, session: &str, what: &str) -> Option<bool> {
        if !self.ui.interactive {
            return None;
        }
        self.bar.suspend(|| {
            dialoguer::Confirm::new()
                .with_prompt(format!("[{session}] manual step done? {what}"))
                .default(false)
                .interact()
                .ok()
        })
    }
}

/// Take the project lock (see [`crate::session::lock`]): at once, or after waiting with
/// `--wait`.
fn lock_project(ctx: &Ctx, args: &LockArgs) -> Result<ProjectLock, CommandError> {
    let project = ctx.project()?;
    let dir = project.root.join(&project.config.sessions.state_dir);
    let held = if args.wait {
        lock::acquire(
            &dir,
            lock::Wait::Yes {
                on_wait: &|pid| {
                    ctx.ui.info(format!(
                        "waiting for the fsi that holds the project lock ({})",
                        pid.map(|p| format!("pid {p}"))
                            .unwrap_or_else(|| "pid unknown".into())
                    ))
                },
                // Ctrl-C while waiting ends fsi with the default action: nothing to undo yet.
                cancelled: &|| false,
            },
        )
    } else {
        lock::acquire(&dir, lock::Wait::No)
    };
    Ok(held?)
}

/// Load a plan under the project lock, saving the state when git history corrected it.
fn load_locked(
    ctx: &Ctx,
    src: &SourceArgs,
    lock: &LockArgs,
) -> Result<(ProjectLock, super::sessions::Loaded), CommandError> {
    let held = lock_project(ctx, lock)?;
    let l = load_valid(ctx, src)?;
    if l.reconciled {
        l.store.save(&l.state)?;
    }
    Ok((held, l))
}

pub fn run(ctx: &Ctx, args: RunArgs) -> CmdResult {
    let mut l = load_valid(ctx, &args.src)?;
    let registry = registry();
    if args.ids.is_empty() && !args.all {
        return Err(CommandError::msg(
            ExitStatus::Invalid,
            "name the sessions to run, or pass --all",
        ));
    }
    let sel = Selection {
        ids: args.ids.clone(),
        all: args.all,
        with_deps: args.with_deps,
        rerun: args.rerun,
        assume_deps: args.assume_deps,
    };
    let build = |state: &state::State| {
        plan::build(
            &l.set,
            state,
            &sel,
            &l.project.config.sessions,
            &registry,
            PlanOptions { force: args.force },
        )
    };
    // Plan first: a refused or dry run changes nothing, not even the lock file.
    let mut p = build(&l.state)?;
    if args.dry_run {
        print_plan(ctx, &l.set, &p, args.json);
        return Ok(ExitStatus::Success);
    }
    // Before anything runs: a service port held by another process (the user's dev server) is
    // refused here, not found out halfway through the run.
    for planned in p.to_run() {
        for u in l.set.get(&planned.id).map_or(&[][..], |s| &s.services[..]) {
            let spec = crate::session::service_spec(&l.project.config.services, u);
            crate::services::check_port(&u.name, &spec)?;
        }
    }
    let _lock = lock_project(ctx, &args.lock)?;
    // Another run may have finished meanwhile (`--wait`): plan again on what is recorded now.
    let mut now = l.store.load()?;
    let reconciled = super::sessions::reconcile(&l.project.root, &mut now);
    if now != l.state {
        p = build(&now)?;
        l.state = now;
    }
    if reconciled || l.reconciled {
        // The state file was missing or stale: rebuilt from git history.
        l.store.save(&l.state)?;
    }
    let cfg = &l.project.config.sessions;
    let cancel = Cancel::new();
    cancel.install_signal_handlers().map_err(|e| {
        CommandError::msg(
            ExitStatus::Failure,
            format!("cannot install signal handlers: {e}"),
        )
    })?;
    // fsi adopts what the commands leave behind, and stops it before it exits.
    let _supervisor = crate::exec::Supervisor::start(cfg.kill_grace.duration());
    let baseline = baseline_of(&l, p.to_run().map(|s| s.id.as_str()))?;
    let total = p.to_run().count() as u64;
    let bar = ctx.ui.progress(Some(total));
    if ctx.ui.interactive && !ctx.ui.quiet {
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{pos}/{len}] {elapsed} {wide_msg}")
                .expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
    }
    let buffered = args.jobs > 1 && !ctx.ui.interactive;
    let opts = RunOptions {
        jobs: usize::from(args.jobs),
        force: args.force,
        accept_manual: args.accept_manual,
        commit: !args.no_commit,
        verify_only: false,
        keep_going: args.keep_going,
    };
    let summary = execute(
        ctx,
        &l,
        &registry,
        &p,
        &cancel,
        &bar,
        buffered,
        opts,
        baseline.as_ref(),
    )?;
    bar.finish_and_clear();
    finish(ctx, &summary, args.junit.as_ref(), args.json)
}

/// What is uncommitted before the run and not the sessions' own (see
/// [`crate::session::run::run_baseline`]).
fn baseline_of<'a>(
    l: &super::sessions::Loaded,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<Option<gitops::Snapshot>, CommandError> {
    crate::session::run::run_baseline(&l.set, &l.project.config.sessions, &l.state, ids)
        .map_err(|e| CommandError::msg(ExitStatus::Failure, format!("cannot read git status: {e}")))
}

/// Run a plan of a loaded project with the command layer's printer and prompter.
#[allow(clippy::too_many_arguments)]
fn execute(
    ctx: &Ctx,
    l: &super::sessions::Loaded,
    registry: &ActionRegistry,
    plan: &plan::Plan,
    cancel: &Cancel,
    bar: &indicatif::ProgressBar,
    buffered: bool,
    opts: RunOptions,
    baseline: Option<&gitops::Snapshot>,
) -> Result<RunSummary, CommandError> {
    let printer = Printer {
        ui: ctx.ui,
        bar: bar.clone(),
        buffered,
        buffers: Mutex::new(BTreeMap::new()),
    };
    let prompter = Prompter { ui: ctx.ui, bar };
    let runner = Runner {
        set: &l.set,
        config: &l.project.config.sessions,
        services: &l.project.config.services,
        registry,
        store: &l.store,
        cancel,
        observer: &printer,
        confirm: &prompter,
        opts,
        baseline,
    };
    Ok(runner.execute(plan, l.state.clone())?)
}

fn finish(ctx: &Ctx, summary: &RunSummary, junit: Option<&PathBuf>, json: bool) -> CmdResult {
    let count = |o: SessionOutcome| summary.sessions.iter().filter(|s| s.outcome == o).count();
    ctx.ui.info(format!(
        "{} passed, {} failed, {} interrupted, {} not run, {} skipped",
        count(SessionOutcome::Passed),
        count(SessionOutcome::Failed),
        count(SessionOutcome::Interrupted),
        count(SessionOutcome::NotRun),
        count(SessionOutcome::Skipped),
    ));
    // Every failure again at the end, where it is seen after a long run; and why the rest
    // did not run.
    for s in &summary.sessions {
        match s.outcome {
            SessionOutcome::Failed => ctx.ui.info(format!(
                "  failed:  {}{}",
                s.id,
                s.message
                    .as_ref()
                    .map(|m| format!(" ({})", m.trim_end_matches('.')))
                    .unwrap_or_default()
            )),
            SessionOutcome::NotRun => ctx.ui.info(format!(
                "  not run: {} ({})",
                s.id,
                s.message.as_deref().unwrap_or("not started")
            )),
            _ => {}
        }
    }
    let status = summary.exit_status();
    if let Some(path) = junit {
        let xml = junit_report(summary);
        let path = ctx.cwd.join(path);
        crate::fsutil::write_atomic(&path, xml.as_bytes(), false).map_err(|e| {
            CommandError::msg(
                ExitStatus::Failure,
                format!("cannot write {}: {e}", path.display()),
            )
        })?;
    }
    if json {
        let mut v = serde_json::to_value(summary).expect("summary serializes");
        v["exit_status"] = serde_json::json!(status.code());
        ctx.ui.out(serde_json::to_string_pretty(&v).expect("json"));
    }
    Ok(status)
}

/// One test suite per session, one test case per gate check, task and check.
pub fn junit_report(summary: &RunSummary) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("fsi run");
    for s in &summary.sessions {
        let mut suite = TestSuite::new(format!("{} {}", s.id, s.title).trim().to_string());
        suite.set_time(s.duration);
        if s.steps.is_empty() {
            let mut st = TestCaseStatus::skipped();
            st.set_message(
                s.message
                    .clone()
                    .unwrap_or_else(|| s.outcome.as_str().into()),
            );
            suite.add_test_case(TestCase::new("session", st));
        }
        for step in &s.steps {
            let mut status = match step.outcome {
                StepOutcome::Passed => TestCaseStatus::success(),
                StepOutcome::Note => TestCaseStatus::skipped(),
                StepOutcome::Failed => TestCaseStatus::non_success(NonSuccessKind::Failure),
                StepOutcome::TimedOut | StepOutcome::Interrupted => {
                    TestCaseStatus::non_success(NonSuccessKind::Error)
                }
            };
            if !step.detail.is_empty() {
                status.set_message(step.detail.clone());
            }
            let mut case = TestCase::new(format!("{} {}", step.phase.as_str(), step.name), status);
            case.set_classname(s.id.clone());
            case.set_time(step.duration);
            if !step.stdout.is_empty() {
                case.set_system_out(step.stdout.clone());
            }
            if !step.stderr.is_empty() {
                case.set_system_err(step.stderr.clone());
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().unwrap_or_default()
}

pub fn lifecycle(ctx: &Ctx, cmd: LifecycleCommand) -> CmdResult {
    match cmd {
        LifecycleCommand::Start { id, lock, src } => start(ctx, &id, &src, &lock),
        LifecycleCommand::Checkpoint {
            id,
            message,
            done,
            remaining,
            lock,
            src,
        } => checkpoint(ctx, &id, &message, &done, &remaining, &src, &lock),
        LifecycleCommand::Complete {
            id,
            accept_manual,
            lock,
            src,
        } => complete(ctx, &id, accept_manual, &src, &lock),
        LifecycleCommand::Rollback { id, lock, src } => rollback(ctx, &id, &src, &lock),
    }
}

fn start(ctx: &Ctx, id: &str, src: &SourceArgs, lock: &LockArgs) -> CmdResult {
    let (_lock, l) = load_locked(ctx, src, lock)?;
    let cfg = &l.project.config.sessions;
    // Refuse, naming them, when dependencies are incomplete.
    plan::build(
        &l.set,
        &l.state,
        &Selection {
            ids: vec![id.to_string()],
            rerun: true,
            assume_deps: false,
            ..Default::default()
        },
        cfg,
        &registry(),
        PlanOptions::default(),
    )?;
    let s = l.set.get(id).expect("resolved");
    if l.state.is_complete(id) {
        return Err(CommandError::msg(
            ExitStatus::Refused,
            format!("{id} is already complete; `fsi session rollback {id}` reopens it"),
        ));
    }
    // What is uncommitted now is not the session's: its checkpoints and its completion leave
    // it out.
    let baseline = baseline_of(&l, [id])?;
    let mut st = l.state.clone();
    let now = state::now();
    let e = st.entry(id);
    e.status = Status::Active;
    e.started_at = Some(now.clone());
    e.baseline = baseline.unwrap_or_default();
    l.store.save(&st)?;
    let wd = crate::session::working_dir(&l.set.root, s.meta.working_directory.as_deref());
    let md = l.set.root.join(&cfg.session_file);
    let text = sessionmd::active(
        s,
        &now,
        &l.set.display_path(&wd),
        &l.set.display_path(&s.source),
    );
    crate::fsutil::write_atomic(&md, text.as_bytes(), false).map_err(|e| {
        CommandError::msg(
            ExitStatus::Failure,
            format!("cannot write {}: {e}", md.display()),
        )
    })?;
    ctx.ui
        .info(format!("{id} is active; wrote {}", l.set.display_path(&md)));
    if let Some(pf) = progress::discover(&l.set.root, cfg.progress_file.as_deref()) {
        let up = progress::RowUpdate {
            status: Some(progress::ACTIVE.into()),
            started: Some(now.get(..10).unwrap_or(&now).to_string()),
            started_if_empty: true,
            ..Default::default()
        };
        match progress::update_file(&pf, id, &up) {
            Ok(true) => ctx.ui.info(format!("updated {}", l.set.display_path(&pf))),
            Ok(false) => ctx
                .ui
                .warn(format!("no row for {id} in {}", l.set.display_path(&pf))),
            Err(e) => ctx.ui.warn(format!("cannot update {}: {e}", pf.display())),
        }
    }
    Ok(ExitStatus::Success)
}

fn checkpoint(
    ctx: &Ctx,
    id: &str,
    message: &str,
    done: &[String],
    remaining: &[String],
    src: &SourceArgs,
    lock: &LockArgs,
) -> CmdResult {
    let (_lock, l) = load_locked(ctx, src, lock)?;
    plan::resolve_ids(&l.set, &[id.to_string()])?;
    let s = l.set.get(id).expect("resolved");
    let cfg = &l.project.config.sessions;
    let n = l.state.sessions.get(id).map_or(0, |e| e.checkpoints) + 1;
    let mut msg = format!("WIP: [{id}] checkpoint {n} - {message}\n");
    for (title, items) in [("Completed", done), ("Remaining", remaining)] {
        if !items.is_empty() {
            msg.push_str(&format!("\n{title}:\n"));
            for i in items {
                msg.push_str(&format!("- {i}\n"));
            }
        }
    }
    msg.push_str(&format!("\nSession: {id} (checkpoint {n})\n"));
    let wd = crate::session::working_dir(&l.set.root, s.meta.working_directory.as_deref());
    let now = state::now();
    let md = l.set.root.join(&cfg.session_file);
    if md.exists() {
        let existing = fs_err::read_to_string(&md).unwrap_or_default();
        let text = sessionmd::append_note(&existing, &now, &format!("checkpoint {n}: {message}"));
        let _ = crate::fsutil::write_atomic(&md, text.as_bytes(), false);
    }
    let repo = gitops::open(&wd)
        .or_else(|_| gitops::open(&l.set.root))
        .map_err(|e| CommandError::msg(ExitStatus::Refused, e))?;
    // Work in progress: what changed in the working directory since `fsi session start`
    // (everything uncommitted there when the session was not started), and SESSION.md.
    let scope = gitops::pathspec_for(&repo, &wd).pop();
    let state_dir = l.set.root.join(&cfg.state_dir);
    let exclude: Vec<String> = gitops::relative(&repo, &state_dir).into_iter().collect();
    let baseline = l
        .state
        .sessions
        .get(id)
        .map(|e| e.baseline.clone())
        .unwrap_or_default();
    let att = gitops::attribute(&repo, &baseline, scope.as_deref(), &exclude)
        .map_err(|e| CommandError::msg(ExitStatus::Failure, e))?;
    if !att.conflicts.is_empty() {
        return Err(CommandError::msg(
            ExitStatus::Refused,
            format!(
                "not committing: {} had uncommitted changes before `fsi session start {id}` and changed since; commit or stash your own part first",
                att.conflicts.join(", ")
            ),
        ));
    }
    let mut paths = att.paths;
    if let Some(rel) = gitops::relative(&repo, &md)
        && md.exists()
        && !paths.contains(&rel)
    {
        paths.push(rel);
    }
    let hash = gitops::commit_paths(&repo, &paths, &msg)
        .map_err(|e| CommandError::msg(ExitStatus::Failure, e))?;
    let mut st = l.state.clone();
    let e = st.entry(id);
    e.checkpoints = n;
    if e.status == Status::Pending {
        e.status = Status::Active;
        e.started_at.get_or_insert(now);
    }
    l.store.save(&st)?;
    ctx.ui
        .out(format!("{hash} WIP: [{id}] checkpoint {n} - {message}"));
    Ok(ExitStatus::Success)
}

fn complete(
    ctx: &Ctx,
    id: &str,
    accept_manual: bool,
    src: &SourceArgs,
    lock: &LockArgs,
) -> CmdResult {
    let (_lock, l) = load_locked(ctx, src, lock)?;
    let cfg = &l.project.config.sessions;
    let registry = registry();
    let p = plan::build(
        &l.set,
        &l.state,
        &Selection {
            ids: vec![id.to_string()],
            ..Default::default()
        },
        cfg,
        &registry,
        PlanOptions::default(),
    )?;
    if p.to_run().next().is_none() {
        return Err(CommandError::msg(
            ExitStatus::Refused,
            format!("{id} is already complete"),
        ));
    }
    let cancel = Cancel::new();
    let _ = cancel.install_signal_handlers();
    let _supervisor = crate::exec::Supervisor::start(cfg.kill_grace.duration());
    let bar = indicatif::ProgressBar::hidden();
    let opts = RunOptions {
        jobs: 1,
        force: false,
        accept_manual,
        commit: true,
        verify_only: true,
        keep_going: false,
    };
    // The session's work was done by hand since `fsi session start`: what was uncommitted
    // before that is not part of it.
    let baseline = l
        .state
        .sessions
        .get(id)
        .map(|e| e.baseline.clone())
        .unwrap_or_default();
    let summary = execute(
        ctx,
        &l,
        &registry,
        &p,
        &cancel,
        &bar,
        false,
        opts,
        Some(&baseline),
    )?;
    finish(ctx, &summary, None, false)
}

fn rollback(ctx: &Ctx, id: &str, src: &SourceArgs, lock: &LockArgs) -> CmdResult {
    let (_lock, l) = load_locked(ctx, src, lock)?;
    plan::resolve_ids(&l.set, &[id.to_string()])?;
    let cfg = &l.project.config.sessions;
    let Some(hash) = l.state.sessions.get(id).and_then(|e| e.commit.clone()) else {
        return Err(CommandError::msg(
            ExitStatus::Refused,
            format!("{id} has no recorded commit to roll back"),
        ));
    };
    let dependents: Vec<&str> = l
        .set
        .dependents(id)
        .into_iter()
        .filter(|d| l.state.is_complete(d))
        .collect();
    if !dependents.is_empty() {
        return Err(CommandError::msg(
            ExitStatus::Refused,
            format!(
                "refusing to roll back {id}: complete sessions depend on it: {} (roll them back first)",
                dependents.join(", ")
            ),
        ));
    }
    let repo = gitops::open(&l.set.root).map_err(|e| CommandError::msg(ExitStatus::Refused, e))?;
    let new = gitops::revert(&repo, &hash, id).map_err(|e| {
        let status = match e {
            gitops::GitError::Refused(_) => ExitStatus::Refused,
            _ => ExitStatus::Failure,
        };
        CommandError::msg(status, e)
    })?;
    let mut st = l.state.clone();
    let e = st.entry(id);
    e.status = Status::Pending;
    e.commit = None;
    e.completed_at = None;
    e.checkpoints = 0;
    l.store.save(&st)?;
    if let Some(pf) = progress::discover(&l.set.root, cfg.progress_file.as_deref()) {
        let up = progress::RowUpdate {
            status: Some(progress::PENDING.into()),
            completed: Some(progress::EMPTY.into()),
            commit: Some(progress::EMPTY.into()),
            ..Default::default()
        };
        let _ = progress::update_file(&pf, id, &up);
    }
    ctx.ui
        .out(format!("{new} reverted {hash}; {id} is pending again"));
    Ok(ExitStatus::Success)
}
