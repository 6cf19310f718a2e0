//! The JobMaster's side of savepoints: requests from `JobClient` (and REST), what
//! happens when one completes or fails, and the stop-with-savepoint messages to the
//! tasks. The decisions are the coordinator's (`CheckpointCoordinator::trigger_savepoint`);
//! the protocol is in docs/design/savepoints.md.

use super::{JobMaster, SavepointReply};
use crate::job_status::JobStatus;
use brook_checkpoint::coordinator::{SnapshotType, TaskRef};
use brook_types::{CheckpointBarrier, CheckpointId};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// What the JobMaster does once a savepoint completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AfterSavepoint {
    /// Nothing: the job keeps running.
    KeepRunning,
    /// Cancel the job (`cancel-job: true`).
    Cancel,
    /// The tasks finish on the savepoint's notification; answer once the job ended.
    Stop,
}

/// A savepoint someone waits for.
pub(super) struct SavepointRequest {
    pub reply: SavepointReply,
    pub after: AfterSavepoint,
}

impl JobMaster {
    /// A savepoint (`snapshot_type`) was requested: trigger it, or answer at once why not.
    pub(super) fn on_savepoint_request(
        &mut self,
        snapshot_type: SnapshotType,
        target_directory: Option<String>,
        after: AfterSavepoint,
        reply: SavepointReply,
    ) {
        let job_id = self.job.job_id;
        let status = self.handle.status();
        if status != JobStatus::Running {
            let _ = reply
                .send(Err(format!("job {job_id} is {}; savepoints are taken only while it is RUNNING", status.name())));
            return;
        }
        if !self.graph.all_running() {
            let _ = reply.send(Err(format!(
                "not every task of job {job_id} is RUNNING (tasks are still being deployed, or some finished); \
                 trigger the savepoint once every task runs"
            )));
            return;
        }
        if self.job.batch {
            let _ = reply.send(Err(format!(
                "job {job_id} runs in BATCH execution mode, which takes no savepoints; run it in STREAMING mode"
            )));
            return;
        }
        if let Some(cause) = &self.storage_unavailable {
            let _ = reply.send(Err(format!("the checkpoint storage of job {job_id} cannot be used: {cause}")));
            return;
        }
        let Some(coordinator) = self.coordinator.as_mut() else {
            let _ = reply.send(Err(format!("job {job_id} has no checkpoint coordinator")));
            return;
        };
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        match coordinator.trigger_savepoint(snapshot_type, target_directory, Instant::now(), wall) {
            Ok((id, actions)) => {
                self.savepoint_requests.insert(id, SavepointRequest { reply, after });
                self.perform(actions);
            }
            Err(cause) => {
                let _ = reply.send(Err(format!("cannot trigger a savepoint of job {job_id}: {cause}")));
            }
        }
    }

    /// Sends a savepoint's trigger: its location to every TaskManager first (so that
    /// every task uploads into the savepoint's directory); for a stop, `PrepareStop` to
    /// every task before the sources stop, so that no task finishes before it.
    pub(super) fn trigger_savepoint_at_sources(
        &mut self,
        trigger: &brook_checkpoint::coordinator::TriggerCheckpoint,
        barrier: CheckpointBarrier,
        sources: Vec<TaskRef>,
    ) {
        let job_id = self.job.job_id;
        for tm in self.resource_manager.gateways() {
            tm.register_savepoint_location(trigger.location.clone());
        }
        match trigger.snapshot_type {
            SnapshotType::StopWithSavepoint { drain } => {
                for task in self.all_tasks() {
                    if let Some(tm) = self.graph.location(task.vertex, task.subtask) {
                        self.tm(tm).prepare_stop(job_id, task, self.attempt);
                    }
                }
                for task in sources {
                    if let Some(tm) = self.graph.location(task.vertex, task.subtask) {
                        self.tm(tm).stop_with_savepoint(job_id, task, self.attempt, barrier, drain);
                    }
                }
            }
            _ => {
                for task in sources {
                    if let Some(tm) = self.graph.location(task.vertex, task.subtask) {
                        self.tm(tm).trigger_checkpoint(job_id, task, self.attempt, barrier);
                    }
                }
            }
        }
    }

    /// Savepoint `id` completed in `dir`.
    pub(super) fn on_savepoint_completed(&mut self, id: CheckpointId, dir: String) {
        let Some(request) = self.savepoint_requests.remove(&id) else { return };
        match request.after {
            AfterSavepoint::KeepRunning => {
                let _ = request.reply.send(Ok(dir));
            }
            AfterSavepoint::Cancel => {
                let _ = request.reply.send(Ok(dir));
                tracing::info!(job_id = %self.job.job_id, checkpoint_id = %id, "canceling the job after its savepoint");
                self.on_cancel();
            }
            // Answered when the job ended (`finish`): the tasks finish on the notification.
            AfterSavepoint::Stop => self.stop_reply = Some((request.reply, dir)),
        }
    }

    /// Savepoint `id` failed: the requester learns why; a stop is called off, so the
    /// sources emit again (after a drain, the tasks whose input ended keep waiting for
    /// the job's final checkpoint).
    pub(super) fn on_savepoint_failed(&mut self, id: CheckpointId, cause: String) {
        let Some(request) = self.savepoint_requests.remove(&id) else { return };
        let _ = request.reply.send(Err(cause));
        if request.after == AfterSavepoint::Stop && self.handle.status() == JobStatus::Running {
            let job_id = self.job.job_id;
            for task in self.all_tasks() {
                if let Some(tm) = self.graph.location(task.vertex, task.subtask) {
                    self.tm(tm).resume_after_failed_stop(job_id, task, self.attempt);
                }
            }
        }
    }

    /// Answers a stop-with-savepoint once the job ended.
    pub(super) fn answer_stop(&mut self, status: JobStatus) {
        let Some((reply, dir)) = self.stop_reply.take() else { return };
        let answer = if status == JobStatus::Finished {
            Ok(dir)
        } else {
            let cause = self.handle.failure_cause().map(|c| format!(": {c}")).unwrap_or_default();
            Err(format!(
                "savepoint {dir} completed, but the job ended {} instead of FINISHED{cause}; the savepoint can \
                 still be restored",
                status.name()
            ))
        };
        let _ = reply.send(answer);
    }

    fn all_tasks(&self) -> Vec<TaskRef> {
        self.job
            .vertices
            .iter()
            .flat_map(|v| (0..v.parallelism).map(|subtask| TaskRef { vertex: v.id, subtask }))
            .collect()
    }
}
