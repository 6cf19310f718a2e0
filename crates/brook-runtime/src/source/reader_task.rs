use super::{Boundedness, ReaderContext, ReaderStatus, Source, SourceReader, SourceSplit, assigned_subtask};
use crate::checkpoint::{OperatorSnapshotResult, SnapshotError, StateInitializationContext, TaskCheckpoints};
use crate::output::{Output, attribute_panic};
use crate::processing_time::ProcessingTimeService;
use crate::state::{ListStateDescriptor, OperatorStateBackend};
use crate::task::{InputStatus, TaskInput};
use crate::watermark::{SplitWatermarks, WatermarkSignal, WatermarkStrategy};
use brook_types::{
    BrookError, CheckpointBarrier, CheckpointId, OperatorId, Result, StreamRecord, Timestamp, Watermark,
};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Per-split watermark generation inside the source task (`env.from_source_with_watermarks`).
pub struct SourceWatermarks<T> {
    splits: SplitWatermarks<T>,
    processing_time: ProcessingTimeService,
    /// Periodic emission interval in ms; `None` in BATCH mode (only MAX at the end).
    interval: Option<i64>,
    next_emit: Timestamp,
}

impl<T: 'static> SourceWatermarks<T> {
    /// Watermarks from `strategy`, emitted every `interval` (no progressive
    /// watermarks when `progressive` is false: BATCH mode).
    pub fn new(
        strategy: WatermarkStrategy<T>,
        processing_time: ProcessingTimeService,
        interval: Duration,
        progressive: bool,
    ) -> Self {
        let clock_source = processing_time.clone();
        let strategy = if progressive {
            strategy
        } else {
            // Timestamps only.
            let mut plain = WatermarkStrategy::no_watermarks();
            if let Some(assign) = strategy.timestamp_assigner().cloned() {
                plain = plain.with_timestamp_assigner(move |v: &T, ts| assign(v, ts));
            }
            plain
        };
        let splits = SplitWatermarks::new(strategy, Arc::new(move || clock_source.now()));
        let interval = (progressive && !interval.is_zero())
            .then(|| i64::try_from(interval.as_millis()).unwrap_or(i64::MAX).max(1));
        let mut next_emit = Timestamp::MAX;
        if let Some(ms) = interval {
            next_emit = processing_time.now().saturating_add(ms);
            processing_time.register(next_emit);
        }
        Self { splits, processing_time, interval, next_emit }
    }
}

/// Name of the operator list state that holds a source subtask's unfinished splits.
pub const SPLITS_STATE: &str = "splits";

/// What a source records for the operator as a whole (its `coordinator_state`): the
/// split discovery, which every reader runs identically (docs/design/sources.md).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SplitDiscoveryState {
    /// A bounded source never discovers again after a restore: finished splits are
    /// simply absent from the restored state.
    pub bounded: bool,
    /// The ids of every split discovered so far; an unbounded source rediscovers on
    /// restore and adds only splits not among them.
    pub discovered: Vec<String>,
}

/// Drives a source task: reads batches from the reader and pushes them down the chain.
pub struct SourceTaskInput<T, S> {
    /// The source operator's name, for failures raised by the reader.
    name: String,
    operator_id: OperatorId,
    subtask_index: usize,
    reader: Box<dyn SourceReader<T, S>>,
    head: Box<dyn Output<T>>,
    buffer: Vec<StreamRecord<T>>,
    batch_size: usize,
    watermarks: Option<SourceWatermarks<T>>,
    discovery: SplitDiscoveryState,
    finished: bool,
    /// Stopped by a stop-with-savepoint without drain: reads nothing more, so that
    /// nothing follows the savepoint's barrier.
    suspended: bool,
}

