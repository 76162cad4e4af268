//! `fsi verify`: the one command CI runs.

use super::Ctx;
use crate::error::{CmdResult, CommandError, ExitStatus};

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {}

pub fn run(_ctx: &Ctx, _args: VerifyArgs) -> CmdResult {
    Err(CommandError::msg(
        ExitStatus::Invalid,
        "fsi verify is not implemented yet",
    ))
}
