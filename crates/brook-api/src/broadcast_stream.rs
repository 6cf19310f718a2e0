//! The broadcast state pattern: `stream.broadcast_with(descriptor)` is a
//! [`BroadcastStream`]; `keyed_stream.connect(broadcast_stream)` is a
//! [`BroadcastConnectedStream`], which runs a [`KeyedBroadcastProcessFunction`];
//! `stream.connect_broadcast(broadcast_stream)` is a
//! [`NonKeyedBroadcastConnectedStream`], which runs a [`BroadcastProcessFunction`].

use crate::connected_streams::ConnectedStreams;
use crate::data_stream::DataStream;
use brook_runtime::functions::RuntimeContext;
use brook_runtime::key_selector::KeySelector;
use brook_runtime::operators::{BroadcastProcessFunction, BroadcastProcessOperator};
use brook_runtime::operators::{KeyedBroadcastProcessFunction, KeyedBroadcastProcessOperator};
use brook_runtime::side_output::SideOutputs;
use brook_runtime::state::MapStateDescriptor;
use brook_types::Data;
use std::hash::Hash;

/// A stream partitioned BROADCAST (every downstream subtask gets every element),
/// with the broadcast state it is meant to fill (Flink's `BroadcastStream`).
pub struct BroadcastStream<B, UK, UV> {
    pub(crate) stream: DataStream<B>,
    descriptor: MapStateDescriptor<UK, UV>,
}

impl<B: Data, UK: Data + Hash + Eq, UV: Data> BroadcastStream<B, UK, UV> {
    pub(crate) fn new(stream: DataStream<B>, descriptor: MapStateDescriptor<UK, UV>) -> Self {
        Self { stream: stream.broadcast(), descriptor }
    }

    /// The descriptor of the broadcast state this stream fills.
    pub fn descriptor(&self) -> &MapStateDescriptor<UK, UV> {
        &self.descriptor
    }
}

/// A keyed stream connected to a [`BroadcastStream`] (Flink's
/// `BroadcastConnectedStream`).
pub struct BroadcastConnectedStream<T, B, S> {
    keyed: DataStream<T>,
    key_selector: S,
    broadcast: DataStream<B>,
}

impl<T: Data, B: Data, S: KeySelector<T>> BroadcastConnectedStream<T, B, S> {
    pub(crate) fn new(keyed: DataStream<T>, key_selector: S, broadcast: DataStream<B>) -> Self {
        Self { keyed, key_selector, broadcast }
    }

    /// Runs `function`: `process_element` per keyed element (broadcast state
    /// read-only), `process_broadcast_element` per broadcast element in every subtask
    /// (broadcast state read-write). The broadcast state is part of checkpoints.
    pub fn process<O: Data, P: KeyedBroadcastProcessFunction<S::Key, T, B, O>>(self, function: P) -> DataStream<O> {
        let key = self.key_selector;
        let make = move |ctx: &RuntimeContext, side: &mut SideOutputs| {
            KeyedBroadcastProcessOperator::new(key.clone(), function.clone(), ctx.clone(), std::mem::take(side))
        };
        ConnectedStreams::new(self.keyed, self.broadcast).add_operator("KeyedBroadcastProcess", make)
    }
}

/// A (non-keyed) stream connected to a [`BroadcastStream`]
/// (`DataStream::connect_broadcast`).
pub struct NonKeyedBroadcastConnectedStream<T, B> {
    stream: DataStream<T>,
    broadcast: DataStream<B>,
}

impl<T: Data, B: Data> NonKeyedBroadcastConnectedStream<T, B> {
    pub(crate) fn new(stream: DataStream<T>, broadcast: DataStream<B>) -> Self {
        Self { stream, broadcast }
    }

    /// Runs `function`: `process_element` per element (broadcast state read-only),
    /// `process_broadcast_element` per broadcast element in every subtask (broadcast
    /// state read-write). The broadcast state is part of checkpoints.
    pub fn process<O: Data, P: BroadcastProcessFunction<T, B, O>>(self, function: P) -> DataStream<O> {
        let make = move |ctx: &RuntimeContext, side: &mut SideOutputs| {
            Ok(BroadcastProcessOperator::new(function.clone(), ctx.clone(), std::mem::take(side)))
        };
        ConnectedStreams::new(self.stream, self.broadcast).add_operator("BroadcastProcess", make)
    }
}
