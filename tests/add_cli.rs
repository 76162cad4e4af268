//! `fsi add resource` through the real binary: what it writes, what it refuses, and that a
//! refusal or a dry run changes nothing. (tests/e2e_add.rs installs and runs what it writes.)

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{combined, fsi};

const BOOK: &[&str] = &[
    "resource",
    "book",
    "--field",
    "title:str",
    "--field",
    "pages:int",
    "--field",
    "price:decimal",
    "--field",
    "published:date?",
    "--field",
    "in_stock:bool",
];

fn new_project(dir: &Path, extra: &[&str]) -> PathBuf {
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

fn add(root: &Path, args: &[&str]) -> Output {
    let mut cmd = fsi();
    cmd.current_dir(root).arg("add").args(args);
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

/// Every file's path and a hash of its bytes (outside .git and fsi's own .fsi state), to prove
/// a refusal changed nothing.
fn tree(root: &Path) -> Vec<(String, u64)> {
    use std::hash::{Hash, Hasher};
    let mut out: Vec<(String, u64)> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git" && e.file_name() != ".fsi")
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(root).unwrap().display().to_string(),
                {
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    std::fs::read(e.path()).unwrap().hash(&mut h);
                    h.finish()
                },
            )
        })
        .collect();
    out.sort();
    out
}

