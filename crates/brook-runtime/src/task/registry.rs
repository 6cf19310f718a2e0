//! Where the in-memory data plane finds input gates.
//!
//! Each deployed subtask registers the handles of its input gates under
//! (job, vertex, subtask, input). Upstream subtasks look them up when they build
//! their record writers; a lookup waits until the downstream subtask has been
//! deployed, so deployment order does not matter.

use brook_types::{JobId, VertexId};
use parking_lot::Mutex;
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Notify;

/// (job, vertex, subtask, input index)
pub type GateKey = (JobId, VertexId, usize, usize);

/// The registry of input gates of one process.
#[derive(Default)]
pub struct LocalShuffle {
    gates: Mutex<HashMap<GateKey, Arc<dyn Any + Send + Sync>>>,
    registered: Notify,
}

impl LocalShuffle {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn register(&self, key: GateKey, handle: Arc<dyn Any + Send + Sync>) {
        self.gates.lock().insert(key, handle);
        self.registered.notify_waiters();
    }

    /// The handle registered under `key`, waiting for its registration.
    pub async fn lookup(&self, key: GateKey) -> Arc<dyn Any + Send + Sync> {
        loop {
            let notified = self.registered.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(h) = self.gates.lock().get(&key) {
                return h.clone();
            }
            notified.await;
        }
    }

    /// Forgets a job's gates (when it ends or restarts).
    pub fn unregister_job(&self, job: JobId) {
        self.gates.lock().retain(|k, _| k.0 != job);
    }
}
