//! Drift detection (`fsi types --check`) and the writer.
//!
//! [`check`] compares the in-memory output of [`super::generate`] with the files on disk and
//! reports, per file, which declarations were added, removed or changed (with a unified diff),
//! plus generated files whose `// MIRRORS:` source is gone and DTO modules that have no mirror.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Generated, TypesError};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeclDrift {
    /// The exported name (`ItemCreate`), or `(imports)` for the file header.
    pub name: String,
    pub change: Change,
    /// Unified diff of the declaration (disk → expected).
    pub diff: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FileDrift {
    pub path: PathBuf,
    /// The file does not exist on disk.
    pub missing: bool,
    pub declarations: Vec<DeclDrift>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Orphan {
    pub path: PathBuf,
    /// The `// MIRRORS:` target.
    pub mirrors: String,
    /// The target no longer exists (otherwise it exists but declares no DTOs any more, or is
    /// outside the DTO roots).
    pub source_gone: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Unmirrored {
    pub py: String,
    pub ts: PathBuf,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Drift {
    /// Generated files that differ from disk (missing ones included).
    pub files: Vec<FileDrift>,
    /// Generated files on disk whose MIRRORS source is gone or no longer produces them.
    pub orphaned: Vec<Orphan>,
    /// DTO modules whose `.ts` mirror does not exist.
    pub unmirrored: Vec<Unmirrored>,
}

impl Drift {
    pub fn is_clean(&self) -> bool {
        self.files.is_empty() && self.orphaned.is_empty() && self.unmirrored.is_empty()
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct WriteReport {
    pub written: Vec<PathBuf>,
    pub unchanged: usize,
    /// Generated files removed because their MIRRORS source is gone.
    pub removed: Vec<PathBuf>,
}

fn abs(project_root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        project_root.join(p)
    }
}

/// Split a generated file into (name → text) blocks: declarations are separated by blank lines
/// and named after their first `export` line.
pub fn blocks(text: &str) -> BTreeMap<String, String> {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?m)^export (?:interface|type|const|function) ([A-Za-z_$][\w$]*)")
            .expect("re")
    });
    let re = &*RE;
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for chunk in text.split("\n\n") {
        if chunk.trim().is_empty() {
            continue;
        }
        let name = match re.captures(chunk) {
            Some(c) => c[1].to_string(),
            None if chunk.contains("export *")
                || chunk.contains("export {")
                || chunk.contains("export type {") =>
            {
                "(exports)".into()
            }
            None if chunk.contains("import ") => "(imports)".into(),
            None => "(header)".into(),
        };
        let e = out.entry(name).or_default();
        e.push_str(chunk.trim_end());
        e.push('\n');
    }
    out
}

fn unified(old: &str, new: &str, path: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(&format!("{path} (on disk)"), &format!("{path} (expected)"))
        .to_string()
}

/// The `// MIRRORS:` target of a generated file, if it is one.
fn mirrors_of(text: &str) -> Option<String> {
    let mut lines = text.lines().take(4);
    let first = lines.next()?;
    let m = first.strip_prefix("// MIRRORS: ")?;
    text.lines()
        .take(4)
        .any(|l| l.starts_with("// RUN: fsi types"))
        .then(|| m.trim().to_string())
}

/// Generated `.ts` files in `dir` (those with a MIRRORS header) other than `skip`, which are
/// known already and not read again.
fn generated_on_disk(dir: &Path, skip: &BTreeSet<PathBuf>) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return out;
    }
    for e in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.file_name() != "node_modules")
        .flatten()
    {
        if e.file_type().is_file()
            && e.path().extension().is_some_and(|x| x == "ts")
            && !skip.contains(e.path())
            && let Ok(text) = fs_err::read_to_string(e.path())
            && let Some(m) = mirrors_of(&text)
        {
            out.push((e.into_path(), m));
        }
    }
    out
}

fn rel_to(project_root: &Path, p: &Path) -> PathBuf {
    p.strip_prefix(project_root).unwrap_or(p).to_path_buf()
}

