//! The generated frontend, for real, through the `fsi` binary:
//!
//! `fsi new <tmp>/demo --yes` → `npm ci` → `npm run typecheck` (`tsc --noEmit`) → `npm test`
//! (`vitest run`) → `npm run build` (`vite build`) → the generated backend served by hypercorn
//! (fresh SQLite database, 3 s access tokens) and nginx running the generated `nginx/nginx.conf`
//! adapted to loopback (plain HTTP on a free port, the built SPA as root) → the generated
//! Playwright specs (`npm run test:e2e`) in Debian's Chromium against nginx.
//!
//! Needs node + npm, uv, nginx and chromium (`scripts/install-test-deps` installs them) and
//! reaches the npm registry and PyPI (or their caches). A missing tool FAILS the test: it is never
//! skipped. Screenshots and server logs are copied to `target/e2e-artifacts/frontend/`.

#![allow(clippy::print_stderr)]

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

const MINUTE: Duration = Duration::from_secs(60);

/// Where screenshots and logs are kept after the run (`target/e2e-artifacts/frontend`).
fn artifacts_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target directory")
        .join("e2e-artifacts")
        .join("frontend")
}

fn chromium_path() -> PathBuf {
    std::env::var_os("CHROMIUM_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

fn nginx_binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("nginx"))
}

