//! The checkpoint coordinator: when to trigger checkpoint n, when it is complete, what
//! a failure means. Pure decisions — every method takes the time and returns
//! [`CoordinatorAction`]s; the JobMaster performs them (storage I/O on spawned tasks,
//! messages to tasks) and feeds the results back in. The same code will run behind
//! RPC.
//!
//! # Protocol
//!
//! Stages of checkpoint n, and the messages in order:
//!
//! 1. **Trigger.** On a tick, if checkpointing is enabled, fewer than
//!    `max-concurrent-checkpoints` are pending, `interval` has passed since the last
//!    trigger and `min-pause` since the last completion, the coordinator takes the
//!    next id n and asks for a location ([`CoordinatorAction::InitLocation`]: the
//!    JobMaster calls `CheckpointStorage::init_checkpoint`, then
//!    [`CheckpointCoordinator::on_location`]). With the location it sends
//!    [`TriggerCheckpoint`] to every source task ([`CoordinatorAction::TriggerSources`]).
//!    Precondition: every task of the job is deployed (the JobMaster does not tick
//!    while the job is restarting).
//! 2. **Barriers.** A source records its position, snapshots its chain and emits
//!    barrier n; every other task aligns barrier n on all its inputs, snapshots its
//!    chain and forwards it (brook-runtime's `checkpoint` module). Each task uploads
//!    its state through the location and sends [`AcknowledgeCheckpoint`] — or
//!    [`DeclineCheckpoint`].
//! 3. **Complete.** When every task acknowledged n, the coordinator builds the
//!    [`CheckpointMetadata`] and asks for it to be written
//!    ([`CoordinatorAction::Finalize`]: `CheckpointLocation::finalize`, then
//!    [`CheckpointCoordinator::on_finalized`]). It adds the checkpoint to the
//!    [`CompletedCheckpointStore`] (whose [`DiscardPlan`] deletes subsumed ones), aborts
//!    older pending checkpoints, and sends [`NotifyCheckpointComplete`] to every task.
//!    Only now may sinks commit.
//! 4. **Abort.** A decline, a timeout (`execution.checkpointing.timeout` after the
//!    trigger), or a failed location or finalize aborts n: its directory (and shared
//!    files nobody else references) is discarded, and the failure counts. More than
//!    `tolerable-failed-checkpoints` consecutive failures fail the job
//!    ([`CoordinatorAction::FailJob`], restartable); a permanent decline (an operator
//!    that cannot snapshot) fails it at once, not restartable. A completed
//!    checkpoint resets the count. Acknowledgements of aborted checkpoints are ignored.
//! 5. **Final checkpoint.** A task whose input ended keeps taking part (barriers follow
//!    the end of input). The first checkpoint in which every task acknowledged with
//!    `finished` is the job's final checkpoint: its notification carries
//!    `final_checkpoint`, tasks finish on it, and no checkpoint is triggered after it.
//! 6. **Restart.** [`CheckpointCoordinator::on_restart`] aborts everything pending
//!    (not counted as failures); the JobMaster redeploys from
//!    [`CheckpointCoordinator::latest_completed`] and calls
//!    [`CheckpointCoordinator::on_running`] once the tasks run again.
//!
//! 7. **Savepoints** ([`CheckpointCoordinator::trigger_savepoint`]) go through the same
//!    stages with the next id of the same counter, a location from
//!    `CheckpointStorage::init_savepoint` ([`CoordinatorAction::InitSavepointLocation`])
//!    and barriers with `is_savepoint`. Like Flink's, they are forced: triggered at once,
//!    whatever `interval`, `min-pause` and `max-concurrent-checkpoints` say, also when
//!    periodic checkpointing is off, and concurrently with pending checkpoints. They
//!    never enter the [`CompletedCheckpointStore`], neither subsume nor are subsumed,
//!    and a failed one does not count against `tolerable-failed-checkpoints`: it ends
//!    with [`CoordinatorAction::SavepointFailed`] (the job keeps running), a completed
//!    one with [`CoordinatorAction::NotifyComplete`] then
//!    [`CoordinatorAction::SavepointCompleted`]. A stop-with-savepoint stops periodic
//!    triggering while it is pending; when it completes, its notification is the
//!    job's final one and everything else pending is aborted. docs/design/savepoints.md.
//!
//! Ids only grow, across restarts too, so a late message of an old attempt can never
//! be mistaken for a new checkpoint.

