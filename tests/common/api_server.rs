//! A generated project's backend served on 127.0.0.1 by its production server (granian for the
//! Quart flavour, gunicorn with `gunicorn.conf.py` for the Flask one, as backend/Dockerfile.prod
//! and scripts/dev run them), from its `.venv` (run `uv sync` in `backend/` first).

use std::path::Path;
use std::time::Duration;

use super::process::Background;
use super::{clean_command, free_port, http, wait_until};

pub struct ApiServer {
    pub port: u16,
    server: Background,
}

impl ApiServer {
    /// Serve `backend_dir` with `env` (on top of a clean environment) and wait for /health to
    /// answer (200 or 503).
    pub fn start(backend_dir: &Path, env: &[(&str, &str)], log_dir: &Path) -> ApiServer {
        let flask = backend_dir.join("gunicorn.conf.py").exists();
        let (name, server) = if flask {
            ("gunicorn", backend_dir.join(".venv/bin/gunicorn"))
        } else {
            ("granian", backend_dir.join(".venv/bin/granian"))
        };
        assert!(
            server.exists(),
            "{} is missing: run `uv sync` in backend/ first",
            server.display()
        );
        let port = free_port();
        let port_arg = port.to_string();
        let bind = format!("127.0.0.1:{port}");
        let mut cmd = clean_command(&server);
        if flask {
            cmd.args([
                "--config",
                "gunicorn.conf.py",
                "--bind",
                &bind,
                "app.wsgi:app",
            ]);
        } else {
            cmd.args([
                "--interface",
                "asgi",
                "--host",
                "127.0.0.1",
                "--port",
                &port_arg,
                "--access-log",
                "app.asgi:app",
            ]);
        }
        cmd.current_dir(backend_dir).envs(env.iter().copied());
        let mut server = Background::spawn(name, cmd, log_dir);
        let url = format!("http://127.0.0.1:{port}/health");
        wait_until(
            &format!("{name} to serve /health"),
            Duration::from_secs(30),
            || {
                server.assert_running();
                let response = http::get(&url)?;
                match response.status {
                    200 | 503 => Ok(()),
                    other => Err(format!("status {other}")),
                }
            },
        );
        ApiServer { port, server }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.server.pid()
    }

    /// SIGTERM to the server's main process (as `docker stop` sends it); how long it took to
    /// exit, or None if it is still running after `limit` (the guard still stops it on drop).
    pub fn terminate(&mut self, limit: Duration) -> Option<Duration> {
        self.server
            .signal_and_wait(nix::sys::signal::Signal::SIGTERM, limit)
    }

    /// SIGTERM to the server's main process, not waiting (see `wait_exit`).
    pub fn send_term(&self) {
        self.server.signal(nix::sys::signal::Signal::SIGTERM);
    }

    /// Wait until the server's main process has exited, until `start + limit`; time since `start`.
    pub fn wait_exit(&mut self, start: std::time::Instant, limit: Duration) -> Option<Duration> {
        self.server.wait_exit(start, limit)
    }

    pub fn log_tail(&self) -> String {
        self.server.log_tail()
    }
}
