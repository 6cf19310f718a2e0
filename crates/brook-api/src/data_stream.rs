//! `DataStream<T>`: a typed stream and its transformations.

use crate::all_windowed_stream::{AllWindowedStream, null_key};
use crate::builder::{NewNode, Port};
use crate::connected_streams::ConnectedStreams;
use crate::environment::{StreamExecutionEnvironment, record_misuse};
use crate::keyed_stream::KeyedStream;
use crate::sink::DataStreamSink;
use brook_runtime::factory::OneInputFactory;
use brook_runtime::factory::OperatorKind;
use brook_runtime::functions::{ProcessFunction, RuntimeContext};
use brook_runtime::graph::{ChainingStrategy, StreamNode};
use brook_runtime::key_selector::{BorrowedKey, KeySelector, OwnedKey};
use brook_runtime::operators::{
    FilterOperator, FlatMapOperator, MapOperator, ProcessOperator, TimestampsAndWatermarksOperator,
};
use brook_runtime::output::OneInputOperator;
use brook_runtime::partitioner::{CustomPartitioner, KeyGroupPartitioner, PartitionerSpec, ShipStrategy};
use brook_runtime::record_type::record_type;
use brook_runtime::side_output::{OutputTag, SideOutputs};
use brook_runtime::sink::{
    CollectHandle, CollectSink, DiscardingSink, FileFormat, FileSink, PrintSink, Printable, SinkFunction, SinkOperator,
    StreamingFileSink, TwoPhaseCommitSink, TwoPhaseCommitSinkOperator,
};
use brook_runtime::watermark::WatermarkStrategy;
use brook_runtime::window::WindowAssigner;
use brook_types::key_group::KeyHash;
use brook_types::{Data, Result};
use std::hash::Hash;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

/// A stream of records of type `T`.
pub struct DataStream<T> {
    pub(crate) env: StreamExecutionEnvironment,
    pub(crate) ports: Vec<Port>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for DataStream<T> {
    fn clone(&self) -> Self {
        Self { env: self.env.clone(), ports: self.ports.clone(), _type: PhantomData }
    }
}

impl<T: Data> DataStream<T> {
    pub(crate) fn from_port(env: StreamExecutionEnvironment, port: Port) -> Self {
        Self { env, ports: vec![port], _type: PhantomData }
    }

    pub fn execution_environment(&self) -> &StreamExecutionEnvironment {
        &self.env
    }

    /// Applies `f` to the operator that produced this stream; a union has none.
    fn configure(self, what: &str, f: impl FnOnce(&mut StreamNode)) -> Self {
        match self.ports.as_slice() {
            [p] => f(self.env.builder.lock().node_mut(p.node)),
            _ => record_misuse(
                &self.env.builder,
                format!("{what} cannot be set on the result of union(); set it on an operator instead"),
            ),
        }
        self
    }

    /// Names the operator (shown in plans, metrics and errors).
    pub fn name(self, name: &str) -> Self {
        self.configure("name", |n| n.name = name.to_string())
    }

    /// The parallelism set on the operator that produced this stream; `None` when
    /// it runs at the default parallelism or the stream is a union.
    pub fn parallelism(&self) -> Option<usize> {
        match self.ports.as_slice() {
            [p] => self.env.builder.lock().nodes.get(&p.node).and_then(|n| n.parallelism),
            _ => None,
        }
    }

    /// A stable id for the operator, to map its state across program changes.
    pub fn uid(self, uid: &str) -> Self {
        self.configure("uid", |n| n.uid = Some(uid.to_string()))
    }

    pub fn set_parallelism(self, parallelism: usize) -> Self {
        self.configure("parallelism", |n| n.parallelism = Some(parallelism))
    }

    pub fn set_max_parallelism(self, max_parallelism: usize) -> Self {
        self.configure("max parallelism", |n| n.max_parallelism = Some(max_parallelism))
    }

    /// The operator runs in a task of its own, neither chained to its input nor to its outputs.
    pub fn disable_chaining(self) -> Self {
        self.configure("chaining", |n| n.chaining = ChainingStrategy::Never)
    }

    /// The operator starts a new chain; its successors may still chain to it.
    pub fn start_new_chain(self) -> Self {
        self.configure("chaining", |n| n.chaining = ChainingStrategy::Head)
    }

    /// Operators in different groups never share a slot.
    pub fn slot_sharing_group(self, group: &str) -> Self {
        self.configure("slot sharing group", |n| n.slot_sharing_group = Some(group.to_string()))
    }

