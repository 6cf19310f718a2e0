//! Writes the canonical keyed snapshot.
//!
//! Entries may come in any order: the writer keeps one buffer per key group of its
//! range and lays them out in key-group order when it finishes. Backends write
//! their tables through it; operators that keep typed state of their own (timers,
//! window contents) write theirs into the same writer under states of their own.

use super::{
    KEYED_SNAPSHOT_MAGIC, KEYED_SNAPSHOT_VERSION, KeyGroupRangeOffsets, KeyedStateSnapshot, STATE_FLAG_TTL,
    SnapshotStateId, SnapshotStateInfo,
};
use crate::descriptor::StateKind;
use crate::error::{EntryPart, Result, StateError};
use brook_types::key_group::{KeyGroupRange, KeyHash, assign_to_key_group};
use serde::Serialize;

/// Builds the snapshot of one operator subtask's keyed state.
///
/// ```
/// use brook_state::{KeyedSnapshotReader, KeyedSnapshotWriter, StateKind};
/// use brook_types::key_group::KeyGroupRange;
///
/// let range = KeyGroupRange::for_operator_index(128, 1, 0);
/// let mut writer = KeyedSnapshotWriter::new(128, range);
/// let timers = writer.begin_state("_timers/event-time", StateKind::Timers).unwrap();
/// writer.entry(timers, "alice", &(), &1_000i64).unwrap();
/// let snapshot = writer.finish();
///
/// let reader = KeyedSnapshotReader::new(&snapshot.bytes).unwrap();
/// let entry = reader.entries(range).next().unwrap().unwrap();
/// assert_eq!(entry.decode_key::<String>().unwrap(), "alice");
/// assert_eq!(entry.decode_value::<i64>().unwrap(), 1_000);
/// ```
#[derive(Debug)]
pub struct KeyedSnapshotWriter {
    max_parallelism: usize,
    range: KeyGroupRange,
    states: Vec<SnapshotStateInfo>,
    /// Entries per key group of `range`.
    groups: Vec<Vec<u8>>,
}

impl KeyedSnapshotWriter {
    /// A writer for the key groups `range` of an operator with `max_parallelism`.
    pub fn new(max_parallelism: usize, range: KeyGroupRange) -> Self {
        Self { max_parallelism, range, states: Vec::new(), groups: vec![Vec::new(); range.len()] }
    }

    pub fn max_parallelism(&self) -> usize {
        self.max_parallelism
    }

    pub fn key_group_range(&self) -> KeyGroupRange {
        self.range
    }

    /// Starts a state with no type name and no TTL timestamps.
    pub fn begin_state(&mut self, name: &str, kind: StateKind) -> Result<SnapshotStateId> {
        self.begin_state_with(SnapshotStateInfo::new(name, kind))
    }

    /// Starts a state; its entries can then be added in any order.
    pub fn begin_state_with(&mut self, info: SnapshotStateInfo) -> Result<SnapshotStateId> {
        if self.states.iter().any(|s| s.name == info.name) {
            return Err(StateError::DuplicateSnapshotState { name: info.name });
        }
        let id = SnapshotStateId(u32::try_from(self.states.len()).expect("fewer than 2^32 states"));
        self.states.push(info);
        Ok(id)
    }

    /// Adds an entry in the key group of `key`.
    pub fn entry<K, N, V>(&mut self, state: SnapshotStateId, key: &K, namespace: &N, value: &V) -> Result<()>
    where
        K: Serialize + KeyHash + ?Sized,
        N: Serialize + ?Sized,
        V: Serialize + ?Sized,
    {
        let key_group = assign_to_key_group(key, self.max_parallelism);
        self.entry_in_key_group(state, key_group, key, namespace, value)
    }

