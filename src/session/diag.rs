//! Plan diagnostics: every problem of every plan file, collected, then rendered at once with
//! file:line:col and a caret by miette.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, Severity, SourceCode};
use serde::Serialize;

use crate::error::{Classify, ExitStatus};

/// What kind of problem (stable codes, shown as `fsi::plan::<code>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    Io,
    Malformed,
    DuplicateId,
    UnknownDependency,
    Cycle,
    UnresolvedPlaceholder,
    InvalidValue,
    UnknownSession,
    UnknownService,
    OutsideProject,
    // Warnings:
    UnknownElement,
    LegacyDepends,
    Recovered,
    NoSessions,
}

impl ProblemKind {
    pub fn code(self) -> &'static str {
        match self {
            ProblemKind::Io => "io",
            ProblemKind::Malformed => "malformed",
            ProblemKind::DuplicateId => "duplicate-id",
            ProblemKind::UnknownDependency => "unknown-dependency",
            ProblemKind::Cycle => "cycle",
            ProblemKind::UnresolvedPlaceholder => "unresolved-placeholder",
            ProblemKind::InvalidValue => "invalid-value",
            ProblemKind::UnknownSession => "unknown-session",
            ProblemKind::UnknownService => "unknown-service",
            ProblemKind::OutsideProject => "outside-project",
            ProblemKind::UnknownElement => "unknown-element",
            ProblemKind::LegacyDepends => "legacy-depends",
            ProblemKind::Recovered => "recovered",
            ProblemKind::NoSessions => "no-sessions",
        }
    }

    pub fn is_error(self) -> bool {
        !matches!(
            self,
            ProblemKind::UnknownElement
                | ProblemKind::LegacyDepends
                | ProblemKind::Recovered
                | ProblemKind::NoSessions
        )
    }
}

/// A source file of the plan, shared by its problems.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    /// Path as shown in messages (relative to the project root when possible).
    pub display: String,
    pub text: Arc<String>,
    /// Offsets of the line starts, computed when first needed (a plan with 20,000 problems
    /// located each by a scan from the start of a 1 MB file).
    pub line_starts: Arc<std::sync::OnceLock<Vec<usize>>>,
}

impl SourceFile {
    pub fn new(path: PathBuf, display: String, text: String) -> SourceFile {
        SourceFile {
            path,
            display,
            text: Arc::new(text),
            line_starts: Arc::default(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let text = self.text.as_str();
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = starts.partition_point(|&s| s <= offset);
        let start = starts[line - 1];
        (line, text[start..offset].chars().count() + 1)
    }
}

/// One problem in a plan.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
    /// Index into the plan's file list; `None` for problems without a location.
    #[serde(skip)]
    pub file: Option<usize>,
    #[serde(skip)]
    pub span: Option<Range<usize>>,
    pub label: Option<String>,
    pub help: Option<String>,
    /// Other places involved (the first definition of a duplicate id, the cycle's edges).
    #[serde(skip)]
    pub related: Vec<(usize, Range<usize>, String)>,
    /// Filled when the problem is serialized: `file:line:col`.
    pub location: Option<String>,
}

impl Problem {
    pub fn new(kind: ProblemKind, message: impl Into<String>) -> Problem {
        Problem {
            kind,
            message: message.into(),
            file: None,
            span: None,
            label: None,
            help: None,
            related: Vec::new(),
            location: None,
        }
    }

