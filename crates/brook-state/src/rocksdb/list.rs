//! List state: one row per (key, namespace) holding `bincode(Vec<T>)` (with a TTL,
//! `Vec<(T, i64)>`). `add` does not read: it hands RocksDB a one-element list as a
//! merge operand, and [`append_lists`] — the column families' merge operator —
//! concatenates lists without knowing their element type.

use super::cell::Cell;
use crate::error::EntryPart;
use brook_types::Data;
use rocksdb::MergeOperands;
use std::marker::PhantomData;

/// The merge operator of every column family: concatenates bincode lists
/// (`u64 LE count ‖ elements`) by adding their counts and joining their elements.
pub(crate) fn append_lists(_row: &[u8], existing: Option<&[u8]>, operands: &MergeOperands) -> Option<Vec<u8>> {
    let parts: Vec<&[u8]> = existing.into_iter().chain(operands.iter()).collect();
    let mut count = 0u64;
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    out.extend_from_slice(&[0; 8]);
    for part in parts {
        // A part that is not a list cannot be merged: fail the merge (RocksDB then
        // reports a corruption on read) rather than store garbage.
        let head: [u8; 8] = part.get(..8)?.try_into().ok()?;
        count = count.checked_add(u64::from_le_bytes(head))?;
        out.extend_from_slice(&part[8..]);
    }
    out[..8].copy_from_slice(&count.to_le_bytes());
    Some(out)
}

pub(crate) struct RocksDbListRef<'a, K, N, T> {
    pub(super) cell: Cell<'a>,
    pub(super) slot: Vec<T>,
    pub(super) _types: PhantomData<fn() -> (K, N)>,
}

impl<K, N, T: Data> RocksDbListRef<'_, K, N, T> {
    pub fn get(&mut self) -> &[T] {
        self.slot = self.read();
        &self.slot
    }

    fn read(&self) -> Vec<T> {
        let row = &self.cell.prefix;
        let Some(bytes) = self.cell.get(row) else {
            return Vec::new();
        };
        let Some(ttl) = self.cell.meta.ttl else {
            return self.cell.decode(EntryPart::Value, &bytes);
        };
        let items: Vec<(T, i64)> = self.cell.decode(EntryPart::Value, &bytes);
        drop(bytes);
        let now = self.cell.now();
        let any_expired = items.iter().any(|(_, s)| ttl.expired(*s, now));
        if !any_expired && !ttl.update_on_read {
            return items.into_iter().map(|(t, _)| t).collect();
        }
        let live: Vec<(&T, i64)> = items
            .iter()
            .filter(|(_, s)| !ttl.expired(*s, now))
            .map(|(t, s)| (t, if ttl.update_on_read { now } else { *s }))
            .collect();
        if live.is_empty() {
            self.cell.delete(row);
        } else {
            self.cell.put(row, &self.cell.encode(&live));
        }
        if any_expired && ttl.return_expired {
            // This read still sees every element; only the live ones stay.
            return items.into_iter().map(|(t, _)| t).collect();
        }
        live.into_iter().map(|(t, _)| t.clone()).collect()
    }

    pub fn add(&mut self, value: T) {
        let operand = match self.cell.meta.ttl {
            // A one-element list: its count, then the element.
            None => self.cell.encode(&(1u64, &value)),
            Some(_) => self.cell.encode(&(1u64, &value, self.cell.now())),
        };
        self.cell.merge(&self.cell.prefix, &operand);
    }

    pub fn add_all(&mut self, values: impl IntoIterator<Item = T>) {
        let values: Vec<T> = values.into_iter().collect();
        if values.is_empty() {
            return;
        }
        let operand = match self.cell.meta.ttl {
            None => self.cell.encode(&values),
            Some(_) => {
                let now = self.cell.now();
                self.cell.encode(&values.iter().map(|t| (t, now)).collect::<Vec<_>>())
            }
        };
        self.cell.merge(&self.cell.prefix, &operand);
    }

    pub fn update(&mut self, values: Vec<T>) {
        if values.is_empty() {
            return self.clear();
        }
        let bytes = match self.cell.meta.ttl {
            None => self.cell.encode(&values),
            Some(_) => {
                let now = self.cell.now();
                self.cell.encode(&values.iter().map(|t| (t, now)).collect::<Vec<_>>())
            }
        };
        self.cell.put(&self.cell.prefix, &bytes);
    }

    pub fn clear(&mut self) {
        self.slot.clear();
        self.cell.delete(&self.cell.prefix);
    }
}
