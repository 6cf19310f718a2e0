//! User function traits and the contexts they see.
//!
//! Simple transformations take closures (`map`, `filter`, `flat_map`, `reduce`).
//! Functions that need a context — the record's timestamp, side outputs, the
//! subtask they run in — implement [`ProcessFunction`] (or its keyed and
//! two-input variants). Every function instance is cloned from the one the program
//! built, once per subtask, so it may keep per-subtask state in its fields.
//!
//! Functions on a keyed stream keep per-key state in the operator's keyed state
//! backend (Flink-style): in `open` they register descriptors with
//! [`RuntimeContext::get_state`] and keep the returned handles; in
//! `process_element` and `on_timer` they access the current key's state with
//! [`KeyedContext::state`], [`KeyedContext::list_state`], … That state is scoped to
//! the key and goes into snapshots by key group.
//!
//! ```
//! use brook_runtime::functions::{Collector, KeyedContext, KeyedProcessFunction, RuntimeContext};
//! use brook_runtime::state::{ValueState, ValueStateDescriptor};
//!
//! /// Emits each key with its running count.
//! #[derive(Clone, Default)]
//! struct CountPerKey {
//!     count: ValueState<u64>,
//! }
//!
//! impl KeyedProcessFunction<String, String, (String, u64)> for CountPerKey {
//!     fn open(&mut self, ctx: &RuntimeContext) {
//!         self.count = ctx.get_state(&ValueStateDescriptor::new("count"));
//!     }
//!
//!     fn process_element(&mut self, word: String, ctx: &mut KeyedContext<'_, String>, out: &mut Collector<(String, u64)>) {
//!         let mut count = ctx.state(&self.count);
//!         let n = count.value().copied().unwrap_or(0) + 1;
//!         count.update(n);
//!         out.collect((word, n));
//!     }
//! }
//! ```

use crate::checkpoint::CheckpointedTimers;
use crate::metrics::{Accumulator, MetricRegistry};
use crate::side_output::{OutputTag, SideOutputs};
use crate::timer::TimeDomain;
use brook_state::{
    AggregatingState, AggregatingStateRef, KeyedStateBackend, KeyedStateRegistry, ListState, ListStateRef, MapState,
    MapStateRef, ReducingState, ReducingStateRef, StateDescriptor, StateKey, ValueState, ValueStateRef,
};
use brook_types::{Data, JobId, NO_TIMESTAMP, StreamRecord, Timestamp, Watermark};
use std::cell::RefCell;
use std::hash::Hash;

thread_local! {
    /// The keyed state registry of the operator whose function is being opened.
    static OPENING_REGISTRY: RefCell<Option<KeyedStateRegistry>> = const { RefCell::new(None) };
}

/// Runs `open` (a keyed function's `open`) with `registry` available to
/// [`RuntimeContext::get_state`].
///
/// `RuntimeContext` does not know the key type, and `open` takes it by shared
/// reference, so the registry is lent through the thread: operators are built
/// and opened synchronously on their task's thread, and the registry is handed
/// back when `open` returns (or unwinds).
pub(crate) fn with_keyed_state_registry<R>(registry: &mut KeyedStateRegistry, open: impl FnOnce() -> R) -> R {
    struct GiveBack<'a> {
        registry: &'a mut KeyedStateRegistry,
        outer: Option<KeyedStateRegistry>,
    }
    impl Drop for GiveBack<'_> {
        fn drop(&mut self) {
            let lent = OPENING_REGISTRY.with(|slot| slot.replace(self.outer.take()));
            *self.registry = lent.expect("the lent registry is in the slot until it is given back");
        }
    }
    let outer = OPENING_REGISTRY.with(|slot| slot.replace(Some(std::mem::take(registry))));
    let _give_back = GiveBack { registry, outer };
    open()
}

/// STREAMING emits results continuously; BATCH processes bounded input and emits
/// keyed aggregations once, at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RuntimeMode {
    Streaming,
    Batch,
    Automatic,
}

impl RuntimeMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "STREAMING" => Some(Self::Streaming),
            "BATCH" => Some(Self::Batch),
            "AUTOMATIC" => Some(Self::Automatic),
            _ => None,
        }
    }
}

