//! A property test of unaligned checkpoints over random schedules: whatever the order
//! in which upstream sends, the task runs (or waits for credits and takes only
//! priority barriers) and downstream consumes, every record is in exactly one place —
//! the operator state, the input channel state, or (as output) what downstream got
//! before the barrier or the output channel state — and in channel order.

use super::{OneInputTaskInput, TaskInput};
use crate::channel::{ChannelWriter, Credits, InputGate, LocalChannelWriter};
use crate::checkpoint::{
    ChainVisitor, CheckpointDecline, CheckpointHooks, CheckpointResponder, ElementCodec, SnapshotError,
    StateSnapshotContext, TaskCheckpointSettings, TaskCheckpoints, TaskSnapshot,
};
use crate::output::Output;
use crate::partitioner::{PartitionerContext, PartitionerSpec};
use crate::writer::{PendingSends, RecordWriter};
use brook_types::{
    Batch, CheckpointBarrier, CheckpointId, OperatorId, StreamElement, StreamRecord, Watermark, WatermarkStatus,
};
use futures::task::noop_waker_ref;
use parking_lot::Mutex;
use proptest::prelude::*;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The task's one operator: forwards records and logs them; its snapshot is the
/// length of the log.
struct Tap {
    log: Arc<Mutex<Vec<i32>>>,
    at_snapshot: Arc<Mutex<Option<usize>>>,
    next: Box<dyn Output<i32>>,
}

struct TapHooks<'a>(&'a Tap);

impl CheckpointHooks for TapHooks<'_> {
    fn snapshot_state(&mut self, _ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        *self.0.at_snapshot.lock() = Some(self.0.log.lock().len());
        Ok(())
    }

    fn notify_checkpoint_complete(&mut self, _checkpoint: CheckpointId) -> Result<(), SnapshotError> {
        Ok(())
    }
}

impl Output<i32> for Tap {
    fn collect(&mut self, batch: Batch<i32>) {
        self.log.lock().extend(batch.iter().map(|r| r.value));
        self.next.collect(batch);
    }
    fn emit_watermark(&mut self, watermark: Watermark) {
        self.next.emit_watermark(watermark);
    }
    fn emit_watermark_status(&mut self, status: WatermarkStatus) {
        self.next.emit_watermark_status(status);
    }
    fn end_input(&mut self) {
        self.next.end_input();
    }
    fn visit_operators(&mut self, visitor: &mut dyn ChainVisitor) {
        visitor.visit(OperatorId(1), "Tap", &mut TapHooks(self));
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

#[derive(Clone, Copy, Debug)]
enum Step {
    /// Upstream sends its next record on this channel, if it has a credit.
    Send(usize),
    /// Upstream sends barrier 1 on this channel (once).
    Barrier(usize),
    /// One turn of the task loop: send output; if that is done take one input
    /// element, else only a priority barrier.
    Run,
    /// Downstream takes one element.
    Consume,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0usize..2).prop_map(Step::Send),
        1 => (0usize..2).prop_map(Step::Barrier),
        3 => Just(Step::Run),
        2 => Just(Step::Consume),
    ]
}

struct World {
    input: OneInputTaskInput<i32>,
    checkpoints: TaskCheckpoints,
    upstream: Vec<LocalChannelWriter<i32>>,
    writer: Arc<dyn PendingSends>,
    downstream: InputGate<i32>,
    /// Records sent per channel, and how many of them before that channel's barrier.
    sent: Vec<Vec<i32>>,
    before_barrier: Vec<Option<usize>>,
    received: Vec<StreamElement<i32>>,
    /// The data the barrier overtook in the downstream gate (downstream's input state).
    overtaken_downstream: usize,
    log: Arc<Mutex<Vec<i32>>>,
    at_snapshot: Arc<Mutex<Option<usize>>>,
    acks: Arc<Acks>,
}

fn world() -> World {
    let (gate, handle) = InputGate::<i32>::new(2, Credits { exclusive_per_channel: 2, floating_per_gate: 1 });
    let (downstream, down) = InputGate::<i32>::new(1, Credits { exclusive_per_channel: 1, floating_per_gate: 0 });
    let channels: Vec<Box<dyn ChannelWriter<i32>>> = vec![Box::new(LocalChannelWriter::new(&down, 0))];
    let ctx = PartitionerContext { num_channels: 1, max_parallelism: 128, subtask_index: 0 };
    let (out, writer) = RecordWriter::create(
        PartitionerSpec::forward_default().create::<i32>(ctx),
        channels,
        1,
        Some(ElementCodec::bincode()),
    );
    let (log, at_snapshot) = (Arc::default(), Arc::default());
    let tap = Tap { log: Arc::clone(&log), at_snapshot: Arc::clone(&at_snapshot), next: out };
    let input = OneInputTaskInput::new(gate, Box::new(tap)).with_codec(ElementCodec::bincode());
    let acks = Arc::new(Acks::default());
    let settings = TaskCheckpointSettings {
        responder: acks.clone(),
        exactly_once: true,
        wait_for_final_checkpoint: false,
        ..Default::default()
    };
    let checkpoints =
        TaskCheckpoints::new("Tap (1/1)".into(), settings, vec![writer.clone()], vec![(OperatorId(1), "Tap".into())]);
    World {
        input,
        checkpoints,
        upstream: vec![LocalChannelWriter::new(&handle, 0), LocalChannelWriter::new(&handle, 1)],
        writer,
        downstream,
        sent: vec![Vec::new(), Vec::new()],
        before_barrier: vec![None, None],
        received: Vec::new(),
        overtaken_downstream: 0,
        log,
        at_snapshot,
        acks,
    }
}

