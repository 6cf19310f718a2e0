use super::SinkFunction;
use brook_types::{Batch, Result};
use parking_lot::Mutex;
use std::sync::Arc;

/// Where a collect sink's records end up; shared by all its subtasks.
#[derive(Debug)]
pub struct CollectHandle<T> {
    records: Arc<Mutex<Vec<T>>>,
}

impl<T> Clone for CollectHandle<T> {
    fn clone(&self) -> Self {
        Self { records: self.records.clone() }
    }
}

impl<T> Default for CollectHandle<T> {
    fn default() -> Self {
        Self { records: Arc::new(Mutex::new(Vec::new())) }
    }
}

impl<T> CollectHandle<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the records collected so far.
    pub fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.records.lock())
    }

    pub fn len(&self) -> usize {
        self.records.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Collects records in memory, in arrival order per subtask (for tests and
/// `execute_and_collect`).
pub struct CollectSink<T> {
    handle: CollectHandle<T>,
}

impl<T> Clone for CollectSink<T> {
    fn clone(&self) -> Self {
        Self { handle: self.handle.clone() }
    }
}

impl<T> CollectSink<T> {
    pub fn new(handle: CollectHandle<T>) -> Self {
        Self { handle }
    }
}

impl<T: Send> SinkFunction<T> for CollectSink<T> {
    fn write_batch(&mut self, batch: Batch<T>) -> Result<()> {
        self.handle.records.lock().extend(batch.into_iter().map(|r| r.value));
        Ok(())
    }
}
