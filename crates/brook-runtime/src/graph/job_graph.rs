//! The JobGraph: the StreamGraph with operators fused into chains.
//!
//! An edge is chained — both operators run in one task, records passed by a call —
//! exactly when Flink would chain it: the target has that one input edge, both are
//! in the same slot sharing group, the edge is a forward edge, both have the same
//! parallelism, the target's chaining strategy is ALWAYS, the source's is not
//! NEVER, and chaining is enabled. The JobGraph is code-free: it is what the
//! JobManager sees and schedules.

use super::stream_graph::{ChainingStrategy, StreamEdge, StreamGraph};
use crate::factory::OperatorKind;
use crate::functions::RuntimeMode;
use crate::partitioner::ShipStrategy;
use brook_types::{JobId, NodeId, OperatorId, VertexId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One operator of a chain.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChainedOperatorInfo {
    pub node: NodeId,
    pub operator_id: OperatorId,
    pub name: String,
    /// The user's `uid`, if set (named in checkpoint metadata).
    #[serde(default)]
    pub uid: Option<String>,
}

/// One operator chain; deployed as `parallelism` subtasks.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobVertex {
    pub id: VertexId,
    pub name: String,
    /// Head first.
    pub operators: Vec<ChainedOperatorInfo>,
    pub parallelism: usize,
    pub max_parallelism: usize,
    pub slot_sharing_group: String,
    pub is_source: bool,
    /// Number of logical inputs of the head (0, 1 or 2).
    pub num_inputs: usize,
}

/// A network edge between two chains.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobEdge {
    /// Index in [`JobGraph::edges`].
    pub id: usize,
    /// The StreamGraph edge this is.
    pub stream_edge: usize,
    pub source_vertex: VertexId,
    pub target_vertex: VertexId,
    pub source_node: NodeId,
    pub target_node: NodeId,
    pub input: usize,
    pub strategy: ShipStrategy,
    pub side_output: Option<String>,
}

/// The chained graph of one job.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobGraph {
    pub job_id: JobId,
    pub job_name: String,
    /// In topological order.
    pub vertices: Vec<JobVertex>,
    pub edges: Vec<JobEdge>,
    pub batch: bool,
    /// The job's configuration (checkpointing, restart strategy, storage). Not
    /// serialized yet: it may hold secrets (`s3.secret-key`), and how they travel to a
    /// remote JobMaster is the RPC layer's decision.
    #[serde(skip)]
    pub configuration: brook_types::config::Configuration,
}

/// Whether `edge` runs inside one task (Flink's `isChainable`).
pub fn is_chainable(graph: &StreamGraph, edge: &StreamEdge) -> bool {
    let up = &graph.nodes[&edge.source];
    let down = &graph.nodes[&edge.target];
    graph.config.chaining_enabled
        && graph.in_edges(edge.target).count() == 1
        && down.factory.kind() == OperatorKind::OneInput
        && up.slot_sharing_group() == down.slot_sharing_group()
        && edge.partitioner.strategy == ShipStrategy::Forward
        && up.parallelism() == down.parallelism()
        && down.chaining == ChainingStrategy::Always
        && up.chaining != ChainingStrategy::Never
}

impl JobGraph {
    /// Chains a resolved StreamGraph.
    pub fn from_stream_graph(graph: &StreamGraph, job_id: JobId) -> Self {
        let op_ids = graph.operator_ids();
        // Node → head of its chain. Node ids are topological (inputs are created first).
        let mut head_of: BTreeMap<NodeId, NodeId> = BTreeMap::new();
        for id in graph.nodes.keys() {
            let mut inputs = graph.in_edges(*id);
            let head = match (inputs.next(), inputs.next()) {
                (Some(e), None) if is_chainable(graph, e) => head_of[&e.source],
                _ => *id,
            };
            head_of.insert(*id, head);
        }
        let mut vertices: Vec<JobVertex> = Vec::new();
        let mut vertex_of_head: BTreeMap<NodeId, usize> = BTreeMap::new();
        for (id, node) in &graph.nodes {
            let head = head_of[id];
            let info = ChainedOperatorInfo {
                node: *id,
                operator_id: op_ids[id],
                name: node.name.clone(),
                uid: node.uid.clone(),
            };
            if head == *id {
                vertex_of_head.insert(*id, vertices.len());
                let num_inputs = match node.factory.kind() {
                    OperatorKind::Source { .. } => 0,
                    OperatorKind::OneInput => 1,
                    OperatorKind::TwoInput => 2,
                };
                vertices.push(JobVertex {
                    id: VertexId::from_head(op_ids[id]),
                    name: node.name.clone(),
                    operators: vec![info],
                    parallelism: node.parallelism(),
                    max_parallelism: node.max_parallelism(),
                    slot_sharing_group: node.slot_sharing_group().to_string(),
                    is_source: num_inputs == 0,
                    num_inputs,
                });
            } else {
                let v = &mut vertices[vertex_of_head[&head]];
                v.name.push_str(" -> ");
                v.name.push_str(&node.name);
                v.operators.push(info);
            }
        }
        let mut edges = Vec::new();
        for e in &graph.edges {
            // An edge is chained exactly when its target is not the head of a chain.
            if head_of[&e.target] == e.target {
                edges.push(JobEdge {
                    id: edges.len(),
                    stream_edge: e.id,
                    source_vertex: vertices[vertex_of_head[&head_of[&e.source]]].id,
                    target_vertex: vertices[vertex_of_head[&e.target]].id,
                    source_node: e.source,
                    target_node: e.target,
                    input: e.input,
                    strategy: e.partitioner.strategy,
                    side_output: e.side_output.clone(),
                });
            }
        }
        JobGraph {
            job_id,
            job_name: graph.job_name.clone(),
            vertices,
            edges,
            batch: graph.config.runtime_mode == RuntimeMode::Batch,
            configuration: graph.config.configuration.clone(),
        }
    }

    pub fn vertex(&self, id: VertexId) -> &JobVertex {
        self.vertices.iter().find(|v| v.id == id).expect("vertex ids come from this graph")
    }

    /// The vertex whose chain contains `node`.
    pub fn vertex_of_node(&self, node: NodeId) -> &JobVertex {
        self.vertices.iter().find(|v| v.operators.iter().any(|o| o.node == node)).expect("every node is in a chain")
    }

    /// Slots needed with slot sharing: per group, the largest parallelism in it.
    pub fn required_slots(&self) -> BTreeMap<String, usize> {
        let mut groups: BTreeMap<String, usize> = BTreeMap::new();
        for v in &self.vertices {
            let g = groups.entry(v.slot_sharing_group.clone()).or_default();
            *g = (*g).max(v.parallelism);
        }
        groups
    }
}
