//! What goes wrong, and that the errors say what, where, and what to do.

use crate::Backend;
use brook_checkpoint::metadata::MasterState;
use brook_checkpoint::{
    CheckpointError, CheckpointMetadata, CheckpointStorage, CompletedCheckpoint, SnapshotFormat, SnapshotKind,
};
use brook_types::config::Configuration;
use brook_types::{CheckpointId, JobId};
use bytes::Bytes;

async fn complete_checkpoint(storage: &CheckpointStorage, job: JobId, n: u64, state: Bytes) -> CompletedCheckpoint {
    let location = storage.init_checkpoint(job, CheckpointId(n)).await.unwrap();
    let handle = location.write_state(state).await.unwrap();
    let mut metadata =
        CheckpointMetadata::new(job, CheckpointId(n), 0, SnapshotKind::Checkpoint, SnapshotFormat::Canonical);
    metadata.master_states.push(MasterState { name: "state".into(), handle });
    location.finalize(metadata).await.unwrap()
}

#[tokio::test]
async fn a_missing_checkpoint_says_what_to_pass() {
    for backend in Backend::all() {
        let storage = CheckpointStorage::from_config(&backend.config).unwrap();
        let url = format!("{}/nothing/chk-1", storage.checkpoint_dir());
        let err = storage.resolve(&url).await.unwrap_err();
        assert!(matches!(err, CheckpointError::NotFound { .. }), "{}: {err:?}", backend.name);
        assert_eq!(
            err.to_string(),
            format!(
                "no checkpoint or savepoint at {url}: the directory does not exist or is empty; pass a checkpoint \
                 directory (…/<job-id>/chk-<n>), a savepoint directory (…/savepoint-…), or a _metadata file"
            )
        );
    }
}

#[tokio::test]
async fn an_incomplete_checkpoint_points_at_the_latest_complete_one() {
    for backend in Backend::all() {
        let name = backend.name;
        let storage = CheckpointStorage::from_config(&backend.config).unwrap();
        let job = JobId::generate();
        let first = complete_checkpoint(&storage, job, 1, Bytes::from(vec![0u8; 30_000])).await;
        // Checkpoint 2 wrote state but was never finalized.
        let location = storage.init_checkpoint(job, CheckpointId(2)).await.unwrap();
        location.write_state(Bytes::from(vec![0u8; 30_000])).await.unwrap();

        let err = storage.resolve(&location.dir()).await.unwrap_err();
        assert!(matches!(err, CheckpointError::Incomplete { .. }), "{name}: {err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "the checkpoint at {} is incomplete: it has no _metadata file, so it was never finalized (the job \
                 failed or was canceled while taking it); restore from another checkpoint or savepoint; the job's \
                 latest complete checkpoint is {}",
                location.dir(),
                first.pointer.dir
            )
        );
        assert_eq!(storage.latest_checkpoint(job).await.unwrap(), Some(first.pointer.dir.clone()), "{name}");

        // The job directory itself is not a checkpoint either, but we know which one to use.
        let err = storage.resolve(&storage.job_dir(job)).await.unwrap_err();
        assert!(
            err.to_string().ends_with(&format!(
                "this looks like a job's checkpoint directory; its latest complete checkpoint is {}",
                first.pointer.dir
            )),
            "{name}: {err}"
        );

        // An aborted checkpoint is cleaned up.
        location.discard().await.unwrap();
        let err = storage.resolve(&location.dir()).await.unwrap_err();
        assert!(matches!(err, CheckpointError::NotFound { .. }), "{name}: {err:?}");
    }
}

