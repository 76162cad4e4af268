//! Git through git2: session commits (`type(scope): description` + body + `Session: ID`),
//! checkpoint (WIP) commits and rollback reverts, and what history says is complete.
//!
//! A session's commit holds what the session changed and nothing else: the paths with
//! uncommitted changes are compared before and after it ([`snapshot`], [`attribute`]), and only
//! its own go into a commit built on HEAD's tree ([`commit_paths`]), never from the index — so
//! the user's unstaged, untracked and staged changes stay where they are, and a rollback
//! ([`revert`]) touches only the paths the session's commit changed.

use std::path::{Path, PathBuf};

use git2::{Repository, Signature};

use super::model::{CommitSpec, Session};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{0} is not inside a git repository")]
    NoRepo(PathBuf),
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("{0}")]
    Other(String),
    /// A precondition is not met (uncommitted changes in the way): nothing was done.
    #[error("{0}")]
    Refused(String),
}

pub fn open(dir: &Path) -> Result<Repository, GitError> {
    Repository::discover(dir).map_err(|_| GitError::NoRepo(dir.to_path_buf()))
}

/// The commit message for a session: from `<commit>` (or `<git_commit>` verbatim), always ending
/// with a `Session: ID` trailer.
pub fn message(s: &Session) -> String {
    let trailer = format!("Session: {}", s.id);
    let mut msg = match &s.commit {
        Some(CommitSpec::Structured {
            r#type,
            scope,
            description,
            body,
        }) => {
            let mut m = match scope {
                Some(sc) => format!("{type}({sc}): {description}"),
                None => format!("{type}: {description}"),
            };
            if let Some(b) = body {
                m.push_str("\n\n");
                m.push_str(b.trim());
            }
            m
        }
        Some(CommitSpec::Raw { message }) => message.trim().to_string(),
        None => {
            let scope = s
                .meta
                .track
                .as_deref()
                .map(|t| t.to_lowercase().replace(' ', "-"))
                .unwrap_or_else(|| "session".into());
            let title = s.title();
            if title.is_empty() {
                format!("chore({scope}): complete session {}", s.id)
            } else {
                format!("chore({scope}): {title}")
            }
        }
    };
    let has_trailer = msg
        .lines()
        .any(|l| l.trim() == trailer || l.trim().starts_with(&format!("{trailer} ")));
    if !has_trailer {
        msg.push_str("\n\n");
        msg.push_str(&trailer);
    }
    msg.push('\n');
    msg
}

fn signature(repo: &Repository) -> Result<Signature<'static>, GitError> {
    match repo.signature() {
        Ok(s) => Ok(s),
        Err(_) => Ok(Signature::now("fsi", "fsi@localhost")?),
    }
}

/// Repository-relative form of `path`, when it is inside the work tree.
pub fn relative(repo: &Repository, path: &Path) -> Option<String> {
    let workdir = repo.workdir()?;
    let wd = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let p = path
        .parent()
        .and_then(|d| d.canonicalize().ok())
        .and_then(|d| path.file_name().map(|n| d.join(n)))
        .unwrap_or_else(|| path.to_path_buf());
    p.strip_prefix(&wd)
        .ok()
        .map(|r| r.to_string_lossy().into_owned())
}

pub fn short(repo: &Repository, oid: git2::Oid) -> Result<String, GitError> {
    let obj = repo.find_object(oid, None)?;
    Ok(obj
        .short_id()?
        .as_str()
        .unwrap_or(&oid.to_string()[..7])
        .to_string())
}

/// The pathspec for a working directory inside the repository (`[]` = everything).
pub fn pathspec_for(repo: &Repository, dir: &Path) -> Vec<String> {
    let Some(workdir) = repo.workdir() else {
        return Vec::new();
    };
    let wd = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let d = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    match d.strip_prefix(&wd) {
        Ok(rel) if !rel.as_os_str().is_empty() => vec![rel.to_string_lossy().into_owned()],
        _ => Vec::new(),
    }
}

