//! `fsi sessions list|show|graph|validate` and `fsi plan`.

use super::Ctx;
use crate::error::{CmdResult, CommandError, ExitStatus};

#[derive(Debug, clap::Subcommand)]
pub enum SessionsCommand {
    /// List sessions with status, dependencies and readiness.
    List,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Sessions to plan (default: all).
    pub ids: Vec<String>,
}

pub fn run(_ctx: &Ctx, _cmd: SessionsCommand) -> CmdResult {
    Err(CommandError::msg(
        ExitStatus::Invalid,
        "fsi sessions is not implemented yet",
    ))
}

pub fn plan(_ctx: &Ctx, _args: PlanArgs) -> CmdResult {
    Err(CommandError::msg(
        ExitStatus::Invalid,
        "fsi plan is not implemented yet",
    ))
}
