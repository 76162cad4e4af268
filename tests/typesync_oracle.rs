//! Oracle: compare fsi's static view of every model (property names, optionality, types) with
//! pydantic's own `model_json_schema` in serialization and validation modes, and with the keys a
//! real instance dumps, on the make_dto_corpus.py corpus (50 modules, 1,050 models) and on a
//! real-world package from PyPI (openapi-pydantic, OpenAPI 3.1 models).
//!
//! Expected, documented disagreements (docs/typesync.md, "Oracle"): in serialization mode the
//! schema leaves fields with defaults out of `required`, while they are always on the wire; fsi
//! follows the wire, and the test checks that against real dumps.

#![allow(clippy::print_stdout)] // the oracle prints its agreement figures (run with --nocapture)

#[path = "fixtures/typesync/support.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::LazyLock;

use fsi::typesync::{self, DeclDescription, FieldDescription, TypesConfig};
use serde_json::Value;

#[derive(Default, Debug)]
struct Tally {
    models: usize,
    props: usize,
    names_agree: usize,
    opt_agree: usize,
    types_agree: usize,
    whole_types: usize,
    whole_types_agree: usize,
    wire_models: usize,
    wire_agree: usize,
    /// Response fields fsi marks required that the serialization schema leaves optional.
    defaults_required_by_wire: usize,
    /// Response fields of an open enum (`Union[Literal[…], UnrecognizedStr]`, a `str` subclass):
    /// fsi says `"a" | "b" | string` (pydantic dumps any string it accepted), the serialization
    /// schema only the literals.
    open_enums_by_wire: usize,
    /// Those fields: (py, class, key, the string is inside an array), checked with pydantic.
    open_enum_fields: Vec<(String, String, String, bool)>,
    disagreements: Vec<String>,
}

impl Tally {
    fn pct(a: usize, b: usize) -> String {
        if b == 0 {
            "n/a".into()
        } else {
            format!("{a}/{b} ({:.1}%)", 100.0 * a as f64 / b as f64)
        }
    }
}

fn split_union(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut cur) = (0i32, String::new());
    for ch in s.chars() {
        match ch {
            '<' | '(' | '[' | '{' => depth += 1,
            '>' | ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if ch == '|' && depth == 0 {
            out.push(cur.trim().to_string());
            cur.clear();
        } else {
            cur.push(ch);
        }
    }
    out.push(cur.trim().to_string());
    out
}

/// Make fsi's TS and the schema-derived TS comparable: drop generic arguments of named types
/// (schema titles say `Page[Item]`), drop the `Input` suffix of request names, sort unions.
static IDENT: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"\b[A-Za-z_]\w*\b").unwrap());
static GENERIC: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"([A-Za-z_]\w*)(<[^<>]*>|\[[^\[\]]*\])").unwrap());
static NESTED: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"\(\(([^()]*)\)( \|[^()]*)\)").unwrap());
static PAREN_ARG: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r", \(([^()]*)\)>").unwrap());
static INDEX_SIG: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"\{ \[key: string\]: ([^{}]*) \}").unwrap());

/// An alias: its type parameters and its body.
type Aliases = BTreeMap<String, (Vec<String>, String)>;

fn paren(t: &str) -> String {
    if split_union(t).len() > 1 {
        format!("({t})")
    } else {
        t.to_string()
    }
}

/// One pass of alias expansion: every alias name replaced by its body, a generic one
/// (`Nullable<string>`) with its arguments substituted for its parameters.
fn expand_once(s: &str, aliases: &Aliases) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    for m in IDENT.find_iter(s) {
        if m.start() < at {
            continue; // inside arguments already consumed
        }
        out.push_str(&s[at..m.start()]);
        at = m.end();
        let Some((params, body)) = aliases.get(m.as_str()) else {
            out.push_str(m.as_str());
            continue;
        };
        if params.is_empty() {
            out.push_str(&paren(body));
            continue;
        }
        if !s[m.end()..].starts_with('<') {
            out.push_str(m.as_str());
            continue;
        }
        // The arguments up to the matching `>`, split at top-level commas.
        let (mut depth, mut args, mut cur, mut end) = (0i32, Vec::new(), String::new(), s.len());
        for (i, ch) in s[m.end()..].char_indices() {
            match ch {
                '<' | '(' | '[' | '{' => {
                    depth += 1;
                    if depth == 1 && ch == '<' {
                        continue;
                    }
                }
                '>' | ')' | ']' | '}' => {
                    depth -= 1;
                    if depth == 0 {
                        args.push(cur.trim().to_string());
                        end = m.end() + i + 1;
                        break;
                    }
                }
                ',' if depth == 1 => {
                    args.push(std::mem::take(&mut cur).trim().to_string());
                    continue;
                }
                _ => {}
            }
            cur.push(ch);
        }
        let sub = IDENT
            .replace_all(body, |c: &regex::Captures| {
                match params.iter().position(|p| *p == c[0]) {
                    Some(i) => paren(args.get(i).map_or("unknown", String::as_str)),
                    None => c[0].to_string(),
                }
            })
            .into_owned();
        out.push_str(&paren(&sub));
        at = end;
    }
    out.push_str(&s[at..]);
    out
}

