//! The scaffold engine: embedded skeletons → a plan of files → atomic writes → git.
//!
//! Plan, then act: [`plan`] renders every file into memory (so `--dry-run`, snapshot tests and
//! the all-feature-combinations test need no disk), [`write`] puts a plan on disk all-or-nothing,
//! and [`git_init`] makes the first commit. Nothing here prints or prompts.

pub mod base;
pub mod diff;
mod gates;
mod git;
pub mod merge;
mod render;
pub mod resource;

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde::{Deserialize, Serialize};

pub use gates::{Condition, Gate};
pub use git::{GitFile, git_init, git_init_files};
pub use render::ScaffoldError;
pub use resource::{Field, FieldKind, Insert, Resource, ResourceEntry, ResourceSessions};

/// The skeleton tree, embedded at build time (build.rs re-runs when files are added).
pub static SKELETONS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/skeletons");

/// The plan library: the session plans `fsi new` ships (`project/`) and the per-resource plans
/// `fsi add resource` renders (`resource/`).
pub static SESSIONS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/sessions");

/// The database a generated project uses by default in development.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Database {
    /// A SQLite file: runs with no server.
    #[default]
    Sqlite,
    /// PostgreSQL through DATABASE_URL.
    Postgresql,
}

impl Database {
    pub fn as_str(self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
            Database::Postgresql => "postgresql",
        }
    }
}

/// The backend framework of a generated project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Quart (async, ASGI, served by granian).
    #[default]
    Quart,
    /// Flask 3 (sync, WSGI, served by gunicorn with gevent workers).
    Flask,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Quart => "quart",
            Backend::Flask => "flask",
        }
    }

    /// The real-time transport a project on this backend gets unless told otherwise.
    pub fn default_realtime(self) -> Realtime {
        match self {
            Backend::Quart => Realtime::Websocket,
            Backend::Flask => Realtime::Sse,
        }
    }
}

/// How live item updates reach the browser.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Realtime {
    /// WebSocket channels (`/ws/items`), Quart only.
    #[default]
    Websocket,
    /// Server-Sent Events (`/sse/items`) with one-time tickets, on either backend.
    Sse,
    /// No live updates.
    None,
}

impl Realtime {
    pub fn as_str(self) -> &'static str {
        match self {
            Realtime::Websocket => "websocket",
            Realtime::Sse => "sse",
            Realtime::None => "none",
        }
    }
}

/// fsi.toml `[answers] realtime`: a string, or the boolean older versions wrote
/// (`true` → websocket, `false` → none).
impl<'de> Deserialize<'de> for Realtime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Bool(true) => Ok(Realtime::Websocket),
            Raw::Bool(false) => Ok(Realtime::None),
            Raw::Text(t) => match t.as_str() {
                "websocket" => Ok(Realtime::Websocket),
                "sse" => Ok(Realtime::Sse),
                "none" => Ok(Realtime::None),
                other => Err(serde::de::Error::custom(format!(
                    "unknown realtime `{other}`: expected `websocket`, `sse` or `none`"
                ))),
            },
        }
    }
}

/// The answers given to `fsi new`, saved in fsi.toml `[answers]` so that later commands can
/// re-apply them.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Answers {
    /// The backend framework.
    pub backend: Backend,
    /// Auth module, protected routes, item ownership.
    pub auth: bool,
    /// Live updates: WebSocket channels, Server-Sent Events, or none.
    pub realtime: Realtime,
    /// docker-compose.prod.yml, Dockerfiles, nginx config, .env.example.
    pub deploy: bool,
    pub database: Database,
}

impl Default for Answers {
    fn default() -> Self {
        Answers {
            backend: Backend::Quart,
            auth: true,
            realtime: Realtime::Websocket,
            deploy: true,
            database: Database::Sqlite,
        }
    }
}

impl Answers {
    /// Every valid combination of the answers, for render-everything tests.
    pub fn all_combinations() -> Vec<Answers> {
        let mut out = Vec::new();
        for backend in [Backend::Quart, Backend::Flask] {
            for realtime in [Realtime::Websocket, Realtime::Sse, Realtime::None] {
                for bits in 0..8u8 {
                    let answers = Answers {
                        backend,
                        auth: bits & 1 != 0,
                        realtime,
                        deploy: bits & 2 != 0,
                        database: if bits & 4 != 0 {
                            Database::Postgresql
                        } else {
                            Database::Sqlite
                        },
                    };
                    if answers.check().is_ok() {
                        out.push(answers);
                    }
                }
            }
        }
        out
    }

