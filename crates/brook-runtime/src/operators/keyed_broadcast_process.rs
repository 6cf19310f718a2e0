//! `keyed_stream.connect(broadcast_stream).process(..)`: a
//! [`KeyedBroadcastProcessFunction`] over a keyed input and a broadcast input
//! (Flink's broadcast state pattern).
//!
//! The broadcast input reaches every subtask whole (partitioning `BROADCAST`); its
//! elements may write the broadcast state, a map in the operator state of kind
//! broadcast, so every subtask holds the same copy as long as the function updates it
//! only from the broadcast side. The keyed input sees that state read-only
//! ([`ReadOnlyBroadcastState`]: no `put`, `remove` or `clear` exist on it) next to the
//! usual keyed context (current key, keyed state, timers).
//!
//! Checkpoints: keyed state and timers as in `KeyedCoProcessOperator`; every subtask
//! writes its copy of the broadcast state as operator state, and on restore (any
//! parallelism) each new subtask takes one old subtask's copy
//! (`brook_state::redistribute_operator_state`).

use super::TwoInputOperator;
use super::keyed_timers::KeyedTimers;
use crate::checkpoint::{SnapshotError, StateInitializationContext, StateSnapshotContext};
use crate::functions::{Collector, Context, KeyedContext, RuntimeContext};
use crate::key_selector::KeySelector;
use crate::output::Output;
use crate::side_output::SideOutputs;
use brook_state::{BroadcastState, MapStateDescriptor, OperatorStateBackend};
use brook_types::{Batch, CheckpointId, Data, Timestamp, Watermark};
use std::hash::Hash;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

/// A function over a keyed stream connected to a broadcast stream (Flink's
/// `KeyedBroadcastProcessFunction`).
///
/// `process_broadcast_element` may read and write the broadcast state;
/// `process_element` and `on_timer` only read it: their context hands out a
/// [`ReadOnlyBroadcastState`], which has no method that modifies the map. Every
/// subtask must change its broadcast state the same way for the same broadcast
/// element, or the copies diverge (and a restore picks one of them).
pub trait KeyedBroadcastProcessFunction<K, I, B, O>: Clone + Send + Sync + 'static {
    fn open(&mut self, _ctx: &RuntimeContext) {}

    /// One element of the keyed input, with read-only access to the broadcast state.
    fn process_element(&mut self, value: I, ctx: &mut ReadOnlyContext<'_, '_, K>, out: &mut Collector<O>);

    /// One element of the broadcast input (every subtask gets each), with read-write
    /// access to the broadcast state.
    fn process_broadcast_element(&mut self, value: B, ctx: &mut BroadcastContext<'_>, out: &mut Collector<O>);

    /// A timer of `ctx.current_key()` fired at `timestamp`.
    fn on_timer(&mut self, _timestamp: Timestamp, _ctx: &mut ReadOnlyContext<'_, '_, K>, _out: &mut Collector<O>) {}
}

/// The broadcast state as the keyed side sees it: reads only.
pub struct ReadOnlyBroadcastState<'a, UK, UV> {
    pub(super) state: BroadcastState<'a, UK, UV>,
}

impl<UK: Hash + Eq, UV> ReadOnlyBroadcastState<'_, UK, UV> {
    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&UV>
    where
        UK: std::borrow::Borrow<Q>,
    {
        self.state.get(key)
    }

    pub fn contains<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> bool
    where
        UK: std::borrow::Borrow<Q>,
    {
        self.state.contains(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&UK, &UV)> {
        self.state.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }
}

/// The context of `process_element` and `on_timer`: the keyed context (it derefs to a
/// [`KeyedContext`]) and the broadcast state, read-only.
pub struct ReadOnlyContext<'c, 'a, K> {
    keyed: &'c mut KeyedContext<'a, K>,
    broadcast: &'c mut OperatorStateBackend,
}

impl<'a, K> ReadOnlyContext<'_, 'a, K> {
    /// The broadcast state `descriptor` names, read-only. Fails if a state of that
    /// name was registered with other types or another kind.
    pub fn broadcast_state<UK: Data + Hash + Eq, UV: Data>(
        &mut self,
        descriptor: &MapStateDescriptor<UK, UV>,
    ) -> brook_state::Result<ReadOnlyBroadcastState<'_, UK, UV>> {
        Ok(ReadOnlyBroadcastState { state: self.broadcast.get_broadcast_state(descriptor)? })
    }
}

impl<'a, K> Deref for ReadOnlyContext<'_, 'a, K> {
    type Target = KeyedContext<'a, K>;

    fn deref(&self) -> &Self::Target {
        self.keyed
    }
}

