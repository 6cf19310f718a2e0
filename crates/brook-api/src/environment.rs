//! `StreamExecutionEnvironment`: where a program declares its sources and runs.

use crate::builder::{GraphBuilder, NewNode, Port, SharedBuilder};
use crate::data_stream::DataStream;
use brook_cluster::{JobClient, JobExecutionResult, MiniCluster, MiniClusterConfig};
use brook_runtime::factory::SourceFactory;
use brook_runtime::functions::RuntimeMode;
use brook_runtime::graph::{ExecutionConfig, JobGraph, StreamGraph};
use brook_runtime::partitioner::PartitionerSpec;
use brook_runtime::record_type::record_type;
use brook_runtime::source::{CollectionSource, NumberSequenceSource, SocketTextSource, Source, TextFileSource};
use brook_types::config::{Configuration, options};
use brook_types::{BrookError, Data, JobId, Result};
use parking_lot::Mutex;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The context in which a program runs: settings, sources, and `execute`.
///
/// Each `execute` starts a local MiniCluster sized by the configuration
/// (`taskmanager.numberOfTaskSlots`, `local.number-taskmanager`) and runs the job
/// built so far on it.
#[derive(Clone)]
pub struct StreamExecutionEnvironment {
    pub(crate) builder: SharedBuilder,
    state: Arc<Mutex<EnvSettings>>,
}

struct EnvSettings {
    config: ExecutionConfig,
    configuration: Configuration,
}

impl StreamExecutionEnvironment {
    /// A local environment with the default configuration.
    pub fn get_execution_environment() -> Self {
        Self::with_configuration(Configuration::new())
    }

