//! Building one subtask's operator chain from the program's StreamGraph and the
//! JobMaster's deployment descriptor.

use super::registry::{GateKey, LocalShuffle};
use super::runner::Task;
use crate::channel::Credits;
use crate::checkpoint::{ChannelStateSnapshot, TaskCheckpointSettings, TaskCheckpoints, TaskStateRestore};
use crate::factory::{OperatorContext, OperatorKind};
use crate::functions::RuntimeContext;
use crate::graph::{JobGraph, StreamEdge, StreamGraph, TaskDeploymentDescriptor};
use crate::metrics::MetricRegistry;
use crate::output::{AnyOutput, NoOutput, erase_output};
use crate::partitioner::PartitionerContext;
use crate::record_type::{AnyGate, AnyGateHandle};
use crate::side_output::SideOutputs;
use crate::state_backend::StateBackendSettings;
use crate::writer::PendingSends;
use brook_network::{ChannelId, NetworkEnvironment};
use brook_types::{BrookError, NodeId, Result, VertexId};
use std::collections::HashMap;
use std::sync::Arc;

/// A subtask whose input gates exist (and are registered) but whose chain is not
/// built yet: building waits for the gates of its downstream subtasks.
pub struct DeployedTask {
    pub graph: Arc<StreamGraph>,
    pub job: Arc<JobGraph>,
    pub descriptor: TaskDeploymentDescriptor,
    pub metrics: MetricRegistry,
    gates: Vec<AnyGate>,
    /// How the task takes part in checkpoints.
    pub checkpointing: TaskCheckpointSettings,
    /// The state to restore, when the job restarts from a checkpoint.
    pub restore: Option<TaskStateRestore>,
    /// The TaskManager's data plane, for channels to and from other TaskManagers.
    network: Option<Arc<NetworkEnvironment>>,
}

impl DeployedTask {
    /// Creates the subtask's input gates and registers them with `shuffle`.
    pub fn deploy(
        graph: Arc<StreamGraph>,
        job: Arc<JobGraph>,
        descriptor: TaskDeploymentDescriptor,
        shuffle: &LocalShuffle,
        metrics: MetricRegistry,
    ) -> Result<Self> {
        Self::deploy_with_network(graph, job, descriptor, shuffle, None, metrics)
    }

    /// Like [`deploy`](Self::deploy), on a TaskManager with a data plane: the gates'
    /// channels are also registered with `network`, so that upstream subtasks on other
    /// TaskManagers reach them, and outputs to targets with a location go over it.
    pub fn deploy_with_network(
        graph: Arc<StreamGraph>,
        job: Arc<JobGraph>,
        descriptor: TaskDeploymentDescriptor,
        shuffle: &LocalShuffle,
        network: Option<Arc<NetworkEnvironment>>,
        metrics: MetricRegistry,
    ) -> Result<Self> {
        let credits = Credits {
            exclusive_per_channel: graph.config.buffers_per_channel.max(1),
            floating_per_gate: graph.config.floating_buffers_per_gate,
        };
        let mut gates = Vec::new();
        for gate in &descriptor.inputs {
            let first = gate.channels.first().ok_or_else(|| {
                BrookError::InvalidProgram(format!(
                    "input {} of subtask {} has no channels",
                    gate.input, descriptor.subtask_index
                ))
            })?;
            let record_type = stream_edge(&graph, &job, first.edge).record_type.clone();
            let (g, handle) = record_type.create_gate(gate.channels.len(), credits);
            if let Some(network) = &network {
                let ids = (0..gate.channels.len())
                    .map(|channel| ChannelId {
                        job: descriptor.job_id,
                        vertex: descriptor.vertex,
                        subtask: descriptor.subtask_index as u32,
                        input: gate.input as u32,
                        channel: channel as u32,
                        attempt: descriptor.attempt,
                    })
                    .collect();
                record_type
                    .register_remote(&handle, network, ids, credits)
                    .map_err(|e| BrookError::Network(e.to_string()))?;
            }
            shuffle.register((descriptor.job_id, descriptor.vertex, descriptor.subtask_index, gate.input), handle);
            gates.push(g);
        }
        Ok(Self {
            graph,
            job,
            descriptor,
            metrics,
            gates,
            checkpointing: TaskCheckpointSettings::default(),
            restore: None,
            network,
        })
    }

    /// Takes part in checkpoints with `settings` and restores from `restore`.
    pub fn with_checkpointing(mut self, settings: TaskCheckpointSettings, restore: Option<TaskStateRestore>) -> Self {
        self.checkpointing = settings;
        self.restore = restore;
        self
    }

