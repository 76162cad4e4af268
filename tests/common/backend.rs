//! A generated project's backend, made ready as its README says, for either flavour: `fsi new`,
//! `uv sync --locked`, the generated suite (ruff, pytest), `alembic`, and its production server
//! (`ApiServer`: granian for Quart, gunicorn with `gunicorn.conf.py` for Flask).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::api_server::ApiServer;
use super::{clean_command, combined, fsi, run_ok, tool};

/// `fsi new NAME --yes --backend FLAVOUR [extra]` in `parent`; returns the project directory.
pub fn new_project(parent: &Path, name: &str, flavour: &str, extra: &[&str]) -> PathBuf {
    run_ok(
        fsi()
            .current_dir(parent)
            .args(["new", name, "--yes", "--backend", flavour])
            .args(extra),
    );
    parent.join(name)
}

/// `uv` (the tools' copy) in `backend`, with a clean environment.
pub fn uv(backend: &Path) -> Command {
    let mut cmd = clean_command(tool("uv"));
    cmd.current_dir(backend);
    cmd
}

/// How the backend's dependencies are installed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Install {
    /// With the dev group (pytest, ruff), as `./scripts/test` and `./scripts/dev` do.
    Dev,
    /// Without it, as `backend/Dockerfile.prod` does.
    Production,
}

/// `uv sync --locked` (a stale uv.lock fails).
pub fn uv_sync(backend: &Path, install: Install) {
    let mut cmd = uv(backend);
    cmd.args(["sync", "--locked", "--quiet"]);
    if install == Install::Production {
        cmd.arg("--no-dev");
    }
    run_ok(&mut cmd);
}

/// `ruff check .`, as the generated `./scripts/test` runs it first.
pub fn ruff(backend: &Path) {
    run_ok(uv(backend).args(["run", "--no-sync", "ruff", "check", "."]));
}

/// The generated pytest suite with `env`; pytest's summary line (which must not say failed/error).
pub fn pytest(backend: &Path, env: &[(&str, &str)]) -> String {
    pytest_of(backend, &[], env)
}

