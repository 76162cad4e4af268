//! Zod (v4) emitter: `<module>.zod.ts` next to each `<module>.ts`, one `<Name>Schema` per
//! declaration and `<Name>InputSchema` where the request shape differs.
//!
//! Wire facts (see docs/typesync.md): naive datetimes need `{ offset: true, local: true }`,
//! UUIDs use `z.guid()` (pydantic accepts any 128-bit value), negative durations need a custom
//! regex, Decimal is a string in responses and `number | string` in requests. Recursion and
//! forward references go through `z.lazy` with an explicit `z.ZodType<T>` return type so that
//! TypeScript can infer the schema's type.
//!
//! As in the TypeScript emitter, text is appended to one buffer as it is produced, and the header
//! and imports are put in front of the body once it is known what the body references.

use super::ir::*;
use super::ts::{
    self, Exports, TsWriter, write_imports, write_json_str, write_lit, write_value_key,
};
use super::views::{ModelShape, View, ViewField, Views};

const DECIMAL_RE: &str = r"/^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/";
const DURATION_RE: &str = r"/^-?P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$/";
const TIME_RE: &str = r"/^\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/";
const UNKNOWN: &str = "z.unknown()";
const NULL: &str = "z.null()";

pub fn schema_name(v: &Views, id: DeclId, view: View) -> String {
    let mut s = String::new();
    write_schema_name(&mut s, v, id, view);
    s
}

/// Append `<Name>Schema` or `<Name>InputSchema`.
fn write_schema_name(out: &mut String, v: &Views, id: DeclId, view: View) {
    ts::write_name(out, v, id, view);
    out.push_str(v.schema_suffix(id, view));
}

/// The state of one module's emission; `from`, `params` and `view` change per declaration.
struct Cx<'v, 'a> {
    v: &'v Views<'a>,
    /// The module being emitted.
    here: usize,
    /// The declaration being emitted (for lazy decisions) and its type parameters.
    from: DeclId,
    params: &'v [String],
    view: View,
    /// Schemas used from other modules, in the view they are used in (repeats included).
    schemas: Vec<(DeclId, View)>,
    /// TS types used in `z.ZodType<...>` annotations, this module's own included (they come
    /// from the `.ts` file).
    types: Vec<(DeclId, View)>,
    /// Renders those annotations.
    ts: TsWriter<'v, 'a>,
    /// Byte ranges in the output of the parts of the unions and literals being built, to drop
    /// repeated parts (a stack, as in [`TsWriter`]).
    parts: ts::Parts,
}

