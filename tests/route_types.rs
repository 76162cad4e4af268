//! `fsi verify` reports a route whose declared DTO (`@contract(...)`, the source of the
//! backend's /openapi.json) has no generated TypeScript type.

use assert_cmd::Command;

fn fsi() -> Command {
    Command::cargo_bin("fsi").unwrap()
}

fn verify_json(root: &std::path::Path) -> (bool, serde_json::Value) {
    let out = fsi()
        .arg("-C")
        .arg(root)
        .args(["verify", "--no-sessions", "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), json)
}

fn findings(v: &serde_json::Value) -> Vec<String> {
    v.to_string()
        .split("\"message\":")
        .skip(1)
        .map(|s| s.chars().take(300).collect())
        .collect()
}

#[test]
fn a_route_naming_a_dto_without_a_type_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    fsi()
        .current_dir(dir.path())
        .args(["new", "demo", "--yes", "--no-git"])
        .assert()
        .success();
    let root = dir.path().join("demo");
    let (ok, v) = verify_json(&root);
    assert!(ok, "a fresh project verifies clean: {v}");

    // A response model defined in the controller, outside the DTO modules: the contract
    // would name it, the frontend would have no type for it.
    let controller = root.join("backend/app/modules/items/controller.py");
    let text = std::fs::read_to_string(&controller).unwrap();
    let text = text.replace(
        "blueprint = Blueprint(\"items\", __name__)\n",
        "blueprint = Blueprint(\"items\", __name__)\n\n\nclass ItemStats(BaseModel):\n    count: int\n\n\n@blueprint.get(\"/stats\")\n@contract(response=ItemStats)\nasync def item_stats() -> tuple[Response, int]:\n    return success(ItemStats(count=0))\n",
    );
    let text = format!("from pydantic import BaseModel\n{text}");
    std::fs::write(&controller, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l == "@contract(response=ItemStats)")
        .unwrap()
        + 1;
    let (ok, v) = verify_json(&root);
    assert!(!ok, "verify must fail: {v}");
    let found = findings(&v);
    let hit = found
        .iter()
        .find(|m| m.contains("ItemStats"))
        .unwrap_or_else(|| panic!("no finding names ItemStats: {found:?}"));
    assert!(
        hit.contains("item_stats") && hit.contains("response"),
        "{hit}"
    );
    assert!(
        v.to_string()
            .contains(&format!("backend/app/modules/items/controller.py:{line}")),
        "{v}"
    );
    assert_eq!(found.len(), 1, "only the new route: {found:?}");

    // Moved into the DTO module and mirrored: clean again.
    let text = text
        .replace("\n\nclass ItemStats(BaseModel):\n    count: int\n", "")
        .replace(
            "from app.modules.items.dtos import ItemCreate,",
            "from app.modules.items.dtos import ItemCreate, ItemStats,",
        );
    std::fs::write(&controller, text).unwrap();
    let dtos = root.join("backend/app/modules/items/dtos.py");
    let mut d = std::fs::read_to_string(&dtos).unwrap();
    d.push_str("\n\nclass ItemStats(BaseModel):\n    count: int\n");
    std::fs::write(&dtos, d).unwrap();
    fsi().arg("-C").arg(&root).arg("types").assert().success();
    let (ok, v) = verify_json(&root);
    assert!(ok, "{v}");
}
