//! The input gate: per-channel bounded queues behind one lock, with an
//! availability list so that the task reads whichever channel has data.
//!
//! Invariants (all under the gate's lock):
//! - `available` lists each channel at most once (`in_available[i]`), and only
//!   channels with a non-empty queue that are not blocked.
//! - a queued record buffer holds exactly one credit, exclusive (counted in
//!   `exclusive_used`) or floating (counted in `floating_used`); popping releases it.
//! - a sender that found no credit left its waker in `waiting_senders`; every
//!   release of a credit wakes them all.

use super::{ChannelClosed, Credits};
use brook_types::StreamElement;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

struct Queued<T> {
    element: StreamElement<T>,
    credit: Credit,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Credit {
    None,
    Exclusive,
    Floating,
}

struct ChannelQueue<T> {
    queue: VecDeque<Queued<T>>,
    exclusive_used: usize,
    blocked: bool,
}

struct GateState<T> {
    channels: Vec<ChannelQueue<T>>,
    available: VecDeque<usize>,
    in_available: Vec<bool>,
    floating_used: usize,
    credits: Credits,
    receiver_waker: Option<Waker>,
    waiting_senders: Vec<Waker>,
    receiver_dropped: bool,
}

/// State shared by the gate and the writers of its channels.
pub(crate) struct GateShared<T> {
    state: Mutex<GateState<T>>,
}

/// Handle by which writers are connected to a gate's channels.
pub struct GateHandle<T> {
    pub(crate) shared: Arc<GateShared<T>>,
}

impl<T> Clone for GateHandle<T> {
    fn clone(&self) -> Self {
        Self { shared: self.shared.clone() }
    }
}

impl<T> GateHandle<T> {
    pub fn num_channels(&self) -> usize {
        self.shared.state.lock().channels.len()
    }
}

/// The receiving end of all channels of one task input.
pub struct InputGate<T> {
    shared: Arc<GateShared<T>>,
}

impl<T> InputGate<T> {
    /// A gate with `num_channels` channels and its handle for the writers.
    pub fn new(num_channels: usize, credits: Credits) -> (Self, GateHandle<T>) {
        let state = GateState {
            channels: (0..num_channels)
                .map(|_| ChannelQueue { queue: VecDeque::new(), exclusive_used: 0, blocked: false })
                .collect(),
            available: VecDeque::with_capacity(num_channels),
            in_available: vec![false; num_channels],
            floating_used: 0,
            credits,
            receiver_waker: None,
            waiting_senders: Vec::new(),
            receiver_dropped: false,
        };
        let shared = Arc::new(GateShared { state: Mutex::new(state) });
        (Self { shared: shared.clone() }, GateHandle { shared })
    }

    pub fn num_channels(&self) -> usize {
        self.shared.state.lock().channels.len()
    }

    /// The next element of any unblocked channel with data, with its channel index.
    /// Channels are served round robin.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<(usize, StreamElement<T>)> {
        let mut state = self.shared.state.lock();
        let Some(channel) = state.available.pop_front() else {
            state.receiver_waker = Some(cx.waker().clone());
            return Poll::Pending;
        };
        let queued = {
            let ch = &mut state.channels[channel];
            ch.queue.pop_front().expect("channels in the available list have data")
        };
        let more = !state.channels[channel].queue.is_empty();
        if more {
            state.available.push_back(channel);
        } else {
            state.in_available[channel] = false;
        }
        match queued.credit {
            Credit::None => {}
            Credit::Exclusive => state.channels[channel].exclusive_used -= 1,
            Credit::Floating => state.floating_used -= 1,
        }
        if queued.credit != Credit::None {
            for w in state.waiting_senders.drain(..) {
                w.wake();
            }
        }
        Poll::Ready((channel, queued.element))
    }

    /// Stops serving a channel (barrier alignment); its data stays queued.
    pub fn block(&mut self, channel: usize) {
        let mut state = self.shared.state.lock();
        state.channels[channel].blocked = true;
        if state.in_available[channel] {
            state.in_available[channel] = false;
            state.available.retain(|&c| c != channel);
        }
    }

    /// Serves a blocked channel again.
    pub fn unblock(&mut self, channel: usize) {
        let mut state = self.shared.state.lock();
        state.channels[channel].blocked = false;
        if !state.channels[channel].queue.is_empty() && !state.in_available[channel] {
            state.in_available[channel] = true;
            state.available.push_back(channel);
            if let Some(w) = state.receiver_waker.take() {
                w.wake();
            }
        }
    }

    /// Record buffers queued over all channels (for backpressure metrics and tests).
    pub fn queued_buffers(&self) -> usize {
        let state = self.shared.state.lock();
        state.channels.iter().map(|c| c.exclusive_used).sum::<usize>() + state.floating_used
    }
}

