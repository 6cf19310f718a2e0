//! Unaligned checkpoints on a one-input task, driven element by element: which
//! elements become channel state, per channel, and how a restored task replays them.

use super::chain::restore_channel_state;
use super::{InputStatus, OneInputTaskInput, TaskInput};
use crate::channel::{ChannelWriter, Credits, InputGate, LocalChannelWriter};
use crate::checkpoint::{
    ChannelData, ChannelStateSnapshot, CheckpointDecline, CheckpointResponder, ElementCodec, TaskCheckpointSettings,
    TaskCheckpoints, TaskSnapshot,
};
use crate::partitioner::{PartitionerContext, PartitionerSpec};
use crate::writer::{PendingSends, RecordWriter};
use brook_types::{CheckpointBarrier, CheckpointId, StreamElement, StreamRecord, Watermark};
use futures::task::noop_waker_ref;
use parking_lot::Mutex;
use std::sync::Arc;
use std::task::{Context, Poll};

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

/// A task with two input channels that forwards everything into one downstream
/// channel with a single credit, so that its output backs up in its record writer.
struct Harness {
    input: OneInputTaskInput<i32>,
    checkpoints: TaskCheckpoints,
    upstream: Vec<LocalChannelWriter<i32>>,
    writer: Arc<dyn PendingSends>,
    downstream: InputGate<i32>,
    acks: Arc<Acks>,
}

fn codec() -> ElementCodec<i32> {
    ElementCodec::bincode()
}

fn harness() -> Harness {
    harness_with_timeout(None)
}

/// With `execution.checkpointing.aligned-checkpoint-timeout`.
fn harness_with_timeout(aligned_checkpoint_timeout: Option<std::time::Duration>) -> Harness {
    let (gate, handle) = InputGate::<i32>::new(2, Credits::default());
    let (downstream, down_handle) =
        InputGate::<i32>::new(1, Credits { exclusive_per_channel: 1, floating_per_gate: 0 });
    let channels: Vec<Box<dyn ChannelWriter<i32>>> = vec![Box::new(LocalChannelWriter::new(&down_handle, 0))];
    let ctx = PartitionerContext { num_channels: 1, max_parallelism: 128, subtask_index: 0 };
    let (out, writer) =
        RecordWriter::create(PartitionerSpec::forward_default().create::<i32>(ctx), channels, 1, Some(codec()));
    let input = OneInputTaskInput::new(gate, out).with_codec(codec());
    let acks = Arc::new(Acks::default());
    let settings = TaskCheckpointSettings {
        responder: acks.clone(),
        exactly_once: true,
        wait_for_final_checkpoint: false,
        aligned_checkpoint_timeout,
    };
    let checkpoints = TaskCheckpoints::new("Forward (1/1)".into(), settings, vec![writer.clone()], Vec::new());
    Harness {
        input,
        checkpoints,
        upstream: vec![LocalChannelWriter::new(&handle, 0), LocalChannelWriter::new(&handle, 1)],
        writer,
        downstream,
        acks,
    }
}

fn records(values: &[i32]) -> StreamElement<i32> {
    StreamElement::Records(values.iter().map(|&v| StreamRecord::new(v)).collect())
}

fn barrier(id: u64) -> CheckpointBarrier {
    CheckpointBarrier { id: CheckpointId(id), timestamp: 0, is_savepoint: false, unaligned: true }
}

fn encoded(elements: &[StreamElement<i32>]) -> Vec<Vec<u8>> {
    elements.iter().map(|e| (codec().encode)(e).unwrap()).collect()
}

/// What a downstream element looks like in assertions.
fn show(element: &StreamElement<i32>) -> String {
    match element {
        StreamElement::Records(batch) => format!("{:?}", batch.iter().map(|r| r.value).collect::<Vec<_>>()),
        StreamElement::Barrier(b) => format!("barrier {}", b.id),
        StreamElement::Watermark(w) => format!("watermark {}", w.0),
        other => other.kind().to_string(),
    }
}

impl Harness {
    fn send(&mut self, channel: usize, element: StreamElement<i32>) {
        self.upstream[channel].send(element).unwrap();
    }

    /// Processes input until the gate is empty, never sending output (backpressure).
    fn drain(&mut self) {
        let mut cx = Context::from_waker(noop_waker_ref());
        while let Poll::Ready(status) = self.input.poll_process(&mut cx, &mut self.checkpoints) {
            assert_eq!(status.unwrap(), InputStatus::MoreAvailable);
        }
    }

