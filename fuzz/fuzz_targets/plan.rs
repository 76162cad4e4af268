//! A plan file (any bytes): loading, validation and every diagnostic rendered must not panic,
//! and every error must carry a location.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.xml");
    std::fs::write(&file, data).unwrap();
    let set = fsi::session::load(
        dir.path(),
        &[file],
        &fsi::session::Vars::new(BTreeMap::new()),
    );
    for p in set.problems.iter().filter(|p| p.is_error()) {
        assert!(p.file.is_some() && p.span.is_some(), "unlocated: {}", p.message);
    }
    let _ = fsi::session::diag::render_plain(&set.problems, &set.files);
    let _ = set.located_problems();
    if let Err(e) = set.check() {
        let _ = format!("{:?}", miette::Report::new(e));
    }
});
