//! `AllWindowedStream`: windows over a whole, non-keyed stream (Flink's
//! `AllWindowedStream`, made by `DataStream::window_all`).
//!
//! As in Flink, every record gets the same key and the window operator runs
//! with parallelism 1; the functions see no key.

use crate::data_stream::DataStream;
use crate::windowed_stream::WindowedStream;
use brook_runtime::key_selector::OwnedKey;
use brook_runtime::side_output::OutputTag;
use brook_runtime::window::{
    AggregateFunction, AllWindowProcess, Evicting, Evictor, MaybeEvictor, NoEvictor, ProcessAllWindowFunction, Trigger,
    WindowAssigner,
};
use brook_types::Data;
use std::time::Duration;

/// The key of every record of a non-keyed window.
pub(crate) type NullKey<T> = OwnedKey<fn(&T), ()>;

pub(crate) fn null_key<T>(_: &T) {}

/// A whole stream grouped into windows by `A`, fired by `Tr`, with an evictor
/// `Ev` if one was set; evaluated by one subtask.
pub struct AllWindowedStream<T, A, Tr, Ev = NoEvictor> {
    inner: WindowedStream<T, NullKey<T>, A, Tr, Ev>,
}

impl<T, A> AllWindowedStream<T, A, A::DefaultTrigger>
where
    T: Data,
    A: WindowAssigner<T>,
{
    pub(crate) fn new(inner: WindowedStream<T, NullKey<T>, A, A::DefaultTrigger>) -> Self {
        Self { inner }
    }
}

impl<T, A, Tr, Ev> AllWindowedStream<T, A, Tr, Ev>
where
    T: Data,
    A: WindowAssigner<T>,
    Tr: Trigger<T, A::Window>,
    Ev: MaybeEvictor<(), A::Window, T>,
{
    /// Replaces the assigner's default trigger.
    pub fn trigger<Tr2: Trigger<T, A::Window>>(self, trigger: Tr2) -> AllWindowedStream<T, A, Tr2, Ev> {
        AllWindowedStream { inner: self.inner.trigger(trigger) }
    }

    /// See [`WindowedStream::evictor`].
    pub fn evictor<E: Evictor<T, A::Window>>(self, evictor: E) -> AllWindowedStream<T, A, Tr, Evicting<E>> {
        AllWindowedStream { inner: self.inner.evictor(evictor) }
    }

    /// See [`WindowedStream::allowed_lateness`].
    pub fn allowed_lateness(self, lateness: Duration) -> Self {
        Self { inner: self.inner.allowed_lateness(lateness) }
    }

    /// See [`WindowedStream::side_output_late_data`].
    pub fn side_output_late_data(self, tag: &OutputTag<T>) -> Self {
        Self { inner: self.inner.side_output_late_data(tag) }
    }

    pub fn reduce<R>(self, f: R) -> DataStream<T>
    where
        R: FnMut(T, T) -> T + Clone + Send + Sync + 'static,
    {
        self.inner.reduce(f).set_parallelism(1)
    }

    pub fn reduce_with<R, P, O>(self, f: R, process: P) -> DataStream<O>
    where
        O: Data,
        R: FnMut(T, T) -> T + Clone + Send + Sync + 'static,
        P: ProcessAllWindowFunction<A::Window, T, O>,
    {
        self.inner.reduce_with(f, AllWindowProcess(process)).set_parallelism(1)
    }

    pub fn aggregate<G>(self, aggregate: G) -> DataStream<G::Out>
    where
        G: AggregateFunction<T>,
        G::Out: Data,
    {
        self.inner.aggregate(aggregate).set_parallelism(1)
    }

    pub fn aggregate_with<G, P, O>(self, aggregate: G, process: P) -> DataStream<O>
    where
        O: Data,
        G: AggregateFunction<T>,
        P: ProcessAllWindowFunction<A::Window, G::Out, O>,
    {
        self.inner.aggregate_with(aggregate, AllWindowProcess(process)).set_parallelism(1)
    }

    pub fn process<P, O>(self, process: P) -> DataStream<O>
    where
        O: Data,
        P: ProcessAllWindowFunction<A::Window, T, O>,
    {
        self.inner.process(AllWindowProcess(process)).set_parallelism(1)
    }
}
