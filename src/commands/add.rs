//! `fsi add resource NAME --field NAME:TYPE …`: a vertical slice built the way `items` is built.
//!
//! Plan, then act: the resource is named, numbered (Alembic revision, session ids) and rendered
//! in memory, the anchors of the project's files are found — a missing one refuses before
//! anything is written — and then every file is written in one transaction, the types are
//! regenerated, the update base is advanced, and (on a clean tree) one commit records it all.
#![allow(clippy::result_large_err)] // see scaffold::resource

use std::collections::BTreeMap;
use std::path::Path;

use super::Ctx;
use crate::config::{CONFIG_FILE, Project};
use crate::error::{CmdResult, CommandError, ExitStatus};
use crate::scaffold::{
    self, Field, Request, Resource, ResourceEntry, ResourceSessions, ScaffoldError, base,
    diff::Change, resource,
};

#[derive(Debug, clap::Subcommand)]
pub enum AddCommand {
    /// A resource: model, migration, DTOs, service, routes, tests, frontend page, sessions.
    Resource(ResourceArgs),
}

#[derive(Debug, clap::Args)]
pub struct ResourceArgs {
    /// The resource in the singular, snake_case (`book` → module `books`, `/api/books`, `Book…`).
    pub name: String,
    /// A field: NAME:TYPE, TYPE one of str, text, int, float, decimal, bool, date, datetime,
    /// uuid, enum(a|b|c); a trailing `?` makes it optional (nullable, default null).
    #[arg(
        long = "field",
        short = 'f',
        value_name = "NAME:TYPE[?]",
        required = true
    )]
    pub fields: Vec<String>,
    /// The plural when the English rule gets it wrong (`--plural data`).
    #[arg(long)]
    pub plural: Option<String>,
    /// Backend only: no API module, hooks, page or route in the frontend.
    #[arg(long)]
    pub no_frontend: bool,
    /// Print the diff that would be applied; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Add to a working tree with uncommitted changes (then nothing is committed).
    #[arg(long)]
    pub force: bool,
}

pub fn run(ctx: &Ctx, cmd: AddCommand) -> CmdResult {
    match cmd {
        AddCommand::Resource(args) => resource(ctx, args),
    }
}

/// A project made by `fsi new`, or a refusal saying so.
pub(super) fn generated_project(ctx: &Ctx) -> Result<Project, CommandError> {
    let project = ctx.project()?;
    if !project.has_config || project.config.project.name.is_empty() {
        return Err(CommandError::msg(
            ExitStatus::Refused,
            format!(
                "{} is not inside a project made by `fsi new` (no fsi.toml with a [project] name)",
                ctx.cwd.display()
            ),
        ));
    }
    Ok(project)
}

/// Take the project lock (as `fsi run` does: one command changes a project at a time) and make
/// Ctrl-C / SIGTERM only ask to stop: before the writes fsi stops with nothing changed (130);
/// once they have begun it finishes (types, base, commit take milliseconds) rather than leave
/// a half-done change.
pub(super) fn guard(
    project: &Project,
) -> Result<(crate::session::lock::ProjectLock, crate::exec::Cancel), CommandError> {
    let lock = crate::session::lock::acquire(
        &project.root.join(&project.config.sessions.state_dir),
        crate::session::lock::Wait::No,
    )?;
    let cancel = crate::exec::Cancel::new();
    cancel.install_flag_handlers().map_err(|e| {
        CommandError::msg(
            ExitStatus::Failure,
            format!("cannot install signal handlers: {e}"),
        )
    })?;
    Ok((lock, cancel))
}

pub(super) fn stop_if_cancelled(cancel: &crate::exec::Cancel) -> Result<(), CommandError> {
    if cancel.is_cancelled() {
        return Err(CommandError::msg(
            ExitStatus::Interrupted,
            "interrupted; nothing was changed",
        ));
    }
    Ok(())
}

