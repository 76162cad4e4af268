//! Zod (v4) emitter: `<module>.zod.ts` next to each `<module>.ts`, one `<Name>Schema` per
//! declaration and `<Name>InputSchema` where the request shape differs.
//!
//! Wire facts (see docs/typesync.md): naive datetimes need `{ offset: true, local: true }`,
//! UUIDs use `z.guid()` (pydantic accepts any 128-bit value), negative durations need a custom
//! regex, Decimal is a string in responses and `number | string` in requests. Recursion and
//! forward references go through `z.lazy` with an explicit `z.ZodType<T>` return type so that
//! TypeScript can infer the schema's type.

use std::collections::{BTreeMap, BTreeSet};

use super::ir::*;
use super::ts::{self, Exports, import_path, json_str, lit, prop_key};
use super::views::{ModelShape, View, ViewField, Views};

const DECIMAL_RE: &str = r"/^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/";
const DURATION_RE: &str = r"/^-?P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$/";
const TIME_RE: &str = r"/^\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/";

pub fn schema_name(v: &Views, id: DeclId, view: View) -> String {
    format!("{}Schema", v.name(id, view))
}

struct Cx<'v, 'a> {
    v: &'v Views<'a>,
    /// The declaration being emitted (for lazy decisions) and its type parameters.
    from: DeclId,
    params: &'v [String],
    view: View,
    /// Schemas used from other modules: (module, name).
    schemas: BTreeSet<(usize, String)>,
    /// TS types used in `z.ZodType<...>` annotations: (module, name).
    types: BTreeSet<(usize, String)>,
}

impl Cx<'_, '_> {
    fn ty(&mut self, t: &Ty) -> String {
        self.ty_c(t, None)
    }

    fn ty_c(&mut self, t: &Ty, c: Option<&Constraints>) -> String {
        let view = self.view;
        match t {
            Ty::Prim(p) => prim(*p, view, c),
            Ty::Unknown => "z.unknown()".into(),
            Ty::Literal(ls) => literal(ls),
            Ty::List(inner) => {
                let s = self.ty(inner);
                let mut s = format!("z.array({s})");
                if let Some(c) = c {
                    if let Some(n) = &c.min_length {
                        s.push_str(&format!(".min({n})"));
                    }
                    if let Some(n) = &c.max_length {
                        s.push_str(&format!(".max({n})"));
                    }
                }
                s
            }
            Ty::Tuple(ts) => {
                let parts: Vec<String> = ts.iter().map(|t| self.ty(t)).collect();
                format!("z.tuple([{}])", parts.join(", "))
            }
            Ty::Dict(k, val) => {
                let vs = self.ty(val);
                if ts::is_finite_key(self.v, k) {
                    let ks = self.ty(k);
                    format!("z.partialRecord({ks}, {vs})")
                } else {
                    format!("z.record(z.string(), {vs})")
                }
            }
            Ty::Union(ts) => {
                let mut parts: Vec<String> = Vec::new();
                let mut null = false;
                for t in ts.iter() {
                    if *t == Ty::Prim(Prim::Null)
                        || matches!(t, Ty::Literal(l) if l.len() == 1 && l[0] == Lit::Null)
                    {
                        null = true;
                        continue;
                    }
                    let s = self.ty_c(t, c);
                    if s == "z.unknown()" {
                        return s;
                    }
                    if !parts.contains(&s) {
                        parts.push(s);
                    }
                }
                let base = match parts.len() {
                    0 => "z.null()".to_string(),
                    1 => parts.pop().expect("one"),
                    _ => format!("z.union([{}])", parts.join(", ")),
                };
                if null && base != "z.null()" {
                    format!("{base}.nullable()")
                } else {
                    base
                }
            }
            Ty::Ref(id, args) => self.reference(*id, args),
            Ty::Var(n) => n.clone(),
            Ty::Json(inner) => match view {
                View::Response => self.ty(inner),
                View::Request => "z.string()".into(),
            },
            Ty::Constrained(inner, cons) => {
                let mut merged = c.cloned().unwrap_or_default();
                merged.merge((**cons).clone());
                self.ty_c(inner, Some(&merged))
            }
        }
    }

    fn reference(&mut self, id: DeclId, args: &[Ty]) -> String {
        let v = self.v;
        let d = &v.ir.decls[id];
        let name = schema_name(v, id, self.view);
        let here = v.ir.decls[self.from].module;
        if d.module != here {
            self.schemas.insert((d.module, name.clone()));
        }
        let arity = ts::params_of(v.ir, id).len();
        let call = if arity == 0 {
            name
        } else {
            let parts: Vec<String> = (0..arity)
                .map(|i| match args.get(i) {
                    Some(a) => self.ty(a),
                    None => "z.unknown()".into(),
                })
                .collect();
            format!("{name}({})", parts.join(", "))
        };
        if !v.needs_lazy(self.from, id) {
            return call;
        }
        // Annotate the lazy getter so TypeScript does not need the schema's own type.
        let mut tsrefs = Vec::new();
        let t = ts::ts_type(v, &Ty::Ref(id, args.to_vec().into()), self.view, &mut |r| {
            tsrefs.push(r)
        });
        let mentions_param = self.params.iter().any(|p| ts_mentions(&t, p));
        if mentions_param {
            return format!("z.lazy((): z.ZodType => {call})");
        }
        for r in tsrefs {
            self.types
                .insert((v.ir.decls[r].module, v.name(r, self.view)));
        }
        let _ = here;
        format!("z.lazy((): z.ZodType<{t}> => {call})")
    }