mod manual;
mod messages;
mod savepoints;
#[cfg(test)]
mod tests;

pub use messages::{
    AcknowledgeCheckpoint, AcknowledgedOperator, DeclineCheckpoint, NotifyCheckpointComplete, SnapshotType, TaskRef,
    TriggerCheckpoint,
};

use crate::config::CheckpointingConfig;
use crate::metadata::{CheckpointMetadata, OperatorSnapshot, SnapshotFormat, SnapshotKind, SubtaskSnapshot};
use crate::retention::{CompletedCheckpointStore, DiscardPlan, JobTermination};
use crate::storage::{CheckpointLocation, CompletedCheckpoint};
use brook_types::{CheckpointId, JobId, OperatorId, VertexId};
use std::collections::BTreeMap;
use std::time::Instant;

/// One operator of the job, as `_metadata` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorInfo {
    pub operator_id: OperatorId,
    pub uid: Option<String>,
    pub name: String,
    /// The vertex (chain) it runs in.
    pub vertex: VertexId,
    pub parallelism: usize,
    pub max_parallelism: usize,
}

/// What the coordinator knows about the job: its tasks, which of them are sources,
/// and its operators.
#[derive(Clone, Debug, Default)]
pub struct JobTopology {
    pub tasks: Vec<TaskRef>,
    pub sources: Vec<TaskRef>,
    pub operators: Vec<OperatorInfo>,
}

/// What the JobMaster must do.
#[derive(Debug)]
pub enum CoordinatorAction {
    /// Create the directory of checkpoint `checkpoint_id`, then call `on_location`.
    InitLocation { checkpoint_id: CheckpointId },
    /// Create the directory of savepoint `checkpoint_id` under `target`
    /// (`CheckpointStorage::init_savepoint`), then call `on_location`.
    InitSavepointLocation { checkpoint_id: CheckpointId, target: Option<String> },
    /// Send `trigger` to these source tasks.
    TriggerSources { trigger: TriggerCheckpoint, tasks: Vec<TaskRef> },
    /// Write `_metadata` (`location.finalize(metadata)`), then call `on_finalized`.
    Finalize { location: CheckpointLocation, metadata: Box<CheckpointMetadata> },
    /// Delete these files (`CheckpointStorage::discard`).
    Discard(DiscardPlan),
    /// Send `notification` to every task.
    NotifyComplete { notification: NotifyCheckpointComplete, tasks: Vec<TaskRef> },
    /// The job must fail with `cause`; `restartable`: the restart strategy decides.
    FailJob { cause: String, restartable: bool },
    /// Savepoint `checkpoint_id` completed in `dir` (what `brook run -s` takes).
    SavepointCompleted { checkpoint_id: CheckpointId, dir: String },
    /// Savepoint `checkpoint_id` failed; the job keeps running.
    SavepointFailed { checkpoint_id: CheckpointId, cause: String },
}

#[derive(Debug)]
enum Stage {
    /// Waiting for its location.
    Initializing,
    /// Triggered at the sources; collecting acknowledgements.
    Triggered { location: CheckpointLocation, acks: BTreeMap<TaskRef, AcknowledgeCheckpoint> },
    /// `_metadata` is being written. The acknowledgements stay: if the checkpoint is
    /// aborted now, the shared files its tasks uploaded must be deleted.
    Finalizing { location: CheckpointLocation, final_checkpoint: bool, acks: BTreeMap<TaskRef, AcknowledgeCheckpoint> },
}

#[derive(Debug)]
struct PendingCheckpoint {
    triggered_at: Instant,
    timestamp_ms: u64,
    snapshot_type: SnapshotType,
    stage: Stage,
}

