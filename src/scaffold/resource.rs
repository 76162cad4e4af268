//! `fsi add resource`: a resource's specification (name, fields), its names in every language,
//! the render of `skeletons/resource/` and the anchor insertions into existing files.
//!
//! A resource is recorded in fsi.toml (`[[resources]]`) with everything its render depends on —
//! including the Alembic revision it chained on and the session ids it took — so rendering it
//! again (by `fsi update`) gives the same files.

// A usage error carries its argument as source text for the diagnostic; it happens at most once
// per process, so its size on the error path does not matter.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::error::{Classify, ExitStatus};

/// The type of a resource field, as written after the colon in `--field NAME:TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Str,
    Text,
    Int,
    Float,
    Decimal,
    Bool,
    Date,
    Datetime,
    Uuid,
    Enum,
}

impl FieldKind {
    pub const NAMES: &'static [&'static str] = &[
        "str",
        "text",
        "int",
        "float",
        "decimal",
        "bool",
        "date",
        "datetime",
        "uuid",
        "enum(a|b)",
    ];

    /// The name `--field` uses (`enum` for enums).
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Str => "str",
            FieldKind::Text => "text",
            FieldKind::Int => "int",
            FieldKind::Float => "float",
            FieldKind::Decimal => "decimal",
            FieldKind::Bool => "bool",
            FieldKind::Date => "date",
            FieldKind::Datetime => "datetime",
            FieldKind::Uuid => "uuid",
            FieldKind::Enum => "enum",
        }
    }

    fn parse(s: &str) -> Option<FieldKind> {
        Some(match s {
            "str" => FieldKind::Str,
            "text" => FieldKind::Text,
            "int" => FieldKind::Int,
            "float" => FieldKind::Float,
            "decimal" => FieldKind::Decimal,
            "bool" => FieldKind::Bool,
            "date" => FieldKind::Date,
            "datetime" => FieldKind::Datetime,
            "uuid" => FieldKind::Uuid,
            _ => return None,
        })
    }
}

/// One `--field` argument, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub kind: FieldKind,
    pub optional: bool,
    /// The choices of an `enum(a|b|c)` field; empty otherwise.
    pub choices: Vec<String>,
}

impl Field {
    /// The spelling `--field` takes (and fsi.toml records).
    pub fn spec(&self) -> String {
        let kind = match self.kind {
            FieldKind::Enum => format!("enum({})", self.choices.join("|")),
            k => k.name().to_string(),
        };
        format!(
            "{}:{kind}{}",
            self.name,
            if self.optional { "?" } else { "" }
        )
    }
}

/// Names that cannot be a field: every resource has them, or Python, TypeScript or Pydantic
/// reserve them.
const RESERVED_FIELDS: &[&str] = &[
    "id",
    "owner_id",
    "created_at",
    "updated_at",
    "owner",
    // Locals of the generated code (the form's row being edited, the controller's parameters).
    "row",
    "editing",
];

const PYTHON_KEYWORDS: &[&str] = &[
    "false", "none", "true", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "match", "case", "type",
];

const TS_RESERVED: &[&str] = &[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "let",
    "static",
    "yield",
    "implements",
    "interface",
    "package",
    "private",
    "protected",
    "public",
    "await",
    "constructor",
    "prototype",
    "__proto__",
];

/// Attribute names a Pydantic model or an SQLAlchemy model already uses.
const MODEL_ATTRIBUTES: &[&str] = &[
    "metadata",
    "registry",
    "query",
    "copy",
    "dict",
    "json",
    "schema",
    "schema_json",
    "construct",
    "validate",
    "fields",
];

/// Resource names fsi's own modules, tables or routes use.
const RESERVED_RESOURCES: &[&str] = &[
    "item",
    "row",
    "rows",
    "items",
    "auth",
    "user",
    "users",
    "realtime",
    "common",
    "health",
    "refresh_token",
    "refresh_tokens",
    "config",
    "database",
    "models",
    "main",
    "asgi",
    "wsgi",
    "proxy",
    "page",
    "ws",
    "api",
    "docs",
    "openapi",
];

