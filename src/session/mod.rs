//! The session engine: read plans, validate, order, run gates/tasks/checks, record.
//!
//! Layers, in the order a command uses them:
//!
//! 1. [`load`] reads plan sources (`.xml` / `.md`, files or directories) into a [`PlanSet`]:
//!    lenient scan ([`scan`]), dialect normalisation ([`parse`]), placeholder substitution
//!    ([`vars`]), validation (duplicates, unknown dependencies, cycles) — every problem collected.
//! 2. [`plan::build`] turns a selection (`ID…`, `--all`, `--with-deps`) plus the recorded
//!    [`state::State`] into an ordered [`plan::Plan`]: exactly what a run would do. `fsi plan` and
//!    `fsi run --dry-run` print it; nothing is executed or written.
//! 3. [`run::execute`] acts on a plan: gates, tasks, verification, completion (git commit,
//!    PROGRESS.md, SESSION.md, state). It reports through an [`run::Observer`] and asks for manual
//!    confirmations through a [`run::Confirm`]; it never prints.
//!
//! Built-in task actions (INT-01's type generation) come from an [`actions::ActionRegistry`]
//! filled by the command layer, so this module never imports other engines.

pub mod actions;
pub mod diag;
pub mod expect;
pub mod gitops;
pub mod graph;
pub mod lock;
pub mod model;
pub mod parse;
pub mod plan;
pub mod progress;
pub mod run;
pub mod scan;
pub mod sessionmd;
pub mod state;
pub mod vars;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use diag::{PlanError, Problem, ProblemKind, SourceFile};
pub use model::Session;
pub use vars::Vars;

/// A duration in fsi.toml: `30`, `"30s"`, `"500ms"`, `"2m"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Secs(pub f64);

impl Secs {
    pub fn duration(self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.0)
    }
}

impl Serialize for Secs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 < 1.0 && self.0 > 0.0 {
            s.serialize_str(&format!("{}ms", (self.0 * 1000.0).round()))
        } else {
            s.serialize_str(&format!("{}s", self.0))
        }
    }
}

impl<'de> Deserialize<'de> for Secs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Secs, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(n) if n >= 0.0 => Ok(Secs(n)),
            Raw::Num(n) => Err(serde::de::Error::custom(format!(
                "duration must not be negative, found {n}"
            ))),
            Raw::Text(t) => parse::parse_duration(&t).map(Secs).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "`{t}` is not a duration (use e.g. \"30s\", \"500ms\", \"2m\")"
                ))
            }),
        }
    }
}

/// Retry policy for gate checks: `retries` extra attempts, waiting `interval`, doubling, capped
/// at `max_backoff`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateDefaults {
    pub timeout: Secs,
    pub retries: u32,
    pub interval: Secs,
    pub max_backoff: Secs,
}

impl Default for GateDefaults {
    fn default() -> Self {
        GateDefaults {
            timeout: Secs(30.0),
            retries: 3,
            interval: Secs(2.0),
            max_backoff: Secs(30.0),
        }
    }
}

/// Verification checks: no retries unless asked for (iterate-to-green is explicit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckDefaults {
    pub timeout: Secs,
    pub retries: u32,
    pub interval: Secs,
    pub max_backoff: Secs,
}

impl Default for CheckDefaults {
    fn default() -> Self {
        CheckDefaults {
            timeout: Secs(300.0),
            retries: 0,
            interval: Secs(1.0),
            max_backoff: Secs(30.0),
        }
    }
}

