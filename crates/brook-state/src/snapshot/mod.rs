//! The canonical keyed-state snapshot format (version 1), written by
//! [`KeyedSnapshotWriter`] and read by [`KeyedSnapshotReader`].
//!
//! A snapshot holds the keyed state of one operator subtask. Every backend writes
//! and restores this one format, so a savepoint of one backend restores into any
//! other, at any parallelism up to the max parallelism it was taken with.
//!
//! All integers are little-endian. Keys, namespaces and values are bincode 1
//! (`bincode::serialize`: little-endian, fixed-width integers, u64 lengths).
//!
//! ```text
//! offset  size      field
//! 0       4         magic "BRKS"
//! 4       2         format version (1)
//! 6       2         flags (0; readers reject unknown bits)
//! 8       4         max parallelism
//! 12      4         first key group F
//! 16      4         key-group count G
//! 20      4         state count S
//! 24      …         S state records:
//!                     u32 name length, name (UTF-8)
//!                     u8  kind (0 value, 1 list, 2 map, 3 reducing, 4 aggregating, 5 timers, 6 internal)
//!                     u8  flags (bit 0: values end with a TTL timestamp)
//!                     u32 type-name length, type name (UTF-8; for messages only)
//! T       8·(G+1)   key-group offsets: u64 absolute offset of key group F+i's first
//!                   entry; the last one is the end of the data
//! …       …         the entries of key group F, then F+1, …; each entry:
//!                     u32 state index, u32 key length, key, u32 namespace length,
//!                     namespace, u32 value length, value
//! ```
//!
//! A restore at another parallelism reads the offset table and then only the
//! key groups of its own range.
//!
//! **Values.** Value, reducing, aggregating: `bincode(V)`; list: `bincode(Vec<T>)`;
//! map: `bincode(Vec<(UK, UV)>)`; timers: `bincode(i64)`, the timer's time. With
//! the TTL flag each value (list element, map entry) is followed by its `i64`
//! timestamp: `(V, i64)`, `Vec<(T, i64)>`, `Vec<(UK, UV, i64)>`.
//!
//! **Versions.** A reader reads every version up to its own; a change that old
//! readers could misread gets a new version number. The version is per snapshot,
//! so a checkpoint may hold snapshots of different versions.

mod reader;
mod writer;

pub use reader::{KeyedSnapshotReader, SnapshotEntries, SnapshotEntry};
pub use writer::KeyedSnapshotWriter;

use crate::descriptor::StateKind;
use brook_types::key_group::KeyGroupRange;
use std::ops::Range;

/// The first bytes of a keyed-state snapshot.
pub const KEYED_SNAPSHOT_MAGIC: [u8; 4] = *b"BRKS";

/// The keyed-state snapshot format this build writes (and the newest it reads).
pub const KEYED_SNAPSHOT_VERSION: u16 = 1;

/// Flag bit of a state record: every value ends with its TTL timestamp.
pub(crate) const STATE_FLAG_TTL: u8 = 1;

/// The index of a state within one snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SnapshotStateId(pub(crate) u32);

impl SnapshotStateId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a snapshot says about one of its states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotStateInfo {
    pub name: String,
    pub kind: StateKind,
    /// The stored type as the writer named it; only for messages.
    pub type_name: String,
    /// Whether every value ends with its TTL timestamp.
    pub ttl_timestamps: bool,
}

impl SnapshotStateInfo {
    pub fn new(name: &str, kind: StateKind) -> Self {
        Self { name: name.to_string(), kind, type_name: String::new(), ttl_timestamps: false }
    }

    pub fn with_type_name(mut self, type_name: &str) -> Self {
        self.type_name = type_name.to_string();
        self
    }

    pub fn with_ttl_timestamps(mut self, ttl_timestamps: bool) -> Self {
        self.ttl_timestamps = ttl_timestamps;
        self
    }
}

/// Where each key group's entries are in a snapshot (Flink's `KeyGroupRangeOffsets`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyGroupRangeOffsets {
    pub max_parallelism: usize,
    pub key_group_range: KeyGroupRange,
    /// `offsets[i]` is where key group `range.start + i` starts; one more entry
    /// marks the end of the data.
    pub offsets: Vec<u64>,
}

impl KeyGroupRangeOffsets {
    /// The byte range of `key_group`'s entries, if the snapshot covers it.
    pub fn byte_range(&self, key_group: usize) -> Option<Range<u64>> {
        if !self.key_group_range.contains(key_group) {
            return None;
        }
        let i = key_group - self.key_group_range.start;
        Some(self.offsets[i]..self.offsets[i + 1])
    }
}

/// The keyed state of one operator subtask: the bytes and where its key groups are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyedStateSnapshot {
    pub bytes: Vec<u8>,
    pub offsets: KeyGroupRangeOffsets,
}

impl KeyedStateSnapshot {
    /// Parses the header of snapshot bytes read back from storage.
    pub fn from_bytes(bytes: Vec<u8>) -> crate::Result<Self> {
        let offsets = KeyedSnapshotReader::new(&bytes)?.offsets();
        Ok(Self { bytes, offsets })
    }

    pub fn key_group_range(&self) -> KeyGroupRange {
        self.offsets.key_group_range
    }
}

impl AsRef<[u8]> for KeyedStateSnapshot {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// The intersection of two key-group ranges (possibly empty).
pub(crate) fn intersect(a: KeyGroupRange, b: KeyGroupRange) -> Option<(usize, usize)> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let start = a.start.max(b.start);
    let end = a.end.min(b.end);
    (start <= end).then_some((start, end))
}
