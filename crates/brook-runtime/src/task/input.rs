//! What drives a task: its input gates (or, for source tasks, a source reader).
//!
//! Barriers are aligned here: each input keeps a [`BarrierAligner`] over all its
//! channels, blocks channels in its gates as the aligner says, and takes the
//! task's snapshot through [`TaskCheckpoints::perform`] when a barrier is aligned.
//! For unaligned checkpoints it snapshots at the first barrier, hands every data
//! element of a channel still being recorded to [`TaskCheckpoints::record_input`]
//! before processing it, and, after a restore, processes the recovered input channel
//! state before anything from its gates.

use crate::channel::InputGate;
use crate::checkpoint::{
    AlignmentAction, BarrierAligner, ChainSnapshot, ChainVisitor, ChannelStateSnapshot, CheckpointHooks, ElementCodec,
    SnapshotError, StateSnapshotContext, TaskCheckpoints,
};
use crate::operators::TwoInputOperator;
use crate::output::{Output, attribute_panic};
use crate::watermark_valve::{ValveOutput, WatermarkValve};
use brook_types::{CheckpointBarrier, CheckpointId, OperatorId, Result, StreamElement, Timestamp, Watermark};
use std::collections::VecDeque;
use std::task::{Context, Poll};

/// Whether a task has more input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputStatus {
    MoreAvailable,
    /// End of input was seen on every channel and propagated down the chain;
    /// returned once. Later calls only take part in checkpoints (barriers that
    /// follow the end of input).
    Finished,
}

