//! `fsi new`: answers (flags, prompts or defaults) → scaffold plan → write → fsi.toml → git.

use std::path::{Path, PathBuf};

use super::Ctx;
use crate::error::{CmdResult, CommandError, ExitStatus};
use crate::scaffold::{self, Answers, Backend, Database, Existing, Names, Realtime, Request};

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// Directory to create; its last component is the project name (asked for on a TTY when
    /// omitted).
    pub name: Option<PathBuf>,
    /// Print the files that would be written, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write into a non-empty directory (files fsi generates are replaced, others kept).
    #[arg(long)]
    pub force: bool,
    /// Take the defaults for everything not given as a flag; never prompt.
    #[arg(short, long)]
    pub yes: bool,
    /// Leave out the auth module (items become public).
    #[arg(long)]
    pub no_auth: bool,
    /// Backend framework: quart (async, WebSockets) or flask (sync, gunicorn).
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
    /// Live updates: websocket (Quart's default), sse (Flask's default) or none.
    #[arg(long, value_enum, conflicts_with = "no_realtime")]
    pub realtime: Option<Realtime>,
    /// Leave out live updates (the same as `--realtime none`).
    #[arg(long)]
    pub no_realtime: bool,
    /// Leave out deployment files (compose, Dockerfiles, nginx).
    #[arg(long)]
    pub no_deploy: bool,
    /// Development database.
    #[arg(long, value_enum)]
    pub database: Option<Database>,
    /// Do not create a git repository.
    #[arg(long)]
    pub no_git: bool,
    /// Do not generate TypeScript types from the DTOs after scaffolding.
    #[arg(long)]
    pub no_types: bool,
}

