//! The interval join (Flink's `IntervalJoinOperator`).
//!
//! Records of two keyed inputs join when they have the same key and
//! `left.ts + lower <= right.ts <= left.ts + upper` (each bound optionally
//! exclusive). Both sides are buffered per key by timestamp; a new record joins
//! with the other side's buffer at once, so every pair is emitted exactly once, by
//! whichever of the two arrives second. A pair's result carries the larger of the
//! two timestamps.
//!
//! Late records (timestamp below the current watermark) are dropped, as in Flink.
//! Buffered records are removed by event-time timers once no future record of the
//! other side can match them: a left record at `t` after the watermark passes
//! `t + upper`, a right record at `t` after it passes `t - lower`.
//!
//! Checkpoints hold both buffers and the cleanup timers, by key group (states
//! `_join/left`, `_join/right`, `_join/timers`), so a job restores at any
//! parallelism.

use super::TwoInputOperator;
use crate::checkpoint::{SnapshotError, StateInitializationContext, StateSnapshotContext};
use crate::functions::{Collector, Context, RuntimeContext};
use crate::key_selector::KeySelector;
use crate::output::Output;
use crate::side_output::{OutputTag, SideOutputs};
use crate::timer::{InternalTimerService, TimeDomain};
use brook_state::{KeyedSnapshotReader, KeyedSnapshotWriter, StateKind};
use brook_types::key_group::KeyGroupRange;
use brook_types::{Batch, Data, NO_TIMESTAMP, Timestamp, Watermark};
use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;

/// What a join function sees of a matched pair.
pub struct JoinContext<'a> {
    pub(crate) left_timestamp: Timestamp,
    pub(crate) right_timestamp: Timestamp,
    pub(crate) inner: Context<'a>,
}

impl JoinContext<'_> {
    pub fn left_timestamp(&self) -> Timestamp {
        self.left_timestamp
    }

    pub fn right_timestamp(&self) -> Timestamp {
        self.right_timestamp
    }

    /// The result's timestamp: the larger of the two.
    pub fn timestamp(&self) -> Timestamp {
        self.left_timestamp.max(self.right_timestamp)
    }

    pub fn output<U: 'static>(&mut self, tag: &OutputTag<U>, value: U) {
        self.inner.output(tag, value);
    }

    pub fn runtime_context(&self) -> &RuntimeContext {
        self.inner.runtime
    }
}

/// Handles each joined pair (Flink's `ProcessJoinFunction`).
pub trait ProcessJoinFunction<L, R, O>: Clone + Send + Sync + 'static {
    fn open(&mut self, _ctx: &RuntimeContext) {}
    fn process_element(&mut self, left: L, right: R, ctx: &mut JoinContext<'_>, out: &mut Collector<O>);
}

impl<L, R, O, F> ProcessJoinFunction<L, R, O> for F
where
    F: FnMut(L, R, &mut JoinContext<'_>, &mut Collector<O>) + Clone + Send + Sync + 'static,
{
    fn process_element(&mut self, left: L, right: R, ctx: &mut JoinContext<'_>, out: &mut Collector<O>) {
        self(left, right, ctx, out)
    }
}

/// The join interval: `right.ts - left.ts` in `[lower, upper]`, bounds optionally exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinBounds {
    pub lower: i64,
    pub upper: i64,
    pub lower_inclusive: bool,
    pub upper_inclusive: bool,
}

impl JoinBounds {
    /// The inclusive interval actually used (exclusive bounds move by one ms, as in Flink).
    fn effective(self) -> (i64, i64) {
        let lower = if self.lower_inclusive { self.lower } else { self.lower.saturating_add(1) };
        let upper = if self.upper_inclusive { self.upper } else { self.upper.saturating_sub(1) };
        (lower, upper)
    }
}

/// Which input a buffered record came from (the timer namespace).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
enum Side {
    Left,
    Right,
}

type Buffer<T> = BTreeMap<Timestamp, Vec<T>>;

/// The operator.
pub struct IntervalJoinOperator<L, R, O, SL: KeySelector<L>, SR, P> {
    left_key: SL,
    right_key: SR,
    function: P,
    lower: i64,
    upper: i64,
    runtime: RuntimeContext,
    side_outputs: SideOutputs,
    watermark: Watermark,
    timers: InternalTimerService<SL::Key, Side>,
    left: HashMap<SL::Key, Buffer<L>>,
    right: HashMap<SL::Key, Buffer<R>>,
    _out: PhantomData<fn() -> O>,
}