/// The driver of a task: processes one input element per call.
pub trait TaskInput: Send {
    fn poll_process(&mut self, cx: &mut Context<'_>, checkpoints: &mut TaskCheckpoints) -> Poll<Result<InputStatus>>;

    /// Processing time reached `now`: pass it down the chain.
    fn on_processing_time(&mut self, now: Timestamp);

    /// The coordinator triggered a checkpoint here (source tasks). Other tasks get
    /// their barriers through their inputs and decline.
    fn trigger_checkpoint(&mut self, barrier: CheckpointBarrier, checkpoints: &mut TaskCheckpoints) {
        checkpoints.decline(barrier.id, "only source tasks are triggered; this task aligns barriers".to_string());
    }

    /// Every operator of the chain runs its `notify_checkpoint_complete`.
    fn notify_checkpoint_complete(&mut self, checkpoint: CheckpointId, checkpoints: &mut TaskCheckpoints);

    /// Stop-with-savepoint at a source task: with `drain`, end event time (MAX
    /// watermark) and the input first; then take part in the savepoint `barrier` and
    /// emit nothing more until [`resume_after_failed_stop`](Self::resume_after_failed_stop).
    /// Other tasks are never asked (they decline, as for a trigger).
    fn stop_with_savepoint(&mut self, barrier: CheckpointBarrier, _drain: bool, checkpoints: &mut TaskCheckpoints) {
        self.trigger_checkpoint(barrier, checkpoints);
    }

    /// The stop-with-savepoint failed: a source emits again.
    fn resume_after_failed_stop(&mut self) {}
    /// Takes a priority element (an unaligned checkpoint barrier that overtook the data
    /// queued in its channel) while the task cannot process data because its outputs
    /// wait for credits. Ready when one was handled.
    fn poll_priority(&mut self, _cx: &mut Context<'_>, _checkpoints: &mut TaskCheckpoints) -> Poll<()> {
        Poll::Pending
    }

    /// When an alignment in progress switches to an unaligned checkpoint
    /// (`aligned-checkpoint-timeout`), in ms since the epoch.
    fn alignment_deadline(&self) -> Option<Timestamp> {
        None
    }

    /// The alignment deadline passed: switch to an unaligned checkpoint.
    fn on_alignment_timeout(&mut self, _checkpoints: &mut TaskCheckpoints) {}

    /// Recovered input channel state (unaligned checkpoints), to be processed before
    /// anything from the gates. Inputs without gates (sources) have none.
    fn restore_input_channels(&mut self, state: &ChannelStateSnapshot) -> Result<(), String> {
        match state.inputs.first() {
            None => Ok(()),
            Some(c) => Err(format!("it has input channel state for input {} but the task has no inputs", c.gate)),
        }
    }
}

/// Decodes the recovered elements of input `gate`, with their channel index offset by `first`.
fn decode_input<T>(
    state: &ChannelStateSnapshot,
    gate: u32,
    first: usize,
    codec: Option<ElementCodec<T>>,
) -> Result<VecDeque<(usize, StreamElement<T>)>, String> {
    let mut replay = VecDeque::new();
    for data in state.inputs.iter().filter(|c| c.gate == gate) {
        let codec = codec.ok_or("this task input cannot decode recovered records")?;
        for bytes in &data.elements {
            let element = (codec.decode)(bytes)
                .map_err(|e| format!("a recovered element of input {gate} does not decode: {e}"))?;
            replay.push_back((first + data.channel as usize, element));
        }
    }
    Ok(replay)
}

/// Refuses channel state taken with other channel counts (another parallelism).
fn check_input_channels(state: &ChannelStateSnapshot, now: &[usize]) -> Result<(), String> {
    let then: Vec<usize> = state.input_channels.iter().map(|&n| n as usize).collect();
    if then != now {
        return Err(format!(
            "its unaligned channel state was taken with {then:?} input channels and the task now has {now:?} \
             (another parallelism upstream); channel state cannot be redistributed: restore at the parallelism of \
             the checkpoint, or take a savepoint (always aligned) and rescale from it"
        ));
    }
    Ok(())
}

/// Wall-clock time in ms since the epoch, the clock of checkpoint timestamps.
pub(super) fn wall_clock_ms() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn apply_valve<T>(out: ValveOutput, head: &mut dyn Output<T>) {
    if let Some(status) = out.status {
        head.emit_watermark_status(status);
    }
    if let Some(w) = out.watermark {
        head.emit_watermark(w);
    }
}

/// Applies an aligner's actions to the gates a channel index falls into
/// (`split`: the first channel of the second gate) and to the task's checkpoints;
/// `overtaken`: the data the barrier that caused them overtook in its gate (0 for an
/// end of input); `visit` runs the chain's operators through a snapshot.
fn apply_alignment<A, B>(
    actions: Vec<AlignmentAction>,
    gate1: &mut InputGate<A>,
    mut gate2: Option<&mut InputGate<B>>,
    split: usize,
    overtaken: usize,
    checkpoints: &mut TaskCheckpoints,
    mut visit: impl FnMut(&mut ChainSnapshot),
) {
    for action in actions {
        match action {
            AlignmentAction::Block(c) if c < split => gate1.block(c),
            AlignmentAction::Block(c) => gate2.as_deref_mut().expect("channel of the second input").block(c - split),
            AlignmentAction::Unblock(c) if c < split => gate1.unblock(c),
            AlignmentAction::Unblock(c) => {
                gate2.as_deref_mut().expect("channel of the second input").unblock(c - split)
            }
            AlignmentAction::Snapshot(barrier) => checkpoints.perform(barrier, &mut visit),
            AlignmentAction::SnapshotUnaligned { barrier, record } => {
                checkpoints.perform_unaligned(barrier, &record, &mut visit)
            }
            AlignmentAction::StopRecording(c) => checkpoints.stop_recording(c, overtaken),
            AlignmentAction::CompleteUnaligned(id) => checkpoints.complete_unaligned(id),
            AlignmentAction::AbandonUnaligned(id) => checkpoints.abandon_unaligned(id),
        }
    }
}

/// A task with one input (possibly the union of several edges).
pub struct OneInputTaskInput<T> {
    gate: InputGate<T>,
    head: Box<dyn Output<T>>,
    valve: WatermarkValve,
    ended: Vec<bool>,
    remaining: usize,
    aligner: Option<BarrierAligner>,
    finished: bool,
    codec: Option<ElementCodec<T>>,
    /// Recovered input channel state, processed before the gate.
    replay: VecDeque<(usize, StreamElement<T>)>,
}

impl<T> OneInputTaskInput<T> {
    pub fn new(gate: InputGate<T>, head: Box<dyn Output<T>>) -> Self {
        let n = gate.num_channels();
        Self {
            gate,
            head,
            valve: WatermarkValve::new(n),
            ended: vec![false; n],
            remaining: n,
            aligner: None,
            finished: false,
            codec: None,
            replay: VecDeque::new(),
        }
    }

