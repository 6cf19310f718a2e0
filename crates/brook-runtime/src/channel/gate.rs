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
//! - an unaligned checkpoint barrier (`unaligned`, not a savepoint) is a priority
//!   element: it is queued ahead of the data of its channel — behind the newest barrier
//!   or end of input only — and remembers how many data elements it overtook
//!   (`overtaken`), which the task records as input channel state after it. Channels
//!   whose front is such a barrier are listed in `priority` (FLIP-76).
//! - a record buffer that came over the network holds a `Remote` credit: the network
//!   layer accounts for it (`RemoteCredits`), and popping it hands the credit back
//!   there, outside the gate's lock. Local channels never see this path.

use super::{ChannelClosed, Credits};
use crate::checkpoint::{is_channel_data, is_unaligned, stops_overtaking};
use brook_types::StreamElement;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

struct Queued<T> {
    element: StreamElement<T>,
    credit: Credit,
    /// A priority barrier: the number of data elements behind it that were queued
    /// before it arrived.
    overtaken: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Credit {
    None,
    Exclusive,
    Floating,
    /// Granted by the receiving side of the data plane.
    Remote,
}

/// The network side of a gate's remote channels: takes back the credits of buffers
/// the task consumed, and learns when the gate goes away.
pub trait RemoteCredits: Send + Sync {
    /// A record buffer of `channel` that arrived over the network was taken.
    fn release(&self, channel: usize);
    /// The gate was dropped (its task ended).
    fn closed(&self);
}

struct ChannelQueue<T> {
    queue: VecDeque<Queued<T>>,
    exclusive_used: usize,
    blocked: bool,
    /// What the last barrier popped from this channel overtook.
    last_overtaken: usize,
}

struct GateState<T> {
    channels: Vec<ChannelQueue<T>>,
    available: VecDeque<usize>,
    in_available: Vec<bool>,
    /// Channels that may have a priority barrier at their front.
    priority: VecDeque<usize>,
    floating_used: usize,
    credits: Credits,
    receiver_waker: Option<Waker>,
    /// The task waiting in `poll_priority` (for credits): woken by priority barriers
    /// only, not by data it could not take anyway.
    priority_waker: Option<Waker>,
    waiting_senders: Vec<Waker>,
    receiver_dropped: bool,
    /// Record buffers queued from remote channels.
    remote_used: usize,
    remote: Option<Arc<dyn RemoteCredits>>,
    /// A remote channel failed: the task fails with this cause once its queues are empty.
    failure: Option<String>,
}

/// State shared by the gate and the writers of its channels.
pub(crate) struct GateShared<T> {
    state: Mutex<GateState<T>>,
    /// `state.failure` is set: checked without the lock when the gate is empty.
    failed: std::sync::atomic::AtomicBool,
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
                .map(|_| ChannelQueue { queue: VecDeque::new(), exclusive_used: 0, blocked: false, last_overtaken: 0 })
                .collect(),
            available: VecDeque::with_capacity(num_channels),
            in_available: vec![false; num_channels],
            priority: VecDeque::new(),
            floating_used: 0,
            credits,
            receiver_waker: None,
            priority_waker: None,
            waiting_senders: Vec::new(),
            receiver_dropped: false,
            remote_used: 0,
            remote: None,
            failure: None,
        };
        let shared = Arc::new(GateShared { state: Mutex::new(state), failed: Default::default() });
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
        if queued.credit == Credit::Remote {
            let remote = state.remote.clone();
            let element = state.release(channel, queued);
            drop(state);
            if let Some(remote) = remote {
                remote.release(channel);
            }
            return Poll::Ready((channel, element));
        }
        Poll::Ready((channel, state.release(channel, queued)))
    }

    /// Why a remote channel of this gate failed, once no channel has data left to take.
    pub fn failure(&self) -> Option<String> {
        if !self.shared.failed.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        let state = self.shared.state.lock();
        if state.available.is_empty() { state.failure.clone() } else { None }
    }

    /// The next priority barrier (an unaligned barrier at the front of an unblocked
    /// channel), with its channel index; polled while the task cannot process data
    /// (its outputs wait for credits), so that the barrier is not held up by them.
    pub fn poll_priority(&mut self, cx: &mut Context<'_>) -> Poll<(usize, StreamElement<T>)> {
        let mut state = self.shared.state.lock();
        while let Some(channel) = state.priority.pop_front() {
            let ch = &state.channels[channel];
            let at_front =
                ch.queue.front().is_some_and(|q| matches!(&q.element, StreamElement::Barrier(b) if is_unaligned(b)));
            if !at_front || ch.blocked {
                // Taken by `poll_next` already, or held back by an aligned savepoint:
                // it is delivered in order.
                continue;
            }
            let queued = state.channels[channel].queue.pop_front().expect("checked above");
            if state.channels[channel].queue.is_empty() && state.in_available[channel] {
                state.in_available[channel] = false;
                state.available.retain(|&c| c != channel);
            }
            return Poll::Ready((channel, state.release(channel, queued)));
        }
        state.priority_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// The number of data elements the last barrier taken from `channel` overtook: they
    /// are the next data this channel delivers, and arrived before that barrier.
    pub fn overtaken(&self, channel: usize) -> usize {
        self.shared.state.lock().channels[channel].last_overtaken
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
        state.channels.iter().map(|c| c.exclusive_used).sum::<usize>() + state.floating_used + state.remote_used
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
        let remote = state.remote.take();
        drop(state);
        if let Some(remote) = remote {
            remote.closed();
        }
    }
}