/// Revert the commit `hash` with a new commit carrying `Session: ID-rollback`.
///
/// Only the paths that commit changed are touched: refused when one of them has uncommitted
/// changes (staged, unstaged, or an untracked file where the revert would put one), so a
/// rollback never overwrites or deletes anything the user has not committed. Everything else —
/// other uncommitted edits, untracked files, staged changes — is left as it is and stays out of
/// the revert commit.
pub fn revert(repo: &Repository, hash: &str, id: &str) -> Result<String, GitError> {
    let obj = repo.revparse_single(hash)?;
    let commit = obj.peel_to_commit()?;
    let head = repo.head()?.peel_to_commit()?;
    let old_tree = match commit.parent(0) {
        Ok(p) => Some(p.tree()?),
        Err(_) => None,
    };
    let diff = repo.diff_tree_to_tree(old_tree.as_ref(), Some(&commit.tree()?), None)?;
    let mut touched = std::collections::BTreeSet::new();
    for d in diff.deltas() {
        for f in [d.old_file(), d.new_file()] {
            if let Some(p) = f.path().and_then(|p| p.to_str()) {
                touched.insert(p.to_string());
            }
        }
    }
    let in_the_way: Vec<String> = dirty_paths(repo, None, &[])?
        .into_iter()
        .filter(|p| touched.iter().any(|t| under(p, t) || under(t, p)))
        .collect();
    if !in_the_way.is_empty() {
        return Err(GitError::Refused(format!(
            "refusing to roll back: {} {} uncommitted changes that the revert would overwrite; commit or stash {} first",
            in_the_way.join(", "),
            if in_the_way.len() == 1 { "has" } else { "have" },
            if in_the_way.len() == 1 { "it" } else { "them" },
        )));
    }
    let mut index = repo.revert_commit(&commit, &head, 0, None)?;
    if index.has_conflicts() {
        return Err(GitError::Other(format!(
            "reverting {hash} conflicts with later changes; resolve by hand (git revert {hash})"
        )));
    }
    let tree = repo.find_tree(index.write_tree_to(repo)?)?;
    // The work tree first (from HEAD's tree to the new one, those paths only), then the commit.
    let mut co = git2::build::CheckoutBuilder::new();
    co.force().update_index(true).disable_pathspec_match(true);
    for p in &touched {
        co.path(p);
    }
    repo.checkout_tree(tree.as_object(), Some(&mut co))?;
    let subject = commit.summary().ok().flatten().unwrap_or("").to_string();
    let msg = format!(
        "Revert \"{subject}\"\n\nThis reverts commit {}.\n\nSession: {id}-rollback\n",
        commit.id()
    );
    let sig = signature(repo)?;
    let oid = repo.commit(Some("HEAD"), &sig, &sig, &msg, &tree, &[&head])?;
    short(repo, oid)
}

/// Sessions completed according to the history of HEAD: the newest `Session: ID` trailer of
/// each id wins, so a later `Session: ID-rollback` cancels an earlier completion; checkpoint
/// trailers (`Session: ID (checkpoint N)`) do not count. Returns id → short hash.
///
/// This is what `fsi verify` trusts on a CI runner, where `.fsi/state.json` (git-ignored) does
/// not exist.
pub fn completed_in_history(
    dir: &Path,
) -> Result<std::collections::BTreeMap<String, String>, GitError> {
    Ok(history(dir, None)?.map(|h| h.complete).unwrap_or_default())
}