impl<L, R, O, SL, SR, P> IntervalJoinOperator<L, R, O, SL, SR, P>
where
    L: Clone,
    R: Clone,
    SL: KeySelector<L>,
    SR: KeySelector<R, Key = SL::Key>,
    P: ProcessJoinFunction<L, R, O>,
{
    pub fn new(
        left_key: SL,
        right_key: SR,
        bounds: JoinBounds,
        mut function: P,
        runtime: RuntimeContext,
        side_outputs: SideOutputs,
    ) -> Self {
        function.open(&runtime);
        let (lower, upper) = bounds.effective();
        let timers = InternalTimerService::new(runtime.processing_time.clone());
        Self {
            left_key,
            right_key,
            function,
            lower,
            upper,
            runtime,
            side_outputs,
            watermark: Watermark::MIN,
            timers,
            left: HashMap::new(),
            right: HashMap::new(),
            _out: PhantomData,
        }
    }

    fn call(&mut self, left: L, lt: Timestamp, right: R, rt: Timestamp, out: &mut Collector<O>) {
        out.timestamp = lt.max(rt);
        let mut ctx = JoinContext {
            left_timestamp: lt,
            right_timestamp: rt,
            inner: Context {
                timestamp: out.timestamp,
                watermark: self.watermark,
                side_outputs: &mut self.side_outputs,
                runtime: &self.runtime,
            },
        };
        self.function.process_element(left, right, &mut ctx, out);
    }

    fn emit(&mut self, collector: Collector<O>, out: &mut dyn Output<O>) {
        self.side_outputs.flush();
        if !collector.buffer.is_empty() {
            out.collect(collector.buffer);
        }
    }
}

const LEFT: &str = "_join/left";
const RIGHT: &str = "_join/right";
const TIMERS: &str = "_join/timers";

impl<L, R, O, SL, SR, P> IntervalJoinOperator<L, R, O, SL, SR, P>
where
    L: Data,
    R: Data,
    SL: KeySelector<L>,
    SR: KeySelector<R, Key = SL::Key>,
    P: ProcessJoinFunction<L, R, O>,
{
    fn key_group_range(&self) -> KeyGroupRange {
        let r = &self.runtime;
        KeyGroupRange::for_operator_index(r.max_parallelism, r.parallelism, r.subtask_index)
    }

    fn snapshot_buffers(&self) -> Result<brook_state::KeyedStateSnapshot, SnapshotError> {
        let mut writer = KeyedSnapshotWriter::new(self.runtime.max_parallelism, self.key_group_range());
        let left = writer.begin_state(LEFT, StateKind::Internal)?;
        for (key, buffer) in &self.left {
            writer.entry(left, key, &(), buffer)?;
        }
        let right = writer.begin_state(RIGHT, StateKind::Internal)?;
        for (key, buffer) in &self.right {
            writer.entry(right, key, &(), buffer)?;
        }
        let timers = writer.begin_state(TIMERS, StateKind::Timers)?;
        for (key, side, time) in self.timers.timers(TimeDomain::EventTime) {
            writer.entry(timers, key, side, &time)?;
        }
        Ok(writer.finish())
    }

    fn restore_buffers<B: AsRef<[u8]>>(&mut self, snapshots: &[B]) -> Result<(), SnapshotError> {
        let range = self.key_group_range();
        let operator = self.runtime.operator_name.clone();
        let undecodable = |e: bincode::Error| {
            SnapshotError::Failed(format!(
                "interval join '{operator}': the checkpoint's buffers do not decode with this job's types \
                 (key {}): {e}; restore with the job that took the checkpoint",
                std::any::type_name::<SL::Key>()
            ))
        };
        for snapshot in snapshots {
            let reader = KeyedSnapshotReader::new(snapshot.as_ref())?;
            let (left, right, timers) = (reader.state(LEFT), reader.state(RIGHT), reader.state(TIMERS));
            for entry in reader.entries(range) {
                let entry = entry?;
                let key: SL::Key = entry.decode_key().map_err(undecodable)?;
                if Some(entry.state) == left {
                    let buffer: Buffer<L> = entry.decode_value().map_err(undecodable)?;
                    self.left.entry(key).or_default().extend(buffer);
                } else if Some(entry.state) == right {
                    let buffer: Buffer<R> = entry.decode_value().map_err(undecodable)?;
                    self.right.entry(key).or_default().extend(buffer);
                } else if Some(entry.state) == timers {
                    let side: Side = entry.decode_namespace().map_err(undecodable)?;
                    let time: Timestamp = entry.decode_value().map_err(undecodable)?;
                    self.timers.register_event_time_timer(&key, &side, time);
                }
            }
        }
        Ok(())
    }
}

