//! The shared, observable state of one job: what `JobClient`, the REST API and the
//! CLI read while the JobMaster writes it.

use crate::job_status::JobStatus;
use brook_runtime::graph::JobGraph;
use brook_runtime::metrics::MetricRegistry;
use brook_runtime::task::ExecutionState;
use brook_types::{JobId, TaskManagerId, VertexId};
use parking_lot::{Condvar, Mutex};
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A vertex as observed now.
#[derive(Clone, Debug)]
pub struct VertexSnapshot {
    pub id: VertexId,
    pub name: String,
    pub parallelism: usize,
    /// Per subtask.
    pub subtask_states: Vec<ExecutionState>,
    /// Per subtask, the TaskManager its current attempt was deployed to (`None` before).
    pub subtask_locations: Vec<Option<TaskManagerId>>,
}

/// One failure of a job: what `GET /jobs/:jobid/exceptions` lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobFailure {
    /// When it was recorded, ms since the epoch.
    pub timestamp_ms: i64,
    pub cause: String,
}

/// A job as observed now.
#[derive(Clone, Debug)]
pub struct JobSnapshot {
    pub job_id: JobId,
    pub name: String,
    pub status: JobStatus,
    pub start_time_ms: i64,
    pub duration: Duration,
    pub failure_cause: Option<String>,
    pub vertices: Vec<VertexSnapshot>,
    /// Checkpoints completed so far, over all attempts.
    pub completed_checkpoints: u64,
    /// The latest completed checkpoint: its id and directory.
    pub latest_checkpoint: Option<(brook_types::CheckpointId, String)>,
    /// How often the job was restarted.
    pub restarts: u32,
    /// The cause of the last failure that led to a restart.
    pub last_failure: Option<String>,
    /// Every failure so far (restarts and the final one), oldest first, at most
    /// [`MAX_FAILURES`] (the latest).
    pub failures: Vec<JobFailure>,
}

/// How many failures a job keeps (Flink's `web.exception-history-size` default).
pub const MAX_FAILURES: usize = 16;

struct JobState {
    /// Increases with every change, so that waiters do not miss one.
    version: u64,
    status: JobStatus,
    failure_cause: Option<String>,
    tasks: BTreeMap<(VertexId, usize), ExecutionState>,
    ended: Option<Instant>,
    completed_checkpoints: u64,
    latest_checkpoint: Option<(brook_types::CheckpointId, String)>,
    restarts: u32,
    last_failure: Option<String>,
    locations: BTreeMap<(VertexId, usize), TaskManagerId>,
    failures: Vec<JobFailure>,
}

impl JobState {
    fn record_failure(&mut self, cause: &str) {
        let timestamp_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        if self.failures.len() == MAX_FAILURES {
            self.failures.remove(0);
        }
        self.failures.push(JobFailure { timestamp_ms, cause: cause.to_string() });
    }
}

/// The observable state of one job.
pub struct JobHandle {
    pub job_id: JobId,
    pub job: std::sync::Arc<JobGraph>,
    pub metrics: MetricRegistry,
    started: Instant,
    start_time_ms: i64,
    state: Mutex<JobState>,
    changed: Condvar,
    notify: tokio::sync::Notify,
}

impl JobHandle {
    pub fn new(job: std::sync::Arc<JobGraph>, metrics: MetricRegistry) -> Self {
        let mut tasks = BTreeMap::new();
        for v in &job.vertices {
            for i in 0..v.parallelism {
                tasks.insert((v.id, i), ExecutionState::Created);
            }
        }
        let start_time_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        Self {
            job_id: job.job_id,
            job,
            metrics,
            started: Instant::now(),
            start_time_ms,
            state: Mutex::new(JobState {
                version: 0,
                status: JobStatus::Created,
                failure_cause: None,
                tasks,
                ended: None,
                completed_checkpoints: 0,
                latest_checkpoint: None,
                restarts: 0,
                last_failure: None,
                locations: BTreeMap::new(),
                failures: Vec::new(),
            }),
            changed: Condvar::new(),
            notify: tokio::sync::Notify::new(),
        }
    }

    pub fn status(&self) -> JobStatus {
        self.state.lock().status
    }

    pub fn failure_cause(&self) -> Option<String> {
        self.state.lock().failure_cause.clone()
    }

