//! Scanned element trees → [`Session`]s, normalising the three dialects.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::diag::{Problem, ProblemKind};
use super::model::*;
use super::scan::{Block, Node, find_sessions};

/// Session id grammar (guide §2.1) plus the template form `FE-{N}`.
pub static ID_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Z][A-Z0-9]*(-[A-Za-z0-9]+)*-(\d+[a-z]?|\{[A-Za-z_-]+(?:[+-]\d+)?\})$").unwrap()
});

/// Session ids inside free text (v1.7 metadata dependencies).
static ID_IN_TEXT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d+[a-z]?\b").unwrap());

/// Elements fsi knows and deliberately does not execute (prose, agent configuration).
const PROSE_ELEMENTS: &[&str] = &[
    "context",
    "constraints",
    "skills",
    "system_config",
    "system_configuration",
    "libraries",
    "subagents",
    "file_templates",
    "success_criteria",
    "verification_steps",
    "screen_reference",
    "component_checklist",
    "state_requirements",
    "responsive_requirements",
    "ultrathink_instructions",
    "execution",
    "objective",
    "deliverables",
    "notes",
    "prompt",
    "expected_output",
    "rollback",
];

/// Recovered-problem warnings reported per session block (the rest are counted).
const MAX_RECOVERED: usize = 50;

/// Parse every session of one file. Problems (errors and warnings) are appended to `problems`.
pub fn parse_file(
    file: usize,
    path: &Path,
    src: &str,
    problems: &mut Vec<Problem>,
) -> Vec<Session> {
    let (blocks, issues) = find_sessions(src);
    for issue in issues {
        problems.push(
            Problem::new(ProblemKind::Malformed, issue.message.clone()).at(
                file,
                issue.span,
                "this block",
            ),
        );
    }
    blocks
        .iter()
        .map(|b| parse_block(file, path, src, b, problems))
        .collect()
}

