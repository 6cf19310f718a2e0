//! `ConnectedStreams`: two streams feeding one two-input operator.

use crate::builder::{NewNode, Port};
use crate::data_stream::DataStream;
use brook_runtime::factory::TwoInputFactory;
use brook_runtime::functions::{CoProcessFunction, Collector, Context};
use brook_runtime::key_selector::OwnedKey;
use brook_runtime::operators::CoProcessOperator;
use brook_runtime::partitioner::{KeyGroupPartitioner, PartitionerSpec, ShipStrategy};
use brook_runtime::record_type::record_type;
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

    /// Partitions both inputs by key, so records with equal keys meet in one subtask.
    pub fn key_by<K, K1, K2>(self, key1: K1, key2: K2) -> Self
    where
        K: Data + Hash + Eq + KeyHash,
        K1: Fn(&A) -> K + Clone + Send + Sync + 'static,
        K2: Fn(&B) -> K + Clone + Send + Sync + 'static,
    {
        Self {
            first: self.first.with_partitioner(PartitionerSpec::typed(
                ShipStrategy::Hash,
                KeyGroupPartitioner::factory(OwnedKey::new(key1)),
            )),
            second: self.second.with_partitioner(PartitionerSpec::typed(
                ShipStrategy::Hash,
                KeyGroupPartitioner::factory(OwnedKey::new(key2)),
            )),
        }
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
        let make = move |ctx: &brook_runtime::functions::RuntimeContext,
                         side: &mut brook_runtime::side_output::SideOutputs| {
            Ok(CoProcessOperator::new(function.clone(), ctx.clone(), std::mem::take(side)))
        };
        let node = NewNode {
            name: name.to_string(),
            factory: Arc::new(TwoInputFactory::<A, B, O, CoProcessOperator<A, B, O, P>, _>::new(make)),
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
