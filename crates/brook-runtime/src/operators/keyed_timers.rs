//! What keyed operators with timers share: the parts of a [`KeyedContext`], the
//! timer service, the keyed state backend, and the one place where due timers fire.
//!
//! The keyed state backend is the one `state.backend.type` names (hash map or
//! RocksDB), holds the key groups of this subtask
//! (`KeyGroupRange::for_operator_index(max_parallelism, parallelism, index)`), and
//! its TTL follows the task's processing-time clock.
//!
//! Snapshots: savepoints and full checkpoints write backend and timers in the
//! canonical format; with `execution.checkpointing.incremental` a RocksDB backend's
//! checkpoints are native incremental snapshots, and only the timers go into the
//! canonical snapshot next to it (docs/design/state.md).
//!
//! Firing rules (docs/design/event-time.md): on a watermark, every event-time timer
//! at or before it fires in order — including timers that firing timers register —
//! before the watermark goes downstream; results of an event-time timer carry its
//! time, those of a processing-time timer no timestamp.

use crate::checkpoint::{CheckpointedTimers, SnapshotError, StateInitializationContext, StateSnapshotContext};
use crate::functions::with_keyed_state_registry;
use crate::functions::{Collector, Context, KeyedContext, RuntimeContext};
use crate::output::Output;
use crate::processing_time::ProcessingTimeService;
use crate::side_output::SideOutputs;
use crate::timer::TimeDomain;
use brook_state::{KeyedSnapshotWriter, KeyedStateBackend, KeyedStateSnapshot, StateKey, TtlTimeProvider};
use brook_types::key_group::KeyGroupRange;
use brook_types::{Batch, CheckpointId, NO_TIMESTAMP, Timestamp, Watermark};
use std::sync::Arc;

/// TTL reads the task's processing-time clock.
struct TaskClock(ProcessingTimeService);

impl TtlTimeProvider for TaskClock {
    fn current_timestamp(&self) -> i64 {
        self.0.now()
    }
}

/// The timer-related state of a keyed operator, and its keyed state.
pub(crate) struct KeyedTimers<K> {
    pub runtime: RuntimeContext,
    pub side_outputs: SideOutputs,
    pub watermark: Watermark,
    pub timers: CheckpointedTimers<K>,
    pub keyed_state: KeyedStateBackend<K>,
}

impl<K: StateKey> KeyedTimers<K> {
    /// Creates the backend `runtime.state_backend` names; fails if it cannot be created
    /// (a RocksDB directory that cannot be written).
    pub fn new(runtime: RuntimeContext, side_outputs: SideOutputs) -> brook_types::Result<Self> {
        let timers = CheckpointedTimers::new(runtime.processing_time.clone());
        let range =
            KeyGroupRange::for_operator_index(runtime.max_parallelism, runtime.parallelism, runtime.subtask_index);
        let clock = Arc::new(TaskClock(runtime.processing_time.clone()));
        let keyed_state =
            runtime.state_backend.create_backend(&runtime.operator_name, runtime.max_parallelism, range, clock)?;
        Ok(Self { runtime, side_outputs, watermark: Watermark::MIN, timers, keyed_state })
    }

    /// Calls the function's `open`, during which it registers its keyed state.
    pub fn open(&mut self, open: impl FnOnce(&RuntimeContext)) {
        let runtime = &self.runtime;
        with_keyed_state_registry(self.keyed_state.registry_mut(), || open(runtime));
    }

    /// The operator's keyed state and its timers in the canonical snapshot format.
    pub fn full_snapshot(&self) -> brook_state::Result<KeyedStateSnapshot> {
        let mut writer =
            KeyedSnapshotWriter::new(self.keyed_state.max_parallelism(), self.keyed_state.key_group_range());
        self.keyed_state.write_snapshot(&mut writer)?;
        self.timers.write_snapshot(&mut writer)?;
        Ok(writer.finish())
    }

