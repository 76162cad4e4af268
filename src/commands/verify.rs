//! `fsi verify`: the one command CI runs. The plans are valid, the generated types match the
//! DTOs, and every session recorded complete still passes its verification (services started
//! as needed) and is free of its forbidden patterns. One line per finding; exit 1 on any.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use super::Ctx;
use super::sessions::{SourceArgs, load_plans};
use crate::error::{CmdResult, CommandError, ExitStatus};
use crate::exec::Cancel;
use crate::session;
use crate::session::plan::{self, PlanOptions, Selection};
use crate::session::run::{Event, Observer, RunOptions, Runner, StepOutcome};
use crate::session::state::StateStore;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Write a JUnit XML report (one suite per area: plans, types, each verified session).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Print the findings as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Skip the type-drift check.
    #[arg(long)]
    pub no_types: bool,
    /// Skip re-verifying completed sessions.
    #[arg(long, conflicts_with = "sessions")]
    pub no_sessions: bool,
    /// Re-verify only these completed sessions (repeatable; default: every completed one).
    #[arg(long = "session", value_name = "ID")]
    pub sessions: Vec<String>,
    #[command(flatten)]
    pub src: SourceArgs,
}

/// One thing that no longer holds.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `plan`, `types` or `session`.
    pub area: &'static str,
    /// The session a finding belongs to, for `session` findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// `file:line:col` or `file`, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub message: String,
}

impl Finding {
    fn line(&self) -> String {
        let mut s = String::from(self.area);
        if let Some(id) = &self.session {
            s.push(' ');
            s.push_str(id);
        }
        if let Some(loc) = &self.location {
            s.push_str(": ");
            s.push_str(loc);
        }
        s.push_str(": ");
        s.push_str(&self.message.replace('\n', " | "));
        s
    }

    /// `::error file=…,line=…,col=…::message` for GitHub Actions.
    fn annotation(&self) -> String {
        let mut props = Vec::new();
        if let Some(loc) = &self.location {
            let mut parts = loc.splitn(3, ':');
            if let Some(f) = parts.next() {
                props.push(format!("file={f}"));
            }
            if let Some(l) = parts.next().filter(|l| l.parse::<u32>().is_ok()) {
                props.push(format!("line={l}"));
            }
            if let Some(c) = parts.next().filter(|c| c.parse::<u32>().is_ok()) {
                props.push(format!("col={c}"));
            }
        }
        let title = match &self.session {
            Some(id) => format!("title=fsi verify: {} {id}", self.area),
            None => format!("title=fsi verify: {}", self.area),
        };
        props.push(title);
        let msg = self
            .message
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        format!("::error {}::{msg}", props.join(","))
    }
}

/// What one area checked, for the report.
#[derive(Debug, Default, Serialize)]
struct Area {
    name: String,
    checked: Vec<String>,
    findings: Vec<Finding>,
}

