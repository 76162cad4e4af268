//! Type sync: Pydantic v2 DTOs → TypeScript types and Zod schemas, statically, with drift
//! detection. No Python runs.
//!
//! ```text
//! .py files ──python.rs (ruff parser, import/inheritance resolution)──▶ ir.rs
//!     ir ──views.rs (response / request views, `…Input` decision)──▶ ts.rs, zod.rs
//! ```
//!
//! The engine API used by `fsi types`, `fsi new` and the session engine's built-in actions:
//! [`generate`] (pure: roots + config → files in memory + warnings), [`check`] (compare with
//! disk: per-declaration drift, orphaned MIRRORS files, DTO modules without a mirror) and
//! [`write`] (atomic, only changed files). See docs/typesync.md for the mapping.

pub mod check;
pub mod ir;
mod python;
pub mod routes;
pub mod ts;
pub mod views;
pub mod zod;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::error::{Classify, ExitStatus};

pub use check::{Drift, WriteReport, check, write};
pub use ir::Warning;

/// The `[types]` section of fsi.toml.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TypesConfig {
    /// DTO roots, relative to the project root: files, directories (every `.py` below) or globs.
    pub roots: Vec<String>,
    /// The directory that holds the top-level Python package (`app`); imports resolve from here.
    pub package_root: PathBuf,
    /// Where the `.ts` files go.
    pub out_dir: PathBuf,
    /// The backend serializes with aliases (`by_alias=True`, FastAPI's default). With `false`,
    /// responses use field names unless a model sets `serialize_by_alias=True`.
    pub by_alias: bool,
    /// Emit `<module>.zod.ts` schemas.
    pub zod: bool,
}

impl Default for TypesConfig {
    fn default() -> Self {
        TypesConfig {
            // The DTO modules only: `backend/app/common` also holds the OpenAPI machinery
            // (`openapi.py`'s `Contract` dataclass), which is no part of the API's wire types.
            roots: vec![
                "backend/app/modules/*/dtos.py".into(),
                "backend/app/common/dtos.py".into(),
                "backend/app/common/pagination.py".into(),
            ],
            package_root: "backend".into(),
            out_dir: "frontend/src/types".into(),
            by_alias: true,
            zod: true,
        }
    }
}

#[derive(Debug, Error, Diagnostic)]
pub enum TypesError {
    #[error("cannot read {}", path.display())]
    #[diagnostic(code(fsi::types::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}", path.display())]
    #[diagnostic(code(fsi::types::write))]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Python syntax error: {message}")]
    #[diagnostic(code(fsi::types::syntax))]
    Syntax {
        /// Ends with ` (at file:line:col; …)` when the line is too long to draw.
        message: String,
        #[source_code]
        src: NamedSource<String>,
        #[label("here")]
        span: Option<SourceSpan>,
    },
    #[error("{message}")]
    #[diagnostic(code(fsi::types::invalid))]
    Invalid {
        message: String,
        #[source_code]
        src: NamedSource<String>,
        #[label("here")]
        span: Option<SourceSpan>,
    },
    #[error("{} Python files could not be read", errors.len())]
    #[diagnostic(code(fsi::types::many))]
    Many {
        #[related]
        errors: Vec<TypesError>,
    },
    #[error("no DTO modules found under {}", roots.join(", "))]
    #[diagnostic(
        code(fsi::types::no_modules),
        help("set [types] roots in fsi.toml, or pass --from PATH")
    )]
    NoModules { roots: Vec<String> },
}

impl Classify for TypesError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            TypesError::Write { .. } => ExitStatus::Failure,
            _ => ExitStatus::Invalid,
        }
    }
}

/// A span of a file for a diagnostic: drawn by miette when its line is short enough, else named
/// as ` (at file:line:col; …)`, the suffix returned for the message (see
/// [`crate::error::snippet_fits`]).
pub(crate) fn at_source(
    rel: &str,
    text: String,
    start: usize,
    len: usize,
) -> (NamedSource<String>, Option<SourceSpan>, String) {
    if crate::error::snippet_fits(&text, start..start + len) {
        (
            NamedSource::new(rel, text),
            Some((start, len).into()),
            String::new(),
        )
    } else {
        let (l, c) = crate::error::line_col(&text, start);
        let at = format!(" (at {rel}:{l}:{c}; the line is too long to show)");
        (NamedSource::new(rel, text), None, at)
    }
}