/// The request that renders this project again (the secret only ever goes to the git-ignored
/// `.env`, which add and update never write).
pub(super) fn request_for(project: &Project) -> Result<Request, CommandError> {
    Ok(Request {
        names: scaffold::Names::new(&project.config.project.name)?,
        answers: project.config.answers.clone(),
        jwt_secret: "0".repeat(64),
    })
}

fn resource(ctx: &Ctx, args: ResourceArgs) -> CmdResult {
    let ui = ctx.ui;
    // Usage first (exit 2), before anything about the project.
    let fields = args
        .fields
        .iter()
        .map(|f| resource::parse_field(f))
        .collect::<Result<Vec<Field>, _>>()?;
    resource::check_fields(&args.fields, &fields)?;
    let plural = args
        .plural
        .clone()
        .unwrap_or_else(|| resource::pluralize(&args.name));
    resource::check_resource_name(&args.name, &plural)?;

    let project = generated_project(ctx)?;
    let root = project.root.clone();
    let config = &project.config;
    let guarded = if args.dry_run {
        None
    } else {
        Some(guard(&project)?)
    };
    if let Some(existing) = config.resources.iter().find(|r| {
        [&r.name, &r.plural]
            .iter()
            .any(|n| **n == args.name || **n == plural)
    }) {
        return Err(ScaffoldError::ResourceExists {
            name: args.name.clone(),
            why: format!("fsi.toml lists the resource `{}`", existing.name),
        }
        .into());
    }
    let backend = root.join(&config.paths.backend);
    let module = backend.join("app/modules").join(&plural);
    if module.exists() {
        return Err(ScaffoldError::ResourceExists {
            name: args.name.clone(),
            why: format!("{} exists", rel(&root, &module)),
        }
        .into());
    }

    let repo = git2::Repository::open(&root).ok();
    let dirty = match &repo {
        Some(r) => crate::session::gitops::dirty_paths(r, None, &[])
            .map_err(|e| CommandError::msg(ExitStatus::Failure, e))?,
        None => Vec::new(),
    };
    if !dirty.is_empty() && !args.force && !args.dry_run {
        return Err(ScaffoldError::Dirty {
            paths: shorten(&dirty),
            extra: ", or pass --force to add anyway (nothing is committed then)".into(),
        }
        .into());
    }

    let (down_revision, revision_number) = alembic_head(&backend.join("migrations/versions"))?;
    let frontend = !args.no_frontend && root.join(&config.paths.frontend).is_dir();
    let sessions = next_sessions(&root.join("sessions"), frontend)?;
    let entry = ResourceEntry {
        name: args.name.clone(),
        plural: plural.clone(),
        fields: fields.iter().map(Field::spec).collect(),
        frontend,
        revision: format!("{revision_number:04}_{plural}"),
        down_revision,
        sessions,
    };
    let resource = Resource { entry, fields };
    let request = request_for(&project)?;
    let rendered = scaffold::plan_resource(&request, &resource)?;

    // Plan: every file's new contents, checked against the working tree.
    let mut changes: BTreeMap<String, Change> = BTreeMap::new();
    for f in &rendered.files {
        let path = root.join(&f.path);
        if path.exists() {
            return Err(ScaffoldError::ResourceExists {
                name: args.name.clone(),
                why: format!("{} exists", f.path),
            }
            .into());
        }
        changes.insert(
            f.path.clone(),
            Change {
                path: f.path.clone(),
                old: None,
                new: Some(f.contents.clone()),
            },
        );
    }
    for insert in &rendered.inserts {
        let change = match changes.get_mut(&insert.file) {
            Some(c) => c,
            None => {
                let old = std::fs::read(root.join(&insert.file)).map_err(|_| {
                    ScaffoldError::AnchorFileMissing {
                        file: insert.file.clone(),
                        anchor: insert.anchor.clone(),
                    }
                })?;
                changes.entry(insert.file.clone()).or_insert(Change {
                    path: insert.file.clone(),
                    new: Some(old.clone()),
                    old: Some(old),
                })
            }
        };
        let text = String::from_utf8_lossy(change.new.as_deref().unwrap_or_default()).into_owned();
        let updated =
            resource::apply_insert(&text, insert).ok_or_else(|| ScaffoldError::AnchorMissing {
                file: insert.file.clone(),
                anchor: insert.anchor.clone(),
            })?;
        change.new = Some(updated.into_bytes());
    }
    let config_path = root.join(CONFIG_FILE);
    let old_config =
        fs_err::read(&config_path).map_err(|e| CommandError::msg(ExitStatus::Failure, e))?;
    let mut new_config = old_config.clone();
    if !new_config.ends_with(b"\n") {
        new_config.push(b'\n');
    }
    new_config.extend_from_slice(resource.toml().as_bytes());
    changes.insert(
        CONFIG_FILE.to_string(),
        Change {
            path: CONFIG_FILE.to_string(),
            old: Some(old_config),
            new: Some(new_config),
        },
    );
    let changes: Vec<Change> = changes.into_values().collect();

    if args.dry_run {
        super::update::print_diff(ui, &changes);
        ui.info(format!(
            "{} file(s) would change; nothing was written (types would be regenerated after)",
            changes.len()
        ));
        return Ok(ExitStatus::Success);
    }

    // Act: all files or none.
    if let Some((_, cancel)) = &guarded {
        stop_if_cancelled(cancel)?;
    }
    let executable: BTreeMap<&str, bool> = rendered
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.executable))
        .collect();
    super::update::apply(&root, &changes, &|p| executable.get(p).copied())?;
    let types = super::update::regenerate_types(&root)?;

    // The base of later updates gets what fsi rendered here, the same edits applied.
    if let Some(repo) = &repo {
        let mut files = match base::read(&root)? {
            Some(b) => b.files,
            None => base::files_of(repo, &scaffold::plan_project(&request, &[])?)
                .map_err(|e| git_failed(&root, e))?,
        };
        for f in &rendered.files {
            if !repo.is_path_ignored(&f.path).unwrap_or(false) {
                files.insert(
                    f.path.clone(),
                    base::BaseFile {
                        contents: f.contents.clone(),
                        executable: f.executable,
                    },
                );
            }
        }
        for insert in &rendered.inserts {
            if let Some(file) = files.get_mut(&insert.file)
                && let Some(updated) =
                    resource::apply_insert(&String::from_utf8_lossy(&file.contents), insert)
            {
                file.contents = updated.into_bytes();
            }
        }
        if let Some(file) = files.get_mut(CONFIG_FILE) {
            if !file.contents.ends_with(b"\n") {
                file.contents.push(b'\n');
            }
            file.contents.extend_from_slice(resource.toml().as_bytes());
        }
        base::record(
            &root,
            &files,
            base::BASE_REF,
            &format!("fsi add resource {}", resource.entry.name),
        )?;
    }

    let mut paths: Vec<String> = changes.iter().map(|c| c.path.clone()).collect();
    paths.extend(types.iter().cloned());
    let commit = match &repo {
        Some(repo) if dirty.is_empty() => Some(
            crate::session::gitops::commit_paths(
                repo,
                &paths,
                &format!(
                    "feat({}): add the {} resource (fsi add resource)\n\nFields: {}",
                    resource.entry.plural,
                    resource.entry.name,
                    resource.entry.fields.join(", ")
                ),
            )
            .map_err(|e| CommandError::msg(ExitStatus::Failure, e))?,
        ),
        _ => None,
    };

    let e = &resource.entry;
    ui.info(format!(
        "added the resource `{}`: {} new file(s), {} changed",
        e.name,
        rendered.files.len(),
        changes.len() - rendered.files.len()
    ));
    for c in &changes {
        ui.info(format!(
            "  {} {}",
            if c.old.is_none() { "+" } else { "~" },
            c.path
        ));
    }
    if !types.is_empty() {
        ui.info(format!("types: {} file(s) regenerated", types.len()));
    }
    match commit {
        Some(hash) => ui.info(format!("git: committed {hash}")),
        None if repo.is_some() => ui.info("git: not committed (the tree had other changes)"),
        None => {}
    }
    ui.info(format!(
        "Next: fsi run {}{}   # migrate, test and commit the slice",
        e.sessions.backend,
        e.sessions
            .frontend
            .as_ref()
            .map(|f| format!(" {f}"))
            .unwrap_or_default()
    ));
    Ok(ExitStatus::Success)
}

