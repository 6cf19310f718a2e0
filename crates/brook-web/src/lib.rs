//! Brook's REST API: the JobManager's web endpoint, with the routes and JSON shapes
//! of Flink 2.3's REST API that the CLI and tools use (docs/design/rest.md), and the
//! HTTP client `brook list`, `cancel`, `savepoint` and `stop` talk to it with.
//!
//! ```text
//! brook list/cancel/savepoint/stop ──HTTP/1.1──▶ RestServer (axum) ──▶ Dispatcher ──▶ JobHandle / JobControl
//! ```

pub mod client;
mod error;
mod jars;
mod job_config;
pub mod operations;
mod plan;
mod routes;
mod server;
mod shapes;
mod taskmanagers;
mod vertices;

pub use client::{RestClient, RestClientError};
pub use server::RestServer;

/// Reported as `flink-version` (Brook's version; the shapes are Flink 2.3's).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