impl Cx<'_, '_> {
    /// Append the schema for `t` with the constraints `c` of the types around it.
    fn write(&mut self, out: &mut String, t: &Ty, c: Option<&Constraints>) {
        match t {
            Ty::Prim(p) => write_prim(out, *p, self.view, c),
            Ty::Unknown => out.push_str(UNKNOWN),
            Ty::Literal(ls) => self.write_literal(out, ls.iter()),
            Ty::List(inner) => {
                out.push_str("z.array(");
                self.write(out, inner, None);
                out.push(')');
                if let Some(c) = c {
                    push_check(out, ".min(", &c.min_length);
                    push_check(out, ".max(", &c.max_length);
                }
            }
            Ty::Tuple(ts) => {
                out.push_str("z.tuple([");
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.write(out, t, None);
                }
                out.push_str("])");
            }
            Ty::Dict(k, val) => {
                if ts::is_finite_key(self.v, k) {
                    out.push_str("z.partialRecord(");
                    self.write(out, k, None);
                    out.push_str(", ");
                } else {
                    out.push_str("z.record(z.string(), ");
                }
                self.write(out, val, None);
                out.push(')');
            }
            Ty::Union(ts) => self.write_union(out, ts, c),
            Ty::Ref(id, args) => self.write_ref(out, *id, args),
            Ty::Var(n) => out.push_str(n),
            Ty::Json(inner) => match self.view {
                View::Response => self.write(out, inner, None),
                View::Request => out.push_str("z.string()"),
            },
            Ty::Constrained(inner, cons)
                if cons.discriminator.is_some()
                    && matches!(&**inner, Ty::Union(_) | Ty::Ref(..))
                    && self.write_discriminated(out, inner, cons) => {}
            Ty::Constrained(inner, cons) => match c {
                None => self.write(out, inner, Some(cons)),
                Some(c) => {
                    let mut merged = c.clone();
                    merged.merge((**cons).clone());
                    self.write(out, inner, Some(&merged))
                }
            },
        }
    }

    /// `z.discriminatedUnion("key", [A, B])` (`.nullable()` with `None`) when every other
    /// member is a non-generic model whose schema is an object that can be used right away (not
    /// lazy) and has the discriminator as a required key with literal values no other member
    /// has, all under the same key. Returns false, writing nothing, otherwise: a plain union
    /// is then correct, only less precise in its errors.
    fn write_discriminated(&mut self, out: &mut String, t: &Ty, c: &Constraints) -> bool {
        let v = self.v;
        let Some(d) = &c.discriminator else {
            return false;
        };
        // The union itself, or a (non-generic) alias of one: `x: ContentBlock = Field(…)`.
        let members: &[Ty] = match t {
            Ty::Union(ms) => ms,
            Ty::Ref(id, args) if args.is_empty() => match &v.ir.decls[*id].kind {
                DeclKind::Alias(a) if a.params.is_empty() => match &a.ty {
                    Ty::Union(ms) => ms,
                    _ => return false,
                },
                _ => return false,
            },
            _ => return false,
        };
        let mut key: Option<std::sync::Arc<str>> = None;
        let mut seen: Vec<Lit> = Vec::new();
        let mut refs = Vec::new();
        let mut null = false;
        for m in members.iter() {
            let id = match m {
                Ty::Prim(Prim::Null) => {
                    null = true;
                    continue;
                }
                Ty::Ref(id, args) if args.is_empty() => *id,
                _ => return false,
            };
            let Some(model) = super::views::model(v.ir, id) else {
                return false;
            };
            if !model.params.is_empty()
                || v.needs_lazy(self.from, id)
                || !matches!(v.shape(id, self.view), ModelShape::Object { .. })
            {
                return false;
            }
            let flat = v.flat_fields(id, &[]);
            let Some(f) = flat
                .iter()
                .filter(|f| &*f.name == d.as_str())
                .find_map(|f| v.view_field(f, &model.config, self.view))
            else {
                return false;
            };
            let lits = match &f.ty {
                Ty::Literal(ls) => ls.clone(),
                Ty::Constrained(t, _) => match &**t {
                    Ty::Literal(ls) => ls.clone(),
                    _ => return false,
                },
                _ => return false,
            };
            if f.optional
                || key.as_ref().is_some_and(|k| *k != f.key)
                || lits.iter().any(|l| *l == Lit::Null || seen.contains(l))
            {
                return false;
            }
            seen.extend(lits.iter().cloned());
            key = Some(f.key.clone());
            refs.push(id);
        }
        let Some(key) = key else { return false };
        if refs.len() < 2 {
            return false;
        }
        out.push_str("z.discriminatedUnion(");
        write_json_str(out, &key);
        out.push_str(", [");
        for (i, id) in refs.into_iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.write_ref(out, id, &[]);
        }
        out.push_str("])");
        if null {
            out.push_str(".nullable()");
        }
        true
    }

    /// Members without repeats in `z.union([...])` (one member as is, none `z.null()`), then
    /// `.nullable()` when `None` is a member; an unknown member makes it `z.unknown()`.
    fn write_union(&mut self, out: &mut String, members: &[Ty], c: Option<&Constraints>) {
        let start = out.len();
        let base = self.parts.len();
        let (schemas, types) = (self.schemas.len(), self.types.len());
        let mut null = false;
        for t in members {
            if *t == Ty::Prim(Prim::Null)
                || matches!(t, Ty::Literal(l) if l.len() == 1 && l[0] == Lit::Null)
            {
                null = true;
                continue;
            }
            let sep = out.len();
            if self.parts.len() > base {
                out.push_str(", ");
            }
            let part = out.len();
            self.write(out, t, c);
            if out[part..] == *UNKNOWN {
                // The members after it are not rendered, and those before are dropped: nothing
                // they mention is imported.
                self.parts.truncate(base);
                self.schemas.truncate(schemas);
                self.types.truncate(types);
                out.truncate(start);
                out.push_str(UNKNOWN);
                return;
            }
            self.keep_part(out, base, sep, part);
        }
        let n = self.parts.len() - base;
        self.parts.truncate(base);
        match n {
            0 => out.push_str(NULL),
            1 => {}
            // Only the members just written move.
            _ => {
                out.insert_str(start, "z.union([");
                out.push_str("])");
            }
        }
        if null && out[start..] != *NULL {
            out.push_str(".nullable()");
        }
    }

    /// Literal values without repeats: `z.literal(a)`, `z.enum([a, b])` when all are strings,
    /// else `z.union([z.literal(a), z.literal(1)])`; `.nullable()` when `None` is among them
    /// (alone, `z.null()`).
    fn write_literal<'l>(&mut self, out: &mut String, ls: impl Iterator<Item = &'l Lit> + Clone) {
        let all_str = ls.clone().all(|l| matches!(l, Lit::Str(_) | Lit::Null));
        let start = out.len();
        let base = self.parts.len();
        let mut null = false;
        for l in ls {
            if *l == Lit::Null {
                null = true;
                continue;
            }
            let sep = out.len();
            if self.parts.len() > base {
                out.push_str(", ");
            }
            if !all_str {
                out.push_str("z.literal(");
            }
            let part = out.len();
            write_lit(out, l);
            if self.keep_part(out, base, sep, part) && !all_str {
                out.push(')');
            }
        }
        let n = self.parts.len() - base;
        self.parts.truncate(base);
        match n {
            0 => out.push_str(NULL),
            1 if all_str => {
                out.insert_str(start, "z.literal(");
                out.push(')');
            }
            1 => {}
            _ => {
                out.insert_str(start, if all_str { "z.enum([" } else { "z.union([" });
                out.push_str("])");
            }
        }
        if null && n > 0 {
            out.push_str(".nullable()");
        }
    }

    /// Keep the part whose text was written from `part` on (after its separator at `sep`)
    /// unless that text repeats an earlier part; returns whether it was kept.
    fn keep_part(&mut self, out: &mut String, base: usize, sep: usize, part: usize) -> bool {
        if self.parts.repeats(out, base, &out[part..]) {
            out.truncate(sep);
            false
        } else {
            self.parts.push(out, part..out.len());
            true
        }
    }

    fn write_ref(&mut self, out: &mut String, id: DeclId, args: &[Ty]) {
        let v = self.v;
        if v.ir.decls[id].module != self.here {
            self.schemas.push((id, self.view));
        }
        if !v.needs_lazy(self.from, id) {
            self.write_call(out, id, args);
            return;
        }
        // Annotate the lazy getter so TypeScript does not need the schema's own type; not
        // possible when the type mentions the declaration's own type parameters.
        out.push_str("z.lazy((): z.ZodType");
        let open = out.len();
        out.push('<');
        self.ts.view = self.view;
        self.ts.write_ref(out, id, args);
        if self.params.iter().any(|p| ts_mentions(&out[open + 1..], p)) {
            out.truncate(open);
            self.ts.refs.clear();
        } else {
            out.push('>');
            let view = self.view;
            self.types.extend(self.ts.refs.drain(..).map(|r| (r, view)));
        }
        out.push_str(" => ");
        self.write_call(out, id, args);
        out.push(')');
    }

    /// The schema's name, called with its type arguments' schemas when it is generic.
    fn write_call(&mut self, out: &mut String, id: DeclId, args: &[Ty]) {
        write_schema_name(out, self.v, id, self.view);
        let arity = ts::params_of(self.v.ir, id).len();
        if arity == 0 {
            return;
        }
        out.push('(');
        for i in 0..arity {
            if i > 0 {
                out.push_str(", ");
            }
            match args.get(i) {
                Some(a) => self.write(out, a, None),
                None => out.push_str(UNKNOWN),
            }
        }
        out.push(')');
    }

    /// A model's object schema: its bases chained with `.extend(…shape)`, then its own fields.
    fn write_object(
        &mut self,
        out: &mut String,
        bases: &[(DeclId, Vec<Ty>, Vec<String>)],
        fields: &[ViewField],
        extra_allow: bool,
        strict: bool,
    ) {
        // `extra="forbid"` (request view only): `z.strictObject`, or `.strict()` after a chain
        // whose first base is not strict; `.strip()` when that base is strict and this is not.
        let first_strict = bases.first().is_some_and(|(b, _, _)| self.strict(*b));
        for (i, (b, args, omit)) in bases.iter().enumerate() {
            if i > 0 {
                out.push_str(".extend(");
            }
            // Bases are never lazy: `.extend` needs the shape now.
            if self.v.ir.decls[*b].module != self.here {
                self.schemas.push((*b, self.view));
            }
            self.write_call(out, *b, args);
            if !omit.is_empty() {
                out.push_str(".omit({ ");
                for (j, k) in omit.iter().enumerate() {
                    if j > 0 {
                        out.push_str(", ");
                    }
                    write_value_key(out, k, ts::is_ident(k));
                    out.push_str(": true");
                }
                out.push_str(" })");
            }
            if i > 0 {
                out.push_str(".shape)");
            }
        }
        let object = if strict {
            "z.strictObject({"
        } else {
            "z.object({"
        };
        match (bases.is_empty(), fields.is_empty()) {
            (true, true) => {
                out.push_str(object);
                out.push_str("})");
            }
            (true, false) => {
                out.push_str(object);
                out.push('\n');
                self.write_fields(out, fields);
                out.push_str("})");
            }
            (false, true) => {}
            (false, false) => {
                out.push_str(".extend({\n");
                self.write_fields(out, fields);
                out.push_str("})");
            }
        }
        if extra_allow {
            out.push_str(".catchall(z.unknown())");
        } else if !bases.is_empty() && strict && !first_strict {
            out.push_str(".strict()");
        } else if !bases.is_empty() && !strict && first_strict {
            out.push_str(".strip()");
        }
    }

    /// Whether a model's schema in the current view refuses unknown keys: `extra="forbid"` in
    /// the request view. A response-only schema (the model has a distinct `…InputSchema`) strips
    /// unknown keys instead (a tolerant reader: a backend that adds a field does not break the
    /// frontend's parse); a model with one schema for both views gets it strict, as the request
    /// needs (pydantic never dumps a key such a model does not declare).
    fn strict(&self, id: DeclId) -> bool {
        (self.view == View::Request || !self.v.input[id])
            && super::views::model(self.v.ir, id).is_some_and(|m| {
                m.config.extra_forbid == Some(true) && m.config.extra_allow != Some(true)
            })
    }

    fn write_fields(&mut self, out: &mut String, fields: &[ViewField]) {
        for f in fields {
            out.push_str("  ");
            write_value_key(out, &f.key, f.key_ident);
            out.push_str(": ");
            self.write(out, &f.ty, None);
            if f.optional {
                out.push_str(".optional()");
            }
            out.push_str(",\n");
        }
    }
}

