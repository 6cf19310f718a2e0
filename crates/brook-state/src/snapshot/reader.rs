//! Reads the canonical keyed snapshot: the header eagerly (validating it), the
//! entries of the key groups asked for lazily.

use super::{
    KEYED_SNAPSHOT_MAGIC, KEYED_SNAPSHOT_VERSION, KeyGroupRangeOffsets, STATE_FLAG_TTL, SnapshotStateId,
    SnapshotStateInfo, intersect,
};
use crate::descriptor::StateKind;
use crate::error::{Result, StateError};
use brook_types::key_group::KeyGroupRange;
use serde::de::DeserializeOwned;

const WHAT: &str = "keyed state";

/// A parsed snapshot header over the snapshot's bytes.
#[derive(Debug)]
pub struct KeyedSnapshotReader<'a> {
    bytes: &'a [u8],
    max_parallelism: usize,
    range: KeyGroupRange,
    states: Vec<SnapshotStateInfo>,
    offsets: Vec<u64>,
}

/// A bounds-checked cursor over the header.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or(StateError::Corrupt {
            what: WHAT,
            offset: self.at,
            problem: "the header ends early",
        })?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().expect("2 bytes")))
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }

    fn string(&mut self) -> Result<String> {
        let len = self.u32()? as usize;
        let at = self.at;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| StateError::Corrupt {
            what: WHAT,
            offset: at,
            problem: "a state name is not UTF-8",
        })
    }
}

fn corrupt(offset: usize, problem: &'static str) -> StateError {
    StateError::Corrupt { what: WHAT, offset, problem }
}

impl<'a> KeyedSnapshotReader<'a> {
    /// Parses and checks the header and the offset table.
    pub fn new(bytes: &'a [u8]) -> Result<Self> {
        if bytes.len() < 4 || bytes[..4] != KEYED_SNAPSHOT_MAGIC {
            return Err(StateError::BadMagic { expected: WHAT, found: bytes[..bytes.len().min(4)].to_vec() });
        }
        let mut c = Cursor { bytes, at: 4 };
        let version = c.u16()?;
        if version == 0 || version > KEYED_SNAPSHOT_VERSION {
            return Err(StateError::UnsupportedVersion {
                what: WHAT,
                found: version,
                supported: KEYED_SNAPSHOT_VERSION,
            });
        }
        if c.u16()? != 0 {
            return Err(corrupt(6, "unknown header flags"));
        }
        let max_parallelism = c.u32()? as usize;
        let first = c.u32()? as usize;
        let count = c.u32()? as usize;
        if max_parallelism == 0 || first.saturating_add(count) > max_parallelism {
            return Err(corrupt(8, "the key groups are outside the max parallelism"));
        }
        let range = if count == 0 {
            KeyGroupRange { start: 1, end: 0 }
        } else {
            KeyGroupRange { start: first, end: first + count - 1 }
        };
        let state_count = c.u32()? as usize;
        let mut states = Vec::with_capacity(state_count.min(1024));
        for _ in 0..state_count {
            let name = c.string()?;
            let at = c.at;
            let kind = StateKind::from_code(c.u8()?).ok_or(corrupt(at, "unknown state kind"))?;
            let flags = c.u8()?;
            if flags & !STATE_FLAG_TTL != 0 {
                return Err(corrupt(at + 1, "unknown state flags"));
            }
            let type_name = c.string()?;
            states.push(SnapshotStateInfo { name, kind, type_name, ttl_timestamps: flags & STATE_FLAG_TTL != 0 });
        }
        let mut offsets = Vec::with_capacity(count + 1);
        let table_start = c.at;
        let data_start = table_start + 8 * (count + 1);
        let mut previous = data_start as u64;
        for _ in 0..=count {
            let at = c.at;
            let o = c.u64()?;
            if o < previous || o > bytes.len() as u64 {
                return Err(corrupt(at, "a key-group offset is out of order or past the end"));
            }
            offsets.push(o);
            previous = o;
        }
        if offsets[0] != data_start as u64 {
            return Err(corrupt(table_start, "the first key group does not start after the offset table"));
        }
        Ok(Self { bytes, max_parallelism, range, states, offsets })
    }