/// The longest field name: the generated Python stays within ruff's line length (110) with the
/// longest resource name.
const MAX_IDENT: usize = 30;
/// The longest resource name (its plural may be 3 longer): class names, revision ids (Alembic's
/// version column holds 32 characters) and signatures stay within bounds.
const MAX_RESOURCE: usize = 24;

/// A bad `fsi add resource` argument: which argument, where in it, and what to do.
#[derive(Debug, Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(fsi::add::usage))]
pub struct UsageError {
    pub message: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("{label}")]
    pub span: SourceSpan,
    pub label: String,
    #[help]
    pub help: String,
}

impl Classify for UsageError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Invalid
    }
}

fn usage(
    arg_name: &str,
    arg: &str,
    at: std::ops::Range<usize>,
    message: String,
    label: &str,
    help: String,
) -> UsageError {
    let start = at.start.min(arg.len());
    let end = at.end.clamp(start, arg.len());
    UsageError {
        message,
        src: NamedSource::new(arg_name, arg.to_string()),
        span: (start..end.max(start)).into(),
        label: label.to_string(),
        help,
    }
}

fn is_snake(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.ends_with('_')
        && !s.contains("__")
}

/// Why `name` is not a usable identifier, if it is not.
fn identifier_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name is empty".into());
    }
    if !is_snake(name) {
        return Some(format!(
            "`{name}` is not snake_case (lowercase letters, digits and single underscores, starting with a letter)"
        ));
    }
    if name.len() > MAX_IDENT {
        return Some(format!("`{name}` is longer than {MAX_IDENT} characters"));
    }
    if PYTHON_KEYWORDS.contains(&name) {
        return Some(format!("`{name}` is a Python keyword"));
    }
    if TS_RESERVED.contains(&name) {
        return Some(format!("`{name}` is reserved in TypeScript"));
    }
    None
}

/// Parse one `--field NAME:TYPE[?]` argument.
pub fn parse_field(arg: &str) -> Result<Field, UsageError> {
    let shown = "--field";
    let Some(colon) = arg.find(':') else {
        return Err(usage(
            shown,
            arg,
            0..arg.len(),
            format!("--field `{arg}` has no type"),
            "expected NAME:TYPE",
            format!(
                "write NAME:TYPE, e.g. `{arg}:str`; types: {}",
                FieldKind::NAMES.join(", ")
            ),
        ));
    };
    let name = &arg[..colon];
    if let Some(problem) = identifier_problem(name) {
        return Err(usage(
            shown,
            arg,
            0..colon,
            format!("--field `{arg}`: {problem}"),
            "this name",
            "field names are snake_case identifiers that are not Python or TypeScript keywords, e.g. `in_stock`".into(),
        ));
    }
    if RESERVED_FIELDS.contains(&name)
        || MODEL_ATTRIBUTES.contains(&name)
        || name.starts_with("model_")
    {
        return Err(usage(
            shown,
            arg,
            0..colon,
            format!("--field `{arg}`: `{name}` is already part of every resource or of its models"),
            "reserved",
            format!(
                "every resource has {}; Pydantic reserves model_*; choose another name",
                RESERVED_FIELDS.join(", ")
            ),
        ));
    }
    let rest = &arg[colon + 1..];
    let (ty, optional) = match rest.strip_suffix('?') {
        Some(t) => (t, true),
        None => (rest, false),
    };
    let ty_at = colon + 1..colon + 1 + ty.len();
    if let Some(inner) = ty.strip_prefix("enum(").and_then(|t| t.strip_suffix(')')) {
        let mut choices = Vec::new();
        let mut offset = colon + 1 + "enum(".len();
        for choice in inner.split('|') {
            let at = offset..offset + choice.len();
            offset += choice.len() + 1;
            let valid = choice.starts_with(|c: char| c.is_ascii_lowercase())
                && choice.len() <= MAX_IDENT
                && choice
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !valid {
                return Err(usage(
                    shown,
                    arg,
                    at,
                    format!("--field `{arg}`: `{choice}` is not a usable enum choice"),
                    "this choice",
                    format!(
                        "enum choices are lowercase words (letters, digits, `_`, `-`; at most {MAX_IDENT}), starting with a letter, between | signs, e.g. `enum(draft|published)`"
                    ),
                ));
            }
            if choices
                .iter()
                .any(|c: &String| c.replace('-', "_") == choice.replace('-', "_"))
            {
                return Err(usage(
                    shown,
                    arg,
                    at,
                    format!(
                        "--field `{arg}`: the choice `{choice}` is given twice (`-` and `_` count as the same)"
                    ),
                    "again",
                    "each choice once".into(),
                ));
            }
            choices.push(choice.to_string());
        }
        return Ok(Field {
            name: name.to_string(),
            kind: FieldKind::Enum,
            optional,
            choices,
        });
    }
    match FieldKind::parse(ty) {
        Some(kind) => Ok(Field {
            name: name.to_string(),
            kind,
            optional,
            choices: Vec::new(),
        }),
        None => Err(usage(
            shown,
            arg,
            ty_at,
            format!("--field `{arg}`: unknown type `{ty}`"),
            "unknown type",
            format!(
                "types: {}; add `?` for an optional field (e.g. `published:date?`)",
                FieldKind::NAMES.join(", ")
            ),
        )),
    }
}

