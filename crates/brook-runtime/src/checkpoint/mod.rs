//! Checkpoints inside a task: the operator snapshot hooks and their contexts, what a
//! task hands to its TaskManager, and barrier alignment.
//!
//! ```text
//!  trigger n (mailbox, sources)          barrier n on every input channel (other tasks)
//!        │                                      │ BarrierAligner (alignment.rs)
//!        ▼                                      ▼ all channels delivered n (or ended)
//!  TaskCheckpoints::perform ──▶ 1. every operator of the chain: snapshot_state  (synchronous)
//!                               2. barrier n into every record writer, behind what is buffered
//!                               3. CheckpointResponder::acknowledge(TaskSnapshot)  → upload (async,
//!                                  in the TaskManager) → acknowledgement to the coordinator
//!  notify-complete n (mailbox) ──▶ every operator: notify_checkpoint_complete(n)
//! ```
//!
//! Operators take part through three hooks on [`OneInputOperator`](crate::output::OneInputOperator)
//! and [`TwoInputOperator`](crate::operators::TwoInputOperator):
//!
//! - `snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError>`:
//!   put the operator's state into `ctx` (keyed state as a canonical
//!   [`KeyedStateSnapshot`], operator state as an [`OperatorStateSnapshot`]). **The default
//!   refuses** with [`SnapshotError::NotSupported`]: an operator that keeps state must say
//!   how it is snapshotted, and a stateless one says so by returning `Ok(())`. A refusal
//!   declines the checkpoint with the operator's name; state is never skipped silently.
//! - `initialize_state(&mut self, ctx: &StateInitializationContext) -> Result<(), SnapshotError>`:
//!   restore from the snapshots of the previous run (called before the first record, only
//!   when restoring). The default refuses if there is state to restore.
//! - `notify_checkpoint_complete(&mut self, checkpoint: CheckpointId) -> Result<(), SnapshotError>`:
//!   checkpoint `checkpoint` is durable (two-phase-commit sinks commit here). Default: nothing.
//!
//! Unaligned checkpoints (`execution.checkpointing.unaligned.enabled`): the first
//! barrier snapshots at once and overtakes the queued output, the other input channels
//! are recorded until their barriers arrive, and the task acknowledges with that
//! [`ChannelStateSnapshot`] ([`TaskCheckpoints::perform_unaligned`], `channel_state.rs`).
//!
//! The design is in `docs/design/checkpointing.md` and `docs/design/unaligned-checkpoints.md`.

mod alignment;
mod channel_state;
mod handler;
mod incremental;
mod timers;

pub use alignment::{AlignmentAction, BarrierAligner, is_unaligned};
pub use channel_state::{
    CHANNEL_STATE_VERSION, ChannelData, ChannelStateSnapshot, ElementCodec, is_channel_data, stops_overtaking,
};
pub use handler::{ChainSnapshot, ChainVisitor, CheckpointHooks, TaskCheckpoints};
pub use incremental::{IncrementalKeyedRestore, IncrementalKeyedSnapshot, LocalStateDir, LocalStateFile};
pub use timers::CheckpointedTimers;

use brook_state::{KeyedStateSnapshot, OperatorStateSnapshot, StateError};
use brook_types::{CheckpointBarrier, CheckpointId, OperatorId, Timestamp};
use std::collections::HashMap;

/// Why an operator could not snapshot or restore its state.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The operator keeps state but has no snapshot implementation.
    #[error(
        "this operator keeps state but cannot snapshot it yet; run the job without checkpointing \
         (remove execution.checkpointing.interval) until it can"
    )]
    NotSupported,
    /// The state backend failed to write or read a snapshot.
    #[error(transparent)]
    State(#[from] StateError),
    /// Anything else, said by the operator.
    #[error("{0}")]
    Failed(String),
}

/// What `snapshot_state` fills in for one operator subtask.
#[derive(Debug)]
pub struct StateSnapshotContext {
    checkpoint_id: CheckpointId,
    timestamp: Timestamp,
    is_savepoint: bool,
    result: OperatorSnapshotResult,
}

