use crate::checkpoint::{SnapshotError, StateInitializationContext, StateSnapshotContext};
use crate::functions::{Collector, Context, ProcessFunction, RuntimeContext};
use crate::output::{OneInputOperator, Output};
use crate::side_output::SideOutputs;
use brook_state::OperatorStateBackend;
use brook_types::{Batch, Timestamp, Watermark};
use std::marker::PhantomData;

/// `process`: a [`ProcessFunction`] with context and side outputs.
pub struct ProcessOperator<I, O, P> {
    function: P,
    runtime: RuntimeContext,
    side_outputs: SideOutputs,
    watermark: Watermark,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O, P: ProcessFunction<I, O>> ProcessOperator<I, O, P> {
    pub fn new(mut function: P, runtime: RuntimeContext, side_outputs: SideOutputs) -> Self {
        function.open(&runtime);
        Self { function, runtime, side_outputs, watermark: Watermark::MIN, _types: PhantomData }
    }
}

impl<I, O, P> OneInputOperator<I, O> for ProcessOperator<I, O, P>
where
    I: Send,
    O: Send,
    P: ProcessFunction<I, O>,
{
    fn process_batch(&mut self, batch: Batch<I>, out: &mut dyn Output<O>) {
        let mut collector = Collector::new();
        collector.buffer.reserve(batch.len());
        for r in batch {
            collector.timestamp = r.timestamp;
            let mut ctx = Context {
                timestamp: r.timestamp,
                watermark: self.watermark,
                side_outputs: &mut self.side_outputs,
                runtime: &self.runtime,
            };
            self.function.process_element(r.value, &mut ctx, &mut collector);
        }
        self.side_outputs.flush();
        if !collector.buffer.is_empty() {
            out.collect(collector.buffer);
        }
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output<O>) {
        self.watermark = watermark;
        self.side_outputs.emit_watermark(watermark);
        out.emit_watermark(watermark);
    }

    fn on_processing_time(&mut self, now: Timestamp, _out: &mut dyn Output<O>) {
        self.side_outputs.on_processing_time(now);
    }

    fn finish(&mut self, out: &mut dyn Output<O>) {
        let mut collector = Collector::new();
        self.function.finish(&mut collector);
        if !collector.buffer.is_empty() {
            out.collect(collector.buffer);
        }
        self.side_outputs.end_input();
    }

    /// The function's operator state ([`ProcessFunction::snapshot_state`]); its
    /// fields are not checkpointed (as in Flink).
    fn snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        let mut backend = OperatorStateBackend::new(&self.runtime.operator_name);
        self.function.snapshot_state(&mut backend)?;
        // A function without operator state leaves none (its operator stays stateless
        // in `_metadata`, so restores may map it to any operator).
        if !backend.is_empty() {
            ctx.set_operator_state(backend.snapshot()?);
        }
        Ok(())
    }

    fn initialize_state(&mut self, ctx: &StateInitializationContext) -> Result<(), SnapshotError> {
        let mut backend = OperatorStateBackend::new(&self.runtime.operator_name);
        if let Some(state) = ctx.operator_state() {
            backend.restore(&state.bytes)?;
        }
        self.function.initialize_state(&mut backend)?;
        Ok(())
    }

    fn side_outputs_mut(&mut self) -> Option<&mut SideOutputs> {
        Some(&mut self.side_outputs)
    }
}
