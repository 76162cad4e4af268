//! `fsi add resource` end to end, for real, on a freshly generated project: `fsi new`, then the
//! issue's `fsi add resource book …`, then `fsi run` of the two sessions the add wrote (BE-05:
//! uv sync, alembic upgrade, the slice's pytest, the migrations' round trip, ruff, the served
//! route; FE-03: npm ci, the book vitest files, tsc, `fsi types --check`, vite build), then the
//! API served by granian: create (201), list, 400 on a bad value of each type, 401 without a
//! token.
//!
//! Needs uv, node/npm and curl (`scripts/install-test-deps`); installs go through uv's and
//! npm's caches, as tests/e2e_workflow.rs does. A missing tool fails the test.
#![allow(clippy::print_stderr)]

mod common;

use std::path::Path;
use std::process::Output;

use common::http;
use serde_json::json;

fn fsi_in(root: &Path, args: &[&str]) -> Output {
    let mut cmd = common::fsi();
    cmd.args(args)
        .current_dir(root)
        .env_remove("GITHUB_ACTIONS");
    common::run(&mut cmd)
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn an_added_resource_passes_its_sessions_and_serves_its_api() {
    for tool in ["uv", "npm", "node", "curl"] {
        common::tool(tool);
    }
    let tmp = tempfile::tempdir().unwrap();
    let new = fsi_in(tmp.path(), &["new", "demo", "--yes"]);
    assert!(new.status.success(), "{}", text(&new));
    let root = tmp.path().join("demo");

    let add = fsi_in(
        &root,
        &[
            "add",
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
            "--field",
            "genre:enum(fiction|poetry)",
        ],
    );
    let out = text(&add);
    assert!(add.status.success(), "fsi add resource failed:\n{out}");
    for path in [
        "backend/app/modules/books/__init__.py",
        "backend/app/modules/books/controller.py",
        "backend/app/modules/books/events.py",
        "backend/migrations/versions/0002_books.py",
        "backend/tests/test_books.py",
        "frontend/src/pages/BooksPage.tsx",
        "frontend/src/components/BookForm.tsx",
        "frontend/src/types/books.ts",
        "sessions/BE-05.xml",
        "sessions/FE-03.xml",
    ] {
        assert!(
            root.join(path).is_file(),
            "{path} missing after add:\n{out}"
        );
    }
    let repo = git2::Repository::open(&root).unwrap();
    let dirty = common::git::uncommitted(&repo);
    assert!(dirty.is_empty(), "add left uncommitted: {dirty:?}");

    // The slice's own sessions prove it (earlier sessions are the scaffold's: assumed done).
    let run = fsi_in(
        &root,
        &[
            "run",
            "BE-05",
            "FE-03",
            "--assume-deps",
            "--port",
            "backend=0",
        ],
    );
    let out = text(&run);
    assert!(run.status.success(), "fsi run BE-05 FE-03 failed:\n{out}");
    assert!(out.contains("2 passed, 0 failed"), "{out}");
    for check in [
        "books_tests",
        "at_head",
        "migrations_roundtrip",
        "ruff",
        "typecheck",
    ] {
        assert!(
            out.contains(&format!("check {check}")),
            "{check} did not run:\n{out}"
        );
    }
    let types = fsi_in(&root, &["types", "--check"]);
    assert!(types.status.success(), "{}", text(&types));
    // What the project's CI runs: plans valid, types in sync, the completed sessions (BE-05,
    // FE-03) still verified.
    let verify = fsi_in(&root, &["verify", "--port", "backend=0"]);
    assert!(
        verify.status.success(),
        "fsi verify failed:\n{}",
        text(&verify)
    );

    // The API, served by granian on the development database BE-05 migrated.
    let logs = tempfile::tempdir().unwrap();
    let api = common::api_server::ApiServer::start(&root.join("backend"), &[], logs.path());
    let books = api.url("/api/books");
    let book = json!({"title": "Dune", "pages": 412, "price": "9.90", "in_stock": true, "genre": "fiction"});
    let refused = http::post_json(&books, &book, &[]).unwrap();
    assert_eq!(refused.status, 401, "{refused:?}");

    let user = http::post_json(
        &api.url("/api/auth/register"),
        &json!({"email": "reader@example.com", "password": "correct horse battery", "display_name": "Reader"}),
        &[],
    )
    .unwrap();
    assert_eq!(user.status, 201, "{user:?}\n{}", api.log_tail());
    let user = user.json()["data"].clone();
    let bearer = format!("Bearer {}", user["access_token"].as_str().unwrap());
    let auth = [("Authorization", bearer.as_str())];

    let created = http::post_json(&books, &book, &auth).unwrap();
    assert_eq!(created.status, 201, "{created:?}\n{}", api.log_tail());
    let created = created.json()["data"].clone();
    assert_eq!(created["price"], "9.90", "{created}");
    assert_eq!(created["published"], serde_json::Value::Null, "{created}");
    assert_eq!(created["owner_id"], user["user"]["id"], "{created}");

    let listed = http::get_with(&books, &auth).unwrap();
    assert_eq!(listed.status, 200, "{listed:?}");
    let page = listed.json()["data"].clone();
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["items"][0]["id"], created["id"], "{page}");

    for (field, bad) in [
        ("title", json!("")),
        ("pages", json!("many")),
        ("price", json!("1.001")),
        ("published", json!("2024-13-45")),
        ("in_stock", json!("maybe")),
        ("genre", json!("sci-fi")),
    ] {
        let mut body = book.clone();
        body[field] = bad.clone();
        let response = http::post_json(&books, &body, &auth).unwrap();
        assert_eq!(response.status, 400, "{field}={bad}: {response:?}");
        let error = response.json();
        assert_eq!(error["error"], "VALIDATION_ERROR", "{error}");
        assert_eq!(error["details"]["fields"][0]["loc"][0], field, "{error}");
    }
}
