//! Savepoints and stop-with-savepoint: the coordinator's decisions that differ from
//! a periodic checkpoint's (see "Savepoints" in the module doc of `coordinator`).

use super::{
    CheckpointCoordinator, CoordinatorAction, NotifyCheckpointComplete, PendingCheckpoint, SnapshotType, Stage,
};
use crate::storage::CompletedCheckpoint;
use brook_types::CheckpointId;
use std::time::Instant;

impl CheckpointCoordinator {
    /// Triggers a savepoint (`snapshot_type` is [`SnapshotType::Savepoint`] or
    /// [`SnapshotType::StopWithSavepoint`]) into `target`, else into
    /// `execution.checkpointing.savepoint-dir`. It takes the next id and is triggered
    /// at once, beside any pending checkpoint. Refused (the `Err` says why and what to
    /// do) while the tasks are not all running, after the final checkpoint, or while a
    /// stop-with-savepoint is pending.
    pub fn trigger_savepoint(
        &mut self,
        snapshot_type: SnapshotType,
        target: Option<String>,
        now: Instant,
        wall_clock_ms: u64,
    ) -> Result<(CheckpointId, Vec<CoordinatorAction>), String> {
        if !snapshot_type.is_savepoint() {
            return Err("a savepoint request must ask for a savepoint".into());
        }
        if !self.running {
            return Err("not every task of the job is RUNNING (it is starting or restarting); trigger the savepoint \
                        again once the job runs"
                .into());
        }
        if self.final_completed {
            return Err("the job is finishing: its final checkpoint completed".into());
        }
        if let Some(stop) = self.stopping {
            return Err(format!("the job is stopping with savepoint {stop}; wait for it to complete or fail"));
        }
        let id = CheckpointId(self.next_id);
        self.next_id += 1;
        if snapshot_type.stops_job() {
            self.stopping = Some(id);
        }
        self.pending.insert(
            id,
            PendingCheckpoint {
                triggered_at: now,
                timestamp_ms: wall_clock_ms,
                snapshot_type,
                stage: Stage::Initializing,
            },
        );
        tracing::info!(job_id = %self.job_id, checkpoint_id = %id, ?snapshot_type, "triggering savepoint");
        Ok((id, vec![CoordinatorAction::InitSavepointLocation { checkpoint_id: id, target }]))
    }

    /// The savepoint in progress that stops the job, if any.
    pub fn stopping(&self) -> Option<CheckpointId> {
        self.stopping
    }

    /// Savepoint `id`'s `_metadata` was written: tell the tasks (two-phase-commit sinks
    /// commit), then the requester. A stop-with-savepoint is the job's final checkpoint.
    pub(super) fn savepoint_completed(
        &mut self,
        id: CheckpointId,
        snapshot_type: SnapshotType,
        final_checkpoint: bool,
        completed: CompletedCheckpoint,
        actions: &mut Vec<CoordinatorAction>,
    ) {
        tracing::info!(job_id = %self.job_id, checkpoint_id = %id, dir = %completed.pointer.dir, ?snapshot_type, "savepoint complete");
        if self.stopping == Some(id) {
            self.stopping = None;
        }
        if final_checkpoint {
            self.final_completed = true;
            self.abort_all_but(id, actions);
        }
        actions.push(CoordinatorAction::NotifyComplete {
            notification: NotifyCheckpointComplete { checkpoint_id: id, final_checkpoint },
            tasks: self.topology.tasks.clone(),
        });
        actions.push(CoordinatorAction::SavepointCompleted { checkpoint_id: id, dir: completed.pointer.dir });
    }

    /// Savepoint `id` failed: the requester learns why; nothing counts, and a stop that
    /// failed lets periodic checkpoints go on.
    pub(super) fn savepoint_failed(&mut self, id: CheckpointId, cause: String, actions: &mut Vec<CoordinatorAction>) {
        if self.stopping == Some(id) {
            self.stopping = None;
        }
        actions.push(CoordinatorAction::SavepointFailed { checkpoint_id: id, cause });
    }
}
