//! The 3-way merge of `fsi update`: base = what fsi rendered for the project last, ours = the
//! working tree, theirs = this fsi's render. Path-level decisions (added, deleted, no longer
//! rendered) are made here; the contents of a file both sides changed are merged by libgit2
//! (`git_merge_file`, the xdiff merge `git merge` uses), which writes standard conflict markers.

use super::base::{BaseFile, Files};
use super::diff::Change;

/// What happens to one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes (clean merge, or a new file).
    Write(BaseFile),
    /// Write these bytes, which hold conflict markers.
    Conflict(BaseFile),
    /// Remove the file: fsi no longer renders it and the user never changed it.
    Remove,
}

/// Why a path fsi changed is left as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// The user deleted it; fsi's change to it is not applied.
    DeletedByYou,
    /// fsi no longer renders it, but the user changed it: kept.
    ChangedByYou,
}

/// The result of a merge: what to do, and what to tell.
#[derive(Debug, Clone, Default)]
pub struct Merge {
    /// Path → action, for every path whose working-tree file changes.
    pub actions: std::collections::BTreeMap<String, Action>,
    /// Paths fsi changed that stay as they are, and why.
    pub kept: std::collections::BTreeMap<String, Kept>,
}

impl Merge {
    pub fn conflicts(&self) -> Vec<&str> {
        self.actions
            .iter()
            .filter(|(_, a)| matches!(a, Action::Conflict(_)))
            .map(|(p, _)| p.as_str())
            .collect()
    }

    pub fn removed(&self) -> Vec<&str> {
        self.actions
            .iter()
            .filter(|(_, a)| matches!(a, Action::Remove))
            .map(|(p, _)| p.as_str())
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// The changes as diffs see them, given the working tree.
    pub fn changes(&self, ours: &dyn Fn(&str) -> Option<BaseFile>) -> Vec<Change> {
        self.actions
            .iter()
            .map(|(path, action)| Change {
                path: path.clone(),
                old: ours(path).map(|f| f.contents),
                new: match action {
                    Action::Write(f) | Action::Conflict(f) => Some(f.contents.clone()),
                    Action::Remove => None,
                },
            })
            .collect()
    }
}

/// Labels of the conflict markers.
pub struct Labels<'a> {
    pub base: &'a str,
    pub ours: &'a str,
    pub theirs: &'a str,
}

/// Merge every path of `base` ∪ `theirs` with the working tree (`ours` reads a file; `None` =
/// absent). Paths outside both (the user's own files) are never looked at.
pub fn merge(
    base: &Files,
    theirs: &Files,
    ours: &dyn Fn(&str) -> Option<BaseFile>,
    labels: &Labels<'_>,
) -> Result<Merge, git2::Error> {
    let mut out = Merge::default();
    let paths: std::collections::BTreeSet<&String> = base.keys().chain(theirs.keys()).collect();
    for path in paths {
        let b = base.get(path);
        let t = theirs.get(path);
        if b == t {
            continue; // fsi did not change it: whatever the user did stays
        }
        let o = ours(path);
        match (b, t, o) {
            (_, _, Some(o)) if Some(&o) == t => {} // already there
            (None, Some(t), None) => {
                out.actions.insert(path.clone(), Action::Write(t.clone()));
            }
            (Some(_), None, None) => {} // gone on both sides
            (Some(b), None, Some(o)) => {
                if o.contents == b.contents {
                    out.actions.insert(path.clone(), Action::Remove);
                } else {
                    out.kept.insert(path.clone(), Kept::ChangedByYou);
                }
            }
            (Some(_), Some(_), None) => {
                out.kept.insert(path.clone(), Kept::DeletedByYou);
            }
            (b, Some(t), Some(o)) => {
                if b.is_some_and(|b| b.contents == o.contents) {
                    // The user never changed it: fsi's version, mode included.
                    out.actions.insert(path.clone(), Action::Write(t.clone()));
                    continue;
                }
                let empty = BaseFile {
                    contents: Vec::new(),
                    executable: t.executable,
                };
                let b = b.unwrap_or(&empty);
                let merged = merge_file(path, b, &o, t, labels)?;
                let executable = if b.executable == o.executable {
                    t.executable
                } else {
                    o.executable
                };
                let file = BaseFile {
                    contents: merged.0,
                    executable,
                };
                if file == o {
                    continue;
                }
                let action = if merged.1 {
                    Action::Write(file)
                } else {
                    Action::Conflict(file)
                };
                out.actions.insert(path.clone(), action);
            }
            (None, None, _) => unreachable!("the path comes from base or theirs"),
        }
    }
    Ok(out)
}

