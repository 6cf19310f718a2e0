//! Map state: one row per user key, `prefix ‖ bincode(user key)` →
//! `bincode(UV)` (with a TTL, `(UV, i64)`). A (key, namespace)'s entries are the
//! rows that start with its prefix; iteration is in the order of the encoded
//! user keys.

use super::cell::Cell;
use crate::error::EntryPart;
use brook_types::Data;
use rocksdb::WriteBatch;
use serde::Serialize;
use std::marker::PhantomData;

pub(crate) struct RocksDbMapRef<'a, K, N, UK, UV> {
    pub(super) cell: Cell<'a>,
    pub(super) value: Option<UV>,
    pub(super) entries: Vec<(UK, UV)>,
    pub(super) _types: PhantomData<fn() -> (K, N)>,
}

impl<K, N, UK: Data, UV: Data> RocksDbMapRef<'_, K, N, UK, UV> {
    pub fn get<Q: Serialize + ?Sized>(&mut self, user_key: &Q) -> Option<&UV> {
        let row = self.cell.user_row(user_key);
        self.value = self.cell.read(&row);
        self.value.as_ref()
    }

    pub fn put(&mut self, user_key: UK, value: UV) {
        let row = self.cell.user_row(&user_key);
        self.cell.write(&row, &value);
    }

    /// Removes the entry; returns its value if it was visible.
    pub fn remove<Q: Serialize + ?Sized>(&mut self, user_key: &Q) -> Option<UV> {
        let row = self.cell.user_row(user_key);
        let bytes = self.cell.get(&row)?;
        let visible = match self.cell.meta.ttl {
            None => Some(self.cell.decode::<UV>(EntryPart::Value, &bytes)),
            Some(ttl) => {
                let (value, stamp): (UV, i64) = self.cell.decode(EntryPart::Value, &bytes);
                (ttl.return_expired || !ttl.expired(stamp, self.cell.now())).then_some(value)
            }
        };
        drop(bytes);
        self.cell.delete(&row);
        visible
    }

    /// The entries as a read sees them (applying TTL, as the hash-map backend's
    /// view: expired entries are removed, and returned by this read if expired
    /// values are visible).
    pub fn entries(&mut self) -> &[(UK, UV)] {
        let rows = self.cell.scan();
        let prefix_len = self.cell.prefix.len();
        let decode_key = |row: &[u8]| self.cell.decode::<UK>(EntryPart::Key, &row[prefix_len..]);
        let Some(ttl) = self.cell.meta.ttl else {
            self.entries =
                rows.iter().map(|(row, value)| (decode_key(row), self.cell.decode(EntryPart::Value, value))).collect();
            return &self.entries;
        };
        let now = self.cell.now();
        let mut batch = WriteBatch::default();
        let mut all = Vec::with_capacity(rows.len());
        let mut live = Vec::with_capacity(rows.len());
        for (row, value) in rows.iter() {
            let (value, stamp): (UV, i64) = self.cell.decode(EntryPart::Value, value);
            if ttl.expired(stamp, now) {
                batch.delete_cf(self.cell.cf, row);
            } else {
                if ttl.update_on_read {
                    batch.put_cf(self.cell.cf, row, self.cell.encode(&(&value, now)));
                }
                live.push(all.len());
            }
            all.push((decode_key(row), value));
        }
        let any_expired = live.len() < all.len();
        if !batch.is_empty() {
            self.cell.write_batch(batch);
        }
        self.entries = if any_expired && !ttl.return_expired {
            let mut live = live.into_iter().peekable();
            all.into_iter().enumerate().filter(|(i, _)| live.next_if_eq(i).is_some()).map(|(_, entry)| entry).collect()
        } else {
            all
        };
        &self.entries
    }

    pub fn is_empty(&mut self) -> bool {
        self.entries().is_empty()
    }

    pub fn clear(&mut self) {
        let mut batch = WriteBatch::default();
        for (row, _) in self.cell.scan() {
            batch.delete_cf(self.cell.cf, row);
        }
        if !batch.is_empty() {
            self.cell.write_batch(batch);
        }
    }
}
