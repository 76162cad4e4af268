//! One module per subcommand: resolve settings (args + fsi.toml + env), call the engines, decide
//! what to print and which exit status to return.

pub mod add;
pub mod builtin;
pub mod ci;
pub mod new;
pub mod run;
pub mod sessions;
pub mod types;
pub mod update;
pub mod verify;

use std::path::PathBuf;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::config::Project;
use crate::error::CmdResult;
use crate::ui::Ui;

/// What every command gets: where it runs and how to talk to the user.
pub struct Ctx<'a> {
    pub ui: &'a Ui,
    /// The directory fsi was started in (after `-C`).
    pub cwd: PathBuf,
}

impl Ctx<'_> {
    /// The project around `cwd` (fsi.toml looked up through ancestors).
    pub fn project(&self) -> Result<Project, crate::error::CommandError> {
        Ok(Project::discover(&self.cwd)?)
    }
}

fn cwd(global: &GlobalArgs) -> PathBuf {
    let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    match &global.directory {
        Some(d) => base.join(d),
        None => base,
    }
}

pub fn dispatch(cli: Cli, ui: &Ui) -> CmdResult {
    let ctx = Ctx {
        ui,
        cwd: cwd(&cli.global),
    };
    match cli.command {
        Command::New(args) => new::run(&ctx, args),
        Command::Add(cmd) => add::run(&ctx, cmd),
        Command::Update(args) => update::run(&ctx, args),
        Command::Types(args) => types::run(&ctx, args),
        Command::Sessions(cmd) => sessions::run(&ctx, cmd),
        Command::Plan(args) => sessions::plan(&ctx, args),
        Command::Run(args) => run::run(&ctx, args),
        Command::Session(cmd) => run::lifecycle(&ctx, cmd),
        Command::Verify(args) => verify::run(&ctx, args),
        Command::Ci(cmd) => ci::run(&ctx, cmd),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "fsi", &mut script);
            ui.out(String::from_utf8_lossy(&script).trim_end());
            Ok(crate::error::ExitStatus::Success)
        }
    }
}