    /// Adds a one-input operator made per subtask by `make`.
    pub(crate) fn transform<O, Op, M>(self, name: &str, make: M) -> DataStream<O>
    where
        O: Data,
        Op: OneInputOperator<T, O> + 'static,
        M: Fn(&RuntimeContext, &mut SideOutputs) -> Result<Op> + Send + Sync + 'static,
    {
        let node = NewNode {
            name: name.to_string(),
            factory: Arc::new(OneInputFactory::<T, O, Op, M>::new(make)),
            out_type: Some(record_type::<O>()),
            pact: "Operator",
            parallelism: None,
        };
        let id = self.env.builder.lock().add(node, &[(&self.ports, 0)]);
        DataStream::from_port(
            self.env,
            Port {
                node: id,
                side_output: None,
                record_type: record_type::<O>(),
                partitioner: PartitionerSpec::forward_default(),
            },
        )
    }

    /// One output per record.
    pub fn map<O: Data, F>(self, f: F) -> DataStream<O>
    where
        F: FnMut(T) -> O + Clone + Send + Sync + 'static,
    {
        self.transform("Map", move |_, _| Ok(MapOperator::new(f.clone())))
    }

    /// The records for which `f` is true.
    pub fn filter<F>(self, f: F) -> DataStream<T>
    where
        F: FnMut(&T) -> bool + Clone + Send + Sync + 'static,
    {
        self.transform("Filter", move |_, _| Ok(FilterOperator::new(f.clone())))
    }

    /// Zero or more outputs per record.
    pub fn flat_map<O: Data, R, F>(self, f: F) -> DataStream<O>
    where
        R: IntoIterator<Item = O>,
        F: FnMut(T) -> R + Clone + Send + Sync + 'static,
    {
        self.transform("Flat Map", move |_, _| Ok(FlatMapOperator::new(f.clone())))
    }

    /// A [`ProcessFunction`]: context, timestamps, side outputs.
    pub fn process<O: Data, P: ProcessFunction<T, O>>(self, function: P) -> DataStream<O> {
        self.transform("Process", move |ctx, side| {
            Ok(ProcessOperator::new(function.clone(), ctx.clone(), std::mem::take(side)))
        })
    }

    /// Gives records event timestamps and generates watermarks with `strategy`
    /// (Flink's `assignTimestampsAndWatermarks`); upstream watermarks are replaced,
    /// except end of input. The operator takes its input's parallelism, so it
    /// chains to it, and asks for periodic watermarks every
    /// `pipeline.auto-watermark-interval` (200 ms).
    ///
    /// ```
    /// use brook_api::{StreamExecutionEnvironment, WatermarkStrategy};
    /// use std::time::Duration;
    ///
    /// let env = StreamExecutionEnvironment::get_execution_environment();
    /// let events = env.from_collection(vec![("a".to_string(), 1_000i64), ("b".to_string(), 800)]);
    /// let stamped = events.assign_timestamps_and_watermarks(
    ///     WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_millis(500))
    ///         .with_timestamp_assigner(|(_, ts): &(String, i64), _| *ts),
    /// );
    /// # let _ = stamped;
    /// ```
    pub fn assign_timestamps_and_watermarks(self, strategy: WatermarkStrategy<T>) -> DataStream<T> {
        // Flink gives the operator the parallelism of its input.
        let input_parallelism = match self.ports.as_slice() {
            [p] => {
                let builder = self.env.builder.lock();
                let input = &builder.nodes[&p.node];
                match input.factory.kind() {
                    OperatorKind::Source { parallel: false, .. } => Some(1),
                    _ => input.parallelism,
                }
            }
            _ => None,
        };
        let stream = self.transform("Timestamps/Watermarks", move |ctx, _| {
            Ok(TimestampsAndWatermarksOperator::from_context(&strategy, ctx))
        });
        match input_parallelism {
            Some(p) => stream.set_parallelism(p),
            None => stream,
        }
    }

    /// The records the producing operator emitted to `tag`.
    pub fn get_side_output<U: Data>(&self, tag: &OutputTag<U>) -> DataStream<U> {
        let port = match self.ports.as_slice() {
            [p] => Port {
                node: p.node,
                side_output: Some(tag.id().to_string()),
                record_type: record_type::<U>(),
                partitioner: PartitionerSpec::forward_default(),
            },
            _ => {
                record_misuse(&self.env.builder, "get_side_output cannot be used on the result of union()".into());
                self.ports[0].clone()
            }
        };
        DataStream::from_port(self.env.clone(), port)
    }

    /// This stream and `others` as one stream of the same type.
    pub fn union(mut self, others: impl IntoIterator<Item = DataStream<T>>) -> DataStream<T> {
        for o in others {
            self.ports.extend(o.ports);
        }
        self
    }

    /// This stream and `other` as inputs of one two-input operator.
    pub fn connect<U: Data>(self, other: DataStream<U>) -> ConnectedStreams<T, U> {
        ConnectedStreams::new(self, other)
    }