fn norm(s: &str, requests: &BTreeMap<String, String>, aliases: &Aliases) -> String {
    // Expand fsi's named aliases (the schema inlines them), request aliases (`…Input`) first.
    let mut s = s.to_string();
    if !aliases.is_empty() {
        for _ in 0..6 {
            let next = expand_once(&s, aliases);
            if next == s {
                break;
            }
            s = next;
        }
    }
    // Unions expanded into a union: `((a | b) | c)` reads `(a | b | c)`.
    loop {
        let next = NESTED.replace_all(&s, "($1$2)").into_owned();
        if next == s {
            break;
        }
        s = next;
    }
    // An expanded union as the last generic argument: `Record<string, (A | B)>`.
    let s = PAREN_ARG.replace_all(&s, ", $1>").into_owned();
    // fsi writes a dict whose values mention a recursive alias as an index signature.
    let s = INDEX_SIG.replace_all(&s, "Record<string, $1>").into_owned();
    // Request names (`…Input`, `…Input2` where a class is named `…Input`) are the schema's
    // single name.
    let mut s = IDENT
        .replace_all(&s, |c: &regex::Captures| match requests.get(&c[0]) {
            Some(n) => n.clone(),
            None => c[0].to_string(),
        })
        .into_owned();
    // Drop generic arguments of named types (schema titles say `Page[Item]`).
    loop {
        let next = GENERIC
            .replace_all(&s, |c: &regex::Captures| {
                if &c[1] == "Record" || &c[1] == "Partial" {
                    c[0].replace('<', "‹").replace('>', "›")
                } else {
                    c[1].to_string()
                }
            })
            .into_owned();
        if next == s {
            break;
        }
        s = next;
    }
    let s = s.replace('‹', "<").replace('›', ">");
    // Whether the `(` at the start of `p` is closed by the `)` at its end.
    fn wraps(p: &str) -> bool {
        let mut depth = 0i32;
        for (i, ch) in p.char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return i == p.len() - 1;
                    }
                }
                _ => {}
            }
        }
        false
    }
    // Unions pulled in by alias expansion: flatten `((a | b) | c) | d`, at any depth.
    fn flatten(s: &str, parts: &mut Vec<String>) {
        for p in split_union(s) {
            let inner = p.strip_prefix('(').and_then(|x| x.strip_suffix(')'));
            match inner {
                Some(i) if split_union(i).len() > 1 && wraps(&p) => flatten(i, parts),
                _ => parts.push(p),
            }
        }
    }
    let mut parts: Vec<String> = Vec::new();
    flatten(&s, &mut parts);
    // `unknown` absorbs a union (fsi renders `Nullable<Any>` as `unknown`).
    if parts.iter().any(|p| p == "unknown") {
        return "unknown".into();
    }
    parts.sort();
    parts.dedup();
    parts.join(" | ")
}

/// A normalized type without the `string` members of unions that also hold string literals
/// (at the top level and in one `(…)[]`).
fn drop_open_string(s: &str) -> String {
    fn union(s: &str) -> String {
        let parts = split_union(s);
        let lits = parts.iter().any(|p| p.starts_with('"'));
        let kept: Vec<String> = parts
            .into_iter()
            .filter(|p| !(lits && p == "string"))
            .map(
                |p| match p.strip_prefix('(').and_then(|x| x.strip_suffix(")[]")) {
                    Some(inner) => format!("({})[]", union(inner)),
                    None => p,
                },
            )
            .collect();
        kept.join(" | ")
    }
    union(s)
}

