//! Checkpoint metadata: the `_metadata` file that makes a checkpoint or savepoint complete.
//!
//! # Format
//!
//! `_metadata` is UTF-8 JSON: readable with `jq`, diffable, and serde makes adding optional
//! fields cheap. Its size is dominated by inline state (base64, below the inline threshold of
//! 20 KiB per handle), not by the JSON structure. It opens with a magic string and a version:
//!
//! ```json
//! { "magic": "brook-checkpoint-metadata", "version": 1, "job_id": "…32 hex…",
//!   "checkpoint_id": 7, "timestamp_ms": 1700000000000, "kind": "checkpoint",
//!   "format": "canonical", "operators": [ … ], "master_states": [ … ] }
//! ```
//!
//! # Versioning policy
//!
//! - Brook writes [`METADATA_VERSION`] and reads every version up to it.
//! - A field may be added without a version bump only if it has a default
//!   (`#[serde(default)]`) and a reader that ignores it still restores correctly; readers
//!   ignore unknown fields.
//! - Any other change (a renamed or removed field, a new meaning, a new handle variant)
//!   bumps the version and keeps a decoder for every older one.
//! - A file with a newer version is refused with [`CheckpointError::UnsupportedVersion`].
//! - A file is written with the lowest version that can hold its content
//!   ([`CheckpointMetadata::required_version`]), so that older Brook releases still read
//!   what they can restore correctly; in memory, decoded metadata is always of the
//!   current version.
//!
//! # Versions
//!
//! - 1: the first format.
//! - 2: subtasks may hold `channel_state` (unaligned checkpoints with in-flight data). A
//!   version-1 reader would ignore it and silently lose that data, so such files are
//!   version 2; everything else is still written as version 1.

mod base64;
mod handles;

pub use handles::{ChannelStateHandle, InFlightHandle, KeyedStateHandle, NamedStateHandle, StreamStateHandle};

use crate::error::{CheckpointError, Result};
use brook_types::{CheckpointId, JobId, OperatorId};
use serde::{Deserialize, Serialize};

/// The newest metadata format version, which Brook reads and writes (files are written
/// with [`CheckpointMetadata::required_version`]).
pub const METADATA_VERSION: u32 = 2;

/// The first field of every `_metadata` file.
pub const METADATA_MAGIC: &str = "brook-checkpoint-metadata";

/// Checkpoint (periodic, owned and deleted by Brook) or savepoint (user-triggered,
/// self-contained, never deleted by Brook).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotKind {
    Checkpoint,
    Savepoint,
}

/// How keyed state is written: `Canonical` is backend-independent (a savepoint written by
/// the hash-map backend restores into RocksDB and back); `Native` is the backend's own files
/// (incremental RocksDB checkpoints).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotFormat {
    Canonical,
    Native,
}

/// The content of `_metadata`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointMetadata {
    /// The format version: of this Brook in memory ([`METADATA_VERSION`]); a file states
    /// the version it needs ([`required_version`](Self::required_version)), written by
    /// [`encode`](Self::encode).
    #[serde(skip_serializing, default = "current_version")]
    pub version: u32,
    #[serde(with = "hex_id::job")]
    pub job_id: JobId,
    pub checkpoint_id: CheckpointId,
    /// When the checkpoint was triggered, in milliseconds since the epoch.
    pub timestamp_ms: u64,
    pub kind: SnapshotKind,
    pub format: SnapshotFormat,
    pub operators: Vec<OperatorSnapshot>,
    /// State of the JobMaster side (e.g. the checkpoint coordinator's own hooks).
    #[serde(default)]
    pub master_states: Vec<MasterState>,
}

/// The state of one operator, all subtasks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorSnapshot {
    #[serde(with = "hex_id::operator")]
    pub operator_id: OperatorId,
    /// The user's `uid`, if any (for messages when state cannot be matched).
    #[serde(default)]
    pub uid: Option<String>,
    pub name: String,
    pub parallelism: usize,
    pub max_parallelism: usize,
    pub subtasks: Vec<SubtaskSnapshot>,
    /// State of the operator's coordinator on the JobMaster (a source's split enumerator).
    #[serde(default)]
    pub coordinator_state: Option<StreamStateHandle>,
}

/// The state of one subtask of one operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubtaskSnapshot {
    pub subtask: usize,
    #[serde(default)]
    pub keyed: Vec<KeyedStateHandle>,
    #[serde(default)]
    pub operator_state: Option<StreamStateHandle>,
    #[serde(default)]
    pub in_flight: Vec<InFlightHandle>,
    /// In-flight data of an unaligned checkpoint (added in version 1 with a default:
    /// absent for aligned checkpoints and in files written before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_state: Option<ChannelStateHandle>,
}

/// A named piece of JobMaster state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterState {
    pub name: String,
    pub handle: StreamStateHandle,
}

fn current_version() -> u32 {
    METADATA_VERSION
}

impl CheckpointMetadata {
    /// Metadata of the current version with no operators yet.
    pub fn new(
        job_id: JobId,
        checkpoint_id: CheckpointId,
        timestamp_ms: u64,
        kind: SnapshotKind,
        format: SnapshotFormat,
    ) -> Self {
        Self {
            version: METADATA_VERSION,
            job_id,
            checkpoint_id,
            timestamp_ms,
            kind,
            format,
            operators: Vec::new(),
            master_states: Vec::new(),
        }
    }

