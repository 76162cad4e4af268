//! A minimal Server-Sent Events client for tests: over plain TCP to a backend, or over TLS
//! through `openssl s_client` to nginx, so the proxy's (un)buffering is exercised without a
//! browser. Events are parsed as EventSource does (`event:`, `id:`, `data:`, comments skipped).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use super::tool;

/// One event of the stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    pub event: String,
    pub id: String,
    pub data: String,
}

impl Event {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("data is not JSON ({e}): {self:?}"))
    }
}

/// What the stream sent: an event, or a line that is not part of one (`retry:`, a comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Event(Event),
    Retry(u64),
    Comment(String),
    /// The server ended the stream.
    End,
}

pub struct SseClient {
    /// The status line's code and the headers (lower-case names).
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body of a non-200 answer (read to its end).
    pub body: String,
    items: Receiver<Item>,
    _writer: Box<dyn Write + Send>,
    child: Option<Child>,
}

impl SseClient {
    /// `GET http://127.0.0.1:PORT/PATH` with `Accept: text/event-stream`.
    pub fn connect_plain(
        port: u16,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<SseClient, String> {
        let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        let reader = stream.try_clone().map_err(|e| e.to_string())?;
        Self::start(
            Box::new(reader),
            Box::new(stream),
            None,
            port,
            path,
            headers,
        )
    }

    /// `GET https://127.0.0.1:PORT/PATH` through `openssl s_client` (certificate not verified).
    pub fn connect_tls(
        port: u16,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<SseClient, String> {
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
        Self::start(
            Box::new(reader),
            Box::new(writer),
            Some(child),
            port,
            path,
            headers,
        )
    }

    fn start(
        reader: Box<dyn Read + Send>,
        mut writer: Box<dyn Write + Send>,
        child: Option<Child>,
        port: u16,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<SseClient, String> {
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        writer
            .write_all(request.as_bytes())
            .map_err(|e| e.to_string())?;
        writer.flush().map_err(|e| e.to_string())?;

        let (head_tx, head_rx) = channel();
        let (tx, items) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(reader);
            let mut line = String::new();
            let mut status = 0u16;
            let mut headers = Vec::new();
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => {
                        let _ = head_tx.send(Err(format!("no response head (status {status})")));
                        return;
                    }
                    Ok(_) if status == 0 => {
                        status = line
                            .split_whitespace()
                            .nth(1)
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(0);
                    }
                    Ok(_) if line == "\r\n" || line == "\n" => break,
                    Ok(_) => {
                        if let Some((name, value)) = line.split_once(':') {
                            headers.push((name.trim().to_lowercase(), value.trim().to_string()));
                        }
                    }
                }
            }
            let chunked = headers
                .iter()
                .any(|(n, v)| n == "transfer-encoding" && v.to_lowercase().contains("chunked"));
            let mut body = Dechunk::new(reader, chunked);
            if status != 200 {
                // To its end: the Content-Length (a keep-alive server such as granian leaves
                // the connection open after it), else the last chunk, else the close.
                let length = headers
                    .iter()
                    .find(|(n, _)| n == "content-length")
                    .and_then(|(_, v)| v.parse::<u64>().ok());
                let mut text = String::new();
                let _ = match length {
                    Some(n) if !chunked => body.by_ref().take(n).read_to_string(&mut text),
                    _ => body.read_to_string(&mut text),
                };
                let _ = head_tx.send(Ok((status, headers, text)));
                return;
            }
            let _ = head_tx.send(Ok((status, headers, String::new())));
            let mut lines = BufReader::new(body);
            let mut current = Event::default();
            loop {
                line.clear();
                match lines.read_line(&mut line) {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(Item::End);
                        return;
                    }
                    Ok(_) => {}
                }
                let text = line.trim_end_matches(['\r', '\n']);
                let item = if text.is_empty() {
                    if current.event.is_empty() && current.data.is_empty() {
                        continue;
                    }
                    Item::Event(std::mem::take(&mut current))
                } else if let Some(comment) = text.strip_prefix(':') {
                    Item::Comment(comment.trim().to_string())
                } else {
                    let (field, value) = text.split_once(':').unwrap_or((text, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "event" => current.event = value.to_string(),
                        "id" => current.id = value.to_string(),
                        "data" => {
                            if !current.data.is_empty() {
                                current.data.push('\n');
                            }
                            current.data.push_str(value);
                        }
                        "retry" if tx.send(Item::Retry(value.parse().unwrap_or(0))).is_err() => {
                            return;
                        }
                        _ => {}
                    }
                    continue;
                };
                if tx.send(item).is_err() {
                    return;
                }
            }
        });
        let (status, headers, body) = head_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| "timed out waiting for the response head".to_string())??;
        Ok(SseClient {
            status,
            headers,
            body,
            items,
            _writer: writer,
            child,
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The next thing the stream sent, waiting at most `timeout`.
    pub fn next(&mut self, timeout: Duration) -> Result<Item, String> {
        self.items
            .recv_timeout(timeout)
            .map_err(|e| format!("nothing within {timeout:?}: {e}"))
    }

    /// The next event (retry lines and comments skipped), waiting at most `timeout` in all.
    pub fn next_event(&mut self, timeout: Duration) -> Result<Event, String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.next(left)? {
                Item::Event(e) => return Ok(e),
                Item::End => return Err("the stream ended".into()),
                Item::Retry(_) | Item::Comment(_) => {}
            }
        }
    }
}

impl Drop for SseClient {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A body reader that removes HTTP/1.1 chunked framing (or passes the bytes through).
struct Dechunk<R: BufRead> {
    inner: R,
    chunked: bool,
    left: usize,
    done: bool,
}

impl<R: BufRead> Dechunk<R> {
    fn new(inner: R, chunked: bool) -> Self {
        Dechunk {
            inner,
            chunked,
            left: 0,
            done: false,
        }
    }
}

impl<R: BufRead> Read for Dechunk<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.chunked {
            return self.inner.read(buf);
        }
        if self.done {
            return Ok(0);
        }
        if self.left == 0 {
            let mut size = String::new();
            loop {
                size.clear();
                if self.inner.read_line(&mut size)? == 0 {
                    self.done = true;
                    return Ok(0);
                }
                if !size.trim().is_empty() {
                    break; // skip the CRLF that ends the previous chunk
                }
            }
            let hex = size.trim().split(';').next().unwrap_or("0");
            self.left = usize::from_str_radix(hex, 16)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let want = buf.len().min(self.left);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            self.done = true;
        }
        self.left -= n;
        Ok(n)
    }
}
