//! Window functions: what a window's contents become when it fires.
//!
//! - `reduce(f)`: contents are one value, `f(acc, new)` per element; the result
//!   is that value.
//! - `aggregate(agg)`: contents are an [`AggregateFunction`] accumulator; the
//!   result is `agg.get_result(acc)`.
//! - `process(f)`: contents are all elements; a [`ProcessWindowFunction`] sees
//!   them with the key, the window, time, per-window and per-key state.
//! - `reduce_with` / `aggregate_with`: incremental contents, and a
//!   ProcessWindowFunction that sees the single result with the window's
//!   context (Flink's `reduce(f, processFn)` and `aggregate(agg, processFn)`).
//!
//! A result carries the window's max timestamp as its timestamp.

use crate::functions::{Collector, RuntimeContext};
use crate::side_output::{OutputTag, SideOutputs};
use crate::window::{StateStore, Window};
use brook_types::{StreamRecord, Timestamp};
use std::collections::HashMap;
use std::hash::Hash;

/// An incremental aggregation with an accumulator (Flink's `AggregateFunction`).
/// `merge` combines the accumulators of merging (session) windows.
pub trait AggregateFunction<I>: Clone + Send + Sync + 'static {
    /// Part of checkpoints, hence serializable.
    type Acc: Send + serde::Serialize + serde::de::DeserializeOwned + 'static;
    type Out;

    fn create_accumulator(&self) -> Self::Acc;
    fn add(&self, acc: &mut Self::Acc, value: I);
    fn get_result(&self, acc: &Self::Acc) -> Self::Out;
    /// Folds `other` into `acc`.
    fn merge(&self, acc: &mut Self::Acc, other: Self::Acc);

    /// A copy of `acc`, if accumulators can be copied (`Some(acc.clone())`).
    /// Sliding event-time windows then keep one accumulator per slice and
    /// combine copies with `merge` when a window fires, instead of adding each
    /// element to every window (docs/design/windows.md, "Slicing"); this needs
    /// `merge` to combine partial accumulators in any order to what adding
    /// their elements one by one would have given.
    fn copy_accumulator(&self, _acc: &Self::Acc) -> Option<Self::Acc> {
        None
    }
}

/// The elements of a firing window, in the order they were added (merged
/// windows: the elements of the earliest-starting merged window first).
pub struct WindowElements<'a, I> {
    inner: Elements<'a, I>,
}

enum Elements<'a, I> {
    Records(std::slice::Iter<'a, StreamRecord<I>>),
    One(Option<&'a I>),
}

impl<'a, I> WindowElements<'a, I> {
    pub fn from_records(records: &'a [StreamRecord<I>]) -> Self {
        Self { inner: Elements::Records(records.iter()) }
    }

    pub fn one(element: &'a I) -> Self {
        Self { inner: Elements::One(Some(element)) }
    }
}

impl<'a, I> Iterator for WindowElements<'a, I> {
    type Item = &'a I;

    #[inline]
    fn next(&mut self) -> Option<&'a I> {
        match &mut self.inner {
            Elements::Records(it) => it.next().map(|r| &r.value),
            Elements::One(one) => one.take(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.inner {
            Elements::Records(it) => it.len(),
            Elements::One(one) => usize::from(one.is_some()),
        };
        (n, Some(n))
    }
}

impl<I> ExactSizeIterator for WindowElements<'_, I> {}

/// What a [`ProcessWindowFunction`] sees besides the elements (Flink's
/// `ProcessWindowFunction.Context`).
pub struct ProcessWindowContext<'a, K, W> {
    pub(crate) key: &'a K,
    pub(crate) window: &'a W,
    pub(crate) watermark: Timestamp,
    pub(crate) runtime: &'a RuntimeContext,
    pub(crate) side_outputs: &'a mut SideOutputs,
    /// This window's store (created on first use); `None` under a merging assigner.
    pub(crate) window_state: Option<&'a mut Option<Box<StateStore>>>,
    pub(crate) global_states: &'a mut HashMap<K, StateStore, foldhash::fast::RandomState>,
}

impl<K: Clone + Hash + Eq, W: Window> ProcessWindowContext<'_, K, W> {
    pub fn key(&self) -> &K {
        self.key
    }

    /// The window being evaluated.
    pub fn window(&self) -> &W {
        self.window
    }

    /// The operator's event time (`i64::MIN` before the first watermark).
    pub fn current_watermark(&self) -> Timestamp {
        self.watermark
    }

    pub fn current_processing_time(&self) -> Timestamp {
        self.runtime.processing_time.now()
    }

    /// State of this key and window, dropped when the window is cleaned up
    /// (after [`ProcessWindowFunction::clear`]). Panics under a merging
    /// assigner, as Flink's: "Per-window state is not allowed when using merging
    /// windows."
    pub fn window_state(&mut self) -> &mut StateStore {
        let slot = self
            .window_state
            .as_deref_mut()
            .unwrap_or_else(|| panic!("Per-window state is not allowed when using merging windows."));
        slot.get_or_insert_with(Box::default)
    }

    /// State of this key, shared by all its windows and kept after they end.
    pub fn global_state(&mut self) -> &mut StateStore {
        if !self.global_states.contains_key(self.key) {
            self.global_states.insert(self.key.clone(), StateStore::default());
        }
        self.global_states.get_mut(self.key).expect("inserted above")
    }

    /// Emits `value` to the side output `tag`, with the window's max timestamp.
    pub fn output<U: 'static>(&mut self, tag: &OutputTag<U>, value: U) {
        self.side_outputs.emit(tag, value, self.window.max_timestamp());
    }

    pub fn runtime_context(&self) -> &RuntimeContext {
        self.runtime
    }
}

