//! PROGRESS.md, updated in place: tables are found by their header names (at least `Session` and
//! `Status`), only the target row's named cells change, every other byte stays as it was.

use std::path::{Path, PathBuf};

/// Columns fsi may write, by header name (case-insensitive).
#[derive(Debug, Clone, Default)]
pub struct RowUpdate {
    pub status: Option<String>,
    pub started: Option<String>,
    pub completed: Option<String>,
    pub commit: Option<String>,
    /// Only fill `Started` when the cell is empty or a dash (a re-run keeps the first start).
    pub started_if_empty: bool,
}

pub const COMPLETE: &str = "✅ Complete";
pub const ACTIVE: &str = "🔄 Active";
pub const PENDING: &str = "⬜ Pending";
pub const EMPTY: &str = "—";

/// Find the PROGRESS file: the configured one, else the first `*PROGRESS*.md` in
/// `docs/progress/`, `docs/`, the root.
pub fn discover(root: &Path, configured: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = configured {
        let p = root.join(p);
        return p.is_file().then_some(p);
    }
    for dir in ["docs/progress", "docs", "."] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut names: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && p.extension().is_some_and(|e| e == "md")
                    && p.file_name()
                        .is_some_and(|n| n.to_string_lossy().to_uppercase().contains("PROGRESS"))
            })
            .collect();
        names.sort();
        if let Some(first) = names.into_iter().next() {
            return Some(first);
        }
    }
    None
}

/// Split a table line into cells (between unescaped pipes), keeping the raw cell text.
fn cells(line: &str) -> Option<(String, Vec<String>, String)> {
    let trimmed_start = line.len() - line.trim_start().len();
    let body = &line[trimmed_start..];
    if !body.starts_with('|') {
        return None;
    }
    let lead = line[..trimmed_start].to_string();
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in body[1..].chars() {
        if escaped {
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            cur.push(c);
            escaped = true;
        } else if c == '|' {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    // `cur` holds whatever follows the last pipe (usually nothing).
    Some((lead, parts, cur))
}

fn is_separator(cells: &[String]) -> bool {
    !cells.is_empty()
        && cells.iter().all(|c| {
            let t = c.trim();
            !t.is_empty() && t.chars().all(|ch| matches!(ch, '-' | ':'))
        })
}

fn norm(s: &str) -> String {
    s.trim().trim_matches('*').trim().to_lowercase()
}

fn cell_names_session(cell: &str, id: &str) -> bool {
    let cleaned: String = cell
        .chars()
        .map(|c| if "*`[]()".contains(c) { ' ' } else { c })
        .collect();
    cleaned.split_whitespace().any(|w| w == id)
}

fn blank(cell: &str) -> bool {
    matches!(cell.trim(), "" | "—" | "-" | "–")
}

/// Apply `update` to the row of `id` in every Session/Status table. `None` when no row names
/// the session.
pub fn update_text(text: &str, id: &str, update: &RowUpdate) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len() + 64);
    let mut found = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let header = cells(line.trim_end_matches(['\n', '\r']));
        let sep = lines
            .get(i + 1)
            .and_then(|l| cells(l.trim_end_matches(['\n', '\r'])));
        let (Some((_, head, _)), Some((_, sep_cells, _))) = (header, sep) else {
            out.push_str(line);
            i += 1;
            continue;
        };
        if !is_separator(&sep_cells) {
            out.push_str(line);
            i += 1;
            continue;
        }
        let col = |name: &str| head.iter().position(|h| norm(h) == name);
        let (Some(session_col), Some(status_col)) = (col("session"), col("status")) else {
            out.push_str(line);
            i += 1;
            continue;
        };
        let started_col = col("started");
        let completed_col = col("completed");
        let commit_col = col("commit");
        out.push_str(line);
        out.push_str(lines[i + 1]);
        i += 2;
        while i < lines.len() {
            let row = lines[i];
            let content = row.trim_end_matches(['\n', '\r']);
            let ending = &row[content.len()..];
            let Some((lead, mut cs, tail)) = cells(content) else {
                break;
            };
            if cs
                .get(session_col)
                .is_some_and(|c| cell_names_session(c, id))
            {
                found = true;
                let mut set = |idx: Option<usize>, value: &Option<String>, only_blank: bool| {
                    if let (Some(idx), Some(v)) = (idx, value)
                        && let Some(cell) = cs.get_mut(idx)
                    {
                        if only_blank && !blank(cell) {
                            return;
                        }
                        *cell = format!(" {v} ");
                    }
                };
                set(Some(status_col), &update.status, false);
                set(started_col, &update.started, update.started_if_empty);
                set(completed_col, &update.completed, false);
                set(commit_col, &update.commit, false);
                out.push_str(&lead);
                out.push('|');
                for c in &cs {
                    out.push_str(c);
                    out.push('|');
                }
                out.push_str(&tail);
                out.push_str(ending);
            } else {
                out.push_str(row);
            }
            i += 1;
        }
    }
    found.then_some(out)
}

/// Update the file in place (atomically). `Ok(false)` when no row names the session.
pub fn update_file(path: &Path, id: &str, update: &RowUpdate) -> std::io::Result<bool> {
    let text = fs_err::read_to_string(path)?;
    match update_text(&text, id, update) {
        Some(new) if new != text => {
            crate::fsutil::write_atomic(path, new.as_bytes(), false)?;
            Ok(true)
        }
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# Progress\n\n| Date | Session | Decision |\n|---|---|---|\n| x | BE-01 | y |\n\n## Repository: api\n\n| Session | Status | Started | Completed | Commit | Notes |\n|---------|--------|---------|-----------|--------|-------|\n| BE-01 | ✅ Complete | 2024-01-01 | 2024-01-02 | `abc1234` | ok |\n| **INT-01** | ⬜ Pending | — | — | — | → FE-01 |\n| INT-010 | ⬜ Pending | — | — | — | |\n\nTrailing text | not a table\n";

    #[test]
    fn only_the_row_changes() {
        let up = RowUpdate {
            status: Some(COMPLETE.into()),
            completed: Some("2024-02-02".into()),
            commit: Some("`def5678`".into()),
            ..Default::default()
        };
        let new = update_text(DOC, "INT-01", &up).unwrap();
        let old_lines: Vec<_> = DOC.lines().collect();
        let new_lines: Vec<_> = new.lines().collect();
        assert_eq!(old_lines.len(), new_lines.len());
        let changed: Vec<_> = (0..old_lines.len())
            .filter(|&i| old_lines[i] != new_lines[i])
            .collect();
        assert_eq!(changed, [11]);
        assert_eq!(
            new_lines[11],
            "| **INT-01** | ✅ Complete | — | 2024-02-02 | `def5678` | → FE-01 |"
        );
    }

    #[test]
    fn started_only_if_empty() {
        let up = RowUpdate {
            status: Some(ACTIVE.into()),
            started: Some("2030-01-01".into()),
            started_if_empty: true,
            ..Default::default()
        };
        let new = update_text(DOC, "BE-01", &up).unwrap();
        assert!(new.contains("| BE-01 | 🔄 Active | 2024-01-01 |"), "{new}");
    }

    #[test]
    fn missing_row() {
        assert!(update_text(DOC, "FE-09", &RowUpdate::default()).is_none());
    }
}
