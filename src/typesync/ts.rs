//! TypeScript emitter: one `.ts` file per Python module, interfaces and type aliases only (plus a
//! `const` object per enum), cross-module references through `import type`.

use std::collections::{BTreeMap, BTreeSet};

use super::ir::*;
use super::views::{ModelShape, View, ViewField, Views};

/// Names a generated file exports, for the barrel: (name, is a value).
pub type Exports = Vec<(String, bool)>;

pub fn is_ident(s: &str) -> bool {
    let b = s.as_bytes();
    if s.is_ascii() {
        return matches!(b.first(), Some(c) if c.is_ascii_alphabetic() || *c == b'_' || *c == b'$')
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$');
    }
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_alphabetic() || c == '_' || c == '$')
        && cs.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

pub fn prop_key(k: &str) -> String {
    if is_ident(k) {
        k.to_string()
    } else {
        json_str(k)
    }
}

pub fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("string serializes")
}

pub fn lit(l: &Lit) -> String {
    match l {
        Lit::Str(s) => json_str(s),
        Lit::Int(i) => i.clone(),
        Lit::Bool(b) => b.to_string(),
        Lit::Null => "null".into(),
    }
}

/// JSDoc for a doc string (None when empty).
pub fn jsdoc<S: AsRef<str>>(doc: &Option<S>, indent: &str) -> String {
    let Some(d) = doc else { return String::new() };
    let d = d.as_ref().replace("*/", "*\\/");
    let lines: Vec<&str> = d.lines().collect();
    if lines.len() == 1 {
        return format!("{indent}/** {} */\n", lines[0]);
    }
    let mut s = format!("{indent}/**\n");
    for l in lines {
        if l.is_empty() {
            s.push_str(&format!("{indent} *\n"));
        } else {
            s.push_str(&format!("{indent} * {l}\n"));
        }
    }
    s.push_str(&format!("{indent} */\n"));
    s
}

/// Render a type; `on_ref` sees every declaration referenced (for imports).
pub fn ts_type(v: &Views, t: &Ty, view: View, on_ref: &mut dyn FnMut(DeclId)) -> String {
    render(v, t, view, on_ref).0
}

/// (text, is a top-level union)
fn render(v: &Views, t: &Ty, view: View, on_ref: &mut dyn FnMut(DeclId)) -> (String, bool) {
    match t {
        Ty::Prim(p) => match p {
            Prim::Str
            | Prim::DateTime
            | Prim::Date
            | Prim::Time
            | Prim::Duration
            | Prim::Uuid
            | Prim::Bytes => ("string".into(), false),
            Prim::Int | Prim::Float => ("number".into(), false),
            Prim::Bool => ("boolean".into(), false),
            Prim::Null => ("null".into(), false),
            Prim::Decimal => match view {
                View::Response => ("string".into(), false),
                View::Request => ("number | string".into(), true),
            },
        },
        Ty::Unknown => ("unknown".into(), false),
        Ty::Literal(ls) => {
            let mut parts: Vec<String> = Vec::new();
            for l in ls.iter() {
                let s = lit(l);
                if !parts.contains(&s) {
                    parts.push(s);
                }
            }
            join_union(parts)
        }
        Ty::List(inner) => {
            let (s, u) = render(v, inner, view, on_ref);
            (
                if u {
                    format!("({s})[]")
                } else {
                    format!("{s}[]")
                },
                false,
            )
        }
        Ty::Tuple(ts) => {
            let parts: Vec<String> = ts.iter().map(|t| render(v, t, view, on_ref).0).collect();
            (format!("[{}]", parts.join(", ")), false)
        }
        Ty::Dict(k, val) => {
            let vs = render(v, val, view, on_ref).0;
            if is_finite_key(v, k) {
                let ks = render(v, k, view, on_ref).0;
                (format!("Partial<Record<{ks}, {vs}>>"), false)
            } else {
                (format!("Record<string, {vs}>"), false)
            }
        }
        Ty::Union(ts) => {
            let mut parts: Vec<String> = Vec::new();
            let mut null = false;
            for t in ts.iter() {
                let (s, is_union) = render(v, t, view, on_ref);
                // Only a member that rendered as a union needs splitting into its parts.
                let mut add = |p: String| {
                    if p == "null" {
                        null = true;
                    } else if !parts.contains(&p) {
                        parts.push(p);
                    }
                };
                if is_union {
                    split_union(&s).into_iter().for_each(&mut add);
                } else {
                    add(s);
                }
            }
            if parts.iter().any(|p| p == "unknown") {
                return ("unknown".into(), false);
            }
            if null {
                parts.push("null".into());
            }
            join_union(parts)
        }
        Ty::Ref(id, args) => {
            on_ref(*id);
            let name = v.name(*id, view);
            let arity = params_of(v.ir, *id).len();
            if arity == 0 {
                return (name, false);
            }
            let parts: Vec<String> = (0..arity)
                .map(|i| match args.get(i) {
                    Some(a) => render(v, a, view, on_ref).0,
                    None => "unknown".into(),
                })
                .collect();
            (format!("{name}<{}>", parts.join(", ")), false)
        }
        Ty::Var(n) => (n.clone(), false),
        Ty::Json(inner) => match view {
            View::Response => render(v, inner, view, on_ref),
            View::Request => ("string".into(), false),
        },
        Ty::Constrained(inner, _) => render(v, inner, view, on_ref),
    }
}

