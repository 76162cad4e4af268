//! `fsi ci github`: export the session DAG as a CI workflow.

use std::path::PathBuf;

use super::Ctx;
use super::sessions::{SourceArgs, load_valid};
use crate::cigen::{self, GithubOptions, Job};
use crate::error::{CmdResult, CommandError, ExitStatus};

#[derive(Debug, clap::Subcommand)]
pub enum CiCommand {
    /// A GitHub Actions workflow with one job per session and `needs:` equal to its
    /// dependencies; each job runs `fsi run ID --assume-deps --no-commit`.
    Github(GithubArgs),
}

#[derive(Debug, clap::Args)]
pub struct GithubArgs {
    /// Write the workflow here (e.g. `.github/workflows/sessions.yml`) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The workflow's name.
    #[arg(long, default_value = "sessions")]
    pub name: String,
    /// The step that installs fsi on a runner (default: `[ci] install` of fsi.toml, else
    /// `cargo install fullstack-integration --version <this> --locked`).
    #[arg(long, value_name = "COMMAND")]
    pub install: Option<String>,
    /// The runner label.
    #[arg(long, default_value = "ubuntu-latest")]
    pub runs_on: String,
    #[command(flatten)]
    pub src: SourceArgs,
}

pub fn run(ctx: &Ctx, cmd: CiCommand) -> CmdResult {
    match cmd {
        CiCommand::Github(args) => github(ctx, args),
    }
}

fn github(ctx: &Ctx, args: GithubArgs) -> CmdResult {
    let l = load_valid(ctx, &args.src)?;
    let jobs: Vec<Job> = l
        .set
        .ordered()
        .map(|s| Job {
            id: s.id.clone(),
            title: s.title().to_string(),
            needs: s
                .dep_ids()
                .filter(|d| l.set.get(d).is_some())
                .map(str::to_string)
                .collect(),
        })
        .collect();
    let mut opts = GithubOptions {
        workflow_name: args.name,
        runs_on: args.runs_on,
        ..GithubOptions::default()
    };
    opts.install = match args.install {
        Some(install) => install,
        None => l.project.config.ci.install.clone(),
    };
    let yaml = cigen::github_workflow(&jobs, &opts);
    match args.out {
        Some(path) => {
            let path = ctx.cwd.join(path);
            crate::fsutil::write_atomic(&path, yaml.as_bytes(), false).map_err(|e| {
                CommandError::msg(
                    ExitStatus::Failure,
                    format!("cannot write {}: {e}", path.display()),
                )
            })?;
            ctx.ui.info(format!(
                "wrote {} ({} jobs)",
                path.strip_prefix(&ctx.cwd).unwrap_or(&path).display(),
                jobs.len()
            ));
        }
        None => ctx.ui.out(yaml.trim_end()),
    }
    Ok(ExitStatus::Success)
}