/// One Python module and the files generated for it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModuleOutput {
    /// The .py path relative to the project root.
    pub py: String,
    pub ts: PathBuf,
    pub zod: Option<PathBuf>,
    /// Exported names in the `.ts` file.
    pub declarations: Vec<String>,
}

/// The result of [`generate`]: every output file, in memory.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Generated {
    /// Output path (relative to the project root unless the out dir is absolute) → contents.
    pub files: BTreeMap<PathBuf, String>,
    pub modules: Vec<ModuleOutput>,
    pub warnings: Vec<Warning>,
    /// The output directory the files live in (as configured).
    pub out_dir: PathBuf,
}

/// Expand the configured roots into `.py` files (absolute, sorted, de-duplicated).
pub fn discover_roots(project_root: &Path, roots: &[String]) -> Vec<PathBuf> {
    let mut out = BTreeSet::new();
    for r in roots {
        let is_glob = r.contains(['*', '?', '[']);
        if !is_glob {
            let p = project_root.join(r);
            if p.is_file() {
                out.insert(p);
            } else if p.is_dir() {
                for e in walkdir::WalkDir::new(&p)
                    .sort_by_file_name()
                    .into_iter()
                    .filter_entry(|e| {
                        let n = e.file_name().to_string_lossy();
                        !(n.starts_with('.') && e.depth() > 0) && n != "__pycache__"
                    })
                    .flatten()
                {
                    if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "py") {
                        out.insert(e.into_path());
                    }
                }
            }
            continue;
        }
        // Walk from the literal prefix of the glob.
        let prefix: Vec<&str> = r
            .split('/')
            .take_while(|s| !s.contains(['*', '?', '[']))
            .collect();
        let base = project_root.join(prefix.join("/"));
        let Ok(glob) = globset::GlobBuilder::new(r)
            .literal_separator(true)
            .build()
            .map(|g| g.compile_matcher())
        else {
            continue;
        };
        for e in walkdir::WalkDir::new(&base)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.file_name() != "__pycache__")
            .flatten()
        {
            if !e.file_type().is_file() {
                continue;
            }
            if let Ok(rel) = e.path().strip_prefix(project_root)
                && glob.is_match(rel)
            {
                out.insert(e.into_path());
            }
        }
    }
    out.into_iter().collect()
}

/// The package root for a set of files: the configured one when every file is below it,
/// otherwise the first ancestor of the first file that is not a package (no `__init__.py`).
fn package_root_for(project_root: &Path, config: &TypesConfig, files: &[PathBuf]) -> PathBuf {
    let configured = project_root.join(&config.package_root);
    if files.iter().all(|f| f.starts_with(&configured)) {
        return configured;
    }
    let mut dir = files[0].parent().map(Path::to_path_buf).unwrap_or_default();
    while dir.join("__init__.py").is_file() {
        match dir.parent() {
            Some(p) => dir = p.to_path_buf(),
            None => break,
        }
    }
    dir
}

/// Output stem of a module: the package root's top package, `modules` and a trailing `dtos`
/// dropped (`app.modules.items.dtos` → `items`, `app.common.pagination` → `common/pagination`).
pub fn module_stem(dotted: &str) -> String {
    let parts: Vec<&str> = dotted.split('.').collect();
    let mut rest: Vec<&str> = parts.iter().skip(1).copied().collect();
    if rest.first() == Some(&"modules") {
        rest.remove(0);
    }
    if rest.len() > 1 && rest.last() == Some(&"dtos") {
        rest.pop();
    }
    if rest.is_empty() {
        return parts.first().copied().unwrap_or("types").to_string();
    }
    rest.join("/")
}

