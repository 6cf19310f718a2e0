//! Checkpoint storage: where checkpoints and savepoints are written and how they are found
//! again. All I/O goes through `object_store`: local files (`file:///…`) or S3 (`s3://…`,
//! feature `s3`).
//!
//! # Protocol
//!
//! 1. The coordinator calls [`CheckpointStorage::init_checkpoint`] (or
//!    [`init_savepoint`](CheckpointStorage::init_savepoint)) and sends the location's
//!    [`reference`](CheckpointLocation::reference) with the trigger.
//! 2. Each task turns the reference into a location ([`CheckpointStorage::location`]),
//!    uploads its state with [`CheckpointLocation::write_state`] /
//!    [`write_shared`](CheckpointLocation::write_shared) in its asynchronous phase, and
//!    acknowledges with the handles.
//! 3. When all tasks have acknowledged, the coordinator builds the [`CheckpointMetadata`]
//!    and calls [`CheckpointLocation::finalize`], which writes `_metadata` last. It hands
//!    the [`CompletedCheckpoint`] to the
//!    [`CompletedCheckpointStore`](crate::CompletedCheckpointStore) and executes the returned
//!    [`DiscardPlan`] with [`CheckpointStorage::discard`].
//! 4. A checkpoint that fails is removed with [`CheckpointLocation::discard`].
//! 5. A restore calls [`CheckpointStorage::resolve`] with what the user gave.
//!
//! The layout is described in [`layout`].

mod io;
pub mod layout;
mod location;
mod reader;
#[cfg(feature = "s3")]
mod s3;
mod url;

pub use location::{CheckpointLocation, CompletedCheckpoint, CompletedCheckpointPointer, LocationReference};
pub use reader::{CheckpointReader, ResolvedCheckpoint};

use crate::error::{CheckpointError, Result};
use crate::metadata::{CheckpointMetadata, SnapshotKind};
use crate::retention::DiscardPlan;
use brook_types::config::{Configuration, options};
use brook_types::{CheckpointId, JobId};
use layout::{METADATA_FILE, SHARED_DIR};
use std::sync::Arc;
use url::{S3Options, StorageUrl, Stores};

/// Flink's upper bound for `execution.checkpointing.data-inline-threshold`: inline state
/// lives in `_metadata`, which the JobMaster holds in memory.
pub const MAX_INLINE_THRESHOLD: u64 = 1 << 20;

/// Checkpoint and savepoint storage of one cluster, built from the configuration.
/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct CheckpointStorage {
    checkpoint_dir: StorageUrl,
    savepoint_dir: Option<StorageUrl>,
    inline_threshold: usize,
    stores: Arc<Stores>,
}