impl<K> DerefMut for ReadOnlyContext<'_, '_, K> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.keyed
    }
}

/// The context of `process_broadcast_element`: the element's [`Context`] (it derefs
/// to one) and the broadcast state, read-write.
pub struct BroadcastContext<'a> {
    pub(super) inner: Context<'a>,
    pub(super) broadcast: &'a mut OperatorStateBackend,
}

impl BroadcastContext<'_> {
    /// The broadcast state `descriptor` names, read-write. Fails if a state of that
    /// name was registered with other types or another kind.
    pub fn broadcast_state<UK: Data + Hash + Eq, UV: Data>(
        &mut self,
        descriptor: &MapStateDescriptor<UK, UV>,
    ) -> brook_state::Result<BroadcastState<'_, UK, UV>> {
        self.broadcast.get_broadcast_state(descriptor)
    }
}

impl<'a> Deref for BroadcastContext<'a> {
    type Target = Context<'a>;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl DerefMut for BroadcastContext<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

/// Runs a [`KeyedBroadcastProcessFunction`]: input 1 is the keyed stream, input 2 the
/// broadcast stream.
pub struct KeyedBroadcastProcessOperator<I, B, O, S: KeySelector<I>, P> {
    key: S,
    function: P,
    state: KeyedTimers<S::Key>,
    broadcast: OperatorStateBackend,
    _types: PhantomData<fn(I, B) -> O>,
}

impl<I, B, O, S, P> KeyedBroadcastProcessOperator<I, B, O, S, P>
where
    S: KeySelector<I>,
    P: KeyedBroadcastProcessFunction<S::Key, I, B, O>,
{
    pub fn new(
        key: S,
        mut function: P,
        runtime: RuntimeContext,
        side_outputs: SideOutputs,
    ) -> brook_types::Result<Self> {
        let broadcast = OperatorStateBackend::new(&runtime.operator_name);
        let mut state = KeyedTimers::new(runtime, side_outputs)?;
        state.open(|runtime| function.open(runtime));
        Ok(Self { key, function, state, broadcast, _types: PhantomData })
    }
}

impl<I, B, O, S, P> TwoInputOperator<I, B, O> for KeyedBroadcastProcessOperator<I, B, O, S, P>
where
    I: Send,
    B: Send,
    O: Send,
    S: KeySelector<I>,
    P: KeyedBroadcastProcessFunction<S::Key, I, B, O>,
{
    fn process_batch1(&mut self, batch: Batch<I>, out: &mut dyn Output<O>) {
        let (keys, function, broadcast) = (&self.key, &mut self.function, &mut self.broadcast);
        self.state.process_batch(
            batch,
            out,
            |v| keys.key(v),
            |v, ctx, c| function.process_element(v, &mut ReadOnlyContext { keyed: ctx, broadcast: &mut *broadcast }, c),
        );
    }

    fn process_batch2(&mut self, batch: Batch<B>, out: &mut dyn Output<O>) {
        let mut collector = Collector::new();
        for r in batch {
            collector.timestamp = r.timestamp;
            let mut ctx = BroadcastContext {
                inner: Context {
                    timestamp: r.timestamp,
                    watermark: self.state.watermark,
                    side_outputs: &mut self.state.side_outputs,
                    runtime: &self.state.runtime,
                },
                broadcast: &mut self.broadcast,
            };
            self.function.process_broadcast_element(r.value, &mut ctx, &mut collector);
        }
        self.state.emit(collector, out);
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output<O>) {
        let (function, broadcast) = (&mut self.function, &mut self.broadcast);
        self.state.advance_watermark(watermark, out, |t, ctx, c| {
            function.on_timer(t, &mut ReadOnlyContext { keyed: ctx, broadcast: &mut *broadcast }, c)
        });
    }

    fn on_processing_time(&mut self, now: Timestamp, out: &mut dyn Output<O>) {
        let (function, broadcast) = (&mut self.function, &mut self.broadcast);
        self.state.advance_processing_time(now, out, |t, ctx, c| {
            function.on_timer(t, &mut ReadOnlyContext { keyed: ctx, broadcast: &mut *broadcast }, c)
        });
    }

    fn finish(&mut self, _out: &mut dyn Output<O>) {
        self.state.side_outputs.end_input();
    }

    fn snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        self.state.snapshot_state(ctx)?;
        ctx.set_operator_state(self.broadcast.snapshot()?);
        Ok(())
    }

    fn initialize_state(&mut self, ctx: &StateInitializationContext) -> Result<(), SnapshotError> {
        self.state.initialize_state(ctx)?;
        if let Some(snapshot) = ctx.operator_state() {
            self.broadcast.restore(&snapshot.bytes)?;
        }
        Ok(())
    }

