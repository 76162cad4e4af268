//! Command-line surface (clap derive only). Each subcommand's arguments live beside its
//! implementation in `commands/`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;
use crate::error::ExitStatus;
use crate::ui::Ui;

#[derive(Debug, Parser)]
#[command(
    name = "fsi",
    version,
    about = "fsi (fullstack-integration): scaffold, type-sync and session runner for React/TypeScript on Python (Quart)",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Run as if fsi was started in DIR (fsi.toml is looked up from there).
    #[arg(short = 'C', long = "directory", global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,
    /// Print only errors and machine output.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scaffold a complete project (backend, frontend, deploy files, sessions).
    New(commands::new::NewArgs),
    /// Grow a project made by `fsi new`: `fsi add resource book --field title:str …`.
    #[command(subcommand)]
    Add(commands::add::AddCommand),
    /// Bring the project up to this fsi's skeletons (3-way merge; your edits are kept).
    Update(commands::update::UpdateArgs),
    /// Generate TypeScript types and Zod schemas from the Pydantic DTOs (or check for drift).
    Types(commands::types::TypesArgs),
    /// Inspect session plans: list, show, graph, validate.
    #[command(subcommand)]
    Sessions(commands::sessions::SessionsCommand),
    /// Print the ordered execution plan for sessions (changes nothing).
    Plan(commands::sessions::PlanArgs),
    /// Run sessions in dependency order: gates, tasks, verification, commit, progress.
    Run(commands::run::RunArgs),
    /// Drive one session's lifecycle by hand: start, checkpoint, complete, rollback.
    #[command(subcommand)]
    Session(commands::run::LifecycleCommand),
    /// What CI runs: plans valid, types in sync, completed sessions still verified.
    Verify(commands::verify::VerifyArgs),
    /// Export the session DAG for CI systems.
    #[command(subcommand)]
    Ci(commands::ci::CiCommand),
    /// Print a shell completion script (e.g. `fsi completions bash > ~/.local/share/bash-completion/completions/fsi`).
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => ExitStatus::Invalid.code(),
            });
        }
    };
    // mimalloc asks for transparent huge pages. Only type sync gains from them: it touches tens
    // of MiB on several threads, and 4,500 page faults become 300 (≈ 2 ms). Every other command
    // loses: `fsi new` and `fsi run` spend more zeroing 2 MiB pages than they save (`fsi run` of
    // 1,000 checks: +25 ms of CPU), so they turn huge pages off for the process. That setting
    // is inherited by the commands they run; where THP is `madvise` (Debian's default) this
    // changes nothing for them, where it is `always` they run without (docs/cli.md).
    if !matches!(cli.command, Command::Types(_)) {
        let _ = nix::sys::prctl::set_thp_disable(true);
    }
    // Diagnostics wrap at the terminal width but never inside a word: a `path:line:col` split
    // across two lines is no longer a location anyone (or any tool) can use.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .break_words(false)
                .word_separator(textwrap::WordSeparator::AsciiSpace)
                .word_splitter(textwrap::WordSplitter::NoHyphenation)
                .build(),
        )
    }));
    let ui = Ui::from_env(cli.global.quiet);
    let status = match commands::dispatch(cli, &ui) {
        Ok(status) => status,
        Err(err) => {
            ui.report(&err.report);
            err.status
        }
    };
    ExitCode::from(status.code())
}
