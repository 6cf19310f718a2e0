//! Barrier alignment on a two-input task, driven element by element.

use super::{InputStatus, TaskInput, TwoInputTaskInput};
use crate::channel::{ChannelWriter, Credits, InputGate, LocalChannelWriter};
use crate::checkpoint::{
    CheckpointDecline, CheckpointResponder, SnapshotError, StateSnapshotContext, TaskCheckpointSettings,
    TaskCheckpoints, TaskSnapshot,
};
use crate::operators::TwoInputOperator;
use crate::output::{NoOutput, Output};
use brook_types::{Batch, CheckpointBarrier, CheckpointId, OperatorId, StreamElement, StreamRecord};
use futures::task::noop_waker_ref;
use parking_lot::Mutex;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Records what it processed; its snapshot is what it had processed by then.
struct Recorder {
    seen: Arc<Mutex<Vec<i32>>>,
    snapshots: Arc<Mutex<Vec<Vec<i32>>>>,
}

impl TwoInputOperator<i32, i32, ()> for Recorder {
    fn process_batch1(&mut self, batch: Batch<i32>, _out: &mut dyn Output<()>) {
        self.seen.lock().extend(batch.into_iter().map(|r| r.value));
    }

    fn process_batch2(&mut self, batch: Batch<i32>, _out: &mut dyn Output<()>) {
        self.seen.lock().extend(batch.into_iter().map(|r| r.value));
    }

    /// Recorded as a 0.
    fn finish(&mut self, _out: &mut dyn Output<()>) {
        self.seen.lock().push(0);
    }

    fn snapshot_state(&mut self, _ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        let mut seen = self.seen.lock().clone();
        seen.sort_unstable();
        self.snapshots.lock().push(seen);
        Ok(())
    }
}

#[derive(Default)]
struct Acks(Mutex<Vec<TaskSnapshot>>);

impl CheckpointResponder for Acks {
    fn acknowledge(&self, snapshot: TaskSnapshot) {
        self.0.lock().push(snapshot);
    }
    fn decline(&self, decline: CheckpointDecline) {
        panic!("declined: {decline:?}");
    }
}

struct Harness {
    input: TwoInputTaskInput<i32, i32, (), Recorder>,
    checkpoints: TaskCheckpoints,
    left: LocalChannelWriter<i32>,
    right: LocalChannelWriter<i32>,
    seen: Arc<Mutex<Vec<i32>>>,
    snapshots: Arc<Mutex<Vec<Vec<i32>>>>,
    acks: Arc<Acks>,
}

fn harness(exactly_once: bool) -> Harness {
    let credits = Credits { exclusive_per_channel: 2, floating_per_gate: 0 };
    let (gate1, handle1) = InputGate::<i32>::new(1, credits);
    let (gate2, handle2) = InputGate::<i32>::new(1, credits);
    let (seen, snapshots) = (Arc::default(), Arc::default());
    let op = Recorder { seen: Arc::clone(&seen), snapshots: Arc::clone(&snapshots) };
    let out: Box<dyn Output<()>> = Box::new(NoOutput);
    let input = TwoInputTaskInput::new("Recorder".into(), OperatorId(1), Default::default(), gate1, gate2, op, out);
    let acks = Arc::new(Acks::default());
    let settings = TaskCheckpointSettings {
        responder: acks.clone(),
        exactly_once,
        wait_for_final_checkpoint: false,
        ..Default::default()
    };
    let checkpoints =
        TaskCheckpoints::new("Recorder (1/1)".into(), settings, Vec::new(), vec![(OperatorId(1), "Recorder".into())]);
    Harness {
        input,
        checkpoints,
        left: LocalChannelWriter::new(&handle1, 0),
        right: LocalChannelWriter::new(&handle2, 0),
        seen,
        snapshots,
        acks,
    }
}

fn records(values: &[i32]) -> StreamElement<i32> {
    StreamElement::Records(values.iter().map(|&v| StreamRecord::new(v)).collect())
}

fn barrier(id: u64) -> StreamElement<i32> {
    StreamElement::Barrier(CheckpointBarrier {
        id: CheckpointId(id),
        timestamp: 0,
        is_savepoint: false,
        unaligned: false,
    })
}

