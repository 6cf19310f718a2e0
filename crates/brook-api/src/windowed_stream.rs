//! `WindowedStream`: a keyed stream grouped into windows (Flink's `WindowedStream`).
//!
//! Made by `KeyedStream::window(assigner)` or `count_window(n)`; configured with
//! a trigger, an allowed lateness and a late-data side output; turned back into
//! a stream by a window function (`reduce`, `aggregate`, `process`, or an
//! incremental function followed by a ProcessWindowFunction).

use crate::data_stream::DataStream;
use crate::environment::record_misuse;
use brook_runtime::key_selector::KeySelector;
use brook_runtime::operators::WindowOperator;
use brook_runtime::side_output::OutputTag;
use brook_runtime::window::{
    AggregateFunction, Evicting, Evictor, InternalWindowFunction, MaybeEvictor, NoEvictor, PassThrough,
    ProcessWindowFunction, Trigger, WindowAssigner,
};
use brook_types::Data;
use std::time::Duration;

/// A keyed stream grouped into windows by an assigner `A`, fired by a trigger
/// `Tr`, with an evictor `Ev` if [`WindowedStream::evictor`] set one.
///
/// ```
/// use brook_api::StreamExecutionEnvironment;
/// use brook_api::window::TumblingEventTimeWindows;
/// use brook_api::{Collector, Context};
/// use std::time::Duration;
///
/// let env = StreamExecutionEnvironment::get_execution_environment();
/// env.set_parallelism(1);
/// // (word, count) with event time = the count's position, in ms
/// let words = env
///     .from_collection(vec![("a".to_string(), 1i64), ("b".to_string(), 1), ("a".to_string(), 1)])
///     .process(|w: (String, i64), _: &mut Context<'_>, out: &mut Collector<(String, i64)>| {
///         out.collect_with_timestamp(w, 5)
///     });
/// let mut counts = words
///     .key_by(|(w, _): &(String, i64)| w.clone())
///     .window(TumblingEventTimeWindows::of(Duration::from_secs(10)))
///     .reduce(|a, b| (a.0, a.1 + b.1))
///     .execute_and_collect("windowed word count")
///     .unwrap();
/// counts.sort();
/// assert_eq!(counts, vec![("a".to_string(), 2), ("b".to_string(), 1)]);
/// ```
pub struct WindowedStream<T, S, A, Tr, Ev = NoEvictor> {
    stream: DataStream<T>,
    key_selector: S,
    assigner: A,
    trigger: Tr,
    evictor: Ev,
    allowed_lateness: i64,
    late_data_tag: Option<OutputTag<T>>,
}

impl<T, S, A> WindowedStream<T, S, A, A::DefaultTrigger>
where
    T: Data,
    S: KeySelector<T>,
    A: WindowAssigner<T>,
{
    /// `stream` must already be partitioned by `key_selector`.
    pub(crate) fn new(stream: DataStream<T>, key_selector: S, assigner: A) -> Self {
        let trigger = assigner.default_trigger();
        Self { stream, key_selector, assigner, trigger, evictor: NoEvictor, allowed_lateness: 0, late_data_tag: None }
    }
}