/// Check a whole field list: at least one field, no name twice.
pub fn check_fields(args: &[String], fields: &[Field]) -> Result<(), UsageError> {
    let mut seen = BTreeMap::new();
    for (arg, field) in args.iter().zip(fields) {
        if let Some(first) = seen.insert(field.name.clone(), arg.clone()) {
            return Err(usage(
                "--field",
                arg,
                0..field.name.len(),
                format!(
                    "the field `{}` is given twice (`{first}` and `{arg}`)",
                    field.name
                ),
                "again",
                "give each field once".into(),
            ));
        }
    }
    Ok(())
}

/// The plural of an English noun in snake_case (last word only), for the usual cases; `--plural`
/// overrides it.
pub fn pluralize(name: &str) -> String {
    let (head, last) = match name.rfind('_') {
        Some(i) => (&name[..=i], &name[i + 1..]),
        None => ("", name),
    };
    let irregular = [
        ("person", "people"),
        ("child", "children"),
        ("man", "men"),
        ("woman", "women"),
        ("mouse", "mice"),
        ("goose", "geese"),
        ("foot", "feet"),
        ("tooth", "teeth"),
    ];
    if let Some((_, p)) = irregular.iter().find(|(s, _)| *s == last) {
        return format!("{head}{p}");
    }
    let vowel = |c: char| "aeiou".contains(c);
    let plural = if last.ends_with('y')
        && last.len() > 1
        && !vowel(last.chars().rev().nth(1).unwrap_or('a'))
    {
        format!("{}ies", &last[..last.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|s| last.ends_with(s))
    {
        format!("{last}es")
    } else {
        format!("{last}s")
    };
    format!("{head}{plural}")
}

/// Check a resource name (and its plural).
pub fn check_resource_name(name: &str, plural: &str) -> Result<(), UsageError> {
    let problem = identifier_problem(name)
        .or_else(|| identifier_problem(plural).map(|p| format!("its plural: {p}")))
        .or_else(|| {
            (name == plural).then(|| format!("`{name}` and its plural are the same; pass --plural"))
        })
        .or_else(|| {
            (name.len() > MAX_RESOURCE || plural.len() > MAX_RESOURCE + 3).then(|| {
                format!(
                    "longer than {MAX_RESOURCE} characters (its plural: {})",
                    MAX_RESOURCE + 3
                )
            })
        })
        .or_else(|| {
            [name, plural]
                .iter()
                .find(|n| RESERVED_RESOURCES.contains(n))
                .map(|n| format!("`{n}` is used by the generated project itself"))
        });
    match problem {
        None => Ok(()),
        Some(problem) => Err(usage(
            "NAME",
            name,
            0..name.len(),
            format!("`{name}` is not a usable resource name: {problem}"),
            "this name",
            "name the resource in the singular, snake_case, e.g. `book` or `order_line` (use --plural for an irregular plural)".into(),
        )),
    }
}

/// The session ids a resource's plans take, and the sessions they come after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ResourceSessions {
    pub backend: String,
    pub backend_after: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontend: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontend_after: Option<String>,
}

/// A resource as fsi.toml records it (`[[resources]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceEntry {
    pub name: String,
    pub plural: String,
    pub fields: Vec<String>,
    pub frontend: bool,
    pub revision: String,
    pub down_revision: String,
    pub sessions: ResourceSessions,
}