/// pytest on `targets` (files or node ids; all of the suite when empty) with `env`; pytest's
/// summary line (which must not say failed/error).
pub fn pytest_of(backend: &Path, targets: &[&str], env: &[(&str, &str)]) -> String {
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
            .args(targets)
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

/// `alembic ARGS` with `env`; its output.
pub fn alembic(backend: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = run_ok(
        uv(backend)
            .args(["run", "--no-sync", "alembic"])
            .args(args)
            .envs(env.iter().copied()),
    );
    combined(&out)
}

/// `document` passes openapi-spec-validator, run from fsi's tools venv
/// (scripts/test-requirements.txt), not from the generated project's own dependencies.
pub fn assert_valid_openapi(document: &str) {
    let python = super::repo_root().join(".tools/venv/bin/python");
    assert!(
        super::is_executable(&python),
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

/// A generated project served by its production server.
pub struct Served {
    pub root: PathBuf,
    pub backend: PathBuf,
    pub api: ApiServer,
    /// The server's log directory (`<server>.log`); kept as long as this value.
    pub logs: tempfile::TempDir,
}

/// Generate `name` in `parent` (`fsi new --backend FLAVOUR [extra]`), install its backend,
/// migrate it (`alembic upgrade head` with `env`) and serve it with `env`, as its README says.
pub fn serve_new_project(
    parent: &Path,
    name: &str,
    flavour: &str,
    extra: &[&str],
    install: Install,
    env: &[(&str, &str)],
) -> Served {
    let root = new_project(parent, name, flavour, extra);
    let backend = root.join("backend");
    uv_sync(&backend, install);
    alembic(&backend, &["upgrade", "head"], env);
    let logs = tempfile::tempdir().unwrap();
    let api = ApiServer::start(&backend, env, logs.path());
    Served {
        root,
        backend,
        api,
        logs,
    }
}

/// `fsi new --backend FLAVOUR --no-auth --realtime none --no-deploy`: no auth, realtime or
/// deploy files are generated, the generated checks pass (ruff, pytest), and the served API is
/// public. Returns pytest's summary line.
pub fn minimal_project_works(flavour: &str) -> String {
    let work = tempfile::tempdir().unwrap();
    let root = new_project(
        work.path(),
        "bare",
        flavour,
        &["--no-auth", "--realtime", "none", "--no-deploy", "--no-git"],
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
    let dtos = backend.join("app/modules/items/dtos.py");
    if dtos.exists() {
        assert!(!std::fs::read_to_string(&dtos).unwrap().contains("owner_id"));
    }
    uv_sync(&backend, Install::Dev);
    ruff(&backend);
    let summary = pytest(&backend, &[]);
    // Without auth the API is public.
    alembic(&backend, &["upgrade", "head"], &[]);
    let logs = tempfile::tempdir().unwrap();
    let api = ApiServer::start(&backend, &[], logs.path());
    let created = super::http::post_json(
        &api.url("/api/items"),
        &serde_json::json!({"title": "Open", "price": "1"}),
        &[],
    )
    .unwrap();
    assert_eq!(created.status, 201, "{created:?}\n{}", api.log_tail());
    assert!(created.json()["data"].get("owner_id").is_none());
    summary
}

/// PostgreSQL and Redis for a backend, with its database migrated.
pub struct OnPostgres {
    pub pg: super::postgres::Postgres,
    pub redis: super::redis::Redis,
    /// The migrated database (`app`), as DATABASE_URL with the async driver's name, as compose
    /// writes it.
    pub app_url: String,
    pub redis_url: String,
    /// pytest's summary lines: on SQLite, on PostgreSQL + Redis.
    pub summaries: [String; 2],
}

/// The generated checks as `./scripts/test` runs them (ruff, pytest) on the SQLite default
/// (the PostgreSQL/Redis-only tests skip) and on PostgreSQL + Redis (nothing skips); then
/// `alembic upgrade head` on a fresh PostgreSQL database, and `alembic check` (the models
/// match the migrations).
pub fn suite_and_migrations(backend: &Path) -> OnPostgres {
    ruff(backend);
    let sqlite_summary = pytest(backend, &[]);
    assert!(
        sqlite_summary.contains("skipped"),
        "PG/Redis-only tests skip here: {sqlite_summary}"
    );

    let pg = super::postgres::Postgres::start();
    let redis = super::redis::Redis::start();
    pg.create_database("tests");
    pg.create_database("app");
    let redis_url = redis.url();
    let pg_summary = pytest(
        backend,
        &[
            ("DATABASE_URL", &pg.url("tests")),
            ("REDIS_URL", &redis_url),
        ],
    );
    assert!(!pg_summary.contains("skipped"), "{pg_summary}");

    let app_url = pg.url("app");
    let pg_env = [("DATABASE_URL", app_url.as_str())];
    alembic(backend, &["upgrade", "head"], &pg_env);
    let check = alembic(backend, &["check"], &pg_env);
    assert!(
        check.contains("No new upgrade operations detected"),
        "{check}"
    );
    OnPostgres {
        pg,
        redis,
        app_url,
        redis_url,
        summaries: [sqlite_summary, pg_summary],
    }
}

/// GET /health answers 200, "healthy", with the database and Redis checks "ok".
pub fn assert_healthy_with_redis(api: &ApiServer) {
    let health = super::http::get(&api.url("/health")).unwrap();
    assert_eq!(health.status, 200, "{health:?}\n{}", api.log_tail());
    let body = health.json();
    assert_eq!(body["status"], "healthy");
    assert_eq!(
        body["checks"],
        serde_json::json!({"database": "ok", "redis": "ok"})
    );
}

/// POST /api/auth/register `email` with a long enough password: 201; the response.
pub fn register(api: &ApiServer, email: &str) -> super::http::Response {
    let registered = super::http::post_json(
        &api.url("/api/auth/register"),
        &serde_json::json!({"email": email, "password": "long enough password"}),
        &[],
    )
    .unwrap();
    assert_eq!(registered.status, 201, "{registered:?}");
    registered
}

/// POST `item` to the items URL `url` (direct or through nginx) with `bearer`: 201; the response.
pub fn create_item(url: &str, bearer: &str, item: serde_json::Value) -> super::http::Response {
    let created = super::http::post_json(url, &item, &[("Authorization", bearer)]).unwrap();
    assert_eq!(created.status, 201, "{created:?}");
    created
}
