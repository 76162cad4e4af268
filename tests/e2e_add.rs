//! `fsi add resource` end to end, for real, on a freshly generated project: `fsi new`, then the
//! issue's `fsi add resource book …`, then `fsi run` of the two sessions the add wrote (BE-05:
//! uv sync, alembic upgrade, the slice's pytest, the migrations' round trip, ruff, the served
//! route; FE-03: npm ci, the book vitest files, tsc, `fsi types --check`, vite build), then the
//! API served by granian: create (201), list, 400 on a bad value of each type, 401 without a
//! token. And the same for a Flask project (`fsi new --backend flask`): BE-05 (its served route
//! through gunicorn) and `fsi verify`, then the API and the /sse/books stream served by gunicorn.
//! The Flask run skips FE-03: the slice's frontend files are the Quart project's, byte for byte
//! (the generated types differ in one doc comment, /sse/books for /ws/books).
//!
//! Needs uv, node/npm and curl (`scripts/install-test-deps`); installs go through uv's and
//! npm's caches, as tests/e2e_workflow.rs does. A missing tool fails the test.
#![allow(clippy::print_stderr)]

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::http;
use common::sse::SseClient;
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

/// The fields (and `extra`).
const BOOK_FIELDS: &[&str] = &[
    "title:str",
    "pages:int",
    "price:decimal",
    "published:date?",
    "in_stock:bool",
];

/// `fsi new demo --yes NEW_ARGS` in `tmp`, then `fsi add resource book` with the fields
/// and `extra`: the slice's files are there and committed. The project's root.
fn new_with_books(tmp: &Path, new_args: &[&str], extra: &[&str]) -> std::path::PathBuf {
    let mut args = vec!["new", "demo", "--yes"];
    args.extend_from_slice(new_args);
    let new = fsi_in(tmp, &args);
    assert!(new.status.success(), "{}", text(&new));
    let root = tmp.join("demo");

    let mut args = vec!["add", "resource", "book"];
    for field in BOOK_FIELDS.iter().chain(extra) {
        args.extend_from_slice(&["--field", field]);
    }
    let add = fsi_in(&root, &args);
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
    root
}

/// `fsi run SESSIONS --assume-deps`: every one passes, the resource checks and `extra_checks`
/// run; then the types are in sync and `fsi verify` (what the project's CI runs: plans valid,
/// types in sync, the completed sessions still verified) holds.
fn run_and_verify(root: &Path, sessions: &[&str], extra_checks: &[&str]) {
    let mut args = vec!["run"];
    args.extend_from_slice(sessions);
    args.extend_from_slice(&["--assume-deps", "--port", "backend=0"]);
    let run = fsi_in(root, &args);
    let out = text(&run);
    assert!(run.status.success(), "fsi run {sessions:?} failed:\n{out}");
    assert!(
        out.contains(&format!("{} passed, 0 failed", sessions.len())),
        "{out}"
    );
    let checks = ["books_tests", "at_head", "migrations_roundtrip", "ruff"];
    for check in checks.iter().chain(extra_checks) {
        assert!(
            out.contains(&format!("check {check}")),
            "{check} did not run:\n{out}"
        );
    }
    let types = fsi_in(root, &["types", "--check"]);
    assert!(types.status.success(), "{}", text(&types));
    let verify = fsi_in(root, &["verify", "--port", "backend=0"]);
    assert!(
        verify.status.success(),
        "fsi verify failed:\n{}",
        text(&verify)
    );
}

/// The project's backend served by its production server; `book` is refused without a token
/// (401); a registered user (the AuthResponse payload) is returned with the server and its logs
/// directory (declared first: dropped after the server).
fn serve_and_register(
    root: &Path,
    book: &serde_json::Value,
) -> (
    tempfile::TempDir,
    common::api_server::ApiServer,
    serde_json::Value,
) {
    let logs = tempfile::tempdir().unwrap();
    let api = common::api_server::ApiServer::start(&root.join("backend"), &[], logs.path());
    let refused = http::post_json(&api.url("/api/books"), book, &[]).unwrap();
    assert_eq!(refused.status, 401, "{refused:?}");
    let user = http::post_json(
        &api.url("/api/auth/register"),
        &json!({"email": "reader@example.com", "password": "correct horse battery", "display_name": "Reader"}),
        &[],
    )
    .unwrap();
    assert_eq!(user.status, 201, "{user:?}\n{}", api.log_tail());
    let user = user.json()["data"].clone();
    (logs, api, user)
}

