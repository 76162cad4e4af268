//! The base of a project's 3-way update: what fsi rendered for the project last (`fsi new`, each
//! `fsi add`, the last `fsi update`), kept in the project's own git object store as a commit under
//! `refs/fsi/base` — outside every branch, so it never shows in the project's history, and needs
//! nothing but the repository. Files git ignores (`.env`, which holds a secret) are never stored.
//!
//! A clone does not fetch `refs/fsi/*` by default; [`read`] then falls back (see [`Base`]).

use std::collections::BTreeMap;
use std::path::Path;

use super::{Plan, ScaffoldError};

/// Where the base lives.
pub const BASE_REF: &str = "refs/fsi/base";
/// An update whose conflicts are being resolved: the base it will become.
pub const PENDING_REF: &str = "refs/fsi/pending";

/// One file of a base: its bytes and whether it is executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseFile {
    pub contents: Vec<u8>,
    pub executable: bool,
}

/// Project-relative path → file.
pub type Files = BTreeMap<String, BaseFile>;

/// The files of a plan that a base keeps: those git would track.
pub fn files_of(repo: &git2::Repository, plan: &Plan) -> Result<Files, git2::Error> {
    let mut out = Files::new();
    for f in &plan.files {
        if repo.is_path_ignored(&f.path)? {
            continue;
        }
        out.insert(
            f.path.clone(),
            BaseFile {
                contents: f.contents.clone(),
                executable: f.executable,
            },
        );
    }
    Ok(out)
}

fn git_err(root: &Path) -> impl Fn(git2::Error) -> ScaffoldError + '_ {
    move |source| ScaffoldError::Git {
        path: root.to_path_buf(),
        source,
    }
}

/// Store `files` as the commit `reference` points to (its parent: what it pointed to before).
/// Nothing new is written when the tree is the same. Returns the commit.
pub fn record(
    root: &Path,
    files: &Files,
    reference: &str,
    message: &str,
) -> Result<git2::Oid, ScaffoldError> {
    let err = git_err(root);
    let repo = git2::Repository::open(root).map_err(&err)?;
    record_in(&repo, files, reference, message).map_err(err)
}

pub fn record_in(
    repo: &git2::Repository,
    files: &Files,
    reference: &str,
    message: &str,
) -> Result<git2::Oid, git2::Error> {
    let mut index = git2::Index::new()?;
    for (path, f) in files {
        let id = repo.blob(&f.contents)?;
        index.add(&git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: if f.executable { 0o100755 } else { 0o100644 },
            uid: 0,
            gid: 0,
            file_size: f.contents.len() as u32,
            id,
            flags: path.len().min(0xfff) as u16,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        })?;
    }
    let tree_id = index.write_tree_to(repo)?;
    let parent = repo
        .find_reference(reference)
        .ok()
        .and_then(|r| r.peel_to_commit().ok());
    if let Some(p) = &parent
        && p.tree_id() == tree_id
    {
        return Ok(p.id());
    }
    let tree = repo.find_tree(tree_id)?;
    let sig = repo
        .signature()
        .or_else(|_| git2::Signature::now("fsi", "fsi@localhost"))?;
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let oid = repo.commit(None, &sig, &sig, message, &tree, &parents)?;
    repo.reference(reference, oid, true, message)?;
    Ok(oid)
}

/// Point `reference` at `commit` (or delete it when `None`).
pub fn set(
    root: &Path,
    reference: &str,
    commit: Option<git2::Oid>,
    message: &str,
) -> Result<(), ScaffoldError> {
    let err = git_err(root);
    let repo = git2::Repository::open(root).map_err(&err)?;
    match commit {
        Some(oid) => {
            repo.reference(reference, oid, true, message)
                .map_err(&err)?;
        }
        None => {
            if let Ok(mut r) = repo.find_reference(reference) {
                r.delete().map_err(&err)?;
            }
        }
    }
    Ok(())
}

/// The commit `reference` points to, if it exists.
pub fn target(root: &Path, reference: &str) -> Result<Option<git2::Oid>, ScaffoldError> {
    let err = git_err(root);
    let repo = git2::Repository::open(root).map_err(&err)?;
    Ok(repo
        .find_reference(reference)
        .ok()
        .and_then(|r| r.peel_to_commit().ok())
        .map(|c| c.id()))
}

/// Read the files of a commit's tree.
pub fn files_at(repo: &git2::Repository, commit: git2::Oid) -> Result<Files, git2::Error> {
    let tree = repo.find_commit(commit)?.tree()?;
    let mut out = Files::new();
    let mut failed = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() != Some(git2::ObjectType::Blob) {
            return git2::TreeWalkResult::Ok;
        }
        let path = format!("{dir}{}", entry.name().unwrap_or_default());
        match repo.find_blob(entry.id()) {
            Ok(blob) => {
                out.insert(
                    path,
                    BaseFile {
                        contents: blob.content().to_vec(),
                        executable: entry.filemode() == 0o100755,
                    },
                );
                git2::TreeWalkResult::Ok
            }
            Err(e) => {
                failed = Some(e);
                git2::TreeWalkResult::Abort
            }
        }
    })?;
    match failed {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Where a base came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `refs/fsi/base`.
    Recorded(git2::Oid),
    /// No recorded base (a clone that did not fetch `refs/fsi/*`, or a project made before fsi
    /// recorded one): the project's first commit, which `fsi new` made from its render. Files of
    /// later `fsi add`s are then missing from it: both sides added them, so they merge as long
    /// as neither changed them.
    FirstCommit(git2::Oid),
}

/// The base of an update.
#[derive(Debug, Clone)]
pub struct Base {
    pub files: Files,
    pub origin: Origin,
}

/// Find the base: `refs/fsi/base`, else the repository's root commit when it is fsi's scaffold
/// commit. `None` when there is neither.
pub fn read(root: &Path) -> Result<Option<Base>, ScaffoldError> {
    let err = git_err(root);
    let repo = git2::Repository::open(root).map_err(&err)?;
    if let Some(c) = repo
        .find_reference(BASE_REF)
        .ok()
        .and_then(|r| r.peel_to_commit().ok())
    {
        return Ok(Some(Base {
            files: files_at(&repo, c.id()).map_err(&err)?,
            origin: Origin::Recorded(c.id()),
        }));
    }
    let Ok(head) = repo.head().and_then(|h| h.peel_to_commit()) else {
        return Ok(None);
    };
    let mut walk = repo.revwalk().map_err(&err)?;
    walk.push(head.id()).map_err(&err)?;
    walk.simplify_first_parent().map_err(&err)?;
    let mut root_commit = None;
    for oid in walk {
        root_commit = Some(oid.map_err(&err)?);
    }
    let Some(first) = root_commit else {
        return Ok(None);
    };
    let commit = repo.find_commit(first).map_err(&err)?;
    if !commit
        .message()
        .unwrap_or_default()
        .starts_with("chore: scaffold ")
    {
        return Ok(None);
    }
    Ok(Some(Base {
        files: files_at(&repo, first).map_err(&err)?,
        origin: Origin::FirstCommit(first),
    }))
}
