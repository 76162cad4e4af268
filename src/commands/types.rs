//! `fsi types`: Pydantic DTOs → TypeScript + Zod, `--check` for drift, `--watch`.

use super::Ctx;
use crate::error::{CmdResult, CommandError, ExitStatus};

#[derive(Debug, clap::Args)]
pub struct TypesArgs {
    /// Compare instead of writing; exit 1 on drift.
    #[arg(long)]
    pub check: bool,
}

pub fn run(_ctx: &Ctx, _args: TypesArgs) -> CmdResult {
    Err(CommandError::msg(
        ExitStatus::Invalid,
        "fsi types is not implemented yet",
    ))
}
