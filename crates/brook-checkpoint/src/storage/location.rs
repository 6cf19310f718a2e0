//! Where one checkpoint or savepoint is written, and what finalizing it produces.

use super::io;
use super::layout::{self, METADATA_FILE};
use super::url::{StorageUrl, Stores};
use crate::error::{CheckpointError, Result};
use crate::metadata::{CheckpointMetadata, METADATA_VERSION, SnapshotKind, StreamStateHandle};
use brook_types::{CheckpointId, JobId};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// What the coordinator sends to tasks so that they write into the same directory
/// ([`CheckpointStorage::location`](super::CheckpointStorage::location) turns it back into a
/// [`CheckpointLocation`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationReference {
    pub job_id: JobId,
    pub checkpoint_id: CheckpointId,
    pub kind: SnapshotKind,
    /// The directory's URL (`file:///…/chk-7`, `s3://…/savepoint-…`).
    pub dir: String,
}

/// The directory of one checkpoint or savepoint being written. Cheap to clone; tasks write
/// their state through it concurrently, the coordinator finalizes it.
#[derive(Clone, Debug)]
pub struct CheckpointLocation {
    pub(crate) job_id: JobId,
    pub(crate) checkpoint_id: CheckpointId,
    pub(crate) kind: SnapshotKind,
    pub(crate) dir: StorageUrl,
    /// `<job>/shared` for checkpoints; savepoints keep everything in `dir`.
    pub(crate) shared_dir: Option<StorageUrl>,
    pub(crate) stores: Arc<Stores>,
    pub(crate) inline_threshold: usize,
}

impl CheckpointLocation {
    pub fn job_id(&self) -> JobId {
        self.job_id
    }

    pub fn checkpoint_id(&self) -> CheckpointId {
        self.checkpoint_id
    }

    pub fn kind(&self) -> SnapshotKind {
        self.kind
    }

    /// The directory's URL.
    pub fn dir(&self) -> String {
        self.dir.to_string()
    }

    /// What to send to tasks.
    pub fn reference(&self) -> LocationReference {
        LocationReference { job_id: self.job_id, checkpoint_id: self.checkpoint_id, kind: self.kind, dir: self.dir() }
    }

    /// Stores one piece of state exclusive to this checkpoint: inline if smaller than the
    /// inline threshold, else in a fresh file of this directory.
    pub async fn write_state(&self, bytes: Bytes) -> Result<StreamStateHandle> {
        if bytes.len() < self.inline_threshold {
            return Ok(StreamStateHandle::Inline(bytes));
        }
        let name = layout::state_file_name();
        let size = bytes.len() as u64;
        self.write_file(&self.dir, &name, bytes).await?;
        Ok(StreamStateHandle::File { path: name, size })
    }

    /// Stores a file that later checkpoints may reference too (an incremental backend's
    /// immutable file, `name` being its local name such as `000017.sst`). Checkpoints put it
    /// under `<job>/shared/`; savepoints, which must be self-contained, in their own
    /// directory. Small files are inlined as in [`write_state`](Self::write_state).
    pub async fn write_shared(&self, name: &str, bytes: Bytes) -> Result<StreamStateHandle> {
        if bytes.len() < self.inline_threshold {
            return Ok(StreamStateHandle::Inline(bytes));
        }
        let safe: String =
            name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
        let file = format!("{}-{safe}", layout::state_file_name());
        let size = bytes.len() as u64;
        match &self.shared_dir {
            Some(shared) => {
                self.write_file(shared, &file, bytes).await?;
                Ok(StreamStateHandle::File { path: format!("../{}/{file}", layout::SHARED_DIR), size })
            }
            None => {
                self.write_file(&self.dir, &file, bytes).await?;
                Ok(StreamStateHandle::File { path: file, size })
            }
        }
    }

    async fn write_file(&self, dir: &StorageUrl, name: &str, bytes: Bytes) -> Result<()> {
        let url = dir.child(name);
        let store = self.stores.get(&url)?;
        tracing::debug!(job_id = %self.job_id, checkpoint_id = %self.checkpoint_id, file = %url, size = bytes.len(), "writing state file");
        io::put(&store, &url, bytes, false, "write state file").await
    }

