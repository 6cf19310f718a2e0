//! Type-erased operations on a record type.
//!
//! The graph that the API builds is typed while it is built, but deploying it —
//! creating gates and writers for an edge, joining outputs — happens in code that
//! does not know the types. Every edge therefore carries a [`RecordType`] vtable,
//! made where the type was known (`record_type::<T>()`); erased values are
//! downcast back once, at deployment, never per record.

use crate::channel::{
    ChannelWriter, Credits, GateHandle, InputGate, LocalChannelWriter, NetworkChannelWriter, register_remote_channels,
};
use crate::checkpoint::ElementCodec;
use crate::metrics::Counter;
use crate::output::{AnyOutput, CountingOutput, FanOut, NoOutput, Output, erase_output, unerase_output};
use crate::partitioner::{PartitionerContext, PartitionerSpec};
use crate::side_output::{ErasedSideOutput, SideOutput};
use crate::task::{OneInputTaskInput, TaskInput};
use crate::writer::{PendingSends, RecordWriter};
use brook_network::{ChannelId, NetworkEnvironment, NetworkError};
use brook_types::Data;
use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;

/// An erased `InputGate<T>`.
pub type AnyGate = Box<dyn Any + Send>;
/// An erased `GateHandle<T>`.
pub type AnyGateHandle = Arc<dyn Any + Send + Sync>;
/// An erased `Box<dyn ChannelWriter<T>>`.
pub type AnyChannelWriter = Box<dyn Any + Send>;

/// Operations on records of one type, callable without knowing it.
pub trait RecordType: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn create_gate(&self, num_channels: usize, credits: Credits) -> (AnyGate, AnyGateHandle);
    fn local_writer(&self, gate: &AnyGateHandle, channel: usize) -> AnyChannelWriter;
    /// A writer of channel `id` to a task on the TaskManager at `address`.
    fn network_writer(
        &self,
        network: &NetworkEnvironment,
        address: &str,
        id: ChannelId,
    ) -> Result<AnyChannelWriter, NetworkError>;
    /// Makes the channels of `gate` reachable over the network (channel `i` is `ids[i]`).
    fn register_remote(
        &self,
        gate: &AnyGateHandle,
        network: &NetworkEnvironment,
        ids: Vec<ChannelId>,
        credits: Credits,
    ) -> Result<(), NetworkError>;
    fn record_writer(
        &self,
        spec: &PartitionerSpec,
        ctx: PartitionerContext,
        channels: Vec<AnyChannelWriter>,
        batch_size: usize,
    ) -> (AnyOutput, Arc<dyn PendingSends>);
    fn fan_out(&self, outputs: Vec<AnyOutput>) -> AnyOutput;
    fn no_output(&self) -> AnyOutput;
    fn counting(&self, output: AnyOutput, counter: Counter) -> AnyOutput;
    fn side_output(&self, output: AnyOutput) -> Box<dyn ErasedSideOutput>;
    fn one_input_task(&self, gate: AnyGate, head: AnyOutput) -> Box<dyn TaskInput>;
}

struct TypeOf<T>(PhantomData<fn() -> T>);

/// The vtable of `T`.
pub fn record_type<T: Data>() -> Arc<dyn RecordType> {
    Arc::new(TypeOf::<T>(PhantomData))
}

/// Recovers a typed gate.
pub fn unerase_gate<T: 'static>(gate: AnyGate) -> InputGate<T> {
    *gate.downcast::<InputGate<T>>().expect("gates are created with the edge's record type")
}

impl<T: Data> RecordType for TypeOf<T> {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }

    fn create_gate(&self, num_channels: usize, credits: Credits) -> (AnyGate, AnyGateHandle) {
        let (gate, handle) = InputGate::<T>::new(num_channels, credits);
        (Box::new(gate), Arc::new(handle))
    }

    fn local_writer(&self, gate: &AnyGateHandle, channel: usize) -> AnyChannelWriter {
        let handle = gate.downcast_ref::<GateHandle<T>>().expect("gate handles are registered with the edge's type");
        let writer: Box<dyn ChannelWriter<T>> = Box::new(LocalChannelWriter::new(handle, channel));
        Box::new(writer)
    }

    fn network_writer(
        &self,
        network: &NetworkEnvironment,
        address: &str,
        id: ChannelId,
    ) -> Result<AnyChannelWriter, NetworkError> {
        let writer: Box<dyn ChannelWriter<T>> = Box::new(NetworkChannelWriter::<T>::open(network, address, id)?);
        Ok(Box::new(writer))
    }

    fn register_remote(
        &self,
        gate: &AnyGateHandle,
        network: &NetworkEnvironment,
        ids: Vec<ChannelId>,
        credits: Credits,
    ) -> Result<(), NetworkError> {
        let handle = gate.downcast_ref::<GateHandle<T>>().expect("gate handles are created with the edge's type");
        let exclusive = u32::try_from(credits.exclusive_per_channel).unwrap_or(u32::MAX);
        let floating = u32::try_from(credits.floating_per_gate).unwrap_or(u32::MAX);
        register_remote_channels(handle, network, ids, exclusive, floating)
    }

    fn record_writer(
        &self,
        spec: &PartitionerSpec,
        ctx: PartitionerContext,
        channels: Vec<AnyChannelWriter>,
        batch_size: usize,
    ) -> (AnyOutput, Arc<dyn PendingSends>) {
        let channels: Vec<Box<dyn ChannelWriter<T>>> = channels
            .into_iter()
            .map(|c| *c.downcast::<Box<dyn ChannelWriter<T>>>().expect("channel writers have the edge's type"))
            .collect();
        let partitioner = spec.create::<T>(ctx);
        let (out, pending) = RecordWriter::create(partitioner, channels, batch_size, Some(ElementCodec::bincode()));
        (erase_output(out), pending)
    }

    fn fan_out(&self, outputs: Vec<AnyOutput>) -> AnyOutput {
        let mut outputs: Vec<Box<dyn Output<T>>> = outputs.into_iter().map(unerase_output::<T>).collect();
        if outputs.len() == 1 {
            return erase_output(outputs.pop().expect("one output"));
        }
        erase_output::<T>(Box::new(FanOut::new(outputs)))
    }

    fn no_output(&self) -> AnyOutput {
        erase_output::<T>(Box::new(NoOutput))
    }

    fn counting(&self, output: AnyOutput, counter: Counter) -> AnyOutput {
        erase_output::<T>(Box::new(CountingOutput::new(unerase_output::<T>(output), counter)))
    }

    fn side_output(&self, output: AnyOutput) -> Box<dyn ErasedSideOutput> {
        Box::new(SideOutput::new(unerase_output::<T>(output)))
    }

    fn one_input_task(&self, gate: AnyGate, head: AnyOutput) -> Box<dyn TaskInput> {
        Box::new(
            OneInputTaskInput::new(unerase_gate::<T>(gate), unerase_output::<T>(head))
                .with_codec(ElementCodec::bincode()),
        )
    }
}