    /// A local environment with `configuration` (Flink keys, see docs/configuration.md).
    pub fn with_configuration(configuration: Configuration) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let parallelism = if configuration.contains(&options::PARALLELISM_DEFAULT) {
            configuration.get_usize(&options::PARALLELISM_DEFAULT).max(1)
        } else {
            cores
        };
        let max_p = configuration.get_i64(&options::MAX_PARALLELISM);
        let buffer_timeout = configuration
            .get_bool(&options::BUFFER_TIMEOUT_ENABLED)
            .then(|| configuration.get_duration(&options::BUFFER_TIMEOUT));
        let config = ExecutionConfig {
            parallelism,
            max_parallelism: (max_p > 0).then_some(max_p as usize),
            buffer_timeout,
            batch_size: configuration.get_usize(&options::BATCH_SIZE).max(1),
            chaining_enabled: configuration.get_bool(&options::OPERATOR_CHAINING),
            runtime_mode: RuntimeMode::parse(&configuration.get_enum(&options::RUNTIME_MODE))
                .expect("runtime mode is validated when set"),
            buffers_per_channel: configuration.get_usize(&options::BUFFERS_PER_CHANNEL),
            floating_buffers_per_gate: configuration.get_usize(&options::FLOATING_BUFFERS_PER_GATE),
            auto_watermark_interval: configuration.get_duration(&options::AUTO_WATERMARK_INTERVAL),
            configuration: configuration.clone(),
        };
        Self {
            builder: Arc::new(Mutex::new(GraphBuilder::default())),
            state: Arc::new(Mutex::new(EnvSettings { config, configuration })),
        }
    }

    /// Default parallelism of operators that set none.
    pub fn set_parallelism(&self, parallelism: usize) -> &Self {
        self.state.lock().config.parallelism = parallelism;
        self
    }

    pub fn get_parallelism(&self) -> usize {
        self.state.lock().config.parallelism
    }

    /// Number of key groups of keyed operators (default 128).
    pub fn set_max_parallelism(&self, max_parallelism: usize) -> &Self {
        self.state.lock().config.max_parallelism = Some(max_parallelism);
        self
    }

    /// Longest time a record waits in a partly filled buffer, as Flink's
    /// `setBufferTimeout`: `-1` sends only full buffers, `0` flushes every record.
    pub fn set_buffer_timeout(&self, millis: i64) -> &Self {
        self.state.lock().config.buffer_timeout = (millis >= 0).then(|| Duration::from_millis(millis as u64));
        self
    }

    /// Records per network buffer (Brook-specific).
    pub fn set_batch_size(&self, records: usize) -> &Self {
        self.state.lock().config.batch_size = records.max(1);
        self
    }

    pub fn disable_operator_chaining(&self) -> &Self {
        self.state.lock().config.chaining_enabled = false;
        self
    }

    pub fn set_runtime_mode(&self, mode: RuntimeMode) -> &Self {
        self.state.lock().config.runtime_mode = mode;
        self
    }

    /// How often watermark generators are asked for a watermark (Flink's
    /// `setAutoWatermarkInterval`; default 200 ms, zero disables periodic
    /// watermarks). Read when the job is submitted, so it applies to the whole job.
    pub fn set_auto_watermark_interval(&self, interval: Duration) -> &Self {
        self.state.lock().config.auto_watermark_interval = interval;
        self
    }

    pub fn get_auto_watermark_interval(&self) -> Duration {
        self.state.lock().config.auto_watermark_interval
    }

    /// The configuration this environment was created with (and changed by
    /// [`enable_checkpointing`](Self::enable_checkpointing)).
    pub fn configuration(&self) -> Configuration {
        self.state.lock().configuration.clone()
    }

    /// Takes a checkpoint every `interval` (Flink's `enableCheckpointing`; the key
    /// `execution.checkpointing.interval`). Other checkpointing and restart options
    /// come from the configuration.
    pub fn enable_checkpointing(&self, interval: Duration) -> &Self {
        let mut state = self.state.lock();
        let value = format!("{} ms", interval.as_millis());
        state
            .configuration
            .set(options::CHECKPOINTING_INTERVAL.key, &value, "enable_checkpointing")
            .expect("a duration in ms is a valid checkpoint interval");
        state.config.configuration = state.configuration.clone();
        self
    }

    /// Adds a split-based source.
    pub fn from_source<T: Data, S: Source<T>>(&self, source: S, name: &str) -> DataStream<T> {
        self.add_source(Arc::new(SourceFactory::new(source)), name)
    }

    /// Adds a split-based source whose watermarks are generated per split with
    /// `strategy` (Flink's `fromSource(source, watermarkStrategy, name)`): event
    /// time is the minimum over the subtask's active splits, so a split that is
    /// behind holds it back and a finished one does not.
    pub fn from_source_with_watermarks<T: Data, S: Source<T>>(
        &self,
        source: S,
        strategy: brook_runtime::watermark::WatermarkStrategy<T>,
        name: &str,
    ) -> DataStream<T> {
        self.add_source(Arc::new(SourceFactory::with_watermarks(source, strategy)), name)
    }

    fn add_source<T: Data>(
        &self,
        factory: Arc<dyn brook_runtime::factory::OperatorFactory>,
        name: &str,
    ) -> DataStream<T> {
        let node = NewNode {
            name: format!("Source: {name}"),
            factory,
            out_type: Some(record_type::<T>()),
            pact: "Data Source",
            parallelism: None,
        };
        let id = self.builder.lock().add(node, &[]);
        DataStream::from_port(
            self.clone(),
            Port {
                node: id,
                side_output: None,
                record_type: record_type::<T>(),
                partitioner: PartitionerSpec::forward_default(),
            },
        )
    }

    /// The elements, in order, from one subtask (Flink's `fromCollection`).
    pub fn from_collection<T: Data + Sync>(&self, data: Vec<T>) -> DataStream<T> {
        self.from_source(CollectionSource::new(data), "Collection Source")
    }

    /// The items of an iterator, collected when the job is built.
    pub fn from_iter<T: Data + Sync>(&self, data: impl IntoIterator<Item = T>) -> DataStream<T> {
        self.from_collection(data.into_iter().collect())
    }

    /// The numbers `from..=to`, read in parallel (Flink's `fromSequence`).
    pub fn generate_sequence(&self, from: i64, to: i64) -> DataStream<i64> {
        self.from_source(NumberSequenceSource { from, to }, "Sequence Source")
    }

    /// The lines of a text file or of the files in a directory; bounded, read in
    /// parallel by byte ranges.
    pub fn read_text_file(&self, path: impl AsRef<Path>) -> DataStream<String> {
        self.from_source(TextFileSource { path: path.as_ref().to_path_buf() }, "File Source")
    }

    /// Lines from a TCP server; ends when the server closes the connection.
    pub fn socket_text_stream(&self, host: &str, port: u16) -> DataStream<String> {
        self.from_source(SocketTextSource { host: host.to_string(), port, delimiter: b'\n' }, "Socket Stream")
    }

    /// The graph built so far, resolved, leaving the environment empty.
    pub fn take_stream_graph(&self, job_name: &str) -> Result<StreamGraph> {
        let config = self.state.lock().config.clone();
        self.builder.lock().take(job_name, config)
    }

    fn cluster(&self) -> Result<MiniCluster> {
        let configuration = self.state.lock().configuration.clone();
        MiniCluster::start(MiniClusterConfig::from_configuration(&configuration))
    }

    /// Runs the job built so far and blocks until it ends.
    pub fn execute(&self, job_name: &str) -> Result<JobExecutionResult> {
        self.execute_async(job_name)?.wait_for_result()
    }

    /// Submits the job built so far and returns at once. With `rest.port` set, the
    /// cluster also serves the REST API while the client lives (docs/design/rest.md).
    pub fn execute_async(&self, job_name: &str) -> Result<JobClient> {
        let graph = self.take_stream_graph(job_name)?;
        let cluster = self.cluster()?;
        let configuration = self.configuration();
        if !configuration.contains(&options::REST_PORT) {
            return cluster.submit(graph);
        }
        let server = brook_web::RestServer::start(&cluster, &configuration)?;
        let (job_id, _) = cluster.dispatcher().submit(graph)?;
        let dispatcher = cluster.dispatcher();
        dispatcher
            .client(job_id, Arc::new((cluster.clone(), server)))
            .ok_or_else(|| BrookError::Cluster(format!("job {job_id} vanished right after its submission")))
    }

    /// The plan of the job built so far, as JSON (Flink's `getExecutionPlan`,
    /// plus the operator chains). Does not consume the graph.
    pub fn get_execution_plan(&self) -> Result<String> {
        let config = self.state.lock().config.clone();
        let builder = self.builder.lock();
        if let Some(e) = &builder.error {
            return Err(BrookError::InvalidProgram(e.clone()));
        }
        let mut graph = StreamGraph {
            job_name: "plan".to_string(),
            nodes: builder.nodes.clone(),
            edges: builder.edges.clone(),
            config,
        };
        drop(builder);
        graph.resolve()?;
        let job = JobGraph::from_stream_graph(&graph, JobId(0));
        Ok(serde_json::to_string_pretty(&graph.execution_plan(&job)).expect("plans are plain JSON"))
    }
}

/// Reports a builder misuse at `execute`.
pub(crate) fn record_misuse(builder: &SharedBuilder, message: String) {
    let mut b = builder.lock();
    if b.error.is_none() {
        b.error = Some(message);
    }
}

impl std::fmt::Debug for StreamExecutionEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StreamExecutionEnvironment(parallelism={})", self.get_parallelism())
    }
}