    pub(crate) fn set_failure_cause(&self, cause: String) {
        let mut s = self.state.lock();
        s.record_failure(&cause);
        s.failure_cause = Some(cause);
    }

    pub(crate) fn set_status(&self, status: JobStatus, cause: Option<String>) {
        {
            let mut s = self.state.lock();
            s.version += 1;
            s.status = status;
            if let Some(cause) = cause
                && s.failure_cause.is_none()
            {
                s.record_failure(&cause);
                s.failure_cause = Some(cause);
            }
            if status.is_globally_terminal() {
                s.ended = Some(Instant::now());
            }
        }
        self.changed.notify_all();
        self.notify.notify_waiters();
    }

    pub(crate) fn set_task_state(&self, vertex: VertexId, subtask: usize, state: ExecutionState) {
        {
            let mut s = self.state.lock();
            s.version += 1;
            let entry = s.tasks.entry((vertex, subtask)).or_insert(state);
            if !entry.is_terminal() {
                *entry = state;
            }
        }
        self.changed.notify_all();
        self.notify.notify_waiters();
    }

    /// Every subtask back to CREATED (a restart deploys the next attempt).
    pub(crate) fn reset_tasks(&self) {
        self.update(|s| s.tasks.values_mut().for_each(|t| *t = ExecutionState::Created));
    }

    pub(crate) fn record_restart(&self) {
        self.update(|s| s.restarts += 1);
    }

    pub(crate) fn set_last_failure(&self, cause: String) {
        self.update(|s| {
            s.record_failure(&cause);
            s.last_failure = Some(cause);
        });
    }

    /// Subtask `subtask` of `vertex` is deployed to `task_manager`.
    pub fn set_task_location(&self, vertex: VertexId, subtask: usize, task_manager: TaskManagerId) {
        self.update(|s| {
            s.locations.insert((vertex, subtask), task_manager);
        });
    }

    pub(crate) fn record_checkpoint(&self, id: brook_types::CheckpointId, dir: String) {
        self.update(|s| {
            s.completed_checkpoints += 1;
            s.latest_checkpoint = Some((id, dir));
        });
    }

    fn update(&self, f: impl FnOnce(&mut JobState)) {
        {
            let mut s = self.state.lock();
            s.version += 1;
            f(&mut s);
        }
        self.changed.notify_all();
        self.notify.notify_waiters();
    }

    /// Blocks until the job reached a terminal state.
    pub fn wait_terminal(&self) -> JobStatus {
        let mut s = self.state.lock();
        while !s.status.is_globally_terminal() {
            self.changed.wait(&mut s);
        }
        s.status
    }

    /// Blocks until `pred` holds for the job, or `timeout` passes; returns whether it held.
    pub fn wait_until(&self, timeout: Duration, mut pred: impl FnMut(&JobSnapshot) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.state.lock().version;
            if pred(&self.snapshot()) {
                return true;
            }
            let mut s = self.state.lock();
            // Sleep only if nothing changed since the predicate looked.
            if s.version == seen && self.changed.wait_until(&mut s, deadline).timed_out() {
                drop(s);
                return pred(&self.snapshot());
            }
        }
    }

    /// Waits asynchronously until the job reached a terminal state.
    pub async fn terminal(&self) -> JobStatus {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let status = self.status();
            if status.is_globally_terminal() {
                return status;
            }
            notified.await;
        }
    }

    pub fn snapshot(&self) -> JobSnapshot {
        let s = self.state.lock();
        let vertices = self
            .job
            .vertices
            .iter()
            .map(|v| VertexSnapshot {
                id: v.id,
                name: v.name.clone(),
                parallelism: v.parallelism,
                subtask_states: (0..v.parallelism).map(|i| s.tasks[&(v.id, i)]).collect(),
                subtask_locations: (0..v.parallelism).map(|i| s.locations.get(&(v.id, i)).copied()).collect(),
            })
            .collect();
        JobSnapshot {
            job_id: self.job_id,
            name: self.job.job_name.clone(),
            status: s.status,
            start_time_ms: self.start_time_ms,
            duration: s.ended.unwrap_or_else(Instant::now) - self.started,
            failure_cause: s.failure_cause.clone(),
            vertices,
            completed_checkpoints: s.completed_checkpoints,
            latest_checkpoint: s.latest_checkpoint.clone(),
            restarts: s.restarts,
            last_failure: s.last_failure.clone(),
            failures: s.failures.clone(),
        }
    }
}
