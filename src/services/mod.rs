//! Background services for gates and checks: a backend that `curl -sf …/health` needs, a preview
//! server for browser flows.
//!
//! A service is a shell command started in its own process group with its output sent to a log
//! file, a readiness probe (HTTP 2xx or a TCP connect) polled until a timeout, and a stop that
//! terminates the whole group (SIGTERM, a grace period, SIGKILL) — on success, failure, interrupt
//! and drop alike, so no process outlives the run.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use miette::Diagnostic;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::error::{Classify, ExitStatus};

/// A service as declared in fsi.toml `[services.NAME]` or a session's `<services>`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceSpec {
    /// Shell command (`bash -c`); `{port}` is replaced by the service's port.
    pub command: String,
    /// Working directory, relative to the project root.
    pub cwd: Option<PathBuf>,
    /// The port the service listens on; `0` picks a free loopback port at start.
    pub port: Option<u16>,
    /// Readiness probe: `http://…` (2xx wanted) or `tcp://host:port`; `{port}` is replaced.
    pub ready: Option<String>,
    /// How long to wait for readiness, e.g. `"60s"`, `"500ms"`, `"2m"`.
    pub ready_timeout: Option<String>,
    /// Log file for stdout and stderr, relative to the project root
    /// (default `.fsi/logs/<name>.log`).
    pub log: Option<PathBuf>,
    /// Extra environment; `{port}` is replaced in values.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Whether the loopback port the service is reached on must be free before the start and
    /// then be listened on by the started process (default true). Turn it off only for a
    /// command that hands the port to another process tree (a container engine's proxy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_port: Option<bool>,
}

#[derive(Debug, Error, Diagnostic)]
pub enum ServiceError {
    #[error("service `{name}`: cannot start `{command}`")]
    #[diagnostic(code(fsi::service::spawn))]
    Spawn {
        name: String,
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("service `{name}` exited with {status} before it was ready\n{log_tail}")]
    #[diagnostic(code(fsi::service::exited), help("the whole log is in {log}"))]
    Exited {
        name: String,
        status: String,
        log: String,
        log_tail: String,
    },
    #[error("service `{name}` was not ready at {probe} within {timeout:?}\n{log_tail}")]
    #[diagnostic(
        code(fsi::service::not_ready),
        help("raise ready_timeout, or read the whole log in {log}")
    )]
    NotReady {
        name: String,
        probe: String,
        timeout: Duration,
        log: String,
        log_tail: String,
    },
    #[error("service `{name}`: {message}")]
    #[diagnostic(code(fsi::service::config))]
    Config { name: String, message: String },
    #[error(
        "service `{name}`: port {port} is already in use{holder}; stop it, or run with `--port {name}=0`"
    )]
    #[diagnostic(
        code(fsi::service::port_in_use),
        help(
            "fsi runs checks against the process it starts, never against one already running \
             (a dev server, say). Stop that process, or give the service a free port: \
             `--port {name}=0` (or `port = 0` in [services.{name}])"
        )
    )]
    PortInUse {
        name: String,
        port: u16,
        /// ` by pid N (command)`, or empty when the holder is not visible.
        holder: String,
    },
    #[error(
        "service `{name}`: {probe} answered, but port {port} is held by{holder}, not by the process fsi started"
    )]
    #[diagnostic(
        code(fsi::service::foreign_listener),
        help("the service's own log is in {log}; stop the other process or use `--port {name}=0`")
    )]
    ForeignListener {
        name: String,
        probe: String,
        port: u16,
        holder: String,
        log: String,
    },
}

impl Classify for ServiceError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            ServiceError::Config { .. } => ExitStatus::Invalid,
            ServiceError::PortInUse { .. } => ExitStatus::Refused,
            _ => ExitStatus::Failure,
        }
    }
}

/// Parse `"30s"`, `"500ms"`, `"2m"` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&t[..i], t[i..].trim()),
        None => (t, "s"),
    };
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    (secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough to hand to a child).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A service that is up. Dropping it stops it.
#[derive(Debug)]
pub struct Running {
    pub name: String,
    pub port: Option<u16>,
    pub log: PathBuf,
    child: Option<Child>,
}

