//! The graph under construction, shared by the environment and its streams.

use brook_runtime::factory::OperatorFactory;
use brook_runtime::graph::{ChainingStrategy, ExecutionConfig, StreamEdge, StreamGraph, StreamNode};
use brook_runtime::partitioner::PartitionerSpec;
use brook_runtime::record_type::RecordType;
use brook_types::{BrookError, NodeId, Result};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where a stream comes from: a node's main or side output, and how it will be
/// partitioned to the next operator.
#[derive(Clone)]
pub(crate) struct Port {
    pub node: NodeId,
    pub side_output: Option<String>,
    pub record_type: Arc<dyn RecordType>,
    pub partitioner: PartitionerSpec,
}

#[derive(Default)]
pub(crate) struct GraphBuilder {
    pub nodes: BTreeMap<NodeId, StreamNode>,
    pub edges: Vec<StreamEdge>,
    next_id: u32,
    /// A misuse of the builder API, reported by `execute`.
    pub error: Option<String>,
}

/// A node to add.
pub(crate) struct NewNode {
    pub name: String,
    pub factory: Arc<dyn OperatorFactory>,
    pub out_type: Option<Arc<dyn RecordType>>,
    pub pact: &'static str,
    pub parallelism: Option<usize>,
}

impl GraphBuilder {
    /// Adds a node fed by `inputs` (each `(ports, input index)`).
    pub fn add(&mut self, node: NewNode, inputs: &[(&[Port], usize)]) -> NodeId {
        self.next_id += 1;
        let id = NodeId(self.next_id);
        self.nodes.insert(
            id,
            StreamNode {
                id,
                name: node.name,
                uid: None,
                parallelism: node.parallelism,
                max_parallelism: None,
                chaining: ChainingStrategy::Always,
                slot_sharing_group: None,
                factory: node.factory,
                out_type: node.out_type,
                pact: node.pact,
            },
        );
        for (ports, input) in inputs {
            for p in *ports {
                self.edges.push(StreamEdge {
                    id: self.edges.len(),
                    source: p.node,
                    target: id,
                    input: *input,
                    partitioner: p.partitioner.clone(),
                    side_output: p.side_output.clone(),
                    record_type: p.record_type.clone(),
                });
            }
        }
        id
    }

    pub fn node_mut(&mut self, id: NodeId) -> &mut StreamNode {
        self.nodes.get_mut(&id).expect("streams only refer to nodes of their environment")
    }

    /// Takes the graph built so far, leaving the builder empty (as Flink's
    /// `execute` clears the transformations).
    pub fn take(&mut self, job_name: &str, config: ExecutionConfig) -> Result<StreamGraph> {
        if let Some(e) = self.error.take() {
            return Err(BrookError::InvalidProgram(e));
        }
        let mut uids: BTreeMap<&str, &str> = BTreeMap::new();
        for n in self.nodes.values() {
            if let Some(uid) = &n.uid
                && let Some(other) = uids.insert(uid, &n.name)
            {
                return Err(BrookError::InvalidProgram(format!(
                    "operators '{other}' and '{}' have the same uid '{uid}'; uids must be unique",
                    n.name
                )));
            }
        }
        Ok(StreamGraph {
            job_name: job_name.to_string(),
            nodes: std::mem::take(&mut self.nodes),
            edges: std::mem::take(&mut self.edges),
            config,
        })
    }
}

pub(crate) type SharedBuilder = Arc<Mutex<GraphBuilder>>;
