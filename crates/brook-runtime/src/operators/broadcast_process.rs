//! `data_stream.connect_broadcast(broadcast_stream).process(..)`: a
//! [`BroadcastProcessFunction`] over a non-keyed input and a broadcast input (Flink's
//! broadcast state pattern without keys). As in the keyed flavour
//! (`keyed_broadcast_process`), only the broadcast side may write the broadcast state,
//! which is operator state of kind broadcast in checkpoints.

use super::TwoInputOperator;
use super::keyed_broadcast_process::{BroadcastContext, ReadOnlyBroadcastState};
use crate::checkpoint::{SnapshotError, StateInitializationContext, StateSnapshotContext};
use crate::functions::{Collector, Context, RuntimeContext};
use crate::output::Output;
use crate::side_output::SideOutputs;
use brook_state::{MapStateDescriptor, OperatorStateBackend};
use brook_types::{Batch, Data, Timestamp, Watermark};
use std::hash::Hash;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

/// A function over a (non-keyed) stream connected to a broadcast stream (Flink's
/// `BroadcastProcessFunction`). `process_element` reads the broadcast state only
/// (its context hands out a [`ReadOnlyBroadcastState`]); `process_broadcast_element`
/// reads and writes it.
pub trait BroadcastProcessFunction<I, B, O>: Clone + Send + Sync + 'static {
    fn open(&mut self, _ctx: &RuntimeContext) {}

    fn process_element(&mut self, value: I, ctx: &mut ReadOnlyBroadcastContext<'_>, out: &mut Collector<O>);

    fn process_broadcast_element(&mut self, value: B, ctx: &mut BroadcastContext<'_>, out: &mut Collector<O>);
}

/// The context of `BroadcastProcessFunction::process_element`: the element's
/// [`Context`] (it derefs to one) and the broadcast state, read-only.
pub struct ReadOnlyBroadcastContext<'a> {
    inner: Context<'a>,
    broadcast: &'a mut OperatorStateBackend,
}

impl ReadOnlyBroadcastContext<'_> {
    /// The broadcast state `descriptor` names, read-only. Fails if a state of that
    /// name was registered with other types or another kind.
    pub fn broadcast_state<UK: Data + Hash + Eq, UV: Data>(
        &mut self,
        descriptor: &MapStateDescriptor<UK, UV>,
    ) -> brook_state::Result<ReadOnlyBroadcastState<'_, UK, UV>> {
        Ok(ReadOnlyBroadcastState { state: self.broadcast.get_broadcast_state(descriptor)? })
    }
}

impl<'a> Deref for ReadOnlyBroadcastContext<'a> {
    type Target = Context<'a>;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl DerefMut for ReadOnlyBroadcastContext<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

/// Runs a [`BroadcastProcessFunction`]: input 1 is the stream, input 2 the broadcast
/// stream.
pub struct BroadcastProcessOperator<I, B, O, P> {
    function: P,
    runtime: RuntimeContext,
    side_outputs: SideOutputs,
    watermark: Watermark,
    broadcast: OperatorStateBackend,
    _types: PhantomData<fn(I, B) -> O>,
}

impl<I, B, O, P: BroadcastProcessFunction<I, B, O>> BroadcastProcessOperator<I, B, O, P> {
    pub fn new(mut function: P, runtime: RuntimeContext, side_outputs: SideOutputs) -> Self {
        function.open(&runtime);
        let broadcast = OperatorStateBackend::new(&runtime.operator_name);
        Self { function, runtime, side_outputs, watermark: Watermark::MIN, broadcast, _types: PhantomData }
    }