fn parse_block(
    file: usize,
    path: &Path,
    src: &str,
    block: &Block,
    problems: &mut Vec<Problem>,
) -> Session {
    let root = &block.root;
    for issue in &block.errors {
        problems.push(
            Problem::new(ProblemKind::Malformed, issue.message.clone()).at(
                file,
                issue.span.clone(),
                "too deep",
            ),
        );
    }
    // A block of thousands of unclosed tags would otherwise bury everything else (and each
    // warning is located and rendered on its own).
    for issue in block.recovered.iter().take(MAX_RECOVERED) {
        problems.push(
            Problem::new(ProblemKind::Recovered, issue.message.clone()).at(
                file,
                issue.span.clone(),
                "here",
            ),
        );
    }
    if block.recovered.len() > MAX_RECOVERED {
        let more = block.recovered.len() - MAX_RECOVERED;
        problems.push(
            Problem::new(
                ProblemKind::Recovered,
                format!("… and {more} more recovered problems in this session block"),
            )
            .at(file, root.tag_span.clone(), "this block"),
        );
    }
    let id_attr = root.attr("id").expect("blocks have an id");
    let mut s = Session {
        id: id_attr.value.trim().to_string(),
        project: root.attr_value("project").map(str::to_string),
        version: root.attr_value("version").map(str::to_string),
        dialect: Dialect::V1_8,
        meta: Metadata::default(),
        deps: Vec::new(),
        preconditions: Vec::new(),
        gate: None,
        tasks: Vec::new(),
        checks: Vec::new(),
        forbidden: Vec::new(),
        screenshots: Vec::new(),
        services: Vec::new(),
        forbidden_paths: Vec::new(),
        commit: None,
        unknown_elements: Vec::new(),
        raw: src[root.span.clone()].to_string(),
        loc: Loc {
            file,
            span: root.span.clone(),
        },
        id_span: id_attr.span.clone(),
        source: path.to_path_buf(),
    };
    let mut v17 = false;
    let mut v110 = s.version.is_some();
    let loc = |n: &Node| Loc {
        file,
        span: n.tag_span.clone(),
    };

    for child in &root.children {
        match child.name {
            "metadata" => {
                for m in &child.children {
                    let text = m.trimmed().to_string();
                    let val = (!text.is_empty()).then(|| text.clone());
                    match m.name {
                        "title" => s.meta.title = val,
                        "session_id" => v17 = true,
                        "working_directory" => s.meta.working_directory = val,
                        "estimated_time" | "duration" => s.meta.estimated_time = val,
                        "size" => s.meta.size = val.map(|v| normalise_size(&v)),
                        "effort" => {
                            v110 = true;
                            s.meta.effort = val
                        }
                        "wave" => {
                            v110 = true;
                            match text.parse() {
                                Ok(w) => s.meta.wave = Some(w),
                                Err(_) => problems.push(
                                    Problem::new(
                                        ProblemKind::InvalidValue,
                                        format!("wave must be an integer, found `{text}`"),
                                    )
                                    .at(
                                        file,
                                        m.inner.clone(),
                                        "not an integer",
                                    ),
                                ),
                            }
                        }
                        "phase" => s.meta.phase = val,
                        "track" => s.meta.track = val,
                        "dependencies" => {
                            v17 = true;
                            text_deps(&mut s, file, m, src);
                        }
                        "execution" => {}
                        other => s.unknown_elements.push(format!("metadata/{other}")),
                    }
                }
            }
            "dependencies" | "depends" => {
                if child.name == "dependencies"
                    && child.children.is_empty()
                    && !child.trimmed().is_empty()
                {
                    text_deps(&mut s, file, child, src);
                }
                if child.name == "depends" {
                    legacy_depends(&mut s, file, child, problems);
                }
                for r in &child.children {
                    match r.name {
                        "requires" => push_dep(
                            &mut s,
                            r.trimmed(),
                            DepKind::Requires,
                            r.attr_value("status"),
                            Loc {
                                file,
                                span: r.inner.clone(),
                            },
                        ),
                        "depends" => legacy_depends(&mut s, file, r, problems),
                        other => s.unknown_elements.push(format!("dependencies/{other}")),
                    }
                }
            }
            "integration_gate" => {
                let enabled = child
                    .attr_value("enabled")
                    .is_none_or(|v| v.trim().eq_ignore_ascii_case("true"));
                let mut gate = Gate {
                    enabled,
                    checks: Vec::new(),
                    action_on_fail: None,
                    timing: timing(child, file, problems),
                };
                for (i, c) in child.children.iter().enumerate() {
                    match c.name {
                        "check" => {
                            let command = c
                                .attr_value("command")
                                .map(str::to_string)
                                .unwrap_or_else(|| c.trimmed().to_string());
                            if command.is_empty() {
                                problems.push(
                                    Problem::new(
                                        ProblemKind::Malformed,
                                        "integration gate check has no command",
                                    )
                                    .at(
                                        file,
                                        c.tag_span.clone(),
                                        "empty check",
                                    ),
                                );
                            }
                            gate.checks.push(GateCheck {
                                name: c
                                    .attr_value("name")
                                    .map(str::to_string)
                                    .unwrap_or_else(|| format!("check-{}", i + 1)),
                                command,
                                timing: timing(c, file, problems),
                                loc: loc(c),
                            });
                        }
                        "action_on_fail" => {
                            gate.action_on_fail = Some(c.trimmed().to_string());
                        }
                        other => s.unknown_elements.push(format!("integration_gate/{other}")),
                    }
                }
                s.gate = Some(gate);
            }
            "tasks" => {
                for t in &child.children {
                    if t.name != "task" {
                        s.unknown_elements.push(format!("tasks/{}", t.name));
                        continue;
                    }
                    s.tasks.push(parse_task(t, file, src, problems));
                }
            }
            "verification" => {
                for c in &child.children {
                    if c.name != "check" {
                        s.unknown_elements.push(format!("verification/{}", c.name));
                        continue;
                    }
                    let gate_class = match c.attr_value("gate_class").map(str::trim) {
                        None => None,
                        Some(v) => {
                            v110 = true;
                            match v.to_ascii_lowercase().as_str() {
                                "machine" => Some(GateClass::Machine),
                                "fuzzy" => Some(GateClass::Fuzzy),
                                "manual" => Some(GateClass::Manual),
                                "critical" => Some(GateClass::Critical),
                                _ => {
                                    problems.push(
                                        Problem::new(
                                            ProblemKind::InvalidValue,
                                            format!("unknown gate_class `{v}`"),
                                        )
                                        .at(
                                            file,
                                            c.attr("gate_class").unwrap().span.clone(),
                                            "expected machine, fuzzy, manual or critical",
                                        ),
                                    );
                                    None
                                }
                            }
                        }
                    };
                    let name = c
                        .attr_value("name")
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("check-{}", s.checks.len() + 1));
                    s.checks.push(Check {
                        name,
                        command: c
                            .attr_value("command")
                            .map(|v| v.trim().to_string())
                            .filter(|v| !v.is_empty()),
                        expected: c.deep_text(src).trim().to_string(),
                        gate_class,
                        timing: timing(c, file, problems),
                        loc: loc(c),
                    });
                }
            }
            "forbidden" => {
                if let Some(paths) = child.attr_value("paths") {
                    for g in paths.split(',').map(str::trim).filter(|g| !g.is_empty()) {
                        if let Err(e) = globset::Glob::new(g) {
                            problems.push(
                                Problem::new(
                                    ProblemKind::InvalidValue,
                                    format!("forbidden paths: `{g}` is not a glob: {e}"),
                                )
                                .at(
                                    file,
                                    child.tag_span.clone(),
                                    "bad glob",
                                ),
                            );
                        }
                        s.forbidden_paths.push(g.to_string());
                    }
                }
                for p in &child.children {
                    if p.name != "pattern" {
                        continue;
                    }
                    let pattern = p.trimmed().to_string();
                    let literal = match p.attr_value("kind") {
                        Some(k) if k.eq_ignore_ascii_case("literal") => true,
                        Some(k) if k.eq_ignore_ascii_case("prose") => false,
                        _ => looks_literal(&pattern),
                    };
                    if !pattern.is_empty() {
                        s.forbidden.push(ForbiddenPattern {
                            pattern,
                            reason: p.attr_value("reason").map(str::to_string),
                            literal,
                        });
                    }
                }
            }
            "services" => {
                for sv in child.children_named("service") {
                    let Some(name) = sv
                        .attr_value("name")
                        .map(str::trim)
                        .filter(|n| !n.is_empty())
                    else {
                        problems.push(
                            Problem::new(ProblemKind::Malformed, "<service> needs a name").at(
                                file,
                                sv.tag_span.clone(),
                                "no name",
                            ),
                        );
                        continue;
                    };
                    let text = |n: &str| sv.attr_value(n).map(|v| v.trim().to_string());
                    let port = match sv.attr_value("port").map(str::trim) {
                        None => None,
                        Some(v) => match v.parse::<u16>() {
                            Ok(p) => Some(p),
                            Err(_) => {
                                problems.push(
                                    Problem::new(
                                        ProblemKind::InvalidValue,
                                        format!("service port `{v}` is not a port number"),
                                    )
                                    .at(
                                        file,
                                        sv.tag_span.clone(),
                                        "bad port",
                                    ),
                                );
                                None
                            }
                        },
                    };
                    s.services.push(ServiceUse {
                        name: name.to_string(),
                        inline: crate::services::ServiceSpec {
                            command: text("command").unwrap_or_default(),
                            cwd: text("cwd").map(Into::into),
                            port,
                            ready: text("ready"),
                            ready_timeout: text("ready_timeout"),
                            log: text("log").map(Into::into),
                            ..Default::default()
                        },
                        loc: loc(sv),
                    });
                }
            }
            "visual_verification" => {
                for sc in child.children_named("screenshot") {
                    if let Some(name) = sc.attr_value("name") {
                        s.screenshots.push(Screenshot {
                            id: sc.attr_value("id").map(str::to_string),
                            name: name.to_string(),
                            state: sc.attr_value("state").map(str::to_string),
                            viewport: sc.attr_value("viewport").map(str::to_string),
                        });
                    }
                }
            }
            "commit" => {
                let get = |n: &str| {
                    child
                        .child(n)
                        .map(|c| c.trimmed().to_string())
                        .filter(|t| !t.is_empty())
                };
                match (get("type"), get("description")) {
                    (Some(t), Some(d)) => {
                        s.commit = Some(CommitSpec::Structured {
                            r#type: t,
                            scope: get("scope"),
                            description: d,
                            body: get("body"),
                        })
                    }
                    _ => problems.push(
                        Problem::new(
                            ProblemKind::Malformed,
                            "<commit> needs <type> and <description>",
                        )
                        .at(
                            file,
                            child.tag_span.clone(),
                            "incomplete commit",
                        ),
                    ),
                }
            }
            "git_commit" => {
                v17 = true;
                let message = dedent(child.text.trim_matches('\n')).trim().to_string();
                s.commit = Some(CommitSpec::Raw { message });
            }
            name if PROSE_ELEMENTS.contains(&name) => {}
            other => s.unknown_elements.push(other.to_string()),
        }
    }
    // One warning per kind of unknown element (the first of each; a block of 20,000 of them
    // made as many warnings, each located by a scan of the block's children).
    let mut first_child: std::collections::HashMap<&str, &Node> = Default::default();
    for c in &root.children {
        first_child.entry(c.name).or_insert(c);
    }
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<&String> = s
        .unknown_elements
        .iter()
        .filter(|u| seen.insert(u.as_str()))
        .collect();
    for (k, u) in distinct.iter().enumerate() {
        if k == MAX_RECOVERED {
            problems.push(
                Problem::new(
                    ProblemKind::UnknownElement,
                    format!(
                        "… and {} more kinds of unknown element in session {}",
                        distinct.len() - k,
                        s.id
                    ),
                )
                .at(file, root.tag_span.clone(), "this session"),
            );
            break;
        }
        let last = u.rsplit('/').next().unwrap_or(u);
        let span = first_child
            .get(last)
            .map(|c| c.tag_span.clone())
            .unwrap_or_else(|| root.tag_span.clone());
        problems.push(
            Problem::new(
                ProblemKind::UnknownElement,
                format!(
                    "unknown element <{u}> in session {} is kept but not interpreted",
                    s.id
                ),
            )
            .at(file, span, "not interpreted"),
        );
    }
    s.dialect = if v17 {
        Dialect::V1_7
    } else if v110 {
        Dialect::V1_10
    } else {
        Dialect::V1_8
    };
    if s.meta.title.is_none() {
        s.meta.title = heading_title(src, root.span.start, &s.id);
    }
    s
}

