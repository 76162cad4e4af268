//! Exit statuses and the error type the command layer turns into a diagnostic and an exit code.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | something ran and failed: a gate, task or check; type drift found by `--check` |
//! | 2 | invalid input or usage: a bad plan, a bad DTO, a bad `fsi.toml`, an unknown flag |
//! | 3 | refused: a precondition is not met (dependencies incomplete, target not empty, a user edit would be overwritten) |
//! | 130 | interrupted (SIGINT/SIGTERM); nothing is recorded complete |

use std::fmt;

/// The documented exit statuses of every fsi command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExitStatus {
    Success = 0,
    Failure = 1,
    Invalid = 2,
    Refused = 3,
    Interrupted = 130,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Every engine error says which exit status it deserves.
pub trait Classify {
    fn exit_status(&self) -> ExitStatus;
}

/// An error on its way out of a command: what to show and how to exit.
pub struct CommandError {
    pub status: ExitStatus,
    pub report: miette::Report,
}

impl CommandError {
    pub fn new(status: ExitStatus, report: impl Into<miette::Report>) -> Self {
        CommandError {
            status,
            report: report.into(),
        }
    }

    /// A plain message with an exit status, for errors that have no source span.
    pub fn msg(status: ExitStatus, message: impl fmt::Display) -> Self {
        CommandError::new(status, miette::miette!("{message}"))
    }
}

impl fmt::Debug for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({:?})", self.report, self.status)
    }
}

impl<E> From<E> for CommandError
where
    E: miette::Diagnostic + Classify + Send + Sync + 'static,
{
    fn from(err: E) -> Self {
        let status = err.exit_status();
        CommandError::new(status, miette::Report::new(err))
    }
}

/// What every command returns: the exit status on success paths (a run whose checks failed
/// returns `Ok(ExitStatus::Failure)` after reporting), or an error to render.
pub type CmdResult = Result<ExitStatus, CommandError>;
