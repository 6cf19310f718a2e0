//! The in-memory channel: the writer pushes straight into the receiver's gate.

use super::gate::GateShared;
use super::{ChannelClosed, ChannelWriter, GateHandle};
use brook_types::StreamElement;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Writes into channel `channel` of a gate in the same process.
pub struct LocalChannelWriter<T> {
    gate: Arc<GateShared<T>>,
    channel: usize,
}

impl<T> LocalChannelWriter<T> {
    pub fn new(gate: &GateHandle<T>, channel: usize) -> Self {
        Self { gate: gate.shared.clone(), channel }
    }
}

impl<T: Send> ChannelWriter<T> for LocalChannelWriter<T> {
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ChannelClosed>> {
        self.gate.poll_credit(self.channel, cx)
    }

    fn send(&mut self, element: StreamElement<T>) -> Result<(), ChannelClosed> {
        self.gate.push(self.channel, element)
    }
}
