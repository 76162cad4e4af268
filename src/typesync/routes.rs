//! The DTOs routes declare (`@contract(body=..., query=..., response=...)` in the backend's
//! controllers), read statically with ruff's parser, and the ones without a generated type.
//!
//! The backend builds `/openapi.json` from the same declarations; a DTO named there but not
//! under the `[types]` roots would be in the contract while the frontend has no type for it.
//! `fsi verify` reports each such route (see [`untyped_routes`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ruff_python_ast::{self as ast, Expr, Stmt};
use serde::Serialize;

use super::{Generated, TypesConfig, TypesError};

/// The keyword arguments of `@contract(...)` that name DTOs.
const ROLES: [&str; 3] = ["body", "query", "response"];

/// Names that are not DTOs: builtins and typing constructs a declaration may wrap DTOs in.
const NOT_DTOS: [&str; 16] = [
    "None", "list", "dict", "tuple", "set", "str", "int", "float", "bool", "bytes", "List", "Dict",
    "Optional", "Union", "Any", "Sequence",
];

/// Directories never searched for controllers.
const SKIPPED_DIRS: [&str; 7] = [
    "tests",
    "migrations",
    ".venv",
    "venv",
    "__pycache__",
    "node_modules",
    ".git",
];

/// One DTO named by one route declaration.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RouteDto {
    /// The .py file, relative to the project root (`/` separators).
    pub file: String,
    /// 1-based line of the `@contract` decorator.
    pub line: usize,
    /// The view function.
    pub view: String,
    /// `body`, `query` or `response`.
    pub role: &'static str,
    /// The class name (an `import ... as` alias resolved to the imported name).
    pub dto: String,
}

/// A controller file that could not be parsed (reported, not fatal).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Unparsable {
    pub file: String,
    pub message: String,
}

/// Every DTO named by a route declaration under the package root.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RouteScan {
    pub dtos: Vec<RouteDto>,
    pub unparsable: Vec<Unparsable>,
    /// Files with at least one `@contract` declaration.
    pub controllers: Vec<String>,
}

/// Read every `.py` file below the configured package root (tests, migrations and virtualenvs
/// left out) and collect the DTO names of its `@contract(...)` declarations.
pub fn scan_routes(project_root: &Path, config: &TypesConfig) -> Result<RouteScan, TypesError> {
    let root = project_root.join(&config.package_root);
    let mut files = Vec::new();
    collect_py(&root, &mut files)?;
    files.sort();
    let mut scan = RouteScan::default();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|source| TypesError::Io {
            path: path.clone(),
            source,
        })?;
        if !text.contains("contract(") {
            continue;
        }
        let rel = path
            .strip_prefix(project_root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let body = match ruff_python_parser::parse_module(&text) {
            Ok(parsed) => parsed.into_syntax().body,
            Err(e) => {
                scan.unparsable.push(Unparsable {
                    file: rel,
                    message: e.error.to_string(),
                });
                continue;
            }
        };
        let aliases = import_aliases(&body);
        let before = scan.dtos.len();
        let mut functions = Vec::new();
        functions_of(&body, &mut functions);
        for f in functions {
            for decorator in &f.decorator_list {
                let Expr::Call(call) = &decorator.expression else {
                    continue;
                };
                let is_contract = match call.func.as_ref() {
                    Expr::Name(n) => n.id.as_str() == "contract",
                    Expr::Attribute(a) => a.attr.id.as_str() == "contract",
                    _ => false,
                };
                if !is_contract {
                    continue;
                }
                let line = line_of(&text, u32::from(decorator.range.start()) as usize);
                for keyword in call.arguments.keywords.iter() {
                    let Some(arg) = &keyword.arg else { continue };
                    let Some(role) = ROLES.iter().find(|r| **r == arg.id.as_str()) else {
                        continue;
                    };
                    let mut names = BTreeSet::new();
                    names_in(&keyword.value, &mut names);
                    for name in names {
                        let dto = aliases.get(&name).cloned().unwrap_or(name);
                        scan.dtos.push(RouteDto {
                            file: rel.clone(),
                            line,
                            view: f.name.id.to_string(),
                            role,
                            dto,
                        });
                    }
                }
            }
        }
        if scan.dtos.len() > before {
            scan.controllers.push(rel);
        }
    }
    Ok(scan)
}

/// The route DTOs that no generated TypeScript module exports.
pub fn untyped_routes(scan: &RouteScan, generated: &Generated) -> Vec<RouteDto> {
    let typed: BTreeSet<&str> = generated
        .modules
        .iter()
        .flat_map(|m| m.declarations.iter().map(String::as_str))
        .collect();
    scan.dtos
        .iter()
        .filter(|d| !typed.contains(d.dto.as_str()))
        .cloned()
        .collect()
}

