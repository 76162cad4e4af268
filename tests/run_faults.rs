//! The run-time faults of ../shared/fuzz/faults (issue 18), each as a test: real git
//! repositories, real signals, real process trees. Nothing a run did not produce is committed or
//! rolled back, two runs never both act, git history decides what is complete, no process
//! outlives an interrupted run, and interrupted or failing writes leave nothing half done.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::project::{TempProject as Project, alive, wait_for};

fn fsi(p: &Project) -> Command {
    let mut c = common::fsi();
    c.current_dir(p.root())
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1");
    c
}

fn git(p: &Project, args: &[&str]) -> String {
    let out = common::run_ok(Command::new("git").current_dir(p.root()).args(args));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn text(out: &Output) -> String {
    common::combined(out)
}

/// A project with fsi.toml, one plan and the given files, all committed as `init`.
fn committed_project(name: &str, plan: &str, files: &[(&str, &str)]) -> Project {
    let toml = format!("[project]\nname = \"{name}\"\n");
    let mut all = vec![("fsi.toml", toml.as_str()), ("sessions/p.xml", plan)];
    all.extend_from_slice(files);
    let p = Project::new(&all);
    git(&p, &["add", "-A"]);
    git(&p, &["commit", "-qm", "init"]);
    p
}

/// Paths a commit changed (`git show --name-only`).
fn changed_in(p: &Project, rev: &str) -> Vec<String> {
    git(p, &["show", "--name-only", "--format=", rev])
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// `git status --porcelain`, sorted.
fn status(p: &Project) -> Vec<String> {
    let mut s: Vec<String> = git(p, &["status", "--porcelain"])
        .lines()
        .map(str::to_string)
        .collect();
    s.sort();
    s
}

fn subjects(p: &Project) -> Vec<String> {
    git(p, &["log", "--format=%s"])
        .lines()
        .map(str::to_string)
        .collect()
}

const G01: &str = r#"<session id="G-01" project="d">
  <tasks><task id="1" action="RUN" command="echo g &gt; g.txt"><title>g</title></task></tasks>
  <commit><type>feat</type><description>g1</description></commit>
</session>
"#;

/// faults/dirty-tree-swept-into-session-commit.sh
#[test]
fn the_users_uncommitted_work_is_neither_committed_nor_rolled_back() {
    let p = committed_project("d", G01, &[("README.md", "readme\n")]);
    p.write("README.md", "readme\nuser uncommitted edit\n"); // modified, unstaged
    p.write("notes.txt", "user notes\n"); // untracked
    p.write("staged.txt", "user staged\n");
    git(&p, &["add", "staged.txt"]); // staged
    let before = status(&p);
    assert_eq!(before, [" M README.md", "?? notes.txt", "A  staged.txt"]);

    let out = fsi(&p).args(["run", "G-01"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let feat = git(&p, &["log", "--format=%h", "--grep=^Session: G-01$"]);
    let feat = feat.trim();
    assert_eq!(changed_in(&p, feat), ["g.txt"], "only the session's file");
    assert_eq!(status(&p), before, "the user's changes are as they were");
    assert_eq!(p.read("README.md"), "readme\nuser uncommitted edit\n");

    let out = fsi(&p)
        .args(["session", "rollback", "G-01"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!p.path("g.txt").exists(), "the session's file is reverted");
    assert_eq!(changed_in(&p, "HEAD"), ["g.txt"]);
    assert_eq!(
        status(&p),
        before,
        "rollback leaves the user's changes alone"
    );
    assert_eq!(p.read("notes.txt"), "user notes\n");
    assert_eq!(p.read("staged.txt"), "user staged\n");
    assert_eq!(p.read("README.md"), "readme\nuser uncommitted edit\n");
}

#[test]
fn a_session_that_changes_a_file_with_uncommitted_edits_is_not_committed() {
    let plan = r#"<session id="M-01" project="m">
  <tasks><task id="1" action="RUN" command="echo session &gt;&gt; README.md"><title>append</title></task></tasks>
  <commit><type>feat</type><description>m1</description></commit>
</session>
"#;
    let p = committed_project("m", plan, &[("README.md", "readme\n")]);
    p.write("README.md", "readme\nmine\n");
    let out = fsi(&p).args(["run", "M-01"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("README.md, which had uncommitted changes"),
        "{}",
        text(&out)
    );
    assert_eq!(subjects(&p), ["init"], "nothing committed");
    assert_eq!(p.read("README.md"), "readme\nmine\nsession\n");
    assert_ne!(p.status("M-01"), "complete");
}

#[test]
fn what_a_failed_session_left_is_committed_by_its_successful_rerun() {
    let flag = tempfile::NamedTempFile::new().unwrap();
    let flag_path = flag.path().to_path_buf();
    drop(flag); // absent: the check fails
    let plan = format!(
        r#"<session id="L-01" project="l">
  <tasks><task id="1" action="CREATE" file="lib.py"><title>lib</title>
    <code_snippet>x = 1</code_snippet></task></tasks>
  <verification><check name="flag" command="test -f {}">present</check></verification>
  <commit><type>feat</type><description>l1</description></commit>
</session>
"#,
        flag_path.display()
    );
    let p = committed_project("l", &plan, &[]);
    p.write("mine.txt", "user\n");
    let out = fsi(&p).args(["run", "L-01"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(p.read("lib.py"), "x = 1\n");
    std::fs::write(&flag_path, "").unwrap();
    let out = fsi(&p).args(["run", "L-01"]).output().unwrap();
    let _ = std::fs::remove_file(&flag_path);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let feat = git(&p, &["log", "--format=%h", "--grep=^Session: L-01$"]);
    assert_eq!(
        changed_in(&p, feat.trim()),
        ["lib.py"],
        "the file the first run wrote is the session's, the user's is not"
    );
    assert_eq!(status(&p), ["?? mine.txt"]);
}

#[test]
fn rollback_refuses_to_overwrite_uncommitted_changes_to_the_sessions_files() {
    let p = committed_project("d", G01, &[]);
    let out = fsi(&p).args(["run", "G-01"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    p.write("g.txt", "edited by hand\n");
    let out = fsi(&p)
        .args(["session", "rollback", "G-01"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("g.txt has uncommitted changes"),
        "{}",
        text(&out)
    );
    assert_eq!(p.read("g.txt"), "edited by hand\n");
    assert_eq!(p.status("G-01"), "complete");
}

/// faults/concurrent-runs-no-lock.sh
#[test]
fn a_second_run_is_refused_naming_the_first_or_waits_for_it() {
    let plan = r#"<session id="P-01" project="c">
  <tasks><task id="1" action="RUN" command="echo 1 &gt;&gt; shared.txt; sleep 1.5"><title>t</title></task></tasks>
  <commit><type>feat</type><description>p1</description></commit>
</session>
"#;
    let p = committed_project("c", plan, &[]);
    let mut first = fsi(&p)
        .args(["run", "--all"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&p.path("shared.txt"), Duration::from_secs(20));
    let second = fsi(&p).args(["run", "--all"]).output().unwrap();
    assert_eq!(second.status.code(), Some(3), "{}", text(&second));
    assert!(
        text(&second).contains(&format!("pid {}", first.id())),
        "{}",
        text(&second)
    );
    // A third one queues behind the first, then finds the work done.
    let third = fsi(&p).args(["run", "--all", "--wait"]).output().unwrap();
    assert_eq!(third.status.code(), Some(0), "{}", text(&third));
    assert!(text(&third).contains("waiting for"), "{}", text(&third));
    assert!(first.wait().unwrap().success());
    assert_eq!(p.read("shared.txt"), "1\n", "the task ran once");
    assert_eq!(
        subjects(&p)
            .iter()
            .filter(|s| s.as_str() == "feat: p1")
            .count(),
        1
    );
}

/// faults/state-lost-reruns-committed-session.sh
#[test]
fn git_history_decides_what_is_complete_when_the_state_is_lost_or_stale() {
    let plan = r#"<session id="K-01" project="f">
  <tasks><task id="1" action="RUN" command="echo a &gt;&gt; a.txt"><title>a</title></task></tasks>
  <commit><type>feat</type><description>k1</description></commit>
</session>
"#;
    let p = committed_project("f", plan, &[]);
    let out = fsi(&p).args(["run", "K-01"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    std::fs::remove_dir_all(p.path(".fsi")).unwrap();

    let list = |p: &Project| -> String {
        let out = fsi(p)
            .args(["sessions", "list", "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v[0]["status"].as_str().unwrap().to_string()
    };
    assert_eq!(list(&p), "complete");
    let out = fsi(&p)
        .args(["verify", "--no-types", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v.to_string().contains("\"K-01\""),
        "verify counts K-01 complete: {v}"
    );
    let out = fsi(&p).args(["run", "--all"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(p.read("a.txt"), "a\n", "not run again");
    assert_eq!(
        subjects(&p)
            .iter()
            .filter(|s| s.as_str() == "feat: k1")
            .count(),
        1
    );
    assert_eq!(p.status("K-01"), "complete", "the state is rebuilt");

    // A state that says complete while history no longer has the commit is stale.
    git(&p, &["reset", "-q", "--hard", "HEAD~2"]);
    assert_eq!(subjects(&p), ["init"]);
    assert_eq!(list(&p), "pending");
}

/// The processes whose command line is exactly `args` (live, not zombies).
fn procs_with_cmdline(args: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.trim_end() == args && alive(pid) {
            found.push(pid);
        }
    }
    found
}

/// Waits until none of `cmdlines` runs; panics (killing them) after `limit`.
fn assert_none_left(cmdlines: &[&str], limit: Duration) {
    let start = Instant::now();
    loop {
        let left: Vec<i32> = cmdlines
            .iter()
            .flat_map(|c| procs_with_cmdline(c))
            .collect();
        if left.is_empty() {
            return;
        }
        if start.elapsed() > limit {
            for pid in &left {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(*pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            panic!("processes left behind: {left:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn interrupt(child: &std::process::Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
}

/// A project whose only session has one check, `command`, and a long kill grace.
fn check_project(command: &str, extra: &str) -> Project {
    let plan = format!(
        r#"<session id="F-01" project="s">
  <verification><check name="slow" command="{command}"{extra}>exit 0</check></verification>
</session>
"#
    );
    let p = committed_project("s", &plan, &[]);
    p.write(
        "fsi.toml",
        "[project]\nname = \"s\"\n[sessions]\nkill_grace = \"2s\"\n",
    );
    p
}

/// faults/double-sigint-orphans.sh
#[test]
fn a_second_ctrl_c_kills_the_check_before_fsi_exits() {
    let p = check_project("trap 'sleep 299.581' TERM; sleep 299.701", "");
    let mut run = fsi(&p)
        .args(["run", "--all", "--no-commit"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while procs_with_cmdline("sleep 299.701").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the check never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    interrupt(&run);
    while procs_with_cmdline("sleep 299.581").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the trap never ran"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    interrupt(&run);
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_none_left(
        &["sleep 299.581", "sleep 299.701"],
        Duration::from_millis(500),
    );
}

#[test]
fn processes_that_leave_the_checks_group_do_not_survive_an_interrupt() {
    let p = check_project(
        "setsid sleep 298.11 &amp; (setsid sleep 298.12 &amp;); sleep 298.13",
        "",
    );
    let mut run = fsi(&p)
        .args(["run", "--all", "--no-commit"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while procs_with_cmdline("sleep 298.13").is_empty()
        || procs_with_cmdline("sleep 298.12").is_empty()
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the check never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    interrupt(&run);
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_none_left(
        &["sleep 298.11", "sleep 298.12", "sleep 298.13"],
        Duration::from_millis(500),
    );
}

#[test]
fn processes_that_leave_the_checks_group_do_not_survive_a_timeout_or_the_run() {
    // The first check times out with a setsid'd grandchild; the second passes, leaving a
    // double-forked daemon: neither outlives fsi.
    let plan = r#"<session id="T-01" project="s">
  <verification>
    <check name="slow" command="setsid sleep 297.21 &amp; sleep 297.22" timeout="1s">exit 0</check>
    <check name="daemon" command="(setsid sleep 297.23 &amp;); true">exit 0</check>
  </verification>
</session>
"#;
    let p = committed_project("s", plan, &[]);
    p.write(
        "fsi.toml",
        "[project]\nname = \"s\"\n[sessions]\nkill_grace = \"200ms\"\n",
    );
    let out = fsi(&p)
        .args(["run", "--all", "--no-commit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("timed out"), "{}", text(&out));
    assert_none_left(
        &["sleep 297.21", "sleep 297.22", "sleep 297.23"],
        Duration::from_millis(500),
    );
}

/// faults/new-sigint-leaves-staging.sh
#[test]
fn an_interrupted_fsi_new_leaves_no_staging_directory_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let mut interrupted = 0;
    for (i, delay_ms) in [5u64, 15, 25, 40, 60].into_iter().enumerate() {
        let name = format!("p{i}");
        let mut child = common::fsi()
            .current_dir(dir.path())
            .args(["new", &name, "--yes", "--no-types"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        interrupt(&child);
        let status = child.wait().unwrap();
        let target = dir.path().join(&name);
        match status.code() {
            Some(130) => {
                interrupted += 1;
                assert!(
                    !target.exists(),
                    "{name}: interrupted, yet {target:?} exists"
                );
            }
            Some(0) => assert!(target.join("fsi.toml").exists(), "{name}: incomplete"),
            // Killed before fsi got as far as `fsi new` itself (process start-up): nothing made.
            None => assert!(!target.exists()),
            other => panic!("{name}: unexpected exit {other:?}"),
        }
    }
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".fsi-new-"))
        .collect();
    assert!(left.is_empty(), "staging left behind: {left:?}");
    assert!(interrupted > 0, "no run was interrupted part-way");
}

#[test]
fn fsi_new_force_writes_nothing_when_a_file_stands_where_a_directory_belongs() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("app");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("backend"), "a file, not a directory\n").unwrap();
    let out = common::fsi()
        .current_dir(dir.path())
        .args(["new", "app", "--yes", "--force", "--no-git", "--no-types"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("backend is not a directory"),
        "{}",
        text(&out)
    );
    let names: Vec<String> = std::fs::read_dir(&target)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["backend"], "nothing else was written");
    assert_eq!(
        std::fs::read_to_string(target.join("backend")).unwrap(),
        "a file, not a directory\n"
    );
}

#[test]
fn fsi_types_changes_no_output_when_one_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let module = |name: &str, field: &str| {
        format!("from pydantic import BaseModel\n\nclass {name}(BaseModel):\n    {field}: int\n")
    };
    std::fs::create_dir_all(root.join("dtos/app")).unwrap();
    std::fs::write(root.join("dtos/app/a.py"), module("A", "x")).unwrap();
    std::fs::write(root.join("dtos/app/b.py"), module("B", "y")).unwrap();
    let types = || {
        common::fsi()
            .current_dir(root)
            .args(["types", "--from", "dtos", "--out", "out"])
            .output()
            .unwrap()
    };
    let out = types();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let snapshot = |p: &Path| -> Vec<(String, String)> {
        let mut v: Vec<_> = walk(p)
            .into_iter()
            .map(|f| {
                let c = std::fs::read_to_string(&f).unwrap_or_else(|_| "<dir>".into());
                (f.strip_prefix(p).unwrap().display().to_string(), c)
            })
            .collect();
        v.sort();
        v
    };
    // Both modules change; one output's place is taken by a directory.
    std::fs::write(root.join("dtos/app/a.py"), module("A", "x2")).unwrap();
    std::fs::write(root.join("dtos/app/b.py"), module("B", "y2")).unwrap();
    std::fs::remove_file(root.join("out/b.zod.ts")).unwrap();
    std::fs::create_dir(root.join("out/b.zod.ts")).unwrap();
    let before = snapshot(&root.join("out"));
    let out = types();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("b.zod.ts"), "{}", text(&out));
    assert_eq!(
        snapshot(&root.join("out")),
        before,
        "no output changed, nothing extra left"
    );
    // Once the obstacle is gone, all of it is written.
    std::fs::remove_dir(root.join("out/b.zod.ts")).unwrap();
    let out = types();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        std::fs::read_to_string(root.join("out/a.ts"))
            .unwrap()
            .contains("x2")
    );
    assert!(
        std::fs::read_to_string(root.join("out/b.ts"))
            .unwrap()
            .contains("y2")
    );
}

/// Every file and directory below `dir`, hidden ones included.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        out.push(p.clone());
        if p.is_dir() {
            out.extend(walk(&p));
        }
    }
    out
}

#[test]
fn verify_shows_what_a_failing_check_printed() {
    // On CI the log of `fsi verify` is all a team sees: a failing check shows its last lines.
    let plan = r#"<session id="K-01" project="f">
  <tasks><task id="1" action="RUN" command="echo ok &gt; ok.txt"><title>a</title></task></tasks>
  <verification><check name="ok_file" command="test -f ok.txt || { echo 'ok.txt is missing: restore it from git' &gt;&amp;2; exit 1; }">exit 0</check></verification>
  <commit><type>feat</type><description>k1</description></commit>
</session>
"#;
    let p = committed_project("f", plan, &[]);
    let out = fsi(&p).args(["run", "K-01"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    std::fs::remove_file(p.path("ok.txt")).unwrap();
    let out = fsi(&p).args(["verify", "--no-types"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("✗ K-01 check ok_file"), "{all}");
    assert!(
        all.contains("| ok.txt is missing: restore it from git"),
        "the check's stderr is shown: {all}"
    );
}
