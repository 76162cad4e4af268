//! A throwaway PostgreSQL server on 127.0.0.1 (initdb into a temp dir, trust auth, user `app`).
//! As root, the server runs as the `postgres` system user (PostgreSQL refuses root).

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::Signal;
use tempfile::TempDir;

use super::process::Background;
use super::{free_port, is_executable, run_ok, running_as_root, wait_until};

pub struct Postgres {
    pub port: u16,
    bin: PathBuf,
    server: Background,
    // Dropped after `server` (fields drop in declaration order).
    _dir: TempDir,
}

/// PostgreSQL's server binaries: $FSI_PG_BIN, else the newest /usr/lib/postgresql/*/bin.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FSI_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            is_executable(&bin.join("initdb")).then_some((version, bin))
        })
        .collect();
    candidates.sort();
    candidates.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql); \
             or set FSI_PG_BIN"
        )
    })
}

fn system_user_ids(user: &str) -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = run_ok(Command::new("id").args([flag, user]));
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("id {flag} {user}: {e}"))
    };
    (id("-u"), id("-g"))
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("fsi-pg-")
            .tempdir()
            .expect("temp dir");
        let owner = running_as_root().then(|| system_user_ids("postgres"));
        let as_owner = |cmd: &mut Command| {
            if let Some((uid, gid)) = owner {
                cmd.uid(uid).gid(gid);
            }
        };
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown pg dir");
        }
        let data = dir.path().join("data");

        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .args(["-U", "app", "-A", "trust", "--no-sync", "-E", "UTF8", "-D"])
            .arg(&data)
            .current_dir(dir.path());
        as_owner(&mut initdb);
        run_ok(&mut initdb);

        let port = free_port();
        let mut server = Command::new(bin.join("postgres"));
        server
            .arg("-D")
            .arg(&data)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-p",
                &port.to_string(),
                "-k",
            ])
            .arg(dir.path())
            .args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ])
            .current_dir(dir.path());
        as_owner(&mut server);
        // SIGINT is PostgreSQL's "fast" shutdown.
        let mut server =
            Background::spawn("postgres", server, dir.path()).with_stop_signal(Signal::SIGINT);

        let pg_isready = bin.join("pg_isready");
        wait_until(
            "PostgreSQL to accept connections",
            Duration::from_secs(30),
            || {
                server.assert_running();
                let out = Command::new(&pg_isready)
                    .args([
                        "-h",
                        "127.0.0.1",
                        "-p",
                        &port.to_string(),
                        "-U",
                        "app",
                        "-d",
                        "postgres",
                    ])
                    .output()
                    .map_err(|e| e.to_string())?;
                if out.status.success() {
                    Ok(())
                } else {
                    Err(String::from_utf8_lossy(&out.stdout).into_owned())
                }
            },
        );
        Postgres {
            port,
            bin,
            server,
            _dir: dir,
        }
    }

    pub fn create_database(&self, name: &str) {
        run_ok(Command::new(self.bin.join("createdb")).args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "app",
            name,
        ]));
    }

    /// SQLAlchemy async URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgresql+asyncpg://app@127.0.0.1:{}/{db}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.server.pid()
    }
}