impl<T> GateState<T> {
    /// Releases the credit of an element just taken from `channel`.
    fn release(&mut self, channel: usize, queued: Queued<T>) -> StreamElement<T> {
        match queued.credit {
            Credit::None => {}
            Credit::Exclusive => self.channels[channel].exclusive_used -= 1,
            Credit::Floating => self.floating_used -= 1,
            Credit::Remote => self.remote_used -= 1,
        }
        if matches!(queued.credit, Credit::Exclusive | Credit::Floating) {
            for w in self.waiting_senders.drain(..) {
                w.wake();
            }
        }
        if matches!(queued.element, StreamElement::Barrier(_)) {
            self.channels[channel].last_overtaken = queued.overtaken;
            // A priority barrier queued behind this one is at the front now.
            if self.channels[channel]
                .queue
                .front()
                .is_some_and(|q| matches!(&q.element, StreamElement::Barrier(b) if is_unaligned(b)))
            {
                self.priority.push_back(channel);
            }
        }
        queued.element
    }
}

impl<T> GateShared<T> {
    pub(crate) fn poll_credit(&self, channel: usize, cx: &mut Context<'_>) -> Poll<Result<(), ChannelClosed>> {
        let mut state = self.state.lock();
        if state.receiver_dropped {
            return Poll::Ready(Err(ChannelClosed::RECEIVER_GONE));
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
        self.push_as(channel, element, false)
    }

    /// Queues an element that arrived over the network: a record buffer holds a
    /// credit of the network layer, not of this gate.
    pub(crate) fn push_remote(&self, channel: usize, element: StreamElement<T>) -> Result<(), ChannelClosed> {
        self.push_as(channel, element, true)
    }

    pub(crate) fn set_remote(&self, remote: Arc<dyn RemoteCredits>) {
        self.state.lock().remote = Some(remote);
    }

    /// A remote channel failed: the task fails with `cause` (after the data queued).
    pub(crate) fn fail(&self, cause: String) {
        let mut state = self.state.lock();
        if state.failure.is_none() {
            state.failure = Some(cause);
            self.failed.store(true, std::sync::atomic::Ordering::Release);
        }
        if let Some(w) = state.receiver_waker.take() {
            w.wake();
        }
        if let Some(w) = state.priority_waker.take() {
            w.wake();
        }
    }

    #[inline]
    fn push_as(&self, channel: usize, element: StreamElement<T>, remote: bool) -> Result<(), ChannelClosed> {
        let mut state = self.state.lock();
        if state.receiver_dropped {
            return Err(ChannelClosed::RECEIVER_GONE);
        }
        let credit = if remote && matches!(element, StreamElement::Records(_)) {
            state.remote_used += 1;
            Credit::Remote
        } else if matches!(element, StreamElement::Records(_)) {
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
        if let StreamElement::Barrier(b) = &element
            && is_unaligned(b)
        {
            push_priority(&mut state, channel, element);
            return Ok(());
        }
        let ch = &mut state.channels[channel];
        ch.queue.push_back(Queued { element, credit, overtaken: 0 });
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

/// Queues an unaligned barrier ahead of the data of `channel` (behind its newest
/// barrier or end of input), and serves it first.
fn push_priority<T>(state: &mut GateState<T>, channel: usize, element: StreamElement<T>) {
    let ch = &mut state.channels[channel];
    let at = ch.queue.iter().rposition(|q| stops_overtaking(&q.element)).map_or(0, |i| i + 1);
    let overtaken = ch.queue.range(at..).filter(|q| is_channel_data(&q.element)).count();
    ch.queue.insert(at, Queued { element, credit: Credit::None, overtaken });
    let blocked = ch.blocked;
    if at == 0 {
        state.priority.push_back(channel);
    }
    if !blocked {
        if state.in_available[channel] {
            if at == 0 {
                // Served next.
                state.available.retain(|&c| c != channel);
                state.available.push_front(channel);
            }
        } else {
            state.in_available[channel] = true;
            state.available.push_front(channel);
        }
    }
    if let Some(w) = state.receiver_waker.take() {
        w.wake();
    }
    if let Some(w) = state.priority_waker.take() {
        w.wake();
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

    fn unaligned(id: u64) -> StreamElement<i32> {
        StreamElement::Barrier(brook_types::CheckpointBarrier {
            id: brook_types::CheckpointId(id),
            timestamp: 0,
            is_savepoint: false,
            unaligned: true,
        })
    }

    fn next(gate: &mut InputGate<i32>) -> (usize, String) {
        let mut cx = Context::from_waker(noop_waker_ref());
        match gate.poll_next(&mut cx) {
            Poll::Ready((c, StreamElement::Records(r))) => {
                (c, format!("{:?}", r.iter().map(|r| r.value).collect::<Vec<_>>()))
            }
            Poll::Ready((c, StreamElement::Barrier(b))) => (c, format!("barrier {}", b.id)),
            Poll::Ready((c, other)) => (c, other.kind().to_string()),
            Poll::Pending => (usize::MAX, "pending".into()),
        }
    }

    #[test]
    fn an_unaligned_barrier_overtakes_the_queued_data_of_its_channel() {
        let (mut gate, handle) = InputGate::<i32>::new(2, Credits::default());
        let mut w0 = LocalChannelWriter::new(&handle, 0);
        let mut w1 = LocalChannelWriter::new(&handle, 1);
        w1.send(records(&[10])).unwrap();
        w0.send(records(&[1])).unwrap();
        w0.send(StreamElement::LatencyMarker(0)).unwrap();
        w0.send(records(&[2])).unwrap();
        w0.send(unaligned(1)).unwrap();
        w0.send(records(&[3])).unwrap();
        assert_eq!(next(&mut gate), (0, "barrier 1".into()), "served first, ahead of channel 1 too");
        assert_eq!(gate.overtaken(0), 2, "[1] and [2]; the latency marker is not data");
        assert_eq!(next(&mut gate), (1, "[10]".into()));
        assert_eq!(next(&mut gate), (0, "[1]".into()));
        assert_eq!(next(&mut gate), (0, "latency marker".into()));
        assert_eq!(next(&mut gate), (0, "[2]".into()));
        assert_eq!(next(&mut gate), (0, "[3]".into()));
        assert_eq!(next(&mut gate), (usize::MAX, "pending".into()));
    }

    #[test]
    fn an_unaligned_barrier_never_overtakes_a_barrier_or_the_end_of_input() {
        let (mut gate, handle) = InputGate::<i32>::new(1, Credits::default());
        let mut w = LocalChannelWriter::new(&handle, 0);
        let mut cx = Context::from_waker(noop_waker_ref());
        w.send(records(&[1])).unwrap();
        w.send(unaligned(1)).unwrap();
        w.send(records(&[2])).unwrap();
        w.send(unaligned(2)).unwrap();
        assert!(matches!(gate.poll_priority(&mut cx), Poll::Ready((0, StreamElement::Barrier(b))) if b.id.0 == 1));
        assert_eq!(gate.overtaken(0), 1, "[1]");
        // Barrier 2 queued right behind barrier 1: every data element still queued was
        // sent before it.
        assert!(matches!(gate.poll_priority(&mut cx), Poll::Ready((0, StreamElement::Barrier(b))) if b.id.0 == 2));
        assert_eq!(gate.overtaken(0), 2, "[1] and [2]");
        assert_eq!(next(&mut gate), (0, "[1]".into()));
        assert_eq!(next(&mut gate), (0, "[2]".into()));
        w.send(records(&[3])).unwrap();
        w.send(StreamElement::EndOfInput).unwrap();
        w.send(unaligned(3)).unwrap();
        assert!(gate.poll_priority(&mut cx).is_pending(), "behind the end of input");
        assert_eq!(next(&mut gate), (0, "[3]".into()));
        assert_eq!(next(&mut gate), (0, "end of input".into()));
        assert_eq!(next(&mut gate), (0, "barrier 3".into()));
        assert_eq!(gate.overtaken(0), 0);
    }

    #[test]
    fn a_blocked_channel_keeps_its_priority_barrier() {
        let (mut gate, handle) = InputGate::<i32>::new(1, Credits::default());
        let mut w = LocalChannelWriter::new(&handle, 0);
        let mut cx = Context::from_waker(noop_waker_ref());
        gate.block(0);
        w.send(records(&[1])).unwrap();
        w.send(unaligned(1)).unwrap();
        assert!(gate.poll_priority(&mut cx).is_pending(), "held back by an aligned savepoint");
        assert_eq!(next(&mut gate), (usize::MAX, "pending".into()));
        gate.unblock(0);
        assert_eq!(next(&mut gate), (0, "barrier 1".into()));
    }

    struct CountWakes(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_task_waiting_for_priority_barriers_is_woken_by_them_only() {
        let (mut gate, handle) = InputGate::<i32>::new(1, Credits::default());
        let mut w = LocalChannelWriter::new(&handle, 0);
        let wakes = Arc::new(CountWakes(Default::default()));
        let waker = std::task::Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(gate.poll_priority(&mut cx).is_pending());
        w.send(records(&[1])).unwrap();
        assert_eq!(wakes.0.load(std::sync::atomic::Ordering::SeqCst), 0, "data does not wake a backpressured task");
        w.send(unaligned(1)).unwrap();
        assert_eq!(wakes.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(gate.poll_priority(&mut cx).is_ready());
    }

    #[test]
    fn dropped_gate_closes_writers() {
        let (gate, handle) = InputGate::<i32>::new(1, Credits::default());
        let mut w = LocalChannelWriter::new(&handle, 0);
        drop(gate);
        assert_eq!(w.send(records(&[1])), Err(ChannelClosed::RECEIVER_GONE));
    }
}