    /// Waits for the downstream gates, then builds the chain.
    pub async fn connect(mut self, shuffle: &LocalShuffle) -> Result<Task> {
        let gates: Vec<Option<AnyGate>> = std::mem::take(&mut self.gates).into_iter().map(Some).collect();
        let mut handles = HashMap::new();
        for out in &self.descriptor.outputs {
            for t in out.targets.iter().filter(|t| t.location.is_none()) {
                let key: GateKey = (self.descriptor.job_id, t.vertex, t.subtask, t.input);
                if let std::collections::hash_map::Entry::Vacant(e) = handles.entry(key) {
                    e.insert(shuffle.lookup(key).await);
                }
            }
        }
        let name = format!(
            "{} ({}/{})",
            self.job.vertex(self.descriptor.vertex).name,
            self.descriptor.subtask_index + 1,
            self.descriptor.parallelism
        );
        let processing_time = crate::processing_time::ProcessingTimeService::new();
        let state_backend = StateBackendSettings::from_config(&self.job.configuration)?;
        let mut builder = ChainBuilder {
            task: &self,
            handles,
            writers: Vec::new(),
            gates,
            processing_time: processing_time.clone(),
            state_backend,
        };
        let mut input = builder.build_head()?;
        let writers = builder.writers;
        if let Some(restore) = &self.restore
            && let Some(state) = &restore.channel_state
        {
            restore_channel_state(state, &writers, &mut *input).map_err(|reason| BrookError::StateRestore {
                operator: name.clone(),
                checkpoint: restore.checkpoint_id.0,
                reason,
            })?;
        }
        let operators =
            self.job.vertex(self.descriptor.vertex).operators.iter().map(|o| (o.operator_id, o.name.clone())).collect();
        let checkpoints = TaskCheckpoints::new(name.clone(), self.checkpointing.clone(), writers.clone(), operators);
        Ok(Task {
            name,
            input,
            writers,
            buffer_timeout: self.graph.config.buffer_timeout,
            processing_time,
            checkpoints,
        })
    }
}

/// Queues the recovered output channel state into the writers (ahead of anything the
/// task produces) and hands the input channel state to the input (processed before
/// its gates): Flink's order, outputs first.
pub(crate) fn restore_channel_state(
    state: &ChannelStateSnapshot,
    writers: &[Arc<dyn PendingSends>],
    input: &mut dyn crate::task::TaskInput,
) -> Result<(), String> {
    let now: Vec<u32> = writers.iter().map(|w| w.num_channels() as u32).collect();
    if now != state.output_channels {
        return Err(format!(
            "its unaligned channel state was taken with {:?} output channels and the task now has {now:?} (another \
             parallelism downstream); channel state cannot be redistributed: restore at the parallelism of the \
             checkpoint, or take a savepoint (always aligned) and rescale from it",
            state.output_channels
        ));
    }
    for data in &state.outputs {
        let writer =
            writers.get(data.gate as usize).ok_or_else(|| format!("it has output state for writer {}", data.gate))?;
        writer.restore_output(data.channel as usize, &data.elements)?;
    }
    input.restore_input_channels(state)
}

fn stream_edge<'a>(graph: &'a StreamGraph, job: &JobGraph, edge: usize) -> &'a StreamEdge {
    let je = &job.edges[edge];
    graph
        .edges
        .iter()
        .find(|e| {
            e.source == je.source_node
                && e.target == je.target_node
                && e.input == je.input
                && e.side_output == je.side_output
        })
        .expect("job edges come from stream edges")
}

/// Builds a chain back to front: each operator is created with its outputs.
pub struct ChainBuilder<'a> {
    task: &'a DeployedTask,
    handles: HashMap<GateKey, AnyGateHandle>,
    writers: Vec<Arc<dyn PendingSends>>,
    gates: Vec<Option<AnyGate>>,
    processing_time: crate::processing_time::ProcessingTimeService,
    state_backend: StateBackendSettings,
}