fn compare(
    label: &str,
    descs: &[DeclDescription],
    oracle: &Value,
    module_of: &dyn Fn(&str) -> String,
) -> Tally {
    let decls: BTreeMap<String, String> = descs
        .iter()
        .filter(|d| d.has_input)
        .map(|d| (d.request_name.clone(), d.name.clone()))
        .collect();
    // Aliases by name: where modules declare the same name (a package with versioned copies of
    // its types), the one in the model's own module counts, else a name whose declarations all
    // read the same. A recursive alias is not expanded (the schema keeps it as a `$ref`), and an
    // alias body is normalized like any type first (index signatures).
    let canon = |t: &str| -> String { INDEX_SIG.replace_all(t, "Record<string, $1>").into_owned() };
    let sorted = |t: &str| -> String {
        let mut parts = split_union(t);
        parts.sort();
        parts.join(" | ")
    };
    let mut by_module: BTreeMap<&str, Aliases> = BTreeMap::new();
    let mut by_name: BTreeMap<String, Vec<(Vec<String>, String)>> = BTreeMap::new();
    for d in descs.iter().filter(|d| d.kind == "alias") {
        let m = by_module.entry(d.py.as_str()).or_default();
        let mut add = |n: &str, t: &str| {
            let recursive = IDENT.find_iter(t).any(|w| w.as_str() == n);
            if !recursive {
                let v = (d.params.clone(), canon(t));
                m.insert(n.to_string(), v.clone());
                by_name.entry(n.to_string()).or_default().push(v);
            }
        };
        if let Some(t) = &d.response_type {
            add(&d.name, t);
        }
        if let (true, Some(t)) = (d.has_input, &d.request_type) {
            add(&d.request_name, t);
        }
    }
    let mut names_declared: BTreeMap<&str, usize> = BTreeMap::new();
    for d in descs {
        *names_declared.entry(d.name.as_str()).or_default() += 1;
    }
    let global: Aliases = by_name
        .into_iter()
        .filter(|(n, ts)| {
            ts.windows(2)
                .all(|w| w[0].0 == w[1].0 && sorted(&w[0].1) == sorted(&w[1].1))
                && names_declared.get(n.as_str()).copied().unwrap_or(0) <= ts.len()
        })
        .map(|(n, mut ts)| (n, ts.swap_remove(0)))
        .collect();
    let alias_maps: BTreeMap<&str, Aliases> = by_module
        .iter()
        .map(|(py, m)| {
            let mut all = global.clone();
            all.extend(m.iter().map(|(a, b)| (a.clone(), b.clone())));
            (*py, all)
        })
        .collect();
    let norm = |s: &str, decls: &BTreeMap<String, String>, py: &str| {
        norm(s, decls, alias_maps.get(py).unwrap_or(&global))
    };
    let mut t = Tally::default();
    for d in descs.iter().filter(|d| d.kind == "model") {
        let Some(o) = oracle.get(module_of(&d.py)).and_then(|m| m.get(&d.name)) else {
            t.disagreements.push(format!(
                "{label}: {} {} not found by pydantic",
                d.py, d.name
            ));
            continue;
        };
        t.models += 1;
        for (view, fields, whole, ov) in [
            ("ser", &d.response, &d.response_type, &o["ser"]),
            ("val", &d.request, &d.request_type, &o["val"]),
        ] {
            if let Some(ty) = whole {
                t.whole_types += 1;
                let theirs = ov.get("type").and_then(Value::as_str).unwrap_or("<object>");
                if norm(ty, &decls, &d.py) == norm(theirs, &decls, &d.py) {
                    t.whole_types_agree += 1;
                } else {
                    t.disagreements.push(format!(
                        "{label}: {}.{} ({view}): fsi type `{ty}`, schema `{theirs}`",
                        d.py, d.name
                    ));
                }
                continue;
            }
            let fields: &Vec<FieldDescription> = fields.as_ref().unwrap();
            let Some(props) = ov.get("props").and_then(Value::as_object) else {
                t.disagreements.push(format!(
                    "{label}: {}.{} ({view}): schema is not an object: {ov}",
                    d.py, d.name
                ));
                continue;
            };
            let mine: BTreeMap<&str, &FieldDescription> =
                fields.iter().map(|f| (f.key.as_str(), f)).collect();
            let keys: BTreeSet<&str> = mine
                .keys()
                .copied()
                .chain(props.keys().map(String::as_str))
                .collect();
            for k in keys {
                t.props += 1;
                let (Some(f), Some(p)) = (mine.get(k), props.get(k)) else {
                    t.disagreements.push(format!(
                        "{label}: {}.{} ({view}): key `{k}` only in {}",
                        d.py,
                        d.name,
                        if mine.contains_key(k) {
                            "fsi"
                        } else {
                            "the schema"
                        }
                    ));
                    continue;
                };
                t.names_agree += 1;
                let required = p["required"].as_bool().unwrap();
                if f.optional != required {
                    t.opt_agree += 1;
                } else if view == "ser" && !f.optional && !required {
                    t.defaults_required_by_wire += 1;
                } else {
                    t.disagreements.push(format!(
                        "{label}: {}.{} ({view}): `{k}` fsi optional={}, schema required={required}",
                        d.py, d.name, f.optional
                    ));
                }
                let theirs = p["ts"].as_str().unwrap();
                let (mine_n, theirs_n) = (norm(&f.ts, &decls, &d.py), norm(theirs, &decls, &d.py));
                if mine_n == theirs_n {
                    t.types_agree += 1;
                } else if view == "ser" && drop_open_string(&mine_n) == theirs_n {
                    t.open_enums_by_wire += 1;
                    t.open_enum_fields.push((
                        d.py.clone(),
                        d.name.clone(),
                        k.to_string(),
                        !split_union(&mine_n).iter().any(|p| p == "string"),
                    ));
                } else {
                    t.disagreements.push(format!(
                        "{label}: {}.{} ({view}): `{k}` fsi `{}`, schema `{theirs}`",
                        d.py, d.name, f.ts
                    ));
                }
            }
        }
        if let (Some(fields), Some(wire)) = (&d.response, o["wire_keys"].as_array()) {
            t.wire_models += 1;
            let mine: BTreeSet<&str> = fields.iter().map(|f| f.key.as_str()).collect();
            let required: BTreeSet<&str> = fields
                .iter()
                .filter(|f| !f.optional)
                .map(|f| f.key.as_str())
                .collect();
            let theirs: BTreeSet<&str> = wire.iter().map(|v| v.as_str().unwrap()).collect();
            // Every key dumped is one fsi lists, and every key fsi says is always there is
            // (a key fsi marks `k?:` may be left out: TypedDict, Speakeasy's serializer).
            if theirs.is_subset(&mine) && required.is_subset(&theirs) {
                t.wire_agree += 1;
            } else {
                t.disagreements.push(format!(
                    "{label}: {}.{} (wire): fsi keys {mine:?}, dumped keys {theirs:?}",
                    d.py, d.name
                ));
            }
        }
    }
    t
}

