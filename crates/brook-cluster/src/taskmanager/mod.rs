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
//! 4. Checkpoints: `trigger_checkpoint` (source tasks) and
//!    `notify_checkpoint_complete` (every task) go into the task's mailbox; the task's
//!    snapshots are uploaded here ([`checkpoints`]) and acknowledged (or declined) on
//!    the job's checkpoint channel. A task deployed with a checkpoint to restore reads
//!    its state before its chain is built.
//! 5. Savepoints: the JobMaster first registers the savepoint's location
//!    (`register_savepoint_location`, so that every task uploads into the savepoint's
//!    own directory), then triggers like a checkpoint. Stop-with-savepoint:
//!    `prepare_stop` to every task, then `stop_with_savepoint` to the sources; on
//!    failure `resume_after_failed_stop` to every task. Tasks take part in savepoints
//!    even when periodic checkpointing is off.

pub(crate) mod checkpoints;

use crate::jobmaster::{CheckpointReport, TaskStateUpdate};
use brook_checkpoint::coordinator::TaskRef;
use brook_checkpoint::{
    CheckpointStorage, CheckpointingConfig, CheckpointingMode, CompletedCheckpoint, LocationReference,
};
use brook_network::NetworkEnvironment;
use brook_runtime::checkpoint::TaskCheckpointSettings;
use brook_runtime::graph::{JobGraph, StreamGraph, TaskDeploymentDescriptor};
use brook_runtime::metrics::MetricRegistry;
use brook_runtime::task::{DeployedTask, ExecutionState, LocalShuffle, TaskMessage, TaskOutcome, panic_cause};
use brook_types::CheckpointBarrier;
use brook_types::{CheckpointId, JobId, TaskManagerId, VertexId};
use futures::FutureExt;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::mpsc;

/// (job, vertex, subtask, attempt)
type TaskKey = (JobId, VertexId, usize, u32);

/// Where the tasks of a job upload their state for a savepoint, by its id (a
/// checkpoint's location follows from the checkpoint directory and its id).
pub(crate) type SavepointLocations = Arc<Mutex<HashMap<(JobId, CheckpointId), LocationReference>>>;

/// A TaskManager of the local MiniCluster.
pub struct TaskManager {
    pub id: TaskManagerId,
    pub num_slots: usize,
    shuffle: Arc<LocalShuffle>,
    runtime: tokio::runtime::Handle,
    /// The programs this TaskManager carries, by job.
    programs: Mutex<HashMap<JobId, (Arc<StreamGraph>, MetricRegistry)>>,
    tasks: Mutex<HashMap<TaskKey, mpsc::UnboundedSender<TaskMessage>>>,
    savepoint_locations: SavepointLocations,
    /// The data plane, for channels to and from other TaskManagers (none in a
    /// MiniCluster, whose TaskManagers share one process).
    network: Option<Arc<NetworkEnvironment>>,
}

impl TaskManager {
    pub fn new(
        id: TaskManagerId,
        num_slots: usize,
        shuffle: Arc<LocalShuffle>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self {
            id,
            num_slots,
            shuffle,
            runtime,
            programs: Mutex::default(),
            tasks: Mutex::default(),
            savepoint_locations: SavepointLocations::default(),
            network: None,
        }
    }

    /// Gives this TaskManager a data plane: its tasks' input channels are reachable
    /// over it, and outputs to subtasks on other TaskManagers (targets with a location)
    /// go over it.
    pub fn with_network(mut self, network: Arc<NetworkEnvironment>) -> Self {
        self.network = Some(network);
        self
    }

    /// The data plane, if this TaskManager has one.
    pub fn network(&self) -> Option<&Arc<NetworkEnvironment>> {
        self.network.as_ref()
    }

    /// Makes a program runnable here (in a cluster, the TaskManager builds it itself).
    pub fn register_program(&self, job: JobId, graph: Arc<StreamGraph>, metrics: MetricRegistry) {
        self.programs.lock().insert(job, (graph, metrics));
    }

