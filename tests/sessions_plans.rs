//! Plan reading: every fixture plan (valid and invalid, all dialects) is loaded and snapshotted —
//! a normalised summary for valid plans, the rendered diagnostics for invalid ones.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use fsi::session::{self, Vars, plan};

fn vars() -> Vars {
    Vars::new(BTreeMap::from([
        ("PROJECT".to_string(), "DEMO".to_string()),
        ("project".to_string(), "demo".to_string()),
        ("entity".to_string(), "items".to_string()),
    ]))
}

fn load(path: &Path) -> session::PlanSet {
    let dir = path.parent().unwrap();
    session::load(dir, &[path.to_path_buf()], &vars())
}

fn summary(set: &session::PlanSet) -> String {
    let mut out = String::new();
    for s in set.ordered() {
        writeln!(out, "{} [{}] {:?}", s.id, s.dialect.as_str(), s.title()).unwrap();
        writeln!(out, "  project: {:?}", s.project).unwrap();
        writeln!(out, "  meta: {}", serde_json::to_string(&s.meta).unwrap()).unwrap();
        for d in &s.deps {
            writeln!(
                out,
                "  requires {} ({:?}, status {:?})",
                d.id, d.kind, d.status
            )
            .unwrap();
        }
        for p in &s.preconditions {
            writeln!(out, "  precondition {p:?}").unwrap();
        }
        if let Some(g) = &s.gate {
            writeln!(
                out,
                "  gate enabled={} on_fail={:?}",
                g.enabled, g.action_on_fail
            )
            .unwrap();
            for c in &g.checks {
                writeln!(out, "    {}: {}", c.name, c.command).unwrap();
            }
        }
        for t in &s.tasks {
            writeln!(
                out,
                "  task {:?} action={:?} file={:?} title={:?} command={:?}",
                t.id, t.action, t.file, t.title, t.command
            )
            .unwrap();
            if let Some(c) = &t.code_snippet {
                writeln!(out, "    snippet ({:?}):\n{}", c.language, indent(&c.text)).unwrap();
            }
            if let Some(d) = &t.description {
                writeln!(out, "    description: {d:?}").unwrap();
            }
        }
        for c in &s.checks {
            writeln!(
                out,
                "  check {} command={:?} expected={:?} class={:?}",
                c.name, c.command, c.expected, c.gate_class
            )
            .unwrap();
        }
        for f in &s.forbidden {
            writeln!(out, "  forbidden {:?} literal={}", f.pattern, f.literal).unwrap();
        }
        for sc in &s.screenshots {
            writeln!(out, "  screenshot {}", sc.name).unwrap();
        }
        writeln!(out, "  commit: {:?}", session::gitops::message(s)).unwrap();
        if !s.unknown_elements.is_empty() {
            writeln!(out, "  unknown: {:?}", s.unknown_elements).unwrap();
        }
    }
    let warnings: Vec<_> = set.warnings().cloned().collect();
    if !warnings.is_empty() {
        writeln!(
            out,
            "\nwarnings:\n{}",
            session::diag::render_plain(&warnings, &set.files)
        )
        .unwrap();
    }
    out
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("      |{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn valid_plans() {
    insta::glob!("fixtures/sessions/valid/*", |path| {
        let set = load(path);
        assert!(
            !set.has_errors(),
            "{}",
            session::diag::render_plain(&set.problems, &set.files)
        );
        insta::assert_snapshot!(summary(&set));
    });
}

#[test]
fn invalid_plans() {
    insta::glob!("fixtures/sessions/invalid/*", |path| {
        let set = load(path);
        assert!(set.has_errors(), "{} should be invalid", path.display());
        let errors: Vec<_> = set
            .problems
            .iter()
            .filter(|p| p.is_error())
            .cloned()
            .collect();
        insta::assert_snapshot!(session::diag::render_plain(&errors, &set.files));
    });
}

#[test]
fn all_valid_fixtures_together_order_deterministically() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sessions/valid");
    let set = session::load(&dir, std::slice::from_ref(&dir), &vars());
    assert!(!set.has_errors());
    let ids: Vec<&str> = set.ordered().map(|s| s.id.as_str()).collect();
    insta::assert_snapshot!(ids.join(" "));
    // Plans are computed without side effects.
    let p = plan::build(
        &set,
        &Default::default(),
        &plan::Selection {
            all: true,
            ..Default::default()
        },
        &Default::default(),
        &Default::default(),
        Default::default(),
    )
    .unwrap();
    assert_eq!(p.sessions.len(), ids.len());
}