/// Compare generated output with disk.
pub fn check(project_root: &Path, generated: &Generated) -> Drift {
    let mut drift = Drift::default();
    let ts_files: BTreeSet<&PathBuf> = generated.modules.iter().map(|m| &m.ts).collect();
    for m in &generated.modules {
        if !abs(project_root, &m.ts).is_file() {
            drift.unmirrored.push(Unmirrored {
                py: m.py.clone(),
                ts: m.ts.clone(),
            });
        }
    }
    for ((path, expected), on_disk) in generated.files.iter().zip(on_disk(project_root, generated))
    {
        let OnDisk::Differs(on_disk) = on_disk else {
            continue;
        };
        let missing = on_disk.is_none();
        if missing && ts_files.contains(path) {
            continue; // reported as unmirrored
        }
        let actual = on_disk.unwrap_or_default();
        if actual == *expected {
            continue;
        }
        let old = blocks(&actual);
        let new = blocks(expected);
        let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        let disp = path.display().to_string();
        let mut decls = Vec::new();
        for n in names {
            let (o, e) = (old.get(n), new.get(n));
            let change = match (o, e) {
                (None, Some(_)) => Change::Added,
                (Some(_), None) => Change::Removed,
                (Some(a), Some(b)) if a != b => Change::Changed,
                _ => continue,
            };
            decls.push(DeclDrift {
                name: n.clone(),
                change,
                diff: unified(
                    o.map(String::as_str).unwrap_or(""),
                    e.map(String::as_str).unwrap_or(""),
                    &disp,
                ),
            });
        }
        if decls.is_empty() {
            // Only whitespace between blocks differs.
            decls.push(DeclDrift {
                name: "(layout)".into(),
                change: Change::Changed,
                diff: unified(&actual, expected, &disp),
            });
        }
        drift.files.push(FileDrift {
            path: path.clone(),
            missing,
            declarations: decls,
        });
    }
    drift.orphaned = orphans(project_root, generated);
    drift
}

/// A generated file against the disk.
enum OnDisk {
    Same,
    /// The file's text, `None` when it is missing, unreadable or not UTF-8.
    Differs(Option<String>),
}

/// Each generated file, in `generated.files` order, against the disk. Compared as bytes: an
/// identical file needs no UTF-8 check. (Reading on all cores was measured slower for the bench
/// corpus's 103 files.)
fn on_disk(project_root: &Path, generated: &Generated) -> Vec<OnDisk> {
    generated
        .files
        .iter()
        .map(
            |(path, expected)| match std::fs::read(abs(project_root, path)) {
                Ok(bytes) if bytes == expected.as_bytes() => OnDisk::Same,
                Ok(bytes) => OnDisk::Differs(String::from_utf8(bytes).ok()),
                Err(_) => OnDisk::Differs(None),
            },
        )
        .collect()
}

/// Generated files on disk that this run does not produce (their module is gone or no longer
/// declares anything).
fn orphans(project_root: &Path, generated: &Generated) -> Vec<Orphan> {
    let out_abs = abs(project_root, &generated.out_dir);
    let expected: BTreeSet<PathBuf> = generated
        .files
        .keys()
        .map(|p| abs(project_root, p))
        .collect();
    let mut found = Vec::new();
    for (p, mirrors) in generated_on_disk(&out_abs, &expected) {
        found.push(Orphan {
            source_gone: !project_root.join(&mirrors).exists(),
            path: if generated.out_dir.is_absolute() {
                p
            } else {
                rel_to(project_root, &p)
            },
            mirrors,
        });
    }
    found
}

/// Write the generated files that differ from disk and remove generated files whose MIRRORS
/// source no longer produces them, all or nothing: every new file is staged beside its target
/// first, then all are renamed into place ([`crate::fsutil::apply_all`]). When one of them
/// cannot be written (a directory in the way, a full disk), no output is changed.
pub fn write(project_root: &Path, generated: &Generated) -> Result<WriteReport, TypesError> {
    let mut report = WriteReport::default();
    let mut changes = Vec::new();
    for ((path, text), on_disk) in generated.files.iter().zip(on_disk(project_root, generated)) {
        if matches!(on_disk, OnDisk::Same) {
            report.unchanged += 1;
            continue;
        }
        changes.push(crate::fsutil::FileChange {
            path: abs(project_root, path),
            contents: Some(text.as_bytes()),
            executable: false,
        });
        report.written.push(path.clone());
    }
    for o in orphans(project_root, generated) {
        changes.push(crate::fsutil::FileChange {
            path: abs(project_root, &o.path),
            contents: None,
            executable: false,
        });
        report.removed.push(o.path);
    }
    // Not fsynced: generated output is reproducible, and `--check` notices a file a power cut
    // left behind short.
    crate::fsutil::apply_all(&changes, false, &|| false).map_err(|e| TypesError::Write {
        path: e.path,
        source: e.source,
    })?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_named_by_their_export() {
        let b = blocks(
            "// MIRRORS: x.py\n// RUN: fsi types\n\nimport type { A } from \"./a\";\n\nexport interface B {\n  a: A;\n}\n\n/** doc */\nexport type C = \"x\";\nexport const C = { X: \"x\" } as const;\n",
        );
        assert_eq!(
            b.keys().collect::<Vec<_>>(),
            vec!["(header)", "(imports)", "B", "C"]
        );
        assert!(b["C"].contains("as const"));
    }

    #[test]
    fn mirrors_header_is_recognized() {
        assert_eq!(
            mirrors_of("// MIRRORS: backend/app/x.py\n// RUN: fsi types\n").as_deref(),
            Some("backend/app/x.py")
        );
        assert_eq!(mirrors_of("// MIRRORS: a.py\n// hand written\n"), None);
    }
}
