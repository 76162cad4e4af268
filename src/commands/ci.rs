//! `fsi ci github`: export the session DAG as a CI workflow.

use super::Ctx;
use crate::error::{CmdResult, CommandError, ExitStatus};

#[derive(Debug, clap::Subcommand)]
pub enum CiCommand {
    /// A GitHub Actions workflow with one job per session.
    Github,
}

pub fn run(_ctx: &Ctx, _cmd: CiCommand) -> CmdResult {
    Err(CommandError::msg(
        ExitStatus::Invalid,
        "fsi ci is not implemented yet",
    ))
}