    /// Whether the combination is one fsi can generate; the reason when it is not.
    pub fn check(&self) -> Result<(), String> {
        match (self.backend, self.realtime) {
            (Backend::Flask, Realtime::Websocket) => Err(
                "the Flask flavour has no WebSocket channel: WSGI cannot hold a WebSocket; use `--realtime sse` (the default for Flask) or `--realtime none`, or `--backend quart`".into(),
            ),
            _ => Ok(()),
        }
    }

    /// The value of a feature by name, for gate conditions.
    pub fn feature(&self, name: &str) -> Option<bool> {
        match name {
            "auth" => Some(self.auth),
            "realtime" => Some(self.realtime != Realtime::None),
            "deploy" => Some(self.deploy),
            _ => None,
        }
    }

    /// The value of a named choice, for gate conditions (`backend == 'flask'`).
    pub fn choice(&self, name: &str) -> Option<&'static str> {
        match name {
            "database" => Some(self.database.as_str()),
            "backend" => Some(self.backend.as_str()),
            "realtime" => Some(self.realtime.as_str()),
            _ => None,
        }
    }

    /// The values a named choice can take.
    pub fn choice_values(name: &str) -> &'static [&'static str] {
        match name {
            "database" => &["sqlite", "postgresql"],
            "backend" => &["quart", "flask"],
            "realtime" => &["websocket", "sse", "none"],
            _ => &[],
        }
    }
}

/// The names derived from the project name that templates use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Names {
    pub project_name: String,
    pub project_slug: String,
    pub package_name: String,
    pub project_title: String,
    #[serde(rename = "PROJECT")]
    pub project_upper: String,
}

/// The longest project name accepted (a directory name may have 255 bytes; the generated
/// paths add to it).
pub const MAX_NAME_LEN: usize = 100;

impl Names {
    /// Derive the names from a project name, or say why it is not usable.
    pub fn new(name: &str) -> Result<Names, ScaffoldError> {
        shell_safe(name)?;
        let lowered = name.trim().to_lowercase().replace(['_', ' '], "-");
        let valid = !lowered.is_empty()
            && lowered.starts_with(|c: char| c.is_ascii_lowercase())
            && lowered
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !lowered.ends_with('-')
            && !lowered.contains("--")
            // It names a directory, a Python package and an npm package (at most 214).
            && lowered.len() <= MAX_NAME_LEN;
        if !valid {
            return Err(ScaffoldError::BadName {
                name: name.to_string(),
            });
        }
        let words: Vec<&str> = lowered.split('-').collect();
        let title = words
            .iter()
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Names {
            project_name: lowered.clone(),
            project_slug: lowered.clone(),
            package_name: words.join("_"),
            project_title: title,
            project_upper: words.join("_").to_uppercase(),
        })
    }
}

/// Refuse whitespace and shell-special characters (`fsi new 'my app'`), suggesting a name
/// derived from the one given.
fn shell_safe(name: &str) -> Result<(), ScaffoldError> {
    let special = |c: char| !c.is_alphanumeric() && !matches!(c, '-' | '_' | '.');
    let problem = if name.chars().any(char::is_whitespace) {
        "it contains whitespace".to_string()
    } else {
        let mut found: Vec<char> = name.chars().filter(|&c| special(c)).collect();
        if found.is_empty() {
            return Ok(());
        }
        found.dedup();
        let shown: Vec<String> = found.iter().map(|c| format!("`{c}`")).collect();
        format!("{} would need quoting in the shell", shown.join(" "))
    };
    let mut suggestion = String::new();
    for c in name.trim().to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            suggestion.push(c);
        } else if !suggestion.is_empty() && !suggestion.ends_with('-') {
            suggestion.push('-');
        }
    }
    let suggestion = suggestion.trim_matches('-');
    let suggestion = suggestion.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-');
    let suggestion = if suggestion.is_empty() {
        "my-app"
    } else {
        suggestion
    };
    Err(ScaffoldError::UnsafeName {
        name: name.to_string(),
        problem,
        help: format!(
            "the name is also the project's directory: use letters, digits and single dashes, starting with a letter, e.g. `{suggestion}`"
        ),
    })
}