    /// Completes the checkpoint: writes `_metadata`, last and atomically, and only once
    /// (a second finalize of the same directory fails). A directory without `_metadata` is
    /// an incomplete checkpoint that restores refuse.
    pub async fn finalize(&self, metadata: CheckpointMetadata) -> Result<CompletedCheckpoint> {
        let url = self.dir.child(METADATA_FILE);
        let mismatch = |reason: String| CheckpointError::MetadataMismatch { location: url.to_string(), reason };
        if metadata.version != METADATA_VERSION {
            return Err(mismatch(format!(
                "Brook writes metadata version {METADATA_VERSION}, not {}",
                metadata.version
            )));
        }
        if (metadata.job_id, metadata.checkpoint_id, metadata.kind) != (self.job_id, self.checkpoint_id, self.kind) {
            return Err(mismatch(format!(
                "the metadata is for job {} {:?} {}, the location for job {} {:?} {}",
                metadata.job_id, metadata.kind, metadata.checkpoint_id, self.job_id, self.kind, self.checkpoint_id
            )));
        }
        if self.kind == SnapshotKind::Savepoint
            && let Some(path) = metadata.handles().filter_map(StreamStateHandle::file_path).find(|p| !is_inside(p))
        {
            return Err(CheckpointError::NotSelfContained { location: self.dir(), path: path.to_string() });
        }
        let store = self.stores.get(&url)?;
        io::put(&store, &url, Bytes::from(metadata.encode()), true, "write checkpoint metadata").await?;
        tracing::info!(job_id = %self.job_id, checkpoint_id = %self.checkpoint_id, kind = ?self.kind, location = %self.dir, "completed checkpoint");
        Ok(CompletedCheckpoint { pointer: CompletedCheckpointPointer::new(&metadata, self.dir()), metadata })
    }

    /// Deletes what was written for a checkpoint that will never complete (aborted,
    /// expired, declined). Shared files it uploaded are the checkpoint store's to delete
    /// ([`CompletedCheckpointStore::plan_abort`](crate::CompletedCheckpointStore::plan_abort)).
    pub async fn discard(&self) -> Result<()> {
        let store = self.stores.get(&self.dir)?;
        io::delete_directory(&store, &self.dir).await
    }
}

/// A path that stays inside the directory: relative, no `..`.
fn is_inside(path: &str) -> bool {
    !path.contains("://") && !path.starts_with('/') && !path.starts_with("file:") && !path.split('/').any(|s| s == "..")
}

/// Where a completed checkpoint or savepoint is: what `brook run -s` accepts and what the
/// REST API reports as its external path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CompletedCheckpointPointer {
    pub job_id: JobId,
    pub checkpoint_id: CheckpointId,
    pub kind: SnapshotKind,
    /// The directory's URL.
    pub dir: String,
}

impl CompletedCheckpointPointer {
    pub(crate) fn new(metadata: &CheckpointMetadata, dir: String) -> Self {
        Self { job_id: metadata.job_id, checkpoint_id: metadata.checkpoint_id, kind: metadata.kind, dir }
    }

    /// The URL of its `_metadata` file.
    pub fn metadata_url(&self) -> String {
        format!("{}/{METADATA_FILE}", self.dir)
    }
}

impl fmt::Display for CompletedCheckpointPointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dir)
    }
}

/// A completed checkpoint or savepoint: where it is and what its `_metadata` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletedCheckpoint {
    pub pointer: CompletedCheckpointPointer,
    pub metadata: CheckpointMetadata,
}

impl CompletedCheckpoint {
    pub fn checkpoint_id(&self) -> CheckpointId {
        self.metadata.checkpoint_id
    }

    /// The absolute URLs of the shared files it references (inline handles excluded).
    pub fn shared_file_urls(&self) -> Vec<String> {
        let dir = StorageUrl::parse(&self.pointer.dir).ok();
        let mut urls: Vec<String> = self
            .metadata
            .shared_handles()
            .filter_map(StreamStateHandle::file_path)
            .filter_map(|p| dir.as_ref()?.resolve(p).ok())
            .map(|u| u.to_string())
            .collect();
        urls.sort();
        urls.dedup();
        urls
    }
}

#[cfg(test)]
mod tests {
    use super::is_inside;

    #[test]
    fn self_contained_paths() {
        assert!(is_inside("3f0c"));
        assert!(is_inside("sub/3f0c"));
        assert!(!is_inside("../shared/x"));
        assert!(!is_inside("/abs/x"));
        assert!(!is_inside("file:///abs/x"));
        assert!(!is_inside("s3://b/x"));
    }
}