    /// Encodes and decodes channel state with `codec` (unaligned checkpoints).
    pub fn with_codec(mut self, codec: ElementCodec<T>) -> Self {
        self.codec = Some(codec);
        self
    }

    fn on_barrier(&mut self, channel: usize, barrier: CheckpointBarrier, checkpoints: &mut TaskCheckpoints) {
        let n = self.ended.len();
        let overtaken = self.gate.overtaken(channel);
        let aligner = self.aligner.get_or_insert_with(|| checkpoints.aligner(&[n]));
        let mut actions = aligner.on_barrier(channel, barrier);
        // A checkpoint triggered longer ago than the aligned-checkpoint-timeout goes unaligned at once.
        actions.extend(aligner.on_alignment_timeout(wall_clock_ms()));
        let head = &mut self.head;
        apply_alignment::<T, T>(actions, &mut self.gate, None, n, overtaken, checkpoints, |snapshot| {
            head.visit_operators(snapshot)
        });
    }

    fn finish(&mut self, checkpoints: &mut TaskCheckpoints) -> Poll<Result<InputStatus>> {
        self.head.end_input();
        self.finished = true;
        checkpoints.mark_input_finished();
        Poll::Ready(Ok(InputStatus::Finished))
    }
}

impl<T: Send> TaskInput for OneInputTaskInput<T> {
    fn on_processing_time(&mut self, now: Timestamp) {
        self.head.on_processing_time(now);
    }

    fn poll_process(&mut self, cx: &mut Context<'_>, checkpoints: &mut TaskCheckpoints) -> Poll<Result<InputStatus>> {
        if let Some((channel, element)) = self.replay.pop_front() {
            // Recovered channel state: data the restored checkpoint had not processed.
            match element {
                StreamElement::Records(batch) => self.head.collect(batch),
                StreamElement::Watermark(w) => apply_valve(self.valve.input_watermark(channel, w), &mut *self.head),
                StreamElement::WatermarkStatus(s) => apply_valve(self.valve.input_status(channel, s), &mut *self.head),
                _ => {}
            }
            return Poll::Ready(Ok(InputStatus::MoreAvailable));
        }
        if self.remaining == 0 && !self.finished {
            return self.finish(checkpoints);
        }
        let (channel, element) = match self.gate.poll_next(cx) {
            Poll::Ready(x) => x,
            Poll::Pending => return remote_failure(&self.gate),
        };
        let n = self.ended.len();
        if checkpoints.is_recording(channel) {
            checkpoints.record_input(channel, &element, self.codec);
        }
        match element {
            StreamElement::Records(batch) => self.head.collect(batch),
            StreamElement::Watermark(w) => apply_valve(self.valve.input_watermark(channel, w), &mut *self.head),
            StreamElement::WatermarkStatus(s) => apply_valve(self.valve.input_status(channel, s), &mut *self.head),
            StreamElement::Barrier(barrier) => self.on_barrier(channel, barrier, checkpoints),
            StreamElement::LatencyMarker(_) => {}
            StreamElement::EndOfInput => {
                if !std::mem::replace(&mut self.ended[channel], true) {
                    self.remaining -= 1;
                    // A finished channel no longer holds back event time.
                    apply_valve(self.valve.input_watermark(channel, Watermark::MAX), &mut *self.head);
                    let actions =
                        self.aligner.get_or_insert_with(|| checkpoints.aligner(&[n])).on_end_of_input(channel);
                    // The last input ended: the chain finishes before a snapshot this
                    // completes (a drained stop-with-savepoint's barrier follows the end
                    // of input on every channel, so what `finish` emits belongs before it).
                    let result = (self.remaining == 0).then(|| self.finish(checkpoints));
                    let head = &mut self.head;
                    apply_alignment::<T, T>(actions, &mut self.gate, None, n, 0, checkpoints, |snapshot| {
                        head.visit_operators(snapshot)
                    });
                    if let Some(result) = result {
                        return result;
                    }
                }
            }
        }
        Poll::Ready(Ok(InputStatus::MoreAvailable))
    }