/// Everything a render needs. Secrets are inputs so that a render is a pure function.
#[derive(Debug, Clone)]
pub struct Request {
    pub names: Names,
    pub answers: Answers,
    /// 64 hex characters; rendered only into the git-ignored `.env`.
    pub jwt_secret: String,
}

/// One file of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Relative to the project root, with `/` separators.
    pub path: String,
    pub contents: Vec<u8>,
    pub executable: bool,
    /// The skeleton file it came from (for messages).
    pub source: String,
}

/// The complete list of files a scaffold would write.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub files: Vec<PlannedFile>,
}

impl Plan {
    pub fn get(&self, path: &str) -> Option<&PlannedFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The files as [`git_init_files`] commits them.
    pub fn git_files(&self) -> Vec<GitFile<'_>> {
        self.files
            .iter()
            .map(|f| GitFile {
                path: &f.path,
                contents: &f.contents,
                executable: f.executable,
            })
            .collect()
    }

    /// Add (or replace) a file computed outside the skeletons, such as fsi.toml.
    pub fn insert(&mut self, file: PlannedFile) {
        match self.files.iter_mut().find(|f| f.path == file.path) {
            Some(existing) => *existing = file,
            None => {
                self.files.push(file);
                self.files.sort_by(|a, b| a.path.cmp(&b.path));
            }
        }
    }
}

/// Render the embedded skeletons for a request: `skeletons/project/` and the shipped session
/// plans of the plan library (`sessions/project/`, written to the project's `sessions/`).
pub fn plan(request: &Request) -> Result<Plan, ScaffoldError> {
    let mut plan = plan_from(&SKELETONS, request)?;
    let renderer = render::Renderer::new(request);
    let sessions = SESSIONS
        .get_dir("project")
        .ok_or(ScaffoldError::NoProjectDir)?;
    for file in render_tree(
        &renderer,
        sessions,
        "sessions/project",
        "sessions",
        None,
        &|_| true,
    )? {
        plan.insert(file);
    }
    Ok(plan)
}

