//! The TaskManager's side of checkpoints: uploading what a task snapshotted and
//! acknowledging it, and reading the state a redeployed task restores from.
//!
//! Incremental keyed state (RocksDB): new SST files go to the job's `shared/`
//! directory; the handles of every shared file this task uploaded (or restored) are
//! remembered per operator ([`SharedFileHandles`]) so that a later checkpoint that
//! reuses a file references the same handle. The backend only reuses files of the
//! last completed checkpoint, which is retained, so a reused handle always points at
//! a file that exists (docs/design/state.md, "Incremental checkpoints").

use crate::jobmaster::CheckpointReport;
use brook_checkpoint::coordinator::{AcknowledgeCheckpoint, AcknowledgedOperator, DeclineCheckpoint, TaskRef};
use brook_checkpoint::storage::{CheckpointReader, layout};
use brook_checkpoint::{
    ChannelStateHandle, CheckpointLocation, CheckpointMetadata, CheckpointStorage, CompletedCheckpoint,
    KeyedStateHandle, LocationReference, NamedStateHandle, SnapshotKind, StreamStateHandle, SubtaskSnapshot,
};
use brook_runtime::checkpoint::{
    CHANNEL_STATE_VERSION, ChannelStateSnapshot, CheckpointDecline, CheckpointResponder, IncrementalKeyedRestore,
    IncrementalKeyedSnapshot, LocalStateDir, OperatorRestoreState, OperatorSnapshotResult, TaskSnapshot,
    TaskStateRestore,
};
use brook_runtime::graph::{JobGraph, TaskDeploymentDescriptor};
use brook_runtime::state_backend::StateBackendSettings;
use brook_state::{KeyedStateSnapshot, OperatorStateBackend, redistribute_operator_state};
use brook_types::key_group::KeyGroupRange;
use brook_types::{CheckpointId, JobId, OperatorId};
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Per operator of a task, the handle of every shared file (by the backend's name for
/// it) the task uploaded or restored: what a reused file is referenced by.
pub(crate) type SharedFileHandles = Arc<Mutex<HashMap<OperatorId, HashMap<String, StreamStateHandle>>>>;

/// How long a task waits for the location of a savepoint whose barrier it got.
const SAVEPOINT_LOCATION_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Uploads a task's snapshots asynchronously and reports to the JobMaster.
#[derive(Clone)]
pub(crate) struct TaskCheckpointResponder {
    pub job_id: JobId,
    pub task: TaskRef,
    pub attempt: u32,
    pub name: String,
    pub storage: CheckpointStorage,
    pub reports: mpsc::UnboundedSender<CheckpointReport>,
    pub savepoint_locations: super::SavepointLocations,
    /// Shared files uploaded by this task attempt, or restored by it.
    pub shared_files: SharedFileHandles,
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
        if snapshot.barrier.is_savepoint && reference.kind != SnapshotKind::Savepoint {
            // The savepoint's location comes from the JobMaster over the control plane,
            // its barrier through the data plane from a source on another TaskManager:
            // the barrier can win. Wait for the location (the JobMaster sent it before
            // it triggered the sources), then upload.
            let this = self.clone();
            tokio::spawn(async move {
                let deadline = tokio::time::Instant::now() + SAVEPOINT_LOCATION_WAIT;
                loop {
                    let reference = this.location_reference(id);
                    if reference.kind == SnapshotKind::Savepoint {
                        this.upload_and_report(snapshot, reference);
                        return;
                    }
                    if tokio::time::Instant::now() >= deadline {
                        this.send_decline(CheckpointDecline {
                            checkpoint_id: id,
                            reason: format!(
                                "task '{}' got a barrier of savepoint {id}, but the JobMaster did not say where to \
                                 write it within {} s",
                                this.name,
                                SAVEPOINT_LOCATION_WAIT.as_secs()
                            ),
                            permanent: false,
                        });
                        return;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
            });
            return;
        }
        if snapshot.barrier.is_savepoint != (reference.kind == SnapshotKind::Savepoint) {
            // Savepoint state in a checkpoint directory (or the reverse) would not be self-contained.
            self.send_decline(CheckpointDecline {
                checkpoint_id: id,
                reason: format!(
                    "task '{}' got a barrier of checkpoint {id} but knows {} as its location (a savepoint's); this \
                     is a bug in the JobMaster's savepoint trigger",
                    self.name, reference.dir
                ),
                permanent: false,
            });
            return;
        }
        self.upload_and_report(snapshot, reference);
    }

    fn decline(&self, decline: CheckpointDecline) {
        self.send_decline(decline)
    }
}

impl TaskCheckpointResponder {
    /// The asynchronous part: the task goes on processing while its state uploads.
    fn upload_and_report(&self, snapshot: TaskSnapshot, reference: LocationReference) {
        let id = snapshot.barrier.id;
        let (storage, reports, task, attempt, name) =
            (self.storage.clone(), self.reports.clone(), self.task, self.attempt, self.name.clone());
        let shared_files = self.shared_files.clone();
        tokio::spawn(async move {
            let report = match upload_task_snapshot(
                &storage,
                &reference,
                snapshot.operators,
                snapshot.channel_state,
                &shared_files,
            )
            .await
            {
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

    fn send_decline(&self, decline: CheckpointDecline) {
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
    operators: Vec<(OperatorId, OperatorSnapshotResult)>,
    shared_files: &SharedFileHandles,
) -> Result<Vec<AcknowledgedOperator>, String> {
    let location = storage.location(reference).map_err(|e| e.to_string())?;
    let mut acknowledged = Vec::with_capacity(operators.len());
    for (operator_id, result) in operators {
        let mut subtask = SubtaskSnapshot::empty(0);
        if let Some(incremental) = result.incremental {
            subtask.keyed.push(upload_incremental(&location, operator_id, incremental, shared_files).await?);
        }
        if let Some(keyed) = result.keyed {
            let range = keyed.offsets.key_group_range;
            let offsets = keyed.offsets.offsets[..range.len()].to_vec();
            let handle = location.write_state(Bytes::from(keyed.bytes)).await.map_err(|e| e.to_string())?;
            subtask.keyed.push(KeyedStateHandle::KeyGroups {
                key_group_range: range,
                handle,
                key_group_offsets: offsets,
            });
        }
        if let Some(operator) = result.operator {
            let handle = location.write_state(Bytes::from(operator.bytes)).await.map_err(|e| e.to_string())?;
            subtask.operator_state = Some(handle);
        }
        let coordinator_state = match result.coordinator {
            Some(bytes) => Some(location.write_state(Bytes::from(bytes)).await.map_err(|e| e.to_string())?),
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
    shared_files: &SharedFileHandles,
) -> Result<Vec<AcknowledgedOperator>, String> {
    let mut acknowledged = upload(storage, reference, operators, shared_files).await?;
    if let (Some(state), Some(head)) = (channel_state, acknowledged.first_mut()) {
        head.subtask.channel_state =
            Some(upload_channel_state(storage, reference, state).await.map_err(|e| e.to_string())?);
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

/// Uploads the new files of an incremental snapshot to the shared directory and
/// references the reused ones by the handles they were uploaded (or restored) with.
async fn upload_incremental(
    location: &CheckpointLocation,
    operator: OperatorId,
    snapshot: IncrementalKeyedSnapshot,
    shared_files: &SharedFileHandles,
) -> Result<KeyedStateHandle, String> {
    let mut shared = Vec::with_capacity(snapshot.new_files.len() + snapshot.reused_files.len());
    for file in &snapshot.reused_files {
        let known = shared_files.lock().get(&operator).and_then(|files| files.get(&file.name)).cloned();
        if let Some(handle) = known {
            shared.push(NamedStateHandle { name: file.name.clone(), handle });
        }
    }
    // New files, and reused ones without a handle here (restored from another job's
    // checkpoint, which this job must not share: Flink's NO_CLAIM mode).
    let reused_known: std::collections::HashSet<&str> = shared.iter().map(|n| n.name.as_str()).collect();
    let to_upload: Vec<_> = snapshot
        .new_files
        .iter()
        .chain(snapshot.reused_files.iter().filter(|f| !reused_known.contains(f.name.as_str())))
        .cloned()
        .collect();
    for file in to_upload {
        let bytes = tokio::fs::read(&file.path)
            .await
            .map_err(|e| format!("cannot read the local state file {}: {e}", file.path.display()))?;
        let handle = location.write_shared(&file.name, Bytes::from(bytes)).await.map_err(|e| e.to_string())?;
        shared_files.lock().entry(operator).or_default().insert(file.name.clone(), handle.clone());
        shared.push(NamedStateHandle { name: file.name, handle });
    }
    let mut private = Vec::with_capacity(snapshot.private_files.len());
    for (name, bytes) in snapshot.private_files {
        let handle = location.write_state(Bytes::from(bytes)).await.map_err(|e| e.to_string())?;
        private.push(NamedStateHandle { name, handle });
    }
    let meta = location.write_state(Bytes::from(snapshot.meta)).await.map_err(|e| e.to_string())?;
    // The local files are no longer needed.
    drop(snapshot.local_dir);
    Ok(KeyedStateHandle::Incremental { key_group_range: snapshot.key_group_range, shared, private, meta })
}

/// Reads what subtask `descriptor` restores from `checkpoint`: per operator of its
/// chain, the keyed snapshots whose key groups overlap its own, its share of the
/// operator state (`redistribute_operator_state` over all old subtasks), and the
/// operator's coordinator state.
///
/// Incremental keyed state is downloaded into local directories (under
/// `state.backend.rocksdb.localdir`); the handles of its shared files go into
/// `shared_files`, so that the restored backend's next checkpoint can reference them.
pub(crate) async fn read_restore_state(
    storage: &CheckpointStorage,
    checkpoint: &CompletedCheckpoint,
    job: &JobGraph,
    descriptor: &TaskDeploymentDescriptor,
    shared_files: &SharedFileHandles,
) -> Result<TaskStateRestore, String> {
    let reader = storage.reader(&checkpoint.pointer.dir).map_err(|e| e.to_string())?;
    let backend = StateBackendSettings::from_config(&job.configuration).map_err(|e| e.to_string())?;
    // After a failover the restored shared files are this job's: later checkpoints
    // reference them (same relative paths, so the shared registry counts them). Another
    // job's files are never referenced: the first checkpoint uploads its own copies
    // (Flink's NO_CLAIM restore mode), so neither job deletes what the other uses.
    let same_job_dir = checkpoint.pointer.dir.rsplit_once('/').map(|(job_dir, _)| job_dir)
        == Some(storage.job_dir(descriptor.job_id).as_str());
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
                KeyedStateHandle::Incremental { key_group_range, shared, private, meta } => {
                    if !overlaps(*key_group_range, range) {
                        continue;
                    }
                    let restore = download_incremental(&reader, &backend, *key_group_range, shared, private, meta)
                        .await
                        .map_err(|e| format!("the incremental keyed state of operator '{}': {e}", op.name))?;
                    state.incremental.push(restore);
                    if same_job_dir {
                        let mut known = shared_files.lock();
                        let files = known.entry(op.operator_id).or_default();
                        files.extend(shared.iter().map(|f| (f.name.clone(), f.handle.clone())));
                    }
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

/// Downloads every file of one old subtask's incremental snapshot into a new local
/// directory, under the names the backend gave them.
async fn download_incremental(
    reader: &CheckpointReader,
    backend: &StateBackendSettings,
    key_group_range: KeyGroupRange,
    shared: &[NamedStateHandle],
    private: &[NamedStateHandle],
    meta: &StreamStateHandle,
) -> Result<IncrementalKeyedRestore, String> {
    let local = backend.local_dir();
    std::fs::create_dir_all(&local).map_err(|e| format!("cannot create {}: {e}", local.display()))?;
    let dir = tempfile::Builder::new()
        .prefix("brook-restore-")
        .tempdir_in(&local)
        .map_err(|e| format!("cannot create a directory in {}: {e}", local.display()))?;
    for file in shared.iter().chain(private) {
        if file.name.contains('/') || file.name.contains('\\') || file.name.starts_with('.') {
            return Err(format!("the checkpoint names a state file '{}', which is not a plain file name", file.name));
        }
        let bytes = reader.read_state(&file.handle).await.map_err(|e| e.to_string())?;
        let path = dir.path().join(&file.name);
        tokio::fs::write(&path, &bytes).await.map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let meta = reader.read_state(meta).await.map_err(|e| e.to_string())?.to_vec();
    Ok(IncrementalKeyedRestore { key_group_range, meta, dir: LocalStateDir::new(dir) })
}

fn overlaps(a: KeyGroupRange, b: KeyGroupRange) -> bool {
    !a.is_empty() && !b.is_empty() && a.start <= b.end && b.start <= a.end
}

fn empty_operator_state() -> Result<Vec<u8>, String> {
    OperatorStateBackend::new("").snapshot().map(|s| s.bytes).map_err(|e| e.to_string())
}