impl<T: Send + 'static, S: SourceSplit> SourceTaskInput<T, S> {
    /// Creates the reader of subtask `ctx.subtask_index` and assigns its splits: the
    /// splits of the checkpoint it restores from, else the discovered splits that
    /// belong to it.
    pub fn new<Src: Source<T, Split = S>>(
        name: String,
        operator_id: OperatorId,
        source: &Src,
        ctx: ReaderContext,
        head: Box<dyn Output<T>>,
        mut watermarks: Option<SourceWatermarks<T>>,
        restore: Option<&StateInitializationContext>,
    ) -> Result<Self> {
        let bounded = source.boundedness() == Boundedness::Bounded;
        let restore = restore.filter(|r| r.has_state());
        let (mine, discovery) = match restore {
            Some(restore) => restore_splits(&name, source, &ctx, restore)?,
            None => {
                let mut enumerator = source.create_enumerator(ctx.parallelism)?;
                let splits = enumerator.discover_splits()?;
                let discovered = splits.iter().map(SourceSplit::split_id).collect();
                let mine = splits
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| assigned_subtask(*i, ctx.parallelism) == ctx.subtask_index)
                    .map(|(_, s)| s)
                    .collect();
                (mine, SplitDiscoveryState { bounded, discovered })
            }
        };
        if let Some(w) = watermarks.as_mut() {
            for split in &mine {
                w.splits.register_split(&split.split_id());
            }
        }
        let mut reader = source.create_reader(&ctx)?;
        reader.add_splits(mine);
        if bounded {
            reader.no_more_splits();
        }
        Ok(Self {
            name,
            operator_id,
            subtask_index: ctx.subtask_index,
            reader,
            head,
            buffer: Vec::with_capacity(ctx.batch_size),
            batch_size: ctx.batch_size,
            watermarks,
            discovery,
            finished: false,
            suspended: false,
        })
    }
}

/// The splits of a restored source subtask.
fn restore_splits<T, S: SourceSplit, Src: Source<T, Split = S>>(
    name: &str,
    source: &Src,
    ctx: &ReaderContext,
    restore: &StateInitializationContext,
) -> Result<(Vec<S>, SplitDiscoveryState)> {
    let failed = |reason: String| BrookError::StateRestore {
        operator: name.to_string(),
        checkpoint: restore.restored_checkpoint().0,
        reason,
    };
    let mut backend = OperatorStateBackend::new(name);
    if let Some(state) = restore.operator_state() {
        backend.restore(&state.bytes).map_err(|e| failed(e.to_string()))?;
    }
    let mut splits: Vec<S> = backend
        .get_list_state::<S>(&ListStateDescriptor::new(SPLITS_STATE))
        .map_err(|e| failed(e.to_string()))?
        .get()
        .to_vec();
    let mut discovery: SplitDiscoveryState = match restore.coordinator_state() {
        Some(bytes) => serde_json::from_slice(bytes)
            .map_err(|e| failed(format!("the split discovery state does not parse: {e}")))?,
        None => SplitDiscoveryState { bounded: source.boundedness() == Boundedness::Bounded, discovered: Vec::new() },
    };
    if !discovery.bounded {
        // Splits that appeared since the checkpoint, assigned as at a first start.
        let mut enumerator = source.create_enumerator(ctx.parallelism)?;
        let fresh: Vec<S> = enumerator
            .discover_splits()?
            .into_iter()
            .filter(|s| !discovery.discovered.contains(&s.split_id()))
            .collect();
        discovery.discovered.extend(fresh.iter().map(SourceSplit::split_id));
        splits.extend(
            fresh
                .into_iter()
                .enumerate()
                .filter(|(i, _)| assigned_subtask(*i, ctx.parallelism) == ctx.subtask_index)
                .map(|(_, s)| s),
        );
    }
    tracing::debug!(source = name, subtask = ctx.subtask_index, splits = splits.len(), "restored source splits");
    Ok((splits, discovery))
}

impl<T: Send + 'static, S: SourceSplit> SourceTaskInput<T, S> {
    fn send_signals(&mut self) {
        if let Some(w) = self.watermarks.as_mut() {
            for signal in w.splits.take_signals() {
                match signal {
                    WatermarkSignal::Watermark(wm) => self.head.emit_watermark(wm),
                    WatermarkSignal::Status(status) => self.head.emit_watermark_status(status),
                }
            }
        }
    }

    /// The reader's unfinished splits as split list state, and (subtask 0) the split
    /// discovery as the operator's coordinator state.
    fn snapshot_reader(&self) -> std::result::Result<OperatorSnapshotResult, SnapshotError> {
        let mut backend = OperatorStateBackend::new(&self.name);
        backend.get_list_state::<S>(&ListStateDescriptor::new(SPLITS_STATE))?.update(self.reader.snapshot_splits());
        let mut result = OperatorSnapshotResult { operator: Some(backend.snapshot()?), ..Default::default() };
        if self.subtask_index == 0 {
            result.coordinator =
                Some(serde_json::to_vec(&self.discovery).expect("split ids and a flag serialize to JSON"));
        }
        Ok(result)
    }
}