impl StateSnapshotContext {
    pub fn new(checkpoint_id: CheckpointId, timestamp: Timestamp) -> Self {
        Self { checkpoint_id, timestamp, is_savepoint: false, result: OperatorSnapshotResult::default() }
    }

    /// Marks the snapshot as a savepoint's ([`CheckpointBarrier::is_savepoint`]).
    pub fn with_savepoint(mut self, is_savepoint: bool) -> Self {
        self.is_savepoint = is_savepoint;
        self
    }

    /// A savepoint: keyed state must be written in the canonical format (restorable by
    /// every backend, at any parallelism), never incrementally.
    pub fn is_savepoint(&self) -> bool {
        self.is_savepoint
    }

    pub fn checkpoint_id(&self) -> CheckpointId {
        self.checkpoint_id
    }

    /// When the coordinator triggered the checkpoint (ms since the epoch).
    pub fn checkpoint_timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The operator's keyed state (state backend, timers, own tables) by key group.
    pub fn set_keyed_state(&mut self, snapshot: KeyedStateSnapshot) {
        self.result.keyed = Some(snapshot);
    }

    /// The operator's keyed state as a native incremental snapshot (RocksDB, checkpoints
    /// only); timers and other state of the operator still go to [`Self::set_keyed_state`].
    pub fn set_incremental_keyed_state(&mut self, snapshot: IncrementalKeyedSnapshot) {
        self.result.incremental = Some(snapshot);
    }

    /// The operator's operator state (split lists, union lists, broadcast state).
    pub fn set_operator_state(&mut self, snapshot: OperatorStateSnapshot) {
        self.result.operator = Some(snapshot);
    }

    /// State of the operator as a whole rather than of a subtask (a source's split
    /// discovery); one subtask reports it.
    pub fn set_coordinator_state(&mut self, bytes: Vec<u8>) {
        self.result.coordinator = Some(bytes);
    }

    pub fn into_result(self) -> OperatorSnapshotResult {
        self.result
    }
}

/// The snapshot of one operator subtask, as bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperatorSnapshotResult {
    pub keyed: Option<KeyedStateSnapshot>,
    /// Keyed state as a native incremental snapshot (next to `keyed`, which then holds
    /// what the backend does not: timers).
    pub incremental: Option<IncrementalKeyedSnapshot>,
    pub operator: Option<OperatorStateSnapshot>,
    pub coordinator: Option<Vec<u8>>,
}

impl OperatorSnapshotResult {
    pub fn is_empty(&self) -> bool {
        self.keyed.is_none() && self.incremental.is_none() && self.operator.is_none() && self.coordinator.is_none()
    }
}

/// What one operator subtask restores from (read from the checkpoint by the TaskManager).
#[derive(Clone, Debug, Default)]
pub struct OperatorRestoreState {
    /// The keyed snapshots of the old subtasks whose key groups overlap this subtask's;
    /// restore reads only this subtask's key groups from them.
    pub keyed: Vec<KeyedStateSnapshot>,
    /// The incremental (native RocksDB) snapshots of the old subtasks whose key groups
    /// overlap this subtask's, downloaded.
    pub incremental: Vec<IncrementalKeyedRestore>,
    /// This subtask's operator state, already redistributed
    /// (`brook_state::redistribute_operator_state`).
    pub operator: Option<OperatorStateSnapshot>,
    pub coordinator: Option<Vec<u8>>,
}

impl OperatorRestoreState {
    pub fn is_empty(&self) -> bool {
        self.keyed.is_empty() && self.incremental.is_empty() && self.operator.is_none() && self.coordinator.is_none()
    }
}

/// What `initialize_state` restores from.
#[derive(Clone, Debug)]
pub struct StateInitializationContext {
    checkpoint_id: CheckpointId,
    state: OperatorRestoreState,
}

impl StateInitializationContext {
    pub fn new(checkpoint_id: CheckpointId, state: OperatorRestoreState) -> Self {
        Self { checkpoint_id, state }
    }

