//! `KeyedStream`: a stream partitioned by key, and its keyed operators.

use crate::data_stream::DataStream;
use crate::interval_join::IntervalJoin;
use crate::windowed_stream::WindowedStream;
use brook_runtime::functions::KeyedProcessFunction;
use brook_runtime::key_selector::KeySelector;
use brook_runtime::operators::{KeyedProcessOperator, KeyedReduceOperator};
use brook_runtime::window::{CountEvictor, CountTrigger, Evicting, GlobalWindows, PurgingTrigger, WindowAssigner};
use brook_types::Data;
use std::ops::AddAssign;

/// A stream whose records are partitioned by the key its [`KeySelector`] extracts.
pub struct KeyedStream<T, S> {
    stream: DataStream<T>,
    key_selector: S,
}

impl<T, S> KeyedStream<T, S>
where
    T: Data,
    S: KeySelector<T>,
{
    pub(crate) fn new(stream: DataStream<T>, key_selector: S) -> Self {
        Self { stream, key_selector }
    }

    /// Connects a [`BroadcastStream`](crate::BroadcastStream): every subtask of the
    /// result gets every broadcast element; run it with
    /// [`BroadcastConnectedStream::process`](crate::BroadcastConnectedStream::process).
    pub fn connect<B: Data, UK, UV>(
        self,
        broadcast: crate::BroadcastStream<B, UK, UV>,
    ) -> crate::BroadcastConnectedStream<T, B, S> {
        crate::BroadcastConnectedStream::new(self.stream, self.key_selector, broadcast.stream)
    }

    /// Rolling reduce: per key, `f(accumulated, new)`. STREAMING emits every new
    /// accumulated value; BATCH emits each key's final value once.
    pub fn reduce<RF>(self, f: RF) -> DataStream<T>
    where
        RF: FnMut(T, T) -> T + Clone + Send + Sync + 'static,
    {
        self.reduce_named("Keyed Reduce", f)
    }

    fn reduce_named<RF>(self, name: &str, f: RF) -> DataStream<T>
    where
        RF: FnMut(T, T) -> T + Clone + Send + Sync + 'static,
    {
        let kf = self.key_selector;
        self.stream.transform(name, move |ctx, _| Ok(KeyedReduceOperator::new(kf.clone(), f.clone(), ctx)))
    }

    /// Rolling sum of the field `field` selects; other fields keep the key's first record's values.
    pub fn sum<N, L>(self, field: L) -> DataStream<T>
    where
        N: Copy + AddAssign + 'static,
        L: Fn(&mut T) -> &mut N + Clone + Send + Sync + 'static,
    {
        self.reduce_named("Keyed Aggregation", move |mut acc: T, mut v: T| {
            let x = *field(&mut v);
            *field(&mut acc) += x;
            acc
        })
    }

    /// Rolling minimum of a field; other fields keep the key's first record's values.
    pub fn min<N, L>(self, field: L) -> DataStream<T>
    where
        N: Copy + PartialOrd + 'static,
        L: Fn(&mut T) -> &mut N + Clone + Send + Sync + 'static,
    {
        self.reduce_named("Keyed Aggregation", move |mut acc: T, mut v: T| {
            let x = *field(&mut v);
            let a = field(&mut acc);
            if x < *a {
                *a = x;
            }
            acc
        })
    }

    /// Rolling maximum of a field; other fields keep the key's first record's values.
    pub fn max<N, L>(self, field: L) -> DataStream<T>
    where
        N: Copy + PartialOrd + 'static,
        L: Fn(&mut T) -> &mut N + Clone + Send + Sync + 'static,
    {
        self.reduce_named("Keyed Aggregation", move |mut acc: T, mut v: T| {
            let x = *field(&mut v);
            let a = field(&mut acc);
            if x > *a {
                *a = x;
            }
            acc
        })
    }

    /// The whole record with the smallest value of `by` so far (the first on ties).
    pub fn min_by<N, F>(self, by: F) -> DataStream<T>
    where
        N: PartialOrd + 'static,
        F: Fn(&T) -> N + Clone + Send + Sync + 'static,
    {
        self.reduce_named("Keyed Aggregation", move |acc: T, v: T| if by(&v) < by(&acc) { v } else { acc })
    }

    /// The whole record with the largest value of `by` so far (the first on ties).
    pub fn max_by<N, F>(self, by: F) -> DataStream<T>
    where
        N: PartialOrd + 'static,
        F: Fn(&T) -> N + Clone + Send + Sync + 'static,
    {
        self.reduce_named("Keyed Aggregation", move |acc: T, v: T| if by(&v) > by(&acc) { v } else { acc })
    }

    /// A [`KeyedProcessFunction`], which sees the current key.
    pub fn process<O: Data, P: KeyedProcessFunction<S::Key, T, O>>(self, function: P) -> DataStream<O> {
        let kf = self.key_selector;
        self.stream.transform("KeyedProcess", move |ctx, side| {
            KeyedProcessOperator::new(kf.clone(), function.clone(), ctx.clone(), std::mem::take(side))
        })
    }

    /// Groups each key's records into windows (Flink's `window`): the assigner's
    /// default trigger fires them; see [`WindowedStream`].
    pub fn window<A: WindowAssigner<T>>(self, assigner: A) -> WindowedStream<T, S, A, A::DefaultTrigger> {
        WindowedStream::new(self.stream, self.key_selector, assigner)
    }

    /// Tumbling count windows: fires and purges every `size` records of a key
    /// (Flink's `countWindow(size)`: global windows with a purging count trigger).
    /// A last incomplete window never fires.
    pub fn count_window(self, size: u64) -> WindowedStream<T, S, GlobalWindows, PurgingTrigger<CountTrigger>> {
        self.window(GlobalWindows::create()).trigger(PurgingTrigger::of(CountTrigger::of(size)))
    }

    /// Sliding count windows: every `slide` records of a key, fires over its last
    /// `size` records (Flink's `countWindow(size, slide)`: global windows, a
    /// count trigger of `slide` and a count evictor of `size`).
    pub fn count_window_slide(
        self,
        size: u64,
        slide: u64,
    ) -> WindowedStream<T, S, GlobalWindows, CountTrigger, Evicting<CountEvictor>> {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        self.window(GlobalWindows::create()).evictor(CountEvictor::of(size)).trigger(CountTrigger::of(slide))
    }

    /// Joins with `other` (keyed alike) by time interval: records of equal keys whose
    /// timestamps lie within the bounds given to [`IntervalJoin::between`].
    pub fn interval_join<U, S2>(self, other: KeyedStream<U, S2>) -> IntervalJoin<T, U, S, S2>
    where
        U: Data,
        S2: KeySelector<U, Key = S::Key>,
    {
        IntervalJoin::new(self.stream, self.key_selector, other.stream, other.key_selector)
    }

    /// The key-partitioned stream as a plain stream (e.g. to `map` after `key_by`).
    pub fn into_data_stream(self) -> DataStream<T> {
        self.stream
    }
}
