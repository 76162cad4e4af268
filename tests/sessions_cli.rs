//! The read-only sessions commands through the real binary: list, show, graph, validate, plan,
//! `--plan` / `--var`, JSON output and exit codes.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sessions")
}

fn fsi(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fsi"));
    c.current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1")
        .env("NO_GRAPHICS", "0")
        .timeout(Duration::from_secs(30));
    c
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = fsi(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A project using the v1.8 fixture through fsi.toml `[sessions] plans` and `[vars]`.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("plans")).unwrap();
    std::fs::copy(
        fixtures().join("valid/v1_8_fenced.md"),
        dir.path().join("plans/plan.md"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("fsi.toml"),
        "[project]\nname = \"demo\"\n\n[sessions]\nplans = [\"plans\"]\n\n[sessions.gate]\ntimeout = \"10s\"\nretries = 5\ninterval = \"1s\"\nmax_backoff = \"8s\"\n\n[vars]\nentity = \"items\"\n",
    )
    .unwrap();
    dir
}

#[test]
fn list_show_graph_plan_from_fsi_toml() {
    let dir = project();
    let settings = {
        let mut s = insta::Settings::clone_current();
        s.add_filter(&regex::escape(&dir.path().display().to_string()), "[TMP]");
        s
    };
    let _guard = settings.bind_to_scope();
    let (code, out, err) = run(dir.path(), &["sessions", "list"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("list", out);
    let (_, out, _) = run(dir.path(), &["sessions", "show", "INT-01"]);
    insta::assert_snapshot!("show", out);
    let (_, out, _) = run(dir.path(), &["sessions", "graph", "--format", "dot"]);
    insta::assert_snapshot!("graph_dot", out);
    let (_, out, _) = run(dir.path(), &["sessions", "graph", "--format", "mermaid"]);
    insta::assert_snapshot!("graph_mermaid", out);
    let (_, out, _) = run(dir.path(), &["plan"]);
    insta::assert_snapshot!("plan", out);
    assert!(
        !dir.path().join(".fsi").exists(),
        "read-only commands write no state"
    );
}

#[test]
fn json_outputs() {
    let dir = project();
    let (code, out, _) = run(dir.path(), &["sessions", "list", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["BE-04", "INT-01", "FE-01"]);
    assert_eq!(v[0]["ready"], true);
    assert_eq!(v[1]["ready"], false);

    let (_, out, _) = run(dir.path(), &["sessions", "show", "INT-01", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["id"], "INT-01");
    assert_eq!(
        v["gate"]["checks"][1]["command"],
        "curl -sf http://localhost:5000/api/v1/items | jq '.total'"
    );
    assert_eq!(v["dependents"][0], "FE-01");

    let (_, out, _) = run(dir.path(), &["plan", "FE-01", "--with-deps", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["BE-04", "INT-01", "FE-01"]);
    assert_eq!(
        v["sessions"][1]["gate"][0]["retry"]["retries"], 5,
        "fsi.toml gate defaults"
    );
    assert_eq!(v["sessions"][1]["gate"][0]["retry"]["max_backoff_s"], 8.0);

    let (code, out, _) = run(dir.path(), &["sessions", "validate", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["sessions"], 3);

    let (_, out, _) = run(dir.path(), &["sessions", "graph", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["edges"][0],
        serde_json::json!({"from": "BE-04", "to": "INT-01"})
    );
}

#[test]
fn invalid_plans_exit_2_with_every_problem_located() {
    let dir = tempfile::tempdir().unwrap();
    let bad = fixtures().join("invalid/many_problems.xml");
    let (code, out, err) = run(
        dir.path(),
        &["sessions", "validate", "--plan", bad.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{out}{err}");
    for needle in [
        "many_problems.xml:2:27",
        "dependency cycle: M-01 -> M-03 -> M-02 -> M-01",
        "did you mean `M-02`?",
        "session id M-02 is defined more than once",
        "unresolved placeholder {module}",
        "wave must be an integer",
        "M-01 requires M-03",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    let (code, out, _) = run(
        dir.path(),
        &[
            "sessions",
            "validate",
            "--json",
            "--plan",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["errors"], 5);
    assert!(
        v["problems"][0]["location"]
            .as_str()
            .unwrap()
            .ends_with("many_problems.xml:6:70")
    );
    // Other commands refuse an invalid plan with the same exit code.
    let (code, _, _) = run(dir.path(), &["plan", "--plan", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
}

#[test]
fn plan_sources_vars_and_unknown_ids() {
    let dir = tempfile::tempdir().unwrap();
    let valid = fixtures().join("valid");
    let v18 = valid.join("v1_8_fenced.md");
    // Without vars, the v1.8 template has unresolved placeholders.
    let (code, _, err) = run(
        dir.path(),
        &["sessions", "validate", "--plan", v18.to_str().unwrap()],
    );
    assert_eq!(code, 2);
    assert!(err.contains("--var entity=VALUE"), "{err}");
    let (code, out, err) = run(
        dir.path(),
        &[
            "sessions",
            "list",
            "--plan",
            v18.to_str().unwrap(),
            "--plan",
            valid.join("v1_10_multi.xml").to_str().unwrap(),
            "--var",
            "entity=orders",
            "--var",
            "project=shop",
            "--var",
            "PROJECT=SHOP",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("SKE-06b") && out.contains("INT-01"), "{out}");
    let (code, _, err) = run(
        dir.path(),
        &[
            "sessions",
            "show",
            "INT-1",
            "--plan",
            valid.join("v1_7_raw.md").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("no session INT-1"), "{err}");
    let (code, _, err) = run(
        dir.path(),
        &[
            "sessions",
            "show",
            "SOL-1",
            "--plan",
            valid.join("v1_7_raw.md").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `SOL-01`?"), "{err}");
    // The default source is sessions/ under the project root.
    let (code, _, err) = run(dir.path(), &["sessions", "list"]);
    assert_eq!(code, 2);
    assert!(err.contains("plan source sessions does not exist"), "{err}");
}

/// A single-session excerpt as real plan documents hold them: its dependency is defined in
/// another document, and it holds a placeholder nobody gave a value.
const EXCERPT: &str = r#"<session id="INT-01" project="{PROJECT}">
  <metadata><title>Type Generation</title><track>integration</track></metadata>
  <dependencies><requires status="complete">BE-04</requires></dependencies>
  <tasks>
    <task id="1" action="RUN" command="curl -sf http://localhost:5000/api/v1/{entity}"><title>Probe</title></task>
  </tasks>
</session>
"#;

#[test]
fn read_only_views_show_what_was_read_of_an_invalid_plan() {
    let dir = tempfile::tempdir().unwrap();
    let excerpt = dir.path().join("INT-01.xml");
    std::fs::write(&excerpt, EXCERPT).unwrap();
    let plan = excerpt.to_str().unwrap();

    let (code, out, err) = run(dir.path(), &["sessions", "list", "--plan", plan]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.lines().any(|l| l.starts_with("INT-01")
            && l.contains("Type Generation")
            && l.contains("BE-04")),
        "{out}"
    );
    assert!(
        err.contains("session INT-01 requires BE-04, which is not in the plan"),
        "{err}"
    );
    assert!(err.contains("unresolved placeholder {entity}"), "{err}");

    let (code, out, err) = run(dir.path(), &["sessions", "list", "--json", "--plan", plan]);
    assert_eq!(code, 2, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["id"], "INT-01");
    assert_eq!(v[0]["ready"], false);

    let (code, out, err) = run(dir.path(), &["sessions", "show", "INT-01", "--plan", plan]);
    assert_eq!(code, 2, "{err}");
    assert!(
        out.contains("requires:   BE-04 (not in the plans read)"),
        "{out}"
    );
    assert!(out.contains("task   1. run: curl"), "{out}");
    let (code, _, err) = run(dir.path(), &["sessions", "show", "BE-04", "--plan", plan]);
    assert_eq!(code, 2);
    assert!(err.contains("no session BE-04"), "{err}");

    let (code, out, _) = run(
        dir.path(),
        &["sessions", "graph", "--format", "json", "--plan", plan],
    );
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["nodes"][0]["id"], "INT-01");

    // A value for the placeholder leaves only the outside dependency: still exit 2.
    let (code, _, err) = run(
        dir.path(),
        &["sessions", "list", "--plan", plan, "--var", "entity=items"],
    );
    assert_eq!(code, 2);
    assert!(!err.contains("unresolved placeholder"), "{err}");

    // validate, plan and run stay strict: nothing on stdout, exit 2.
    for args in [
        &["sessions", "validate", "--plan", plan][..],
        &["plan", "--plan", plan],
        &["run", "--all", "--plan", plan],
    ] {
        let (code, out, err) = run(dir.path(), args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(out.trim().is_empty(), "{args:?}: {out}");
        assert!(err.contains("requires BE-04"), "{args:?}: {err}");
    }
}

#[test]
fn a_cycle_does_not_empty_list_or_graph() {
    let dir = tempfile::tempdir().unwrap();
    let cycle = fixtures().join("invalid/cycle.xml");
    let plan = cycle.to_str().unwrap();
    let (code, out, err) = run(dir.path(), &["sessions", "list", "--plan", plan]);
    assert_eq!(code, 2, "{err}");
    let ids: Vec<&str> = out
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        ids,
        ["A-01", "B-01", "C-01", "D-01"],
        "source order:\n{out}"
    );
    assert!(
        err.contains("dependency cycle: A-01 -> C-01 -> B-01 -> A-01"),
        "{err}"
    );
    let (code, out, _) = run(
        dir.path(),
        &["sessions", "graph", "--format", "mermaid", "--plan", plan],
    );
    assert_eq!(code, 2);
    for edge in ["A_01 --> B_01", "C_01 --> A_01", "D_01 --> D_01"] {
        assert!(out.contains(edge), "{edge} missing:\n{out}");
    }
    // A plan of which nothing could be read is still an error, with nothing shown.
    let empty = dir.path().join("empty.md");
    std::fs::write(&empty, "# notes, no sessions\n").unwrap();
    let (code, out, err) = run(
        dir.path(),
        &["sessions", "list", "--plan", empty.to_str().unwrap()],
    );
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("no sessions found"), "{err}");
}
