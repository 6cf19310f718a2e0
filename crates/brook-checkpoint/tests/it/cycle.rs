//! The life of a job's checkpoints: write, finalize, subsume, resolve, read, terminate.

use crate::{Backend, files_under};
use brook_checkpoint::{
    CheckpointMetadata, CheckpointStorage, CompletedCheckpoint, CompletedCheckpointStore,
    ExternalizedCheckpointRetention, JobTermination, KeyedStateHandle, NamedStateHandle, OperatorSnapshot,
    SnapshotFormat, SnapshotKind, StreamStateHandle, SubtaskSnapshot,
};
use brook_types::key_group::KeyGroupRange;
use brook_types::{CheckpointId, JobId, OperatorId};
use bytes::Bytes;

/// Deterministic state bytes, distinct per checkpoint, subtask and purpose.
fn state(n: u64, subtask: usize, purpose: u8, len: usize) -> Bytes {
    (0..len).map(|i| (i as u64 * 31 + n * 7 + subtask as u64 * 3 + u64::from(purpose)) as u8).collect()
}

/// One checkpoint of a keyed operator with two subtasks, as tasks in other processes would
/// write it: each subtask uploads a keyed-state stream (a file), small operator state
/// (inline), and one new shared file while reusing the shared files it got from the
/// previous checkpoint.
async fn take_checkpoint(
    coordinator: &CheckpointStorage,
    task_side: &CheckpointStorage,
    job: JobId,
    n: u64,
    previous_shared: &[Vec<NamedStateHandle>],
) -> (CompletedCheckpoint, Vec<Vec<NamedStateHandle>>) {
    let location = coordinator.init_checkpoint(job, CheckpointId(n)).await.unwrap();
    let reference = location.reference();
    let mut subtasks = Vec::new();
    let mut shared_now = Vec::new();
    for subtask in 0..2 {
        let task_location = task_side.location(&reference).unwrap();
        let range = KeyGroupRange::for_operator_index(128, 2, subtask);
        let keyed = task_location.write_state(state(n, subtask, 1, 30_000)).await.unwrap();
        assert!(matches!(keyed, StreamStateHandle::File { size: 30_000, .. }), "{keyed:?}");
        let operator_state = task_location.write_state(state(n, subtask, 2, 100)).await.unwrap();
        assert!(matches!(operator_state, StreamStateHandle::Inline(_)), "below 20 kb: inline");
        let mut shared = previous_shared.get(subtask).cloned().unwrap_or_default();
        let sst = task_location.write_shared(&format!("{:06}.sst", n), state(n, subtask, 3, 25_000)).await.unwrap();
        assert!(sst.file_path().unwrap().starts_with("../shared/"), "{sst:?}");
        shared.push(NamedStateHandle { name: format!("{:06}.sst", n), handle: sst });
        let meta = task_location.write_state(state(n, subtask, 4, 10)).await.unwrap();
        subtasks.push(SubtaskSnapshot {
            subtask,
            keyed: vec![
                KeyedStateHandle::KeyGroups {
                    key_group_range: range,
                    handle: keyed,
                    key_group_offsets: (0..range.len() as u64).map(|i| i * 100).collect(),
                },
                KeyedStateHandle::Incremental { key_group_range: range, shared: shared.clone(), private: vec![], meta },
            ],
            operator_state: Some(operator_state),
            in_flight: vec![],
            channel_state: None,
        });
        // The next checkpoint reuses only the newest file, as a compaction would leave it.
        shared_now.push(vec![shared.last().unwrap().clone()]);
    }
    let mut metadata = CheckpointMetadata::new(
        job,
        CheckpointId(n),
        1_700_000_000_000 + n,
        SnapshotKind::Checkpoint,
        SnapshotFormat::Native,
    );
    metadata.operators.push(OperatorSnapshot {
        operator_id: OperatorId::from_uid("counts"),
        uid: Some("counts".into()),
        name: "Keyed Aggregation".into(),
        parallelism: 2,
        max_parallelism: 128,
        subtasks,
        coordinator_state: None,
    });
    (location.finalize(metadata).await.unwrap(), shared_now)
}

