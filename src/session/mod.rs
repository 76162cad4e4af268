//! The session engine: read plans, validate, order, run gates/tasks/checks, record.

use serde::{Deserialize, Serialize};

/// The `[sessions]` section of fsi.toml.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsConfig {}
