//! The only module that talks to the user: plain lines, diagnostics, prompts and progress.
//!
//! Rules: no TTY means no prompt and no spinner; `GITHUB_ACTIONS` turns groups into
//! `::group::` / `::endgroup::` lines.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::IsTerminal;

#[derive(Debug, Clone)]
pub struct Ui {
    /// stderr is a terminal: progress bars and prompts are allowed.
    pub interactive: bool,
    pub quiet: bool,
    pub github_actions: bool,
}

impl Ui {
    pub fn from_env(quiet: bool) -> Ui {
        Ui {
            interactive: std::io::stderr().is_terminal() && std::io::stdin().is_terminal(),
            quiet,
            github_actions: std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
        }
    }

    /// A non-interactive Ui, for tests.
    pub fn plain() -> Ui {
        Ui {
            interactive: false,
            quiet: false,
            github_actions: false,
        }
    }

    /// Machine-readable or primary output (JSON, lists): always stdout, never suppressed.
    pub fn out(&self, line: impl AsRef<str>) {
        println!("{}", line.as_ref());
    }

    /// Whether progress output (info lines, groups, bars) is all suppressed: `--quiet` outside
    /// GitHub Actions. Callers may then skip building the lines at all.
    pub fn silent(&self) -> bool {
        self.quiet && !self.github_actions
    }

    /// Human progress information: stderr, suppressed by `--quiet`.
    pub fn info(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }

    pub fn warn(&self, line: impl AsRef<str>) {
        eprintln!("warning: {}", line.as_ref());
    }

    /// Render a diagnostic (miette) to stderr.
    pub fn report(&self, report: &miette::Report) {
        // Rendered first, written once: miette writes a snippet a character at a time, and
        // stderr is unbuffered (a system call per character).
        let text = format!("{report:?}");
        eprintln!("{text}");
    }

    pub fn group_start(&self, title: &str) {
        if self.github_actions {
            println!("::group::{title}");
        } else if !self.quiet {
            eprintln!("==> {title}");
        }
    }

    pub fn group_end(&self) {
        if self.github_actions {
            println!("::endgroup::");
        }
    }

    /// A spinner/bar on a TTY, hidden otherwise.
    pub fn progress(&self, len: Option<u64>) -> indicatif::ProgressBar {
        if !self.interactive || self.quiet {
            return indicatif::ProgressBar::hidden();
        }
        match len {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::new_spinner(),
        }
    }
}