    fn fields(&mut self, fields: &[ViewField]) -> String {
        let mut s = String::new();
        for f in fields {
            let mut t = self.ty(&f.ty);
            if f.optional {
                t.push_str(".optional()");
            }
            s.push_str(&format!("  {}: {t},\n", prop_key(&f.key)));
        }
        s
    }
}

fn ts_mentions(t: &str, ident: &str) -> bool {
    t.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .any(|w| w == ident)
}

fn num_checks(c: Option<&Constraints>) -> String {
    let Some(c) = c else { return String::new() };
    let mut s = String::new();
    if let Some(n) = &c.ge {
        s.push_str(&format!(".gte({n})"));
    }
    if let Some(n) = &c.gt {
        s.push_str(&format!(".gt({n})"));
    }
    if let Some(n) = &c.le {
        s.push_str(&format!(".lte({n})"));
    }
    if let Some(n) = &c.lt {
        s.push_str(&format!(".lt({n})"));
    }
    if let Some(n) = &c.multiple_of {
        s.push_str(&format!(".multipleOf({n})"));
    }
    s
}

fn str_checks(c: Option<&Constraints>) -> String {
    let Some(c) = c else { return String::new() };
    let mut s = String::new();
    if let Some(n) = &c.min_length {
        s.push_str(&format!(".min({n})"));
    }
    if let Some(n) = &c.max_length {
        s.push_str(&format!(".max({n})"));
    }
    if let Some(p) = &c.pattern {
        // Python-only regex syntax, translated to JavaScript's.
        let p = p
            .replace("(?P<", "(?<")
            .replace("\\A", "^")
            .replace("\\Z", "$");
        s.push_str(&format!(".regex(new RegExp({}))", json_str(&p)));
    }
    s
}

fn prim(p: Prim, view: View, c: Option<&Constraints>) -> String {
    match p {
        Prim::Str => format!("z.string(){}", str_checks(c)),
        Prim::Bytes => format!("z.string(){}", str_checks(c)),
        Prim::Int => format!("z.number().int(){}", num_checks(c)),
        Prim::Float => format!("z.number(){}", num_checks(c)),
        Prim::Bool => "z.boolean()".into(),
        Prim::Null => "z.null()".into(),
        Prim::Decimal => match view {
            View::Response => format!("z.string().regex({DECIMAL_RE})"),
            View::Request => format!(
                "z.union([z.number(){}, z.string().regex({DECIMAL_RE})])",
                num_checks(c)
            ),
        },
        Prim::DateTime => "z.iso.datetime({ offset: true, local: true })".into(),
        Prim::Date => "z.iso.date()".into(),
        Prim::Time => format!("z.string().regex({TIME_RE})"),
        Prim::Duration => format!("z.string().regex({DURATION_RE})"),
        Prim::Uuid => "z.guid()".into(),
    }
}

fn literal(ls: &[Lit]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut null = false;
    for l in ls {
        if *l == Lit::Null {
            null = true;
            continue;
        }
        let s = lit(l);
        if !parts.contains(&s) {
            parts.push(s);
        }
    }
    let all_str = ls.iter().all(|l| matches!(l, Lit::Str(_) | Lit::Null));
    let base = match parts.len() {
        0 => "z.null()".to_string(),
        1 => format!("z.literal({})", parts[0]),
        _ if all_str => format!("z.enum([{}])", parts.join(", ")),
        _ => {
            let lits: Vec<String> = parts.iter().map(|p| format!("z.literal({p})")).collect();
            format!("z.union([{}])", lits.join(", "))
        }
    };
    if null && !parts.is_empty() {
        format!("{base}.nullable()")
    } else {
        base
    }
}

fn generic_wrap(params: &[String], body: String) -> String {
    if params.is_empty() {
        body
    } else {
        let ps: Vec<String> = params
            .iter()
            .map(|p| format!("{p} extends z.ZodType"))
            .collect();
        let args: Vec<String> = params.iter().map(|p| format!("{p}: {p}")).collect();
        format!("<{}>({}) => {body}", ps.join(", "), args.join(", "))
    }
}

