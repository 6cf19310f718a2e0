//! The JobMaster's view of a TaskManager: [`TaskExecutorGateway`], implemented in
//! process by [`LocalTaskExecutor`] (the MiniCluster) and over gRPC by
//! `rpc::RemoteTaskExecutor` (a TaskManager process). Every call is a one-way
//! message: answers (task states, checkpoint acknowledgements) come back on the
//! job's [`JobReports`] channels, in the order the TaskManager sent them.

use crate::jobmaster::{CheckpointReport, TaskStateUpdate};
use crate::program::ProgramSpec;
use crate::taskmanager::TaskManager;
use brook_checkpoint::coordinator::{NotifyCheckpointComplete, TaskRef};
use brook_checkpoint::{CompletedCheckpoint, LocationReference};
use brook_runtime::graph::{JobGraph, TaskDeploymentDescriptor};
use brook_runtime::metrics::MetricRegistry;
use brook_types::config::Configuration;
use brook_types::{CheckpointBarrier, JobId, TaskManagerId, VertexId};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Where the subtasks of one job report.
#[derive(Clone, Debug)]
pub struct JobReports {
    pub updates: mpsc::UnboundedSender<TaskStateUpdate>,
    pub checkpoints: mpsc::UnboundedSender<CheckpointReport>,
    /// The job's metrics, where a TaskManager process's reported values are merged
    /// (in-process TaskManagers count into it directly).
    pub metrics: MetricRegistry,
}

/// A job submitted as a program ([`ProgramSpec`]) with the client's configuration:
/// what a TaskManager process needs to build the job's StreamGraph itself.
#[derive(Clone, Debug)]
pub struct SubmittedProgram {
    pub spec: ProgramSpec,
    pub configuration: Configuration,
}

/// The calls a JobMaster makes on a TaskManager (see the protocol in
/// [`crate::taskmanager`] and [`crate::rpc`]).
pub trait TaskExecutorGateway: Send + Sync + 'static {
    fn id(&self) -> TaskManagerId;

    /// Deploys one subtask of `job`. `program` is how a TaskManager that has not seen
    /// the job yet builds it (`None` for jobs submitted as a StreamGraph, which only
    /// in-process TaskManagers can run).
    fn submit_task(
        &self,
        job: &Arc<JobGraph>,
        program: Option<&Arc<SubmittedProgram>>,
        descriptor: TaskDeploymentDescriptor,
        reports: &JobReports,
        restore: Option<Arc<CompletedCheckpoint>>,
    );
    fn cancel_task(&self, job: JobId, vertex: VertexId, subtask: usize, attempt: u32);
    fn trigger_checkpoint(&self, job: JobId, task: TaskRef, attempt: u32, barrier: CheckpointBarrier);
    fn notify_checkpoint_complete(
        &self,
        job: JobId,
        task: TaskRef,
        attempt: u32,
        notification: NotifyCheckpointComplete,
    );
    fn register_savepoint_location(&self, reference: LocationReference);
    fn prepare_stop(&self, job: JobId, task: TaskRef, attempt: u32);
    fn stop_with_savepoint(&self, job: JobId, task: TaskRef, attempt: u32, barrier: CheckpointBarrier, drain: bool);
    fn resume_after_failed_stop(&self, job: JobId, task: TaskRef, attempt: u32);
    /// Forgets the input gates of a job's ended attempt, before it is redeployed.
    fn reset_job_gates(&self, job: JobId);
    /// The job ended.
    fn unregister_job(&self, job: JobId);
}

/// A TaskManager in this process.
pub struct LocalTaskExecutor(pub Arc<TaskManager>);

impl TaskExecutorGateway for LocalTaskExecutor {
    fn id(&self) -> TaskManagerId {
        self.0.id
    }

    fn submit_task(
        &self,
        job: &Arc<JobGraph>,
        _program: Option<&Arc<SubmittedProgram>>,
        descriptor: TaskDeploymentDescriptor,
        reports: &JobReports,
        restore: Option<Arc<CompletedCheckpoint>>,
    ) {
        self.0.submit_task(job.clone(), descriptor, reports.updates.clone(), reports.checkpoints.clone(), restore);
    }

    fn cancel_task(&self, job: JobId, vertex: VertexId, subtask: usize, attempt: u32) {
        self.0.cancel_task(job, vertex, subtask, attempt);
    }

    fn trigger_checkpoint(&self, job: JobId, task: TaskRef, attempt: u32, barrier: CheckpointBarrier) {
        self.0.trigger_checkpoint(job, task, attempt, barrier);
    }

    fn notify_checkpoint_complete(
        &self,
        job: JobId,
        task: TaskRef,
        attempt: u32,
        notification: NotifyCheckpointComplete,
    ) {
        self.0.notify_checkpoint_complete(job, task, attempt, notification);
    }

    fn register_savepoint_location(&self, reference: LocationReference) {
        self.0.register_savepoint_location(reference);
    }

    fn prepare_stop(&self, job: JobId, task: TaskRef, attempt: u32) {
        self.0.prepare_stop(job, task, attempt);
    }

    fn stop_with_savepoint(&self, job: JobId, task: TaskRef, attempt: u32, barrier: CheckpointBarrier, drain: bool) {
        self.0.stop_with_savepoint(job, task, attempt, barrier, drain);
    }

    fn resume_after_failed_stop(&self, job: JobId, task: TaskRef, attempt: u32) {
        self.0.resume_after_failed_stop(job, task, attempt);
    }

    fn reset_job_gates(&self, job: JobId) {
        self.0.reset_job_gates(job);
    }

    fn unregister_job(&self, job: JobId) {
        self.0.unregister_job(job);
    }
}

/// Stands in for a TaskManager that left the cluster: messages to it are dropped,
/// as on a broken connection, and a task deployed to it fails at once, naming it.
pub(crate) struct LostTaskExecutor(pub TaskManagerId);

impl TaskExecutorGateway for LostTaskExecutor {
    fn id(&self) -> TaskManagerId {
        self.0
    }

    fn submit_task(
        &self,
        _job: &Arc<JobGraph>,
        _program: Option<&Arc<SubmittedProgram>>,
        descriptor: TaskDeploymentDescriptor,
        reports: &JobReports,
        _restore: Option<Arc<CompletedCheckpoint>>,
    ) {
        let _ = reports.updates.send(TaskStateUpdate {
            vertex: descriptor.vertex,
            subtask: descriptor.subtask_index,
            attempt: descriptor.attempt,
            state: brook_runtime::task::ExecutionState::Failed,
            cause: Some(format!("TaskManager {} left the cluster before the task was deployed to it", self.0)),
        });
    }

    fn cancel_task(&self, _: JobId, _: VertexId, _: usize, _: u32) {}
    fn trigger_checkpoint(&self, _: JobId, _: TaskRef, _: u32, _: CheckpointBarrier) {}
    fn notify_checkpoint_complete(&self, _: JobId, _: TaskRef, _: u32, _: NotifyCheckpointComplete) {}
    fn register_savepoint_location(&self, _: LocationReference) {}
    fn prepare_stop(&self, _: JobId, _: TaskRef, _: u32) {}
    fn stop_with_savepoint(&self, _: JobId, _: TaskRef, _: u32, _: CheckpointBarrier, _: bool) {}
    fn resume_after_failed_stop(&self, _: JobId, _: TaskRef, _: u32) {}
    fn reset_job_gates(&self, _: JobId) {}
    fn unregister_job(&self, _: JobId) {}
}
