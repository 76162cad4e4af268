//! Questions tests ask of a git repository.

/// Paths that are modified or untracked (ignored files excluded): what a commit left out.
pub fn uncommitted(repo: &git2::Repository) -> Vec<String> {
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true).include_ignored(false);
    repo.statuses(Some(&mut opts))
        .unwrap()
        .iter()
        .map(|s| s.path().unwrap().to_string())
        .collect()
}

/// Messages of all commits reachable from HEAD, newest first (none before the first commit).
pub fn commit_messages(repo: &git2::Repository) -> Vec<String> {
    let Ok(head) = repo.head() else {
        return Vec::new();
    };
    let mut walk = repo.revwalk().unwrap();
    walk.push(head.target().unwrap()).unwrap();
    walk.map(|oid| {
        repo.find_commit(oid.unwrap())
            .unwrap()
            .message()
            .unwrap()
            .to_string()
    })
    .collect()
}
