//! Brook's state (DESIGN.md §6): named state descriptors, keyed state scoped to
//! the current key and namespace, operator state, the state backends, and
//! snapshots partitioned by key group. `docs/design/state.md` explains the design.
//!
//! ```text
//!  open():       descriptor ──register──▶ KeyedStateRegistry ──▶ handle (Copy id + types)
//!  per record:   ctx.state(&handle) ──▶ KeyedStateBackend ──▶ typed table[(key, namespace)]
//!  checkpoint:   backend.write_snapshot(writer) ─┐
//!                operator timers ──writer.entry──┴▶ KeyedSnapshotWriter ──▶ bytes by key group
//!  restore:      KeyedSnapshotReader(old bytes) ──only own key groups──▶ backend.restore
//! ```
//!
//! - [`descriptor`] — [`ValueStateDescriptor`], [`ListStateDescriptor`],
//!   [`MapStateDescriptor`], [`ReducingStateDescriptor`],
//!   [`AggregatingStateDescriptor`] (with [`AggregateFunction`]).
//! - [`handle`] — what registration returns: [`ValueState`], [`ListState`], …
//! - [`ttl`] — [`StateTtlConfig`] (update type, visibility, cleanup) and the
//!   [`TtlTimeProvider`] TTL reads.
//! - [`heap`] — [`HashMapStateBackend`], the in-memory backend.
//! - `rocksdb` (feature `rocksdb`) — `RocksDbStateBackend`, the embedded LSM
//!   backend for state larger than memory, with incremental checkpoints of SST files.
//! - [`backend`] — [`KeyedStateBackend`], the one type operators hold.
//! - [`state_ref`] — the state references an access returns ([`ValueStateRef`], …),
//!   the same for every backend.
//! - [`snapshot`] — the canonical, versioned keyed snapshot format:
//!   [`KeyedSnapshotWriter`], [`KeyedSnapshotReader`].
//! - [`operator`] — [`OperatorStateBackend`] (list, union list and broadcast state)
//!   and [`redistribute_operator_state`].
//!
//! ```
//! use brook_state::{HashMapStateBackend, ListStateDescriptor, ValueStateDescriptor};
//! use brook_types::key_group::KeyGroupRange;
//!
//! // Subtask 1 of 2, max parallelism 128: it owns key groups 64..=127, and
//! // "alice" is in key group 116.
//! let range = KeyGroupRange::for_operator_index(128, 2, 1);
//! let mut backend = HashMapStateBackend::<String>::new(128, range);
//! let count = backend.register(&ValueStateDescriptor::<u64>::new("count")).unwrap();
//! let seen = backend.register(&ListStateDescriptor::<i64>::new("seen")).unwrap();
//!
//! let key = "alice".to_string();
//! for amount in [5, 7] {
//!     let mut c = backend.value_state(&count, &key, &());
//!     let n = c.value().copied().unwrap_or(0);
//!     c.update(n + 1);
//!     backend.list_state(&seen, &key, &()).add(amount);
//! }
//! assert_eq!(backend.value_state(&count, &key, &()).value(), Some(&2));
//!
//! // Snapshot, and restore at parallelism 1: the one new subtask gets everything.
//! let snapshot = backend.snapshot().unwrap();
//! let mut restored = HashMapStateBackend::<String>::new(128, KeyGroupRange::for_operator_index(128, 1, 0));
//! restored.restore(&[snapshot]).unwrap();
//! let seen = restored.register(&ListStateDescriptor::<i64>::new("seen")).unwrap();
//! assert_eq!(restored.list_state(&seen, &key, &()).get(), &[5, 7]);
//! ```

pub mod backend;
pub mod codec;
pub mod descriptor;
pub mod error;
pub mod handle;
pub mod heap;
pub mod operator;
mod registry;
#[cfg(feature = "rocksdb")]
pub mod rocksdb;
pub mod snapshot;
pub mod state_ref;
pub mod ttl;

pub use backend::KeyedStateBackend;
pub use descriptor::{
    AggregateFunction, AggregatingStateDescriptor, ListStateDescriptor, MapStateDescriptor, ReducingStateDescriptor,
    StateDescriptor, StateKind, ValueStateDescriptor,
};
pub use error::{Result, StateError};
pub use handle::{AggregatingState, ListState, MapState, ReducingState, StateId, ValueState};
pub use heap::{HashMapStateBackend, Namespace, StateKey};
pub use operator::{
    BroadcastState, OperatorListState, OperatorStateBackend, OperatorStateMode, OperatorStateSnapshot,
    redistribute_operator_state,
};
pub use registry::KeyedStateRegistry;
#[cfg(feature = "rocksdb")]
pub use rocksdb::{IncrementalRestoreSource, IncrementalSnapshot, RocksDbStateBackend, SstFile};
pub use snapshot::{
    KeyGroupRangeOffsets, KeyedSnapshotReader, KeyedSnapshotWriter, KeyedStateSnapshot, SnapshotEntry, SnapshotStateId,
    SnapshotStateInfo,
};
pub use state_ref::{AggregatingStateRef, ListStateRef, MapEntries, MapStateRef, ReducingStateRef, ValueStateRef};
pub use ttl::{
    ManualTtlTimeProvider, StateTtlConfig, StateVisibility, SystemTtlTimeProvider, TtlTimeProvider, UpdateType,
};
