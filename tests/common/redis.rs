//! A throwaway Redis server on 127.0.0.1 (no persistence).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use super::process::Background;
use super::{free_port, tool, wait_until};

pub struct Redis {
    pub port: u16,
    server: Background,
    _dir: TempDir,
}

/// One PING over a fresh connection.
pub fn ping(port: u16) -> Result<(), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    stream.write_all(b"PING\r\n").map_err(|e| e.to_string())?;
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).map_err(|e| e.to_string())?;
    if &reply == b"+PONG\r\n" {
        Ok(())
    } else {
        Err(format!(
            "unexpected reply {:?}",
            String::from_utf8_lossy(&reply)
        ))
    }
}

impl Redis {
    pub fn start() -> Redis {
        let dir = tempfile::Builder::new()
            .prefix("fsi-redis-")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        let mut cmd = Command::new(tool("redis-server"));
        cmd.args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(dir.path())
        .current_dir(dir.path());
        let mut server = Background::spawn("redis", cmd, dir.path());
        wait_until("Redis to answer PING", Duration::from_secs(15), || {
            server.assert_running();
            ping(port)
        });
        Redis {
            port,
            server,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.server.pid()
    }
}