/// Evaluates a window with its context (Flink's `ProcessWindowFunction`).
pub trait ProcessWindowFunction<K, W, I, O>: Clone + Send + Sync + 'static {
    /// Called once per subtask before the first element.
    fn open(&mut self, _ctx: &RuntimeContext) {}

    /// The window fired: emit its result for `key`.
    fn process(
        &mut self,
        key: &K,
        ctx: &mut ProcessWindowContext<'_, K, W>,
        elements: WindowElements<'_, I>,
        out: &mut Collector<O>,
    );

    /// The window is being cleaned up: clear what [`ProcessWindowContext::window_state`]
    /// holds that must not survive it (the store is dropped afterwards anyway).
    fn clear(&mut self, _ctx: &mut ProcessWindowContext<'_, K, W>) {}

    /// `process` with one element (after `reduce` or `aggregate`).
    #[doc(hidden)]
    fn process_one(&mut self, key: &K, ctx: &mut ProcessWindowContext<'_, K, W>, element: &I, out: &mut Collector<O>) {
        self.process(key, ctx, WindowElements::one(element), out)
    }

    /// Whether this is [`PassThrough`] (plain `reduce` / `aggregate`), which
    /// uses no per-window state: a condition for slicing.
    #[doc(hidden)]
    fn is_pass_through(&self) -> bool {
        false
    }

    /// `process` with one owned element.
    #[doc(hidden)]
    fn process_owned(&mut self, key: &K, ctx: &mut ProcessWindowContext<'_, K, W>, element: I, out: &mut Collector<O>) {
        self.process_one(key, ctx, &element, out)
    }
}

impl<K, W, I, O, F> ProcessWindowFunction<K, W, I, O> for F
where
    F: FnMut(&K, &mut ProcessWindowContext<'_, K, W>, WindowElements<'_, I>, &mut Collector<O>)
        + Clone
        + Send
        + Sync
        + 'static,
{
    fn process(
        &mut self,
        key: &K,
        ctx: &mut ProcessWindowContext<'_, K, W>,
        elements: WindowElements<'_, I>,
        out: &mut Collector<O>,
    ) {
        self(key, ctx, elements, out)
    }
}

/// Emits the elements as they are: the window function of plain `reduce` and
/// `aggregate` (Flink's `PassThroughWindowFunction`).
#[derive(Clone, Copy, Debug, Default)]
pub struct PassThrough;

impl<K, W, I: Clone + Send + 'static> ProcessWindowFunction<K, W, I, I> for PassThrough {
    fn process(
        &mut self,
        _: &K,
        _: &mut ProcessWindowContext<'_, K, W>,
        elements: WindowElements<'_, I>,
        out: &mut Collector<I>,
    ) {
        for e in elements {
            out.collect(e.clone());
        }
    }

    #[inline]
    fn process_one(&mut self, _: &K, _: &mut ProcessWindowContext<'_, K, W>, element: &I, out: &mut Collector<I>) {
        out.collect(element.clone());
    }

    #[inline]
    fn process_owned(&mut self, _: &K, _: &mut ProcessWindowContext<'_, K, W>, element: I, out: &mut Collector<I>) {
        out.collect(element);
    }

    fn is_pass_through(&self) -> bool {
        true
    }
}

/// Evaluates a window of a non-keyed stream (`window_all`; Flink's
/// `ProcessAllWindowFunction`). The context's key is `()`.
pub trait ProcessAllWindowFunction<W, I, O>: Clone + Send + Sync + 'static {
    fn open(&mut self, _ctx: &RuntimeContext) {}

    fn process(
        &mut self,
        ctx: &mut ProcessWindowContext<'_, (), W>,
        elements: WindowElements<'_, I>,
        out: &mut Collector<O>,
    );

    fn clear(&mut self, _ctx: &mut ProcessWindowContext<'_, (), W>) {}
}

impl<W, I, O, F> ProcessAllWindowFunction<W, I, O> for F
where
    F: FnMut(&mut ProcessWindowContext<'_, (), W>, WindowElements<'_, I>, &mut Collector<O>)
        + Clone
        + Send
        + Sync
        + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessWindowContext<'_, (), W>,
        elements: WindowElements<'_, I>,
        out: &mut Collector<O>,
    ) {
        self(ctx, elements, out)
    }
}

/// A [`ProcessAllWindowFunction`] as the [`ProcessWindowFunction`] of the single key `()`.
#[derive(Clone, Debug)]
pub struct AllWindowProcess<P>(pub P);

impl<W, I, O, P> ProcessWindowFunction<(), W, I, O> for AllWindowProcess<P>
where
    P: ProcessAllWindowFunction<W, I, O>,
{
    fn open(&mut self, ctx: &RuntimeContext) {
        self.0.open(ctx)
    }

    fn process(
        &mut self,
        _: &(),
        ctx: &mut ProcessWindowContext<'_, (), W>,
        elements: WindowElements<'_, I>,
        out: &mut Collector<O>,
    ) {
        self.0.process(ctx, elements, out)
    }

    fn clear(&mut self, ctx: &mut ProcessWindowContext<'_, (), W>) {
        self.0.clear(ctx)
    }
}