pub fn run(ctx: &Ctx, args: VerifyArgs) -> CmdResult {
    let ui = ctx.ui;
    let mut areas: Vec<Area> = Vec::new();

    // 1. Plans.
    ui.group_start("plans");
    let (project, set) = load_plans(ctx, &args.src)?;
    let mut plans = Area {
        name: "plans".into(),
        checked: set.files.iter().map(|f| f.display.clone()).collect(),
        ..Area::default()
    };
    for p in set.located_problems().into_iter().filter(|p| p.is_error()) {
        plans.findings.push(Finding {
            area: "plan",
            session: None,
            location: p.location.clone(),
            message: p.message.clone(),
        });
    }
    ui.info(format!(
        "{} session(s) in {} file(s): {}",
        set.index.len(),
        set.files.len(),
        if plans.findings.is_empty() {
            "valid".to_string()
        } else {
            format!("{} problem(s)", plans.findings.len())
        }
    ));
    ui.group_end();
    let plan_valid = plans.findings.is_empty();
    areas.push(plans);

    // 2. Types.
    if !args.no_types {
        ui.group_start("types");
        let area = types_findings(ctx, &project)?;
        ui.info(match (area.0.len(), area.1.len()) {
            (0, _) => "no DTO modules configured".to_string(),
            (n, 0) => format!("{n} DTO module(s) and controller(s): in sync"),
            (n, d) => format!("{n} DTO module(s) and controller(s): {d} finding(s)"),
        });
        areas.push(Area {
            name: "types".into(),
            checked: area.0,
            findings: area.1,
        });
        ui.group_end();
    }

    // 3. Completed sessions, verified again.
    if !args.no_sessions {
        ui.group_start("sessions");
        let area = if plan_valid {
            verify_sessions(ctx, &project, &set, &args.sessions)?
        } else {
            ui.info("skipped: the plan is not valid");
            Area {
                name: "sessions".into(),
                ..Area::default()
            }
        };
        areas.push(area);
        ui.group_end();
    }

    let findings: Vec<&Finding> = areas.iter().flat_map(|a| &a.findings).collect();
    if args.json {
        ui.out(
            serde_json::to_string_pretty(&serde_json::json!({
                "ok": findings.is_empty(),
                "findings": findings,
                "checked": areas.iter().map(|a| (a.name.clone(), a.checked.clone())).collect::<std::collections::BTreeMap<_, _>>(),
            }))
            .expect("json"),
        );
    } else {
        for f in &findings {
            ui.out(f.line());
        }
    }
    if ui.github_actions {
        for f in &findings {
            ui.out(f.annotation());
        }
    }
    if let Some(path) = &args.junit {
        let path = ctx.cwd.join(path);
        crate::fsutil::write_atomic(&path, junit(&areas).as_bytes(), false).map_err(|e| {
            CommandError::msg(
                ExitStatus::Failure,
                format!("cannot write {}: {e}", path.display()),
            )
        })?;
    }
    ui.info(if findings.is_empty() {
        "fsi verify: everything holds".to_string()
    } else {
        format!("fsi verify: {} finding(s)", findings.len())
    });
    Ok(if findings.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// Collects failed steps as they happen.
struct Collect {
    failures: Mutex<Vec<Finding>>,
    ui_lines: Mutex<Vec<String>>,
}

impl Observer for Collect {
    fn event(&self, event: &Event<'_>) {
        if let Event::StepFinished { id, step } = event {
            let mark = if step.outcome.is_failure() {
                "✗"
            } else {
                "✓"
            };
            let mut line = format!("  {mark} {id} {} {}", step.phase.as_str(), step.name);
            if step.outcome.is_failure() {
                // What the failing command said (its last lines): on CI this log is all there is.
                for (name, out) in [("stdout", &step.stdout), ("stderr", &step.stderr)] {
                    if !out.trim().is_empty() {
                        line.push_str(&format!("\n      {name}:"));
                        for l in out.lines() {
                            line.push_str(&format!("\n        | {l}"));
                        }
                    }
                }
            }
            self.ui_lines.lock().expect("lines").push(line);
            if step.outcome.is_failure() || step.outcome == StepOutcome::Interrupted {
                let mut message = format!("{} `{}` failed", step.phase.as_str(), step.name);
                if !step.detail.is_empty() {
                    message.push_str(": ");
                    message.push_str(step.detail.trim());
                }
                if let Some(c) = &step.command {
                    message.push_str(&format!(" (command: {c})"));
                }
                self.failures.lock().expect("failures").push(Finding {
                    area: "session",
                    session: Some(id.to_string()),
                    location: None,
                    message,
                });
            }
        }
    }
}

fn verify_sessions(
    ctx: &Ctx,
    project: &crate::config::Project,
    set: &session::PlanSet,
    only: &[String],
) -> Result<Area, CommandError> {
    plan::resolve_ids(set, only)?;
    let cfg = &project.config.sessions;
    let store = StateStore::new(&project.root, &cfg.state_dir);
    let mut state = store.load()?;
    // On a CI runner there is no (git-ignored) state file: the history says what is complete,
    // as it does for `run` and `list`.
    super::sessions::reconcile(&project.root, &mut state);
    let completed: Vec<String> = set
        .ordered()
        .filter(|s| state.is_complete(&s.id))
        .filter(|s| only.is_empty() || only.contains(&s.id))
        .map(|s| s.id.clone())
        .collect();
    let mut area = Area {
        name: "sessions".into(),
        checked: completed.clone(),
        ..Area::default()
    };
    if completed.is_empty() {
        ctx.ui.info("no session is recorded complete");
        return Ok(area);
    }
    let registry = super::run::registry();
    let p = plan::build(
        set,
        &state,
        &Selection {
            ids: completed.clone(),
            all: false,
            with_deps: false,
            rerun: true,
            assume_deps: true,
        },
        cfg,
        &registry,
        PlanOptions::default(),
    )?;
    // Verification must not change the recorded state: results go to a scratch store.
    let scratch = tempfile::tempdir()
        .map_err(|e| CommandError::msg(ExitStatus::Failure, format!("no temp dir: {e}")))?;
    let scratch_store = StateStore {
        path: scratch.path().join("state.json"),
    };
    let cancel = Cancel::new();
    cancel.install_signal_handlers().map_err(|e| {
        CommandError::msg(
            ExitStatus::Failure,
            format!("cannot install signal handlers: {e}"),
        )
    })?;
    // Whatever the checks start and leave running is stopped when verification ends.
    let _supervisor = crate::exec::Supervisor::start(cfg.kill_grace.duration());
    let collect = Collect {
        failures: Mutex::new(Vec::new()),
        ui_lines: Mutex::new(Vec::new()),
    };
    let runner = Runner {
        set,
        config: cfg,
        services: &project.config.services,
        registry: &registry,
        store: &scratch_store,
        cancel: &cancel,
        observer: &collect,
        confirm: &crate::session::run::NoPrompt,
        opts: RunOptions {
            jobs: 1,
            force: false,
            accept_manual: true,
            commit: false,
            verify_only: true,
            keep_going: false,
        },
        baseline: None,
    };
    let bar = ctx.ui.progress(Some(completed.len() as u64));
    bar.enable_steady_tick(Duration::from_millis(120));
    let summary = runner.execute(&p, state)?;
    bar.finish_and_clear();
    for l in collect.ui_lines.into_inner().expect("lines") {
        ctx.ui.info(l);
    }
    if cancel.is_cancelled() {
        return Err(CommandError::msg(
            ExitStatus::Interrupted,
            "fsi verify was interrupted",
        ));
    }
    area.findings = collect.failures.into_inner().expect("failures");
    // A session that failed without a failed step (e.g. its working directory is gone).
    for s in &summary.sessions {
        let has = area
            .findings
            .iter()
            .any(|f| f.session.as_deref() == Some(s.id.as_str()));
        if s.outcome.as_str() == "failed" && !has {
            area.findings.push(Finding {
                area: "session",
                session: Some(s.id.clone()),
                location: None,
                message: s.message.clone().unwrap_or_else(|| "failed".into()),
            });
        }
    }
    Ok(area)
}

/// The DTO modules checked, and one finding per drifted declaration, orphaned mirror and DTO
/// module without a mirror (`fsi types --check`, in memory).
fn types_findings(
    _ctx: &Ctx,
    project: &crate::config::Project,
) -> Result<(Vec<String>, Vec<Finding>), CommandError> {
    let generated = crate::typesync::generate(&project.root, &project.config.types)?;
    let drift = crate::typesync::check(&project.root, &generated);
    let mut checked: Vec<String> = generated.modules.iter().map(|m| m.py.clone()).collect();
    let finding = |location: String, message: String| Finding {
        area: "types",
        session: None,
        location: Some(location),
        message,
    };
    let mut findings = Vec::new();
    for f in &drift.files {
        let path = f.path.display().to_string();
        if f.missing {
            findings.push(finding(
                path,
                "generated file is missing; run `fsi types`".into(),
            ));
            continue;
        }
        for d in &f.declarations {
            let what = match d.change {
                crate::typesync::check::Change::Added => "is missing from the file",
                crate::typesync::check::Change::Removed => "is no longer generated",
                crate::typesync::check::Change::Changed => "differs from its DTO",
            };
            findings.push(finding(
                path.clone(),
                format!("`{}` {what}; run `fsi types`", d.name),
            ));
        }
    }
    for o in &drift.orphaned {
        findings.push(finding(
            o.path.display().to_string(),
            format!(
                "mirrors {}, which {}",
                o.mirrors,
                if o.source_gone {
                    "no longer exists"
                } else {
                    "no longer produces it"
                }
            ),
        ));
    }
    // Routes whose declared DTOs (`@contract(...)`, the source of /openapi.json) have no type.
    let scan = crate::typesync::routes::scan_routes(&project.root, &project.config.types)?;
    for u in &scan.unparsable {
        findings.push(finding(
            u.file.clone(),
            format!("cannot read its route declarations: {}", u.message),
        ));
    }
    for r in crate::typesync::routes::untyped_routes(&scan, &generated) {
        findings.push(finding(
            format!("{}:{}", r.file, r.line),
            format!(
                "route `{}` declares {} `{}`, which has no generated type; define it in a DTO module \
                 under the [types] roots and run `fsi types`",
                r.view, r.role, r.dto
            ),
        ));
    }
    checked.extend(scan.controllers.iter().cloned());
    for u in &drift.unmirrored {
        findings.push(finding(
            u.py.clone(),
            format!(
                "DTO module has no mirror {}; run `fsi types`",
                u.ts.display()
            ),
        ));
    }
    Ok((checked, findings))
}

fn junit(areas: &[Area]) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("fsi verify");
    for a in areas {
        let mut suite = TestSuite::new(a.name.clone());
        for c in &a.checked {
            let failures: Vec<&Finding> = a
                .findings
                .iter()
                .filter(|f| {
                    f.session.as_deref() == Some(c.as_str())
                        || f.location
                            .as_deref()
                            .is_some_and(|l| l.starts_with(c.as_str()))
                })
                .collect();
            let status = if failures.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                st.set_message(
                    failures
                        .iter()
                        .map(|f| f.line())
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
                st
            };
            suite.add_test_case(TestCase::new(c.clone(), status));
        }
        // Findings not tied to a checked item (e.g. an orphaned TS file).
        for f in a.findings.iter().filter(|f| {
            !a.checked.iter().any(|c| {
                f.session.as_deref() == Some(c.as_str())
                    || f.location
                        .as_deref()
                        .is_some_and(|l| l.starts_with(c.as_str()))
            })
        }) {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            st.set_message(f.line());
            suite.add_test_case(TestCase::new(
                f.location.clone().unwrap_or_else(|| f.area.to_string()),
                st,
            ));
        }
        report.add_test_suite(suite);
    }
    report.to_string().unwrap_or_default()
}
