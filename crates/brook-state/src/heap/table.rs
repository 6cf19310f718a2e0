//! What the hash-map backend's typed tables share.
//!
//! Invariants of every table:
//! - entries live in an [`IndexMap`] keyed by `(key, namespace)`, looked up by
//!   borrowed parts ([`KeyRef`]) so a read clones nothing;
//! - with a TTL, a parallel vector of timestamps follows the entries index for
//!   index (value-like tables), or each list/map value carries its own; removal is
//!   always `swap_remove` on both, so they stay aligned;
//! - no stored list or map is empty: the last element's removal removes the entry.

use crate::descriptor::StateKind;
use crate::error::{EntryPart, Result, StateError};
use crate::registry::RegisteredState;
use crate::snapshot::{KeyedSnapshotWriter, SnapshotStateId, SnapshotStateInfo};
use crate::ttl::TtlPolicy;
use brook_types::Data;
use brook_types::key_group::KeyHash;
use indexmap::{Equivalent, IndexMap};
use serde::de::DeserializeOwned;
use std::any::Any;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

pub(crate) type FoldHash = foldhash::fast::RandomState;
pub(crate) type Entries<K, N, V> = IndexMap<(K, N), V, FoldHash>;

/// The bound on keys of keyed state.
pub trait StateKey: Data + Hash + Eq + KeyHash {}
impl<T: Data + Hash + Eq + KeyHash> StateKey for T {}

/// The bound on namespaces (`()` is Flink's VoidNamespace; windows are namespaces too).
pub trait Namespace: Data + Hash + Eq {}
impl<T: Data + Hash + Eq> Namespace for T {}

/// `(&key, &namespace)`, hashing and comparing like the stored `(key, namespace)`.
pub(crate) struct KeyRef<'a, K, N>(pub &'a K, pub &'a N);

impl<K: Hash, N: Hash> Hash for KeyRef<'_, K, N> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The same calls, in the same order, as the tuple's `Hash`.
        self.0.hash(state);
        self.1.hash(state);
    }
}

impl<K: Eq, N: Eq> Equivalent<(K, N)> for KeyRef<'_, K, N> {
    #[inline]
    fn equivalent(&self, stored: &(K, N)) -> bool {
        *self.0 == stored.0 && *self.1 == stored.1
    }
}

/// What a table knows about its state.
#[derive(Clone, Debug)]
pub(crate) struct TableMeta {
    pub name: Arc<str>,
    pub operator: Arc<str>,
    pub kind: StateKind,
    pub type_name: &'static str,
    pub ttl: Option<TtlPolicy>,
}

impl TableMeta {
    pub fn new(state: &RegisteredState, operator: &Arc<str>) -> Self {
        Self {
            name: state.name.clone(),
            operator: operator.clone(),
            kind: state.kind,
            type_name: state.type_name,
            ttl: state.ttl,
        }
    }

    pub fn snapshot_info(&self) -> SnapshotStateInfo {
        SnapshotStateInfo::new(&self.name, self.kind)
            .with_type_name(self.type_name)
            .with_ttl_timestamps(self.ttl.is_some())
    }

    /// Decodes one part of a restored entry.
    pub fn decode<T: DeserializeOwned>(&self, part: EntryPart, bytes: &[u8], written_type: &str) -> Result<T> {
        crate::codec::decode(bytes).map_err(|source| StateError::Decode {
            operator: self.operator.to_string(),
            state: self.name.to_string(),
            part,
            type_name: std::any::type_name::<T>().to_string(),
            written_type: written_type.to_string(),
            source,
        })
    }

    /// Decodes a restored value of type `V`, with or without its timestamp, into
    /// the value and the timestamp this table keeps (`now` for values written
    /// without one).
    pub fn decode_stamped<V: DeserializeOwned>(
        &self,
        bytes: &[u8],
        stamped: bool,
        written_type: &str,
        now: i64,
    ) -> Result<(V, i64)> {
        if stamped {
            self.decode::<(V, i64)>(EntryPart::Value, bytes, written_type)
        } else {
            Ok((self.decode::<V>(EntryPart::Value, bytes, written_type)?, now))
        }
    }
}

/// An entry of a restored snapshot, still encoded.
pub(crate) struct RestoredEntry<'a> {
    pub key: &'a [u8],
    pub namespace: &'a [u8],
    pub value: &'a [u8],
    /// Whether the value ends with its TTL timestamp.
    pub stamped: bool,
    pub written_type: &'a str,
}

/// The type-erased side of a table: what snapshots, restores and cleanup need.
pub(crate) trait ErasedTable<K>: Any + Send {
    fn meta(&self) -> &TableMeta;

    /// Writes every entry (less the expired ones with full-snapshot cleanup).
    fn write_snapshot(&self, writer: &mut KeyedSnapshotWriter, id: SnapshotStateId, now: i64) -> Result<()>;

    /// Adds one restored entry; `now` stamps values restored without a timestamp.
    fn restore_entry(&mut self, entry: RestoredEntry<'_>, now: i64) -> Result<()>;

    /// Checks `steps` entries for expiry (incremental cleanup).
    fn cleanup_steps(&mut self, steps: usize, now: i64);

    /// The number of (key, namespace) entries.
    fn len(&self) -> usize;
}

/// A table the backend can create from a registration.
pub(crate) trait Table<K>: ErasedTable<K> + Sized {
    fn create(state: &RegisteredState, operator: &Arc<str>) -> Self;
}

/// Serializes `items` (optionally each with its stamp, optionally leaving out the
/// expired ones) as a bincode sequence without collecting them first.
pub(crate) struct StampedSeq<'a, I> {
    pub items: I,
    pub stamps: Option<&'a [i64]>,
    /// Leave out items expired at this time.
    pub drop_expired: Option<(TtlPolicy, i64)>,
}

impl<'a, I, T> serde::Serialize for StampedSeq<'a, I>
where
    I: Iterator<Item = T> + Clone,
    T: serde::Serialize,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let live = |i: usize| match (self.drop_expired, self.stamps) {
            (Some((ttl, now)), Some(stamps)) => !ttl.expired(stamps[i], now),
            _ => true,
        };
        let count = self.items.clone().enumerate().filter(|(i, _)| live(*i)).count();
        let mut seq = serializer.serialize_seq(Some(count))?;
        for (i, item) in self.items.clone().enumerate() {
            if !live(i) {
                continue;
            }
            match self.stamps {
                Some(stamps) => seq.serialize_element(&(item, stamps[i]))?,
                None => seq.serialize_element(&item)?,
            }
        }
        seq.end()
    }
}

/// Whether `stamps` has an expired one.
#[inline]
pub(crate) fn any_expired(ttl: TtlPolicy, stamps: &[i64], now: i64) -> bool {
    stamps.iter().any(|&s| ttl.expired(s, now))
}
