//! Feature gates: `skeletons/gates/*.toml` decide which skeleton paths a feature combination gets.
//!
//! ```toml
//! [[gate]]
//! when = "auth && !realtime"        # features, `!`, `&&`, and `database == 'postgresql'`,
//!                                   # `backend != 'flask'`, `realtime == 'sse'`
//! paths = ["backend/app/modules/auth/**"]
//! ```

use globset::{Glob, GlobMatcher};
use include_dir::Dir;
use serde::Deserialize;

use super::{Answers, ScaffoldError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GateFile {
    #[serde(default)]
    gate: Vec<RawGate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    when: String,
    paths: Vec<String>,
}

/// One term of a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Feature {
        name: String,
        negated: bool,
    },
    /// `database == 'postgresql'`, `backend != 'flask'`, `realtime == 'sse'`.
    Choice {
        name: String,
        value: String,
        negated: bool,
    },
}

impl Condition {
    fn holds(&self, answers: &Answers) -> bool {
        match self {
            Condition::Feature { name, negated } => {
                answers.feature(name).unwrap_or(false) != *negated
            }
            Condition::Choice {
                name,
                value,
                negated,
            } => (answers.choice(name) == Some(value.as_str())) != *negated,
        }
    }
}

/// Paths that exist only when every condition holds.
#[derive(Debug, Clone)]
pub struct Gate {
    pub conditions: Vec<Condition>,
    pub patterns: Vec<String>,
    matchers: Vec<GlobMatcher>,
}

fn parse_condition(text: &str) -> Option<Vec<Condition>> {
    let mut out = Vec::new();
    for term in text.split("&&") {
        let term = term.trim();
        if let Some((lhs, rhs, negated)) = term
            .split_once("==")
            .map(|(l, r)| (l, r, false))
            .or_else(|| term.split_once("!=").map(|(l, r)| (l, r, true)))
        {
            let name = lhs.trim();
            let value = rhs.trim().trim_matches(|c| c == '\'' || c == '"');
            if !Answers::choice_values(name).contains(&value) {
                return None;
            }
            out.push(Condition::Choice {
                name: name.to_string(),
                value: value.to_string(),
                negated,
            });
        } else {
            let (name, negated) = match term.strip_prefix('!') {
                Some(rest) => (rest.trim(), true),
                None => (term, false),
            };
            Answers::default().feature(name)?;
            out.push(Condition::Feature {
                name: name.to_string(),
                negated,
            });
        }
    }
    Some(out)
}

/// Read every gate file of a skeleton tree.
pub fn load(skeletons: &Dir<'_>) -> Result<Vec<Gate>, ScaffoldError> {
    let mut gates = Vec::new();
    let Some(dir) = skeletons.get_dir("gates") else {
        return Ok(gates);
    };
    let mut files: Vec<_> = dir.files().collect();
    files.sort_by(|a, b| a.path().cmp(b.path()));
    for file in files {
        let name = format!("skeletons/{}", file.path().display());
        let bad = |message: String| ScaffoldError::BadGate {
            file: name.clone(),
            message,
        };
        let text = file
            .contents_utf8()
            .ok_or_else(|| bad("not UTF-8".into()))?;
        let parsed: GateFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        for raw in parsed.gate {
            let conditions = parse_condition(&raw.when).ok_or_else(|| {
                bad(format!(
                    "condition `{}`: use feature names (auth, realtime, deploy), `!`, `&&` and `database|backend|realtime ==|!= 'value'` (sqlite|postgresql, quart|flask, websocket|sse|none)",
                    raw.when
                ))
            })?;
            let matchers = raw
                .paths
                .iter()
                .map(|p| {
                    Glob::new(p)
                        .map(|g| g.compile_matcher())
                        .map_err(|e| bad(format!("pattern `{p}`: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            gates.push(Gate {
                conditions,
                patterns: raw.paths,
                matchers,
            });
        }
    }
    Ok(gates)
}

/// Whether a skeleton path (relative to `project/`, `.jinja` suffix included) is rendered.
pub fn allowed(gates: &[Gate], rel: &str, answers: &Answers) -> bool {
    let plain = rel.strip_suffix(".jinja").unwrap_or(rel);
    gates.iter().all(|g| {
        let applies = g
            .matchers
            .iter()
            .any(|m| m.is_match(rel) || m.is_match(plain));
        !applies || g.conditions.iter().all(|c| c.holds(answers))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_parse_and_evaluate() {
        let c = parse_condition("auth && !realtime").unwrap();
        let mut a = Answers::default();
        assert!(!c.iter().all(|c| c.holds(&a)));
        a.realtime = crate::scaffold::Realtime::None;
        assert!(c.iter().all(|c| c.holds(&a)));
        let d = parse_condition("database == 'postgresql'").unwrap();
        assert!(!d[0].holds(&a));
        let f = parse_condition("backend == 'flask' && realtime != 'none'").unwrap();
        assert!(!f.iter().all(|c| c.holds(&a)));
        a.backend = crate::scaffold::Backend::Flask;
        a.realtime = crate::scaffold::Realtime::Sse;
        assert!(f.iter().all(|c| c.holds(&a)));
        let q = parse_condition("backend != 'flask'").unwrap();
        assert!(!q[0].holds(&a));
        assert!(parse_condition("bogus").is_none());
        assert!(parse_condition("database == 'mysql'").is_none());
        assert!(parse_condition("backend == 'django'").is_none());
        assert!(parse_condition("colour == 'red'").is_none());
    }
}