/// Emit `<stem>.zod.ts` for one module.
pub fn emit_module(v: &Views, mi: usize) -> (String, Exports) {
    let ir = v.ir;
    let module = &ir.modules[mi];
    let mut schemas: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut types: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut blocks = Vec::new();
    let mut exports = Vec::new();
    for &id in &module.decls {
        let d = &ir.decls[id];
        let mut block = String::with_capacity(2048);
        match &d.kind {
            DeclKind::Enum(e) => {
                let lits: Vec<Lit> = e.members.iter().map(|(_, l)| l.clone()).collect();
                let body = if lits.is_empty() {
                    "z.never()".to_string()
                } else {
                    literal(&lits)
                };
                block.push_str(&format!(
                    "export const {} = {body};\n",
                    schema_name(v, id, View::Response)
                ));
                exports.push((schema_name(v, id, View::Response), true));
            }
            DeclKind::Alias(a) => {
                for view in [View::Response, View::Request] {
                    if view == View::Request && !v.input[id] {
                        continue;
                    }
                    let mut cx = Cx {
                        v,
                        from: id,
                        params: &a.params,
                        view,
                        schemas: BTreeSet::new(),
                        types: BTreeSet::new(),
                    };
                    let body = cx.ty(&a.ty);
                    schemas.append(&mut cx.schemas);
                    types.append(&mut cx.types);
                    if view == View::Request {
                        block.push('\n');
                    }
                    block.push_str(&format!(
                        "export const {} = {};\n",
                        schema_name(v, id, view),
                        generic_wrap(&a.params, body)
                    ));
                    exports.push((schema_name(v, id, view), true));
                }
            }
            DeclKind::Model(m) => {
                for view in [View::Response, View::Request] {
                    if view == View::Request && !v.input[id] {
                        continue;
                    }
                    let mut cx = Cx {
                        v,
                        from: id,
                        params: &m.params,
                        view,
                        schemas: BTreeSet::new(),
                        types: BTreeSet::new(),
                    };
                    let body = match v.shape(id, view) {
                        ModelShape::Alias(t) => cx.ty(t),
                        ModelShape::Object {
                            bases,
                            fields,
                            extra_allow,
                        } => {
                            let own = cx.fields(fields);
                            let mut s = String::new();
                            for (i, (b, args, omit)) in bases.iter().enumerate() {
                                // Bases are never lazy: `.extend` needs the shape now.
                                let saved = cx.from;
                                let bs = {
                                    let name = schema_name(v, *b, view);
                                    if ir.decls[*b].module != module_of(v, saved) {
                                        cx.schemas.insert((ir.decls[*b].module, name.clone()));
                                    }
                                    let arity = ts::params_of(ir, *b).len();
                                    if arity == 0 {
                                        name
                                    } else {
                                        let parts: Vec<String> = (0..arity)
                                            .map(|i| match args.get(i) {
                                                Some(a) => cx.ty(a),
                                                None => "z.unknown()".into(),
                                            })
                                            .collect();
                                        format!("{name}({})", parts.join(", "))
                                    }
                                };
                                let bs = if omit.is_empty() {
                                    bs
                                } else {
                                    let keys: Vec<String> = omit
                                        .iter()
                                        .map(|k| format!("{}: true", prop_key(k)))
                                        .collect();
                                    format!("{bs}.omit({{ {} }})", keys.join(", "))
                                };
                                if i == 0 {
                                    s = bs;
                                } else {
                                    s = format!("{s}.extend({bs}.shape)");
                                }
                            }
                            let obj = if s.is_empty() {
                                if own.is_empty() {
                                    "z.object({})".to_string()
                                } else {
                                    format!("z.object({{\n{own}}})")
                                }
                            } else if own.is_empty() {
                                s
                            } else {
                                format!("{s}.extend({{\n{own}}})")
                            };
                            if *extra_allow {
                                format!("{obj}.catchall(z.unknown())")
                            } else {
                                obj
                            }
                        }
                    };
                    schemas.append(&mut cx.schemas);
                    types.append(&mut cx.types);
                    if view == View::Request {
                        block.push('\n');
                    }
                    block.push_str(&format!(
                        "export const {} = {};\n",
                        schema_name(v, id, view),
                        generic_wrap(&m.params, body)
                    ));
                    exports.push((schema_name(v, id, view), true));
                }
            }
        }
        blocks.push(block);
    }
    let mut out = String::with_capacity(blocks.iter().map(String::len).sum::<usize>() + 1024);
    out.push_str(&ts::header(&module.py_rel));
    out.push_str("\nimport { z } from \"zod\";\n");
    let mut by_mod: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (m, n) in types {
        by_mod.entry(m).or_default().insert(n);
    }
    for (m, names) in &by_mod {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        out.push_str(&format!(
            "import type {{ {} }} from \"{}\";\n",
            names.join(", "),
            import_path(&module.stem, &ir.modules[*m].stem)
        ));
    }
    let mut by_mod: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (m, n) in schemas {
        if m != mi {
            by_mod.entry(m).or_default().insert(n);
        }
    }
    for (m, names) in &by_mod {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        out.push_str(&format!(
            "import {{ {} }} from \"{}.zod\";\n",
            names.join(", "),
            import_path(&module.stem, &ir.modules[*m].stem)
        ));
    }
    for b in blocks {
        out.push('\n');
        out.push_str(&b);
    }
    (out, exports)
}

fn module_of(v: &Views, id: DeclId) -> usize {
    v.ir.decls[id].module
}