/// What a function knows about where it runs (Flink's `RuntimeContext`).
#[derive(Clone, Debug)]
pub struct RuntimeContext {
    pub job_id: JobId,
    pub task_name: String,
    pub operator_name: String,
    pub subtask_index: usize,
    pub parallelism: usize,
    pub max_parallelism: usize,
    pub attempt_number: u32,
    /// BATCH or STREAMING (AUTOMATIC is resolved before tasks start).
    pub runtime_mode: RuntimeMode,
    pub metrics: MetricRegistry,
    /// The task's clock and timer deadlines.
    pub processing_time: crate::processing_time::ProcessingTimeService,
    /// How often watermark generators are asked for a watermark (`pipeline.auto-watermark-interval`).
    pub auto_watermark_interval: std::time::Duration,
    /// The job takes checkpoints, and a task whose input ended waits for the final
    /// one: two-phase-commit sinks commit there rather than at end of input.
    pub checkpointing: bool,
    /// Which keyed state backend keyed operators use (`state.backend.type`) and whether
    /// they checkpoint incrementally.
    pub state_backend: crate::state_backend::StateBackendSettings,
}

impl RuntimeContext {
    pub fn index_of_this_subtask(&self) -> usize {
        self.subtask_index
    }

    pub fn number_of_parallel_subtasks(&self) -> usize {
        self.parallelism
    }

    /// A job-wide counter reported in the job's result under `name`.
    pub fn accumulator(&self, name: &str) -> Accumulator {
        self.metrics.accumulator(name)
    }

    pub fn metrics(&self) -> &MetricRegistry {
        &self.metrics
    }

    /// Registers keyed state and returns its handle (Flink's `getState`,
    /// `getListState`, `getMapState`, `getReducingState`, `getAggregatingState`):
    /// call it in the `open` of a function on a keyed stream and keep the handle.
    /// Registering a name again returns the same state.
    ///
    /// Panics outside the `open` of a keyed function, or if the name is registered
    /// with another kind or type.
    pub fn get_state<D: StateDescriptor>(&self, descriptor: &D) -> D::Handle {
        OPENING_REGISTRY.with(|slot| match slot.borrow_mut().as_mut() {
            Some(registry) => registry.register(descriptor).unwrap_or_else(|e| panic!("{e}")),
            None => panic!(
                "operator '{}' asked for keyed state '{}' outside the open() of a keyed function; keyed state \
                 exists only on a keyed stream (key_by), and its handles are obtained in open()",
                self.operator_name,
                descriptor.name()
            ),
        })
    }
}

/// Collects the results of a function for the current input record. Results carry
/// the input record's timestamp.
pub struct Collector<O> {
    pub(crate) buffer: Vec<StreamRecord<O>>,
    pub(crate) timestamp: Timestamp,
}

impl<O> Default for Collector<O> {
    fn default() -> Self {
        Self::new()
    }
}

impl<O> Collector<O> {
    /// An empty collector (operators make their own; this is for testing functions).
    pub fn new() -> Self {
        Self { buffer: Vec::new(), timestamp: NO_TIMESTAMP }
    }

    /// The values collected so far.
    pub fn into_values(self) -> Vec<O> {
        self.buffer.into_iter().map(|r| r.value).collect()
    }

    #[inline]
    pub fn collect(&mut self, value: O) {
        self.buffer.push(StreamRecord { value, timestamp: self.timestamp });
    }

    /// Emits with an explicit event timestamp.
    #[inline]
    pub fn collect_with_timestamp(&mut self, value: O, timestamp: Timestamp) {
        self.buffer.push(StreamRecord { value, timestamp });
    }
}

/// The context of one `process_element` call.
pub struct Context<'a> {
    pub(crate) timestamp: Timestamp,
    pub(crate) watermark: Watermark,
    pub(crate) side_outputs: &'a mut SideOutputs,
    pub(crate) runtime: &'a RuntimeContext,
}

impl Context<'_> {
    /// The timestamp of the current record, if it has one.
    pub fn timestamp(&self) -> Option<Timestamp> {
        (self.timestamp != NO_TIMESTAMP).then_some(self.timestamp)
    }

    /// The task's current event time.
    pub fn current_watermark(&self) -> Watermark {
        self.watermark
    }

    /// Emits `value` to the side output `tag` with the current record's timestamp.
    pub fn output<U: 'static>(&mut self, tag: &OutputTag<U>, value: U) {
        self.side_outputs.emit(tag, value, self.timestamp);
    }

    pub fn runtime_context(&self) -> &RuntimeContext {
        self.runtime
    }
}