/// The checkpoint coordinator of one job (Flink's `CheckpointCoordinator`).
#[derive(Debug)]
pub struct CheckpointCoordinator {
    job_id: JobId,
    config: CheckpointingConfig,
    topology: JobTopology,
    attempt: u32,
    next_id: u64,
    pending: BTreeMap<CheckpointId, PendingCheckpoint>,
    store: CompletedCheckpointStore,
    consecutive_failures: usize,
    /// The reference point of the next periodic trigger.
    last_trigger: Instant,
    last_completion: Option<Instant>,
    /// Tasks are deployed and running (not restarting).
    running: bool,
    /// The final checkpoint completed: nothing more is triggered.
    final_completed: bool,
    /// A stop-with-savepoint is pending: no periodic checkpoint is triggered.
    stopping: Option<CheckpointId>,
}

impl CheckpointCoordinator {
    /// A coordinator for a job whose tasks are being deployed (call
    /// [`on_running`](Self::on_running) when they run). The first checkpoint is
    /// triggered one interval after that.
    pub fn new(job_id: JobId, config: CheckpointingConfig, topology: JobTopology, now: Instant) -> Self {
        let store = CompletedCheckpointStore::new(config.num_retained);
        Self {
            job_id,
            config,
            topology,
            attempt: 0,
            next_id: 1,
            pending: BTreeMap::new(),
            store,
            consecutive_failures: 0,
            last_trigger: now,
            last_completion: None,
            running: false,
            final_completed: false,
            stopping: None,
        }
    }

    pub fn config(&self) -> &CheckpointingConfig {
        &self.config
    }

    pub fn is_enabled(&self) -> bool {
        self.config.is_enabled()
    }

    /// The attempt whose acknowledgements count.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The checkpoint a failover restores.
    pub fn latest_completed(&self) -> Option<&CompletedCheckpoint> {
        self.store.latest()
    }

    /// The checkpoints in progress.
    pub fn pending_ids(&self) -> Vec<CheckpointId> {
        self.pending.keys().copied().collect()
    }

    /// The tasks of attempt `attempt` run: periodic triggering starts one interval from now.
    pub fn on_running(&mut self, attempt: u32, now: Instant) {
        self.attempt = attempt;
        self.running = true;
        self.last_trigger = now;
    }

    /// When the JobMaster must call [`on_tick`](Self::on_tick) next.
    pub fn next_deadline(&self) -> Option<Instant> {
        let timeouts = self.pending.values().map(|p| p.triggered_at + self.config.timeout);
        let periodic = self.running && !self.final_completed && self.stopping.is_none();
        let trigger = self.config.interval.filter(|_| periodic).map(|interval| {
            let after_pause = self.last_completion.map(|c| c + self.config.min_pause);
            (self.last_trigger + interval).max(after_pause.unwrap_or(self.last_trigger))
        });
        timeouts.chain(trigger).min()
    }