fn report(label: &str, t: &Tally) {
    println!("== oracle: {label}");
    println!("models compared:                 {}", t.models);
    println!(
        "property names agree:            {}",
        Tally::pct(t.names_agree, t.props)
    );
    println!(
        "optionality agrees with schema:  {}  (+{} response fields with a default: required on the wire, optional in the schema)",
        Tally::pct(t.opt_agree, t.names_agree),
        t.defaults_required_by_wire
    );
    println!(
        "types agree:                     {}  (+{} open-enum candidates: `\"a\" | string` where the serialization schema has only the literals; checked with pydantic below)",
        Tally::pct(t.types_agree, t.names_agree),
        t.open_enums_by_wire
    );
    println!(
        "whole-model types agree:         {}",
        Tally::pct(t.whole_types_agree, t.whole_types)
    );
    println!(
        "response keys == dumped keys:    {}",
        Tally::pct(t.wire_agree, t.wire_models)
    );
    for d in &t.disagreements {
        println!("  disagreement: {d}");
    }
}

fn run_oracle(sys_path: &Path, modules: &[String]) -> Value {
    let out = support::run(
        Command::new(support::venv_python())
            .arg(support::fixtures().join("oracle.py"))
            .arg(sys_path)
            .args(modules),
    );
    serde_json::from_str(&out).unwrap()
}

