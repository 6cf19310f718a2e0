//! The JobMaster: runs one job. It expands the JobGraph into subtasks (the
//! ExecutionGraph), asks the ResourceManager for slots, deploys every subtask to the
//! TaskManager owning its slot, follows their states, runs the checkpoint coordinator,
//! restarts the job after failures, and decides the job's state.
//!
//! It sees only the JobGraph — never the program — so it runs no user code.
//!
//! Job state machine (the transitions live in [`JobMaster::on_failure`],
//! [`JobMaster::on_task_update`], [`JobMaster::run`] and [`JobMaster::finish`]):
//! - CREATED → RUNNING when deployment starts; → FAILED if slots or the checkpointing
//!   configuration are missing or invalid.
//! - RUNNING → FINISHED when every subtask FINISHED (with checkpointing on, after the
//!   final checkpoint completed).
//! - RUNNING → RESTARTING on a failure (a FAILED subtask, or too many failed
//!   checkpoints) when the restart strategy allows: every subtask is canceled, and
//!   once all ended and the strategy's delay passed, all are redeployed as the next
//!   attempt, restoring from the latest completed checkpoint → RUNNING.
//! - A lost TaskManager ([`ClusterEvent::Lost`]) is a failure of every subtask on it
//!   that had not ended (FAILED with a cause naming the TaskManager). Its restart
//!   allocates all slots again; while there are not enough, the job stays RESTARTING
//!   ("waiting for N slots, M available") and retries whenever a TaskManager registers.
//! - RUNNING → FAILING when the strategy gives up (or the failure cannot be helped by
//!   a restart): all others are canceled, then FAILED with the first failure's cause.
//! - RUNNING / RESTARTING → CANCELLING on cancel: all subtasks are canceled, then CANCELED.
//! - Savepoints ([`JobControl::TriggerSavepoint`], [`JobControl::StopWithSavepoint`]) are
//!   taken only while RUNNING, also when periodic checkpointing is off (the coordinator
//!   and storage exist for every STREAMING job). `cancel_job`: RUNNING → CANCELLING once
//!   the savepoint completed. Stop: the tasks finish on the savepoint's notification →
//!   FINISHED, and the request is answered then. A failed savepoint leaves the job
//!   RUNNING ([`savepoints`]; docs/design/savepoints.md).
//!
//! The checkpoint coordinator is [`brook_checkpoint::CheckpointCoordinator`]: pure
//! decisions; the storage I/O it asks for runs on spawned tasks whose results come
//! back as [`IoResult`]s, so this loop never waits on storage.

mod checkpoint_requests;
mod execution_graph;
mod handle;
mod savepoints;

pub use execution_graph::ExecutionGraph;
pub use handle::{JobFailure, JobHandle, JobSnapshot, MAX_FAILURES, VertexSnapshot};

use crate::gateway::{JobReports, LostTaskExecutor, SubmittedProgram, TaskExecutorGateway};
use crate::job_status::JobStatus;
use crate::resource_manager::{ClusterEvent, ResourceManager};
use brook_checkpoint::coordinator::{AcknowledgeCheckpoint, DeclineCheckpoint, SnapshotType, TaskRef};
use brook_checkpoint::{
    CheckpointCoordinator, CheckpointLocation, CheckpointStorage, CheckpointingConfig, CompletedCheckpoint,
    CoordinatorAction, Decision, JobTermination, JobTopology, OperatorInfo, RestartStrategy,
};
use brook_runtime::graph::JobGraph;
use brook_runtime::task::ExecutionState;
use brook_types::config::options;
use brook_types::{CheckpointBarrier, CheckpointId, TaskManagerId, VertexId};
use savepoints::{AfterSavepoint, SavepointRequest};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, mpsc};

/// A subtask's state changed.
#[derive(Clone, Debug)]
pub struct TaskStateUpdate {
    pub vertex: VertexId,
    pub subtask: usize,
    pub attempt: u32,
    pub state: ExecutionState,
    pub cause: Option<String>,
}

/// A task's answer to a checkpoint, sent by its TaskManager.
#[derive(Clone, Debug)]
pub enum CheckpointReport {
    Acknowledge(AcknowledgeCheckpoint),
    Decline(DeclineCheckpoint),
}

/// Where a savepoint ended up (its directory, e.g. `file:///sp/savepoint-3f2a1b-9c0d…`),
/// or why it failed.
pub type SavepointReply = tokio::sync::oneshot::Sender<Result<String, String>>;

