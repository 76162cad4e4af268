//! `fsi run` and `fsi session …` end to end: temp dirs, real git repositories, real processes.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;

mod common;

use common::project::{TempProject as Project, alive, wait_for};

/// What these tests add to the shared temp project: a plan-only constructor, the CLI with a
/// timeout, and the git log.
trait RunProject {
    fn new_plan(plan: &str) -> Self;
    fn fsi(&self) -> Command;
    fn log(&self) -> Vec<String>;
}

impl RunProject for Project {
    /// A project whose only session file is `sessions/plan.xml`.
    fn new_plan(plan: &str) -> Project {
        Project::new(&[("sessions/plan.xml", plan)])
    }

    fn fsi(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fsi"));
        c.current_dir(self.root())
            .env_remove("GITHUB_ACTIONS")
            .env("NO_COLOR", "1")
            .timeout(Duration::from_secs(60));
        c
    }

    /// Messages of all commits, newest first.
    fn log(&self) -> Vec<String> {
        common::git::commit_messages(&self.repo())
    }
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const PROGRESS: &str = "# DEMO Progress\n\nIntro text, kept as is.\n\n| Date | Session | Decision | Rationale |\n|------|---------|----------|-----------|\n| 2024-01-01 | BE-01 | Quart | async |\n\n## Repository: api\n\n| Session | Status | Started | Completed | Commit | Notes |\n|---------|--------|---------|-----------|--------|-------|\n| BE-00 | ✅ Complete | 2024-01-01 | 2024-01-01 | `aaaaaaa` | setup |\n| BE-01 | ⬜ Pending | — | — | — | → INT-01 |\n| BE-02 | ⬜ Pending | — | — | — | |\n\n## Session Notes\n\n- trailing notes | with a pipe\n";

const PASSING: &str = r#"
<session id="BE-01" project="DEMO">
  <metadata><title>Items API</title><track>backend</track><working_directory>api</working_directory></metadata>
  <integration_gate enabled="true">
    <check name="ready">test -d .</check>
  </integration_gate>
  <tasks>
    <task id="1" action="CREATE" file="src/items.py">
      <title>Items module</title>
      <code_snippet language="python">
def items():
    return [1, 2]
      </code_snippet>
    </task>
    <task id="2" action="RUN" command="echo built > build.log"><title>Build</title></task>
  </tasks>
  <verification>
    <check name="module" command="test -f src/items.py">present</check>
    <check name="lines" command="wc -l &lt; src/items.py">2</check>
  </verification>
  <forbidden><pattern>print(</pattern></forbidden>
  <commit><type>feat</type><scope>api</scope><description>items endpoints</description></commit>
</session>
"#;

#[test]
fn passing_session_commits_with_trailer_and_updates_only_its_progress_row() {
    let p = Project::new_plan(PASSING);
    p.write("docs/progress/DEMO_PROGRESS.md", PROGRESS);
    std::fs::create_dir_all(p.path("api")).unwrap();
    let out = p.fsi().args(["run", "BE-01"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        p.read("api/src/items.py"),
        "def items():\n    return [1, 2]\n"
    );
    assert_eq!(p.read("api/build.log"), "built\n");

    // The session's commit: header, trailer; then the docs commit.
    let log = p.log();
    assert_eq!(log[0], "docs: complete session BE-01\n");
    assert_eq!(log[1], "feat(api): items endpoints\n\nSession: BE-01\n");
    let repo = p.repo();
    let session_commit = repo
        .head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .parent(0)
        .unwrap();
    let short = session_commit
        .as_object()
        .short_id()
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    let tree = session_commit.tree().unwrap();
    assert!(tree.get_path(Path::new("api/src/items.py")).is_ok());

    // State: complete, with the short hash.
    let state = p.state();
    assert_eq!(state["sessions"]["BE-01"]["status"], "complete");
    assert_eq!(state["sessions"]["BE-01"]["commit"], short.as_str());

    // PROGRESS: only the BE-01 row changed, everything else byte-identical.
    let new = p.read("docs/progress/DEMO_PROGRESS.md");
    let old_lines: Vec<&str> = PROGRESS.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    assert_eq!(old_lines.len(), new_lines.len());
    for (i, (a, b)) in old_lines.iter().zip(&new_lines).enumerate() {
        if a.starts_with("| BE-01 | ⬜") {
            assert!(b.starts_with("| BE-01 | ✅ Complete | 20"), "{b}");
            assert!(b.contains(&format!("| `{short}` | → INT-01 |")), "{b}");
        } else {
            assert_eq!(a, b, "line {i} changed");
        }
    }
    // SESSION.md reset to the completed form.
    assert!(
        p.read("docs/sessions/SESSION.md")
            .starts_with("# Session Complete")
    );

    // Running again: already complete, nothing to do.
    let out = p.fsi().args(["run", "BE-01"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(p.log().len(), 2);
}

#[test]
fn failing_gate_retries_prints_action_on_fail_and_stops() {
    let p = Project::new_plan(
        r#"
<session id="INT-01" project="DEMO">
  <integration_gate enabled="true" retries="2" interval="50ms" max_backoff="60ms">
    <check name="health">echo probe >> probes.log; curl -sf http://127.0.0.1:9/health | cat</check>
    <action_on_fail>DO NOT PROCEED. Start backend first.</action_on_fail>
  </integration_gate>
  <tasks>
    <task id="1" action="RUN" command="touch task-ran"><title>should not run</title></task>
  </tasks>
</session>
"#,
    );
    let out = p.fsi().args(["run", "INT-01"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("DO NOT PROCEED. Start backend first."),
        "{err}"
    );
    assert!(err.contains("attempt 1/3"), "{err}");
    assert_eq!(
        p.read("probes.log").lines().count(),
        3,
        "pipefail + 2 retries"
    );
    assert!(!p.path("task-ran").exists());
    assert_eq!(p.status("INT-01"), "failed");
    assert!(p.log().is_empty(), "no commit for a failed session");
}

#[test]
fn timing_out_gate_kills_the_whole_process_group() {
    let p = Project::new_plan(
        r#"
<session id="BE-09" project="DEMO">
  <integration_gate enabled="true" timeout="1500ms" retries="0">
    <check name="slow">sleep 30 &amp; echo $! > child.pid; echo $$ > shell.pid; sleep 30</check>
  </integration_gate>
</session>
"#,
    );
    let start = Instant::now();
    let out = p.fsi().args(["run", "BE-09"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(start.elapsed() < Duration::from_secs(20));
    assert!(
        stderr(&out).contains("timed out after 1.5s"),
        "{}",
        stderr(&out)
    );
    for f in ["child.pid", "shell.pid"] {
        let pid: i32 = p.read(f).trim().parse().unwrap();
        assert!(!alive(pid), "{f} ({pid}) survived");
    }
    assert_eq!(p.status("BE-09"), "failed");
}

#[test]
fn expected_text_forms() {
    let p = Project::new_plan(
        r#"
<session id="CHK-01" project="DEMO">
  <verification>
    <check name="exit" command="true">exit 0</check>
    <check name="exit_n" command="exit 3">exit 3</check>
    <check name="word" command="true">All pass</check>
    <check name="bare" command="printf '  4\n'">4</check>
    <check name="count_zero" command="grep -c nothing /dev/null">0</check>
    <check name="ge" command="echo found 3 items">&gt;= 2</check>
    <check name="raw_ge" command="echo 1">>>= 1</check>
    <check name="le" command="echo 2">&lt;= 2</check>
    <check name="files" command="printf 'a\nb\nc\nd\n' | wc -l">4 files</check>
    <check name="plus" command="echo '21 tests collected in 0.05s'">21+ tests collected</check>
    <check name="prose" command="true">No mock data anywhere</check>
  </verification>
</session>
<session id="CHK-02" project="DEMO">
  <verification>
    <check name="ge_fails" command="echo 1">&gt;= 5</check>
    <check name="bare_fails" command="echo 7">4</check>
    <check name="plus_fails" command="echo '3 tests collected'">21+ tests collected</check>
    <check name="prose_fails" command="false">Compiles cleanly somehow</check>
    <check name="ok" command="true">ok</check>
  </verification>
</session>
"#,
    );
    let out = p
        .fsi()
        .args(["run", "CHK-01", "--no-commit", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let steps = v["sessions"][0]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 11);
    assert!(steps.iter().all(|s| s["outcome"] == "passed"), "{steps:#?}");
    // --no-commit: verified, not complete.
    assert_ne!(p.status("CHK-01"), "complete");

    let out = p
        .fsi()
        .args(["run", "CHK-02", "--no-commit", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let outcomes: Vec<(&str, &str)> = v["sessions"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("ge_fails", "failed"),
            ("bare_fails", "failed"),
            ("plus_fails", "failed"),
            ("prose_fails", "failed"),
            ("ok", "passed")
        ],
        "every check runs, then the session fails"
    );
    assert!(
        stderr(&out).contains("expected >= 5, got 1"),
        "{}",
        stderr(&out)
    );
    assert_eq!(p.status("CHK-02"), "failed");
}

#[test]
fn forbidden_patterns_are_grepped_in_the_sessions_files() {
    let p = Project::new_plan(
        r#"
<session id="BE-03" project="DEMO">
  <tasks>
    <task id="1" action="CREATE" file="app.py">
      <title>App</title>
      <code_snippet language="python">
def main():
    print("debug")
      </code_snippet>
    </task>
  </tasks>
  <forbidden>
    <pattern reason="use logging">print(</pattern>
    <pattern>Database queries in controller</pattern>
  </forbidden>
</session>
"#,
    );
    let out = p.fsi().args(["run", "BE-03"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("app.py:2: forbidden `print(`"), "{err}");
    assert!(
        !err.contains("Database queries"),
        "prose rules are reminders only: {err}"
    );
    assert_eq!(p.status("BE-03"), "failed");
}

#[test]
fn create_never_overwrites_a_different_file_without_force() {
    let plan = r#"
<session id="FE-02" project="DEMO">
  <tasks>
    <task id="1" action="CREATE" file="src/types.ts">
      <title>Types</title>
      <code_snippet language="typescript">export type Id = number;</code_snippet>
    </task>
  </tasks>
</session>
"#;
    let p = Project::new_plan(plan);
    p.write("src/types.ts", "// user edit\n");
    let out = p.fsi().args(["run", "FE-02"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("types.ts (FE-02)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(p.read("src/types.ts"), "// user edit\n");
    assert!(
        !p.path(".fsi/state.json").exists(),
        "a refused run records nothing"
    );

    let out = p.fsi().args(["plan", "FE-02"]).output().unwrap();
    assert!(stdout(&out).contains("CONFLICT"), "{}", stdout(&out));

    let out = p.fsi().args(["run", "FE-02", "--force"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(p.read("src/types.ts"), "export type Id = number;\n");
}

#[test]
fn manual_steps_fail_without_a_tty_unless_accepted() {
    let p = Project::new_plan(
        r#"
<session id="INT-02" project="DEMO">
  <tasks>
    <task>Review the API contract with the frontend team</task>
  </tasks>
</session>
"#,
    );
    let out = p.fsi().args(["run", "INT-02"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--accept-manual"), "{}", stderr(&out));
    let out = p
        .fsi()
        .args(["run", "INT-02", "--accept-manual"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(p.status("INT-02"), "complete");
}

#[test]
fn sigint_during_a_run_leaves_state_consistent_and_the_session_incomplete() {
    let p = Project::new_plan(
        r#"
<session id="A-01" project="DEMO">
  <verification><check name="quick" command="true">exit 0</check></verification>
</session>
<session id="B-01" project="DEMO">
  <dependencies><requires>A-01</requires></dependencies>
  <integration_gate enabled="true" timeout="60s">
    <check name="long">echo $$ > gate.pid; touch started; sleep 30</check>
  </integration_gate>
</session>
<session id="C-01" project="DEMO">
  <dependencies><requires>B-01</requires></dependencies>
</session>
"#,
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fsi"))
        .args(["run", "--all"])
        .current_dir(p.root())
        .env_remove("GITHUB_ACTIONS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&p.path("started"), Duration::from_secs(30));
    let gate_pid: i32 = p.read("gate.pid").trim().parse().unwrap();
    assert!(alive(gate_pid));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "fsi did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
    assert!(!alive(gate_pid), "the gate's shell survived");
    // State is valid JSON: A complete, B interrupted (never complete), C untouched.
    assert_eq!(p.status("A-01"), "complete");
    assert_eq!(p.status("B-01"), "interrupted");
    assert_eq!(
        p.state()["sessions"]["B-01"]["commit"],
        serde_json::Value::Null
    );
    assert_eq!(p.status("C-01"), "pending");
    assert!(p.log().iter().all(|m| !m.contains("Session: B-01")));
    // No stray temp files from atomic writes.
    let names: Vec<String> = std::fs::read_dir(p.path(".fsi"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with(".fsi-tmp")),
        "{names:?}"
    );
}

#[test]
fn refusal_names_unmet_dependencies_and_with_deps_runs_them_first() {
    let p = Project::new_plan(
        r#"
<session id="BE-01" project="DEMO"></session>
<session id="BE-02" project="DEMO"><dependencies><requires>BE-01</requires></dependencies></session>
<session id="FE-01" project="DEMO"><dependencies><requires>BE-02</requires></dependencies></session>
"#,
    );
    let out = p.fsi().args(["run", "FE-01"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("FE-01 requires BE-02 (pending)"),
        "{}",
        stderr(&out)
    );

    // Read-only commands and --dry-run write nothing.
    for args in [
        &["sessions", "list"][..],
        &["sessions", "validate"],
        &["sessions", "show", "FE-01"],
        &["sessions", "graph", "--format", "json"],
        &["plan"],
        &["run", "FE-01", "--with-deps", "--dry-run"],
    ] {
        let out = p.fsi().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    assert!(!p.path(".fsi").exists());

    let out = p
        .fsi()
        .args(["run", "FE-01", "--with-deps", "--junit", "report.xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let subjects: Vec<String> = p
        .log()
        .iter()
        .filter(|m| m.contains("Session:"))
        .map(|m| m.lines().next().unwrap().to_string())
        .collect();
    assert_eq!(
        subjects,
        [
            "chore(session): complete session FE-01",
            "chore(session): complete session BE-02",
            "chore(session): complete session BE-01"
        ]
    );
    let junit = p.read("report.xml");
    assert!(junit.contains("<testsuites"), "{junit}");
    assert!(junit.contains("BE-02"), "{junit}");
}

#[test]
fn independent_sessions_run_in_parallel_with_jobs() {
    // Each gate waits for the other's marker: only a parallel run passes.
    let wait = |mine: &str, other: &str| {
        format!(
            "touch {mine}; for i in $(seq 100); do [ -f {other} ] &amp;&amp; exit 0; sleep 0.05; done; exit 1"
        )
    };
    let p = Project::new_plan(&format!(
        r#"
<session id="P-01" project="DEMO">
  <integration_gate enabled="true" retries="0"><check name="meet">{}</check></integration_gate>
</session>
<session id="P-02" project="DEMO">
  <integration_gate enabled="true" retries="0"><check name="meet">{}</check></integration_gate>
</session>
"#,
        wait("a", "b"),
        wait("b", "a")
    ));
    let out = p
        .fsi()
        .args(["run", "--all", "-j", "2", "--no-commit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    // Buffered per session: each group's lines stay together.
    let p1 = err.find("==> P-01").unwrap();
    let p2 = err.find("==> P-02").unwrap();
    let (first, second) = if p1 < p2 { ("P-01", p2) } else { ("P-02", p1) };
    assert!(
        err[..second].contains(&format!("= {first} passed")),
        "{err}"
    );
}

#[test]
fn github_actions_groups() {
    let p = Project::new_plan(r#"<session id="G-01" project="DEMO"></session>"#);
    let out = p
        .fsi()
        .env("GITHUB_ACTIONS", "true")
        .args(["run", "G-01", "--no-commit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let o = stdout(&out);
    assert!(o.contains("::group::G-01"), "{o}");
    assert!(o.contains("::endgroup::"), "{o}");
}

#[test]
fn lifecycle_start_checkpoint_complete_rollback() {
    let p = Project::new_plan(
        r#"
<session id="BE-02" project="DEMO">
  <metadata><title>Orders</title></metadata>
  <tasks><task id="1" action="EDIT" file="orders.py"><title>Write orders</title></task></tasks>
  <verification><check name="exists" command="test -f orders.py">present</check></verification>
  <commit><type>feat</type><scope>orders</scope><description>orders module</description></commit>
</session>
"#,
    );
    p.write("docs/progress/DEMO_PROGRESS.md", PROGRESS);
    let out = p
        .fsi()
        .args(["session", "start", "BE-02"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(p.status("BE-02"), "active");
    assert!(
        p.read("docs/sessions/SESSION.md")
            .starts_with("# Current Session: BE-02 - Orders")
    );
    assert!(
        p.read("docs/sessions/SESSION.md")
            .contains("<session id=\"BE-02\"")
    );
    assert!(
        p.read("docs/progress/DEMO_PROGRESS.md")
            .contains("| BE-02 | 🔄 Active |")
    );

    p.write("orders.py", "def orders(): ...\n");
    let out = p
        .fsi()
        .args([
            "session",
            "checkpoint",
            "BE-02",
            "-m",
            "models",
            "--done",
            "model",
            "--remaining",
            "routes",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        p.log()[0],
        "WIP: [BE-02] checkpoint 1 - models\n\nCompleted:\n- model\n\nRemaining:\n- routes\n\nSession: BE-02 (checkpoint 1)\n"
    );
    assert!(
        p.read("docs/sessions/SESSION.md")
            .contains("checkpoint 1: models")
    );

    let out = p
        .fsi()
        .args(["session", "complete", "BE-02"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(p.status("BE-02"), "complete");
    let hash = p.state()["sessions"]["BE-02"]["commit"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        p.log()
            .iter()
            .any(|m| m == "feat(orders): orders module\n\nSession: BE-02\n")
    );
    assert!(
        p.read("docs/progress/DEMO_PROGRESS.md")
            .contains(&format!("`{hash}`"))
    );

    let out = p
        .fsi()
        .args(["session", "rollback", "BE-02"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(p.status("BE-02"), "pending");
    assert!(
        p.log()[0].contains("Session: BE-02-rollback"),
        "{}",
        p.log()[0]
    );
}

/// DEP-01 fails; DEP-02 needs it, DEP-03 needs DEP-02; E2E-01 needs none of them.
const ONE_FAILS: &str = r#"
<session id="DEP-01" project="DEMO">
  <tasks><task id="1" action="RUN" command="echo compose missing >&amp;2; exit 3"><title>Validate compose</title></task></tasks>
  <commit><type>chore</type><description>deploy</description></commit>
</session>
<session id="DEP-02" project="DEMO">
  <dependencies><requires>DEP-01</requires></dependencies>
  <tasks><task id="1" action="RUN" command="touch dep2-ran"><title>after DEP-01</title></task></tasks>
  <commit><type>chore</type><description>deploy 2</description></commit>
</session>
<session id="DEP-03" project="DEMO">
  <dependencies><requires>DEP-02</requires></dependencies>
  <tasks><task id="1" action="RUN" command="touch dep3-ran"><title>after DEP-02</title></task></tasks>
  <commit><type>chore</type><description>deploy 3</description></commit>
</session>
<session id="E2E-01" project="DEMO">
  <tasks><task id="1" action="RUN" command="echo ok > e2e.txt"><title>browser flows</title></task></tasks>
  <verification><check name="ran" command="cat e2e.txt">ok</check></verification>
  <commit><type>test</type><description>e2e</description></commit>
</session>
"#;

#[test]
fn keep_going_runs_independent_sessions_after_a_failure() {
    // Without --keep-going nothing new starts after DEP-01 fails, E2E-01 included.
    let p = Project::new_plan(ONE_FAILS);
    let out = p.fsi().args(["run", "--all"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!p.path("e2e.txt").exists(), "{err}");
    assert_eq!(p.status("E2E-01"), "pending");
    assert!(
        err.contains("not run: E2E-01 (not started: an earlier session failed)"),
        "{err}"
    );
    assert!(
        err.contains("not run: DEP-02 (dependency DEP-01 failed)"),
        "{err}"
    );

    // With it, E2E-01 runs and completes; DEP-01's dependents are reported, not run; exit 1.
    let p = Project::new_plan(ONE_FAILS);
    let out = p
        .fsi()
        .args(["run", "--all", "--keep-going", "--json"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(p.read("e2e.txt"), "ok\n");
    assert_eq!(p.status("E2E-01"), "complete");
    assert_eq!(p.status("DEP-01"), "failed");
    assert!(!p.path("dep2-ran").exists() && !p.path("dep3-ran").exists());
    assert!(
        p.log().iter().any(|m| m.contains("Session: E2E-01")),
        "{:?}",
        p.log()
    );
    assert!(
        err.contains("1 passed, 1 failed, 0 interrupted, 2 not run"),
        "{err}"
    );
    assert!(
        err.contains("failed:  DEP-01 (task `1. Validate compose` failed)"),
        "{err}"
    );
    assert!(
        err.contains("not run: DEP-02 (dependency DEP-01 failed)"),
        "{err}"
    );
    assert!(
        err.contains("not run: DEP-03 (dependency DEP-02 was not run (DEP-01 failed))"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let outcome = |id: &str| {
        v["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .map(|s| (s["outcome"].clone(), s["message"].clone()))
            .unwrap()
    };
    assert_eq!(outcome("E2E-01").0, "passed");
    assert_eq!(outcome("DEP-01").0, "failed");
    assert_eq!(
        outcome("DEP-02"),
        ("not_run".into(), "dependency DEP-01 failed".into())
    );
    assert_eq!(v["exit_status"], 1);

    // Once the cause is fixed, the rest runs; E2E-01 is already complete.
    p.write(
        "sessions/plan.xml",
        &ONE_FAILS.replace("echo compose missing >&amp;2; exit 3", "true"),
    );
    let out = p
        .fsi()
        .args(["run", "--all", "--keep-going"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(p.path("dep3-ran").exists());
}
