//! The RocksDB state backend (`state.backend.type: rocksdb`): keyed state of one
//! operator subtask, serialized in an embedded RocksDB in a local working
//! directory, for state larger than memory.
//!
//! Invariants:
//! - one RocksDB instance per backend, in a directory of its own that is removed
//!   when the backend is dropped; writes skip the write-ahead log (checkpoints, not
//!   the WAL, make state durable, as in Flink);
//! - one column family per state (see [`column`] for the two kinds), rows keyed as
//!   [`keys`] describes, key group first;
//! - a state's rows are in its registration's format from its first use on, which
//!   also checks the handle's and namespace's types; before that, restored entries
//!   stay in the canonical format.
//!
//! The access API is the hash-map backend's: a reference reads and decodes on
//! every read (into a slot it owns, so `value()` can still return `&V`) and writes
//! through on every update — nothing is cached, so there is nothing to flush.
//!
//! Snapshots: [`RocksDbStateBackend::snapshot`] writes the canonical format (what
//! savepoints use; restorable into the hash-map backend and back), and
//! [`RocksDbStateBackend::snapshot_incremental`] a native checkpoint of SST files
//! of which only the new ones need uploading (see [`incremental`]).

mod cell;
mod column;
mod incremental;
mod keys;
mod list;
mod map;
mod value;

pub use incremental::{IncrementalRestoreSource, IncrementalSnapshot, SstFile};
pub(crate) use list::RocksDbListRef;
pub(crate) use map::RocksDbMapRef;
pub(crate) use value::{RocksDbAggregatingRef, RocksDbReducingRef, RocksDbValueRef};

use crate::descriptor::{AggregateFn, ReduceFn, StateDescriptor, StateKind};
use crate::error::{Result, StateError};
use crate::handle::{AggregatingState, ListState, MapState, ReducingState, StateId, ValueState};
use crate::heap::table::TableMeta;
use crate::heap::{Namespace, StateKey};
use crate::registry::KeyedStateRegistry;
use crate::snapshot::{KeyedSnapshotReader, KeyedSnapshotWriter, KeyedStateSnapshot, SnapshotStateInfo};
use crate::state_ref::{
    AggregatingRepr, AggregatingStateRef, ListRepr, ListStateRef, MapRepr, MapStateRef, ReducingRepr, ReducingStateRef,
    ValueRepr, ValueStateRef,
};
use crate::ttl::{SystemTtlTimeProvider, TtlTimeProvider};
use brook_types::Data;
use brook_types::key_group::{KeyGroupRange, assign_to_key_group};
use cell::Cell;
use column::{CfInfo, Column, ColumnCodec, ListCodec, MapCodec, ValueCodec, main_cf, restored_cf};
use rocksdb::{DB, IteratorMode, Options, WriteBatch, WriteOptions};
use std::any::TypeId;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::Hash;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows per write batch when restoring.
const RESTORE_BATCH_ROWS: usize = 4096;

/// Keyed state of one operator subtask, in an embedded RocksDB.
///
/// ```
/// use brook_state::{RocksDbStateBackend, ValueStateDescriptor};
/// use brook_types::key_group::KeyGroupRange;
///
/// let mut backend = RocksDbStateBackend::<String>::new(128, KeyGroupRange::for_operator_index(128, 1, 0)).unwrap();
/// let count = backend.register(&ValueStateDescriptor::<u64>::new("count")).unwrap();
/// let key = "alice".to_string();
/// let mut state = backend.value_state(&count, &key, &());
/// let next = state.value().copied().unwrap_or(0) + 1;
/// state.update(next);
/// assert_eq!(backend.value_state(&count, &key, &()).value(), Some(&1));
/// ```
pub struct RocksDbStateBackend<K> {
    operator: Arc<str>,
    max_parallelism: usize,
    key_group_range: KeyGroupRange,
    registry: KeyedStateRegistry,
    clock: Arc<dyn TtlTimeProvider>,
    /// By [`StateId`]: the states used so far.
    columns: Vec<Option<Column>>,
    /// States with a `state:<name>` column family.
    main: BTreeMap<String, CfInfo>,
    /// States with a `restored:<name>` column family (restored, not used yet).
    restored: BTreeMap<String, CfInfo>,
    write: WriteOptions,
    /// SST files the last completed incremental checkpoint references (uploaded).
    uploaded: BTreeSet<String>,
    /// SST files of incremental checkpoints not completed yet.
    pending_checkpoints: BTreeMap<u64, BTreeSet<String>>,
    /// Counts DB directories, which a restore replaces.
    generation: u32,
    db_path: PathBuf,
    // Dropped in declaration order: the DB before the options it uses and its directory.
    db: DB,
    /// The options of column families made with `create_cf`, which RocksDB uses
    /// until the DB closes but rust-rocksdb does not keep: their compaction filter
    /// is freed with them.
    cf_options: Vec<Options>,
    workdir: tempfile::TempDir,
    _key: PhantomData<fn() -> K>,
}

