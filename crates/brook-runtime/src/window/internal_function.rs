//! How a window operator keeps a window's contents and evaluates them: Flink's
//! window state descriptor (list, reducing, aggregating) and its
//! `InternalWindowFunction` in one trait, so the operator is generic over both.

use crate::functions::{Collector, RuntimeContext};
use crate::window::{AggregateFunction, ProcessWindowContext, ProcessWindowFunction, WindowElements};
use brook_types::StreamRecord;
use std::marker::PhantomData;

/// The contents of one window (`Acc`) and how they are built, merged and emitted.
pub trait InternalWindowFunction<K, W, T, O>: Send + 'static {
    /// A window's contents (never empty: a window without contents has none).
    /// Part of checkpoints, hence serializable.
    type Acc: Send + serde::Serialize + serde::de::DeserializeOwned + 'static;

    fn open(&mut self, ctx: &RuntimeContext);

    /// The contents of a window whose first element is `value`.
    fn create(&mut self, value: StreamRecord<T>) -> Self::Acc;

    fn add(&mut self, acc: &mut Self::Acc, value: StreamRecord<T>);

    /// Folds `source` into `target` (merging windows), as Flink's merging state.
    fn merge(&mut self, target: &mut Self::Acc, source: Self::Acc);

    /// Evaluates the window; false if its contents became empty (an evictor
    /// removed everything).
    fn process(
        &mut self,
        key: &K,
        acc: &mut Self::Acc,
        ctx: &mut ProcessWindowContext<'_, K, W>,
        out: &mut Collector<O>,
    ) -> bool;

    /// The window is cleaned up.
    fn clear(&mut self, ctx: &mut ProcessWindowContext<'_, K, W>);

    /// Whether contents can be kept per slice and combined with
    /// [`Self::merge`] when a window fires (docs/design/windows.md,
    /// "Slicing"): incremental contents, no per-window state, no evictor.
    fn can_slice(&self) -> bool {
        false
    }

    /// Whether [`Self::copy`] gives `Some` (needed when a slice belongs to
    /// more than one window).
    fn can_copy(&self) -> bool {
        false
    }

    /// A copy of `acc`, if contents copy.
    fn copy(&self, _acc: &Self::Acc) -> Option<Self::Acc> {
        None
    }
}

/// All elements, handed to a [`ProcessWindowFunction`] (Flink's list state with
/// `InternalIterableProcessWindowFunction`).
#[derive(Clone)]
pub struct ListWindowFunction<P, I> {
    process: P,
    _input: PhantomData<fn(I)>,
}

impl<P, I> ListWindowFunction<P, I> {
    pub fn new(process: P) -> Self {
        Self { process, _input: PhantomData }
    }
}

impl<K, W, T, O, P> InternalWindowFunction<K, W, T, O> for ListWindowFunction<P, T>
where
    T: brook_types::Data,
    P: ProcessWindowFunction<K, W, T, O>,
{
    type Acc = Vec<StreamRecord<T>>;

    fn open(&mut self, ctx: &RuntimeContext) {
        self.process.open(ctx)
    }

    #[inline]
    fn create(&mut self, value: StreamRecord<T>) -> Self::Acc {
        vec![value]
    }

    #[inline]
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
        self.process.process(key, ctx, WindowElements::from_records(acc), out);
        true
    }

    fn clear(&mut self, ctx: &mut ProcessWindowContext<'_, K, W>) {
        self.process.clear(ctx)
    }
}

/// One value, reduced per element by `reduce(acc, new)`, handed to a
/// [`ProcessWindowFunction`] (Flink's reducing state; `PassThrough` for plain
/// `reduce`).
#[derive(Clone)]
pub struct ReducingWindowFunction<R, P, T> {
    reduce: R,
    process: P,
    /// `reduce` is associative and commutative (the user said so): partial results
    /// of slices may be combined in time order instead of arrival order.
    commutative: bool,
    _input: PhantomData<fn(T)>,
}

impl<R, P, T> ReducingWindowFunction<R, P, T> {
    /// Reduces in arrival order, as Flink's reducing state does: a sliding window
    /// keeps one pane per window (tumbling windows still slice: one slice is one window).
    pub fn new(reduce: R, process: P) -> Self {
        Self { reduce, process, commutative: false, _input: PhantomData }
    }

