//! End to end, the Flask flavour: `fsi new demo --backend flask --yes` (Server-Sent Events by
//! default), then its backend for real — the generated pytest suite on SQLite and once on
//! PostgreSQL + Redis, Alembic on PostgreSQL, gunicorn (gevent workers, `gunicorn.conf.py`) serving
//! /health and the API, forged tokens and refresh-token reuse refused, `/openapi.json` valid,
//! and a ticket holder receiving `item.created` over SSE within 2 s of the POST (directly and
//! through the shipped nginx config), the ticket not reusable. Every tool is required.
#![allow(clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::backend::{self, Install, assert_valid_openapi};
use common::sse::SseClient;
use common::{http, nginx};
use serde_json::json;

fn new_project(parent: &Path, name: &str, extra: &[&str]) -> PathBuf {
    backend::new_project(parent, name, "flask", extra)
}

fn bearer_of(response: &http::Response) -> String {
    let token = response.data_str("access_token");
    format!("Bearer {token}")
}

fn ticket(url: &str, bearer: &str) -> String {
    let answer = http::post_json(url, &json!({}), &[("Authorization", bearer)]).unwrap();
    assert_eq!(answer.status, 201, "{answer:?}");
    assert_eq!(answer.json()["data"]["expires_in"], 30);
    answer.data_str("ticket")
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
    backend::uv_sync(&backend, Install::Dev);

    // 1-3. The generated suite on SQLite, then on PostgreSQL and Redis (async driver names in
    //      DATABASE_URL, as compose writes them); Alembic on PostgreSQL, matching the models.
    let services = backend::suite_and_migrations(&backend);
    let (app_url, redis_url) = (services.app_url.clone(), services.redis_url.clone());
    eprintln!(
        "pytest (SQLite; PostgreSQL + Redis): {:?}",
        services.summaries
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
    backend::assert_healthy_with_redis(&api);
    let registered = backend::register(&api, "flask@example.com");
    let bearer = bearer_of(&registered);
    let refresh_token = registered.data_str("refresh_token");

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
    let second = rotated.data_str("refresh_token");
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
    assert_valid_openapi(&spec.body);
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
    let created = backend::create_item(
        &api.url("/api/items"),
        &bearer,
        json!({"title": "Over SSE", "price": "4.20"}),
    );
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
    let web_root = nginx::spa_root(ngx.path());
    let front = nginx::Nginx::in_front_of(ngx.path(), &site, &tls, &web_root, api.port);
    let value = ticket(&front.https("/api/realtime/ticket"), &bearer);
    let mut proxied =
        SseClient::connect_tls(front.https_port, &format!("/sse/items?ticket={value}"), &[])
            .unwrap();
    assert_eq!(
        proxied.status,
        200,
        "{}\n{}",
        proxied.body,
        front.log_tail()
    );
    let posted_at = Instant::now();
    let created = backend::create_item(
        &front.https("/api/items"),
        &bearer,
        json!({"title": "Through nginx", "price": "3"}),
    );
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
    let summary = backend::minimal_project_works("flask");
    eprintln!("pytest (no auth, no realtime): {summary}");
}
