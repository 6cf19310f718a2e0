//! The JobMaster: runs one job. It expands the JobGraph into subtasks (the
//! ExecutionGraph), asks the ResourceManager for slots, deploys every subtask to the
//! TaskManager owning its slot, follows their states, and decides the job's state.
//!
//! It sees only the JobGraph — never the program — so it runs no user code.
//!
//! Job state machine (one file per decision would be overkill at this size; the
//! transitions all live in [`JobMaster::on_task_update`] and [`JobMaster::finish`]):
//! - CREATED → RUNNING when deployment starts; → FAILED if slots are missing.
//! - RUNNING → FINISHED when every subtask FINISHED.
//! - RUNNING → FAILING on the first FAILED subtask: all others are canceled, then FAILED
//!   with that subtask's cause.
//! - RUNNING → CANCELLING on cancel: all subtasks are canceled, then CANCELED.

mod execution_graph;
mod handle;

pub use execution_graph::ExecutionGraph;
pub use handle::{JobHandle, JobSnapshot, VertexSnapshot};

use crate::job_status::JobStatus;
use crate::resource_manager::ResourceManager;
use crate::taskmanager::TaskManager;
use brook_runtime::graph::JobGraph;
use brook_runtime::task::ExecutionState;
use brook_types::{TaskManagerId, VertexId};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::mpsc;

/// A subtask's state changed.
#[derive(Clone, Debug)]
pub struct TaskStateUpdate {
    pub vertex: VertexId,
    pub subtask: usize,
    pub attempt: u32,
    pub state: ExecutionState,
    pub cause: Option<String>,
}

/// Requests to a running job.
#[derive(Debug)]
pub enum JobControl {
    Cancel,
}

/// Runs one job to its end.
pub struct JobMaster {
    job: Arc<JobGraph>,
    graph: ExecutionGraph,
    resource_manager: Arc<ResourceManager>,
    task_managers: HashMap<TaskManagerId, Arc<TaskManager>>,
    handle: Arc<JobHandle>,
    cancel_requested: bool,
}

impl JobMaster {
    pub fn new(
        job: Arc<JobGraph>,
        resource_manager: Arc<ResourceManager>,
        task_managers: HashMap<TaskManagerId, Arc<TaskManager>>,
        handle: Arc<JobHandle>,
    ) -> Self {
        let graph = ExecutionGraph::new(&job);
        Self { job, graph, resource_manager, task_managers, handle, cancel_requested: false }
    }

    /// Schedules, deploys and follows the job until it ends.
    pub async fn run(mut self, mut control: mpsc::UnboundedReceiver<JobControl>) {
        let job_id = self.job.job_id;
        tracing::info!(job_id = %job_id, job = %self.job.job_name, "job submitted");
        let required = self.job.required_slots();
        let total: usize = required.values().sum();
        let detail =
            required.iter().map(|(g, n)| format!("slot sharing group '{g}' needs {n}")).collect::<Vec<_>>().join(", ");
        let slots = match self.resource_manager.allocate(job_id, total, &detail) {
            Ok(s) => s,
            Err(e) => {
                self.handle.set_status(JobStatus::Failed, Some(e.to_string()));
                return;
            }
        };
        // Slot sharing: subtask i of every vertex in group g runs in the group's slot i.
        let mut group_slots: BTreeMap<&str, Vec<_>> = BTreeMap::new();
        let mut next = slots.into_iter();
        for (group, n) in &required {
            group_slots.insert(group.as_str(), next.by_ref().take(*n).collect());
        }
        self.handle.set_status(JobStatus::Running, None);
        let (tx, mut updates) = mpsc::unbounded_channel();
        let job = self.job.clone();
        for v in &job.vertices {
            let slots = &group_slots[v.slot_sharing_group.as_str()];
            for (subtask, slot) in slots.iter().take(v.parallelism).enumerate() {
                self.graph.assign(v.id, subtask, slot.task_manager);
                self.set_task(v.id, subtask, ExecutionState::Scheduled);
                self.set_task(v.id, subtask, ExecutionState::Deploying);
                let descriptor = self.job.deployment_descriptor(v.id, subtask, 0);
                self.task_managers[&slot.task_manager].submit_task(self.job.clone(), descriptor, tx.clone());
            }
        }
        drop(tx);
        while !self.graph.all_terminal() {
            tokio::select! {
                u = updates.recv() => match u {
                    Some(u) => self.on_task_update(u),
                    None => break,
                },
                c = control.recv() => match c {
                    Some(JobControl::Cancel) if !self.handle.status().is_globally_terminal() => {
                        self.cancel_requested = true;
                        if self.handle.status() == JobStatus::Running {
                            self.handle.set_status(JobStatus::Cancelling, None);
                        }
                        self.cancel_all();
                    }
                    _ => {}
                },
            }
        }
        self.finish();
    }

    fn set_task(&mut self, vertex: VertexId, subtask: usize, state: ExecutionState) {
        self.graph.set_state(vertex, subtask, state);
        self.handle.set_task_state(vertex, subtask, state);
    }

    fn on_task_update(&mut self, u: TaskStateUpdate) {
        tracing::debug!(vertex = %u.vertex, subtask = u.subtask, state = u.state.name(), "task state");
        self.set_task(u.vertex, u.subtask, u.state);
        if u.state == ExecutionState::Failed {
            let cause = u.cause.unwrap_or_else(|| "unknown cause".into());
            tracing::info!(job_id = %self.job.job_id, cause = %cause, "task failed; failing the job");
            if self.handle.failure_cause().is_none() {
                self.handle.set_failure_cause(cause);
            }
            if matches!(self.handle.status(), JobStatus::Running | JobStatus::Cancelling) {
                self.handle.set_status(JobStatus::Failing, None);
            }
            self.cancel_all();
        }
    }

    fn cancel_all(&mut self) {
        for (vertex, subtask, tm) in self.graph.running_subtasks() {
            self.task_managers[&tm].cancel_task(self.job.job_id, vertex, subtask, 0);
            self.set_task(vertex, subtask, ExecutionState::Canceling);
        }
    }

    fn finish(self) {
        let job_id = self.job.job_id;
        let status = if self.handle.failure_cause().is_some() {
            JobStatus::Failed
        } else if self.cancel_requested {
            JobStatus::Canceled
        } else if self.graph.all_finished() {
            JobStatus::Finished
        } else {
            self.handle.set_failure_cause("a task was canceled without a cancel request".into());
            JobStatus::Failed
        };
        self.resource_manager.release(job_id);
        for tm in self.task_managers.values() {
            tm.unregister_job(job_id);
        }
        tracing::info!(job_id = %job_id, status = status.name(), "job ended");
        self.handle.set_status(status, None);
    }
}
