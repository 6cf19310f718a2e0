use super::keyed_timers::KeyedTimers;
use crate::checkpoint::{SnapshotError, StateInitializationContext, StateSnapshotContext};
use crate::functions::{KeyedProcessFunction, RuntimeContext};
use crate::key_selector::KeySelector;
use crate::output::{OneInputOperator, Output};
use crate::side_output::SideOutputs;
use brook_types::{Batch, CheckpointId, Timestamp, Watermark};
use std::marker::PhantomData;

/// `KeyedStream::process`: a [`KeyedProcessFunction`] that sees the current key and
/// has timers.
///
/// On a watermark, due event-time timers fire (in order) before the watermark is
/// forwarded, so their results precede it downstream. Processing-time timers fire
/// when the task's clock reaches them. Pending processing-time timers are dropped
/// at end of input (event-time ones all fire, at `Watermark::MAX`).
pub struct KeyedProcessOperator<I, O, S: KeySelector<I>, P> {
    key_selector: S,
    function: P,
    state: KeyedTimers<S::Key>,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O, S, P> KeyedProcessOperator<I, O, S, P>
where
    S: KeySelector<I>,
    P: KeyedProcessFunction<S::Key, I, O>,
{
    pub fn new(
        key_selector: S,
        mut function: P,
        runtime: RuntimeContext,
        side_outputs: SideOutputs,
    ) -> brook_types::Result<Self> {
        let mut state = KeyedTimers::new(runtime, side_outputs)?;
        state.open(|runtime| function.open(runtime));
        Ok(Self { key_selector, function, state, _types: PhantomData })
    }

    /// The keyed state and timers of this subtask in the canonical snapshot format
    /// (`brook_state::snapshot`).
    pub fn snapshot_keyed_state(&self) -> brook_state::Result<brook_state::KeyedStateSnapshot> {
        self.state.full_snapshot()
    }

    /// Restores this subtask's key groups (state and timers) from the keyed-state
    /// snapshots of all subtasks of a previous run (any parallelism, same max parallelism).
    pub fn restore_keyed_state<B: AsRef<[u8]>>(&mut self, snapshots: &[B]) -> Result<(), SnapshotError> {
        self.state.restore_state(snapshots)
    }
}

impl<I, O, S, P> OneInputOperator<I, O> for KeyedProcessOperator<I, O, S, P>
where
    I: Send,
    O: Send,
    S: KeySelector<I>,
    P: KeyedProcessFunction<S::Key, I, O>,
{
    fn process_batch(&mut self, batch: Batch<I>, out: &mut dyn Output<O>) {
        let (keys, function) = (&self.key_selector, &mut self.function);
        self.state.process_batch(batch, out, |v| keys.key(v), |v, ctx, c| function.process_element(v, ctx, c));
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output<O>) {
        let function = &mut self.function;
        self.state.advance_watermark(watermark, out, |t, ctx, c| function.on_timer(t, ctx, c));
    }

    fn on_processing_time(&mut self, now: Timestamp, out: &mut dyn Output<O>) {
        let function = &mut self.function;
        self.state.advance_processing_time(now, out, |t, ctx, c| function.on_timer(t, ctx, c));
    }

    fn finish(&mut self, _out: &mut dyn Output<O>) {
        self.state.side_outputs.end_input();
    }

    fn snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        self.state.snapshot_state(ctx)
    }

    fn initialize_state(&mut self, ctx: &StateInitializationContext) -> Result<(), SnapshotError> {
        self.state.initialize_state(ctx)
    }

    fn notify_checkpoint_complete(&mut self, checkpoint: CheckpointId) -> Result<(), SnapshotError> {
        self.state.notify_checkpoint_complete(checkpoint);
        Ok(())
    }

    fn side_outputs_mut(&mut self) -> Option<&mut SideOutputs> {
        Some(&mut self.state.side_outputs)
    }
}
