//! Taking one task's part of a checkpoint: snapshot every operator of the chain,
//! put the barrier into every record writer, report to the TaskManager.

use super::alignment::is_unaligned;
use super::channel_state::{ChannelData, ChannelStateSnapshot, ElementCodec, is_channel_data};
use super::{
    BarrierAligner, CheckpointDecline, OperatorSnapshotResult, SnapshotError, StateSnapshotContext,
    TaskCheckpointSettings, TaskSnapshot,
};
use crate::output::attribute_panic;
use crate::writer::PendingSends;
use brook_types::{CheckpointBarrier, CheckpointId, OperatorId, StreamElement};
use std::sync::Arc;

/// The checkpoint hooks of one operator, object-safe (the operator traits are generic).
pub trait CheckpointHooks {
    fn snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError>;
    fn notify_checkpoint_complete(&mut self, checkpoint: CheckpointId) -> Result<(), SnapshotError>;
}

/// Something that visits every operator of a chain, in chain order
/// ([`Output::visit_operators`](crate::output::Output::visit_operators)).
pub trait ChainVisitor {
    fn visit(&mut self, operator: OperatorId, name: &str, hooks: &mut dyn CheckpointHooks);
}

/// Collects the snapshots of a chain's operators for one barrier.
pub struct ChainSnapshot {
    barrier: CheckpointBarrier,
    operators: Vec<(OperatorId, OperatorSnapshotResult)>,
    /// The first operator that failed, and why.
    error: Option<(String, SnapshotError)>,
}

impl ChainSnapshot {
    pub fn new(barrier: CheckpointBarrier) -> Self {
        Self { barrier, operators: Vec::new(), error: None }
    }

    pub fn barrier(&self) -> CheckpointBarrier {
        self.barrier
    }

    /// Adds a snapshot taken outside an operator's hooks (a source reader's splits).
    pub fn add(&mut self, operator: OperatorId, result: OperatorSnapshotResult) {
        self.operators.push((operator, result));
    }

    /// Records a failure of `operator` (named in the decline).
    pub fn fail(&mut self, operator: &str, error: SnapshotError) {
        self.error.get_or_insert((operator.to_string(), error));
    }
}

impl ChainVisitor for ChainSnapshot {
    fn visit(&mut self, operator: OperatorId, name: &str, hooks: &mut dyn CheckpointHooks) {
        let mut ctx = StateSnapshotContext::new(self.barrier.id, self.barrier.timestamp)
            .with_savepoint(self.barrier.is_savepoint);
        match attribute_panic(name, || hooks.snapshot_state(&mut ctx)) {
            Ok(()) => self.operators.push((operator, ctx.into_result())),
            Err(e) => self.fail(name, e),
        }
    }
}

/// Tells every operator that a checkpoint completed.
struct NotifyComplete {
    checkpoint: CheckpointId,
}

impl ChainVisitor for NotifyComplete {
    fn visit(&mut self, _operator: OperatorId, name: &str, hooks: &mut dyn CheckpointHooks) {
        if let Err(e) = attribute_panic(name, || hooks.notify_checkpoint_complete(self.checkpoint)) {
            // A sink that cannot commit must not go on as if it had.
            crate::output::fail_operator(format!(
                "operator '{name}' failed to commit checkpoint {}: {e}",
                self.checkpoint
            ));
        }
    }
}

/// One task's side of the checkpoint protocol, owned by its mailbox loop and lent to
/// its input on every step.
pub struct TaskCheckpoints {
    task_name: String,
    settings: TaskCheckpointSettings,
    writers: Vec<Arc<dyn PendingSends>>,
    /// Every operator of the chain; each must appear in every snapshot.
    operators: Vec<(OperatorId, String)>,
    input_finished: bool,
    /// The task took part in a checkpoint after its input ended: once one completes
    /// as the job's final checkpoint, the task may finish.
    snapshot_after_finish: bool,
    /// A stop-with-savepoint is in progress: the task waits for it before finishing
    /// and fires no processing-time timers (nothing may follow the savepoint).
    stopping: bool,
    /// The number of channels of each input gate (set when the input makes its aligner).
    input_channels: Vec<usize>,
    /// The unaligned checkpoint whose input channel state is being recorded.
    unaligned: Option<UnalignedInProgress>,
}

