//! Between the RocksDB backend's native snapshots and the runtime's
//! [`IncrementalKeyedSnapshot`] / [`IncrementalKeyedRestore`] (feature `rocksdb`).

use crate::checkpoint::{IncrementalKeyedRestore, IncrementalKeyedSnapshot, LocalStateDir, LocalStateFile};
use brook_state::{IncrementalRestoreSource, IncrementalSnapshot, RocksDbStateBackend, StateKey};

/// The runtime's form of a native snapshot; it keeps the snapshot's directory alive.
pub(crate) fn to_runtime<K: StateKey>(
    snapshot: IncrementalSnapshot,
    backend: &RocksDbStateBackend<K>,
) -> IncrementalKeyedSnapshot {
    let reused_files = snapshot
        .reused
        .iter()
        .map(|name| {
            let path = snapshot.file_path(name);
            let size = std::fs::metadata(&path).map_or(0, |m| m.len());
            LocalStateFile { name: name.clone(), path, size }
        })
        .collect();
    IncrementalKeyedSnapshot {
        key_group_range: backend.key_group_range(),
        new_files: snapshot
            .shared
            .into_iter()
            .map(|f| LocalStateFile { name: f.name, path: f.path, size: f.size })
            .collect(),
        reused_files,
        private_files: snapshot.private,
        meta: snapshot.meta,
        local_dir: LocalStateDir::new(snapshot.dir),
    }
}

/// Restores a fresh RocksDB backend from downloaded incremental snapshots.
pub(crate) fn restore<K: StateKey>(
    backend: &mut RocksDbStateBackend<K>,
    sources: &[IncrementalKeyedRestore],
) -> brook_state::Result<()> {
    let sources: Vec<IncrementalRestoreSource> = sources
        .iter()
        .map(|s| IncrementalRestoreSource { dir: s.dir.path().to_path_buf(), meta: s.meta.clone() })
        .collect();
    backend.restore_incremental(&sources)
}