impl Running {
    /// The process (and process group) id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Terminate the whole process group: SIGTERM, wait up to `grace`, then SIGKILL.
    pub fn stop(&mut self, grace: Duration) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pgid = Pid::from_raw(child.id() as i32);
        let _ = killpg(pgid, Signal::SIGTERM);
        let deadline = Instant::now() + grace;
        loop {
            // The leader may be gone while children of the group live on: probe the group.
            let leader_done = matches!(child.try_wait(), Ok(Some(_)));
            let group_alive = killpg(pgid, None).is_ok();
            if leader_done && !group_alive {
                return;
            }
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = killpg(pgid, Signal::SIGKILL);
        let _ = child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(3));
    }
}

fn substitute(text: &str, port: Option<u16>) -> String {
    match port {
        Some(p) => text.replace("{port}", &p.to_string()),
        None => text.to_string(),
    }
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..]
        .iter()
        .map(|l| format!("  | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Start a service and wait until its probe answers. `root` is the project root.
pub fn start(name: &str, spec: &ServiceSpec, root: &Path) -> Result<Running, ServiceError> {
    let config = |message: String| ServiceError::Config {
        name: name.to_string(),
        message,
    };
    if spec.command.trim().is_empty() {
        return Err(config("`command` is empty".into()));
    }
    let port = match spec.port {
        Some(0) => Some(free_port().map_err(|e| config(format!("no free port: {e}")))?),
        other => other,
    };
    let timeout = match &spec.ready_timeout {
        Some(t) => parse_duration(t)
            .ok_or_else(|| config(format!("ready_timeout `{t}` is not a duration")))?,
        None => Duration::from_secs(60),
    };
    let log = root.join(
        spec.log
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!(".fsi/logs/{name}.log"))),
    );
    if let Some(dir) = log.parent() {
        fs_err::create_dir_all(dir).map_err(|e| config(e.to_string()))?;
    }
    let own_port = spec.own_port.unwrap_or(true);
    let probe = spec.ready.as_deref().map(|p| substitute(p, port));
    let watched = watched_port(port, probe.as_deref());
    if own_port && let Some(p) = watched {
        refuse_if_held(name, p)?;
    }
    let out = std::fs::File::create(&log)
        .map_err(|e| config(format!("cannot create {}: {e}", log.display())))?;
    let err = out.try_clone().map_err(|e| config(e.to_string()))?;
    let command = substitute(&spec.command, port);
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(&command)
        .current_dir(root.join(spec.cwd.clone().unwrap_or_default()))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    for (k, v) in &spec.env {
        cmd.env(k, substitute(v, port));
    }
    if let Some(p) = port {
        cmd.env("PORT", p.to_string());
    }
    let child = cmd.spawn().map_err(|source| ServiceError::Spawn {
        name: name.to_string(),
        command: command.clone(),
        source,
    })?;
    let mut running = Running {
        name: name.to_string(),
        port,
        log: log.clone(),
        child: Some(child),
    };
    let Some(probe) = probe else {
        return Ok(running);
    };
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(child) = running.child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            running.stop(Duration::from_millis(200));
            return Err(ServiceError::Exited {
                name: name.to_string(),
                status: status.to_string(),
                log: log.display().to_string(),
                log_tail: log_tail(&log, 20),
            });
        }
        if probe_once(&probe) {
            // An answer proves the service is up only if the process fsi started listens: a
            // server already on the port (a dev server started by hand) answers as well.
            if own_port
                && let (Some(p), Some(group)) = (watched, running.pid())
                && let Some(foreign) = listeners::foreign(p, group)
            {
                running.stop(Duration::from_millis(500));
                return Err(ServiceError::ForeignListener {
                    name: name.to_string(),
                    probe,
                    port: p,
                    holder: listeners::describe(&foreign),
                    log: log.display().to_string(),
                });
            }
            return Ok(running);
        }
        if Instant::now() >= deadline {
            running.stop(Duration::from_secs(2));
            return Err(ServiceError::NotReady {
                name: name.to_string(),
                probe,
                timeout,
                log: log.display().to_string(),
                log_tail: log_tail(&log, 20),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The loopback port clients reach a service on: its own, else its probe's.
fn watched_port(port: Option<u16>, probe: Option<&str>) -> Option<u16> {
    port.or_else(|| probe.and_then(loopback_port))
        .filter(|p| *p != 0)
}

fn refuse_if_held(name: &str, port: u16) -> Result<(), ServiceError> {
    let holders = listeners::holders(port);
    if holders.is_empty() && port_free(port) {
        return Ok(());
    }
    Err(ServiceError::PortInUse {
        name: name.to_string(),
        port,
        holder: listeners::describe(&holders),
    })
}

/// Refuse a service whose fixed port another process already holds (what [`start`] would find
/// out only when it gets there). Ports given as `0` are picked free at start and pass.
pub fn check_port(name: &str, spec: &ServiceSpec) -> Result<(), ServiceError> {
    if !spec.own_port.unwrap_or(true) {
        return Ok(());
    }
    let probe = spec.ready.as_deref().map(|p| substitute(p, spec.port));
    match (spec.port, watched_port(spec.port, probe.as_deref())) {
        (Some(0), _) | (_, None) => Ok(()),
        (_, Some(p)) => refuse_if_held(name, p),
    }
}

/// Whether nothing listens on `port` of loopback: binding it (IPv4 and, where there is IPv6,
/// IPv6) succeeds. `SO_REUSEADDR`, as servers set it, so that a socket in TIME_WAIT does not
/// count as a holder.
fn port_free(port: u16) -> bool {
    use nix::sys::socket::{
        AddressFamily, SockFlag, SockType, SockaddrIn, SockaddrIn6, bind, setsockopt, socket,
        sockopt::ReuseAddr,
    };
    use std::os::fd::AsRawFd;
    let try_bind = |family: AddressFamily| -> Option<bool> {
        let fd = socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None).ok()?;
        setsockopt(&fd, ReuseAddr, &true).ok()?;
        let result = match family {
            AddressFamily::Inet => bind(fd.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, port)),
            _ => bind(
                fd.as_raw_fd(),
                &SockaddrIn6::from(std::net::SocketAddrV6::new(
                    std::net::Ipv6Addr::LOCALHOST,
                    port,
                    0,
                    0,
                )),
            ),
        };
        Some(result != Err(nix::errno::Errno::EADDRINUSE))
    };
    try_bind(AddressFamily::Inet).unwrap_or(true) && try_bind(AddressFamily::Inet6).unwrap_or(true)
}

/// The port of a probe address on this machine (`http://127.0.0.1:5000/health`,
/// `tcp://localhost:8080`); `None` for other hosts or no explicit port.
fn loopback_port(probe: &str) -> Option<u16> {
    let rest = probe
        .strip_prefix("http://")
        .or_else(|| probe.strip_prefix("https://"))
        .or_else(|| probe.strip_prefix("tcp://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (host, port) = authority.rsplit_once(':')?;
    let local = matches!(
        host,
        "127.0.0.1" | "localhost" | "[::1]" | "0.0.0.0" | "[::]"
    ) || host.starts_with("127.");
    if !local {
        return None;
    }
    port.parse().ok()
}

/// Who listens on a TCP port, read from `/proc` (Linux). Elsewhere, or without permission to
/// see other users' processes, the lists are empty and only the bind test speaks.
mod listeners {
    use std::collections::HashSet;

    /// A process holding a listening socket.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Holder {
        pub pid: u32,
        pub command: String,
    }

    /// Socket inodes listening on `port` (IPv4 and IPv6).
    fn listening_inodes(port: u16) -> HashSet<u64> {
        let mut inodes = HashSet::new();
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let Ok(text) = std::fs::read_to_string(table) else {
                continue;
            };
            for line in text.lines().skip(1) {
                let cols: Vec<&str> = line.split_whitespace().collect();
                // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
                if cols.len() < 10 || cols[3] != "0A" {
                    continue;
                }
                let local_port = cols[1]
                    .rsplit_once(':')
                    .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
                if local_port == Some(port)
                    && let Ok(inode) = cols[9].parse::<u64>()
                    && inode != 0
                {
                    inodes.insert(inode);
                }
            }
        }
        inodes
    }

    fn command_of(pid: u32) -> String {
        let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let text: Vec<String> = raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let mut line = text.join(" ");
        if line.chars().count() > 80 {
            line = line.chars().take(77).collect::<String>() + "...";
        }
        line
    }

    /// The processes that hold a socket listening on `port`.
    pub fn holders(port: u16) -> Vec<Holder> {
        let inodes = listening_inodes(port);
        if inodes.is_empty() {
            return Vec::new();
        }
        let mut found = Vec::new();
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return found;
        };
        for entry in procs.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
                continue;
            };
            let holds = fds.flatten().any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|target| {
                    target
                        .to_str()
                        .and_then(|t| t.strip_prefix("socket:["))
                        .and_then(|t| t.strip_suffix(']'))
                        .and_then(|t| t.parse::<u64>().ok())
                        .is_some_and(|inode| inodes.contains(&inode))
                })
            });
            if holds {
                found.push(Holder {
                    pid,
                    command: command_of(pid),
                });
            }
        }
        found
    }

    /// Whether `pid` is the started process `leader`, in its process group, or below it.
    fn started_by(pid: u32, leader: u32) -> bool {
        let mut current = pid;
        for _ in 0..64 {
            if current == leader {
                return true;
            }
            match crate::exec::procfs::stat(current as i32) {
                Some(p) if p.pgrp == leader as i32 => return true,
                Some(p) if p.ppid > 1 => current = p.ppid as u32,
                _ => return false,
            }
        }
        false
    }

    /// The holders of `port` that are not the started process or its descendants; `None` when
    /// every visible holder is ours (or none is visible).
    pub fn foreign(port: u16, leader: u32) -> Option<Vec<Holder>> {
        let others: Vec<Holder> = holders(port)
            .into_iter()
            .filter(|h| !started_by(h.pid, leader))
            .collect();
        (!others.is_empty()).then_some(others)
    }

    /// ` by pid 12 (python3 -m http.server)`, or `` when nobody is visible.
    pub fn describe(holders: &[Holder]) -> String {
        match holders {
            [] => String::new(),
            [h] => format!(" by pid {} ({})", h.pid, h.command),
            many => format!(
                " by pids {}",
                many.iter()
                    .map(|h| format!("{} ({})", h.pid, h.command))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// A TCP connect to a port nobody listens on can succeed by connecting the socket to itself, when
/// the kernel happens to pick the destination port as the source port (a probe retried for
/// seconds against a local port in the ephemeral range does meet this). Such a connection is no
/// server.
fn connected_to_itself(s: &TcpStream) -> bool {
    matches!((s.local_addr(), s.peer_addr()), (Ok(l), Ok(p)) if l == p)
}

/// One readiness probe: HTTP 2xx, or a TCP connect.
pub fn probe_once(probe: &str) -> bool {
    if let Some(addr) = probe.strip_prefix("tcp://") {
        return addr.to_socket_addrs().ok().into_iter().flatten().any(|a| {
            TcpStream::connect_timeout(&a, Duration::from_millis(500))
                .is_ok_and(|s| !connected_to_itself(&s))
        });
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(2)))
        .http_status_as_error(false)
        .build()
        .into();
    match agent.get(probe).call() {
        Ok(resp) => resp.status().is_success(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("5 parsecs"), None);
    }

    /// A socket bound to a port and connected to that same port connects to itself (TCP
    /// simultaneous open); the probe must not take that for a listening server.
    #[test]
    fn a_connection_to_itself_is_not_a_server() {
        use nix::sys::socket::{
            AddressFamily, SockFlag, SockType, SockaddrIn, bind, connect, socket,
        };
        let port = free_port().unwrap();
        let addr = SockaddrIn::new(127, 0, 0, 1, port);
        let fd = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .unwrap();
        bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &addr).unwrap();
        connect(std::os::fd::AsRawFd::as_raw_fd(&fd), &addr).unwrap();
        let stream = TcpStream::from(fd);
        assert!(connected_to_itself(&stream));

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let real = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        assert!(!connected_to_itself(&real));
        assert!(probe_once(&format!(
            "tcp://{}",
            listener.local_addr().unwrap()
        )));
    }
}