/// A resource ready to render: the entry with its fields parsed.
#[derive(Debug, Clone)]
pub struct Resource {
    pub entry: ResourceEntry,
    pub fields: Vec<Field>,
}

impl Resource {
    /// Parse a recorded entry (fields were checked when it was added; a hand edit may break them).
    pub fn from_entry(entry: ResourceEntry) -> Result<Resource, UsageError> {
        check_resource_name(&entry.name, &entry.plural)?;
        let fields = entry
            .fields
            .iter()
            .map(|f| parse_field(f))
            .collect::<Result<Vec<_>, _>>()?;
        check_fields(&entry.fields, &fields)?;
        Ok(Resource { entry, fields })
    }

    /// The `[[resources]]` table appended to fsi.toml.
    pub fn toml(&self) -> String {
        #[derive(Serialize)]
        struct Doc<'a> {
            resources: [&'a ResourceEntry; 1],
        }
        let text = toml::to_string_pretty(&Doc {
            resources: [&self.entry],
        })
        .expect("a resource entry serializes");
        format!(
            "\n# `fsi add resource {}` (fsi update re-renders it from this entry)\n{text}",
            self.entry.name
        )
    }

    /// The values templates see as `r`.
    pub fn context(&self) -> minijinja::Value {
        let e = &self.entry;
        let pascal = |s: &str| -> String {
            s.split('_')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect()
        };
        let camel = |s: &str| -> String {
            let p = pascal(s);
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
                .unwrap_or_default()
        };
        let words = |s: &str| s.replace('_', " ");
        let title = |s: &str| {
            let w = words(s);
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        };
        let fields: Vec<minijinja::Value> = self
            .fields
            .iter()
            .map(|f| {
                minijinja::context! {
                    name => &f.name,
                    type => f.kind.name(),
                    optional => f.optional,
                    choices => &f.choices,
                    label => title(&f.name),
                    pascal => pascal(&f.name),
                }
            })
            .collect();
        minijinja::context! {
            name => &e.name,
            plural => &e.plural,
            url => e.plural.replace('_', "-"),
            Class => pascal(&e.name),
            Plural => pascal(&e.plural),
            title => title(&e.name),
            title_plural => title(&e.plural),
            words => words(&e.name),
            words_plural => words(&e.plural),
            camel => camel(&e.name),
            camel_plural => camel(&e.plural),
            fields => fields,
            revision => &e.revision,
            down_revision => &e.down_revision,
            sessions => minijinja::context! {
                backend => &e.sessions.backend,
                backend_after => &e.sessions.backend_after,
                frontend => &e.sessions.frontend,
                frontend_after => &e.sessions.frontend_after,
            },
            frontend => e.frontend,
        }
    }