/// `fsi add resource book … --dry-run`: exit 0, the diff it prints.
fn dry_run_book(root: &Path) -> String {
    let mut args = BOOK.to_vec();
    args.push("--dry-run");
    let out = add(root, &args);
    assert_eq!(out.status.code(), Some(0), "{}", combined(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The book add left everything in one commit, and the recorded base has the slice: an update
/// right after is a no-op.
fn committed_and_up_to_date(root: &Path) {
    assert_eq!(
        git(root, &["status", "--porcelain"]),
        "",
        "everything committed"
    );
    assert!(
        git(root, &["log", "-1", "--format=%s"]).starts_with("feat(books): add the book resource")
    );
    let mut update = fsi();
    update.current_dir(root).arg("update");
    let up = common::run(&mut update);
    assert_eq!(up.status.code(), Some(0), "{}", combined(&up));
    assert!(combined(&up).contains("up to date"), "{}", combined(&up));
}

#[test]
fn dry_run_prints_hunks_and_leaves_the_tree_clean() {
    let dir = tempfile::tempdir().unwrap();
    let root = new_project(dir.path(), &[]);
    let before = tree(&root);
    let diff = dry_run_book(&root);
    assert!(
        diff.contains("+++ b/backend/app/modules/books/models.py\n@@ "),
        "{diff}"
    );
    assert!(diff.contains("+++ b/backend/app/main.py\n@@ "), "{diff}");
    assert!(diff.contains("+++ b/frontend/src/App.tsx\n@@ "), "{diff}");
    assert!(diff.contains("+++ b/sessions/BE-05.xml\n@@ "), "{diff}");
    assert!(diff.contains("+++ b/fsi.toml\n@@ "), "{diff}");
    assert!(diff.contains("+name = \"book\""), "{diff}");
    assert_eq!(git(&root, &["status", "--porcelain"]), "");
    assert_eq!(tree(&root), before);
}

#[test]
fn add_writes_the_slice_commits_it_and_a_second_add_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = new_project(dir.path(), &[]);
    let out = add(&root, BOOK);
    assert_eq!(out.status.code(), Some(0), "{}", combined(&out));
    for f in [
        "backend/app/modules/books/controller.py",
        "backend/app/modules/books/service.py",
        "backend/app/modules/books/repository.py",
        "backend/app/modules/books/dtos.py",
        "backend/app/modules/books/models.py",
        "backend/migrations/versions/0002_books.py",
        "backend/tests/test_books.py",
        "frontend/src/types/books.ts",
        "sessions/BE-05.xml",
        "sessions/FE-03.xml",
    ] {
        assert!(root.join(f).is_file(), "{f} missing: {}", combined(&out));
    }
    let migration =
        std::fs::read_to_string(root.join("backend/migrations/versions/0002_books.py")).unwrap();
    assert!(migration.contains("down_revision"), "{migration}");
    assert!(
        migration.contains("\"0001\""),
        "chained on the head: {migration}"
    );
    let main = std::fs::read_to_string(root.join("backend/app/main.py")).unwrap();
    assert!(main.contains("url_prefix=\"/api/books\""), "{main}");
    assert!(
        main.contains("fsi:anchor blueprints"),
        "the anchor stays for the next add"
    );
    let config = std::fs::read_to_string(root.join("fsi.toml")).unwrap();
    assert!(
        config.contains("[[resources]]\nname = \"book\""),
        "{config}"
    );
    committed_and_up_to_date(&root);

    // The same add again: exit 3, nothing changed.
    let head = git(&root, &["rev-parse", "HEAD"]);
    let before = tree(&root);
    let again = add(&root, BOOK);
    assert_eq!(again.status.code(), Some(3), "{}", combined(&again));
    assert!(
        combined(&again).contains("exists already"),
        "{}",
        combined(&again)
    );
    assert_eq!(tree(&root), before);
    assert_eq!(git(&root, &["rev-parse", "HEAD"]), head);

    // A second resource continues the numbering and chains on the first.
    let out = add(
        &root,
        &["resource", "author", "--field", "name:str", "--no-frontend"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", combined(&out));
    let second =
        std::fs::read_to_string(root.join("backend/migrations/versions/0003_authors.py")).unwrap();
    assert!(second.contains("\"0002_books\""), "{second}");
    assert!(root.join("sessions/BE-06.xml").is_file());
    assert!(
        !root.join("frontend/src/pages/AuthorsPage.tsx").exists(),
        "--no-frontend"
    );
}

/// A Flask project gets the same slice in its own flavour: sync Flask code, the live feed as
/// a Server-Sent Events stream under /sse (or none with `--realtime none`), the anchors of the
/// Flask main.py filled, one commit, and an update right after is a no-op.
#[test]
fn a_flask_project_gets_the_slice_in_its_flavour() {
    let dir = tempfile::tempdir().unwrap();
    let root = new_project(dir.path(), &["--backend", "flask"]);
    let before = tree(&root);
    let diff = dry_run_book(&root);
    for hunk in [
        "+++ b/backend/app/modules/books/controller.py\n@@ ",
        "+from flask import Blueprint, Response\n",
        "+def list_books(query: PageParams) -> tuple[Response, int]:\n",
        "+@feed_blueprint.get(\"/books\")\n",
        "+++ b/backend/app/main.py\n@@ ",
        "+    app.register_blueprint(books_feed_blueprint, url_prefix=\"/sse\")\n",
        "+++ b/backend/tests/test_books.py\n@@ ",
        "+++ b/frontend/src/App.tsx\n@@ ",
        "+++ b/sessions/BE-05.xml\n@@ ",
    ] {
        assert!(diff.contains(hunk), "{hunk:?} not in:\n{diff}");
    }
    assert!(!diff.contains("async def"), "Flask's code is sync:\n{diff}");
    assert!(!diff.contains("/ws"), "no WebSocket on Flask:\n{diff}");
    assert_eq!(git(&root, &["status", "--porcelain"]), "");
    assert_eq!(tree(&root), before, "a dry run writes nothing");

    let out = add(&root, BOOK);
    assert_eq!(out.status.code(), Some(0), "{}", combined(&out));
    let read = |f: &str| std::fs::read_to_string(root.join(f)).unwrap();
    let repository = read("backend/app/modules/books/repository.py");
    assert!(
        repository.contains("from sqlalchemy.orm import Session")
            && !repository.contains("AsyncSession"),
        "{repository}"
    );
    let events = read("backend/app/modules/books/events.py");
    assert!(events.contains("type=\"book.created\""), "{events}");
    assert!(read("frontend/src/types/books.ts").contains("BookResponse"));
    let main = read("backend/app/main.py");
    assert!(main.contains("url_prefix=\"/api/books\""), "{main}");
    assert!(
        main.contains("fsi:anchor blueprints") && main.contains("fsi:anchor blueprint-imports")
    );
    committed_and_up_to_date(&root);

    // Without live updates: no events module, no stream.
    let dir = tempfile::tempdir().unwrap();
    let root = new_project(dir.path(), &["--backend", "flask", "--realtime", "none"]);
    let out = add(&root, BOOK);
    assert_eq!(out.status.code(), Some(0), "{}", combined(&out));
    assert!(root.join("backend/app/modules/books/service.py").is_file());
    assert!(!root.join("backend/app/modules/books/events.py").exists());
    let main = std::fs::read_to_string(root.join("backend/app/main.py")).unwrap();
    assert!(main.contains("url_prefix=\"/api/books\""), "{main}");
    assert!(!main.contains("books_feed_blueprint"), "{main}");
    assert_eq!(git(&root, &["status", "--porcelain"]), "");
}

/// A Quart project with Server-Sent Events gets Quart's async slice with the live feed as a
/// stream under /sse (the realtime module's `serve_feed`, as /sse/items), one commit, and an
/// update right after is a no-op.
#[test]
fn a_quart_project_with_server_sent_events_gets_an_sse_feed() {
    let dir = tempfile::tempdir().unwrap();
    let root = new_project(dir.path(), &["--realtime", "sse"]);
    let before = tree(&root);
    let diff = dry_run_book(&root);
    for hunk in [
        "+++ b/backend/app/modules/books/controller.py\n@@ ",
        "+from quart import Blueprint, Response\n",
        "+async def list_books(query: PageParams) -> tuple[Response, int]:\n",
        "+@feed_blueprint.get(\"/books\")\n",
        "+async def books_feed() -> Response:\n",
        "+    return await serve_feed(books_channel)\n",
        "+++ b/backend/app/main.py\n@@ ",
        "+    app.register_blueprint(books_feed_blueprint, url_prefix=\"/sse\")\n",
        "+++ b/backend/tests/test_books.py\n@@ ",
        "+FEED = \"/sse/books\"\n",
        "+from tests.test_sse import Stream, open_stream, refused, ticket\n",
        "+++ b/frontend/src/App.tsx\n@@ ",
    ] {
        assert!(diff.contains(hunk), "{hunk:?} not in:\n{diff}");
    }
    assert!(
        !diff.contains("/ws"),
        "no WebSocket with realtime = sse:\n{diff}"
    );
    assert!(!diff.contains("websocket"), "no WebSocket route:\n{diff}");
    assert_eq!(git(&root, &["status", "--porcelain"]), "");
    assert_eq!(tree(&root), before, "a dry run writes nothing");

    let out = add(&root, BOOK);
    assert_eq!(out.status.code(), Some(0), "{}", combined(&out));
    let read = |f: &str| std::fs::read_to_string(root.join(f)).unwrap();
    assert!(read("backend/app/modules/books/repository.py").contains("AsyncSession"));
    let events = read("backend/app/modules/books/events.py");
    assert!(events.contains("served by the /sse/books feed"), "{events}");
    let main = read("backend/app/main.py");
    assert!(
        main.contains("app.register_blueprint(books_feed_blueprint, url_prefix=\"/sse\")"),
        "{main}"
    );
    assert!(read("frontend/src/types/books.ts").contains("/sse/books"));
    committed_and_up_to_date(&root);
}

#[test]
fn bad_fields_and_names_are_located_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = new_project(dir.path(), &[]);
    let before = tree(&root);
    for (args, expect) in [
        (
            vec!["resource", "book", "--field", "pages:integer"],
            "unknown type `integer`",
        ),
        (
            vec!["resource", "book", "--field", "class:str"],
            "Python keyword",
        ),
        (
            vec!["resource", "book", "--field", "id:int"],
            "already part of every resource",
        ),
        (
            vec!["resource", "book", "--field", "a:str", "--field", "a:int"],
            "given twice",
        ),
        (
            vec!["resource", "Book", "--field", "a:str"],
            "not snake_case",
        ),
        (
            vec!["resource", "item", "--field", "a:str"],
            "used by the generated",
        ),
        (
            vec!["resource", "book", "--field", "genre:enum(a|)"],
            "not a usable enum choice",
        ),
    ] {
        let out = add(&root, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", combined(&out));
        let text = combined(&out);
        assert!(text.contains(expect), "{args:?}: {text}");
    }
    // The location: the type part of the argument is underlined.
    let out = add(&root, &["resource", "book", "--field", "pages:integer"]);
    let text = combined(&out);
    assert!(text.contains("pages:integer"), "{text}");
    assert!(text.contains("unknown type"), "{text}");
    assert_eq!(tree(&root), before);
}

#[test]
fn a_removed_anchor_or_a_dirty_tree_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let root = new_project(dir.path(), &[]);
    let app = root.join("frontend/src/App.tsx");
    let text = std::fs::read_to_string(&app).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.contains("fsi:anchor routes"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without, text, "the skeleton has a routes anchor");
    std::fs::write(&app, &without).unwrap();

    // Dirty first: refused before anything else is looked at.
    let before = tree(&root);
    let dirty = add(&root, BOOK);
    assert_eq!(dirty.status.code(), Some(3), "{}", combined(&dirty));
    assert!(
        combined(&dirty).contains("frontend/src/App.tsx"),
        "{}",
        combined(&dirty)
    );
    assert_eq!(tree(&root), before);

    git(&root, &["commit", "-qam", "we reorganised the routes"]);
    let out = add(&root, BOOK);
    assert_eq!(out.status.code(), Some(3), "{}", combined(&out));
    let msg = combined(&out);
    assert!(
        msg.contains("frontend/src/App.tsx") && msg.contains("fsi:anchor routes"),
        "{msg}"
    );
    assert_eq!(tree(&root), before, "nothing written");
    assert_eq!(git(&root, &["status", "--porcelain"]), "");
}

#[test]
fn outside_a_project_add_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = add(dir.path(), BOOK);
    assert_eq!(out.status.code(), Some(3), "{}", combined(&out));
    assert!(combined(&out).contains("fsi new"), "{}", combined(&out));
}
