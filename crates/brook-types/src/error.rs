//! The error type shared by Brook's library crates.
//!
//! Every user-facing variant says what happened, where, and what to do. A broken
//! invariant is not an error value: it is an `expect("why this holds")`.

use std::path::PathBuf;

/// Errors of Brook's libraries.
#[derive(Debug, thiserror::Error)]
pub enum BrookError {
    /// A configuration key that Brook does not know.
    #[error("unknown configuration key '{key}' (from {origin}){hint}")]
    UnknownConfigKey { key: String, origin: String, hint: String },

    /// A configuration value that does not parse or is out of range.
    #[error("invalid value '{value}' for configuration key '{key}' (from {origin}): {reason}")]
    InvalidConfigValue { key: String, value: String, origin: String, reason: String },

    /// A configuration file that cannot be read or parsed.
    #[error("cannot read configuration file {path}: {reason}")]
    ConfigFile { path: PathBuf, reason: String },

    /// A file that cannot be read or written.
    #[error("{action} {path}: {error}")]
    Io { action: &'static str, path: PathBuf, error: std::io::Error },

    /// A network endpoint that cannot be reached.
    #[error("cannot connect to {address}: {error}; check that the server is running and reachable")]
    Connect { address: String, error: std::io::Error },

    /// An argument that is not valid (an id that does not parse, a negative size, …).
    #[error("{0}")]
    InvalidArgument(String),

    /// The program built an invalid dataflow (e.g. forward partitioning between
    /// operators of different parallelism).
    #[error("invalid job graph: {0}")]
    InvalidProgram(String),

    /// The job needs more task slots than the cluster has.
    #[error(
        "not enough task slots: the job needs {required} slots ({detail}) but the cluster has {available}; \
         lower the parallelism (-p) or raise taskmanager.numberOfTaskSlots"
    )]
    NotEnoughSlots { required: usize, available: usize, detail: String },

    /// A task failed; the job failed with it.
    #[error("job {job_name} ({job_id}) failed: {cause}")]
    JobFailed { job_id: String, job_name: String, cause: String },

    /// The job was canceled before it finished.
    #[error("job {job_name} ({job_id}) was canceled")]
    JobCanceled { job_id: String, job_name: String },

    /// An operator could not restore its state from a checkpoint.
    #[error(
        "operator '{operator}' cannot restore its state from checkpoint {checkpoint}: {reason}; restore from \
         another checkpoint or start the job without state"
    )]
    StateRestore { operator: String, checkpoint: u64, reason: String },

    /// An operator could not create its keyed state backend (`state.backend.type`).
    #[error("operator '{operator}' could not create its {backend} state backend: {reason}")]
    StateBackend { operator: String, backend: &'static str, reason: String },

    /// The cluster stopped or a component went away.
    #[error("cluster error: {0}")]
    Cluster(String),

    /// A data-plane channel between TaskManagers failed; the message names the peer.
    #[error("{0}")]
    Network(String),
}

impl BrookError {
    /// Wraps an I/O error with what was being done and on which path.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { action, path: path.into(), error: source }
    }
}

/// Result with [`BrookError`].
pub type Result<T, E = BrookError> = std::result::Result<T, E>;