    /// For a `reduce` that is associative and commutative (max, min, sum): sliding
    /// windows keep one partial result per slide and combine them when a window fires.
    pub fn commutative(reduce: R, process: P) -> Self {
        Self { reduce, process, commutative: true, _input: PhantomData }
    }
}

impl<K, W, T, O, R, P> InternalWindowFunction<K, W, T, O> for ReducingWindowFunction<R, P, T>
where
    T: brook_types::Data,
    R: FnMut(T, T) -> T + Send + 'static,
    P: ProcessWindowFunction<K, W, T, O>,
{
    /// Always `Some`; an `Option` so that `reduce` can take the value by move.
    type Acc = Option<T>;

    fn open(&mut self, ctx: &RuntimeContext) {
        self.process.open(ctx)
    }

    #[inline]
    fn create(&mut self, value: StreamRecord<T>) -> Option<T> {
        Some(value.value)
    }

    #[inline]
    fn add(&mut self, acc: &mut Option<T>, value: StreamRecord<T>) {
        let current = acc.take().expect("reduce contents are never empty");
        *acc = Some((self.reduce)(current, value.value));
    }

    fn merge(&mut self, target: &mut Option<T>, source: Option<T>) {
        let current = target.take().expect("reduce contents are never empty");
        let source = source.expect("reduce contents are never empty");
        *target = Some((self.reduce)(current, source));
    }

    fn can_slice(&self) -> bool {
        self.process.is_pass_through()
    }

    /// Only a commutative reduce: combining slices in time order gives what arrival
    /// order gives only when the order does not matter.
    fn can_copy(&self) -> bool {
        self.commutative
    }

    #[inline]
    fn copy(&self, acc: &Option<T>) -> Option<Option<T>> {
        self.commutative.then(|| acc.clone())
    }

    fn process(
        &mut self,
        key: &K,
        acc: &mut Option<T>,
        ctx: &mut ProcessWindowContext<'_, K, W>,
        out: &mut Collector<O>,
    ) -> bool {
        let value = acc.as_ref().expect("reduce contents are never empty");
        self.process.process_one(key, ctx, value, out);
        true
    }

    fn clear(&mut self, ctx: &mut ProcessWindowContext<'_, K, W>) {
        self.process.clear(ctx)
    }
}

/// An [`AggregateFunction`] accumulator; its result handed to a
/// [`ProcessWindowFunction`] (Flink's aggregating state).
#[derive(Clone)]
pub struct AggregatingWindowFunction<A, P, T> {
    aggregate: A,
    process: P,
    _input: PhantomData<fn(T)>,
}

impl<A, P, T> AggregatingWindowFunction<A, P, T> {
    pub fn new(aggregate: A, process: P) -> Self {
        Self { aggregate, process, _input: PhantomData }
    }
}

impl<K, W, T, O, A, P> InternalWindowFunction<K, W, T, O> for AggregatingWindowFunction<A, P, T>
where
    T: Send + 'static,
    A: AggregateFunction<T>,
    P: ProcessWindowFunction<K, W, A::Out, O>,
{
    type Acc = A::Acc;

    fn open(&mut self, ctx: &RuntimeContext) {
        self.process.open(ctx)
    }

    #[inline]
    fn create(&mut self, value: StreamRecord<T>) -> A::Acc {
        let mut acc = self.aggregate.create_accumulator();
        self.aggregate.add(&mut acc, value.value);
        acc
    }

    #[inline]
    fn add(&mut self, acc: &mut A::Acc, value: StreamRecord<T>) {
        self.aggregate.add(acc, value.value)
    }

    fn merge(&mut self, target: &mut A::Acc, source: A::Acc) {
        self.aggregate.merge(target, source)
    }

    fn can_slice(&self) -> bool {
        self.process.is_pass_through()
    }

    fn can_copy(&self) -> bool {
        self.aggregate.copy_accumulator(&self.aggregate.create_accumulator()).is_some()
    }

    #[inline]
    fn copy(&self, acc: &A::Acc) -> Option<A::Acc> {
        self.aggregate.copy_accumulator(acc)
    }

    fn process(
        &mut self,
        key: &K,
        acc: &mut A::Acc,
        ctx: &mut ProcessWindowContext<'_, K, W>,
        out: &mut Collector<O>,
    ) -> bool {
        let result = self.aggregate.get_result(acc);
        self.process.process_owned(key, ctx, result, out);
        true
    }

    fn clear(&mut self, ctx: &mut ProcessWindowContext<'_, K, W>) {
        self.process.clear(ctx)
    }
}