    fn notify_checkpoint_complete(&mut self, checkpoint: CheckpointId, checkpoints: &mut TaskCheckpoints) {
        let head = &mut self.head;
        checkpoints.notify_complete(checkpoint, |visitor| head.visit_operators(visitor));
    }

    fn alignment_deadline(&self) -> Option<Timestamp> {
        self.aligner.as_ref().and_then(BarrierAligner::alignment_deadline)
    }

    fn on_alignment_timeout(&mut self, checkpoints: &mut TaskCheckpoints) {
        let Some(aligner) = self.aligner.as_mut() else { return };
        let actions = aligner.on_alignment_timeout(wall_clock_ms());
        let (n, head) = (self.ended.len(), &mut self.head);
        apply_alignment::<T, T>(actions, &mut self.gate, None, n, 0, checkpoints, |snapshot| {
            head.visit_operators(snapshot)
        });
    }

    fn poll_priority(&mut self, cx: &mut Context<'_>, checkpoints: &mut TaskCheckpoints) -> Poll<()> {
        if !self.replay.is_empty() {
            // Recovered data goes first; a barrier taken now would leave it out of the snapshot.
            return Poll::Pending;
        }
        match self.gate.poll_priority(cx) {
            Poll::Ready((channel, StreamElement::Barrier(barrier))) => {
                self.on_barrier(channel, barrier, checkpoints);
                Poll::Ready(())
            }
            Poll::Ready(_) => unreachable!("the gate's priority elements are barriers"),
            Poll::Pending => Poll::Pending,
        }
    }

    fn restore_input_channels(&mut self, state: &ChannelStateSnapshot) -> Result<(), String> {
        check_input_channels(state, &[self.ended.len()])?;
        self.replay = decode_input(state, 0, 0, self.codec)?;
        Ok(())
    }
}

/// A task whose head operator has two inputs (`connect`).
pub struct TwoInputTaskInput<A, B, O, Op> {
    name: String,
    operator_id: OperatorId,
    records_in: crate::metrics::Counter,
    gate1: InputGate<A>,
    gate2: InputGate<B>,
    op: Op,
    out: Box<dyn Output<O>>,
    valve: WatermarkValve,
    n1: usize,
    ended: Vec<bool>,
    remaining: usize,
    prefer_second: bool,
    aligner: Option<BarrierAligner>,
    finished: bool,
    codecs: (Option<ElementCodec<A>>, Option<ElementCodec<B>>),
    /// Recovered input channel state of each input, processed before the gates.
    replay: (VecDeque<(usize, StreamElement<A>)>, VecDeque<(usize, StreamElement<B>)>),
    _types: std::marker::PhantomData<fn(A, B) -> O>,
}

impl<A, B, O, Op> TwoInputTaskInput<A, B, O, Op> {
    pub fn new(
        name: String,
        operator_id: OperatorId,
        records_in: crate::metrics::Counter,
        gate1: InputGate<A>,
        gate2: InputGate<B>,
        op: Op,
        out: Box<dyn Output<O>>,
    ) -> Self {
        let n1 = gate1.num_channels();
        let n = n1 + gate2.num_channels();
        Self {
            name,
            operator_id,
            records_in,
            gate1,
            gate2,
            op,
            out,
            valve: WatermarkValve::new(n),
            n1,
            ended: vec![false; n],
            remaining: n,
            prefer_second: false,
            aligner: None,
            finished: false,
            codecs: (None, None),
            replay: (VecDeque::new(), VecDeque::new()),
            _types: std::marker::PhantomData,
        }
    }

