//! The TaskManager's side of checkpoints: uploading what a task snapshotted and
//! acknowledging it, and reading the state a redeployed task restores from.

use crate::jobmaster::CheckpointReport;
use brook_checkpoint::coordinator::{AcknowledgeCheckpoint, AcknowledgedOperator, DeclineCheckpoint, TaskRef};
use brook_checkpoint::storage::{CheckpointReader, layout};
use brook_checkpoint::{
    ChannelStateHandle, CheckpointMetadata, CheckpointStorage, CompletedCheckpoint, KeyedStateHandle,
    LocationReference, SnapshotKind, SubtaskSnapshot,
};
use brook_runtime::checkpoint::{
    CHANNEL_STATE_VERSION, ChannelStateSnapshot, CheckpointDecline, CheckpointResponder, OperatorRestoreState,
    OperatorSnapshotResult, TaskSnapshot, TaskStateRestore,
};
use brook_runtime::graph::{JobGraph, TaskDeploymentDescriptor};
use brook_state::{KeyedStateSnapshot, OperatorStateBackend, redistribute_operator_state};
use brook_types::key_group::KeyGroupRange;
use brook_types::{CheckpointId, JobId};
use bytes::Bytes;
use std::collections::HashMap;
use tokio::sync::mpsc;

/// Uploads a task's snapshots asynchronously and reports to the JobMaster.
pub(crate) struct TaskCheckpointResponder {
    pub job_id: JobId,
    pub task: TaskRef,
    pub attempt: u32,
    pub name: String,
    pub storage: CheckpointStorage,
    pub reports: mpsc::UnboundedSender<CheckpointReport>,
    pub savepoint_locations: super::SavepointLocations,
}

impl TaskCheckpointResponder {
    fn location_reference(&self, checkpoint: CheckpointId) -> LocationReference {
        if let Some(savepoint) = self.savepoint_locations.lock().get(&(self.job_id, checkpoint)) {
            return savepoint.clone();
        }
        LocationReference {
            job_id: self.job_id,
            checkpoint_id: checkpoint,
            kind: SnapshotKind::Checkpoint,
            dir: format!("{}/{}", self.storage.job_dir(self.job_id), layout::checkpoint_dir_name(checkpoint)),
        }
    }
}

impl CheckpointResponder for TaskCheckpointResponder {
    fn acknowledge(&self, snapshot: TaskSnapshot) {
        let id = snapshot.barrier.id;
        let reference = self.location_reference(id);
        if snapshot.barrier.is_savepoint != (reference.kind == SnapshotKind::Savepoint) {
            // Savepoint state in a checkpoint directory (or the reverse) would not be self-contained.
            self.decline(CheckpointDecline {
                checkpoint_id: id,
                reason: format!(
                    "task '{}' got a barrier of {} {id} but knows {} as its location; this is a bug in the \
                     JobMaster's savepoint trigger",
                    self.name,
                    if snapshot.barrier.is_savepoint { "savepoint" } else { "checkpoint" },
                    reference.dir
                ),
                permanent: false,
            });
            return;
        }
        let (storage, reports, task, attempt, name) =
            (self.storage.clone(), self.reports.clone(), self.task, self.attempt, self.name.clone());
        // The asynchronous part: the task goes on processing while its state uploads.
        tokio::spawn(async move {
            let report =
                match upload_task_snapshot(&storage, &reference, snapshot.operators, snapshot.channel_state).await {
                    Ok(operators) => CheckpointReport::Acknowledge(AcknowledgeCheckpoint {
                        checkpoint_id: id,
                        task,
                        attempt,
                        operators,
                        finished: snapshot.finished,
                    }),
                    Err(e) => CheckpointReport::Decline(DeclineCheckpoint {
                        checkpoint_id: id,
                        task,
                        attempt,
                        reason: format!("task '{name}' could not upload its state: {e}"),
                        permanent: false,
                    }),
                };
            let _ = reports.send(report);
        });
    }

    fn decline(&self, decline: CheckpointDecline) {
        let _ = self.reports.send(CheckpointReport::Decline(DeclineCheckpoint {
            checkpoint_id: decline.checkpoint_id,
            task: self.task,
            attempt: self.attempt,
            reason: decline.reason,
            permanent: decline.permanent,
        }));
    }
}