/// Split a rendered union at top level (no nesting inside <>, (), [] or {}).
fn split_union(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    let mut in_str = false;
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if in_str {
            cur.push(c);
            if c == '\\' && i + 1 < cs.len() {
                cur.push(cs[i + 1]);
                i += 1;
            } else if c == '"' {
                in_str = false;
            }
        } else {
            match c {
                '"' => {
                    in_str = true;
                    cur.push(c);
                }
                '<' | '(' | '[' | '{' => {
                    depth += 1;
                    cur.push(c);
                }
                '>' | ')' | ']' | '}' => {
                    depth -= 1;
                    cur.push(c);
                }
                '|' if depth == 0 => {
                    out.push(cur.trim().to_string());
                    cur.clear();
                }
                _ => cur.push(c),
            }
        }
        i += 1;
    }
    out.push(cur.trim().to_string());
    out
}

fn join_union(parts: Vec<String>) -> (String, bool) {
    match parts.len() {
        0 => ("never".into(), false),
        1 => (parts.into_iter().next().expect("one"), false),
        _ => (parts.join(" | "), true),
    }
}

/// Keys of a dict that are a finite set (enum or literal): `Partial<Record<K, V>>`.
pub fn is_finite_key(v: &Views, k: &Ty) -> bool {
    match k {
        Ty::Literal(_) => true,
        Ty::Ref(id, _) => matches!(v.ir.decls[*id].kind, DeclKind::Enum(_)),
        Ty::Constrained(t, _) => is_finite_key(v, t),
        _ => false,
    }
}

pub fn params_of(ir: &Ir, id: DeclId) -> &[String] {
    match &ir.decls[id].kind {
        DeclKind::Model(m) => &m.params,
        DeclKind::Alias(a) => &a.params,
        DeclKind::Enum(_) => &[],
    }
}

fn fields_text(
    v: &Views,
    fields: &[ViewField],
    view: View,
    extra: bool,
    on_ref: &mut dyn FnMut(DeclId),
) -> String {
    let mut s = String::with_capacity(fields.len() * 40);
    for f in fields {
        if f.doc.is_some() {
            s.push_str(&jsdoc(&f.doc, "  "));
        }
        s.push_str(if f.readonly { "  readonly " } else { "  " });
        if is_ident(&f.key) {
            s.push_str(&f.key);
        } else {
            s.push_str(&json_str(&f.key));
        }
        s.push_str(if f.optional { "?: " } else { ": " });
        s.push_str(&ts_type(v, &f.ty, view, on_ref));
        s.push_str(";\n");
    }
    if extra {
        s.push_str("  [key: string]: unknown;\n");
    }
    s
}

/// The text of a model shape without its name (used to decide whether `…Input` differs).
pub fn shape_text(v: &Views, shape: &ModelShape, view: View) -> String {
    shape_decl(v, shape, view, "", &mut |_| {})
}

fn shape_decl(
    v: &Views,
    shape: &ModelShape,
    view: View,
    head: &str,
    on_ref: &mut dyn FnMut(DeclId),
) -> String {
    match shape {
        ModelShape::Alias(t) => format!("export type {head} = {};\n", ts_type(v, t, view, on_ref)),
        ModelShape::Object {
            bases,
            fields,
            extra_allow,
        } => {
            let mut ext = Vec::new();
            for (b, args, omit) in bases {
                let base = ts_type(v, &Ty::Ref(*b, args.clone().into()), view, on_ref);
                if omit.is_empty() {
                    ext.push(base);
                } else {
                    let keys: Vec<String> = omit.iter().map(|k| json_str(k)).collect();
                    ext.push(format!("Omit<{base}, {}>", keys.join(" | ")));
                }
            }
            let ext = if ext.is_empty() {
                String::new()
            } else {
                format!(" extends {}", ext.join(", "))
            };
            let body = fields_text(v, fields, view, *extra_allow, on_ref);
            if body.is_empty() {
                format!("export interface {head}{ext} {{}}\n")
            } else {
                format!("export interface {head}{ext} {{\n{body}}}\n")
            }
        }
    }
}

fn generic_head(name: &str, params: &[String]) -> String {
    if params.is_empty() {
        name.to_string()
    } else {
        format!("{name}<{}>", params.join(", "))
    }
}