#[test]
fn oracle_on_the_dto_corpus() {
    let python = support::venv_python();
    let dir = tempfile::tempdir().unwrap();
    let backend = dir.path().join("backend");
    support::run(
        Command::new(&python)
            .arg(support::manifest_dir().join("bench/typesync/make_dto_corpus.py"))
            .arg("--out")
            .arg(&backend),
    );
    let (descs, warnings) = typesync::describe(dir.path(), &TypesConfig::default()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let py_to_mod = |py: &str| {
        py.trim_start_matches("backend/")
            .trim_end_matches(".py")
            .replace('/', ".")
    };
    let modules: BTreeSet<String> = descs.iter().map(|d| py_to_mod(&d.py)).collect();
    let modules: Vec<String> = modules.into_iter().collect();
    assert_eq!(modules.len(), 51, "50 modules + shared");
    let oracle = run_oracle(&backend, &modules);
    let t = compare("corpus", &descs, &oracle, &py_to_mod);
    report("make_dto_corpus.py (50 modules, 1,050 models)", &t);
    assert!(t.models >= 1050, "{}", t.models);
    assert_eq!(t.names_agree, t.props, "property names");
    assert_eq!(
        t.opt_agree + t.defaults_required_by_wire,
        t.names_agree,
        "optionality"
    );
    assert_eq!(t.types_agree, t.names_agree, "types");
    assert_eq!(t.wire_agree, t.wire_models, "wire keys");
    assert!(t.wire_models >= 1000);
}

#[test]
fn oracle_on_openapi_pydantic() {
    let python = support::venv_python();
    let site = support::run(Command::new(&python).args([
        "-c",
        "import openapi_pydantic, os; print(os.path.dirname(os.path.dirname(openapi_pydantic.__file__)))",
    ]));
    let site = std::path::PathBuf::from(site.trim());
    let pkg = site.join("openapi_pydantic/v3/v3_1");
    let config = TypesConfig {
        roots: vec![pkg.display().to_string()],
        ..TypesConfig::default()
    };
    let (descs, warnings) = typesync::describe(&site, &config).unwrap();
    for w in &warnings {
        println!("warning: {w}");
    }
    let py_to_mod = |py: &str| {
        py.trim_end_matches(".py")
            .trim_end_matches("/__init__")
            .replace('/', ".")
    };
    let modules: BTreeSet<String> = descs.iter().map(|d| py_to_mod(&d.py)).collect();
    let modules: Vec<String> = modules.into_iter().collect();
    let oracle = run_oracle(&site, &modules);
    let t = compare("openapi-pydantic", &descs, &oracle, &py_to_mod);
    report("openapi-pydantic 0.6.0 (openapi_pydantic.v3.v3_1)", &t);
    assert!(t.models >= 25, "{}", t.models);
    // Thresholds pinned to the figures in docs/typesync.md; every disagreement is explained there.
    assert_eq!(t.names_agree, t.props, "property names");
    assert_eq!(
        t.opt_agree + t.defaults_required_by_wire,
        t.names_agree,
        "optionality"
    );
    assert_eq!(t.types_agree, t.names_agree, "types");
    assert_eq!(t.wire_agree, t.wire_models, "wire keys");
}

/// The site-packages directory an installed package (`mcp_types`, `mistralai.client`) lives in.
fn site_of(import: &str) -> std::path::PathBuf {
    let site = support::run(Command::new(support::venv_python()).args([
        "-c",
        &format!(
            "import {import}, pathlib; print(pathlib.Path({import}.__file__).parents[{}])",
            import.matches('.').count() + 1
        ),
    ]));
    std::path::PathBuf::from(site.trim())
}

/// fsi's view of an installed package (roots relative to its site-packages directory), compared
/// with pydantic's schema: the figures, the warnings, and the generated files (for tsc).
fn oracle_on_package(
    label: &str,
    import: &str,
    roots: &[&str],
) -> (Tally, Vec<typesync::Warning>, Vec<DeclDescription>) {
    let site = site_of(import);
    let config = TypesConfig {
        roots: roots
            .iter()
            .map(|r| site.join(r).display().to_string())
            .collect(),
        // Imports resolve from site-packages (`mistralai` is a namespace package: the first
        // directory without `__init__.py` above the roots would be `mistralai/` itself).
        package_root: site.clone(),
        ..TypesConfig::default()
    };
    let (descs, warnings) = typesync::describe(&site, &config).unwrap();
    let py_to_mod = |py: &str| {
        py.trim_end_matches(".py")
            .trim_end_matches("/__init__")
            .replace('/', ".")
    };
    let modules: BTreeSet<String> = descs
        .iter()
        .filter(|d| d.kind == "model")
        .map(|d| py_to_mod(&d.py))
        .collect();
    let modules: Vec<String> = modules.into_iter().collect();
    let oracle = run_oracle(&site, &modules);
    let t = compare(label, &descs, &oracle, &py_to_mod);
    report(label, &t);
    (t, warnings, descs)
}

/// Generate the TS and Zod files for a package into a temporary directory and run
/// `tsc --strict --noEmit` over them (the settings of tests/typesync_node.rs): (error count,
/// tsc's output).
fn tsc_on_package(import: &str, roots: &[&str]) -> (usize, String) {
    let site = site_of(import);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("src/types");
    let config = TypesConfig {
        roots: roots
            .iter()
            .map(|r| site.join(r).display().to_string())
            .collect(),
        // Imports resolve from site-packages (`mistralai` is a namespace package: the first
        // directory without `__init__.py` above the roots would be `mistralai/` itself).
        package_root: site.clone(),
        out_dir: out.clone(),
        ..TypesConfig::default()
    };
    let g = typesync::generate(&site, &config).unwrap();
    typesync::write(&site, &g).unwrap();
    std::os::unix::fs::symlink(support::node_modules(), dir.path().join("node_modules")).unwrap();
    std::fs::write(
        dir.path().join("tsconfig.json"),
        r#"{
  "compilerOptions": {
    "strict": true, "noEmit": true, "target": "ES2022", "module": "ESNext",
    "moduleResolution": "bundler", "isolatedModules": true, "verbatimModuleSyntax": true,
    "noUnusedLocals": true, "noUnusedParameters": true, "skipLibCheck": true, "types": []
  },
  "include": ["src/**/*.ts"]
}
"#,
    )
    .unwrap();
    let o = Command::new("node")
        .arg(support::node_modules().join("typescript/bin/tsc"))
        .arg("-p")
        .arg(dir.path().join("tsconfig.json"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let errors = text.lines().filter(|l| l.contains("error TS")).count();
    assert!(
        o.status.success() || errors > 0,
        "tsc failed without reporting errors:\n{text}"
    );
    (errors, text)
}

/// Fields whose type fsi renders as `unknown` where pydantic's schema has a concrete type, and
/// declarations (aliases) fsi reads as `unknown`.
fn unknowns(t: &Tally, descs: &[DeclDescription]) -> Vec<String> {
    let mut out: Vec<String> = t
        .disagreements
        .iter()
        .filter(|d| {
            d.contains(" fsi `unknown`,")
                && !d.ends_with("schema `unknown`")
                // pydantic has no type either (a `Callable` field: not JSON).
                && !d.ends_with("schema `never`")
        })
        .cloned()
        .collect();
    for d in descs.iter().filter(|d| d.kind == "alias") {
        if d.response_type.as_deref() == Some("unknown") {
            out.push(format!("alias {}.{} is unknown", d.py, d.name));
        }
    }
    out
}

/// At least 99 % of property names and of types agree with pydantic's schema; `open` response
/// fields of open enums (checked with pydantic to dump any string) count as agreeing.
fn assert_agreement(label: &str, t: &Tally, open: usize, min_models: usize) {
    assert!(t.models >= min_models, "{label}: only {} models", t.models);
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    let names = pct(t.names_agree, t.props);
    let strict = pct(t.types_agree, t.names_agree);
    let types = pct(t.types_agree + open, t.names_agree);
    println!(
        "{label}: names {names:.2} % ({}/{}), types {strict:.2} % as the schema says ({}/{}), {types:.2} % with the {open} open enums pydantic dumps as any string",
        t.names_agree, t.props, t.types_agree, t.names_agree
    );
    assert!(
        names >= 99.0,
        "{label}: property names agree {names:.2} % < 99 %"
    );
    assert!(types >= 99.0, "{label}: types agree {types:.2} % < 99 %");
}

#[test]
fn oracle_on_mcp_types() {
    let (t, warnings, descs) =
        oracle_on_package("mcp 2.3.0 (mcp_types)", "mcp_types", &["mcp_types"]);
    for w in &warnings {
        println!("warning: {w}");
    }
    assert_eq!(t.open_enums_by_wire, 0);
    assert_agreement("mcp", &t, 0, 100);
    let unknown = unknowns(&t, &descs);
    assert!(
        unknown.is_empty(),
        "read as unknown:\n{}",
        unknown.join("\n")
    );
    let (errors, text) = tsc_on_package("mcp_types", &["mcp_types"]);
    println!("tsc --strict over mcp_types' output: {errors} errors");
    assert_eq!(errors, 0, "{text}");
}

#[test]
fn oracle_on_mistralai() {
    let (t, warnings, descs) = oracle_on_package(
        "mistralai 3.7.0 (mistralai.client.models, Speakeasy)",
        "mistralai.client",
        &["mistralai/client/models"],
    );
    println!("{} warnings", warnings.len());
    for w in warnings.iter().take(40) {
        println!("warning: {w}");
    }
    // The open enums counted as agreeing: pydantic really dumps a string outside the literals.
    let site = site_of("mistralai.client");
    let probe: Vec<(String, &str, &str, bool)> = t
        .open_enum_fields
        .iter()
        .map(|(py, c, k, arr)| {
            let m = py.trim_end_matches(".py").replace('/', ".");
            (m, c.as_str(), k.as_str(), *arr)
        })
        .collect();
    let mut child = Command::new(support::venv_python())
        .arg(support::fixtures().join("open_enums.py"))
        .arg(&site)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(serde_json::to_string(&probe).unwrap().as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "open_enums.py failed");
    let checked: Vec<(String, String, String, bool)> = serde_json::from_slice(&out.stdout).unwrap();
    let open = checked.iter().filter(|c| c.3).count();
    println!(
        "open enums checked with pydantic: {open}/{} dump a string outside the literals; the rest disagree",
        checked.len()
    );
    assert_eq!(checked.len(), t.open_enums_by_wire);
    assert_agreement("mistralai", &t, open, 500);
    // Not JSON, so no plain alias (docs/typesync.md, oracle): `File.content: Union[bytes,
    // IO[bytes], io.IOBase]` is a multipart upload; the `…PostResponse` aliases are a union
    // with the SDK's `EventStream[…]` iterators (warned: not a Pydantic model).
    let unknown: Vec<String> = unknowns(&t, &descs)
        .into_iter()
        .filter(|u| {
            !u.contains("models/file.py.File (")
                && !u.contains(
                    "create_response_v1_responses_postop.py.CreateResponseV1ResponsesPostResponse",
                )
                && !u.contains("speech_v1_audio_speech_postop.py.SpeechV1AudioSpeechPostResponse")
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "read as unknown:\n{}",
        unknown.join("\n")
    );
    let (errors, text) = tsc_on_package("mistralai.client", &["mistralai/client/models"]);
    println!("tsc --strict over mistralai's output: {errors} errors");
    let head: String = text.lines().take(60).collect::<Vec<_>>().join("\n");
    assert_eq!(errors, 0, "{head}");
}

/// The golden fixtures too: here every disagreement is a deliberate wire-over-schema choice, and
/// the test pins the exact list (docs/typesync.md explains each).
#[test]
fn oracle_on_the_fixtures() {
    let cases: Vec<String> = support::all_cases()
        .into_iter()
        .filter(|c| c != "undecidable" && c != "pep695")
        .collect();
    let refs: Vec<&str> = cases.iter().map(String::as_str).collect();
    let proj = support::make_project(&refs);
    let (descs, _) = typesync::describe(proj.path(), &TypesConfig::default()).unwrap();
    let py_to_mod = |py: &str| {
        py.trim_start_matches("backend/")
            .trim_end_matches(".py")
            .replace('/', ".")
    };
    let modules: BTreeSet<String> = descs.iter().map(|d| py_to_mod(&d.py)).collect();
    let modules: Vec<String> = modules.into_iter().collect();
    let oracle = run_oracle(&proj.path().join("backend"), &modules);
    let t = compare("fixtures", &descs, &oracle, &py_to_mod);
    report("tests/fixtures/typesync/cases", &t);
    let got: Vec<&str> = t.disagreements.iter().map(String::as_str).collect();
    insta::assert_debug_snapshot!(got);
}
