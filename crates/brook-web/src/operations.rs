//! Asynchronous operations (savepoints, stop-with-savepoint) by trigger id: the POST
//! answers with a `request-id` at once, `GET /jobs/:jobid/savepoints/:triggerid`
//! reports `IN_PROGRESS` until the JobMaster replied, then the result.

use brook_types::{JobId, Result};
use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A trigger id: 32 hex digits, as Flink's `TriggerId`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TriggerId(pub u128);

impl std::fmt::Display for TriggerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl std::str::FromStr for TriggerId {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        if s.len() != 32 {
            return Err(());
        }
        u128::from_str_radix(s, 16).map(TriggerId).map_err(|_| ())
    }
}

/// Where an operation is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperationState {
    InProgress,
    /// The savepoint's directory.
    Completed(String),
    /// Why it failed.
    Failed(String),
}

struct Operation {
    state: OperationState,
    /// Whether a client read the final state (`brook run` waits for that before it exits).
    fetched: bool,
}

#[derive(Default)]
struct Inner {
    operations: HashMap<(JobId, TriggerId), Operation>,
    /// The latest completed savepoint per job, for `/jobs/:jobid/checkpoints`.
    latest_savepoint: HashMap<JobId, String>,
}

/// The operations of every job. Results are kept for the server's lifetime.
#[derive(Clone, Default)]
pub struct Operations {
    inner: Arc<(Mutex<Inner>, Condvar)>,
}

impl Operations {
    /// Registers an operation and runs `result` on `runtime`, recording its outcome.
    pub fn start(
        &self,
        runtime: &tokio::runtime::Handle,
        job: JobId,
        result: impl Future<Output = Result<String>> + Send + 'static,
    ) -> TriggerId {
        let trigger = TriggerId(JobId::generate().0);
        self.inner
            .0
            .lock()
            .operations
            .insert((job, trigger), Operation { state: OperationState::InProgress, fetched: false });
        let this = self.clone();
        runtime.spawn(async move {
            let state = match result.await {
                Ok(path) => OperationState::Completed(path),
                Err(brook_types::BrookError::Cluster(cause)) => OperationState::Failed(cause),
                Err(e) => OperationState::Failed(e.to_string()),
            };
            let mut inner = this.inner.0.lock();
            if let OperationState::Completed(path) = &state {
                inner.latest_savepoint.insert(job, path.clone());
            }
            if let Some(op) = inner.operations.get_mut(&(job, trigger)) {
                op.state = state;
            }
            drop(inner);
            this.inner.1.notify_all();
        });
        trigger
    }

    /// The operation's state, marking a final one as read.
    pub fn fetch(&self, job: JobId, trigger: TriggerId) -> Option<OperationState> {
        let mut inner = self.inner.0.lock();
        let op = inner.operations.get_mut(&(job, trigger))?;
        if op.state != OperationState::InProgress {
            op.fetched = true;
        }
        let state = op.state.clone();
        drop(inner);
        self.inner.1.notify_all();
        Some(state)
    }

    pub fn latest_savepoint(&self, job: JobId) -> Option<String> {
        self.inner.0.lock().latest_savepoint.get(&job).cloned()
    }

    /// Blocks until every operation's result was read by a client, or `timeout`
    /// passed; returns whether all were read.
    pub fn wait_all_fetched(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut inner = self.inner.0.lock();
        loop {
            if inner.operations.values().all(|op| op.fetched) {
                return true;
            }
            if self.inner.1.wait_until(&mut inner, deadline).timed_out() {
                return inner.operations.values().all(|op| op.fetched);
            }
        }
    }
}
