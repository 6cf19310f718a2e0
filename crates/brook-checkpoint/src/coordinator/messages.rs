//! The messages of the checkpoint protocol between the JobMaster and the tasks. They
//! are plain, serializable data so that they can cross a process boundary unchanged.

use crate::metadata::{StreamStateHandle, SubtaskSnapshot};
use crate::storage::LocationReference;
use brook_types::{CheckpointId, OperatorId, VertexId};
use serde::{Deserialize, Serialize};

/// One subtask of the job, as the coordinator knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TaskRef {
    pub vertex: VertexId,
    pub subtask: usize,
}

/// What a trigger asks of the tasks (Flink's `SnapshotType`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SnapshotType {
    /// A periodic checkpoint: retained for failover, subsumed by later ones.
    #[default]
    Checkpoint,
    /// A savepoint: self-contained, owned by the user, never retained or discarded by
    /// the coordinator; the job keeps running.
    Savepoint,
    /// Stop-with-savepoint: the sources stop at the savepoint's barrier (with `drain`
    /// they first end event time and their input, so every window and timer fires and
    /// every operator finishes); once it completed, every task finishes.
    StopWithSavepoint { drain: bool },
}

impl SnapshotType {
    pub fn is_savepoint(self) -> bool {
        !matches!(self, Self::Checkpoint)
    }

    /// The job finishes with this snapshot.
    pub fn stops_job(self) -> bool {
        matches!(self, Self::StopWithSavepoint { .. })
    }

    /// "checkpoint" or "savepoint", for messages.
    pub fn noun(self) -> &'static str {
        if self.is_savepoint() { "savepoint" } else { "checkpoint" }
    }
}

/// JobMaster → source task: take part in checkpoint `checkpoint_id` now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerCheckpoint {
    pub checkpoint_id: CheckpointId,
    /// Checkpoint, savepoint or stop-with-savepoint; the barrier's `is_savepoint`
    /// follows it.
    pub snapshot_type: SnapshotType,
    /// When the coordinator triggered it (ms since the epoch); carried by the barrier.
    pub timestamp_ms: u64,
    /// Where the tasks write their state.
    pub location: LocationReference,
}

/// The state one operator subtask acknowledged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcknowledgedOperator {
    pub operator_id: OperatorId,
    pub subtask: SubtaskSnapshot,
    /// State of the operator as a whole (a source's split discovery), from one subtask.
    pub coordinator_state: Option<StreamStateHandle>,
}

/// Task → JobMaster: the task's state for checkpoint `checkpoint_id` is uploaded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcknowledgeCheckpoint {
    pub checkpoint_id: CheckpointId,
    pub task: TaskRef,
    /// The attempt (restart epoch) of the task; acknowledgements of older attempts are stale.
    pub attempt: u32,
    /// Every operator of the task's chain, stateless ones with an empty snapshot.
    pub operators: Vec<AcknowledgedOperator>,
    /// The task's input had ended when it took the snapshot.
    pub finished: bool,
}

/// Task → JobMaster: the task cannot take part in checkpoint `checkpoint_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclineCheckpoint {
    pub checkpoint_id: CheckpointId,
    pub task: TaskRef,
    pub attempt: u32,
    /// What went wrong, naming the operator and the task.
    pub reason: String,
    /// Retrying cannot help (an operator without a snapshot implementation).
    pub permanent: bool,
}

/// JobMaster → every task: checkpoint `checkpoint_id` is complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyCheckpointComplete {
    pub checkpoint_id: CheckpointId,
    /// Every task took part after its input ended: the job's last checkpoint; tasks
    /// finish when they get it.
    pub final_checkpoint: bool,
}
