//! What both emitters share: the response and request views of every declaration, the decision
//! whether a `…Input` variant is needed, `extends` planning, and the reference graph (for `z.lazy`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::ir::*;
use super::python::union;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum View {
    /// What the backend serializes (the base name).
    Response,
    /// What the backend validates (`…Input`, when different).
    Request,
}

/// Emitter settings resolved from `[types]`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The backend serializes with `by_alias=True` (FastAPI's default).
    pub by_alias: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ViewField {
    /// Python field name (for override matching).
    pub name: Arc<str>,
    pub key: Arc<str>,
    /// `key` is an identifier, written unquoted (worked out once, not per emitter).
    pub key_ident: bool,
    pub ty: Ty,
    pub optional: bool,
    pub readonly: bool,
    pub doc: Option<Arc<str>>,
}

/// How a model declaration is rendered in one view.
#[derive(Debug, Clone)]
pub enum ModelShape {
    /// `type X = T` (RootModel, model_serializer).
    Alias(Ty),
    Object {
        /// (base, type args, keys omitted from it)
        bases: Vec<(DeclId, Vec<Ty>, Vec<String>)>,
        /// Fields rendered in the body (own fields when extending, all fields when flattened).
        fields: Vec<ViewField>,
        extra_allow: bool,
    },
}

/// What [`Views`] computed once and keeps: shapes, flattened fields, fields per view.
pub type Caches = (
    Vec<Option<[ModelShape; 2]>>,
    Vec<Option<Vec<Field>>>,
    Vec<Option<[Vec<ViewField>; 2]>>,
);

pub struct Views<'a> {
    pub ir: &'a Ir,
    pub settings: Settings,
    /// Whether each declaration has a distinct request (`…Input`) variant.
    pub input: Vec<bool>,
    /// Strongly connected component index of each declaration (recursion).
    pub scc: Vec<usize>,
    /// How many declarations each strongly connected component has.
    scc_size: Vec<usize>,
    /// Position of each declaration inside its module.
    pub pos: Vec<usize>,
    /// Module-level SCC index (import cycles).
    pub mod_scc: Vec<usize>,
    /// Model shapes per view (they do not depend on `input`), computed once.
    shapes: Vec<Option<[ModelShape; 2]>>,
    /// Flattened fields of each model with its own type parameters, computed once.
    flat: Vec<Option<Vec<Field>>>,
    /// The same, seen in each view.
    vfields: Vec<Option<[Vec<ViewField>; 2]>>,
    /// What follows a declaration's name in its request name (`Input`, or `Input2`… when a
    /// declared name is `<Name>Input`); empty until names are settled.
    req_suffix: Vec<Box<str>>,
    /// What follows a type's name in its Zod schema's name, per view (`Schema`, or `Schema2`…
    /// when a type is named so); empty until names are settled.
    schema_suffix: Vec<[Box<str>; 2]>,
}

pub fn model(ir: &Ir, id: DeclId) -> Option<&Model> {
    match &ir.decls[id].kind {
        DeclKind::Model(m) => Some(m),
        _ => None,
    }
}

/// pydantic.alias_generators, exactly.
pub fn to_pascal(s: &str) -> String {
    // str.title(): upper-case the first cased char after any uncased char, lower-case the rest.
    let mut titled = String::with_capacity(s.len());
    let mut prev_cased = false;
    for ch in s.chars() {
        if ch.is_alphabetic() {
            if prev_cased {
                titled.extend(ch.to_lowercase());
            } else {
                titled.extend(ch.to_uppercase());
            }
            prev_cased = true;
        } else {
            titled.push(ch);
            prev_cased = false;
        }
    }
    // re.sub('([0-9A-Za-z])_(?=[0-9A-Z])', r'\1', titled)
    let cs: Vec<char> = titled.chars().collect();
    let mut out = String::with_capacity(cs.len());
    for (i, &c) in cs.iter().enumerate() {
        if c == '_'
            && i > 0
            && cs[i - 1].is_ascii_alphanumeric()
            && cs
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_digit() || n.is_ascii_uppercase())
        {
            continue;
        }
        out.push(c);
    }
    out
}