    /// Encodes and decodes channel state with these codecs (unaligned checkpoints).
    pub fn with_codecs(mut self, first: ElementCodec<A>, second: ElementCodec<B>) -> Self {
        self.codecs = (Some(first), Some(second));
        self
    }

    fn on_valve(&mut self, v: ValveOutput)
    where
        Op: TwoInputOperator<A, B, O>,
    {
        if let Some(status) = v.status {
            self.out.emit_watermark_status(status);
        }
        if let Some(w) = v.watermark {
            let (op, out) = (&mut self.op, &mut *self.out);
            attribute_panic(&self.name, || op.process_watermark(w, out));
        }
    }

    fn finish(&mut self, checkpoints: &mut TaskCheckpoints) -> Poll<Result<InputStatus>>
    where
        Op: TwoInputOperator<A, B, O>,
    {
        let (op, out) = (&mut self.op, &mut *self.out);
        attribute_panic(&self.name, || op.finish(out));
        self.out.end_input();
        self.finished = true;
        checkpoints.mark_input_finished();
        Poll::Ready(Ok(InputStatus::Finished))
    }

    fn align(&mut self, actions: Vec<AlignmentAction>, overtaken: usize, checkpoints: &mut TaskCheckpoints)
    where
        Op: TwoInputOperator<A, B, O>,
    {
        let (op, out, name, id) = (&mut self.op, &mut self.out, &self.name, self.operator_id);
        apply_alignment(actions, &mut self.gate1, Some(&mut self.gate2), self.n1, overtaken, checkpoints, |snapshot| {
            visit_two_input(id, name, op, out, snapshot)
        });
    }

    /// Barrier `barrier` on `channel` (both inputs numbered one after the other).
    fn on_barrier(&mut self, channel: usize, barrier: CheckpointBarrier, checkpoints: &mut TaskCheckpoints)
    where
        Op: TwoInputOperator<A, B, O>,
    {
        let overtaken =
            if channel < self.n1 { self.gate1.overtaken(channel) } else { self.gate2.overtaken(channel - self.n1) };
        let gates = [self.n1, self.ended.len() - self.n1];
        let aligner = self.aligner.get_or_insert_with(|| checkpoints.aligner(&gates));
        let mut actions = aligner.on_barrier(channel, barrier);
        // A checkpoint triggered longer ago than the aligned-checkpoint-timeout goes unaligned at once.
        actions.extend(aligner.on_alignment_timeout(wall_clock_ms()));
        self.align(actions, overtaken, checkpoints);
    }

    /// Processes one recovered element, if any is left; the first input's go first.
    fn replay_one(&mut self) -> bool
    where
        Op: TwoInputOperator<A, B, O>,
    {
        let (channel, control) = if let Some((channel, element)) = self.replay.0.pop_front() {
            match element {
                StreamElement::Records(batch) => {
                    let (op, out) = (&mut self.op, &mut *self.out);
                    attribute_panic(&self.name, || op.process_batch1(batch, out));
                    return true;
                }
                other => (channel, other.map_control()),
            }
        } else if let Some((channel, element)) = self.replay.1.pop_front() {
            match element {
                StreamElement::Records(batch) => {
                    let (op, out) = (&mut self.op, &mut *self.out);
                    attribute_panic(&self.name, || op.process_batch2(batch, out));
                    return true;
                }
                other => (channel, other.map_control()),
            }
        } else {
            return false;
        };
        match control {
            Control::Watermark(w) => {
                let v = self.valve.input_watermark(channel, w);
                self.on_valve(v);
            }
            Control::Status(s) => {
                let v = self.valve.input_status(channel, s);
                self.on_valve(v);
            }
            Control::Barrier(_) | Control::End | Control::Other => {}
        }
        true
    }
}

/// A two-input operator's hooks, object-safe.
struct TwoInputHooks<'a, A, B, O, Op>(&'a mut Op, std::marker::PhantomData<fn(A, B) -> O>);

