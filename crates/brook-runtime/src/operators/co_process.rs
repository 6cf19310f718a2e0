use crate::checkpoint::{SnapshotError, StateInitializationContext, StateSnapshotContext};
use crate::functions::{CoProcessFunction, Collector, Context, RuntimeContext};
use crate::output::Output;
use crate::side_output::SideOutputs;
use brook_types::{Batch, CheckpointId, Timestamp, Watermark};
use std::marker::PhantomData;

/// An operator with two inputs (`connect`). The task combines the watermarks of
/// both inputs before calling `process_watermark`.
pub trait TwoInputOperator<I1, I2, O>: Send {
    fn process_batch1(&mut self, batch: Batch<I1>, out: &mut dyn Output<O>);
    fn process_batch2(&mut self, batch: Batch<I2>, out: &mut dyn Output<O>);
    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output<O>) {
        out.emit_watermark(watermark);
    }
    fn finish(&mut self, _out: &mut dyn Output<O>) {}
    /// Processing time reached `now`: fire due processing-time timers.
    fn on_processing_time(&mut self, _now: Timestamp, _out: &mut dyn Output<O>) {}

    /// Checkpoint hook, as [`OneInputOperator::snapshot_state`](crate::output::OneInputOperator::snapshot_state):
    /// **the default refuses**; stateless operators return `Ok(())`.
    fn snapshot_state(&mut self, _ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        Err(SnapshotError::NotSupported)
    }

    /// Restore hook; the default refuses if the checkpoint holds state for this operator.
    fn initialize_state(&mut self, ctx: &StateInitializationContext) -> Result<(), SnapshotError> {
        if ctx.has_state() { Err(SnapshotError::NotSupported) } else { Ok(()) }
    }

    /// Checkpoint `checkpoint` completed.
    fn notify_checkpoint_complete(&mut self, _checkpoint: CheckpointId) -> Result<(), SnapshotError> {
        Ok(())
    }

    /// The side outputs this operator owns, so that checkpoints reach the operators
    /// chained behind them.
    fn side_outputs_mut(&mut self) -> Option<&mut SideOutputs> {
        None
    }
}

/// `co_process` (and `co_map`, `co_flat_map`, which are built on it).
pub struct CoProcessOperator<I1, I2, O, P> {
    function: P,
    runtime: RuntimeContext,
    side_outputs: SideOutputs,
    watermark: Watermark,
    _types: PhantomData<fn(I1, I2) -> O>,
}

impl<I1, I2, O, P: CoProcessFunction<I1, I2, O>> CoProcessOperator<I1, I2, O, P> {
    pub fn new(mut function: P, runtime: RuntimeContext, side_outputs: SideOutputs) -> Self {
        function.open(&runtime);
        Self { function, runtime, side_outputs, watermark: Watermark::MIN, _types: PhantomData }
    }

    fn run<I>(
        &mut self,
        batch: Batch<I>,
        out: &mut dyn Output<O>,
        call: impl Fn(&mut P, I, &mut Context<'_>, &mut Collector<O>),
    ) {
        let mut collector = Collector::new();
        for r in batch {
            collector.timestamp = r.timestamp;
            let mut ctx = Context {
                timestamp: r.timestamp,
                watermark: self.watermark,
                side_outputs: &mut self.side_outputs,
                runtime: &self.runtime,
            };
            call(&mut self.function, r.value, &mut ctx, &mut collector);
        }
        self.side_outputs.flush();
        if !collector.buffer.is_empty() {
            out.collect(collector.buffer);
        }
    }
}

impl<I1, I2, O, P> TwoInputOperator<I1, I2, O> for CoProcessOperator<I1, I2, O, P>
where
    I1: Send,
    I2: Send,
    O: Send,
    P: CoProcessFunction<I1, I2, O>,
{
    fn process_batch1(&mut self, batch: Batch<I1>, out: &mut dyn Output<O>) {
        self.run(batch, out, |f, v, ctx, c| f.process_element1(v, ctx, c));
    }

    fn process_batch2(&mut self, batch: Batch<I2>, out: &mut dyn Output<O>) {
        self.run(batch, out, |f, v, ctx, c| f.process_element2(v, ctx, c));
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output<O>) {
        self.watermark = watermark;
        self.side_outputs.emit_watermark(watermark);
        out.emit_watermark(watermark);
    }

    fn on_processing_time(&mut self, now: Timestamp, _out: &mut dyn Output<O>) {
        self.side_outputs.on_processing_time(now);
    }

    fn finish(&mut self, _out: &mut dyn Output<O>) {
        self.side_outputs.end_input();
    }

    /// Stateless: the function's fields are not checkpointed (as in Flink).
    fn snapshot_state(&mut self, _ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        Ok(())
    }

    fn side_outputs_mut(&mut self) -> Option<&mut SideOutputs> {
        Some(&mut self.side_outputs)
    }
}