pub fn run(ctx: &Ctx, args: NewArgs) -> CmdResult {
    let ui = ctx.ui;
    let ask = ui.interactive && !args.yes;
    // Ctrl-C and SIGTERM only ask `fsi new` to stop; it then removes what it staged and exits
    // 130. Without prompts, from the start; with them, once they are answered (a prompt keeps
    // Ctrl-C's usual meaning).
    let cancel = crate::exec::Cancel::new();
    let install = |cancel: &crate::exec::Cancel| {
        cancel.install_flag_handlers().map_err(|e| {
            CommandError::msg(
                ExitStatus::Failure,
                format!("cannot install signal handlers: {e}"),
            )
        })
    };
    if !ask {
        install(&cancel)?;
    }

    let target_arg = match (&args.name, ask) {
        (Some(n), _) => n.clone(),
        (None, true) => PathBuf::from(prompt_name()?),
        (None, false) => {
            return Err(CommandError::msg(
                ExitStatus::Invalid,
                "fsi new needs a NAME (e.g. `fsi new my-app --yes`)",
            ));
        }
    };
    let target = ctx.cwd.join(&target_arg);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let names = Names::new(&name)?;

    let realtime_flag = if args.no_realtime {
        Some(Realtime::None)
    } else {
        args.realtime
    };
    // A contradiction given as flags is a usage error before any prompt.
    if let (Some(backend), Some(realtime)) = (args.backend, realtime_flag) {
        let given = Answers {
            backend,
            realtime,
            ..Answers::default()
        };
        given
            .check()
            .map_err(|why| CommandError::msg(ExitStatus::Invalid, why))?;
    }
    let backend = args.backend.unwrap_or_default();
    let mut answers = Answers {
        backend,
        auth: !args.no_auth,
        realtime: realtime_flag.unwrap_or(backend.default_realtime()),
        deploy: !args.no_deploy,
        database: args.database.unwrap_or_default(),
    };
    if ask {
        answers = prompt_answers(
            answers,
            args.backend.is_none(),
            realtime_flag.is_none(),
            args.database.is_none(),
        )?;
    }
    answers
        .check()
        .map_err(|why| CommandError::msg(ExitStatus::Invalid, why))?;
    // From here on Ctrl-C and SIGTERM only ask to stop (prompts keep their own Ctrl-C): the
    // staging directory is removed on the way out, and fsi exits 130.
    if ask {
        install(&cancel)?;
    }
    let interrupted = || -> Result<(), CommandError> {
        if cancel.is_cancelled() {
            Err(CommandError::new(
                ExitStatus::Interrupted,
                scaffold::ScaffoldError::Interrupted,
            ))
        } else {
            Ok(())
        }
    };

    let request = Request {
        names: names.clone(),
        answers: answers.clone(),
        jwt_secret: scaffold::new_secret(),
    };
    let mut plan = scaffold::plan(&request)?;
    plan.insert(scaffold::config_file(&names, &answers));

    interrupted()?;
    if args.dry_run {
        // Against what is there: nothing for a new directory, the current files with --force.
        let changes: Vec<scaffold::diff::Change> = plan
            .files
            .iter()
            .map(|f| scaffold::diff::Change {
                path: f.path.clone(),
                old: std::fs::read(target.join(&f.path)).ok(),
                new: Some(f.contents.clone()),
            })
            .collect();
        super::update::print_diff(ui, &changes);
        ui.info(format!(
            "{} files would be written to {}; nothing was written",
            plan.files.len(),
            target.display()
        ));
        return Ok(ExitStatus::Success);
    }

    let existing = if args.force {
        Existing::Overwrite
    } else {
        Existing::Refuse
    };
    // Plan, then act: everything — files, generated types, the first commit — is made in a
    // staging directory that is renamed into place at the end; a failure leaves nothing.
    interrupted()?;
    let bar = ui.progress(None);
    bar.set_message("writing files");
    let staged = scaffold::stage(&plan, &target, existing, &|| cancel.is_cancelled())?;
    let fresh = staged.dir != target;
    // Into an existing directory (`--force`) the files are in place now: finish the job
    // (types, git) rather than leave it half done.
    let interrupted = || if fresh { interrupted() } else { Ok(()) };
    interrupted()?;
    let types = if args.no_types {
        None
    } else {
        bar.set_message("generating types");
        Some(generate_types(&staged.dir, fresh)?)
    };
    interrupted()?;
    let commit = if !args.no_git && !staged.dir.join(".git").exists() {
        bar.set_message("git init");
        let message = format!(
            "chore: scaffold {} with fsi {}",
            names.project_name,
            env!("CARGO_PKG_VERSION")
        );
        let hash = if fresh {
            // Everything in the staging directory is in memory too: commit from memory.
            let mut files = plan.git_files();
            if let Some(t) = &types {
                files.extend(t.files.iter().map(|(p, c)| scaffold::GitFile {
                    path: p,
                    contents: c.as_bytes(),
                    executable: false,
                }));
            }
            scaffold::git_init_files(&staged.dir, &message, &files)?
        } else {
            scaffold::git_init(&staged.dir, &message)?
        };
        // What fsi rendered, as the base of later `fsi add` / `fsi update` merges.
        let repo =
            git2::Repository::open(&staged.dir).map_err(|source| scaffold::ScaffoldError::Git {
                path: staged.dir.clone(),
                source,
            })?;
        let files = scaffold::base::files_of(&repo, &plan).map_err(|source| {
            scaffold::ScaffoldError::Git {
                path: staged.dir.clone(),
                source,
            }
        })?;
        scaffold::base::record(
            &staged.dir,
            &files,
            scaffold::base::BASE_REF,
            &format!("fsi new (fsi {})", env!("CARGO_PKG_VERSION")),
        )?;
        Some(hash)
    } else {
        None
    };
    interrupted()?;
    let written = staged.finish()?;
    bar.finish_and_clear();
    ui.info(format!(
        "created {} ({} files)",
        display_rel(&ctx.cwd, &written.root),
        written.files
    ));
    if let Some(t) = types {
        for w in &t.warnings {
            ui.warn(w);
        }
        ui.info(format!(
            "types: {} module(s) → {} ({} files)",
            t.modules,
            t.out_dir,
            t.files.len()
        ));
    }
    if let Some(hash) = commit {
        ui.info(format!("git: initialised branch main, first commit {hash}"));
    }

    let rel = display_rel(&ctx.cwd, &target);
    ui.info(String::new());
    // The parent path may hold spaces: the command must work when pasted.
    ui.info(format!("Next: cd {}", shell_words::quote(&rel)));
    if plan.get("scripts/dev").is_some() {
        ui.info("  ./scripts/dev     # backend + frontend for development (SQLite by default)");
    }
    if plan.get("scripts/test").is_some() {
        ui.info("  ./scripts/test    # every test: pytest, tsc, vitest, build, browser flows");
    }
    Ok(ExitStatus::Success)
}

/// What type generation did, for the summary.
struct TypesDone {
    modules: usize,
    /// Generated files (project-relative, `/`-separated) and their contents.
    files: Vec<(String, String)>,
    out_dir: String,
    warnings: Vec<String>,
}