/// The `chk-<n>` directories with a `_metadata`, and the shared files, of a job.
fn on_disk(backend: &Backend, job: JobId) -> (Vec<String>, usize) {
    let files = files_under(&backend.checkpoint_root.join(job.to_string()));
    let complete = files.iter().filter(|f| f.ends_with("/_metadata")).map(|f| f.replace("/_metadata", "")).collect();
    let shared = files.iter().filter(|f| f.starts_with("shared/")).count();
    (complete, shared)
}

#[tokio::test]
async fn write_finalize_subsume_resolve_read_and_terminate() {
    for mut backend in Backend::all() {
        backend.config.set_dynamic("execution.checkpointing.num-retained=2").unwrap();
        let name = backend.name;
        let coordinator = CheckpointStorage::from_config(&backend.config).unwrap();
        let task_side = CheckpointStorage::from_config(&backend.config).unwrap();
        let job = JobId::generate();
        let mut store = CompletedCheckpointStore::new(2);
        let mut previous_shared = Vec::new();
        let mut latest = None;
        for n in 1..=4u64 {
            let (completed, shared) = take_checkpoint(&coordinator, &task_side, job, n, &previous_shared).await;
            previous_shared = shared;
            let plan = store.add(completed.clone());
            coordinator.discard(&plan).await.unwrap();
            let (complete, shared_files) = on_disk(&backend, job);
            let expected: Vec<String> = (n.saturating_sub(1).max(1)..=n).map(|i| format!("chk-{i}")).collect();
            assert_eq!(complete, expected, "{name}: retained checkpoints after chk-{n}");
            // chk-n uploads one file per subtask and reuses the previous one: retained
            // checkpoints n-1 and n reference the files of n-2, n-1 and n.
            assert_eq!(shared_files, 2 * n.min(3) as usize, "{name}: shared files after chk-{n}");
            for checkpoint in store.retained() {
                assert_eq!(
                    checkpoint.shared_file_urls().len(),
                    if checkpoint.checkpoint_id().0 == 1 { 2 } else { 4 },
                    "{name}"
                );
            }
            latest = Some(completed);
        }
        let latest = latest.unwrap();
        assert!(latest.pointer.dir.ends_with(&format!("{job}/chk-4")), "{name}: {}", latest.pointer);
        assert_eq!(coordinator.latest_checkpoint(job).await.unwrap(), Some(latest.pointer.dir.clone()), "{name}");

        // Restore: by directory, by _metadata file, and (locally) by plain path.
        let mut pointers = vec![latest.pointer.dir.clone(), latest.pointer.metadata_url()];
        if name == "file" {
            pointers.push(latest.pointer.dir.trim_start_matches("file://").to_string());
        }
        for pointer in pointers {
            let restored = coordinator.resolve(&pointer).await.unwrap();
            assert_eq!(restored.metadata, latest.metadata, "{name}: {pointer}");
            assert_eq!(restored.pointer, latest.pointer, "{name}: {pointer}");
            let reader = &restored.reader;
            let op = restored.metadata.operator(OperatorId::from_uid("counts")).unwrap();
            for subtask in &op.subtasks {
                let s = subtask.subtask;
                let KeyedStateHandle::KeyGroups { handle, key_group_offsets, .. } = &subtask.keyed[0] else { panic!() };
                assert_eq!(reader.read_state(handle).await.unwrap(), state(4, s, 1, 30_000), "{name}");
                let range = key_group_offsets[1]..key_group_offsets[2];
                assert_eq!(
                    reader.read_range(handle, range.clone()).await.unwrap(),
                    state(4, s, 1, 30_000).slice(range.start as usize..range.end as usize),
                    "{name}: a key group's bytes"
                );
                let op_state = subtask.operator_state.as_ref().unwrap();
                assert_eq!(reader.read_state(op_state).await.unwrap(), state(4, s, 2, 100), "{name}");
                let KeyedStateHandle::Incremental { shared, .. } = &subtask.keyed[1] else { panic!() };
                let names: Vec<&str> = shared.iter().map(|h| h.name.as_str()).collect();
                assert_eq!(names, ["000003.sst", "000004.sst"], "{name}");
                for (file, n) in shared.iter().zip([3, 4]) {
                    assert_eq!(reader.read_state(&file.handle).await.unwrap(), state(n, s, 3, 25_000), "{name}");
                    let absolute = reader.absolute(&file.handle).unwrap();
                    assert!(absolute.file_path().unwrap().contains(&format!("{job}/shared/")), "{name}: {absolute:?}");
                }
            }
        }

        // Termination: canceled with RETAIN_ON_CANCELLATION keeps everything …
        let kept = store.shutdown(JobTermination::Canceled, ExternalizedCheckpointRetention::RetainOnCancellation);
        assert!(kept.is_empty(), "{name}");
        assert_eq!(on_disk(&backend, job).0, ["chk-3", "chk-4"], "{name}");
        // … a finished job deletes everything.
        let plan = store.shutdown(JobTermination::Finished, ExternalizedCheckpointRetention::RetainOnCancellation);
        coordinator.discard(&plan).await.unwrap();
        assert_eq!(files_under(&backend.checkpoint_root.join(job.to_string())), Vec::<String>::new(), "{name}");
        if name == "file" {
            assert!(!backend.checkpoint_root.join(job.to_string()).exists(), "the empty job directory is removed");
        }
        assert_eq!(coordinator.latest_checkpoint(job).await.unwrap(), None, "{name}");
    }
}

