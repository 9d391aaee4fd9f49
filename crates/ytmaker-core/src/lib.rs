//! The domain of ytmaker, shared by every other crate.
//!
//! What lives here: the project status state machine ([`status`]), the error catalogue and the
//! typed error every fallible function returns ([`error`]), the script ([`script`]), the
//! per-project configuration with its validation ([`config`]), asset kinds ([`asset`]), the
//! retention policy for intermediate files ([`retention`]), trace ids ([`trace`]) and the
//! catalogue of every metric recorded ([`metric`]).
//!
//! What does not: any I/O. This crate never touches the file system, the network, a database or
//! a process, so every rule here can be tested with plain values.

pub mod article;
pub mod asset;
pub mod config;
#[cfg(feature = "openapi")]
pub mod config_schema;
pub mod error;
pub mod event;
pub mod metric;
pub mod prompt;
pub mod quota;
pub mod retention;
pub mod script;
pub mod secret;
pub mod status;
pub mod trace;
pub mod youtube;

pub use error::{ErrorCode, ErrorInfo, Stage, YtError, YtResult};
pub use secret::Secret;
pub use status::ProjectStatus;
pub use trace::TraceId;
