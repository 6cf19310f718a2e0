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
//! - **Unaligned** barriers (`unaligned` and not a savepoint; savepoints are always
//!   aligned): the first barrier n on any channel snapshots at once, nothing blocks,
//!   and every channel that has not delivered n (and has not ended) is recorded until
//!   it does; when the last one did, the task's channel state is complete
//!   (docs/design/unaligned-checkpoints.md).
//! - **Aligned checkpoint timeout** (unaligned checkpoints with
//!   `aligned-checkpoint-timeout`): barriers arrive aligned and are aligned as in
//!   EXACTLY_ONCE; once the timeout passed since the checkpoint was triggered
//!   ([`on_alignment_timeout`](BarrierAligner::on_alignment_timeout)), or an unaligned
//!   barrier of the same checkpoint arrives (an upstream task switched), the alignment
//!   switches: blocked channels are unblocked, the snapshot is taken, and the channels
//!   still to deliver the barrier are recorded.
//!
//! No deadlock with credit-based flow control: a blocked channel can hold at most
//! its exclusive credits plus floating ones, and every unblocked channel keeps at
//! least one exclusive credit (docs/design/flow-control.md), so the barriers still
//! missing can always arrive; barriers themselves need no credit.

use brook_types::{CheckpointBarrier, CheckpointId, Timestamp};

/// What the task must do after a barrier or an end of input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlignmentAction {
    /// Stop reading this channel; its data stays queued.
    Block(usize),
    /// Read this channel again.
    Unblock(usize),
    /// Every channel delivered the barrier: snapshot now, before reading on.
    Snapshot(CheckpointBarrier),
    /// The first unaligned barrier n arrived: snapshot now, forward the barrier ahead of
    /// the output buffers, and record the data of the channels in `record` (those still
    /// to deliver n) until they deliver it.
    SnapshotUnaligned { barrier: CheckpointBarrier, record: Vec<usize> },
    /// This channel delivered unaligned barrier n, or ended: stop recording it once
    /// the data the barrier overtook in the gate ([`InputGate::overtaken`](crate::channel::InputGate::overtaken))
    /// is recorded.
    StopRecording(usize),
    /// Every channel delivered unaligned barrier n: the channel state is complete once
    /// the overtaken data is recorded.
    CompleteUnaligned(CheckpointId),
    /// A newer barrier came before unaligned checkpoint n was complete here: drop its
    /// recording and decline it.
    AbandonUnaligned(CheckpointId),
}

#[derive(Debug)]
struct Pending {
    barrier: CheckpointBarrier,
    received: Vec<bool>,
}

impl Pending {
    fn unaligned(&self) -> bool {
        is_unaligned(&self.barrier)
    }
}

/// Whether `barrier` takes the unaligned path (savepoints never do).
pub fn is_unaligned(barrier: &CheckpointBarrier) -> bool {
    barrier.unaligned && !barrier.is_savepoint
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
    /// `aligned-checkpoint-timeout` in ms, when aligned barriers may switch to unaligned.
    aligned_timeout: Option<i64>,
}

impl BarrierAligner {
    pub fn new(num_channels: usize, exactly_once: bool) -> Self {
        Self { exactly_once, ended: vec![false; num_channels], pending: None, latest: None, aligned_timeout: None }
    }

    /// Aligned checkpoint barriers switch to unaligned `timeout_ms` after their trigger.
    pub fn with_aligned_timeout(mut self, timeout_ms: Option<i64>) -> Self {
        self.aligned_timeout = timeout_ms;
        self
    }

    /// When the alignment in progress switches to unaligned, if it can.
    pub fn alignment_deadline(&self) -> Option<Timestamp> {
        let p = self.pending.as_ref()?;
        let timeout = self.aligned_timeout?;
        (self.exactly_once && !p.unaligned() && !p.barrier.is_savepoint)
            .then(|| p.barrier.timestamp.saturating_add(timeout))
    }

    /// The clock reached `now`: an alignment past its deadline switches to unaligned.
    pub fn on_alignment_timeout(&mut self, now: Timestamp) -> Vec<AlignmentAction> {
        match self.alignment_deadline() {
            Some(deadline) if now >= deadline => self.switch_to_unaligned(),
            _ => Vec::new(),
        }
    }

