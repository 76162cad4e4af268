//! The language-neutral intermediate representation: what the Python side resolved, with no
//! TypeScript in it. Emitters ([`super::ts`], [`super::zod`]) render it in two views, the response
//! (what the backend serializes) and the request (what the backend validates).

use std::collections::BTreeMap;
use std::sync::Arc;

/// Index of a declaration in [`Ir::decls`].
pub type DeclId = usize;

#[derive(Debug, Clone, Default)]
pub struct Ir {
    /// Modules that produce an output file, sorted by Python path.
    pub modules: Vec<IrModule>,
    pub decls: Vec<Decl>,
    /// Type variables by name: what pydantic uses for an unfilled parameter (the bound, the
    /// constraints, the default; `Unknown` without one). For [`super::describe`].
    pub var_bounds: BTreeMap<String, Ty>,
}

#[derive(Debug, Clone)]
pub struct IrModule {
    /// The .py path relative to the project root, with `/` separators.
    pub py_rel: String,
    /// Dotted module name (`app.modules.items.dtos`).
    pub dotted: String,
    /// Output stem relative to the output directory (`items`, `common/pagination`).
    pub stem: String,
    /// Declarations in source order.
    pub decls: Vec<DeclId>,
}

#[derive(Debug, Clone)]
pub struct Decl {
    pub name: String,
    /// Index into [`Ir::modules`] (set once modules are laid out).
    pub module: usize,
    pub line: u32,
    pub doc: Option<String>,
    pub kind: DeclKind,
}

#[derive(Debug, Clone)]
pub enum DeclKind {
    Model(Box<Model>),
    Enum(EnumDecl),
    Alias(AliasDecl),
}

