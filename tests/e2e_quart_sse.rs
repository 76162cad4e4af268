//! End to end, Quart with Server-Sent Events: `fsi new demo --realtime sse --yes`, then its
//! backend for real — the generated SSE tests against Redis (the async ticket store and pub/sub),
//! Alembic, granian (two workers sharing tickets and events through Redis, as
//! backend/Dockerfile.prod serves it) — and a ticket holder receiving `item.created` within
//! 2 s of the POST, directly and through the shipped nginx config; a used or missing ticket is
//! a 401. Kept lean (one project, one server): the full generated suite runs in the
//! project's own sessions. Every tool is required.
#![allow(clippy::print_stderr)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::sse::{Item, SseClient};
use common::{clean_command, fsi, http, nginx, run_ok, tool};
use serde_json::json;

fn uv(backend: &Path) -> Command {
    let mut cmd = clean_command(tool("uv"));
    cmd.current_dir(backend);
    cmd
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
fn quart_sse_backend_runs_for_real() {
    let work = tempfile::tempdir().unwrap();
    run_ok(fsi().current_dir(work.path()).args([
        "new",
        "demo",
        "--yes",
        "--realtime",
        "sse",
        "--no-types",
    ]));
    let root = work.path().join("demo");
    let backend = root.join("backend");
    let config = std::fs::read_to_string(root.join("fsi.toml")).unwrap();
    assert!(config.contains("backend = \"quart\""), "{config}");
    assert!(config.contains("realtime = \"sse\""), "{config}");
    assert!(root.join("backend/app/asgi.py").is_file());
    assert!(!root.join("backend/tests/test_realtime.py").exists());
    run_ok(uv(&backend).args(["sync", "--locked", "--quiet"]));

    // 1. The generated SSE tests with Redis: the async ticket store, pub/sub across two apps.
    let redis = common::redis::Redis::start();
    let redis_url = redis.url();
    run_ok(uv(&backend).args(["run", "--no-sync", "ruff", "check", "."]));
    let summary = common::backend::pytest_of(
        &backend,
        &["tests/test_sse.py"],
        &[("REDIS_URL", &redis_url)],
    );
    assert!(!summary.contains("skipped"), "{summary}");
    eprintln!("pytest tests/test_sse.py (Redis): {summary}");

    // 2. Alembic on a SQLite file, then granian with two workers sharing Redis.
    let db = format!(
        "sqlite+aiosqlite:///{}",
        work.path().join("app.db").display()
    );
    run_ok(
        uv(&backend)
            .args(["run", "--no-sync", "alembic", "upgrade", "head"])
            .env("DATABASE_URL", &db),
    );
    let logs = tempfile::tempdir().unwrap();
    let api = common::api_server::ApiServer::start(
        &backend,
        &[
            ("DATABASE_URL", &db),
            ("REDIS_URL", &redis_url),
            ("GRANIAN_WORKERS", "2"),
        ],
        logs.path(),
    );
    let registered = http::post_json(
        &api.url("/api/auth/register"),
        &json!({"email": "sse@example.com", "password": "long enough password"}),
        &[],
    )
    .unwrap();
    assert_eq!(registered.status, 201, "{registered:?}");
    let token = registered.json()["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let bearer = format!("Bearer {token}");
    let refused = http::post_json(&api.url("/api/realtime/ticket"), &json!({}), &[]).unwrap();
    assert_eq!(refused.status, 401, "a ticket without a token: {refused:?}");
    let spec = http::get(&api.url("/openapi.json")).unwrap().json();
    assert!(spec["paths"]["/api/realtime/ticket"]["post"].is_object());

    // 3. A ticket holder gets item.created within 2 s of the POST; the ticket is used up.
    let value = ticket(&api.url("/api/realtime/ticket"), &bearer);
    assert!(!value.contains(&token) && !token.contains(&value));
    let path = format!("/sse/items?ticket={value}");
    let mut live = SseClient::connect_plain(api.port, &path, &[]).unwrap();
    assert_eq!(live.status, 200, "{}\n{}", live.body, api.log_tail());
    assert!(
        live.header("content-type")
            .unwrap_or("")
            .starts_with("text/event-stream")
    );
    assert_eq!(live.header("x-accel-buffering"), Some("no"));
    assert_eq!(live.next(Duration::from_secs(5)), Ok(Item::Retry(3000)));
    // Several POSTs: with two workers, some land on the one not holding the stream.
    let mut ids = Vec::new();
    for n in 0..4 {
        let posted_at = Instant::now();
        let created = http::post_json(
            &api.url("/api/items"),
            &json!({"title": format!("Over SSE {n}"), "price": "4.20"}),
            &[("Authorization", &bearer)],
        )
        .unwrap();
        assert_eq!(created.status, 201, "{created:?}");
        let event = live
            .next_event(Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("no event within 2 s of the POST: {e}\n{}", api.log_tail()));
        assert_eq!(event.event, "item.created");
        assert_eq!(
            event.json(),
            json!({"type": "item.created", "data": created.json()["data"]})
        );
        assert!(
            !event.id.is_empty() && event.id.chars().all(|c| c.is_ascii_digit()),
            "{event:?}"
        );
        eprintln!("SSE: item.created {:?} after the POST", posted_at.elapsed());
        ids.push(event.id);
    }
    let again = SseClient::connect_plain(api.port, &path, &[]).unwrap();
    assert_eq!(again.status, 401, "a used ticket: {}", again.body);
    assert!(again.body.contains("UNAUTHORIZED"), "{}", again.body);
    let without = SseClient::connect_plain(api.port, "/sse/items", &[]).unwrap();
    assert_eq!(without.status, 401, "no ticket: {}", without.body);
    drop(live);

    // 4. nginx (the shipped config on loopback): the stream passes unbuffered over TLS, and
    //    Last-Event-ID there replays what was posted since.
    let site = std::fs::read_to_string(root.join("nginx/nginx.conf")).unwrap();
    let ngx = tempfile::tempdir().unwrap();
    let tls = nginx::self_signed(ngx.path());
    let web_root = ngx.path().join("www");
    std::fs::create_dir_all(&web_root).unwrap();
    std::fs::write(web_root.join("index.html"), "<!doctype html>spa").unwrap();
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
    let missed = http::post_json(
        &api.url("/api/items"),
        &json!({"title": "While away", "price": "1"}),
        &[("Authorization", &bearer)],
    )
    .unwrap();
    let value = ticket(&front.https("/api/realtime/ticket"), &bearer);
    let last = ids.last().unwrap().clone();
    let mut proxied = SseClient::connect_tls(
        https_port,
        &format!("/sse/items?ticket={value}"),
        &[("Last-Event-ID", &last)],
    )
    .unwrap();
    assert_eq!(
        proxied.status,
        200,
        "{}\n{}",
        proxied.body,
        front.log_tail()
    );
    let replayed = proxied.next_event(Duration::from_secs(5)).unwrap();
    // Every worker hears every event through Redis, so whichever holds this stream replays it.
    assert_eq!(
        replayed.json()["data"]["id"],
        missed.json()["data"]["id"],
        "{replayed:?}"
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
    drop(redis);
}
