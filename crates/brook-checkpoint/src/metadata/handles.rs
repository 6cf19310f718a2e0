//! State handles: how `_metadata` points at the bytes of a snapshot.
//!
//! A [`StreamStateHandle`] is either the bytes themselves (below the inline threshold,
//! like Flink's `ByteStreamStateHandle`) or a file. A file path without a scheme is
//! relative to the directory that holds `_metadata` (`3f0c…`, or `../shared/9a1e…-000017.sst`
//! for a checkpoint's shared files); that is what makes savepoints relocatable. A path with a
//! scheme (`file:///…`, `s3://…`) is absolute.

use super::base64;
use brook_types::key_group::KeyGroupRange;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// A sequence of bytes of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamStateHandle {
    /// Stored inline in `_metadata` (base64 in the JSON).
    Inline(#[serde(with = "base64")] Bytes),
    /// Stored in a file of `size` bytes.
    File { path: String, size: u64 },
}

impl StreamStateHandle {
    /// The number of bytes the handle stands for.
    pub fn size(&self) -> u64 {
        match self {
            StreamStateHandle::Inline(bytes) => bytes.len() as u64,
            StreamStateHandle::File { size, .. } => *size,
        }
    }

    /// The file path, if the bytes live in a file.
    pub fn file_path(&self) -> Option<&str> {
        match self {
            StreamStateHandle::Inline(_) => None,
            StreamStateHandle::File { path, .. } => Some(path),
        }
    }
}

/// A handle with the name the state backend knows it by (e.g. a RocksDB SST file name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedStateHandle {
    pub name: String,
    pub handle: StreamStateHandle,
}

/// The keyed state of one subtask, for a range of key groups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyedStateHandle {
    /// A full snapshot: one stream with the key groups one after another;
    /// `key_group_offsets[i]` is where key group `key_group_range.start + i` begins, so a
    /// rescaled restore reads only the key groups it owns.
    KeyGroups { key_group_range: KeyGroupRange, handle: StreamStateHandle, key_group_offsets: Vec<u64> },
    /// An incremental snapshot (RocksDB): `shared` files may be referenced by several
    /// checkpoints and are reference counted; `private` files and `meta` belong to this
    /// checkpoint alone.
    Incremental {
        key_group_range: KeyGroupRange,
        shared: Vec<NamedStateHandle>,
        private: Vec<NamedStateHandle>,
        meta: StreamStateHandle,
    },
}

impl KeyedStateHandle {
    pub fn key_group_range(&self) -> KeyGroupRange {
        match self {
            KeyedStateHandle::KeyGroups { key_group_range, .. }
            | KeyedStateHandle::Incremental { key_group_range, .. } => *key_group_range,
        }
    }
}

/// In-flight data of one input channel (a placeholder from before unaligned checkpoints;
/// Brook writes [`ChannelStateHandle`] instead and never fills this).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlightHandle {
    pub input_gate: usize,
    pub channel: usize,
    pub handle: StreamStateHandle,
}

/// The channel state of one subtask in an unaligned checkpoint: the data in its input
/// channels that its snapshot had not processed and the data in its output channels
/// that the barrier overtook, in one file (docs/design/unaligned-checkpoints.md).
/// Stored with the subtask's head operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelStateHandle {
    /// The version of the file's format (`brook_runtime::checkpoint::CHANNEL_STATE_VERSION`);
    /// a reader refuses versions it does not know.
    pub format_version: u32,
    pub handle: StreamStateHandle,
}