    /// Lets the downstream task take everything, one credit at a time.
    fn downstream_output(&mut self) -> Vec<String> {
        let mut cx = Context::from_waker(noop_waker_ref());
        let mut seen = Vec::new();
        loop {
            let sent = self.writer.poll_send(&mut cx);
            match self.downstream.poll_next(&mut cx) {
                Poll::Ready((_, element)) => seen.push(show(&element)),
                Poll::Pending if sent.is_ready() => return seen,
                Poll::Pending => panic!("the writer waits for a credit but the downstream gate is empty"),
            }
        }
    }
}

#[test]
fn the_first_barrier_snapshots_and_the_other_channels_are_recorded_until_their_barrier() {
    let mut h = harness();
    h.send(0, records(&[1]));
    h.send(1, records(&[10]));
    h.drain();
    let mut cx = Context::from_waker(noop_waker_ref());
    assert!(h.writer.poll_send(&mut cx).is_pending(), "[1] took the only credit, [10] waits in the writer");

    // Barrier 1 on channel 0 first: snapshot at once, barrier ahead of [10].
    h.send(0, StreamElement::Barrier(barrier(1)));
    h.send(0, records(&[2]));
    h.drain();
    assert!(h.acks.0.lock().is_empty(), "channel 1 has not delivered barrier 1 yet");

    // Channel 1: everything before its barrier is channel state, and is processed too.
    // The barrier overtakes what is queued; the task takes it first and then records
    // the three data elements it overtook.
    h.send(1, records(&[11]));
    h.send(1, StreamElement::Watermark(Watermark(5)));
    h.send(1, StreamElement::LatencyMarker(0));
    h.send(1, records(&[12]));
    h.send(1, StreamElement::Barrier(barrier(1)));
    h.send(1, records(&[13]));
    h.drain();

    let acks = h.acks.0.lock();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].barrier, barrier(1));
    assert_eq!(
        acks[0].channel_state,
        Some(ChannelStateSnapshot {
            input_channels: vec![2],
            output_channels: vec![1],
            inputs: vec![ChannelData {
                gate: 0,
                channel: 1,
                elements: encoded(&[records(&[11]), StreamElement::Watermark(Watermark(5)), records(&[12])]),
            }],
            outputs: vec![ChannelData { gate: 0, channel: 0, elements: encoded(&[records(&[10])]) }],
        }),
        "input: channel 1 between the snapshot and its barrier (no latency marker, not [2] or [13]); \
         output: the buffer the barrier overtook"
    );
    drop(acks);
    // Nothing was held back: every record went downstream. The barrier overtook [10] in
    // the writer and, in the downstream gate, [1], which the downstream task had not taken.
    assert_eq!(h.downstream_output(), ["barrier 1", "[1]", "[10]", "[2]", "[11]", "[12]", "[13]"]);
}

#[test]
fn a_barrier_overtakes_the_queued_input_and_exactly_the_overtaken_data_is_recorded() {
    let mut h = harness();
    h.send(0, records(&[1]));
    h.send(0, records(&[2]));
    h.send(1, records(&[10]));
    // Queued behind [1] and [2], the barrier is delivered first: the snapshot holds none
    // of them, and [1], [2] become input channel state; [10] too (channel 1 is recorded
    // until its barrier).
    h.send(0, StreamElement::Barrier(barrier(2)));
    h.send(0, records(&[3]));
    h.drain();
    h.send(1, StreamElement::Barrier(barrier(2)));
    h.drain();
    let acks = h.acks.0.lock();
    assert_eq!(acks.len(), 1);
    let state = acks[0].channel_state.as_ref().expect("data was in flight");
    assert_eq!(
        state.inputs,
        vec![
            ChannelData { gate: 0, channel: 0, elements: encoded(&[records(&[1]), records(&[2])]) },
            ChannelData { gate: 0, channel: 1, elements: encoded(&[records(&[10])]) },
        ],
        "not [3], which followed the barrier"
    );
    assert_eq!(state.outputs, vec![], "the writer had sent nothing before the snapshot");
    drop(acks);
    assert_eq!(h.downstream_output(), ["barrier 2", "[10]", "[1]", "[2]", "[3]"]);
}

