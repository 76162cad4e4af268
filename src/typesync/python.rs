//! The Python side: parse modules with ruff_python_parser, resolve names through imports inside
//! the backend package, and lower Pydantic models, enums and type aliases into the [`ir`].
//!
//! Nothing here knows about TypeScript. Anything that cannot be decided from the source (a
//! third-party base or type, a serializer without a return annotation, `model_serializer`) is
//! lowered to [`Ty::Unknown`] with a [`Warning`] carrying file and line.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The frontend's lookup tables are keyed by names and paths it controls: a fast, fixed hash
/// (rustc's) instead of SipHash, whose cost showed in profiles.
type HashMap<K, V> = rustc_hash::FxHashMap<K, V>;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ruff_python_ast::{self as ast, Expr, Number, Stmt};
use ruff_text_size::{Ranged, TextSize};

use super::TypesError;
use super::ir::*;

/// A parsed module.
struct PyMod {
    dotted: String,
    rel: String,
    text: String,
    body: Vec<Stmt>,
    line_starts: Vec<u32>,
    scope: HashMap<String, Bind>,
    /// Modules imported with `from M import *`, in source order.
    stars: Vec<String>,
    is_pkg: bool,
}

impl PyMod {
    fn line(&self, off: TextSize) -> u32 {
        let off = u32::from(off);
        match self.line_starts.binary_search(&off) {
            Ok(i) => i as u32 + 1,
            Err(i) => i as u32,
        }
    }
}

#[derive(Debug, Clone)]
enum Bind {
    /// Index of a top-level statement.
    Class(usize),
    Assign(usize),
    Import {
        module: String,
        name: String,
    },
    Module(String),
    Other,
}

/// What a name or dotted expression refers to.
#[derive(Debug, Clone)]
enum Sym {
    Class(usize, String),
    Assign(usize, String),
    /// An enum member `Color.RED` of a class in a parsed module.
    Member(usize, String, String),
    Ext(String, String),
    Module(String),
    /// A PEP 695 type parameter in scope.
    TypeParam(String),
    Unresolved(String),
}

#[derive(Debug, Clone, PartialEq)]
enum ClassKind {
    Model {
        opaque: Option<String>,
    },
    Enum,
    Plain,
    TypedDict,
    /// `@dataclass` (stdlib) or `@pydantic.dataclasses.dataclass`.
    Dataclass,
}

impl ClassKind {
    /// Lowered as a [`Model`] (fields, bases, two views).
    fn is_model_like(&self) -> bool {
        matches!(
            self,
            ClassKind::Model { .. } | ClassKind::TypedDict | ClassKind::Dataclass
        )
    }
}

/// What `Field(...)` / `Annotated` metadata said about a field.
#[derive(Default)]
struct FieldInfo {
    has_default: bool,
    default_none: bool,
    alias: Option<String>,
    serialization_alias: Option<String>,
    validation_alias: Option<String>,
    exclude: bool,
    constraints: Constraints,
    doc: Option<String>,
    ser_ty: Option<Ty>,
}

pub(crate) struct Frontend {
    pkg_root: PathBuf,
    project_root: PathBuf,
    mods: Vec<Arc<PyMod>>,
    by_dotted: HashMap<String, Option<usize>>,
    internal_tops: HashMap<String, bool>,
    /// Per module: declared name → id (looked up by `&str`, no allocation on a hit).
    decl_ids: Vec<HashMap<String, DeclId>>,
    decl_src: Vec<(usize, String)>,
    decls: Vec<Option<Decl>>,
    building: BTreeSet<DeclId>,
    /// PEP 695 type parameters of the declaration being lowered.
    tparams: Vec<String>,
    queue: VecDeque<DeclId>,
    kinds: Vec<HashMap<String, ClassKind>>,
    /// Per module: how a bare name resolves (memoized).
    names: Vec<HashMap<String, Sym>>,
    pub warnings: BTreeSet<Warning>,
    pub errors: Vec<TypesError>,
    /// Modules whose declarations are all emitted (the DTO roots).
    root_mods: BTreeSet<usize>,
    /// Root files being read and parsed on helper threads while lowering runs.
    feed: Option<Arc<Feed>>,
    /// How deep [`Self::ty`] is in one type expression.
    ty_depth: u32,
    /// Aliases being inlined (`A = B`), to stop at a cycle (`A = B; B = A`).
    inlining: Vec<(usize, String)>,
    /// How many [`Self::build`] calls are under way (a base is built before its subclass).
    build_depth: u32,
    /// Per model (module, class): the length of its longest chain of model bases.
    inherit_depth: HashMap<(usize, String), u32>,
    /// What `from M import *` binds, per (module, name).
    star_memo: HashMap<(usize, String), Option<Sym>>,
    /// Type variables: their bound (or constraints, or default), `Unknown` without one.
    var_bounds: BTreeMap<String, Ty>,
}

/// Types nest at most this deep (`List[List[…]]`); deeper parts are `unknown`, with a warning.
pub(crate) const MAX_TYPE_DEPTH: u32 = 64;
/// Models inherit at most this deep (a chain of bases); a deeper model is an error.
pub(crate) const MAX_INHERIT_DEPTH: u32 = 64;
/// Brackets nest at most this deep in a DTO file, as in CPython ("too many nested
/// parentheses"): the parser recurses per level.
pub(crate) const MAX_BRACKET_DEPTH: usize = 200;

/// The result of lowering: the IR with module layout still to be done by the caller.
pub(crate) struct Lowered {
    /// (py_rel, dotted, decl ids in source order)
    pub modules: Vec<(String, String, Vec<DeclId>)>,
    pub decls: Vec<Decl>,
    /// Root modules that contain no declaration at all (not DTO modules).
    pub warnings: Vec<Warning>,
    pub var_bounds: BTreeMap<String, Ty>,
}

fn rel_string(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn line_starts(text: &str) -> Vec<u32> {
    let mut v = vec![0u32];
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            v.push(i as u32 + 1);
        }
    }
    v
}

/// Builtin classes that can be bases without being models (exceptions, `object`...).
fn is_builtin_class(n: &str) -> bool {
    matches!(n, "object" | "Exception" | "BaseException")
        || (n.chars().next().is_some_and(char::is_uppercase)
            && !n.contains('.')
            && (n.ends_with("Error") || n.ends_with("Warning") || n.ends_with("Exception")))
}

/// Standard-library modules: a base class from one of them is never a Pydantic model.
fn is_stdlib(m: &str) -> bool {
    const STD: &[&str] = &[
        "abc",
        "asyncio",
        "collections",
        "contextlib",
        "dataclasses",
        "datetime",
        "decimal",
        "enum",
        "functools",
        "io",
        "ipaddress",
        "json",
        "logging",
        "numbers",
        "os",
        "pathlib",
        "re",
        "string",
        "threading",
        "types",
        "typing",
        "uuid",
        "builtins",
        "exceptions",
    ];
    STD.contains(&m.split('.').next().unwrap_or(""))
}

const KNOWN_EXTERNAL: &[&str] = &[
    "pydantic",
    "pydantic_core",
    "typing",
    "typing_extensions",
    "annotated_types",
    "enum",
    "datetime",
    "decimal",
    "uuid",
    "ipaddress",
    "pathlib",
    "collections",
    "abc",
];

const BUILTINS: &[&str] = &[
    "str",
    "int",
    "float",
    "bool",
    "bytes",
    "bytearray",
    "list",
    "dict",
    "set",
    "frozenset",
    "tuple",
    "object",
    "type",
    "complex",
    "None",
];

fn norm_module(m: &str) -> String {
    if m == "typing_extensions" || m == "collections.abc" || m == "collections" {
        return "typing".into();
    }
    if m == "pydantic" || m.starts_with("pydantic.") {
        return "pydantic".into();
    }
    m.to_string()
}

fn str_lit(e: &Expr) -> Option<String> {
    match e {
        Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
        _ => None,
    }
}

fn bool_lit(e: &Expr) -> Option<bool> {
    match e {
        Expr::BooleanLiteral(b) => Some(b.value),
        _ => None,
    }
}

