//! TypeScript emitter: one `.ts` file per Python module, interfaces and type aliases only (plus a
//! `const` object per enum), cross-module references through `import type`.
//!
//! Text is appended to one buffer as it is produced ([`TsWriter`]): no `String` per rendered
//! type, field or block. A file's imports depend on what its declarations reference, so the body
//! is written first and the header and imports are put in front of it with one copy at the end.
//! The `String`-returning functions ([`ts_type`], [`json_str`], ...) wrap the
//! writers for callers that want a value.

use std::ops::Range;

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
    let mut s = String::with_capacity(k.len() + 2);
    write_key(&mut s, k, is_ident(k));
    s
}

/// Append an object key: as is when it is an identifier (`ident`, computed by the caller with
/// [`is_ident`]), else quoted.
pub fn write_key(out: &mut String, key: &str, ident: bool) {
    if ident {
        out.push_str(key);
    } else {
        write_json_str(out, key);
    }
}

/// Append a key of an object literal that is evaluated (a Zod shape, an enum's `const`
/// object): `__proto__: …` there, plain or quoted, sets the object's prototype instead of adding
/// a property, so that key is written computed, `["__proto__"]: …`, which defines a property.
/// (In a type, an interface or a type literal, `__proto__` is an ordinary property name.)
pub fn write_value_key(out: &mut String, key: &str, ident: bool) {
    if key == "__proto__" {
        out.push_str("[\"__proto__\"]");
    } else {
        write_key(out, key, ident);
    }
}

pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_json_str(&mut out, s);
    out
}

/// Append `s` as a JSON string literal, exactly as `serde_json::to_string` writes it: `"` and
/// `\` escaped, control characters as `\n`-style or `\u00xx` escapes, everything else as is.
pub fn write_json_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    // Runs without anything to escape are copied in one piece; every byte that needs an escape
    // is ASCII, so the slice boundaries are character boundaries.
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(short);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

pub fn lit(l: &Lit) -> String {
    let mut s = String::new();
    write_lit(&mut s, l);
    s
}

/// Append a literal as TypeScript (and JavaScript) source.
pub fn write_lit(out: &mut String, l: &Lit) {
    match l {
        Lit::Str(s) => write_json_str(out, s),
        Lit::Int(i) => out.push_str(i),
        Lit::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Lit::Null => out.push_str("null"),
    }
}

/// JSDoc for a doc string (empty when there is none).
pub fn jsdoc<S: AsRef<str>>(doc: &Option<S>, indent: &str) -> String {
    let mut s = String::new();
    write_jsdoc(&mut s, doc.as_ref().map(AsRef::as_ref), indent);
    s
}