/// Parse and lower the DTO roots into the IR (modules laid out, stems assigned).
fn build_ir(
    project_root: &Path,
    config: &TypesConfig,
) -> Result<(ir::Ir, Vec<Warning>), TypesError> {
    let files = discover_roots(project_root, &config.roots);
    if files.is_empty() {
        return Err(TypesError::NoModules {
            roots: config.roots.clone(),
        });
    }
    let pkg_root = package_root_for(project_root, config, &files);
    let fe = python::Frontend::new(project_root, &pkg_root);
    let lowered = match fe.lower(&files) {
        Ok(l) => l,
        Err(mut errs) => {
            return Err(if errs.len() == 1 {
                errs.pop().expect("one")
            } else {
                TypesError::Many { errors: errs }
            });
        }
    };
    let warnings = lowered.warnings;
    // Lay out modules: only those with declarations produce files; stems must be unique.
    let mut mods: Vec<(String, String, Vec<usize>)> = lowered
        .modules
        .into_iter()
        .filter(|(_, _, ids)| !ids.is_empty())
        .collect();
    mods.sort_by(|a, b| a.0.cmp(&b.0));
    let mut stems: Vec<String> = mods.iter().map(|(_, d, _)| module_stem(d)).collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for s in &stems {
        *seen.entry(s.clone()).or_default() += 1;
    }
    for (i, s) in stems.iter_mut().enumerate() {
        if seen[s.as_str()] > 1 || s == "index" {
            let d = &mods[i].1;
            *s = d.split('.').skip(1).collect::<Vec<_>>().join("/");
            if s.is_empty() || s == "index" {
                *s = d.replace('.', "_");
            }
        }
    }
    let mut ir = ir::Ir {
        modules: Vec::new(),
        decls: lowered.decls,
        var_bounds: lowered.var_bounds,
    };
    for (i, (py, dotted, ids)) in mods.into_iter().enumerate() {
        for id in &ids {
            ir.decls[*id].module = i;
        }
        ir.modules.push(ir::IrModule {
            py_rel: py,
            dotted,
            stem: stems[i].clone(),
            decls: ids,
        });
    }
    Ok((ir, warnings))
}

/// Generate every output file in memory. Pure apart from reading the `.py` files.
pub fn generate(project_root: &Path, config: &TypesConfig) -> Result<Generated, TypesError> {
    let (ir, mut warnings) = build_ir(project_root, config)?;
    let v = views::Views::new(
        &ir,
        views::Settings {
            by_alias: config.by_alias,
        },
    );

    let out_dir = config.out_dir.clone();
    let mut gen_files = BTreeMap::new();
    let mut modules = Vec::new();
    let mut barrel_entries: Vec<(String, String, ts::Exports)> = Vec::new();
    // Emitting is per module and independent: spread it over the cores.
    let emitted = emit_all(&v, config.zod);
    for (m, (ts_out, zod_out)) in ir.modules.iter().zip(emitted) {
        let (text, exports) = ts_out;
        let ts_path = out_dir.join(format!("{}.ts", m.stem));
        gen_files.insert(ts_path.clone(), text);
        let declarations = exports.iter().map(|(n, _)| n.clone()).collect();
        barrel_entries.push((m.stem.clone(), m.py_rel.clone(), exports));
        let zod_path = if let Some((text, exports)) = zod_out {
            let p = out_dir.join(format!("{}.zod.ts", m.stem));
            gen_files.insert(p.clone(), text);
            barrel_entries.push((format!("{}.zod", m.stem), m.py_rel.clone(), exports));
            Some(p)
        } else {
            None
        };
        for &id in &m.decls {
            let name = &ir.decls[id].name;
            if matches!(name.as_str(), "Record" | "Partial" | "Omit") {
                warnings.push(Warning {
                    file: m.py_rel.clone(),
                    line: ir.decls[id].line,
                    message: format!(
                        "`{name}` shadows the TypeScript built-in that fsi's output uses (dicts, `extends Omit<…>`); the generated file may not compile — rename the class"
                    ),
                });
            }
        }
        modules.push(ModuleOutput {
            py: m.py_rel.clone(),
            ts: ts_path,
            zod: zod_path,
            declarations,
        });
    }
    let barrel = barrel(&barrel_entries, &mut warnings);
    gen_files.insert(out_dir.join("index.ts"), barrel);
    warnings.sort();
    warnings.dedup();
    drop_in_background((v.into_caches(), ir));
    Ok(Generated {
        files: gen_files,
        modules,
        warnings,
        out_dir,
    })
}

/// One field of a model as fsi types it in one view (all inherited fields included).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldDescription {
    pub name: String,
    pub key: String,
    pub optional: bool,
    /// The TypeScript type, with `…Input` names in the request view.
    pub ts: String,
}

