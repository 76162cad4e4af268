//! `fsi ci github`: the exported workflow parses as YAML and its `needs:` graph is the session DAG.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const PLAN: &str = r#"
<session id="BE-01" project="DEMO"><metadata><title>Base "quoted": title</title></metadata></session>
<session id="BE-02" project="DEMO"><dependencies><requires>BE-01</requires></dependencies></session>
<session id="BE-03" project="DEMO"><dependencies><requires>BE-01</requires></dependencies></session>
<session id="INT-01" project="DEMO">
  <dependencies><requires>BE-02</requires><requires>BE-03</requires></dependencies>
</session>
<session id="E2E-01" project="DEMO"><dependencies><requires>INT-01</requires></dependencies>
  <verification><check name="ok" command="true">exit 0</check></verification>
</session>
"#;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("sessions")).unwrap();
    std::fs::write(dir.path().join("sessions/plan.xml"), PLAN).unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    let mut cfg = repo.config().unwrap();
    cfg.set_str("user.name", "Test").unwrap();
    cfg.set_str("user.email", "test@example.com").unwrap();
    dir
}

fn fsi(root: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_fsi"))
        .args(args)
        .current_dir(root)
        .output()
        .unwrap()
}

#[test]
fn exported_workflow_needs_equal_the_session_dag() {
    let dir = project();
    let out = fsi(dir.path(), &["ci", "github"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml: serde_yaml::Value = serde_yaml::from_slice(&out.stdout).unwrap();
    let jobs = yaml["jobs"].as_mapping().unwrap();
    let mut needs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (key, job) in jobs {
        let key = key.as_str().unwrap().to_string();
        let set: BTreeSet<String> = job["needs"]
            .as_sequence()
            .map(|s| s.iter().map(|v| v.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        let steps = job["steps"].as_sequence().unwrap();
        let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
        assert!(
            runs.iter()
                .any(|r| r.starts_with(&format!("fsi run {key} --assume-deps"))),
            "{key}: {runs:?}"
        );
        needs.insert(key, set);
    }
    let expected: BTreeMap<String, BTreeSet<String>> = [
        ("BE-01", vec![]),
        ("BE-02", vec!["BE-01"]),
        ("BE-03", vec!["BE-01"]),
        ("INT-01", vec!["BE-02", "BE-03"]),
        ("E2E-01", vec!["INT-01"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(needs, expected);
    // Titles with quotes and colons survive as YAML strings.
    assert_eq!(
        jobs[&serde_yaml::Value::from("BE-01")]["name"].as_str(),
        Some("BE-01 Base \"quoted\": title")
    );
}

#[test]
fn out_writes_the_file_and_a_cyclic_plan_is_refused() {
    let dir = project();
    let out = fsi(
        dir.path(),
        &["ci", "github", "--out", ".github/workflows/sessions.yml"],
    );
    assert!(out.status.success());
    let text = std::fs::read_to_string(dir.path().join(".github/workflows/sessions.yml")).unwrap();
    serde_yaml::from_str::<serde_yaml::Value>(&text).unwrap();

    std::fs::write(
        dir.path().join("sessions/cycle.xml"),
        r#"<session id="X-01" project="DEMO"><dependencies><requires>X-02</requires></dependencies></session>
<session id="X-02" project="DEMO"><dependencies><requires>X-01</requires></dependencies></session>"#,
    )
    .unwrap();
    let bad = fsi(dir.path(), &["ci", "github"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("X-01 -> X-02 -> X-01")
            || String::from_utf8_lossy(&bad.stderr).contains("X-02 -> X-01 -> X-02")
    );
}

#[test]
fn assume_deps_runs_a_session_whose_dependencies_ran_elsewhere() {
    let dir = project();
    let refused = fsi(dir.path(), &["run", "E2E-01", "--no-commit"]);
    assert_eq!(refused.status.code(), Some(3));
    let ok = fsi(
        dir.path(),
        &["run", "E2E-01", "--no-commit", "--assume-deps"],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}
