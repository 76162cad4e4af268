//! Placeholder substitution: `{PROJECT}`, `{project}`, `{entity}`, `{N-1}` …
//!
//! Only known keys are replaced — real commands also contain `{}` (`xargs -I{}`), `${VAR}`,
//! `$(…)` and jq objects. Inside shell commands the substituted value is shell-quoted (a safe
//! value like `items` stays bare). Leftover *placeholder-looking* names from the template
//! vocabulary are reported as errors in the fields that drive execution.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::diag::{Problem, ProblemKind};
use super::model::Session;

/// Names templates use (guide §2.8); leftovers of these are errors, other `{…}` are left alone.
pub const TEMPLATE_NAMES: &[&str] = &[
    "PROJECT",
    "project",
    "entity",
    "entities",
    "Entity",
    "Entities",
    "N",
    "feature",
    "Feature",
    "Page",
    "flow",
    "module",
    "name",
    "session-id",
    "skill-name",
    "PREFIX",
    "ID",
    "DATE",
];

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{([A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9_]*)*)(?:([+-])(\d+))?\}").unwrap()
});

#[derive(Debug, Clone, Default)]
pub struct Vars(pub BTreeMap<String, String>);

impl Vars {
    pub fn new(map: BTreeMap<String, String>) -> Vars {
        Vars(map)
    }

    /// Substitute known keys. `shell` quotes values for use inside a bash command.
    pub fn apply(&self, text: &str, session_id: &str, shell: bool) -> String {
        if !text.contains('{') {
            return text.to_string();
        }
        PLACEHOLDER
            .replace_all(text, |c: &regex::Captures| {
                let key = &c[1];
                let value = self.lookup(key, session_id);
                let value = match (value, c.get(2), c.get(3)) {
                    (Some(v), None, _) => Some(v),
                    (Some(v), Some(op), Some(n)) => {
                        match (v.parse::<i64>(), n.as_str().parse::<i64>()) {
                            (Ok(a), Ok(b)) => {
                                Some(if op.as_str() == "+" { a + b } else { a - b }.to_string())
                            }
                            _ => None,
                        }
                    }
                    _ => None,
                };
                match value {
                    Some(v) if shell => shell_words::quote(&v).into_owned(),
                    Some(v) => v,
                    None => c[0].to_string(),
                }
            })
            .into_owned()
    }

    fn lookup(&self, key: &str, session_id: &str) -> Option<String> {
        if let Some(v) = self.0.get(key) {
            return Some(v.clone());
        }
        match key {
            "ID" | "session-id" if !session_id.contains('{') => Some(session_id.to_string()),
            _ => None,
        }
    }

    /// Template placeholders left in `text` after substitution.
    pub fn leftovers(text: &str) -> Vec<String> {
        if !text.contains('{') {
            return Vec::new();
        }
        PLACEHOLDER
            .captures_iter(text)
            .filter(|c| TEMPLATE_NAMES.contains(&&c[1]))
            .map(|c| c[0].to_string())
            .collect()
    }
}

