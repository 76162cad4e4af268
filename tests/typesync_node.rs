//! The generated TypeScript compiles with `tsc --strict`, and the generated Zod schemas accept the
//! JSON pydantic really produces (pydantic runs in `.tools/venv`, node parses with the schemas).

#[path = "fixtures/typesync/support.rs"]
mod support;

use std::path::Path;
use std::process::Command;

use fsi::typesync::{self, TypesConfig};

/// Cases pydantic can import here (see tests/fixtures/typesync/README.md).
const NOT_IMPORTABLE: &[&str] = &["undecidable", "pep695"];

fn generate_all() -> tempfile::TempDir {
    let cases = support::all_cases();
    let refs: Vec<&str> = cases.iter().map(String::as_str).collect();
    let proj = support::make_project(&refs);
    let g = typesync::generate(proj.path(), &TypesConfig::default()).unwrap();
    typesync::write(proj.path(), &g).unwrap();
    proj
}

fn link_node_modules(dir: &Path) {
    let nm = support::node_modules();
    std::fs::create_dir_all(dir).unwrap();
    let link = dir.join("node_modules");
    if !link.exists() {
        std::os::unix::fs::symlink(nm, link).unwrap();
    }
}

fn tsc(nm_parent: &Path) -> Command {
    let mut c = Command::new("node");
    c.arg(nm_parent.join("node_modules/typescript/bin/tsc"));
    c
}

#[test]
fn generated_ts_compiles_with_tsc_strict() {
    let proj = generate_all();
    let fe = proj.path().join("frontend");
    link_node_modules(&fe);
    // The strictest settings a Vite React-TS app uses, plus a consumer of the barrel.
    std::fs::write(
        fe.join("tsconfig.json"),
        r#"{
  "compilerOptions": {
    "strict": true, "noEmit": true, "target": "ES2022", "module": "ESNext",
    "moduleResolution": "bundler", "isolatedModules": true, "verbatimModuleSyntax": true,
    "noUnusedLocals": true, "noUnusedParameters": true, "noFallthroughCasesInSwitch": true, "skipLibCheck": true, "types": []
  },
  "include": ["src/**/*.ts"]
}
"#,
    )
    .unwrap();
    std::fs::write(
        fe.join("src/use.ts"),
        r#"import type { ItemPage, ItemInput, Node, Imports } from "./types";
import { ItemPageSchema, NodeSchema, Status } from "./types";
export const page: ItemPage = ItemPageSchema.parse({ items: [], total: 0, page: 1, page_size: 20, next_cursor: null });
export const input: ItemInput = { id: 1, price: 9.9 };
export const tree: Node = NodeSchema.parse({ name: "a", children: [], parent: null });
export const status: Status = Status.ACTIVE;
export type Check = Imports["node"] extends Node ? true : never;
"#,
    )
    .unwrap();
    let out = tsc(&fe)
        .arg("-p")
        .arg(fe.join("tsconfig.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tsc --strict failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn zod_schemas_accept_real_pydantic_json() {
    let python = support::venv_python();
    let proj = generate_all();
    let backend = proj.path().join("backend");
    let cases: Vec<String> = support::all_cases()
        .into_iter()
        .filter(|c| !NOT_IMPORTABLE.contains(&c.as_str()))
        .collect();
    let mut modules = vec!["app.common.dtos".to_string()];
    modules.extend(cases.iter().map(|c| format!("app.modules.{c}.dtos")));
    let samples = support::run(
        Command::new(&python)
            .arg(support::fixtures().join("samples.py"))
            .arg(&backend)
            .args(&modules),
    );
    let work = proj.path().join("build");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("samples.json"), &samples).unwrap();
    let stems: serde_json::Map<String, serde_json::Value> = modules
        .iter()
        .map(|m| (m.clone(), typesync::module_stem(m).into()))
        .collect();
    std::fs::write(
        work.join("stems.json"),
        serde_json::to_string(&stems).unwrap(),
    )
    .unwrap();
    // fsi's schema names per class (`…Schema2` where a declared name would clash).
    let (descs, _) = typesync::describe(proj.path(), &TypesConfig::default()).unwrap();
    let mut names = serde_json::Map::new();
    for d in &descs {
        let m =
            d.py.trim_start_matches("backend/")
                .trim_end_matches(".py")
                .replace('/', ".");
        names
            .entry(m)
            .or_insert_with(|| serde_json::json!({}))
            .as_object_mut()
            .unwrap()
            .insert(
                d.name.clone(),
                serde_json::json!([d.schema_name, d.request_schema_name]),
            );
    }
    std::fs::write(
        work.join("names.json"),
        serde_json::to_string(&names).unwrap(),
    )
    .unwrap();
    link_node_modules(&work);
    link_node_modules(proj.path());
    // Compile the generated files to CommonJS for node.
    support::run(
        tsc(&work)
            .args([
                "--outDir",
                "out",
                "--module",
                "commonjs",
                "--moduleResolution",
                "node10",
                "--target",
                "es2022",
                "--strict",
                "--skipLibCheck",
                "--rootDir",
            ])
            .arg(proj.path().join("frontend/src/types"))
            .arg(proj.path().join("frontend/src/types/index.ts"))
            .current_dir(&work),
    );
    let report = support::run(
        Command::new("node")
            .arg(support::fixtures().join("check_samples.cjs"))
            .arg(&work)
            .arg(work.join("samples.json"))
            .arg(work.join("stems.json"))
            .arg(work.join("names.json")),
    );
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    // Decimal constraints: the generated client rule says what pydantic says, value by value.
    let cases = support::run(
        Command::new(&python)
            .arg(support::fixtures().join("decimal_rules.py"))
            .arg(&backend),
    );
    std::fs::write(work.join("decimal_cases.json"), &cases).unwrap();
    let verdicts = support::run(
        Command::new("node")
            .arg(support::fixtures().join("decimal_rules.cjs"))
            .arg(&work)
            .arg(work.join("decimal_cases.json")),
    );
    let verdicts: Vec<serde_json::Value> = serde_json::from_str(&verdicts).unwrap();
    assert!(verdicts.len() > 100, "{}", verdicts.len());
    let wrong: Vec<String> = verdicts
        .iter()
        .filter(|c| c["req"] != c["ok"] || (!c["resp"].is_null() && c["resp"] != c["ok"]))
        .map(|c| c.to_string())
        .collect();
    assert!(
        wrong.is_empty(),
        "Zod and pydantic disagree on Decimal values:\n{}",
        wrong.join("\n")
    );
    let checked = v["checked"].as_u64().unwrap();
    assert!(checked > 100, "only {checked} checks ran");
    assert_eq!(
        v["failures"].as_array().unwrap().len(),
        0,
        "Zod rejected pydantic's JSON:\n{report}"
    );
}