/// A declaration as fsi sees it, flattened: for oracle tests and tooling.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeclDescription {
    pub py: String,
    pub name: String,
    /// `model`, `enum` or `alias`.
    pub kind: &'static str,
    pub has_input: bool,
    /// Model fields in the response view (`None` when the response is a plain type, see `response_type`).
    pub response: Option<Vec<FieldDescription>>,
    pub request: Option<Vec<FieldDescription>>,
    /// For RootModel / model_serializer / aliases / enums: the TS type of the whole thing.
    pub response_type: Option<String>,
    /// For RootModel / aliases: the request-view TS type.
    pub request_type: Option<String>,
    /// The exported names: the TS type in the request view (`…Input`, or `…Input2` where a
    /// declaration is named `…Input`; the plain name without a distinct request shape), and
    /// the Zod schemas of both views.
    pub request_name: String,
    pub schema_name: String,
    pub request_schema_name: String,
    /// Type parameters of a generic model or alias (`T` in `Nullable<T>`).
    pub params: Vec<String>,
}

/// Describe every declaration (flattened fields per view) without rendering files.
pub fn describe(
    project_root: &Path,
    config: &TypesConfig,
) -> Result<(Vec<DeclDescription>, Vec<Warning>), TypesError> {
    use views::View;
    let (ir, warnings) = build_ir(project_root, config)?;
    let v = views::Views::new(
        &ir,
        views::Settings {
            by_alias: config.by_alias,
        },
    );
    let mut out = Vec::new();
    for m in &ir.modules {
        for &id in &m.decls {
            let d = &ir.decls[id];
            let mut desc = DeclDescription {
                py: m.py_rel.clone(),
                name: d.name.clone(),
                kind: "alias",
                has_input: v.input[id],
                response: None,
                request: None,
                response_type: None,
                request_type: None,
                request_name: v.name(id, View::Request),
                schema_name: zod::schema_name(&v, id, View::Response),
                request_schema_name: zod::schema_name(&v, id, View::Request),
                params: ts::params_of(&ir, id).to_vec(),
            };
            match &d.kind {
                ir::DeclKind::Model(model) => {
                    desc.kind = "model";
                    // Unparametrized, like pydantic's own schema of a generic model: a
                    // parameter is its bound (or constraints, or default).
                    let params: Vec<ir::Ty> = model
                        .params
                        .iter()
                        .map(|p| ir.var_bounds.get(p).cloned().unwrap_or(ir::Ty::Unknown))
                        .collect();
                    let flat = v.flat_fields(id, &params);
                    let fields = |view: View| -> Vec<FieldDescription> {
                        flat.iter()
                            .filter_map(|f| v.view_field(f, &model.config, view))
                            .map(|f| FieldDescription {
                                ts: ts::ts_type(&v, &f.ty, view, &mut |_| {}),
                                name: f.name.to_string(),
                                key: f.key.to_string(),
                                optional: f.optional,
                            })
                            .collect()
                    };
                    match v.shape(id, View::Response) {
                        views::ModelShape::Alias(t) => {
                            desc.response_type =
                                Some(ts::ts_type(&v, t, View::Response, &mut |_| {}))
                        }
                        _ => desc.response = Some(fields(View::Response)),
                    }
                    match v.shape(id, View::Request) {
                        views::ModelShape::Alias(t) => {
                            desc.request_type = Some(ts::ts_type(&v, t, View::Request, &mut |_| {}))
                        }
                        _ => desc.request = Some(fields(View::Request)),
                    }
                }
                ir::DeclKind::Enum(_) => {
                    desc.kind = "enum";
                    desc.response_type = Some(ts::ts_type(
                        &v,
                        &ir::Ty::Ref(id, std::sync::Arc::from([])),
                        View::Response,
                        &mut |_| {},
                    ));
                }
                ir::DeclKind::Alias(a) => {
                    desc.response_type = Some(ts::ts_type(&v, &a.ty, View::Response, &mut |_| {}));
                    desc.request_type = Some(ts::ts_type(&v, &a.ty, View::Request, &mut |_| {}));
                }
            }
            out.push(desc);
        }
    }
    Ok((out, warnings))
}

type Emitted = ((String, ts::Exports), Option<(String, ts::Exports)>);

fn emit_all(v: &views::Views, zod: bool) -> Vec<Emitted> {
    par_map(v.ir.modules.len(), 8, |mi| {
        (ts::emit_module(v, mi), zod.then(|| zod::emit_module(v, mi)))
    })
}

