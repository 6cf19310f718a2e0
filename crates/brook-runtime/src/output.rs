//! Outputs: where an operator's results go.
//!
//! Inside a task, operators form a chain: each operator's [`Output`] is the next
//! operator (wrapped in a [`ChainedOperator`] link), a [`FanOut`] to several, or a
//! [`crate::writer::RecordWriter`] at the task's edge. Calls go down the chain
//! synchronously, one batch at a time.

use crate::checkpoint::{
    ChainVisitor, CheckpointHooks, SnapshotError, StateInitializationContext, StateSnapshotContext,
};
use crate::metrics::Counter;
use crate::side_output::SideOutputs;
use brook_types::{Batch, CheckpointId, OperatorId, Timestamp, Watermark, WatermarkStatus};
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
    /// Visits the operators behind this output, in chain order, for their checkpoint
    /// hooks. Every output that leads to operators passes the visitor on; record
    /// writers end the chain (the task puts barriers into them itself).
    fn visit_operators(&mut self, _visitor: &mut dyn ChainVisitor) {}
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

    /// Checkpoint hook: put this operator's state into `ctx` (see [`crate::checkpoint`]).
    /// **The default refuses** ([`SnapshotError::NotSupported`]), which declines the
    /// checkpoint naming the operator: an operator that keeps state must implement
    /// this, and a stateless one returns `Ok(())`.
    fn snapshot_state(&mut self, _ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        Err(SnapshotError::NotSupported)
    }

    /// Restore hook, called before the first record when the job restores from a
    /// checkpoint. The default refuses if the checkpoint holds state for this operator.
    fn initialize_state(&mut self, ctx: &StateInitializationContext) -> Result<(), SnapshotError> {
        if ctx.has_state() { Err(SnapshotError::NotSupported) } else { Ok(()) }
    }

    /// Checkpoint `checkpoint` completed: everything before its barrier is durable
    /// (two-phase-commit sinks commit here). An error fails the task.
    fn notify_checkpoint_complete(&mut self, _checkpoint: CheckpointId) -> Result<(), SnapshotError> {
        Ok(())
    }

    /// The side outputs this operator owns, so that checkpoints reach the operators
    /// chained behind them.
    fn side_outputs_mut(&mut self) -> Option<&mut SideOutputs> {
        None
    }
}

/// A one-input operator's hooks, object-safe.
struct OneInputHooks<'a, In, Out, Op>(&'a mut Op, std::marker::PhantomData<fn(In) -> Out>);

impl<In, Out, Op: OneInputOperator<In, Out>> CheckpointHooks for OneInputHooks<'_, In, Out, Op> {
    fn snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        self.0.snapshot_state(ctx)
    }

    fn notify_checkpoint_complete(&mut self, checkpoint: CheckpointId) -> Result<(), SnapshotError> {
        self.0.notify_checkpoint_complete(checkpoint)
    }
}

/// Links operator `op` to its output and counts what passes.
pub struct ChainedOperator<In, Out, Op> {
    name: String,
    operator_id: OperatorId,
    op: Op,
    out: Box<dyn Output<Out>>,
    records_in: Counter,
    _in: std::marker::PhantomData<fn(In)>,
}

impl<In, Out, Op> ChainedOperator<In, Out, Op>
where
    Op: OneInputOperator<In, Out>,
{
    pub fn new(name: String, operator_id: OperatorId, op: Op, out: Box<dyn Output<Out>>, records_in: Counter) -> Self {
        Self { name, operator_id, op, out, records_in, _in: std::marker::PhantomData }
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

    fn visit_operators(&mut self, visitor: &mut dyn ChainVisitor) {
        visitor.visit(self.operator_id, &self.name, &mut OneInputHooks(&mut self.op, std::marker::PhantomData));
        if let Some(sides) = self.op.side_outputs_mut() {
            sides.visit_operators(visitor);
        }
        self.out.visit_operators(visitor);
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

    fn visit_operators(&mut self, visitor: &mut dyn ChainVisitor) {
        self.outputs.iter_mut().for_each(|o| o.visit_operators(visitor));
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
    fn visit_operators(&mut self, visitor: &mut dyn ChainVisitor) {
        self.inner.visit_operators(visitor);
    }
}