/// Render a skeleton tree (the embedded one, or a test fixture) for a request.
pub fn plan_from(skeletons: &Dir<'_>, request: &Request) -> Result<Plan, ScaffoldError> {
    let gates = gates::load(skeletons)?;
    let project = skeletons
        .get_dir("project")
        .ok_or(ScaffoldError::NoProjectDir)?;
    let renderer = render::Renderer::new(request);
    let keep = |rel: &str| gates::allowed(&gates, rel, &request.answers);
    let mut files = render_tree(&renderer, project, "skeletons/project", "", None, &keep)?;
    // A flavour's overlay (`skeletons/flask/` for `backend = flask`) is rendered over the
    // project: each of its files replaces the project's file of the same output path, even
    // when the overlay's version renders empty (then the path has no file at all).
    if let Some(overlay) = skeletons.get_dir(request.answers.backend.as_str()) {
        let mut sources = Vec::new();
        collect_files(overlay, &mut sources);
        let replaced: std::collections::HashSet<String> = sources
            .iter()
            .filter_map(|f| f.path().strip_prefix(overlay.path()).ok())
            .map(|rel| {
                let rel = rel.to_string_lossy().replace('\\', "/");
                rel.strip_suffix(".jinja")
                    .map(str::to_string)
                    .unwrap_or(rel)
            })
            .collect();
        files.retain(|f| !replaced.contains(&f.path));
        let root = format!("skeletons/{}", request.answers.backend.as_str());
        files.extend(render_tree(&renderer, overlay, &root, "", None, &keep)?);
        files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    Ok(Plan { files })
}

/// Render every file below `dir` (whose embedded path starts with the first component of
/// `source_root`) into project paths under `out_prefix`. `.jinja` files are rendered (with `r`
/// when a resource is given) and left out when they render empty; files named `_*` are
/// templates' helpers, never written; `keep` decides on the path relative to `dir`.
fn render_tree(
    renderer: &render::Renderer,
    dir: &Dir<'_>,
    source_root: &str,
    out_prefix: &str,
    resource: Option<&resource::Resource>,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Vec<PlannedFile>, ScaffoldError> {
    let mut sources = Vec::new();
    collect_files(dir, &mut sources);
    sources.sort_by(|a, b| a.path().cmp(b.path()));
    let ctx = resource.map(resource::Resource::context);
    let mut files = Vec::with_capacity(sources.len());
    for file in sources {
        let rel = file
            .path()
            .strip_prefix(dir.path())
            .expect("files live under their directory");
        let rel = rel.to_string_lossy().replace('\\', "/");
        let base_name = rel.rsplit('/').next().unwrap_or(&rel);
        // In skeletons/resource/, `_macros.jinja` and `_anchors.toml.jinja` are helpers, never
        // written; `__init__.py` and placeholders (`__plural__.ts`, `__revision__.py`) are files.
        // The project tree has no such helpers (its `scripts/_common.sh` is a real file).
        let helper =
            resource.is_some() && base_name.starts_with('_') && !base_name.starts_with("__");
        if helper || !keep(&rel) {
            continue;
        }
        let source = format!("{source_root}/{rel}");
        let (out_rel, contents) = match rel.strip_suffix(".jinja") {
            Some(stripped) => {
                let rendered = renderer.render_with(&source, file.contents(), ctx.as_ref())?;
                if rendered.trim().is_empty() {
                    continue;
                }
                (stripped.to_string(), rendered.into_bytes())
            }
            None => (rel.clone(), file.contents().to_vec()),
        };
        let out_rel = match resource {
            Some(r) => r.fill_path(&out_rel),
            None => out_rel,
        };
        let executable = contents.starts_with(b"#!");
        files.push(PlannedFile {
            path: if out_prefix.is_empty() {
                out_rel
            } else {
                format!("{out_prefix}/{out_rel}")
            },
            contents,
            executable,
            source,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// What one resource adds to a project: new files, and lines inserted at anchors of existing
/// files.
#[derive(Debug, Clone, Default)]
pub struct ResourcePlan {
    pub files: Vec<PlannedFile>,
    pub inserts: Vec<Insert>,
}

/// Render `skeletons/resource/` and the plan library's `sessions/resource/` for one resource.
pub fn plan_resource(
    request: &Request,
    resource: &Resource,
) -> Result<ResourcePlan, ScaffoldError> {
    let renderer = render::Renderer::new(request);
    let bad = |message: String| ScaffoldError::BadResourceTemplate { message };
    let dir = SKELETONS
        .get_dir("resource")
        .ok_or_else(|| bad("the embedded skeletons have no resource/ directory".into()))?;
    let frontend = resource.entry.frontend;
    let mut files = render_tree(
        &renderer,
        dir,
        "skeletons/resource",
        "",
        Some(resource),
        &|rel| frontend || !rel.starts_with("frontend/"),
    )?;
    if let Some(sessions) = SESSIONS.get_dir("resource") {
        let ids = &resource.entry.sessions;
        for mut f in render_tree(
            &renderer,
            sessions,
            "sessions/resource",
            "sessions",
            Some(resource),
            &|_| true,
        )? {
            let id = match f.path.as_str() {
                "sessions/backend.xml" => Some(&ids.backend),
                "sessions/frontend.xml" => ids.frontend.as_ref(),
                other => {
                    return Err(bad(format!(
                        "unexpected plan {other} in sessions/resource/ (backend.xml.jinja and frontend.xml.jinja only)"
                    )));
                }
            };
            if let Some(id) = id {
                f.path = format!("sessions/{id}.xml");
                files.push(f);
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let inserts = match dir.get_file("resource/_anchors.toml.jinja") {
        None => Vec::new(),
        Some(f) => {
            let text = renderer.render_with(
                "skeletons/resource/_anchors.toml.jinja",
                f.contents(),
                Some(&resource.context()),
            )?;
            let parsed: resource::Inserts = toml::from_str(&text).map_err(|e| {
                bad(format!(
                    "skeletons/resource/_anchors.toml.jinja renders invalid TOML: {e}"
                ))
            })?;
            parsed.insert
        }
    };
    Ok(ResourcePlan { files, inserts })
}

/// Add a resource's render to a project's: its files must be new, its anchors present.
pub fn apply_resource(plan: &mut Plan, resource: &ResourcePlan) -> Result<(), ScaffoldError> {
    for f in &resource.files {
        if plan.get(&f.path).is_some() {
            return Err(ScaffoldError::BadResourceTemplate {
                message: format!(
                    "{} is rendered twice (by {} and the project)",
                    f.path, f.source
                ),
            });
        }
    }
    for insert in &resource.inserts {
        let Some(file) = plan.files.iter_mut().find(|f| f.path == insert.file) else {
            return Err(ScaffoldError::AnchorFileMissing {
                file: insert.file.clone(),
                anchor: insert.anchor.clone(),
            });
        };
        let text = String::from_utf8_lossy(&file.contents);
        let updated =
            resource::apply_insert(&text, insert).ok_or_else(|| ScaffoldError::AnchorMissing {
                file: insert.file.clone(),
                anchor: insert.anchor.clone(),
            })?;
        file.contents = updated.into_bytes();
    }
    for f in &resource.files {
        plan.insert(f.clone());
    }
    Ok(())
}

/// Everything fsi renders for a project: the skeletons for its answers, fsi.toml, and each
/// resource added since, in order. `fsi update` merges this with the working tree.
pub fn plan_project(request: &Request, resources: &[Resource]) -> Result<Plan, ScaffoldError> {
    let mut plan = plan(request)?;
    let mut config = config_file(&request.names, &request.answers);
    for r in resources {
        apply_resource(&mut plan, &plan_resource(request, r)?)?;
        config.contents.extend_from_slice(r.toml().as_bytes());
    }
    plan.insert(config);
    Ok(plan)
}

/// The generated project's fsi.toml: its name, the answers, and every engine's defaults written
/// out so that they are visible and editable.
pub fn config_file(names: &Names, answers: &Answers) -> PlannedFile {
    use crate::config::{CONFIG_FILE, Config, ProjectSection};
    let mut config = Config {
        project: ProjectSection {
            name: names.project_name.clone(),
            fsi_version: env!("CARGO_PKG_VERSION").to_string(),
        },
        answers: answers.clone(),
        ..Config::default()
    };
    config
        .vars
        .insert("PROJECT".into(), names.project_upper.clone());
    config
        .vars
        .insert("project".into(), names.project_slug.clone());
    config.vars.insert("entity".into(), "items".into());
    config.vars.insert("Entity".into(), "Item".into());
    config.sessions.progress_file = Some("docs/PROGRESS.md".into());
    config.sessions.session_file = "docs/SESSION.md".into();
    // The backend as the sessions' gates and checks need it: started before a session that
    // names it, stopped after. `fsi run --port backend=0` picks a free port instead.
    config.services.insert(
        "backend".into(),
        crate::services::ServiceSpec {
            // Self-contained, so that a session also works on a fresh CI runner: install (a no-op
            // when up to date), migrate, serve.
            command: match answers.backend {
                Backend::Quart => "uv run --quiet alembic upgrade head && exec uv run --quiet granian --interface asgi --host 127.0.0.1 --port {port} app.asgi:app".into(),
                // gunicorn.conf.py sets the worker class; the bind is the session's port.
                Backend::Flask => "uv run --quiet alembic upgrade head && exec uv run --quiet gunicorn --config gunicorn.conf.py --bind 127.0.0.1:{port} app.wsgi:app".into(),
            },
            cwd: Some("backend".into()),
            port: Some(5000),
            ready: Some("http://127.0.0.1:{port}/health".into()),
            ready_timeout: Some("90s".into()),
            log: Some(".fsi/logs/backend.log".into()),
            ..Default::default()
        },
    );
    let body = format!(
        "# fsi project configuration: the answers given to `fsi new` and the settings of\n\
         # `fsi types`, `fsi run` and `fsi verify`. See docs/cli.md of fsi for every key.\n\n{}",
        config.to_toml()
    );
    PlannedFile {
        path: CONFIG_FILE.to_string(),
        contents: body.into_bytes(),
        executable: false,
        source: "fsi.toml".into(),
    }
}

fn collect_files<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    for f in dir.files() {
        out.push(f);
    }
    for d in dir.dirs() {
        collect_files(d, out);
    }
}

/// How [`write`] treats an existing target directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse a target that exists and is not empty.
    Refuse,
    /// Write into it, replacing files the plan names; other files are left alone.
    Overwrite,
}

/// What [`write`] did.
#[derive(Debug, Clone)]
pub struct Written {
    pub root: PathBuf,
    pub files: usize,
}

/// Put a plan on disk: [`stage`] then [`Staged::finish`], with nothing in between.
pub fn write(plan: &Plan, target: &Path, existing: Existing) -> Result<Written, ScaffoldError> {
    stage(plan, target, existing, &|| false)?.finish()
}

/// A plan written where it can still be completed (types, git) before it appears at its target.
#[derive(Debug)]
pub struct Staged {
    /// Where the files are now: a hidden staging directory beside the target, or the target
    /// itself when writing into an existing non-empty directory (`--force`).
    pub dir: PathBuf,
    target: PathBuf,
    files: usize,
    /// Still to be moved to the target; dropped (and deleted) on failure.
    staging: Option<tempfile::TempDir>,
}

impl Staged {
    /// Move the staged project to its target (one rename for a new target).
    pub fn finish(mut self) -> Result<Written, ScaffoldError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ScaffoldError::Io { path, source }
        };
        if let Some(staging) = self.staging.take() {
            if self.target.is_dir() {
                // An empty directory the user made (perhaps their cwd): keep it, move the
                // contents in.
                for entry in fs_err::read_dir(staging.path()).map_err(io(staging.path()))? {
                    let entry = entry.map_err(io(staging.path()))?;
                    let dest = self.target.join(entry.file_name());
                    fs_err::rename(entry.path(), &dest).map_err(io(&dest))?;
                }
            } else {
                let staged = staging.keep();
                if let Err(source) = fs_err::rename(&staged, &self.target) {
                    let _ = fs_err::remove_dir_all(&staged);
                    return Err(ScaffoldError::Io {
                        path: self.target.clone(),
                        source,
                    });
                }
            }
        }
        Ok(Written {
            root: self.target.clone(),
            files: self.files,
        })
    }
}

/// Write a plan where it can be completed before it appears: a new (or empty) target is built in
/// a hidden staging directory beside it, so a failure before [`Staged::finish`] leaves nothing
/// behind (the staging directory is deleted when the [`Staged`] is dropped). With
/// [`Existing::Overwrite`] the target is checked first (a file where the plan needs a directory,
/// a directory where it needs a file: refused, naming each), then all files are replaced in one
/// transaction ([`crate::fsutil::apply_all`]): a failure part-way changes nothing.
///
/// `cancelled` is asked between files; when it says yes, the staging is removed and the error
/// is [`ScaffoldError::Interrupted`].
pub fn stage(
    plan: &Plan,
    target: &Path,
    existing: Existing,
    cancelled: &dyn Fn() -> bool,
) -> Result<Staged, ScaffoldError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ScaffoldError::Io { path, source }
    };
    let non_empty = target.exists()
        && (!target.is_dir()
            || fs_err::read_dir(target)
                .map_err(io(target))?
                .next()
                .is_some());
    if non_empty && existing == Existing::Refuse {
        return Err(ScaffoldError::TargetNotEmpty {
            path: target.to_path_buf(),
        });
    }
    if non_empty {
        let conflicts = obstructions(plan, target);
        if !conflicts.is_empty() {
            return Err(ScaffoldError::Obstructed {
                path: target.to_path_buf(),
                conflicts,
            });
        }
        let changes: Vec<crate::fsutil::FileChange<'_>> = plan
            .files
            .iter()
            .map(|f| crate::fsutil::FileChange {
                path: target.join(&f.path),
                contents: Some(&f.contents),
                executable: f.executable,
            })
            .collect();
        crate::fsutil::apply_all(&changes, true, cancelled).map_err(|e| {
            if e.source.kind() == std::io::ErrorKind::Interrupted {
                ScaffoldError::Interrupted
            } else {
                ScaffoldError::Io {
                    path: e.path,
                    source: e.source,
                }
            }
        })?;
        return Ok(Staged {
            dir: target.to_path_buf(),
            target: target.to_path_buf(),
            files: plan.files.len(),
            staging: None,
        });
    }
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs_err::create_dir_all(&parent).map_err(io(&parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".fsi-new-")
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    let mut made = std::collections::HashSet::new();
    for f in &plan.files {
        if cancelled() {
            return Err(ScaffoldError::Interrupted); // `staging` is removed on drop
        }
        let dest = staging.path().join(&f.path);
        if let Some(dir) = dest.parent()
            && made.insert(dir.to_path_buf())
        {
            fs_err::create_dir_all(dir).map_err(io(dir))?;
        }
        write_new(&dest, &f.contents, f.executable).map_err(io(&dest))?;
    }
    Ok(Staged {
        dir: staging.path().to_path_buf(),
        target: target.to_path_buf(),
        files: plan.files.len(),
        staging: Some(staging),
    })
}

/// Paths of the target that stand in the plan's way: a non-directory where the plan needs a
/// directory, a directory where it needs a file.
fn obstructions(plan: &Plan, target: &Path) -> Vec<String> {
    let mut found = std::collections::BTreeSet::new();
    let mut dirs_ok = std::collections::HashSet::new();
    for f in &plan.files {
        let rel = Path::new(&f.path);
        let mut prefix = PathBuf::new();
        let parts: Vec<_> = rel.components().collect();
        for (i, part) in parts.iter().enumerate() {
            prefix.push(part);
            let last = i + 1 == parts.len();
            if !last && !dirs_ok.insert(prefix.clone()) {
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(target.join(&prefix)) else {
                break; // missing: made by the write
            };
            let shown = prefix.to_string_lossy().replace('\\', "/");
            if last && meta.is_dir() {
                found.insert(format!("{shown} is a directory; fsi writes a file there"));
            } else if !last && !target.join(&prefix).is_dir() {
                found.insert(format!(
                    "{shown} is not a directory; fsi writes {} inside it",
                    f.path
                ));
                break;
            }
        }
    }
    found.into_iter().collect()
}

/// Create a file with its mode in one go (no separate chmod).
pub fn write_new(path: &Path, contents: &[u8], executable: bool) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if executable { 0o755 } else { 0o644 })
        .open(path)?;
    f.write_all(contents)
}

/// A fresh 256-bit secret as 64 hex characters.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_the_old_realtime_boolean_and_write_strings() {
        let old: Answers = toml::from_str("realtime = true\nauth = false").unwrap();
        assert_eq!(old.realtime, Realtime::Websocket);
        assert_eq!(old.backend, Backend::Quart);
        let off: Answers = toml::from_str("realtime = false").unwrap();
        assert_eq!(off.realtime, Realtime::None);
        let flask: Answers = toml::from_str("backend = \"flask\"\nrealtime = \"sse\"").unwrap();
        assert_eq!(
            (flask.backend, flask.realtime),
            (Backend::Flask, Realtime::Sse)
        );
        assert!(toml::from_str::<Answers>("realtime = \"carrier-pigeon\"").is_err());
        let written = toml::to_string(&flask).unwrap();
        assert!(written.contains("realtime = \"sse\""), "{written}");
        assert!(written.contains("backend = \"flask\""), "{written}");
    }

    #[test]
    fn every_combination_is_valid_and_both_backends_are_covered() {
        let all = Answers::all_combinations();
        assert!(all.iter().all(|a| a.check().is_ok()));
        assert_eq!(
            all.len(),
            40,
            "quart × {{websocket, sse, none}} and flask × {{sse, none}}, 8 each"
        );
        for backend in [Backend::Quart, Backend::Flask] {
            assert!(
                all.iter()
                    .any(|a| a.backend == backend && a.realtime == Realtime::Sse),
                "{backend:?} with sse"
            );
        }
        assert!(
            !all.iter()
                .any(|a| a.backend == Backend::Flask && a.realtime == Realtime::Websocket)
        );
    }
}