/// Whether emitted schema text calls `z.` (not as the tail of a longer identifier).
fn uses_z(body: &str) -> bool {
    body.match_indices("z.").any(|(i, _)| {
        body[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$'))
    })
}

fn ts_mentions(t: &str, ident: &str) -> bool {
    t.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .any(|w| w == ident)
}

/// `{method}{n})` when the constraint is set (`method` includes the opening parenthesis).
fn push_check(out: &mut String, method: &str, n: &Option<String>) {
    if let Some(n) = n {
        out.push_str(method);
        out.push_str(n);
        out.push(')');
    }
}

fn write_num_checks(out: &mut String, c: Option<&Constraints>) {
    let Some(c) = c else { return };
    push_check(out, ".gte(", &c.ge);
    push_check(out, ".gt(", &c.gt);
    push_check(out, ".lte(", &c.le);
    push_check(out, ".lt(", &c.lt);
    push_check(out, ".multipleOf(", &c.multiple_of);
}

fn write_str_checks(out: &mut String, c: Option<&Constraints>) {
    let Some(c) = c else { return };
    push_check(out, ".min(", &c.min_length);
    push_check(out, ".max(", &c.max_length);
    if let Some(p) = &c.pattern {
        // Python-only regex syntax, translated to JavaScript's.
        out.push_str(".regex(new RegExp(");
        if p.contains("(?P<") || p.contains("\\A") || p.contains("\\Z") {
            let p = p
                .replace("(?P<", "(?<")
                .replace("\\A", "^")
                .replace("\\Z", "$");
            write_json_str(out, &p);
        } else {
            write_json_str(out, p);
        }
        out.push_str("))");
    }
}

fn write_prim(out: &mut String, p: Prim, view: View, c: Option<&Constraints>) {
    match p {
        Prim::Str | Prim::Bytes => {
            out.push_str("z.string()");
            write_str_checks(out, c);
        }
        Prim::Int => {
            out.push_str("z.number().int()");
            write_num_checks(out, c);
        }
        Prim::Float => {
            out.push_str("z.number()");
            write_num_checks(out, c);
        }
        Prim::Bool => out.push_str("z.boolean()"),
        Prim::Null => out.push_str(NULL),
        Prim::Decimal => {
            if view == View::Request {
                out.push_str("z.union([z.number()");
                write_num_checks(out, c);
                if let Some(re) = c.and_then(decimal_digits_regex) {
                    // The number is sent as is; pydantic reads it as `Decimal(str(n))`.
                    out.push_str(".refine((n) => ");
                    out.push_str(&re);
                    out.push_str(".test(String(n)))");
                }
                out.push_str(", ");
            }
            out.push_str("z.string().regex(");
            out.push_str(&decimal_regex(c));
            out.push(')');
            write_decimal_bounds(out, c);
            if view == View::Request {
                out.push_str("])");
            }
        }
        Prim::DateTime => out.push_str("z.iso.datetime({ offset: true, local: true })"),
        Prim::Date => out.push_str("z.iso.date()"),
        Prim::Time => {
            out.push_str("z.string().regex(");
            out.push_str(TIME_RE);
            out.push(')');
        }
        Prim::Duration => {
            out.push_str("z.string().regex(");
            out.push_str(DURATION_RE);
            out.push(')');
        }
        Prim::Uuid => out.push_str("z.guid()"),
    }
}

/// A lower bound (`ge`/`gt`) of zero or more: the value cannot be negative.
fn non_negative(c: &Constraints) -> bool {
    [&c.ge, &c.gt]
        .into_iter()
        .flatten()
        .any(|b| b.parse::<f64>().is_ok_and(|b| b >= 0.0))
}

fn parse_count(n: &Option<String>) -> Option<u32> {
    n.as_deref().and_then(|n| n.parse().ok())
}

/// The regex for a Decimal string under its constraints: no `-` when the lower bound is at least
/// 0; with `max_digits`/`decimal_places`, plain notation only (no exponent), counted as pydantic
/// counts after normalizing (leading zeros of the integer part and trailing zeros of the fraction
/// do not count; `0.05` has 2 digits, as pydantic says). Unconstrained: [`DECIMAL_RE`].
fn decimal_regex(c: Option<&Constraints>) -> String {
    let Some(c) = c else {
        return DECIMAL_RE.to_string();
    };
    let sign = if non_negative(c) { "" } else { "-?" };
    match decimal_body(c) {
        Some(body) => format!("/^{sign}(?=\\.?\\d){body}$/"),
        None => format!("/^{sign}(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?$/"),
    }
}

/// The digits part of [`decimal_regex`] as a regex literal matching the unsigned number (for the
/// number branch of a request, tested on `String(n)` with an optional sign).
fn decimal_digits_regex(c: &Constraints) -> Option<String> {
    decimal_body(c).map(|body| format!("/^-?(?=\\.?\\d){body}$/"))
}

fn decimal_body(c: &Constraints) -> Option<String> {
    let digits = parse_count(&c.max_digits);
    let places = parse_count(&c.decimal_places);
    let frac = |p: u32| {
        if p == 0 {
            "(\\.0*)?".to_string()
        } else {
            format!("(\\.\\d{{0,{p}}}0*)?")
        }
    };
    match (digits, places) {
        (None, None) => None,
        (Some(n), Some(p)) => {
            // Whole digits at most n - p, places at most p (and never more than n): the total
            // then cannot exceed n.
            let p = p.min(n);
            let w = n - p;
            let whole = if w == 0 {
                String::new()
            } else {
                format!("\\d{{0,{w}}}")
            };
            Some(format!("0*{whole}{}", frac(p)))
        }
        (None, Some(p)) => Some(format!("\\d*{}", frac(p))),
        // Only the total: an integer (a zero fraction) of at most n digits, or a number whose
        // digits up to its last non-zero fraction digit are at most n (n + 1 characters with
        // the point).
        (Some(n), None) => Some(format!(
            "0*(\\d{{0,{n}}}(\\.0*)?|(?=[\\d.]{{1,{}}}0*$)\\d*\\.\\d*[1-9]0*)",
            n + 1
        )),
    }
}

/// Bounds on a Decimal's string form, as refinements (a regex cannot compare numbers): every
/// bound except a `ge` of 0, which the regex's missing `-` already says. `Number(v)` rounds
/// beyond 15-17 significant digits: a value within that of a bound may pass here and fail in
/// pydantic.
fn write_decimal_bounds(out: &mut String, c: Option<&Constraints>) {
    let Some(c) = c else { return };
    for (b, op) in [(&c.ge, ">="), (&c.gt, ">"), (&c.le, "<="), (&c.lt, "<")] {
        let Some(b) = b else { continue };
        if op == ">=" && b.parse::<f64>().is_ok_and(|x| x == 0.0) {
            continue;
        }
        out.push_str(".refine((v) => Number(v) ");
        out.push_str(op);
        out.push(' ');
        out.push_str(b);
        out.push_str(", \"must be ");
        out.push_str(op);
        out.push(' ');
        out.push_str(b);
        out.push_str("\")");
    }
}

/// `<T extends z.ZodType>(T: T) => ` before a generic declaration's schema (nothing otherwise).
fn write_generic_prefix(out: &mut String, params: &[String]) {
    if params.is_empty() {
        return;
    }
    out.push('<');
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(p);
        out.push_str(" extends z.ZodType");
    }
    out.push_str(">(");
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(p);
        out.push_str(": ");
        out.push_str(p);
    }
    out.push_str(") => ");
}