    pub fn at(mut self, file: usize, span: Range<usize>, label: impl Into<String>) -> Problem {
        self.file = Some(file);
        self.span = Some(span);
        self.label = Some(label.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }

    pub fn also(mut self, file: usize, span: Range<usize>, label: impl Into<String>) -> Problem {
        self.related.push((file, span, label.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.kind.is_error()
    }
}

/// A renderable single problem (miette needs one source per diagnostic).
#[derive(Debug)]
pub struct ProblemDiagnostic {
    problem: Problem,
    source: Option<NamedSource<Arc<String>>>,
    labels: Vec<LabeledSpan>,
}

impl std::fmt::Display for ProblemDiagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.problem.message)
    }
}

impl std::error::Error for ProblemDiagnostic {}

impl Diagnostic for ProblemDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(format!("fsi::plan::{}", self.problem.kind.code())))
    }

    fn severity(&self) -> Option<Severity> {
        Some(if self.problem.is_error() {
            Severity::Error
        } else {
            Severity::Warning
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.problem
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}

/// Related places drawn (or named) per diagnostic.
pub const MAX_RELATED: usize = 20;

/// Turn a problem into something miette renders. Related spans in the same file become extra
/// labels.
pub fn to_diagnostic(problem: &Problem, files: &[SourceFile]) -> ProblemDiagnostic {
    let mut labels = Vec::new();
    let mut problem = problem.clone();
    let text = problem.file.and_then(|f| files.get(f)).map(|f| &f.text);
    let fits =
        |span: &Range<usize>| text.is_some_and(|t| crate::error::snippet_fits(t, span.clone()));
    // A span on a line too long to draw is named in the help instead (see `snippet_fits`).
    let drawn = problem.span.as_ref().is_none_or(fits);
    let mut notes: Vec<String> = Vec::new();
    if !drawn && let (Some(f), Some(span)) = (problem.file, problem.span.as_ref()) {
        notes.push(format!(
            "{} at {} (the line is too long to show)",
            problem.label.as_deref().unwrap_or("here"),
            location(files, f, span.start)
        ));
    }
    let source = problem
        .file
        .and_then(|f| files.get(f))
        .filter(|_| drawn)
        .map(|f| NamedSource::new(f.display.clone(), Arc::clone(&f.text)).with_language("xml"));
    if drawn && let (Some(f), Some(span)) = (problem.file, problem.span.as_ref()) {
        labels.push(LabeledSpan::new_primary_with_span(
            problem.label.clone(),
            span.start..span.end,
        ));
        for (rf, rspan, rlabel) in problem.related.iter().take(MAX_RELATED) {
            if *rf == f && fits(rspan) {
                labels.push(LabeledSpan::new_with_span(
                    Some(rlabel.clone()),
                    rspan.start..rspan.end,
                ));
            }
        }
    }
    // Related places in other files (or not drawn) are named in the help text instead.
    notes.extend(
        problem
            .related
            .iter()
            .take(MAX_RELATED)
            .filter(|(rf, rspan, _)| !drawn || Some(*rf) != problem.file || !fits(rspan))
            .map(|(rf, span, label)| format!("{label} at {}", location(files, *rf, span.start))),
    );
    // A cycle of 20,000 sessions: its first places are drawn, the rest counted.
    if problem.related.len() > MAX_RELATED {
        notes.push(format!(
            "… and {} more places",
            problem.related.len() - MAX_RELATED
        ));
    }
    if !notes.is_empty() {
        let extra = notes.join("; ");
        problem.help = Some(match problem.help.take() {
            Some(h) => format!("{h}\n{extra}"),
            None => extra,
        });
    }
    ProblemDiagnostic {
        problem,
        source,
        labels,
    }
}

/// `path:line:col` of an offset.
pub fn location(files: &[SourceFile], file: usize, offset: usize) -> String {
    let f = &files[file];
    let (l, c) = f.line_col(offset);
    format!("{}:{l}:{c}", f.display)
}

/// The error a command returns for an invalid plan: all problems, rendered one after another.
#[derive(Debug, thiserror::Error)]
#[error("{summary}")]
pub struct PlanError {
    pub summary: String,
    pub diagnostics: Vec<ProblemDiagnostic>,
}

impl Diagnostic for PlanError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("fsi::plan::invalid"))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(
            self.diagnostics.iter().map(|d| d as &dyn Diagnostic),
        ))
    }
}

impl Classify for PlanError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Invalid
    }
}

/// Diagnostics drawn per command (each drawing reads its file from the start); the rest are
/// counted, and `fsi sessions validate --json` lists them all.
pub const MAX_DRAWN: usize = 100;

impl PlanError {
    pub fn new(problems: &[Problem], files: &[SourceFile]) -> PlanError {
        let errors = problems.iter().filter(|p| p.is_error()).count();
        let more = errors.saturating_sub(MAX_DRAWN);
        PlanError {
            summary: format!(
                "the session plan is invalid: {errors} error{}{}",
                if errors == 1 { "" } else { "s" },
                if more > 0 {
                    format!(" ({more} not shown: `fsi sessions validate --json` lists them all)")
                } else {
                    String::new()
                }
            ),
            diagnostics: problems
                .iter()
                .filter(|p| p.is_error())
                .take(MAX_DRAWN)
                .map(|p| to_diagnostic(p, files))
                .collect(),
        }
    }
}

/// Render problems deterministically (no colour, ASCII, fixed width) — used by snapshot tests
/// and by anything that needs stable text.
pub fn render_plain(problems: &[Problem], files: &[SourceFile]) -> String {
    let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::none())
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for p in problems.iter().take(MAX_DRAWN) {
        let d = to_diagnostic(p, files);
        let _ = handler.render_report(&mut out, &d);
    }
    if problems.len() > MAX_DRAWN {
        out.push_str(&format!(
            "… {} more problems not shown\n",
            problems.len() - MAX_DRAWN
        ));
    }
    out
}
