//! The sending end of one remote channel: credits announced by the receiver, and the
//! backlog reported when they run out.

use crate::channel_id::ChannelId;
use crate::environment::Inner;
use crate::error::ChannelError;
use crate::frame::Frame;
use crate::peer::Peer;
use bytes::Bytes;
use parking_lot::Mutex;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

pub(crate) struct OutputShared {
    pub id: ChannelId,
    pub peer: Arc<Peer>,
    pub state: Mutex<OutputState>,
}

#[derive(Default)]
pub(crate) struct OutputState {
    credits: u32,
    waker: Option<Waker>,
    closed: Option<ChannelError>,
    /// A backlog announcement went out since the last credit arrived.
    backlog_announced: bool,
    /// Buffers sent (for tests and statistics).
    sent_buffers: u64,
}

impl OutputShared {
    pub fn add_credit(&self, n: u32) {
        let mut state = self.state.lock();
        state.credits = state.credits.saturating_add(n);
        state.backlog_announced = false;
        if let Some(w) = state.waker.take() {
            w.wake();
        }
    }

    pub fn close(&self, why: ChannelError) {
        let mut state = self.state.lock();
        if state.closed.is_none() {
            state.closed = Some(why);
        }
        if let Some(w) = state.waker.take() {
            w.wake();
        }
    }
}

/// The sending end of one channel to a task on another TaskManager.
///
/// A buffer may be sent only with a credit ([`poll_credit`](Self::poll_credit));
/// events need none. Dropping it closes the channel at the receiver.
pub struct OutputChannel {
    pub(crate) shared: Arc<OutputShared>,
    pub(crate) env: Arc<Inner>,
}

impl OutputChannel {
    pub fn id(&self) -> ChannelId {
        self.shared.id
    }

    /// Ready when a buffer may be sent. Without a credit it reports `backlog` (the
    /// buffers waiting at the sender) to the receiver once, so that it lends floating
    /// credits, and waits for an add-credit.
    pub fn poll_credit(&self, cx: &mut Context<'_>, backlog: u32) -> Poll<Result<(), ChannelError>> {
        let mut state = self.shared.state.lock();
        if let Some(e) = &state.closed {
            return Poll::Ready(Err(e.clone()));
        }
        if state.credits > 0 {
            return Poll::Ready(Ok(()));
        }
        state.waker = Some(cx.waker().clone());
        if !state.backlog_announced {
            state.backlog_announced = true;
            drop(state);
            self.send(Frame::Backlog { channel: self.shared.id, backlog: backlog.max(1) })?;
        }
        Poll::Pending
    }

    /// Sends one buffer, using a credit; `backlog` buffers wait behind it.
    pub fn send_buffer(&self, payload: Bytes, backlog: u32) -> Result<(), ChannelError> {
        {
            let mut state = self.shared.state.lock();
            if let Some(e) = &state.closed {
                return Err(e.clone());
            }
            if state.credits == 0 {
                return Err(ChannelError::Failed(format!(
                    "{} sent a buffer without a credit (a bug in its writer)",
                    self.shared.id
                )));
            }
            state.credits -= 1;
            state.sent_buffers += 1;
        }
        self.send(Frame::Buffer { channel: self.shared.id, backlog, payload })
    }

    /// Sends a control element (watermark, barrier, end of input): needs no credit.
    pub fn send_event(&self, payload: Bytes) -> Result<(), ChannelError> {
        if let Some(e) = &self.shared.state.lock().closed {
            return Err(e.clone());
        }
        self.send(Frame::Event { channel: self.shared.id, payload })
    }

    /// Credits announced and not used yet.
    pub fn credits(&self) -> u32 {
        self.shared.state.lock().credits
    }

    /// Buffers sent so far.
    pub fn sent_buffers(&self) -> u64 {
        self.shared.state.lock().sent_buffers
    }

    fn send(&self, frame: Frame) -> Result<(), ChannelError> {
        self.shared.peer.send(frame).map_err(|cause| {
            let e = ChannelError::Failed(cause);
            self.shared.close(e.clone());
            e
        })
    }
}

impl Drop for OutputChannel {
    fn drop(&mut self) {
        self.env.outputs.lock().remove(&self.shared.id);
        if self.shared.state.lock().closed.is_none() {
            let _ = self.shared.peer.send(Frame::Close { channel: self.shared.id });
        }
    }
}
