//! End to end: `fsi new`, then the generated backend and deployment files run for real —
//! pytest on SQLite, pytest on PostgreSQL + Redis, Alembic on both, granian serving /health,
//! nginx (`nginx -t` on the shipped config, then in front of the backend on loopback), the API
//! contract (/openapi.json validated, /docs rendered by headless Chromium), and
//! `docker compose config`. Every tool is required: a missing one fails the test.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::backend::{self, Install, alembic, assert_valid_openapi};
use common::ws::{Frame, WsClient};
use common::{clean_command, combined, compose, fsi, http, nginx, run, run_ok};
use serde_json::json;

/// `fsi new NAME --yes [extra]` (the Quart flavour, the default) in `parent`.
fn new_project(parent: &Path, name: &str, extra: &[&str]) -> PathBuf {
    backend::new_project(parent, name, "quart", extra)
}

fn uv_sync(backend: &Path) {
    backend::uv_sync(backend, Install::Dev);
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

    // 1-2. The generated checks on the SQLite default, then on PostgreSQL and Redis (nothing
    //      skips); Alembic on PostgreSQL, matching the models.
    let services = backend::suite_and_migrations(&backend);
    let (app_url, redis_url) = (services.app_url.clone(), services.redis_url.clone());

    // 3. Alembic on the SQLite default too.
    alembic(&backend, &["upgrade", "head"], &[]);
    assert!(
        backend.join("demo.db").exists(),
        "the SQLite default is backend/demo.db"
    );
    let pg_env = [("DATABASE_URL", app_url.as_str())];
    let current = alembic(&backend, &["current"], &pg_env);
    assert!(current.contains("(head)"), "{current}");

    // 4. granian on the migrated PostgreSQL database with Redis; JWT_SECRET comes from .env.
    let logs = tempfile::tempdir().unwrap();
    let api = common::api_server::ApiServer::start(
        &backend,
        &[("DATABASE_URL", &app_url), ("REDIS_URL", &redis_url)],
        logs.path(),
    );
    backend::assert_healthy_with_redis(&api);
    let registered = backend::register(&api, "e2e@example.com");
    let token = registered.data_str("access_token");
    let bearer = format!("Bearer {token}");
    let created = backend::create_item(
        &api.url("/api/items"),
        &bearer,
        json!({"title": "From the e2e test", "price": 12.5}),
    );
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

    let web_root = nginx::spa_root(ngx.path());
    std::fs::create_dir_all(web_root.join("assets")).unwrap();
    std::fs::write(web_root.join("assets/app-1a2b3c.js"), "console.log('hi')").unwrap();
    let front = nginx::Nginx::in_front_of(ngx.path(), &site, &tls, &web_root, api.port);

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
    let mut live = WsClient::connect_tls(front.https_port, "/ws/items").unwrap();
    live.send_text(&json!({"type": "auth", "token": token}).to_string())
        .unwrap();
    assert_eq!(live.recv_json(wait), json!({"type": "ready"}));
    let created = backend::create_item(
        &front.https("/api/items"),
        &bearer,
        json!({"title": "Through nginx", "price": "3"}),
    );
    let event = live.recv_json(wait);
    assert_eq!(event["type"], "item.created", "{event}");
    assert_eq!(event["data"], created.json()["data"]);
    let mut intruder = WsClient::connect_tls(front.https_port, "/ws/items").unwrap();
    intruder
        .send_text(r#"{"type": "auth", "token": "forged"}"#)
        .unwrap();
    assert_eq!(intruder.recv(wait), Ok(Frame::Close(4401)));

    let redirect = http::get(&front.http("/items?x=1")).unwrap();
    assert_eq!(redirect.status, 301, "{redirect:?}");
    assert_eq!(
        redirect.header("location"),
        Some(format!("https://127.0.0.1:{}/items?x=1", front.https_port).as_str())
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
    backend::minimal_project_works("quart");
}
