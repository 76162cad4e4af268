//! Background services: start, readiness, failure reporting, and stopping the whole process group.

use std::path::Path;
use std::time::{Duration, Instant};

use fsi::services::{self, ServiceError, ServiceSpec};

/// Alive and not a zombie.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z')
        }
        Err(_) => false,
    }
}

fn wait_dead(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn read_pid(path: &Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(t) = std::fs::read_to_string(path)
            && let Ok(p) = t.trim().parse()
        {
            return p;
        }
        assert!(Instant::now() < deadline, "no pid file {}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn http_service_becomes_ready_and_its_whole_group_is_stopped() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("index.html"), "hello").unwrap();
    let spec = ServiceSpec {
        // A grandchild that would be orphaned if only the leader were killed.
        command:
            "sleep 1000 & echo $! > grandchild.pid; python3 -m http.server {port} --bind 127.0.0.1"
                .into(),
        port: Some(0),
        ready: Some("http://127.0.0.1:{port}/index.html".into()),
        ready_timeout: Some("20s".into()),
        ..ServiceSpec::default()
    };
    let mut running = services::start("web", &spec, root.path()).unwrap();
    let port = running.port.unwrap();
    assert_ne!(port, 0);
    assert!(services::probe_once(&format!("http://127.0.0.1:{port}/")));
    assert!(services::probe_once(&format!("tcp://127.0.0.1:{port}")));
    let leader = running.pid().unwrap();
    let grandchild = read_pid(&root.path().join("grandchild.pid"));
    assert!(alive(leader) && alive(grandchild));

    running.stop(Duration::from_secs(2));
    assert!(wait_dead(leader), "leader {leader} survived");
    assert!(wait_dead(grandchild), "grandchild {grandchild} survived");
    assert!(!services::probe_once(&format!("tcp://127.0.0.1:{port}")));
    // The log went where it was told to.
    assert!(root.path().join(".fsi/logs/web.log").is_file());
}

#[test]
fn a_service_that_exits_early_is_reported_with_its_log() {
    let root = tempfile::tempdir().unwrap();
    let spec = ServiceSpec {
        command: "echo 'boom: port taken' >&2; exit 3".into(),
        ready: Some("tcp://127.0.0.1:1".into()),
        ready_timeout: Some("10s".into()),
        ..ServiceSpec::default()
    };
    let err = services::start("api", &spec, root.path()).unwrap_err();
    match &err {
        ServiceError::Exited {
            status, log_tail, ..
        } => {
            assert!(status.contains('3'), "{status}");
            assert!(log_tail.contains("boom: port taken"), "{log_tail}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_service_that_never_becomes_ready_times_out_and_is_killed() {
    let root = tempfile::tempdir().unwrap();
    let port = services::free_port().unwrap();
    let spec = ServiceSpec {
        // Ignores SIGTERM, so only the SIGKILL after the grace period ends it.
        command: "trap '' TERM; echo $$ > leader.pid; sleep 1000 & echo $! > child.pid; wait"
            .into(),
        ready: Some(format!("tcp://127.0.0.1:{port}")),
        // Long enough for the shell to write both pid files on a loaded machine (at 700 ms it
        // was once killed before it got there while other test binaries ran).
        ready_timeout: Some("2s".into()),
        ..ServiceSpec::default()
    };
    let started = Instant::now();
    let err = services::start("stuck", &spec, root.path()).unwrap_err();
    assert!(matches!(err, ServiceError::NotReady { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let child = read_pid(&root.path().join("child.pid"));
    assert!(wait_dead(child), "child {child} survived");
}

#[test]
fn dropping_a_running_service_stops_it() {
    let root = tempfile::tempdir().unwrap();
    let spec = ServiceSpec {
        command: "echo $$ > leader.pid; exec sleep 1000".into(),
        ..ServiceSpec::default()
    };
    let pid = {
        let running = services::start("sleeper", &spec, root.path()).unwrap();
        let pid = running.pid().unwrap();
        assert!(alive(pid));
        pid
    };
    assert!(wait_dead(pid), "{pid} survived the drop");
}

#[test]
fn bad_configuration_is_invalid_input() {
    let root = tempfile::tempdir().unwrap();
    let spec = ServiceSpec {
        command: "true".into(),
        ready_timeout: Some("whenever".into()),
        ..ServiceSpec::default()
    };
    let err = services::start("x", &spec, root.path()).unwrap_err();
    assert!(matches!(err, ServiceError::Config { .. }));
    use fsi::error::Classify;
    assert_eq!(err.exit_status(), fsi::error::ExitStatus::Invalid);
}

/// A dev server already on the port: the service is refused before anything starts, naming the
/// port and the process that holds it (among others: a command another test thread is starting
/// holds a copy of the socket between its fork and exec, so the holder is found by pid, not as
/// the only one).
#[test]
fn a_port_already_in_use_is_refused_naming_its_holder() {
    let root = tempfile::tempdir().unwrap();
    let dev_server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dev_server.local_addr().unwrap().port();
    let spec = ServiceSpec {
        command: "touch started; exec python3 -m http.server {port} --bind 127.0.0.1".into(),
        port: Some(port),
        ready: Some("http://127.0.0.1:{port}/".into()),
        ready_timeout: Some("10s".into()),
        ..ServiceSpec::default()
    };
    match services::start("backend", &spec, root.path()) {
        Err(ServiceError::PortInUse {
            name,
            port: p,
            holder,
        }) => {
            assert_eq!((name.as_str(), p), ("backend", port));
            assert!(
                holder.contains(&format!(" {} (", std::process::id())),
                "{holder}"
            );
        }
        other => panic!("expected PortInUse, got {other:?}"),
    }
    assert!(
        !root.path().join("started").exists(),
        "the service was started"
    );
    // The probe's port counts when the service declares none.
    let spec = ServiceSpec {
        port: None,
        ready: Some(format!("tcp://127.0.0.1:{port}")),
        ..spec
    };
    assert!(matches!(
        services::start("backend", &spec, root.path()),
        Err(ServiceError::PortInUse { .. })
    ));
    // Turned off for commands that hand the port to another process tree.
    let spec = ServiceSpec {
        command: "exec sleep 30".into(),
        own_port: Some(false),
        ..spec
    };
    let mut running = services::start("backend", &spec, root.path()).unwrap();
    running.stop(Duration::from_secs(1));
}

/// A server that starts listening after fsi checked the port answers the probe, while the
/// started process never listens: that is no "up" service.
#[test]
fn a_probe_answered_by_another_process_is_not_ready() {
    let root = tempfile::tempdir().unwrap();
    let port = services::free_port().unwrap();
    let spec = ServiceSpec {
        command: "echo $$ > leader.pid; exec sleep 30".into(),
        port: Some(port),
        ready: Some("tcp://127.0.0.1:{port}".into()),
        ready_timeout: Some("10s".into()),
        ..ServiceSpec::default()
    };
    let pid_file = root.path().join("leader.pid");
    let intruder = std::thread::spawn({
        let pid_file = pid_file.clone();
        move || {
            // Bind once the service has started (the pre-check is over by then).
            read_pid(&pid_file);
            let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
            std::thread::sleep(Duration::from_secs(3));
            drop(listener);
        }
    });
    let err = services::start("backend", &spec, root.path()).unwrap_err();
    let leader = read_pid(&pid_file);
    match &err {
        ServiceError::ForeignListener {
            port: p, holder, ..
        } => {
            assert_eq!(*p, port);
            assert!(
                holder.contains(&format!(" {} (", std::process::id())),
                "{holder}"
            );
        }
        other => panic!("expected ForeignListener, got {other:?}"),
    }
    assert!(
        wait_dead(leader),
        "the started process {leader} was left running"
    );
    intruder.join().unwrap();
}
