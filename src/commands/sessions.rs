//! `fsi sessions list|show|graph|validate` and `fsi plan` — all read-only: they load the state
//! file but never write it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::json;

use super::Ctx;
use crate::config::Project;
use crate::error::{CmdResult, CommandError, ExitStatus};
use crate::session::actions::ActionRegistry;
use crate::session::plan::{self, CheckStep, Plan, PlanOptions, Selection, TaskStep, WriteState};
use crate::session::run::fmt_secs;
use crate::session::state::{State, StateStore};
use crate::session::{self, PlanSet, Vars};

/// Where plans come from; shared by every sessions command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SourceArgs {
    /// Plan file or directory (`.xml` / `.md`); repeatable. Overrides `[sessions] plans`.
    #[arg(long = "plan", value_name = "PATH")]
    pub plans: Vec<PathBuf>,
    /// Placeholder value, e.g. `--var entity=items`; repeatable. Overrides `[vars]`.
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Port of a service from fsi.toml `[services]`, e.g. `--port backend=5055` (`0` picks a
    /// free one); repeatable. Plans see it as `{backend_port}`.
    #[arg(long = "port", value_name = "SERVICE=PORT", value_parser = parse_port)]
    pub ports: Vec<(String, u16)>,
}

fn parse_port(s: &str) -> Result<(String, u16), String> {
    let (name, port) = s
        .split_once('=')
        .ok_or_else(|| format!("expected SERVICE=PORT, found `{s}`"))?;
    let port = port
        .trim()
        .parse::<u16>()
        .map_err(|_| format!("`{port}` is not a port number"))?;
    Ok((name.trim().to_string(), port))
}

