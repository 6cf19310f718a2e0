//! Reading a completed checkpoint or savepoint back: its metadata and its state.

use super::io;
use super::url::{StorageUrl, Stores};
use crate::error::{CheckpointError, Result};
use crate::metadata::{CheckpointMetadata, StreamStateHandle};
use crate::storage::CompletedCheckpointPointer;
use bytes::Bytes;
use std::ops::Range;
use std::sync::Arc;

/// A checkpoint or savepoint found by [`CheckpointStorage::resolve`](super::CheckpointStorage::resolve).
#[derive(Clone, Debug)]
pub struct ResolvedCheckpoint {
    pub pointer: CompletedCheckpointPointer,
    pub metadata: CheckpointMetadata,
    pub reader: CheckpointReader,
}

/// Reads the state a checkpoint's handles point at. Relative file paths resolve against the
/// directory the `_metadata` was found in, so a moved savepoint reads from its new place.
#[derive(Clone, Debug)]
pub struct CheckpointReader {
    pub(crate) dir: StorageUrl,
    pub(crate) stores: Arc<Stores>,
}

impl CheckpointReader {
    /// The directory holding `_metadata`.
    pub fn dir(&self) -> String {
        self.dir.to_string()
    }

    /// All bytes of a handle.
    pub async fn read_state(&self, handle: &StreamStateHandle) -> Result<Bytes> {
        match handle {
            StreamStateHandle::Inline(bytes) => Ok(bytes.clone()),
            StreamStateHandle::File { path, size } => {
                let url = self.file(path)?;
                let store = self.stores.get(&url)?;
                let bytes = io::get(&store, &url, "read state file").await?.ok_or_else(|| self.missing(&url))?;
                if bytes.len() as u64 != *size {
                    return Err(CheckpointError::InvalidMetadata {
                        location: url.to_string(),
                        reason: format!(
                            "the state file has {} bytes but the checkpoint recorded {size}; it was changed or \
                             truncated after the checkpoint completed",
                            bytes.len()
                        ),
                    });
                }
                Ok(bytes)
            }
        }
    }

    /// Bytes `range` of a handle (a key group's part of a keyed-state stream, found through
    /// its `key_group_offsets`).
    pub async fn read_range(&self, handle: &StreamStateHandle, range: Range<u64>) -> Result<Bytes> {
        let size = handle.size();
        if range.start > range.end || range.end > size {
            return Err(CheckpointError::InvalidMetadata {
                location: self.dir(),
                reason: format!("byte range {range:?} lies outside a state handle of {size} bytes"),
            });
        }
        match handle {
            StreamStateHandle::Inline(bytes) => Ok(bytes.slice(range.start as usize..range.end as usize)),
            StreamStateHandle::File { path, .. } => {
                let url = self.file(path)?;
                let store = self.stores.get(&url)?;
                io::get_range(&store, &url, range, "read state file").await?.ok_or_else(|| self.missing(&url))
            }
        }
    }

    /// The handle with its file path made absolute: for a restored incremental backend that
    /// keeps referencing shared files of the checkpoint it restored from.
    pub fn absolute(&self, handle: &StreamStateHandle) -> Result<StreamStateHandle> {
        Ok(match handle {
            StreamStateHandle::Inline(_) => handle.clone(),
            StreamStateHandle::File { path, size } => {
                StreamStateHandle::File { path: self.file(path)?.to_string(), size: *size }
            }
        })
    }

    fn file(&self, path: &str) -> Result<StorageUrl> {
        self.dir.resolve(path).map_err(|reason| CheckpointError::InvalidMetadata {
            location: format!("{}/_metadata", self.dir),
            reason: format!("state file path '{path}': {reason}"),
        })
    }

    fn missing(&self, url: &StorageUrl) -> CheckpointError {
        CheckpointError::NotFound {
            location: url.to_string(),
            hint: format!(
                "the checkpoint at {} references this state file but it is gone (deleted by hand, or the \
                 checkpoint was discarded while in use); restore from another checkpoint or savepoint",
                self.dir
            ),
        }
    }
}
