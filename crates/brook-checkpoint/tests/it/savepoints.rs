//! Savepoints: self-contained, relocatable, never deleted by Brook.

use crate::{Backend, files_under};
use brook_checkpoint::metadata::MasterState;
use brook_checkpoint::{
    CheckpointError, CheckpointMetadata, CheckpointStorage, CompletedCheckpointStore, ExternalizedCheckpointRetention,
    JobTermination, SnapshotFormat, SnapshotKind, StreamStateHandle,
};
use brook_types::config::Configuration;
use brook_types::{CheckpointId, JobId};
use bytes::Bytes;

fn savepoint_metadata(job: JobId, n: u64, handles: Vec<StreamStateHandle>) -> CheckpointMetadata {
    let mut metadata =
        CheckpointMetadata::new(job, CheckpointId(n), 0, SnapshotKind::Savepoint, SnapshotFormat::Canonical);
    metadata.master_states =
        handles.into_iter().enumerate().map(|(i, handle)| MasterState { name: format!("s{i}"), handle }).collect();
    metadata
}

#[tokio::test]
async fn a_moved_savepoint_restores_from_its_new_place() {
    for backend in Backend::all() {
        let name = backend.name;
        let storage = CheckpointStorage::from_config(&backend.config).unwrap();
        let job: JobId = "abcdef0123456789abcdef0123456789".parse().unwrap();
        let location = storage.init_savepoint(job, CheckpointId(9), None).await.unwrap();
        let dir_name = location.dir().rsplit('/').next().unwrap().to_string();
        assert!(dir_name.starts_with("savepoint-abcdef-") && dir_name.len() == 29, "{name}: {dir_name}");

        let big = Bytes::from(vec![1u8; 40_000]);
        let shared = Bytes::from(vec![2u8; 30_000]);
        let handles = vec![
            location.write_state(big.clone()).await.unwrap(),
            location.write_shared("000001.sst", shared.clone()).await.unwrap(),
            location.write_state(Bytes::from_static(b"tiny")).await.unwrap(),
        ];
        for handle in &handles[..2] {
            let path = handle.file_path().unwrap();
            assert!(!path.contains('/'), "{name}: savepoint files are plain names in their directory: {path}");
        }
        let completed = location.finalize(savepoint_metadata(job, 9, handles)).await.unwrap();
        let files = files_under(&backend.savepoint_root.join(&dir_name));
        assert_eq!(files.len(), 3, "{name}: _metadata and two state files: {files:?}");
        assert!(files.contains(&"_metadata".to_string()), "{name}: {files:?}");

        // Savepoints are not Brook's to delete.
        let mut store = CompletedCheckpointStore::new(1);
        assert!(store.add(completed.clone()).is_empty());
        let plan = store.shutdown(JobTermination::Finished, ExternalizedCheckpointRetention::NoExternalizedCheckpoints);
        storage.discard(&plan).await.unwrap();
        assert_eq!(files_under(&backend.savepoint_root.join(&dir_name)).len(), 3, "{name}");

        // Move the whole directory elsewhere and restore from there.
        std::fs::create_dir_all(&backend.scratch_root).unwrap();
        std::fs::rename(backend.savepoint_root.join(&dir_name), backend.scratch_root.join(&dir_name)).unwrap();
        let moved = format!("{}/{dir_name}", backend.scratch_url);
        let restored = storage.resolve(&format!("{moved}/_metadata")).await.unwrap();
        assert_eq!(restored.pointer.dir, moved, "{name}");
        assert_eq!(restored.metadata, completed.metadata, "{name}");
        let read: Vec<Bytes> = {
            let mut out = Vec::new();
            for m in &restored.metadata.master_states {
                out.push(restored.reader.read_state(&m.handle).await.unwrap());
            }
            out
        };
        assert_eq!(read, vec![big, shared, Bytes::from_static(b"tiny")], "{name}");
    }
}

#[tokio::test]
async fn a_savepoint_goes_to_the_requested_directory() {
    for backend in Backend::all() {
        let storage = CheckpointStorage::from_config(&backend.config).unwrap();
        let job = JobId::generate();
        let location = storage.init_savepoint(job, CheckpointId(1), Some(&backend.scratch_url)).await.unwrap();
        assert!(location.dir().starts_with(&format!("{}/savepoint-", backend.scratch_url)), "{}", location.dir());
        let completed = location.finalize(savepoint_metadata(job, 1, vec![])).await.unwrap();
        assert_eq!(storage.resolve(&completed.pointer.dir).await.unwrap().metadata.kind, SnapshotKind::Savepoint);
    }
}

#[tokio::test]
async fn a_savepoint_that_points_outside_itself_is_refused() {
    let backend = Backend::local();
    let storage = CheckpointStorage::from_config(&backend.config).unwrap();
    let job = JobId::generate();
    let location = storage.init_savepoint(job, CheckpointId(1), None).await.unwrap();
    let outside = StreamStateHandle::File { path: "../shared/abc-000001.sst".into(), size: 3 };
    let err = location.finalize(savepoint_metadata(job, 1, vec![outside])).await.unwrap_err();
    assert!(matches!(err, CheckpointError::NotSelfContained { .. }), "{err:?}");
    assert!(err.to_string().contains("state file '../shared/abc-000001.sst' lies outside its directory"), "{err}");
    assert!(files_under(&backend.savepoint_root).is_empty(), "no _metadata was written");
}

#[tokio::test]
async fn a_savepoint_needs_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Configuration::new();
    config.set_dynamic(&format!("execution.checkpointing.dir={}", dir.path().display())).unwrap();
    let storage = CheckpointStorage::from_config(&config).unwrap();
    let err = storage.init_savepoint(JobId::generate(), CheckpointId(1), None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "no savepoint directory: pass a target directory or set execution.checkpointing.savepoint-dir \
         (e.g. file:///var/lib/brook/savepoints)"
    );
}
