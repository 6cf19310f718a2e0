//! The keyed state backend an operator holds: one enum over the backends, so that
//! operators and user functions are written once for all of them.
//!
//! Today there is one variant, [`HashMapStateBackend`]. A RocksDB backend will be
//! a second variant; the state references (`ValueStateRef`, …) then become enums
//! over the two backends' references, which user code never names. See
//! `docs/design/state.md`.

use crate::descriptor::StateDescriptor;
use crate::error::Result;
use crate::handle::{AggregatingState, ListState, MapState, ReducingState, ValueState};
use crate::heap::{
    AggregatingStateRef, HashMapStateBackend, ListStateRef, MapStateRef, Namespace, ReducingStateRef, StateKey,
    ValueStateRef,
};
use crate::registry::KeyedStateRegistry;
use crate::snapshot::{KeyedSnapshotWriter, KeyedStateSnapshot};
use brook_types::Data;
use brook_types::key_group::KeyGroupRange;
use std::hash::Hash;

/// The keyed state of one operator subtask (`state.backend.type`).
#[derive(Debug)]
pub enum KeyedStateBackend<K> {
    /// `hashmap`: typed, in memory.
    HashMap(HashMapStateBackend<K>),
}

impl<K: StateKey> From<HashMapStateBackend<K>> for KeyedStateBackend<K> {
    fn from(backend: HashMapStateBackend<K>) -> Self {
        KeyedStateBackend::HashMap(backend)
    }
}

impl<K: StateKey> KeyedStateBackend<K> {
    pub fn max_parallelism(&self) -> usize {
        match self {
            KeyedStateBackend::HashMap(b) => b.max_parallelism(),
        }
    }

    pub fn key_group_range(&self) -> KeyGroupRange {
        match self {
            KeyedStateBackend::HashMap(b) => b.key_group_range(),
        }
    }

    pub fn register<D: StateDescriptor>(&mut self, descriptor: &D) -> Result<D::Handle> {
        match self {
            KeyedStateBackend::HashMap(b) => b.register(descriptor),
        }
    }

    pub fn registry_mut(&mut self) -> &mut KeyedStateRegistry {
        match self {
            KeyedStateBackend::HashMap(b) => b.registry_mut(),
        }
    }

    #[inline]
    pub fn value_state<'a, V: Data, N: Namespace>(
        &'a mut self,
        handle: &ValueState<V>,
        key: &'a K,
        namespace: &'a N,
    ) -> ValueStateRef<'a, K, N, V> {
        match self {
            KeyedStateBackend::HashMap(b) => b.value_state(handle, key, namespace),
        }
    }

    #[inline]
    pub fn list_state<'a, T: Data, N: Namespace>(
        &'a mut self,
        handle: &ListState<T>,
        key: &'a K,
        namespace: &'a N,
    ) -> ListStateRef<'a, K, N, T> {
        match self {
            KeyedStateBackend::HashMap(b) => b.list_state(handle, key, namespace),
        }
    }

    #[inline]
    pub fn map_state<'a, UK: Data + Hash + Eq, UV: Data, N: Namespace>(
        &'a mut self,
        handle: &MapState<UK, UV>,
        key: &'a K,
        namespace: &'a N,
    ) -> MapStateRef<'a, K, N, UK, UV> {
        match self {
            KeyedStateBackend::HashMap(b) => b.map_state(handle, key, namespace),
        }
    }

    #[inline]
    pub fn reducing_state<'a, T: Data, N: Namespace>(
        &'a mut self,
        handle: &ReducingState<T>,
        key: &'a K,
        namespace: &'a N,
    ) -> ReducingStateRef<'a, K, N, T> {
        match self {
            KeyedStateBackend::HashMap(b) => b.reducing_state(handle, key, namespace),
        }
    }

    #[inline]
    pub fn aggregating_state<'a, IN: 'static, ACC: Data, OUT: 'static, N: Namespace>(
        &'a mut self,
        handle: &AggregatingState<IN, ACC, OUT>,
        key: &'a K,
        namespace: &'a N,
    ) -> AggregatingStateRef<'a, K, N, IN, ACC, OUT> {
        match self {
            KeyedStateBackend::HashMap(b) => b.aggregating_state(handle, key, namespace),
        }
    }

    /// Per-record TTL cleanup; call once per batch with its length.
    #[inline]
    pub fn on_records(&mut self, records: usize) {
        match self {
            KeyedStateBackend::HashMap(b) => b.on_records(records),
        }
    }

    pub fn snapshot(&self) -> Result<KeyedStateSnapshot> {
        match self {
            KeyedStateBackend::HashMap(b) => b.snapshot(),
        }
    }

    pub fn write_snapshot(&self, writer: &mut KeyedSnapshotWriter) -> Result<()> {
        match self {
            KeyedStateBackend::HashMap(b) => b.write_snapshot(writer),
        }
    }

    pub fn restore<B: AsRef<[u8]>>(&mut self, snapshots: &[B]) -> Result<()> {
        match self {
            KeyedStateBackend::HashMap(b) => b.restore(snapshots),
        }
    }
}
