//! Taking one task's part of a checkpoint: snapshot every operator of the chain,
//! put the barrier into every record writer, report to the TaskManager.

use super::{
    BarrierAligner, CheckpointDecline, OperatorSnapshotResult, SnapshotError, StateSnapshotContext,
    TaskCheckpointSettings, TaskSnapshot,
};
use crate::output::attribute_panic;
use crate::writer::PendingSends;
use brook_types::{CheckpointBarrier, CheckpointId, OperatorId};
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
}

impl TaskCheckpoints {
    pub fn new(
        task_name: String,
        settings: TaskCheckpointSettings,
        writers: Vec<Arc<dyn PendingSends>>,
        operators: Vec<(OperatorId, String)>,
    ) -> Self {
        Self { task_name, settings, writers, operators, input_finished: false, snapshot_after_finish: false }
    }

    /// Checkpointing off, for tests of task inputs.
    pub fn disabled(task_name: &str) -> Self {
        Self::new(task_name.to_string(), TaskCheckpointSettings::default(), Vec::new(), Vec::new())
    }

    pub fn settings(&self) -> &TaskCheckpointSettings {
        &self.settings
    }

    /// An aligner for `num_channels` input channels in the configured mode.
    pub fn aligner(&self, num_channels: usize) -> BarrierAligner {
        BarrierAligner::new(num_channels, self.settings.exactly_once)
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

    /// Takes this task's snapshot of `barrier`: `visit` runs every operator of the
    /// chain through the [`ChainSnapshot`] (synchronously, so no record passes in
    /// between); then the barrier goes into every record writer, behind everything
    /// the chain emitted before; then the snapshot (or a decline) goes to the
    /// TaskManager. The barrier is forwarded even when the snapshot failed, so that
    /// downstream alignment never waits for it.
    pub fn perform(&mut self, barrier: CheckpointBarrier, visit: impl FnOnce(&mut ChainSnapshot)) {
        let mut snapshot = ChainSnapshot::new(barrier);
        visit(&mut snapshot);
        for writer in &self.writers {
            writer.emit_barrier(barrier);
        }
        let id = barrier.id;
        if let Some((operator, error)) = snapshot.error {
            let permanent = matches!(error, SnapshotError::NotSupported);
            let reason = format!(
                "operator '{operator}' in task '{}' could not snapshot its state for checkpoint {id}: {error}",
                self.task_name
            );
            tracing::warn!(task = %self.task_name, checkpoint_id = %id, %reason, "declining checkpoint");
            self.settings.responder.decline(CheckpointDecline { checkpoint_id: id, reason, permanent });
            return;
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
            return;
        }
        if self.input_finished {
            self.snapshot_after_finish = true;
        }
        tracing::debug!(task = %self.task_name, checkpoint_id = %id, finished = self.input_finished, "snapshot taken");
        self.settings.responder.acknowledge(TaskSnapshot {
            barrier,
            operators: snapshot.operators,
            finished: self.input_finished,
        });
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