#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Type parameters (`Generic[T]`, PEP 695 or inherited from a parametrized generic base).
    pub params: Vec<String>,
    /// Model bases in declaration order, with their type arguments.
    pub bases: Vec<(DeclId, Vec<Ty>)>,
    /// Fields declared in this class body (including computed fields), in source order.
    pub fields: Vec<Field>,
    /// The effective `model_config` (merged over the bases).
    pub config: ModelConfig,
    /// `@model_serializer`: the response shape is this type (`Unknown` when not annotated).
    pub serializer: Option<Ty>,
    /// `RootModel[T]`: the model serializes as `T`.
    pub root: Option<Ty>,
    /// A base could not be resolved (third-party): inherited fields are missing.
    pub opaque_base: Option<String>,
    /// A `BaseModel`, a `TypedDict` or a dataclass (stdlib or pydantic's).
    pub flavor: Flavor,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Flavor {
    #[default]
    Model,
    TypedDict,
    Dataclass,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelConfig {
    pub alias_generator: Option<AliasGen>,
    pub populate_by_name: Option<bool>,
    pub validate_by_alias: Option<bool>,
    pub validate_by_name: Option<bool>,
    pub serialize_by_alias: Option<bool>,
    /// `ser_json_timedelta = "float"`.
    pub timedelta_float: Option<bool>,
    /// `ser_json_temporal = "seconds" | "milliseconds"`.
    pub temporal_number: Option<bool>,
    /// `extra = "allow"`.
    pub extra_allow: Option<bool>,
    /// `extra = "forbid"`: requests with unknown keys are refused.
    pub extra_forbid: Option<bool>,
    /// Not a pydantic key: a `@model_serializer(mode="wrap")` without a return annotation
    /// (Speakeasy's), which dumps the fields and may drop those left at their default, so a
    /// field with a default may be absent from a response. Inherited like config.
    pub sparse_dump: Option<bool>,
}

impl ModelConfig {
    /// `self` overridden by the keys `other` sets.
    pub fn merged(&self, other: &ModelConfig) -> ModelConfig {
        ModelConfig {
            alias_generator: other.alias_generator.or(self.alias_generator),
            populate_by_name: other.populate_by_name.or(self.populate_by_name),
            validate_by_alias: other.validate_by_alias.or(self.validate_by_alias),
            validate_by_name: other.validate_by_name.or(self.validate_by_name),
            serialize_by_alias: other.serialize_by_alias.or(self.serialize_by_alias),
            timedelta_float: other.timedelta_float.or(self.timedelta_float),
            temporal_number: other.temporal_number.or(self.temporal_number),
            extra_allow: other.extra_allow.or(self.extra_allow),
            extra_forbid: other.extra_forbid.or(self.extra_forbid),
            sparse_dump: other.sparse_dump.or(self.sparse_dump),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasGen {
    Camel,
    Pascal,
    Snake,
    /// Something fsi cannot evaluate; keys fall back to the field name (with a warning).
    Opaque,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: Arc<str>,
    pub line: u32,
    pub alias: Option<Arc<str>>,
    pub serialization_alias: Option<Arc<str>>,
    pub validation_alias: Option<Arc<str>>,
    /// The declared (validation) type.
    pub ty: Ty,
    /// The serialized type, when a serializer changes it.
    pub ser_ty: Option<Ty>,
    pub has_default: bool,
    /// The default is `None` (the wire can carry `null` even for a non-Optional annotation).
    pub default_none: bool,
    pub exclude: bool,
    pub computed: bool,
    /// A `TypedDict` key that may be missing (`NotRequired`, `total=False`): optional in both
    /// views (a dict is dumped with the keys it has).
    pub not_required: bool,
    pub doc: Option<Arc<str>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnumDecl {
    pub members: Vec<(String, Lit)>,
}

#[derive(Debug, Clone)]
pub struct AliasDecl {
    pub params: Vec<String>,
    pub ty: Ty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prim {
    Str,
    Int,
    Float,
    Bool,
    Decimal,
    DateTime,
    Date,
    Time,
    Duration,
    Uuid,
    Bytes,
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    /// Integer literal, kept as its decimal text.
    Int(String),
    Bool(bool),
    Null,
}

/// Validation constraints (`Field(ge=0)`, `conint`, `annotated_types`); Zod renders them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    pub ge: Option<String>,
    pub gt: Option<String>,
    pub le: Option<String>,
    pub lt: Option<String>,
    pub multiple_of: Option<String>,
    pub min_length: Option<String>,
    pub max_length: Option<String>,
    pub pattern: Option<String>,
    /// `max_digits` / `decimal_places` of a `Decimal` (pydantic counts them after normalizing:
    /// leading zeros of the integer part and trailing zeros of the fraction do not count).
    pub max_digits: Option<String>,
    pub decimal_places: Option<String>,
    /// `Field(discriminator="type")` / `Discriminator("type")` on a union (the field name).
    pub discriminator: Option<String>,
}

impl Constraints {
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }
    pub fn merge(&mut self, o: Constraints) {
        macro_rules! m {
            ($($f:ident),*) => { $( if o.$f.is_some() { self.$f = o.$f; } )* };
        }
        m!(
            ge,
            gt,
            le,
            lt,
            multiple_of,
            min_length,
            max_length,
            pattern,
            max_digits,
            decimal_places,
            discriminator
        );
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Prim(Prim),
    /// Undecidable statically (a warning was recorded) or `Any`.
    Unknown,
    Literal(Arc<[Lit]>),
    List(Arc<Ty>),
    Tuple(Arc<[Ty]>),
    Dict(Arc<Ty>, Arc<Ty>),
    Union(Arc<[Ty]>),
    Ref(DeclId, Arc<[Ty]>),
    Var(String),
    /// `Json[T]`: `T` in responses, a JSON string in requests.
    Json(Arc<Ty>),
    Constrained(Arc<Ty>, Arc<Constraints>),
}

impl Ty {
    pub fn nullable(&self) -> bool {
        match self {
            Ty::Prim(Prim::Null) | Ty::Unknown => true,
            Ty::Literal(ls) => ls.contains(&Lit::Null),
            Ty::Union(ts) => ts.iter().any(Ty::nullable),
            Ty::Constrained(t, _) => t.nullable(),
            _ => false,
        }
    }

    /// Substitute type variables.
    pub fn subst(&self, map: &BTreeMap<String, Ty>) -> Ty {
        if map.is_empty() {
            return self.clone();
        }
        match self {
            Ty::Var(v) => map.get(v).cloned().unwrap_or_else(|| self.clone()),
            Ty::List(t) => Ty::List(Arc::new(t.subst(map))),
            Ty::Tuple(ts) => Ty::Tuple(ts.iter().map(|t| t.subst(map)).collect()),
            Ty::Dict(k, v) => Ty::Dict(Arc::new(k.subst(map)), Arc::new(v.subst(map))),
            Ty::Union(ts) => Ty::Union(ts.iter().map(|t| t.subst(map)).collect()),
            Ty::Ref(id, args) => Ty::Ref(*id, args.iter().map(|t| t.subst(map)).collect()),
            Ty::Json(t) => Ty::Json(Arc::new(t.subst(map))),
            Ty::Constrained(t, c) => Ty::Constrained(Arc::new(t.subst(map)), c.clone()),
            _ => self.clone(),
        }
    }

    /// The serialized form under a model's `ser_json_*` settings.
    pub fn wire(&self, cfg: &ModelConfig) -> Ty {
        let temporal = cfg.temporal_number == Some(true);
        let td = cfg.timedelta_float == Some(true);
        if !temporal && !td {
            return self.clone();
        }
        match self {
            Ty::Prim(Prim::DateTime | Prim::Date | Prim::Time) if temporal => Ty::Prim(Prim::Float),
            Ty::Prim(Prim::Duration) if temporal || td => Ty::Prim(Prim::Float),
            Ty::List(t) => Ty::List(Arc::new(t.wire(cfg))),
            Ty::Tuple(ts) => Ty::Tuple(ts.iter().map(|t| t.wire(cfg)).collect()),
            Ty::Dict(k, v) => Ty::Dict(k.clone(), Arc::new(v.wire(cfg))),
            Ty::Union(ts) => Ty::Union(ts.iter().map(|t| t.wire(cfg)).collect()),
            Ty::Json(t) => Ty::Json(Arc::new(t.wire(cfg))),
            Ty::Constrained(t, c) => Ty::Constrained(Arc::new(t.wire(cfg)), c.clone()),
            _ => self.clone(),
        }
    }

    /// Every declaration this type mentions.
    pub fn refs(&self, out: &mut Vec<DeclId>) {
        match self {
            Ty::Ref(id, args) => {
                out.push(*id);
                args.iter().for_each(|a| a.refs(out));
            }
            Ty::List(t) | Ty::Json(t) | Ty::Constrained(t, _) => t.refs(out),
            Ty::Tuple(ts) | Ty::Union(ts) => ts.iter().for_each(|t| t.refs(out)),
            Ty::Dict(k, v) => {
                k.refs(out);
                v.refs(out);
            }
            _ => {}
        }
    }
}

/// A statically undecidable construct, or something fsi skipped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Warning {
    /// The .py path relative to the project root.
    pub file: String,
    pub line: u32,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}