/// The `[sessions]` section of fsi.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsConfig {
    /// Plan sources (files or directories, `.xml` / `.md`), relative to the project root.
    pub plans: Vec<PathBuf>,
    /// PROGRESS.md to update; when unset, the first `*PROGRESS*.md` in `docs/progress/`,
    /// `docs/`, or the project root.
    pub progress_file: Option<PathBuf>,
    /// SESSION.md written on start and reset on completion.
    pub session_file: PathBuf,
    /// Directory of the state file (`state.json`).
    pub state_dir: PathBuf,
    /// Integration gate defaults (`[sessions.gate]`).
    pub gate: GateDefaults,
    /// Verification check defaults (`[sessions.checks]`).
    pub checks: CheckDefaults,
    /// Timeout of a RUN task.
    pub task_timeout: Secs,
    /// Time between SIGTERM and SIGKILL when a process group has to be stopped.
    pub kill_grace: Secs,
    /// Commit PROGRESS.md / SESSION.md changes after a session's commit (`docs: complete
    /// session ID`).
    pub commit_docs: bool,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            plans: vec![PathBuf::from("sessions")],
            progress_file: None,
            session_file: PathBuf::from("docs/sessions/SESSION.md"),
            state_dir: PathBuf::from(".fsi"),
            gate: GateDefaults::default(),
            checks: CheckDefaults::default(),
            task_timeout: Secs(1800.0),
            kill_grace: Secs(2.0),
            commit_docs: true,
        }
    }
}

/// All sessions of all plan sources, with every problem found while reading them.
#[derive(Debug, Clone)]
pub struct PlanSet {
    pub root: PathBuf,
    pub files: Vec<SourceFile>,
    /// Sessions in source order (duplicates included, so they can be reported).
    pub sessions: Vec<Session>,
    /// id → index of its first definition.
    pub index: BTreeMap<String, usize>,
    /// Edges `(session, dependency)` between first definitions, unknown ids skipped.
    pub edges: Vec<(usize, usize)>,
    /// Topological order (indexes into `sessions`) when the graph is acyclic; with a cycle
    /// (an invalid plan), the first definitions in source order, so that read-only views still
    /// show every session.
    pub order: Vec<usize>,
    pub problems: Vec<Problem>,
}

impl PlanSet {
    pub fn get(&self, id: &str) -> Option<&Session> {
        self.index.get(id).map(|&i| &self.sessions[i])
    }

    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| !p.is_error())
    }

    /// `Err` with every error when the plan is invalid.
    pub fn check(&self) -> Result<(), PlanError> {
        if self.has_errors() {
            Err(PlanError::new(&self.problems, &self.files))
        } else {
            Ok(())
        }
    }

    /// Sessions in execution order (first definitions only).
    pub fn ordered(&self) -> impl Iterator<Item = &Session> {
        self.order.iter().map(|&i| &self.sessions[i])
    }

    /// Ids of the direct dependents of `id`.
    pub fn dependents(&self, id: &str) -> Vec<&str> {
        let Some(&i) = self.index.get(id) else {
            return Vec::new();
        };
        self.edges
            .iter()
            .filter(|e| e.1 == i)
            .map(|e| self.sessions[e.0].id.as_str())
            .collect()
    }

    /// Problems with `location` filled in, for JSON output.
    pub fn located_problems(&self) -> Vec<Problem> {
        self.problems
            .iter()
            .map(|p| {
                let mut p = p.clone();
                if let (Some(f), Some(span)) = (p.file, p.span.as_ref()) {
                    p.location = Some(diag::location(&self.files, f, span.start));
                }
                p
            })
            .collect()
    }

    /// Project-relative display form of a path.
    pub fn display_path(&self, p: &Path) -> String {
        display_path(&self.root, p)
    }
}

fn display_path(root: &Path, p: &Path) -> String {
    match p.strip_prefix(root) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => p.display().to_string(),
    }
}

/// Expand plan sources into plan files: directories are walked for `*.xml` and `*.md`
/// (sorted, hidden entries skipped).
pub fn plan_files(root: &Path, sources: &[PathBuf]) -> (Vec<PathBuf>, Vec<Problem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for src in sources {
        let path = if src.is_absolute() {
            src.clone()
        } else {
            root.join(src)
        };
        if path.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(&path)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                })
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(|e| e.into_path())
                .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("xml" | "md")))
                .collect();
            if found.is_empty() {
                problems.push(Problem::new(
                    ProblemKind::NoSessions,
                    format!("no .xml or .md plan files in {}", display_path(root, &path)),
                ));
            }
            files.append(&mut found);
        } else if path.is_file() {
            files.push(path);
        } else {
            problems.push(
                Problem::new(
                    ProblemKind::Io,
                    format!("plan source {} does not exist", display_path(root, &path)),
                )
                .help("pass plan files or directories with --plan, or set [sessions] plans in fsi.toml"),
            );
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    files.retain(|f| seen.insert(f.clone()));
    (files, problems)
}