impl<T> Drop for InputGate<T> {
    fn drop(&mut self) {
        let mut state = self.shared.state.lock();
        state.receiver_dropped = true;
        for ch in &mut state.channels {
            ch.queue.clear();
        }
        for w in state.waiting_senders.drain(..) {
            w.wake();
        }
    }
}

impl<T> GateShared<T> {
    pub(crate) fn poll_credit(&self, channel: usize, cx: &mut Context<'_>) -> Poll<Result<(), ChannelClosed>> {
        let mut state = self.state.lock();
        if state.receiver_dropped {
            return Poll::Ready(Err(ChannelClosed));
        }
        if has_credit(&state, channel) {
            Poll::Ready(Ok(()))
        } else {
            if !state.waiting_senders.iter().any(|w| w.will_wake(cx.waker())) {
                state.waiting_senders.push(cx.waker().clone());
            }
            Poll::Pending
        }
    }

    pub(crate) fn push(&self, channel: usize, element: StreamElement<T>) -> Result<(), ChannelClosed> {
        let mut state = self.state.lock();
        if state.receiver_dropped {
            return Err(ChannelClosed);
        }
        let credit = if matches!(element, StreamElement::Records(_)) {
            if state.channels[channel].exclusive_used < state.credits.exclusive_per_channel {
                state.channels[channel].exclusive_used += 1;
                Credit::Exclusive
            } else {
                // Without a free credit the sender overdraws the floating pool; this
                // only happens if a writer sends without `poll_ready`, and is bounded
                // by that writer's own pending list.
                state.floating_used += 1;
                Credit::Floating
            }
        } else {
            Credit::None
        };
        let ch = &mut state.channels[channel];
        ch.queue.push_back(Queued { element, credit });
        let blocked = ch.blocked;
        if !blocked && !state.in_available[channel] {
            state.in_available[channel] = true;
            state.available.push_back(channel);
            if let Some(w) = state.receiver_waker.take() {
                w.wake();
            }
        }
        Ok(())
    }
}

fn has_credit<T>(state: &GateState<T>, channel: usize) -> bool {
    state.channels[channel].exclusive_used < state.credits.exclusive_per_channel
        || state.floating_used < state.credits.floating_per_gate
}

#[cfg(test)]
mod tests {
    use super::super::{ChannelWriter, LocalChannelWriter};
    use super::*;
    use brook_types::StreamRecord;
    use futures::task::noop_waker_ref;

    fn records(v: &[i32]) -> StreamElement<i32> {
        StreamElement::Records(v.iter().map(|&x| StreamRecord::new(x)).collect())
    }

    #[test]
    fn credits_bound_the_queue() {
        let (mut gate, handle) = InputGate::<i32>::new(2, Credits { exclusive_per_channel: 1, floating_per_gate: 1 });
        let mut w0 = LocalChannelWriter::new(&handle, 0);
        let mut w1 = LocalChannelWriter::new(&handle, 1);
        let mut cx = Context::from_waker(noop_waker_ref());
        assert!(w0.poll_ready(&mut cx).is_ready());
        w0.send(records(&[1])).unwrap(); // exclusive
        assert!(w0.poll_ready(&mut cx).is_ready());
        w0.send(records(&[2])).unwrap(); // floating
        assert!(w0.poll_ready(&mut cx).is_pending(), "no exclusive and no floating credit left");
        assert!(w1.poll_ready(&mut cx).is_ready(), "channel 1 still has its exclusive credit");
        // control elements need no credit
        w0.send(StreamElement::EndOfInput).unwrap();
        let (ch, _) = match gate.poll_next(&mut cx) {
            Poll::Ready(x) => x,
            Poll::Pending => panic!("data is queued"),
        };
        assert_eq!(ch, 0);
        assert!(w0.poll_ready(&mut cx).is_ready(), "popping released a credit");
    }

    #[test]
    fn blocked_channels_are_not_served() {
        let (mut gate, handle) = InputGate::<i32>::new(2, Credits::default());
        let mut w0 = LocalChannelWriter::new(&handle, 0);
        let mut w1 = LocalChannelWriter::new(&handle, 1);
        let mut cx = Context::from_waker(noop_waker_ref());
        gate.block(0);
        w0.send(records(&[1])).unwrap();
        w1.send(records(&[2])).unwrap();
        assert!(matches!(gate.poll_next(&mut cx), Poll::Ready((1, _))));
        assert!(gate.poll_next(&mut cx).is_pending());
        gate.unblock(0);
        assert!(matches!(gate.poll_next(&mut cx), Poll::Ready((0, _))));
    }

    #[test]
    fn dropped_gate_closes_writers() {
        let (gate, handle) = InputGate::<i32>::new(1, Credits::default());
        let mut w = LocalChannelWriter::new(&handle, 0);
        drop(gate);
        assert_eq!(w.send(records(&[1])), Err(ChannelClosed));
    }
}
