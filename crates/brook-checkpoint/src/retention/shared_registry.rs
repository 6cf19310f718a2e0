//! Reference counts of shared files (incremental checkpoints).
//!
//! Invariant: a shared file is handed out for deletion exactly when the last retained
//! checkpoint that references it is released. Register a new checkpoint *before* releasing
//! the one it subsumes, so that a file both use survives. Tasks only reuse files of a
//! checkpoint that has completed (and is therefore registered), so a file cannot be
//! referenced by a pending checkpoint after its count reached zero.

use brook_types::CheckpointId;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Counts, per shared file (its absolute URL), the retained checkpoints that use it.
#[derive(Clone, Debug, Default)]
pub struct SharedStateRegistry {
    counts: HashMap<String, usize>,
    by_checkpoint: BTreeMap<CheckpointId, Vec<String>>,
}

impl SharedStateRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `checkpoint` references `files`. Registering the same checkpoint again
    /// does nothing.
    pub fn register(&mut self, checkpoint: CheckpointId, files: impl IntoIterator<Item = String>) {
        if self.by_checkpoint.contains_key(&checkpoint) {
            return;
        }
        let files: Vec<String> = files.into_iter().collect::<BTreeSet<_>>().into_iter().collect();
        for file in &files {
            *self.counts.entry(file.clone()).or_insert(0) += 1;
        }
        self.by_checkpoint.insert(checkpoint, files);
    }

    /// Forgets `checkpoint` and returns the files no retained checkpoint references any
    /// more (sorted): the caller deletes them.
    pub fn release(&mut self, checkpoint: CheckpointId) -> Vec<String> {
        let mut unused = Vec::new();
        for file in self.by_checkpoint.remove(&checkpoint).unwrap_or_default() {
            let count = self.counts.get_mut(&file).expect("every file of a registered checkpoint is counted");
            *count -= 1;
            if *count == 0 {
                self.counts.remove(&file);
                unused.push(file);
            }
        }
        unused
    }

    /// Forgets every checkpoint; returns every file (sorted).
    pub fn release_all(&mut self) -> Vec<String> {
        self.by_checkpoint.clear();
        let mut files: Vec<String> = self.counts.drain().map(|(file, _)| file).collect();
        files.sort();
        files
    }

    /// How many registered checkpoints reference `file`.
    pub fn reference_count(&self, file: &str) -> usize {
        self.counts.get(file).copied().unwrap_or(0)
    }

    /// The number of files referenced by at least one checkpoint.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_file_lives_while_any_checkpoint_uses_it() {
        let mut r = SharedStateRegistry::new();
        r.register(CheckpointId(1), ["a".to_string(), "b".to_string()]);
        r.register(CheckpointId(2), ["b".to_string(), "c".to_string(), "c".to_string()]);
        assert_eq!(r.reference_count("b"), 2);
        assert_eq!(r.reference_count("c"), 1, "a checkpoint counts once per file");
        assert_eq!(r.release(CheckpointId(1)), vec!["a".to_string()]);
        assert_eq!(r.release(CheckpointId(1)), Vec::<String>::new(), "releasing twice is harmless");
        assert_eq!(r.release(CheckpointId(2)), vec!["b".to_string(), "c".to_string()]);
        assert!(r.is_empty());
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Register the next checkpoint with these files (indices into a small universe).
        Register(Vec<u8>),
        /// Release the i-th (modulo) retained checkpoint.
        Release(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            proptest::collection::vec(0u8..12, 0..6).prop_map(Op::Register),
            any::<usize>().prop_map(Op::Release),
        ]
    }

    proptest! {
        /// Against a model that keeps every retained checkpoint's file set: a release hands
        /// out exactly the files of the released checkpoint that no remaining one uses.
        #[test]
        fn matches_a_model(ops in proptest::collection::vec(op(), 0..60)) {
            let mut registry = SharedStateRegistry::new();
            let mut model: BTreeMap<CheckpointId, BTreeSet<String>> = BTreeMap::new();
            let mut next = 1;
            for op in ops {
                match op {
                    Op::Register(files) => {
                        let files: BTreeSet<String> = files.iter().map(|f| format!("file-{f}")).collect();
                        registry.register(CheckpointId(next), files.iter().cloned());
                        model.insert(CheckpointId(next), files);
                        next += 1;
                    }
                    Op::Release(i) if !model.is_empty() => {
                        let id = *model.keys().nth(i % model.len()).unwrap();
                        let released = model.remove(&id).unwrap();
                        let still_used: BTreeSet<&String> = model.values().flatten().collect();
                        let expected: Vec<String> =
                            released.iter().filter(|f| !still_used.contains(f)).cloned().collect();
                        prop_assert_eq!(registry.release(id), expected);
                    }
                    Op::Release(_) => {}
                }
                let used: BTreeSet<&String> = model.values().flatten().collect();
                prop_assert_eq!(registry.len(), used.len());
                for file in used {
                    let count = model.values().filter(|s| s.contains(file)).count();
                    prop_assert_eq!(registry.reference_count(file), count);
                }
            }
        }
    }
}
