//! The one session model all dialects are normalised into.

use std::ops::Range;
use std::path::PathBuf;

use serde::Serialize;

/// Which generation of the format a session was written in (detected, informational).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// v1.7: unfenced, text dependencies in `<metadata>`, raw `<git_commit>`.
    V1_7,
    /// v1.8: fenced, `<dependencies><requires>`, structured `<commit>`.
    V1_8,
    /// v1.10+: `effort`, `wave`, `gate_class`.
    V1_10,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::V1_7 => "v1.7",
            Dialect::V1_8 => "v1.8",
            Dialect::V1_10 => "v1.10",
        }
    }
}

/// Where something came from: file index in the [`crate::session::PlanSet`] and byte span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Loc {
    pub file: usize,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Metadata {
    pub title: Option<String>,
    pub working_directory: Option<String>,
    pub estimated_time: Option<String>,
    pub size: Option<String>,
    pub effort: Option<String>,
    pub wave: Option<i64>,
    pub phase: Option<String>,
    pub track: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DepKind {
    /// `<dependencies><requires>`.
    Requires,
    /// Legacy `<depends>` (accepted, warned).
    Depends,
    /// v1.7 free text in `<metadata><dependencies>`.
    MetadataText,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dependency {
    pub id: String,
    pub kind: DepKind,
    /// `requires@status` as written (annotation only; the edge always gates).
    pub status: Option<String>,
    #[serde(skip)]
    pub loc: Loc,
}

/// Timing knobs written on a gate or a check; unset ones fall back to fsi.toml.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timing {
    pub timeout: Option<f64>,
    pub retries: Option<u32>,
    pub interval: Option<f64>,
    pub max_backoff: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GateCheck {
    pub name: String,
    pub command: String,
    pub timing: Timing,
    #[serde(skip)]
    pub loc: Loc,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub enabled: bool,
    pub checks: Vec<GateCheck>,
    pub action_on_fail: Option<String>,
    pub timing: Timing,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodeSnippet {
    pub language: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: Option<String>,
    pub action: Option<String>,
    pub file: Option<String>,
    /// `<title>`, or the whole text of a bare `<task>text</task>`.
    pub title: String,
    pub description: Option<String>,
    /// An explicit shell command: `command` attribute or `<command>` child.
    pub command: Option<String>,
    pub code_snippet: Option<CodeSnippet>,
    pub find_marker: Option<String>,
    pub blocked_by: Vec<String>,
    pub timing: Timing,
    #[serde(skip)]
    pub loc: Loc,
}

impl Task {
    pub fn action_upper(&self) -> Option<String> {
        self.action.as_ref().map(|a| a.trim().to_ascii_uppercase())
    }

    /// Whether the task claims a file that must exist after it ran.
    pub fn produces_file(&self) -> bool {
        self.file.is_some()
            && matches!(
                self.action_upper().as_deref(),
                Some("CREATE" | "MODIFY" | "EDIT" | "EXTEND" | "REPLACE_PLACEHOLDER")
            )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GateClass {
    Machine,
    Fuzzy,
    Manual,
    Critical,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub command: Option<String>,
    /// The check's text: the expected outcome when there is a command, else prose.
    pub expected: String,
    pub gate_class: Option<GateClass>,
    pub timing: Timing,
    #[serde(skip)]
    pub loc: Loc,
}

#[derive(Debug, Clone, Serialize)]
pub struct ForbiddenPattern {
    pub pattern: String,
    pub reason: Option<String>,
    /// Literal code fragment (greppable) rather than a prose rule.
    pub literal: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Screenshot {
    pub id: Option<String>,
    pub name: String,
    pub state: Option<String>,
    pub viewport: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case", tag = "form")]
pub enum CommitSpec {
    Structured {
        r#type: String,
        scope: Option<String>,
        description: String,
        body: Option<String>,
    },
    /// v1.7 `<git_commit>`: the full message.
    Raw { message: String },
}

/// A background service a session needs (`<services><service name="backend"/></services>`): the
/// named entry of fsi.toml `[services]`, with any attributes written here overriding it. A
/// service with a `command` attribute needs no fsi.toml entry.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceUse {
    pub name: String,
    pub inline: crate::services::ServiceSpec,
    #[serde(skip)]
    pub loc: Loc,
}

#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub id: String,
    pub project: Option<String>,
    pub version: Option<String>,
    pub dialect: Dialect,
    pub meta: Metadata,
    pub deps: Vec<Dependency>,
    /// `requires` entries that are not session ids ("Pre-Implementation Setup"): manual
    /// preconditions, shown but not graph edges.
    pub preconditions: Vec<String>,
    pub gate: Option<Gate>,
    pub tasks: Vec<Task>,
    pub checks: Vec<Check>,
    pub forbidden: Vec<ForbiddenPattern>,
    /// `<forbidden paths="app/**/*.py, tests/**">`: globs (relative to the working directory)
    /// whose files are grepped for the literal patterns, besides the files the tasks touched.
    pub forbidden_paths: Vec<String>,
    pub screenshots: Vec<Screenshot>,
    /// Services started before the gate and stopped after the session.
    pub services: Vec<ServiceUse>,
    pub commit: Option<CommitSpec>,
    /// Elements fsi does not interpret (kept in SESSION.md through the raw XML).
    pub unknown_elements: Vec<String>,
    /// The session's original text, as written in the plan.
    #[serde(skip)]
    pub raw: String,
    #[serde(skip)]
    pub loc: Loc,
    /// Span of the `id` attribute value.
    #[serde(skip)]
    pub id_span: Range<usize>,
    pub source: PathBuf,
}

impl Session {
    pub fn title(&self) -> &str {
        self.meta.title.as_deref().unwrap_or("")
    }

    pub fn dep_ids(&self) -> impl Iterator<Item = &str> {
        self.deps.iter().map(|d| d.id.as_str())
    }
}
