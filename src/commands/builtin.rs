//! Built-in session actions, registered by the command layer so that the session engine never
//! imports another engine.
//!
//! - `types`: INT-01's tasks "Generate TypeScript types from Pydantic DTOs", "Add Zod schemas for
//!   form validation" and "Export from src/types/index.ts" — one idempotent run of the typesync
//!   engine with the project's `[types]` settings (types, Zod schemas and the barrel together).

use crate::config::Project;
use crate::session::actions::{Action, ActionContext, ActionOutcome, ActionRegistry};
use crate::typesync;

/// Title aliases of the type-generation action (matched ignoring case, spacing and trailing
/// punctuation), as the seed's INT-01 writes them.
pub const TYPES_ALIASES: &[&str] = &[
    "Generate TypeScript types from Pydantic DTOs",
    "Add Zod schemas for form validation",
    "Export from src/types/index.ts",
    "Generate TypeScript types",
    "fsi types",
];

struct TypesAction;

impl TypesAction {
    fn config(ctx: &ActionContext<'_>) -> Result<typesync::TypesConfig, String> {
        Project::discover(ctx.root)
            .map(|p| p.config.types)
            .map_err(|e| format!("{:?}", miette::Report::new(e)))
    }
}

impl Action for TypesAction {
    fn describe(&self, ctx: &ActionContext<'_>) -> String {
        match Self::config(ctx) {
            Ok(c) => format!(
                "fsi types: {} → {}{}",
                c.roots.join(", "),
                c.out_dir.display(),
                if c.zod { " (with Zod schemas)" } else { "" }
            ),
            Err(_) => "fsi types (fsi.toml does not parse)".into(),
        }
    }

    fn run(&self, ctx: &ActionContext<'_>) -> Result<ActionOutcome, String> {
        let config = Self::config(ctx)?;
        let generated = typesync::generate(ctx.root, &config)
            .map_err(|e| format!("{:?}", miette::Report::new(e)))?;
        let report = typesync::write(ctx.root, &generated)
            .map_err(|e| format!("{:?}", miette::Report::new(e)))?;
        let mut summary = format!(
            "{} module(s): {} written, {} unchanged",
            generated.modules.len(),
            report.written.len(),
            report.unchanged
        );
        if !report.removed.is_empty() {
            summary.push_str(&format!(", {} orphan(s) removed", report.removed.len()));
        }
        if !generated.warnings.is_empty() {
            summary.push_str(&format!(
                "; {} warning(s), see `fsi types`",
                generated.warnings.len()
            ));
        }
        Ok(ActionOutcome {
            summary,
            files: generated.files.keys().map(|p| ctx.root.join(p)).collect(),
        })
    }
}

/// Every built-in action.
pub fn registry() -> ActionRegistry {
    let mut r = ActionRegistry::new();
    r.register("types", TYPES_ALIASES, Box::new(TypesAction));
    r
}
