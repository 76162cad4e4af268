//! `fsi types` end to end through the binary: write, idempotence, `--check` drift per
//! declaration, orphaned MIRRORS files, DTO modules without a mirror, `--json`, errors.

#[path = "fixtures/typesync/support.rs"]
mod support;

use assert_cmd::Command;

fn fsi(dir: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("fsi").unwrap();
    c.arg("-C").arg(dir);
    c
}

fn project() -> tempfile::TempDir {
    support::make_project(&["basics", "recursion"])
}

#[test]
fn writes_then_is_idempotent_and_in_sync() {
    let p = project();
    let out = fsi(p.path())
        .arg("types")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("3 modules, 7 files written"), "{out}");
    let types = p.path().join("frontend/src/types");
    for f in [
        "basics.ts",
        "basics.zod.ts",
        "recursion.ts",
        "common.ts",
        "index.ts",
    ] {
        assert!(types.join(f).is_file(), "{f}");
    }
    let before = std::fs::metadata(types.join("basics.ts"))
        .unwrap()
        .modified()
        .unwrap();
    let out = fsi(p.path())
        .arg("types")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("0 files written, 7 unchanged")
    );
    let after = std::fs::metadata(types.join("basics.ts"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after, "unchanged files are not rewritten");
    fsi(p.path())
        .args(["types", "--check"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("types: in sync"));
}

#[test]
fn check_reports_drift_per_declaration() {
    let p = project();
    fsi(p.path()).arg("types").assert().success();
    let py = p.path().join("backend/app/modules/basics/dtos.py");
    let src = std::fs::read_to_string(&py).unwrap();
    std::fs::write(
        &py,
        src.replace(
            "    defaulted: int = 3\n",
            "    defaulted: int = 3\n    added: bool\n",
        ),
    )
    .unwrap();
    let out = fsi(p.path())
        .args(["types", "--check"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("drift: frontend/src/types/basics.ts"), "{out}");
    assert!(out.contains("~ Optionality (changed)"), "{out}");
    assert!(out.contains("~ OptionalityInput (changed)"), "{out}");
    assert!(out.contains("+  added: boolean;"), "{out}");
    assert!(
        !out.contains("~ Scalars "),
        "untouched declarations are not reported: {out}"
    );
    assert!(
        out.contains("drift: frontend/src/types/basics.zod.ts"),
        "{out}"
    );
}

#[test]
fn check_reports_orphans_and_unmirrored_modules() {
    let p = project();
    fsi(p.path()).arg("types").assert().success();
    // A module goes away; another appears without being generated.
    std::fs::remove_dir_all(p.path().join("backend/app/modules/recursion")).unwrap();
    let d = p.path().join("backend/app/modules/extra");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("dtos.py"),
        "from pydantic import BaseModel\n\nclass Extra(BaseModel):\n    x: int\n",
    )
    .unwrap();
    let out = fsi(p.path())
        .args(["types", "--check", "--json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["clean"], false);
    let orphans: Vec<&str> = v["drift"]["orphaned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        orphans,
        [
            "frontend/src/types/recursion.ts",
            "frontend/src/types/recursion.zod.ts"
        ]
    );
    assert_eq!(v["drift"]["orphaned"][0]["source_gone"], true);
    assert_eq!(
        v["drift"]["unmirrored"][0]["py"],
        "backend/app/modules/extra/dtos.py"
    );
    // Writing fixes everything: the orphans are removed, the mirror written.
    let out = fsi(p.path())
        .arg("types")
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("removed frontend/src/types/recursion.ts")
    );
    fsi(p.path()).args(["types", "--check"]).assert().code(0);
}

#[test]
fn hand_written_ts_files_are_left_alone() {
    let p = project();
    fsi(p.path()).arg("types").assert().success();
    let mine = p.path().join("frontend/src/types/mine.ts");
    std::fs::write(&mine, "export type Mine = string;\n").unwrap();
    fsi(p.path()).args(["types", "--check"]).assert().code(0);
    fsi(p.path()).arg("types").assert().success();
    assert!(mine.is_file());
}

#[test]
fn from_and_out_override_the_config() {
    let p = project();
    let out_dir = p.path().join("elsewhere");
    fsi(p.path())
        .args([
            "types",
            "--from",
            "backend/app/modules/basics/dtos.py",
            "--out",
            "elsewhere",
            "--no-zod",
        ])
        .assert()
        .success();
    assert!(out_dir.join("basics.ts").is_file());
    assert!(!out_dir.join("basics.zod.ts").exists());
    assert!(!out_dir.join("recursion.ts").exists());
    let index = std::fs::read_to_string(out_dir.join("index.ts")).unwrap();
    assert!(index.contains("export * from \"./basics\";"), "{index}");
}

#[test]
fn config_section_is_honoured() {
    let p = project();
    std::fs::write(
        p.path().join("fsi.toml"),
        "[types]\nroots = [\"backend/app/modules/basics/dtos.py\"]\nout_dir = \"web/types\"\nzod = false\n",
    )
    .unwrap();
    fsi(p.path()).arg("types").assert().success();
    assert!(p.path().join("web/types/basics.ts").is_file());
    assert!(!p.path().join("web/types/basics.zod.ts").exists());
}

#[test]
fn warnings_carry_file_and_line() {
    let p = support::make_project(&["undecidable"]);
    fsi(p.path())
        .arg("types")
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "warning: backend/app/modules/undecidable/dtos.py:13: type `thirdparty.models.ExternalType`",
        ));
}

