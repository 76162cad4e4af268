//! A DTO module (any bytes) next to a fixed base module: type sync and its error printer must
//! not panic, and an error must name file:line:col.
#![no_main]

use libfuzzer_sys::fuzz_target;

const BASE: &str = "from typing import *\nfrom pydantic import BaseModel, Field\n\n\
class Base(BaseModel):\n    id: int\n    tags: List[str] = []\n";

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("__init__.py"), "").unwrap();
    std::fs::write(pkg.join("base.py"), BASE).unwrap();
    std::fs::write(pkg.join("dtos.py"), data).unwrap();
    let config = fsi::typesync::TypesConfig {
        roots: vec!["pkg".into()],
        package_root: "pkg".into(),
        out_dir: "out".into(),
        by_alias: true,
        zod: true,
    };
    match fsi::typesync::generate(dir.path(), &config) {
        Ok(g) => {
            let _ = fsi::typesync::check(dir.path(), &g);
        }
        Err(e) => {
            let text = format!("{:?}", miette::Report::new(e));
            let located = regex::Regex::new(r"[^\s:\[\]]+:\d+:\d+").unwrap();
            assert!(located.is_match(&text), "unlocated: {text}");
        }
    }
});