/// Emit `<stem>.zod.ts` for one module.
pub fn emit_module(v: &Views, mi: usize) -> (String, Exports) {
    let ir = v.ir;
    let module = &ir.modules[mi];
    let mut cx = Cx {
        v,
        here: mi,
        from: 0,
        params: &[],
        view: View::Response,
        schemas: Vec::new(),
        types: Vec::new(),
        ts: TsWriter::new(v, View::Response),
        parts: ts::Parts::default(),
    };
    // About what the bench corpus needs (800 bytes per declaration): a body rarely grows.
    let mut body = String::with_capacity(module.decls.len() * 1024);
    let mut exports = Vec::new();
    for &id in &module.decls {
        let d = &ir.decls[id];
        body.push('\n');
        let (params, views): (&[String], &[View]) = match &d.kind {
            DeclKind::Enum(e) => {
                body.push_str("export const ");
                write_schema_name(&mut body, v, id, View::Response);
                body.push_str(" = ");
                if e.members.is_empty() {
                    body.push_str("z.never()");
                } else {
                    cx.write_literal(&mut body, e.members.iter().map(|(_, l)| l));
                }
                body.push_str(";\n");
                exports.push((schema_name(v, id, View::Response), true));
                continue;
            }
            DeclKind::Alias(a) => (&a.params, &[View::Response, View::Request]),
            DeclKind::Model(m) => (&m.params, &[View::Response, View::Request]),
        };
        cx.from = id;
        cx.params = params;
        for &view in views {
            if view == View::Request && !v.input[id] {
                continue;
            }
            cx.view = view;
            if view == View::Request {
                body.push('\n');
            }
            body.push_str("export const ");
            write_schema_name(&mut body, v, id, view);
            body.push_str(" = ");
            write_generic_prefix(&mut body, params);
            match &d.kind {
                DeclKind::Alias(a) => cx.write(&mut body, &a.ty, None),
                _ => match v.shape(id, view) {
                    ModelShape::Alias(t) => cx.write(&mut body, t, None),
                    ModelShape::Object {
                        bases,
                        fields,
                        extra_allow,
                    } => {
                        let strict = cx.strict(id);
                        cx.write_object(&mut body, bases, fields, *extra_allow, strict)
                    }
                },
            }
            body.push_str(";\n");
            exports.push((schema_name(v, id, view), true));
        }
    }
    let mut out = String::with_capacity(body.len() + 512);
    ts::write_header(&mut out, &module.py_rel);
    // A file of plain aliases of other modules' schemas (`export const BodySchema =
    // OtherSchema;`) never uses `z`.
    if uses_z(&body) {
        out.push_str("\nimport { z } from \"zod\";\n");
    } else {
        out.push('\n');
    }
    write_imports(
        &mut out,
        v,
        &module.stem,
        &mut cx.types,
        "import type",
        false,
        "",
    );
    write_imports(
        &mut out,
        v,
        &module.stem,
        &mut cx.schemas,
        "import",
        true,
        ".zod",
    );
    out.push_str(&body);
    (out, exports)
}
