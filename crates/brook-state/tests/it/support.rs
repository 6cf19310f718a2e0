//! What the test modules share.

use brook_state::{AggregateFunction, HashMapStateBackend, KeyedStateBackend, SystemTtlTimeProvider, TtlTimeProvider};
use brook_types::key_group::KeyGroupRange;
use std::sync::Arc;

/// Averages `i64`s (integer division); the accumulator is (sum, count).
#[derive(Clone, Copy, Debug)]
pub struct Average;

impl AggregateFunction<i64> for Average {
    type Acc = (i64, i64);
    type Out = i64;

    fn create_accumulator(&self) -> (i64, i64) {
        (0, 0)
    }

    fn add(&self, acc: &mut (i64, i64), value: i64) {
        acc.0 += value;
        acc.1 += 1;
    }

    fn get_result(&self, acc: &(i64, i64)) -> i64 {
        acc.0 / acc.1.max(1)
    }

    fn merge(&self, acc: &mut (i64, i64), other: (i64, i64)) {
        acc.0 += other.0;
        acc.1 += other.1;
    }
}

/// The backends the tests run against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Heap,
    #[cfg(feature = "rocksdb")]
    RocksDb,
}

/// Every backend this build has.
pub fn kinds() -> &'static [Kind] {
    &[
        Kind::Heap,
        #[cfg(feature = "rocksdb")]
        Kind::RocksDb,
    ]
}

/// The backend of subtask `index` of `parallelism`.
pub fn subtask_backend(max_parallelism: usize, parallelism: usize, index: usize) -> KeyedStateBackend<i64> {
    subtask_backend_of(Kind::Heap, max_parallelism, parallelism, index)
}

/// A `kind` backend of subtask `index` of `parallelism`.
pub fn subtask_backend_of(
    kind: Kind,
    max_parallelism: usize,
    parallelism: usize,
    index: usize,
) -> KeyedStateBackend<i64> {
    backend_with_clock(kind, max_parallelism, parallelism, index, Arc::new(SystemTtlTimeProvider))
}

/// A `kind` backend of subtask `index` of `parallelism` with a TTL clock.
pub fn backend_with_clock(
    kind: Kind,
    max_parallelism: usize,
    parallelism: usize,
    index: usize,
    clock: Arc<dyn TtlTimeProvider>,
) -> KeyedStateBackend<i64> {
    let range = KeyGroupRange::for_operator_index(max_parallelism, parallelism, index);
    match kind {
        Kind::Heap => HashMapStateBackend::new(max_parallelism, range)
            .with_operator_name("Test Operator")
            .with_ttl_time_provider(clock)
            .into(),
        #[cfg(feature = "rocksdb")]
        Kind::RocksDb => brook_state::RocksDbStateBackend::new(max_parallelism, range)
            .expect("a RocksDB backend in the temp directory")
            .with_operator_name("Test Operator")
            .with_ttl_time_provider(clock)
            .into(),
    }
}

/// Takes an incremental snapshot of `b`, "uploads" its files into a directory
/// (the shared files and the private ones; reused files from `store`, which
/// holds every file uploaded so far), and returns that directory with the meta.
#[cfg(feature = "rocksdb")]
pub fn upload_incremental(
    b: &mut brook_state::RocksDbStateBackend<i64>,
    checkpoint_id: u64,
    store: &std::path::Path,
) -> (tempfile::TempDir, brook_state::IncrementalRestoreSource, brook_state::IncrementalSnapshot) {
    let snapshot = b.snapshot_incremental(checkpoint_id).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for file in &snapshot.shared {
        std::fs::copy(&file.path, store.join(&file.name)).unwrap();
        std::fs::copy(&file.path, dir.path().join(&file.name)).unwrap();
    }
    for name in &snapshot.reused {
        std::fs::copy(store.join(name), dir.path().join(name)).unwrap();
    }
    for (name, bytes) in &snapshot.private {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    b.notify_checkpoint_complete(checkpoint_id);
    let source = brook_state::IncrementalRestoreSource { dir: dir.path().to_path_buf(), meta: snapshot.meta.clone() };
    (dir, source, snapshot)
}