impl<A, B, O, Op: TwoInputOperator<A, B, O>> CheckpointHooks for TwoInputHooks<'_, A, B, O, Op> {
    fn snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        self.0.snapshot_state(ctx)
    }

    fn notify_checkpoint_complete(&mut self, checkpoint: CheckpointId) -> Result<(), SnapshotError> {
        self.0.notify_checkpoint_complete(checkpoint)
    }
}

/// Visits the head operator, the operators behind its side outputs, then the rest of the chain.
fn visit_two_input<A, B, O, Op: TwoInputOperator<A, B, O>>(
    id: OperatorId,
    name: &str,
    op: &mut Op,
    out: &mut Box<dyn Output<O>>,
    visitor: &mut dyn ChainVisitor,
) {
    visitor.visit(id, name, &mut TwoInputHooks::<A, B, O, Op>(op, std::marker::PhantomData));
    if let Some(sides) = op.side_outputs_mut() {
        sides.visit_operators(visitor);
    }
    out.visit_operators(visitor);
}

impl<A: Send, B: Send, O: Send, Op: TwoInputOperator<A, B, O>> TaskInput for TwoInputTaskInput<A, B, O, Op> {
    fn on_processing_time(&mut self, now: Timestamp) {
        let (op, out) = (&mut self.op, &mut *self.out);
        attribute_panic(&self.name, || op.on_processing_time(now, out));
        self.out.on_processing_time(now);
    }

    fn poll_process(&mut self, cx: &mut Context<'_>, checkpoints: &mut TaskCheckpoints) -> Poll<Result<InputStatus>> {
        if self.replay_one() {
            return Poll::Ready(Ok(InputStatus::MoreAvailable));
        }
        if self.remaining == 0 && !self.finished {
            return self.finish(checkpoints);
        }
        // Alternate which input is served first, so neither starves the other.
        self.prefer_second = !self.prefer_second;
        let mut first_pending = false;
        for turn in 0..2 {
            let second = (turn == 0) == self.prefer_second;
            let (channel, kind) = if second {
                match self.gate2.poll_next(cx) {
                    Poll::Ready((ch, el)) => {
                        if checkpoints.is_recording(self.n1 + ch) {
                            checkpoints.record_input(self.n1 + ch, &el, self.codecs.1);
                        }
                        match el {
                            StreamElement::Records(batch) => {
                                self.records_in.add(batch.len() as u64);
                                let (op, out) = (&mut self.op, &mut *self.out);
                                attribute_panic(&self.name, || op.process_batch2(batch, out));
                                return Poll::Ready(Ok(InputStatus::MoreAvailable));
                            }
                            other => (self.n1 + ch, other.map_control()),
                        }
                    }
                    Poll::Pending => {
                        first_pending = true;
                        continue;
                    }
                }
            } else {
                match self.gate1.poll_next(cx) {
                    Poll::Ready((ch, el)) => {
                        if checkpoints.is_recording(ch) {
                            checkpoints.record_input(ch, &el, self.codecs.0);
                        }
                        match el {
                            StreamElement::Records(batch) => {
                                self.records_in.add(batch.len() as u64);
                                let (op, out) = (&mut self.op, &mut *self.out);
                                attribute_panic(&self.name, || op.process_batch1(batch, out));
                                return Poll::Ready(Ok(InputStatus::MoreAvailable));
                            }
                            other => (ch, other.map_control()),
                        }
                    }
                    Poll::Pending => {
                        first_pending = true;
                        continue;
                    }
                }
            };
            let n = self.ended.len();
            match kind {
                Control::Watermark(w) => {
                    let v = self.valve.input_watermark(channel, w);
                    self.on_valve(v);
                }
                Control::Status(s) => {
                    let v = self.valve.input_status(channel, s);
                    self.on_valve(v);
                }
                Control::Barrier(barrier) => self.on_barrier(channel, barrier, checkpoints),
                Control::Other => {}
                Control::End => {
                    if !std::mem::replace(&mut self.ended[channel], true) {
                        self.remaining -= 1;
                        let v = self.valve.input_watermark(channel, Watermark::MAX);
                        self.on_valve(v);
                        let gates = [self.n1, n - self.n1];
                        let actions =
                            self.aligner.get_or_insert_with(|| checkpoints.aligner(&gates)).on_end_of_input(channel);
                        // As for one input: the chain finishes before a snapshot this completes.
                        let result = (self.remaining == 0).then(|| self.finish(checkpoints));
                        self.align(actions, 0, checkpoints);
                        if let Some(result) = result {
                            return result;
                        }
                    }
                }
            }
            return Poll::Ready(Ok(InputStatus::MoreAvailable));
        }
        debug_assert!(first_pending);
        match remote_failure(&self.gate1) {
            Poll::Pending => remote_failure(&self.gate2),
            failed => failed,
        }
    }

