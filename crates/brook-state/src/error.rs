//! The crate's error type: what went wrong, with the state and operator it
//! concerns, and what to do about it.

use crate::descriptor::StateKind;
use crate::operator::OperatorStateMode;
use brook_types::key_group::KeyGroupRange;

/// Which part of a snapshot entry an encoding error concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryPart {
    Key,
    Namespace,
    Value,
}

impl std::fmt::Display for EntryPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EntryPart::Key => "key",
            EntryPart::Namespace => "namespace",
            EntryPart::Value => "value",
        })
    }
}

/// Errors of state registration, snapshots and restore.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "state '{name}' of operator '{operator}' is registered as {registered} state and cannot be \
         registered again as {requested} state; give one of them another name"
    )]
    KindMismatch { operator: String, name: String, registered: StateKind, requested: StateKind },

    #[error(
        "{kind} state '{name}' of operator '{operator}' is registered with type {registered} and \
         cannot be registered again with type {requested}; give one of them another name"
    )]
    TypeMismatch { operator: String, name: String, kind: StateKind, registered: String, requested: String },

    #[error(
        "state '{name}' of operator '{operator}' was restored as {restored} state, but the program \
         registers it as {registered} state; rename the state or start without the old snapshot"
    )]
    RestoredKindMismatch { operator: String, name: String, restored: StateKind, registered: StateKind },

    #[error("could not encode the {part} of an entry of state '{state}': {source}")]
    Encode {
        state: String,
        part: EntryPart,
        #[source]
        source: bincode::Error,
    },

    #[error(
        "could not decode the {part} of an entry of state '{state}' of operator '{operator}' as {type_name} \
         (the snapshot wrote {written_type}): {source}; the state's type changed incompatibly since the \
         snapshot was taken"
    )]
    Decode {
        operator: String,
        state: String,
        part: EntryPart,
        type_name: String,
        written_type: String,
        #[source]
        source: bincode::Error,
    },

    #[error(
        "the bytes are not a Brook {expected} snapshot (they start with {found:02x?}); check the file or object given"
    )]
    BadMagic { expected: &'static str, found: Vec<u8> },

    #[error(
        "the {what} snapshot has format version {found}; this build reads versions up to {supported}: \
         restore it with a newer Brook"
    )]
    UnsupportedVersion { what: &'static str, found: u16, supported: u16 },

    #[error("the {what} snapshot is truncated or corrupt at byte {offset}: {problem}")]
    Corrupt { what: &'static str, offset: usize, problem: &'static str },

    #[error(
        "the snapshot was taken with max parallelism {snapshot}, but operator '{operator}' now has max \
         parallelism {current}; key groups cannot be remapped, so set the operator's max parallelism \
         back to {snapshot}"
    )]
    MaxParallelismMismatch { operator: String, snapshot: usize, current: usize },

    #[error(
        "an entry of state '{state}' is in key group {key_group}, outside the writer's key groups \
         {range:?}; only keys of this subtask belong in its snapshot"
    )]
    KeyGroupOutOfRange { state: String, key_group: usize, range: KeyGroupRange },

    #[error("state '{name}' is written twice into one snapshot; a writer takes each state once")]
    DuplicateSnapshotState { name: String },

    #[error("state id {id} was not begun in this snapshot writer; call begin_state first")]
    UnknownSnapshotState { id: u32 },

    #[error(
        "operator state '{name}' is {first} state in one old subtask's snapshot and {second} state in \
         another's; the snapshots do not come from one operator"
    )]
    OperatorStateModeMismatch { name: String, first: OperatorStateMode, second: OperatorStateMode },

    #[error(
        "operator state '{name}' of operator '{operator}' is {registered} state and cannot be used as \
         {requested} state; give one of them another name"
    )]
    OperatorStateKindMismatch {
        operator: String,
        name: String,
        registered: OperatorStateMode,
        requested: OperatorStateMode,
    },

    #[error("operator state cannot be redistributed to parallelism 0")]
    ZeroParallelism,

    #[error(
        "state '{name}' of operator '{operator}' is restored from snapshots that disagree on whether its \
         values carry TTL timestamps; the snapshots do not come from one run of the program"
    )]
    RestoredTtlMismatch { operator: String, name: String },

    #[error(
        "operator '{operator}' cannot restore an incremental RocksDB snapshot into a backend that already \
         holds state; restore into a new backend before using it"
    )]
    IncrementalRestoreIntoUsedBackend { operator: String },

    /// RocksDB reported an error.
    #[cfg(feature = "rocksdb")]
    #[error(
        "RocksDB failed to {action} for operator '{operator}' in {dir}: {source}; check the local \
         working directory (disk space, permissions)"
    )]
    RocksDb {
        operator: String,
        action: &'static str,
        dir: std::path::PathBuf,
        #[source]
        source: rocksdb::Error,
    },

    #[error("could not {action} {path}: {source}; check the disk and the directory's permissions")]
    Io {
        action: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = StateError> = std::result::Result<T, E>;
