//! Template rendering (minijinja, strict undefined) and the scaffold engine's errors.

use std::path::PathBuf;

use miette::{Diagnostic, NamedSource, SourceSpan};
use minijinja::{Environment, UndefinedBehavior};
use thiserror::Error;

use super::Request;
use crate::error::{Classify, ExitStatus};

#[derive(Debug, Error, Diagnostic)]
pub enum ScaffoldError {
    #[error("`{name}` is not a usable project name")]
    #[diagnostic(
        code(fsi::new::name),
        help(
            "use letters, digits and single dashes, starting with a letter, at most 100 characters, e.g. `my-app`"
        )
    )]
    BadName { name: String },

    /// Whitespace or a character the shell treats specially: the name is also the directory
    /// users `cd` into and type in commands.
    #[error("`{name}` is not a usable project name: {problem}")]
    #[diagnostic(code(fsi::new::name))]
    UnsafeName {
        name: String,
        problem: String,
        #[help]
        help: String,
    },

    #[error("{path} exists and is not empty")]
    #[diagnostic(
        code(fsi::new::not_empty),
        help(
            "choose a new directory, or pass --force to write into it (files fsi generates are replaced; others are kept)"
        )
    )]
    TargetNotEmpty { path: PathBuf },

    #[error("cannot write into {path}: {}", .conflicts.join("; "))]
    #[diagnostic(
        code(fsi::new::obstructed),
        help("move those paths out of the way (nothing was written)")
    )]
    Obstructed {
        path: PathBuf,
        conflicts: Vec<String>,
    },

    #[error("interrupted; nothing was written")]
    #[diagnostic(code(fsi::new::interrupted))]
    Interrupted,

    #[error(transparent)]
    #[diagnostic(transparent)]
    Template(Box<TemplateError>),

    #[error("bad gate file {file}: {message}")]
    #[diagnostic(code(fsi::new::gate))]
    BadGate { file: String, message: String },

    /// `fsi add` / `fsi update` need an anchor line the user removed.
    #[error("{file} has no line containing `fsi:anchor {anchor}`")]
    #[diagnostic(
        code(fsi::add::anchor),
        help(
            "fsi inserts the new resource's lines above that marker; put back a line containing `fsi:anchor {anchor}` (in a comment) where they belong, or add them by hand. Nothing was changed."
        )
    )]
    AnchorMissing { file: String, anchor: String },

    #[error("{file} is missing; fsi add needs it to insert the resource (anchor `{anchor}`)")]
    #[diagnostic(
        code(fsi::add::anchor_file),
        help(
            "restore the file (`git checkout -- {file}`) or add the resource by hand. Nothing was changed."
        )
    )]
    AnchorFileMissing { file: String, anchor: String },

    #[error("the resource `{name}` exists already: {why}")]
    #[diagnostic(
        code(fsi::add::exists),
        help("nothing was changed; choose another name, or remove the existing one first")
    )]
    ResourceExists { name: String, why: String },

    #[error("the working tree has changes: {}", .paths.join(", "))]
    #[diagnostic(
        code(fsi::dirty),
        help(
            "commit or stash them first, so that what fsi changes can be reviewed and undone on its own{extra}"
        )
    )]
    Dirty { paths: Vec<String>, extra: String },

    #[error("bad resource template: {message}")]
    #[diagnostic(
        code(fsi::add::template),
        help(
            "this is a bug in fsi's skeletons; every resource template is rendered by fsi's test suite"
        )
    )]
    BadResourceTemplate { message: String },

    #[error("the embedded skeletons have no project/ directory")]
    #[diagnostic(code(fsi::new::skeletons))]
    NoProjectDir,

    #[error("cannot write {path}")]
    #[diagnostic(code(fsi::new::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("git failed in {path}")]
    #[diagnostic(code(fsi::new::git))]
    Git {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
}

/// A skeleton template that does not render, pointing into the template.
#[derive(Debug, Error, Diagnostic)]
#[error("template error in {name}: {message}")]
#[diagnostic(
    code(fsi::new::template),
    help("this is a bug in the skeleton; every skeleton is rendered by fsi's test suite")
)]
pub struct TemplateError {
    pub name: String,
    pub message: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("{message}")]
    span: Option<SourceSpan>,
}

impl Classify for ScaffoldError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            ScaffoldError::BadName { .. } | ScaffoldError::UnsafeName { .. } => ExitStatus::Invalid,
            ScaffoldError::TargetNotEmpty { .. }
            | ScaffoldError::Obstructed { .. }
            | ScaffoldError::AnchorMissing { .. }
            | ScaffoldError::AnchorFileMissing { .. }
            | ScaffoldError::ResourceExists { .. }
            | ScaffoldError::Dirty { .. } => ExitStatus::Refused,
            ScaffoldError::Interrupted => ExitStatus::Interrupted,
            ScaffoldError::Template(_)
            | ScaffoldError::BadGate { .. }
            | ScaffoldError::BadResourceTemplate { .. }
            | ScaffoldError::NoProjectDir
            | ScaffoldError::Io { .. }
            | ScaffoldError::Git { .. } => ExitStatus::Failure,
        }
    }
}

pub(super) struct Renderer {
    env: Environment<'static>,
    ctx: minijinja::Value,
}

impl Renderer {
    pub(super) fn new(request: &Request) -> Renderer {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .build()
                .expect("default delimiters are valid"),
        );
        // `{% import "resource/_macros.jinja" as m %}`: names are relative to skeletons/.
        env.set_loader(|name| {
            Ok(super::SKELETONS
                .get_file(name)
                .map(|f| String::from_utf8_lossy(f.contents()).into_owned()))
        });
        let a = &request.answers;
        let n = &request.names;
        let ctx = minijinja::context! {
            project_name => &n.project_name,
            project_slug => &n.project_slug,
            package_name => &n.package_name,
            project_title => &n.project_title,
            PROJECT => &n.project_upper,
            features => minijinja::context! {
                auth => a.auth,
                realtime => a.realtime,
                deploy => a.deploy,
            },
            database => a.database.as_str(),
            backend_port => 5000,
            frontend_port => 5173,
            jwt_secret => &request.jwt_secret,
            fsi_version => env!("CARGO_PKG_VERSION"),
            fsi_install => crate::config::default_install(),
        };
        Renderer { env, ctx }
    }

    /// Render with `r` (a resource's values) added to the project's context.
    pub(super) fn render_with(
        &self,
        name: &str,
        source: &[u8],
        resource: Option<&minijinja::Value>,
    ) -> Result<String, ScaffoldError> {
        let text = String::from_utf8_lossy(source).into_owned();
        let fail = |e: minijinja::Error| {
            let span = e
                .range()
                .map(|r| SourceSpan::from(r.start..r.end))
                .or_else(|| {
                    e.line().map(|line| {
                        let start: usize = text
                            .split_inclusive('\n')
                            .take(line - 1)
                            .map(str::len)
                            .sum();
                        let len = text[start..].find('\n').unwrap_or(text.len() - start);
                        SourceSpan::from(start..start + len)
                    })
                });
            ScaffoldError::Template(Box::new(TemplateError {
                name: name.to_string(),
                message: e
                    .detail()
                    .map(str::to_string)
                    .unwrap_or_else(|| e.kind().to_string()),
                src: NamedSource::new(name, text.clone()),
                span,
            }))
        };
        let tmpl = self.env.template_from_str(&text).map_err(fail)?;
        match resource {
            None => tmpl.render(&self.ctx).map_err(fail),
            Some(r) => tmpl
                .render(minijinja::context! { r => r, ..self.ctx.clone() })
                .map_err(fail),
        }
    }
}