/// Run the type-sync engine over the new project so that `frontend/src/types` exists before the
/// first commit (`fsi new` is "scaffold, then types": the frontend imports the generated types).
/// In a fresh staging directory the files are simply created; in an existing directory
/// (`--force`) they go through the engine's atomic, change-only writer.
fn generate_types(root: &Path, fresh: bool) -> Result<TypesDone, CommandError> {
    let project = crate::config::Project::discover(root)?;
    let generated = crate::typesync::generate(&project.root, &project.config.types)?;
    if fresh {
        for (rel, text) in &generated.files {
            let path = project.root.join(rel);
            if let Some(dir) = path.parent() {
                fs_err::create_dir_all(dir)
                    .map_err(|e| CommandError::msg(ExitStatus::Failure, format!("{e}")))?;
            }
            scaffold::write_new(&path, text.as_bytes(), false).map_err(|e| {
                CommandError::msg(
                    ExitStatus::Failure,
                    format!("cannot write {}: {e}", path.display()),
                )
            })?;
        }
    } else {
        crate::typesync::write(&project.root, &generated)?;
    }
    Ok(TypesDone {
        modules: generated.modules.len(),
        files: generated
            .files
            .iter()
            .map(|(p, c)| (p.to_string_lossy().replace('\\', "/"), c.clone()))
            .collect(),
        out_dir: project.config.types.out_dir.display().to_string(),
        warnings: generated.warnings.iter().map(|w| w.to_string()).collect(),
    })
}

fn display_rel(base: &Path, p: &Path) -> String {
    p.strip_prefix(base)
        .map(|r| r.display().to_string())
        .unwrap_or_else(|_| p.display().to_string())
}

fn prompt_err(e: dialoguer::Error) -> CommandError {
    CommandError::msg(ExitStatus::Interrupted, format!("prompt aborted: {e}"))
}

fn prompt_name() -> Result<String, CommandError> {
    dialoguer::Input::<String>::new()
        .with_prompt("Project name")
        .validate_with(|s: &String| Names::new(s).map(|_| ()).map_err(|e| e.to_string()))
        .interact_text()
        .map_err(prompt_err)
}

fn prompt_answers(
    mut a: Answers,
    ask_backend: bool,
    ask_realtime: bool,
    ask_database: bool,
) -> Result<Answers, CommandError> {
    if ask_backend {
        let idx = dialoguer::Select::new()
            .with_prompt("Backend")
            .items([
                "Quart (async, ASGI; WebSocket or Server-Sent Events live updates)",
                "Flask 3 (sync, WSGI on gunicorn; Server-Sent Events live updates)",
            ])
            .default(if a.backend == Backend::Flask { 1 } else { 0 })
            .interact()
            .map_err(prompt_err)?;
        let chosen = if idx == 1 {
            Backend::Flask
        } else {
            Backend::Quart
        };
        if chosen != a.backend && ask_realtime {
            a.realtime = chosen.default_realtime();
        }
        a.backend = chosen;
    }
    let items = [
        "auth (register, login, refresh, protected routes)",
        "deploy (docker compose, nginx, Dockerfiles)",
    ];
    let chosen = dialoguer::MultiSelect::new()
        .with_prompt("Features (space toggles, enter accepts)")
        .items(items)
        .defaults(&[a.auth, a.deploy])
        .interact()
        .map_err(prompt_err)?;
    a.auth = chosen.contains(&0);
    a.deploy = chosen.contains(&1);
    if ask_realtime {
        // The backend's default transport first, then the others it supports, then none.
        let mut transports = vec![a.backend.default_realtime()];
        for t in [Realtime::Websocket, Realtime::Sse] {
            let candidate = Answers {
                realtime: t,
                ..a.clone()
            };
            if !transports.contains(&t) && candidate.check().is_ok() {
                transports.push(t);
            }
        }
        transports.push(Realtime::None);
        let labels: Vec<&str> = transports
            .iter()
            .map(|t| match t {
                Realtime::Sse => "Server-Sent Events (one-time tickets, EventSource)",
                Realtime::Websocket => "WebSocket (token in the first message)",
                Realtime::None => "none",
            })
            .collect();
        let idx = dialoguer::Select::new()
            .with_prompt("Live item updates")
            .items(&labels)
            .default(
                transports
                    .iter()
                    .position(|t| *t == a.realtime)
                    .unwrap_or(0),
            )
            .interact()
            .map_err(prompt_err)?;
        a.realtime = transports[idx];
    }
    if ask_database {
        let idx = dialoguer::Select::new()
            .with_prompt("Development database")
            .items([
                "SQLite file (no server needed)",
                "PostgreSQL (DATABASE_URL)",
            ])
            .default(0)
            .interact()
            .map_err(prompt_err)?;
        a.database = if idx == 1 {
            Database::Postgresql
        } else {
            Database::Sqlite
        };
    }
    Ok(a)
}
