//! What every RocksDB state reference holds: the column family, the row prefix
//! of the current (key, namespace), and the read/write helpers with TTL.
//!
//! The access API cannot return errors (`value()` is `Option<&V>`, as Flink's),
//! so a failing RocksDB call or an undecodable value panics with a message naming
//! the state and operator; the task runner turns the panic into a failed task,
//! which restarts from the last checkpoint.

use super::keys;
use crate::error::{EntryPart, StateError};
use crate::heap::table::TableMeta;
use crate::ttl::TtlTimeProvider;
use rocksdb::{ColumnFamily, DB, DBPinnableSlice, Direction, IteratorMode, ReadOptions, WriteBatch, WriteOptions};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) struct Cell<'a> {
    pub db: &'a DB,
    pub cf: &'a ColumnFamily,
    pub write: &'a WriteOptions,
    pub meta: &'a TableMeta,
    pub clock: &'a dyn TtlTimeProvider,
    /// `key group ‖ key ‖ namespace`: the row of value-like and list states, the
    /// prefix of a map's rows.
    pub prefix: Vec<u8>,
}

impl<'a> Cell<'a> {
    #[cold]
    #[inline(never)]
    fn fail(&self, action: &str, error: impl std::fmt::Display) -> ! {
        panic!("RocksDB could not {action} state '{}' of operator '{}': {error}", self.meta.name, self.meta.operator)
    }

    pub fn now(&self) -> i64 {
        self.clock.current_timestamp()
    }

    pub fn get(&self, row: &[u8]) -> Option<DBPinnableSlice<'a>> {
        self.db.get_pinned_cf(self.cf, row).unwrap_or_else(|e| self.fail("read", e))
    }

    pub fn put(&self, row: &[u8], value: &[u8]) {
        self.db.put_cf_opt(self.cf, row, value, self.write).unwrap_or_else(|e| self.fail("write", e))
    }

    pub fn merge(&self, row: &[u8], value: &[u8]) {
        self.db.merge_cf_opt(self.cf, row, value, self.write).unwrap_or_else(|e| self.fail("append to", e))
    }

    pub fn delete(&self, row: &[u8]) {
        self.db.delete_cf_opt(self.cf, row, self.write).unwrap_or_else(|e| self.fail("delete from", e))
    }

    pub fn write_batch(&self, batch: WriteBatch) {
        self.db.write_opt(batch, self.write).unwrap_or_else(|e| self.fail("write", e))
    }

    /// The rows that start with the prefix, in key order.
    pub fn scan(&self) -> Vec<(Box<[u8]>, Box<[u8]>)> {
        let mut options = ReadOptions::default();
        if let Some(end) = keys::prefix_end(&self.prefix) {
            options.set_iterate_upper_bound(end);
        }
        self.db
            .iterator_cf_opt(self.cf, options, IteratorMode::From(&self.prefix, Direction::Forward))
            .map(|row| row.unwrap_or_else(|e| self.fail("scan", e)))
            .collect()
    }

    pub fn decode<T: DeserializeOwned>(&self, part: EntryPart, bytes: &[u8]) -> T {
        self.meta.decode(part, bytes, self.meta.type_name).unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Vec<u8> {
        bincode::serialize(value).unwrap_or_else(|source| {
            panic!("{}", StateError::Encode { state: self.meta.name.to_string(), part: EntryPart::Value, source })
        })
    }

    /// `prefix ‖ bincode(user_key)`: a map entry's row.
    pub fn user_row<Q: Serialize + ?Sized>(&self, user_key: &Q) -> Vec<u8> {
        let mut row = self.prefix.clone();
        bincode::serialize_into(&mut row, user_key).unwrap_or_else(|source| {
            panic!("{}", StateError::Encode { state: self.meta.name.to_string(), part: EntryPart::Key, source })
        });
        row
    }

    /// Reads a value-like row with TTL semantics: an expired value is removed and
    /// returned once if expired values are visible; `OnReadAndWrite` rewrites the
    /// stamp.
    pub fn read<V: DeserializeOwned + Serialize>(&self, row: &[u8]) -> Option<V> {
        let bytes = self.get(row)?;
        let Some(ttl) = self.meta.ttl else {
            return Some(self.decode(EntryPart::Value, &bytes));
        };
        let (value, stamp): (V, i64) = self.decode(EntryPart::Value, &bytes);
        drop(bytes);
        let now = self.now();
        if ttl.expired(stamp, now) {
            self.delete(row);
            return ttl.return_expired.then_some(value);
        }
        if ttl.update_on_read {
            self.put(row, &self.encode(&(&value, now)));
        }
        Some(value)
    }

    /// Reads a value-like row to update it: an expired value counts as absent
    /// unless expired values are visible (as the hash-map backend's reduce and
    /// aggregate), and nothing is written.
    pub fn read_for_update<V: DeserializeOwned>(&self, row: &[u8]) -> Option<V> {
        let bytes = self.get(row)?;
        let Some(ttl) = self.meta.ttl else {
            return Some(self.decode(EntryPart::Value, &bytes));
        };
        let (value, stamp): (V, i64) = self.decode(EntryPart::Value, &bytes);
        (ttl.return_expired || !ttl.expired(stamp, self.now())).then_some(value)
    }

    /// Writes a value-like row, stamped with now if the state has a TTL.
    pub fn write<V: Serialize>(&self, row: &[u8], value: &V) {
        let bytes = if self.meta.ttl.is_some() { self.encode(&(value, self.now())) } else { self.encode(value) };
        self.put(row, &bytes);
    }
}
