//! The crate's error type. Every variant says what happened, where (the URL of the
//! checkpoint, savepoint or state file), and what to do.

use std::error::Error as _;

/// Errors of checkpoint storage, metadata, retention and restart strategies.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A configuration value that cannot be used (bad directory URL, out-of-range number).
    #[error("invalid value '{value}' for configuration key '{key}': {reason}")]
    InvalidConfig { key: &'static str, value: String, reason: String },

    /// Nothing at the given location.
    #[error("no checkpoint or savepoint at {location}: {hint}")]
    NotFound { location: String, hint: String },

    /// A `chk-<n>` or savepoint directory without `_metadata`: it was never finalized.
    #[error(
        "the checkpoint at {location} is incomplete: it has no _metadata file, so it was never finalized \
         (the job failed or was canceled while taking it); restore from another checkpoint or savepoint{hint}"
    )]
    Incomplete { location: String, hint: String },

    /// A `_metadata` file of a format version this Brook cannot read.
    #[error(
        "{location} has checkpoint metadata version {found}, but this Brook reads version {supported} and \
         older; restore it with the Brook release that wrote it or a newer one"
    )]
    UnsupportedVersion { location: String, found: u32, supported: u32 },

    /// A file that is not Brook checkpoint metadata, or is damaged.
    #[error("{location} is not valid Brook checkpoint metadata: {reason}")]
    InvalidMetadata { location: String, reason: String },

    /// Metadata that does not belong where it is being written.
    #[error("cannot finalize {location}: {reason}")]
    MetadataMismatch { location: String, reason: String },

    /// A savepoint whose metadata points at files outside its own directory.
    #[error(
        "the savepoint at {location} would not be self-contained: state file '{path}' lies outside its \
         directory; write savepoint state through the savepoint's own location"
    )]
    NotSelfContained { location: String, path: String },

    /// A savepoint was requested but no directory is known.
    #[error(
        "no savepoint directory: pass a target directory or set execution.checkpointing.savepoint-dir \
         (e.g. file:///var/lib/brook/savepoints)"
    )]
    NoSavepointDirectory,

    /// The object already exists (a checkpoint id reused in the same directory).
    #[error(
        "{location} already exists; another run of job {job} wrote checkpoints here — use a fresh \
         execution.checkpointing.dir or remove the old job directory"
    )]
    AlreadyExists { location: String, job: String },

    /// The object store (an S3 endpoint) cannot be reached.
    #[error(
        "cannot reach the object store for {location} while trying to {action}: {error}; check s3.endpoint \
         and that the server is running and reachable"
    )]
    Unreachable { action: &'static str, location: String, error: object_store::Error },

    /// Missing permissions or wrong credentials.
    #[error(
        "permission denied while trying to {action} {location}: {error}; check the directory's permissions \
         or the S3 credentials (s3.access-key, s3.secret-key)"
    )]
    PermissionDenied { action: &'static str, location: String, error: object_store::Error },

    /// The disk (or quota) is full.
    #[error(
        "no space left while trying to {action} {location}: {error}; free disk space or point \
         execution.checkpointing.dir at a larger volume"
    )]
    StorageFull { action: &'static str, location: String, error: object_store::Error },

    /// Any other storage failure.
    #[error("cannot {action} {location}: {error}")]
    Storage { action: &'static str, location: String, error: object_store::Error },
}

/// Result with [`CheckpointError`].
pub type Result<T, E = CheckpointError> = std::result::Result<T, E>;

impl CheckpointError {
    /// Sorts an `object_store` error into what the user can act on: unreachable endpoint,
    /// permissions, full disk, or other. `action` is a verb phrase ("write state file").
    pub(crate) fn storage(action: &'static str, location: impl Into<String>, error: object_store::Error) -> Self {
        let location = location.into();
        match classify(&error) {
            Kind::PermissionDenied => Self::PermissionDenied { action, location, error },
            Kind::StorageFull => Self::StorageFull { action, location, error },
            Kind::Unreachable => Self::Unreachable { action, location, error },
            Kind::Other => Self::Storage { action, location, error },
        }
    }

    /// Whether this is "the object does not exist".
    pub(crate) fn is_not_found(error: &object_store::Error) -> bool {
        matches!(error, object_store::Error::NotFound { .. })
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    PermissionDenied,
    StorageFull,
    Unreachable,
    Other,
}

/// ENOSPC and EDQUOT on Linux, for kernels' errors that std maps to `Other`.
const ENOSPC: i32 = 28;
const EDQUOT: i32 = 122;

fn classify(error: &object_store::Error) -> Kind {
    use std::io::ErrorKind;
    if matches!(error, object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }) {
        return Kind::PermissionDenied;
    }
    // Walk the source chain: local files wrap an io::Error, HTTP clients wrap the
    // connect error's io::Error.
    let mut source: Option<&(dyn std::error::Error + 'static)> = error.source();
    let mut text = error.to_string();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::StorageFull | ErrorKind::QuotaExceeded => return Kind::StorageFull,
                ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => return Kind::PermissionDenied,
                ErrorKind::ConnectionRefused
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::NotConnected
                | ErrorKind::AddrNotAvailable
                | ErrorKind::HostUnreachable
                | ErrorKind::NetworkUnreachable
                | ErrorKind::TimedOut => return Kind::Unreachable,
                _ => {}
            }
            if matches!(io.raw_os_error(), Some(ENOSPC | EDQUOT)) {
                return Kind::StorageFull;
            }
        }
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    // HTTP clients do not always expose the io::Error (DNS failures, connect timeouts).
    let text = text.to_ascii_lowercase();
    if ["error sending request", "connection refused", "dns error", "tcp connect error", "connect timeout"]
        .iter()
        .any(|needle| text.contains(needle))
    {
        return Kind::Unreachable;
    }
    Kind::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic(io: std::io::Error) -> object_store::Error {
        object_store::Error::Generic { store: "LocalFileSystem", source: Box::new(io) }
    }

    #[test]
    fn a_full_disk_is_storage_full_and_names_the_path() {
        let err = CheckpointError::storage(
            "write state file",
            "file:///data/ck/job/chk-1/abc",
            generic(std::io::Error::from_raw_os_error(ENOSPC)),
        );
        assert!(matches!(err, CheckpointError::StorageFull { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.starts_with("no space left while trying to write state file file:///data/ck/job/chk-1/abc"));
        assert!(text.contains("execution.checkpointing.dir"), "{text}");
    }

    #[test]
    fn permission_errors_point_at_permissions_and_credentials() {
        let err = CheckpointError::storage(
            "create directory",
            "file:///root/ck",
            generic(std::io::Error::from(std::io::ErrorKind::PermissionDenied)),
        );
        assert!(matches!(err, CheckpointError::PermissionDenied { .. }), "{err:?}");
        let denied = object_store::Error::PermissionDenied { path: "k".into(), source: "403".into() };
        let err = CheckpointError::storage("read", "s3://b/k", denied);
        assert!(err.to_string().contains("s3.secret-key"), "{err}");
    }

    #[test]
    fn refused_connections_are_unreachable() {
        let err = CheckpointError::storage(
            "write",
            "s3://bucket/x",
            object_store::Error::Generic {
                store: "S3",
                source: Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
            },
        );
        assert!(matches!(err, CheckpointError::Unreachable { .. }), "{err:?}");
        assert!(err.to_string().contains("s3.endpoint"));
    }

    #[test]
    fn other_errors_stay_generic() {
        let err = CheckpointError::storage("read", "file:///x", generic(std::io::Error::other("odd")));
        assert!(matches!(err, CheckpointError::Storage { .. }));
        assert_eq!(err.to_string(), "cannot read file:///x: Generic LocalFileSystem error: odd");
    }
}
