//! A minimal WebSocket client (text frames, close codes) for tests: over plain TCP to a backend,
//! or over TLS through `openssl s_client` to nginx, so the proxy's upgrade handling is exercised
//! without a browser.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use super::tool;

/// What the server sent.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Text(String),
    /// A close frame and its status code (1005 when it carried none).
    Close(u16),
}

pub struct WsClient {
    writer: Box<dyn Write + Send>,
    frames: Receiver<Result<Frame, String>>,
    child: Option<Child>,
}

impl WsClient {
    /// `ws://127.0.0.1:PORT/PATH`.
    pub fn connect_plain(port: u16, path: &str) -> Result<WsClient, String> {
        let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        let reader = stream.try_clone().map_err(|e| e.to_string())?;
        Self::handshake(Box::new(reader), Box::new(stream), None, port, path)
    }

    /// `wss://127.0.0.1:PORT/PATH` through `openssl s_client` (certificate not verified).
    pub fn connect_tls(port: u16, path: &str) -> Result<WsClient, String> {
        let mut child = Command::new(tool("openssl"))
            .args([
                "s_client",
                "-quiet",
                "-connect",
                &format!("127.0.0.1:{port}"),
            ])
            .args(["-servername", "localhost"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let writer = child.stdin.take().expect("piped stdin");
        let reader = child.stdout.take().expect("piped stdout");
        Self::handshake(Box::new(reader), Box::new(writer), Some(child), port, path)
    }

    fn handshake(
        reader: Box<dyn Read + Send>,
        mut writer: Box<dyn Write + Send>,
        child: Option<Child>,
        port: u16,
        path: &str,
    ) -> Result<WsClient, String> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        writer
            .write_all(request.as_bytes())
            .map_err(|e| e.to_string())?;
        writer.flush().map_err(|e| e.to_string())?;

        let (tx, frames) = channel();
        let (status_tx, status_rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(reader);
            let mut status = String::new();
            let mut line = String::new();
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => {
                        let _ =
                            status_tx.send(Err(format!("no upgrade response (got {status:?})")));
                        return;
                    }
                    Ok(_) if status.is_empty() => status = line.trim().to_string(),
                    Ok(_) if line == "\r\n" => break,
                    Ok(_) => {}
                }
            }
            let _ = status_tx.send(Ok(status));
            loop {
                let frame = read_frame(&mut reader);
                let stop = !matches!(frame, Ok(Frame::Text(_)));
                if tx.send(frame).is_err() || stop {
                    return;
                }
            }
        });
        let status = status_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| "timed out waiting for the upgrade response".to_string())??;
        if status.split_whitespace().nth(1) != Some("101") {
            return Err(format!("upgrade refused: {status}"));
        }
        Ok(WsClient {
            writer,
            frames,
            child,
        })
    }

    /// Send one masked text frame.
    pub fn send_text(&mut self, text: &str) -> Result<(), String> {
        let payload = text.as_bytes();
        let mask = [0x1f_u8, 0x2e, 0x3d, 0x4c];
        let mut frame = vec![0x81];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= 0xffff => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.writer.write_all(&frame).map_err(|e| e.to_string())?;
        self.writer.flush().map_err(|e| e.to_string())
    }

    /// The next frame, waiting at most `timeout`.
    pub fn recv(&mut self, timeout: Duration) -> Result<Frame, String> {
        self.frames
            .recv_timeout(timeout)
            .map_err(|e| format!("no frame within {timeout:?}: {e}"))?
    }

    /// The next frame as JSON; panics on anything else.
    pub fn recv_json(&mut self, timeout: Duration) -> serde_json::Value {
        match self.recv(timeout) {
            Ok(Frame::Text(text)) => serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("frame is not JSON ({e}): {text}")),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

impl Drop for WsClient {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn read_frame(reader: &mut impl Read) -> Result<Frame, String> {
    loop {
        if let Some(frame) = read_one_frame(reader)? {
            return Ok(frame);
        }
    }
}

/// One frame; None for control frames a client can ignore here (ping, pong).
fn read_one_frame(reader: &mut impl Read) -> Result<Option<Frame>, String> {
    let mut head = [0u8; 2];
    reader.read_exact(&mut head).map_err(|e| e.to_string())?;
    let opcode = head[0] & 0x0f;
    let mut len = u64::from(head[1] & 0x7f);
    if len == 126 {
        let mut ext = [0u8; 2];
        reader.read_exact(&mut ext).map_err(|e| e.to_string())?;
        len = u64::from(u16::from_be_bytes(ext));
    } else if len == 127 {
        let mut ext = [0u8; 8];
        reader.read_exact(&mut ext).map_err(|e| e.to_string())?;
        len = u64::from_be_bytes(ext);
    }
    let mut payload = vec![0u8; len as usize];
    reader.read_exact(&mut payload).map_err(|e| e.to_string())?;
    match opcode {
        0x1 => String::from_utf8(payload)
            .map(|text| Some(Frame::Text(text)))
            .map_err(|e| e.to_string()),
        0x8 => Ok(Some(Frame::Close(if payload.len() >= 2 {
            u16::from_be_bytes([payload[0], payload[1]])
        } else {
            1005
        }))),
        0x9 | 0xa => Ok(None),
        other => Err(format!("unexpected opcode {other:#x}")),
    }
}