    /// Expires pending checkpoints and triggers a new one when it is time.
    /// `wall_clock_ms` (ms since the epoch) becomes the checkpoint's timestamp.
    pub fn on_tick(&mut self, now: Instant, wall_clock_ms: u64) -> Vec<CoordinatorAction> {
        let mut actions = Vec::new();
        let expired: Vec<CheckpointId> = self
            .pending
            .iter()
            .filter(|(_, p)| now >= p.triggered_at + self.config.timeout)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            let noun = self.pending[&id].snapshot_type.noun();
            let reason = format!(
                "{noun} {id} expired before completing (execution.checkpointing.timeout is {:?})",
                self.config.timeout
            );
            self.abort(id, &reason, true, false, &mut actions);
        }
        let Some(interval) = self.config.interval else { return actions };
        let paused = self.last_completion.is_some_and(|c| now < c + self.config.min_pause);
        if self.running
            && !self.final_completed
            && self.stopping.is_none()
            && self.pending.len() < self.config.max_concurrent
            && now >= self.last_trigger + interval
            && !paused
        {
            let id = CheckpointId(self.next_id);
            self.next_id += 1;
            self.last_trigger = now;
            self.pending.insert(
                id,
                PendingCheckpoint {
                    triggered_at: now,
                    timestamp_ms: wall_clock_ms,
                    snapshot_type: SnapshotType::Checkpoint,
                    stage: Stage::Initializing,
                },
            );
            tracing::debug!(job_id = %self.job_id, checkpoint_id = %id, "triggering checkpoint");
            actions.push(CoordinatorAction::InitLocation { checkpoint_id: id });
        }
        actions
    }

    /// The location of checkpoint `id` was created (or could not be).
    pub fn on_location(
        &mut self,
        id: CheckpointId,
        location: Result<CheckpointLocation, String>,
    ) -> Vec<CoordinatorAction> {
        let mut actions = Vec::new();
        let Some(pending) = self.pending.get_mut(&id) else {
            // Aborted meanwhile: remove what was created.
            if let Ok(location) = location {
                actions.push(CoordinatorAction::Discard(self.store.plan_abort(&location, [])));
            }
            return actions;
        };
        match location {
            Ok(location) => {
                let trigger = TriggerCheckpoint {
                    checkpoint_id: id,
                    snapshot_type: pending.snapshot_type,
                    timestamp_ms: pending.timestamp_ms,
                    location: location.reference(),
                };
                pending.stage = Stage::Triggered { location, acks: BTreeMap::new() };
                actions.push(CoordinatorAction::TriggerSources { trigger, tasks: self.topology.sources.clone() });
            }
            Err(e) => {
                let advice = if pending.snapshot_type.is_savepoint() {
                    "; the job keeps running: trigger the savepoint again into a directory that can be created and \
                     written"
                } else {
                    ""
                };
                let reason =
                    format!("{} {id} could not create its directory: {e}{advice}", pending.snapshot_type.noun());
                self.abort(id, &reason, true, false, &mut actions);
            }
        }
        actions
    }

    /// A task acknowledged; when it is the last one, the checkpoint is finalized.
    pub fn on_acknowledge(&mut self, ack: AcknowledgeCheckpoint) -> Vec<CoordinatorAction> {
        if ack.attempt != self.attempt {
            return Vec::new();
        }
        let id = ack.checkpoint_id;
        let Some(PendingCheckpoint { stage: Stage::Triggered { acks, .. }, .. }) = self.pending.get_mut(&id) else {
            tracing::debug!(checkpoint_id = %id, "acknowledgement of a checkpoint that is not pending");
            return Vec::new();
        };
        acks.insert(ack.task, ack);
        if acks.len() < self.topology.tasks.len() {
            return Vec::new();
        }
        let pending = self.pending.get_mut(&id).expect("matched above");
        let Stage::Triggered { location, acks } = std::mem::replace(&mut pending.stage, Stage::Initializing) else {
            unreachable!("matched above")
        };
        // A stop-with-savepoint ends the job whether or not the inputs ended (no drain).
        let final_checkpoint = acks.values().all(|a| a.finished) || pending.snapshot_type.stops_job();
        let (timestamp_ms, kind) = (pending.timestamp_ms, location.kind());
        let metadata = self.metadata(id, timestamp_ms, kind, &acks);
        let pending = self.pending.get_mut(&id).expect("matched above");
        pending.stage = Stage::Finalizing { location: location.clone(), final_checkpoint, acks };
        vec![CoordinatorAction::Finalize { location, metadata: Box::new(metadata) }]
    }

    /// A task declined checkpoint `decline.checkpoint_id`.
    pub fn on_decline(&mut self, decline: DeclineCheckpoint) -> Vec<CoordinatorAction> {
        let mut actions = Vec::new();
        if decline.attempt == self.attempt && self.pending.contains_key(&decline.checkpoint_id) {
            let noun = self.pending[&decline.checkpoint_id].snapshot_type.noun();
            let reason = format!("{noun} {} was declined: {}", decline.checkpoint_id, decline.reason);
            self.abort(decline.checkpoint_id, &reason, true, decline.permanent, &mut actions);
        }
        actions
    }

    /// `_metadata` of checkpoint `id` was written (or not).
    pub fn on_finalized(
        &mut self,
        id: CheckpointId,
        result: Result<CompletedCheckpoint, String>,
        now: Instant,
    ) -> Vec<CoordinatorAction> {
        let mut actions = Vec::new();
        let Some(pending) = self.pending.remove(&id) else {
            // Aborted while its metadata was written: it must not look complete.
            if let Ok(completed) = result {
                let plan = DiscardPlan { checkpoint_dirs: vec![completed.pointer.dir], ..DiscardPlan::default() };
                actions.push(CoordinatorAction::Discard(plan));
            }
            return actions;
        };
        let Stage::Finalizing { location, final_checkpoint, acks } = pending.stage else {
            self.pending.insert(id, pending);
            return actions;
        };
        let completed = match result {
            Ok(completed) => completed,
            Err(e) => {
                let reason = format!("{} {id} could not write its metadata: {e}", pending.snapshot_type.noun());
                tracing::warn!(job_id = %self.job_id, checkpoint_id = %id, %reason, "aborting checkpoint");
                let uploaded = acks.values().flat_map(|a| a.operators.iter().map(|o| &o.subtask));
                actions.push(CoordinatorAction::Discard(self.store.plan_abort(&location, uploaded)));
                if pending.snapshot_type.is_savepoint() {
                    self.savepoint_failed(id, reason, &mut actions);
                } else {
                    self.count_failure(&reason, false, &mut actions);
                }
                return actions;
            }
        };
        if pending.snapshot_type.is_savepoint() {
            self.savepoint_completed(id, pending.snapshot_type, final_checkpoint, completed, &mut actions);
            return actions;
        }
        tracing::info!(
            job_id = %self.job_id,
            checkpoint_id = %id,
            duration_ms = now.duration_since(pending.triggered_at).as_millis() as u64,
            final_checkpoint,
            "checkpoint complete"
        );
        self.consecutive_failures = 0;
        self.last_completion = Some(now);
        actions.push(CoordinatorAction::Discard(self.store.add(completed)));
        // Older checkpoints still pending are subsumed by this one (savepoints never are).
        let older: Vec<CheckpointId> = self
            .pending
            .iter()
            .filter(|(p, pending)| **p < id && !pending.snapshot_type.is_savepoint())
            .map(|(p, _)| *p)
            .collect();
        for old in older {
            self.abort(old, &format!("checkpoint {old} was subsumed by checkpoint {id}"), false, false, &mut actions);
        }
        if final_checkpoint {
            self.final_completed = true;
            self.abort_all_but(id, &mut actions);
        }
        actions.push(CoordinatorAction::NotifyComplete {
            notification: NotifyCheckpointComplete { checkpoint_id: id, final_checkpoint },
            tasks: self.topology.tasks.clone(),
        });
        actions
    }

    /// The job is restarting: everything pending is aborted without counting as a
    /// failure, and nothing is triggered until [`on_running`](Self::on_running).
    pub fn on_restart(&mut self) -> Vec<CoordinatorAction> {
        self.abort_pending("the job is restarting")
    }

    /// Like [`on_restart`](Self::on_restart), saying `why` (the job is being canceled,
    /// failed or ended) to whoever waits for a pending savepoint.
    pub fn abort_pending(&mut self, why: &str) -> Vec<CoordinatorAction> {
        self.running = false;
        let mut actions = Vec::new();
        let ids: Vec<CheckpointId> = self.pending.keys().copied().collect();
        for id in ids {
            let noun = self.pending[&id].snapshot_type.noun();
            self.abort(id, &format!("{noun} {id} was aborted: {why}"), false, false, &mut actions);
        }
        actions
    }

    /// The job ended: what to delete of the retained checkpoints and of pending ones.
    pub fn on_job_end(&mut self, termination: JobTermination) -> Vec<CoordinatorAction> {
        let mut actions = self.on_restart();
        actions.push(CoordinatorAction::Discard(self.store.shutdown(termination, self.config.retention)));
        actions
    }

    fn abort(
        &mut self,
        id: CheckpointId,
        reason: &str,
        counts: bool,
        permanent: bool,
        actions: &mut Vec<CoordinatorAction>,
    ) {
        let Some(pending) = self.pending.remove(&id) else { return };
        tracing::warn!(job_id = %self.job_id, checkpoint_id = %id, %reason, "aborting {}", pending.snapshot_type.noun());
        match &pending.stage {
            Stage::Initializing => {}
            // Also while `_metadata` is written: a checkpoint aborted then (the job is
            // canceled, or a newer one completed first) never completes, so nothing
            // else would delete the new shared files its tasks uploaded.
            Stage::Triggered { location, acks } | Stage::Finalizing { location, acks, .. } => {
                let plan =
                    self.store.plan_abort(location, acks.values().flat_map(|a| a.operators.iter().map(|o| &o.subtask)));
                actions.push(CoordinatorAction::Discard(plan));
            }
        }
        if pending.snapshot_type.is_savepoint() {
            // A savepoint is the user's request: it fails alone (Flink's savepoint
            // failures are not counted against tolerable-failed-checkpoints).
            self.savepoint_failed(id, reason.to_string(), actions);
        } else if counts {
            self.count_failure(reason, permanent, actions);
        }
    }

    /// Aborts everything pending but `id` (the job's final checkpoint completed).
    fn abort_all_but(&mut self, id: CheckpointId, actions: &mut Vec<CoordinatorAction>) {
        let others: Vec<CheckpointId> = self.pending.keys().copied().filter(|p| *p != id).collect();
        for other in others {
            let noun = self.pending[&other].snapshot_type.noun();
            let reason = format!("{noun} {other} was aborted: the job finished with {id}");
            self.abort(other, &reason, false, false, actions);
        }
    }

    fn count_failure(&mut self, reason: &str, permanent: bool, actions: &mut Vec<CoordinatorAction>) {
        self.consecutive_failures += 1;
        if permanent {
            self.running = false;
            actions.push(CoordinatorAction::FailJob { cause: reason.to_string(), restartable: false });
        } else if self.consecutive_failures > self.config.tolerable_failures {
            self.running = false;
            actions.push(CoordinatorAction::FailJob {
                cause: format!(
                    "{} consecutive checkpoint failures exceed execution.checkpointing.tolerable-failed-checkpoints \
                     ({}); the last: {reason}",
                    self.consecutive_failures, self.config.tolerable_failures
                ),
                restartable: true,
            });
            self.consecutive_failures = 0;
        }
    }

    /// The metadata of checkpoint `id` from every task's acknowledgement.
    fn metadata(
        &self,
        id: CheckpointId,
        timestamp_ms: u64,
        kind: SnapshotKind,
        acks: &BTreeMap<TaskRef, AcknowledgeCheckpoint>,
    ) -> CheckpointMetadata {
        let mut metadata = CheckpointMetadata::new(self.job_id, id, timestamp_ms, kind, SnapshotFormat::Canonical);
        for op in &self.topology.operators {
            let mut subtasks = Vec::with_capacity(op.parallelism);
            let mut coordinator_state = None;
            for subtask in 0..op.parallelism {
                let acked = acks
                    .get(&TaskRef { vertex: op.vertex, subtask })
                    .and_then(|a| a.operators.iter().find(|o| o.operator_id == op.operator_id));
                match acked {
                    Some(o) => {
                        subtasks.push(SubtaskSnapshot { subtask, ..o.subtask.clone() });
                        if coordinator_state.is_none() {
                            coordinator_state.clone_from(&o.coordinator_state);
                        }
                    }
                    None => subtasks.push(SubtaskSnapshot::empty(subtask)),
                }
            }
            metadata.operators.push(OperatorSnapshot {
                operator_id: op.operator_id,
                uid: op.uid.clone(),
                name: op.name.clone(),
                parallelism: op.parallelism,
                max_parallelism: op.max_parallelism,
                subtasks,
                coordinator_state,
            });
        }
        metadata
    }
}
