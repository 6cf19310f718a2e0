//! The StreamGraph: one node per operator, as the program declared it.

use crate::factory::{OperatorFactory, OperatorKind};
use crate::functions::RuntimeMode;
use crate::partitioner::{PartitionerSpec, ShipStrategy};
use crate::record_type::RecordType;
use brook_types::key_group::default_max_parallelism;
use brook_types::{BrookError, NodeId, OperatorId, Result};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Whether an operator may be fused with its neighbours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainingStrategy {
    /// Chains with its predecessor and successors where the rules allow.
    Always,
    /// Starts a new chain (`start_new_chain`), but successors may chain to it.
    Head,
    /// Never chains (`disable_chaining`).
    Never,
}

/// One operator.
#[derive(Clone)]
pub struct StreamNode {
    pub id: NodeId,
    pub name: String,
    pub uid: Option<String>,
    /// `None` until resolved: then the env's default (or 1 for non-parallel sources).
    pub parallelism: Option<usize>,
    pub max_parallelism: Option<usize>,
    pub chaining: ChainingStrategy,
    pub slot_sharing_group: Option<String>,
    pub factory: Arc<dyn OperatorFactory>,
    /// The record type of the main output; `None` for sinks.
    pub out_type: Option<Arc<dyn RecordType>>,
    /// Flink's plan category: "Data Source", "Operator" or "Data Sink".
    pub pact: &'static str,
}

impl StreamNode {
    pub fn parallelism(&self) -> usize {
        self.parallelism.expect("parallelism is resolved before the graph is used")
    }

    pub fn max_parallelism(&self) -> usize {
        self.max_parallelism.expect("max parallelism is resolved before the graph is used")
    }

    pub fn slot_sharing_group(&self) -> &str {
        self.slot_sharing_group.as_deref().unwrap_or("default")
    }
}

/// One edge between two operators.
#[derive(Clone)]
pub struct StreamEdge {
    /// Index in [`StreamGraph::edges`]; two edges may join the same operators
    /// (`s.union([s])`), so edges are told apart by id.
    pub id: usize,
    pub source: NodeId,
    pub target: NodeId,
    /// 0 for one-input operators; 0 or 1 for two-input operators.
    pub input: usize,
    pub partitioner: PartitionerSpec,
    /// The output tag id, for edges from a side output.
    pub side_output: Option<String>,
    pub record_type: Arc<dyn RecordType>,
}

/// Settings of one execution (Flink's `ExecutionConfig` and more).
#[derive(Clone, Debug)]
pub struct ExecutionConfig {
    pub parallelism: usize,
    /// `None`: Flink's default for each operator's parallelism (128 for small ones).
    pub max_parallelism: Option<usize>,
    /// `None` disables timed flushing; zero flushes after every record.
    pub buffer_timeout: Option<Duration>,
    pub batch_size: usize,
    pub chaining_enabled: bool,
    pub runtime_mode: RuntimeMode,
    pub buffers_per_channel: usize,
    pub floating_buffers_per_gate: usize,
    /// How often watermark generators are asked for a watermark; zero disables
    /// periodic watermarks (punctuated generators still emit).
    pub auto_watermark_interval: Duration,
    /// The job's configuration (Flink keys): the JobMaster reads its checkpointing,
    /// restart-strategy and storage options from it.
    pub configuration: brook_types::config::Configuration,
}

impl Default for ExecutionConfig {
    fn default() -> Self {
        Self {
            parallelism: std::thread::available_parallelism().map_or(1, |n| n.get()),
            max_parallelism: None,
            buffer_timeout: Some(Duration::from_millis(100)),
            batch_size: 1024,
            chaining_enabled: true,
            runtime_mode: RuntimeMode::Streaming,
            buffers_per_channel: 2,
            floating_buffers_per_gate: 8,
            auto_watermark_interval: Duration::from_millis(200),
            configuration: brook_types::config::Configuration::new(),
        }
    }
}

/// The graph of one program.
pub struct StreamGraph {
    pub job_name: String,
    pub nodes: BTreeMap<NodeId, StreamNode>,
    pub edges: Vec<StreamEdge>,
    pub config: ExecutionConfig,
}

impl StreamGraph {
    pub fn in_edges(&self, node: NodeId) -> impl Iterator<Item = &StreamEdge> {
        self.edges.iter().filter(move |e| e.target == node)
    }

    pub fn out_edges(&self, node: NodeId) -> impl Iterator<Item = &StreamEdge> {
        self.edges.iter().filter(move |e| e.source == node)
    }