pub fn to_camel(s: &str) -> String {
    let re_camel = regex_lite_camel(s);
    if re_camel {
        return s.to_string();
    }
    let p = to_pascal(s);
    // re.sub('(^_*[A-Z])', lower)
    let mut out = String::with_capacity(p.len());
    let mut done = false;
    for c in p.chars() {
        if !done {
            if c == '_' {
                out.push(c);
                continue;
            }
            done = true;
            if c.is_ascii_uppercase() {
                out.push(c.to_ascii_lowercase());
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// `re.match('^[a-z]+[A-Za-z0-9]*$', s) and not re.search(r'\d[a-z]', s)`
fn regex_lite_camel(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !b[0].is_ascii_lowercase() {
        return false;
    }
    if !b.iter().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    !b.windows(2)
        .any(|w| w[0].is_ascii_digit() && w[1].is_ascii_lowercase())
}

pub fn to_snake(s: &str) -> String {
    use std::sync::LazyLock;
    static RES: LazyLock<[regex::Regex; 4]> = LazyLock::new(|| {
        [
            regex::Regex::new(r"([A-Z]+)([A-Z][a-z])").expect("re"),
            regex::Regex::new(r"([a-z])([A-Z])").expect("re"),
            regex::Regex::new(r"([0-9])([A-Z])").expect("re"),
            regex::Regex::new(r"([a-z])([0-9])").expect("re"),
        ]
    });
    let [re1, re2, re3, re4] = &*RES;
    let s = re1.replace_all(s, "${1}_${2}");
    let s = re2.replace_all(&s, "${1}_${2}");
    let s = re3.replace_all(&s, "${1}_${2}");
    let s = re4.replace_all(&s, "${1}_${2}");
    s.replace('-', "_").to_lowercase()
}

fn generate_alias(g: Option<AliasGen>, name: &str) -> Option<String> {
    match g? {
        AliasGen::Camel => Some(to_camel(name)),
        AliasGen::Pascal => Some(to_pascal(name)),
        AliasGen::Snake => Some(to_snake(name)),
        AliasGen::Opaque => None,
    }
}

impl<'a> Views<'a> {
    /// The caches, to be freed together with the IR on a helper thread: a few hundred thousand
    /// small allocations that the caller would otherwise wait for.
    pub fn into_caches(mut self) -> Caches {
        (
            std::mem::take(&mut self.shapes),
            std::mem::take(&mut self.flat),
            std::mem::take(&mut self.vfields),
        )
    }

    pub fn new(ir: &'a Ir, settings: Settings) -> Views<'a> {
        let n = ir.decls.len();
        let mut pos = vec![0; n];
        for m in &ir.modules {
            for (i, id) in m.decls.iter().enumerate() {
                pos[*id] = i;
            }
        }
        let (scc, mod_scc) = sccs(ir);
        let mut scc_size = vec![0; n];
        for &c in &scc {
            scc_size[c] += 1;
        }
        let mut v = Views {
            ir,
            settings,
            input: vec![false; n],
            scc,
            scc_size,
            pos,
            mod_scc,
            shapes: Vec::new(),
            flat: Vec::new(),
            vfields: Vec::new(),
            req_suffix: Vec::new(),
            schema_suffix: Vec::new(),
        };
        // Bases before children, so each flattening reuses its bases' results.
        v.flat = vec![None; n];
        let mut order: Vec<DeclId> = Vec::with_capacity(n);
        let mut seen = vec![false; n];
        fn visit(ir: &Ir, id: DeclId, seen: &mut [bool], order: &mut Vec<DeclId>) {
            if seen[id] {
                return;
            }
            seen[id] = true;
            if let Some(m) = model(ir, id) {
                for (b, _) in &m.bases {
                    visit(ir, *b, seen, order);
                }
            }
            order.push(id);
        }
        for id in 0..n {
            visit(ir, id, &mut seen, &mut order);
        }
        for id in order {
            if let Some(m) = model(ir, id) {
                let params: Vec<Ty> = m.params.iter().map(|p| Ty::Var(p.clone())).collect();
                let f = v.compute_flat(id, &params);
                v.flat[id] = Some(f);
            }
        }
        let vfields = super::par_map(n, 256, |id| {
            let m = model(ir, id)?;
            let flat = v.flat[id].as_ref()?;
            let vf = |view| {
                flat.iter()
                    .filter_map(|f| v.view_field(f, &m.config, view))
                    .collect::<Vec<_>>()
            };
            Some([vf(View::Response), vf(View::Request)])
        });
        v.vfields = vfields;
        let shapes = super::par_map(n, 256, |id| {
            model(ir, id).map(|_| {
                [
                    v.compute_shape(id, View::Response),
                    v.compute_shape(id, View::Request),
                ]
            })
        });
        v.shapes = shapes;
        v.compute_inputs();
        v.settle_names();
        v
    }

    /// Generated names never clash with a declared one: the request name is `<Name>Input`
    /// unless some declaration (in any module) is named so, then `<Name>Input2`, `<Name>Input3`…;
    /// a schema is `<TypeName>Schema` unless a declared or request type is named so, then
    /// `<TypeName>Schema2`…. Deterministic: it depends only on the set of names.
    fn settle_names(&mut self) {
        let ir = self.ir;
        let n = ir.decls.len();
        let declared: rustc_hash::FxHashSet<&str> =
            ir.decls.iter().map(|d| d.name.as_str()).collect();
        let pick = |base: &str, word: &str, taken: &dyn Fn(&str) -> bool| -> Box<str> {
            let mut k = 1u32;
            loop {
                let sfx = if k == 1 {
                    word.to_string()
                } else {
                    format!("{word}{k}")
                };
                if !taken(&format!("{base}{sfx}")) {
                    return sfx.into();
                }
                k += 1;
            }
        };
        let mut req: Vec<Box<str>> = Vec::with_capacity(n);
        for id in 0..n {
            req.push(if self.input[id] {
                pick(&ir.decls[id].name, "Input", &|c| declared.contains(c))
            } else {
                "".into()
            });
        }
        let mut types: rustc_hash::FxHashSet<String> =
            declared.iter().map(|s| s.to_string()).collect();
        for (id, sfx) in req.iter().enumerate() {
            if self.input[id] {
                types.insert(format!("{}{sfx}", ir.decls[id].name));
            }
        }
        let mut schema: Vec<[Box<str>; 2]> = Vec::with_capacity(n);
        for (id, d) in ir.decls.iter().enumerate() {
            let name = &d.name;
            let r = pick(name, "Schema", &|c| types.contains(c));
            let q = if self.input[id] {
                pick(&format!("{name}{}", req[id]), "Schema", &|c| {
                    types.contains(c)
                })
            } else {
                r.clone()
            };
            schema.push([r, q]);
        }
        self.req_suffix = req;
        self.schema_suffix = schema;
    }

    /// A declaration needs `…Input` when its two views render differently; that depends on the
    /// declarations it references, so flips propagate to dependents through a worklist.
    fn compute_inputs(&mut self) {
        let n = self.ir.decls.len();
        let mut rdeps: Vec<Vec<DeclId>> = vec![Vec::new(); n];
        for id in 0..n {
            for d in Views::deps(self.ir, id) {
                if d != id {
                    rdeps[d].push(id);
                }
            }
        }
        let mut queued = vec![true; n];
        // Scratch buffers for the two renderings compared.
        let mut bufs = [String::new(), String::new()];
        let mut work: std::collections::VecDeque<DeclId> = (0..n).collect();
        while let Some(id) = work.pop_front() {
            queued[id] = false;
            if self.input[id] {
                continue;
            }
            {
                let differs = match &self.ir.decls[id].kind {
                    DeclKind::Enum(_) => false,
                    DeclKind::Alias(a) => super::ts::ty_views_differ(self, &a.ty, &mut bufs),
                    DeclKind::Model(_) => {
                        let r = self.shape(id, View::Response);
                        let q = self.shape(id, View::Request);
                        shapes_obviously_differ(r, q)
                            || super::ts::shapes_differ(self, r, q, &mut bufs)
                    }
                };
                if differs {
                    self.input[id] = true;
                    for &r in &rdeps[id] {
                        if !queued[r] && !self.input[r] {
                            queued[r] = true;
                            work.push_back(r);
                        }
                    }
                }
            }
        }
    }

    /// Whether `t` mentions a type alias that refers back to itself (directly or through other
    /// declarations).
    pub fn mentions_recursive_alias(&self, t: &Ty) -> bool {
        let mut refs = Vec::new();
        t.refs(&mut refs);
        refs.into_iter().any(|id| {
            matches!(self.ir.decls[id].kind, DeclKind::Alias(_))
                && (self.scc_size[self.scc[id]] > 1 || Views::deps(self.ir, id).contains(&id))
        })
    }

    /// `Ty::nullable`, looking through type aliases.
    pub fn nullable(&self, t: &Ty) -> bool {
        match t {
            Ty::Ref(id, _) => match &self.ir.decls[*id].kind {
                DeclKind::Alias(a) => self.nullable(&a.ty),
                _ => false,
            },
            Ty::Union(ts) => ts.iter().any(|t| self.nullable(t)),
            Ty::Constrained(t, _) => self.nullable(t),
            t => t.nullable(),
        }
    }

    /// The name a declaration has in a view.
    pub fn name(&self, id: DeclId, view: View) -> String {
        [self.ir.decls[id].name.as_str(), self.name_suffix(id, view)].concat()
    }

    /// What follows the declaration's own name in a view: `Input` for a distinct request shape.
    pub fn name_suffix(&self, id: DeclId, view: View) -> &str {
        if view == View::Request && self.input[id] {
            self.req_suffix.get(id).map_or("Input", |s| s)
        } else {
            ""
        }
    }

    /// What follows the type's name in its Zod schema's name: `Schema` unless that clashes.
    pub fn schema_suffix(&self, id: DeclId, view: View) -> &str {
        self.schema_suffix
            .get(id)
            .map_or("Schema", |s| &s[view as usize])
    }

    fn serializer(&self, id: DeclId) -> Option<&Ty> {
        let m = model(self.ir, id)?;
        if let Some(s) = &m.serializer {
            return Some(s);
        }
        m.bases.iter().find_map(|(b, _)| self.serializer(*b))
    }

    /// All fields of a model in pydantic's order (bases first, overrides in place), with type
    /// arguments substituted, before key computation.
    pub fn flat_fields(&self, id: DeclId, args: &[Ty]) -> std::borrow::Cow<'_, [Field]> {
        use std::borrow::Cow;
        let Some(m) = model(self.ir, id) else {
            return Cow::Owned(vec![]);
        };
        let identity = args.len() == m.params.len()
            && args
                .iter()
                .zip(&m.params)
                .all(|(a, p)| matches!(a, Ty::Var(v) if v == p));
        let Some(Some(flat)) = self.flat.get(id) else {
            return Cow::Owned(self.compute_flat(id, args));
        };
        if m.params.is_empty() || identity {
            return Cow::Borrowed(flat);
        }
        let map: BTreeMap<String, Ty> = m
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), args.get(i).cloned().unwrap_or(Ty::Unknown)))
            .collect();
        Cow::Owned(
            flat.iter()
                .map(|f| {
                    let mut f = f.clone();
                    f.ty = f.ty.subst(&map);
                    f.ser_ty = f.ser_ty.map(|t| t.subst(&map));
                    f
                })
                .collect(),
        )
    }

    fn compute_flat(&self, id: DeclId, args: &[Ty]) -> Vec<Field> {
        let Some(m) = model(self.ir, id) else {
            return vec![];
        };
        let map: BTreeMap<String, Ty> = m
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), args.get(i).cloned().unwrap_or(Ty::Unknown)))
            .collect();
        let mut out: Vec<Field> = Vec::new();
        // Name → position: a model with thousands of inherited fields looked each one up in a
        // scan of all before it.
        let mut at: rustc_hash::FxHashMap<Arc<str>, usize> = Default::default();
        let mut put = |f: Field, out: &mut Vec<Field>| match at.get(&f.name) {
            Some(&i) => out[i] = f,
            None => {
                at.insert(f.name.clone(), out.len());
                out.push(f);
            }
        };
        for (b, bargs) in m.bases.iter().rev() {
            let bargs: Vec<Ty> = bargs.iter().map(|t| t.subst(&map)).collect();
            for f in self.flat_fields(*b, &bargs).iter() {
                put(f.clone(), &mut out);
            }
        }
        for f in &m.fields {
            let mut f = f.clone();
            f.ty = f.ty.subst(&map);
            f.ser_ty = f.ser_ty.map(|t| t.subst(&map));
            put(f, &mut out);
        }
        out
    }

    /// One field as seen in a view under a model's config; `None` when absent from that view.
    pub fn view_field(&self, f: &Field, cfg: &ModelConfig, view: View) -> Option<ViewField> {
        // The generated alias counts only where no explicit one is set.
        let generated = || generate_alias(cfg.alias_generator, &f.name).map(Arc::from);
        match view {
            View::Response => {
                if f.exclude {
                    return None;
                }
                let alias = f
                    .serialization_alias
                    .clone()
                    .or_else(|| f.alias.clone())
                    .or_else(generated);
                let by_alias = self.settings.by_alias || cfg.serialize_by_alias == Some(true);
                let key = match alias {
                    Some(a) if by_alias => a,
                    _ => f.name.clone(),
                };
                let mut ty = f.ser_ty.as_ref().unwrap_or(&f.ty).wire(cfg);
                if f.default_none && !self.nullable(&ty) {
                    ty = union(vec![ty, Ty::Prim(Prim::Null)]);
                }
                Some(ViewField {
                    name: f.name.clone(),
                    key_ident: super::ts::is_ident(&key),
                    key,
                    ty,
                    optional: f.not_required
                        || (cfg.sparse_dump == Some(true) && f.has_default && !f.computed),
                    readonly: f.computed,
                    doc: f.doc.clone(),
                })
            }
            View::Request => {
                if f.computed {
                    return None;
                }
                let alias = f
                    .validation_alias
                    .clone()
                    .or_else(|| f.alias.clone())
                    .or_else(generated);
                let by_alias = cfg.validate_by_alias != Some(false);
                let key = match alias {
                    Some(a) if by_alias => a,
                    _ => f.name.clone(),
                };
                Some(ViewField {
                    name: f.name.clone(),
                    key_ident: super::ts::is_ident(&key),
                    key,
                    ty: f.ty.clone(),
                    optional: f.has_default,
                    readonly: false,
                    doc: f.doc.clone(),
                })
            }
        }
    }

    fn view_fields(
        &self,
        id: DeclId,
        args: &[Ty],
        view: View,
    ) -> std::borrow::Cow<'_, [ViewField]> {
        use std::borrow::Cow;
        let Some(m) = model(self.ir, id) else {
            return Cow::Owned(vec![]);
        };
        let identity = args.len() == m.params.len()
            && args
                .iter()
                .zip(&m.params)
                .all(|(a, p)| matches!(a, Ty::Var(v) if v == p));
        if identity && let Some(Some(vf)) = self.vfields.get(id) {
            return Cow::Borrowed(&vf[view as usize]);
        }
        Cow::Owned(
            self.flat_fields(id, args)
                .iter()
                .filter_map(|f| self.view_field(f, &m.config, view))
                .collect(),
        )
    }

    /// How a model renders in a view: as an alias, or an object that extends its bases where the
    /// inherited fields are identical, and flattens otherwise.
    pub fn shape(&self, id: DeclId, view: View) -> &ModelShape {
        match self.shapes.get(id) {
            Some(Some(s)) => &s[view as usize],
            _ => panic!("shape of a non-model declaration"),
        }
    }

    fn compute_shape(&self, id: DeclId, view: View) -> ModelShape {
        let m = model(self.ir, id).expect("model");
        if let Some(root) = &m.root {
            return ModelShape::Alias(match view {
                View::Response => root.wire(&m.config),
                View::Request => root.clone(),
            });
        }
        if view == View::Response
            && let Some(s) = self.serializer(id)
        {
            return ModelShape::Alias(s.clone());
        }
        let params: Vec<Ty> = m.params.iter().map(|p| Ty::Var(p.clone())).collect();
        let all = self.view_fields(id, &params, view);
        // Declared in this class (a handful of names: a scan beats a set).
        let own = |name: &str| m.fields.iter().any(|f| &*f.name == name);
        let extra_allow = m.config.extra_allow == Some(true);
        let flat = || ModelShape::Object {
            bases: vec![],
            fields: all.to_vec(),
            extra_allow,
        };
        let mut bases = Vec::new();
        // Field names the bases provide so far (only needed with several bases).
        let mut provided: Vec<Arc<str>> = Vec::new();
        let several = m.bases.len() > 1;
        for (b, bargs) in &m.bases {
            let bm = model(self.ir, *b).expect("model base");
            if bm.root.is_some() || (view == View::Response && self.serializer(*b).is_some()) {
                return flat();
            }
            let bfields = self.view_fields(*b, bargs, view);
            let mut omit = Vec::new();
            for bf in bfields.iter() {
                if several {
                    if provided.contains(&bf.name) {
                        return flat(); // two bases provide the same field
                    }
                    provided.push(bf.name.clone());
                }
                // The child may hide a base field in this view (excluded/computed override):
                // the base key is omitted even though the child emits nothing for it.
                if own(&bf.name) {
                    omit.push(bf.key.to_string());
                    continue;
                }
                // Inherited as is, or the flattened fields differ (e.g. a base field this view
                // no longer has): then extending cannot express it.
                match all.iter().find(|f| f.name == bf.name) {
                    Some(mine) if mine == bf => {}
                    _ => return flat(),
                }
            }
            omit.sort();
            omit.dedup();
            bases.push((*b, bargs.clone(), omit));
        }
        let fields: Vec<ViewField> = all.iter().filter(|f| own(&f.name)).cloned().collect();
        ModelShape::Object {
            bases,
            fields,
            extra_allow,
        }
    }

    /// A reference from `from` to `to` in Zod must be lazy (recursion, forward reference, or an
    /// import cycle between modules).
    pub fn needs_lazy(&self, from: DeclId, to: DeclId) -> bool {
        let (a, b) = (&self.ir.decls[from], &self.ir.decls[to]);
        if self.scc[from] == self.scc[to] {
            return true;
        }
        if a.module == b.module {
            return self.pos[to] > self.pos[from];
        }
        self.mod_scc[a.module] == self.mod_scc[b.module]
    }

    /// Declarations referenced by `id` (fields, bases, alias body).
    pub fn deps(ir: &Ir, id: DeclId) -> Vec<DeclId> {
        let mut out = Vec::new();
        match &ir.decls[id].kind {
            DeclKind::Model(m) => {
                for (b, args) in &m.bases {
                    out.push(*b);
                    args.iter().for_each(|a| a.refs(&mut out));
                }
                for f in &m.fields {
                    f.ty.refs(&mut out);
                    if let Some(s) = &f.ser_ty {
                        s.refs(&mut out);
                    }
                }
                if let Some(r) = &m.root {
                    r.refs(&mut out);
                }
                if let Some(s) = &m.serializer {
                    s.refs(&mut out);
                }
            }
            DeclKind::Alias(a) => a.ty.refs(&mut out),
            DeclKind::Enum(_) => {}
        }
        out
    }
}