/// Fail (never skip) when a tool the test needs is missing.
fn require_tools() {
    let mut missing = Vec::new();
    for (tool, hint) in [
        ("node", "Node.js 20+ (with npm)"),
        ("npm", "npm"),
        ("uv", "python3 -m pip install uv"),
    ] {
        let ok = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            missing.push(format!("{tool} ({hint})"));
        }
    }
    let nginx_ok = Command::new(nginx_binary())
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !nginx_ok {
        missing.push("nginx (apt-get install -y nginx)".into());
    }
    let chromium = chromium_path();
    let executable =
        fs::metadata(&chromium).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    if !executable {
        missing.push(format!(
            "chromium at {} (apt-get install -y chromium, or set CHROMIUM_PATH)",
            chromium.display()
        ));
    }
    assert!(
        missing.is_empty(),
        "e2e_frontend needs these tools (scripts/install-test-deps installs them):\n  {}",
        missing.join("\n  ")
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Run a command to completion (its output into `log`), failing the test on error or timeout.
fn run(what: &str, cmd: &mut Command, log: &Path, timeout: Duration) {
    let out = fs::File::create(log).expect("create log");
    let err = out.try_clone().expect("clone log handle");
    eprintln!("==> {what}");
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start {cmd:?}: {e}"));
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(
                status.success(),
                "{what} failed ({status}); last lines of {}:\n{}",
                log.display(),
                tail(log, 80)
            );
            eprintln!("    ok in {:.1}s", started.elapsed().as_secs_f64());
            return;
        }
        if started.elapsed() > timeout {
            stop_group(&mut child);
            panic!(
                "{what} timed out after {timeout:?}; last lines of {}:\n{}",
                log.display(),
                tail(log, 80)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// SIGTERM the whole process group, then SIGKILL what is left after 5 s.
fn stop_group(child: &mut Child) {
    let Ok(pid) = i32::try_from(child.id()) else {
        return;
    };
    let group = Pid::from_raw(pid);
    let _ = killpg(group, Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = killpg(group, Signal::SIGKILL);
    let _ = child.wait();
}

/// A background server, stopped (with its whole process group) when dropped.
struct Server {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Server {
    fn start(name: &'static str, cmd: &mut Command, log: &Path) -> Server {
        let out = fs::File::create(log).expect("create log");
        let err = out.try_clone().expect("clone log handle");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        Server {
            name,
            child,
            log: log.to_path_buf(),
        }
    }

    /// Wait until `GET path` on the port answers `expect_status`.
    fn wait_http(&mut self, port: u16, path: &str, expect_status: u16, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                panic!(
                    "{} exited early ({status}); last lines of {}:\n{}",
                    self.name,
                    self.log.display(),
                    tail(&self.log, 60)
                );
            }
            if http_get(port, path).is_some_and(|r| r.status == expect_status) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready on port {port} after {timeout:?}; last lines of {}:\n{}",
                self.name,
                self.log.display(),
                tail(&self.log, 60)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}

struct HttpResponse {
    status: u16,
    head: String,
    body: String,
}

/// A minimal HTTP/1.0 GET on loopback (no redirects, no TLS).
fn http_get(port: u16, path: &str) -> Option<HttpResponse> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some(HttpResponse {
        status,
        head: head.to_ascii_lowercase(),
        body: body.to_string(),
    })
}

/// The status line's code of a WebSocket upgrade request (what the browser's handshake gets).
fn ws_upgrade_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n\
         Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    .ok()?;
    let mut buf = [0u8; 64];
    let n = stream.read(&mut buf).ok()?;
    String::from_utf8_lossy(&buf[..n])
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The generated production site config, served on loopback: the port-80 redirect server is
/// dropped, the TLS server listens on plain HTTP at `port`, the `api` upstream points at the
/// backend and the SPA root at `dist`. Everything else (proxying of /api/, /ws/ and /health,
/// security headers, caching, `try_files`) is the generated file as is. Each rewrite must find
/// its target exactly once, so a drifted config fails here instead of being half-adapted.
fn loopback_site_conf(generated: &str, port: u16, backend_port: u16, dist: &Path) -> String {
    // Split the top level into blocks and drop the `server` that listens on port 80.
    let mut kept = String::new();
    let mut block = String::new();
    let mut depth = 0usize;
    let mut dropped_redirect = 0;
    for line in generated.lines() {
        block.push_str(line);
        block.push('\n');
        let opens = line.matches('{').count();
        let closes = line.matches('}').count();
        depth = depth + opens - closes.min(depth + opens);
        if depth == 0 && closes > 0 {
            if block.trim_start().starts_with("server") && block.contains("listen 80;") {
                dropped_redirect += 1;
            } else {
                kept.push_str(&block);
            }
            block.clear();
        } else if depth == 0 && opens == 0 {
            kept.push_str(&block);
            block.clear();
        }
    }
    kept.push_str(&block);
    assert_eq!(
        dropped_redirect, 1,
        "expected one port-80 redirect server in nginx/nginx.conf"
    );

    let mut counts = [0usize; 4];
    let mut out = String::new();
    for line in kept.lines() {
        let t = line.trim();
        if t == "server api:5000;" {
            counts[0] += 1;
            out.push_str(&format!("    server 127.0.0.1:{backend_port};\n"));
        } else if t == "listen 443 ssl;" {
            counts[1] += 1;
            out.push_str(&format!("    listen 127.0.0.1:{port};\n"));
        } else if t == "listen [::]:443 ssl;" || t.starts_with("ssl_") {
            // TLS is not part of what runs on loopback.
        } else if t == "root /usr/share/nginx/html;" {
            counts[2] += 1;
            out.push_str(&format!("    root {};\n", dist.display()));
        } else {
            if t.starts_with("location /api/") || t.starts_with("location /ws/") {
                counts[3] += 1;
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    assert_eq!(
        counts,
        [1, 1, 1, 2],
        "nginx/nginx.conf changed shape: expected one `server api:5000;`, one `listen 443 ssl;`, \
         one `root /usr/share/nginx/html;` and the /api/ and /ws/ locations"
    );
    out
}

#[test]
fn generated_frontend_end_to_end() {
    require_tools();
    let fsi = env!("CARGO_BIN_EXE_fsi");
    let tmp = tempfile::Builder::new()
        .prefix("fsi-e2e-frontend-")
        .tempdir()
        .expect("temp dir");
    // nginx's workers do not run as the test's user when it is root: let them read the SPA.
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).expect("chmod temp dir");
    let artifacts = artifacts_dir();
    let _ = fs::remove_dir_all(&artifacts);
    let logs = artifacts.join("logs");
    fs::create_dir_all(&logs).expect("artifacts dir");
    let screenshots = artifacts.join("screenshots");

    // 1. Generate the project.
    let project = tmp.path().join("demo");
    run(
        "fsi new demo --yes",
        Command::new(fsi)
            .arg("new")
            .arg(&project)
            .arg("--yes")
            .current_dir(tmp.path()),
        &logs.join("fsi-new.log"),
        2 * MINUTE,
    );
    let frontend = project.join("frontend");
    let backend = project.join("backend");
    assert!(
        frontend.join("package-lock.json").is_file(),
        "no frontend/package-lock.json"
    );
    assert!(
        frontend.join("src/types/index.ts").is_file(),
        "fsi new wrote no frontend/src/types/index.ts: the generated TypeScript types (`fsi types`, \
         run by `fsi new`) are missing, and the frontend cannot compile without them"
    );

    // 2. The frontend's own checks.
    let npm = |what: &str, args: &[&str], log: &str, timeout: Duration| {
        run(
            what,
            Command::new("npm")
                .args(args)
                .current_dir(&frontend)
                .env("CI", "1"),
            &logs.join(log),
            timeout,
        );
    };
    npm(
        "npm ci",
        &["ci", "--no-audit", "--no-fund"],
        "npm-ci.log",
        10 * MINUTE,
    );
    npm(
        "tsc --noEmit",
        &["run", "typecheck"],
        "typecheck.log",
        5 * MINUTE,
    );
    npm("vitest run", &["test"], "vitest.log", 5 * MINUTE);
    npm(
        "vite build",
        &["run", "build"],
        "vite-build.log",
        5 * MINUTE,
    );
    let dist = frontend.join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "vite build wrote no dist/index.html"
    );

    // 3. The backend, with access tokens short enough for the spec to see one expire.
    let ssl_cert_file = std::env::var("SSL_CERT_FILE")
        .unwrap_or_else(|_| "/etc/ssl/certs/ca-certificates.crt".into());
    let backend_port = free_port();
    let backend_env = [
        ("APP_ENV", "development".to_string()),
        (
            "DATABASE_URL",
            format!(
                "sqlite+aiosqlite:///{}",
                tmp.path().join("e2e.db").display()
            ),
        ),
        (
            "JWT_SECRET",
            "e2e-only-secret-0123456789abcdef0123456789abcdef".to_string(),
        ),
        ("ACCESS_TOKEN_TTL_SECONDS", "3".to_string()),
        // As in docker-compose.prod.yml: the backend trusts nginx's X-Forwarded-* headers.
        ("TRUSTED_PROXY_HOPS", "1".to_string()),
        ("REDIS_URL", String::new()),
        ("SSL_CERT_FILE", ssl_cert_file),
    ];
    run(
        "uv sync (backend)",
        Command::new("uv")
            .args(["sync", "--quiet"])
            .current_dir(&backend)
            .envs(backend_env.clone()),
        &logs.join("uv-sync.log"),
        10 * MINUTE,
    );
    run(
        "alembic upgrade head",
        Command::new("uv")
            .args(["run", "--no-sync", "alembic", "upgrade", "head"])
            .current_dir(&backend)
            .envs(backend_env.clone()),
        &logs.join("alembic.log"),
        2 * MINUTE,
    );
    let mut api = Server::start(
        "hypercorn",
        Command::new("uv")
            .args(["run", "--no-sync", "hypercorn", "app.asgi:app", "--bind"])
            .arg(format!("127.0.0.1:{backend_port}"))
            .current_dir(&backend)
            .envs(backend_env),
        &logs.join("backend.log"),
    );
    api.wait_http(backend_port, "/health", 200, 2 * MINUTE);

    // 4. nginx with the generated site config, on loopback.
    let nginx_port = free_port();
    let nginx_dir = tmp.path().join("nginx");
    fs::create_dir_all(&nginx_dir).expect("nginx dir");
    let generated =
        fs::read_to_string(project.join("nginx/nginx.conf")).expect("generated nginx/nginx.conf");
    fs::write(
        nginx_dir.join("site.conf"),
        loopback_site_conf(&generated, nginx_port, backend_port, &dist),
    )
    .expect("write site.conf");
    let n = nginx_dir.display();
    let l = logs.display();
    fs::write(
        nginx_dir.join("main.conf"),
        format!(
            "worker_processes 1;\n\
             pid {n}/nginx.pid;\n\
             error_log {l}/nginx-error.log info;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n\
             \x20   include /etc/nginx/mime.types;\n\
             \x20   default_type application/octet-stream;\n\
             \x20   access_log {l}/nginx-access.log;\n\
             \x20   client_body_temp_path {n}/client_body;\n\
             \x20   proxy_temp_path {n}/proxy;\n\
             \x20   fastcgi_temp_path {n}/fastcgi;\n\
             \x20   uwsgi_temp_path {n}/uwsgi;\n\
             \x20   scgi_temp_path {n}/scgi;\n\
             \x20   include {n}/site.conf;\n\
             }}\n"
        ),
    )
    .expect("write main.conf");
    let main_conf = nginx_dir.join("main.conf");
    run(
        "nginx -t (generated config on loopback)",
        Command::new(nginx_binary())
            .arg("-t")
            .arg("-e")
            .arg(logs.join("nginx-error.log"))
            .arg("-c")
            .arg(&main_conf),
        &logs.join("nginx-t.log"),
        MINUTE,
    );
    let mut web = Server::start(
        "nginx",
        Command::new(nginx_binary())
            .arg("-e")
            .arg(logs.join("nginx-error.log"))
            .arg("-c")
            .arg(&main_conf)
            .args(["-g", "daemon off;"]),
        &logs.join("nginx.log"),
    );
    web.wait_http(nginx_port, "/health", 200, MINUTE);

    // The SPA through nginx: a deep link gets the shell (try_files) with the security headers.
    let deep = http_get(nginx_port, "/items").expect("GET /items through nginx");
    assert_eq!(deep.status, 200, "deep link /items: {}", deep.head);
    assert!(
        deep.body.contains("<div id=\"root\">"),
        "deep link is not the SPA shell: {}",
        deep.body
    );
    assert!(
        deep.head.contains("x-content-type-options: nosniff"),
        "{}",
        deep.head
    );
    assert!(
        deep.head.contains("content-security-policy:"),
        "{}",
        deep.head
    );
    let api_401 = http_get(nginx_port, "/api/items").expect("GET /api/items through nginx");
    assert_eq!(
        api_401.status, 401,
        "/api/items without a token: {}",
        api_401.body
    );
    assert!(
        api_401.body.contains("\"UNAUTHORIZED\""),
        "{}",
        api_401.body
    );

    // The browser's WebSocket handshake through nginx, checked on its own for a clear message.
    let ws = ws_upgrade_status(nginx_port, "/ws/items");
    assert_eq!(
        ws,
        Some(101),
        "WebSocket upgrade of /ws/items through nginx: expected 101 Switching Protocols. With \
         TRUSTED_PROXY_HOPS set, a 400 means the backend took X-Forwarded-Proto `http` as the \
         websocket scheme (hypercorn's ProxyFixMiddleware) and routing refused it"
    );

    // 5. The generated Playwright specs, in the system's Chromium, against nginx.
    fs::create_dir_all(&screenshots).expect("screenshots dir");
    run(
        "playwright test (through nginx)",
        Command::new("npm")
            .args(["run", "test:e2e"])
            .current_dir(&frontend)
            .env("CI", "1")
            .env("E2E_BASE_URL", format!("http://127.0.0.1:{nginx_port}"))
            .env("E2E_SCREENSHOT_DIR", &screenshots)
            .env("CHROMIUM_PATH", chromium_path()),
        &logs.join("playwright.log"),
        10 * MINUTE,
    );

    drop(web);
    drop(api);

    // One screenshot per state of the flow.
    let mut shots: Vec<String> = fs::read_dir(&screenshots)
        .expect("screenshots dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png"))
        .collect();
    shots.sort();
    for expected in [
        "01-protected-redirects-to-login.png",
        "04-empty-list.png",
        "06-live-update.png",
        "07-after-token-refresh.png",
        "09-logged-out.png",
        "10-protected-after-logout.png",
    ] {
        assert!(
            shots.iter().any(|s| s == expected),
            "no screenshot {expected}; got {shots:?}"
        );
    }
    eprintln!(
        "screenshots in {}: {}",
        screenshots.display(),
        shots.join(", ")
    );
}

#[test]
fn loopback_adaptation_rewrites_only_what_it_must() {
    let generated = "\
map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}

upstream api_backend {
    server api:5000;
}

server {
    listen 80;
    location / {
        return 301 https://$host$request_uri;
    }
}

server {
    listen 443 ssl;
    listen [::]:443 ssl;
    ssl_certificate     /etc/nginx/ssl/fullchain.pem;
    root /usr/share/nginx/html;
    location /api/ {
        proxy_pass http://api_backend;
    }
    location /ws/ {
        proxy_pass http://api_backend;
    }
}
";
    let out = loopback_site_conf(generated, 8080, 5001, Path::new("/srv/dist"));
    assert!(out.contains("map $http_upgrade $connection_upgrade {"));
    assert!(out.contains("server 127.0.0.1:5001;"));
    assert!(out.contains("listen 127.0.0.1:8080;"));
    assert!(out.contains("root /srv/dist;"));
    assert!(!out.contains("listen 80;"));
    assert!(!out.contains("return 301"));
    assert!(!out.contains("ssl"));
    assert_eq!(out.matches('{').count(), out.matches('}').count());
}
