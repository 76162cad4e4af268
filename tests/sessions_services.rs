//! Services for gates: declared in fsi.toml and named by sessions, started before the gate,
//! stopped after the session — also when fsi is interrupted.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

mod common;

use common::project::{TempProject as Project, alive};

/// What these tests add to the shared temp project: a constructor with fsi.toml and a served
/// directory, and the CLI run to completion.
trait ServiceProject {
    fn with_config(config: &str, plan: &str) -> Self;
    fn fsi(&self, args: &[&str]) -> std::process::Output;
}

impl ServiceProject for Project {
    fn with_config(config: &str, plan: &str) -> Project {
        Project::new(&[
            ("fsi.toml", config),
            ("sessions/plan.xml", plan),
            ("www/index.html", "hello"),
        ])
    }

    fn fsi(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_fsi"))
            .args(args)
            .current_dir(self.root())
            .env_remove("GITHUB_ACTIONS")
            .output()
            .unwrap()
    }
}

fn wait_dead(pid: i32) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn wait_for(path: &Path) {
    common::project::wait_for(path, Duration::from_secs(30));
}

const CONFIG: &str = r#"
[services.web]
command = "echo $$ > ../web.pid; exec python3 -m http.server {port} --bind 127.0.0.1"
cwd = "www"
port = 0
ready = "http://127.0.0.1:{port}/index.html"
ready_timeout = "20s"
"#;