    pub fn max_parallelism(&self) -> usize {
        self.max_parallelism
    }

    /// The key groups the snapshot holds.
    pub fn key_group_range(&self) -> KeyGroupRange {
        self.range
    }

    pub fn states(&self) -> &[SnapshotStateInfo] {
        &self.states
    }

    pub fn state_info(&self, id: SnapshotStateId) -> &SnapshotStateInfo {
        &self.states[id.index()]
    }

    /// The state named `name`.
    pub fn state(&self, name: &str) -> Option<SnapshotStateId> {
        self.states.iter().position(|s| s.name == name).map(|i| SnapshotStateId(i as u32))
    }

    pub fn offsets(&self) -> KeyGroupRangeOffsets {
        KeyGroupRangeOffsets {
            max_parallelism: self.max_parallelism,
            key_group_range: self.range,
            offsets: self.offsets.clone(),
        }
    }

    /// The entries of every state in the key groups of both `range` and the
    /// snapshot, in key-group order; no other key group is read.
    pub fn entries(&self, range: KeyGroupRange) -> SnapshotEntries<'a> {
        let (next, last) = match intersect(range, self.range) {
            Some((start, end)) => (start, end + 1),
            None => (0, 0),
        };
        SnapshotEntries {
            bytes: self.bytes,
            first: self.range.start,
            offsets: self.offsets.clone(),
            state_count: self.states.len(),
            next_group: next,
            end_group: last,
            group: 0,
            at: 0,
            end: 0,
            failed: false,
        }
    }

    /// The entries of one state in the key groups of `range`.
    pub fn state_entries(
        &self,
        state: SnapshotStateId,
        range: KeyGroupRange,
    ) -> impl Iterator<Item = Result<SnapshotEntry<'a>>> + 'a {
        self.entries(range).filter(move |e| e.as_ref().map_or(true, |e| e.state == state))
    }
}

/// One entry, its parts still encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotEntry<'a> {
    pub state: SnapshotStateId,
    pub key_group: usize,
    pub key: &'a [u8],
    pub namespace: &'a [u8],
    pub value: &'a [u8],
}

impl SnapshotEntry<'_> {
    pub fn decode_key<K: DeserializeOwned>(&self) -> Result<K, bincode::Error> {
        crate::codec::decode(self.key)
    }

    pub fn decode_namespace<N: DeserializeOwned>(&self) -> Result<N, bincode::Error> {
        crate::codec::decode(self.namespace)
    }

    pub fn decode_value<V: DeserializeOwned>(&self) -> Result<V, bincode::Error> {
        crate::codec::decode(self.value)
    }
}

/// Iterates the entries of a run of key groups; after an error it ends.
#[derive(Debug)]
pub struct SnapshotEntries<'a> {
    bytes: &'a [u8],
    first: usize,
    offsets: Vec<u64>,
    state_count: usize,
    next_group: usize,
    end_group: usize,
    /// The key group being read and its byte range.
    group: usize,
    at: usize,
    end: usize,
    failed: bool,
}

impl<'a> SnapshotEntries<'a> {
    fn u32_at(&self, at: usize) -> Result<usize> {
        if at + 4 > self.end {
            return Err(corrupt(at, "an entry runs past its key group"));
        }
        Ok(u32::from_le_bytes(self.bytes[at..at + 4].try_into().expect("4 bytes")) as usize)
    }