impl ChainBuilder<'_> {
    fn vertex_id(&self) -> VertexId {
        self.task.descriptor.vertex
    }

    fn context(&self, node: NodeId) -> OperatorContext {
        let t = self.task;
        let n = &t.graph.nodes[&node];
        let runtime = RuntimeContext {
            job_id: t.descriptor.job_id,
            task_name: t.job.vertex(t.descriptor.vertex).name.clone(),
            operator_name: n.name.clone(),
            subtask_index: t.descriptor.subtask_index,
            parallelism: t.descriptor.parallelism,
            max_parallelism: n.max_parallelism(),
            attempt_number: t.descriptor.attempt,
            runtime_mode: t.graph.config.runtime_mode,
            metrics: t.metrics.clone(),
            processing_time: self.processing_time.clone(),
            auto_watermark_interval: t.graph.config.auto_watermark_interval,
            checkpointing: t.checkpointing.wait_for_final_checkpoint,
            state_backend: self.state_backend.clone(),
        };
        let operator_id = t
            .job
            .vertex(t.descriptor.vertex)
            .operators
            .iter()
            .find(|o| o.node == node)
            .expect("the chain's operators are the vertex's")
            .operator_id;
        OperatorContext {
            metrics: t.metrics.operator_for_attempt(&n.name, t.descriptor.subtask_index, t.descriptor.attempt),
            runtime,
            batch_size: t.graph.config.batch_size,
            operator_id,
            restore: t.restore.as_ref().map(|r| r.context_for(operator_id)),
        }
    }

    fn is_chained(&self, edge: &StreamEdge) -> bool {
        let v = self.task.job.vertex(self.vertex_id());
        v.operators.iter().skip(1).any(|o| o.node == edge.target)
    }

    fn output_for_edge(&mut self, edge: &StreamEdge) -> Result<AnyOutput> {
        if self.is_chained(edge) {
            return self.build_operator(edge.target);
        }
        let t = self.task;
        let je =
            t.job.edges.iter().find(|je| je.stream_edge == edge.id).expect("an edge that is not chained is a job edge");
        let partition = t
            .descriptor
            .outputs
            .iter()
            .find(|o| o.edge == je.id)
            .expect("the descriptor has a partition for every outgoing job edge");
        let channels = partition
            .targets
            .iter()
            .map(|target| {
                let Some(location) = &target.location else {
                    let handle = &self.handles[&(t.descriptor.job_id, target.vertex, target.subtask, target.input)];
                    return Ok(edge.record_type.local_writer(handle, target.channel));
                };
                let network = t.network.as_ref().ok_or_else(|| {
                    BrookError::Network(format!(
                        "subtask {} of vertex {} runs on TaskManager {} at {}, but this TaskManager has no data \
                         plane to reach it; start it with one (TaskManager::with_network)",
                        target.subtask, target.vertex, location.task_manager, location.address
                    ))
                })?;
                let id = ChannelId {
                    job: t.descriptor.job_id,
                    vertex: target.vertex,
                    subtask: target.subtask as u32,
                    input: target.input as u32,
                    channel: target.channel as u32,
                    attempt: t.descriptor.attempt,
                };
                edge.record_type
                    .network_writer(network, &location.address, id)
                    .map_err(|e| BrookError::Network(e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let ctx = PartitionerContext {
            num_channels: partition.targets.len(),
            max_parallelism: t.graph.nodes[&edge.target].max_parallelism(),
            subtask_index: t.descriptor.subtask_index,
        };
        let (out, pending) =
            edge.record_type.record_writer(&edge.partitioner, ctx, channels, t.graph.config.batch_size);
        self.writers.push(pending);
        Ok(out)
    }

    /// The main output and the side outputs of `node`.
    fn build_outputs(&mut self, node: NodeId) -> Result<(AnyOutput, SideOutputs)> {
        let graph = self.task.graph.clone();
        let n = &graph.nodes[&node];
        let edges: Vec<StreamEdge> = graph.out_edges(node).cloned().collect();
        let mut main = Vec::new();
        let mut sides: Vec<(String, Vec<AnyOutput>, Arc<dyn crate::record_type::RecordType>)> = Vec::new();
        for e in &edges {
            let out = self.output_for_edge(e)?;
            match &e.side_output {
                None => main.push(out),
                Some(tag) => match sides.iter_mut().find(|(t, _, _)| t == tag) {
                    Some((_, outs, _)) => outs.push(out),
                    None => sides.push((tag.clone(), vec![out], e.record_type.clone())),
                },
            }
        }
        let main = match &n.out_type {
            Some(ty) if main.is_empty() => ty.no_output(),
            Some(ty) => ty.fan_out(main),
            None => erase_output::<()>(Box::new(NoOutput)),
        };
        let sides = SideOutputs::new(
            sides.into_iter().map(|(tag, outs, ty)| (tag, ty.side_output(ty.fan_out(outs)))).collect(),
        );
        Ok((main, sides))
    }

    fn build_operator(&mut self, node: NodeId) -> Result<AnyOutput> {
        let (out, side) = self.build_outputs(node)?;
        let ctx = self.context(node);
        self.task.graph.nodes[&node].factory.create_one_input(ctx, out, side)
    }

    fn build_head(&mut self) -> Result<Box<dyn crate::task::TaskInput>> {
        let t = self.task;
        let head = t.job.vertex(self.vertex_id()).operators[0].node;
        let factory = t.graph.nodes[&head].factory.clone();
        match factory.kind() {
            OperatorKind::Source { .. } => {
                let (out, side) = self.build_outputs(head)?;
                factory.create_source(self.context(head), out, side)
            }
            OperatorKind::OneInput => {
                let head_in = self.build_operator(head)?;
                let in_type =
                    stream_edge(&t.graph, &t.job, t.descriptor.inputs[0].channels[0].edge).record_type.clone();
                let gate = self.take_gate(0)?;
                Ok(in_type.one_input_task(gate, head_in))
            }
            OperatorKind::TwoInput => {
                let (out, side) = self.build_outputs(head)?;
                let g1 = self.take_gate(0)?;
                let g2 = self.take_gate(1)?;
                factory.create_two_input(self.context(head), out, side, g1, g2)
            }
        }
    }

    fn take_gate(&mut self, input: usize) -> Result<AnyGate> {
        self.gates.get_mut(input).and_then(Option::take).ok_or_else(|| {
            BrookError::InvalidProgram(format!(
                "task '{}' has no input gate {input}",
                self.task.job.vertex(self.vertex_id()).name
            ))
        })
    }
}
