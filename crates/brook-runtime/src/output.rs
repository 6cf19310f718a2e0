//! Outputs: where an operator's results go.
//!
//! Inside a task, operators form a chain: each operator's [`Output`] is the next
//! operator (wrapped in a [`ChainedOperator`] link), a [`FanOut`] to several, or a
//! [`crate::writer::RecordWriter`] at the task's edge. Calls go down the chain
//! synchronously, one batch at a time.

use crate::metrics::Counter;
use brook_types::{Batch, Timestamp, Watermark, WatermarkStatus};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// A consumer of a stream of type `T`.
pub trait Output<T>: Send {
    /// Records, in order.
    fn collect(&mut self, batch: Batch<T>);
    /// Event time advanced to `watermark`.
    fn emit_watermark(&mut self, watermark: Watermark);
    /// The stream became idle or active.
    fn emit_watermark_status(&mut self, status: WatermarkStatus);
    /// No more input: operators run `finish`, writers flush and send end of input.
    fn end_input(&mut self);
    /// The task's clock reached a deadline some operator registered; every operator
    /// of the chain fires its due processing-time timers.
    fn on_processing_time(&mut self, _now: Timestamp) {}
}

/// Type-erased `Box<dyn Output<T>>`, as passed between graph-building code that
/// does not know `T`.
pub type AnyOutput = Box<dyn Any + Send>;

/// Wraps a typed output for erased passing.
pub fn erase_output<T: 'static>(output: Box<dyn Output<T>>) -> AnyOutput {
    Box::new(output)
}

/// Recovers a typed output.
pub fn unerase_output<T: 'static>(output: AnyOutput) -> Box<dyn Output<T>> {
    *output.downcast::<Box<dyn Output<T>>>().expect("graph edges connect outputs and inputs of the same record type")
}

/// A panic raised by user code, with the operator that raised it.
#[derive(Debug, Clone)]
pub struct OperatorPanic {
    pub operator: String,
    pub message: String,
    /// Raised by [`fail_operator`] (an error, e.g. of I/O), not by a panic.
    pub is_error: bool,
}

/// An operator's error that must fail its task (a sink that cannot write). It
/// unwinds the chain like a panic but is reported as an error.
#[derive(Debug, Clone)]
pub struct OperatorFailure(pub String);

/// Fails the current task with `error` (from inside an operator).
pub fn fail_operator(error: impl std::fmt::Display) -> ! {
    std::panic::panic_any(OperatorFailure(error.to_string()))
}

/// The message of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(p) = payload.downcast_ref::<OperatorPanic>() {
        p.message.clone()
    } else if let Some(f) = payload.downcast_ref::<OperatorFailure>() {
        f.0.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

/// Runs `f`; if it panics, re-raises the panic tagged with `operator` (unless an
/// inner operator already tagged it).
#[inline]
pub fn attribute_panic<R>(operator: &str, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            if payload.is::<OperatorPanic>() {
                resume_unwind(payload)
            }
            let is_error = payload.is::<OperatorFailure>();
            let message = panic_message(payload.as_ref());
            resume_unwind(Box::new(OperatorPanic { operator: operator.to_string(), message, is_error }))
        }
    }
}

/// One operator in a chain, seen from upstream as an [`Output`] of its input type.
pub trait OneInputOperator<In, Out>: Send {
    /// Processes a batch of records.
    fn process_batch(&mut self, batch: Batch<In>, out: &mut dyn Output<Out>);

    /// Event time advanced; the default forwards the watermark.
    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output<Out>) {
        out.emit_watermark(watermark);
    }

    /// The input became idle or active; the default forwards the status.
    fn process_watermark_status(&mut self, status: WatermarkStatus, out: &mut dyn Output<Out>) {
        out.emit_watermark_status(status);
    }

    /// End of input: emit what is still held (final aggregates, buffered data).
    fn finish(&mut self, _out: &mut dyn Output<Out>) {}

    /// Processing time reached `now`: fire due processing-time timers.
    fn on_processing_time(&mut self, _now: Timestamp, _out: &mut dyn Output<Out>) {}
}

/// Links operator `op` to its output and counts what passes.
pub struct ChainedOperator<In, Out, Op> {
    name: String,
    op: Op,
    out: Box<dyn Output<Out>>,
    records_in: Counter,
    _in: std::marker::PhantomData<fn(In)>,
}

