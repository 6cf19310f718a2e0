//! Barrier alignment: when a task with several input channels has seen barrier n on
//! all of them, and which channels to hold back meanwhile.
//!
//! A pure state machine over channel indices; the task input applies its actions to
//! its gates ([`InputGate::block`](crate::channel::InputGate::block)) and takes the
//! snapshot. Rules:
//!
//! - **EXACTLY_ONCE**: a channel that delivered barrier n is blocked — its later data
//!   stays queued in the gate, holding its credits — until every channel delivered n.
//!   Then the snapshot is taken and all channels are unblocked. The state thus
//!   reflects exactly the records before barrier n on every channel.
//! - **AT_LEAST_ONCE**: nothing is blocked; the snapshot is taken when the last
//!   channel delivers n. Records after n on early channels are in the state and are
//!   replayed after a restore: at least once.
//! - A channel that ended (end of input) counts as having delivered every barrier,
//!   and one that delivers a barrier after its end is not waited for.
//! - A newer barrier abandons an alignment in progress (its channels are unblocked);
//!   a barrier older than the newest one seen is ignored.
//!
//! No deadlock with credit-based flow control: a blocked channel can hold at most
//! its exclusive credits plus floating ones, and every unblocked channel keeps at
//! least one exclusive credit (docs/design/flow-control.md), so the barriers still
//! missing can always arrive; barriers themselves need no credit.

use brook_types::{CheckpointBarrier, CheckpointId};

/// What the task must do after a barrier or an end of input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlignmentAction {
    /// Stop reading this channel; its data stays queued.
    Block(usize),
    /// Read this channel again.
    Unblock(usize),
    /// Every channel delivered the barrier: snapshot now, before reading on.
    Snapshot(CheckpointBarrier),
}

#[derive(Debug)]
struct Pending {
    barrier: CheckpointBarrier,
    received: Vec<bool>,
}

/// The alignment state of one task over all its input channels (both inputs of a
/// two-input task, numbered one after the other).
#[derive(Debug)]
pub struct BarrierAligner {
    exactly_once: bool,
    ended: Vec<bool>,
    pending: Option<Pending>,
    /// The newest checkpoint this task snapshotted or abandoned.
    latest: Option<CheckpointId>,
}

impl BarrierAligner {
    pub fn new(num_channels: usize, exactly_once: bool) -> Self {
        Self { exactly_once, ended: vec![false; num_channels], pending: None, latest: None }
    }

    /// The checkpoint being aligned, if any.
    pub fn pending(&self) -> Option<CheckpointId> {
        self.pending.as_ref().map(|p| p.barrier.id)
    }

    /// Barrier `barrier` arrived on `channel`.
    pub fn on_barrier(&mut self, channel: usize, barrier: CheckpointBarrier) -> Vec<AlignmentAction> {
        let mut actions = Vec::new();
        if self.latest.is_some_and(|l| barrier.id <= l) {
            return actions;
        }
        match &self.pending {
            Some(p) if p.barrier.id > barrier.id => return actions,
            Some(p) if p.barrier.id < barrier.id => {
                // A newer checkpoint overtakes the one being aligned: abandon it.
                let old = self.pending.take().expect("matched Some");
                tracing::debug!(abandoned = %old.barrier.id, newer = %barrier.id, "abandoning barrier alignment");
                self.latest = Some(old.barrier.id);
                actions.extend(self.unblock(&old));
            }
            _ => {}
        }
        let n = self.ended.len();
        let pending = self.pending.get_or_insert_with(|| Pending { barrier, received: vec![false; n] });
        if pending.received[channel] {
            return actions;
        }
        pending.received[channel] = true;
        if self.exactly_once && !self.ended[channel] {
            actions.push(AlignmentAction::Block(channel));
        }
        actions.extend(self.complete_if_aligned());
        actions
    }

    /// `channel` ended: it no longer holds back any barrier.
    pub fn on_end_of_input(&mut self, channel: usize) -> Vec<AlignmentAction> {
        self.ended[channel] = true;
        self.complete_if_aligned()
    }

    fn complete_if_aligned(&mut self) -> Vec<AlignmentAction> {
        let Some(p) = &self.pending else { return Vec::new() };
        if !p.received.iter().zip(&self.ended).all(|(r, e)| *r || *e) {
            return Vec::new();
        }
        let p = self.pending.take().expect("checked above");
        self.latest = Some(p.barrier.id);
        let mut actions = vec![AlignmentAction::Snapshot(p.barrier)];
        actions.extend(self.unblock(&p));
        actions
    }

    fn unblock(&self, p: &Pending) -> Vec<AlignmentAction> {
        if !self.exactly_once {
            return Vec::new();
        }
        (0..p.received.len()).filter(|&c| p.received[c] && !self.ended[c]).map(AlignmentAction::Unblock).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::AlignmentAction::*;
    use super::*;

    fn barrier(id: u64) -> CheckpointBarrier {
        CheckpointBarrier { id: CheckpointId(id), timestamp: 0, is_savepoint: false, unaligned: false }
    }

    #[test]
    fn exactly_once_blocks_until_every_channel_delivered() {
        let mut a = BarrierAligner::new(3, true);
        assert_eq!(a.on_barrier(0, barrier(1)), vec![Block(0)]);
        assert_eq!(a.on_barrier(2, barrier(1)), vec![Block(2)]);
        assert_eq!(a.pending(), Some(CheckpointId(1)));
        assert_eq!(
            a.on_barrier(1, barrier(1)),
            vec![Block(1), Snapshot(barrier(1)), Unblock(0), Unblock(1), Unblock(2)]
        );
        assert_eq!(a.pending(), None);
    }

    #[test]
    fn at_least_once_never_blocks() {
        let mut a = BarrierAligner::new(2, false);
        assert_eq!(a.on_barrier(1, barrier(4)), vec![]);
        assert_eq!(a.on_barrier(0, barrier(4)), vec![Snapshot(barrier(4))]);
    }

    #[test]
    fn an_ended_channel_counts_as_aligned() {
        let mut a = BarrierAligner::new(2, true);
        assert_eq!(a.on_barrier(0, barrier(1)), vec![Block(0)]);
        assert_eq!(a.on_end_of_input(1), vec![Snapshot(barrier(1)), Unblock(0)]);
        // A barrier after the end (a finished upstream still taking part) is not waited for.
        assert_eq!(a.on_barrier(1, barrier(1)), vec![]);
        // Once every channel ended, one barrier completes the alignment at once.
        assert_eq!(a.on_end_of_input(0), vec![]);
        assert_eq!(a.on_barrier(1, barrier(2)), vec![Snapshot(barrier(2))]);
    }

    #[test]
    fn a_newer_barrier_abandons_the_alignment() {
        let mut a = BarrierAligner::new(2, true);
        assert_eq!(a.on_barrier(0, barrier(1)), vec![Block(0)]);
        assert_eq!(a.on_barrier(1, barrier(2)), vec![Unblock(0), Block(1)]);
        assert_eq!(a.on_barrier(0, barrier(1)), vec![], "stale");
        assert_eq!(a.on_barrier(0, barrier(2)), vec![Block(0), Snapshot(barrier(2)), Unblock(0), Unblock(1)]);
    }

    #[test]
    fn one_channel_snapshots_at_once() {
        let mut a = BarrierAligner::new(1, true);
        assert_eq!(a.on_barrier(0, barrier(7)), vec![Block(0), Snapshot(barrier(7)), Unblock(0)]);
        assert_eq!(a.on_barrier(0, barrier(7)), vec![], "a duplicate is ignored");
    }
}
