//! Channels between subtasks.
//!
//! A channel connects one upstream subtask to one downstream subtask for one edge of
//! the job graph. The receiving end is always an [`InputGate`]: one per logical input
//! of a task, holding one bounded queue per channel. The sending end is a
//! [`ChannelWriter`], implemented in memory by [`LocalChannelWriter`] and, across
//! TaskManagers, by the network stack (which pushes what arrives from the socket
//! into the same gate). Either way the sender may send a record buffer only while it
//! holds a credit, so a slow consumer slows its producers.
//!
//! Credits follow Flink's credit-based flow control: each channel owns
//! `buffers-per-channel` exclusive credits and the gate lends up to
//! `floating-buffers-per-gate` floating credits to whichever channel needs them.
//! Control elements (watermarks, barriers, end of input) need no credit: they are
//! small and their number is bounded by the records and timers that cause them.

mod gate;
mod local;
mod network;
#[cfg(test)]
mod network_tests;

pub use gate::{GateHandle, InputGate, RemoteCredits};
pub use local::LocalChannelWriter;
pub use network::{NetworkChannelWriter, RemoteGateSink, register_remote_channels};

use brook_types::StreamElement;
use std::task::{Context, Poll};

/// The channel cannot take elements any more: the receiving task went away (it was
/// canceled, failed or finished), or — over the network — the connection failed,
/// with its cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .cause.as_deref().unwrap_or("the receiving task of this channel is gone"))]
pub struct ChannelClosed {
    cause: Option<std::sync::Arc<str>>,
}

impl ChannelClosed {
    /// The receiving task is gone: the sending task ends as CANCELED.
    pub const RECEIVER_GONE: ChannelClosed = ChannelClosed { cause: None };

    /// The channel failed (a data-plane connection broke): the sending task FAILS with `cause`.
    pub fn failed(cause: impl Into<std::sync::Arc<str>>) -> Self {
        Self { cause: Some(cause.into()) }
    }

    /// Why the channel failed; `None` when the receiver just went away.
    pub fn failure(&self) -> Option<&str> {
        self.cause.as_deref()
    }
}

/// The sending end of one channel.
pub trait ChannelWriter<T>: Send {
    /// Ready when the channel can take one more record buffer.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ChannelClosed>>;

    /// Sends an element. Record buffers may only be sent after `poll_ready`
    /// returned ready; control elements can always be sent.
    fn send(&mut self, element: StreamElement<T>) -> Result<(), ChannelClosed>;

    /// Tells the channel how many elements wait behind the next record buffer at the
    /// sender (its backlog). Network channels report it so that the receiver lends
    /// them floating credits; in memory it means nothing.
    #[inline]
    fn set_backlog(&mut self, _backlog: usize) {}
}

/// Credits of an input gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credits {
    /// Exclusive credits per channel (`taskmanager.network.memory.buffers-per-channel`).
    pub exclusive_per_channel: usize,
    /// Credits shared by all channels (`taskmanager.network.memory.floating-buffers-per-gate`).
    pub floating_per_gate: usize,
}

impl Default for Credits {
    fn default() -> Self {
        Self { exclusive_per_channel: 2, floating_per_gate: 8 }
    }
}
