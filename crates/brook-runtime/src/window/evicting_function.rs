//! Window functions over all of a window's elements, for windows with an
//! evictor (Flink's `EvictingWindowOperator` with `ReduceApplyProcessWindowFunction`
//! and `AggregateApplyProcessWindowFunction`).

use crate::functions::{Collector, RuntimeContext};
use crate::window::{
    AggregateFunction, Evictor, EvictorContext, InternalWindowFunction, ProcessWindowContext, ProcessWindowFunction,
    Window, WindowElements,
};
use brook_types::StreamRecord;
use std::hash::Hash;
use std::marker::PhantomData;

/// All elements with their timestamps; at a firing, `evict_before`, the
/// function, `evict_after`; the elements left stay for the next firing.
#[derive(Clone)]
pub struct EvictingWindowFunction<E, P, T> {
    evictor: E,
    process: P,
    _input: PhantomData<fn(T)>,
}

impl<E, P, T> EvictingWindowFunction<E, P, T> {
    pub fn new(evictor: E, process: P) -> Self {
        Self { evictor, process, _input: PhantomData }
    }
}

impl<K, W, T, O, E, P> InternalWindowFunction<K, W, T, O> for EvictingWindowFunction<E, P, T>
where
    K: Clone + Hash + Eq,
    W: Window,
    T: brook_types::Data,
    E: Evictor<T, W>,
    P: ProcessWindowFunction<K, W, T, O>,
{
    type Acc = Vec<StreamRecord<T>>;

    fn open(&mut self, ctx: &RuntimeContext) {
        self.process.open(ctx)
    }

    fn create(&mut self, value: StreamRecord<T>) -> Self::Acc {
        vec![value]
    }

    fn add(&mut self, acc: &mut Self::Acc, value: StreamRecord<T>) {
        acc.push(value)
    }

    fn merge(&mut self, target: &mut Self::Acc, mut source: Self::Acc) {
        target.append(&mut source)
    }

    fn process(
        &mut self,
        key: &K,
        acc: &mut Self::Acc,
        ctx: &mut ProcessWindowContext<'_, K, W>,
        out: &mut Collector<O>,
    ) -> bool {
        let ectx = EvictorContext::new(ctx.current_processing_time(), ctx.current_watermark());
        let window = ctx.window().clone();
        self.evictor.evict_before(acc, &window, &ectx);
        self.process.process(key, ctx, WindowElements::from_records(acc), out);
        self.evictor.evict_after(acc, &window, &ectx);
        !acc.is_empty()
    }

    fn clear(&mut self, ctx: &mut ProcessWindowContext<'_, K, W>) {
        self.process.clear(ctx)
    }
}

/// Reduces the elements left after eviction, then hands the result to `process`
/// (nothing when no element is left).
#[derive(Clone)]
pub struct ReduceApply<R, P> {
    reduce: R,
    process: P,
}

impl<R, P> ReduceApply<R, P> {
    pub fn new(reduce: R, process: P) -> Self {
        Self { reduce, process }
    }
}

impl<K, W, T, O, R, P> ProcessWindowFunction<K, W, T, O> for ReduceApply<R, P>
where
    T: Clone,
    R: FnMut(T, T) -> T + Clone + Send + Sync + 'static,
    P: ProcessWindowFunction<K, W, T, O>,
{
    fn open(&mut self, ctx: &RuntimeContext) {
        self.process.open(ctx)
    }

    fn process(
        &mut self,
        key: &K,
        ctx: &mut ProcessWindowContext<'_, K, W>,
        mut elements: WindowElements<'_, T>,
        out: &mut Collector<O>,
    ) {
        let Some(first) = elements.next() else { return };
        let reduce = &mut self.reduce;
        let result = elements.fold(first.clone(), |acc, e| reduce(acc, e.clone()));
        self.process.process_owned(key, ctx, result, out);
    }

    fn clear(&mut self, ctx: &mut ProcessWindowContext<'_, K, W>) {
        self.process.clear(ctx)
    }
}

/// Aggregates the elements left after eviction into a fresh accumulator, then
/// hands the result to `process` (Flink emits the result of an empty
/// accumulator when everything was evicted; so does Brook).
#[derive(Clone)]
pub struct AggregateApply<A, P> {
    aggregate: A,
    process: P,
}

impl<A, P> AggregateApply<A, P> {
    pub fn new(aggregate: A, process: P) -> Self {
        Self { aggregate, process }
    }
}

impl<K, W, T, O, A, P> ProcessWindowFunction<K, W, T, O> for AggregateApply<A, P>
where
    T: Clone,
    A: AggregateFunction<T>,
    P: ProcessWindowFunction<K, W, A::Out, O>,
{
    fn open(&mut self, ctx: &RuntimeContext) {
        self.process.open(ctx)
    }

    fn process(
        &mut self,
        key: &K,
        ctx: &mut ProcessWindowContext<'_, K, W>,
        elements: WindowElements<'_, T>,
        out: &mut Collector<O>,
    ) {
        let mut acc = self.aggregate.create_accumulator();
        for e in elements {
            self.aggregate.add(&mut acc, e.clone());
        }
        let result = self.aggregate.get_result(&acc);
        self.process.process_owned(key, ctx, result, out);
    }

    fn clear(&mut self, ctx: &mut ProcessWindowContext<'_, K, W>) {
        self.process.clear(ctx)
    }
}
