//! The state references an access returns: `ctx.state(&handle)` binds a handle to
//! the current key and namespace and gives one of these.
//!
//! Each is an enum over the backends' own references, so user code is written
//! once for every backend. The hash-map backend's references point into its typed
//! tables (a read clones nothing); the RocksDB backend's references read and
//! decode on access into a slot the reference owns, and write through on every
//! update — which is why reads take `&mut self` and return borrows of the
//! reference, not of the backend.

use crate::heap::{HeapAggregatingRef, HeapListRef, HeapMapRef, HeapReducingRef, HeapValueRef, Namespace, StateKey};
#[cfg(feature = "rocksdb")]
use crate::rocksdb::{RocksDbAggregatingRef, RocksDbListRef, RocksDbMapRef, RocksDbReducingRef, RocksDbValueRef};
use brook_types::Data;
use serde::Serialize;
use std::borrow::Borrow;
use std::hash::Hash;

/// Calls the same method on whichever backend's reference `$repr` holds.
macro_rules! dispatch {
    ($repr:ident, $value:expr, $r:ident => $call:expr) => {
        match $value {
            $repr::Heap($r) => $call,
            #[cfg(feature = "rocksdb")]
            $repr::RocksDb($r) => $call,
        }
    };
}

pub(crate) enum ValueRepr<'a, K, N, V> {
    Heap(HeapValueRef<'a, K, N, V>),
    #[cfg(feature = "rocksdb")]
    RocksDb(RocksDbValueRef<'a, K, N, V>),
}

/// A value state of the current key and namespace (Flink's `ValueState`).
///
/// With the hash-map backend, `update` after `value` on the same reference
/// reuses the entry `value` found (without a TTL): a read-modify-write is one
/// hash lookup. With RocksDB, `value` is a point read and `update` a write.
pub struct ValueStateRef<'a, K, N, V>(pub(crate) ValueRepr<'a, K, N, V>);

impl<'a, K: StateKey, N: Namespace, V: Data> ValueStateRef<'a, K, N, V> {
    #[inline]
    pub(crate) fn heap(r: HeapValueRef<'a, K, N, V>) -> Self {
        Self(ValueRepr::Heap(r))
    }

    /// The value, if set (and not expired).
    #[inline]
    pub fn value(&mut self) -> Option<&V> {
        dispatch!(ValueRepr, &mut self.0, r => r.value())
    }

    #[inline]
    pub fn update(&mut self, value: V) {
        dispatch!(ValueRepr, &mut self.0, r => r.update(value))
    }

    pub fn clear(&mut self) {
        dispatch!(ValueRepr, &mut self.0, r => r.clear())
    }
}

pub(crate) enum ListRepr<'a, K, N, T> {
    Heap(HeapListRef<'a, K, N, T>),
    #[cfg(feature = "rocksdb")]
    RocksDb(RocksDbListRef<'a, K, N, T>),
}

/// A list state of the current key and namespace (Flink's `ListState`).
pub struct ListStateRef<'a, K, N, T>(pub(crate) ListRepr<'a, K, N, T>);

impl<'a, K: StateKey, N: Namespace, T: Data> ListStateRef<'a, K, N, T> {
    #[inline]
    pub(crate) fn heap(r: HeapListRef<'a, K, N, T>) -> Self {
        Self(ListRepr::Heap(r))
    }

    /// The elements in the order they were added (empty if none).
    pub fn get(&mut self) -> &[T] {
        dispatch!(ListRepr, &mut self.0, r => r.get())
    }

    pub fn add(&mut self, value: T) {
        dispatch!(ListRepr, &mut self.0, r => r.add(value))
    }

    pub fn add_all(&mut self, values: impl IntoIterator<Item = T>) {
        dispatch!(ListRepr, &mut self.0, r => r.add_all(values))
    }

    /// Replaces the elements; an empty list clears the state.
    pub fn update(&mut self, values: Vec<T>) {
        dispatch!(ListRepr, &mut self.0, r => r.update(values))
    }

    pub fn clear(&mut self) {
        dispatch!(ListRepr, &mut self.0, r => r.clear())
    }
}

pub(crate) enum MapRepr<'a, K, N, UK, UV> {
    Heap(HeapMapRef<'a, K, N, UK, UV>),
    #[cfg(feature = "rocksdb")]
    RocksDb(RocksDbMapRef<'a, K, N, UK, UV>),
}

/// A map state of the current key and namespace (Flink's `MapState`).
///
/// A user key may be looked up by a borrowed form `Q` (`&str` for `String`), which
/// must serialize as the user key does (true of `str`/`String`, `[T]`/`Vec<T>`,
/// `T`/`Box<T>`): the RocksDB backend looks entries up by their encoded user key.
pub struct MapStateRef<'a, K, N, UK, UV>(pub(crate) MapRepr<'a, K, N, UK, UV>);

impl<'a, K: StateKey, N: Namespace, UK: Data + Hash + Eq, UV: Data> MapStateRef<'a, K, N, UK, UV> {
    #[inline]
    pub(crate) fn heap(r: HeapMapRef<'a, K, N, UK, UV>) -> Self {
        Self(MapRepr::Heap(r))
    }

    pub fn get<Q>(&mut self, user_key: &Q) -> Option<&UV>
    where
        UK: Borrow<Q>,
        Q: Hash + Eq + Serialize + ?Sized,
    {
        dispatch!(MapRepr, &mut self.0, r => r.get(user_key))
    }