/// What is recorded of one input channel during an unaligned checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Recording {
    Off,
    /// Every data element until the channel delivers the barrier.
    UntilBarrier,
    /// The barrier was delivered ahead of this many data elements it overtook in the
    /// gate; they arrived before it.
    Remaining(usize),
}

/// An unaligned checkpoint between the task's snapshot (first barrier) and the last
/// barrier: the operator snapshots wait here while the input channels are recorded.
struct UnalignedInProgress {
    barrier: CheckpointBarrier,
    operators: Vec<(OperatorId, OperatorSnapshotResult)>,
    finished: bool,
    outputs: Vec<ChannelData>,
    output_channels: Vec<u32>,
    /// Recorded elements per input channel (all gates, numbered one after the other).
    inputs: Vec<Vec<Vec<u8>>>,
    recording: Vec<Recording>,
    /// Every input channel delivered the barrier (or ended); complete once no channel
    /// is recording any more.
    all_delivered: bool,
    /// The first element that could not be encoded; the checkpoint is declined.
    error: Option<String>,
}

impl TaskCheckpoints {
    pub fn new(
        task_name: String,
        settings: TaskCheckpointSettings,
        writers: Vec<Arc<dyn PendingSends>>,
        operators: Vec<(OperatorId, String)>,
    ) -> Self {
        Self {
            task_name,
            settings,
            writers,
            operators,
            input_finished: false,
            snapshot_after_finish: false,
            stopping: false,
            input_channels: Vec::new(),
            unaligned: None,
        }
    }

    /// Checkpointing off, for tests of task inputs.
    pub fn disabled(task_name: &str) -> Self {
        Self::new(task_name.to_string(), TaskCheckpointSettings::default(), Vec::new(), Vec::new())
    }

    pub fn settings(&self) -> &TaskCheckpointSettings {
        &self.settings
    }

    /// An aligner for input gates of `gate_channels` channels each, in the configured mode.
    pub fn aligner(&mut self, gate_channels: &[usize]) -> BarrierAligner {
        self.input_channels = gate_channels.to_vec();
        let timeout =
            self.settings.aligned_checkpoint_timeout.map(|t| i64::try_from(t.as_millis()).unwrap_or(i64::MAX));
        BarrierAligner::new(gate_channels.iter().sum(), self.settings.exactly_once).with_aligned_timeout(timeout)
    }

    pub(crate) fn mark_input_finished(&mut self) {
        self.input_finished = true;
    }

    pub fn input_finished(&self) -> bool {
        self.input_finished
    }

    pub(crate) fn snapshot_after_finish(&self) -> bool {
        self.snapshot_after_finish
    }

    /// A stop-with-savepoint begins (`true`) or failed (`false`).
    pub(crate) fn set_stopping(&mut self, stopping: bool) {
        self.stopping = stopping;
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stopping
    }

    /// Whether a task whose input ended waits for the job's final checkpoint (or the
    /// stop-with-savepoint) before it finishes.
    pub(crate) fn waits_for_final_checkpoint(&self) -> bool {
        self.settings.wait_for_final_checkpoint || self.stopping
    }

    /// Takes this task's snapshot of `barrier`: `visit` runs every operator of the
    /// chain through the [`ChainSnapshot`] (synchronously, so no record passes in
    /// between); then the barrier goes into every record writer, behind everything
    /// the chain emitted before; then the snapshot (or a decline) goes to the
    /// TaskManager. The barrier is forwarded even when the snapshot failed, so that
    /// downstream alignment never waits for it.
    ///
    /// An unaligned barrier (a source's trigger) takes
    /// [`perform_unaligned`](Self::perform_unaligned) with no channel to record.
    pub fn perform(&mut self, barrier: CheckpointBarrier, visit: impl FnOnce(&mut ChainSnapshot)) {
        if is_unaligned(&barrier) {
            self.perform_unaligned(barrier, &[], visit);
            self.complete_unaligned(barrier.id);
            return;
        }
        let mut snapshot = ChainSnapshot::new(barrier);
        visit(&mut snapshot);
        for writer in &self.writers {
            writer.emit_barrier(barrier);
        }
        if let Some(operators) = self.verdict(snapshot) {
            tracing::debug!(task = %self.task_name, checkpoint_id = %barrier.id, finished = self.input_finished, "snapshot taken");
            self.settings.responder.acknowledge(TaskSnapshot {
                barrier,
                operators,
                finished: self.input_finished,
                channel_state: None,
            });
        }
    }