impl CheckpointStorage {
    /// Reads `execution.checkpointing.dir`, `.savepoint-dir`, `.data-inline-threshold` and
    /// the `s3.*` options. No I/O happens until something is written or read.
    pub fn from_config(config: &Configuration) -> Result<Self> {
        let location = |key: &'static str, value: String| {
            StorageUrl::parse(&value).map_err(|reason| CheckpointError::InvalidConfig { key, value, reason })
        };
        let checkpoint_dir =
            location(options::CHECKPOINTS_DIRECTORY.key, config.get_raw(&options::CHECKPOINTS_DIRECTORY))?;
        let savepoint_dir = config
            .get_optional(&options::SAVEPOINT_DIRECTORY)
            .map(|dir| location(options::SAVEPOINT_DIRECTORY.key, dir))
            .transpose()?;
        let threshold = config.get_memory_size(&options::DATA_INLINE_THRESHOLD);
        if threshold > MAX_INLINE_THRESHOLD {
            return Err(CheckpointError::InvalidConfig {
                key: options::DATA_INLINE_THRESHOLD.key,
                value: config.get_raw(&options::DATA_INLINE_THRESHOLD),
                reason: "the maximum is 1 mb: inline state is part of _metadata, which the JobMaster holds \
                         in memory"
                    .to_string(),
            });
        }
        let s3 = S3Options {
            endpoint: config.get_optional(&options::S3_ENDPOINT),
            access_key: config.get_optional(&options::S3_ACCESS_KEY),
            secret_key: config.get_optional(&options::S3_SECRET_KEY),
            path_style: config.get_bool(&options::S3_PATH_STYLE_ACCESS),
            region: config.get_optional(&options::S3_REGION),
        };
        Ok(Self {
            checkpoint_dir,
            savepoint_dir,
            inline_threshold: threshold as usize,
            stores: Arc::new(Stores::new(s3)),
        })
    }

    /// `execution.checkpointing.dir` as a URL.
    pub fn checkpoint_dir(&self) -> String {
        self.checkpoint_dir.to_string()
    }

    /// `<checkpoint dir>/<job-id>`.
    pub fn job_dir(&self, job_id: JobId) -> String {
        self.job_url(job_id).to_string()
    }

    /// State below this many bytes is stored inline in `_metadata`.
    pub fn inline_threshold(&self) -> usize {
        self.inline_threshold
    }

    /// The location of checkpoint `checkpoint_id` of `job_id`:
    /// `<dir>/<job-id>/chk-<n>`. Creates local directories now, so that a directory that
    /// cannot be written fails the trigger rather than every task.
    pub async fn init_checkpoint(&self, job_id: JobId, checkpoint_id: CheckpointId) -> Result<CheckpointLocation> {
        let job = self.job_url(job_id);
        let location = CheckpointLocation {
            job_id,
            checkpoint_id,
            kind: SnapshotKind::Checkpoint,
            dir: job.child(&layout::checkpoint_dir_name(checkpoint_id)),
            shared_dir: Some(job.child(SHARED_DIR)),
            stores: Arc::clone(&self.stores),
            inline_threshold: self.inline_threshold,
        };
        io::create_directory(&location.dir).await?;
        Ok(location)
    }

    /// The location of a savepoint: a fresh `savepoint-<6 hex>-<12 hex>` directory under
    /// `target` (a URL or path), else under `execution.checkpointing.savepoint-dir`.
    pub async fn init_savepoint(
        &self,
        job_id: JobId,
        checkpoint_id: CheckpointId,
        target: Option<&str>,
    ) -> Result<CheckpointLocation> {
        let base = match target {
            Some(target) => StorageUrl::parse(target).map_err(|reason| CheckpointError::InvalidConfig {
                key: options::SAVEPOINT_DIRECTORY.key,
                value: target.to_string(),
                reason,
            })?,
            None => self.savepoint_dir.clone().ok_or(CheckpointError::NoSavepointDirectory)?,
        };
        let location = CheckpointLocation {
            job_id,
            checkpoint_id,
            kind: SnapshotKind::Savepoint,
            dir: base.child(&layout::savepoint_dir_name(job_id)),
            shared_dir: None,
            stores: Arc::clone(&self.stores),
            inline_threshold: self.inline_threshold,
        };
        io::create_directory(&location.dir).await?;
        Ok(location)
    }

    /// The location a coordinator's [`LocationReference`] names, for the tasks. No I/O.
    pub fn location(&self, reference: &LocationReference) -> Result<CheckpointLocation> {
        let dir = StorageUrl::parse(&reference.dir).map_err(|reason| CheckpointError::InvalidConfig {
            key: options::CHECKPOINTS_DIRECTORY.key,
            value: reference.dir.clone(),
            reason,
        })?;
        let shared_dir = match reference.kind {
            SnapshotKind::Checkpoint => dir.parent().map(|job| job.child(SHARED_DIR)),
            SnapshotKind::Savepoint => None,
        };
        Ok(CheckpointLocation {
            job_id: reference.job_id,
            checkpoint_id: reference.checkpoint_id,
            kind: reference.kind,
            dir,
            shared_dir,
            stores: Arc::clone(&self.stores),
            inline_threshold: self.inline_threshold,
        })
    }

    /// A reader of the completed checkpoint or savepoint in `dir` (a URL, as in a
    /// [`CompletedCheckpointPointer`]), without reading its `_metadata`. No I/O.
    pub fn reader(&self, dir: &str) -> Result<CheckpointReader> {
        let dir = StorageUrl::parse(dir).map_err(|reason| CheckpointError::InvalidConfig {
            key: options::STATE_RECOVERY_PATH.key,
            value: dir.to_string(),
            reason,
        })?;
        Ok(CheckpointReader { dir, stores: Arc::clone(&self.stores) })
    }

    /// Finds a completed checkpoint or savepoint from what a user gave: its directory
    /// (`…/chk-7`, `…/savepoint-ab12cd-…`) or its `_metadata` file, as a URL or a local path.
    pub async fn resolve(&self, pointer: &str) -> Result<ResolvedCheckpoint> {
        let url = StorageUrl::parse(pointer).map_err(|reason| CheckpointError::InvalidConfig {
            key: options::STATE_RECOVERY_PATH.key,
            value: pointer.to_string(),
            reason,
        })?;
        let (dir, metadata_url) = if url.file_name() == Some(METADATA_FILE) {
            (url.parent().expect("a path with a file name has a parent"), url)
        } else {
            (url.clone(), url.child(METADATA_FILE))
        };
        let store = self.stores.get(&dir)?;
        let Some(bytes) = io::get(&store, &metadata_url, "read checkpoint metadata").await? else {
            return Err(self.explain_missing_metadata(&dir).await);
        };
        let metadata = CheckpointMetadata::decode(&bytes, &metadata_url.to_string())?;
        let pointer = CompletedCheckpointPointer::new(&metadata, dir.to_string());
        Ok(ResolvedCheckpoint { pointer, metadata, reader: CheckpointReader { dir, stores: Arc::clone(&self.stores) } })
    }

    /// Why there is no `_metadata` in `dir`, with the best advice we can give.
    async fn explain_missing_metadata(&self, dir: &StorageUrl) -> CheckpointError {
        let store = match self.stores.get(dir) {
            Ok(store) => store,
            Err(e) => return e,
        };
        match io::any_under(&store, dir).await {
            Err(e) => e,
            Ok(false) => CheckpointError::NotFound {
                location: dir.to_string(),
                hint: "the directory does not exist or is empty; pass a checkpoint directory (…/<job-id>/chk-<n>), \
                       a savepoint directory (…/savepoint-…), or a _metadata file"
                    .to_string(),
            },
            Ok(true) => {
                // A job directory: point at its latest complete checkpoint.
                if let Ok(Some(latest)) = self.latest_checkpoint_in(dir).await {
                    return CheckpointError::NotFound {
                        location: dir.to_string(),
                        hint: format!(
                            "this looks like a job's checkpoint directory; its latest complete checkpoint is {latest}"
                        ),
                    };
                }
                let hint = match dir.parent() {
                    Some(job) if dir.file_name().and_then(layout::parse_checkpoint_dir_name).is_some() => {
                        match self.latest_checkpoint_in(&job).await {
                            Ok(Some(latest)) => format!("; the job's latest complete checkpoint is {latest}"),
                            _ => String::new(),
                        }
                    }
                    _ => String::new(),
                };
                CheckpointError::Incomplete { location: dir.to_string(), hint }
            }
        }
    }

    /// The latest complete checkpoint of `job_id` under the configured directory, if any:
    /// what a restarted JobMaster restores when it has no checkpoint store of its own.
    pub async fn latest_checkpoint(&self, job_id: JobId) -> Result<Option<String>> {
        self.latest_checkpoint_in(&self.job_url(job_id)).await
    }

    async fn latest_checkpoint_in(&self, job_dir: &StorageUrl) -> Result<Option<String>> {
        let store = self.stores.get(job_dir)?;
        let mut ids: Vec<CheckpointId> = io::sub_directories(&store, job_dir)
            .await?
            .iter()
            .filter_map(|name| layout::parse_checkpoint_dir_name(name))
            .collect();
        ids.sort_unstable_by(|a, b| b.cmp(a));
        for id in ids {
            let dir = job_dir.child(&layout::checkpoint_dir_name(id));
            if io::exists(&store, &dir.child(METADATA_FILE), "read checkpoint metadata").await? {
                return Ok(Some(dir.to_string()));
            }
        }
        Ok(None)
    }

    /// Deletes what a [`DiscardPlan`] names: checkpoint directories (`_metadata` first),
    /// then shared files, then empty directories. Keeps going after an error and returns the
    /// first one; savepoints are never in a plan.
    pub async fn discard(&self, plan: &DiscardPlan) -> Result<()> {
        let mut first_error = None;
        let mut note = |result: Result<()>| {
            if let Err(e) = result {
                tracing::warn!(error = %e, "could not discard checkpoint data");
                first_error.get_or_insert(e);
            }
        };
        for dir in &plan.checkpoint_dirs {
            note(self.delete_url(dir, true).await);
        }
        for file in &plan.shared_files {
            note(self.delete_url(file, false).await);
        }
        for dir in &plan.remove_if_empty {
            if let Ok(url) = StorageUrl::parse(dir) {
                io::remove_dir_if_empty(&url).await;
            }
        }
        if !plan.is_empty() {
            tracing::info!(
                checkpoints = plan.checkpoint_dirs.len(),
                shared_files = plan.shared_files.len(),
                "discarded checkpoint data"
            );
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn delete_url(&self, url: &str, directory: bool) -> Result<()> {
        let url = StorageUrl::parse(url).map_err(|reason| CheckpointError::InvalidConfig {
            key: options::CHECKPOINTS_DIRECTORY.key,
            value: url.to_string(),
            reason,
        })?;
        let store = self.stores.get(&url)?;
        if directory { io::delete_directory(&store, &url).await } else { io::delete(&store, &url, "delete").await }
    }

    fn job_url(&self, job_id: JobId) -> StorageUrl {
        self.checkpoint_dir.child(&job_id.to_string())
    }
}
