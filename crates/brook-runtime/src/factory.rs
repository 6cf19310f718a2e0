//! Operator factories: how a StreamGraph node becomes an operator instance in a
//! subtask. The API makes one per node where the types are known; deployment calls
//! it once per subtask with erased outputs.

use crate::checkpoint::{SnapshotError, StateInitializationContext};
use crate::functions::RuntimeContext;
use crate::metrics::OperatorMetrics;
use crate::operators::TwoInputOperator;
use crate::output::attribute_panic;
use crate::output::{AnyOutput, ChainedOperator, CountingOutput, OneInputOperator, erase_output, unerase_output};
use crate::record_type::{AnyGate, unerase_gate};
use crate::side_output::{SideOutputs, WithUnusedSideOutputs};
use crate::source::{ReaderContext, Source, SourceTaskInput};
use crate::task::{TaskInput, TwoInputTaskInput};
use brook_types::{BrookError, OperatorId, Result};
use std::marker::PhantomData;

/// The shape of an operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperatorKind {
    Source { bounded: bool, parallel: bool },
    OneInput,
    TwoInput,
}

/// What an operator instance is created with.
pub struct OperatorContext {
    pub runtime: RuntimeContext,
    pub metrics: OperatorMetrics,
    pub batch_size: usize,
    /// The operator's stable id, under which its state is checkpointed.
    pub operator_id: OperatorId,
    /// What to restore the operator from, when the job restarts from a checkpoint.
    pub restore: Option<StateInitializationContext>,
}

/// Runs an operator's restore hook, naming it in the error.
fn initialize(
    operator: &str,
    restore: &Option<StateInitializationContext>,
    init: impl FnOnce(&StateInitializationContext) -> std::result::Result<(), SnapshotError>,
) -> Result<()> {
    let Some(ctx) = restore else { return Ok(()) };
    attribute_panic(operator, || init(ctx)).map_err(|e| BrookError::StateRestore {
        operator: operator.to_string(),
        checkpoint: ctx.restored_checkpoint().0,
        reason: e.to_string(),
    })
}

/// Creates the instances of one StreamGraph node.
pub trait OperatorFactory: Send + Sync {
    fn kind(&self) -> OperatorKind;

    /// A source: the driver of its task, emitting into `output`.
    fn create_source(
        &self,
        _ctx: OperatorContext,
        _output: AnyOutput,
        _side: SideOutputs,
    ) -> Result<Box<dyn TaskInput>> {
        Err(BrookError::InvalidProgram("operator is not a source".into()))
    }

    /// A one-input operator linked to `output`, returned as an erased
    /// `Box<dyn Output<In>>` for its upstream to call.
    fn create_one_input(&self, _ctx: OperatorContext, _output: AnyOutput, _side: SideOutputs) -> Result<AnyOutput> {
        Err(BrookError::InvalidProgram("operator has no single input".into()))
    }

    /// A two-input operator as the driver of its task.
    fn create_two_input(
        &self,
        _ctx: OperatorContext,
        _output: AnyOutput,
        _side: SideOutputs,
        _gate1: AnyGate,
        _gate2: AnyGate,
    ) -> Result<Box<dyn TaskInput>> {
        Err(BrookError::InvalidProgram("operator has no two inputs".into()))
    }
}

/// Factory of a one-input operator made by `make`.
pub struct OneInputFactory<In, Out, Op, M> {
    make: M,
    _types: PhantomData<fn(In) -> (Out, Op)>,
}

impl<In, Out, Op, M> OneInputFactory<In, Out, Op, M>
where
    M: Fn(&RuntimeContext, &mut SideOutputs) -> Result<Op> + Send + Sync,
{
    pub fn new(make: M) -> Self {
        Self { make, _types: PhantomData }
    }
}

impl<In, Out, Op, M> OperatorFactory for OneInputFactory<In, Out, Op, M>
where
    In: Send + 'static,
    Out: Send + 'static,
    Op: OneInputOperator<In, Out> + 'static,
    M: Fn(&RuntimeContext, &mut SideOutputs) -> Result<Op> + Send + Sync,
{
    fn kind(&self) -> OperatorKind {
        OperatorKind::OneInput
    }

    fn create_one_input(&self, ctx: OperatorContext, output: AnyOutput, mut side: SideOutputs) -> Result<AnyOutput> {
        // `make` takes the side outputs if its operator emits to them (process functions).
        let mut op = attribute_panic(&ctx.runtime.operator_name, || (self.make)(&ctx.runtime, &mut side))?;
        initialize(&ctx.runtime.operator_name, &ctx.restore, |r| op.initialize_state(r))?;
        let counted = Box::new(CountingOutput::new(unerase_output::<Out>(output), ctx.metrics.num_records_out.clone()));
        let out = WithUnusedSideOutputs::wrap(counted, side);
        let chained = ChainedOperator::new(
            ctx.runtime.operator_name.clone(),
            ctx.operator_id,
            op,
            out,
            ctx.metrics.num_records_in,
        );
        Ok(erase_output::<In>(Box::new(chained)))
    }
}