    /// Whether every source is bounded.
    pub fn all_sources_bounded(&self) -> bool {
        self.nodes.values().all(|n| match n.factory.kind() {
            OperatorKind::Source { bounded, .. } => bounded,
            _ => true,
        })
    }

    /// Fills in defaults and checks the graph: parallelism, max parallelism, slot
    /// sharing groups, implicit partitioners, runtime mode.
    pub fn resolve(&mut self) -> Result<()> {
        if self.nodes.is_empty() {
            return Err(BrookError::InvalidProgram(
                "the job has no operators; add a source and a sink before calling execute()".into(),
            ));
        }
        if self.config.runtime_mode == RuntimeMode::Automatic {
            self.config.runtime_mode =
                if self.all_sources_bounded() { RuntimeMode::Batch } else { RuntimeMode::Streaming };
        }
        if self.config.runtime_mode == RuntimeMode::Batch && !self.all_sources_bounded() {
            return Err(BrookError::InvalidProgram(
                "execution.runtime-mode is BATCH but a source is unbounded; use STREAMING or AUTOMATIC".into(),
            ));
        }
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        for id in &ids {
            let default_p = self.config.parallelism;
            let node = self.nodes.get_mut(id).expect("id from keys");
            if let OperatorKind::Source { parallel: false, .. } = node.factory.kind() {
                match node.parallelism {
                    Some(p) if p != 1 => {
                        return Err(BrookError::InvalidProgram(format!(
                            "'{}' is a non-parallel source; its parallelism must be 1, not {p}",
                            node.name
                        )));
                    }
                    _ => node.parallelism = Some(1),
                }
            }
            let p = *node.parallelism.get_or_insert(default_p);
            if p == 0 {
                return Err(BrookError::InvalidProgram(format!("parallelism of '{}' must be at least 1", node.name)));
            }
            let max_p =
                node.max_parallelism.or(self.config.max_parallelism).unwrap_or_else(|| default_max_parallelism(p));
            if max_p == 0 || max_p > brook_types::key_group::UPPER_BOUND_MAX_PARALLELISM {
                return Err(BrookError::InvalidProgram(format!(
                    "max parallelism {max_p} of '{}' is out of range; it must be between 1 and {}",
                    node.name,
                    brook_types::key_group::UPPER_BOUND_MAX_PARALLELISM
                )));
            }
            if p > max_p {
                return Err(BrookError::InvalidProgram(format!(
                    "parallelism {p} of '{}' exceeds its max parallelism {max_p}; raise pipeline.max-parallelism",
                    node.name
                )));
            }
            node.max_parallelism = Some(max_p);
        }
        // Slot sharing groups: inherit from the inputs when they agree, as in Flink.
        for id in &ids {
            if self.nodes[id].slot_sharing_group.is_some() {
                continue;
            }
            let groups: Vec<String> =
                self.in_edges(*id).map(|e| self.nodes[&e.source].slot_sharing_group().to_string()).collect();
            let group = match groups.first() {
                Some(g) if groups.iter().all(|x| x == g) => g.clone(),
                _ => "default".to_string(),
            };
            self.nodes.get_mut(id).expect("id from keys").slot_sharing_group = Some(group);
        }
        for edge in &mut self.edges {
            let up = self.nodes[&edge.source].parallelism();
            let down = self.nodes[&edge.target].parallelism();
            if edge.partitioner.strategy == ShipStrategy::Forward && up != down {
                if edge.partitioner.explicit {
                    return Err(BrookError::InvalidProgram(format!(
                        "forward partitioning does not allow a change of parallelism: '{}' has {up} and '{}' has {down}; \
                         use rebalance() or rescale(), or give both the same parallelism",
                        self.nodes[&edge.source].name, self.nodes[&edge.target].name
                    )));
                }
                edge.partitioner = PartitionerSpec { strategy: ShipStrategy::Rebalance, explicit: false, typed: None };
            }
        }
        Ok(())
    }

    /// Stable operator ids: the hash of the user's `uid`, or of the node's position
    /// (its id and its inputs' ids), which is the same for the same program.
    pub fn operator_ids(&self) -> BTreeMap<NodeId, OperatorId> {
        let mut ids = BTreeMap::new();
        for (id, node) in &self.nodes {
            let op_id = match &node.uid {
                Some(uid) => OperatorId::from_uid(uid),
                None => {
                    let mut key = format!("node:{}", id.0);
                    for e in self.in_edges(*id) {
                        let upstream: &OperatorId = ids.get(&e.source).expect("inputs have smaller node ids");
                        key.push_str(&format!("|{upstream}:{}", e.input));
                    }
                    OperatorId(brook_types::ids::hash128(key.as_bytes()))
                }
            };
            ids.insert(*id, op_id);
        }
        ids
    }
}