/// Relative import specifier from one output stem to another (`./items`, `../common`).
pub fn import_path(from_stem: &str, to_stem: &str) -> String {
    let from: Vec<&str> = from_stem.split('/').collect();
    let to: Vec<&str> = to_stem.split('/').collect();
    let from_dir = &from[..from.len() - 1];
    let mut common = 0;
    while common < from_dir.len() && common < to.len() - 1 && from_dir[common] == to[common] {
        common += 1;
    }
    let ups = from_dir.len() - common;
    let rest = to[common..].join("/");
    if ups == 0 {
        format!("./{rest}")
    } else {
        format!("{}{rest}", "../".repeat(ups))
    }
}

pub fn header(py_rel: &str) -> String {
    format!(
        "// MIRRORS: {py_rel}\n// RUN: fsi types\n// Generated by fsi from the Pydantic DTOs in that file. Do not edit: changes are overwritten.\n"
    )
}

/// Emit the `.ts` file for one module.
pub fn emit_module(v: &Views, mi: usize) -> (String, Exports) {
    let ir = v.ir;
    let module = &ir.modules[mi];
    let mut used: BTreeSet<(DeclId, View)> = BTreeSet::new();
    let mut blocks = Vec::new();
    let mut exports = Vec::new();
    for &id in &module.decls {
        let d = &ir.decls[id];
        let mut block = String::with_capacity(2048);
        block.push_str(&jsdoc(&d.doc, ""));
        match &d.kind {
            DeclKind::Enum(e) => {
                let vals: Vec<String> = e.members.iter().map(|(_, l)| lit(l)).collect();
                let mut uniq: Vec<String> = Vec::new();
                for x in vals {
                    if !uniq.contains(&x) {
                        uniq.push(x);
                    }
                }
                block.push_str(&format!(
                    "export type {} = {};\n",
                    d.name,
                    join_union(uniq).0
                ));
                block.push_str(&format!("export const {} = {{\n", d.name));
                for (n, l) in &e.members {
                    block.push_str(&format!("  {}: {},\n", prop_key(n), lit(l)));
                }
                block.push_str("} as const;\n");
                exports.push((d.name.clone(), true));
            }
            DeclKind::Alias(a) => {
                for view in [View::Response, View::Request] {
                    if view == View::Request && !v.input[id] {
                        continue;
                    }
                    let name = generic_head(&v.name(id, view), &a.params);
                    let t = ts_type(v, &a.ty, view, &mut |r| {
                        used.insert((r, view));
                    });
                    if view == View::Request {
                        block.push('\n');
                        block.push_str(&jsdoc(&d.doc, ""));
                    }
                    block.push_str(&format!("export type {name} = {t};\n"));
                    exports.push((v.name(id, view), false));
                }
            }
            DeclKind::Model(m) => {
                for view in [View::Response, View::Request] {
                    if view == View::Request && !v.input[id] {
                        continue;
                    }
                    let shape = v.shape(id, view);
                    let head = generic_head(&v.name(id, view), &m.params);
                    if view == View::Request {
                        block.push('\n');
                        let doc = Some(match &d.doc {
                            Some(doc) => format!(
                                "{doc}\n\nRequest shape of `{}` (what the backend accepts).",
                                d.name
                            ),
                            None => {
                                format!("Request shape of `{}` (what the backend accepts).", d.name)
                            }
                        });
                        block.push_str(&jsdoc(&doc, ""));
                    }
                    block.push_str(&shape_decl(v, shape, view, &head, &mut |r| {
                        used.insert((r, view));
                    }));
                    exports.push((v.name(id, view), false));
                }
            }
        }
        blocks.push(block);
    }
    // Imports: `import type` per other module, names in both views as referenced.
    let mut imports: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (r, view) in used {
        let m = ir.decls[r].module;
        if m != mi {
            imports.entry(m).or_default().insert(v.name(r, view));
        }
    }
    let mut out = String::with_capacity(blocks.iter().map(String::len).sum::<usize>() + 1024);
    out.push_str(&header(&module.py_rel));
    if !imports.is_empty() {
        out.push('\n');
        for (m, names) in &imports {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            out.push_str(&format!(
                "import type {{ {} }} from \"{}\";\n",
                names.join(", "),
                import_path(&module.stem, &ir.modules[*m].stem)
            ));
        }
    }
    for b in blocks {
        out.push('\n');
        out.push_str(&b);
    }
    (out, exports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_paths() {
        assert_eq!(import_path("items", "common"), "./common");
        assert_eq!(import_path("common/pagination", "items"), "../items");
        assert_eq!(import_path("a/b", "a/c"), "./c");
        assert_eq!(
            import_path("items", "common/pagination"),
            "./common/pagination"
        );
    }

    #[test]
    fn union_split_respects_nesting() {
        assert_eq!(
            split_union("Record<string, A | B> | null"),
            vec!["Record<string, A | B>", "null"]
        );
        assert_eq!(split_union("\"a|b\" | 1"), vec!["\"a|b\"", "1"]);
    }

    #[test]
    fn keys_are_quoted_when_needed() {
        assert_eq!(prop_key("itemId"), "itemId");
        assert_eq!(prop_key("item-id"), "\"item-id\"");
        assert_eq!(prop_key("2x"), "\"2x\"");
    }
}