/// A DTO module with a syntax error (the class line lacks its colon).
const BROKEN_DTOS: &str = "from pydantic import BaseModel\n\nclass Broken(BaseModel)\n    x: int\n";

#[test]
fn a_syntax_error_is_a_diagnostic_with_exit_2() {
    let p = project();
    std::fs::write(
        p.path().join("backend/app/modules/basics/dtos.py"),
        BROKEN_DTOS,
    )
    .unwrap();
    fsi(p.path())
        .arg("types")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("Python syntax error"))
        .stderr(predicates::str::contains(
            "backend/app/modules/basics/dtos.py",
        ));
}

#[test]
fn many_modules_parsed_on_helper_threads_give_the_same_result_and_every_error() {
    // Eight or more root files are parsed on helper threads while lowering runs (the feed):
    // cross-module references must resolve as when parsed in turn, and every broken file must
    // be reported, whichever thread parsed it.
    let p = project();
    let modules = p.path().join("backend/app/modules");
    for i in 0..12 {
        let dir = modules.join(format!("m{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("__init__.py"), "").unwrap();
        let next = (i + 1) % 12;
        std::fs::write(
            dir.join("dtos.py"),
            format!(
                "from __future__ import annotations\nfrom pydantic import BaseModel\nfrom app.modules.m{next}.dtos import M{next}\n\nclass M{i}(BaseModel):\n    n: int\n    next: M{next} | None = None\n"
            ),
        )
        .unwrap();
    }
    fsi(p.path()).arg("types").assert().success();
    let ts = std::fs::read_to_string(p.path().join("frontend/src/types/m3.ts")).unwrap();
    assert!(
        ts.contains("import type { M4, M4Input } from \"./m4\";"),
        "{ts}"
    );
    assert!(ts.contains("next: M4 | null;"), "{ts}");
    for i in [2, 9] {
        std::fs::write(modules.join(format!("m{i}/dtos.py")), BROKEN_DTOS).unwrap();
    }
    fsi(p.path())
        .arg("types")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("backend/app/modules/m2/dtos.py"))
        .stderr(predicates::str::contains("backend/app/modules/m9/dtos.py"));
}

#[test]
fn no_dto_modules_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    fsi(dir.path())
        .arg("types")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no DTO modules found"));
}

#[test]
fn watch_regenerates_on_change() {
    let p = project();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fsi"))
        .arg("-C")
        .arg(p.path())
        .args(["types", "--watch"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ts = p.path().join("frontend/src/types/basics.ts");
    let wait_for = |pred: &dyn Fn() -> bool| {
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(20) {
            if pred() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        false
    };
    let first = wait_for(&|| ts.is_file());
    let py = p.path().join("backend/app/modules/basics/dtos.py");
    let src = std::fs::read_to_string(&py).unwrap();
    let changed = format!("{src}\n\nclass Watched(BaseModel):\n    seen: bool\n");
    // The watcher is registered right after the first run; on a busy machine that may be after
    // our first write, so write again (same content) until the change is picked up.
    let last_write = std::cell::Cell::new(std::time::Instant::now());
    std::fs::write(&py, &changed).unwrap();
    let regenerated = wait_for(&|| {
        if last_write.get().elapsed() > std::time::Duration::from_secs(2) {
            std::fs::write(&py, &changed).unwrap();
            last_write.set(std::time::Instant::now());
        }
        std::fs::read_to_string(&ts).is_ok_and(|t| t.contains("export interface Watched"))
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(first, "initial generation did not happen");
    assert!(regenerated, "--watch did not regenerate after the change");
}
