//! Unified diffs of planned changes, for `--dry-run` (the command layer adds colour).

/// One planned change of a file: `None` = absent (created or deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Project-relative, `/`-separated.
    pub path: String,
    pub old: Option<Vec<u8>>,
    pub new: Option<Vec<u8>>,
}

/// `git diff`-style unified text for one change (3 lines of context), or an empty string when
/// nothing differs.
pub fn unified(change: &Change) -> String {
    let old = change.old.as_deref().map(String::from_utf8_lossy);
    let new = change.new.as_deref().map(String::from_utf8_lossy);
    let old_text = old.as_deref().unwrap_or("");
    let new_text = new.as_deref().unwrap_or("");
    if old.is_some() == new.is_some() && old_text == new_text {
        return String::new();
    }
    let a = if old.is_some() {
        format!("a/{}", change.path)
    } else {
        "/dev/null".to_string()
    };
    let b = if new.is_some() {
        format!("b/{}", change.path)
    } else {
        "/dev/null".to_string()
    };
    let diff = similar::TextDiff::from_lines(old_text, new_text);
    let mut out = format!("diff --fsi a/{0} b/{0}\n", change.path);
    if old.is_none() {
        out.push_str("new file\n");
    } else if new.is_none() {
        out.push_str("deleted file\n");
    }
    let body = diff
        .unified_diff()
        .context_radius(3)
        .missing_newline_hint(true)
        .header(&a, &b)
        .to_string();
    out.push_str(&body);
    out
}

/// The diffs of many changes, in path order.
pub fn unified_all(changes: &[Change]) -> String {
    let mut sorted: Vec<&Change> = changes.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    sorted.into_iter().map(unified).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_changed_and_deleted_files() {
        let created = unified(&Change {
            path: "a.txt".into(),
            old: None,
            new: Some(b"one\ntwo\n".to_vec()),
        });
        assert!(
            created.contains("--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1,2 @@\n+one\n+two\n"),
            "{created}"
        );
        let changed = unified(&Change {
            path: "b.txt".into(),
            old: Some(b"x\ny\n".to_vec()),
            new: Some(b"x\nz\n".to_vec()),
        });
        assert!(
            changed.contains("--- a/b.txt\n+++ b/b.txt\n@@ -1,2 +1,2 @@\n x\n-y\n+z\n"),
            "{changed}"
        );
        let same = unified(&Change {
            path: "c".into(),
            old: Some(b"q\n".to_vec()),
            new: Some(b"q\n".to_vec()),
        });
        assert_eq!(same, "");
        let deleted = unified(&Change {
            path: "d".into(),
            old: Some(b"q\n".to_vec()),
            new: None,
        });
        assert!(deleted.contains("+++ /dev/null"), "{deleted}");
    }
}
