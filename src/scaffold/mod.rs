//! The scaffold engine: embedded skeletons → a plan of files → atomic writes → git.

use serde::{Deserialize, Serialize};

/// The answers given to `fsi new`, saved in fsi.toml `[answers]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Answers {}
