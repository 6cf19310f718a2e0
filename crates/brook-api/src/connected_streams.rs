//! `ConnectedStreams`: two streams feeding one two-input operator.

use crate::builder::{NewNode, Port};
use crate::data_stream::DataStream;
use brook_runtime::factory::TwoInputFactory;
use brook_runtime::functions::{CoProcessFunction, Collector, Context};
use brook_runtime::functions::{KeyedCoProcessFunction, RuntimeContext};
use brook_runtime::key_selector::KeySelector;
use brook_runtime::key_selector::OwnedKey;
use brook_runtime::operators::{CoProcessOperator, KeyedCoProcessOperator, TwoInputOperator};
use brook_runtime::partitioner::{KeyGroupPartitioner, PartitionerSpec, ShipStrategy};
use brook_runtime::record_type::record_type;
use brook_runtime::side_output::SideOutputs;
use brook_types::Data;
use brook_types::key_group::KeyHash;
use std::hash::Hash;
use std::sync::Arc;

/// Two streams, possibly of different types, processed together.
pub struct ConnectedStreams<A, B> {
    first: DataStream<A>,
    second: DataStream<B>,
}

impl<A: Data, B: Data> ConnectedStreams<A, B> {
    pub(crate) fn new(first: DataStream<A>, second: DataStream<B>) -> Self {
        Self { first, second }
    }

    /// Partitions both inputs by key, so records with equal keys meet in one subtask;
    /// the result can run a [`KeyedCoProcessFunction`] with timers.
    pub fn key_by<K, K1, K2>(self, key1: K1, key2: K2) -> KeyedConnectedStreams<A, B, OwnedKey<K1, K>, OwnedKey<K2, K>>
    where
        K: Data + Hash + Eq + KeyHash,
        K1: Fn(&A) -> K + Clone + Send + Sync + 'static,
        K2: Fn(&B) -> K + Clone + Send + Sync + 'static,
    {
        let (key1, key2) = (OwnedKey::new(key1), OwnedKey::new(key2));
        let streams = Self {
            first: self.first.with_partitioner(PartitionerSpec::typed(
                ShipStrategy::Hash,
                KeyGroupPartitioner::factory(key1.clone()),
            )),
            second: self.second.with_partitioner(PartitionerSpec::typed(
                ShipStrategy::Hash,
                KeyGroupPartitioner::factory(key2.clone()),
            )),
        };
        KeyedConnectedStreams { streams, key1, key2 }
    }

    /// A [`CoProcessFunction`] over both inputs.
    pub fn process<O: Data, P: CoProcessFunction<A, B, O>>(self, function: P) -> DataStream<O> {
        self.transform("Co-Process", function)
    }

    /// `f1` on the first input, `f2` on the second.
    pub fn co_map<O, F1, F2>(self, f1: F1, f2: F2) -> DataStream<O>
    where
        O: Data,
        F1: FnMut(A) -> O + Clone + Send + Sync + 'static,
        F2: FnMut(B) -> O + Clone + Send + Sync + 'static,
    {
        self.transform("Co-Map", CoMap { f1, f2 })
    }

    /// Zero or more outputs per record of either input.
    pub fn co_flat_map<O, R1, R2, F1, F2>(self, f1: F1, f2: F2) -> DataStream<O>
    where
        O: Data,
        R1: IntoIterator<Item = O>,
        R2: IntoIterator<Item = O>,
        F1: FnMut(A) -> R1 + Clone + Send + Sync + 'static,
        F2: FnMut(B) -> R2 + Clone + Send + Sync + 'static,
    {
        self.transform("Co-Flat Map", CoFlatMap { f1, f2 })
    }

    fn transform<O: Data, P: CoProcessFunction<A, B, O>>(self, name: &str, function: P) -> DataStream<O> {
        let make = move |ctx: &RuntimeContext, side: &mut SideOutputs| {
            Ok(CoProcessOperator::new(function.clone(), ctx.clone(), std::mem::take(side)))
        };
        self.add_operator(name, make)
    }

