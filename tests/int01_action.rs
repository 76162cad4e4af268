//! INT-01's prose tasks run the typesync engine as a built-in action.

use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn int01_tasks_generate_types_zod_and_the_barrel() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = git2::Repository::init(root).unwrap();
    let mut cfg = repo.config().unwrap();
    cfg.set_str("user.name", "Test").unwrap();
    cfg.set_str("user.email", "test@example.com").unwrap();
    write(root, "fsi.toml", "[project]\nname = \"demo\"\n");
    write(root, "backend/app/__init__.py", "");
    write(
        root,
        "backend/app/modules/orders/dtos.py",
        "from decimal import Decimal\nfrom pydantic import BaseModel\n\n\nclass OrderDTO(BaseModel):\n    id: int\n    total: Decimal\n",
    );
    write(
        root,
        "sessions/INT-01.xml",
        r#"<session id="INT-01" project="{PROJECT}">
  <tasks>
    <task>Generate TypeScript types from Pydantic DTOs</task>
    <task>Add Zod schemas for form validation</task>
    <task>Export from src/types/index.ts</task>
  </tasks>
  <verification>
    <check name="in_sync" command="fsi types --check">exit 0</check>
  </verification>
  <commit><type>feat</type><scope>types</scope><description>generated types</description></commit>
</session>"#,
    );
    // A task between two that use the action may change its inputs: the second runs it again.
    write(
        root,
        "sessions/INT-02.xml",
        r#"<session id="INT-02" project="{PROJECT}">
  <tasks>
    <task>Generate TypeScript types</task>
    <task id="2" action="RUN" command="true"><title>Add a DTO</title></task>
    <task>fsi types</task>
  </tasks>
</session>"#,
    );
    let fsi = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_fsi"))
            .args(args)
            .current_dir(root)
            .env_remove("GITHUB_ACTIONS")
            .output()
            .unwrap()
    };
    let plan = fsi(&["plan", "INT-01"]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(text.matches("built-in `types`").count(), 3, "{text}");
    // The action runs once; the two later tasks are covered by the first.
    assert_eq!(
        text.matches("built-in `types`: fsi types:").count(),
        1,
        "{text}"
    );
    assert_eq!(
        text.matches("covered by `Generate TypeScript types from Pydantic DTOs` (runs once)")
            .count(),
        2,
        "{text}"
    );
    let plan = fsi(&["plan", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let covered = |session: usize| -> Vec<serde_json::Value> {
        v["sessions"][session]["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["step"]["covered_by"].clone())
            .collect()
    };
    let first = serde_json::json!("Generate TypeScript types from Pydantic DTOs");
    assert_eq!(v["sessions"][0]["id"], "INT-01");
    assert_eq!(covered(0), [serde_json::Value::Null, first.clone(), first]);
    assert_eq!(v["sessions"][1]["id"], "INT-02");
    assert_eq!(covered(1), [const { serde_json::Value::Null }; 3]);

    // No TTY and no --accept-manual: these would fail as manual steps if not built in.
    let out = fsi(&["run", "INT-01", "--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let details: Vec<&str> = v["sessions"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["phase"] == "task")
        .map(|s| s["detail"].as_str().unwrap())
        .collect();
    assert_eq!(details.len(), 3, "{details:?}");
    assert!(details[0].starts_with("1 module(s): "), "{details:?}");
    for d in &details[1..] {
        assert_eq!(
            *d,
            "covered by `Generate TypeScript types from Pydantic DTOs` (`types` runs once)"
        );
    }
    assert!(
        err.contains("✓ task Export from src/types/index.ts")
            && err.contains("covered by `Generate"),
        "{err}"
    );
    let ts = std::fs::read_to_string(root.join("frontend/src/types/orders.ts")).unwrap();
    assert!(
        ts.starts_with("// MIRRORS: backend/app/modules/orders/dtos.py\n"),
        "{ts}"
    );
    assert!(
        ts.contains("total: string;"),
        "Decimal is a string on the wire:\n{ts}"
    );
    assert!(root.join("frontend/src/types/orders.zod.ts").is_file());
    let index = std::fs::read_to_string(root.join("frontend/src/types/index.ts")).unwrap();
    assert!(index.contains("./orders"), "{index}");
    // The session's commit holds the generated files.
    let mut walk = repo.revwalk().unwrap();
    walk.push_head().unwrap();
    let session_commit = walk
        .map(|oid| repo.find_commit(oid.unwrap()).unwrap())
        .find(|c| c.message().unwrap().contains("Session: INT-01"))
        .expect("a commit with the INT-01 trailer");
    assert!(
        session_commit
            .tree()
            .unwrap()
            .get_path(Path::new("frontend/src/types/orders.ts"))
            .is_ok()
    );
}