/// Writes every operator's snapshot through the checkpoint's location.
async fn upload(
    storage: &CheckpointStorage,
    reference: &LocationReference,
    operators: Vec<(brook_types::OperatorId, OperatorSnapshotResult)>,
) -> brook_checkpoint::Result<Vec<AcknowledgedOperator>> {
    let location = storage.location(reference)?;
    let mut acknowledged = Vec::with_capacity(operators.len());
    for (operator_id, result) in operators {
        let mut subtask = SubtaskSnapshot::empty(0);
        if let Some(keyed) = result.keyed {
            let range = keyed.offsets.key_group_range;
            let offsets = keyed.offsets.offsets[..range.len()].to_vec();
            let handle = location.write_state(Bytes::from(keyed.bytes)).await?;
            subtask.keyed.push(KeyedStateHandle::KeyGroups {
                key_group_range: range,
                handle,
                key_group_offsets: offsets,
            });
        }
        if let Some(operator) = result.operator {
            subtask.operator_state = Some(location.write_state(Bytes::from(operator.bytes)).await?);
        }
        let coordinator_state = match result.coordinator {
            Some(bytes) => Some(location.write_state(Bytes::from(bytes)).await?),
            None => None,
        };
        acknowledged.push(AcknowledgedOperator { operator_id, subtask, coordinator_state });
    }
    Ok(acknowledged)
}

/// Uploads the operator snapshots and, for an unaligned checkpoint, the channel state
/// (stored with the first operator of the chain, the head).
async fn upload_task_snapshot(
    storage: &CheckpointStorage,
    reference: &LocationReference,
    operators: Vec<(brook_types::OperatorId, OperatorSnapshotResult)>,
    channel_state: Option<ChannelStateSnapshot>,
) -> brook_checkpoint::Result<Vec<AcknowledgedOperator>> {
    let mut acknowledged = upload(storage, reference, operators).await?;
    if let (Some(state), Some(head)) = (channel_state, acknowledged.first_mut()) {
        head.subtask.channel_state = Some(upload_channel_state(storage, reference, state).await?);
    }
    Ok(acknowledged)
}

/// Writes a task's channel state (unaligned checkpoints) as one state file.
async fn upload_channel_state(
    storage: &CheckpointStorage,
    reference: &LocationReference,
    state: ChannelStateSnapshot,
) -> brook_checkpoint::Result<ChannelStateHandle> {
    let location = storage.location(reference)?;
    let handle = location.write_state(Bytes::from(state.encode())).await?;
    Ok(ChannelStateHandle { format_version: CHANNEL_STATE_VERSION, handle })
}

/// Refuses to start `job` from `metadata` if it holds channel state (an unaligned
/// checkpoint with in-flight data) and an operator of it now runs at another
/// parallelism: channel state cannot be redistributed yet.
pub(crate) fn check_channel_state_parallelism(metadata: &CheckpointMetadata, job: &JobGraph) -> Result<(), String> {
    let with_channel_state = metadata.operators.iter().flat_map(|o| &o.subtasks).any(|s| s.channel_state.is_some());
    if !with_channel_state {
        return Ok(());
    }
    for vertex in &job.vertices {
        for op in &vertex.operators {
            if let Some(old) = metadata.operator(op.operator_id)
                && old.parallelism != vertex.parallelism
            {
                return Err(format!(
                    "checkpoint {} is unaligned and holds in-flight data, and operator '{}' ran at parallelism {} \
                     then and {} now; in-flight data cannot be redistributed: restore at the same parallelism, or \
                     take a savepoint (always aligned) and rescale from it",
                    metadata.checkpoint_id, op.name, old.parallelism, vertex.parallelism
                ));
            }
        }
    }
    Ok(())
}

/// Reads the channel state of subtask `subtask` of the chain's head operator, refusing
/// it at another parallelism (docs/design/unaligned-checkpoints.md, "Rescaling").
async fn read_channel_state(
    reader: &CheckpointReader,
    checkpoint: &CompletedCheckpoint,
    job: &JobGraph,
    descriptor: &TaskDeploymentDescriptor,
) -> Result<Option<ChannelStateSnapshot>, String> {
    let vertex = job.vertex(descriptor.vertex);
    let Some(head) = vertex.operators.first() else { return Ok(None) };
    let Some(snapshot) = checkpoint.metadata.operator(head.operator_id) else { return Ok(None) };
    let with_state = snapshot.subtasks.iter().any(|s| s.channel_state.is_some());
    if with_state && snapshot.parallelism != descriptor.parallelism {
        return Err(format!(
            "task '{}' has in-flight data in unaligned checkpoint {} taken at parallelism {}, and it now runs at \
             parallelism {}; in-flight data cannot be redistributed: restore at parallelism {}, or take a savepoint \
             (always aligned) and rescale from it",
            vertex.name,
            checkpoint.checkpoint_id(),
            snapshot.parallelism,
            descriptor.parallelism,
            snapshot.parallelism
        ));
    }
    let Some(handle) =
        snapshot.subtasks.iter().find(|s| s.subtask == descriptor.subtask_index).and_then(|s| s.channel_state.as_ref())
    else {
        return Ok(None);
    };
    if handle.format_version == 0 || handle.format_version > CHANNEL_STATE_VERSION {
        return Err(format!(
            "the channel state of task '{}' has format version {}, but this Brook reads version {CHANNEL_STATE_VERSION} \
             and older",
            vertex.name, handle.format_version
        ));
    }
    let bytes = reader.read_state(&handle.handle).await.map_err(|e| e.to_string())?;
    ChannelStateSnapshot::decode(&bytes).map(Some).map_err(|e| format!("task '{}': {e}", vertex.name))
}