fn parse_task(t: &Node, file: usize, src: &str, problems: &mut Vec<Problem>) -> Task {
    let get = |n: &str| {
        t.child(n)
            .map(|c| c.text.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let title = get("title").unwrap_or_else(|| {
        if t.children.is_empty() {
            t.trimmed().to_string()
        } else {
            t.deep_text(src)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        }
    });
    let command = t
        .attr_value("command")
        .map(str::to_string)
        .or_else(|| get("command"));
    let title = if title.is_empty() {
        command.clone().unwrap_or_default()
    } else {
        title
    };
    let code_snippet = t.child("code_snippet").map(|c| CodeSnippet {
        language: c.attr_value("language").map(str::to_string),
        text: dedent_snippet(&c.text),
    });
    Task {
        id: t.attr_value("id").map(str::to_string),
        action: t.attr_value("action").map(str::to_string),
        file: t
            .attr_value("file")
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty()),
        title,
        description: get("description"),
        command,
        code_snippet,
        find_marker: t.child("find_marker").map(|c| c.text.trim().to_string()),
        blocked_by: t
            .attr_value("blocked_by")
            .map(|b| {
                b.split([',', ' '])
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        timing: timing(t, file, problems),
        loc: Loc {
            file,
            span: t.tag_span.clone(),
        },
    }
}

fn push_dep(s: &mut Session, text: &str, kind: DepKind, status: Option<&str>, loc: Loc) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    if ID_RE.is_match(text) {
        if !s.deps.iter().any(|d| d.id == text) {
            s.deps.push(Dependency {
                id: text.to_string(),
                kind,
                status: status.map(str::to_string),
                loc,
            });
        }
    } else {
        s.preconditions.push(text.to_string());
    }
}

/// v1.7 `<dependencies>None (parallel with SOL-01)</dependencies>` / `SOL-01, SOL-02`.
fn text_deps(s: &mut Session, file: usize, node: &Node, src: &str) {
    let text = node.trimmed();
    if text.is_empty() || text.to_ascii_lowercase().starts_with("none") {
        return;
    }
    // Parenthesised remarks are commentary, not edges: blank them out (keeping offsets).
    let raw = &src[node.inner.clone()];
    let mut depth = 0usize;
    let masked: String = raw
        .chars()
        .map(|c| match c {
            '(' => {
                depth += 1;
                ' '
            }
            ')' => {
                depth = depth.saturating_sub(1);
                ' '
            }
            c if depth > 0 => {
                if c.is_ascii() {
                    ' '
                } else {
                    c
                }
            }
            c => c,
        })
        .collect();
    for m in ID_IN_TEXT.find_iter(&masked) {
        let start = node.inner.start + m.start();
        push_dep(
            s,
            m.as_str(),
            DepKind::MetadataText,
            None,
            Loc {
                file,
                span: start..start + m.len(),
            },
        );
    }
}

fn legacy_depends(s: &mut Session, file: usize, node: &Node, problems: &mut Vec<Problem>) {
    let text = node.trimmed();
    if text.is_empty() {
        return;
    }
    problems.push(
        Problem::new(
            ProblemKind::LegacyDepends,
            format!(
                "<depends> is the legacy ordering-only form; treated as <requires>{text}</requires>"
            ),
        )
        .at(file, node.tag_span.clone(), "legacy")
        .help("write <dependencies><requires status=\"complete\">ID</requires></dependencies>"),
    );
    for part in text.split(',') {
        push_dep(
            s,
            part,
            DepKind::Depends,
            None,
            Loc {
                file,
                span: node.inner.clone(),
            },
        );
    }
}

fn timing(n: &Node, file: usize, problems: &mut Vec<Problem>) -> Timing {
    let mut t = Timing::default();
    for (name, slot) in [
        ("timeout", &mut t.timeout),
        ("interval", &mut t.interval),
        ("max_backoff", &mut t.max_backoff),
    ] {
        if let Some(a) = n.attr(name) {
            match parse_duration(&a.value) {
                Some(d) => *slot = Some(d),
                None => problems.push(
                    Problem::new(
                        ProblemKind::InvalidValue,
                        format!(
                            "{name} must be a duration like `30s`, `500ms` or `2m`, found `{}`",
                            a.value
                        ),
                    )
                    .at(file, a.span.clone(), "not a duration"),
                ),
            }
        }
    }
    if let Some(a) = n.attr("retries") {
        match a.value.trim().parse() {
            Ok(r) => t.retries = Some(r),
            Err(_) => problems.push(
                Problem::new(
                    ProblemKind::InvalidValue,
                    format!(
                        "retries must be a non-negative integer, found `{}`",
                        a.value
                    ),
                )
                .at(file, a.span.clone(), "not an integer"),
            ),
        }
    }
    t
}

/// `30`, `30s`, `500ms`, `2m`, `1h`, `1.5s` → seconds.
pub fn parse_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v * mult)
}