#[test]
fn the_checkpoint_completes_only_once_the_overtaken_data_was_recorded() {
    let mut h = harness();
    h.send(0, StreamElement::Barrier(barrier(5)));
    h.drain();
    h.send(1, records(&[10]));
    h.send(1, records(&[11]));
    h.send(1, StreamElement::Barrier(barrier(5)));
    let mut cx = Context::from_waker(noop_waker_ref());
    // The barrier is taken first (as while backpressured): not complete yet.
    assert!(h.input.poll_process(&mut cx, &mut h.checkpoints).is_ready());
    assert!(h.acks.0.lock().is_empty(), "[10] and [11] are still to be recorded");
    assert!(h.input.poll_process(&mut cx, &mut h.checkpoints).is_ready());
    assert!(h.acks.0.lock().is_empty(), "[11] is still to be recorded");
    assert!(h.input.poll_process(&mut cx, &mut h.checkpoints).is_ready());
    let acks = h.acks.0.lock();
    assert_eq!(acks.len(), 1);
    assert_eq!(
        acks[0].channel_state.as_ref().unwrap().inputs,
        vec![ChannelData { gate: 0, channel: 1, elements: encoded(&[records(&[10]), records(&[11])]) }]
    );
}

#[test]
fn a_backpressured_task_takes_priority_barriers_without_processing_data() {
    let mut h = harness();
    h.send(0, records(&[1]));
    h.send(0, StreamElement::Barrier(barrier(6)));
    let mut cx = Context::from_waker(noop_waker_ref());
    assert!(h.input.poll_priority(&mut cx, &mut h.checkpoints).is_ready(), "the barrier is at the front");
    assert!(h.input.poll_priority(&mut cx, &mut h.checkpoints).is_pending(), "data is not taken here");
    h.drain();
    h.send(1, StreamElement::Barrier(barrier(6)));
    assert!(h.input.poll_priority(&mut cx, &mut h.checkpoints).is_ready());
    let acks = h.acks.0.lock();
    assert_eq!(acks.len(), 1);
    assert_eq!(
        acks[0].channel_state.as_ref().unwrap().inputs,
        vec![ChannelData { gate: 0, channel: 0, elements: encoded(&[records(&[1])]) }]
    );
}

#[test]
fn a_channel_that_ends_stops_being_recorded_and_completes_the_checkpoint() {
    let mut h = harness();
    h.send(1, StreamElement::Barrier(barrier(3)));
    h.drain();
    h.send(0, records(&[7]));
    h.send(0, StreamElement::EndOfInput);
    h.drain();
    let acks = h.acks.0.lock();
    assert_eq!(acks.len(), 1);
    let state = acks[0].channel_state.as_ref().expect("channel 0 had data before it ended");
    assert_eq!(state.inputs, vec![ChannelData { gate: 0, channel: 0, elements: encoded(&[records(&[7])]) }]);
}

#[test]
fn a_savepoint_barrier_is_aligned_even_when_unaligned_is_on() {
    let mut h = harness();
    let savepoint = CheckpointBarrier { is_savepoint: true, ..barrier(4) };
    h.send(0, StreamElement::Barrier(savepoint));
    h.send(0, records(&[1]));
    h.send(1, records(&[10]));
    h.drain();
    assert!(h.acks.0.lock().is_empty());
    h.send(1, StreamElement::Barrier(savepoint));
    h.drain();
    let acks = h.acks.0.lock();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].channel_state, None, "aligned: no channel state");
    drop(acks);
    assert_eq!(h.downstream_output(), ["[10]", "barrier 4", "[1]"], "[1] waited behind the blocked channel 0");
}

#[test]
fn a_restored_task_replays_its_output_then_its_input_state_before_new_input() {
    let mut h = harness();
    let state = ChannelStateSnapshot {
        input_channels: vec![2],
        output_channels: vec![1],
        inputs: vec![ChannelData { gate: 0, channel: 1, elements: encoded(&[records(&[11]), records(&[12])]) }],
        outputs: vec![ChannelData { gate: 0, channel: 0, elements: encoded(&[records(&[10])]) }],
    };
    restore_channel_state(&state, std::slice::from_ref(&h.writer), &mut h.input).unwrap();
    h.send(0, records(&[20]));
    h.send(1, records(&[21]));
    h.drain();
    assert_eq!(h.downstream_output(), ["[10]", "[11]", "[12]", "[20]", "[21]"]);
}