#[test]
fn an_added_resource_passes_its_sessions_and_serves_its_api() {
    for tool in ["uv", "npm", "node", "curl"] {
        common::tool(tool);
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = new_with_books(tmp.path(), &[], &["genre:enum(fiction|poetry)"]);

    // The slice's own sessions prove it (earlier sessions are the scaffold's: assumed done).
    run_and_verify(&root, &["BE-05", "FE-03"], &["typecheck"]);

    // The API, served by granian on the development database BE-05 migrated.
    let book = json!({"title": "Dune", "pages": 412, "price": "9.90", "in_stock": true, "genre": "fiction"});
    let (_logs, api, user) = serve_and_register(&root, &book);
    let books = api.url("/api/books");
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

/// The Flask flavour: BE-05's checks (the slice's pytest, the migrations, ruff, the route served
/// by gunicorn) pass and `fsi verify` holds; then gunicorn serves the API, and a ticket holder's
/// /sse/books stream gets `book.created`.
#[test]
fn an_added_resource_in_a_flask_project_passes_its_session_and_streams_its_events() {
    for tool in ["uv", "curl"] {
        common::tool(tool);
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = new_with_books(tmp.path(), &["--backend", "flask"], &[]);
    let controller =
        std::fs::read_to_string(root.join("backend/app/modules/books/controller.py")).unwrap();
    assert!(
        controller.contains("from flask import Blueprint"),
        "{controller}"
    );

    run_and_verify(&root, &["BE-05"], &["books_served"]);

    // Served by gunicorn on the development database BE-05 migrated.
    let book = json!({"title": "Dune", "pages": 412, "price": "9.90", "in_stock": true});
    let (_logs, api, user) = serve_and_register(&root, &book);
    let books = api.url("/api/books");
    let bearer = format!("Bearer {}", user["access_token"].as_str().unwrap());
    let auth = [("Authorization", bearer.as_str())];

    let without = SseClient::connect_plain(api.port, "/sse/books", &[]).unwrap();
    assert_eq!(without.status, 401, "no ticket: {}", without.body);
    let ticket = http::post_json(&api.url("/api/realtime/ticket"), &json!({}), &auth).unwrap();
    assert_eq!(ticket.status, 201, "{ticket:?}");
    let path = format!(
        "/sse/books?ticket={}",
        ticket.json()["data"]["ticket"].as_str().unwrap()
    );
    let mut live = SseClient::connect_plain(api.port, &path, &[]).unwrap();
    assert_eq!(live.status, 200, "{}", live.body);
    assert!(matches!(
        live.next(Duration::from_secs(10)),
        Ok(common::sse::Item::Retry(_))
    ));

    let created = http::post_json(&books, &book, &auth).unwrap();
    assert_eq!(created.status, 201, "{created:?}\n{}", api.log_tail());
    let created = created.json()["data"].clone();
    assert_eq!(created["price"], "9.90", "{created}");
    assert_eq!(created["published"], serde_json::Value::Null, "{created}");
    let event = live
        .next_event(Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("no book.created on /sse/books: {e}\n{}", api.log_tail()));
    assert_eq!(event.event, "book.created", "{event:?}");
    assert_eq!(
        event.json(),
        json!({"type": "book.created", "data": created})
    );

    let listed = http::get_with(&books, &auth).unwrap();
    assert_eq!(listed.status, 200, "{listed:?}");
    assert_eq!(listed.json()["data"]["total"], 1, "{listed:?}");
    let bad = http::post_json(
        &books,
        &json!({"title": "x", "pages": "many", "price": "1", "in_stock": true}),
        &auth,
    )
    .unwrap();
    assert_eq!(bad.status, 400, "{bad:?}");
    assert_eq!(
        bad.json()["details"]["fields"][0]["loc"][0],
        "pages",
        "{bad:?}"
    );
}
