//! End to end, the Flask flavour: `fsi new demo --backend flask --yes` (Server-Sent Events by
//! default), then its backend for real — the generated pytest suite on SQLite and once on
//! PostgreSQL + Redis, Alembic on PostgreSQL, gunicorn (gevent workers, `gunicorn.conf.py`) serving
//! /health and the API, forged tokens and refresh-token reuse refused, `/openapi.json` valid,
//! and a ticket holder receiving `item.created` over SSE within 2 s of the POST (directly and
//! through the shipped nginx config), the ticket not reusable. Every tool is required.
#![allow(clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::sse::SseClient;
use common::{clean_command, combined, fsi, http, nginx, run_ok, tool};
use serde_json::json;

fn new_project(parent: &Path, name: &str, extra: &[&str]) -> PathBuf {
    run_ok(
        fsi()
            .current_dir(parent)
            .args(["new", name, "--yes", "--backend", "flask"])
            .args(extra),
    );
    parent.join(name)
}

fn uv(backend: &Path) -> Command {
    let mut cmd = clean_command(tool("uv"));
    cmd.current_dir(backend);
    cmd
}

/// The generated suite, as `./scripts/test` runs it (ruff, then pytest); pytest's summary line.
fn checks(backend: &Path, env: &[(&str, &str)]) -> String {
    run_ok(uv(backend).args(["run", "--no-sync", "ruff", "check", "."]));
    let out = run_ok(
        uv(backend)
            .args([
                "run",
                "--no-sync",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-rs",
            ])
            .envs(env.iter().copied()),
    );
    let text = combined(&out);
    let summary = text
        .lines()
        .rev()
        .find(|l| l.contains(" passed"))
        .unwrap_or_else(|| panic!("no pytest summary in:\n{text}"))
        .to_string();
    assert!(
        !summary.contains("failed") && !summary.contains("error"),
        "{text}"
    );
    summary
}

/// `document` passes openapi-spec-validator, from the project's own venv (a locked dev
/// dependency of the generated backend).
fn assert_valid_openapi(backend: &Path, document: &str) {
    let python = backend.join(".venv/bin/python");
    assert!(
        common::is_executable(&python),
        "{} is missing; uv sync first",
        python.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, document).unwrap();
    run_ok(
        clean_command(&python)
            .current_dir(backend)
            .args([
                "-c",
                "import json, sys\n\
                 from openapi_spec_validator import validate\n\
                 from openapi_spec_validator.validation import OpenAPIV31SpecValidator\n\
                 validate(json.load(open(sys.argv[1])), cls=OpenAPIV31SpecValidator)",
            ])
            .arg(&file),
    );
}

fn bearer_of(response: &http::Response) -> String {
    let token = response.json()["data"]["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token: {response:?}"))
        .to_string();
    format!("Bearer {token}")
}

