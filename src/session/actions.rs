//! Built-in task actions, looked up by name or by task title.
//!
//! The session engine does not know about other engines. The command layer fills an
//! [`ActionRegistry`] (e.g. the type-generation action behind INT-01's tasks "Generate TypeScript
//! types from Pydantic DTOs", "Add Zod schemas for form validation", "Export from
//! src/types/index.ts") and hands it to the runner. A task uses an action when its `action`
//! attribute names it, or — for tasks with no command and no code snippet — when its title
//! matches one of the action's aliases (case-, whitespace- and trailing-punctuation-insensitive).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::exec::Cancel;

use super::model::{Session, Task};

/// What an action gets to work with.
pub struct ActionContext<'a> {
    /// Project root (where fsi.toml is).
    pub root: &'a Path,
    /// The session's resolved working directory.
    pub workdir: &'a Path,
    pub session: &'a Session,
    pub task: &'a Task,
    pub cancel: &'a Cancel,
    /// `--force` was given: overwriting user edits is allowed.
    pub force: bool,
}

/// What an action did.
#[derive(Debug, Clone, Default)]
pub struct ActionOutcome {
    /// One line for the run's output.
    pub summary: String,
    /// Files written or checked (project-relative or absolute); grepped for forbidden patterns.
    pub files: Vec<PathBuf>,
}

/// A built-in action. Implementations must be idempotent: the same action may back several
/// tasks of one session (consecutive ones share one run, see [`super::plan::TaskStep::Builtin`];
/// separated by another task, it runs again).
pub trait Action: Send + Sync {
    /// One line for `fsi plan`: what running it would do.
    fn describe(&self, ctx: &ActionContext<'_>) -> String;
    fn run(&self, ctx: &ActionContext<'_>) -> Result<ActionOutcome, String>;
}

/// Names and title aliases → actions.
#[derive(Default)]
pub struct ActionRegistry {
    actions: Vec<(String, Box<dyn Action>)>,
    by_name: BTreeMap<String, usize>,
    by_alias: BTreeMap<String, usize>,
}

impl std::fmt::Debug for ActionRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionRegistry")
            .field("names", &self.by_name.keys().collect::<Vec<_>>())
            .field("aliases", &self.by_alias.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Case-, whitespace- and trailing-punctuation-insensitive form of a name or title.
pub fn normalize(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(['.', ':', ';', '!'])
        .trim()
        .to_lowercase()
}

impl ActionRegistry {
    pub fn new() -> ActionRegistry {
        ActionRegistry::default()
    }

    /// Register `action` under `name` (matched against `task@action`) and title `aliases`.
    pub fn register(&mut self, name: &str, aliases: &[&str], action: Box<dyn Action>) {
        let i = self.actions.len();
        self.actions.push((name.to_string(), action));
        self.by_name.insert(normalize(name), i);
        for a in aliases {
            self.by_alias.insert(normalize(a), i);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// The action a task uses, with its registered name.
    pub fn lookup(&self, task: &Task) -> Option<(&str, &dyn Action)> {
        let by_name = task
            .action
            .as_deref()
            .and_then(|a| self.by_name.get(&normalize(a)));
        let by_title = || {
            if task.command.is_some() || task.code_snippet.is_some() {
                return None;
            }
            self.by_alias.get(&normalize(&task.title))
        };
        by_name
            .or_else(by_title)
            .map(|&i| (self.actions[i].0.as_str(), self.actions[i].1.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::model::Loc;

    struct Noop;
    impl Action for Noop {
        fn describe(&self, _: &ActionContext<'_>) -> String {
            "noop".into()
        }
        fn run(&self, _: &ActionContext<'_>) -> Result<ActionOutcome, String> {
            Ok(ActionOutcome::default())
        }
    }

    fn task(title: &str, action: Option<&str>) -> Task {
        Task {
            id: None,
            action: action.map(str::to_string),
            file: None,
            title: title.into(),
            description: None,
            command: None,
            code_snippet: None,
            find_marker: None,
            blocked_by: vec![],
            timing: Default::default(),
            loc: Loc {
                file: 0,
                span: 0..0,
            },
        }
    }

    #[test]
    fn aliases_match_loosely() {
        let mut r = ActionRegistry::new();
        r.register(
            "typesync",
            &["Generate TypeScript types from Pydantic DTOs"],
            Box::new(Noop),
        );
        assert_eq!(
            r.lookup(&task(
                "  generate typescript   TYPES from pydantic DTOs. ",
                None
            ))
            .map(|a| a.0),
            Some("typesync")
        );
        assert_eq!(
            r.lookup(&task("x", Some("TYPESYNC"))).map(|a| a.0),
            Some("typesync")
        );
        assert!(r.lookup(&task("Something else", None)).is_none());
    }
}
