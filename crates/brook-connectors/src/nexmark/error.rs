//! [`NexmarkError`]: what can go wrong configuring, exporting or reading Nexmark events.

use brook_types::BrookError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum NexmarkError {
    #[error("invalid value '{value}' for nexmark option '{key}': {reason}")]
    InvalidOption { key: String, value: String, reason: String },

    #[error("unknown nexmark option '{key}'; known options: {known}")]
    UnknownOption { key: String, known: String },

    #[error("{action} {path}: {error}")]
    Io { action: &'static str, path: PathBuf, error: std::io::Error },

    #[error(
        "no exported Nexmark events in {dir}: expected person.{format}, auction.{format} and bid.{format} \
         (write them with `brook nexmark gen --out {dir}`)"
    )]
    MissingExport { dir: PathBuf, format: &'static str },

    #[error("{path}:{line}: malformed {kind} record: {reason}")]
    Malformed { path: PathBuf, line: u64, kind: &'static str, reason: String },
}

impl NexmarkError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io { action, path: path.into(), error }
    }
}

impl From<NexmarkError> for BrookError {
    fn from(e: NexmarkError) -> Self {
        match e {
            NexmarkError::Io { action, path, error } => BrookError::Io { action, path, error },
            other => BrookError::InvalidArgument(other.to_string()),
        }
    }
}