    fn notify_checkpoint_complete(&mut self, checkpoint: CheckpointId) -> Result<(), SnapshotError> {
        self.state.notify_checkpoint_complete(checkpoint);
        Ok(())
    }

    fn side_outputs_mut(&mut self) -> Option<&mut SideOutputs> {
        Some(&mut self.state.side_outputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::OperatorRestoreState;
    use crate::functions::RuntimeMode;
    use crate::key_selector::OwnedKey;
    use crate::metrics::MetricRegistry;
    use crate::output::NoOutput;
    use crate::processing_time::ProcessingTimeService;
    use brook_types::{JobId, StreamRecord};
    use parking_lot::Mutex;
    use std::sync::Arc;

    fn descriptor() -> MapStateDescriptor<String, i64> {
        MapStateDescriptor::new("rules")
    }

    /// Rules are (name, value); each keyed element records (subtask, element, the
    /// rules it sees).
    #[derive(Clone, Default)]
    struct SeeRules {
        seen: Arc<Mutex<Vec<(usize, i64, Vec<(String, i64)>)>>>,
    }

    impl KeyedBroadcastProcessFunction<i64, i64, (String, i64), ()> for SeeRules {
        fn process_element(&mut self, v: i64, ctx: &mut ReadOnlyContext<'_, '_, i64>, _out: &mut Collector<()>) {
            let subtask = ctx.runtime_context().index_of_this_subtask();
            let rules = ctx.broadcast_state(&descriptor()).unwrap();
            let mut rules: Vec<(String, i64)> = rules.iter().map(|(k, v)| (k.clone(), *v)).collect();
            rules.sort();
            self.seen.lock().push((subtask, v, rules));
        }

        fn process_broadcast_element(
            &mut self,
            (name, value): (String, i64),
            ctx: &mut BroadcastContext<'_>,
            _out: &mut Collector<()>,
        ) {
            let mut rules = ctx.broadcast_state(&descriptor()).unwrap();
            if value < 0 {
                rules.remove(&name);
            } else {
                rules.put(name, value);
            }
        }
    }

    type Op = KeyedBroadcastProcessOperator<i64, (String, i64), (), OwnedKey<fn(&i64) -> i64, i64>, SeeRules>;

    fn operator(function: &SeeRules, subtask: usize, parallelism: usize) -> Op {
        let runtime = RuntimeContext {
            job_id: JobId(0),
            task_name: "broadcast".into(),
            operator_name: "KeyedBroadcastProcess".into(),
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
        let key: fn(&i64) -> i64 = |v| *v;
        KeyedBroadcastProcessOperator::new(OwnedKey::new(key), function.clone(), runtime, SideOutputs::default())
            .unwrap()
    }

    fn rule(name: &str, value: i64) -> StreamRecord<(String, i64)> {
        StreamRecord::new((name.to_string(), value))
    }

    #[test]
    fn broadcast_state_is_written_by_the_broadcast_side_and_restored_at_a_new_parallelism() {
        let function = SeeRules::default();
        let mut old: Vec<Op> = (0..2).map(|i| operator(&function, i, 2)).collect();
        for op in &mut old {
            op.process_batch2(
                [rule("a", 1), rule("b", 2), rule("c", 3), rule("b", -1)].into_iter().collect(),
                &mut NoOutput,
            );
        }
        old[0].process_batch1([StreamRecord::new(7)].into_iter().collect(), &mut NoOutput);
        let expected = vec![("a".to_string(), 1), ("c".to_string(), 3)];
        assert_eq!(function.seen.lock().drain(..).collect::<Vec<_>>(), [(0, 7, expected.clone())]);

        let snapshots: Vec<_> = old
            .iter_mut()
            .map(|op| {
                let mut ctx = StateSnapshotContext::new(CheckpointId(1), 0);
                op.snapshot_state(&mut ctx).unwrap();
                ctx.into_result().operator.expect("the broadcast state is operator state")
            })
            .collect();
        let restored = brook_state::redistribute_operator_state(&snapshots, 3).unwrap();
        for (i, state) in restored.into_iter().enumerate() {
            let mut op = operator(&function, i, 3);
            let ctx = StateInitializationContext::new(
                CheckpointId(1),
                OperatorRestoreState { operator: Some(state), ..OperatorRestoreState::default() },
            );
            op.initialize_state(&ctx).unwrap();
            op.process_batch1([StreamRecord::new(i as i64)].into_iter().collect(), &mut NoOutput);
        }
        let seen = function.seen.lock().clone();
        assert_eq!(seen, (0..3).map(|i| (i, i as i64, expected.clone())).collect::<Vec<_>>());
    }
}