impl<L, R, O, SL, SR, P> TwoInputOperator<L, R, O> for IntervalJoinOperator<L, R, O, SL, SR, P>
where
    L: Data,
    R: Data,
    O: Send,
    SL: KeySelector<L>,
    SR: KeySelector<R, Key = SL::Key>,
    P: ProcessJoinFunction<L, R, O>,
{
    fn process_batch1(&mut self, batch: Batch<L>, out: &mut dyn Output<O>) {
        let mut collector = Collector::new();
        for r in batch {
            let ts = r.timestamp;
            assert!(ts != NO_TIMESTAMP, "interval joins need event timestamps; assign them with a WatermarkStrategy");
            if ts < self.watermark.0 {
                continue; // late
            }
            let key = self.left_key.key(&r.value);
            let (from, to) = (ts.saturating_add(self.lower), ts.saturating_add(self.upper));
            let matches: Vec<(Timestamp, R)> = self
                .right
                .get(&key)
                .map(|buf| buf.range(from..=to).flat_map(|(t, vs)| vs.iter().map(|v| (*t, v.clone()))).collect())
                .unwrap_or_default();
            for (rt, right) in matches {
                self.call(r.value.clone(), ts, right, rt, &mut collector);
            }
            self.left.entry(key.clone()).or_default().entry(ts).or_default().push(r.value);
            let cleanup = if self.upper > 0 { ts.saturating_add(self.upper) } else { ts };
            self.timers.register_event_time_timer(&key, &Side::Left, cleanup);
        }
        self.emit(collector, out);
    }

    fn process_batch2(&mut self, batch: Batch<R>, out: &mut dyn Output<O>) {
        let mut collector = Collector::new();
        for r in batch {
            let ts = r.timestamp;
            assert!(ts != NO_TIMESTAMP, "interval joins need event timestamps; assign them with a WatermarkStrategy");
            if ts < self.watermark.0 {
                continue; // late
            }
            let key = self.right_key.key(&r.value);
            let (from, to) = (ts.saturating_sub(self.upper), ts.saturating_sub(self.lower));
            let matches: Vec<(Timestamp, L)> = self
                .left
                .get(&key)
                .map(|buf| buf.range(from..=to).flat_map(|(t, vs)| vs.iter().map(|v| (*t, v.clone()))).collect())
                .unwrap_or_default();
            for (lt, left) in matches {
                self.call(left, lt, r.value.clone(), ts, &mut collector);
            }
            self.right.entry(key.clone()).or_default().entry(ts).or_default().push(r.value);
            let cleanup = if self.lower < 0 { ts.saturating_sub(self.lower) } else { ts };
            self.timers.register_event_time_timer(&key, &Side::Right, cleanup);
        }
        self.emit(collector, out);
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output<O>) {
        self.watermark = watermark;
        self.timers.advance_watermark(watermark.0);
        while let Some(timer) = self.timers.pop_event_time_timer() {
            // Drop what no future record of the other side can match any more.
            match timer.namespace {
                Side::Left => {
                    let keep_from = timer.timestamp.saturating_sub(if self.upper > 0 { self.upper } else { 0 });
                    if let Some(buf) = self.left.get_mut(&timer.key) {
                        *buf = buf.split_off(&keep_from.saturating_add(1));
                        if buf.is_empty() {
                            self.left.remove(&timer.key);
                        }
                    }
                }
                Side::Right => {
                    let keep_from = timer.timestamp.saturating_add(if self.lower < 0 { self.lower } else { 0 });
                    if let Some(buf) = self.right.get_mut(&timer.key) {
                        *buf = buf.split_off(&keep_from.saturating_add(1));
                        if buf.is_empty() {
                            self.right.remove(&timer.key);
                        }
                    }
                }
            }
        }
        self.side_outputs.emit_watermark(watermark);
        out.emit_watermark(watermark);
    }

    fn finish(&mut self, _out: &mut dyn Output<O>) {
        self.side_outputs.end_input();
    }

    fn snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        ctx.set_keyed_state(self.snapshot_buffers()?);
        Ok(())
    }

    fn initialize_state(&mut self, ctx: &StateInitializationContext) -> Result<(), SnapshotError> {
        self.restore_buffers(ctx.keyed_state())
    }

    fn side_outputs_mut(&mut self) -> Option<&mut SideOutputs> {
        Some(&mut self.side_outputs)
    }
}
