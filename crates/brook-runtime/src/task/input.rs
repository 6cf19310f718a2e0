//! What drives a task: its input gates (or, for source tasks, a source reader).

use crate::channel::InputGate;
use crate::operators::TwoInputOperator;
use crate::output::{Output, attribute_panic};
use crate::watermark_valve::{ValveOutput, WatermarkValve};
use brook_types::{Result, StreamElement, Timestamp, Watermark};
use std::task::{Context, Poll};

/// Whether a task has more input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputStatus {
    MoreAvailable,
    /// End of input was seen on every channel and propagated down the chain.
    Finished,
}

/// The driver of a task: processes one input element per call.
pub trait TaskInput: Send {
    fn poll_process(&mut self, cx: &mut Context<'_>) -> Poll<Result<InputStatus>>;

    /// Processing time reached `now`: pass it down the chain.
    fn on_processing_time(&mut self, now: Timestamp);
}

fn apply_valve<T>(out: ValveOutput, head: &mut dyn Output<T>) {
    if let Some(status) = out.status {
        head.emit_watermark_status(status);
    }
    if let Some(w) = out.watermark {
        head.emit_watermark(w);
    }
}

/// A task with one input (possibly the union of several edges).
pub struct OneInputTaskInput<T> {
    gate: InputGate<T>,
    head: Box<dyn Output<T>>,
    valve: WatermarkValve,
    ended: Vec<bool>,
    remaining: usize,
}

impl<T> OneInputTaskInput<T> {
    pub fn new(gate: InputGate<T>, head: Box<dyn Output<T>>) -> Self {
        let n = gate.num_channels();
        Self { gate, head, valve: WatermarkValve::new(n), ended: vec![false; n], remaining: n }
    }
}

impl<T: Send> TaskInput for OneInputTaskInput<T> {
    fn on_processing_time(&mut self, now: Timestamp) {
        self.head.on_processing_time(now);
    }

    fn poll_process(&mut self, cx: &mut Context<'_>) -> Poll<Result<InputStatus>> {
        if self.remaining == 0 {
            self.head.end_input();
            return Poll::Ready(Ok(InputStatus::Finished));
        }
        let (channel, element) = match self.gate.poll_next(cx) {
            Poll::Ready(x) => x,
            Poll::Pending => return Poll::Pending,
        };
        match element {
            StreamElement::Records(batch) => self.head.collect(batch),
            StreamElement::Watermark(w) => apply_valve(self.valve.input_watermark(channel, w), &mut *self.head),
            StreamElement::WatermarkStatus(s) => apply_valve(self.valve.input_status(channel, s), &mut *self.head),
            StreamElement::Barrier(_) | StreamElement::LatencyMarker(_) => {}
            StreamElement::EndOfInput => {
                if !std::mem::replace(&mut self.ended[channel], true) {
                    self.remaining -= 1;
                    // A finished channel no longer holds back event time.
                    apply_valve(self.valve.input_watermark(channel, Watermark::MAX), &mut *self.head);
                    if self.remaining == 0 {
                        self.head.end_input();
                        return Poll::Ready(Ok(InputStatus::Finished));
                    }
                }
            }
        }
        Poll::Ready(Ok(InputStatus::MoreAvailable))
    }
}

/// A task whose head operator has two inputs (`connect`).
pub struct TwoInputTaskInput<A, B, O, Op> {
    name: String,
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
}

impl<A, B, O, Op> TwoInputTaskInput<A, B, O, Op> {
    pub fn new(
        name: String,
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
        }
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

    fn finish(&mut self)
    where
        Op: TwoInputOperator<A, B, O>,
    {
        let (op, out) = (&mut self.op, &mut *self.out);
        attribute_panic(&self.name, || op.finish(out));
        self.out.end_input();
    }
}

impl<A: Send, B: Send, O: Send, Op: TwoInputOperator<A, B, O>> TaskInput for TwoInputTaskInput<A, B, O, Op> {
    fn on_processing_time(&mut self, now: Timestamp) {
        let (op, out) = (&mut self.op, &mut *self.out);
        attribute_panic(&self.name, || op.on_processing_time(now, out));
        self.out.on_processing_time(now);
    }

    fn poll_process(&mut self, cx: &mut Context<'_>) -> Poll<Result<InputStatus>> {
        if self.remaining == 0 {
            self.finish();
            return Poll::Ready(Ok(InputStatus::Finished));
        }
        // Alternate which input is served first, so neither starves the other.
        self.prefer_second = !self.prefer_second;
        let mut first_pending = false;
        for turn in 0..2 {
            let second = (turn == 0) == self.prefer_second;
            let (channel, kind) = if second {
                match self.gate2.poll_next(cx) {
                    Poll::Ready((ch, el)) => match el {
                        StreamElement::Records(batch) => {
                            self.records_in.add(batch.len() as u64);
                            let (op, out) = (&mut self.op, &mut *self.out);
                            attribute_panic(&self.name, || op.process_batch2(batch, out));
                            return Poll::Ready(Ok(InputStatus::MoreAvailable));
                        }
                        other => (self.n1 + ch, other.map_control()),
                    },
                    Poll::Pending => {
                        first_pending = true;
                        continue;
                    }
                }
            } else {
                match self.gate1.poll_next(cx) {
                    Poll::Ready((ch, el)) => match el {
                        StreamElement::Records(batch) => {
                            self.records_in.add(batch.len() as u64);
                            let (op, out) = (&mut self.op, &mut *self.out);
                            attribute_panic(&self.name, || op.process_batch1(batch, out));
                            return Poll::Ready(Ok(InputStatus::MoreAvailable));
                        }
                        other => (ch, other.map_control()),
                    },
                    Poll::Pending => {
                        first_pending = true;
                        continue;
                    }
                }
            };
            match kind {
                Control::Watermark(w) => {
                    let v = self.valve.input_watermark(channel, w);
                    self.on_valve(v);
                }
                Control::Status(s) => {
                    let v = self.valve.input_status(channel, s);
                    self.on_valve(v);
                }
                Control::Other => {}
                Control::End => {
                    if !std::mem::replace(&mut self.ended[channel], true) {
                        self.remaining -= 1;
                        let v = self.valve.input_watermark(channel, Watermark::MAX);
                        self.on_valve(v);
                        if self.remaining == 0 {
                            self.finish();
                            return Poll::Ready(Ok(InputStatus::Finished));
                        }
                    }
                }
            }
            return Poll::Ready(Ok(InputStatus::MoreAvailable));
        }
        debug_assert!(first_pending);
        Poll::Pending
    }
}

enum Control {
    Watermark(Watermark),
    Status(brook_types::WatermarkStatus),
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
            StreamElement::Records(_) | StreamElement::Barrier(_) | StreamElement::LatencyMarker(_) => Control::Other,
        }
    }
}