    pub fn put(&mut self, user_key: UK, value: UV) {
        dispatch!(MapRepr, &mut self.0, r => r.put(user_key, value))
    }

    pub fn put_all(&mut self, entries: impl IntoIterator<Item = (UK, UV)>) {
        for (k, v) in entries {
            self.put(k, v);
        }
    }

    /// Removes `user_key`'s entry and returns its value if it was visible.
    pub fn remove<Q>(&mut self, user_key: &Q) -> Option<UV>
    where
        UK: Borrow<Q>,
        Q: Hash + Eq + Serialize + ?Sized,
    {
        dispatch!(MapRepr, &mut self.0, r => r.remove(user_key))
    }

    pub fn contains<Q>(&mut self, user_key: &Q) -> bool
    where
        UK: Borrow<Q>,
        Q: Hash + Eq + Serialize + ?Sized,
    {
        self.get(user_key).is_some()
    }

    /// The entries: in insertion order with the hash-map backend (a removal moves
    /// the last entry into the removed one's place), in the order of the encoded
    /// user keys with RocksDB.
    pub fn iter(&mut self) -> MapEntries<'_, UK, UV> {
        match &mut self.0 {
            MapRepr::Heap(r) => MapEntries::Heap(r.view().map(|m| m.iter())),
            #[cfg(feature = "rocksdb")]
            MapRepr::RocksDb(r) => MapEntries::Slice(r.entries().iter()),
        }
    }

    pub fn keys(&mut self) -> impl Iterator<Item = &UK> + '_ {
        self.iter().map(|(k, _)| k)
    }

    pub fn values(&mut self) -> impl Iterator<Item = &UV> + '_ {
        self.iter().map(|(_, v)| v)
    }

    pub fn is_empty(&mut self) -> bool {
        dispatch!(MapRepr, &mut self.0, r => r.is_empty())
    }

    pub fn clear(&mut self) {
        dispatch!(MapRepr, &mut self.0, r => r.clear())
    }
}

/// The entries of a map state ([`MapStateRef::iter`]).
pub enum MapEntries<'b, UK, UV> {
    #[doc(hidden)]
    Heap(Option<indexmap::map::Iter<'b, UK, UV>>),
    #[doc(hidden)]
    Slice(std::slice::Iter<'b, (UK, UV)>),
}

impl<'b, UK, UV> Iterator for MapEntries<'b, UK, UV> {
    type Item = (&'b UK, &'b UV);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            MapEntries::Heap(i) => i.as_mut()?.next(),
            MapEntries::Slice(i) => i.next().map(|(k, v)| (k, v)),
        }
    }
}

impl<UK, UV> std::fmt::Debug for MapEntries<'_, UK, UV> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MapEntries")
    }
}

pub(crate) enum ReducingRepr<'a, K, N, T> {
    Heap(HeapReducingRef<'a, K, N, T>),
    #[cfg(feature = "rocksdb")]
    RocksDb(RocksDbReducingRef<'a, K, N, T>),
}

/// A reducing state of the current key and namespace (Flink's `ReducingState`).
pub struct ReducingStateRef<'a, K, N, T>(pub(crate) ReducingRepr<'a, K, N, T>);

impl<'a, K: StateKey, N: Namespace, T: Data> ReducingStateRef<'a, K, N, T> {
    #[inline]
    pub(crate) fn heap(r: HeapReducingRef<'a, K, N, T>) -> Self {
        Self(ReducingRepr::Heap(r))
    }

    /// The reduced value, if any value was added.
    pub fn get(&mut self) -> Option<&T> {
        dispatch!(ReducingRepr, &mut self.0, r => r.get())
    }

    /// Reduces `value` into the state.
    pub fn add(&mut self, value: T) {
        dispatch!(ReducingRepr, &mut self.0, r => r.add(value))
    }

    pub fn clear(&mut self) {
        dispatch!(ReducingRepr, &mut self.0, r => r.clear())
    }
}

pub(crate) enum AggregatingRepr<'a, K, N, IN, ACC, OUT> {
    Heap(HeapAggregatingRef<'a, K, N, IN, ACC, OUT>),
    #[cfg(feature = "rocksdb")]
    RocksDb(RocksDbAggregatingRef<'a, K, N, IN, ACC, OUT>),
}

/// An aggregating state of the current key and namespace (Flink's `AggregatingState`).
pub struct AggregatingStateRef<'a, K, N, IN, ACC, OUT>(pub(crate) AggregatingRepr<'a, K, N, IN, ACC, OUT>);

impl<'a, K: StateKey, N: Namespace, IN: 'static, ACC: Data, OUT: 'static> AggregatingStateRef<'a, K, N, IN, ACC, OUT> {
    #[inline]
    pub(crate) fn heap(r: HeapAggregatingRef<'a, K, N, IN, ACC, OUT>) -> Self {
        Self(AggregatingRepr::Heap(r))
    }

    /// The aggregate's result, if any value was added.
    pub fn get(&mut self) -> Option<OUT> {
        dispatch!(AggregatingRepr, &mut self.0, r => r.get())
    }

    /// Aggregates `value` into the accumulator.
    pub fn add(&mut self, value: IN) {
        dispatch!(AggregatingRepr, &mut self.0, r => r.add(value))
    }

    pub fn clear(&mut self) {
        dispatch!(AggregatingRepr, &mut self.0, r => r.clear())
    }
}