/// Read, parse, substitute and validate every session of `sources`.
pub fn load(root: &Path, sources: &[PathBuf], vars: &Vars) -> PlanSet {
    let (paths, mut problems) = plan_files(root, sources);
    let mut files = Vec::new();
    let mut sessions = Vec::new();
    for path in paths {
        let bytes = match fs_err::read(&path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Problem::new(ProblemKind::Io, e.to_string()));
                continue;
            }
        };
        let idx = files.len();
        // Bytes that are not UTF-8 are an error at their line and column; the rest of the file
        // is still read (with U+FFFD in their place) so that its other problems show too.
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                problems.push(
                    Problem::new(ProblemKind::Malformed, "the plan file is not valid UTF-8")
                        .at(
                            idx,
                            at..at + '\u{FFFD}'.len_utf8(),
                            "this byte is not UTF-8",
                        )
                        .help("save the file as UTF-8"),
                );
                text
            }
        };
        let mut found = parse::parse_file(idx, &path, &text, &mut problems);
        for s in &mut found {
            vars::substitute(s, vars, &text, &mut problems);
        }
        files.push(SourceFile::new(
            path.clone(),
            display_path(root, &path),
            text,
        ));
        sessions.append(&mut found);
    }
    if sessions.is_empty() && !problems.iter().any(|p| p.kind == ProblemKind::Io) {
        let mut p = Problem::new(ProblemKind::Io, "no sessions found in the plan sources")
            .help("a session is a `<session id=\"…\">…</session>` block at the start of a line");
        // One file: the error names it (line 1).
        if files.len() == 1 {
            p = p.at(0, 0..0, "no <session id=…> block in this file");
        }
        problems.push(p);
    }
    let mut set = PlanSet {
        root: root.to_path_buf(),
        files,
        sessions,
        index: BTreeMap::new(),
        edges: Vec::new(),
        order: Vec::new(),
        problems,
    };
    validate(&mut set);
    set
}

/// Where a path a plan names lands, when that is outside the project root: lexically (an
/// absolute path, `..` past the root) or through a symbolic link in the part that exists.
pub fn escapes_root(root: &Path, base: &Path, path: &str) -> Option<PathBuf> {
    let lexical = |p: &Path| {
        let mut norm = PathBuf::new();
        for c in p.components() {
            match c {
                std::path::Component::ParentDir => {
                    norm.pop();
                }
                std::path::Component::CurDir => {}
                other => norm.push(other),
            }
        }
        norm
    };
    let root = &lexical(root);
    let norm = lexical(&base.join(path));
    if !norm.starts_with(root) {
        return Some(norm);
    }
    // The longest part that exists, with its links resolved, must still be inside.
    let canon_root = std::fs::canonicalize(root).ok()?;
    let mut probe = norm.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(probe) {
            let rest = norm.strip_prefix(probe).unwrap_or(Path::new(""));
            return (!real.starts_with(&canon_root)).then(|| real.join(rest));
        }
        probe = probe.parent()?;
        if !probe.starts_with(root) {
            return None;
        }
    }
}

/// Refuse task files and service paths that lead outside the project: a plan may only write
/// (CREATE, REPLACE_PLACEHOLDER) and point at (other actions, service `cwd` and `log`) paths
/// inside it.
fn check_paths(set: &mut PlanSet) {
    let mut found = Vec::new();
    for s in &set.sessions {
        let workdir = working_dir(&set.root, s.meta.working_directory.as_deref());
        for t in &s.tasks {
            let Some(f) = &t.file else { continue };
            if let Some(to) = escapes_root(&set.root, &workdir, f) {
                found.push(
                    Problem::new(
                        ProblemKind::OutsideProject,
                        format!(
                            "task file `{f}` of session {} is outside the project ({})",
                            s.id,
                            to.display()
                        ),
                    )
                    .at(t.loc.file, t.loc.span.clone(), "names a path outside the project")
                    .help("plans write only inside the project: use a path relative to it (and to the session's working_directory), without `..` past the root"),
                );
            }
        }
        for u in &s.services {
            let paths = [("cwd", &u.inline.cwd), ("log", &u.inline.log)];
            for (what, p) in paths {
                let Some(p) = p.as_ref().and_then(|p| p.to_str()) else {
                    continue;
                };
                if let Some(to) = escapes_root(&set.root, &set.root, p) {
                    found.push(
                        Problem::new(
                            ProblemKind::OutsideProject,
                            format!(
                                "service `{}` {what} `{p}` is outside the project ({})",
                                u.name,
                                to.display()
                            ),
                        )
                        .at(
                            u.loc.file,
                            u.loc.span.clone(),
                            "names a path outside the project",
                        ),
                    );
                }
            }
        }
    }
    set.problems.extend(found);
}