fn collect_py(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), TypesError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(TypesError::Io {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    for entry in entries {
        let entry = entry.map_err(|source| TypesError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = entry.file_type().map_err(|source| TypesError::Io {
            path: path.clone(),
            source,
        })?;
        if kind.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_ref()) && !name.starts_with('.') {
                collect_py(&path, out)?;
            }
        } else if kind.is_file() && name.ends_with(".py") {
            out.push(path);
        }
    }
    Ok(())
}

/// `from x import A as B` at module level: `B` → `A`.
fn import_aliases(body: &[Stmt]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for stmt in body {
        if let Stmt::ImportFrom(i) = stmt {
            for a in &i.names {
                if let Some(asname) = &a.asname {
                    out.insert(asname.id.to_string(), a.name.id.to_string());
                }
            }
        }
    }
    out
}

/// Function definitions at module level and in classes (methods used as views).
fn functions_of<'a>(body: &'a [Stmt], out: &mut Vec<&'a ast::StmtFunctionDef>) {
    for stmt in body {
        match stmt {
            Stmt::FunctionDef(f) => out.push(f),
            Stmt::ClassDef(c) => functions_of(&c.body, out),
            Stmt::If(i) => {
                functions_of(&i.body, out);
                for clause in &i.elif_else_clauses {
                    functions_of(&clause.body, out);
                }
            }
            _ => {}
        }
    }
}

/// Class names in a declaration's value: `ItemResponse`, `Page[ItemResponse]`,
/// `list[ItemResponse]`, `dtos.ItemResponse`; builtins and `None` left out.
fn names_in(expr: &Expr, out: &mut BTreeSet<String>) {
    match expr {
        Expr::Name(n) => {
            let id = n.id.as_str();
            if !NOT_DTOS.contains(&id) {
                out.insert(id.to_string());
            }
        }
        Expr::Attribute(a) => {
            let id = a.attr.id.as_str();
            if !NOT_DTOS.contains(&id) {
                out.insert(id.to_string());
            }
        }
        Expr::Subscript(s) => {
            names_in(&s.value, out);
            names_in(&s.slice, out);
        }
        Expr::Tuple(t) => t.elts.iter().for_each(|e| names_in(e, out)),
        Expr::List(l) => l.elts.iter().for_each(|e| names_in(e, out)),
        Expr::BinOp(b) => {
            names_in(&b.left, out);
            names_in(&b.right, out);
        }
        _ => {}
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_text(text: &str) -> RouteScan {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("backend/app/modules/things");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("controller.py"), text).unwrap();
        std::fs::create_dir_all(dir.path().join("backend/tests")).unwrap();
        std::fs::write(
            dir.path().join("backend/tests/test_x.py"),
            "@contract(body=Ignored)\ndef t(): ...\n",
        )
        .unwrap();
        scan_routes(dir.path(), &TypesConfig::default()).unwrap()
    }

    #[test]
    fn declarations_give_their_dtos_with_lines_and_aliases() {
        let scan = scan_text(
            "from app.x import Thing as T, Page\n\
             @bp.post('')\n\
             @require_auth\n\
             @contract(body=ThingCreate, query=None, response=Page[T], status=201)\n\
             async def create(body): ...\n\
             @contract(response=list[dtos.Other])\n\
             def other(): ...\n\
             @other_decorator(body=NotAContract)\n\
             def third(): ...\n",
        );
        let got: Vec<(usize, &str, &str, &str)> = scan
            .dtos
            .iter()
            .map(|d| (d.line, d.view.as_str(), d.role, d.dto.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (4, "create", "body", "ThingCreate"),
                (4, "create", "response", "Page"),
                (4, "create", "response", "Thing"),
                (6, "other", "response", "Other"),
            ]
        );
        assert_eq!(
            scan.controllers,
            vec!["backend/app/modules/things/controller.py"]
        );
    }

    #[test]
    fn a_syntax_error_is_reported_not_fatal() {
        let scan = scan_text("@contract(body=X\ndef f(:\n");
        assert!(scan.dtos.is_empty());
        assert_eq!(scan.unparsable.len(), 1);
    }

    #[test]
    fn untyped_are_the_names_no_module_exports() {
        let scan = scan_text("@contract(body=A, response=B)\ndef f(): ...\n");
        let generated = Generated {
            modules: vec![super::super::ModuleOutput {
                py: "backend/app/modules/things/dtos.py".into(),
                ts: "frontend/src/types/things.ts".into(),
                zod: None,
                declarations: vec!["A".into()],
            }],
            ..Generated::default()
        };
        let missing = untyped_routes(&scan, &generated);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].dto, "B");
    }
}
