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

/// Longest line (in bytes) miette is asked to show in a snippet.
pub const SNIPPET_MAX_LINE: usize = 4096;

/// Whether miette can show a snippet of `text` around `span`. Its graphical renderer pads to a
/// label's column with a format width, which Rust caps at 65,535 columns: a label further right
/// panics. A line that long is no use on a terminal anyway, so a diagnostic whose span sits on
/// a line longer than [`SNIPPET_MAX_LINE`] names its location in text instead of drawing it.
pub fn snippet_fits(text: &str, span: std::ops::Range<usize>) -> bool {
    let b = text.as_bytes();
    // Only as far as the limit each way: a long line is not scanned once per diagnostic.
    let fits = |at: usize| {
        let at = at.min(b.len());
        let lo = at.saturating_sub(SNIPPET_MAX_LINE + 1);
        let hi = (at + SNIPPET_MAX_LINE + 1).min(b.len());
        let start = match b[lo..at].iter().rposition(|&c| c == b'\n') {
            Some(i) => lo + i + 1,
            None if lo == 0 => 0,
            None => return false,
        };
        let end = match b[at..hi].iter().position(|&c| c == b'\n') {
            Some(i) => at + i,
            None if hi == b.len() => hi,
            None => return false,
        };
        end - start <= SNIPPET_MAX_LINE
    };
    span.start <= b.len()
        && text.is_char_boundary(span.start)
        && text.is_char_boundary(span.end.min(b.len()))
        && fits(span.start)
        && fits(span.end)
}

/// 1-based line and column (in characters) of a byte offset, for messages that cannot show a
/// snippet.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    // `str` searches (memchr) rather than byte loops: this runs once per located problem.
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..offset].chars().count() + 1;
    (line, col)
}