    /// The checkpoint the job restores from.
    pub fn restored_checkpoint(&self) -> CheckpointId {
        self.checkpoint_id
    }

    pub fn keyed_state(&self) -> &[KeyedStateSnapshot] {
        &self.state.keyed
    }

    /// Keyed state from incremental checkpoints (only a RocksDB backend restores it).
    pub fn incremental_keyed_state(&self) -> &[IncrementalKeyedRestore] {
        &self.state.incremental
    }

    pub fn operator_state(&self) -> Option<&OperatorStateSnapshot> {
        self.state.operator.as_ref()
    }

    pub fn coordinator_state(&self) -> Option<&[u8]> {
        self.state.coordinator.as_deref()
    }

    /// Whether there is anything to restore.
    pub fn has_state(&self) -> bool {
        !self.state.is_empty()
    }
}

/// The state one task restores from, by operator.
#[derive(Clone, Debug)]
pub struct TaskStateRestore {
    pub checkpoint_id: CheckpointId,
    pub operators: HashMap<OperatorId, OperatorRestoreState>,
    /// The task's channel state from an unaligned checkpoint: replayed into its outputs,
    /// then into its operators, before anything new.
    pub channel_state: Option<ChannelStateSnapshot>,
}

impl TaskStateRestore {
    /// The initialization context of `operator`, if the task restores at all.
    pub fn context_for(&self, operator: OperatorId) -> StateInitializationContext {
        StateInitializationContext::new(self.checkpoint_id, self.operators.get(&operator).cloned().unwrap_or_default())
    }
}

/// What a task produced for one checkpoint: the snapshot of every operator of its chain.
#[derive(Clone, Debug)]
pub struct TaskSnapshot {
    pub barrier: CheckpointBarrier,
    pub operators: Vec<(OperatorId, OperatorSnapshotResult)>,
    /// The task's input had ended when it took the snapshot (see "final checkpoint" in
    /// docs/design/checkpointing.md).
    pub finished: bool,
    /// Unaligned checkpoints: the data the task had in flight, if any.
    pub channel_state: Option<ChannelStateSnapshot>,
}

/// Why a task declined a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointDecline {
    pub checkpoint_id: CheckpointId,
    pub reason: String,
    /// Retrying cannot help (an operator that cannot snapshot its state).
    pub permanent: bool,
}

/// Where a task sends what it produced for checkpoints: the TaskManager, which
/// uploads the snapshot asynchronously and acknowledges to the coordinator.
pub trait CheckpointResponder: Send + Sync {
    fn acknowledge(&self, snapshot: TaskSnapshot);
    fn decline(&self, decline: CheckpointDecline);
}

/// A responder that drops everything (checkpointing disabled).
pub struct NoCheckpoints;

impl CheckpointResponder for NoCheckpoints {
    fn acknowledge(&self, _snapshot: TaskSnapshot) {}
    fn decline(&self, _decline: CheckpointDecline) {}
}

/// How a task takes part in checkpoints.
#[derive(Clone)]
pub struct TaskCheckpointSettings {
    pub responder: std::sync::Arc<dyn CheckpointResponder>,
    /// EXACTLY_ONCE blocks channels during alignment; AT_LEAST_ONCE does not.
    pub exactly_once: bool,
    /// Checkpointing is on: a task whose input ended waits for the final checkpoint
    /// before it finishes.
    pub wait_for_final_checkpoint: bool,
    /// Unaligned checkpoints with `execution.checkpointing.aligned-checkpoint-timeout`:
    /// a checkpoint starts aligned and switches to unaligned once this long passed
    /// since it was triggered.
    pub aligned_checkpoint_timeout: Option<std::time::Duration>,
}

impl Default for TaskCheckpointSettings {
    fn default() -> Self {
        Self {
            responder: std::sync::Arc::new(NoCheckpoints),
            exactly_once: true,
            wait_for_final_checkpoint: false,
            aligned_checkpoint_timeout: None,
        }
    }
}