    pub fn unregister_job(&self, job: JobId) {
        self.shuffle.unregister_job(job);
        if let Some(network) = &self.network {
            network.unregister_job(job);
        }
        self.programs.lock().remove(&job);
        self.tasks.lock().retain(|k, _| k.0 != job);
        self.savepoint_locations.lock().retain(|k, _| k.0 != job);
    }

    /// Forgets the input gates of a job's ended attempt, before it is redeployed.
    pub fn reset_job_gates(&self, job: JobId) {
        self.shuffle.unregister_job(job);
    }

    /// Deploys one subtask; its states go to `report`, its checkpoint acknowledgements
    /// to `checkpoint_reports`. With `restore`, it restores its state from that
    /// checkpoint before it runs.
    pub fn submit_task(
        self: &Arc<Self>,
        job_graph: Arc<JobGraph>,
        descriptor: TaskDeploymentDescriptor,
        report: mpsc::UnboundedSender<TaskStateUpdate>,
        checkpoint_reports: mpsc::UnboundedSender<CheckpointReport>,
        restore: Option<Arc<CompletedCheckpoint>>,
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
        let network = self.network.clone();
        let savepoint_locations = self.savepoint_locations.clone();
        let this = self.clone();
        self.runtime.spawn(async move {
            let run = async {
                let (settings, storage) = checkpoint_settings(&job_graph)?;
                let task_name = format!(
                    "{} ({}/{})",
                    job_graph.vertex(descriptor.vertex).name,
                    descriptor.subtask_index + 1,
                    descriptor.parallelism
                );
                let shared_files = checkpoints::SharedFileHandles::default();
                let restore_state = match &restore {
                    Some(checkpoint) => {
                        // A job started from a savepoint reads it even when it does not checkpoint itself.
                        let storage = match &storage {
                            Some(storage) => storage.clone(),
                            None => {
                                CheckpointStorage::from_config(&job_graph.configuration).map_err(|e| e.to_string())?
                            }
                        };
                        Some(
                            checkpoints::read_restore_state(
                                &storage,
                                checkpoint,
                                &job_graph,
                                &descriptor,
                                &shared_files,
                            )
                            .await
                            .map_err(|e| {
                                format!(
                                    "task '{task_name}' cannot restore from checkpoint {}: {e}",
                                    checkpoint.checkpoint_id()
                                )
                            })?,
                        )
                    }
                    None => None,
                };
                let settings = match storage {
                    Some(storage) => TaskCheckpointSettings {
                        responder: Arc::new(checkpoints::TaskCheckpointResponder {
                            job_id: key.0,
                            task: TaskRef { vertex: key.1, subtask: key.2 },
                            attempt: key.3,
                            name: task_name,
                            storage,
                            reports: checkpoint_reports,
                            savepoint_locations,
                            shared_files,
                        }),
                        ..settings
                    },
                    None => settings,
                };
                let deployed =
                    DeployedTask::deploy_with_network(graph, job_graph, descriptor, &shuffle, network, metrics)
                        .map_err(|e| e.to_string())?
                        .with_checkpointing(settings, restore_state);
                send(ExecutionState::Initializing, None);
                let connect = deployed.connect(&shuffle);
                tokio::pin!(connect);
                let task = loop {
                    tokio::select! {
                        biased;
                        message = mailbox.recv() => match message {
                            Some(TaskMessage::Cancel) | None => return Ok(TaskOutcome::Canceled),
                            // Checkpoints are triggered only once every task runs.
                            Some(_) => continue,
                        },
                        t = &mut connect => break t.map_err(|e| e.to_string())?,
                    }
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

    /// Asks every subtask to stop and forgets every job (the JobManager was lost).
    pub fn cancel_all(&self) {
        let tasks: Vec<_> = self.tasks.lock().values().cloned().collect();
        for tx in tasks {
            let _ = tx.send(TaskMessage::Cancel);
        }
        let jobs: Vec<JobId> = self.programs.lock().keys().copied().collect();
        for job in jobs {
            self.unregister_job(job);
        }
    }

    /// Asks a subtask to stop; it reports CANCELED.
    pub fn cancel_task(&self, job: JobId, vertex: VertexId, subtask: usize, attempt: u32) {
        self.send(job, vertex, subtask, attempt, TaskMessage::Cancel);
    }

    /// Triggers a checkpoint at a source subtask (it records its position and emits the barrier).
    pub fn trigger_checkpoint(&self, job: JobId, task: TaskRef, attempt: u32, barrier: CheckpointBarrier) {
        self.send(job, task.vertex, task.subtask, attempt, TaskMessage::TriggerCheckpoint(barrier));
    }

    /// Tells a subtask that a checkpoint completed.
    pub fn notify_checkpoint_complete(
        &self,
        job: JobId,
        task: TaskRef,
        attempt: u32,
        notification: brook_checkpoint::coordinator::NotifyCheckpointComplete,
    ) {
        let message = TaskMessage::NotifyCheckpointComplete {
            checkpoint: notification.checkpoint_id,
            final_checkpoint: notification.final_checkpoint,
        };
        self.send(job, task.vertex, task.subtask, attempt, message);
    }

    /// Where the tasks of `reference.job_id` write savepoint `reference.checkpoint_id`;
    /// registered before the savepoint is triggered.
    pub fn register_savepoint_location(&self, reference: LocationReference) {
        self.savepoint_locations.lock().insert((reference.job_id, reference.checkpoint_id), reference);
    }

    /// A stop-with-savepoint begins: the subtask waits for it before finishing.
    pub fn prepare_stop(&self, job: JobId, task: TaskRef, attempt: u32) {
        self.send(job, task.vertex, task.subtask, attempt, TaskMessage::PrepareStop);
    }

    /// Stop-with-savepoint at a source subtask: (with `drain`, it ends event time and
    /// its input,) takes part in the savepoint and emits nothing more.
    pub fn stop_with_savepoint(
        &self,
        job: JobId,
        task: TaskRef,
        attempt: u32,
        barrier: CheckpointBarrier,
        drain: bool,
    ) {
        self.send(job, task.vertex, task.subtask, attempt, TaskMessage::StopWithSavepoint { barrier, drain });
    }

    /// The stop-with-savepoint failed: the subtask goes on as before.
    pub fn resume_after_failed_stop(&self, job: JobId, task: TaskRef, attempt: u32) {
        self.send(job, task.vertex, task.subtask, attempt, TaskMessage::ResumeAfterFailedStop);
    }

    fn send(&self, job: JobId, vertex: VertexId, subtask: usize, attempt: u32, message: TaskMessage) {
        if let Some(tx) = self.tasks.lock().get(&(job, vertex, subtask, attempt)) {
            let _ = tx.send(message);
        }
    }
}

/// How the tasks of `job` take part in checkpoints and savepoints, and where they
/// write: `None` storage in BATCH mode, or when checkpointing is off and the storage
/// configuration cannot be used (the JobMaster then refuses savepoints, saying why).
/// Tasks wait for a final checkpoint only when periodic checkpointing is on.
fn checkpoint_settings(job: &JobGraph) -> Result<(TaskCheckpointSettings, Option<CheckpointStorage>), String> {
    let config = CheckpointingConfig::from_config(&job.configuration).map_err(|e| e.to_string())?;
    if job.batch {
        return Ok((TaskCheckpointSettings::default(), None));
    }
    let storage = match CheckpointStorage::from_config(&job.configuration) {
        Ok(storage) => storage,
        Err(e) if config.is_enabled() => return Err(e.to_string()),
        Err(_) => return Ok((TaskCheckpointSettings::default(), None)),
    };
    let settings = TaskCheckpointSettings {
        exactly_once: config.mode == CheckpointingMode::ExactlyOnce,
        wait_for_final_checkpoint: config.is_enabled(),
        aligned_checkpoint_timeout: (config.unaligned && !config.aligned_checkpoint_timeout.is_zero())
            .then_some(config.aligned_checkpoint_timeout),
        ..TaskCheckpointSettings::default()
    };
    Ok((settings, Some(storage)))
}