fn ticket(url: &str, bearer: &str) -> String {
    let answer = http::post_json(url, &json!({}), &[("Authorization", bearer)]).unwrap();
    assert_eq!(answer.status, 201, "{answer:?}");
    assert_eq!(answer.json()["data"]["expires_in"], 30);
    answer.json()["data"]["ticket"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn flask_backend_runs_for_real() {
    let work = tempfile::tempdir().unwrap();
    let root = new_project(work.path(), "demo", &[]);
    let backend = root.join("backend");
    let config = std::fs::read_to_string(root.join("fsi.toml")).unwrap();
    assert!(config.contains("backend = \"flask\""), "{config}");
    assert!(config.contains("realtime = \"sse\""), "{config}");
    assert!(
        config.contains("gunicorn --config gunicorn.conf.py"),
        "{config}"
    );
    for quart_only in [
        "backend/app/asgi.py",
        "backend/app/proxy.py",
        "backend/tests/test_realtime.py",
    ] {
        assert!(
            !root.join(quart_only).exists(),
            "{quart_only} in a Flask project"
        );
    }
    run_ok(uv(&backend).args(["sync", "--locked", "--quiet"]));

    // 1. The generated suite on its default, a temporary SQLite file.
    let sqlite_summary = checks(&backend, &[]);
    assert!(
        sqlite_summary.contains("skipped"),
        "PG/Redis-only tests skip here: {sqlite_summary}"
    );
    eprintln!("pytest (SQLite): {sqlite_summary}");

    // 2. On PostgreSQL and Redis (async driver names in DATABASE_URL, as compose writes them).
    let pg = common::postgres::Postgres::start();
    let redis = common::redis::Redis::start();
    pg.create_database("tests");
    pg.create_database("app");
    let redis_url = redis.url();
    let pg_summary = checks(
        &backend,
        &[
            ("DATABASE_URL", &pg.url("tests")),
            ("REDIS_URL", &redis_url),
        ],
    );
    assert!(!pg_summary.contains("skipped"), "{pg_summary}");
    eprintln!("pytest (PostgreSQL + Redis): {pg_summary}");

    // 3. Alembic on PostgreSQL; the models match the migrations.
    let app_url = pg.url("app");
    let pg_env = [("DATABASE_URL", app_url.as_str())];
    run_ok(
        uv(&backend)
            .args(["run", "--no-sync", "alembic", "upgrade", "head"])
            .envs(pg_env),
    );
    let check = combined(&run_ok(
        uv(&backend)
            .args(["run", "--no-sync", "alembic", "check"])
            .envs(pg_env),
    ));
    assert!(
        check.contains("No new upgrade operations detected"),
        "{check}"
    );

    // 4. gunicorn (gevent workers, two of them with Redis) on the migrated database.
    let logs = tempfile::tempdir().unwrap();
    let api = common::api_server::ApiServer::start(
        &backend,
        &[
            ("DATABASE_URL", &app_url),
            ("REDIS_URL", &redis_url),
            ("WEB_CONCURRENCY", "2"),
            // Every second use of a refresh token ends its login (no reload grace).
            ("REFRESH_REUSE_GRACE_SECONDS", "0"),
        ],
        logs.path(),
    );
    let health = http::get(&api.url("/health")).unwrap();
    assert_eq!(health.status, 200, "{health:?}\n{}", api.log_tail());
    assert_eq!(
        health.json()["checks"],
        json!({"database": "ok", "redis": "ok"})
    );

    let registered = http::post_json(
        &api.url("/api/auth/register"),
        &json!({"email": "flask@example.com", "password": "long enough password"}),
        &[],
    )
    .unwrap();
    assert_eq!(registered.status, 201, "{registered:?}");
    let bearer = bearer_of(&registered);
    let refresh_token = registered.json()["data"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();

    // Forged tokens: a made-up one, one signed with another secret, `alg: none`.
    let forged = [
        "Bearer not.a.token".to_string(),
        format!(
            "Bearer {}",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwidHlwZSI6ImFjY2VzcyIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjo0MTAwMDAwMDAwLCJmYW0iOiJ4In0.c2lnbmVkLXdpdGgtYW5vdGhlci1zZWNyZXQ"
        ),
        "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwidHlwZSI6ImFjY2VzcyIsImV4cCI6NDEwMDAwMDAwMH0.".to_string(),
    ];
    for header in &forged {
        let refused = http::get_with(&api.url("/api/items"), &[("Authorization", header)]).unwrap();
        assert_eq!(refused.status, 401, "{header}: {refused:?}");
        assert_eq!(refused.json()["error"], "UNAUTHORIZED");
        let no_ticket = http::post_json(
            &api.url("/api/realtime/ticket"),
            &json!({}),
            &[("Authorization", header)],
        )
        .unwrap();
        assert_eq!(no_ticket.status, 401, "ticket for {header}: {no_ticket:?}");
    }

    // Refresh rotation and reuse detection: the old token again ends the whole login.
    let rotated = http::post_json(
        &api.url("/api/auth/refresh"),
        &json!({"refresh_token": refresh_token}),
        &[],
    )
    .unwrap();
    assert_eq!(rotated.status, 200, "{rotated:?}");
    let second = rotated.json()["data"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let reused = http::post_json(
        &api.url("/api/auth/refresh"),
        &json!({"refresh_token": refresh_token}),
        &[],
    )
    .unwrap();
    assert_eq!(reused.status, 401, "reuse: {reused:?}");
    let family = http::post_json(
        &api.url("/api/auth/refresh"),
        &json!({"refresh_token": second}),
        &[],
    )
    .unwrap();
    assert_eq!(
        family.status, 401,
        "the rotated token of a reused family: {family:?}"
    );
    let revoked = http::get_with(&api.url("/api/items"), &[("Authorization", &bearer)]).unwrap();
    assert_eq!(
        revoked.status, 401,
        "an access token of the revoked login: {revoked:?}"
    );

    let login = http::post_json(
        &api.url("/api/auth/login"),
        &json!({"email": "flask@example.com", "password": "long enough password"}),
        &[],
    )
    .unwrap();
    assert_eq!(login.status, 200, "{login:?}");
    let bearer = bearer_of(&login);

    // The contract: valid OpenAPI 3.1 with the auth, items and ticket routes; /docs is a page.
    let spec = http::get(&api.url("/openapi.json")).unwrap();
    assert_eq!(spec.status, 200, "{spec:?}");
    assert_valid_openapi(&backend, &spec.body);
    let document = spec.json();
    for (path, method) in [
        ("/api/auth/login", "post"),
        ("/api/auth/refresh", "post"),
        ("/api/items", "get"),
        ("/api/items", "post"),
        ("/api/items/{item_id}", "patch"),
        ("/api/realtime/ticket", "post"),
    ] {
        assert!(
            document["paths"][path][method].is_object(),
            "{method} {path} not in /openapi.json"
        );
    }
    let docs = http::get(&api.url("/docs")).unwrap();
    assert!(
        docs.header("content-type")
            .unwrap_or("")
            .starts_with("text/html"),
        "{docs:?}"
    );

    // 5. SSE: a ticket holder gets item.created within 2 s of the POST; the ticket is used up.
    let value = ticket(&api.url("/api/realtime/ticket"), &bearer);
    let path = format!("/sse/items?ticket={value}");
    let mut live = SseClient::connect_plain(api.port, &path, &[]).unwrap();
    assert_eq!(live.status, 200, "{}", live.body);
    assert!(
        live.header("content-type")
            .unwrap_or("")
            .starts_with("text/event-stream")
    );
    assert_eq!(
        live.next(Duration::from_secs(5)),
        Ok(common::sse::Item::Retry(3000))
    );
    let posted_at = Instant::now();
    let created = http::post_json(
        &api.url("/api/items"),
        &json!({"title": "Over SSE", "price": "4.20"}),
        &[("Authorization", &bearer)],
    )
    .unwrap();
    assert_eq!(created.status, 201, "{created:?}");
    let event = live
        .next_event(Duration::from_secs(2))
        .unwrap_or_else(|e| panic!("no event within 2 s of the POST: {e}\n{}", api.log_tail()));
    let latency = posted_at.elapsed();
    assert_eq!(event.event, "item.created");
    assert_eq!(
        event.json(),
        json!({"type": "item.created", "data": created.json()["data"]})
    );
    assert!(
        event.id.chars().all(|c| c.is_ascii_digit()) && !event.id.is_empty(),
        "{event:?}"
    );
    eprintln!("SSE: item.created arrived {latency:?} after the POST was sent");
    let again = SseClient::connect_plain(api.port, &path, &[]).unwrap();
    assert_eq!(again.status, 401, "a used ticket: {}", again.body);
    assert!(again.body.contains("UNAUTHORIZED"), "{}", again.body);
    let without = SseClient::connect_plain(api.port, "/sse/items", &[]).unwrap();
    assert_eq!(without.status, 401, "no ticket: {}", without.body);

    // Last-Event-ID: a reconnecting client gets what it missed.
    drop(live);
    let missed = http::post_json(
        &api.url("/api/items"),
        &json!({"title": "While away", "price": "1"}),
        &[("Authorization", &bearer)],
    )
    .unwrap();
    let value = ticket(&api.url("/api/realtime/ticket"), &bearer);
    let mut back = SseClient::connect_plain(
        api.port,
        &format!("/sse/items?ticket={value}"),
        &[("Last-Event-ID", &event.id)],
    )
    .unwrap();
    let replayed = back.next_event(Duration::from_secs(5)).unwrap();
    assert_eq!(
        replayed.json()["data"]["id"],
        missed.json()["data"]["id"],
        "{replayed:?}"
    );
    drop(back);

    // 6. nginx (the shipped config on loopback): the stream passes unbuffered over TLS.
    let site = std::fs::read_to_string(root.join("nginx/nginx.conf")).unwrap();
    let ngx = tempfile::tempdir().unwrap();
    let tls = nginx::self_signed(ngx.path());
    let web_root = ngx.path().join("www");
    std::fs::create_dir_all(&web_root).unwrap();
    std::fs::write(
        web_root.join("index.html"),
        "<!doctype html><div id=root>spa</div>",
    )
    .unwrap();
    let (http_port, https_port) = (common::free_port(), common::free_port());
    let adapted = nginx::adapt(
        &site,
        &nginx::Loopback {
            http_port,
            https_port,
            api: format!("127.0.0.1:{}", api.port),
            root: &web_root,
            tls: &tls,
        },
    );
    let front = nginx::Nginx::start(
        &ngx.path().join("loopback"),
        &adapted,
        http_port,
        https_port,
    );
    let value = ticket(&front.https("/api/realtime/ticket"), &bearer);
    let mut proxied =
        SseClient::connect_tls(https_port, &format!("/sse/items?ticket={value}"), &[]).unwrap();
    assert_eq!(
        proxied.status,
        200,
        "{}\n{}",
        proxied.body,
        front.log_tail()
    );
    let posted_at = Instant::now();
    let created = http::post_json(
        &front.https("/api/items"),
        &json!({"title": "Through nginx", "price": "3"}),
        &[("Authorization", &bearer)],
    )
    .unwrap();
    assert_eq!(created.status, 201, "{created:?}");
    let event = proxied
        .next_event(Duration::from_secs(2))
        .unwrap_or_else(|e| {
            panic!(
                "no event through nginx within 2 s: {e}\n{}",
                front.log_tail()
            )
        });
    assert_eq!(event.json()["data"], created.json()["data"]);
    eprintln!("SSE through nginx: {:?}", posted_at.elapsed());
    drop(proxied);
    drop(front);
    drop(api);
}

#[test]
fn flask_without_auth_or_realtime_passes_its_suite() {
    let work = tempfile::tempdir().unwrap();
    let root = new_project(
        work.path(),
        "plain",
        &["--no-auth", "--realtime", "none", "--no-deploy"],
    );
    let backend = root.join("backend");
    assert!(!root.join("backend/app/modules/realtime").exists());
    run_ok(uv(&backend).args(["sync", "--locked", "--quiet"]));
    let summary = checks(&backend, &[]);
    eprintln!("pytest (no auth, no realtime): {summary}");
}
