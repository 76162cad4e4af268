//! A generated project's backend served by hypercorn on 127.0.0.1, from its `.venv`
//! (run `uv sync` in `backend/` first).

use std::path::Path;
use std::time::Duration;

use super::process::Background;
use super::{clean_command, free_port, http, wait_until};

pub struct Hypercorn {
    pub port: u16,
    server: Background,
}

impl Hypercorn {
    /// Serve `backend_dir` with `env` (on top of a clean environment) and wait for /health to
    /// answer (200 or 503).
    pub fn start(backend_dir: &Path, env: &[(&str, &str)], log_dir: &Path) -> Hypercorn {
        let hypercorn = backend_dir.join(".venv/bin/hypercorn");
        assert!(
            hypercorn.exists(),
            "{} is missing: run `uv sync` in backend/ first",
            hypercorn.display()
        );
        let port = free_port();
        let mut cmd = clean_command(&hypercorn);
        cmd.args(["app.asgi:app", "--bind", &format!("127.0.0.1:{port}")])
            .current_dir(backend_dir)
            .envs(env.iter().copied());
        let mut server = Background::spawn("hypercorn", cmd, log_dir);
        let url = format!("http://127.0.0.1:{port}/health");
        wait_until(
            "hypercorn to serve /health",
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
        Hypercorn { port, server }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.server.pid()
    }

    pub fn log_tail(&self) -> String {
        self.server.log_tail()
    }
}