impl Harness {
    /// Processes elements until the inputs have nothing more to give.
    fn drain(&mut self) {
        let mut cx = Context::from_waker(noop_waker_ref());
        while let Poll::Ready(status) = self.input.poll_process(&mut cx, &mut self.checkpoints) {
            assert_eq!(status.unwrap(), InputStatus::MoreAvailable);
        }
    }

    fn seen(&self) -> Vec<i32> {
        let mut seen = self.seen.lock().clone();
        seen.sort_unstable();
        seen
    }
}

#[test]
fn exactly_once_holds_back_records_behind_the_barrier_until_the_snapshot() {
    let mut h = harness(true);
    h.left.send(records(&[1, 2])).unwrap();
    h.left.send(barrier(1)).unwrap();
    h.left.send(records(&[3, 4])).unwrap();
    h.right.send(records(&[10])).unwrap();
    h.drain();
    assert_eq!(h.seen(), vec![1, 2, 10], "records after barrier 1 on the left wait");
    assert!(h.snapshots.lock().is_empty());
    h.right.send(records(&[11])).unwrap();
    h.drain();
    assert_eq!(h.seen(), vec![1, 2, 10, 11], "the right input is not blocked");
    h.right.send(barrier(1)).unwrap();
    h.right.send(records(&[12])).unwrap();
    h.drain();
    assert_eq!(
        *h.snapshots.lock(),
        vec![vec![1, 2, 10, 11]],
        "the snapshot holds exactly the records before the barriers"
    );
    assert_eq!(h.seen(), vec![1, 2, 3, 4, 10, 11, 12], "both inputs flow again after the snapshot");
    let acks = h.acks.0.lock();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].barrier.id, CheckpointId(1));
    assert_eq!(acks[0].operators.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![OperatorId(1)]);
}

#[test]
fn at_least_once_does_not_block_and_snapshots_at_the_last_barrier() {
    let mut h = harness(false);
    h.left.send(records(&[1])).unwrap();
    h.left.send(barrier(1)).unwrap();
    h.left.send(records(&[2])).unwrap();
    h.drain();
    assert_eq!(h.seen(), vec![1, 2], "nothing waits");
    h.right.send(records(&[10])).unwrap();
    h.right.send(barrier(1)).unwrap();
    h.drain();
    assert_eq!(*h.snapshots.lock(), vec![vec![1, 2, 10]], "records after the left barrier are in the snapshot");
    assert_eq!(h.acks.0.lock().len(), 1);
}

#[test]
fn an_ended_input_counts_as_aligned() {
    let mut h = harness(true);
    h.left.send(records(&[1])).unwrap();
    h.left.send(barrier(1)).unwrap();
    h.left.send(records(&[2])).unwrap();
    h.right.send(StreamElement::EndOfInput).unwrap();
    h.drain();
    assert_eq!(*h.snapshots.lock(), vec![vec![1]]);
    assert_eq!(h.seen(), vec![1, 2]);
}

#[test]
fn when_the_last_input_ends_the_operator_finishes_before_the_snapshot_that_end_completes() {
    let mut h = harness(true);
    // A drained stop-with-savepoint: every channel ends, then carries the barrier; the
    // right channel's end completes the alignment, its barrier is still behind it.
    h.left.send(records(&[1])).unwrap();
    h.left.send(StreamElement::EndOfInput).unwrap();
    h.left.send(barrier(1)).unwrap();
    h.right.send(records(&[10])).unwrap();
    h.drain();
    assert!(h.snapshots.lock().is_empty(), "the right channel has not ended yet");
    h.right.send(StreamElement::EndOfInput).unwrap();
    let mut cx = Context::from_waker(noop_waker_ref());
    let mut finished = 0;
    while let Poll::Ready(status) = h.input.poll_process(&mut cx, &mut h.checkpoints) {
        finished += usize::from(status.unwrap() == InputStatus::Finished);
    }
    h.right.send(barrier(1)).unwrap();
    while let Poll::Ready(status) = h.input.poll_process(&mut cx, &mut h.checkpoints) {
        assert_eq!(status.unwrap(), InputStatus::MoreAvailable);
    }
    assert_eq!(finished, 1);
    assert_eq!(*h.snapshots.lock(), vec![vec![0, 1, 10]], "the snapshot follows finish (recorded as 0)");
    let acks = h.acks.0.lock();
    assert_eq!(acks.len(), 1);
    assert!(acks[0].finished, "acknowledged as taken after the end of input");
}