#[test]
fn channel_state_of_another_parallelism_is_refused() {
    let mut h = harness();
    let state = ChannelStateSnapshot { input_channels: vec![3], output_channels: vec![1], ..Default::default() };
    let err = restore_channel_state(&state, std::slice::from_ref(&h.writer), &mut h.input).unwrap_err();
    assert_eq!(
        err,
        "its unaligned channel state was taken with [3] input channels and the task now has [2] (another \
         parallelism upstream); channel state cannot be redistributed: restore at the parallelism of the \
         checkpoint, or take a savepoint (always aligned) and rescale from it"
    );
    let state = ChannelStateSnapshot { input_channels: vec![2], output_channels: vec![4], ..Default::default() };
    let err = restore_channel_state(&state, std::slice::from_ref(&h.writer), &mut h.input).unwrap_err();
    assert!(err.starts_with("its unaligned channel state was taken with [4] output channels"), "{err}");
}

/// An aligned barrier of a checkpoint triggered `age_ms` ago (timeoutable).
fn aligned(id: u64, age_ms: i64) -> CheckpointBarrier {
    CheckpointBarrier { timestamp: super::input::wall_clock_ms() - age_ms, unaligned: false, ..barrier(id) }
}

#[test]
fn within_the_aligned_checkpoint_timeout_a_checkpoint_stays_aligned() {
    let mut h = harness_with_timeout(Some(std::time::Duration::from_secs(3600)));
    h.send(0, StreamElement::Barrier(aligned(1, 0)));
    h.send(0, records(&[1]));
    h.send(1, records(&[10]));
    h.drain();
    assert!(h.acks.0.lock().is_empty());
    h.send(1, StreamElement::Barrier(aligned(1, 0)));
    h.drain();
    let acks = h.acks.0.lock();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].channel_state, None, "aligned: nothing in flight is stored");
    drop(acks);
    assert_eq!(h.downstream_output(), ["[10]", "barrier 1", "[1]"], "[1] waited behind the aligned barrier");
}

#[test]
fn a_checkpoint_older_than_the_aligned_checkpoint_timeout_goes_unaligned_at_its_first_barrier() {
    let mut h = harness_with_timeout(Some(std::time::Duration::from_millis(100)));
    h.send(1, records(&[10]));
    h.send(0, StreamElement::Barrier(aligned(2, 60_000)));
    h.send(0, records(&[1]));
    h.drain();
    h.send(1, records(&[11]));
    h.send(1, StreamElement::Barrier(aligned(2, 60_000)));
    h.drain();
    let acks = h.acks.0.lock();
    assert_eq!(acks.len(), 1);
    assert!(acks[0].barrier.unaligned, "the switched checkpoint is acknowledged as unaligned");
    let state = acks[0].channel_state.as_ref().expect("channel 1 was recorded");
    assert_eq!(
        state.inputs,
        vec![ChannelData { gate: 0, channel: 1, elements: encoded(&[records(&[11])]) }],
        "channel 1 after the snapshot, before its barrier ([10] came before the snapshot); [1] on channel 0 \
         followed its barrier and is not kept"
    );
    drop(acks);
    let out = h.downstream_output();
    assert_eq!(out[0], "barrier 2", "the barrier goes on unaligned, overtaking downstream: {out:?}");
}

#[test]
fn an_unaligned_barrier_from_upstream_switches_an_alignment_in_progress() {
    let mut h = harness_with_timeout(Some(std::time::Duration::from_secs(3600)));
    h.send(0, StreamElement::Barrier(aligned(3, 0)));
    h.send(0, records(&[1]));
    h.send(1, records(&[10]));
    h.drain();
    assert_eq!(h.acks.0.lock().len(), 0, "aligning: channel 0 is blocked");
    // Upstream of channel 1 switched: its barrier is unaligned and overtakes [11].
    h.send(1, records(&[11]));
    h.send(1, StreamElement::Barrier(CheckpointBarrier { unaligned: true, ..aligned(3, 0) }));
    h.drain();
    let acks = h.acks.0.lock();
    assert_eq!(acks.len(), 1);
    let state = acks[0].channel_state.as_ref().expect("[11] was in flight");
    assert_eq!(state.inputs, vec![ChannelData { gate: 0, channel: 1, elements: encoded(&[records(&[11])]) }]);
}