fn validate(set: &mut PlanSet) {
    check_paths(set);
    // Duplicate ids.
    for (i, s) in set.sessions.iter().enumerate() {
        match set.index.get(&s.id) {
            None => {
                set.index.insert(s.id.clone(), i);
            }
            Some(&first) => {
                let f = &set.sessions[first];
                set.problems.push(
                    Problem::new(
                        ProblemKind::DuplicateId,
                        format!("session id {} is defined more than once", s.id),
                    )
                    .at(s.loc.file, s.id_span.clone(), "defined again here")
                    .also(f.loc.file, f.id_span.clone(), "first defined here")
                    .help("session ids must be unique across all plan sources"),
                );
            }
        }
    }
    // Unknown dependencies, with did-you-mean.
    let ids: Vec<&str> = set.index.keys().map(String::as_str).collect();
    let mut edges = Vec::new();
    let mut unknown = 0;
    for (id, &i) in &set.index {
        let s = &set.sessions[i];
        for d in &s.deps {
            match set.index.get(&d.id) {
                Some(&j) => edges.push((i, j)),
                None => {
                    let mut p = Problem::new(
                        ProblemKind::UnknownDependency,
                        format!("session {id} requires {}, which is not in the plan", d.id),
                    )
                    .at(d.loc.file, d.loc.span.clone(), "unknown session");
                    // A suggestion compares with every id: for the first hundred only (a plan
                    // of 20,000 unknown requirements among 20,000 ids was quadratic).
                    unknown += 1;
                    if unknown <= diag::MAX_DRAWN {
                        let others: Vec<&str> = ids.iter().copied().filter(|c| c != id).collect();
                        if let Some(best) = did_you_mean(&d.id, &others) {
                            p = p.help(format!("did you mean `{best}`?"));
                        }
                    }
                    set.problems.push(p);
                }
            }
        }
    }
    edges.sort_unstable();
    // Cycles.
    let nodes: Vec<graph::Node> = set
        .sessions
        .iter()
        .map(|s| graph::Node {
            id: s.id.clone(),
            wave: s.meta.wave,
        })
        .collect();
    let firsts: Vec<usize> = set.index.values().copied().collect();
    match order_subset(&nodes, &firsts, &edges) {
        Ok(order) => set.order = order,
        Err(cycles) => {
            let mut source_order = firsts.clone();
            source_order.sort_unstable();
            set.order = source_order;
            for cycle in cycles {
                let text = graph::format_cycle(&nodes, &cycle);
                let first = &set.sessions[cycle[0]];
                let next = cycle.get(1).copied().unwrap_or(cycle[0]);
                let dep_span = |a: usize, b: usize| {
                    let s = &set.sessions[a];
                    s.deps
                        .iter()
                        .find(|d| d.id == set.sessions[b].id)
                        .map(|d| d.loc.clone())
                        .unwrap_or_else(|| model::Loc {
                            file: s.loc.file,
                            span: s.id_span.clone(),
                        })
                };
                let primary = dep_span(cycle[0], next);
                let mut p = Problem::new(ProblemKind::Cycle, format!("dependency cycle: {text}"))
                    .at(
                        primary.file,
                        primary.span,
                        format!("{} requires {}", first.id, set.sessions[next].id),
                    )
                    .help("remove one of these requirements so the sessions can be ordered");
                for w in 1..cycle.len() {
                    let a = cycle[w];
                    let b = cycle[(w + 1) % cycle.len()];
                    let l = dep_span(a, b);
                    p = p.also(
                        l.file,
                        l.span,
                        format!("{} requires {}", set.sessions[a].id, set.sessions[b].id),
                    );
                }
                set.problems.push(p);
            }
        }
    }
    set.edges = edges;
}