/// A function with access to the record's context and side outputs.
pub trait ProcessFunction<I, O>: Clone + Send + Sync + 'static {
    /// Called once per subtask before the first record.
    fn open(&mut self, _ctx: &RuntimeContext) {}

    fn process_element(&mut self, value: I, ctx: &mut Context<'_>, out: &mut Collector<O>);

    /// Called at end of input, after the last record.
    fn finish(&mut self, _out: &mut Collector<O>) {}

    /// Checkpoint hook, Flink's `CheckpointedFunction::snapshotState`: put the
    /// function's operator state into `state` — list state
    /// (`get_list_state`, split evenly over the subtasks on restore) or union list
    /// state (`get_union_list_state`, every subtask gets all of it). Fields of the
    /// function are not checkpointed otherwise.
    fn snapshot_state(
        &mut self,
        _state: &mut brook_state::OperatorStateBackend,
    ) -> Result<(), brook_state::StateError> {
        Ok(())
    }

    /// Restore hook, `CheckpointedFunction::initializeState`: called after `open`
    /// when the subtask restores from a checkpoint or savepoint, with this subtask's
    /// share of the operator state the hook above wrote.
    fn initialize_state(
        &mut self,
        _state: &mut brook_state::OperatorStateBackend,
    ) -> Result<(), brook_state::StateError> {
        Ok(())
    }
}

impl<I, O, F> ProcessFunction<I, O> for F
where
    F: FnMut(I, &mut Context<'_>, &mut Collector<O>) + Clone + Send + Sync + 'static,
{
    fn process_element(&mut self, value: I, ctx: &mut Context<'_>, out: &mut Collector<O>) {
        self(value, ctx, out)
    }
}

/// The context of a keyed `process_element` or `on_timer` call: the current key
/// and its timers as well.
pub struct KeyedContext<'a, K> {
    pub(crate) inner: Context<'a>,
    pub(crate) key: &'a K,
    pub(crate) timers: &'a mut CheckpointedTimers<K>,
    pub(crate) keyed_state: &'a mut KeyedStateBackend<K>,
    /// Set in `on_timer`: which clock fired.
    pub(crate) time_domain: Option<TimeDomain>,
}

impl<K> KeyedContext<'_, K> {
    pub fn current_key(&self) -> &K {
        self.key
    }

    /// The record's timestamp; in `on_timer`, an event-time timer's time.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.inner.timestamp()
    }

    pub fn current_watermark(&self) -> Watermark {
        self.inner.watermark
    }

    /// In `on_timer`, the clock of the timer that fired.
    pub fn time_domain(&self) -> Option<TimeDomain> {
        self.time_domain
    }

    pub fn output<U: 'static>(&mut self, tag: &OutputTag<U>, value: U) {
        self.inner.output(tag, value);
    }

    pub fn runtime_context(&self) -> &RuntimeContext {
        self.inner.runtime
    }

    /// Timers of the current key (Flink's `ctx.timerService()`).
    pub fn timer_service(&mut self) -> TimerService<'_, K> {
        TimerService { timers: self.timers, key: self.key }
    }
}

/// Keyed state of the current key (in the void namespace), by the handles
/// obtained with [`RuntimeContext::get_state`] in `open`.
impl<K: StateKey> KeyedContext<'_, K> {
    /// Value state (Flink's `ValueState`): `value()`, `update(v)`, `clear()`.
    #[inline]
    pub fn state<V: Data>(&mut self, handle: &ValueState<V>) -> ValueStateRef<'_, K, (), V> {
        self.keyed_state.value_state(handle, self.key, &())
    }

    /// List state: `get()`, `add(x)`, `add_all(xs)`, `update(vec)`, `clear()`.
    #[inline]
    pub fn list_state<T: Data>(&mut self, handle: &ListState<T>) -> ListStateRef<'_, K, (), T> {
        self.keyed_state.list_state(handle, self.key, &())
    }

    /// Map state: `get`, `put`, `put_all`, `contains`, `remove`, `iter`, `keys`,
    /// `values`, `is_empty`, `clear`.
    #[inline]
    pub fn map_state<UK: Data + Hash + Eq, UV: Data>(
        &mut self,
        handle: &MapState<UK, UV>,
    ) -> MapStateRef<'_, K, (), UK, UV> {
        self.keyed_state.map_state(handle, self.key, &())
    }

    /// Reducing state: `add(x)` reduces into it, `get()`, `clear()`.
    #[inline]
    pub fn reducing_state<T: Data>(&mut self, handle: &ReducingState<T>) -> ReducingStateRef<'_, K, (), T> {
        self.keyed_state.reducing_state(handle, self.key, &())
    }

    /// Aggregating state: `add(x)` aggregates into it, `get()` is the result, `clear()`.
    #[inline]
    pub fn aggregating_state<IN: 'static, ACC: Data, OUT: 'static>(
        &mut self,
        handle: &AggregatingState<IN, ACC, OUT>,
    ) -> AggregatingStateRef<'_, K, (), IN, ACC, OUT> {
        self.keyed_state.aggregating_state(handle, self.key, &())
    }
}