fn normalise_size(v: &str) -> String {
    let lower = v.to_lowercase();
    for k in ["quick", "medium", "heavy"] {
        if lower.contains(k) {
            return k.to_string();
        }
    }
    v.to_string()
}

/// Literal code fragment (greppable) versus prose rule (guide §5.1).
pub fn looks_literal(p: &str) -> bool {
    let punct = [
        '(', ')', ':', '{', '}', '.', '=', '[', ']', '?', ';', '"', '\'', '<', '>',
    ];
    if p.contains(punct) || p.contains("//") {
        return true;
    }
    let words = p.split_whitespace().count();
    let starts_upper = p.chars().next().is_some_and(char::is_uppercase);
    words <= 2 && !starts_upper
}

/// The title from the nearest Markdown heading above the block that names the id:
/// `### INT-01 Session: Type Generation`, `## Session SOL-02: Parser`.
fn heading_title(src: &str, block_start: usize, id: &str) -> Option<String> {
    let before = &src[..block_start];
    for line in before.lines().rev().take(15) {
        let l = line.trim();
        if l.starts_with('#') && l.contains(id) {
            let t = l.trim_start_matches('#').replacen(id, "", 1);
            let t = t
                .trim()
                .trim_start_matches("Session")
                .trim_start_matches("session");
            let t = t.trim_matches(|c: char| c.is_whitespace() || ":-—–|".contains(c));
            let t = t
                .trim_start_matches("Session")
                .trim_matches(|c: char| c.is_whitespace() || ":-—–|".contains(c));
            return (!t.is_empty()).then(|| t.to_string());
        }
        if l.starts_with("</session>") {
            break;
        }
    }
    None
}