impl<In, Out, Op> ChainedOperator<In, Out, Op>
where
    Op: OneInputOperator<In, Out>,
{
    pub fn new(name: String, op: Op, out: Box<dyn Output<Out>>, records_in: Counter) -> Self {
        Self { name, op, out, records_in, _in: std::marker::PhantomData }
    }
}

impl<In, Out, Op> Output<In> for ChainedOperator<In, Out, Op>
where
    In: Send,
    Out: Send,
    Op: OneInputOperator<In, Out>,
{
    #[inline]
    fn collect(&mut self, batch: Batch<In>) {
        self.records_in.add(batch.len() as u64);
        let (op, out) = (&mut self.op, &mut *self.out);
        attribute_panic(&self.name, || op.process_batch(batch, out));
    }

    fn emit_watermark(&mut self, watermark: Watermark) {
        let (op, out) = (&mut self.op, &mut *self.out);
        attribute_panic(&self.name, || op.process_watermark(watermark, out));
    }

    fn emit_watermark_status(&mut self, status: WatermarkStatus) {
        let (op, out) = (&mut self.op, &mut *self.out);
        attribute_panic(&self.name, || op.process_watermark_status(status, out));
    }

    fn end_input(&mut self) {
        let (op, out) = (&mut self.op, &mut *self.out);
        attribute_panic(&self.name, || op.finish(out));
        self.out.end_input();
    }

    fn on_processing_time(&mut self, now: Timestamp) {
        let (op, out) = (&mut self.op, &mut *self.out);
        attribute_panic(&self.name, || op.on_processing_time(now, out));
        self.out.on_processing_time(now);
    }
}

/// Sends every element to several outputs (an operator with several consumers).
pub struct FanOut<T> {
    outputs: Vec<Box<dyn Output<T>>>,
}

impl<T> FanOut<T> {
    pub fn new(outputs: Vec<Box<dyn Output<T>>>) -> Self {
        Self { outputs }
    }
}

impl<T: Clone + Send> Output<T> for FanOut<T> {
    fn collect(&mut self, batch: Batch<T>) {
        if let Some((last, rest)) = self.outputs.split_last_mut() {
            for o in rest {
                o.collect(batch.clone());
            }
            last.collect(batch);
        }
    }

    fn emit_watermark(&mut self, watermark: Watermark) {
        self.outputs.iter_mut().for_each(|o| o.emit_watermark(watermark));
    }

    fn emit_watermark_status(&mut self, status: WatermarkStatus) {
        self.outputs.iter_mut().for_each(|o| o.emit_watermark_status(status));
    }

    fn end_input(&mut self) {
        self.outputs.iter_mut().for_each(|o| o.end_input());
    }

    fn on_processing_time(&mut self, now: Timestamp) {
        self.outputs.iter_mut().for_each(|o| o.on_processing_time(now));
    }
}

/// An output nobody consumes.
pub struct NoOutput;

impl<T> Output<T> for NoOutput {
    fn collect(&mut self, _batch: Batch<T>) {}
    fn emit_watermark(&mut self, _watermark: Watermark) {}
    fn emit_watermark_status(&mut self, _status: WatermarkStatus) {}
    fn end_input(&mut self) {}
}

/// Counts the records an operator emits (`numRecordsOut`).
pub struct CountingOutput<T> {
    inner: Box<dyn Output<T>>,
    records_out: Counter,
}

impl<T> CountingOutput<T> {
    pub fn new(inner: Box<dyn Output<T>>, records_out: Counter) -> Self {
        Self { inner, records_out }
    }
}

impl<T: Send> Output<T> for CountingOutput<T> {
    #[inline]
    fn collect(&mut self, batch: Batch<T>) {
        self.records_out.add(batch.len() as u64);
        self.inner.collect(batch);
    }
    fn emit_watermark(&mut self, watermark: Watermark) {
        self.inner.emit_watermark(watermark);
    }
    fn emit_watermark_status(&mut self, status: WatermarkStatus) {
        self.inner.emit_watermark_status(status);
    }
    fn end_input(&mut self) {
        self.inner.end_input();
    }
    fn on_processing_time(&mut self, now: Timestamp) {
        self.inner.on_processing_time(now);
    }
}