/// The id of a checkpoint triggered on request once it completed, or why it did not.
pub type CheckpointReply = tokio::sync::oneshot::Sender<Result<CheckpointId, String>>;

/// Requests to a running job.
#[derive(Debug)]
pub enum JobControl {
    Cancel,
    /// Take a checkpoint now (REST's `POST /jobs/:jobid/checkpoints`), besides the
    /// periodic ones. The reply comes when it completed or was aborted.
    TriggerCheckpoint {
        reply: CheckpointReply,
    },
    /// Take a savepoint into `target_directory` (else `execution.checkpointing.savepoint-dir`)
    /// in the canonical format; the job keeps running. With `cancel_job`, the job is
    /// canceled once the savepoint completed (Flink's `cancel-job: true`). The reply
    /// comes when the savepoint completed or failed; a failed one leaves the job RUNNING.
    TriggerSavepoint {
        target_directory: Option<String>,
        cancel_job: bool,
        reply: SavepointReply,
    },
    /// Stop-with-savepoint: the sources stop, a savepoint is taken, and the job
    /// FINISHES. With `drain`, the sources emit the MAX watermark before the savepoint
    /// barrier, so every event-time timer and window fires (Flink's `--drain`).
    /// The reply comes once the job ended FINISHED (an error if the savepoint failed —
    /// the job keeps running — or the job ended otherwise).
    StopWithSavepoint {
        target_directory: Option<String>,
        drain: bool,
        reply: SavepointReply,
    },
}

/// The result of storage I/O the coordinator asked for.
#[derive(Debug)]
pub enum IoResult {
    Location(CheckpointId, Result<CheckpointLocation, String>),
    Finalized(CheckpointId, Result<CompletedCheckpoint, String>),
}

/// Runs one job to its end.
pub struct JobMaster {
    job: Arc<JobGraph>,
    graph: ExecutionGraph,
    resource_manager: Arc<ResourceManager>,
    /// How TaskManager processes build the job (`None`: submitted as a StreamGraph).
    program: Option<Arc<SubmittedProgram>>,
    handle: Arc<JobHandle>,
    /// TaskManagers joining and leaving the cluster.
    cluster_events: broadcast::Receiver<ClusterEvent>,
    /// A restart waits for slots: retried when a TaskManager registers.
    waiting_for_slots: bool,
    cancel_requested: bool,
    attempt: u32,
    coordinator: Option<CheckpointCoordinator>,
    storage: Option<CheckpointStorage>,
    restart_strategy: RestartStrategy,
    /// A restart is pending: redeploy at this time once every subtask ended.
    restart_at: Option<Instant>,
    updates: mpsc::UnboundedSender<TaskStateUpdate>,
    checkpoint_reports: mpsc::UnboundedSender<CheckpointReport>,
    io: mpsc::UnboundedSender<IoResult>,
    /// Storage I/O in flight; awaited when the job ends, so that nothing of an
    /// aborted checkpoint is left behind.
    io_tasks: tokio::task::JoinSet<()>,
    /// The savepoint or retained checkpoint the job started from
    /// (`execution.state-recovery.path`), until a checkpoint of its own completes.
    initial_restore: Option<Arc<CompletedCheckpoint>>,
    /// Why the checkpoint storage cannot be used (periodic checkpointing is off, so
    /// the job runs anyway); savepoint requests are answered with it.
    storage_unavailable: Option<String>,
    /// Savepoints being taken, by id, and who waits for them.
    savepoint_requests: BTreeMap<CheckpointId, SavepointRequest>,
    /// A stop-with-savepoint whose savepoint completed: answered when the job ended.
    stop_reply: Option<(SavepointReply, String)>,
    /// Checkpoints triggered on request, by id, and who waits for them.
    checkpoint_requests: BTreeMap<CheckpointId, CheckpointReply>,
}

/// The receiving ends of the JobMaster's channels.
struct Inboxes {
    updates: mpsc::UnboundedReceiver<TaskStateUpdate>,
    checkpoint_reports: mpsc::UnboundedReceiver<CheckpointReport>,
    io: mpsc::UnboundedReceiver<IoResult>,
    control: mpsc::UnboundedReceiver<JobControl>,
}