    fn emit(&mut self, collector: Collector<O>, out: &mut dyn Output<O>) {
        self.side_outputs.flush();
        if !collector.buffer.is_empty() {
            out.collect(collector.buffer);
        }
    }
}

impl<I, B, O, P> TwoInputOperator<I, B, O> for BroadcastProcessOperator<I, B, O, P>
where
    I: Send,
    B: Send,
    O: Send,
    P: BroadcastProcessFunction<I, B, O>,
{
    fn process_batch1(&mut self, batch: Batch<I>, out: &mut dyn Output<O>) {
        let mut collector = Collector::new();
        for r in batch {
            collector.timestamp = r.timestamp;
            let mut ctx = ReadOnlyBroadcastContext {
                inner: Context {
                    timestamp: r.timestamp,
                    watermark: self.watermark,
                    side_outputs: &mut self.side_outputs,
                    runtime: &self.runtime,
                },
                broadcast: &mut self.broadcast,
            };
            self.function.process_element(r.value, &mut ctx, &mut collector);
        }
        self.emit(collector, out);
    }

    fn process_batch2(&mut self, batch: Batch<B>, out: &mut dyn Output<O>) {
        let mut collector = Collector::new();
        for r in batch {
            collector.timestamp = r.timestamp;
            let mut ctx = BroadcastContext {
                inner: Context {
                    timestamp: r.timestamp,
                    watermark: self.watermark,
                    side_outputs: &mut self.side_outputs,
                    runtime: &self.runtime,
                },
                broadcast: &mut self.broadcast,
            };
            self.function.process_broadcast_element(r.value, &mut ctx, &mut collector);
        }
        self.emit(collector, out);
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

    fn snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        ctx.set_operator_state(self.broadcast.snapshot()?);
        Ok(())
    }

    fn initialize_state(&mut self, ctx: &StateInitializationContext) -> Result<(), SnapshotError> {
        if let Some(snapshot) = ctx.operator_state() {
            self.broadcast.restore(&snapshot.bytes)?;
        }
        Ok(())
    }

    fn side_outputs_mut(&mut self) -> Option<&mut SideOutputs> {
        Some(&mut self.side_outputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::OperatorRestoreState;
    use crate::functions::RuntimeMode;
    use crate::metrics::MetricRegistry;
    use crate::output::NoOutput;
    use crate::processing_time::ProcessingTimeService;
    use brook_types::{CheckpointId, JobId, StreamRecord};
    use parking_lot::Mutex;
    use std::sync::Arc;

    fn descriptor() -> MapStateDescriptor<String, i64> {
        MapStateDescriptor::new("rules")
    }

    /// Each element records (subtask, element, the sum of the rule values it sees).
    #[derive(Clone, Default)]
    struct SumRules {
        seen: Arc<Mutex<Vec<(usize, i64, i64)>>>,
    }

    impl BroadcastProcessFunction<i64, (String, i64), ()> for SumRules {
        fn process_element(&mut self, v: i64, ctx: &mut ReadOnlyBroadcastContext<'_>, _out: &mut Collector<()>) {
            let subtask = ctx.runtime_context().index_of_this_subtask();
            let sum = ctx.broadcast_state(&descriptor()).unwrap().iter().map(|(_, v)| *v).sum();
            self.seen.lock().push((subtask, v, sum));
        }

        fn process_broadcast_element(
            &mut self,
            (name, value): (String, i64),
            ctx: &mut BroadcastContext<'_>,
            _out: &mut Collector<()>,
        ) {
            ctx.broadcast_state(&descriptor()).unwrap().put(name, value);
        }
    }

    fn operator(
        function: &SumRules,
        subtask: usize,
        parallelism: usize,
    ) -> BroadcastProcessOperator<i64, (String, i64), (), SumRules> {
        let runtime = RuntimeContext {
            job_id: JobId(0),
            task_name: "broadcast".into(),
            operator_name: "BroadcastProcess".into(),
            subtask_index: subtask,
            parallelism,
            max_parallelism: 128,
            attempt_number: 0,
            runtime_mode: RuntimeMode::Streaming,
            metrics: MetricRegistry::default(),
            processing_time: ProcessingTimeService::new(),
            auto_watermark_interval: std::time::Duration::from_millis(200),
            checkpointing: true,
            state_backend: Default::default(),
        };
        BroadcastProcessOperator::new(function.clone(), runtime, SideOutputs::default())
    }

    #[test]
    fn broadcast_state_is_restored_at_a_new_parallelism() {
        let function = SumRules::default();
        let snapshots: Vec<_> = (0..2)
            .map(|i| {
                let mut op = operator(&function, i, 2);
                let rules = [("a", 1), ("b", 20), ("a", 300)].map(|(n, v)| StreamRecord::new((n.to_string(), v)));
                op.process_batch2(rules.into_iter().collect(), &mut NoOutput);
                let mut ctx = StateSnapshotContext::new(CheckpointId(1), 0);
                op.snapshot_state(&mut ctx).unwrap();
                ctx.into_result().operator.expect("the broadcast state is operator state")
            })
            .collect();
        for (i, state) in brook_state::redistribute_operator_state(&snapshots, 3).unwrap().into_iter().enumerate() {
            let mut op = operator(&function, i, 3);
            let ctx = StateInitializationContext::new(
                CheckpointId(1),
                OperatorRestoreState { operator: Some(state), ..OperatorRestoreState::default() },
            );
            op.initialize_state(&ctx).unwrap();
            op.process_batch1([StreamRecord::new(i as i64)].into_iter().collect(), &mut NoOutput);
        }
        assert_eq!(*function.seen.lock(), [(0, 0, 320), (1, 1, 320), (2, 2, 320)]);
    }
}
