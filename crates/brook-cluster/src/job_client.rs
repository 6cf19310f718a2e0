//! `JobClient`: follow, cancel and wait for a submitted job.

use crate::dispatcher::JobEntry;
use crate::job_status::JobStatus;
use crate::jobmaster::{JobControl, JobSnapshot};
use brook_types::{BrookError, JobId, Result};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The result of a finished job (Flink's `JobExecutionResult`).
#[derive(Clone, Debug)]
pub struct JobExecutionResult {
    pub job_id: JobId,
    pub job_name: String,
    /// Wall time from submission to the end.
    pub net_runtime: Duration,
    /// User accumulators by name.
    pub accumulators: BTreeMap<String, i64>,
    /// Per operator name: (numRecordsIn, numRecordsOut) over all subtasks.
    pub operator_records: BTreeMap<String, (u64, u64)>,
}

impl JobExecutionResult {
    pub fn accumulator(&self, name: &str) -> Option<i64> {
        self.accumulators.get(name).copied()
    }
}

/// A handle on a submitted job.
#[derive(Clone)]
pub struct JobClient {
    entry: Arc<JobEntry>,
    /// Keeps the cluster the job runs on alive as long as the client exists.
    _cluster: Arc<dyn std::any::Any + Send + Sync>,
}

impl JobClient {
    pub(crate) fn new(entry: Arc<JobEntry>, cluster: Arc<dyn std::any::Any + Send + Sync>) -> Self {
        Self { entry, _cluster: cluster }
    }

    pub fn job_id(&self) -> JobId {
        self.entry.handle.job_id
    }

    pub fn status(&self) -> JobStatus {
        self.entry.handle.status()
    }

    /// The job and every subtask's state, now.
    pub fn snapshot(&self) -> JobSnapshot {
        self.entry.handle.snapshot()
    }

    /// Asks the job to cancel; returns at once.
    pub fn cancel(&self) {
        let _ = self.entry.control.send(JobControl::Cancel);
    }

    /// Triggers a savepoint into `target_directory` (else
    /// `execution.checkpointing.savepoint-dir`); the job keeps running unless
    /// `cancel_job`. The request is sent at once; the future resolves to the
    /// savepoint's directory when it completed.
    pub fn trigger_savepoint(
        &self,
        target_directory: Option<String>,
        cancel_job: bool,
    ) -> impl std::future::Future<Output = Result<String>> + Send + 'static {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let sent = self.entry.control.send(JobControl::TriggerSavepoint { target_directory, cancel_job, reply });
        self.savepoint_reply(sent.is_ok(), rx)
    }

    /// Triggers a checkpoint now (REST's `POST /jobs/:jobid/checkpoints`). The request
    /// is sent at once; the future resolves to the checkpoint's id when it completed.
    pub fn trigger_checkpoint(
        &self,
    ) -> impl std::future::Future<Output = Result<brook_types::CheckpointId>> + Send + 'static {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let sent = self.entry.control.send(JobControl::TriggerCheckpoint { reply }).is_ok();
        let job_id = self.job_id();
        async move {
            let ended = || BrookError::Cluster(format!("job {job_id} ended before the checkpoint completed"));
            if !sent {
                return Err(ended());
            }
            match rx.await {
                Ok(Ok(id)) => Ok(id),
                Ok(Err(cause)) => Err(BrookError::Cluster(cause)),
                Err(_) => Err(ended()),
            }
        }
    }

    /// Stop-with-savepoint (`brook stop`): the sources stop, a savepoint is taken, and
    /// the job finishes; with `drain`, event time first advances to the end so every
    /// window and timer fires. Resolves to the savepoint's directory.
    pub fn stop_with_savepoint(
        &self,
        drain: bool,
        target_directory: Option<String>,
    ) -> impl std::future::Future<Output = Result<String>> + Send + 'static {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let sent = self.entry.control.send(JobControl::StopWithSavepoint { target_directory, drain, reply });
        self.savepoint_reply(sent.is_ok(), rx)
    }

    fn savepoint_reply(
        &self,
        sent: bool,
        rx: tokio::sync::oneshot::Receiver<std::result::Result<String, String>>,
    ) -> impl std::future::Future<Output = Result<String>> + Send + 'static {
        let job_id = self.job_id();
        async move {
            let ended = || BrookError::Cluster(format!("job {job_id} ended before the savepoint completed"));
            if !sent {
                return Err(ended());
            }
            match rx.await {
                Ok(Ok(path)) => Ok(path),
                Ok(Err(cause)) => Err(BrookError::Cluster(format!("savepoint of job {job_id} failed: {cause}"))),
                Err(_) => Err(ended()),
            }
        }
    }

    /// Blocks until `pred` holds or `timeout` passes.
    pub fn wait_until(&self, timeout: Duration, pred: impl FnMut(&JobSnapshot) -> bool) -> bool {
        self.entry.handle.wait_until(timeout, pred)
    }

    /// Blocks until the job ends: its result if it finished, else why not.
    pub fn wait_for_result(&self) -> Result<JobExecutionResult> {
        let status = self.entry.handle.wait_terminal();
        self.result_for(status)
    }

    /// Waits asynchronously until the job ends.
    pub async fn result(&self) -> Result<JobExecutionResult> {
        let status = self.entry.handle.terminal().await;
        self.result_for(status)
    }

    fn result_for(&self, status: JobStatus) -> Result<JobExecutionResult> {
        let snap = self.entry.handle.snapshot();
        match status {
            JobStatus::Finished => Ok(JobExecutionResult {
                job_id: snap.job_id,
                job_name: snap.name,
                net_runtime: snap.duration,
                accumulators: self.entry.handle.metrics.accumulator_values(),
                operator_records: self.entry.handle.metrics.operator_totals(),
            }),
            JobStatus::Canceled => {
                Err(BrookError::JobCanceled { job_id: snap.job_id.to_string(), job_name: snap.name })
            }
            _ => Err(BrookError::JobFailed {
                job_id: snap.job_id.to_string(),
                job_name: snap.name,
                cause: snap.failure_cause.unwrap_or_else(|| format!("job ended {status}")),
            }),
        }
    }
}