impl JobMaster {
    pub fn new(
        job: Arc<JobGraph>,
        program: Option<Arc<SubmittedProgram>>,
        resource_manager: Arc<ResourceManager>,
        handle: Arc<JobHandle>,
    ) -> Self {
        let cluster_events = resource_manager.subscribe();
        let graph = ExecutionGraph::new(&job);
        let (updates, _) = mpsc::unbounded_channel();
        let (checkpoint_reports, _) = mpsc::unbounded_channel();
        let (io, _) = mpsc::unbounded_channel();
        Self {
            job,
            graph,
            resource_manager,
            program,
            handle,
            cluster_events,
            waiting_for_slots: false,
            cancel_requested: false,
            attempt: 0,
            coordinator: None,
            storage: None,
            restart_strategy: RestartStrategy::NoRestart,
            restart_at: None,
            updates,
            checkpoint_reports,
            io,
            io_tasks: tokio::task::JoinSet::new(),
            initial_restore: None,
            storage_unavailable: None,
            savepoint_requests: BTreeMap::new(),
            stop_reply: None,
            checkpoint_requests: BTreeMap::new(),
        }
    }

    /// Reads the checkpointing and restart settings; an error fails the job at once.
    /// Every STREAMING job gets a coordinator and storage, for savepoints; a storage
    /// configuration that cannot be used fails the job only if it checkpoints.
    fn configure(&mut self) -> Result<(), String> {
        let configuration = &self.job.configuration;
        let mut config = CheckpointingConfig::from_config(configuration).map_err(|e| e.to_string())?;
        if self.job.batch && config.is_enabled() {
            tracing::info!(job_id = %self.job.job_id, "checkpointing is disabled in BATCH execution mode");
            config.interval = None;
        }
        self.restart_strategy = RestartStrategy::from_config(configuration).map_err(|e| e.to_string())?;
        if !self.job.batch {
            match CheckpointStorage::from_config(configuration) {
                Ok(storage) => self.storage = Some(storage),
                Err(e) if config.is_enabled() => return Err(e.to_string()),
                Err(e) => self.storage_unavailable = Some(e.to_string()),
            }
            let topology = topology(&self.job);
            self.coordinator = Some(CheckpointCoordinator::new(self.job.job_id, config, topology, Instant::now()));
        }
        Ok(())
    }

    /// The savepoint or retained checkpoint named by `execution.state-recovery.path`
    /// (`brook run -s`), checked against the job: state of an operator the job does
    /// not have is an error unless `execution.state-recovery.ignore-unclaimed-state`
    /// (`-n`, `--allowNonRestoredState`) allows skipping it.
    async fn recovery_checkpoint(&self) -> Result<Option<Arc<CompletedCheckpoint>>, String> {
        let config = &self.job.configuration;
        let Some(path) = config.get_optional(&options::STATE_RECOVERY_PATH) else { return Ok(None) };
        let storage = CheckpointStorage::from_config(config).map_err(|e| e.to_string())?;
        let resolved =
            storage.resolve(&path).await.map_err(|e| format!("cannot restore the job from '{path}': {e}"))?;
        let allow_skipping = config.get_bool(&options::STATE_RECOVERY_IGNORE_UNCLAIMED_STATE);
        let job_operators: Vec<_> =
            self.job.vertices.iter().flat_map(|v| &v.operators).map(|o| o.operator_id).collect();
        for op in &resolved.metadata.operators {
            let has_state = op.coordinator_state.is_some()
                || op
                    .subtasks
                    .iter()
                    .any(|s| !s.keyed.is_empty() || s.operator_state.is_some() || s.channel_state.is_some());
            if !has_state || job_operators.contains(&op.operator_id) {
                continue;
            }
            let uid = op.uid.as_deref().map(|u| format!(" (uid '{u}')")).unwrap_or_default();
            if !allow_skipping {
                return Err(format!(
                    "cannot restore the job from '{path}': it has state of operator '{}'{uid}, which this job does \
                     not have; give the operator that should own it the same uid, or skip that state with \
                     --allowNonRestoredState (-n)",
                    op.name
                ));
            }
            tracing::warn!(job_id = %self.job.job_id, operator = %op.name, "skipping state of an operator the job does not have");
        }
        crate::taskmanager::checkpoints::check_channel_state_parallelism(&resolved.metadata, &self.job)
            .map_err(|e| format!("cannot restore the job from '{path}': {e}"))?;
        tracing::info!(job_id = %self.job.job_id, path = %path, checkpoint = %resolved.metadata.checkpoint_id, "restoring the job");
        Ok(Some(Arc::new(CompletedCheckpoint { pointer: resolved.pointer, metadata: resolved.metadata })))
    }