    /// Turns the aligned checkpoint in progress into an unaligned one: its blocked
    /// channels hold only data after the barrier, the others are recorded from now on.
    fn switch_to_unaligned(&mut self) -> Vec<AlignmentAction> {
        let p = self.pending.as_mut().expect("called with an alignment in progress");
        p.barrier.unaligned = true;
        let barrier = p.barrier;
        tracing::debug!(checkpoint_id = %barrier.id, "alignment timed out; switching to an unaligned checkpoint");
        let n = self.ended.len();
        let received = p.received.clone();
        let mut actions: Vec<AlignmentAction> =
            (0..n).filter(|&c| received[c] && !self.ended[c]).map(AlignmentAction::Unblock).collect();
        let record = (0..n).filter(|&c| !received[c] && !self.ended[c]).collect();
        actions.push(AlignmentAction::SnapshotUnaligned { barrier, record });
        actions
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
                if old.unaligned() {
                    actions.push(AlignmentAction::AbandonUnaligned(old.barrier.id));
                }
                actions.extend(self.unblock(&old));
            }
            _ => {}
        }
        if let Some(p) = &self.pending
            && p.barrier.id == barrier.id
            && !p.unaligned()
            && is_unaligned(&barrier)
        {
            // An upstream task switched this checkpoint to unaligned: so does this one.
            actions.extend(self.switch_to_unaligned());
        }
        let n = self.ended.len();
        let first = self.pending.is_none();
        let pending = self.pending.get_or_insert_with(|| Pending { barrier, received: vec![false; n] });
        if pending.received[channel] {
            return actions;
        }
        pending.received[channel] = true;
        if pending.unaligned() {
            if first {
                let record = (0..n).filter(|&c| !pending.received[c] && !self.ended[c]).collect();
                actions.push(AlignmentAction::SnapshotUnaligned { barrier, record });
            }
            if !self.ended[channel] {
                actions.push(AlignmentAction::StopRecording(channel));
            }
        } else if self.exactly_once && !self.ended[channel] {
            actions.push(AlignmentAction::Block(channel));
        }
        actions.extend(self.complete_if_aligned());
        actions
    }

    /// `channel` ended: it no longer holds back any barrier.
    pub fn on_end_of_input(&mut self, channel: usize) -> Vec<AlignmentAction> {
        let mut actions = Vec::new();
        if let Some(p) = &self.pending
            && p.unaligned()
            && !p.received[channel]
            && !self.ended[channel]
        {
            actions.push(AlignmentAction::StopRecording(channel));
        }
        self.ended[channel] = true;
        actions.extend(self.complete_if_aligned());
        actions
    }

    fn complete_if_aligned(&mut self) -> Vec<AlignmentAction> {
        let Some(p) = &self.pending else { return Vec::new() };
        if !p.received.iter().zip(&self.ended).all(|(r, e)| *r || *e) {
            return Vec::new();
        }
        let p = self.pending.take().expect("checked above");
        self.latest = Some(p.barrier.id);
        if p.unaligned() {
            return vec![AlignmentAction::CompleteUnaligned(p.barrier.id)];
        }
        let mut actions = vec![AlignmentAction::Snapshot(p.barrier)];
        actions.extend(self.unblock(&p));
        actions
    }

    fn unblock(&self, p: &Pending) -> Vec<AlignmentAction> {
        if !self.exactly_once || p.unaligned() {
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

    fn unaligned(id: u64) -> CheckpointBarrier {
        CheckpointBarrier { unaligned: true, ..barrier(id) }
    }

    #[test]
    fn unaligned_snapshots_at_the_first_barrier_and_records_the_others() {
        let mut a = BarrierAligner::new(3, true);
        assert_eq!(
            a.on_barrier(1, unaligned(1)),
            vec![SnapshotUnaligned { barrier: unaligned(1), record: vec![0, 2] }, StopRecording(1)]
        );
        assert_eq!(a.on_barrier(1, unaligned(1)), vec![], "a duplicate is ignored");
        assert_eq!(a.on_barrier(2, unaligned(1)), vec![StopRecording(2)]);
        assert_eq!(a.on_end_of_input(0), vec![StopRecording(0), CompleteUnaligned(CheckpointId(1))]);
        assert_eq!(a.pending(), None);
        // Channel 0 ended: the next checkpoint records only channel 2, and never blocks.
        assert_eq!(
            a.on_barrier(1, unaligned(2)),
            vec![SnapshotUnaligned { barrier: unaligned(2), record: vec![2] }, StopRecording(1)]
        );
        assert_eq!(a.on_barrier(2, unaligned(2)), vec![StopRecording(2), CompleteUnaligned(CheckpointId(2))]);
    }

    #[test]
    fn one_channel_unaligned_completes_at_once() {
        let mut a = BarrierAligner::new(1, true);
        assert_eq!(
            a.on_barrier(0, unaligned(3)),
            vec![
                SnapshotUnaligned { barrier: unaligned(3), record: vec![] },
                StopRecording(0),
                CompleteUnaligned(CheckpointId(3))
            ]
        );
    }

    #[test]
    fn savepoints_stay_aligned_and_abandon_an_unaligned_checkpoint() {
        let mut a = BarrierAligner::new(2, true);
        assert_eq!(
            a.on_barrier(0, unaligned(1)),
            vec![SnapshotUnaligned { barrier: unaligned(1), record: vec![1] }, StopRecording(0)]
        );
        let savepoint = CheckpointBarrier { is_savepoint: true, ..unaligned(2) };
        assert_eq!(a.on_barrier(0, savepoint), vec![AbandonUnaligned(CheckpointId(1)), Block(0)]);
        assert_eq!(a.on_barrier(1, unaligned(1)), vec![], "stale");
        assert_eq!(a.on_barrier(1, savepoint), vec![Block(1), Snapshot(savepoint), Unblock(0), Unblock(1)]);
    }

    #[test]
    fn an_alignment_past_its_timeout_switches_to_unaligned() {
        let mut a = BarrierAligner::new(3, true).with_aligned_timeout(Some(100));
        let aligned = CheckpointBarrier { timestamp: 1_000, ..barrier(1) };
        assert_eq!(a.on_barrier(0, aligned), vec![Block(0)]);
        assert_eq!(a.alignment_deadline(), Some(1_100));
        assert_eq!(a.on_alignment_timeout(1_099), vec![]);
        let switched = CheckpointBarrier { unaligned: true, ..aligned };
        assert_eq!(
            a.on_alignment_timeout(1_100),
            vec![Unblock(0), SnapshotUnaligned { barrier: switched, record: vec![1, 2] }]
        );
        assert_eq!(a.alignment_deadline(), None);
        assert_eq!(a.on_barrier(1, aligned), vec![StopRecording(1)], "an aligned barrier of the switched checkpoint");
        assert_eq!(a.on_barrier(2, switched), vec![StopRecording(2), CompleteUnaligned(CheckpointId(1))]);
    }

    #[test]
    fn an_unaligned_barrier_switches_an_alignment_in_progress() {
        let mut a = BarrierAligner::new(2, true).with_aligned_timeout(Some(60_000));
        assert_eq!(a.on_barrier(1, barrier(4)), vec![Block(1)]);
        assert_eq!(
            a.on_barrier(0, unaligned(4)),
            vec![
                Unblock(1),
                SnapshotUnaligned { barrier: unaligned(4), record: vec![0] },
                StopRecording(0),
                CompleteUnaligned(CheckpointId(4))
            ]
        );
    }

    #[test]
    fn savepoints_and_aligned_checkpoints_without_timeout_never_switch() {
        let mut a = BarrierAligner::new(2, true).with_aligned_timeout(Some(10));
        let savepoint = CheckpointBarrier { is_savepoint: true, ..barrier(5) };
        assert_eq!(a.on_barrier(0, savepoint), vec![Block(0)]);
        assert_eq!(a.on_alignment_timeout(i64::MAX), vec![]);
        let mut a = BarrierAligner::new(2, true);
        assert_eq!(a.on_barrier(0, barrier(5)), vec![Block(0)]);
        assert_eq!(a.on_alignment_timeout(i64::MAX), vec![]);
    }

    #[test]
    fn one_channel_snapshots_at_once() {
        let mut a = BarrierAligner::new(1, true);
        assert_eq!(a.on_barrier(0, barrier(7)), vec![Block(0), Snapshot(barrier(7)), Unblock(0)]);
        assert_eq!(a.on_barrier(0, barrier(7)), vec![], "a duplicate is ignored");
    }
}