/// Append the JSDoc comment for a doc string (nothing when there is none).
pub fn write_jsdoc(out: &mut String, doc: Option<&str>, indent: &str) {
    let Some(d) = doc else { return };
    let escaped;
    let d = if d.contains("*/") {
        escaped = d.replace("*/", "*\\/");
        &escaped
    } else {
        d
    };
    let mut lines = d.lines();
    if let (Some(line), None) = (lines.next(), lines.next()) {
        out.push_str(indent);
        out.push_str("/** ");
        out.push_str(line);
        out.push_str(" */\n");
        return;
    }
    out.push_str(indent);
    out.push_str("/**\n");
    for line in d.lines() {
        out.push_str(indent);
        if line.is_empty() {
            out.push_str(" *\n");
        } else {
            out.push_str(" * ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(indent);
    out.push_str(" */\n");
}

/// Append the name a declaration has in a view (`Item`, or `ItemInput` for a distinct request
/// shape).
pub fn write_name(out: &mut String, v: &Views, id: DeclId, view: View) {
    out.push_str(&v.ir.decls[id].name);
    out.push_str(v.name_suffix(id, view));
}

/// Render a type; `on_ref` sees every declaration referenced (for imports).
pub fn ts_type(v: &Views, t: &Ty, view: View, on_ref: &mut dyn FnMut(DeclId)) -> String {
    let mut w = TsWriter::new(v, view);
    let mut s = String::new();
    w.write_ty(&mut s, t);
    w.refs.drain(..).for_each(on_ref);
    s
}

/// Whether a type renders differently in the response and the request view. `bufs` are scratch
/// buffers the caller keeps across calls.
pub fn ty_views_differ(v: &Views, t: &Ty, bufs: &mut [String; 2]) -> bool {
    let [r, q] = bufs;
    r.clear();
    q.clear();
    TsWriter::untracked(v, View::Response).write_ty(r, t);
    TsWriter::untracked(v, View::Request).write_ty(q, t);
    r != q
}

/// Whether a model's response shape `r` and request shape `q` render differently (apart from the
/// name).
pub fn shapes_differ(v: &Views, r: &ModelShape, q: &ModelShape, bufs: &mut [String; 2]) -> bool {
    let [rs, qs] = bufs;
    rs.clear();
    qs.clear();
    TsWriter::untracked(v, View::Response).write_shape(rs, r, None);
    TsWriter::untracked(v, View::Request).write_shape(qs, q, None);
    rs != qs
}

/// Renders IR types as TypeScript in one view, appending to the caller's buffer.
pub struct TsWriter<'v, 'a> {
    v: &'v Views<'a>,
    /// The view types are rendered in.
    pub view: View,
    /// Every declaration referenced since the caller last drained this (duplicates included):
    /// what the file has to import. Left empty by an untracked writer.
    pub refs: Vec<DeclId>,
    track: bool,
    /// Byte ranges in the output of the parts of the unions being built, to drop repeated
    /// parts. A stack: a union nested in a part (`(A | B)[]`) works above its parent's parts and
    /// truncates back when done.
    parts: Parts,
}

/// The parts of the unions being built (byte ranges in the output), with an index by the hash
/// of their text: a union or `Literal` of 20,000 members was quadratic when each new part was
/// compared with every earlier one.
#[derive(Default)]
pub(crate) struct Parts {
    ranges: Vec<(Range<usize>, u64)>,
    by_hash: rustc_hash::FxHashMap<u64, Vec<usize>>,
}

fn text_hash(s: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(s)
}

impl Parts {
    pub(crate) fn len(&self) -> usize {
        self.ranges.len()
    }

    pub(crate) fn truncate(&mut self, n: usize) {
        while self.ranges.len() > n {
            let Some((_, h)) = self.ranges.pop() else {
                break;
            };
            let i = self.ranges.len();
            if let Some(v) = self.by_hash.get_mut(&h) {
                if v.last() == Some(&i) {
                    v.pop();
                }
                if v.is_empty() {
                    self.by_hash.remove(&h);
                }
            }
        }
    }

    /// Whether a part from `base` on already reads `text`.
    pub(crate) fn repeats(&self, out: &str, base: usize, text: &str) -> bool {
        self.by_hash.get(&text_hash(text)).is_some_and(|v| {
            v.iter()
                .rev()
                .take_while(|&&i| i >= base)
                .any(|&i| out[self.ranges[i].0.clone()] == *text)
        })
    }

    pub(crate) fn push(&mut self, out: &str, r: Range<usize>) {
        let h = text_hash(&out[r.clone()]);
        self.by_hash.entry(h).or_default().push(self.ranges.len());
        self.ranges.push((r, h));
    }
}

/// What a union saw besides its parts.
#[derive(Default)]
struct UnionFlags {
    null: bool,
    unknown: bool,
}

impl<'v, 'a> TsWriter<'v, 'a> {
    pub fn new(v: &'v Views<'a>, view: View) -> Self {
        TsWriter {
            v,
            view,
            refs: Vec::new(),
            track: true,
            parts: Parts::default(),
        }
    }

    /// A writer that does not record references.
    pub fn untracked(v: &'v Views<'a>, view: View) -> Self {
        TsWriter {
            track: false,
            ..TsWriter::new(v, view)
        }
    }

    /// Append `t`. Returns whether it rendered as a top-level union (`A | B`), which needs
    /// parentheses inside `[]` and is split into its parts inside another union.
    pub fn write_ty(&mut self, out: &mut String, t: &Ty) -> bool {
        match t {
            Ty::Prim(Prim::Decimal) if self.view == View::Request => {
                out.push_str("number | string");
                true
            }
            Ty::Prim(p) => {
                out.push_str(match p {
                    Prim::Str
                    | Prim::DateTime
                    | Prim::Date
                    | Prim::Time
                    | Prim::Duration
                    | Prim::Uuid
                    | Prim::Bytes
                    | Prim::Decimal => "string",
                    Prim::Int | Prim::Float => "number",
                    Prim::Bool => "boolean",
                    Prim::Null => "null",
                });
                false
            }
            Ty::Unknown => {
                out.push_str("unknown");
                false
            }
            Ty::Literal(ls) => self.write_literal(out, ls.iter()),
            Ty::List(inner) => {
                let start = out.len();
                if self.write_ty(out, inner) {
                    // Only the element just written moves.
                    out.insert(start, '(');
                    out.push(')');
                }
                out.push_str("[]");
                false
            }
            Ty::Tuple(ts) => {
                out.push('[');
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.write_ty(out, t);
                }
                out.push(']');
                false
            }
            Ty::Dict(k, val) => {
                if is_finite_key(self.v, k) {
                    out.push_str("Partial<Record<");
                    self.write_ty(out, k);
                    out.push_str(", ");
                    self.write_ty(out, val);
                    out.push_str(">>");
                } else if self.v.mentions_recursive_alias(val) {
                    // `type J = Record<string, J> | …` is TS2456 (an alias may only recur
                    // through object, array and tuple types): an index signature instead.
                    out.push_str("{ [key: string]: ");
                    self.write_ty(out, val);
                    out.push_str(" }");
                } else {
                    out.push_str("Record<string, ");
                    self.write_ty(out, val);
                    out.push('>');
                }
                false
            }
            Ty::Union(ts) => self.write_union(out, ts),
            Ty::Ref(id, args) => {
                self.write_ref(out, *id, args);
                false
            }
            Ty::Var(n) => {
                out.push_str(n);
                false
            }
            Ty::Json(inner) => match self.view {
                View::Response => self.write_ty(out, inner),
                View::Request => {
                    out.push_str("string");
                    false
                }
            },
            Ty::Constrained(inner, _) => self.write_ty(out, inner),
        }
    }

    /// Append a reference to a declaration with its type arguments (`unknown` for missing
    /// ones).
    pub fn write_ref(&mut self, out: &mut String, id: DeclId, args: &[Ty]) {
        if self.track {
            self.refs.push(id);
        }
        write_name(out, self.v, id, self.view);
        let arity = params_of(self.v.ir, id).len();
        if arity == 0 {
            return;
        }
        out.push('<');
        for i in 0..arity {
            if i > 0 {
                out.push_str(", ");
            }
            match args.get(i) {
                Some(a) => {
                    self.write_ty(out, a);
                }
                None => out.push_str("unknown"),
            }
        }
        out.push('>');
    }

    /// Literal values joined by ` | ` in first-seen order without repeats (`never` when there
    /// are none); `null` stays where it is. Returns whether that is a union.
    fn write_literal<'l>(&mut self, out: &mut String, ls: impl Iterator<Item = &'l Lit>) -> bool {
        let base = self.parts.len();
        for l in ls {
            let sep = self.open_part(out, base);
            write_lit(out, l);
            self.keep_part(out, base, sep);
        }
        let n = self.parts.len() - base;
        self.parts.truncate(base);
        if n == 0 {
            out.push_str("never");
        }
        n > 1
    }

    /// A union's parts in first-seen order without repeats; a member that renders as a union
    /// contributes its parts. `null` goes last, any `unknown` part makes the whole union
    /// `unknown`, a single part is not a union and none is `never`.
    fn write_union(&mut self, out: &mut String, members: &[Ty]) -> bool {
        let start = out.len();
        let base = self.parts.len();
        let refs = self.refs.len();
        let mut flags = UnionFlags::default();
        for t in members {
            self.add_member(out, base, t, &mut flags);
        }
        let n = self.parts.len() - base;
        self.parts.truncate(base);
        if flags.unknown {
            // Nothing the members mention is written: nothing to import (an unused import
            // fails `noUnusedLocals`).
            out.truncate(start);
            out.push_str("unknown");
            self.refs.truncate(refs);
            return false;
        }
        if flags.null {
            if n > 0 {
                out.push_str(" | ");
            }
            out.push_str("null");
        }
        match n + usize::from(flags.null) {
            0 => {
                out.push_str("never");
                false
            }
            1 => false,
            _ => true,
        }
    }

    /// Add the top-level parts of one union member. The members that can render as a union
    /// (a union, a literal, a request decimal, and wrappers of those) add their parts one by
    /// one; what they would have de-duplicated or reordered on their own is de-duplicated and
    /// reordered here the same way. An empty union or literal is the single part `never`.
    fn add_member(&mut self, out: &mut String, base: usize, t: &Ty, flags: &mut UnionFlags) {
        match t {
            Ty::Union(ts) if !ts.is_empty() => {
                for t in ts.iter() {
                    self.add_member(out, base, t, flags);
                }
            }
            Ty::Literal(ls) if !ls.is_empty() => {
                for l in ls.iter() {
                    let sep = self.open_part(out, base);
                    write_lit(out, l);
                    self.keep_union_part(out, base, sep, flags);
                }
            }
            Ty::Prim(Prim::Decimal) if self.view == View::Request => {
                for p in ["number", "string"] {
                    let sep = self.open_part(out, base);
                    out.push_str(p);
                    self.keep_union_part(out, base, sep, flags);
                }
            }
            Ty::Json(inner) if self.view == View::Response => {
                self.add_member(out, base, inner, flags)
            }
            Ty::Constrained(inner, _) => self.add_member(out, base, inner, flags),
            _ => {
                let sep = self.open_part(out, base);
                self.write_ty(out, t);
                self.keep_union_part(out, base, sep, flags);
            }
        }
    }

    /// Start a part of the union whose parts begin at `self.parts[base]`: the ` | ` separator
    /// unless it is the first. Returns where the separator starts.
    fn open_part(&self, out: &mut String, base: usize) -> usize {
        let sep = out.len();
        if self.parts.len() > base {
            out.push_str(" | ");
        }
        sep
    }

    /// The start of the part text opened at `sep`.
    fn part_start(&self, base: usize, sep: usize) -> usize {
        if self.parts.len() > base {
            sep + 3
        } else {
            sep
        }
    }

    /// Keep the part written since `sep` unless it repeats an earlier one.
    fn keep_part(&mut self, out: &mut String, base: usize, sep: usize) {
        let start = self.part_start(base, sep);
        if self.parts.repeats(out, base, &out[start..]) {
            out.truncate(sep);
        } else {
            self.parts.push(out, start..out.len());
        }
    }

    /// [`Self::keep_part`] for a union: `null` is set aside (it goes last) and `unknown` noted.
    fn keep_union_part(&mut self, out: &mut String, base: usize, sep: usize, f: &mut UnionFlags) {
        let text = &out[self.part_start(base, sep)..];
        if text == "null" {
            f.null = true;
            out.truncate(sep);
            return;
        }
        if text == "unknown" {
            f.unknown = true;
        }
        self.keep_part(out, base, sep);
    }

    /// `name` or `name<T, U>` (nothing for `None`).
    fn write_head(&self, out: &mut String, head: Option<(DeclId, &[String])>) {
        let Some((id, params)) = head else { return };
        write_name(out, self.v, id, self.view);
        for (i, p) in params.iter().enumerate() {
            out.push_str(if i == 0 { "<" } else { ", " });
            out.push_str(p);
        }
        if !params.is_empty() {
            out.push('>');
        }
    }

    /// `export type Head = …;` or `export interface Head extends … { … }` for a model shape.
    fn write_shape(
        &mut self,
        out: &mut String,
        shape: &ModelShape,
        head: Option<(DeclId, &[String])>,
    ) {
        match shape {
            ModelShape::Alias(t) => {
                out.push_str("export type ");
                self.write_head(out, head);
                out.push_str(" = ");
                self.write_ty(out, t);
                out.push_str(";\n");
            }
            ModelShape::Object {
                bases,
                fields,
                extra_allow,
            } => {
                out.push_str("export interface ");
                self.write_head(out, head);
                for (i, (b, args, omit)) in bases.iter().enumerate() {
                    out.push_str(if i == 0 { " extends " } else { ", " });
                    if omit.is_empty() {
                        self.write_ref(out, *b, args);
                    } else {
                        out.push_str("Omit<");
                        self.write_ref(out, *b, args);
                        for (j, k) in omit.iter().enumerate() {
                            out.push_str(if j == 0 { ", " } else { " | " });
                            write_json_str(out, k);
                        }
                        out.push('>');
                    }
                }
                if fields.is_empty() && !extra_allow {
                    out.push_str(" {}\n");
                } else {
                    out.push_str(" {\n");
                    self.write_fields(out, fields, *extra_allow);
                    out.push_str("}\n");
                }
            }
        }
    }

    fn write_fields(&mut self, out: &mut String, fields: &[ViewField], extra: bool) {
        for f in fields {
            write_jsdoc(out, f.doc.as_deref(), "  ");
            out.push_str(if f.readonly { "  readonly " } else { "  " });
            write_key(out, &f.key, f.key_ident);
            out.push_str(if f.optional { "?: " } else { ": " });
            self.write_ty(out, &f.ty);
            out.push_str(";\n");
        }
        if extra {
            out.push_str("  [key: string]: unknown;\n");
        }
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

/// Append one import line per module for the declarations in `refs` (each named in its view,
/// as a Zod schema when `schemas`): `{stmt} { A, B } from "<path><file_suffix>";`, modules and names in
/// sorted order. `refs` may hold repeats; it is sorted in place.
pub fn write_imports(
    out: &mut String,
    v: &Views,
    from_stem: &str,
    refs: &mut Vec<(DeclId, View)>,
    stmt: &str,
    schemas: bool,
    file_suffix: &str,
) {
    refs.sort_unstable();
    refs.dedup();
    // Two views can share a name (no distinct `…Input`): dedup again by name.
    let mut named: Vec<(usize, String)> = refs
        .iter()
        .map(|&(id, view)| {
            let mut n = String::new();
            write_name(&mut n, v, id, view);
            if schemas {
                n.push_str(v.schema_suffix(id, view));
            }
            (v.ir.decls[id].module, n)
        })
        .collect();
    named.sort_unstable();
    named.dedup();
    for group in named.chunk_by(|a, b| a.0 == b.0) {
        out.push_str(stmt);
        out.push_str(" { ");
        for (i, (_, n)) in group.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(n);
        }
        out.push_str(" } from \"");
        out.push_str(&import_path(from_stem, &v.ir.modules[group[0].0].stem));
        out.push_str(file_suffix);
        out.push_str("\";\n");
    }
}

pub fn header(py_rel: &str) -> String {
    let mut s = String::new();
    write_header(&mut s, py_rel);
    s
}

/// Append the generated-file header naming the Python module it mirrors.
pub fn write_header(out: &mut String, py_rel: &str) {
    out.push_str("// MIRRORS: ");
    out.push_str(py_rel);
    out.push_str(
        "\n// RUN: fsi types\n// Generated by fsi from the Pydantic DTOs in that file. Do not edit: changes are overwritten.\n",
    );
}

/// Emit the `.ts` file for one module.
pub fn emit_module(v: &Views, mi: usize) -> (String, Exports) {
    let ir = v.ir;
    let module = &ir.modules[mi];
    let mut w = TsWriter::new(v, View::Response);
    // Declarations referenced, in the view they were referenced in (for imports).
    let mut used: Vec<(DeclId, View)> = Vec::new();
    // About what the bench corpus needs (700 bytes per declaration): a body rarely grows.
    let mut body = String::with_capacity(module.decls.len() * 1024);
    let mut exports = Vec::new();
    let mut request_doc = String::new();
    for &id in &module.decls {
        let d = &ir.decls[id];
        body.push('\n');
        write_jsdoc(&mut body, d.doc.as_deref(), "");
        match &d.kind {
            DeclKind::Enum(e) => {
                body.push_str("export type ");
                body.push_str(&d.name);
                body.push_str(" = ");
                w.write_literal(&mut body, e.members.iter().map(|(_, l)| l));
                body.push_str(";\nexport const ");
                body.push_str(&d.name);
                body.push_str(" = {\n");
                for (n, l) in &e.members {
                    body.push_str("  ");
                    write_value_key(&mut body, n, is_ident(n));
                    body.push_str(": ");
                    write_lit(&mut body, l);
                    body.push_str(",\n");
                }
                body.push_str("} as const;\n");
                exports.push((d.name.clone(), true));
            }
            DeclKind::Alias(a) => {
                for view in [View::Response, View::Request] {
                    if view == View::Request && !v.input[id] {
                        continue;
                    }
                    if view == View::Request {
                        body.push('\n');
                        write_jsdoc(&mut body, d.doc.as_deref(), "");
                    }
                    w.view = view;
                    body.push_str("export type ");
                    w.write_head(&mut body, Some((id, &a.params)));
                    body.push_str(" = ");
                    w.write_ty(&mut body, &a.ty);
                    body.push_str(";\n");
                    used.extend(w.refs.drain(..).map(|r| (r, view)));
                    exports.push((v.name(id, view), false));
                }
            }
            DeclKind::Model(m) => {
                for view in [View::Response, View::Request] {
                    if view == View::Request && !v.input[id] {
                        continue;
                    }
                    if view == View::Request {
                        body.push('\n');
                        request_doc.clear();
                        if let Some(doc) = &d.doc {
                            request_doc.push_str(doc);
                            request_doc.push_str("\n\n");
                        }
                        request_doc.push_str("Request shape of `");
                        request_doc.push_str(&d.name);
                        request_doc.push_str("` (what the backend accepts).");
                        write_jsdoc(&mut body, Some(&request_doc), "");
                    }
                    w.view = view;
                    w.write_shape(&mut body, v.shape(id, view), Some((id, &m.params)));
                    used.extend(w.refs.drain(..).map(|r| (r, view)));
                    exports.push((v.name(id, view), false));
                }
            }
        }
    }
    // Imports: `import type` per other module, names in both views as referenced.
    used.retain(|&(r, _)| ir.decls[r].module != mi);
    let mut out = String::with_capacity(body.len() + 256 + used.len() * 32);
    write_header(&mut out, &module.py_rel);
    if !used.is_empty() {
        out.push('\n');
        write_imports(
            &mut out,
            v,
            &module.stem,
            &mut used,
            "import type",
            false,
            "",
        );
    }
    out.push_str(&body);
    (out, exports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typesync::views::Settings;
    use std::sync::Arc;

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
    fn keys_are_quoted_when_needed() {
        assert_eq!(prop_key("itemId"), "itemId");
        assert_eq!(prop_key("item-id"), "\"item-id\"");
        assert_eq!(prop_key("2x"), "\"2x\"");
        let mut s = String::new();
        write_value_key(&mut s, "__proto__", true);
        assert_eq!(s, "[\"__proto__\"]");
    }

    #[test]
    fn json_strings_match_serde_json() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é\u{7f}\u{2028}😀 \"q\" \\ end");
        for s in ["", "plain", all.as_str(), "\u{1}x\u{1f}", "a\"b", "tail\\"] {
            assert_eq!(json_str(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn jsdoc_lines() {
        assert_eq!(jsdoc(&None::<&str>, ""), "");
        assert_eq!(
            jsdoc(&Some("One */ line"), "  "),
            "  /** One *\\/ line */\n"
        );
        assert_eq!(jsdoc(&Some("A\n\nB"), ""), "/**\n * A\n *\n * B\n */\n");
        assert_eq!(jsdoc(&Some(""), ""), "/**\n */\n");
    }

    fn ty(v: &Views, t: &Ty, view: View) -> String {
        ts_type(v, t, view, &mut |_| {})
    }

    #[test]
    fn unions_flatten_dedup_and_put_null_last() {
        let ir = Ir::default();
        let v = Views::new(&ir, Settings { by_alias: true });
        let s = |x: &str| Lit::Str(x.into());
        let p = Ty::Prim;
        let u = |ts: Vec<Ty>| Ty::Union(ts.into());
        let lits = |ls: Vec<Lit>| Ty::Literal(ls.into());
        let rec = |t: Ty| Ty::Dict(Arc::new(p(Prim::Str)), Arc::new(t));
        let t = u(vec![
            rec(u(vec![p(Prim::Int), p(Prim::Str)])),
            p(Prim::Null),
            lits(vec![s("a|b"), Lit::Null, s("x")]),
            p(Prim::Decimal),
            p(Prim::Str),
        ]);
        assert_eq!(
            ty(&v, &t, View::Request),
            "Record<string, number | string> | \"a|b\" | \"x\" | number | string | null"
        );
        assert_eq!(
            ty(&v, &t, View::Response),
            "Record<string, number | string> | \"a|b\" | \"x\" | string | null"
        );
        // A literal on its own keeps `null` in place.
        let l = lits(vec![s("a"), Lit::Null, s("a"), Lit::Int("1".into())]);
        assert_eq!(ty(&v, &l, View::Response), "\"a\" | null | 1");
        // Parentheses in arrays, `unknown` absorbs, empty members are `never`.
        let list = Ty::List(Arc::new(u(vec![p(Prim::Bool), p(Prim::Null)])));
        assert_eq!(ty(&v, &list, View::Response), "(boolean | null)[]");
        let any = u(vec![p(Prim::Int), Ty::Unknown]);
        assert_eq!(ty(&v, &any, View::Response), "unknown");
        assert_eq!(ty(&v, &u(vec![]), View::Response), "never");
        let nested = u(vec![u(vec![]), lits(vec![]), p(Prim::Int)]);
        assert_eq!(ty(&v, &nested, View::Response), "never | number");
        assert_eq!(ty(&v, &u(vec![p(Prim::Null)]), View::Response), "null");
    }
}