    /// The first barrier of unaligned checkpoint n: snapshots every operator of the
    /// chain, puts the barrier into every record writer *ahead* of the data queued there
    /// (that data becomes the output channel state), and records the input channels in
    /// `record` until each delivers its barrier ([`stop_recording`](Self::stop_recording));
    /// [`complete_unaligned`](Self::complete_unaligned) then acknowledges.
    pub fn perform_unaligned(
        &mut self,
        barrier: CheckpointBarrier,
        record: &[usize],
        visit: impl FnOnce(&mut ChainSnapshot),
    ) {
        if let Some(old) = self.unaligned.take() {
            self.decline(
                old.barrier.id,
                format!("task '{}' started checkpoint {} before it completed", self.task_name, barrier.id),
            );
        }
        let mut snapshot = ChainSnapshot::new(barrier);
        visit(&mut snapshot);
        let mut outputs = Vec::new();
        let mut output_channels = Vec::with_capacity(self.writers.len());
        let mut error = None;
        for (w, writer) in self.writers.iter().enumerate() {
            output_channels.push(writer.num_channels() as u32);
            match writer.emit_unaligned_barrier(barrier) {
                Ok(channels) => outputs.extend(
                    channels
                        .into_iter()
                        .enumerate()
                        .filter(|(_, elements)| !elements.is_empty())
                        .map(|(c, elements)| ChannelData { gate: w as u32, channel: c as u32, elements }),
                ),
                Err(e) => {
                    // Downstream must still see the barrier.
                    writer.emit_barrier(barrier);
                    error.get_or_insert(e);
                }
            }
        }
        let Some(operators) = self.verdict(snapshot) else { return };
        if self.input_finished {
            self.snapshot_after_finish = true;
        }
        let n: usize = self.input_channels.iter().sum();
        let mut recording = vec![Recording::Off; n];
        for &c in record {
            recording[c] = Recording::UntilBarrier;
        }
        tracing::debug!(task = %self.task_name, checkpoint_id = %barrier.id, recording = record.len(), "unaligned snapshot taken");
        self.unaligned = Some(UnalignedInProgress {
            barrier,
            operators,
            finished: self.input_finished,
            outputs,
            output_channels,
            inputs: vec![Vec::new(); n],
            recording,
            all_delivered: false,
            error,
        });
    }

    /// Whether data arriving on input channel `channel` belongs to the channel state.
    #[inline]
    pub fn is_recording(&self, channel: usize) -> bool {
        self.unaligned.as_ref().is_some_and(|u| u.recording[channel] != Recording::Off)
    }

    /// Records `element`, which arrived on `channel` before its barrier (call only while
    /// [`is_recording`](Self::is_recording), before the element is processed).
    pub fn record_input<T>(&mut self, channel: usize, element: &StreamElement<T>, codec: Option<ElementCodec<T>>) {
        let Some(u) = self.unaligned.as_mut() else { return };
        if u.recording[channel] == Recording::Off || !is_channel_data(element) {
            return;
        }
        if let Recording::Remaining(n) = &mut u.recording[channel] {
            *n -= 1;
            if *n == 0 {
                u.recording[channel] = Recording::Off;
            }
        }
        let encoded = match codec {
            Some(codec) => {
                (codec.encode)(element).map_err(|e| format!("an input {} does not encode: {e}", element.kind()))
            }
            None => Err("this task input cannot encode its records for an unaligned checkpoint".to_string()),
        };
        match encoded {
            Ok(bytes) => u.inputs[channel].push(bytes),
            Err(e) => {
                u.error.get_or_insert(e);
            }
        }
        if u.all_delivered && u.recording[channel] == Recording::Off {
            let id = u.barrier.id;
            self.complete_unaligned(id);
        }
    }

    /// `channel` delivered the barrier of the unaligned checkpoint ahead of `overtaken`
    /// data elements that arrived before it (priority delivery), or ended (0): record
    /// those, then stop.
    pub fn stop_recording(&mut self, channel: usize, overtaken: usize) {
        if let Some(u) = self.unaligned.as_mut() {
            u.recording[channel] = if overtaken > 0 { Recording::Remaining(overtaken) } else { Recording::Off };
        }
    }