fn git_failed(root: &Path, source: git2::Error) -> CommandError {
    ScaffoldError::Git {
        path: root.to_path_buf(),
        source,
    }
    .into()
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

fn shorten(paths: &[String]) -> Vec<String> {
    let mut out: Vec<String> = paths.iter().take(5).cloned().collect();
    if paths.len() > 5 {
        out.push(format!("and {} more", paths.len() - 5));
    }
    out
}

/// The Alembic head (the revision no other revision names as its `down_revision`) and the
/// number the next revision takes. More than one head is refused: the new revision would have
/// to choose.
fn alembic_head(versions: &Path) -> Result<(String, u32), CommandError> {
    let assign = regex::Regex::new(
        r#"(?m)^(revision|down_revision)\s*(?::[^=]*)?=\s*(?:None|["']([^"']*)["']|\(([^)]*)\))"#,
    )
    .expect("valid regex");
    let mut revisions = Vec::new();
    let mut parents = std::collections::HashSet::new();
    let mut highest = 0u32;
    let entries = match fs_err::read_dir(versions) {
        Ok(e) => e,
        Err(e) => {
            return Err(CommandError::msg(
                ExitStatus::Refused,
                format!("cannot read the Alembic revisions: {e}"),
            ));
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "py") {
            continue;
        }
        let text = fs_err::read_to_string(&path).unwrap_or_default();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse::<u32>() {
            highest = highest.max(n);
        }
        for c in assign.captures_iter(&text) {
            let value = c.get(2).map(|m| m.as_str().to_string());
            if &c[1] == "revision" {
                if let Some(v) = value {
                    if let Ok(n) = v
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                        .parse::<u32>()
                    {
                        highest = highest.max(n);
                    }
                    revisions.push(v);
                }
            } else if let Some(v) = value {
                parents.insert(v);
            } else if let Some(tuple) = c.get(3) {
                for v in tuple.as_str().split(',') {
                    let v = v.trim().trim_matches(['"', '\'']);
                    if !v.is_empty() {
                        parents.insert(v.to_string());
                    }
                }
            }
        }
    }
    let mut heads: Vec<&String> = revisions.iter().filter(|r| !parents.contains(*r)).collect();
    heads.sort();
    match heads.as_slice() {
        [head] => Ok(((*head).clone(), highest + 1)),
        [] => Err(CommandError::msg(
            ExitStatus::Refused,
            format!("no Alembic revision found in {}", versions.display()),
        )),
        many => Err(CommandError::msg(
            ExitStatus::Refused,
            format!(
                "the migrations have {} heads ({}); merge them first (`uv run alembic merge heads -m merge`)",
                many.len(),
                many.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// The session ids the slice takes: the next BE-NN (and FE-NN) after the highest in `sessions/`.
fn next_sessions(dir: &Path, frontend: bool) -> Result<ResourceSessions, CommandError> {
    let id = regex::Regex::new(r"^(BE|FE)-(\d+)\.(xml|md)$").expect("valid regex");
    let (mut be, mut fe) = (0u32, 0u32);
    if let Ok(entries) = fs_err::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(c) = id.captures(&name) {
                let n: u32 = c[2].parse().unwrap_or(0);
                if &c[1] == "BE" {
                    be = be.max(n);
                } else {
                    fe = fe.max(n);
                }
            }
        }
    }
    let fmt = |kind: &str, n: u32| format!("{kind}-{n:02}");
    Ok(ResourceSessions {
        backend: fmt("BE", be + 1),
        backend_after: fmt("BE", be.max(1)),
        frontend: frontend.then(|| fmt("FE", fe + 1)),
        frontend_after: (frontend && fe > 0).then(|| fmt("FE", fe)),
    })
}