#[test]
fn a_session_gets_its_service_for_gate_and_checks_and_it_is_stopped_after() {
    let p = Project::with_config(
        CONFIG,
        r#"
<session id="WEB-01" project="DEMO">
  <services><service name="web"/></services>
  <integration_gate enabled="true">
    <check name="up">curl -sf http://127.0.0.1:{web_port}/index.html</check>
  </integration_gate>
  <verification>
    <check name="content" command="curl -sf http://127.0.0.1:{web_port}/index.html">exit 0</check>
    <check name="port_is_free_port" command="test {web_port} -gt 1024 &amp;&amp; echo yes">exit 0</check>
  </verification>
  <commit><type>test</type><description>web</description></commit>
</session>
"#,
    );
    let out = p.fsi(&["run", "WEB-01"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("service web"), "{err}");
    assert_eq!(p.status("WEB-01"), "complete");
    let pid: i32 = std::fs::read_to_string(p.path("web.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(wait_dead(pid), "the service survived the session");
    assert!(p.path(".fsi/logs/web.log").is_file());
}

#[test]
fn a_port_override_reaches_the_plan_and_the_service() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = Project::with_config(
        CONFIG,
        r#"
<session id="WEB-01" project="DEMO">
  <services><service name="web"/></services>
  <verification>
    <check name="port" command="echo {web_port}">PORT</check>
    <check name="served" command="curl -sf http://127.0.0.1:PORT/index.html">exit 0</check>
  </verification>
</session>
"#
        .replace("PORT", &port.to_string())
        .as_str(),
    );
    let arg = format!("web={port}");
    let out = p.fsi(&["run", "WEB-01", "--no-commit", "--port", &arg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An override for a service fsi.toml does not define is a usage error.
    let bad = p.fsi(&["plan", "--port", "api=5000"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no service `api`"));
}

#[test]
fn an_unknown_service_is_a_plan_error_with_a_suggestion() {
    let p = Project::with_config(
        CONFIG,
        r#"
<session id="WEB-01" project="DEMO">
  <services><service name="wbe"/></services>
</session>
"#,
    );
    let out = p.fsi(&["sessions", "validate"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs service `wbe`"), "{err}");
    assert!(err.contains("did you mean `web`?"), "{err}");
    assert!(err.contains("plan.xml:3:"), "{err}");
}

#[test]
fn a_service_that_does_not_come_up_fails_the_session_with_its_log() {
    let p = Project::with_config(
        r#"
[services.api]
command = "echo 'cannot bind: address in use' >&2; exit 1"
ready = "tcp://127.0.0.1:1"
"#,
        r#"
<session id="API-01" project="DEMO">
  <services><service name="api"/></services>
  <integration_gate enabled="true"><check name="never">touch gate-ran</check></integration_gate>
</session>
"#,
    );
    let out = p.fsi(&["run", "API-01"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot bind: address in use"), "{err}");
    assert!(
        !p.path("gate-ran").exists(),
        "the gate ran without its service"
    );
    assert_eq!(p.status("API-01"), "failed");
}

#[test]
fn interrupting_fsi_while_a_service_is_up_leaves_no_process_behind() {
    let p = Project::with_config(
        // The service also starts a grandchild, which must not be orphaned.
        &CONFIG.replace(
            "exec python3",
            "sleep 1000 & echo $! > ../grandchild.pid; python3",
        ),
        r#"
<session id="WEB-01" project="DEMO">
  <services><service name="web"/></services>
  <integration_gate enabled="true" timeout="120s">
    <check name="long">touch ../gate-started 2>/dev/null; touch gate-started; sleep 60</check>
  </integration_gate>
</session>
"#,
    );
    for signal in [
        nix::sys::signal::Signal::SIGTERM,
        nix::sys::signal::Signal::SIGINT,
    ] {
        let _ = std::fs::remove_file(p.path("gate-started"));
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fsi"))
            .args(["run", "WEB-01"])
            .current_dir(p.root())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for(&p.path("gate-started"));
        let service: i32 = std::fs::read_to_string(p.path("web.pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let grandchild: i32 = std::fs::read_to_string(p.path("grandchild.pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(alive(service) && alive(grandchild));
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "fsi did not stop"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(130), "{signal:?}");
        assert!(wait_dead(service), "{signal:?}: the service survived");
        assert!(
            wait_dead(grandchild),
            "{signal:?}: the service's child survived"
        );
        assert_eq!(p.status("WEB-01"), "interrupted");
    }
}

#[test]
fn forbidden_paths_are_grepped_even_when_no_task_touches_them() {
    let p = Project::with_config(
        "",
        r#"
<session id="BE-01" project="DEMO">
  <metadata><working_directory>app</working_directory></metadata>
  <verification><check name="ok" command="true">exit 0</check></verification>
  <forbidden paths="**/*.py"><pattern>print(</pattern></forbidden>
</session>
"#,
    );
    p.write("app/ok.py", "bp = Blueprint('x')\n");
    p.write(
        "app/node_modules/dep.py",
        "print('vendored code is not ours')\n",
    );
    let ok = p.fsi(&["run", "BE-01", "--no-commit"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    p.write("app/pkg/bad.py", "x = 1\nprint(x)\n");
    let bad = p.fsi(&["run", "BE-01", "--no-commit"]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("app/pkg/bad.py:2: forbidden `print(`"),
        "{err}"
    );
}

/// The user's dev server holds the configured port: `fsi run` refuses (exit 3) instead of
/// verifying against it, says which port and what holds it, and `--port web=0` runs the session.
#[test]
fn a_port_held_by_a_dev_server_is_refused_and_port_zero_avoids_it() {
    let dev_server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dev_server.local_addr().unwrap().port();
    let config = CONFIG.replace("port = 0", &format!("port = {port}"));
    let p = Project::with_config(
        &config,
        r#"
<session id="WEB-01" project="DEMO">
  <services><service name="web"/></services>
  <verification>
    <check name="served" command="curl -sf http://127.0.0.1:{web_port}/index.html">exit 0</check>
  </verification>
</session>
"#,
    );
    let out = p.fsi(&["run", "WEB-01", "--no-commit"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    // The report is wrapped to the terminal's width: compare its words.
    let flat = err
        .split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains(&format!("port {port} is already in use")),
        "{err}"
    );
    assert!(
        flat.contains(&format!(" {} (", std::process::id())),
        "{err}"
    );
    assert!(flat.contains("--port web=0"), "{err}");
    assert!(!p.path("web.pid").exists(), "the service was started");

    let out = p.fsi(&["run", "WEB-01", "--no-commit", "--port", "web=0"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(dev_server);
}
