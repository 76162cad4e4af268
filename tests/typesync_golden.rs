//! Golden fixtures: every construct in `tests/fixtures/typesync/cases/*.py` → TS + Zod + warnings,
//! as insta snapshots. Also: byte-identical output on every run, and the barrel.

#[path = "fixtures/typesync/support.rs"]
mod support;

use std::path::Path;

use fsi::typesync::{self, TypesConfig};

fn render(root: &Path, case: &str) -> String {
    let g = typesync::generate(root, &TypesConfig::default()).unwrap();
    let mut s = String::new();
    for (p, text) in &g.files {
        let name = p.file_name().unwrap().to_string_lossy();
        if name == format!("{case}.ts") || name == format!("{case}.zod.ts") {
            s.push_str(&format!("=== {}\n{text}\n", p.display()));
        }
    }
    s.push_str("=== warnings\n");
    for w in g
        .warnings
        .iter()
        .filter(|w| w.file.contains(&format!("/{case}/")))
    {
        s.push_str(&format!("{w}\n"));
    }
    s
}

#[test]
fn golden() {
    insta::glob!("fixtures/typesync/cases/*.py", |path| {
        let case = path.file_stem().unwrap().to_string_lossy().into_owned();
        let cases = support::all_cases();
        let refs: Vec<&str> = cases.iter().map(String::as_str).collect();
        let proj = support::make_project(&refs);
        insta::assert_snapshot!(render(proj.path(), &case));
    });
}

#[test]
fn common_module_and_barrel() {
    let cases = support::all_cases();
    let refs: Vec<&str> = cases.iter().map(String::as_str).collect();
    let proj = support::make_project(&refs);
    let g = typesync::generate(proj.path(), &TypesConfig::default()).unwrap();
    let mut s = String::new();
    for name in ["common.ts", "common.zod.ts", "index.ts"] {
        let (p, text) = g
            .files
            .iter()
            .find(|(p, _)| p.file_name().unwrap() == name)
            .unwrap();
        s.push_str(&format!("=== {}\n{text}\n", p.display()));
    }
    insta::assert_snapshot!(s);
}

#[test]
fn output_is_byte_identical_on_every_run() {
    let cases = support::all_cases();
    let refs: Vec<&str> = cases.iter().map(String::as_str).collect();
    let a = support::make_project(&refs);
    let b = support::make_project(&refs);
    let ga = typesync::generate(a.path(), &TypesConfig::default()).unwrap();
    for _ in 0..3 {
        let gb = typesync::generate(b.path(), &TypesConfig::default()).unwrap();
        assert_eq!(ga.files, gb.files);
        assert_eq!(ga.warnings, gb.warnings);
    }
}
