//! Deployment descriptors: what a TaskManager needs to start one subtask, computed
//! by the JobMaster from the JobGraph alone.

use super::connect::{downstream_targets, upstream_sources};
use super::job_graph::JobGraph;
use brook_types::{JobId, TaskManagerId, VertexId};
use serde::{Deserialize, Serialize};

/// One channel of an input gate: which edge and upstream subtask feed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputChannel {
    pub edge: usize,
    pub upstream_subtask: usize,
}

/// One logical input of the head operator; channel `i` is `channels[i]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InputGateDescriptor {
    pub input: usize,
    pub channels: Vec<InputChannel>,
}

/// Where a TaskManager serves its data plane (`taskmanager.data.port`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DataPlaneLocation {
    pub task_manager: TaskManagerId,
    /// `host:port` the TaskManager's data plane listens on.
    pub address: String,
}

/// Where channel `i` of a result partition goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelTarget {
    pub vertex: VertexId,
    pub subtask: usize,
    pub input: usize,
    /// Index of the channel in the target's gate.
    pub channel: usize,
    /// The TaskManager running the target subtask, when it is another one than the
    /// producer's (the channel then goes over the network); `None` in the same
    /// process. Filled in by the JobMaster once slots are assigned.
    #[serde(default)]
    pub location: Option<DataPlaneLocation>,
}

/// The outgoing side of one edge in one subtask.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResultPartitionDescriptor {
    pub edge: usize,
    pub targets: Vec<ChannelTarget>,
}

/// Everything needed to deploy one subtask.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaskDeploymentDescriptor {
    pub job_id: JobId,
    pub vertex: VertexId,
    pub subtask_index: usize,
    pub parallelism: usize,
    pub attempt: u32,
    pub inputs: Vec<InputGateDescriptor>,
    pub outputs: Vec<ResultPartitionDescriptor>,
}

impl JobGraph {
    /// The gates of subtask `subtask` of `vertex`: per input, its channels ordered by
    /// edge and then upstream subtask.
    pub fn input_gates(&self, vertex: VertexId, subtask: usize) -> Vec<InputGateDescriptor> {
        let v = self.vertex(vertex);
        (0..v.num_inputs)
            .map(|input| {
                let mut channels = Vec::new();
                for e in self.edges.iter().filter(|e| e.target_vertex == vertex && e.input == input) {
                    let up_p = self.vertex(e.source_vertex).parallelism;
                    for u in upstream_sources(e.strategy, up_p, v.parallelism, subtask) {
                        channels.push(InputChannel { edge: e.id, upstream_subtask: u });
                    }
                }
                InputGateDescriptor { input, channels }
            })
            .collect()
    }

    /// The descriptor of one subtask.
    pub fn deployment_descriptor(&self, vertex: VertexId, subtask: usize, attempt: u32) -> TaskDeploymentDescriptor {
        let v = self.vertex(vertex);
        let outputs = self
            .edges
            .iter()
            .filter(|e| e.source_vertex == vertex)
            .map(|e| {
                let down = self.vertex(e.target_vertex);
                let targets = downstream_targets(e.strategy, v.parallelism, down.parallelism, subtask)
                    .into_iter()
                    .map(|d| {
                        let gate = &self.input_gates(e.target_vertex, d)[e.input];
                        let channel = gate
                            .channels
                            .iter()
                            .position(|c| c.edge == e.id && c.upstream_subtask == subtask)
                            .expect("the target gate has a channel for every connected upstream subtask");
                        ChannelTarget { vertex: e.target_vertex, subtask: d, input: e.input, channel, location: None }
                    })
                    .collect();
                ResultPartitionDescriptor { edge: e.id, targets }
            })
            .collect();
        TaskDeploymentDescriptor {
            job_id: self.job_id,
            vertex,
            subtask_index: subtask,
            parallelism: v.parallelism,
            attempt,
            inputs: self.input_gates(vertex, subtask),
            outputs,
        }
    }
}
