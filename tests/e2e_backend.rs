//! End to end: `fsi new`, then the generated backend and deployment files run for real —
//! pytest on SQLite, pytest on PostgreSQL + Redis, Alembic on both, granian serving /health,
//! nginx (`nginx -t` on the shipped config, then in front of the backend on loopback), the API
//! contract (/openapi.json validated, /docs rendered by headless Chromium), and
//! `docker compose config`. Every tool is required: a missing one fails the test.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::ws::{Frame, WsClient};
use common::{clean_command, combined, compose, fsi, http, nginx, run, run_ok, tool};
use serde_json::json;

/// `fsi new NAME --yes [extra]` in `parent`; returns the project directory.
fn new_project(parent: &Path, name: &str, extra: &[&str]) -> PathBuf {
    run_ok(
        fsi()
            .current_dir(parent)
            .args(["new", name, "--yes"])
            .args(extra),
    );
    parent.join(name)
}

fn uv(backend: &Path) -> Command {
    let mut cmd = clean_command(tool("uv"));
    cmd.current_dir(backend);
    cmd
}

fn uv_sync(backend: &Path) {
    run_ok(uv(backend).args(["sync", "--locked", "--quiet"]));
}

/// The generated suite, as `./scripts/test` runs it; returns pytest's summary line.
fn pytest(backend: &Path, env: &[(&str, &str)]) -> String {
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

fn alembic(backend: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = run_ok(
        uv(backend)
            .args(["run", "--no-sync", "alembic"])
            .args(args)
            .envs(env.iter().copied()),
    );
    combined(&out)
}

/// `document` passes openapi-spec-validator, run from fsi's tools venv (scripts/test-requirements.txt),
/// not from the generated project's own dependencies.
fn assert_valid_openapi(document: &str) {
    let python = common::repo_root().join(".tools/venv/bin/python");
    assert!(
        common::is_executable(&python),
        "{} is missing; run scripts/install-test-deps",
        python.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, document).unwrap();
    run_ok(
        clean_command(&python)
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

/// GET /openapi.json at `base`: valid OpenAPI 3.1 naming the auth and items routes and DTOs.
fn check_contract(get: &dyn Fn(&str) -> http::Response) -> serde_json::Value {
    let spec = get("/openapi.json");
    assert_eq!(spec.status, 200, "{spec:?}");
    assert_valid_openapi(&spec.body);
    let document = spec.json();
    assert_eq!(document["openapi"], "3.1.0");
    for (path, method, body) in [
        ("/api/auth/register", "post", Some("RegisterRequest")),
        ("/api/auth/login", "post", Some("LoginRequest")),
        ("/api/auth/refresh", "post", Some("RefreshRequest")),
        ("/api/auth/logout", "post", Some("LogoutRequest")),
        ("/api/auth/me", "get", None),
        ("/api/items", "get", None),
        ("/api/items", "post", Some("ItemCreate")),
        ("/api/items/{item_id}", "get", None),
        ("/api/items/{item_id}", "patch", Some("ItemUpdate")),
        ("/api/items/{item_id}", "delete", None),
    ] {
        let operation = &document["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} missing");
        let request = &operation["requestBody"]["content"]["application/json"]["schema"]["$ref"];
        match body {
            Some(dto) => assert_eq!(request, &json!(format!("#/components/schemas/{dto}"))),
            None => assert!(request.is_null(), "{method} {path}: {request}"),
        }
        assert!(
            operation["responses"]
                .as_object()
                .is_some_and(|r| r.keys().any(|k| k.starts_with('2'))),
            "{method} {path} has no success response"
        );
    }
    for dto in [
        "ItemResponse",
        "AuthResponse",
        "TokenPair",
        "UserResponse",
        "ErrorBody",
    ] {
        assert!(
            document["components"]["schemas"][dto].is_object(),
            "{dto} not in components"
        );
    }
    let docs = get("/docs");
    assert_eq!(docs.status, 200, "{docs:?}");
    assert!(
        docs.header("content-type")
            .unwrap_or("")
            .starts_with("text/html")
    );
    assert!(
        !docs.body.contains("//"),
        "/docs loads something from elsewhere: {}",
        docs.body
    );
    assert!(
        docs.header("content-security-policy")
            .unwrap_or("")
            .contains("script-src 'self'"),
        "{docs:?}"
    );
    let bundle = get("/docs/swagger-ui-bundle.js");
    assert_eq!(bundle.status, 200);
    assert!(bundle.body.contains("SwaggerUIBundle"), "not Swagger UI");
    document
}

/// /docs at `url` rendered by headless Chromium under the page's CSP (no inline script, assets
/// from the backend only): the DOM must list the operations, so Swagger UI really ran.
fn assert_docs_render(url: &str) {
    let chromium = std::env::var_os("CHROMIUM_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        common::is_executable(&chromium),
        "chromium at {} (apt-get install -y chromium, or set CHROMIUM_PATH)",
        chromium.display()
    );
    let profile = tempfile::tempdir().unwrap();
    let out = run_ok(clean_command(&chromium).args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        &format!("--user-data-dir={}", profile.path().display()),
        "--virtual-time-budget=10000",
        "--dump-dom",
        url,
    ]));
    let dom = String::from_utf8_lossy(&out.stdout);
    for path in ["/api/items", "/api/items/{item_id}", "/api/auth/login"] {
        assert!(
            dom.contains(&format!("data-path=\"{path}\"")),
            "Swagger UI did not render {path} at {url}:\n{}",
            common::tail(&dom, 2000)
        );
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[test]
fn generated_backend_runs_for_real() {
    let work = tempfile::tempdir().unwrap();
    let root = new_project(work.path(), "demo", &[]);
    let backend = root.join("backend");

    // The secret is generated, lives only in the git-ignored .env.
    let env_file = read(&root.join(".env"));
    let secret = env_file
        .lines()
        .find_map(|l| l.strip_prefix("JWT_SECRET="))
        .expect(".env holds JWT_SECRET");
    assert_eq!(secret.len(), 64, "{env_file}");
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(read(&root.join(".gitignore")).lines().any(|l| l == ".env"));
    for file in ["docker-compose.prod.yml", ".env.example", "README.md"] {
        assert!(
            !read(&root.join(file)).contains(secret),
            "{file} leaks the secret"
        );
    }
    assert!(common::is_executable(&root.join("scripts/dev")));
    assert!(common::is_executable(&root.join("scripts/test")));

    uv_sync(&backend);

    // 1. The generated suite on its default, a temporary SQLite file.
    let sqlite_summary = pytest(&backend, &[]);
    assert!(
        sqlite_summary.contains("skipped"),
        "PG/Redis-only tests skip here: {sqlite_summary}"
    );

    // 2. The same suite on PostgreSQL and Redis: nothing may skip.
    let pg = common::postgres::Postgres::start();
    let redis = common::redis::Redis::start();
    pg.create_database("tests");
    pg.create_database("app");
    let redis_url = redis.url();
    let tests_url = pg.url("tests");
    let pg_summary = pytest(
        &backend,
        &[("DATABASE_URL", &tests_url), ("REDIS_URL", &redis_url)],
    );
    assert!(!pg_summary.contains("skipped"), "{pg_summary}");

    // 3. Alembic on the SQLite default and on PostgreSQL, and the models match the migrations.
    alembic(&backend, &["upgrade", "head"], &[]);
    assert!(
        backend.join("demo.db").exists(),
        "the SQLite default is backend/demo.db"
    );
    let app_url = pg.url("app");
    let pg_env = [("DATABASE_URL", app_url.as_str())];
    alembic(&backend, &["upgrade", "head"], &pg_env);
    let check = alembic(&backend, &["check"], &pg_env);
    assert!(
        check.contains("No new upgrade operations detected"),
        "{check}"
    );
    let current = alembic(&backend, &["current"], &pg_env);
    assert!(current.contains("(head)"), "{current}");

    // 4. granian on the migrated PostgreSQL database with Redis; JWT_SECRET comes from .env.
    let logs = tempfile::tempdir().unwrap();
    let api = common::api_server::ApiServer::start(
        &backend,
        &[("DATABASE_URL", &app_url), ("REDIS_URL", &redis_url)],
        logs.path(),
    );
    let health = http::get(&api.url("/health")).unwrap();
    assert_eq!(health.status, 200, "{health:?}\n{}", api.log_tail());
    let body = health.json();
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["checks"], json!({"database": "ok", "redis": "ok"}));
    let registered = http::post_json(
        &api.url("/api/auth/register"),
        &json!({"email": "e2e@example.com", "password": "long enough password"}),
        &[],
    )
    .unwrap();
    assert_eq!(registered.status, 201, "{registered:?}");
    let token = registered.json()["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let bearer = format!("Bearer {token}");
    let created = http::post_json(
        &api.url("/api/items"),
        &json!({"title": "From the e2e test", "price": 12.5}),
        &[("Authorization", &bearer)],
    )
    .unwrap();
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.json()["data"]["price"], "12.50");
    let missing = http::get(&api.url("/api/nothing")).unwrap();
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"], "NOT_FOUND");
    let direct = check_contract(&|path| http::get(&api.url(path)).unwrap());
    assert_docs_render(&api.url("/docs"));

    // 5. nginx: the shipped config passes `nginx -t` (compose hosts resolved via a private
    //    hosts file), then runs adapted to loopback in front of granian.
    let site = read(&root.join("nginx/nginx.conf"));
    let ngx = tempfile::tempdir().unwrap();
    let tls = nginx::self_signed(ngx.path());
    let as_shipped = nginx::test_config(
        &ngx.path().join("as-shipped"),
        &nginx::with_tls_paths(&site, &tls),
        &["api", "db", "redis"],
    );
    assert!(
        as_shipped.status.success(),
        "nginx -t failed:\n{}",
        combined(&as_shipped)
    );

    let web_root = ngx.path().join("www");
    std::fs::create_dir_all(web_root.join("assets")).unwrap();
    std::fs::write(
        web_root.join("index.html"),
        "<!doctype html><div id=root>spa</div>",
    )
    .unwrap();
    std::fs::write(web_root.join("assets/app-1a2b3c.js"), "console.log('hi')").unwrap();
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

    let health = http::get(&front.https("/health")).unwrap();
    assert_eq!(health.status, 200, "{health:?}\n{}", front.log_tail());
    assert_eq!(health.json()["status"], "healthy");
    let items = http::get_with(&front.https("/api/items"), &[("Authorization", &bearer)]).unwrap();
    assert_eq!(items.status, 200, "{items:?}");
    assert_eq!(items.json()["data"]["total"], 1);
    for header in [
        "strict-transport-security",
        "x-content-type-options",
        "x-frame-options",
        "content-security-policy",
        "referrer-policy",
    ] {
        assert!(
            items.header(header).is_some(),
            "/api/ lacks {header}: {items:?}"
        );
    }
    // The contract and its page through nginx, with nginx's security headers.
    let proxied = check_contract(&|path| http::get(&front.https(path)).unwrap());
    assert_eq!(proxied, direct);
    let docs = http::get(&front.https("/docs")).unwrap();
    assert!(
        docs.header("strict-transport-security").is_some(),
        "{docs:?}"
    );
    let deep_link = http::get(&front.https("/items/42")).unwrap();
    assert_eq!(deep_link.status, 200);
    assert!(
        deep_link.body.contains("spa"),
        "SPA fallback: {deep_link:?}"
    );
    assert!(deep_link.header("x-frame-options").is_some());
    let asset = http::get(&front.https("/assets/app-1a2b3c.js")).unwrap();
    assert_eq!(asset.status, 200);
    assert!(
        asset
            .header("cache-control")
            .unwrap_or("")
            .contains("max-age=31536000"),
        "{asset:?}"
    );
    // Live updates through nginx's WebSocket upgrade: auth by first message, then events.
    let wait = Duration::from_secs(10);
    let mut live = WsClient::connect_tls(https_port, "/ws/items").unwrap();
    live.send_text(&json!({"type": "auth", "token": token}).to_string())
        .unwrap();
    assert_eq!(live.recv_json(wait), json!({"type": "ready"}));
    let created = http::post_json(
        &front.https("/api/items"),
        &json!({"title": "Through nginx", "price": "3"}),
        &[("Authorization", &bearer)],
    )
    .unwrap();
    assert_eq!(created.status, 201, "{created:?}");
    let event = live.recv_json(wait);
    assert_eq!(event["type"], "item.created", "{event}");
    assert_eq!(event["data"], created.json()["data"]);
    let mut intruder = WsClient::connect_tls(https_port, "/ws/items").unwrap();
    intruder
        .send_text(r#"{"type": "auth", "token": "forged"}"#)
        .unwrap();
    assert_eq!(intruder.recv(wait), Ok(Frame::Close(4401)));

    let redirect = http::get(&front.http("/items?x=1")).unwrap();
    assert_eq!(redirect.status, 301, "{redirect:?}");
    assert_eq!(
        redirect.header("location"),
        Some(format!("https://127.0.0.1:{https_port}/items?x=1").as_str())
    );
    drop(front);
    drop(api);

    // 6. docker-compose.prod.yml: valid once the secrets are provided, refused without them
    //    (no password is written in the file).
    let ok = compose::config_quiet(
        &root,
        "docker-compose.prod.yml",
        &[("POSTGRES_PASSWORD", "e2e0password")],
        &[],
    );
    assert!(
        ok.status.success(),
        "compose config failed:\n{}",
        combined(&ok)
    );
    let refused = compose::config_quiet(
        &root,
        "docker-compose.prod.yml",
        &[],
        &["POSTGRES_PASSWORD"],
    );
    assert!(
        !refused.status.success(),
        "compose accepted a missing POSTGRES_PASSWORD"
    );
    assert!(
        combined(&refused).contains("POSTGRES_PASSWORD"),
        "{}",
        combined(&refused)
    );
}

/// Every file under `root` (but .git) with its contents.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git")
    {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(root).unwrap().to_path_buf();
            files.insert(rel, std::fs::read(entry.path()).unwrap());
        }
    }
    files
}

#[test]
fn second_new_into_the_same_directory_refuses_and_changes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let root = new_project(work.path(), "twice", &[]);
    let before = snapshot(&root);
    assert!(before.contains_key(Path::new("backend/app/main.py")));

    let again = run(fsi()
        .current_dir(work.path())
        .args(["new", "twice", "--yes"]));
    assert!(
        !again.status.success(),
        "a second `fsi new` must refuse: {}",
        combined(&again)
    );
    assert_eq!(again.status.code(), Some(3), "{}", combined(&again));
    assert!(
        snapshot(&root) == before,
        "the refused `fsi new` changed files"
    );
}

#[test]
fn minimal_project_backend_tests_pass() {
    let work = tempfile::tempdir().unwrap();
    let root = new_project(
        work.path(),
        "bare",
        &["--no-auth", "--no-realtime", "--no-deploy", "--no-git"],
    );
    let backend = root.join("backend");
    for absent in [
        "backend/app/modules/auth",
        "backend/app/modules/realtime",
        "backend/Dockerfile.prod",
        "docker-compose.prod.yml",
        ".env.example",
        "nginx",
    ] {
        assert!(
            !root.join(absent).exists(),
            "{absent} should not be generated"
        );
    }
    assert!(!read(&backend.join("app/modules/items/dtos.py")).contains("owner_id"));
    uv_sync(&backend);
    pytest(&backend, &[]);
    // Without auth the API is public.
    alembic(&backend, &["upgrade", "head"], &[]);
    let logs = tempfile::tempdir().unwrap();
    let api = common::api_server::ApiServer::start(&backend, &[], logs.path());
    let created = http::post_json(
        &api.url("/api/items"),
        &json!({"title": "Open", "price": "1"}),
        &[],
    )
    .unwrap();
    assert_eq!(created.status, 201, "{created:?}");
    assert!(created.json()["data"].get("owner_id").is_none());
}