/// Order the nodes in `subset` (the other nodes are ignored).
fn order_subset(
    nodes: &[graph::Node],
    subset: &[usize],
    edges: &[(usize, usize)],
) -> Result<Vec<usize>, Vec<Vec<usize>>> {
    let mut pos = vec![usize::MAX; nodes.len()];
    for (k, &i) in subset.iter().enumerate() {
        pos[i] = k;
    }
    let sub_nodes: Vec<graph::Node> = subset.iter().map(|&i| nodes[i].clone()).collect();
    let sub_edges: Vec<(usize, usize)> = edges
        .iter()
        .filter(|(a, b)| pos[*a] != usize::MAX && pos[*b] != usize::MAX)
        .map(|(a, b)| (pos[*a], pos[*b]))
        .collect();
    graph::order(&sub_nodes, &sub_edges)
        .map(|o| o.into_iter().map(|k| subset[k]).collect())
        .map_err(|cs| {
            cs.into_iter()
                .map(|c| c.into_iter().map(|k| subset[k]).collect())
                .collect()
        })
}

/// The closest id, if close enough to be a plausible typo.
pub fn did_you_mean<'a>(wanted: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::normalized_damerau_levenshtein(wanted, c), *c))
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| graph::cmp_ids(b.1, a.1)))
        .map(|(_, c)| c)
}

/// Resolve a session's `working_directory` against the project root: `~` is the home
/// directory; absent, `N/A`, `any…`, `.` mean the root itself.
pub fn working_dir(root: &Path, wd: Option<&str>) -> PathBuf {
    let Some(wd) = wd.map(str::trim) else {
        return root.to_path_buf();
    };
    let lower = wd.to_ascii_lowercase();
    if wd.is_empty() || lower == "n/a" || lower.starts_with("any") || wd == "." {
        return root.to_path_buf();
    }
    if let Some(rest) = wd.strip_prefix("~/").or_else(|| (wd == "~").then_some(""))
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    root.join(wd)
}

/// The effective spec of a service a session uses: fsi.toml's entry with the attributes written
/// in the session on top.
pub fn service_spec(
    configured: &BTreeMap<String, crate::services::ServiceSpec>,
    u: &model::ServiceUse,
) -> crate::services::ServiceSpec {
    let mut spec = configured.get(&u.name).cloned().unwrap_or_default();
    let i = &u.inline;
    if !i.command.trim().is_empty() {
        spec.command = i.command.clone();
    }
    if i.cwd.is_some() {
        spec.cwd = i.cwd.clone();
    }
    if i.port.is_some() {
        spec.port = i.port;
    }
    if i.ready.is_some() {
        spec.ready = i.ready.clone();
    }
    if i.ready_timeout.is_some() {
        spec.ready_timeout = i.ready_timeout.clone();
    }
    if i.log.is_some() {
        spec.log = i.log.clone();
    }
    spec
}

/// Report services that sessions name but neither fsi.toml `[services]` nor the session itself
/// (a `command` attribute) defines.
pub fn check_services(set: &mut PlanSet, configured: &[&str]) {
    let mut found = Vec::new();
    for s in &set.sessions {
        for u in &s.services {
            if u.inline.command.trim().is_empty() && !configured.contains(&u.name.as_str()) {
                let mut p = Problem::new(
                    ProblemKind::UnknownService,
                    format!(
                        "session {} needs service `{}`, which fsi.toml does not define",
                        s.id, u.name
                    ),
                )
                .at(u.loc.file, u.loc.span.clone(), "unknown service");
                p = match did_you_mean(&u.name, configured) {
                    Some(best) => p.help(format!("did you mean `{best}`?")),
                    None => p.help(format!(
                        "add [services.{}] with a command (and a ready probe) to fsi.toml, or give the <service> a command attribute",
                        u.name
                    )),
                };
                found.push(p);
            }
        }
    }
    set.problems.extend(found);
}