impl<T: Send + 'static, S: SourceSplit> TaskInput for SourceTaskInput<T, S> {
    fn on_processing_time(&mut self, now: Timestamp) {
        if let Some(w) = self.watermarks.as_mut()
            && let Some(interval) = w.interval
            && now >= w.next_emit
        {
            w.splits.on_periodic_emit();
            w.next_emit = now.saturating_add(interval);
            w.processing_time.register(w.next_emit);
            self.send_signals();
        }
        self.head.on_processing_time(now);
    }

    fn poll_process(&mut self, cx: &mut Context<'_>, checkpoints: &mut TaskCheckpoints) -> Poll<Result<InputStatus>> {
        if self.finished || self.suspended {
            // Only checkpoint triggers (through the mailbox) remain.
            return Poll::Pending;
        }
        let (reader, buffer) = (&mut self.reader, &mut self.buffer);
        match attribute_panic(&self.name, || reader.poll_next(cx, buffer)) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(status)) => {
                if !self.buffer.is_empty() {
                    let mut batch = std::mem::replace(&mut self.buffer, Vec::with_capacity(self.batch_size));
                    if let Some(w) = self.watermarks.as_mut() {
                        // The records of one poll come from one split (or from the
                        // subtask as a whole when the reader does not say).
                        let split = self.reader.last_split().unwrap_or_default();
                        let (name, splits) = (&self.name, &mut w.splits);
                        attribute_panic(name, || splits.on_batch(&split, &mut batch));
                    }
                    self.head.collect(batch);
                }
                if let Some(w) = self.watermarks.as_mut() {
                    for split in self.reader.take_finished_splits() {
                        w.splits.split_finished(&split);
                    }
                }
                // Watermarks follow the records that caused them.
                self.send_signals();
                if status == ReaderStatus::EndOfInput {
                    // A finished source ends event time, so every window fires.
                    self.head.emit_watermark(Watermark::MAX);
                    self.head.end_input();
                    self.finished = true;
                    checkpoints.mark_input_finished();
                    return Poll::Ready(Ok(InputStatus::Finished));
                }
                Poll::Ready(Ok(InputStatus::MoreAvailable))
            }
        }
    }

    /// Records the reader's position, then emits the barrier: the checkpoint holds
    /// exactly the records emitted before it.
    fn trigger_checkpoint(&mut self, barrier: CheckpointBarrier, checkpoints: &mut TaskCheckpoints) {
        let reader = self.snapshot_reader();
        let (id, name, head) = (self.operator_id, &self.name, &mut self.head);
        checkpoints.perform(barrier, |snapshot| {
            match reader {
                Ok(result) => snapshot.add(id, result),
                Err(e) => snapshot.fail(name, e),
            }
            head.visit_operators(snapshot);
        });
    }

    fn notify_checkpoint_complete(&mut self, checkpoint: CheckpointId, checkpoints: &mut TaskCheckpoints) {
        let head = &mut self.head;
        checkpoints.notify_complete(checkpoint, |visitor| head.visit_operators(visitor));
    }

    /// With `drain`, the source ends as if its input ended (MAX watermark, end of
    /// input: windows and timers fire, operators finish) before the barrier; the
    /// savepoint still holds the reader's positions. Without, it snapshots, emits the
    /// barrier and reads nothing more: the savepoint holds exactly what was emitted.
    fn stop_with_savepoint(&mut self, barrier: CheckpointBarrier, drain: bool, checkpoints: &mut TaskCheckpoints) {
        if drain && !self.finished {
            self.send_signals();
            self.head.emit_watermark(Watermark::MAX);
            self.head.end_input();
            self.finished = true;
            checkpoints.mark_input_finished();
        }
        self.trigger_checkpoint(barrier, checkpoints);
        self.suspended = true;
    }

    fn resume_after_failed_stop(&mut self) {
        self.suspended = false;
    }
}
