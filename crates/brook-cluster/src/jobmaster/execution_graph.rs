//! The ExecutionGraph: the JobGraph expanded by parallelism, one entry per subtask.

use brook_runtime::graph::JobGraph;
use brook_runtime::task::ExecutionState;
use brook_types::{TaskManagerId, VertexId};
use std::collections::BTreeMap;

struct ExecutionVertex {
    state: ExecutionState,
    location: Option<TaskManagerId>,
}

/// Per subtask: state and the TaskManager it was deployed to.
pub struct ExecutionGraph {
    subtasks: BTreeMap<(VertexId, usize), ExecutionVertex>,
}

impl ExecutionGraph {
    pub fn new(job: &JobGraph) -> Self {
        let mut subtasks = BTreeMap::new();
        for v in &job.vertices {
            for i in 0..v.parallelism {
                subtasks.insert((v.id, i), ExecutionVertex { state: ExecutionState::Created, location: None });
            }
        }
        Self { subtasks }
    }

    pub fn assign(&mut self, vertex: VertexId, subtask: usize, tm: TaskManagerId) {
        if let Some(v) = self.subtasks.get_mut(&(vertex, subtask)) {
            v.location = Some(tm);
        }
    }

    pub fn set_state(&mut self, vertex: VertexId, subtask: usize, state: ExecutionState) {
        if let Some(v) = self.subtasks.get_mut(&(vertex, subtask)) {
            // A terminal state is final for an attempt.
            if !v.state.is_terminal() {
                v.state = state;
            }
        }
    }

    /// Sets a state even over a terminal one: the subtask's TaskManager was lost, so
    /// no report of it will come.
    pub fn force_state(&mut self, vertex: VertexId, subtask: usize, state: ExecutionState) {
        if let Some(v) = self.subtasks.get_mut(&(vertex, subtask)) {
            v.state = state;
        }
    }

    /// Subtasks on `tm` that have not reached a terminal state.
    pub fn unfinished_subtasks_on(&self, tm: TaskManagerId) -> Vec<(VertexId, usize)> {
        self.subtasks
            .iter()
            .filter(|(_, v)| v.location == Some(tm) && !v.state.is_terminal())
            .map(|(k, _)| *k)
            .collect()
    }

    /// Every TaskManager the job's subtasks are assigned to.
    pub fn locations(&self) -> Vec<TaskManagerId> {
        let mut all: Vec<TaskManagerId> = self.subtasks.values().filter_map(|v| v.location).collect();
        all.sort();
        all.dedup();
        all
    }

    /// The TaskManager a subtask is assigned to.
    pub fn location(&self, vertex: VertexId, subtask: usize) -> Option<TaskManagerId> {
        self.subtasks.get(&(vertex, subtask)).and_then(|v| v.location)
    }

    /// Every subtask back to CREATED, for the next attempt (locations are kept).
    pub fn reset(&mut self) {
        self.subtasks.values_mut().for_each(|v| v.state = ExecutionState::Created);
    }

    pub fn all_running(&self) -> bool {
        self.subtasks.values().all(|v| v.state == ExecutionState::Running)
    }

    pub fn all_terminal(&self) -> bool {
        self.subtasks.values().all(|v| v.state.is_terminal())
    }

    pub fn all_finished(&self) -> bool {
        self.subtasks.values().all(|v| v.state == ExecutionState::Finished)
    }

    /// Subtasks that have not ended, with their TaskManager.
    pub fn running_subtasks(&self) -> Vec<(VertexId, usize, TaskManagerId)> {
        self.subtasks
            .iter()
            .filter(|(_, v)| !v.state.is_terminal() && v.state != ExecutionState::Canceling)
            .filter_map(|((vid, i), v)| v.location.map(|tm| (*vid, *i, tm)))
            .collect()
    }
}