/// Cheap structural differences that certainly render differently (keys, optionality,
/// readonly, bases); the text comparison decides the rest.
fn shapes_obviously_differ(r: &ModelShape, q: &ModelShape) -> bool {
    match (r, q) {
        (
            ModelShape::Object {
                bases: rb,
                fields: rf,
                ..
            },
            ModelShape::Object {
                bases: qb,
                fields: qf,
                ..
            },
        ) => {
            rb.len() != qb.len()
                || rb.iter().zip(qb).any(|(a, b)| a.0 != b.0 || a.2 != b.2)
                || rf.len() != qf.len()
                || rf.iter().zip(qf).any(|(a, b)| {
                    a.key != b.key || a.optional != b.optional || a.readonly != b.readonly
                })
        }
        (ModelShape::Alias(_), ModelShape::Alias(_)) => false,
        _ => true,
    }
}

fn sccs(ir: &Ir) -> (Vec<usize>, Vec<usize>) {
    use petgraph::graph::DiGraph;
    let n = ir.decls.len();
    let mut g = DiGraph::<(), ()>::with_capacity(n, n * 2);
    let nodes: Vec<_> = (0..n).map(|_| g.add_node(())).collect();
    let nm = ir.modules.len();
    let mut mg = DiGraph::<(), ()>::new();
    let mnodes: Vec<_> = (0..nm).map(|_| mg.add_node(())).collect();
    let mut medges = BTreeSet::new();
    for id in 0..n {
        for d in Views::deps(ir, id) {
            g.add_edge(nodes[id], nodes[d], ());
            let (a, b) = (ir.decls[id].module, ir.decls[d].module);
            if a != b && medges.insert((a, b)) {
                mg.add_edge(mnodes[a], mnodes[b], ());
            }
        }
    }
    // Only "same component?" is asked; Kosaraju walks with explicit stacks (petgraph's Tarjan
    // recursed once per model on a chain of references: 20,000 overflowed).
    let mut scc = vec![0; n];
    for (i, comp) in petgraph::algo::kosaraju_scc(&g).into_iter().enumerate() {
        for node in comp {
            scc[node.index()] = i;
        }
    }
    let mut mscc = vec![0; nm];
    for (i, comp) in petgraph::algo::kosaraju_scc(&mg).into_iter().enumerate() {
        for node in comp {
            mscc[node.index()] = i;
        }
    }
    (scc, mscc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_generators_match_pydantic() {
        // Values checked against pydantic.alias_generators 2.14.
        assert_eq!(to_camel("item_id"), "itemId");
        assert_eq!(to_camel("created_at_2x"), "createdAt2X");
        assert_eq!(to_camel("alreadyCamel"), "alreadyCamel");
        assert_eq!(to_camel("_private_name"), "_privateName");
        assert_eq!(to_camel("a_b_c"), "aBC");
        assert_eq!(to_pascal("item_id"), "ItemId");
        assert_eq!(to_pascal("http_url_v2"), "HttpUrlV2");
        assert_eq!(to_snake("itemId"), "item_id");
        assert_eq!(to_snake("HTTPResponse"), "http_response");
        assert_eq!(to_snake("version2Beta"), "version_2_beta");
    }
}