impl<K> std::fmt::Debug for RocksDbStateBackend<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksDbStateBackend")
            .field("operator", &self.operator)
            .field("max_parallelism", &self.max_parallelism)
            .field("key_group_range", &self.key_group_range)
            .field("registry", &self.registry)
            .field("db_path", &self.db_path)
            .finish()
    }
}

fn panic_on<T>(result: Result<T>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

/// The options of the DB.
fn db_options() -> Options {
    let mut options = Options::default();
    options.create_if_missing(true);
    options.create_missing_column_families(true);
    options.set_keep_log_file_num(2);
    options
}

/// The options of a column family: lists append through the merge operator; with
/// `compaction_ttl_ms`, compactions drop values whose trailing TTL stamp expired
/// (value-like and map rows only: a list's stamps are inside its elements).
fn cf_options(compaction_ttl_ms: Option<i64>, clock: &Arc<dyn TtlTimeProvider>) -> Options {
    let mut options = Options::default();
    options.set_merge_operator_associative("brook-append-lists", list::append_lists);
    if let Some(ttl_ms) = compaction_ttl_ms {
        let clock = clock.clone();
        options.set_compaction_filter("brook-ttl", move |_level: u32, _row: &[u8], value: &[u8]| {
            if column::trailing_stamp(value).saturating_add(ttl_ms) <= clock.current_timestamp() {
                rocksdb::CompactionDecision::Remove
            } else {
                rocksdb::CompactionDecision::Keep
            }
        });
    }
    options
}

impl<K: StateKey> RocksDbStateBackend<K> {
    /// A backend in a new directory under the system's temp directory.
    pub fn new(max_parallelism: usize, key_group_range: KeyGroupRange) -> Result<Self> {
        Self::in_directory(&std::env::temp_dir(), max_parallelism, key_group_range)
    }

    /// A backend in a new directory under `local_dir` (Flink's
    /// `state.backend.rocksdb.localdir`); the directory is removed on drop.
    pub fn in_directory(local_dir: &Path, max_parallelism: usize, key_group_range: KeyGroupRange) -> Result<Self> {
        let io = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| StateError::Io { action, path, source }
        };
        std::fs::create_dir_all(local_dir).map_err(io("create", local_dir))?;
        let workdir = tempfile::Builder::new()
            .prefix("brook-rocksdb-")
            .tempdir_in(local_dir)
            .map_err(io("create a directory in", local_dir))?;
        let db_path = workdir.path().join("db-0");
        let operator: Arc<str> = Arc::from("unnamed operator");
        let db = DB::open(&db_options(), &db_path).map_err(|source| StateError::RocksDb {
            operator: operator.to_string(),
            action: "open a database",
            dir: db_path.clone(),
            source,
        })?;
        let mut write = WriteOptions::default();
        write.disable_wal(true);
        Ok(Self {
            registry: KeyedStateRegistry::new(&operator),
            operator,
            max_parallelism,
            key_group_range,
            clock: Arc::new(SystemTtlTimeProvider),
            columns: Vec::new(),
            main: BTreeMap::new(),
            restored: BTreeMap::new(),
            write,
            uploaded: BTreeSet::new(),
            pending_checkpoints: BTreeMap::new(),
            generation: 0,
            db_path,
            db,
            cf_options: Vec::new(),
            workdir,
            _key: PhantomData,
        })
    }

    /// Names the operator in messages. Call before registering states.
    pub fn with_operator_name(mut self, name: &str) -> Self {
        self.operator = Arc::from(name);
        if self.registry.is_empty() {
            self.registry = KeyedStateRegistry::new(name);
        }
        self
    }

    /// The clock TTL reads (processing time).
    pub fn with_ttl_time_provider(mut self, clock: Arc<dyn TtlTimeProvider>) -> Self {
        self.clock = clock;
        self
    }

    pub fn max_parallelism(&self) -> usize {
        self.max_parallelism
    }

    pub fn key_group_range(&self) -> KeyGroupRange {
        self.key_group_range
    }

    /// The directory of the database (it changes when a restore replaces it).
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// Registers a state (or returns the one registered under its name).
    pub fn register<D: StateDescriptor>(&mut self, descriptor: &D) -> Result<D::Handle> {
        self.registry.register(descriptor)
    }

    pub fn registry_mut(&mut self) -> &mut KeyedStateRegistry {
        &mut self.registry
    }

    pub fn registry(&self) -> &KeyedStateRegistry {
        &self.registry
    }

    fn rocks_error(&self, action: &'static str) -> impl FnOnce(rocksdb::Error) -> StateError + '_ {
        move |source| StateError::RocksDb {
            operator: self.operator.to_string(),
            action,
            dir: self.db_path.clone(),
            source,
        }
    }

    fn create_cf(&mut self, name: &str, compaction_ttl_ms: Option<i64>) -> Result<()> {
        if self.db.cf_handle(name).is_some() {
            return Ok(());
        }
        let options = cf_options(compaction_ttl_ms, &self.clock);
        let result = self.db.create_cf(name, &options);
        self.cf_options.push(options);
        result.map_err(self.rocks_error("create a column family"))
    }

    fn drop_cf(&mut self, name: &str) -> Result<()> {
        if self.db.cf_handle(name).is_none() {
            return Ok(());
        }
        let result = self.db.drop_cf(name);
        result.map_err(self.rocks_error("drop a column family"))
    }

    fn write_batch(&self, batch: WriteBatch) -> Result<()> {
        self.db.write_opt(batch, &self.write).map_err(self.rocks_error("write"))
    }

    /// Calls `f` with every row of column family `cf`, in key order, streaming
    /// (a state may not fit in memory).
    fn for_each_row(&self, cf: &str, mut f: impl FnMut(&[u8], &[u8]) -> Result<()>) -> Result<()> {
        let Some(handle) = self.db.cf_handle(cf) else {
            return Ok(());
        };
        for row in self.db.iterator_cf(handle, IteratorMode::Start) {
            let (key, value) = row.map_err(self.rocks_error("scan"))?;
            f(&key, &value)?;
        }
        Ok(())
    }

    /// The number of (key, namespace) entries of state `name` (restored ones
    /// included), for tests and metrics. Scans the state.
    pub fn entry_count(&self, name: &str) -> usize {
        let mut count = 0;
        if let Some(info) = self.main.get(name) {
            let mut last: Option<Vec<u8>> = None;
            panic_on(self.for_each_row(&main_cf(name), |row, _| {
                if info.kind != StateKind::Map {
                    count += 1;
                } else if let Some(parts) = keys::split(row)
                    && last.as_deref() != Some(parts.prefix)
                {
                    count += 1;
                    last = Some(parts.prefix.to_vec());
                }
                Ok(())
            }));
        }
        if self.restored.contains_key(name) {
            panic_on(self.for_each_row(&restored_cf(name), |_, _| {
                count += 1;
                Ok(())
            }));
        }
        count
    }

    /// Compacts every state's column family now (RocksDB also compacts by itself):
    /// compaction filters drop expired values. For maintenance and tests.
    pub fn compact(&self) {
        for name in self.main.keys().map(|n| main_cf(n)).chain(self.restored.keys().map(|n| restored_cf(n))) {
            if let Some(handle) = self.db.cf_handle(&name) {
                self.db.compact_range_cf(handle, None::<&[u8]>, None::<&[u8]>);
            }
        }
    }

    /// The column of `id`, created on first use; and the cell of (key, namespace).
    #[inline]
    fn cell<H: 'static, N: Namespace>(
        &mut self,
        id: StateId,
        codec: fn() -> Box<dyn ColumnCodec>,
        key: &K,
        namespace: &N,
    ) -> (Cell<'_>, &Column) {
        let index = id.index();
        if !matches!(self.columns.get(index), Some(Some(_))) {
            self.create_column::<H, N>(id, codec());
        }
        let column = self.columns[index].as_ref().expect("created above");
        if column.table_type != TypeId::of::<(H, N)>() {
            self.wrong_column::<N>(id, column.namespace_type);
        }
        let key_group = assign_to_key_group(key, self.max_parallelism);
        let prefix = keys::prefix(key_group, key, namespace).unwrap_or_else(|source| {
            panic!(
                "{}",
                StateError::Encode { state: column.meta.name.to_string(), part: crate::error::EntryPart::Key, source }
            )
        });
        let cf = self.db.cf_handle(&column.cf).expect("a used state has its column family");
        let cell = Cell { db: &self.db, cf, write: &self.write, meta: &column.meta, clock: &*self.clock, prefix };
        (cell, column)
    }

    #[cold]
    #[inline(never)]
    fn wrong_column<N>(&self, id: StateId, namespace_type: &str) -> ! {
        let name = self.registry.get(id).map_or("?", |s| &*s.name);
        let requested = std::any::type_name::<N>();
        if requested != namespace_type {
            panic!(
                "state '{name}' of operator '{}' is used with namespace type {requested} but was first used \
                 with {namespace_type}; a state has one namespace type",
                self.operator
            )
        }
        panic!(
            "a handle of state '{name}' of operator '{}' has other types than the state; handles belong to \
             the operator that registered them",
            self.operator
        )
    }

    #[cold]
    #[inline(never)]
    fn create_column<H: 'static, N: 'static>(&mut self, id: StateId, codec: Box<dyn ColumnCodec>) {
        let Some(state) = self.registry.get(id) else {
            panic!(
                "operator '{}' used a state handle it did not register ({id:?}); obtain handles in open() \
                 with RuntimeContext::get_state (a handle's Default is unregistered)",
                self.operator
            )
        };
        if state.handle_type != TypeId::of::<H>() {
            panic!(
                "a handle of state '{}' of operator '{}' has other types than the state ({}); handles belong \
                 to the operator that registered them",
                state.name,
                self.operator,
                std::any::type_name::<H>()
            )
        }
        let meta = TableMeta::new(state, &self.operator);
        let function = state.function.clone();
        panic_on(self.prepare_column(&meta, &*codec));
        if self.columns.len() <= id.index() {
            self.columns.resize_with(id.index() + 1, || None);
        }
        self.columns[id.index()] = Some(Column {
            cf: main_cf(&meta.name),
            meta,
            table_type: TypeId::of::<(H, N)>(),
            namespace_type: std::any::type_name::<N>(),
            function,
            codec,
        });
    }

    /// Brings a state's rows into its registration's format: re-stamps rows of
    /// an earlier run with another TTL setting, and converts restored canonical
    /// entries into rows.
    fn prepare_column(&mut self, meta: &TableMeta, codec: &dyn ColumnCodec) -> Result<()> {
        let name = meta.name.to_string();
        let stamped = meta.ttl.is_some();
        let compaction_ttl_ms =
            meta.ttl.filter(|t| t.compaction_filter && meta.kind != StateKind::List).map(|t| t.ttl_ms);
        let cf = main_cf(&name);
        let now = self.clock.current_timestamp();
        let operator = self.operator.to_string();
        let mismatch = |restored: StateKind| StateError::RestoredKindMismatch {
            operator: operator.clone(),
            name: name.clone(),
            restored,
            registered: meta.kind,
        };
        if let Some(info) = self.main.get(&name).cloned() {
            if info.kind != meta.kind {
                return Err(mismatch(info.kind));
            }
            if info.stamped != stamped {
                let handle = self.db.cf_handle(&cf).expect("a known state has its column family");
                let mut batch = WriteBatch::default();
                self.for_each_row(&cf, |row, value| {
                    batch.put_cf(handle, row, codec.restamp(meta, value, info.stamped, info.restored_at)?);
                    if batch.len() >= RESTORE_BATCH_ROWS {
                        self.write_batch(std::mem::take(&mut batch))?;
                    }
                    Ok(())
                })?;
                self.write_batch(batch)?;
            }
        } else {
            self.create_cf(&cf, compaction_ttl_ms)?;
        }
        if let Some(info) = self.restored.get(&name).cloned() {
            if info.kind != meta.kind {
                return Err(mismatch(info.kind));
            }
            let rcf = restored_cf(&name);
            let handle = self.db.cf_handle(&cf).expect("created above");
            let mut batch = WriteBatch::default();
            self.for_each_row(&rcf, |prefix, value| {
                for (suffix, value) in codec.to_rows(meta, value, info.stamped, &info.type_name, info.restored_at)? {
                    let mut row = prefix.to_vec();
                    row.extend_from_slice(&suffix);
                    batch.put_cf(handle, &row, value);
                }
                if batch.len() >= RESTORE_BATCH_ROWS {
                    self.write_batch(std::mem::take(&mut batch))?;
                }
                Ok(())
            })?;
            self.write_batch(batch)?;
            self.drop_cf(&rcf)?;
            self.restored.remove(&name);
        }
        self.main.insert(
            name,
            CfInfo {
                kind: meta.kind,
                stamped,
                type_name: meta.type_name.to_string(),
                restored_at: now,
                compaction_ttl_ms,
            },
        );
        Ok(())
    }

    /// Value state of `key` in `namespace`.
    #[inline]
    pub fn value_state<'a, V: Data, N: Namespace>(
        &'a mut self,
        handle: &ValueState<V>,
        key: &'a K,
        namespace: &'a N,
    ) -> ValueStateRef<'a, K, N, V> {
        let (cell, _) = self.cell::<ValueState<V>, N>(handle.id(), ValueCodec::<V>::boxed, key, namespace);
        ValueStateRef(ValueRepr::RocksDb(RocksDbValueRef { cell, slot: None, _types: PhantomData }))
    }

    /// List state of `key` in `namespace`.
    #[inline]
    pub fn list_state<'a, T: Data, N: Namespace>(
        &'a mut self,
        handle: &ListState<T>,
        key: &'a K,
        namespace: &'a N,
    ) -> ListStateRef<'a, K, N, T> {
        let (cell, _) = self.cell::<ListState<T>, N>(handle.id(), ListCodec::<T>::boxed, key, namespace);
        ListStateRef(ListRepr::RocksDb(RocksDbListRef { cell, slot: Vec::new(), _types: PhantomData }))
    }

    /// Map state of `key` in `namespace`.
    #[inline]
    pub fn map_state<'a, UK: Data + Hash + Eq, UV: Data, N: Namespace>(
        &'a mut self,
        handle: &MapState<UK, UV>,
        key: &'a K,
        namespace: &'a N,
    ) -> MapStateRef<'a, K, N, UK, UV> {
        let (cell, _) = self.cell::<MapState<UK, UV>, N>(handle.id(), MapCodec::<UK, UV>::boxed, key, namespace);
        MapStateRef(MapRepr::RocksDb(RocksDbMapRef { cell, value: None, entries: Vec::new(), _types: PhantomData }))
    }

    /// Reducing state of `key` in `namespace`.
    #[inline]
    pub fn reducing_state<'a, T: Data, N: Namespace>(
        &'a mut self,
        handle: &ReducingState<T>,
        key: &'a K,
        namespace: &'a N,
    ) -> ReducingStateRef<'a, K, N, T> {
        let (cell, column) = self.cell::<ReducingState<T>, N>(handle.id(), ValueCodec::<T>::boxed, key, namespace);
        let reduce = column
            .function
            .as_ref()
            .and_then(|f| f.downcast_ref::<ReduceFn<T>>())
            .expect("a reducing state registers its reduce function with the handle's type");
        ReducingStateRef(ReducingRepr::RocksDb(RocksDbReducingRef { cell, reduce, slot: None, _types: PhantomData }))
    }

    /// Aggregating state of `key` in `namespace`.
    #[inline]
    pub fn aggregating_state<'a, IN: 'static, ACC: Data, OUT: 'static, N: Namespace>(
        &'a mut self,
        handle: &AggregatingState<IN, ACC, OUT>,
        key: &'a K,
        namespace: &'a N,
    ) -> AggregatingStateRef<'a, K, N, IN, ACC, OUT> {
        let (cell, column) =
            self.cell::<AggregatingState<IN, ACC, OUT>, N>(handle.id(), ValueCodec::<ACC>::boxed, key, namespace);
        let function = column
            .function
            .as_ref()
            .and_then(|f| f.downcast_ref::<AggregateFn<IN, ACC, OUT>>())
            .expect("an aggregating state registers its function with the handle's types");
        AggregatingStateRef(AggregatingRepr::RocksDb(RocksDbAggregatingRef { cell, function, _types: PhantomData }))
    }

    /// Per-record TTL cleanup: a no-op. RocksDB removes expired values when they
    /// are read and leaves them out of full snapshots with full-snapshot cleanup;
    /// incremental cleanup is the hash-map backend's (as in Flink).
    #[inline]
    pub fn on_records(&mut self, _records: usize) {}

    /// A full snapshot of every state, in the canonical format.
    pub fn snapshot(&self) -> Result<KeyedStateSnapshot> {
        let mut writer = KeyedSnapshotWriter::new(self.max_parallelism, self.key_group_range);
        self.write_snapshot(&mut writer)?;
        Ok(writer.finish())
    }

    /// Writes every state into `writer`, in the canonical format: registered
    /// states in registration order, then restored states no one registered,
    /// unchanged. Expired entries are left out of used states with full-snapshot
    /// cleanup. Reads one RocksDB snapshot, so the result is consistent.
    pub fn write_snapshot(&self, writer: &mut KeyedSnapshotWriter) -> Result<()> {
        let snapshot = self.db.snapshot();
        let now = self.clock.current_timestamp();
        for (index, state) in self.registry.states().iter().enumerate() {
            let name = &*state.name;
            if self.main.contains_key(name) || self.restored.contains_key(name) {
                let column = self.columns.get(index).and_then(Option::as_ref);
                self.write_state(writer, &snapshot, name, column, now)?;
            } else {
                writer.begin_state_with(
                    SnapshotStateInfo::new(name, state.kind)
                        .with_type_name(state.type_name)
                        .with_ttl_timestamps(state.ttl.is_some()),
                )?;
            }
        }
        let unregistered: BTreeSet<&String> =
            self.main.keys().chain(self.restored.keys()).filter(|n| self.registry.id_of(n).is_none()).collect();
        for name in unregistered {
            self.write_state(writer, &snapshot, name, None, now)?;
        }
        Ok(())
    }

    fn write_state(
        &self,
        writer: &mut KeyedSnapshotWriter,
        snapshot: &rocksdb::Snapshot<'_>,
        name: &str,
        column: Option<&Column>,
        now: i64,
    ) -> Result<()> {
        let (main, restored) = (self.main.get(name), self.restored.get(name));
        let info = main.or(restored).expect("called for stored states");
        if let (Some(m), Some(r)) = (main, restored)
            && (m.stamped != r.stamped || m.kind != r.kind)
        {
            return Err(StateError::RestoredTtlMismatch { operator: self.operator.to_string(), name: name.into() });
        }
        let id = writer.begin_state_with(
            SnapshotStateInfo::new(name, info.kind).with_type_name(&info.type_name).with_ttl_timestamps(info.stamped),
        )?;
        let cleanup = column.and_then(|c| c.meta.ttl.filter(|t| t.snapshot_cleanup).map(|t| (c, t)));
        let corrupt = || StateError::Corrupt {
            what: "RocksDB state",
            offset: 0,
            problem: "a row key is not one the RocksDB backend writes",
        };
        if main.is_some()
            && let Some(handle) = self.db.cf_handle(&main_cf(name))
        {
            // A map's rows of one (key, namespace) become one canonical entry:
            // `bincode(Vec<(UK, UV[, i64])>)` = u64 count ‖ (user key ‖ row value)*.
            let mut map_entry: Option<(Vec<u8>, u64, Vec<u8>)> = None;
            let flush = |writer: &mut KeyedSnapshotWriter, entry: Option<(Vec<u8>, u64, Vec<u8>)>| -> Result<()> {
                if let Some((prefix, count, mut value)) = entry
                    && count > 0
                {
                    value[..8].copy_from_slice(&count.to_le_bytes());
                    let row = keys::split(&prefix).expect("split before");
                    writer.raw_entry(id, row.key_group, row.key, row.namespace, &value)?;
                }
                Ok(())
            };
            for item in snapshot.iterator_cf(handle, IteratorMode::Start) {
                let (row, value) = item.map_err(self.rocks_error("scan"))?;
                let parts = keys::split(&row).ok_or_else(corrupt)?;
                let value = match cleanup {
                    Some((column, ttl)) => match column.codec.live_for_snapshot(&column.meta, &value, ttl, now)? {
                        Some(v) => v,
                        None => continue,
                    },
                    None => value.to_vec(),
                };
                if info.kind != StateKind::Map {
                    writer.raw_entry(id, parts.key_group, parts.key, parts.namespace, &value)?;
                    continue;
                }
                if map_entry.as_ref().is_none_or(|(p, _, _)| p.as_slice() != parts.prefix) {
                    flush(writer, map_entry.take())?;
                    map_entry = Some((parts.prefix.to_vec(), 0, vec![0; 8]));
                }
                let (_, count, bytes) = map_entry.as_mut().expect("set above");
                *count += 1;
                bytes.extend_from_slice(parts.user_key);
                bytes.extend_from_slice(&value);
            }
            flush(writer, map_entry)?;
        }
        if restored.is_some()
            && let Some(handle) = self.db.cf_handle(&restored_cf(name))
        {
            for item in snapshot.iterator_cf(handle, IteratorMode::Start) {
                let (row, value) = item.map_err(self.rocks_error("scan"))?;
                let parts = keys::split(&row).ok_or_else(corrupt)?;
                writer.raw_entry(id, parts.key_group, parts.key, parts.namespace, &value)?;
            }
        }
        Ok(())
    }

    /// Restores the entries of this backend's key groups from canonical snapshots
    /// of any number of old subtasks (of any parallelism and either backend, with
    /// the same max parallelism). Entries of used states are converted into rows at
    /// once; the others stay canonical until their state is used. States of kinds
    /// the backend does not hold (timers, internal) are skipped.
    pub fn restore<B: AsRef<[u8]>>(&mut self, snapshots: &[B]) -> Result<()> {
        let now = self.clock.current_timestamp();
        for snapshot in snapshots {
            let reader = KeyedSnapshotReader::new(snapshot.as_ref())?;
            if reader.max_parallelism() != self.max_parallelism {
                return Err(StateError::MaxParallelismMismatch {
                    operator: self.operator.to_string(),
                    snapshot: reader.max_parallelism(),
                    current: self.max_parallelism,
                });
            }
            // Per snapshot state: None (skipped), Some(Some(column index)) for a used
            // state, Some(None) for the restored column family.
            let mut targets: Vec<Option<Option<usize>>> = Vec::with_capacity(reader.states().len());
            for info in reader.states() {
                if !info.kind.is_backend_state() {
                    targets.push(None);
                    continue;
                }
                let used = self
                    .registry
                    .id_of(&info.name)
                    .map(StateId::index)
                    .filter(|&i| matches!(self.columns.get(i), Some(Some(_))));
                let registered_kind = used.map(|i| self.columns[i].as_ref().expect("checked").meta.kind);
                let known_kind = registered_kind
                    .or_else(|| self.restored.get(&info.name).map(|r| r.kind))
                    .or_else(|| self.main.get(&info.name).map(|r| r.kind));
                if let Some(kind) = known_kind
                    && kind != info.kind
                {
                    return Err(StateError::RestoredKindMismatch {
                        operator: self.operator.to_string(),
                        name: info.name.clone(),
                        restored: info.kind,
                        registered: kind,
                    });
                }
                if used.is_none() {
                    let entry = self.restored.entry(info.name.clone()).or_insert_with(|| CfInfo {
                        kind: info.kind,
                        stamped: info.ttl_timestamps,
                        type_name: info.type_name.clone(),
                        restored_at: now,
                        compaction_ttl_ms: None,
                    });
                    if entry.stamped != info.ttl_timestamps {
                        return Err(StateError::RestoredTtlMismatch {
                            operator: self.operator.to_string(),
                            name: info.name.clone(),
                        });
                    }
                    self.create_cf(&restored_cf(&info.name), None)?;
                }
                targets.push(Some(used));
            }
            let mut batch = WriteBatch::default();
            for entry in reader.entries(self.key_group_range) {
                let entry = entry?;
                let info = &reader.states()[entry.state.index()];
                let Some(target) = targets[entry.state.index()] else {
                    continue;
                };
                // Empty lists and maps are not stored.
                if matches!(info.kind, StateKind::List | StateKind::Map) && entry.value.get(..8) == Some(&[0; 8]) {
                    continue;
                }
                let prefix = keys::raw_prefix(entry.key_group, entry.key, entry.namespace);
                match target {
                    Some(i) => {
                        let column = self.columns[i].as_ref().expect("checked above");
                        let handle = self.db.cf_handle(&column.cf).expect("a used state has its column family");
                        for (suffix, value) in column.codec.to_rows(
                            &column.meta,
                            entry.value,
                            info.ttl_timestamps,
                            &info.type_name,
                            now,
                        )? {
                            let mut row = prefix.clone();
                            row.extend_from_slice(&suffix);
                            batch.put_cf(handle, &row, value);
                        }
                    }
                    None => {
                        let handle = self.db.cf_handle(&restored_cf(&info.name)).expect("created above");
                        batch.put_cf(handle, &prefix, entry.value);
                    }
                }
                if batch.len() >= RESTORE_BATCH_ROWS {
                    self.write_batch(std::mem::take(&mut batch))?;
                }
            }
            self.write_batch(batch)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::{ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor};

    fn backend() -> RocksDbStateBackend<String> {
        RocksDbStateBackend::new(128, KeyGroupRange::for_operator_index(128, 1, 0))
            .unwrap()
            .with_operator_name("Counter")
    }

    #[test]
    fn state_is_per_key_and_namespace() {
        let mut b = backend();
        let count = b.register(&ValueStateDescriptor::<u64>::new("count")).unwrap();
        let (a, z) = ("a".to_string(), "z".to_string());
        b.value_state(&count, &a, &1u32).update(1);
        b.value_state(&count, &a, &2u32).update(2);
        b.value_state(&count, &z, &1u32).update(3);
        assert_eq!(b.value_state(&count, &a, &1u32).value(), Some(&1));
        assert_eq!(b.value_state(&count, &a, &2u32).value(), Some(&2));
        assert_eq!(b.value_state(&count, &z, &1u32).value(), Some(&3));
        b.value_state(&count, &a, &1u32).clear();
        assert_eq!(b.value_state(&count, &a, &1u32).value(), None);
        assert_eq!(b.entry_count("count"), 2);
    }

    #[test]
    fn lists_append_through_the_merge_operator_and_maps_are_rows() {
        let mut b = backend();
        let list = b.register(&ListStateDescriptor::<String>::new("list")).unwrap();
        let map = b.register(&MapStateDescriptor::<String, i32>::new("map")).unwrap();
        let k = "k".to_string();
        b.list_state(&list, &k, &()).add("a".into());
        b.list_state(&list, &k, &()).add_all(["b".to_string(), "c".to_string()]);
        b.list_state(&list, &k, &()).add("d".into());
        assert_eq!(b.list_state(&list, &k, &()).get(), ["a", "b", "c", "d"]);
        b.list_state(&list, &k, &()).update(vec![]);
        assert!(b.list_state(&list, &k, &()).get().is_empty());
        assert_eq!(b.entry_count("list"), 0);
        let mut m = b.map_state(&map, &k, &());
        m.put("y".into(), 2);
        m.put("x".into(), 1);
        assert_eq!(m.get("x"), Some(&1));
        assert_eq!(m.iter().collect::<Vec<_>>(), [(&"x".to_string(), &1), (&"y".to_string(), &2)]);
        assert_eq!(m.remove("x"), Some(1));
        assert_eq!(m.remove("y"), Some(2));
        assert!(m.is_empty());
        assert_eq!(b.entry_count("map"), 0);
    }

    #[test]
    #[should_panic(expected = "is used with namespace type u8 but was first used with ()")]
    fn a_state_has_one_namespace_type() {
        let mut b = backend();
        let count = b.register(&ValueStateDescriptor::<u64>::new("count")).unwrap();
        let k = "k".to_string();
        b.value_state(&count, &k, &()).update(1);
        b.value_state(&count, &k, &0u8).update(1);
    }

    #[test]
    fn the_working_directory_is_removed_on_drop() {
        let parent = tempfile::tempdir().unwrap();
        let b = RocksDbStateBackend::<String>::in_directory(parent.path(), 128, KeyGroupRange { start: 0, end: 127 })
            .unwrap();
        assert!(b.db_path().exists());
        drop(b);
        assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
    }
}
