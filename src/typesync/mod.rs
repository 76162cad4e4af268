//! Type sync: Python (Pydantic v2) source → IR → TypeScript / Zod emitters.

use serde::{Deserialize, Serialize};

/// The `[types]` section of fsi.toml.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TypesConfig {}
