//! Git through git2: session commits (`type(scope): description` + body + `Session: ID`),
//! checkpoint (WIP) commits and rollback reverts.

use std::path::{Path, PathBuf};

use git2::{IndexAddOption, Repository, Signature};

use super::model::{CommitSpec, Session};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{0} is not inside a git repository")]
    NoRepo(PathBuf),
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("{0}")]
    Other(String),
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

/// Stage everything under `pathspec` (relative to the repository root; empty = all, deletions
/// included) except the `exclude` paths, and commit with `message`. Returns the short hash.
/// Empty commits are allowed: a session always gets its own commit carrying its trailer.
pub fn commit_all(
    repo: &Repository,
    pathspecs: &[String],
    exclude: &[String],
    message: &str,
) -> Result<String, GitError> {
    let mut index = repo.index()?;
    let specs: Vec<&str> = if pathspecs.is_empty() {
        vec!["."]
    } else {
        pathspecs.iter().map(String::as_str).collect()
    };
    index.add_all(specs.iter(), IndexAddOption::DEFAULT, None)?;
    index.update_all(specs.iter(), None)?;
    index.write()?;
    if !exclude.is_empty() {
        // Like `git reset -- paths`: their index entries go back to HEAD (or away).
        let head = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        repo.reset_default(head.as_ref().map(|c| c.as_object()), exclude.iter())?;
        index = repo.index()?;
        index.read(true)?;
    }
    commit_index(repo, &mut index, message)
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

fn commit_index(
    repo: &Repository,
    index: &mut git2::Index,
    message: &str,
) -> Result<String, GitError> {
    let tree_id = index.write_tree()?;
    let tree = repo.find_tree(tree_id)?;
    let sig = signature(repo)?;
    let parent = match repo.head() {
        Ok(h) => Some(h.peel_to_commit()?),
        Err(_) => None,
    };
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let oid = repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)?;
    short(repo, oid)
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
pub fn revert(repo: &Repository, hash: &str, id: &str) -> Result<String, GitError> {
    let obj = repo.revparse_single(hash)?;
    let commit = obj.peel_to_commit()?;
    let statuses = repo.statuses(Some(
        git2::StatusOptions::new()
            .include_untracked(false)
            .include_ignored(false),
    ))?;
    if !statuses.is_empty() {
        return Err(GitError::Other(
            "the working tree has uncommitted changes; commit or stash them before a rollback"
                .into(),
        ));
    }
    repo.revert(&commit, None)?;
    let mut index = repo.index()?;
    if index.has_conflicts() {
        repo.cleanup_state()?;
        return Err(GitError::Other(format!(
            "reverting {hash} conflicts with later changes; resolve by hand (git revert {hash})"
        )));
    }
    let subject = commit.summary().ok().flatten().unwrap_or("").to_string();
    let msg = format!(
        "Revert \"{subject}\"\n\nThis reverts commit {}.\n\nSession: {id}-rollback\n",
        commit.id()
    );
    let h = commit_index(repo, &mut index, &msg)?;
    repo.cleanup_state()?;
    Ok(h)
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
    let repo = open(dir)?;
    let mut out = std::collections::BTreeMap::new();
    let Ok(head) = repo.head() else {
        return Ok(out); // no commits yet
    };
    let Some(target) = head.target() else {
        return Ok(out);
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut walk = repo.revwalk()?;
    walk.push(target)?;
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
            if seen.insert(id.to_string()) && done {
                out.insert(id.to_string(), short(&repo, oid)?);
            }
            break;
        }
    }
    Ok(out)
}