/// What HEAD's history says is complete (see [`completed_in_history`]), `None` outside a git
/// repository. `cached` — what it said at an earlier commit — saves walking the whole history:
/// when HEAD is that commit it is the answer, and when HEAD descends from it only the commits
/// since are read.
pub fn history(
    dir: &Path,
    cached: Option<&super::state::History>,
) -> Result<Option<super::state::History>, GitError> {
    use super::state::History;
    let Ok(repo) = Repository::discover(dir) else {
        return Ok(None);
    };
    let Some(head) = repo.head().ok().and_then(|h| h.target()) else {
        return Ok(Some(History::default())); // no commits yet
    };
    let head_hex = head.to_string();
    let base = cached.and_then(|c| {
        if c.head == head_hex {
            return Some((None, c));
        }
        let old = git2::Oid::from_str(&c.head).ok()?;
        repo.graph_descendant_of(head, old)
            .ok()
            .filter(|d| *d)
            .map(|_| (Some(old), c))
    });
    let mut out = History {
        head: head_hex,
        complete: Default::default(),
    };
    let hide = match base {
        Some((None, c)) => return Ok(Some(c.clone())),
        Some((Some(old), c)) => {
            out.complete = c.complete.clone();
            Some(old)
        }
        None => None,
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut walk = repo.revwalk()?;
    walk.push(head)?;
    if let Some(old) = hide {
        walk.hide(old)?;
    }
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)?;
    for oid in walk {
        let oid = oid?;
        let commit = repo.find_commit(oid)?;
        let Ok(msg) = commit.message() else {
            continue;
        };
        for line in msg.lines().rev() {
            let Some(value) = line.trim().strip_prefix("Session: ") else {
                continue;
            };
            let value = value.trim();
            if value.contains(' ') {
                continue; // "ID (checkpoint N)"
            }
            let (id, done) = match value.strip_suffix("-rollback") {
                Some(id) => (id, false),
                None => (value, true),
            };
            if seen.insert(id.to_string()) {
                if done {
                    out.complete.insert(id.to_string(), short(&repo, oid)?);
                } else {
                    out.complete.remove(id);
                }
            }
            break;
        }
    }
    Ok(Some(out))
}

/// A work-tree path's fingerprint: its `lstat` (inode, size, change and modification times,
/// mode), or `-` when it does not exist. Any write to the file changes it; reading does not.
pub fn fingerprint(path: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    match std::fs::symlink_metadata(path) {
        Ok(m) => format!(
            "{}:{}:{}.{}:{}.{}:{:o}",
            m.ino(),
            m.size(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
            m.mode()
        ),
        Err(_) => "-".to_string(),
    }
}

/// Repository-relative paths → fingerprints.
pub type Snapshot = std::collections::BTreeMap<String, String>;

/// Paths with uncommitted changes — staged, unstaged or untracked (files inside untracked
/// directories listed one by one); ignored files excluded — below `scope` (a
/// repository-relative directory; `None` = everywhere), without the `exclude`d paths and
/// directories.
pub fn dirty_paths(
    repo: &Repository,
    scope: Option<&str>,
    exclude: &[String],
) -> Result<Vec<String>, GitError> {
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(true)
        .renames_head_to_index(false)
        .renames_index_to_workdir(false);
    if let Some(s) = scope {
        opts.pathspec(s);
    }
    let statuses = repo.statuses(Some(&mut opts))?;
    let mut out = Vec::new();
    for e in statuses.iter() {
        if e.status().is_ignored() || e.status() == git2::Status::CURRENT {
            continue;
        }
        let Ok(p) = e.path() else { continue };
        let p = p.trim_end_matches('/');
        if scope.is_some_and(|s| !under(p, s)) || exclude.iter().any(|x| under(p, x)) {
            continue;
        }
        out.push(p.to_string());
    }
    Ok(out)
}

/// `path` is `dir` or inside it (repository-relative, `/`-separated).
fn under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    dir.is_empty()
        || path == dir
        || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

/// The uncommitted paths of the repository (see [`dirty_paths`]) with their fingerprints.
pub fn snapshot(repo: &Repository, exclude: &[String]) -> Result<Snapshot, GitError> {
    let workdir = repo
        .workdir()
        .ok_or_else(|| GitError::Other("a bare repository has no work tree".into()))?
        .to_path_buf();
    Ok(dirty_paths(repo, None, exclude)?
        .into_iter()
        .map(|p| {
            let f = fingerprint(&workdir.join(&p));
            (p, f)
        })
        .collect())
}

/// Which uncommitted paths below `scope` a session produced, measured against `baseline` (what
/// was uncommitted before it ran, and is not the session's).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Attribution {
    /// Changed by the session: to be committed.
    pub paths: Vec<String>,
    /// Had uncommitted changes before the session, and the session changed them again: their
    /// content mixes both, so they cannot be committed as the session's.
    pub conflicts: Vec<String>,
}