/// Registers and deletes timers of the current key.
pub struct TimerService<'a, K> {
    timers: &'a mut CheckpointedTimers<K>,
    key: &'a K,
}

impl<K: StateKey> TimerService<'_, K> {
    /// `on_timer` is called once the watermark reaches `time`.
    pub fn register_event_time_timer(&mut self, time: Timestamp) {
        self.timers.register_event_time_timer(self.key, time);
    }

    /// `on_timer` is called once the task's clock reaches `time` (ms since the epoch).
    pub fn register_processing_time_timer(&mut self, time: Timestamp) {
        self.timers.register_processing_time_timer(self.key, time);
    }

    pub fn delete_event_time_timer(&mut self, time: Timestamp) {
        self.timers.delete_event_time_timer(self.key, time);
    }

    pub fn delete_processing_time_timer(&mut self, time: Timestamp) {
        self.timers.delete_processing_time_timer(self.key, time);
    }

    pub fn current_watermark(&self) -> Timestamp {
        self.timers.current_watermark()
    }

    pub fn current_processing_time(&self) -> Timestamp {
        self.timers.current_processing_time()
    }
}

/// A process function on a keyed stream, with timers.
pub trait KeyedProcessFunction<K, I, O>: Clone + Send + Sync + 'static {
    fn open(&mut self, _ctx: &RuntimeContext) {}

    fn process_element(&mut self, value: I, ctx: &mut KeyedContext<'_, K>, out: &mut Collector<O>);

    /// A timer of `ctx.current_key()` fired at `timestamp` (`ctx.time_domain()`
    /// says which clock). Results of an event-time timer carry its timestamp.
    fn on_timer(&mut self, _timestamp: Timestamp, _ctx: &mut KeyedContext<'_, K>, _out: &mut Collector<O>) {}
}

impl<K, I, O, F> KeyedProcessFunction<K, I, O> for F
where
    F: FnMut(I, &mut KeyedContext<'_, K>, &mut Collector<O>) + Clone + Send + Sync + 'static,
{
    fn process_element(&mut self, value: I, ctx: &mut KeyedContext<'_, K>, out: &mut Collector<O>) {
        self(value, ctx, out)
    }
}

/// A function over two connected streams partitioned by the same key, with timers
/// (Flink's `KeyedCoProcessFunction`). Every [`CoProcessFunction`] is one too.
pub trait KeyedCoProcessFunction<K, I1, I2, O>: Clone + Send + Sync + 'static {
    fn open(&mut self, _ctx: &RuntimeContext) {}
    fn process_element1(&mut self, value: I1, ctx: &mut KeyedContext<'_, K>, out: &mut Collector<O>);
    fn process_element2(&mut self, value: I2, ctx: &mut KeyedContext<'_, K>, out: &mut Collector<O>);
    /// A timer of `ctx.current_key()` fired at `timestamp`.
    fn on_timer(&mut self, _timestamp: Timestamp, _ctx: &mut KeyedContext<'_, K>, _out: &mut Collector<O>) {}
}

impl<K, I1, I2, O, P: CoProcessFunction<I1, I2, O>> KeyedCoProcessFunction<K, I1, I2, O> for P {
    fn open(&mut self, ctx: &RuntimeContext) {
        CoProcessFunction::open(self, ctx);
    }

    fn process_element1(&mut self, value: I1, ctx: &mut KeyedContext<'_, K>, out: &mut Collector<O>) {
        CoProcessFunction::process_element1(self, value, &mut ctx.inner, out);
    }

    fn process_element2(&mut self, value: I2, ctx: &mut KeyedContext<'_, K>, out: &mut Collector<O>) {
        CoProcessFunction::process_element2(self, value, &mut ctx.inner, out);
    }
}

/// A function over two connected streams.
pub trait CoProcessFunction<I1, I2, O>: Clone + Send + Sync + 'static {
    fn open(&mut self, _ctx: &RuntimeContext) {}
    fn process_element1(&mut self, value: I1, ctx: &mut Context<'_>, out: &mut Collector<O>);
    fn process_element2(&mut self, value: I2, ctx: &mut Context<'_>, out: &mut Collector<O>);
}