    /// Groups the whole stream into windows, evaluated by one subtask (Flink's
    /// `windowAll`); see [`AllWindowedStream`].
    pub fn window_all<A: WindowAssigner<T>>(self, assigner: A) -> AllWindowedStream<T, A, A::DefaultTrigger> {
        let keyed = self.key_by_selector(OwnedKey::new(null_key::<T> as fn(&T)));
        AllWindowedStream::new(keyed.window(assigner))
    }

    /// Partitions by key: records with equal keys go to the same subtask.
    pub fn key_by<K, KF>(self, key_selector: KF) -> KeyedStream<T, OwnedKey<KF, K>>
    where
        K: Data + Hash + Eq + KeyHash,
        KF: Fn(&T) -> K + Clone + Send + Sync + 'static,
    {
        self.key_by_selector(OwnedKey::new(key_selector))
    }

    /// Partitions by a key borrowed from the record (`key_by_ref(|t| &t.0)`): the
    /// same as `key_by`, without cloning the key for every record.
    pub fn key_by_ref<K, KF>(self, key_selector: KF) -> KeyedStream<T, BorrowedKey<KF, K>>
    where
        K: Data + Hash + Eq + KeyHash,
        KF: for<'a> Fn(&'a T) -> &'a K + Clone + Send + Sync + 'static,
    {
        self.key_by_selector(BorrowedKey::new(key_selector))
    }

    /// Partitions by any [`KeySelector`].
    pub fn key_by_selector<S: KeySelector<T>>(self, key_selector: S) -> KeyedStream<T, S> {
        let spec = PartitionerSpec::typed(ShipStrategy::Hash, KeyGroupPartitioner::factory(key_selector.clone()));
        KeyedStream::new(self.with_partitioner(spec), key_selector)
    }

    pub(crate) fn with_partitioner(mut self, spec: PartitionerSpec) -> Self {
        for p in &mut self.ports {
            p.partitioner = spec.clone();
        }
        self
    }

    /// Each subtask sends to the subtask with the same index (parallelism must match).
    pub fn forward(self) -> Self {
        self.with_partitioner(PartitionerSpec::explicit(ShipStrategy::Forward))
    }

    /// Round robin over all downstream subtasks.
    pub fn rebalance(self) -> Self {
        self.with_partitioner(PartitionerSpec::explicit(ShipStrategy::Rebalance))
    }

    /// Round robin over a subset of downstream subtasks (pointwise).
    pub fn rescale(self) -> Self {
        self.with_partitioner(PartitionerSpec::explicit(ShipStrategy::Rescale))
    }

    /// Uniformly random downstream subtask.
    pub fn shuffle(self) -> Self {
        self.with_partitioner(PartitionerSpec::explicit(ShipStrategy::Shuffle))
    }

    /// Every record to every downstream subtask.
    pub fn broadcast(self) -> Self {
        self.with_partitioner(PartitionerSpec::explicit(ShipStrategy::Broadcast))
    }

    /// Every element to every downstream subtask, to fill the broadcast state
    /// `descriptor` names: connect a keyed stream to the result
    /// (`keyed.connect(rules)`) and run a `KeyedBroadcastProcessFunction`.
    pub fn broadcast_with<UK: Data + Hash + Eq, UV: Data>(
        self,
        descriptor: brook_runtime::state::MapStateDescriptor<UK, UV>,
    ) -> crate::BroadcastStream<T, UK, UV> {
        crate::BroadcastStream::new(self, descriptor)
    }

    /// Connects a [`BroadcastStream`](crate::BroadcastStream) to this (non-keyed)
    /// stream, to run a `BroadcastProcessFunction` (Flink's
    /// `dataStream.connect(broadcastStream)`).
    pub fn connect_broadcast<B: Data, UK, UV>(
        self,
        broadcast: crate::BroadcastStream<B, UK, UV>,
    ) -> crate::NonKeyedBroadcastConnectedStream<T, B> {
        crate::NonKeyedBroadcastConnectedStream::new(self, broadcast.stream)
    }

    /// Everything to downstream subtask 0.
    pub fn global(self) -> Self {
        self.with_partitioner(PartitionerSpec::explicit(ShipStrategy::Global))
    }

    /// `partitioner(key, n)` picks the downstream subtask of each record.
    pub fn partition_custom<K, P, KF>(self, partitioner: P, key_selector: KF) -> Self
    where
        K: 'static,
        P: Fn(&K, usize) -> usize + Clone + Send + Sync + 'static,
        KF: Fn(&T) -> K + Clone + Send + Sync + 'static,
    {
        self.with_partitioner(PartitionerSpec::typed(
            ShipStrategy::Custom,
            CustomPartitioner::factory(partitioner, key_selector),
        ))
    }

