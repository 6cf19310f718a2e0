//! Incremental keyed state as it travels between an operator and its TaskManager: the
//! files of a native (RocksDB) snapshot in a local directory, and the downloaded files
//! of an old subtask's snapshot to restore from.
//!
//! The operator takes the snapshot synchronously at the barrier; the TaskManager
//! uploads [`IncrementalKeyedSnapshot::new_files`] to the job's shared directory,
//! references [`IncrementalKeyedSnapshot::reused_files`] by the handles it uploaded
//! earlier, and drops the snapshot, which removes its local directory. The protocol
//! is in `docs/design/state.md` ("Incremental checkpoints").

use brook_types::key_group::KeyGroupRange;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A local directory, removed when the last clone is dropped.
#[derive(Clone, Debug)]
pub struct LocalStateDir(Arc<tempfile::TempDir>);

impl LocalStateDir {
    pub fn new(dir: tempfile::TempDir) -> Self {
        Self(Arc::new(dir))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

impl PartialEq for LocalStateDir {
    fn eq(&self, other: &Self) -> bool {
        self.path() == other.path()
    }
}

impl Eq for LocalStateDir {}

/// A file of a native snapshot, in the snapshot's local directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalStateFile {
    /// The backend's name for it (`000012.sst`): unique within one subtask's lineage.
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
}

/// A native incremental snapshot of one operator subtask's keyed state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncrementalKeyedSnapshot {
    pub key_group_range: KeyGroupRange,
    /// Files no completed checkpoint uploaded: upload them to the shared directory.
    pub new_files: Vec<LocalStateFile>,
    /// Files the last completed checkpoint referenced: reference the handles they were
    /// uploaded with (upload them again only if their handle is unknown: after a
    /// restore from another job's checkpoint, whose files this job must not share).
    pub reused_files: Vec<LocalStateFile>,
    /// Small files belonging to this checkpoint alone (MANIFEST, CURRENT, OPTIONS).
    pub private_files: Vec<(String, Vec<u8>)>,
    /// The backend's own description of the snapshot; restore needs it back.
    pub meta: Vec<u8>,
    /// Holds `new_files` until the upload is done.
    pub local_dir: LocalStateDir,
}

/// One old subtask's incremental snapshot, downloaded for a restore: every file
/// (shared and private) under its original name in `dir`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncrementalKeyedRestore {
    pub key_group_range: KeyGroupRange,
    pub meta: Vec<u8>,
    pub dir: LocalStateDir,
}