pub fn attribute(
    repo: &Repository,
    baseline: &Snapshot,
    scope: Option<&str>,
    exclude: &[String],
) -> Result<Attribution, GitError> {
    let workdir = repo
        .workdir()
        .ok_or_else(|| GitError::Other("a bare repository has no work tree".into()))?
        .to_path_buf();
    let mut out = Attribution::default();
    let dirty = dirty_paths(repo, scope, exclude)?;
    for p in &dirty {
        match baseline.get(p) {
            None => out.paths.push(p.clone()),
            Some(f) if *f == fingerprint(&workdir.join(p)) => {} // the user's, untouched
            Some(_) => out.conflicts.push(p.clone()),
        }
    }
    // A user's change the session undid (the path is clean now) was touched too.
    for (p, f) in baseline {
        if scope.is_some_and(|s| !under(p, s)) || exclude.iter().any(|x| under(p, x)) {
            continue;
        }
        if !dirty.contains(p) && *f != fingerprint(&workdir.join(p)) {
            out.conflicts.push(p.clone());
        }
    }
    out.conflicts.sort();
    Ok(out)
}

/// Commit exactly `paths` (repository-relative) as they are in the work tree — added, changed
/// or deleted — on top of HEAD, with `message`. Nothing else goes in: changes the user staged
/// stay staged and out of the commit, other uncommitted files stay as they are. The index
/// entries of `paths` are updated to the commit. Returns the short hash. An empty `paths` makes
/// an empty commit (a session always gets its commit, carrying its trailer).
pub fn commit_paths(
    repo: &Repository,
    paths: &[String],
    message: &str,
) -> Result<String, GitError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let workdir = repo
        .workdir()
        .ok_or_else(|| GitError::Other("a bare repository has no work tree".into()))?
        .to_path_buf();
    let parent = match repo.head() {
        Ok(h) => Some(h.peel_to_commit()?),
        Err(_) => None,
    };
    let mut tree_index = git2::Index::new()?;
    if let Some(c) = &parent {
        tree_index.read_tree(&c.tree()?)?;
    }
    let mut real = repo.index()?;
    for p in paths {
        let abs = workdir.join(p);
        match std::fs::symlink_metadata(&abs) {
            Ok(m) if m.is_file() || m.file_type().is_symlink() => {
                let (oid, mode) = if m.file_type().is_symlink() {
                    let target = std::fs::read_link(&abs)
                        .map_err(|e| GitError::Other(format!("{p}: {e}")))?;
                    let bytes = target.as_os_str().as_encoded_bytes().to_vec();
                    (repo.blob(&bytes)?, 0o120000)
                } else {
                    let exec = m.permissions().mode() & 0o111 != 0;
                    (
                        repo.blob_path(&abs)?,
                        if exec { 0o100755 } else { 0o100644 },
                    )
                };
                let entry = git2::IndexEntry {
                    ctime: git2::IndexTime::new(m.ctime() as i32, m.ctime_nsec() as u32),
                    mtime: git2::IndexTime::new(m.mtime() as i32, m.mtime_nsec() as u32),
                    dev: m.dev() as u32,
                    ino: m.ino() as u32,
                    mode,
                    uid: m.uid(),
                    gid: m.gid(),
                    file_size: m.size() as u32,
                    id: oid,
                    flags: 0,
                    flags_extended: 0,
                    path: p.as_bytes().to_vec(),
                };
                tree_index.add(&entry)?;
                real.add(&entry)?;
            }
            Ok(_) => {} // a directory (a nested repository): not ours to commit
            Err(_) => {
                let _ = tree_index.remove_path(Path::new(p));
                let _ = real.remove_path(Path::new(p));
            }
        }
    }
    let tree_id = tree_index.write_tree_to(repo)?;
    let tree = repo.find_tree(tree_id)?;
    let sig = signature(repo)?;
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let oid = repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)?;
    real.write()?;
    short(repo, oid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> (tempfile::TempDir, Repository) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let mut cfg = repo.config().unwrap();
        cfg.set_str("user.name", "t").unwrap();
        cfg.set_str("user.email", "t@example.com").unwrap();
        (dir, repo)
    }

    fn commit(repo: &Repository, dir: &Path, file: &str, msg: &str) -> String {
        std::fs::write(dir.join(file), msg).unwrap();
        commit_paths(repo, &[file.to_string()], msg).unwrap()
    }

    #[test]
    fn history_is_read_in_full_then_only_since_the_cached_commit() {
        let (dir, repo) = repo();
        let root = dir.path();
        assert_eq!(history(root, None).unwrap().unwrap().complete.len(), 0);
        let a = commit(&repo, root, "a", "feat: a\n\nSession: A-01\n");
        commit(&repo, root, "b", "feat: b\n\nSession: B-01\n");
        commit(&repo, root, "w", "WIP: c\n\nSession: C-01 (checkpoint 1)\n");
        let full = history(root, None).unwrap().unwrap();
        assert_eq!(
            full.complete.keys().collect::<Vec<_>>(),
            ["A-01", "B-01"],
            "checkpoints do not count"
        );
        assert_eq!(full.complete["A-01"], a);
        // Same HEAD: the cache is the answer, even a wrong one (it is not read again).
        let mut doctored = full.clone();
        doctored.complete.insert("Z-01".into(), "0000000".into());
        assert_eq!(history(root, Some(&doctored)).unwrap().unwrap(), doctored);
        // HEAD moved on: only the new commits are read, on top of the cache.
        commit(&repo, root, "a", "Revert\n\nSession: A-01-rollback\n");
        let d = commit(&repo, root, "d", "feat: d\n\nSession: D-01\n");
        let inc = history(root, Some(&doctored)).unwrap().unwrap();
        assert_eq!(
            inc.complete.keys().collect::<Vec<_>>(),
            ["B-01", "D-01", "Z-01"]
        );
        assert_eq!(inc.complete["D-01"], d);
        assert_eq!(inc.head, repo.head().unwrap().target().unwrap().to_string());
        // A cache from a commit HEAD does not descend from: the whole history again.
        let mut elsewhere = doctored.clone();
        elsewhere.head = "1111111111111111111111111111111111111111".into();
        let again = history(root, Some(&elsewhere)).unwrap().unwrap();
        assert_eq!(again.complete.keys().collect::<Vec<_>>(), ["B-01", "D-01"]);
    }

    #[test]
    fn attribution_separates_the_sessions_paths_from_the_users() {
        let (dir, repo) = repo();
        let root = dir.path();
        commit(&repo, root, "tracked", "init\n");
        std::fs::write(root.join("tracked"), "user edit").unwrap();
        std::fs::write(root.join("notes"), "user notes").unwrap();
        let before = snapshot(&repo, &[]).unwrap();
        assert_eq!(before.keys().collect::<Vec<_>>(), ["notes", "tracked"]);
        std::fs::create_dir(root.join("out")).unwrap();
        std::fs::write(root.join("out/new"), "session").unwrap();
        let att = attribute(&repo, &before, None, &[]).unwrap();
        assert_eq!(att.paths, ["out/new"]);
        assert!(att.conflicts.is_empty());
        // Touching a user's file makes it a conflict; so does undoing the user's edit.
        std::fs::write(root.join("notes"), "user notes + session").unwrap();
        std::fs::write(root.join("tracked"), "init\n").unwrap();
        let att = attribute(&repo, &before, None, &[]).unwrap();
        assert_eq!(att.conflicts, ["notes", "tracked"]);
        // Scope and exclusions.
        let att = attribute(&repo, &before, Some("out"), &[]).unwrap();
        assert_eq!(
            (att.paths.as_slice(), att.conflicts.len()),
            (&["out/new".to_string()][..], 0)
        );
        let att = attribute(&repo, &before, None, &["out".into(), "notes".into()]).unwrap();
        assert_eq!(
            (att.paths.len(), att.conflicts.as_slice()),
            (0, &["tracked".to_string()][..])
        );
    }
}