/// `(0..n).map(f)`, in order, on all cores (at most 8) when there are at least `min` items:
/// one contiguous run of items per helper thread. (The calling thread only waits: measured,
/// having it take a share was slower, by about 2 ms on the bench corpus.)
pub(crate) fn par_map<T: Send>(n: usize, min: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .min(8);
    if threads < 2 || n < min {
        return (0..n).map(f).collect();
    }
    let chunk = n.div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> = (0..threads)
            .map(|t| (t * chunk).min(n)..((t + 1) * chunk).min(n))
            .map(|range| s.spawn(move || range.map(f).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().expect("worker thread"))
            .collect()
    })
}

/// Drop a large value on a helper thread (freeing a million small allocations takes
/// milliseconds that nobody waits for); dropped inline if no thread can be started.
pub(crate) fn drop_in_background<T: Send + 'static>(value: T) {
    // If the thread cannot be spawned, the closure (and the value) is dropped right here.
    // Syntax trees nest (a long `A | B | …` chain is as deep as it is long) and drop
    // recursively: the thread gets a generous stack (reserved, touched only if needed).
    let _ = std::thread::Builder::new()
        .name("fsi-drop".into())
        .stack_size(256 << 20)
        .spawn(move || drop(value));
}

fn pascal_stem(stem: &str) -> String {
    stem.split(['/', '.', '_', '-'])
        .filter(|s| !s.is_empty() && *s != "zod")
        .map(|s| {
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// `index.ts`: `export *` from every file, except files that would clash (TS2308), which get
/// explicit export lists with the clashing names prefixed by their module.
fn barrel(entries: &[(String, String, ts::Exports)], warnings: &mut Vec<Warning>) -> String {
    let mut count: rustc_hash::FxHashMap<&str, usize> = Default::default();
    for (_, _, ex) in entries {
        for (n, _) in ex {
            *count.entry(n.as_str()).or_default() += 1;
        }
    }
    let mut s = String::from(
        "// RUN: fsi types\n// Generated by fsi: re-exports every generated module. Do not edit.\n\n",
    );
    for (stem, py, ex) in entries {
        let spec = format!("./{stem}");
        if ex.is_empty() {
            continue;
        }
        if ex.iter().all(|(n, _)| count[n.as_str()] == 1) {
            s.push_str(&format!("export * from \"{spec}\";\n"));
            continue;
        }
        let prefix = pascal_stem(stem);
        let mut types = Vec::new();
        let mut values = Vec::new();
        for (n, is_value) in ex {
            let item = if count[n.as_str()] > 1 {
                // One warning per clashing declaration (not again for its Zod schema).
                if !stem.ends_with(".zod") {
                    warnings.push(Warning {
                    file: py.clone(),
                    line: 0,
                    message: format!(
                        "`{n}` is declared in more than one module; index.ts exports this one as `{prefix}{n}`"
                    ),
                });
                }
                format!("{n} as {prefix}{n}")
            } else {
                n.clone()
            };
            if *is_value {
                values.push(item);
            } else {
                types.push(item);
            }
        }
        if !types.is_empty() {
            s.push_str(&format!(
                "export type {{ {} }} from \"{spec}\";\n",
                types.join(", ")
            ));
        }
        if !values.is_empty() {
            s.push_str(&format!(
                "export {{ {} }} from \"{spec}\";\n",
                values.join(", ")
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_follow_the_skeleton_contract() {
        assert_eq!(module_stem("app.modules.items.dtos"), "items");
        assert_eq!(module_stem("app.modules.auth.dtos"), "auth");
        assert_eq!(module_stem("app.common.dtos"), "common");
        assert_eq!(module_stem("app.common.pagination"), "common/pagination");
        assert_eq!(module_stem("app.common"), "common");
        assert_eq!(module_stem("app.dtos"), "dtos");
        assert_eq!(module_stem("app"), "app");
    }

    #[test]
    fn barrel_renames_clashes() {
        let mut w = Vec::new();
        let b = barrel(
            &[
                (
                    "a".into(),
                    "a.py".into(),
                    vec![("Item".into(), false), ("X".into(), false)],
                ),
                ("b".into(), "b.py".into(), vec![("Item".into(), false)]),
                ("c".into(), "c.py".into(), vec![("Y".into(), true)]),
            ],
            &mut w,
        );
        assert!(
            b.contains("export type { Item as AItem, X } from \"./a\";"),
            "{b}"
        );
        assert!(
            b.contains("export type { Item as BItem } from \"./b\";"),
            "{b}"
        );
        assert!(b.contains("export * from \"./c\";"), "{b}");
        assert_eq!(w.len(), 2, "{w:?}");
    }
}