impl<T, S, A, Tr, Ev> WindowedStream<T, S, A, Tr, Ev>
where
    T: Data,
    S: KeySelector<T>,
    A: WindowAssigner<T>,
    Tr: Trigger<T, A::Window>,
    Ev: MaybeEvictor<S::Key, A::Window, T>,
{
    /// Replaces the assigner's default trigger. A merging assigner (sessions)
    /// needs a trigger that can merge.
    pub fn trigger<Tr2: Trigger<T, A::Window>>(self, trigger: Tr2) -> WindowedStream<T, S, A, Tr2, Ev> {
        if self.assigner.is_merging() && !trigger.can_merge() {
            record_misuse(
                &self.stream.env.builder,
                format!(
                    "a merging window assigner ({}) cannot be used with a trigger that does not support merging",
                    self.assigner.describe()
                ),
            );
        }
        WindowedStream {
            stream: self.stream,
            key_selector: self.key_selector,
            assigner: self.assigner,
            trigger,
            evictor: self.evictor,
            allowed_lateness: self.allowed_lateness,
            late_data_tag: self.late_data_tag,
        }
    }

    /// Removes elements from each firing window before or after the window
    /// function (Flink's `evictor`). The window then keeps all its elements,
    /// even for `reduce` and `aggregate`, which run over what is left at each
    /// firing; what the evictor removed is gone for later firings too.
    pub fn evictor<E: Evictor<T, A::Window>>(self, evictor: E) -> WindowedStream<T, S, A, Tr, Evicting<E>> {
        WindowedStream {
            stream: self.stream,
            key_selector: self.key_selector,
            assigner: self.assigner,
            trigger: self.trigger,
            evictor: Evicting(evictor),
            allowed_lateness: self.allowed_lateness,
            late_data_tag: self.late_data_tag,
        }
    }

    /// How long after its end an event-time window keeps its state: elements
    /// arriving that late still update it (the default trigger fires again for
    /// each); later ones are dropped or go to [`Self::side_output_late_data`].
    /// Default 0. Processing-time windows ignore it, as in Flink.
    pub fn allowed_lateness(mut self, lateness: Duration) -> Self {
        self.allowed_lateness = i64::try_from(lateness.as_millis()).unwrap_or(i64::MAX);
        self
    }

    /// Sends elements that arrive after their windows were cleaned up to the side
    /// output `tag` (read it with `get_side_output(&tag)` on the result) instead
    /// of dropping them.
    pub fn side_output_late_data(mut self, tag: &OutputTag<T>) -> Self {
        self.late_data_tag = Some(tag.clone());
        self
    }

    /// Reduces each window's elements with `f(acc, new)` as they arrive; emits the
    /// reduced value when the window fires.
    pub fn reduce<R>(self, f: R) -> DataStream<T>
    where
        R: FnMut(T, T) -> T + Clone + Send + Sync + 'static,
    {
        let function = self.evictor.reduce(f, PassThrough);
        self.build("Reduce", function)
    }

    /// Like [`reduce`](Self::reduce), for a function that is associative and
    /// commutative (max, min, sum): the result must not depend on the order in which
    /// elements arrive. Sliding event-time windows then keep one partial result per
    /// slide and key and combine them when a window fires, instead of reducing every
    /// element into each of its windows (docs/design/windows.md, "Slicing"). With a
    /// function that does depend on the order (keep the last element), use `reduce`.
    pub fn reduce_commutative<R>(self, f: R) -> DataStream<T>
    where
        R: FnMut(T, T) -> T + Clone + Send + Sync + 'static,
    {
        let function = self.evictor.reduce_commutative(f, PassThrough);
        self.build("Reduce", function)
    }

    /// Reduces incrementally, then hands the single reduced value to `process`
    /// with the window's context.
    pub fn reduce_with<R, P, O>(self, f: R, process: P) -> DataStream<O>
    where
        O: Data,
        R: FnMut(T, T) -> T + Clone + Send + Sync + 'static,
        P: ProcessWindowFunction<S::Key, A::Window, T, O>,
    {
        let function = self.evictor.reduce(f, process);
        self.build("Reduce", function)
    }

    /// Aggregates each window's elements into an accumulator as they arrive;
    /// emits `get_result` when the window fires.
    pub fn aggregate<G>(self, aggregate: G) -> DataStream<G::Out>
    where
        G: AggregateFunction<T>,
        G::Out: Data,
    {
        let function = self.evictor.aggregate(aggregate, PassThrough);
        self.build("Aggregate", function)
    }

    /// Aggregates incrementally, then hands the single result to `process` with
    /// the window's context.
    pub fn aggregate_with<G, P, O>(self, aggregate: G, process: P) -> DataStream<O>
    where
        O: Data,
        G: AggregateFunction<T>,
        P: ProcessWindowFunction<S::Key, A::Window, G::Out, O>,
    {
        let function = self.evictor.aggregate(aggregate, process);
        self.build("Aggregate", function)
    }

    /// Keeps all elements of each window and hands them to `process` when it fires.
    pub fn process<P, O>(self, process: P) -> DataStream<O>
    where
        O: Data,
        P: ProcessWindowFunction<S::Key, A::Window, T, O>,
    {
        let function = self.evictor.process(process);
        self.build("Process", function)
    }

    fn build<O, F>(self, kind: &str, function: F) -> DataStream<O>
    where
        O: Data,
        F: InternalWindowFunction<S::Key, A::Window, T, O> + Clone + Sync,
    {
        let name = format!("Window({}, {kind})", self.assigner.describe());
        let Self { stream, key_selector, assigner, trigger, allowed_lateness, late_data_tag, .. } = self;
        stream.transform(&name, move |ctx, side| {
            Ok(WindowOperator::new(
                key_selector.clone(),
                assigner.clone(),
                trigger.clone(),
                function.clone(),
                ctx.clone(),
                std::mem::take(side),
            )
            .with_allowed_lateness(allowed_lateness)
            .with_late_data_tag(late_data_tag.clone()))
        })
    }
}
