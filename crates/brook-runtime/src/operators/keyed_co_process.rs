use super::TwoInputOperator;
use super::keyed_timers::KeyedTimers;
use crate::checkpoint::{SnapshotError, StateInitializationContext, StateSnapshotContext};
use crate::functions::{KeyedCoProcessFunction, RuntimeContext};
use crate::key_selector::KeySelector;
use crate::output::Output;
use crate::side_output::SideOutputs;
use brook_types::{Batch, CheckpointId, Timestamp, Watermark};
use std::marker::PhantomData;

/// `ConnectedStreams::key_by(..).process(..)`: a [`KeyedCoProcessFunction`] over two
/// inputs keyed alike, with timers that fire as in `KeyedProcessOperator`.
pub struct KeyedCoProcessOperator<I1, I2, O, S1: KeySelector<I1>, S2, P> {
    key1: S1,
    key2: S2,
    function: P,
    state: KeyedTimers<S1::Key>,
    _types: PhantomData<fn(I1, I2) -> O>,
}

impl<I1, I2, O, S1, S2, P> KeyedCoProcessOperator<I1, I2, O, S1, S2, P>
where
    S1: KeySelector<I1>,
    S2: KeySelector<I2, Key = S1::Key>,
    P: KeyedCoProcessFunction<S1::Key, I1, I2, O>,
{
    pub fn new(
        key1: S1,
        key2: S2,
        mut function: P,
        runtime: RuntimeContext,
        side_outputs: SideOutputs,
    ) -> brook_types::Result<Self> {
        let mut state = KeyedTimers::new(runtime, side_outputs)?;
        state.open(|runtime| function.open(runtime));
        Ok(Self { key1, key2, function, state, _types: PhantomData })
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

impl<I1, I2, O, S1, S2, P> TwoInputOperator<I1, I2, O> for KeyedCoProcessOperator<I1, I2, O, S1, S2, P>
where
    I1: Send,
    I2: Send,
    O: Send,
    S1: KeySelector<I1>,
    S2: KeySelector<I2, Key = S1::Key>,
    P: KeyedCoProcessFunction<S1::Key, I1, I2, O>,
{
    fn process_batch1(&mut self, batch: Batch<I1>, out: &mut dyn Output<O>) {
        let (keys, function) = (&self.key1, &mut self.function);
        self.state.process_batch(batch, out, |v| keys.key(v), |v, ctx, c| function.process_element1(v, ctx, c));
    }

    fn process_batch2(&mut self, batch: Batch<I2>, out: &mut dyn Output<O>) {
        let (keys, function) = (&self.key2, &mut self.function);
        self.state.process_batch(batch, out, |v| keys.key(v), |v, ctx, c| function.process_element2(v, ctx, c));
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
