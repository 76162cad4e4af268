//! `fsi update` through the real binary, on projects made by `fsi new`.
//!
//! "An older fsi" is made the way it would look on disk: the project's files and its recorded
//! base (`refs/fsi/base`) hold an older render of a skeleton file; this fsi renders the current
//! one. That is exactly the state a project made by an older fsi is in, without building a
//! second fsi.

use std::path::Path;
use std::process::Output;

mod common;
use common::{combined, fsi};

fn new_project(dir: &Path, extra: &[&str]) -> std::path::PathBuf {
    let mut cmd = fsi();
    cmd.current_dir(dir)
        .args(["new", "demo", "--yes"])
        .args(extra);
    common::run_ok(&mut cmd);
    let root = dir.join("demo");
    let repo = git2::Repository::open(&root).unwrap();
    let mut cfg = repo.config().unwrap();
    cfg.set_str("user.name", "t").unwrap();
    cfg.set_str("user.email", "t@example.com").unwrap();
    root
}

fn update(root: &Path, args: &[&str]) -> Output {
    let mut cmd = fsi();
    cmd.current_dir(root).arg("update").args(args);
    common::run(&mut cmd)
}

fn git(root: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(root)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", combined(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// Make `rel` look as an older fsi rendered it: `old` in the working tree (committed) and in the
/// recorded base.
fn older_render(root: &Path, rel: &str, old: &str) {
    std::fs::write(root.join(rel), old).unwrap();
    git(root, &["commit", "-qam", "made by an older fsi"]);
    let repo = git2::Repository::open(root).unwrap();
    let base = repo
        .find_reference("refs/fsi/base")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let mut index = git2::Index::new().unwrap();
    index.read_tree(&base.tree().unwrap()).unwrap();
    let blob = repo.blob(old.as_bytes()).unwrap();
    let mut entry = index.get_path(Path::new(rel), 0).unwrap();
    entry.id = blob;
    entry.file_size = old.len() as u32;
    index.add(&entry).unwrap();
    let tree = repo.find_tree(index.write_tree_to(&repo).unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    let older = repo
        .commit(None, &sig, &sig, "older base", &tree, &[&base])
        .unwrap();
    repo.reference("refs/fsi/base", older, true, "test")
        .unwrap();
}

fn head(root: &Path) -> String {
    git(root, &["rev-parse", "HEAD"]).trim().to_string()
}

fn status(root: &Path) -> String {
    git(root, &["status", "--porcelain"])
}

const FILE: &str = "backend/app/health.py";

#[test]
fn a_fresh_project_is_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let root = new_project(dir.path(), &[]);
    let before = head(&root);
    let out = update(&root, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", combined(&out));
    assert!(combined(&out).contains("up to date"), "{}", combined(&out));
    assert_eq!(head(&root), before, "no commit");
    assert_eq!(status(&root), "");
}

#[test]
fn a_skeleton_change_merges_with_the_users_edits_in_one_commit() {
    let dir = tempfile::tempdir().unwrap();
    let root = new_project(dir.path(), &[]);
    let current = std::fs::read_to_string(root.join(FILE)).unwrap();
    let old = current.replacen("GET /health", "GET /health (older wording)", 1);
    assert_ne!(old, current);
    older_render(&root, FILE, &old);
    // The user edits the same file elsewhere, and another file.
    let edited = format!("{old}\n# the user's note\n");
    std::fs::write(root.join(FILE), &edited).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap() + "\nOur notes.\n";
    std::fs::write(root.join("README.md"), &readme).unwrap();
    git(&root, &["commit", "-qam", "user edits"]);
    let before = head(&root);

    // --dry-run: the diff, nothing written.
    let dry = update(&root, &["--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", combined(&dry));
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(text.contains(&format!("+++ b/{FILE}")), "{text}");
    assert!(
        text.contains("-\"\"\"GET /health (older wording)"),
        "{text}"
    );
    assert!(text.contains("+\"\"\"GET /health:"), "{text}");
    assert_eq!(status(&root), "");
    assert_eq!(head(&root), before);

    let out = update(&root, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", combined(&out));
    let merged = std::fs::read_to_string(root.join(FILE)).unwrap();
    assert_eq!(merged, format!("{current}\n# the user's note\n"));
    assert_eq!(
        std::fs::read_to_string(root.join("README.md")).unwrap(),
        readme
    );
    assert_eq!(status(&root), "", "tree clean");
    let log = git(&root, &["log", "--format=%s", &format!("{before}..HEAD")]);
    assert_eq!(log.lines().count(), 1, "one commit: {log}");
    assert!(log.starts_with("chore: update to fsi"), "{log}");

    // A second update has nothing to do.
    let again = update(&root, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", combined(&again));
    assert!(
        combined(&again).contains("up to date"),
        "{}",
        combined(&again)
    );
    assert_eq!(
        git(&root, &["log", "--format=%s", &format!("{before}..HEAD")])
            .lines()
            .count(),
        1
    );

    // What CI runs holds afterwards: plans valid, types in sync.
    let mut verify = fsi();
    verify.current_dir(&root).arg("verify");
    let verified = common::run(&mut verify);
    assert_eq!(verified.status.code(), Some(0), "{}", combined(&verified));
}

#[test]
fn an_edit_on_the_changed_lines_gives_markers_and_keeps_the_users_text() {
    let dir = tempfile::tempdir().unwrap();
    let root = new_project(dir.path(), &[]);
    let current = std::fs::read_to_string(root.join(FILE)).unwrap();
    let old = current.replacen("GET /health:", "GET /health (older):", 1);
    older_render(&root, FILE, &old);
    let mine = old.replacen("GET /health (older):", "GET /health (OUR WORDS):", 1);
    std::fs::write(root.join(FILE), &mine).unwrap();
    git(&root, &["commit", "-qam", "user edit on the same line"]);
    let before = head(&root);

    let out = update(&root, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", combined(&out));
    assert!(
        combined(&out).contains(&format!("conflict: {FILE}")),
        "{}",
        combined(&out)
    );
    let text = std::fs::read_to_string(root.join(FILE)).unwrap();
    assert!(
        text.contains("<<<<<<< yours\n\"\"\"GET /health (OUR WORDS):"),
        "{text}"
    );
    assert!(text.contains("=======\n\"\"\"GET /health:"), "{text}");
    assert!(text.contains(">>>>>>> fsi "), "{text}");
    assert_eq!(
        head(&root),
        before,
        "nothing committed while conflicts remain"
    );

    // Another update waits for the resolution; --continue refuses while markers remain.
    assert_eq!(update(&root, &[]).status.code(), Some(3));
    assert_eq!(update(&root, &["--continue"]).status.code(), Some(3));

    // --abort puts the file back as it was.
    let abort = update(&root, &["--abort"]);
    assert_eq!(abort.status.code(), Some(0), "{}", combined(&abort));
    assert_eq!(std::fs::read_to_string(root.join(FILE)).unwrap(), mine);
    assert_eq!(status(&root), "");

    // Again, resolved by hand this time, then --continue commits once and records the base.
    assert_eq!(update(&root, &[]).status.code(), Some(1));
    std::fs::write(root.join(FILE), &mine).unwrap();
    let done = update(&root, &["--continue"]);
    assert_eq!(done.status.code(), Some(0), "{}", combined(&done));
    assert_eq!(
        git(&root, &["log", "--format=%s", &format!("{before}..HEAD")])
            .lines()
            .count(),
        1
    );
    let after = update(&root, &[]);
    assert_eq!(after.status.code(), Some(0), "{}", combined(&after));
    assert!(
        combined(&after).contains("up to date"),
        "{}",
        combined(&after)
    );
    assert_eq!(
        std::fs::read_to_string(root.join(FILE)).unwrap(),
        mine,
        "the user's resolution stays"
    );
}

#[test]
fn deleted_files_stay_deleted_and_a_dirty_tree_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = new_project(dir.path(), &[]);
    let current = std::fs::read_to_string(root.join(FILE)).unwrap();
    older_render(
        &root,
        FILE,
        &current.replacen("GET /health", "GET /health (old)", 1),
    );

    std::fs::write(root.join("README.md"), "changed, not committed\n").unwrap();
    let dirty = update(&root, &[]);
    assert_eq!(dirty.status.code(), Some(3), "{}", combined(&dirty));
    assert!(
        combined(&dirty).contains("README.md"),
        "{}",
        combined(&dirty)
    );
    git(&root, &["checkout", "--", "README.md"]);

    git(&root, &["rm", "-q", FILE]);
    git(&root, &["commit", "-qm", "we do not want it"]);
    let out = update(&root, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", combined(&out));
    assert!(!root.join(FILE).exists(), "the user's deletion stands");
    assert!(
        combined(&out).contains(&format!("kept deleted: {FILE}")),
        "{}",
        combined(&out)
    );
}

#[test]
fn a_clone_without_the_base_ref_uses_the_scaffold_commit() {
    let dir = tempfile::tempdir().unwrap();
    let root = new_project(dir.path(), &[]);
    let clone = dir.path().join("clone");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            root.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    assert!(git(&clone, &["for-each-ref", "refs/fsi"]).is_empty());
    let out = update(&clone, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", combined(&out));
    assert!(combined(&out).contains("up to date"), "{}", combined(&out));
}

#[test]
fn update_and_add_wait_for_no_one_while_another_fsi_holds_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let root = new_project(dir.path(), &[]);
    let current = std::fs::read_to_string(root.join(FILE)).unwrap();
    older_render(
        &root,
        FILE,
        &current.replacen("GET /health", "GET /health (old)", 1),
    );
    // Another fsi (say `fsi run`) holds the project lock.
    std::fs::create_dir_all(root.join(".fsi")).unwrap();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join(".fsi/lock"))
        .unwrap();
    let held = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock).unwrap();
    let before = head(&root);
    let out = update(&root, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", combined(&out));
    assert!(combined(&out).contains("another fsi"), "{}", combined(&out));
    let mut add = fsi();
    add.current_dir(&root)
        .args(["add", "resource", "book", "--field", "title:str"]);
    let added = common::run(&mut add);
    assert_eq!(added.status.code(), Some(3), "{}", combined(&added));
    assert_eq!(head(&root), before);
    assert_eq!(status(&root), "");
    drop(held);
    let out = update(&root, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", combined(&out));
}
