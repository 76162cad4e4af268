//! `fsi new`: scaffold, then types, then git.

use super::Ctx;
use crate::error::{CmdResult, CommandError, ExitStatus};

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// Project directory to create (its last component is the project name).
    pub name: String,
}

pub fn run(_ctx: &Ctx, _args: NewArgs) -> CmdResult {
    Err(CommandError::msg(
        ExitStatus::Invalid,
        "fsi new is not implemented yet",
    ))
}