/// Factory of a source node.
pub struct SourceFactory<T, S> {
    source: S,
    /// Per-split watermarks generated inside the source (`from_source_with_watermarks`).
    watermarks: Option<crate::watermark::WatermarkStrategy<T>>,
    _type: PhantomData<fn() -> T>,
}

impl<T, S> SourceFactory<T, S> {
    pub fn new(source: S) -> Self {
        Self { source, watermarks: None, _type: PhantomData }
    }

    /// The source generates watermarks per split with `strategy`.
    pub fn with_watermarks(source: S, strategy: crate::watermark::WatermarkStrategy<T>) -> Self {
        Self { source, watermarks: Some(strategy), _type: PhantomData }
    }
}

impl<T: Send + 'static, S: Source<T>> OperatorFactory for SourceFactory<T, S> {
    fn kind(&self) -> OperatorKind {
        OperatorKind::Source {
            bounded: self.source.boundedness() == crate::source::Boundedness::Bounded,
            parallel: self.source.is_parallel(),
        }
    }

    fn create_source(&self, ctx: OperatorContext, output: AnyOutput, side: SideOutputs) -> Result<Box<dyn TaskInput>> {
        let reader_ctx = ReaderContext {
            subtask_index: ctx.runtime.subtask_index,
            parallelism: ctx.runtime.parallelism,
            batch_size: ctx.batch_size,
        };
        let counted = Box::new(CountingOutput::new(unerase_output::<T>(output), ctx.metrics.num_records_out.clone()));
        let out = WithUnusedSideOutputs::wrap(counted, side);
        let name = ctx.runtime.operator_name.clone();
        let watermarks = self.watermarks.clone().map(|strategy| {
            crate::source::SourceWatermarks::new(
                strategy,
                ctx.runtime.processing_time.clone(),
                ctx.runtime.auto_watermark_interval,
                ctx.runtime.runtime_mode != crate::functions::RuntimeMode::Batch,
            )
        });
        let (operator_id, restore) = (ctx.operator_id, ctx.restore.as_ref());
        Ok(Box::new(attribute_panic(&name, || {
            SourceTaskInput::new(name.clone(), operator_id, &self.source, reader_ctx, out, watermarks, restore)
        })?))
    }
}

/// Factory of a two-input operator made by `make`.
pub struct TwoInputFactory<I1, I2, O, Op, M> {
    make: M,
    _types: PhantomData<fn(I1, I2) -> (O, Op)>,
}

impl<I1, I2, O, Op, M> TwoInputFactory<I1, I2, O, Op, M> {
    pub fn new(make: M) -> Self {
        Self { make, _types: PhantomData }
    }
}

impl<I1, I2, O, Op, M> OperatorFactory for TwoInputFactory<I1, I2, O, Op, M>
where
    I1: brook_types::Data,
    I2: brook_types::Data,
    O: Send + 'static,
    Op: TwoInputOperator<I1, I2, O> + 'static,
    M: Fn(&RuntimeContext, &mut SideOutputs) -> Result<Op> + Send + Sync,
{
    fn kind(&self) -> OperatorKind {
        OperatorKind::TwoInput
    }

    fn create_two_input(
        &self,
        ctx: OperatorContext,
        output: AnyOutput,
        mut side: SideOutputs,
        gate1: AnyGate,
        gate2: AnyGate,
    ) -> Result<Box<dyn TaskInput>> {
        let mut op = attribute_panic(&ctx.runtime.operator_name, || (self.make)(&ctx.runtime, &mut side))?;
        initialize(&ctx.runtime.operator_name, &ctx.restore, |r| op.initialize_state(r))?;
        let counted = Box::new(CountingOutput::new(unerase_output::<O>(output), ctx.metrics.num_records_out.clone()));
        let out = WithUnusedSideOutputs::wrap(counted, side);
        Ok(Box::new(
            TwoInputTaskInput::new(
                ctx.runtime.operator_name.clone(),
                ctx.operator_id,
                ctx.metrics.num_records_in.clone(),
                unerase_gate::<I1>(gate1),
                unerase_gate::<I2>(gate2),
                op,
                out,
            )
            .with_codecs(crate::checkpoint::ElementCodec::bincode(), crate::checkpoint::ElementCodec::bincode()),
        ))
    }
}