/// Reads what subtask `descriptor` restores from `checkpoint`: per operator of its
/// chain, the keyed snapshots whose key groups overlap its own, its share of the
/// operator state (`redistribute_operator_state` over all old subtasks), and the
/// operator's coordinator state.
pub(crate) async fn read_restore_state(
    storage: &CheckpointStorage,
    checkpoint: &CompletedCheckpoint,
    job: &JobGraph,
    descriptor: &TaskDeploymentDescriptor,
) -> Result<TaskStateRestore, String> {
    let reader = storage.reader(&checkpoint.pointer.dir).map_err(|e| e.to_string())?;
    let vertex = job.vertex(descriptor.vertex);
    let (p, i) = (descriptor.parallelism, descriptor.subtask_index);
    let mut operators = HashMap::new();
    for op in &vertex.operators {
        let Some(snapshot) = checkpoint.metadata.operator(op.operator_id) else { continue };
        if snapshot.max_parallelism != vertex.max_parallelism {
            return Err(format!(
                "operator '{}' was checkpointed with max parallelism {} but now has {}; the max parallelism of a \
                 stateful operator cannot change",
                op.name, snapshot.max_parallelism, vertex.max_parallelism
            ));
        }
        let range = KeyGroupRange::for_operator_index(vertex.max_parallelism, p, i);
        let mut state = OperatorRestoreState::default();
        for handle in snapshot.subtasks.iter().flat_map(|s| &s.keyed) {
            match handle {
                KeyedStateHandle::KeyGroups { key_group_range, handle, .. } => {
                    if !overlaps(*key_group_range, range) {
                        continue;
                    }
                    let bytes = reader.read_state(handle).await.map_err(|e| e.to_string())?;
                    let keyed = KeyedStateSnapshot::from_bytes(bytes.to_vec())
                        .map_err(|e| format!("the keyed state of operator '{}': {e}", op.name))?;
                    state.keyed.push(keyed);
                }
                KeyedStateHandle::Incremental { .. } => {
                    return Err(format!(
                        "operator '{}' has incremental keyed state, which this state backend cannot restore",
                        op.name
                    ));
                }
            }
        }
        if snapshot.subtasks.iter().any(|s| s.operator_state.is_some()) {
            let mut old = Vec::with_capacity(snapshot.subtasks.len());
            for s in &snapshot.subtasks {
                old.push(match &s.operator_state {
                    Some(handle) => reader.read_state(handle).await.map_err(|e| e.to_string())?.to_vec(),
                    None => empty_operator_state()?,
                });
            }
            let mut redistributed = redistribute_operator_state(&old, p)
                .map_err(|e| format!("the operator state of operator '{}': {e}", op.name))?;
            state.operator = Some(std::mem::take(&mut redistributed[i]));
        }
        if let Some(handle) = &snapshot.coordinator_state {
            state.coordinator = Some(reader.read_state(handle).await.map_err(|e| e.to_string())?.to_vec());
        }
        if !state.is_empty() {
            operators.insert(op.operator_id, state);
        }
    }
    let channel_state = read_channel_state(&reader, checkpoint, job, descriptor).await?;
    Ok(TaskStateRestore { checkpoint_id: checkpoint.checkpoint_id(), operators, channel_state })
}

fn overlaps(a: KeyGroupRange, b: KeyGroupRange) -> bool {
    !a.is_empty() && !b.is_empty() && a.start <= b.end && b.start <= a.end
}

fn empty_operator_state() -> Result<Vec<u8>, String> {
    OperatorStateBackend::new("").snapshot().map(|s| s.bytes).map_err(|e| e.to_string())
}
