//! Evictors: removing elements from a window before or after it is evaluated.
//!
//! A window with an evictor keeps all its elements (with their timestamps) even
//! for `reduce` and `aggregate`, which then run over the remaining elements at
//! each firing (Flink's `EvictingWindowOperator`). At a firing:
//!
//! ```text
//! elements ──evict_before──▶ window function ──evict_after──▶ elements kept for the next firing
//! ```

use crate::window::{
    AggregateApply, AggregateFunction, AggregatingWindowFunction, EvictingWindowFunction, InternalWindowFunction,
    ListWindowFunction, ProcessWindowFunction, ReduceApply, ReducingWindowFunction, Window,
};
use brook_types::{StreamRecord, Timestamp};
use std::hash::Hash;

/// What an evictor may ask about the operator (Flink's `EvictorContext`).
#[derive(Clone, Copy, Debug)]
pub struct EvictorContext {
    pub(crate) current_processing_time: Timestamp,
    pub(crate) current_watermark: Timestamp,
}

impl EvictorContext {
    pub fn new(current_processing_time: Timestamp, current_watermark: Timestamp) -> Self {
        Self { current_processing_time, current_watermark }
    }

    pub fn current_processing_time(&self) -> Timestamp {
        self.current_processing_time
    }

    pub fn current_watermark(&self) -> Timestamp {
        self.current_watermark
    }
}

/// Removes elements from a firing window (Flink's `Evictor`). `elements` are in
/// the order they were added; remove with `retain`, `drain`, … . Like a trigger,
/// an evictor keeps no per-window data in its fields.
pub trait Evictor<T, W: Window>: Clone + Send + Sync + 'static {
    /// Before the window function runs.
    fn evict_before(&self, elements: &mut Vec<StreamRecord<T>>, window: &W, ctx: &EvictorContext);

    /// After the window function ran.
    fn evict_after(&self, elements: &mut Vec<StreamRecord<T>>, window: &W, ctx: &EvictorContext);
}

/// No evictor: windows keep incremental contents (the default of a `WindowedStream`).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEvictor;

/// An evictor set with `WindowedStream::evictor`.
#[derive(Clone, Copy, Debug)]
pub struct Evicting<E>(pub E);

/// Chooses the window functions of a windowed stream: incremental ones without
/// an evictor, evicting ones over all elements with one.
pub trait MaybeEvictor<K: Clone + Hash + Eq, W: Window, T>: Clone + Send + Sync + 'static {
    fn reduce<R, P, O>(&self, reduce: R, process: P) -> impl InternalWindowFunction<K, W, T, O> + Clone + Sync
    where
        T: brook_types::Data,
        R: FnMut(T, T) -> T + Clone + Send + Sync + 'static,
        P: ProcessWindowFunction<K, W, T, O>;

    /// As `reduce`, for an associative and commutative function (slices may combine).
    fn reduce_commutative<R, P, O>(
        &self,
        reduce: R,
        process: P,
    ) -> impl InternalWindowFunction<K, W, T, O> + Clone + Sync
    where
        T: brook_types::Data,
        R: FnMut(T, T) -> T + Clone + Send + Sync + 'static,
        P: ProcessWindowFunction<K, W, T, O>,
    {
        self.reduce(reduce, process)
    }

    fn aggregate<A, P, O>(&self, aggregate: A, process: P) -> impl InternalWindowFunction<K, W, T, O> + Clone + Sync
    where
        T: brook_types::Data,
        A: AggregateFunction<T>,
        P: ProcessWindowFunction<K, W, A::Out, O>;

    fn process<P, O>(&self, process: P) -> impl InternalWindowFunction<K, W, T, O> + Clone + Sync
    where
        T: brook_types::Data,
        P: ProcessWindowFunction<K, W, T, O>;
}

impl<K: Clone + Hash + Eq, W: Window, T> MaybeEvictor<K, W, T> for NoEvictor {
    fn reduce<R, P, O>(&self, reduce: R, process: P) -> impl InternalWindowFunction<K, W, T, O> + Clone + Sync
    where
        T: brook_types::Data,
        R: FnMut(T, T) -> T + Clone + Send + Sync + 'static,
        P: ProcessWindowFunction<K, W, T, O>,
    {
        ReducingWindowFunction::new(reduce, process)
    }

    fn reduce_commutative<R, P, O>(
        &self,
        reduce: R,
        process: P,
    ) -> impl InternalWindowFunction<K, W, T, O> + Clone + Sync
    where
        T: brook_types::Data,
        R: FnMut(T, T) -> T + Clone + Send + Sync + 'static,
        P: ProcessWindowFunction<K, W, T, O>,
    {
        ReducingWindowFunction::commutative(reduce, process)
    }

    fn aggregate<A, P, O>(&self, aggregate: A, process: P) -> impl InternalWindowFunction<K, W, T, O> + Clone + Sync
    where
        T: brook_types::Data,
        A: AggregateFunction<T>,
        P: ProcessWindowFunction<K, W, A::Out, O>,
    {
        AggregatingWindowFunction::new(aggregate, process)
    }

    fn process<P, O>(&self, process: P) -> impl InternalWindowFunction<K, W, T, O> + Clone + Sync
    where
        T: brook_types::Data,
        P: ProcessWindowFunction<K, W, T, O>,
    {
        ListWindowFunction::new(process)
    }
}

impl<K: Clone + Hash + Eq, W: Window, T, E: Evictor<T, W>> MaybeEvictor<K, W, T> for Evicting<E> {
    fn reduce<R, P, O>(&self, reduce: R, process: P) -> impl InternalWindowFunction<K, W, T, O> + Clone + Sync
    where
        T: brook_types::Data,
        R: FnMut(T, T) -> T + Clone + Send + Sync + 'static,
        P: ProcessWindowFunction<K, W, T, O>,
    {
        EvictingWindowFunction::new(self.0.clone(), ReduceApply::new(reduce, process))
    }

    fn aggregate<A, P, O>(&self, aggregate: A, process: P) -> impl InternalWindowFunction<K, W, T, O> + Clone + Sync
    where
        T: brook_types::Data,
        A: AggregateFunction<T>,
        P: ProcessWindowFunction<K, W, A::Out, O>,
    {
        EvictingWindowFunction::new(self.0.clone(), AggregateApply::new(aggregate, process))
    }

    fn process<P, O>(&self, process: P) -> impl InternalWindowFunction<K, W, T, O> + Clone + Sync
    where
        T: brook_types::Data,
        P: ProcessWindowFunction<K, W, T, O>,
    {
        EvictingWindowFunction::new(self.0.clone(), process)
    }
}
