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

/// The `run:` of the workflow step named `name` in job `job`.
fn step_run(yaml: &serde_yaml::Value, job: &str, name: &str) -> String {
    yaml["jobs"][job]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str() == Some(name))
        .and_then(|s| s["run"].as_str())
        .unwrap_or_else(|| panic!("no step {name:?} in job {job}"))
        .to_string()
}

#[test]
fn the_install_step_names_this_package_and_follows_fsi_toml() {
    let dir = project();
    // Without fsi.toml: this version of this package, never the unrelated crate called `fsi`.
    let out = fsi(dir.path(), &["ci", "github"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let expected = format!(
        "cargo install fullstack-integration --version {} --locked",
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.contains(&expected), "{text}");
    assert!(!text.contains("cargo install fsi"), "{text}");

    // `[ci] install` in fsi.toml replaces it; `--install` wins over both.
    std::fs::write(
        dir.path().join("fsi.toml"),
        "[ci]\ninstall = \"curl -fsSL https://example.com/fsi.tgz | tar -xz\"\n",
    )
    .unwrap();
    let out = fsi(dir.path(), &["ci", "github"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("curl -fsSL https://example.com/fsi.tgz"),
        "{text}"
    );
    let out = fsi(dir.path(), &["ci", "github", "--install", "echo given"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("echo given") && !text.contains("curl"),
        "{text}"
    );
}

/// The generated project's workflow runs the install command of its fsi.toml: the step's script
/// is executed here, with the command replaced by one that leaves a mark.
#[test]
fn the_generated_ci_installs_what_fsi_toml_says() {
    let parent = tempfile::tempdir().unwrap();
    let out = fsi(
        parent.path(),
        &["new", "app", "--yes", "--no-git", "--no-types"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = parent.path().join("app");
    let workflow = std::fs::read_to_string(root.join(".github/workflows/ci.yml")).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&workflow).unwrap();
    let script = step_run(&yaml, "verify", "install fsi");
    let config = std::fs::read_to_string(root.join("fsi.toml")).unwrap();
    let default = format!(
        "install = \"cargo install fullstack-integration --version {} --locked\"",
        env!("CARGO_PKG_VERSION")
    );
    assert!(config.contains(&default), "{config}");

    let run_step = |config: &str| {
        std::fs::write(root.join("fsi.toml"), config).unwrap();
        let out = std::process::Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .current_dir(&root)
            .env("PATH", path_with_python())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let marked = config.replace(&default, "install = \"echo installed-by-config\"");
    let (ok, stdout) = run_step(&marked);
    assert!(ok && stdout.contains("installed-by-config"), "{stdout}");
    // An fsi.toml without the key falls back to the crates.io default; a `cargo` on PATH that
    // records its arguments shows what would run.
    let without: String = config
        .lines()
        .filter(|l| !l.starts_with("install = ") && *l != "[ci]")
        .collect::<Vec<_>>()
        .join("\n");
    let (ok, stdout) = run_step(&without);
    assert!(ok, "{stdout}");
    assert!(
        stdout.contains(&format!(
            "cargo-called: install fullstack-integration --version {} --locked",
            env!("CARGO_PKG_VERSION")
        )),
        "{stdout}"
    );
}

/// `python` on PATH as GitHub's setup-python provides it (a link to python3), and a `cargo` that
/// only prints its arguments.
fn path_with_python() -> String {
    let dir = std::env::temp_dir().join(format!("fsi-ci-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("python");
    if !link.exists() {
        let python3 = String::from_utf8(
            std::process::Command::new("bash")
                .args(["-c", "command -v python3"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        std::os::unix::fs::symlink(python3.trim(), &link).unwrap();
    }
    let cargo = dir.join("cargo");
    std::fs::write(&cargo, "#!/bin/sh\necho \"cargo-called: $*\"\n").unwrap();
    let mut perms = std::fs::metadata(&cargo).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&cargo, perms).unwrap();
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn completions_are_printed_for_each_shell_and_an_unknown_shell_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "_fsi()"),
        ("zsh", "#compdef fsi"),
        ("fish", "complete -c fsi"),
    ] {
        let out = fsi(dir.path(), &["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker), "{shell}: {text}");
        assert!(text.contains("types") && text.contains("verify"), "{shell}");
    }
    let bad = fsi(dir.path(), &["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
}