    /// Snapshots keyed state and timers for `ctx`'s checkpoint: incrementally for a
    /// RocksDB backend with incremental checkpoints (not for savepoints), else in full.
    pub fn snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        if self.runtime.state_backend.takes_incremental_checkpoints() && !ctx.is_savepoint() {
            #[cfg(feature = "rocksdb")]
            if let Some(rocksdb) = self.keyed_state.as_rocksdb_mut() {
                let snapshot = rocksdb.snapshot_incremental(ctx.checkpoint_id().0)?;
                ctx.set_incremental_keyed_state(super::keyed_incremental::to_runtime(snapshot, rocksdb));
                let mut writer =
                    KeyedSnapshotWriter::new(self.keyed_state.max_parallelism(), self.keyed_state.key_group_range());
                self.timers.write_snapshot(&mut writer)?;
                ctx.set_keyed_state(writer.finish());
                return Ok(());
            }
        }
        ctx.set_keyed_state(self.full_snapshot()?);
        Ok(())
    }

    /// Restores the keyed state and the timers of this subtask's key groups from
    /// the snapshots of the previous run's subtasks: incremental ones (RocksDB only)
    /// first, then canonical ones.
    pub fn initialize_state(&mut self, ctx: &StateInitializationContext) -> Result<(), SnapshotError> {
        let incremental = ctx.incremental_keyed_state();
        if !incremental.is_empty() {
            #[cfg(feature = "rocksdb")]
            if let Some(rocksdb) = self.keyed_state.as_rocksdb_mut() {
                super::keyed_incremental::restore(rocksdb, incremental)?;
                return self.restore_state(ctx.keyed_state());
            }
            return Err(SnapshotError::Failed(format!(
                "the checkpoint holds incremental RocksDB state of operator '{}', which the {} state backend \
                 cannot read; restore it with state.backend.type: rocksdb, or take a savepoint (canonical \
                 format, restorable by every backend) and restore from that",
                self.runtime.operator_name,
                self.keyed_state.kind_name()
            )));
        }
        self.restore_state(ctx.keyed_state())
    }

    /// Restores the keyed state and the timers of this subtask's key groups from
    /// canonical snapshots of the previous run's subtasks.
    pub fn restore_state<B: AsRef<[u8]>>(&mut self, snapshots: &[B]) -> Result<(), SnapshotError> {
        self.keyed_state.restore(snapshots)?;
        let range = self.keyed_state.key_group_range();
        self.timers.restore(snapshots, range)
    }

    /// Checkpoint `checkpoint` completed: an incremental backend reuses its files from now on.
    pub fn notify_checkpoint_complete(&mut self, checkpoint: CheckpointId) {
        #[cfg(feature = "rocksdb")]
        if let Some(rocksdb) = self.keyed_state.as_rocksdb_mut() {
            rocksdb.notify_checkpoint_complete(checkpoint.0);
        }
        let _ = checkpoint;
    }

    /// The context of one call for `key`.
    pub fn context<'a>(
        &'a mut self,
        key: &'a K,
        timestamp: Timestamp,
        time_domain: Option<TimeDomain>,
    ) -> KeyedContext<'a, K> {
        KeyedContext {
            inner: Context {
                timestamp,
                watermark: self.watermark,
                side_outputs: &mut self.side_outputs,
                runtime: &self.runtime,
            },
            key,
            timers: &mut self.timers,
            keyed_state: &mut self.keyed_state,
            time_domain,
        }
    }

    /// Runs `call` on every record of `batch` with the context of its key, then
    /// sends the results.
    pub fn process_batch<I, O>(
        &mut self,
        batch: Batch<I>,
        out: &mut dyn Output<O>,
        key_of: impl Fn(&I) -> K,
        mut call: impl FnMut(I, &mut KeyedContext<'_, K>, &mut Collector<O>),
    ) {
        self.keyed_state.on_records(batch.len());
        let mut collector = Collector::new();
        for r in batch {
            let key = key_of(&r.value);
            collector.timestamp = r.timestamp;
            let mut ctx = self.context(&key, r.timestamp, None);
            call(r.value, &mut ctx, &mut collector);
        }
        self.emit(collector, out);
    }

    /// Fires due event-time timers through `on_timer`, then forwards the watermark.
    pub fn advance_watermark<O>(
        &mut self,
        watermark: Watermark,
        out: &mut dyn Output<O>,
        mut on_timer: impl FnMut(Timestamp, &mut KeyedContext<'_, K>, &mut Collector<O>),
    ) {
        self.watermark = watermark;
        self.timers.advance_watermark(watermark.0);
        let mut collector = Collector::new();
        while let Some(timer) = self.timers.pop_event_time_timer() {
            collector.timestamp = timer.timestamp;
            let mut ctx = self.context(&timer.key, timer.timestamp, Some(TimeDomain::EventTime));
            on_timer(timer.timestamp, &mut ctx, &mut collector);
        }
        self.emit(collector, out);
        self.side_outputs.emit_watermark(watermark);
        out.emit_watermark(watermark);
    }

    /// Fires processing-time timers due at `now` through `on_timer`.
    pub fn advance_processing_time<O>(
        &mut self,
        now: Timestamp,
        out: &mut dyn Output<O>,
        mut on_timer: impl FnMut(Timestamp, &mut KeyedContext<'_, K>, &mut Collector<O>),
    ) {
        let mut collector = Collector::new();
        while let Some(timer) = self.timers.pop_processing_time_timer(now) {
            collector.timestamp = NO_TIMESTAMP;
            let mut ctx = self.context(&timer.key, NO_TIMESTAMP, Some(TimeDomain::ProcessingTime));
            on_timer(timer.timestamp, &mut ctx, &mut collector);
        }
        self.emit(collector, out);
        self.side_outputs.on_processing_time(now);
    }

    /// Sends what a batch or timer produced: side outputs first, then the main output.
    pub fn emit<O>(&mut self, collector: Collector<O>, out: &mut dyn Output<O>) {
        self.side_outputs.flush();
        if !collector.buffer.is_empty() {
            out.collect(collector.buffer);
        }
    }
}