    /// Schedules, deploys and follows the job until it ends.
    pub async fn run(mut self, control: mpsc::UnboundedReceiver<JobControl>) {
        let job_id = self.job.job_id;
        tracing::info!(job_id = %job_id, job = %self.job.job_name, "job submitted");
        if let Err(e) = self.configure() {
            self.handle.set_status(JobStatus::Failed, Some(e));
            return;
        }
        match self.recovery_checkpoint().await {
            Ok(restore) => self.initial_restore = restore,
            Err(e) => {
                self.handle.set_status(JobStatus::Failed, Some(e));
                return;
            }
        }
        if let Err(e) = self.allocate_slots() {
            self.handle.set_status(JobStatus::Failed, Some(e.to_string()));
            return;
        }
        let (updates_tx, updates) = mpsc::unbounded_channel();
        let (reports_tx, checkpoint_reports) = mpsc::unbounded_channel();
        let (io_tx, io) = mpsc::unbounded_channel();
        (self.updates, self.checkpoint_reports, self.io) = (updates_tx, reports_tx, io_tx);
        let mut inboxes = Inboxes { updates, checkpoint_reports, io, control };
        self.handle.set_status(JobStatus::Running, None);
        self.deploy_all(self.initial_restore.clone());
        self.follow(&mut inboxes).await;
        self.finish(&mut inboxes).await;
    }

    /// Allocates the job's slots and assigns every subtask to one (slot sharing:
    /// subtask i of every vertex in group g runs in the group's slot i). With a
    /// program, only TaskManagers that carry it are offered.
    fn allocate_slots(&mut self) -> brook_types::Result<()> {
        let required = self.job.required_slots();
        let total: usize = required.values().sum();
        let detail =
            required.iter().map(|(g, n)| format!("slot sharing group '{g}' needs {n}")).collect::<Vec<_>>().join(", ");
        let program = self.program.as_ref().map(|p| p.spec.program.as_str());
        let slots = self.resource_manager.allocate(self.job.job_id, total, &detail, program)?;
        let mut group_slots: BTreeMap<&str, Vec<_>> = BTreeMap::new();
        let mut next = slots.into_iter();
        for (group, n) in &required {
            group_slots.insert(group.as_str(), next.by_ref().take(*n).collect());
        }
        for v in &self.job.vertices {
            let slots = &group_slots[v.slot_sharing_group.as_str()];
            for (subtask, slot) in slots.iter().take(v.parallelism).enumerate() {
                self.graph.assign(v.id, subtask, slot.task_manager);
                self.handle.set_task_location(v.id, subtask, slot.task_manager);
            }
        }
        Ok(())
    }

    /// How to reach TaskManager `tm` (one that left drops every message).
    fn tm(&self, tm: TaskManagerId) -> Arc<dyn TaskExecutorGateway> {
        self.resource_manager.gateway(tm).unwrap_or_else(|| Arc::new(LostTaskExecutor(tm)))
    }