/// Resolve service ports (command-line overrides, `0` → a free loopback port) into the
/// project's config, and return them as placeholder values `{<service>_port}`.
fn resolve_ports(
    project: &mut Project,
    overrides: &[(String, u16)],
) -> Result<BTreeMap<String, String>, CommandError> {
    let services = &mut project.config.services;
    for (name, _) in overrides {
        if !services.contains_key(name) {
            let known: Vec<&str> = services.keys().map(String::as_str).collect();
            return Err(CommandError::msg(
                ExitStatus::Invalid,
                format!(
                    "--port {name}=…: fsi.toml defines no service `{name}` (services: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
    }
    let mut vars = BTreeMap::new();
    for (name, spec) in services.iter_mut() {
        if let Some((_, p)) = overrides.iter().rev().find(|(n, _)| n == name) {
            spec.port = Some(*p);
        }
        if spec.port == Some(0) {
            let port = crate::services::free_port().map_err(|e| {
                CommandError::msg(ExitStatus::Failure, format!("no free port for {name}: {e}"))
            })?;
            spec.port = Some(port);
        }
        if let Some(p) = spec.port {
            vars.insert(format!("{name}_port"), p.to_string());
        }
    }
    Ok(vars)
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, found `{s}`")),
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum SessionsCommand {
    /// List sessions: id, title, track, status, dependencies, ready or not.
    List {
        #[command(flatten)]
        src: SourceArgs,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Show one session as fsi understands it.
    Show {
        id: String,
        #[command(flatten)]
        src: SourceArgs,
        #[arg(long)]
        json: bool,
    },
    /// Print the dependency graph.
    Graph {
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormat,
        #[command(flatten)]
        src: SourceArgs,
    },
    /// Check the plans and report every problem (exit 2 when invalid).
    Validate {
        #[command(flatten)]
        src: SourceArgs,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Sessions to plan (default: all).
    pub ids: Vec<String>,
    /// Include incomplete dependencies of the named sessions.
    #[arg(long)]
    pub with_deps: bool,
    /// Plan named sessions again even when complete.
    #[arg(long)]
    pub rerun: bool,
    /// Plan overwriting files that differ (as `fsi run --force` would).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub src: SourceArgs,
    #[arg(long)]
    pub json: bool,
}

/// A loaded, valid plan with its project and recorded state.
pub struct Loaded {
    pub project: Project,
    pub set: PlanSet,
    pub store: StateStore,
    /// The state file, made to agree with git history (see [`State::apply_history`]).
    pub state: State,
    /// Whether agreeing with history changed the state (commands that write it save it).
    pub reconciled: bool,
}

/// Read the plan sources (from `--plan` or fsi.toml), substitute placeholders, validate.
pub fn load_plans(ctx: &Ctx, src: &SourceArgs) -> Result<(Project, PlanSet), CommandError> {
    let mut project = ctx.project()?;
    let port_vars = resolve_ports(&mut project, &src.ports)?;
    let cfg = &project.config;
    let sources: Vec<PathBuf> = if src.plans.is_empty() {
        cfg.sessions.plans.clone()
    } else {
        src.plans.iter().map(|p| ctx.cwd.join(p)).collect()
    };
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let name = cfg.project.name.trim();
    if !name.is_empty() {
        let slug = name.to_lowercase().replace([' ', '_'], "-");
        vars.insert("project".into(), slug);
        vars.insert(
            "PROJECT".into(),
            name.to_uppercase().replace([' ', '-'], "_"),
        );
    }
    vars.extend(port_vars);
    vars.extend(cfg.vars.clone());
    vars.extend(src.vars.iter().cloned());
    let mut set = session::load(&project.root, &sources, &Vars::new(vars));
    let configured: Vec<&str> = cfg.services.keys().map(String::as_str).collect();
    session::check_services(&mut set, &configured);
    Ok((project, set))
}

/// Load and require a valid plan; also read the state (never written here) and bring it in line
/// with git history, the truth about which sessions are complete: after a fresh clone, or a
/// kill between a session's commit and the state write, the state file is missing or stale,
/// and `run`, `list` and `verify` must still agree.
pub fn load_valid(ctx: &Ctx, src: &SourceArgs) -> Result<Loaded, CommandError> {
    let (project, set) = load_plans(ctx, src)?;
    set.check()?;
    loaded(ctx, project, set)
}

/// For the read-only views (`sessions list|show|graph`): load what could be read even when the
/// plan is invalid — a template with unresolved placeholders, an excerpt whose sessions depend
/// on sessions defined elsewhere, a cycle. The problems are reported on stderr and the status
/// to exit with is `Invalid` then; a plan of which no session could be read is an error as in
/// [`load_valid`]. `validate`, `plan` and `run` stay strict.
pub fn load_lenient(ctx: &Ctx, src: &SourceArgs) -> Result<(Loaded, ExitStatus), CommandError> {
    let (project, set) = load_plans(ctx, src)?;
    if set.index.is_empty() {
        set.check()?;
    }
    let status = match set.check() {
        Ok(()) => ExitStatus::Success,
        Err(e) => {
            ctx.ui.report(&miette::Report::new(e));
            ctx.ui.info(format!(
                "showing the {} session{} that could be read; `fsi run` and `fsi plan` refuse this plan until it is valid",
                set.index.len(),
                if set.index.len() == 1 { "" } else { "s" }
            ));
            ExitStatus::Invalid
        }
    };
    Ok((loaded(ctx, project, set)?, status))
}

fn loaded(ctx: &Ctx, project: Project, set: PlanSet) -> Result<Loaded, CommandError> {
    let warnings = set.warnings().count();
    if warnings > 0 {
        ctx.ui.info(format!(
            "note: {warnings} plan warning{} (see `fsi sessions validate`)",
            if warnings == 1 { "" } else { "s" }
        ));
    }
    let store = StateStore::new(&project.root, &project.config.sessions.state_dir);
    let mut state = store.load()?;
    let reconciled = reconcile(&project.root, &mut state);
    Ok(Loaded {
        project,
        set,
        store,
        state,
        reconciled,
    })
}

/// Make `state` agree with the git history of the repository around `root` (nothing outside a
/// repository, or when the history cannot be read). Returns whether the state changed.
pub fn reconcile(root: &std::path::Path, state: &mut State) -> bool {
    match session::gitops::history(root, state.history.as_ref()) {
        Ok(Some(h)) => state.apply_history(h),
        _ => false,
    }
}

pub fn run(ctx: &Ctx, cmd: SessionsCommand) -> CmdResult {
    match cmd {
        SessionsCommand::List { src, json } => list(ctx, &src, json),
        SessionsCommand::Show { id, src, json } => show(ctx, &id, &src, json),
        SessionsCommand::Graph { format, src } => graph(ctx, &src, format),
        SessionsCommand::Validate { src, json } => validate(ctx, &src, json),
    }
}

fn ready(l: &Loaded, s: &session::Session) -> bool {
    !l.state.is_complete(&s.id) && s.dep_ids().all(|d| l.state.is_complete(d))
}

fn list(ctx: &Ctx, src: &SourceArgs, json: bool) -> CmdResult {
    let (l, status) = load_lenient(ctx, src)?;
    if json {
        let rows: Vec<_> = l
            .set
            .ordered()
            .map(|s| {
                json!({
                    "id": s.id,
                    "title": s.title(),
                    "track": s.meta.track,
                    "wave": s.meta.wave,
                    "status": l.state.status(&s.id),
                    "dependencies": s.dep_ids().collect::<Vec<_>>(),
                    "ready": ready(&l, s),
                    "source": l.set.display_path(&s.source),
                    "dialect": s.dialect,
                })
            })
            .collect();
        ctx.ui
            .out(serde_json::to_string_pretty(&rows).expect("json"));
        return Ok(status);
    }
    let mut rows = vec![[
        "ID".to_string(),
        "TITLE".into(),
        "TRACK".into(),
        "STATUS".into(),
        "DEPENDS ON".into(),
        "READY".into(),
    ]];
    for s in l.set.ordered() {
        let deps: Vec<&str> = s.dep_ids().collect();
        rows.push([
            s.id.clone(),
            s.title().to_string(),
            s.meta.track.clone().unwrap_or_else(|| "-".into()),
            l.state.status(&s.id).as_str().to_string(),
            if deps.is_empty() {
                "-".into()
            } else {
                deps.join(",")
            },
            if ready(&l, s) { "yes" } else { "no" }.into(),
        ]);
    }
    for line in table(&rows) {
        ctx.ui.out(line);
    }
    Ok(status)
}

fn table<const N: usize>(rows: &[[String; N]]) -> Vec<String> {
    let mut widths = [0usize; N];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    rows.iter()
        .map(|r| {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                line.push_str(c);
                if i + 1 < N {
                    line.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
                }
            }
            line.trim_end().to_string()
        })
        .collect()
}

fn show(ctx: &Ctx, id: &str, src: &SourceArgs, json: bool) -> CmdResult {
    let (l, status) = load_lenient(ctx, src)?;
    let idx = plan::resolve_ids(&l.set, &[id.to_string()])?[0];
    let s = &l.set.sessions[idx];
    let st = l.state.sessions.get(&s.id).cloned().unwrap_or_default();
    if json {
        let mut v = serde_json::to_value(s).expect("json");
        v["source"] = json!(l.set.display_path(&s.source));
        v["state"] = serde_json::to_value(&st).expect("json");
        v["ready"] = json!(ready(&l, s));
        v["dependents"] = json!(l.set.dependents(&s.id));
        v["commit_message"] = json!(session::gitops::message(s));
        ctx.ui.out(serde_json::to_string_pretty(&v).expect("json"));
        return Ok(status);
    }
    let ui = ctx.ui;
    let loc = session::diag::location(&l.set.files, s.loc.file, s.loc.span.start);
    ui.out(format!("{}  {}", s.id, s.title()));
    ui.out(format!("  source:     {loc} ({})", s.dialect.as_str()));
    ui.out(format!(
        "  status:     {}{}",
        st.status.as_str(),
        st.commit.map(|c| format!(" ({c})")).unwrap_or_default()
    ));
    let wd = session::working_dir(&l.set.root, s.meta.working_directory.as_deref());
    ui.out(format!("  directory:  {}", l.set.display_path(&wd)));
    for (k, v) in [
        ("project", &s.project),
        ("track", &s.meta.track),
        ("phase", &s.meta.phase),
        ("size", &s.meta.size),
        ("effort", &s.meta.effort),
        ("time", &s.meta.estimated_time),
    ] {
        if let Some(v) = v {
            ui.out(format!("  {:<11} {v}", format!("{k}:")));
        }
    }
    if let Some(w) = s.meta.wave {
        ui.out(format!("  wave:       {w}"));
    }
    let deps: Vec<String> = s
        .dep_ids()
        .map(|d| match l.set.get(d) {
            Some(_) => format!("{d} ({})", l.state.status(d).as_str()),
            None => format!("{d} (not in the plans read)"),
        })
        .collect();
    ui.out(format!(
        "  requires:   {}",
        if deps.is_empty() {
            "-".into()
        } else {
            deps.join(", ")
        }
    ));
    for p in &s.preconditions {
        ui.out(format!("  precondition (manual): {p}"));
    }
    let dependents = l.set.dependents(&s.id);
    if !dependents.is_empty() {
        ui.out(format!("  needed by:  {}", dependents.join(", ")));
    }
    ui.out(format!(
        "  ready:      {}",
        if ready(&l, s) { "yes" } else { "no" }
    ));
    let plan = plan::build(
        &l.set,
        &State::default(),
        &Selection {
            ids: vec![s.id.clone()],
            rerun: true,
            assume_deps: false,
            ..Default::default()
        },
        &l.project.config.sessions,
        &ActionRegistry::new(),
        PlanOptions::default(),
    );
    if let Ok(p) = plan.or_else(|_| {
        // Dependencies are not complete in an empty state; plan with them assumed done.
        let mut assumed = State::default();
        for d in s.dep_ids() {
            assumed.entry(d).status = session::state::Status::Complete;
        }
        plan::build(
            &l.set,
            &assumed,
            &Selection {
                ids: vec![s.id.clone()],
                rerun: true,
                assume_deps: false,
                ..Default::default()
            },
            &l.project.config.sessions,
            &ActionRegistry::new(),
            PlanOptions::default(),
        )
    }) {
        for ps in &p.sessions {
            for line in describe_steps(&l.set, ps) {
                ui.out(line);
            }
        }
    }
    if !s.unknown_elements.is_empty() {
        ui.out(format!(
            "  not interpreted: {}",
            s.unknown_elements.join(", ")
        ));
    }
    Ok(status)
}

fn graph(ctx: &Ctx, src: &SourceArgs, format: GraphFormat) -> CmdResult {
    let (l, status) = load_lenient(ctx, src)?;
    let set = &l.set;
    let mut edges: Vec<(&str, &str)> = set
        .edges
        .iter()
        .map(|&(a, b)| (set.sessions[b].id.as_str(), set.sessions[a].id.as_str()))
        .collect();
    edges.sort_by(|x, y| {
        session::graph::cmp_ids(x.0, y.0).then_with(|| session::graph::cmp_ids(x.1, y.1))
    });
    let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    match format {
        GraphFormat::Dot => {
            ctx.ui.out("digraph sessions {");
            ctx.ui.out("  rankdir=LR;");
            ctx.ui.out("  node [shape=box];");
            for s in set.ordered() {
                let label = if s.title().is_empty() {
                    s.id.clone()
                } else {
                    format!("{}\\n{}", s.id, q(s.title()))
                };
                ctx.ui.out(format!(
                    "  \"{}\" [label=\"{label}\", status=\"{}\"];",
                    q(&s.id),
                    l.state.status(&s.id).as_str()
                ));
            }
            for (a, b) in &edges {
                ctx.ui.out(format!("  \"{}\" -> \"{}\";", q(a), q(b)));
            }
            ctx.ui.out("}");
        }
        GraphFormat::Mermaid => {
            let node = |id: &str| id.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
            ctx.ui.out("graph LR");
            for s in set.ordered() {
                let label = if s.title().is_empty() {
                    s.id.clone()
                } else {
                    format!("{}: {}", s.id, s.title())
                };
                ctx.ui.out(format!(
                    "  {}[\"{}\"]",
                    node(&s.id),
                    label.replace('"', "#quot;")
                ));
            }
            for (a, b) in &edges {
                ctx.ui.out(format!("  {} --> {}", node(a), node(b)));
            }
        }
        GraphFormat::Json => {
            let nodes: Vec<_> = set
                .ordered()
                .map(|s| {
                    json!({"id": s.id, "title": s.title(), "track": s.meta.track,
                           "wave": s.meta.wave, "status": l.state.status(&s.id)})
                })
                .collect();
            let edges: Vec<_> = edges
                .iter()
                .map(|(a, b)| json!({"from": a, "to": b}))
                .collect();
            ctx.ui.out(
                serde_json::to_string_pretty(&json!({"nodes": nodes, "edges": edges}))
                    .expect("json"),
            );
        }
    }
    Ok(status)
}

fn validate(ctx: &Ctx, src: &SourceArgs, json: bool) -> CmdResult {
    let (_project, set) = load_plans(ctx, src)?;
    let errors = set.problems.iter().filter(|p| p.is_error()).count();
    let warnings = set.problems.len() - errors;
    if json {
        ctx.ui.out(
            serde_json::to_string_pretty(&json!({
                "valid": errors == 0,
                "sessions": set.index.len(),
                "files": set.files.iter().map(|f| &f.display).collect::<Vec<_>>(),
                "errors": errors,
                "warnings": warnings,
                "problems": set.located_problems(),
            }))
            .expect("json"),
        );
        return Ok(if errors == 0 {
            ExitStatus::Success
        } else {
            ExitStatus::Invalid
        });
    }
    for p in set.warnings().take(session::diag::MAX_DRAWN) {
        let d = session::diag::to_diagnostic(p, &set.files);
        ctx.ui.report(&miette::Report::new(d));
    }
    if warnings > session::diag::MAX_DRAWN {
        ctx.ui.warn(format!(
            "{} more warnings not shown (`fsi sessions validate --json` lists them all)",
            warnings - session::diag::MAX_DRAWN
        ));
    }
    set.check()?;
    ctx.ui.out(format!(
        "ok: {} session{} in {} file{}, {warnings} warning{}",
        set.index.len(),
        if set.index.len() == 1 { "" } else { "s" },
        set.files.len(),
        if set.files.len() == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
    ));
    Ok(ExitStatus::Success)
}

pub fn plan(ctx: &Ctx, args: PlanArgs) -> CmdResult {
    let l = load_valid(ctx, &args.src)?;
    let registry = super::run::registry();
    let sel = Selection {
        all: args.ids.is_empty(),
        ids: args.ids,
        with_deps: args.with_deps,
        rerun: args.rerun,
        assume_deps: false,
    };
    let p = plan::build(
        &l.set,
        &l.state,
        &sel,
        &l.project.config.sessions,
        &registry,
        PlanOptions { force: args.force },
    )?;
    print_plan(ctx, &l.set, &p, args.json);
    Ok(ExitStatus::Success)
}

/// Print a plan (human or JSON). Shared with `fsi run --dry-run`.
pub fn print_plan(ctx: &Ctx, set: &PlanSet, p: &Plan, json: bool) {
    if json {
        ctx.ui
            .out(serde_json::to_string_pretty(p).expect("plan serializes"));
        return;
    }
    // One write for the whole plan instead of one per line.
    use std::fmt::Write as _;
    let mut out = String::with_capacity(256 * p.sessions.len() + 64);
    let n = p.to_run().count();
    let _ = write!(
        out,
        "{n} session{} to run, in this order:",
        if n == 1 { "" } else { "s" }
    );
    let mut k = 0;
    for s in &p.sessions {
        if let Some(why) = &s.skip {
            let _ = write!(out, "\n-  {}  {} — skipped: {why}", s.id, s.title);
            continue;
        }
        k += 1;
        let _ = write!(out, "\n{k}. {}  {}", s.id, s.title);
        for line in describe_steps(set, s) {
            out.push('\n');
            out.push_str(&line);
        }
    }
    for c in &p.conflicts {
        let _ = write!(
            out,
            "\nconflict: {} ({}) exists with different content; run refuses without --force",
            set.display_path(&c.path),
            c.session
        );
    }
    ctx.ui.out(out);
}

fn describe_steps(set: &PlanSet, s: &plan::PlannedSession) -> Vec<String> {
    let mut out = Vec::new();
    let wd = set.display_path(&s.workdir);
    out.push(format!(
        "     in {wd}{}",
        if s.workdir_exists {
            ""
        } else {
            " (does not exist yet)"
        }
    ));
    for p in &s.preconditions {
        out.push(format!("     precondition: {p} (manual, not checked)"));
    }
    for g in &s.gate {
        out.push(format!(
            "     gate   {}: {}  [timeout {}, {} retr{}, backoff {}..{}]",
            g.name,
            g.command,
            fmt_secs(g.retry.timeout_s),
            g.retry.retries,
            if g.retry.retries == 1 { "y" } else { "ies" },
            fmt_secs(g.retry.interval_s),
            fmt_secs(g.retry.max_backoff_s),
        ));
    }
    if let Some(a) = &s.action_on_fail {
        out.push(format!("            on failure: {a}"));
    }
    for t in &s.tasks {
        let label = match &t.id {
            Some(id) => format!("{id}."),
            None => "-".into(),
        };
        let what = match &t.step {
            TaskStep::Run { command, timeout_s } => {
                format!("run: {command}  [timeout {}]", fmt_secs(*timeout_s))
            }
            TaskStep::Write {
                path, bytes, state, ..
            } => format!(
                "write {} ({bytes} bytes, {})",
                set.display_path(path),
                match state {
                    WriteState::New => "new file",
                    WriteState::Unchanged => "unchanged",
                    WriteState::Overwrite => "overwrite (--force)",
                    WriteState::Conflict => "CONFLICT: differs, needs --force",
                }
            ),
            TaskStep::Replace { path, marker, .. } => {
                format!("replace `{marker}` in {}", set.display_path(path))
            }
            TaskStep::Builtin {
                action,
                covered_by: Some(first),
                ..
            } => format!("built-in `{action}`: covered by `{first}` (runs once)"),
            TaskStep::Builtin {
                action,
                description,
                ..
            } => format!("built-in `{action}`: {description}"),
            TaskStep::Manual { instruction } => format!("manual: {instruction}"),
        };
        out.push(format!("     task   {label} {what}"));
    }
    for c in &s.checks {
        let what = match &c.step {
            CheckStep::Command {
                command, expect, ..
            } => format!("{command}  [expect {}]", describe_expect(expect)),
            CheckStep::Manual { text } => format!("manual: {text}"),
            CheckStep::Note { text } => format!("note (not run): {text}"),
        };
        out.push(format!("     check  {}: {what}", c.name));
    }
    if !s.files.is_empty() || !s.screenshots.is_empty() {
        let all: Vec<&str> = s
            .files
            .iter()
            .chain(&s.screenshots)
            .map(String::as_str)
            .collect();
        out.push(format!("     files  must exist: {}", all.join(", ")));
    }
    if !s.forbidden.is_empty() {
        out.push(format!(
            "     forbidden in the session's files: {}",
            s.forbidden
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for r in &s.reminders {
        out.push(format!("     reminder: {r}"));
    }
    out.push(format!(
        "     commit {}",
        s.commit_message.lines().next().unwrap_or("")
    ));
    out
}

fn describe_expect(e: &session::expect::Expectation) -> String {
    use session::expect::Expectation as E;
    match e {
        E::Exit { code } => format!("exit {code}"),
        E::Number {
            op,
            value,
            unit,
            whole,
        } => {
            let op = serde_json::to_value(op)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            match (unit, whole) {
                (_, true) => format!("output == {value}"),
                (Some(u), _) => format!("{u} {op} {value}"),
                (None, _) => format!("number {op} {value}"),
            }
        }
        E::Prose { text } => format!("exit 0; \"{text}\""),
    }
}