    /// Adds an entry in `key_group`, which the caller computed for the key.
    pub fn entry_in_key_group<K, N, V>(
        &mut self,
        state: SnapshotStateId,
        key_group: usize,
        key: &K,
        namespace: &N,
        value: &V,
    ) -> Result<()>
    where
        K: Serialize + ?Sized,
        N: Serialize + ?Sized,
        V: Serialize + ?Sized,
    {
        let buf = self.group_buffer(state, key_group)?;
        let start = buf.len();
        buf.extend_from_slice(&state.0.to_le_bytes());
        let written = encode_part(buf, key)
            .map_err(|e| (EntryPart::Key, e))
            .and_then(|()| encode_part(buf, namespace).map_err(|e| (EntryPart::Namespace, e)))
            .and_then(|()| encode_part(buf, value).map_err(|e| (EntryPart::Value, e)));
        if let Err((part, source)) = written {
            buf.truncate(start);
            return Err(StateError::Encode { state: self.states[state.index()].name.clone(), part, source });
        }
        Ok(())
    }

    /// Adds an entry whose parts are already encoded (as read from another snapshot).
    pub fn raw_entry(
        &mut self,
        state: SnapshotStateId,
        key_group: usize,
        key: &[u8],
        namespace: &[u8],
        value: &[u8],
    ) -> Result<()> {
        let buf = self.group_buffer(state, key_group)?;
        buf.extend_from_slice(&state.0.to_le_bytes());
        for part in [key, namespace, value] {
            let len = u32::try_from(part.len()).expect("an entry part is smaller than 4 GiB");
            buf.extend_from_slice(&len.to_le_bytes());
            buf.extend_from_slice(part);
        }
        Ok(())
    }

    fn group_buffer(&mut self, state: SnapshotStateId, key_group: usize) -> Result<&mut Vec<u8>> {
        let Some(info) = self.states.get(state.index()) else {
            return Err(StateError::UnknownSnapshotState { id: state.0 });
        };
        if !self.range.contains(key_group) {
            return Err(StateError::KeyGroupOutOfRange { state: info.name.clone(), key_group, range: self.range });
        }
        Ok(&mut self.groups[key_group - self.range.start])
    }

    /// Lays out header, state records, offset table and entries.
    pub fn finish(self) -> KeyedStateSnapshot {
        let mut out = Vec::with_capacity(64 + self.groups.iter().map(Vec::len).sum::<usize>() + 8 * self.groups.len());
        out.extend_from_slice(&KEYED_SNAPSHOT_MAGIC);
        out.extend_from_slice(&KEYED_SNAPSHOT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        put_u32(&mut out, self.max_parallelism);
        put_u32(&mut out, if self.range.is_empty() { 0 } else { self.range.start });
        put_u32(&mut out, self.groups.len());
        put_u32(&mut out, self.states.len());
        for state in &self.states {
            put_u32(&mut out, state.name.len());
            out.extend_from_slice(state.name.as_bytes());
            out.push(state.kind.code());
            out.push(if state.ttl_timestamps { STATE_FLAG_TTL } else { 0 });
            put_u32(&mut out, state.type_name.len());
            out.extend_from_slice(state.type_name.as_bytes());
        }
        let mut offset = (out.len() + 8 * (self.groups.len() + 1)) as u64;
        let mut offsets = Vec::with_capacity(self.groups.len() + 1);
        for group in &self.groups {
            offsets.push(offset);
            offset += group.len() as u64;
        }
        offsets.push(offset);
        for o in &offsets {
            out.extend_from_slice(&o.to_le_bytes());
        }
        for group in &self.groups {
            out.extend_from_slice(group);
        }
        debug_assert_eq!(out.len() as u64, offset);
        KeyedStateSnapshot {
            bytes: out,
            offsets: KeyGroupRangeOffsets {
                max_parallelism: self.max_parallelism,
                key_group_range: self.range,
                offsets,
            },
        }
    }
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).expect("snapshot header fields fit in u32").to_le_bytes());
}

/// Appends `u32 length ‖ bincode(value)`.
fn encode_part<T: Serialize + ?Sized>(buf: &mut Vec<u8>, value: &T) -> Result<(), bincode::Error> {
    let at = buf.len();
    buf.extend_from_slice(&[0; 4]);
    bincode::serialize_into(&mut *buf, value)?;
    let len = u32::try_from(buf.len() - at - 4).map_err(|_| Box::new(bincode::ErrorKind::SizeLimit))?;
    buf[at..at + 4].copy_from_slice(&len.to_le_bytes());
    Ok(())
}
