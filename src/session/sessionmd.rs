//! SESSION.md: fsi's own stable format — a machine-readable header, the original session XML,
//! and a notes section; reset to "Session Complete" when the session is done.

use super::model::Session;

pub fn active(s: &Session, started: &str, workdir: &str, source: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!("# Current Session: {}", s.id));
    if !s.title().is_empty() {
        out.push_str(&format!(" - {}", s.title()));
    }
    out.push_str("\n\n");
    out.push_str(&format!("- id: {}\n", s.id));
    if let Some(p) = &s.project {
        out.push_str(&format!("- project: {p}\n"));
    }
    out.push_str(&format!("- started: {started}\n"));
    out.push_str(&format!("- working_directory: {workdir}\n"));
    out.push_str(&format!("- loaded_from: {source}\n"));
    let deps: Vec<&str> = s.dep_ids().collect();
    out.push_str(&format!("- dependencies: [{}]\n", deps.join(", ")));
    out.push_str("\n## Session\n\n```xml\n");
    out.push_str(s.raw.trim_end());
    out.push_str("\n```\n\n## Session Notes\n\n");
    out
}

pub fn complete(s: &Session, hash: &str, at: &str, ready: &[String]) -> String {
    let mut out = format!(
        "# Session Complete\n\n- last: {}{}\n- completed: {at}\n- commit: {hash}\n",
        s.id,
        if s.title().is_empty() {
            String::new()
        } else {
            format!(" - {}", s.title())
        }
    );
    out.push_str("\n## Next\n\n");
    if ready.is_empty() {
        out.push_str("No session is ready to start.\n");
    } else {
        for r in ready {
            out.push_str(&format!("- {r}\n"));
        }
    }
    out
}

/// Append a timestamped note under "## Session Notes" (created when missing).
pub fn append_note(existing: &str, at: &str, note: &str) -> String {
    let mut out = existing.to_string();
    if !out.contains("## Session Notes") {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("\n## Session Notes\n\n");
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("- {at}: {note}\n"));
    out
}