    /// Adds a two-input operator made per subtask by `make`.
    pub(crate) fn add_operator<O, Op, M>(self, name: &str, make: M) -> DataStream<O>
    where
        O: Data,
        Op: TwoInputOperator<A, B, O> + 'static,
        M: Fn(&RuntimeContext, &mut SideOutputs) -> brook_types::Result<Op> + Send + Sync + 'static,
    {
        let node = NewNode {
            name: name.to_string(),
            factory: Arc::new(TwoInputFactory::<A, B, O, Op, M>::new(make)),
            out_type: Some(record_type::<O>()),
            pact: "Operator",
            parallelism: None,
        };
        let env = self.first.env.clone();
        let id = env.builder.lock().add(node, &[(&self.first.ports, 0), (&self.second.ports, 1)]);
        DataStream::from_port(
            env,
            Port {
                node: id,
                side_output: None,
                record_type: record_type::<O>(),
                partitioner: PartitionerSpec::forward_default(),
            },
        )
    }
}

/// Two streams partitioned by the same key (`ConnectedStreams::key_by`).
pub struct KeyedConnectedStreams<A, B, S1, S2> {
    streams: ConnectedStreams<A, B>,
    key1: S1,
    key2: S2,
}

impl<A, B, S1, S2> KeyedConnectedStreams<A, B, S1, S2>
where
    A: Data,
    B: Data,
    S1: KeySelector<A>,
    S2: KeySelector<B, Key = S1::Key>,
{
    /// A [`KeyedCoProcessFunction`] (any [`CoProcessFunction`] is one): both inputs
    /// see the current key and share its timers.
    pub fn process<O: Data, P: KeyedCoProcessFunction<S1::Key, A, B, O>>(self, function: P) -> DataStream<O> {
        let (key1, key2) = (self.key1, self.key2);
        let make = move |ctx: &RuntimeContext, side: &mut SideOutputs| {
            KeyedCoProcessOperator::new(key1.clone(), key2.clone(), function.clone(), ctx.clone(), std::mem::take(side))
        };
        self.streams.add_operator("KeyedCoProcess", make)
    }

    /// `f1` on the first input, `f2` on the second, with both partitioned by key.
    pub fn co_map<O, F1, F2>(self, f1: F1, f2: F2) -> DataStream<O>
    where
        O: Data,
        F1: FnMut(A) -> O + Clone + Send + Sync + 'static,
        F2: FnMut(B) -> O + Clone + Send + Sync + 'static,
    {
        self.streams.co_map(f1, f2)
    }

    /// Zero or more outputs per record of either input, with both partitioned by key.
    pub fn co_flat_map<O, R1, R2, F1, F2>(self, f1: F1, f2: F2) -> DataStream<O>
    where
        O: Data,
        R1: IntoIterator<Item = O>,
        R2: IntoIterator<Item = O>,
        F1: FnMut(A) -> R1 + Clone + Send + Sync + 'static,
        F2: FnMut(B) -> R2 + Clone + Send + Sync + 'static,
    {
        self.streams.co_flat_map(f1, f2)
    }
}

#[derive(Clone)]
struct CoMap<F1, F2> {
    f1: F1,
    f2: F2,
}

impl<A, B, O, F1, F2> CoProcessFunction<A, B, O> for CoMap<F1, F2>
where
    F1: FnMut(A) -> O + Clone + Send + Sync + 'static,
    F2: FnMut(B) -> O + Clone + Send + Sync + 'static,
{
    fn process_element1(&mut self, value: A, _ctx: &mut Context<'_>, out: &mut Collector<O>) {
        out.collect((self.f1)(value));
    }

    fn process_element2(&mut self, value: B, _ctx: &mut Context<'_>, out: &mut Collector<O>) {
        out.collect((self.f2)(value));
    }
}

#[derive(Clone)]
struct CoFlatMap<F1, F2> {
    f1: F1,
    f2: F2,
}

impl<A, B, O, R1, R2, F1, F2> CoProcessFunction<A, B, O> for CoFlatMap<F1, F2>
where
    R1: IntoIterator<Item = O>,
    R2: IntoIterator<Item = O>,
    F1: FnMut(A) -> R1 + Clone + Send + Sync + 'static,
    F2: FnMut(B) -> R2 + Clone + Send + Sync + 'static,
{
    fn process_element1(&mut self, value: A, _ctx: &mut Context<'_>, out: &mut Collector<O>) {
        for o in (self.f1)(value) {
            out.collect(o);
        }
    }

    fn process_element2(&mut self, value: B, _ctx: &mut Context<'_>, out: &mut Collector<O>) {
        for o in (self.f2)(value) {
            out.collect(o);
        }
    }
}
