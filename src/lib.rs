//! fsi — fullstack-integration.
//!
//! Three engines behind one thin command layer:
//!
//! - [`session`]: read session plans (XML in several dialects, Markdown), validate, order and run them;
//! - [`scaffold`]: render the embedded skeletons into a new project;
//! - [`typesync`]: Pydantic DTOs → TypeScript and Zod, statically, with drift detection.
//!
//! The engines return values and typed errors and never print; [`commands`] composes them and [`ui`]
//! is the only place that talks to the user.

pub mod cigen;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod exec;
pub mod fsutil;
pub mod scaffold;
pub mod services;
pub mod session;
pub mod typesync;
pub mod ui;