    /// The operator with the given id.
    pub fn operator(&self, id: OperatorId) -> Option<&OperatorSnapshot> {
        self.operators.iter().find(|o| o.operator_id == id)
    }

    /// Every state handle, shared or not.
    pub fn handles(&self) -> impl Iterator<Item = &StreamStateHandle> {
        let operators = self
            .operators
            .iter()
            .flat_map(|o| o.coordinator_state.iter().chain(o.subtasks.iter().flat_map(SubtaskSnapshot::handles)));
        operators.chain(self.master_states.iter().map(|m| &m.handle))
    }

    /// The handles of shared files (incremental checkpoints), which a later checkpoint may
    /// reference too.
    pub fn shared_handles(&self) -> impl Iterator<Item = &StreamStateHandle> {
        self.operators.iter().flat_map(|o| o.subtasks.iter()).flat_map(|s| s.shared_handles())
    }

    /// The lowest format version that holds this metadata: 2 with channel state, else 1.
    pub fn required_version(&self) -> u32 {
        let channel_state = self.operators.iter().flat_map(|o| &o.subtasks).any(|s| s.channel_state.is_some());
        if channel_state { 2 } else { 1 }
    }

    /// Serializes to the `_metadata` bytes, as [`required_version`](Self::required_version).
    pub fn encode(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Envelope<'a> {
            magic: &'static str,
            version: u32,
            #[serde(flatten)]
            metadata: &'a CheckpointMetadata,
        }
        serde_json::to_vec_pretty(&Envelope { magic: METADATA_MAGIC, version: self.required_version(), metadata: self })
            .expect("metadata has string keys and finite numbers only")
    }

    /// Parses `_metadata` bytes read from `location` (named in errors).
    pub fn decode(bytes: &[u8], location: &str) -> Result<Self> {
        #[derive(Deserialize)]
        struct Header {
            magic: Option<String>,
            version: Option<u32>,
        }
        let invalid = |reason: String| CheckpointError::InvalidMetadata { location: location.to_string(), reason };
        let header: Header = serde_json::from_slice(bytes)
            .map_err(|e| invalid(format!("not JSON ({e}); is this a Brook _metadata file?")))?;
        if header.magic.as_deref() != Some(METADATA_MAGIC) {
            return Err(invalid(format!("it does not start with \"magic\": \"{METADATA_MAGIC}\"")));
        }
        let version = header.version.ok_or_else(|| invalid("it has no \"version\"".to_string()))?;
        if version > METADATA_VERSION || version == 0 {
            return Err(CheckpointError::UnsupportedVersion {
                location: location.to_string(),
                found: version,
                supported: METADATA_VERSION,
            });
        }
        // Version 2 only added `channel_state` (with a default), so one decoder reads both;
        // the result is of the current version.
        let mut metadata: Self = serde_json::from_slice(bytes)
            .map_err(|e| invalid(format!("version {version} metadata does not parse: {e}")))?;
        metadata.version = METADATA_VERSION;
        Ok(metadata)
    }
}

impl SubtaskSnapshot {
    /// A subtask without state.
    pub fn empty(subtask: usize) -> Self {
        Self { subtask, keyed: Vec::new(), operator_state: None, in_flight: Vec::new(), channel_state: None }
    }

    /// Every handle of this subtask.
    pub fn handles(&self) -> impl Iterator<Item = &StreamStateHandle> {
        let keyed = self.keyed.iter().flat_map(|k| -> Box<dyn Iterator<Item = &StreamStateHandle> + '_> {
            match k {
                KeyedStateHandle::KeyGroups { handle, .. } => Box::new(std::iter::once(handle)),
                KeyedStateHandle::Incremental { shared, private, meta, .. } => {
                    Box::new(shared.iter().chain(private.iter()).map(|n| &n.handle).chain(std::iter::once(meta)))
                }
            }
        });
        keyed
            .chain(self.operator_state.iter())
            .chain(self.in_flight.iter().map(|f| &f.handle))
            .chain(self.channel_state.iter().map(|c| &c.handle))
    }

    /// The handles of shared files.
    pub fn shared_handles(&self) -> impl Iterator<Item = &StreamStateHandle> {
        self.keyed
            .iter()
            .flat_map(|k| match k {
                KeyedStateHandle::Incremental { shared, .. } => shared.as_slice(),
                KeyedStateHandle::KeyGroups { .. } => &[],
            })
            .map(|n| &n.handle)
    }
}

/// Ids as 32 hex digits in JSON: 128-bit numbers do not survive most JSON tools.
mod hex_id {
    macro_rules! hex_id {
        ($module:ident, $ty:ty) => {
            pub mod $module {
                use serde::{Deserialize, Deserializer, Serializer};

                pub fn serialize<S: Serializer>(id: &$ty, serializer: S) -> Result<S::Ok, S::Error> {
                    serializer.collect_str(id)
                }

                pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                    let text = String::deserialize(deserializer)?;
                    text.parse().map_err(serde::de::Error::custom)
                }
            }
        };
    }
    hex_id!(job, brook_types::JobId);
    hex_id!(operator, brook_types::OperatorId);
}

#[cfg(test)]
mod tests;