    /// A TaskManager joined or left the cluster.
    fn on_cluster_event(&mut self, event: Result<ClusterEvent, broadcast::error::RecvError>) {
        match event {
            Ok(ClusterEvent::Lost { task_manager, cause }) => self.on_task_manager_lost(task_manager, cause),
            Ok(ClusterEvent::Registered(_)) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // Missed events: check every location against the slot table.
                let lost: Vec<TaskManagerId> = self
                    .graph
                    .running_subtasks()
                    .into_iter()
                    .map(|(_, _, tm)| tm)
                    .filter(|tm| !self.resource_manager.is_registered(*tm))
                    .collect();
                for tm in lost {
                    self.on_task_manager_lost(tm, format!("TaskManager {tm} left the cluster"));
                }
            }
            Err(broadcast::error::RecvError::Closed) => {}
        }
    }

    /// Every subtask on `tm` that had not ended is FAILED with `cause`; the job fails over.
    fn on_task_manager_lost(&mut self, tm: TaskManagerId, cause: String) {
        let lost: Vec<(VertexId, usize)> = self.graph.unfinished_subtasks_on(tm).into_iter().collect();
        if lost.is_empty() {
            return;
        }
        tracing::warn!(job_id = %self.job.job_id, task_manager = %tm, tasks = lost.len(), "{cause}");
        // A job being canceled only waits for its tasks to end: they did.
        let state = if self.cancel_requested { ExecutionState::Canceled } else { ExecutionState::Failed };
        for (vertex, subtask) in &lost {
            self.graph.force_state(*vertex, *subtask, state);
            self.handle.set_task_state(*vertex, *subtask, state);
        }
        if !self.cancel_requested {
            self.on_failure(cause, true);
        }
    }

    /// Handles messages until every subtask ended and no restart is pending.
    async fn follow(&mut self, inboxes: &mut Inboxes) {
        loop {
            if self.graph.all_terminal() {
                let Some(at) = self.restart_at else { return };
                // Wait out the restart delay; a cancel ends the job instead.
                tokio::select! {
                    _ = tokio::time::sleep_until(tokio::time::Instant::from_std(at)), if !self.waiting_for_slots => {
                        self.restart()
                    }
                    event = self.cluster_events.recv() => {
                        if matches!(event, Ok(ClusterEvent::Registered(_)) | Err(broadcast::error::RecvError::Lagged(_))) {
                            self.waiting_for_slots = false;
                        }
                    }
                    c = inboxes.control.recv() => match c {
                        Some(JobControl::Cancel) => {
                            self.cancel_requested = true;
                            self.restart_at = None;
                        }
                        Some(JobControl::TriggerSavepoint { reply, .. } | JobControl::StopWithSavepoint { reply, .. }) => {
                            let _ = reply.send(Err(format!(
                                "job {} is restarting; trigger the savepoint once it is RUNNING again",
                                self.job.job_id
                            )));
                        }
                        Some(JobControl::TriggerCheckpoint { reply }) => {
                            let _ = reply.send(Err(format!(
                                "job {} is restarting; trigger the checkpoint once it is RUNNING again",
                                self.job.job_id
                            )));
                        }
                        None => {}
                    },
                }
                continue;
            }
            let deadline = self.coordinator.as_ref().and_then(CheckpointCoordinator::next_deadline);
            tokio::select! {
                Some(u) = inboxes.updates.recv() => self.on_task_update(u),
                Some(r) = inboxes.checkpoint_reports.recv() => self.on_checkpoint_report(r),
                Some(io) = inboxes.io.recv() => self.on_io(io),
                event = self.cluster_events.recv() => self.on_cluster_event(event),
                c = inboxes.control.recv() => match c {
                    Some(JobControl::Cancel) if !self.handle.status().is_globally_terminal() => self.on_cancel(),
                    Some(JobControl::TriggerSavepoint { target_directory, cancel_job, reply }) => {
                        let after = if cancel_job { AfterSavepoint::Cancel } else { AfterSavepoint::KeepRunning };
                        self.on_savepoint_request(SnapshotType::Savepoint, target_directory, after, reply);
                    }
                    Some(JobControl::StopWithSavepoint { target_directory, drain, reply }) => {
                        let snapshot_type = SnapshotType::StopWithSavepoint { drain };
                        self.on_savepoint_request(snapshot_type, target_directory, AfterSavepoint::Stop, reply);
                    }
                    Some(JobControl::TriggerCheckpoint { reply }) => self.on_checkpoint_request(reply),
                    _ => {}
                },
                _ = async {
                    match deadline {
                        Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
                        None => std::future::pending().await,
                    }
                } => self.on_tick(),
            }
        }
    }

    fn on_cancel(&mut self) {
        self.cancel_requested = true;
        self.restart_at = None;
        if matches!(self.handle.status(), JobStatus::Running | JobStatus::Restarting) {
            self.handle.set_status(JobStatus::Cancelling, None);
        }
        self.stop_checkpoints("the job is being canceled");
        self.cancel_all();
    }

    /// Deploys every subtask as attempt `self.attempt`, restoring from `restore`.
    fn deploy_all(&mut self, restore: Option<Arc<CompletedCheckpoint>>) {
        let job = self.job.clone();
        let reports = JobReports {
            updates: self.updates.clone(),
            checkpoints: self.checkpoint_reports.clone(),
            metrics: self.handle.metrics.clone(),
        };
        for v in &job.vertices {
            for subtask in 0..v.parallelism {
                let Some(tm) = self.graph.location(v.id, subtask) else { continue };
                self.set_task(v.id, subtask, ExecutionState::Scheduled);
                self.set_task(v.id, subtask, ExecutionState::Deploying);
                let mut descriptor = job.deployment_descriptor(v.id, subtask, self.attempt);
                self.locate_targets(&mut descriptor, tm);
                self.tm(tm).submit_task(&job, self.program.as_ref(), descriptor, &reports, restore.clone());
            }
        }
    }

    /// Sets the data-plane location of every output channel whose target subtask runs
    /// on another TaskManager than `producer` (those channels go over the network).
    fn locate_targets(&self, descriptor: &mut brook_runtime::graph::TaskDeploymentDescriptor, producer: TaskManagerId) {
        for partition in &mut descriptor.outputs {
            for target in &mut partition.targets {
                let Some(tm) = self.graph.location(target.vertex, target.subtask) else { continue };
                if tm == producer {
                    continue;
                }
                target.location = self
                    .resource_manager
                    .data_address(tm)
                    .map(|address| brook_runtime::graph::DataPlaneLocation { task_manager: tm, address });
            }
        }
    }

    /// Redeploys every subtask as the next attempt, from the latest completed checkpoint.
    fn restart(&mut self) {
        // A subtask whose TaskManager left needs new slots: all are allocated again.
        let lost = self.graph.locations().into_iter().any(|tm| !self.resource_manager.is_registered(tm));
        if lost {
            self.resource_manager.release(self.job.job_id);
            if let Err(e) = self.allocate_slots() {
                let waiting = match e {
                    brook_types::BrookError::NotEnoughSlots { required, available, detail } => format!(
                        "waiting for {required} slots, {available} available ({detail}); the job restarts once \
                         enough TaskManagers registered"
                    ),
                    e => format!("waiting for TaskManagers to restart the job: {e}"),
                };
                tracing::warn!(job_id = %self.job.job_id, "{waiting}");
                self.handle.set_last_failure(waiting);
                self.waiting_for_slots = true;
                return;
            }
        }
        self.restart_at = None;
        self.attempt += 1;
        self.graph.reset();
        self.handle.reset_tasks();
        for tm in self.resource_manager.gateways() {
            tm.reset_job_gates(self.job.job_id);
        }
        let restore = self
            .coordinator
            .as_ref()
            .and_then(|c| c.latest_completed().cloned())
            .map(Arc::new)
            .or_else(|| self.initial_restore.clone());
        tracing::info!(
            job_id = %self.job.job_id,
            attempt = self.attempt,
            checkpoint = restore.as_ref().map(|c| c.pointer.dir.as_str()).unwrap_or("none"),
            "restarting the job"
        );
        self.handle.record_restart();
        self.handle.set_status(JobStatus::Running, None);
        self.deploy_all(restore);
    }

    fn set_task(&mut self, vertex: VertexId, subtask: usize, state: ExecutionState) {
        self.graph.set_state(vertex, subtask, state);
        self.handle.set_task_state(vertex, subtask, state);
    }

    fn on_task_update(&mut self, u: TaskStateUpdate) {
        if u.attempt != self.attempt {
            // A report of an attempt that was restarted since.
            return;
        }
        tracing::debug!(vertex = %u.vertex, subtask = u.subtask, attempt = u.attempt, state = u.state.name(), "task state");
        self.set_task(u.vertex, u.subtask, u.state);
        if u.state == ExecutionState::Failed {
            let cause = u.cause.unwrap_or_else(|| "unknown cause".into());
            self.on_failure(cause, true);
        } else if u.state == ExecutionState::Running
            && self.graph.all_running()
            && let Some(c) = self.coordinator.as_mut()
            && self.handle.status() == JobStatus::Running
        {
            // Checkpoints are triggered only while every task runs.
            c.on_running(self.attempt, Instant::now());
        }
    }

    /// A failure of the job: restart it if the strategy allows (and `restartable`),
    /// else fail it with `cause`.
    fn on_failure(&mut self, cause: String, restartable: bool) {
        match self.handle.status() {
            JobStatus::Running => {}
            JobStatus::Cancelling => {
                if self.handle.failure_cause().is_none() {
                    self.handle.set_failure_cause(cause);
                }
                self.handle.set_status(JobStatus::Failing, None);
                self.cancel_all();
                return;
            }
            // Already restarting or failing: this failure is a consequence.
            _ => return,
        }
        let decision = if restartable {
            self.restart_strategy.on_failure(Instant::now())
        } else {
            Decision::GiveUp { reason: "a restart cannot help".to_string() }
        };
        self.stop_checkpoints(&format!("the job failed: {cause}"));
        match decision {
            Decision::Restart { after } => {
                tracing::info!(job_id = %self.job.job_id, cause = %cause, delay_ms = after.as_millis() as u64, "task failed; restarting the job");
                self.handle.set_last_failure(cause);
                self.restart_at = Some(Instant::now() + after);
                self.handle.set_status(JobStatus::Restarting, None);
            }
            Decision::GiveUp { reason } => {
                tracing::info!(job_id = %self.job.job_id, cause = %cause, %reason, "failing the job");
                let cause = match self.restart_strategy {
                    RestartStrategy::NoRestart if restartable => cause,
                    _ => format!("{cause} (the job is not restarted: {reason})"),
                };
                if self.handle.failure_cause().is_none() {
                    self.handle.set_failure_cause(cause);
                }
                self.handle.set_status(JobStatus::Failing, None);
            }
        }
        self.cancel_all();
    }

    /// Aborts pending checkpoints and savepoints (the job restarts or ends), saying `why`.
    fn stop_checkpoints(&mut self, why: &str) {
        if let Some(c) = self.coordinator.as_mut() {
            let actions = c.abort_pending(why);
            self.perform(actions);
        }
    }

    fn on_tick(&mut self) {
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        if let Some(c) = self.coordinator.as_mut() {
            let actions = c.on_tick(Instant::now(), wall);
            self.perform(actions);
        }
    }

    fn on_checkpoint_report(&mut self, report: CheckpointReport) {
        let Some(c) = self.coordinator.as_mut() else { return };
        let actions = match report {
            CheckpointReport::Acknowledge(ack) => c.on_acknowledge(ack),
            CheckpointReport::Decline(decline) => c.on_decline(decline),
        };
        self.perform(actions);
    }

    fn on_io(&mut self, io: IoResult) {
        let Some(c) = self.coordinator.as_mut() else { return };
        let actions = match io {
            IoResult::Location(id, location) => c.on_location(id, location),
            IoResult::Finalized(id, result) => c.on_finalized(id, result, Instant::now()),
        };
        self.perform(actions);
    }

    /// Carries out the coordinator's decisions: storage I/O on spawned tasks,
    /// messages to tasks, failures.
    fn perform(&mut self, actions: Vec<CoordinatorAction>) {
        let job_id = self.job.job_id;
        let mut completed = Vec::new();
        for action in actions {
            match action {
                CoordinatorAction::InitLocation { checkpoint_id } => {
                    let (storage, io) = (self.storage.clone().expect("a coordinator has storage"), self.io.clone());
                    self.io_tasks.spawn(async move {
                        let location = storage.init_checkpoint(job_id, checkpoint_id).await.map_err(|e| e.to_string());
                        let _ = io.send(IoResult::Location(checkpoint_id, location));
                    });
                }
                CoordinatorAction::InitSavepointLocation { checkpoint_id, target } => {
                    let (storage, io) = (self.storage.clone().expect("a coordinator has storage"), self.io.clone());
                    self.io_tasks.spawn(async move {
                        let location = storage
                            .init_savepoint(job_id, checkpoint_id, target.as_deref())
                            .await
                            .map_err(|e| e.to_string());
                        let _ = io.send(IoResult::Location(checkpoint_id, location));
                    });
                }
                CoordinatorAction::TriggerSources { trigger, tasks } => {
                    let barrier = CheckpointBarrier {
                        id: trigger.checkpoint_id,
                        timestamp: i64::try_from(trigger.timestamp_ms).unwrap_or(i64::MAX),
                        is_savepoint: trigger.snapshot_type.is_savepoint(),
                        // Tasks take the unaligned path for these barriers (never for savepoints);
                        // with an aligned-checkpoint-timeout they start aligned and switch.
                        unaligned: !trigger.snapshot_type.is_savepoint()
                            && self.coordinator.as_ref().is_some_and(|c| {
                                c.config().unaligned && c.config().aligned_checkpoint_timeout.is_zero()
                            }),
                    };
                    if trigger.snapshot_type.is_savepoint() {
                        self.trigger_savepoint_at_sources(&trigger, barrier, tasks);
                        continue;
                    }
                    for task in tasks {
                        if let Some(tm) = self.graph.location(task.vertex, task.subtask) {
                            self.tm(tm).trigger_checkpoint(job_id, task, self.attempt, barrier);
                        }
                    }
                }
                CoordinatorAction::Finalize { location, metadata } => {
                    let io = self.io.clone();
                    self.io_tasks.spawn(async move {
                        let id = metadata.checkpoint_id;
                        let result = location.finalize(*metadata).await.map_err(|e| e.to_string());
                        let _ = io.send(IoResult::Finalized(id, result));
                    });
                }
                CoordinatorAction::Discard(plan) => {
                    if !plan.is_empty() {
                        let storage = self.storage.clone().expect("a coordinator has storage");
                        self.io_tasks.spawn(async move {
                            let _ = storage.discard(&plan).await;
                        });
                    }
                }
                CoordinatorAction::NotifyComplete { notification, tasks } => {
                    completed.push(notification.checkpoint_id);
                    // Savepoints are not retained checkpoints: only a checkpoint is recorded.
                    if let Some(latest) = self.coordinator.as_ref().and_then(|c| c.latest_completed())
                        && latest.checkpoint_id() == notification.checkpoint_id
                    {
                        self.handle.record_checkpoint(latest.checkpoint_id(), latest.pointer.dir.clone());
                    }
                    for task in tasks {
                        if let Some(tm) = self.graph.location(task.vertex, task.subtask) {
                            self.tm(tm).notify_checkpoint_complete(job_id, task, self.attempt, notification);
                        }
                    }
                }
                CoordinatorAction::FailJob { cause, restartable } => self.on_failure(cause, restartable),
                CoordinatorAction::SavepointCompleted { checkpoint_id, dir } => {
                    self.on_savepoint_completed(checkpoint_id, dir)
                }
                CoordinatorAction::SavepointFailed { checkpoint_id, cause } => {
                    self.on_savepoint_failed(checkpoint_id, cause)
                }
            }
        }
        self.answer_checkpoint_requests(&completed);
    }

    fn cancel_all(&mut self) {
        for (vertex, subtask, tm) in self.graph.running_subtasks() {
            self.tm(tm).cancel_task(self.job.job_id, vertex, subtask, self.attempt);
            self.set_task(vertex, subtask, ExecutionState::Canceling);
        }
    }

    async fn finish(mut self, inboxes: &mut Inboxes) {
        let job_id = self.job.job_id;
        // Let the checkpoint I/O in flight end, and clean up after what it created for
        // checkpoints that were aborted meanwhile.
        self.stop_checkpoints("the job ended");
        while self.io_tasks.join_next().await.is_some() {
            while let Ok(io) = inboxes.io.try_recv() {
                self.on_io(io);
            }
        }
        let status = if self.handle.failure_cause().is_some() {
            JobStatus::Failed
        } else if self.cancel_requested {
            JobStatus::Canceled
        } else if self.graph.all_finished() {
            JobStatus::Finished
        } else {
            self.handle.set_failure_cause("a task was canceled without a cancel request".into());
            JobStatus::Failed
        };
        if let (Some(c), Some(storage)) = (self.coordinator.as_mut(), self.storage.as_ref()) {
            let termination = match status {
                JobStatus::Finished => JobTermination::Finished,
                JobStatus::Canceled => JobTermination::Canceled,
                _ => JobTermination::Failed,
            };
            for action in c.on_job_end(termination) {
                if let CoordinatorAction::Discard(plan) = action {
                    let _ = storage.discard(&plan).await;
                }
            }
        }
        self.resource_manager.release(job_id);
        for tm in self.resource_manager.gateways() {
            tm.unregister_job(job_id);
        }
        tracing::info!(job_id = %job_id, status = status.name(), "job ended");
        self.handle.set_status(status, None);
        self.answer_stop(status);
    }
}

/// The coordinator's view of the job: every subtask, the sources, every operator.
fn topology(job: &JobGraph) -> JobTopology {
    let mut topology = JobTopology::default();
    for v in &job.vertices {
        for subtask in 0..v.parallelism {
            let task = TaskRef { vertex: v.id, subtask };
            topology.tasks.push(task);
            if v.is_source {
                topology.sources.push(task);
            }
        }
        for op in &v.operators {
            topology.operators.push(OperatorInfo {
                operator_id: op.operator_id,
                uid: op.uid.clone(),
                name: op.name.clone(),
                vertex: v.id,
                parallelism: v.parallelism,
                max_parallelism: v.max_parallelism,
            });
        }
    }
    topology
}
