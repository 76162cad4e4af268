//! `fsi.toml`: the project's configuration and the answers given to `fsi new`.
//!
//! Each engine owns the shape of its own section ([`crate::session::SessionsConfig`],
//! [`crate::typesync::TypesConfig`], [`crate::scaffold::Answers`]); this module only finds the
//! file, parses it with spans for diagnostics, and composes the sections.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::error::{Classify, ExitStatus};

pub const CONFIG_FILE: &str = "fsi.toml";

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub project: ProjectSection,
    /// What `fsi new` was answered; re-applied by `fsi add` / `fsi update`.
    pub answers: crate::scaffold::Answers,
    pub paths: PathsSection,
    pub types: crate::typesync::TypesConfig,
    pub sessions: crate::session::SessionsConfig,
    /// Placeholder values for plans: `{PROJECT}`, `{project}`, `{entity}`, ...
    pub vars: BTreeMap<String, String>,
    /// Background services sessions can ask for (`<services><service name="backend"/>`).
    pub services: BTreeMap<String, crate::services::ServiceSpec>,
    /// How CI workflows (the generated `ci.yml`, `fsi ci github`) get fsi.
    pub ci: CiSection,
    /// The resources `fsi add resource` added, in order (`fsi update` renders them again).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<crate::scaffold::ResourceEntry>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CiSection {
    /// The shell command that installs fsi on a CI runner. The default installs this version
    /// from crates.io; `cargo install --git URL --tag vX --locked fullstack-integration` or a
    /// download of a prebuilt binary work as well (docs/cli.md#ci).
    pub install: String,
}

impl Default for CiSection {
    fn default() -> Self {
        CiSection {
            install: default_install(),
        }
    }
}

/// The crates.io package that holds the `fsi` binary. The crate named `fsi` there is another
/// program, so the name is spelled out wherever an install command is written.
pub const PACKAGE: &str = env!("CARGO_PKG_NAME");

/// `cargo install` of exactly this version of fsi.
pub fn default_install() -> String {
    format!(
        "cargo install {PACKAGE} --version {} --locked",
        env!("CARGO_PKG_VERSION")
    )
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectSection {
    pub name: String,
    /// The fsi version that generated the project.
    pub fsi_version: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PathsSection {
    pub backend: PathBuf,
    pub frontend: PathBuf,
}

impl Default for PathsSection {
    fn default() -> Self {
        PathsSection {
            backend: "backend".into(),
            frontend: "frontend".into(),
        }
    }
}

#[derive(Debug, Error, Diagnostic)]
pub enum ConfigError {
    #[error("cannot read {path}")]
    #[diagnostic(code(fsi::config::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid fsi.toml: {message}")]
    #[diagnostic(
        code(fsi::config::invalid),
        help("see docs/cli.md#fsitoml for the keys fsi.toml accepts")
    )]
    Invalid {
        message: String,
        #[source_code]
        src: NamedSource<String>,
        #[label("here")]
        span: Option<SourceSpan>,
    },
}

impl Classify for ConfigError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Invalid
    }
}

/// A loaded configuration together with the directory it applies to.
#[derive(Debug, Clone)]
pub struct Project {
    /// The directory holding `fsi.toml` (or the start directory when there is none).
    pub root: PathBuf,
    /// Whether an `fsi.toml` was found.
    pub has_config: bool,
    pub config: Config,
}

impl Config {
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| {
            let name = path.display().to_string();
            let mut span = e.span();
            let mut at = String::new();
            // miette cannot draw a label past column 65,535 (see `snippet_fits`).
            if let Some(r) = span.clone()
                && !crate::error::snippet_fits(text, r.clone())
            {
                let (l, c) = crate::error::line_col(text, r.start);
                at = format!(" (at {name}:{l}:{c})");
                span = None;
            }
            ConfigError::Invalid {
                message: format!("{}{at}", e.message()),
                span: span.map(SourceSpan::from),
                src: NamedSource::new(name, text.to_string()),
            }
        })
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("config serializes")
    }
}

impl Project {
    /// Find `fsi.toml` in `start` or its ancestors. Without one, the project is `start` itself
    /// with default settings.
    pub fn discover(start: &Path) -> Result<Project, ConfigError> {
        let start = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
        let mut dir = Some(start.as_path());
        while let Some(d) = dir {
            let candidate = d.join(CONFIG_FILE);
            if candidate.is_file() {
                let text =
                    fs_err::read_to_string(&candidate).map_err(|source| ConfigError::Io {
                        path: candidate.clone(),
                        source,
                    })?;
                let config = Config::parse(&text, &candidate)?;
                return Ok(Project {
                    root: d.to_path_buf(),
                    has_config: true,
                    config,
                });
            }
            dir = d.parent();
        }
        Ok(Project {
            root: start,
            has_config: false,
            config: Config::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovers_config_in_an_ancestor() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "[project]\nname = \"demo\"\n[vars]\nentity = \"items\"\n",
        )
        .unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        let p = Project::discover(&nested).unwrap();
        assert!(p.has_config);
        assert_eq!(p.root, dir.path());
        assert_eq!(p.config.project.name, "demo");
        assert_eq!(p.config.vars["entity"], "items");
    }

    #[test]
    fn unknown_key_is_an_error_with_a_span() {
        let err = Config::parse("[project]\nnmae = \"x\"\n", Path::new("fsi.toml")).unwrap_err();
        match err {
            ConfigError::Invalid { span, message, .. } => {
                assert!(span.is_some());
                assert!(message.contains("nmae"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