#[tokio::test]
async fn an_aborted_checkpoint_leaves_nothing_behind() {
    for backend in Backend::all() {
        let name = backend.name;
        let storage = CheckpointStorage::from_config(&backend.config).unwrap();
        let job = JobId::generate();
        let mut store = CompletedCheckpointStore::new(1);
        let (completed, previous) = take_checkpoint(&storage, &storage, job, 1, &[]).await;
        store.add(completed);
        let before = files_under(&backend.checkpoint_root.join(job.to_string()));

        // Checkpoint 2: one subtask uploads a new shared file and reuses chk-1's, then the
        // checkpoint is aborted (another subtask declined).
        let location = storage.init_checkpoint(job, CheckpointId(2)).await.unwrap();
        location.write_state(state(2, 0, 1, 30_000)).await.unwrap();
        let new_file = location.write_shared("000002.sst", state(2, 0, 3, 25_000)).await.unwrap();
        let mut shared = previous[0].clone();
        shared.push(NamedStateHandle { name: "000002.sst".into(), handle: new_file });
        let acknowledged = SubtaskSnapshot {
            subtask: 0,
            keyed: vec![KeyedStateHandle::Incremental {
                key_group_range: KeyGroupRange { start: 0, end: 63 },
                shared,
                private: vec![],
                meta: StreamStateHandle::Inline(Bytes::new()),
            }],
            operator_state: None,
            in_flight: vec![],
            channel_state: None,
        };
        let plan = store.plan_abort(&location, [&acknowledged]);
        assert_eq!(plan.checkpoint_dirs, vec![location.dir()], "{name}");
        assert_eq!(plan.shared_files.len(), 1, "{name}: only the file chk-1 does not use: {plan:?}");
        storage.discard(&plan).await.unwrap();
        assert_eq!(files_under(&backend.checkpoint_root.join(job.to_string())), before, "{name}");
    }
}

#[tokio::test]
async fn large_state_is_uploaded_in_parts_and_read_back() {
    for backend in Backend::all() {
        let storage = CheckpointStorage::from_config(&backend.config).unwrap();
        let job = JobId::generate();
        let location = storage.init_checkpoint(job, CheckpointId(1)).await.unwrap();
        let big: Bytes = (0..20 << 20).map(|i: u32| (i % 251) as u8).collect();
        let handle = location.write_state(big.clone()).await.unwrap();
        let mut metadata =
            CheckpointMetadata::new(job, CheckpointId(1), 0, SnapshotKind::Checkpoint, SnapshotFormat::Canonical);
        metadata.master_states.push(brook_checkpoint::metadata::MasterState { name: "big".into(), handle });
        let completed = location.finalize(metadata).await.unwrap();
        let restored = storage.resolve(&completed.pointer.dir).await.unwrap();
        let read = restored.reader.read_state(&restored.metadata.master_states[0].handle).await.unwrap();
        assert!(read == big, "{}: 20 MiB round trip", backend.name);
    }
}