/// libgit2's file merge: the merged bytes and whether the merge was clean.
fn merge_file(
    path: &str,
    base: &BaseFile,
    ours: &BaseFile,
    theirs: &BaseFile,
    labels: &Labels<'_>,
) -> Result<(Vec<u8>, bool), git2::Error> {
    fn input<'a>(f: &'a BaseFile, path: &str) -> git2::MergeFileInput<'a> {
        let mut i = git2::MergeFileInput::new();
        i.content(&f.contents).path(path);
        i
    }
    // `input` borrows: build each in its own binding.
    let (b, o, t) = (input(base, path), input(ours, path), input(theirs, path));
    // git_merge_file does not initialise libgit2 itself; any git2 constructor that does is
    // enough (a repository opened earlier in the process has done it too).
    git2::Config::new()?;
    let mut opts = git2::MergeFileOptions::new();
    opts.ancestor_label(labels.base)
        .our_label(labels.ours)
        .their_label(labels.theirs)
        .style_standard(true);
    let result = git2::merge_file(&b, &o, &t, Some(&mut opts))?;
    Ok((result.content().to_vec(), result.is_automergeable()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(s: &str) -> BaseFile {
        BaseFile {
            contents: s.as_bytes().to_vec(),
            executable: false,
        }
    }

    fn files(list: &[(&str, &str)]) -> Files {
        list.iter().map(|(p, c)| (p.to_string(), file(c))).collect()
    }

    const LABELS: Labels<'static> = Labels {
        base: "base",
        ours: "yours",
        theirs: "fsi",
    };

    #[test]
    fn a_change_and_an_edit_elsewhere_merge_cleanly() {
        let base = files(&[("a", "1\n2\n3\n4\n5\n6\n7\n8\n")]);
        let theirs = files(&[("a", "1\n2\nTHREE\n4\n5\n6\n7\n8\n")]);
        let ours = files(&[("a", "1\n2\n3\n4\n5\n6\n7\nEIGHT\n")]);
        let m = merge(&base, &theirs, &|p| ours.get(p).cloned(), &LABELS).unwrap();
        assert_eq!(
            m.actions["a"],
            Action::Write(file("1\n2\nTHREE\n4\n5\n6\n7\nEIGHT\n"))
        );
    }

    #[test]
    fn the_same_lines_changed_give_markers_and_keep_the_users_text() {
        let base = files(&[("a", "x = 1\n")]);
        let theirs = files(&[("a", "x = 2\n")]);
        let ours = files(&[("a", "x = 3\n")]);
        let m = merge(&base, &theirs, &|p| ours.get(p).cloned(), &LABELS).unwrap();
        let Action::Conflict(f) = &m.actions["a"] else {
            panic!("{:?}", m.actions)
        };
        let text = String::from_utf8_lossy(&f.contents);
        assert!(
            text.contains("<<<<<<< yours\nx = 3\n=======\nx = 2\n>>>>>>> fsi\n"),
            "{text}"
        );
    }

    #[test]
    fn deletions_and_additions() {
        let base = files(&[
            ("gone", "g\n"),
            ("edited-gone", "e\n"),
            ("deleted-by-you", "d\n"),
            ("same", "s\n"),
        ]);
        let theirs = files(&[("deleted-by-you", "d2\n"), ("new", "n\n"), ("same", "s\n")]);
        let ours = files(&[("gone", "g\n"), ("edited-gone", "mine\n"), ("same", "s\n")]);
        let m = merge(&base, &theirs, &|p| ours.get(p).cloned(), &LABELS).unwrap();
        assert_eq!(m.actions["gone"], Action::Remove);
        assert_eq!(m.actions["new"], Action::Write(file("n\n")));
        assert_eq!(m.kept["edited-gone"], Kept::ChangedByYou);
        assert_eq!(m.kept["deleted-by-you"], Kept::DeletedByYou);
        assert_eq!(m.actions.len(), 2);
    }

    #[test]
    fn nothing_to_do_when_fsi_changed_nothing() {
        let base = files(&[("a", "1\n")]);
        let ours = files(&[("a", "mine\n")]);
        let m = merge(&base, &base.clone(), &|p| ours.get(p).cloned(), &LABELS).unwrap();
        assert!(m.is_empty());
    }
}
