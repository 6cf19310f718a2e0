//! The retained completed checkpoints of one job.

use super::{DiscardPlan, ExternalizedCheckpointRetention, JobTermination, SharedStateRegistry};
use crate::metadata::{SnapshotKind, StreamStateHandle, SubtaskSnapshot};
use crate::storage::{CheckpointLocation, CompletedCheckpoint};
use std::collections::VecDeque;

/// Keeps the latest `num_retained` completed checkpoints of a job (oldest first) and the
/// reference counts of their shared files. Every method that drops a checkpoint returns a
/// [`DiscardPlan`] for [`CheckpointStorage::discard`](crate::CheckpointStorage::discard).
#[derive(Debug)]
pub struct CompletedCheckpointStore {
    max_retained: usize,
    retained: VecDeque<CompletedCheckpoint>,
    shared: SharedStateRegistry,
}

impl CompletedCheckpointStore {
    /// `max_retained` is `execution.checkpointing.num-retained` (at least 1).
    pub fn new(max_retained: usize) -> Self {
        Self { max_retained: max_retained.max(1), retained: VecDeque::new(), shared: SharedStateRegistry::new() }
    }

    /// Adds a completed checkpoint (just finalized, or the retained checkpoint a restarted
    /// JobMaster restored from) and subsumes the oldest ones beyond `max_retained`.
    /// Savepoints are not retained here (and never deleted): adding one does nothing.
    pub fn add(&mut self, checkpoint: CompletedCheckpoint) -> DiscardPlan {
        let mut plan = DiscardPlan::default();
        if checkpoint.metadata.kind == SnapshotKind::Savepoint {
            return plan;
        }
        // Register first: a shared file the new checkpoint reuses must survive the release
        // of the checkpoint it is subsuming.
        self.shared.register(checkpoint.checkpoint_id(), checkpoint.shared_file_urls());
        let position = self.retained.partition_point(|c| c.checkpoint_id() < checkpoint.checkpoint_id());
        self.retained.insert(position, checkpoint);
        while self.retained.len() > self.max_retained {
            let oldest = self.retained.pop_front().expect("more than max_retained >= 1 checkpoints are retained");
            tracing::debug!(checkpoint_id = %oldest.checkpoint_id(), "subsuming checkpoint");
            plan.checkpoint_dirs.push(oldest.pointer.dir.clone());
            plan.shared_files.extend(self.shared.release(oldest.checkpoint_id()));
        }
        plan
    }

    /// The latest completed checkpoint: what a failover restores.
    pub fn latest(&self) -> Option<&CompletedCheckpoint> {
        self.retained.back()
    }

    /// The retained checkpoints, oldest first.
    pub fn retained(&self) -> impl Iterator<Item = &CompletedCheckpoint> {
        self.retained.iter()
    }

    pub fn shared_registry(&self) -> &SharedStateRegistry {
        &self.shared
    }