    /// Every input channel delivered the barrier of unaligned checkpoint `id`:
    /// acknowledges with the operator snapshots and the channel state, at once or once
    /// the data the barriers overtook has been recorded.
    pub fn complete_unaligned(&mut self, id: CheckpointId) {
        let Some(u) = self.unaligned.as_mut().filter(|u| u.barrier.id == id) else { return };
        u.all_delivered = true;
        if u.recording.iter().any(|r| *r != Recording::Off) {
            return;
        }
        let u = self.unaligned.take().expect("checked above");
        if let Some(error) = u.error {
            let reason =
                format!("task '{}' could not record its channel state for checkpoint {id}: {error}", self.task_name);
            tracing::warn!(task = %self.task_name, checkpoint_id = %id, %reason, "declining checkpoint");
            self.settings.responder.decline(CheckpointDecline { checkpoint_id: id, reason, permanent: false });
            return;
        }
        let (mut gate, mut first) = (0usize, 0usize);
        let mut inputs = Vec::new();
        for (c, elements) in u.inputs.into_iter().enumerate() {
            while gate + 1 < self.input_channels.len() && c >= first + self.input_channels[gate] {
                first += self.input_channels[gate];
                gate += 1;
            }
            if !elements.is_empty() {
                inputs.push(ChannelData { gate: gate as u32, channel: (c - first) as u32, elements });
            }
        }
        let state = ChannelStateSnapshot {
            input_channels: self.input_channels.iter().map(|&n| n as u32).collect(),
            output_channels: u.output_channels,
            inputs,
            outputs: u.outputs,
        };
        let (in_count, out_count) = state.element_counts();
        tracing::debug!(task = %self.task_name, checkpoint_id = %id, input_elements = in_count, output_elements = out_count, "channel state complete");
        self.settings.responder.acknowledge(TaskSnapshot {
            barrier: u.barrier,
            operators: u.operators,
            finished: u.finished,
            channel_state: (!state.is_empty()).then_some(state),
        });
    }

    /// A newer barrier came before unaligned checkpoint `id` completed here.
    pub fn abandon_unaligned(&mut self, id: CheckpointId) {
        if self.unaligned.take_if(|u| u.barrier.id == id).is_some() {
            self.decline(
                id,
                format!("task '{}' received a newer barrier before checkpoint {id} completed", self.task_name),
            );
        }
    }

    /// The operator snapshots, or `None` after declining (an operator failed or was
    /// not reached).
    fn verdict(&mut self, snapshot: ChainSnapshot) -> Option<Vec<(OperatorId, OperatorSnapshotResult)>> {
        let id = snapshot.barrier.id;
        if let Some((operator, error)) = snapshot.error {
            let permanent = matches!(error, SnapshotError::NotSupported);
            let reason = format!(
                "operator '{operator}' in task '{}' could not snapshot its state for checkpoint {id}: {error}",
                self.task_name
            );
            tracing::warn!(task = %self.task_name, checkpoint_id = %id, %reason, "declining checkpoint");
            self.settings.responder.decline(CheckpointDecline { checkpoint_id: id, reason, permanent });
            return None;
        }
        if let Some((_, missing)) =
            self.operators.iter().find(|(op, _)| !snapshot.operators.iter().any(|(seen, _)| seen == op))
        {
            let reason = format!(
                "operator '{missing}' in task '{}' was not reached by checkpoint {id}: it is chained behind the \
                 side output of an operator that does not pass checkpoints on to its side outputs; break the chain \
                 before it (disable_chaining) to checkpoint it",
                self.task_name
            );
            self.settings.responder.decline(CheckpointDecline { checkpoint_id: id, reason, permanent: true });
            return None;
        }
        if self.input_finished {
            self.snapshot_after_finish = true;
        }
        Some(snapshot.operators)
    }

    /// Runs every operator's `notify_checkpoint_complete` through `visit`.
    pub fn notify_complete(&mut self, checkpoint: CheckpointId, visit: impl FnOnce(&mut dyn ChainVisitor)) {
        visit(&mut NotifyComplete { checkpoint });
    }

    /// A source that cannot take part (not running any more) declines.
    pub fn decline(&self, checkpoint: CheckpointId, reason: String) {
        self.settings.responder.decline(CheckpointDecline { checkpoint_id: checkpoint, reason, permanent: false });
    }
}
