//! Channels to and from other TaskManagers: typed stream elements ↔ the byte frames
//! of `brook-network`.
//!
//! Elements are serialized with bincode (the compact serde codec the channel state of
//! unaligned checkpoints uses too): a record buffer becomes one `Buffer` frame and
//! needs a credit, any other element one `Event` frame. On the receiving side the
//! frames are decoded into the task's ordinary [`InputGate`], so the task cannot tell
//! a remote channel from a local one; the gate hands each consumed remote buffer's
//! credit back to the network layer ([`RemoteCredits`]).

use super::gate::{GateShared, RemoteCredits};
use super::{ChannelClosed, ChannelWriter, GateHandle};
use brook_network::{
    ChannelError, ChannelId, InputSink, NetworkEnvironment, NetworkError, OutputChannel, RemoteInputGate, SinkError,
};
use brook_types::StreamElement;
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

/// Writes one channel whose receiving task runs on another TaskManager.
pub struct NetworkChannelWriter<T> {
    channel: OutputChannel,
    /// Elements waiting behind the next buffer at the record writer.
    backlog: usize,
    _type: PhantomData<fn(T)>,
}

impl<T> NetworkChannelWriter<T> {
    /// Opens channel `id` to the TaskManager whose data plane listens at `address`.
    pub fn open(network: &NetworkEnvironment, address: &str, id: ChannelId) -> Result<Self, NetworkError> {
        Ok(Self { channel: network.open_output(address, id)?, backlog: 0, _type: PhantomData })
    }
}

fn closed(e: ChannelError) -> ChannelClosed {
    match e {
        ChannelError::ReceiverGone => ChannelClosed::RECEIVER_GONE,
        ChannelError::Failed(cause) => ChannelClosed::failed(cause),
    }
}

impl<T: Serialize + Send> ChannelWriter<T> for NetworkChannelWriter<T> {
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ChannelClosed>> {
        let backlog = u32::try_from(self.backlog).unwrap_or(u32::MAX);
        self.channel.poll_credit(cx, backlog).map_err(closed)
    }

    fn send(&mut self, element: StreamElement<T>) -> Result<(), ChannelClosed> {
        let payload = bincode::serialize(&element).map_err(|e| {
            ChannelClosed::failed(format!(
                "a {} for {} does not serialize: {e}; the record type must be serializable with serde",
                element.kind(),
                self.channel.id()
            ))
        })?;
        let payload = Bytes::from(payload);
        if matches!(element, StreamElement::Records(_)) {
            let backlog = u32::try_from(self.backlog.saturating_sub(1)).unwrap_or(u32::MAX);
            self.channel.send_buffer(payload, backlog).map_err(closed)
        } else {
            self.channel.send_event(payload).map_err(closed)
        }
    }

    fn set_backlog(&mut self, backlog: usize) {
        self.backlog = backlog;
    }
}

/// Decodes the frames of a gate's remote channels into the gate.
pub struct RemoteGateSink<T> {
    gate: Weak<GateShared<T>>,
}

impl<T: DeserializeOwned + Send + 'static> RemoteGateSink<T> {
    fn decode(&self, payload: &[u8], buffer: bool) -> Result<StreamElement<T>, SinkError> {
        let element: StreamElement<T> = bincode::deserialize(payload).map_err(|e| {
            SinkError::Malformed(format!("{} bytes that are not a {}: {e}", payload.len(), std::any::type_name::<T>()))
        })?;
        if buffer != matches!(element, StreamElement::Records(_)) {
            return Err(SinkError::Malformed(format!(
                "a {} arrived in a {} frame",
                element.kind(),
                if buffer { "buffer" } else { "event" }
            )));
        }
        Ok(element)
    }

    fn push(&self, channel: usize, element: StreamElement<T>) -> Result<(), SinkError> {
        let gate = self.gate.upgrade().ok_or(SinkError::Closed)?;
        gate.push_remote(channel, element).map_err(|_| SinkError::Closed)
    }
}

impl<T: DeserializeOwned + Send + 'static> InputSink for RemoteGateSink<T> {
    fn on_buffer(&self, channel: usize, payload: Bytes) -> Result<(), SinkError> {
        let element = self.decode(&payload, true)?;
        self.push(channel, element)
    }

    fn on_event(&self, channel: usize, payload: Bytes) -> Result<(), SinkError> {
        let element = self.decode(&payload, false)?;
        self.push(channel, element)
    }

    fn on_failure(&self, cause: &str) {
        if let Some(gate) = self.gate.upgrade() {
            gate.fail(cause.to_string());
        }
    }
}

struct RemoteGateCredits(RemoteInputGate);

impl RemoteCredits for RemoteGateCredits {
    fn release(&self, channel: usize) {
        self.0.release(channel);
    }

    fn closed(&self) {
        self.0.close();
    }
}

/// Registers every channel of `gate` with the data plane, so that senders on other
/// TaskManagers can reach it: channel `i` is `ids[i]`. Channels fed in memory simply
/// never see a frame. The registration lives as long as the gate.
pub fn register_remote_channels<T: DeserializeOwned + Send + 'static>(
    gate: &GateHandle<T>,
    network: &NetworkEnvironment,
    ids: Vec<ChannelId>,
    exclusive: u32,
    floating: u32,
) -> Result<(), NetworkError> {
    let sink = Arc::new(RemoteGateSink { gate: Arc::downgrade(&gate.shared) });
    let remote = network.register_input_gate(ids, exclusive, floating, sink)?;
    gate.shared.set_remote(Arc::new(RemoteGateCredits(remote)));
    Ok(())
}