/// `inspect.cleandoc`, roughly.
fn cleandoc(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    let indent = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if i == 0 {
            out.push(l.trim().to_string());
        } else {
            out.push(l.get(indent..).unwrap_or("").trim_end().to_string());
        }
    }
    while out.first().is_some_and(|l| l.is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

fn docstring(body: &[Stmt]) -> Option<String> {
    match body.first() {
        Some(Stmt::Expr(e)) => str_lit(&e.value)
            .map(|s| cleandoc(&s))
            .filter(|s| !s.is_empty()),
        _ => None,
    }
}

impl Frontend {
    pub fn new(project_root: &Path, pkg_root: &Path) -> Frontend {
        Frontend {
            pkg_root: pkg_root.to_path_buf(),
            project_root: project_root.to_path_buf(),
            mods: Vec::new(),
            by_dotted: HashMap::default(),
            internal_tops: HashMap::default(),
            decl_ids: Vec::new(),
            decl_src: Vec::new(),
            decls: Vec::new(),
            building: BTreeSet::new(),
            tparams: Vec::new(),
            queue: VecDeque::new(),
            kinds: Vec::new(),
            names: Vec::new(),
            warnings: BTreeSet::new(),
            errors: Vec::new(),
            root_mods: BTreeSet::new(),
            feed: None,
            ty_depth: 0,
            inlining: Vec::new(),
            build_depth: 0,
            inherit_depth: HashMap::default(),
            star_memo: HashMap::default(),
            var_bounds: BTreeMap::new(),
        }
    }

    fn warn(&mut self, mi: usize, line: u32, msg: impl Into<String>) {
        let file = self.mods[mi].rel.clone();
        self.warnings.insert(Warning {
            file,
            line,
            message: msg.into(),
        });
    }

    fn warn_at(&mut self, mi: usize, e: &impl Ranged, at: Option<u32>, msg: impl Into<String>) {
        let line = at.unwrap_or_else(|| self.mods[mi].line(e.range().start()));
        self.warn(mi, line, msg);
    }

    // ---------------------------------------------------------------- loading

    /// Start reading and parsing the root files on helper threads (all cores): lowering, which
    /// is sequential, runs meanwhile and takes each file when it first needs it.
    fn prefetch(&mut self, roots: &[PathBuf]) {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(8);
        if threads < 2 || roots.len() < 8 {
            return;
        }
        let feed = Arc::new(Feed::new(roots));
        for _ in 0..threads {
            let feed = Arc::clone(&feed);
            // Should no thread start, lowering parses every file itself.
            let _ = std::thread::Builder::new()
                .name("fsi-parse".into())
                .spawn(move || feed.work());
        }
        self.feed = Some(feed);
    }

    fn dotted_for(&self, abs: &Path) -> String {
        let rel = abs.strip_prefix(&self.pkg_root).unwrap_or(abs);
        let mut parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if let Some(last) = parts.last_mut()
            && let Some(s) = last.strip_suffix(".py")
        {
            *last = s.to_string();
        }
        if parts.last().is_some_and(|l| l == "__init__") && parts.len() > 1 {
            parts.pop();
        }
        parts.join(".")
    }

    /// Parse a file (memoized by dotted name).
    pub fn load_path(&mut self, abs: &Path) -> Option<usize> {
        let dotted = self.dotted_for(abs);
        if let Some(r) = self.by_dotted.get(&dotted) {
            return *r;
        }
        let r = self.parse_file(abs, &dotted);
        self.by_dotted.insert(dotted, r);
        r
    }

    fn parse_file(&mut self, abs: &Path, dotted: &str) -> Option<usize> {
        let fed = self.feed.as_ref().and_then(|f| f.take(abs));
        let (text, parsed) = match fed.unwrap_or_else(|| read_and_parse(abs)) {
            Ok(x) => x,
            Err(e) => {
                self.errors.push(TypesError::Io {
                    path: abs.to_path_buf(),
                    source: e,
                });
                return None;
            }
        };
        let rel = rel_string(abs.strip_prefix(&self.project_root).unwrap_or(abs));
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => {
                let (src, span, at) = super::at_source(&rel, text, e.start, e.len);
                self.errors.push(TypesError::Syntax {
                    message: format!("{}{at}", e.message),
                    src,
                    span,
                });
                return None;
            }
        };
        let mut body: Vec<Stmt> = parsed;
        hoist_type_checking(&text, &mut body);
        let is_pkg = abs.file_name().is_some_and(|f| f == "__init__.py");
        let mut scope = HashMap::default();
        let mut m = PyMod {
            dotted: dotted.to_string(),
            rel,
            line_starts: line_starts(&text),
            text,
            body: Vec::new(),
            scope: HashMap::default(),
            stars: Vec::new(),
            is_pkg,
        };
        let mut stars = Vec::new();
        for (i, st) in body.iter().enumerate() {
            bind_stmt(&m, st, Some(i), &mut scope, &mut stars);
        }
        m.body = body;
        m.scope = scope;
        m.stars = stars;
        self.mods.push(Arc::new(m));
        self.decl_ids.push(HashMap::default());
        self.kinds.push(HashMap::default());
        self.names.push(HashMap::default());
        Some(self.mods.len() - 1)
    }

    fn is_internal(&mut self, module: &str) -> bool {
        let top = module.split('.').next().unwrap_or("").to_string();
        if let Some(b) = self.internal_tops.get(&top) {
            return *b;
        }
        let p = self.pkg_root.join(&top);
        // Packages fsi knows the meaning of are never read from source, even when the package
        // root is a site-packages directory.
        let known = KNOWN_EXTERNAL.contains(&top.as_str());
        let b = !known && (p.is_dir() || p.with_extension("py").is_file());
        self.internal_tops.insert(top, b);
        b
    }

    fn load_dotted(&mut self, dotted: &str) -> Option<usize> {
        if let Some(r) = self.by_dotted.get(dotted) {
            return *r;
        }
        let mut p = self.pkg_root.clone();
        for part in dotted.split('.') {
            p.push(part);
        }
        let file = p.with_extension("py");
        let init = p.join("__init__.py");
        let r = if file.is_file() {
            self.parse_file(&file, dotted)
        } else if init.is_file() {
            self.parse_file(&init, dotted)
        } else {
            None
        };
        self.by_dotted.insert(dotted.to_string(), r);
        r
    }

    // ---------------------------------------------------------------- resolution

    fn resolve_in_module(&mut self, module: &str, name: &str, depth: u32) -> Sym {
        if !self.is_internal(module) {
            return Sym::Ext(norm_module(module), name.to_string());
        }
        if let Some(mi) = self.load_dotted(module)
            && (self.mods[mi].scope.contains_key(name) || !self.mods[mi].stars.is_empty())
        {
            let s = self.resolve_name(mi, name, depth + 1);
            if !matches!(s, Sym::Unresolved(_)) || self.mods[mi].scope.contains_key(name) {
                return s;
            }
        }
        let sub = format!("{module}.{name}");
        if self.load_dotted(&sub).is_some() {
            return Sym::Module(sub);
        }
        Sym::Unresolved(sub)
    }

    fn resolve_name(&mut self, mi: usize, name: &str, depth: u32) -> Sym {
        if depth > 32 {
            return Sym::Unresolved(name.to_string());
        }
        let bind = self.mods[mi].scope.get(name).cloned();
        match bind {
            Some(Bind::Class(_)) => Sym::Class(mi, name.to_string()),
            Some(Bind::Assign(_)) => Sym::Assign(mi, name.to_string()),
            Some(Bind::Import { module, name: n }) => self.resolve_in_module(&module, &n, depth),
            Some(Bind::Module(d)) => Sym::Module(d),
            Some(Bind::Other) => Sym::Unresolved(name.to_string()),
            None => match self.star_import(mi, name, depth) {
                Some(s) => s,
                None if BUILTINS.contains(&name) => Sym::Ext("builtins".into(), name.to_string()),
                None => Sym::Unresolved(name.to_string()),
            },
        }
    }

    /// A name bound by `from M import *` (the last such import that provides it wins, as a
    /// later import rebinds it): from a module of the package, the names its `__all__` lists,
    /// or else its public names (and what its own star imports provide); from a package fsi
    /// knows (typing, pydantic, enum, datetime …), the names fsi knows it exports.
    fn star_import(&mut self, mi: usize, name: &str, depth: u32) -> Option<Sym> {
        if self.mods[mi].stars.is_empty() {
            return None;
        }
        // Memoized, and "not found" while under way: star imports that import each other (or a
        // package importing itself 2,000 times) were searched along every path.
        let key = (mi, name.to_string());
        if let Some(s) = self.star_memo.get(&key) {
            return s.clone();
        }
        self.star_memo.insert(key.clone(), None);
        let found = self.star_import_uncached(mi, name, depth);
        self.star_memo.insert(key, found.clone());
        found
    }

    fn star_import_uncached(&mut self, mi: usize, name: &str, depth: u32) -> Option<Sym> {
        let mut stars = self.mods[mi].stars.clone();
        // The last import of a module is the one that counts.
        let mut seen = BTreeSet::new();
        stars.reverse();
        stars.retain(|m| seen.insert(m.clone()));
        for module in stars.iter() {
            if !self.is_internal(module) {
                let m = norm_module(module);
                if ext_exports(&m, name) {
                    return Some(Sym::Ext(m, name.to_string()));
                }
                continue;
            }
            let Some(mj) = self.load_dotted(module) else {
                continue;
            };
            let exported = match module_all(&self.mods[mj]) {
                Some(all) => all.iter().any(|n| n == name),
                None => !name.starts_with('_'),
            };
            if !exported {
                continue;
            }
            match self.resolve_name(mj, name, depth + 1) {
                Sym::Unresolved(_) => continue,
                s => return Some(s),
            }
        }
        None
    }

    fn resolve(&mut self, mi: usize, e: &Expr) -> Sym {
        match e {
            Expr::Name(n) if self.tparams.iter().any(|p| p == n.id.as_str()) => {
                Sym::TypeParam(n.id.to_string())
            }
            Expr::Name(n) => {
                if let Some(s) = self.names[mi].get(n.id.as_str()) {
                    return s.clone();
                }
                let s = self.resolve_name(mi, n.id.as_str(), 0);
                self.names[mi].insert(n.id.to_string(), s.clone());
                s
            }
            Expr::Attribute(_) => {
                // `a.b.c…` nests to the left: walk it, not recurse (20,000 links overflowed).
                let mut attrs = Vec::new();
                let mut cur = e;
                while let Expr::Attribute(a) = cur {
                    attrs.push(a.attr.id.as_str());
                    cur = &a.value;
                }
                if attrs.len() > MAX_TYPE_DEPTH as usize {
                    return Sym::Unresolved(format!("{}.….{}", attrs[attrs.len() - 1], attrs[0]));
                }
                let mut sym = self.resolve(mi, cur);
                for attr in attrs.into_iter().rev() {
                    sym = match sym {
                        Sym::Module(d) => self.resolve_in_module(&d, attr, 0),
                        Sym::Ext(m, n) => {
                            Sym::Ext(norm_module(&format!("{m}.{n}")), attr.to_string())
                        }
                        Sym::Class(mj, c) => Sym::Member(mj, c, attr.to_string()),
                        Sym::Unresolved(n) | Sym::Assign(_, n) | Sym::TypeParam(n) => {
                            Sym::Unresolved(format!("{n}.{attr}"))
                        }
                        Sym::Member(_, c, m) => Sym::Unresolved(format!("{c}.{m}.{attr}")),
                    };
                }
                sym
            }
            _ => Sym::Unresolved("<expr>".into()),
        }
    }

    fn is_ext(&mut self, mi: usize, e: &Expr, module: &str, names: &[&str]) -> bool {
        let head = match e {
            Expr::Call(c) => &*c.func,
            other => other,
        };
        let is =
            |s: &Sym| matches!(s, Sym::Ext(m, n) if m == module && names.contains(&n.as_str()));
        // A name resolved before (most are): look at the cached symbol instead of cloning it.
        if let Expr::Name(n) = head
            && !self.tparams.iter().any(|p| p == n.id.as_str())
            && let Some(s) = self.names[mi].get(n.id.as_str())
        {
            return is(s);
        }
        is(&self.resolve(mi, head))
    }

    fn class_stmt(&self, mi: usize, name: &str) -> Option<(Arc<PyMod>, usize)> {
        match self.mods[mi].scope.get(name) {
            Some(Bind::Class(i)) | Some(Bind::Assign(i)) => Some((self.mods[mi].clone(), *i)),
            _ => None,
        }
    }

    fn class_kind(&mut self, mi: usize, name: &str, depth: u32) -> ClassKind {
        if let Some(k) = self.kinds[mi].get(name) {
            return k.clone();
        }
        let kind = self.compute_kind(mi, name, depth);
        self.kinds[mi].insert(name.to_string(), kind.clone());
        kind
    }

    fn compute_kind(&mut self, mi: usize, name: &str, depth: u32) -> ClassKind {
        let Some((m, i)) = self.class_stmt(mi, name) else {
            return ClassKind::Plain;
        };
        let Stmt::ClassDef(cd) = &m.body[i] else {
            return ClassKind::Plain;
        };
        if depth > 32 {
            return ClassKind::Plain;
        }
        for d in &cd.decorator_list {
            let head = match &d.expression {
                Expr::Call(c) => &*c.func,
                e => e,
            };
            if let Sym::Ext(m, n) = self.resolve(mi, head)
                && n == "dataclass"
                && (m == "dataclasses" || m == "pydantic")
            {
                return ClassKind::Dataclass;
            }
        }
        let mut model = false;
        let mut enm = false;
        let mut td = false;
        let mut opaque = None;
        for base in cd.arguments.iter().flat_map(|a| a.args.iter()) {
            let head = match base {
                Expr::Subscript(s) => &*s.value,
                e => e,
            };
            match self.resolve(mi, head) {
                Sym::Ext(m, n) => match (m.as_str(), n.as_str()) {
                    ("pydantic", "BaseModel" | "RootModel") => model = true,
                    ("enum", _) => enm = true,
                    ("typing", "TypedDict") => td = true,
                    ("typing", _) | ("builtins", _) | ("abc", _) => {}
                    _ if is_stdlib(&m) => {}
                    _ => opaque = Some(format!("{m}.{n}")),
                },
                Sym::Class(mj, c) => match self.class_kind(mj, &c, depth + 1) {
                    ClassKind::Model { opaque: o } => {
                        model = true;
                        if o.is_some() {
                            opaque = opaque.or(o);
                        }
                    }
                    ClassKind::Enum => enm = true,
                    ClassKind::TypedDict => td = true,
                    ClassKind::Plain | ClassKind::Dataclass => {}
                },
                Sym::Unresolved(n) if is_builtin_class(&n) => {}
                Sym::Unresolved(n) => opaque = Some(n),
                _ => {}
            }
        }
        if enm {
            ClassKind::Enum
        } else if model {
            ClassKind::Model { opaque: None }
        } else if td {
            ClassKind::TypedDict
        } else if let Some(o) = opaque
            && cd.body.iter().any(|s| matches!(s, Stmt::AnnAssign(_)))
        {
            // A class with annotated fields on an unreadable base: most likely a model (warned).
            ClassKind::Model { opaque: Some(o) }
        } else {
            ClassKind::Plain
        }
    }

    /// A plain class that extends `str`, `int`, `float` or `bool` (directly or through plain
    /// classes): that builtin's type.
    fn scalar_base(&mut self, mi: usize, name: &str, depth: u32) -> Option<Ty> {
        let (m, i) = self.class_stmt(mi, name)?;
        let Stmt::ClassDef(cd) = &m.body[i] else {
            return None;
        };
        if depth > 32 {
            return None;
        }
        for base in cd.arguments.iter().flat_map(|a| a.args.iter()) {
            match self.resolve(mi, base) {
                Sym::Ext(bm, bn)
                    if bm == "builtins"
                        && matches!(bn.as_str(), "str" | "int" | "float" | "bool") =>
                {
                    return ext_scalar(&bm, &bn);
                }
                Sym::Class(mj, c) if self.class_kind(mj, &c, 0) == ClassKind::Plain => {
                    if let Some(t) = self.scalar_base(mj, &c, depth + 1) {
                        return Some(t);
                    }
                }
                _ => {}
            }
        }
        None
    }

    fn request(&mut self, mi: usize, name: &str) -> DeclId {
        if let Some(id) = self.decl_ids[mi].get(name) {
            return *id;
        }
        let id = self.decl_src.len();
        self.decl_ids[mi].insert(name.to_string(), id);
        self.decl_src.push((mi, name.to_string()));
        self.decls.push(None);
        self.queue.push_back(id);
        id
    }

    // ---------------------------------------------------------------- entry point

    /// Lower every declaration of the root modules, and whatever they reference.
    pub fn lower(mut self, roots: &[PathBuf]) -> Result<Lowered, Vec<TypesError>> {
        self.prefetch(roots);
        // Each root is lowered as soon as it is parsed, while the helpers parse the next ones.
        for r in roots {
            let Some(mi) = self.load_path(r) else {
                continue;
            };
            self.root_mods.insert(mi);
            let m = self.mods[mi].clone();
            for st in &m.body {
                match st {
                    Stmt::ClassDef(cd) => {
                        let name = cd.name.id.as_str();
                        let k = self.class_kind(mi, name, 0);
                        if k.is_model_like() || k == ClassKind::Enum {
                            self.request(mi, name);
                        }
                    }
                    Stmt::Assign(_) | Stmt::AnnAssign(_) | Stmt::TypeAlias(_) => {
                        if let Some(name) = self.explicit_alias_name(mi, st) {
                            self.request(mi, &name);
                        }
                    }
                    _ => {}
                }
            }
            while let Some(id) = self.queue.pop_front() {
                self.build(id);
            }
        }
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        let mut per_mod: BTreeMap<usize, Vec<DeclId>> = BTreeMap::new();
        for mi in &self.root_mods {
            per_mod.entry(*mi).or_default();
        }
        let decls: Vec<Decl> = self
            .decls
            .into_iter()
            .map(|d| d.expect("every requested declaration is built"))
            .collect();
        for (id, (mi, _)) in self.decl_src.iter().enumerate() {
            per_mod.entry(*mi).or_default().push(id);
        }
        let mut modules = Vec::new();
        for (mi, mut ids) in per_mod {
            ids.sort_by(|a, b| {
                let (a, b) = (&decls[*a], &decls[*b]);
                (a.line, &a.name).cmp(&(b.line, &b.name))
            });
            let m = &self.mods[mi];
            modules.push((m.rel.clone(), m.dotted.clone(), ids));
        }
        // Freeing the syntax trees is pure overhead on the critical path: do it off-thread.
        super::drop_in_background(std::mem::take(&mut self.mods));
        Ok(Lowered {
            modules,
            decls,
            warnings: self.warnings.into_iter().collect(),
            var_bounds: self.var_bounds,
        })
    }

    /// Module-level statements that declare a type alias worth emitting.
    fn explicit_alias_name(&mut self, mi: usize, st: &Stmt) -> Option<String> {
        match st {
            Stmt::TypeAlias(t) => match &*t.name {
                Expr::Name(n) => Some(n.id.to_string()),
                _ => None,
            },
            Stmt::AnnAssign(a) => {
                let Expr::Name(n) = &*a.target else {
                    return None;
                };
                (a.value.is_some() && self.is_ext(mi, &a.annotation, "typing", &["TypeAlias"]))
                    .then(|| n.id.to_string())
            }
            Stmt::Assign(a) => {
                let [Expr::Name(n)] = a.targets.as_slice() else {
                    return None;
                };
                self.looks_like_type(mi, &a.value).then(|| n.id.to_string())
            }
            _ => None,
        }
    }

    /// `X = List[int]`, `X = int | None`, `X = str | int`, `X = Model` (a declaration of its
    /// own: `export type X = Model`), `X = Annotated[...]`, `X = conint(...)`,
    /// `X = TypeAliasType("X", …)`.
    fn looks_like_type(&mut self, mi: usize, e: &Expr) -> bool {
        match e {
            Expr::Subscript(s) => !matches!(
                self.resolve(mi, &s.value),
                Sym::Unresolved(_) | Sym::Module(_)
            ),
            Expr::BinOp(b) if b.op == ast::Operator::BitOr => bitor_operands(e)
                .into_iter()
                .filter(|x| !matches!(x, Expr::BinOp(_)))
                .any(|x| self.looks_like_type(mi, x) || self.names_a_scalar(mi, x)),
            Expr::Call(c) => match self.resolve(mi, &c.func) {
                Sym::Ext(m, n) => {
                    (m == "pydantic" && n.starts_with("con"))
                        || (m == "typing" && n == "TypeAliasType")
                }
                _ => false,
            },
            Expr::Name(_) | Expr::Attribute(_) => match self.resolve(mi, e) {
                Sym::Class(mj, c) => !matches!(self.class_kind(mj, &c, 0), ClassKind::Plain),
                Sym::Assign(mj, name) => {
                    let key = (mj, name);
                    if self.inlining.contains(&key) {
                        return false; // `A = B; B = A`
                    }
                    let m = self.mods[mj].clone();
                    let Some(Bind::Assign(i)) = m.scope.get(&key.1) else {
                        return false;
                    };
                    self.inlining.push(key);
                    let r = self.explicit_alias_name(mj, &m.body[*i]).is_some();
                    self.inlining.pop();
                    r
                }
                _ => false,
            },
            Expr::NoneLiteral(_) => false,
            _ => false,
        }
    }

    /// `str`, `int`, `None`, `datetime`…: a member that makes `X = str | int` a type.
    fn names_a_scalar(&mut self, mi: usize, e: &Expr) -> bool {
        match e {
            Expr::NoneLiteral(_) => true,
            Expr::Name(_) | Expr::Attribute(_) => {
                matches!(self.resolve(mi, e), Sym::Ext(m, n) if ext_scalar(&m, &n).is_some())
            }
            _ => false,
        }
    }

    // ---------------------------------------------------------------- declarations

    fn ensure_built(&mut self, id: DeclId) {
        if self.decls[id].is_none() && !self.building.contains(&id) {
            self.build(id);
        }
    }

    fn build(&mut self, id: DeclId) {
        if self.decls[id].is_some() || !self.building.insert(id) {
            return;
        }
        let (mi, name) = self.decl_src[id].clone();
        let m = self.mods[mi].clone();
        if self.build_depth > MAX_INHERIT_DEPTH {
            // Bases listed after their subclasses: each build waits on its base's. Stop.
            let at = match m.scope.get(&name) {
                Some(Bind::Class(i) | Bind::Assign(i)) => m.body[*i].range(),
                _ => ruff_text_size::TextRange::default(),
            };
            self.inherit_error(mi, &name, at);
            self.decls[id] = Some(Decl {
                name: name.clone(),
                module: mi,
                line: m.line(at.start()),
                doc: None,
                kind: DeclKind::Alias(AliasDecl {
                    params: vec![],
                    ty: Ty::Unknown,
                }),
            });
            self.building.remove(&id);
            return;
        }
        self.build_depth += 1;
        let tps: Vec<String> = match m.scope.get(&name) {
            Some(Bind::Class(i) | Bind::Assign(i)) => match &m.body[*i] {
                Stmt::ClassDef(c) => c.type_params.as_deref(),
                Stmt::TypeAlias(t) => t.type_params.as_deref(),
                _ => None,
            }
            .iter()
            .flat_map(|tp| tp.type_params.iter())
            .map(|p| p.name().id.to_string())
            .collect(),
            _ => vec![],
        };
        let saved = std::mem::replace(&mut self.tparams, tps);
        let decl = match m.scope.get(&name) {
            Some(Bind::Class(i)) => {
                let Stmt::ClassDef(cd) = &m.body[*i] else {
                    unreachable!()
                };
                let line = m.line(cd.name.range.start());
                let doc = docstring(&cd.body);
                let kind = match self.class_kind(mi, &name, 0) {
                    ClassKind::Enum => DeclKind::Enum(self.build_enum(mi, cd)),
                    ClassKind::Model { opaque } => {
                        DeclKind::Model(Box::new(self.build_model(mi, cd, opaque, Flavor::Model)))
                    }
                    ClassKind::TypedDict => {
                        DeclKind::Model(Box::new(self.build_model(mi, cd, None, Flavor::TypedDict)))
                    }
                    ClassKind::Dataclass => {
                        DeclKind::Model(Box::new(self.build_model(mi, cd, None, Flavor::Dataclass)))
                    }
                    _ => DeclKind::Alias(AliasDecl {
                        params: vec![],
                        ty: Ty::Unknown,
                    }),
                };
                Decl {
                    name: name.clone(),
                    module: mi,
                    line,
                    doc,
                    kind,
                }
            }
            Some(Bind::Assign(i)) => {
                let st = &m.body[*i];
                let line = m.line(st.range().start());
                let (value, mut params): (&Expr, Vec<String>) = match st {
                    Stmt::TypeAlias(t) => (
                        &t.value,
                        t.type_params
                            .iter()
                            .flat_map(|tp| tp.type_params.iter())
                            .map(|p| p.name().id.to_string())
                            .collect(),
                    ),
                    Stmt::AnnAssign(a) => (a.value.as_deref().expect("alias value"), vec![]),
                    Stmt::Assign(a) => (&a.value, vec![]),
                    _ => unreachable!(),
                };
                // `TypeAliasType("X", value, type_params=(T,))`.
                let value = match value {
                    Expr::Call(c) if self.is_ext(mi, &c.func, "typing", &["TypeAliasType"]) => {
                        if let Some(tp) = c.arguments.find_keyword("type_params")
                            && let Expr::Tuple(t) = &tp.value
                        {
                            params = t
                                .elts
                                .iter()
                                .filter_map(|e| match e {
                                    Expr::Name(n) => Some(n.id.to_string()),
                                    _ => None,
                                })
                                .collect();
                        }
                        c.arguments.find_argument_value("value", 1).unwrap_or(value)
                    }
                    _ => value,
                };
                let ty = self.ty(mi, value, None);
                if params.is_empty() {
                    params = type_vars(&ty);
                }
                Decl {
                    name: name.clone(),
                    module: mi,
                    line,
                    doc: None,
                    kind: DeclKind::Alias(AliasDecl { params, ty }),
                }
            }
            _ => unreachable!("declarations are classes or assignments"),
        };
        self.tparams = saved;
        self.decls[id] = Some(decl);
        self.building.remove(&id);
        self.build_depth -= 1;
    }

    /// The error for a model whose chain of bases is too long.
    fn inherit_error(&mut self, mi: usize, name: &str, at: ruff_text_size::TextRange) {
        if self
            .errors
            .iter()
            .any(|e| matches!(e, TypesError::Invalid { .. }))
        {
            return; // one is enough: every subclass below would repeat it
        }
        let m = self.mods[mi].clone();
        let start = u32::from(at.start()) as usize;
        let len = (u32::from(at.end()) as usize)
            .saturating_sub(start)
            .min(m.text[start..].find('\n').unwrap_or(m.text.len() - start));
        let (src, span, at) = super::at_source(&m.rel, m.text.clone(), start, len);
        self.errors.push(TypesError::Invalid {
            message: format!(
                "model {name} inherits through more than {MAX_INHERIT_DEPTH} levels of model bases; fsi does not flatten chains that long{at}"
            ),
            src,
            span,
        });
    }

    fn build_enum(&mut self, mi: usize, cd: &ast::StmtClassDef) -> EnumDecl {
        let mut flavor_str = false;
        let mut flavor_int = false;
        for base in cd.arguments.iter().flat_map(|a| a.args.iter()) {
            match self.resolve(mi, base) {
                Sym::Ext(m, n) => match (m.as_str(), n.as_str()) {
                    ("builtins", "str") | ("enum", "StrEnum") => flavor_str = true,
                    ("builtins", "int") | ("enum", "IntEnum" | "IntFlag" | "Flag") => {
                        flavor_int = true
                    }
                    _ => {}
                },
                Sym::Class(mj, c) => {
                    // An enum base with members of its own kind; inherit its flavour.
                    if let Some(id) = self.decl_ids[mj].get(&c).copied() {
                        self.ensure_built(id);
                        if let Some(Decl {
                            kind: DeclKind::Enum(e),
                            ..
                        }) = &self.decls[id]
                        {
                            flavor_str |= e.members.iter().all(|(_, l)| matches!(l, Lit::Str(_)))
                                && !e.members.is_empty();
                        }
                    }
                }
                _ => {}
            }
        }
        let mut members = Vec::new();
        let mut last_int: i64 = 0;
        for st in &cd.body {
            let (target, value) = match st {
                Stmt::Assign(a) if a.targets.len() == 1 => (&a.targets[0], &*a.value),
                Stmt::AnnAssign(a) if a.value.is_some() => {
                    (&*a.target, a.value.as_deref().expect("value"))
                }
                _ => continue,
            };
            let Expr::Name(n) = target else { continue };
            let name = n.id.to_string();
            if name.starts_with('_') {
                continue;
            }
            let lit = match value {
                Expr::Call(c) if self.is_ext(mi, &c.func, "enum", &["auto"]) => {
                    if flavor_str {
                        Lit::Str(name.to_lowercase())
                    } else {
                        last_int += 1;
                        Lit::Int(last_int.to_string())
                    }
                }
                other => match lit_of(other) {
                    Some(Lit::Int(s)) => {
                        last_int = s.parse().unwrap_or(last_int);
                        if flavor_str { Lit::Str(s) } else { Lit::Int(s) }
                    }
                    Some(Lit::Str(s)) if flavor_int => match s.parse::<i64>() {
                        Ok(v) => Lit::Int(v.to_string()),
                        Err(_) => Lit::Str(s),
                    },
                    Some(l) => l,
                    None => {
                        self.warn_at(
                            mi,
                            value,
                            None,
                            format!(
                                "enum member {}.{name} has a value fsi cannot evaluate; it is left out",
                                cd.name.id
                            ),
                        );
                        continue;
                    }
                },
            };
            members.push((name, lit));
        }
        EnumDecl { members }
    }

    fn build_model(
        &mut self,
        mi: usize,
        cd: &ast::StmtClassDef,
        opaque: Option<String>,
        flavor: Flavor,
    ) -> Model {
        let mut model = Model {
            flavor,
            ..Model::default()
        };
        let line = self.mods[mi].line(cd.name.range.start());
        if let Some(o) = &opaque {
            model.opaque_base = Some(o.clone());
            self.warn(
                mi,
                line,
                format!(
                    "{}: base class `{o}` is not a Pydantic model fsi can read (third-party or unresolved); its fields are missing from the output",
                    cd.name.id
                ),
            );
        }
        let mut explicit_params: Vec<String> = cd
            .type_params
            .iter()
            .flat_map(|tp| tp.type_params.iter())
            .map(|p| p.name().id.to_string())
            .collect();
        let mut implicit_params: Vec<String> = Vec::new();
        let mut base_cfg = ModelConfig::default();
        for base in cd.arguments.iter().flat_map(|a| a.args.iter()) {
            let (head, args): (&Expr, Vec<&Expr>) = match base {
                Expr::Subscript(s) => (
                    &*s.value,
                    match &*s.slice {
                        Expr::Tuple(t) => t.elts.iter().collect(),
                        e => vec![e],
                    },
                ),
                e => (e, vec![]),
            };
            match self.resolve(mi, head) {
                Sym::Ext(m, n) if m == "typing" && n == "Generic" => {
                    for a in args {
                        if let Expr::Name(n) = a {
                            explicit_params.push(n.id.to_string());
                        }
                    }
                }
                Sym::Ext(m, n) if m == "pydantic" && n == "RootModel" => {
                    let t = match args.first() {
                        Some(a) => self.ty(mi, a, None),
                        None => Ty::Unknown,
                    };
                    implicit_params.extend(type_vars(&t));
                    model.root = Some(t);
                }
                Sym::Class(mj, c) if self.class_kind(mj, &c, 0).is_model_like() => {
                    let id = self.request(mj, &c);
                    self.ensure_built(id);
                    let targs: Vec<Ty> = args.iter().map(|a| self.ty(mi, a, None)).collect();
                    for t in &targs {
                        implicit_params.extend(type_vars(t));
                    }
                    if let Some(Decl {
                        kind: DeclKind::Model(bm),
                        ..
                    }) = &self.decls[id]
                    {
                        // Pydantic merges configs along the MRO; the first base wins.
                        base_cfg = bm.config.merged(&base_cfg);
                    }
                    model.bases.push((id, targs));
                }
                _ => {}
            }
        }
        let depth = 1 + model
            .bases
            .iter()
            .map(|(b, _)| {
                let key = self.decl_src[*b].clone();
                self.inherit_depth.get(&key).copied().unwrap_or(0)
            })
            .max()
            .unwrap_or(0);
        self.inherit_depth
            .insert((mi, cd.name.id.to_string()), depth);
        if depth > MAX_INHERIT_DEPTH {
            self.inherit_error(mi, cd.name.id.as_str(), cd.range);
            model.bases.clear();
        }
        dedup(&mut implicit_params);
        model.params = if explicit_params.is_empty() {
            implicit_params
        } else {
            explicit_params
        };
        // Class keyword arguments are config too: `class M(BaseModel, populate_by_name=True)`.
        let mut own_cfg = ModelConfig::default();
        // `TypedDict`: `total=False` makes every key of this class NotRequired.
        let mut total = true;
        if let Some(args) = &cd.arguments {
            for kw in args.keywords.iter() {
                if let Some(k) = &kw.arg {
                    match (flavor, k.id.as_str()) {
                        (Flavor::TypedDict, "total") => total = bool_lit(&kw.value) != Some(false),
                        // `extra_items=T` (PEP 728) keeps unknown keys; `closed=True` refuses.
                        (Flavor::TypedDict, "extra_items") => own_cfg.extra_allow = Some(true),
                        (Flavor::TypedDict, "closed") => own_cfg.extra_forbid = bool_lit(&kw.value),
                        _ => self.config_key(mi, k.id.as_str(), &kw.value, &mut own_cfg),
                    }
                }
            }
        }
        // `@dataclass(config=ConfigDict(...))` / `@pydantic.dataclasses.dataclass(config=...)`,
        // `__pydantic_config__ = ConfigDict(...)` on a TypedDict or dataclass (below).
        for d in &cd.decorator_list {
            if let Expr::Call(c) = &d.expression
                && let Some(k) = c.arguments.find_keyword("config")
            {
                self.parse_config(mi, &k.value, &mut own_cfg);
            }
        }
        // Serializers and computed fields.
        let mut field_sers: HashMap<String, (Ty, bool)> = HashMap::default();
        // `if PYDANTIC_V2: model_config = ...`: read the first branch.
        let mut body: Vec<&Stmt> = Vec::new();
        for st in &cd.body {
            if let Stmt::If(s) = st {
                let cond = &self.mods[mi].text[u32::from(s.test.range().start()) as usize
                    ..u32::from(s.test.range().end()) as usize];
                let sets_config = s.body.iter().any(|b| match b {
                    Stmt::Assign(a) => matches!(a.targets.as_slice(), [Expr::Name(n)] if n.id.as_str() == "model_config"),
                    Stmt::AnnAssign(a) => matches!(&*a.target, Expr::Name(n) if n.id.as_str() == "model_config"),
                    _ => false,
                });
                if sets_config {
                    if !cond.contains("V2") {
                        let l = self.mods[mi].line(s.range.start());
                        self.warn(mi, l, format!("{}: model_config is set inside `if {cond}`; fsi reads the first branch", cd.name.id));
                    }
                    body.extend(s.body.iter());
                }
                continue;
            }
            body.push(st);
        }
        for st in body {
            match st {
                Stmt::Assign(a) => {
                    if let [Expr::Name(n)] = a.targets.as_slice()
                        && matches!(n.id.as_str(), "model_config" | "__pydantic_config__")
                    {
                        self.parse_config(mi, &a.value, &mut own_cfg);
                    }
                }
                Stmt::AnnAssign(a) => {
                    if let Expr::Name(n) = &*a.target
                        && n.id.as_str() == "model_config"
                        && let Some(v) = &a.value
                    {
                        self.parse_config(mi, v, &mut own_cfg);
                    }
                }
                Stmt::ClassDef(inner) if inner.name.id.as_str() == "Config" => {
                    let l = self.mods[mi].line(inner.range.start());
                    self.warn(
                        mi,
                        l,
                        format!(
                            "{}: Pydantic v1 `class Config` is ignored; use `model_config = ConfigDict(...)`",
                            cd.name.id
                        ),
                    );
                }
                Stmt::FunctionDef(f) => {
                    for d in &f.decorator_list {
                        let (head, call) = match &d.expression {
                            Expr::Call(c) => (&*c.func, Some(c)),
                            e => (e, None),
                        };
                        let Sym::Ext(m, n) = self.resolve(mi, head) else {
                            continue;
                        };
                        if m != "pydantic" {
                            continue;
                        }
                        let fl = self.mods[mi].line(f.name.range.start());
                        match n.as_str() {
                            "field_serializer" => {
                                let Some(c) = call else { continue };
                                let when = c
                                    .arguments
                                    .find_keyword("when_used")
                                    .and_then(|k| str_lit(&k.value))
                                    .unwrap_or_else(|| "always".into());
                                if when == "unless-none" || when == "json-unless-none" {
                                    // still applies to non-None values
                                }
                                let t = match &f.returns {
                                    Some(r) => self.ty(mi, r, None),
                                    None => {
                                        self.warn(mi, fl, format!("{}.{}: @field_serializer has no return annotation; the serialized type is unknown (annotate the return type)", cd.name.id, f.name.id));
                                        Ty::Unknown
                                    }
                                };
                                let unless_none = when.contains("unless-none");
                                for a in c.arguments.args.iter() {
                                    if let Some(fname) = str_lit(a) {
                                        field_sers.insert(fname, (t.clone(), unless_none));
                                    }
                                }
                            }
                            "model_serializer" => {
                                let wrap = call
                                    .and_then(|c| c.arguments.find_keyword("mode"))
                                    .and_then(|k| str_lit(&k.value))
                                    .is_some_and(|m| m == "wrap");
                                if wrap && f.returns.is_none() {
                                    // `handler(self)` first dumps the fields; code-generated
                                    // SDKs (Speakeasy) only drop unset keys: the fields
                                    // still describe the wire, as pydantic's schema says,
                                    // those with a default perhaps absent.
                                    own_cfg.sparse_dump = Some(true);
                                    continue;
                                }
                                let t = match &f.returns {
                                    Some(r) => {
                                        let t = self.ty(mi, r, None);
                                        self.warn(mi, fl, format!("{}: @model_serializer replaces the field-by-field response; the response type is taken from its return annotation", cd.name.id));
                                        t
                                    }
                                    None => {
                                        self.warn(mi, fl, format!("{}: @model_serializer without a return annotation; the response type is unknown", cd.name.id));
                                        Ty::Unknown
                                    }
                                };
                                model.serializer = Some(t);
                            }
                            "computed_field" => {
                                let t = match &f.returns {
                                    Some(r) => self.ty(mi, r, None),
                                    None => {
                                        self.warn(mi, fl, format!("{}.{}: @computed_field has no return annotation; its type is unknown", cd.name.id, f.name.id));
                                        Ty::Unknown
                                    }
                                };
                                let alias = call
                                    .and_then(|c| c.arguments.find_keyword("alias"))
                                    .and_then(|k| str_lit(&k.value));
                                let doc = call
                                    .and_then(|c| c.arguments.find_keyword("description"))
                                    .and_then(|k| str_lit(&k.value))
                                    .or_else(|| docstring(&f.body));
                                model.fields.push(Field {
                                    name: f.name.id.as_str().into(),
                                    line: fl,
                                    alias: alias.clone().map(Into::into),
                                    serialization_alias: alias.map(Into::into),
                                    validation_alias: None,
                                    ty: t,
                                    ser_ty: None,
                                    has_default: false,
                                    default_none: false,
                                    exclude: false,
                                    computed: true,
                                    not_required: false,
                                    doc: doc.map(Into::into),
                                });
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        model.config = base_cfg.merged(&own_cfg);
        // Fields, in source order (computed fields were collected above; keep them after).
        let computed: Vec<Field> = std::mem::take(&mut model.fields);
        for st in &cd.body {
            let Stmt::AnnAssign(a) = st else { continue };
            let Expr::Name(n) = &*a.target else { continue };
            let name = n.id.to_string();
            if name.starts_with('_') || name == "model_config" {
                continue;
            }
            let ann_head = match &*a.annotation {
                Expr::Subscript(s) => &*s.value,
                e => e,
            };
            if self.is_ext(mi, ann_head, "typing", &["ClassVar"]) {
                continue;
            }
            // A TypedDict key: `NotRequired[T]` / `Required[T]` override the class's `total`.
            let not_required = flavor == Flavor::TypedDict
                && if self.is_ext(mi, ann_head, "typing", &["NotRequired"]) {
                    true
                } else if self.is_ext(mi, ann_head, "typing", &["Required"]) {
                    false
                } else {
                    !total
                };
            let fl = self.mods[mi].line(a.range.start());
            let mut info = FieldInfo::default();
            let ty = self.field_ty(mi, &a.annotation, None, &mut info);
            if let Some(v) = &a.value {
                match &**v {
                    Expr::Call(c) if self.is_ext(mi, &c.func, "pydantic", &["Field"]) => {
                        self.field_call(mi, c, &mut info);
                    }
                    // `dataclasses.field(default=…)`; `field()` alone (or with only
                    // `init=`/`repr=`…) leaves the field required.
                    Expr::Call(c) if self.is_ext(mi, &c.func, "dataclasses", &["field"]) => {
                        for kw in c.arguments.keywords.iter() {
                            match kw.arg.as_ref().map(|k| k.id.as_str()) {
                                Some("default") => {
                                    info.has_default = true;
                                    info.default_none = matches!(kw.value, Expr::NoneLiteral(_));
                                }
                                Some("default_factory") => info.has_default = true,
                                _ => {}
                            }
                        }
                    }
                    Expr::NoneLiteral(_) => {
                        info.has_default = true;
                        info.default_none = true;
                    }
                    _ => info.has_default = true,
                }
            }
            let mut ser_ty = info.ser_ty.take();
            if let Some((t, unless_none)) = field_sers
                .get(&name)
                .or_else(|| field_sers.get("*"))
                .cloned()
            {
                ser_ty = Some(if unless_none && ty.nullable() {
                    union(vec![t, Ty::Prim(Prim::Null)])
                } else {
                    t
                });
            }
            let ty = if info.constraints.is_empty() {
                ty
            } else {
                constrain(ty, info.constraints.clone())
            };
            model.fields.push(Field {
                name: name.as_str().into(),
                line: fl,
                alias: info.alias.map(Into::into),
                serialization_alias: info.serialization_alias.map(Into::into),
                validation_alias: info.validation_alias.map(Into::into),
                ty,
                ser_ty,
                has_default: info.has_default || not_required,
                default_none: info.default_none,
                exclude: info.exclude,
                computed: false,
                not_required,
                doc: info.doc.map(Into::into),
            });
        }
        model.fields.extend(computed);
        if model.config.alias_generator == Some(AliasGen::Opaque) {
            self.warn(mi, line, format!("{}: alias_generator is not one of to_camel / to_pascal / to_snake; keys use field names and may be wrong", cd.name.id));
        }
        model
    }

    fn parse_config(&mut self, mi: usize, v: &Expr, cfg: &mut ModelConfig) {
        match v {
            Expr::Call(c) => {
                for kw in c.arguments.keywords.iter() {
                    if let Some(k) = &kw.arg {
                        self.config_key(mi, k.id.as_str(), &kw.value, cfg);
                    }
                }
            }
            Expr::Dict(d) => {
                for item in d.items.iter() {
                    if let Some(k) = item.key.as_ref().and_then(str_lit) {
                        self.config_key(mi, &k, &item.value, cfg);
                    }
                }
            }
            _ => self.warn_at(
                mi,
                v,
                None,
                "model_config is not a ConfigDict(...) or dict literal; it is ignored",
            ),
        }
    }

    fn config_key(&mut self, mi: usize, key: &str, v: &Expr, cfg: &mut ModelConfig) {
        match key {
            "alias_generator" => {
                cfg.alias_generator = Some(match self.resolve(mi, v) {
                    Sym::Ext(m, n) if m == "pydantic" && n == "to_camel" => AliasGen::Camel,
                    Sym::Ext(m, n) if m == "pydantic" && n == "to_pascal" => AliasGen::Pascal,
                    Sym::Ext(m, n) if m == "pydantic" && n == "to_snake" => AliasGen::Snake,
                    _ if matches!(v, Expr::NoneLiteral(_)) => return,
                    _ => AliasGen::Opaque,
                })
            }
            "populate_by_name" => cfg.populate_by_name = bool_lit(v),
            "validate_by_name" => cfg.validate_by_name = bool_lit(v),
            "validate_by_alias" => cfg.validate_by_alias = bool_lit(v),
            "serialize_by_alias" => cfg.serialize_by_alias = bool_lit(v),
            "ser_json_timedelta" => {
                cfg.timedelta_float = str_lit(v).map(|s| s == "float");
            }
            "ser_json_temporal" => {
                cfg.temporal_number = str_lit(v).map(|s| s != "iso8601");
            }
            "extra" => {
                let e = self.const_str(mi, v);
                cfg.extra_allow = e.as_deref().map(|s| s == "allow");
                cfg.extra_forbid = e.as_deref().map(|s| s == "forbid");
            }
            "ser_json_inf_nan" | "ser_json_bytes" => {
                // Both keep the TS type (`number`, `string`); only the encoding changes.
            }
            _ => {}
        }
    }

    /// A module-level constant behind a name (`pattern=EMAIL_PATTERN`), with the module whose
    /// source text it lives in; the expression itself otherwise.
    fn const_expr(&mut self, mi: usize, v: &Expr) -> (usize, Expr) {
        if matches!(v, Expr::Name(_) | Expr::Attribute(_))
            && let Sym::Assign(mj, name) = self.resolve(mi, v)
            && let Some(Bind::Assign(i)) = self.mods[mj].scope.get(&name).cloned()
        {
            let m = self.mods[mj].clone();
            let value = match &m.body[i] {
                Stmt::Assign(a) => Some(shallow(&a.value)),
                Stmt::AnnAssign(a) => a.value.as_deref().map(shallow),
                _ => None,
            };
            if let Some(e) = value
                && matches!(
                    e,
                    Expr::StringLiteral(_) | Expr::NumberLiteral(_) | Expr::UnaryOp(_)
                )
            {
                return (mj, e);
            }
        }
        (mi, shallow(v))
    }

    fn const_str(&mut self, mi: usize, v: &Expr) -> Option<String> {
        str_lit(&self.const_expr(mi, v).1)
    }

    /// `Field(...)`: default, aliases, exclude, constraints, description.
    fn field_call(&mut self, mi: usize, c: &ast::ExprCall, info: &mut FieldInfo) {
        if let Some(d) = c.arguments.find_positional(0)
            && !matches!(d, Expr::EllipsisLiteral(_))
        {
            info.has_default = true;
            info.default_none = matches!(d, Expr::NoneLiteral(_));
        }
        for kw in c.arguments.keywords.iter() {
            let Some(k) = &kw.arg else { continue };
            let v = &kw.value;
            match k.id.as_str() {
                "default" => {
                    if !matches!(v, Expr::EllipsisLiteral(_)) {
                        info.has_default = true;
                        info.default_none = matches!(v, Expr::NoneLiteral(_));
                    }
                }
                "default_factory" => info.has_default = true,
                "alias" => info.alias = self.const_str(mi, v),
                "serialization_alias" => info.serialization_alias = self.const_str(mi, v),
                "validation_alias" => {
                    info.validation_alias = match v {
                        Expr::StringLiteral(_) | Expr::Name(_) | Expr::Attribute(_) => {
                            self.const_str(mi, v)
                        }
                        Expr::Call(call)
                            if self.is_ext(mi, &call.func, "pydantic", &["AliasChoices"]) =>
                        {
                            match call.arguments.find_positional(0) {
                                Some(first) if str_lit(first).is_some() => str_lit(first),
                                _ => {
                                    self.warn_at(mi, v, None, "AliasChoices whose first choice is not a plain string; the request key uses the field name");
                                    None
                                }
                            }
                        }
                        _ => {
                            self.warn_at(mi, v, None, "validation_alias is not a plain string or AliasChoices (AliasPath?); the request key uses the field name");
                            None
                        }
                    }
                }
                "exclude" => info.exclude = bool_lit(v).unwrap_or(false),
                "description" => info.doc = self.const_str(mi, v),
                other => {
                    let (cm, cv) = self.const_expr(mi, v);
                    if let Some(c) = constraint(other, &cv, &self.mods[cm].text) {
                        info.constraints.merge(c);
                    }
                }
            }
        }
    }

    /// The type of a field annotation, reading top-level `Annotated` metadata into `info`.
    fn field_ty(&mut self, mi: usize, e: &Expr, at: Option<u32>, info: &mut FieldInfo) -> Ty {
        if let Expr::StringLiteral(s) = e {
            let line = at.unwrap_or_else(|| self.mods[mi].line(s.range.start()));
            let text = s.value.to_str();
            if nesting_error(text).is_some() {
                self.warn(mi, line, format!("string annotation nests brackets more than {MAX_BRACKET_DEPTH} deep; type is unknown"));
                return Ty::Unknown;
            }
            return match ruff_python_parser::parse_expression(text) {
                Ok(p) => self.field_ty(mi, p.expr(), Some(line), info),
                Err(_) => {
                    self.warn(mi, line, "unparsable string annotation; type is unknown");
                    Ty::Unknown
                }
            };
        }
        if let Expr::Subscript(s) = e
            && self.is_ext(mi, &s.value, "typing", &["Annotated"])
            && let Expr::Tuple(t) = &*s.slice
            && let Some((first, meta)) = t.elts.split_first()
        {
            let base = self.field_ty(mi, first, at, info);
            let mut cons = Constraints::default();
            for m in meta {
                self.annotated_meta(mi, m, at, info, &mut cons);
            }
            info.constraints.merge(cons);
            return base;
        }
        self.ty(mi, e, at)
    }

    fn annotated_meta(
        &mut self,
        mi: usize,
        m: &Expr,
        at: Option<u32>,
        info: &mut FieldInfo,
        cons: &mut Constraints,
    ) {
        let Expr::Call(c) = m else { return };
        let Sym::Ext(module, name) = self.resolve(mi, &c.func) else {
            return;
        };
        match (module.as_str(), name.as_str()) {
            ("pydantic", "Field") => self.field_call(mi, c, info),
            ("pydantic", "Discriminator") => {
                // A field name; a callable discriminator is not statically decidable.
                if let Some(d) = c.arguments.find_positional(0).and_then(str_lit) {
                    cons.discriminator = Some(d);
                }
            }
            ("pydantic", "StringConstraints") => {
                for kw in c.arguments.keywords.iter() {
                    if let Some(k) = &kw.arg
                        && let Some(x) = constraint(k.id.as_str(), &kw.value, &self.mods[mi].text)
                    {
                        cons.merge(x);
                    }
                }
            }
            ("pydantic", "PlainSerializer" | "WrapSerializer") => {
                info.ser_ty = Some(match c.arguments.find_keyword("return_type") {
                    Some(k) => self.ty(mi, &k.value, at),
                    None => {
                        self.warn_at(
                            mi,
                            m,
                            at,
                            format!("{name} without return_type=; the serialized type is unknown"),
                        );
                        Ty::Unknown
                    }
                });
            }
            ("annotated_types", n) => {
                let key = match n {
                    "Ge" => "ge",
                    "Gt" => "gt",
                    "Le" => "le",
                    "Lt" => "lt",
                    "MultipleOf" => "multiple_of",
                    "MinLen" => "min_length",
                    "MaxLen" => "max_length",
                    "Interval" | "Len" => {
                        for kw in c.arguments.keywords.iter() {
                            if let Some(k) = &kw.arg {
                                let k2 = match k.id.as_str() {
                                    "min_length" | "max_length" => k.id.as_str(),
                                    other => other,
                                };
                                if let Some(x) = constraint(k2, &kw.value, &self.mods[mi].text) {
                                    cons.merge(x);
                                }
                            }
                        }
                        if n == "Len" {
                            if let Some(a) = c.arguments.find_positional(0)
                                && let Some(x) = constraint("min_length", a, &self.mods[mi].text)
                            {
                                cons.merge(x);
                            }
                            if let Some(a) = c.arguments.find_positional(1)
                                && let Some(x) = constraint("max_length", a, &self.mods[mi].text)
                            {
                                cons.merge(x);
                            }
                        }
                        return;
                    }
                    _ => return,
                };
                if let Some(a) = c.arguments.find_positional(0)
                    && let Some(x) = constraint(key, a, &self.mods[mi].text)
                {
                    cons.merge(x);
                }
            }
            _ => {}
        }
    }

    // ---------------------------------------------------------------- types

    /// Lower a type expression. `at` overrides the line (inside string annotations).
    fn ty(&mut self, mi: usize, e: &Expr, at: Option<u32>) -> Ty {
        if self.ty_depth >= MAX_TYPE_DEPTH {
            self.warn_at(
                mi,
                e,
                at,
                format!("type nested more than {MAX_TYPE_DEPTH} levels deep; type is unknown"),
            );
            return Ty::Unknown;
        }
        self.ty_depth += 1;
        let t = self.ty_inner(mi, e, at);
        self.ty_depth -= 1;
        t
    }

    fn ty_inner(&mut self, mi: usize, e: &Expr, at: Option<u32>) -> Ty {
        match e {
            Expr::NoneLiteral(_) => Ty::Prim(Prim::Null),
            Expr::StringLiteral(_) => {
                let mut info = FieldInfo::default();
                let t = self.field_ty(mi, e, at, &mut info);
                if info.constraints.is_empty() {
                    t
                } else {
                    constrain(t, info.constraints)
                }
            }
            Expr::BinOp(b) if b.op == ast::Operator::BitOr => {
                // `A | B | C` nests to the left: walk it, not recurse (10,000 members).
                let members: Vec<Ty> = bitor_operands(e)
                    .into_iter()
                    .map(|x| self.ty(mi, x, at))
                    .collect();
                union(members)
            }
            Expr::Name(_) | Expr::Attribute(_) => {
                let sym = self.resolve(mi, e);
                self.sym_ty(mi, e, sym, vec![], at)
            }
            Expr::Subscript(s) => {
                let args: Vec<&Expr> = match &*s.slice {
                    Expr::Tuple(t) => t.elts.iter().collect(),
                    x => vec![x],
                };
                let sym = self.resolve(mi, &s.value);
                if let Sym::Ext(m, n) = &sym
                    && let Some(t) = self.generic_ext(mi, e, m, n, &args, at)
                {
                    return t;
                }
                self.sym_ty(mi, e, sym, args, at)
            }
            Expr::Call(c) => self.call_ty(mi, c, at),
            _ => {
                self.warn_at(mi, e, at, "unsupported type expression; type is unknown");
                Ty::Unknown
            }
        }
    }

    fn generic_ext(
        &mut self,
        mi: usize,
        e: &Expr,
        m: &str,
        n: &str,
        args: &[&Expr],
        at: Option<u32>,
    ) -> Option<Ty> {
        let arg = |s: &mut Self, i: usize| -> Ty {
            match args.get(i) {
                Some(a) => s.ty(mi, a, at),
                None => Ty::Unknown,
            }
        };
        Some(match (m, n) {
            ("typing", "Optional") => union(vec![arg(self, 0), Ty::Prim(Prim::Null)]),
            ("typing", "Union") => union(args.iter().map(|a| self.ty(mi, a, at)).collect()),
            (
                "typing" | "builtins",
                "List" | "list" | "Sequence" | "MutableSequence" | "Iterable" | "Collection"
                | "Set" | "set" | "FrozenSet" | "frozenset" | "AbstractSet" | "MutableSet"
                | "Deque" | "deque",
            ) => Ty::List(Arc::new(arg(self, 0))),
            ("typing" | "builtins", "Tuple" | "tuple") => {
                if args.len() == 2 && matches!(args[1], Expr::EllipsisLiteral(_)) {
                    Ty::List(Arc::new(arg(self, 0)))
                } else if args.len() == 1 && matches!(args[0], Expr::Tuple(t) if t.elts.is_empty())
                {
                    Ty::Tuple(Arc::from([]))
                } else {
                    Ty::Tuple(args.iter().map(|a| self.ty(mi, a, at)).collect())
                }
            }
            (
                "typing" | "builtins",
                "Dict" | "dict" | "Mapping" | "MutableMapping" | "DefaultDict" | "OrderedDict"
                | "defaultdict",
            ) => Ty::Dict(Arc::new(arg(self, 0)), Arc::new(arg(self, 1))),
            ("typing", "Literal") => {
                let mut lits = Vec::new();
                for a in args {
                    match self.literal(mi, a) {
                        Some(mut l) => lits.append(&mut l),
                        None => {
                            self.warn_at(
                                mi,
                                *a,
                                at,
                                "Literal value fsi cannot evaluate; type is unknown",
                            );
                            return Some(Ty::Unknown);
                        }
                    }
                }
                Ty::Literal(lits.into())
            }
            ("typing", "Annotated") => {
                let mut info = FieldInfo::default();
                let t = self.field_ty(mi, e, at, &mut info);
                if info.constraints.is_empty() {
                    t
                } else {
                    constrain(t, info.constraints)
                }
            }
            ("typing", "ClassVar" | "Final" | "Required" | "NotRequired" | "ReadOnly") => {
                arg(self, 0)
            }
            ("typing" | "builtins", "Type" | "type") => {
                self.warn_at(
                    mi,
                    e,
                    at,
                    "type[...] is not JSON-serializable; type is unknown",
                );
                Ty::Unknown
            }
            ("pydantic", "Json") => Ty::Json(Arc::new(arg(self, 0))),
            ("pydantic", "SerializeAsAny") => arg(self, 0),
            _ => return None,
        })
    }

    fn literal(&mut self, mi: usize, a: &Expr) -> Option<Vec<Lit>> {
        if let Some(l) = lit_of(a) {
            return Some(vec![l]);
        }
        match a {
            Expr::Attribute(_) => {
                if let Sym::Member(mj, c, member) = self.resolve(mi, a) {
                    let id = self.request(mj, &c);
                    self.ensure_built(id);
                    if let Some(Decl {
                        kind: DeclKind::Enum(en),
                        ..
                    }) = &self.decls[id]
                    {
                        return en
                            .members
                            .iter()
                            .find(|(n, _)| *n == member)
                            .map(|(_, l)| vec![l.clone()]);
                    }
                }
                None
            }
            Expr::Subscript(s) if self.is_ext(mi, &s.value, "typing", &["Literal"]) => {
                let inner: Vec<&Expr> = match &*s.slice {
                    Expr::Tuple(t) => t.elts.iter().collect(),
                    x => vec![x],
                };
                let mut out = Vec::new();
                for i in inner {
                    out.extend(self.literal(mi, i)?);
                }
                Some(out)
            }
            _ => None,
        }
    }

    fn sym_ty(&mut self, mi: usize, e: &Expr, sym: Sym, args: Vec<&Expr>, at: Option<u32>) -> Ty {
        match sym {
            Sym::Ext(m, n) => match ext_scalar(&m, &n) {
                Some(t) => t,
                None => {
                    if let Some(t) = self.generic_ext(mi, e, &m, &n, &args, at) {
                        return t;
                    }
                    self.warn_at(
                        mi,
                        e,
                        at,
                        format!("type `{m}.{n}` is not one fsi knows how Pydantic serializes; type is unknown"),
                    );
                    Ty::Unknown
                }
            },
            Sym::Class(mj, c) => match self.class_kind(mj, &c, 0) {
                ClassKind::Model { .. }
                | ClassKind::Enum
                | ClassKind::TypedDict
                | ClassKind::Dataclass => {
                    let id = self.request(mj, &c);
                    let targs = args.iter().map(|a| self.ty(mi, a, at)).collect();
                    Ty::Ref(id, targs)
                }
                ClassKind::Plain => match self.scalar_base(mj, &c, 0) {
                    // `class UnrecognizedStr(str)` with its own core schema: pydantic
                    // validates and dumps it as the builtin it extends.
                    Some(t) => t,
                    None => {
                        self.warn_at(
                            mi,
                            e,
                            at,
                            format!("`{c}` is not a Pydantic model or enum; type is unknown"),
                        );
                        Ty::Unknown
                    }
                },
            },
            Sym::Assign(mj, name) => self.assign_ty(mi, mj, &name, e, args, at),
            Sym::TypeParam(n) => Ty::Var(n),
            Sym::Member(..) => {
                self.warn_at(mi, e, at, "enum member used as a type; type is unknown");
                Ty::Unknown
            }
            Sym::Module(d) => {
                self.warn_at(
                    mi,
                    e,
                    at,
                    format!("module `{d}` used as a type; type is unknown"),
                );
                Ty::Unknown
            }
            Sym::Unresolved(n) => {
                self.warn_at(mi, e, at, format!("cannot resolve `{n}` (not defined or imported inside the backend package); type is unknown"));
                Ty::Unknown
            }
        }
    }

    /// A module-level assignment used as a type: TypeVar, NewType, alias.
    fn assign_ty(
        &mut self,
        mi: usize,
        mj: usize,
        name: &str,
        e: &Expr,
        args: Vec<&Expr>,
        at: Option<u32>,
    ) -> Ty {
        let m = self.mods[mj].clone();
        let Some(Bind::Assign(i)) = m.scope.get(name) else {
            return Ty::Unknown;
        };
        let st = &m.body[*i];
        let value: Option<&Expr> = match st {
            Stmt::Assign(a) => Some(&a.value),
            Stmt::AnnAssign(a) => a.value.as_deref(),
            Stmt::TypeAlias(t) => Some(&t.value),
            _ => None,
        };
        if let Some(Expr::Call(c)) = value {
            match self.resolve(mj, &c.func) {
                Sym::Ext(tm, tn) if tm == "typing" && (tn == "TypeVar" || tn == "ParamSpec") => {
                    // What pydantic puts in place of an unfilled parameter: the bound, the
                    // constraints as a union, or the default.
                    if !self.var_bounds.contains_key(name) {
                        self.var_bounds.insert(name.to_string(), Ty::Unknown);
                        let bound = if let Some(b) = c.arguments.find_keyword("bound") {
                            Some(self.ty(mj, &b.value, None))
                        } else if c.arguments.args.len() > 1 {
                            let ts = c.arguments.args[1..]
                                .iter()
                                .map(|a| self.ty(mj, a, None))
                                .collect();
                            Some(union(ts))
                        } else {
                            c.arguments
                                .find_keyword("default")
                                .map(|d| self.ty(mj, &d.value, None))
                        };
                        if let Some(b) = bound {
                            self.var_bounds.insert(name.to_string(), b);
                        }
                    }
                    return Ty::Var(name.to_string());
                }
                Sym::Ext(tm, tn) if tm == "typing" && tn == "NewType" => {
                    return match c.arguments.find_positional(1) {
                        Some(a) => self.ty(mj, a, None),
                        None => Ty::Unknown,
                    };
                }
                _ => {}
            }
        }
        if self.explicit_alias_name(mj, st).is_some() {
            let id = self.request(mj, name);
            let targs = args.iter().map(|a| self.ty(mi, a, at)).collect();
            return Ty::Ref(id, targs);
        }
        match value {
            // `UserId = int`: inline, unless it leads back here (`A = B; B = A`, `A = A`).
            Some(v @ (Expr::Name(_) | Expr::Attribute(_))) => {
                let key = (mj, name.to_string());
                if self.inlining.contains(&key) {
                    self.warn_at(
                        mi,
                        e,
                        at,
                        format!("type alias `{name}` refers to itself through other aliases; type is unknown"),
                    );
                    return Ty::Unknown;
                }
                self.inlining.push(key);
                let t = self.ty(mj, v, None);
                self.inlining.pop();
                t
            }
            _ => {
                self.warn_at(
                    mi,
                    e,
                    at,
                    format!("`{name}` is not a type fsi can read; type is unknown"),
                );
                Ty::Unknown
            }
        }
    }

    fn call_ty(&mut self, mi: usize, c: &ast::ExprCall, at: Option<u32>) -> Ty {
        let sym = self.resolve(mi, &c.func);
        let Sym::Ext(m, n) = sym else {
            self.warn_at(mi, c, at, "call in a type position; type is unknown");
            return Ty::Unknown;
        };
        if m != "pydantic" {
            self.warn_at(
                mi,
                c,
                at,
                format!("`{m}.{n}(...)` in a type position; type is unknown"),
            );
            return Ty::Unknown;
        }
        let base = match n.as_str() {
            "conint" => Ty::Prim(Prim::Int),
            "confloat" => Ty::Prim(Prim::Float),
            "constr" => Ty::Prim(Prim::Str),
            "condecimal" => Ty::Prim(Prim::Decimal),
            "conbytes" => Ty::Prim(Prim::Bytes),
            "condate" => Ty::Prim(Prim::Date),
            "conlist" | "conset" | "confrozenset" => Ty::List(Arc::new(
                c.arguments
                    .find_argument_value("item_type", 0)
                    .map(|a| self.ty(mi, a, at))
                    .unwrap_or(Ty::Unknown),
            )),
            _ => {
                self.warn_at(
                    mi,
                    c,
                    at,
                    format!("`pydantic.{n}(...)` in a type position; type is unknown"),
                );
                return Ty::Unknown;
            }
        };
        let mut cons = Constraints::default();
        for kw in c.arguments.keywords.iter() {
            if let Some(k) = &kw.arg
                && let Some(x) = constraint(k.id.as_str(), &kw.value, &self.mods[mi].text)
            {
                cons.merge(x);
            }
        }
        constrain(base, cons)
    }
}

/// A file's text and its parsed top-level statements (or the syntax error).
type Parsed = (String, Result<Vec<Stmt>, SyntaxErr>);

/// Where a file cannot be read as Python, and why.
pub(crate) struct SyntaxErr {
    message: String,
    start: usize,
    len: usize,
}

/// Files read and parsed by helper threads ([`Feed::work`]) for the lowering thread
/// ([`Feed::take`]), in the order given: the order lowering asks for them.
struct Feed {
    paths: Vec<PathBuf>,
    index: HashMap<PathBuf, usize>,
    /// The next file a helper thread starts on.
    next: std::sync::atomic::AtomicUsize,
    slots: std::sync::Mutex<Vec<Slot>>,
    /// Notified whenever a file is done.
    done: std::sync::Condvar,
}

enum Slot {
    Queued,
    Parsing,
    Done(std::io::Result<Parsed>),
    Taken,
}

impl Feed {
    fn new(paths: &[PathBuf]) -> Feed {
        Feed {
            index: paths
                .iter()
                .enumerate()
                .map(|(i, p)| (p.clone(), i))
                .collect(),
            paths: paths.to_vec(),
            next: Default::default(),
            slots: std::sync::Mutex::new(paths.iter().map(|_| Slot::Queued).collect()),
            done: Default::default(),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Vec<Slot>> {
        // A panicking parser thread leaves the slots consistent (a file stays `Parsing` and is
        // never waited for: see `take`).
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A helper thread: parse files in order until none is left.
    fn work(&self) {
        use std::sync::atomic::Ordering;
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(path) = self.paths.get(i) else {
                return;
            };
            {
                let mut slots = self.slots();
                if !matches!(slots[i], Slot::Queued) {
                    continue; // the lowering thread got there first
                }
                slots[i] = Slot::Parsing;
            }
            let parsed = read_and_parse(path);
            self.slots()[i] = Slot::Done(parsed);
            self.done.notify_all();
        }
    }

    /// The file at `path`, parsed: by a helper (waiting for it if one is on it), or here if no
    /// helper has started it. `None` when it is not one of the feed's files (or was taken).
    fn take(&self, path: &Path) -> Option<std::io::Result<Parsed>> {
        let &i = self.index.get(path)?;
        let mut slots = self.slots();
        loop {
            match std::mem::replace(&mut slots[i], Slot::Taken) {
                Slot::Done(parsed) => return Some(parsed),
                Slot::Queued => {
                    drop(slots);
                    return Some(read_and_parse(path));
                }
                Slot::Parsing => {
                    slots[i] = Slot::Parsing;
                    let (guard, timeout) = self
                        .done
                        .wait_timeout(slots, std::time::Duration::from_secs(5))
                        .unwrap_or_else(|p| p.into_inner());
                    slots = guard;
                    if timeout.timed_out() {
                        return None; // a helper died on this file: parse it here
                    }
                }
                Slot::Taken => return None,
            }
        }
    }
}

fn read_and_parse(abs: &Path) -> std::io::Result<Parsed> {
    let text = match String::from_utf8(fs_err::read(abs)?) {
        Ok(t) => t,
        Err(e) => {
            // Located like a syntax error (Python itself refuses such a file).
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let err = SyntaxErr {
                message: "the file is not valid UTF-8".into(),
                start: at,
                len: '\u{FFFD}'.len_utf8(),
            };
            return Ok((text, Err(err)));
        }
    };
    if let Some(at) = nesting_error(&text) {
        let err = SyntaxErr {
            message: format!("too many nested parentheses (more than {MAX_BRACKET_DEPTH})"),
            start: at,
            len: 1,
        };
        return Ok((text, Err(err)));
    }
    let parsed = ruff_python_parser::parse_module(&text)
        .map(|p| p.into_syntax().body.into_iter().collect())
        .map_err(|e| {
            let start = u32::from(e.location.start()) as usize;
            SyntaxErr {
                message: e.error.to_string(),
                start,
                len: (u32::from(e.location.end()) as usize).saturating_sub(start),
            }
        });
    Ok((text, parsed))
}

/// The offset of the first bracket nested deeper than [`MAX_BRACKET_DEPTH`], outside strings
/// and comments (a linear scan before the parser, which recurses per level).
fn nesting_error(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                i += b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .unwrap_or(b.len() - i);
            }
            q @ (b'"' | b'\'') => {
                let triple = b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q);
                i += if triple { 3 } else { 1 };
                while i < b.len() {
                    let c = b[i];
                    if c == b'\\' {
                        i += 2;
                        continue;
                    }
                    if !triple && c == b'\n' {
                        break;
                    }
                    if c == q && (!triple || (b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q)))
                    {
                        i += if triple { 2 } else { 0 };
                        break;
                    }
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_BRACKET_DEPTH {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// `e` if it is a literal constraints and names can use (a string, a number, `-1`), else a
/// stand-in: cloning an arbitrary expression recursed through all of it (a default of 20,000
/// nested operators overflowed the stack).
fn shallow(e: &Expr) -> Expr {
    match e {
        Expr::StringLiteral(_) | Expr::NumberLiteral(_) => e.clone(),
        Expr::UnaryOp(u) if matches!(&*u.operand, Expr::NumberLiteral(_)) => e.clone(),
        _ => Expr::EllipsisLiteral(ast::ExprEllipsisLiteral::default()),
    }
}

/// The operands of `A | B | C …` (nested to the left), without recursion.
fn bitor_operands(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut cur = e;
    while let Expr::BinOp(b) = cur
        && b.op == ast::Operator::BitOr
    {
        out.push(&*b.right);
        cur = &b.left;
    }
    out.push(cur);
    out.reverse();
    out
}

/// The names a module's `__all__` lists (a list or tuple of string literals), if it has one.
fn module_all(m: &PyMod) -> Option<Vec<String>> {
    let value = m.body.iter().rev().find_map(|st| match st {
        Stmt::Assign(a)
            if matches!(a.targets.as_slice(), [Expr::Name(n)] if n.id.as_str() == "__all__") =>
        {
            Some(&*a.value)
        }
        Stmt::AnnAssign(a) if matches!(&*a.target, Expr::Name(n) if n.id.as_str() == "__all__") => {
            a.value.as_deref()
        }
        _ => None,
    })?;
    let elts = match value {
        Expr::List(l) => &l.elts,
        Expr::Tuple(t) => &t.elts,
        _ => return None,
    };
    Some(elts.iter().filter_map(str_lit).collect())
}

/// Whether fsi knows that `from m import *` (an external module, normalised) binds `n`.
fn ext_exports(m: &str, n: &str) -> bool {
    const TYPING: &[&str] = &[
        "Any",
        "Optional",
        "Union",
        "List",
        "Dict",
        "Set",
        "FrozenSet",
        "Tuple",
        "Type",
        "Sequence",
        "MutableSequence",
        "Iterable",
        "Collection",
        "AbstractSet",
        "MutableSet",
        "Mapping",
        "MutableMapping",
        "Deque",
        "DefaultDict",
        "OrderedDict",
        "Literal",
        "Annotated",
        "ClassVar",
        "Final",
        "Required",
        "NotRequired",
        "ReadOnly",
        "TypeVar",
        "ParamSpec",
        "NewType",
        "Generic",
        "TypedDict",
        "TypeAlias",
        "TypeAliasType",
        "NamedTuple",
        "Protocol",
    ];
    const PYDANTIC: &[&str] = &[
        "BaseModel",
        "RootModel",
        "Field",
        "ConfigDict",
        "computed_field",
        "field_serializer",
        "model_serializer",
        "field_validator",
        "model_validator",
        "validator",
        "root_validator",
        "Json",
        "SerializeAsAny",
        "PlainSerializer",
        "WrapSerializer",
        "AliasChoices",
        "AliasPath",
        "Discriminator",
        "conint",
        "confloat",
        "constr",
        "condecimal",
        "conbytes",
        "condate",
        "conlist",
        "conset",
        "confrozenset",
    ];
    const ENUM: &[&str] = &["Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "auto"];
    ext_scalar(m, n).is_some()
        || match m {
            "typing" => TYPING.contains(&n),
            "pydantic" => PYDANTIC.contains(&n),
            "enum" => ENUM.contains(&n),
            _ => false,
        }
}

/// `if TYPE_CHECKING: X: TypeAlias = …` (`else: X = TypeAliasType(…)`): what type checkers read
/// is the first branch. Its assignments are appended to the module body (as clones, keeping
/// their source ranges) so they bind like top-level ones, unless the name is bound at top level.
fn hoist_type_checking(text: &str, body: &mut Vec<Stmt>) {
    let mut extra = Vec::new();
    for st in body.iter() {
        let Stmt::If(s) = st else { continue };
        let r = s.test.range();
        let cond = &text[u32::from(r.start()) as usize..u32::from(r.end()) as usize];
        if cond != "TYPE_CHECKING" && !cond.ends_with(".TYPE_CHECKING") {
            continue;
        }
        for b in &s.body {
            if matches!(b, Stmt::Assign(_) | Stmt::AnnAssign(_) | Stmt::TypeAlias(_)) {
                extra.push(b.clone());
            }
        }
    }
    body.extend(extra);
}

/// Record the bindings a top-level statement makes.
fn bind_stmt(
    m: &PyMod,
    st: &Stmt,
    idx: Option<usize>,
    scope: &mut HashMap<String, Bind>,
    stars: &mut Vec<String>,
) {
    let package_of = |level: u32| -> String {
        let mut parts: Vec<&str> = m.dotted.split('.').collect();
        if !m.is_pkg {
            parts.pop();
        }
        for _ in 1..level {
            parts.pop();
        }
        parts.join(".")
    };
    match st {
        Stmt::ClassDef(c) => {
            let b = idx.map(Bind::Class).unwrap_or(Bind::Other);
            scope.insert(c.name.id.to_string(), b);
        }
        Stmt::FunctionDef(f) => {
            scope.insert(f.name.id.to_string(), Bind::Other);
        }
        Stmt::Assign(a) => {
            for t in &a.targets {
                if let Expr::Name(n) = t {
                    let b = idx.map(Bind::Assign).unwrap_or(Bind::Other);
                    scope.insert(n.id.to_string(), b);
                }
            }
        }
        Stmt::AnnAssign(a) => {
            if let Expr::Name(n) = &*a.target {
                let b = idx.map(Bind::Assign).unwrap_or(Bind::Other);
                scope.insert(n.id.to_string(), b);
            }
        }
        Stmt::TypeAlias(t) => {
            if let Expr::Name(n) = &*t.name {
                let b = idx.map(Bind::Assign).unwrap_or(Bind::Other);
                scope.insert(n.id.to_string(), b);
            }
        }
        Stmt::Import(i) => {
            for a in &i.names {
                let full = a.name.id.to_string();
                match &a.asname {
                    Some(asn) => {
                        scope.insert(asn.id.to_string(), Bind::Module(full));
                    }
                    None => {
                        let top = full.split('.').next().unwrap_or("").to_string();
                        scope.insert(top.clone(), Bind::Module(top));
                    }
                }
            }
        }
        Stmt::ImportFrom(i) => {
            let module = match (&i.module, i.level) {
                (Some(m), 0) => m.id.to_string(),
                (Some(mm), l) => {
                    let p = package_of(l);
                    if p.is_empty() {
                        mm.id.to_string()
                    } else {
                        format!("{p}.{}", mm.id)
                    }
                }
                (None, l) => package_of(l),
            };
            for a in &i.names {
                if a.name.id.as_str() == "*" {
                    stars.push(module.clone());
                    continue;
                }
                let local = a.asname.as_ref().unwrap_or(&a.name).id.to_string();
                scope.insert(
                    local,
                    Bind::Import {
                        module: module.clone(),
                        name: a.name.id.to_string(),
                    },
                );
            }
        }
        // `if TYPE_CHECKING:` and `try: ... except ImportError:` imports.
        // Later branches win, as with `if TYPE_CHECKING: ... elif PYDANTIC_V2: ...`.
        Stmt::If(s) => {
            let branches =
                std::iter::once(&s.body[..]).chain(s.elif_else_clauses.iter().map(|c| &c.body[..]));
            for body in branches {
                for b in body {
                    if matches!(b, Stmt::Import(_) | Stmt::ImportFrom(_)) {
                        bind_stmt(m, b, None, scope, stars);
                    }
                }
            }
        }
        Stmt::Try(t) => {
            for b in t.body.iter() {
                if matches!(b, Stmt::Import(_) | Stmt::ImportFrom(_)) {
                    bind_stmt(m, b, None, scope, stars);
                }
            }
        }
        _ => {}
    }
}

fn lit_of(e: &Expr) -> Option<Lit> {
    match e {
        Expr::StringLiteral(s) => Some(Lit::Str(s.value.to_str().to_string())),
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => Some(Lit::Int(i.to_string())),
            _ => None,
        },
        Expr::BooleanLiteral(b) => Some(Lit::Bool(b.value)),
        Expr::NoneLiteral(_) => Some(Lit::Null),
        Expr::UnaryOp(u) if u.op == ast::UnaryOp::USub => match lit_of(&u.operand) {
            Some(Lit::Int(s)) => Some(Lit::Int(format!("-{s}"))),
            _ => None,
        },
        _ => None,
    }
}

/// A number written in the source (`0`, `-1.5`, `Decimal("0")`), as text.
fn number_text(e: &Expr, src: &str) -> Option<String> {
    match e {
        Expr::NumberLiteral(n) => {
            let r = n.range;
            let t = &src[u32::from(r.start()) as usize..u32::from(r.end()) as usize];
            let t = t.replace('_', "");
            Some(t)
        }
        Expr::UnaryOp(u) if u.op == ast::UnaryOp::USub => {
            number_text(&u.operand, src).map(|s| format!("-{s}"))
        }
        Expr::Call(c) => c
            .arguments
            .find_positional(0)
            .and_then(|a| str_lit(a).or_else(|| number_text(a, src)))
            .filter(|s| s.parse::<f64>().is_ok()),
        _ => None,
    }
}

fn constraint(key: &str, v: &Expr, src: &str) -> Option<Constraints> {
    let mut c = Constraints::default();
    match key {
        "ge" => c.ge = number_text(v, src),
        "gt" => c.gt = number_text(v, src),
        "le" => c.le = number_text(v, src),
        "lt" => c.lt = number_text(v, src),
        "multiple_of" => c.multiple_of = number_text(v, src),
        "min_length" | "min_items" => c.min_length = number_text(v, src),
        "max_length" | "max_items" => c.max_length = number_text(v, src),
        "pattern" | "regex" => c.pattern = str_lit(v),
        "discriminator" => c.discriminator = str_lit(v),
        "max_digits" => c.max_digits = number_text(v, src).filter(|n| n.parse::<u32>().is_ok()),
        "decimal_places" => {
            c.decimal_places = number_text(v, src).filter(|n| n.parse::<u32>().is_ok())
        }
        _ => return None,
    }
    (!c.is_empty()).then_some(c)
}

fn constrain(t: Ty, c: Constraints) -> Ty {
    if c.is_empty() {
        return t;
    }
    if c.discriminator.is_some() {
        // The discriminator belongs to the union as a whole, not to its members.
        let mut rest = c.clone();
        rest.discriminator = None;
        let d = Constraints {
            discriminator: c.discriminator,
            ..Constraints::default()
        };
        return match constrain(t, rest) {
            Ty::Constrained(inner, old) => {
                let mut old = (*old).clone();
                old.merge(d);
                Ty::Constrained(inner, Arc::new(old))
            }
            t => Ty::Constrained(Arc::new(t), Arc::new(d)),
        };
    }
    match t {
        // `Optional[Annotated[...]]`-style constraints apply to the non-null member.
        Ty::Union(ts) => Ty::Union(
            ts.iter()
                .map(|x| {
                    if *x == Ty::Prim(Prim::Null) {
                        x.clone()
                    } else {
                        constrain(x.clone(), c.clone())
                    }
                })
                .collect(),
        ),
        Ty::Constrained(inner, old) => {
            let mut old = (*old).clone();
            old.merge(c);
            Ty::Constrained(inner, Arc::new(old))
        }
        t => Ty::Constrained(Arc::new(t), Arc::new(c)),
    }
}

/// Build a union, flattening nested unions and dropping duplicates.
pub(crate) fn union(ts: Vec<Ty>) -> Ty {
    let mut out: Vec<Ty> = Vec::new();
    // Past a few members, repeats are found by a set of their debug text (`Ty` has no `Hash`):
    // a union of 20,000 members compared each with all before it.
    let mut seen: Option<BTreeSet<String>> = None;
    let mut add = |t: Ty, out: &mut Vec<Ty>| {
        if out.len() < 16 {
            if !out.contains(&t) {
                out.push(t);
            }
            return;
        }
        let seen = seen.get_or_insert_with(|| out.iter().map(|t| format!("{t:?}")).collect());
        if seen.insert(format!("{t:?}")) {
            out.push(t);
        }
    };
    for t in ts {
        match t {
            Ty::Union(inner) => {
                for i in inner.iter() {
                    add(i.clone(), &mut out);
                }
            }
            t => add(t, &mut out),
        }
    }
    if out.len() == 1 {
        out.pop().expect("one")
    } else {
        Ty::Union(out.into())
    }
}

fn type_vars(t: &Ty) -> Vec<String> {
    fn go(t: &Ty, out: &mut Vec<String>) {
        match t {
            Ty::Var(v) if !out.contains(v) => out.push(v.clone()),
            Ty::List(t) | Ty::Json(t) | Ty::Constrained(t, _) => go(t, out),
            Ty::Tuple(ts) | Ty::Union(ts) | Ty::Ref(_, ts) => ts.iter().for_each(|t| go(t, out)),
            Ty::Dict(k, v) => {
                go(k, out);
                go(v, out);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    go(t, &mut out);
    out
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    v.retain(|x| seen.insert(x.clone()));
}

/// Non-generic types from the standard library and pydantic, as Pydantic serializes them.
fn ext_scalar(m: &str, n: &str) -> Option<Ty> {
    use Prim::*;
    let p = |p: Prim| Some(Ty::Prim(p));
    let cons = |t: Prim, k: &str, v: &str| {
        let mut c = Constraints::default();
        match k {
            "gt" => c.gt = Some(v.into()),
            "ge" => c.ge = Some(v.into()),
            "lt" => c.lt = Some(v.into()),
            _ => c.le = Some(v.into()),
        }
        Some(Ty::Constrained(Arc::new(Ty::Prim(t)), Arc::new(c)))
    };
    match (m, n) {
        ("builtins", "str") => p(Str),
        ("builtins", "int") => p(Int),
        ("builtins", "float") => p(Float),
        ("builtins", "bool") => p(Bool),
        ("builtins", "bytes" | "bytearray") => p(Bytes),
        ("builtins", "None") => p(Null),
        ("builtins", "object") | ("typing", "Any") => Some(Ty::Unknown),
        ("builtins", "list" | "set" | "frozenset" | "tuple")
        | ("typing", "List" | "Set" | "FrozenSet" | "Sequence" | "Tuple") => {
            Some(Ty::List(Arc::new(Ty::Unknown)))
        }
        ("builtins", "dict") | ("typing", "Dict" | "Mapping") => {
            Some(Ty::Dict(Arc::new(Ty::Prim(Str)), Arc::new(Ty::Unknown)))
        }
        ("datetime", "datetime") => p(DateTime),
        ("datetime", "date") => p(Date),
        ("datetime", "time") => p(Time),
        ("datetime", "timedelta") => p(Duration),
        ("decimal", "Decimal") => p(Decimal),
        ("uuid", "UUID") => p(Uuid),
        ("ipaddress", _) | ("pathlib", "Path" | "PurePath" | "PosixPath") => p(Str),
        ("pydantic", n) => match n {
            "StrictStr" | "EmailStr" | "NameEmail" | "HttpUrl" | "AnyUrl" | "AnyHttpUrl"
            | "FileUrl" | "FtpUrl" | "WebsocketUrl" | "AnyWebsocketUrl" | "SecretStr"
            | "SecretBytes" | "IPvAnyAddress" | "IPvAnyInterface" | "IPvAnyNetwork"
            | "Base64Str" | "Base64Bytes" | "Base64UrlStr" | "Base64UrlBytes" | "FilePath"
            | "DirectoryPath" | "NewPath" | "PostgresDsn" | "MySQLDsn" | "RedisDsn"
            | "MongoDsn" | "AmqpDsn" | "KafkaDsn" | "CockroachDsn" | "MariaDBDsn"
            | "ClickHouseDsn" | "SnowflakeDsn" | "NatsDsn" | "ImportString" => p(Str),
            "StrictInt" | "ByteSize" => p(Int),
            "PositiveInt" => cons(Int, "gt", "0"),
            "NegativeInt" => cons(Int, "lt", "0"),
            "NonNegativeInt" => cons(Int, "ge", "0"),
            "NonPositiveInt" => cons(Int, "le", "0"),
            "StrictFloat" | "FiniteFloat" => p(Float),
            "PositiveFloat" => cons(Float, "gt", "0"),
            "NegativeFloat" => cons(Float, "lt", "0"),
            "NonNegativeFloat" => cons(Float, "ge", "0"),
            "NonPositiveFloat" => cons(Float, "le", "0"),
            "StrictBool" => p(Bool),
            "StrictBytes" => p(Bytes),
            "UUID1" | "UUID3" | "UUID4" | "UUID5" | "UUID6" | "UUID7" | "UUID8" => p(Uuid),
            "AwareDatetime" | "NaiveDatetime" | "PastDatetime" | "FutureDatetime" => p(DateTime),
            "PastDate" | "FutureDate" => p(Date),
            "Json" => Some(Ty::Json(Arc::new(Ty::Unknown))),
            "JsonValue" => Some(Ty::Unknown),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracket_nesting_is_limited_outside_strings_and_comments() {
        let deep = format!("x: {}int{}\n", "List[".repeat(201), "]".repeat(201));
        let at = nesting_error(&deep).expect("too deep");
        assert_eq!(&deep[at..at + 1], "[");
        let ok = format!("x: {}int{}\n", "List[".repeat(200), "]".repeat(200));
        assert_eq!(nesting_error(&ok), None);
        let quoted = format!(
            "s = '{}'  # {}\nt = \"\"\"{}\"\"\"\n",
            "(".repeat(300),
            "[".repeat(300),
            "{".repeat(300)
        );
        assert_eq!(nesting_error(&quoted), None);
    }

    #[test]
    fn line_numbers_are_one_based() {
        let ls = line_starts("a\nbc\n\nd");
        let m = PyMod {
            dotted: String::new(),
            rel: String::new(),
            text: String::new(),
            body: vec![],
            line_starts: ls,
            scope: HashMap::default(),
            stars: vec![],
            is_pkg: false,
        };
        assert_eq!(m.line(TextSize::from(0)), 1);
        assert_eq!(m.line(TextSize::from(2)), 2);
        assert_eq!(m.line(TextSize::from(3)), 2);
        assert_eq!(m.line(TextSize::from(5)), 3);
        assert_eq!(m.line(TextSize::from(6)), 4);
    }

    #[test]
    fn cleandoc_strips_common_indent() {
        assert_eq!(
            cleandoc("Title.\n\n    More\n      x\n    "),
            "Title.\n\nMore\n  x"
        );
    }
}
