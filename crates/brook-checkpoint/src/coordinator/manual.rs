//! Checkpoints triggered on request (`POST /jobs/:jobid/checkpoints`, Flink's
//! `CheckpointTriggerHeaders`) rather than by the interval.

use super::{CheckpointCoordinator, CoordinatorAction, PendingCheckpoint, SnapshotType, Stage};
use brook_types::CheckpointId;
use std::time::Instant;

impl CheckpointCoordinator {
    /// Triggers a checkpoint now, whether or not periodic checkpointing is on; it
    /// takes the next id and goes through the same stages, storage and failure
    /// accounting as a periodic one, and becomes the latest completed checkpoint the
    /// job recovers from. Refused (the `Err` says why and what to do) while the tasks
    /// are not all running, after the final checkpoint, while a stop-with-savepoint is
    /// pending, or when `execution.checkpointing.max-concurrent-checkpoints` are pending.
    pub fn trigger_checkpoint(
        &mut self,
        now: Instant,
        wall_clock_ms: u64,
    ) -> Result<(CheckpointId, Vec<CoordinatorAction>), String> {
        if !self.running {
            return Err("not every task of the job is RUNNING (it is starting or restarting); trigger the \
                        checkpoint again once the job runs"
                .into());
        }
        if self.final_completed {
            return Err("the job is finishing: its final checkpoint completed".into());
        }
        if let Some(stop) = self.stopping {
            return Err(format!("the job is stopping with savepoint {stop}; wait for it to complete or fail"));
        }
        let in_flight = self.pending.values().filter(|p| !p.snapshot_type.is_savepoint()).count();
        if in_flight >= self.config.max_concurrent {
            return Err(format!(
                "{in_flight} checkpoint(s) are in progress, the most execution.checkpointing.max-concurrent-checkpoints \
                 allows; trigger again when one completed"
            ));
        }
        let id = CheckpointId(self.next_id);
        self.next_id += 1;
        self.pending.insert(
            id,
            PendingCheckpoint {
                triggered_at: now,
                timestamp_ms: wall_clock_ms,
                snapshot_type: SnapshotType::Checkpoint,
                stage: Stage::Initializing,
            },
        );
        tracing::info!(job_id = %self.job_id, checkpoint_id = %id, "triggering checkpoint on request");
        Ok((id, vec![CoordinatorAction::InitLocation { checkpoint_id: id }]))
    }

    /// Whether checkpoint `id` is still in progress.
    pub fn is_pending(&self, id: CheckpointId) -> bool {
        self.pending.contains_key(&id)
    }
}