#[tokio::test]
async fn metadata_of_a_newer_version_is_refused() {
    for backend in Backend::all() {
        let storage = CheckpointStorage::from_config(&backend.config).unwrap();
        let job = JobId::generate();
        let completed = complete_checkpoint(&storage, job, 1, Bytes::from_static(b"x")).await;
        // Rewrite _metadata as a future Brook would (the S3 server keeps objects as files).
        let file = backend.checkpoint_root.join(job.to_string()).join("chk-1/_metadata");
        let text = std::fs::read_to_string(&file).unwrap().replace("\"version\": 1", "\"version\": 7");
        std::fs::write(&file, text).unwrap();
        let err = storage.resolve(&completed.pointer.dir).await.unwrap_err();
        assert!(matches!(err, CheckpointError::UnsupportedVersion { found: 7, supported: 2, .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with(&format!("{}/_metadata has checkpoint metadata version 7", completed.pointer.dir))
        );
    }
}

#[tokio::test]
async fn a_checkpoint_is_finalized_once() {
    for backend in Backend::all() {
        let storage = CheckpointStorage::from_config(&backend.config).unwrap();
        let job = JobId::generate();
        complete_checkpoint(&storage, job, 1, Bytes::from_static(b"x")).await;
        let location = storage.init_checkpoint(job, CheckpointId(1)).await.unwrap();
        let metadata =
            CheckpointMetadata::new(job, CheckpointId(1), 0, SnapshotKind::Checkpoint, SnapshotFormat::Canonical);
        let err = location.finalize(metadata).await.unwrap_err();
        assert!(matches!(err, CheckpointError::AlreadyExists { .. }), "{}: {err:?}", backend.name);
        assert!(err.to_string().contains(&format!("another run of job {job} wrote checkpoints here")), "{err}");
    }
}

#[tokio::test]
async fn a_lost_or_truncated_state_file_is_reported() {
    for backend in Backend::all() {
        let storage = CheckpointStorage::from_config(&backend.config).unwrap();
        let job = JobId::generate();
        let completed = complete_checkpoint(&storage, job, 1, Bytes::from(vec![5u8; 30_000])).await;
        let handle = &completed.metadata.master_states[0].handle;
        let file = backend.checkpoint_root.join(job.to_string()).join("chk-1").join(handle.file_path().unwrap());
        let restored = storage.resolve(&completed.pointer.dir).await.unwrap();

        std::fs::write(&file, [5u8; 10]).unwrap();
        let err = restored.reader.read_state(handle).await.unwrap_err();
        assert!(err.to_string().contains("the state file has 10 bytes but the checkpoint recorded 30000"), "{err}");

        std::fs::remove_file(&file).unwrap();
        let err = restored.reader.read_state(handle).await.unwrap_err();
        assert!(matches!(err, CheckpointError::NotFound { .. }), "{}: {err:?}", backend.name);
        assert!(err.to_string().contains("references this state file but it is gone"), "{err}");
    }
}

#[tokio::test]
async fn bad_settings_name_the_key() {
    let mut config = Configuration::new();
    config.set_dynamic("execution.checkpointing.dir=hdfs://namenode/ck").unwrap();
    let err = CheckpointStorage::from_config(&config).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value 'hdfs://namenode/ck' for configuration key 'execution.checkpointing.dir': unsupported \
         scheme 'hdfs://'; use file:///absolute/path or s3://bucket/prefix"
    );
    let mut config = Configuration::new();
    config.set_dynamic("execution.checkpointing.data-inline-threshold=2 mb").unwrap();
    let err = CheckpointStorage::from_config(&config).unwrap_err();
    assert!(err.to_string().contains("the maximum is 1 mb"), "{err}");
}

#[tokio::test]
async fn the_default_directory_is_under_the_temp_dir() {
    let storage = CheckpointStorage::from_config(&Configuration::new()).unwrap();
    let expected = std::env::temp_dir().join("brook-checkpoints");
    assert_eq!(storage.checkpoint_dir(), format!("file://{}", expected.display()));
    assert_eq!(storage.inline_threshold(), 20 * 1024);
}

/// A real full disk: a 64 KiB tmpfs. Needs the right to mount (root in a container with
/// CAP_SYS_ADMIN); elsewhere it prints a notice and checks nothing.
#[tokio::test]
async fn a_full_disk_is_an_error_naming_the_file() {
    let Some(disk) = TinyDisk::mount() else { return };
    let mut config = Configuration::new();
    config.set_dynamic(&format!("execution.checkpointing.dir=file://{}", disk.path.display())).unwrap();
    let storage = CheckpointStorage::from_config(&config).unwrap();
    let location = storage.init_checkpoint(JobId::generate(), CheckpointId(1)).await.unwrap();
    let err = location.write_state(Bytes::from(vec![0u8; 256 * 1024])).await.unwrap_err();
    assert!(matches!(err, CheckpointError::StorageFull { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with(&format!("no space left while trying to write state file {}/", location.dir())), "{text}");
    assert!(text.contains("free disk space or point execution.checkpointing.dir at a larger volume"), "{text}");
}

struct TinyDisk {
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl TinyDisk {
    fn mount() -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("skipping the full-disk test: cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(Self { path, _dir: dir })
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.path).status();
    }
}

#[cfg(feature = "s3")]
mod s3 {
    use super::*;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn an_unreachable_endpoint_fails_fast_and_says_so() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut config = Configuration::new();
        for pair in [
            "execution.checkpointing.dir=s3://brook/ck".to_string(),
            format!("s3.endpoint=http://127.0.0.1:{port}"),
            "s3.access-key=test".to_string(),
            "s3.secret-key=testtest".to_string(),
            "s3.path.style.access=true".to_string(),
        ] {
            config.set_dynamic(&pair).unwrap();
        }
        let storage = CheckpointStorage::from_config(&config).unwrap();
        let location = storage.init_checkpoint(JobId::generate(), CheckpointId(1)).await.unwrap();
        let started = Instant::now();
        let err = location.write_state(Bytes::from(vec![0u8; 30_000])).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
        assert!(matches!(err, CheckpointError::Unreachable { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.starts_with(&format!("cannot reach the object store for {}/", location.dir())), "{text}");
        assert!(text.contains("check s3.endpoint"), "{text}");
    }

    #[tokio::test]
    async fn wrong_credentials_are_a_permission_error() {
        let Some(mut backend) = Backend::s3() else { return };
        backend.config.set_dynamic("s3.secret-key=wrong-secret").unwrap();
        let storage = CheckpointStorage::from_config(&backend.config).unwrap();
        let location = storage.init_checkpoint(JobId::generate(), CheckpointId(1)).await.unwrap();
        let err = location.write_state(Bytes::from(vec![0u8; 30_000])).await.unwrap_err();
        assert!(matches!(err, CheckpointError::PermissionDenied { .. }), "{err:?}");
        assert!(err.to_string().contains("check the directory's permissions or the S3 credentials"), "{err}");
        assert!(!format!("{err:?}").contains("wrong-secret"), "the secret is never shown");
        assert!(!format!("{storage:?}").contains("wrong-secret"), "{storage:?}");
    }
}

#[cfg(not(feature = "s3"))]
#[tokio::test]
async fn s3_needs_the_feature() {
    let mut config = Configuration::new();
    config.set_dynamic("execution.checkpointing.dir=s3://brook/ck").unwrap();
    let storage = CheckpointStorage::from_config(&config).unwrap();
    let location = storage.init_checkpoint(JobId::generate(), CheckpointId(1)).await.unwrap();
    let err = location.write_state(Bytes::from(vec![0u8; 30_000])).await.unwrap_err();
    assert!(err.to_string().contains("this build of Brook has no S3 support"), "{err}");
}