    /// Writes to a [`SinkFunction`], cloned once per subtask.
    pub fn sink_to<S>(self, sink: S, name: &str) -> DataStreamSink
    where
        S: SinkFunction<T> + Clone + Send + Sync + 'static,
    {
        let make = move |ctx: &RuntimeContext, _side: &mut SideOutputs| {
            let mut s = sink.clone();
            s.open(ctx)?;
            Ok(SinkOperator::new(s))
        };
        let node = NewNode {
            name: name.to_string(),
            factory: Arc::new(OneInputFactory::<T, (), SinkOperator<S>, _>::new(make)),
            out_type: None,
            pact: "Data Sink",
            parallelism: None,
        };
        let id = self.env.builder.lock().add(node, &[(&self.ports, 0)]);
        DataStreamSink::new(self.env, id)
    }

    /// Prints each record on stdout, prefixed `N> ` by subtask when parallel.
    pub fn print(self) -> DataStreamSink
    where
        T: Printable,
    {
        self.sink_to(PrintSink::new(None, false), "Sink: Print to Std. Out")
    }

    /// Prints each record on stderr.
    pub fn print_to_err(self) -> DataStreamSink
    where
        T: Printable,
    {
        self.sink_to(PrintSink::new(None, true), "Sink: Print to Std. Err")
    }

    /// Writes each record as a line of text (a directory of files `1..n` when parallel).
    pub fn write_as_text(self, path: impl AsRef<Path>) -> DataStreamSink
    where
        T: brook_runtime::sink::CsvRecord + Printable,
    {
        self.sink_to(FileSink::<T>::new(path.as_ref().to_path_buf(), FileFormat::Text), "Sink: Text File")
    }

    /// Writes each record as a CSV line (tuple fields separated by commas).
    pub fn write_as_csv(self, path: impl AsRef<Path>) -> DataStreamSink
    where
        T: brook_runtime::sink::CsvRecord + Printable,
    {
        self.sink_to(FileSink::<T>::new(path.as_ref().to_path_buf(), FileFormat::Csv), "Sink: CSV File")
    }

    /// Writes to a [`TwoPhaseCommitSink`], cloned once per subtask: exactly once
    /// with checkpointing (Flink's `addSink(TwoPhaseCommitSinkFunction)`). Without
    /// checkpointing, what a subtask wrote is committed when its input ends.
    pub fn sink_to_two_phase_commit<S>(self, sink: S, name: &str) -> DataStreamSink
    where
        S: TwoPhaseCommitSink<T> + Clone + Send + Sync + 'static,
    {
        let make =
            move |ctx: &RuntimeContext, _side: &mut SideOutputs| TwoPhaseCommitSinkOperator::new(sink.clone(), ctx);
        let node = NewNode {
            name: name.to_string(),
            factory: Arc::new(OneInputFactory::<T, (), TwoPhaseCommitSinkOperator<T, S>, _>::new(make)),
            out_type: None,
            pact: "Data Sink",
            parallelism: None,
        };
        let id = self.env.builder.lock().add(node, &[(&self.ports, 0)]);
        DataStreamSink::new(self.env, id)
    }

    /// Writes part files into a directory, committed exactly once by checkpoints
    /// (Flink's `FileSink`; see [`StreamingFileSink`]):
    ///
    /// ```no_run
    /// # use brook_api::{FileFormat, RollingPolicy, StreamExecutionEnvironment, StreamingFileSink};
    /// let env = StreamExecutionEnvironment::get_execution_environment();
    /// env.enable_checkpointing(std::time::Duration::from_secs(10));
    /// let sink = StreamingFileSink::for_row_format("/tmp/counts", FileFormat::Csv)
    ///     .with_rolling_policy(RollingPolicy::default().with_max_part_size(1 << 20));
    /// env.from_collection(vec![("to".to_string(), 1i64)]).sink_to_files(sink);
    /// env.execute("to files").unwrap();
    /// ```
    pub fn sink_to_files(self, sink: StreamingFileSink<T>) -> DataStreamSink
    where
        T: brook_runtime::sink::CsvRecord + Printable,
    {
        self.sink_to_two_phase_commit(sink, "Sink: File Sink")
    }

    /// Collects the records in memory; read them from the handle after the job.
    pub fn collect(self) -> CollectHandle<T> {
        let handle = CollectHandle::new();
        self.sink_to(CollectSink::new(handle.clone()), "Sink: Collect");
        handle
    }

    /// Drops every record.
    pub fn discard(self) -> DataStreamSink {
        self.sink_to(DiscardingSink, "Sink: Discard")
    }

    /// Runs the job and returns this stream's records (bounded jobs).
    pub fn execute_and_collect(self, job_name: &str) -> Result<Vec<T>> {
        let env = self.env.clone();
        let handle = self.collect();
        env.execute(job_name)?;
        Ok(handle.take())
    }
}
