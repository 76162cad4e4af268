//! `fsi run` and `fsi session start|checkpoint|complete|rollback`.

use super::Ctx;
use crate::error::{CmdResult, CommandError, ExitStatus};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Sessions to run.
    pub ids: Vec<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum LifecycleCommand {
    /// Mark a session active and write SESSION.md.
    Start { id: String },
}

pub fn run(_ctx: &Ctx, _args: RunArgs) -> CmdResult {
    Err(CommandError::msg(
        ExitStatus::Invalid,
        "fsi run is not implemented yet",
    ))
}

pub fn lifecycle(_ctx: &Ctx, _cmd: LifecycleCommand) -> CmdResult {
    Err(CommandError::msg(
        ExitStatus::Invalid,
        "fsi session is not implemented yet",
    ))
}
