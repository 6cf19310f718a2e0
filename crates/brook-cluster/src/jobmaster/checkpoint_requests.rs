//! Checkpoints triggered on request (`JobControl::TriggerCheckpoint`, REST's
//! `POST /jobs/:jobid/checkpoints`): the JobMaster asks the coordinator for one and
//! answers the requester when it completed (its id) or was aborted.

use super::{CheckpointReply, JobMaster};
use crate::job_status::JobStatus;
use brook_types::CheckpointId;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

impl JobMaster {
    /// A checkpoint was requested: trigger it, or answer at once why not.
    pub(super) fn on_checkpoint_request(&mut self, reply: CheckpointReply) {
        let job_id = self.job.job_id;
        let status = self.handle.status();
        if status != JobStatus::Running {
            let _ = reply.send(Err(format!(
                "job {job_id} is {}; checkpoints are taken only while it is RUNNING",
                status.name()
            )));
            return;
        }
        if self.job.batch {
            let _ = reply.send(Err(format!(
                "job {job_id} runs in BATCH execution mode, which takes no checkpoints; run it in STREAMING mode"
            )));
            return;
        }
        if let Some(cause) = &self.storage_unavailable {
            let _ = reply.send(Err(format!("the checkpoint storage of job {job_id} cannot be used: {cause}")));
            return;
        }
        if !self.graph.all_running() {
            let _ = reply.send(Err(format!(
                "not every task of job {job_id} is RUNNING (tasks are still being deployed, or some finished); \
                 trigger the checkpoint once every task runs"
            )));
            return;
        }
        let Some(coordinator) = self.coordinator.as_mut() else {
            let _ = reply.send(Err(format!("job {job_id} has no checkpoint coordinator")));
            return;
        };
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        match coordinator.trigger_checkpoint(Instant::now(), wall) {
            Ok((id, actions)) => {
                self.checkpoint_requests.insert(id, reply);
                self.perform(actions);
            }
            Err(cause) => {
                let _ = reply.send(Err(format!("cannot trigger a checkpoint of job {job_id}: {cause}")));
            }
        }
    }

    /// After the coordinator acted: answers the requests whose checkpoint completed
    /// (`completed` holds the ids just notified as complete) or is no longer pending.
    pub(super) fn answer_checkpoint_requests(&mut self, completed: &[CheckpointId]) {
        if self.checkpoint_requests.is_empty() {
            return;
        }
        let ended: Vec<CheckpointId> = self
            .checkpoint_requests
            .keys()
            .copied()
            .filter(|id| completed.contains(id) || !self.coordinator.as_ref().is_some_and(|c| c.is_pending(*id)))
            .collect();
        for id in ended {
            let Some(reply) = self.checkpoint_requests.remove(&id) else { continue };
            let answer = if completed.contains(&id) {
                Ok(id)
            } else {
                Err(format!(
                    "checkpoint {id} of job {} was aborted before it completed (a task declined it, it expired, or \
                     the job failed; the JobManager's log says why)",
                    self.job.job_id
                ))
            };
            let _ = reply.send(answer);
        }
    }
}