    /// What to delete for a checkpoint that will never complete: its directory, and the
    /// shared files its acknowledged subtasks uploaded that no retained checkpoint uses.
    pub fn plan_abort<'a>(
        &self,
        location: &CheckpointLocation,
        acknowledged: impl IntoIterator<Item = &'a SubtaskSnapshot>,
    ) -> DiscardPlan {
        let mut shared_files: Vec<String> = acknowledged
            .into_iter()
            .flat_map(SubtaskSnapshot::shared_handles)
            .filter_map(StreamStateHandle::file_path)
            .filter_map(|path| location.dir.resolve(path).ok())
            .map(|url| url.to_string())
            .filter(|url| self.shared.reference_count(url) == 0)
            .collect();
        shared_files.sort();
        shared_files.dedup();
        DiscardPlan { checkpoint_dirs: vec![location.dir()], shared_files, remove_if_empty: Vec::new() }
    }

    /// Called by the JobMaster when the job terminates: keeps the retained checkpoints or
    /// plans their deletion according to `retention`.
    pub fn shutdown(&mut self, termination: JobTermination, retention: ExternalizedCheckpointRetention) -> DiscardPlan {
        if retention.keeps_checkpoints(termination) {
            if let Some(latest) = self.latest() {
                tracing::info!(?termination, ?retention, checkpoint = %latest.pointer, "keeping retained checkpoints");
            }
            return DiscardPlan::default();
        }
        let mut plan = DiscardPlan::default();
        let mut job_dirs = Vec::new();
        for checkpoint in self.retained.drain(..) {
            if let Some((job_dir, _)) = checkpoint.pointer.dir.rsplit_once('/') {
                job_dirs.push(job_dir.to_string());
            }
            plan.checkpoint_dirs.push(checkpoint.pointer.dir);
        }
        plan.shared_files = self.shared.release_all();
        job_dirs.sort();
        job_dirs.dedup();
        for job_dir in job_dirs {
            plan.remove_if_empty.push(format!("{job_dir}/{}", crate::storage::layout::SHARED_DIR));
            plan.remove_if_empty.push(job_dir);
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::{CheckpointMetadata, KeyedStateHandle, NamedStateHandle, OperatorSnapshot, SnapshotFormat};
    use crate::storage::CompletedCheckpointPointer;
    use brook_types::key_group::KeyGroupRange;
    use brook_types::{CheckpointId, JobId, OperatorId};
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    const JOB_DIR: &str = "file:///ck/000000000000000000000000000000aa";

    fn checkpoint(id: u64, shared: &[&str], kind: SnapshotKind) -> CompletedCheckpoint {
        let mut metadata = CheckpointMetadata::new(JobId(0xaa), CheckpointId(id), 0, kind, SnapshotFormat::Native);
        let handles = shared
            .iter()
            .map(|name| NamedStateHandle {
                name: format!("{name}.sst"),
                handle: StreamStateHandle::File { path: format!("../shared/{name}"), size: 1 },
            })
            .collect();
        metadata.operators.push(OperatorSnapshot {
            operator_id: OperatorId(1),
            uid: None,
            name: "op".into(),
            parallelism: 1,
            max_parallelism: 128,
            subtasks: vec![SubtaskSnapshot {
                subtask: 0,
                keyed: vec![KeyedStateHandle::Incremental {
                    key_group_range: KeyGroupRange { start: 0, end: 127 },
                    shared: handles,
                    private: vec![],
                    meta: StreamStateHandle::Inline(bytes::Bytes::new()),
                }],
                operator_state: None,
                in_flight: vec![],
                channel_state: None,
            }],
            coordinator_state: None,
        });
        let dir = match kind {
            SnapshotKind::Checkpoint => format!("{JOB_DIR}/chk-{id}"),
            SnapshotKind::Savepoint => format!("file:///sp/savepoint-000000-{id:012x}"),
        };
        CompletedCheckpoint { pointer: CompletedCheckpointPointer::new(&metadata, dir), metadata }
    }

    fn shared(name: &str) -> String {
        format!("{JOB_DIR}/shared/{name}")
    }

    #[test]
    fn keeps_the_latest_and_deletes_shared_files_when_unused() {
        let mut store = CompletedCheckpointStore::new(2);
        assert!(store.add(checkpoint(1, &["a", "b"], SnapshotKind::Checkpoint)).is_empty());
        assert!(store.add(checkpoint(2, &["b", "c"], SnapshotKind::Checkpoint)).is_empty());
        let plan = store.add(checkpoint(3, &["c", "d"], SnapshotKind::Checkpoint));
        assert_eq!(plan.checkpoint_dirs, vec![format!("{JOB_DIR}/chk-1")]);
        assert_eq!(plan.shared_files, vec![shared("a")], "b is still used by chk-2");
        let plan = store.add(checkpoint(4, &["d"], SnapshotKind::Checkpoint));
        assert_eq!(plan.checkpoint_dirs, vec![format!("{JOB_DIR}/chk-2")]);
        assert_eq!(plan.shared_files, vec![shared("b")]);
        assert_eq!(store.latest().unwrap().checkpoint_id(), CheckpointId(4));
        assert_eq!(store.retained().map(|c| c.checkpoint_id().0).collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn savepoints_are_neither_retained_nor_deleted() {
        let mut store = CompletedCheckpointStore::new(1);
        store.add(checkpoint(1, &[], SnapshotKind::Checkpoint));
        assert!(store.add(checkpoint(2, &[], SnapshotKind::Savepoint)).is_empty());
        assert_eq!(store.latest().unwrap().checkpoint_id(), CheckpointId(1));
        let plan = store.shutdown(JobTermination::Canceled, ExternalizedCheckpointRetention::NoExternalizedCheckpoints);
        assert!(plan.checkpoint_dirs.iter().all(|d| !d.contains("savepoint")), "{plan:?}");
    }

    #[test]
    fn shutdown_follows_the_retention_setting() {
        let mut store = CompletedCheckpointStore::new(1);
        store.add(checkpoint(1, &["a"], SnapshotKind::Checkpoint));
        let kept = store.shutdown(JobTermination::Canceled, ExternalizedCheckpointRetention::RetainOnCancellation);
        assert!(kept.is_empty());
        let plan = store.shutdown(JobTermination::Canceled, ExternalizedCheckpointRetention::DeleteOnCancellation);
        assert_eq!(plan.checkpoint_dirs, vec![format!("{JOB_DIR}/chk-1")]);
        assert_eq!(plan.shared_files, vec![shared("a")]);
        assert_eq!(plan.remove_if_empty, vec![format!("{JOB_DIR}/shared"), JOB_DIR.to_string()]);
        assert!(store.latest().is_none());
    }

    proptest! {
        /// Checkpoints reuse shared files of the latest retained checkpoint and add new ones,
        /// as an incremental backend does. No file a retained checkpoint references is ever
        /// planned for deletion, every file is planned at most once, and a shutdown that
        /// deletes leaves nothing behind.
        #[test]
        fn never_deletes_a_file_in_use(
            max_retained in 1usize..4,
            steps in proptest::collection::vec((proptest::collection::vec(any::<bool>(), 0..6), 0usize..3), 1..25),
        ) {
            let mut store = CompletedCheckpointStore::new(max_retained);
            let mut deleted: BTreeSet<String> = BTreeSet::new();
            let mut uploaded: BTreeSet<String> = BTreeSet::new();
            let mut latest: Vec<String> = Vec::new();
            for (id, (keep, new_files)) in steps.iter().enumerate() {
                let id = id as u64 + 1;
                let mut names: Vec<String> =
                    latest.iter().zip(keep).filter(|(_, k)| **k).map(|(n, _)| n.clone()).collect();
                names.extend((0..*new_files).map(|i| format!("f{id}-{i}")));
                uploaded.extend(names.iter().map(|n| shared(n)));
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                let plan = store.add(checkpoint(id, &refs, SnapshotKind::Checkpoint));
                latest = names;
                let in_use: BTreeSet<String> = store.retained().flat_map(|c| c.shared_file_urls()).collect();
                for file in plan.shared_files {
                    prop_assert!(!in_use.contains(&file), "{} deleted while in use", file);
                    prop_assert!(deleted.insert(file.clone()), "{} deleted twice", file);
                }
                prop_assert!(store.retained().count() <= max_retained);
            }
            let plan = store.shutdown(JobTermination::Finished, ExternalizedCheckpointRetention::RetainOnCancellation);
            deleted.extend(plan.shared_files);
            prop_assert_eq!(deleted, uploaded);
        }
    }
}