impl World {
    fn apply(&mut self, step: Step) {
        let mut cx = Context::from_waker(noop_waker_ref());
        match step {
            Step::Send(c) => {
                if self.upstream[c].poll_ready(&mut cx).is_ready() {
                    let value = c as i32 * 10_000 + self.sent[c].len() as i32;
                    self.upstream[c].send(StreamElement::Records(vec![StreamRecord::new(value)])).unwrap();
                    self.sent[c].push(value);
                }
            }
            Step::Barrier(c) => {
                if self.before_barrier[c].is_none() {
                    self.before_barrier[c] = Some(self.sent[c].len());
                    let barrier =
                        CheckpointBarrier { id: CheckpointId(1), timestamp: 0, is_savepoint: false, unaligned: true };
                    self.upstream[c].send(StreamElement::Barrier(barrier)).unwrap();
                }
            }
            Step::Run => {
                if self.writer.poll_send(&mut cx).is_ready() {
                    let _ = self.input.poll_process(&mut cx, &mut self.checkpoints);
                } else {
                    let _ = self.input.poll_priority(&mut cx, &mut self.checkpoints);
                }
            }
            Step::Consume => {
                let _ = self.writer.poll_send(&mut cx);
                if let Poll::Ready((_, element)) = self.downstream.poll_next(&mut cx) {
                    if matches!(element, StreamElement::Barrier(_)) {
                        self.overtaken_downstream = self.downstream.overtaken(0);
                    }
                    self.received.push(element);
                }
            }
        }
    }

    /// Sends the missing barriers and runs until the checkpoint completed and
    /// everything reached downstream.
    fn finish(&mut self) {
        self.apply(Step::Barrier(0));
        self.apply(Step::Barrier(1));
        for _ in 0..10_000 {
            self.apply(Step::Run);
            self.apply(Step::Consume);
        }
    }
}

fn values(elements: &[StreamElement<i32>]) -> Vec<i32> {
    elements
        .iter()
        .flat_map(|e| match e {
            StreamElement::Records(batch) => batch.iter().map(|r| r.value).collect(),
            _ => Vec::new(),
        })
        .collect()
}

fn decode(encoded: &[Vec<u8>]) -> Vec<StreamElement<i32>> {
    encoded.iter().map(|b| (ElementCodec::<i32>::bincode().decode)(b).unwrap()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_record_is_in_exactly_one_place(steps in proptest::collection::vec(step(), 0..150)) {
        let mut w = world();
        for s in steps {
            w.apply(s);
        }
        w.finish();
        let acks = w.acks.0.lock();
        prop_assert_eq!(acks.len(), 1, "the checkpoint completed once");
        let state = acks[0].channel_state.clone().unwrap_or_default();
        let processed = w.log.lock()[..w.at_snapshot.lock().expect("a snapshot was taken")].to_vec();

        // Input: per channel, what the snapshot processed and then the channel state are
        // exactly the records sent before the barrier, in order.
        for c in 0..2 {
            let mut from_c: Vec<i32> = processed.iter().copied().filter(|v| v / 10_000 == c as i32).collect();
            let recorded = state.inputs.iter().filter(|d| d.channel == c as u32).flat_map(|d| decode(&d.elements));
            from_c.extend(values(&recorded.collect::<Vec<_>>()));
            let before = w.before_barrier[c].expect("finish sent every barrier");
            prop_assert_eq!(&from_c, &w.sent[c][..before].to_vec(), "channel {}", c);
        }

        // Output: of what the task emitted before its snapshot, downstream took some before
        // the barrier, the barrier overtook some in the downstream gate (downstream's input
        // state), and the rest is the output channel state, which follows those.
        let at = w.received.iter().position(|e| matches!(e, StreamElement::Barrier(_))).expect("the barrier went out");
        let output = values(&state.outputs.iter().flat_map(|d| decode(&d.elements)).collect::<Vec<_>>());
        let k = w.overtaken_downstream;
        let after = &w.received[at + 1..];
        let mut emitted = values(&w.received[..at]);
        emitted.extend(values(&after[..k]));
        emitted.extend(output.iter().copied());
        prop_assert_eq!(&emitted, &processed, "output before the snapshot");
        prop_assert_eq!(&values(&after[k..])[..output.len()], &output[..], "the output state follows the overtaken data");
        // Nothing is lost: downstream got everything the task processed, once.
        prop_assert_eq!(values(&w.received), w.log.lock().clone());
    }
}
