//! The TaskManager: deploys and runs the subtasks assigned to its slots and reports
//! their states to the JobMaster.
//!
//! Protocol with the JobMaster (in process now; the same messages go over gRPC in
//! a cluster):
//! 1. `submit_task(descriptor)`: the TaskManager creates the subtask's input gates,
//!    reports INITIALIZING, connects its outputs to the downstream gates, builds
//!    the chain, reports RUNNING, and runs it.
//! 2. It reports exactly one terminal state per attempt: FINISHED, CANCELED, or
//!    FAILED with the cause.
//! 3. `cancel_task` may come at any time; a task not yet running ends CANCELED.

use crate::jobmaster::TaskStateUpdate;
use brook_runtime::graph::{JobGraph, StreamGraph, TaskDeploymentDescriptor};
use brook_runtime::metrics::MetricRegistry;
use brook_runtime::task::{DeployedTask, ExecutionState, LocalShuffle, TaskMessage, TaskOutcome, panic_cause};
use brook_types::{JobId, TaskManagerId, VertexId};
use futures::FutureExt;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::mpsc;

/// (job, vertex, subtask, attempt)
type TaskKey = (JobId, VertexId, usize, u32);

/// A TaskManager of the local MiniCluster.
pub struct TaskManager {
    pub id: TaskManagerId,
    pub num_slots: usize,
    shuffle: Arc<LocalShuffle>,
    runtime: tokio::runtime::Handle,
    /// The programs this TaskManager carries, by job.
    programs: Mutex<HashMap<JobId, (Arc<StreamGraph>, MetricRegistry)>>,
    tasks: Mutex<HashMap<TaskKey, mpsc::UnboundedSender<TaskMessage>>>,
}

impl TaskManager {
    pub fn new(
        id: TaskManagerId,
        num_slots: usize,
        shuffle: Arc<LocalShuffle>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self { id, num_slots, shuffle, runtime, programs: Mutex::default(), tasks: Mutex::default() }
    }

    /// Makes a program runnable here (in a cluster, the TaskManager builds it itself).
    pub fn register_program(&self, job: JobId, graph: Arc<StreamGraph>, metrics: MetricRegistry) {
        self.programs.lock().insert(job, (graph, metrics));
    }

    pub fn unregister_job(&self, job: JobId) {
        self.shuffle.unregister_job(job);
        self.programs.lock().remove(&job);
        self.tasks.lock().retain(|k, _| k.0 != job);
    }

    /// Deploys one subtask; its states go to `report`.
    pub fn submit_task(
        self: &Arc<Self>,
        job_graph: Arc<JobGraph>,
        descriptor: TaskDeploymentDescriptor,
        report: mpsc::UnboundedSender<TaskStateUpdate>,
    ) {
        let key = (descriptor.job_id, descriptor.vertex, descriptor.subtask_index, descriptor.attempt);
        let send = move |state: ExecutionState, cause: Option<String>| {
            let _ = report.send(TaskStateUpdate { vertex: key.1, subtask: key.2, attempt: key.3, state, cause });
        };
        let program = self.programs.lock().get(&descriptor.job_id).cloned();
        let Some((graph, metrics)) = program else {
            send(
                ExecutionState::Failed,
                Some(format!("TaskManager {} does not carry the program of job {}", self.id, key.0)),
            );
            return;
        };
        let (tx, mut mailbox) = mpsc::unbounded_channel();
        self.tasks.lock().insert(key, tx);
        let shuffle = self.shuffle.clone();
        let this = self.clone();
        self.runtime.spawn(async move {
            let run = async {
                let deployed =
                    DeployedTask::deploy(graph, job_graph, descriptor, &shuffle, metrics).map_err(|e| e.to_string())?;
                send(ExecutionState::Initializing, None);
                let task = tokio::select! {
                    biased;
                    _ = mailbox.recv() => return Ok(TaskOutcome::Canceled),
                    t = deployed.connect(&shuffle) => t.map_err(|e| e.to_string())?,
                };
                send(ExecutionState::Running, None);
                Ok::<_, String>(task.run(&mut mailbox).await)
            };
            let outcome = match AssertUnwindSafe(run).catch_unwind().await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(cause)) => TaskOutcome::Failed(cause),
                Err(payload) => TaskOutcome::Failed(panic_cause("deployment", payload.as_ref())),
            };
            this.tasks.lock().remove(&key);
            match outcome {
                TaskOutcome::Finished => send(ExecutionState::Finished, None),
                TaskOutcome::Canceled => send(ExecutionState::Canceled, None),
                TaskOutcome::Failed(cause) => send(ExecutionState::Failed, Some(cause)),
            }
        });
    }

    /// Asks a subtask to stop; it reports CANCELED.
    pub fn cancel_task(&self, job: JobId, vertex: VertexId, subtask: usize, attempt: u32) {
        if let Some(tx) = self.tasks.lock().get(&(job, vertex, subtask, attempt)) {
            let _ = tx.send(TaskMessage::Cancel);
        }
    }
}