    fn notify_checkpoint_complete(&mut self, checkpoint: CheckpointId, checkpoints: &mut TaskCheckpoints) {
        let (op, out, name, id) = (&mut self.op, &mut self.out, &self.name, self.operator_id);
        checkpoints.notify_complete(checkpoint, |visitor| visit_two_input(id, name, op, out, visitor));
    }

    fn alignment_deadline(&self) -> Option<Timestamp> {
        self.aligner.as_ref().and_then(BarrierAligner::alignment_deadline)
    }

    fn on_alignment_timeout(&mut self, checkpoints: &mut TaskCheckpoints) {
        let Some(aligner) = self.aligner.as_mut() else { return };
        let actions = aligner.on_alignment_timeout(wall_clock_ms());
        self.align(actions, 0, checkpoints);
    }

    fn poll_priority(&mut self, cx: &mut Context<'_>, checkpoints: &mut TaskCheckpoints) -> Poll<()> {
        if !self.replay.0.is_empty() || !self.replay.1.is_empty() {
            // Recovered data goes first; a barrier taken now would leave it out of the snapshot.
            return Poll::Pending;
        }
        let (channel, element) = match self.gate1.poll_priority(cx) {
            Poll::Ready((ch, el)) => (ch, el.map_control()),
            Poll::Pending => match self.gate2.poll_priority(cx) {
                Poll::Ready((ch, el)) => (self.n1 + ch, el.map_control()),
                Poll::Pending => return Poll::Pending,
            },
        };
        let Control::Barrier(barrier) = element else { unreachable!("the gates' priority elements are barriers") };
        self.on_barrier(channel, barrier, checkpoints);
        Poll::Ready(())
    }

    fn restore_input_channels(&mut self, state: &ChannelStateSnapshot) -> Result<(), String> {
        check_input_channels(state, &[self.n1, self.ended.len() - self.n1])?;
        self.replay = (decode_input(state, 0, 0, self.codecs.0)?, decode_input(state, 1, self.n1, self.codecs.1)?);
        Ok(())
    }
}

enum Control {
    Watermark(Watermark),
    Status(brook_types::WatermarkStatus),
    Barrier(CheckpointBarrier),
    End,
    Other,
}

trait MapControl {
    fn map_control(self) -> Control;
}

impl<T> MapControl for StreamElement<T> {
    fn map_control(self) -> Control {
        match self {
            StreamElement::Watermark(w) => Control::Watermark(w),
            StreamElement::WatermarkStatus(s) => Control::Status(s),
            StreamElement::EndOfInput => Control::End,
            StreamElement::Barrier(barrier) => Control::Barrier(barrier),
            StreamElement::Records(_) | StreamElement::LatencyMarker(_) => Control::Other,
        }
    }
}

/// A gate with nothing to take whose remote channel failed fails the task.
fn remote_failure<T>(gate: &InputGate<T>) -> Poll<Result<InputStatus>> {
    match gate.failure() {
        Some(cause) => Poll::Ready(Err(brook_types::BrookError::Network(cause))),
        None => Poll::Pending,
    }
}
