//! The receiving end of remote channels: one registration per input gate, which hands
//! arriving payloads to the gate's [`InputSink`] and announces credits as the gate
//! frees buffers ([`ReceiverCredits`]).

use crate::channel_id::ChannelId;
use crate::credit::ReceiverCredits;
use crate::environment::Inner;
use crate::frame::Frame;
use crate::peer::Peer;
use bytes::Bytes;
use parking_lot::Mutex;
use std::sync::Arc;

/// Why a sink did not take a payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The gate's task is gone.
    #[error("the receiving task is gone")]
    Closed,
    /// The payload does not decode as the channel's elements.
    #[error("{0}")]
    Malformed(String),
}

/// Where the payloads of a gate's remote channels go (the runtime decodes them into
/// its typed input gate). Called from connection reader tasks; must not block.
pub trait InputSink: Send + Sync {
    /// A record buffer arrived on channel `channel` of the gate.
    fn on_buffer(&self, channel: usize, payload: Bytes) -> Result<(), SinkError>;
    /// A control element arrived on channel `channel`.
    fn on_event(&self, channel: usize, payload: Bytes) -> Result<(), SinkError>;
    /// A connection feeding this gate failed: the gate's task must fail with `cause`.
    fn on_failure(&self, cause: &str);
}

pub(crate) struct GateInner {
    pub ids: Vec<ChannelId>,
    pub sink: Arc<dyn InputSink>,
    pub state: Mutex<GateState>,
}

pub(crate) struct GateState {
    pub credits: ReceiverCredits,
    /// The connection each open channel's sender uses.
    pub peers: Vec<Option<Arc<Peer>>>,
    pub closed: bool,
    pub failed: bool,
}

impl GateInner {
    /// Sends credit grants to the channels' senders.
    pub fn announce(&self, state: &GateState, grants: Vec<(usize, u32)>) {
        for (channel, credits) in grants {
            if let Some(peer) = &state.peers[channel] {
                // A failed peer fails this gate separately.
                let _ = peer.send(Frame::AddCredit { channel: self.ids[channel], credits });
            }
        }
    }

    pub fn open(&self, channel: usize, peer: Arc<Peer>) {
        let mut state = self.state.lock();
        if state.closed {
            let _ = peer.send(Frame::Close { channel: self.ids[channel] });
            return;
        }
        state.peers[channel] = Some(peer);
        let grants = state.credits.open(channel);
        self.announce(&state, grants);
    }

    /// Fails the gate's task once.
    pub fn fail(&self, cause: &str) {
        {
            let mut state = self.state.lock();
            if state.failed || state.closed {
                return;
            }
            state.failed = true;
        }
        self.sink.on_failure(cause);
    }
}

/// The registration of one input gate's channels with the data plane. Dropping it
/// (or [`close`](Self::close)) closes the channels at their senders.
pub struct RemoteInputGate {
    pub(crate) inner: Arc<GateInner>,
    pub(crate) env: Arc<Inner>,
}

impl RemoteInputGate {
    /// A buffer of `channel` was consumed: its credit goes back (to the channel's
    /// sender, or to the gate's floating pool).
    pub fn release(&self, channel: usize) {
        let mut state = self.inner.state.lock();
        let grants = state.credits.release(channel);
        self.inner.announce(&state, grants);
        drop(state);
    }

    /// The gate is gone: senders are told to stop.
    pub fn close(&self) {
        let peers = {
            let mut state = self.inner.state.lock();
            if state.closed {
                return;
            }
            state.closed = true;
            state.peers.iter_mut().map(Option::take).collect::<Vec<_>>()
        };
        {
            let mut inputs = self.env.inputs.lock();
            for id in &self.inner.ids {
                inputs.routes.remove(id);
            }
        }
        for (i, peer) in peers.into_iter().enumerate() {
            if let Some(peer) = peer {
                let _ = peer.send(Frame::Close { channel: self.inner.ids[i] });
            }
        }
    }

    /// Credits of `channel` announced and not used yet.
    pub fn unused_credits(&self, channel: usize) -> u32 {
        self.inner.state.lock().credits.unused(channel)
    }

    /// Buffers of all channels that arrived and were not released yet.
    pub fn buffers_in_use(&self) -> u32 {
        let state = self.inner.state.lock();
        (0..self.inner.ids.len()).map(|c| state.credits.in_use(c)).sum()
    }
}

impl Drop for RemoteInputGate {
    fn drop(&mut self) {
        self.close();
    }
}