    fn part(&mut self) -> Result<&'a [u8]> {
        let len = self.u32_at(self.at)?;
        let start = self.at + 4;
        if start + len > self.end {
            return Err(corrupt(self.at, "an entry runs past its key group"));
        }
        self.at = start + len;
        Ok(&self.bytes[start..start + len])
    }

    fn read_entry(&mut self) -> Result<SnapshotEntry<'a>> {
        let at = self.at;
        let state = self.u32_at(at)?;
        if state >= self.state_count {
            return Err(corrupt(at, "an entry names a state the header does not list"));
        }
        self.at += 4;
        let key = self.part()?;
        let namespace = self.part()?;
        let value = self.part()?;
        Ok(SnapshotEntry { state: SnapshotStateId(state as u32), key_group: self.group, key, namespace, value })
    }
}

impl<'a> Iterator for SnapshotEntries<'a> {
    type Item = Result<SnapshotEntry<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        while self.at >= self.end {
            if self.next_group >= self.end_group {
                return None;
            }
            let i = self.next_group - self.first;
            self.group = self.next_group;
            self.at = self.offsets[i] as usize;
            self.end = self.offsets[i + 1] as usize;
            self.next_group += 1;
        }
        let entry = self.read_entry();
        self.failed = entry.is_err();
        Some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::KeyedSnapshotWriter;

    fn sample() -> Vec<u8> {
        let range = KeyGroupRange { start: 0, end: 127 };
        let mut w = KeyedSnapshotWriter::new(128, range);
        let a = w.begin_state("a", StateKind::Value).unwrap();
        let t = w.begin_state("timers", StateKind::Timers).unwrap();
        for k in 0..50i64 {
            w.entry(a, &k, &(), &(k * 10)).unwrap();
            w.entry(t, &k, &7u8, &k).unwrap();
        }
        w.finish().bytes
    }

    #[test]
    fn entries_come_back_by_key_group_and_only_from_the_range_asked() {
        let bytes = sample();
        let r = KeyedSnapshotReader::new(&bytes).unwrap();
        assert_eq!(r.states().len(), 2);
        let all: Vec<_> = r.entries(r.key_group_range()).map(Result::unwrap).collect();
        assert_eq!(all.len(), 100);
        assert!(all.windows(2).all(|w| w[0].key_group <= w[1].key_group));
        let low = KeyGroupRange { start: 0, end: 63 };
        let a = r.state("a").unwrap();
        for e in r.state_entries(a, low) {
            let e = e.unwrap();
            let k: i64 = e.decode_key().unwrap();
            assert_eq!(brook_types::key_group::assign_to_key_group(&k, 128), e.key_group);
            assert!(e.key_group <= 63);
            assert_eq!(e.decode_value::<i64>().unwrap(), k * 10);
        }
    }

    #[test]
    fn bad_magic_version_and_truncation_are_reported() {
        let bytes = sample();
        let mut wrong = bytes.clone();
        wrong[0] = b'X';
        assert!(matches!(KeyedSnapshotReader::new(&wrong), Err(StateError::BadMagic { .. })));
        let mut newer = bytes.clone();
        newer[4] = 9;
        let message = KeyedSnapshotReader::new(&newer).unwrap_err().to_string();
        assert_eq!(
            message,
            "the keyed state snapshot has format version 9; this build reads versions up to 1: restore it with a newer Brook"
        );
        for cut in [10, 30, bytes.len() - 1] {
            let truncated = &bytes[..cut];
            let result = KeyedSnapshotReader::new(truncated)
                .and_then(|r| r.entries(r.key_group_range()).collect::<Result<Vec<_>>>());
            assert!(matches!(result, Err(StateError::Corrupt { .. })), "cut at {cut}: {result:?}");
        }
    }

    #[test]
    fn an_empty_writer_gives_a_readable_empty_snapshot() {
        let range = KeyGroupRange::for_operator_index(16, 4, 3);
        let snapshot = KeyedSnapshotWriter::new(16, range).finish();
        let r = KeyedSnapshotReader::new(&snapshot.bytes).unwrap();
        assert_eq!(r.key_group_range(), range);
        assert_eq!(r.entries(range).count(), 0);
        assert_eq!(snapshot.offsets.byte_range(12), Some(snapshot.bytes.len() as u64..snapshot.bytes.len() as u64));
    }
}