/// Remove the common leading indentation (snippets are indented to the XML's level).
pub fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A code snippet as file content: leading/trailing blank lines removed, dedented, one final
/// newline.
fn dedent_snippet(text: &str) -> String {
    let trimmed = text.trim_end();
    let start = trimmed
        .char_indices()
        .take_while(|(_, c)| c.is_whitespace())
        .filter(|(_, c)| *c == '\n')
        .last()
        .map_or(0, |(i, _)| i + 1);
    let mut out = dedent(&trimmed[start..]);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> (Session, Vec<Problem>) {
        let mut p = Vec::new();
        let mut v = parse_file(0, Path::new("t.xml"), src, &mut p);
        assert_eq!(v.len(), 1, "{p:?}");
        (v.remove(0), p)
    }

    #[test]
    fn v17_text_dependencies() {
        let (s, _) = one(
            "<session id=\"SOL-03\"><metadata><session_id>SOL-03</session_id><dependencies>SOL-01, SOL-02 (parallel with SOL-09)</dependencies></metadata></session>",
        );
        assert_eq!(s.dep_ids().collect::<Vec<_>>(), ["SOL-01", "SOL-02"]);
        assert_eq!(s.dialect, Dialect::V1_7);
        let (s, _) = one(
            "<session id=\"SOL-03\"><metadata><dependencies>None (parallel with SOL-01)</dependencies></metadata></session>",
        );
        assert!(s.deps.is_empty());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(0.5));
        assert_eq!(parse_duration("2m"), Some(120.0));
        assert_eq!(parse_duration("7"), Some(7.0));
        assert_eq!(parse_duration("x"), None);
    }

    #[test]
    fn literal_patterns() {
        assert!(looks_literal("print("));
        assert!(looks_literal("pip install"));
        assert!(looks_literal("except: pass"));
        assert!(!looks_literal("Database queries in controller"));
        assert!(!looks_literal("single file with all logic"));
    }

    #[test]
    fn title_from_heading() {
        let (s, _) = one(
            "### INT-01 Session: Type Generation\n\n```xml\n<session id=\"INT-01\">\n</session>\n```\n",
        );
        assert_eq!(s.title(), "Type Generation");
    }

    #[test]
    fn snippet_is_dedented() {
        assert_eq!(dedent_snippet("\n    a\n      b\n    "), "a\n  b\n");
    }
}