    /// A path of `skeletons/resource/` with its placeholders filled in.
    pub fn fill_path(&self, path: &str) -> String {
        let e = &self.entry;
        let ctx = self.context();
        let get = |k: &str| {
            ctx.get_attr(k)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        path.replace("__plural__", &e.plural)
            .replace("__name__", &e.name)
            .replace("__Class__", &get("Class"))
            .replace("__Plural__", &get("Plural"))
            .replace("__revision__", &e.revision)
    }
}

/// One insertion into an existing file, from `skeletons/resource/_anchors.toml.jinja`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Insert {
    pub file: String,
    pub anchor: String,
    pub text: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct Inserts {
    #[serde(default)]
    pub insert: Vec<Insert>,
}

/// The marker a line must contain to be the anchor `name`.
pub fn anchor_marker(name: &str) -> String {
    format!("fsi:anchor {name}")
}

/// Insert `text` before the line that holds the anchor, indented like it. `None` when the anchor
/// is not in `contents` (the caller names the file and refuses).
pub fn apply_insert(contents: &str, insert: &Insert) -> Option<String> {
    let marker = anchor_marker(&insert.anchor);
    let mut offset = 0;
    for line in contents.split_inclusive('\n') {
        let is_anchor = line.find(&marker).is_some_and(|at| {
            // `fsi:anchor routes` must not match `fsi:anchor routes-extra`.
            !line[at + marker.len()..]
                .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
        if is_anchor {
            let indent: String = line
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            let mut out = String::with_capacity(contents.len() + insert.text.len() + 64);
            out.push_str(&contents[..offset]);
            for l in insert.text.trim_matches('\n').lines() {
                if !l.trim().is_empty() {
                    out.push_str(&indent);
                    out.push_str(l);
                }
                out.push('\n');
            }
            out.push_str(&contents[offset..]);
            return Some(out);
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_parse_with_types_options_and_choices() {
        let f = parse_field("published:date?").unwrap();
        assert_eq!(
            (f.name.as_str(), f.kind, f.optional),
            ("published", FieldKind::Date, true)
        );
        let f = parse_field("genre:enum(fiction|non-fiction|poetry)").unwrap();
        assert_eq!(f.kind, FieldKind::Enum);
        assert_eq!(f.choices, ["fiction", "non-fiction", "poetry"]);
        assert_eq!(f.spec(), "genre:enum(fiction|non-fiction|poetry)");
        assert_eq!(
            parse_field("in_stock:bool").unwrap().spec(),
            "in_stock:bool"
        );
    }

    #[test]
    fn bad_fields_are_located() {
        let e = parse_field("pages:integer").unwrap_err();
        assert!(
            e.message.contains("unknown type `integer`"),
            "{}",
            e.message
        );
        assert_eq!(e.span, SourceSpan::from(6..13));
        for bad in [
            "class:str",
            "id:int",
            "owner_id:int",
            "Title:str",
            "title",
            "x:enum()",
            "x:enum(a|a)",
            "model_x:str",
            "default:str",
        ] {
            assert!(parse_field(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn names_are_bounded_so_revision_ids_and_lines_fit() {
        // Alembic's version column holds 32 characters: `0002_` + the longest plural.
        let longest = "a".repeat(MAX_RESOURCE);
        let plural = pluralize(&longest);
        check_resource_name(&longest, &plural).unwrap();
        assert!(format!("0002_{plural}").len() <= 32);
        assert!(check_resource_name(&"a".repeat(MAX_RESOURCE + 1), &"b".repeat(5)).is_err());
        assert!(parse_field(&format!("{}:str", "f".repeat(MAX_IDENT))).is_ok());
        assert!(parse_field(&format!("{}:str", "f".repeat(MAX_IDENT + 1))).is_err());
        for local in ["row:str", "editing:bool"] {
            assert!(parse_field(local).is_err(), "{local}");
        }
        assert!(check_resource_name("row", "rows").is_err());
    }

    #[test]
    fn plurals() {
        for (s, p) in [
            ("book", "books"),
            ("category", "categories"),
            ("box", "boxes"),
            ("day", "days"),
            ("order_line", "order_lines"),
            ("person", "people"),
            ("address", "addresses"),
        ] {
            assert_eq!(pluralize(s), p);
        }
    }

    #[test]
    fn inserts_go_above_the_anchor_with_its_indent() {
        let text = "a\n    # fsi:anchor blueprints\nb\n";
        let ins = Insert {
            file: "x".into(),
            anchor: "blueprints".into(),
            text: "one\ntwo\n".into(),
        };
        assert_eq!(
            apply_insert(text, &ins).unwrap(),
            "a\n    one\n    two\n    # fsi:anchor blueprints\nb\n"
        );
        let other = Insert {
            anchor: "blue".into(),
            ..ins.clone()
        };
        assert_eq!(apply_insert(text, &other), None);
    }
}