/// Substitute every field of a session; report leftovers in execution-relevant fields.
pub fn substitute(s: &mut Session, vars: &Vars, src: &str, problems: &mut Vec<Problem>) {
    if !session_has_braces(s) {
        // Nothing to substitute and no placeholder left to report: every field stays as is.
        return;
    }
    let id_before = s.id.clone();
    let plain = |t: &str, id: &str| vars.apply(t, id, false);
    let shell = |t: &str, id: &str| vars.apply(t, id, true);
    s.id = plain(&s.id, &id_before);
    let id = s.id.clone();
    let mut fields: Vec<(String, usize)> = Vec::new(); // (text after substitution, search start)
    fields.push((s.id.clone(), s.id_span.start));
    for d in &mut s.deps {
        d.id = plain(&d.id, &id);
        fields.push((d.id.clone(), d.loc.span.start));
    }
    s.project = s.project.as_deref().map(|p| plain(p, &id));
    if let Some(wd) = &mut s.meta.working_directory {
        *wd = plain(wd, &id);
        fields.push((wd.clone(), s.loc.span.start));
    }
    s.meta.title = s.meta.title.as_deref().map(|t| plain(t, &id));
    if let Some(g) = &mut s.gate {
        for c in &mut g.checks {
            c.command = shell(&c.command, &id);
            fields.push((c.command.clone(), c.loc.span.start));
        }
        g.action_on_fail = g.action_on_fail.as_deref().map(|t| plain(t, &id));
    }
    for t in &mut s.tasks {
        t.title = plain(&t.title, &id);
        t.file = t.file.as_deref().map(|f| plain(f, &id));
        t.command = t.command.as_deref().map(|c| shell(c, &id));
        t.description = t.description.as_deref().map(|d| plain(d, &id));
        t.find_marker = t.find_marker.as_deref().map(|d| plain(d, &id));
        if let Some(cs) = &mut t.code_snippet {
            cs.text = plain(&cs.text, &id);
        }
        if let Some(f) = &t.file {
            fields.push((f.clone(), t.loc.span.start));
        }
        if let Some(c) = &t.command {
            fields.push((c.clone(), t.loc.span.start));
        }
    }
    for c in &mut s.checks {
        c.command = c.command.as_deref().map(|t| shell(t, &id));
        c.expected = plain(&c.expected, &id);
        if let Some(cmd) = &c.command {
            fields.push((cmd.clone(), c.loc.span.start));
        }
    }
    for sc in &mut s.screenshots {
        sc.name = plain(&sc.name, &id);
        fields.push((sc.name.clone(), s.loc.span.start));
    }
    for f in &mut s.forbidden {
        f.pattern = plain(&f.pattern, &id);
    }
    if let Some(c) = &mut s.commit {
        match c {
            super::model::CommitSpec::Structured {
                scope,
                description,
                body,
                ..
            } => {
                *scope = scope.as_deref().map(|t| plain(t, &id));
                *description = plain(description, &id);
                *body = body.as_deref().map(|t| plain(t, &id));
            }
            super::model::CommitSpec::Raw { message } => *message = plain(message, &id),
        }
    }

    let mut seen = std::collections::BTreeSet::new();
    for (text, from) in fields {
        for left in Vars::leftovers(&text) {
            // Point at the placeholder as written, searching from the field's element.
            let end = s.loc.span.end.min(src.len());
            let from = from.min(end);
            let pos = src[from..end].find(&left).map(|i| from + i).or_else(|| {
                src[s.loc.span.start..end]
                    .find(&left)
                    .map(|i| s.loc.span.start + i)
            });
            let span = pos.map_or(s.id_span.clone(), |p| p..p + left.len());
            if !seen.insert((left.clone(), span.start)) {
                continue;
            }
            let key = left.trim_matches(['{', '}']);
            let key = key.split(['+', '-']).next().unwrap_or(key);
            let key = if key == "session" || key == "skill" {
                left.trim_matches(['{', '}'])
            } else {
                key
            };
            problems.push(
                Problem::new(
                    ProblemKind::UnresolvedPlaceholder,
                    format!("unresolved placeholder {left} in session {}", s.id),
                )
                .at(s.loc.file, span, "no value for this placeholder")
                .help(format!(
                    "give it a value with `--var {key}=VALUE` or under [vars] in fsi.toml"
                )),
            );
        }
    }
}

/// Whether any field [`substitute`] touches contains a `{` (without one, `apply` returns the
/// text unchanged and `leftovers` finds nothing, so the whole pass is a no-op).
fn session_has_braces(s: &Session) -> bool {
    use super::model::CommitSpec;
    let b = |t: &str| t.contains('{');
    let ob = |t: &Option<String>| t.as_deref().is_some_and(b);
    b(&s.id)
        || s.deps.iter().any(|d| b(&d.id))
        || ob(&s.project)
        || ob(&s.meta.working_directory)
        || ob(&s.meta.title)
        || s.gate
            .as_ref()
            .is_some_and(|g| g.checks.iter().any(|c| b(&c.command)) || ob(&g.action_on_fail))
        || s.tasks.iter().any(|t| {
            b(&t.title)
                || ob(&t.file)
                || ob(&t.command)
                || ob(&t.description)
                || ob(&t.find_marker)
                || t.code_snippet.as_ref().is_some_and(|c| b(&c.text))
        })
        || s.checks.iter().any(|c| ob(&c.command) || b(&c.expected))
        || s.screenshots.iter().any(|sc| b(&sc.name))
        || s.forbidden.iter().any(|f| b(&f.pattern))
        || match &s.commit {
            Some(CommitSpec::Structured {
                scope,
                description,
                body,
                ..
            }) => ob(scope) || b(description) || ob(body),
            Some(CommitSpec::Raw { message }) => b(message),
            None => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        Vars(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn only_known_keys_are_replaced() {
        let v = vars(&[("entity", "items"), ("N", "3")]);
        assert_eq!(
            v.apply(
                "curl /api/{entity} | xargs -I{} echo ${HOME} {FE} {N-1}",
                "X-01",
                false
            ),
            "curl /api/items | xargs -I{} echo ${HOME} {FE} 2"
        );
    }

    #[test]
    fn values_are_shell_quoted_in_commands() {
        let v = vars(&[("name", "a b; rm -rf /")]);
        assert_eq!(v.apply("echo {name}", "X-01", true), "echo 'a b; rm -rf /'");
    }

    #[test]
    fn leftovers_are_template_names_only() {
        assert_eq!(
            Vars::leftovers("{entity} {foo} {} {N-1}"),
            ["{entity}", "{N-1}"]
        );
    }
}
