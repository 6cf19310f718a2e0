//! The window operator (Flink's `WindowOperator`).
//!
//! Invariants (docs/design/windows.md):
//! - the contents of a window live under its *state window* (itself, unless a
//!   merging assigner merged it), its trigger state and timers under the window;
//! - an element is added to a window only if the window is not late
//!   (`max_timestamp + allowed_lateness > watermark`, event time only); an
//!   element that no window took and whose own timestamp is that late is
//!   counted in `numLateRecordsDropped` or sent to the late-data side output;
//! - every window with contents has a cleanup timer at `max_timestamp +
//!   allowed_lateness` (event time) or `max_timestamp` (processing time), unless
//!   that is the end of time; when it fires, contents, trigger state, per-window
//!   state and the merging-set entry are all removed;
//! - results of a firing carry the window's max timestamp and precede the
//!   watermark that caused them.

use crate::checkpoint::{SnapshotError, StateInitializationContext, StateSnapshotContext};
use crate::functions::{Collector, RuntimeContext};
use crate::key_selector::KeySelector;
use crate::metrics::Accumulator;
use crate::output::{OneInputOperator, Output};
use crate::side_output::{OutputTag, SideOutputs};
use crate::timer::{InternalTimerService, TimeDomain, Timer};
use crate::window::{
    InternalWindowFunction, MergingWindowSet, OnMergeContext, ProcessWindowContext, StateStore, Trigger,
    TriggerContext, TriggerResult, TriggerTimers, Window, WindowAssigner, WindowAssignerContext, WindowMerge,
};
use brook_types::{Batch, StreamRecord, Timestamp, Watermark, WatermarkStatus};
use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;

mod panes;
mod slices;
mod snapshot;

use slices::{Placement, Slicer};

use panes::{
    Pane, PaneTimerQueues, PaneTimerSet, Panes, find_pane, key_panes_mut, pane_index, pane_index_before, remove_pane,
};

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Results are handed downstream in batches of at most this many records while
/// a watermark fires many windows.
const EMIT_BATCH: usize = 1024;

/// The windows of one key under a merging assigner.
struct MergingKey<W, Acc, TS> {
    /// Contents by state window.
    contents: FastMap<W, Acc>,
    /// Trigger state by window; values are always `Some`.
    trigger_states: FastMap<W, Option<TS>>,
    /// In-flight windows.
    merging: MergingWindowSet<W>,
}

impl<W, Acc, TS> Default for MergingKey<W, Acc, TS> {
    fn default() -> Self {
        Self { contents: FastMap::default(), trigger_states: FastMap::default(), merging: MergingWindowSet::default() }
    }
}

impl<W: Window, Acc, TS> MergingKey<W, Acc, TS> {
    fn is_empty(&self) -> bool {
        self.contents.is_empty() && self.trigger_states.is_empty() && self.merging.is_empty()
    }
}

/// Where a pane's timers go: the pane's own set and the pane timer queues.
struct PaneTimers<'a, K, W> {
    queues: &'a mut PaneTimerQueues<K, W>,
    set: &'a mut PaneTimerSet,
}

/// The timers of one key, as a trigger sees them: a pane's (non-merging
/// assigners) or the timer service's (merging assigners).
struct KeyTimers<'a, K, W> {
    service: &'a mut InternalTimerService<K, W>,
    key: &'a K,
    pane: Option<PaneTimers<'a, K, W>>,
}

impl<K: Clone + Hash + Eq, W: Clone + Hash + Eq> KeyTimers<'_, K, W> {
    fn register(&mut self, window: &W, domain: TimeDomain, time: Timestamp) {
        if let Some(pane) = &mut self.pane {
            pane.queues.register(pane.set, self.key, window, domain, time);
            return;
        }
        match domain {
            TimeDomain::EventTime => self.service.register_event_time_timer(self.key, window, time),
            TimeDomain::ProcessingTime => self.service.register_processing_time_timer(self.key, window, time),
        }
    }

    fn delete(&mut self, window: &W, domain: TimeDomain, time: Timestamp) {
        if let Some(pane) = &mut self.pane {
            pane.set.remove(domain, time); // its queue entry goes stale
            return;
        }
        match domain {
            TimeDomain::EventTime => self.service.delete_event_time_timer(self.key, window, time),
            TimeDomain::ProcessingTime => self.service.delete_processing_time_timer(self.key, window, time),
        }
    }
}

impl<K: Clone + Hash + Eq, W: Clone + Hash + Eq> TriggerTimers<W> for KeyTimers<'_, K, W> {
    fn current_processing_time(&self) -> Timestamp {
        self.service.current_processing_time()
    }
    fn register_event_time_timer(&mut self, window: &W, time: Timestamp) {
        self.register(window, TimeDomain::EventTime, time);
    }
    fn register_processing_time_timer(&mut self, window: &W, time: Timestamp) {
        self.register(window, TimeDomain::ProcessingTime, time);
    }
    fn delete_event_time_timer(&mut self, window: &W, time: Timestamp) {
        self.delete(window, TimeDomain::EventTime, time);
    }
    fn delete_processing_time_timer(&mut self, window: &W, time: Timestamp) {
        self.delete(window, TimeDomain::ProcessingTime, time);
    }
}

/// Everything but the per-key windows, borrowed together so that the windows of
/// one key can be changed while triggers, timers and functions run.
struct Parts<'a, K, W, T, O, A, Tr, F> {
    assigner: &'a A,
    trigger: &'a Tr,
    function: &'a mut F,
    timers: &'a mut InternalTimerService<K, W>,
    pane_timers: &'a mut PaneTimerQueues<K, W>,
    runtime: &'a RuntimeContext,
    side_outputs: &'a mut SideOutputs,
    global_states: &'a mut FastMap<K, StateStore>,
    allowed_lateness: i64,
    is_event_time: bool,
    is_merging: bool,
    _types: PhantomData<fn(T) -> O>,
}

impl<K, W, T, O, A, Tr, F> Parts<'_, K, W, T, O, A, Tr, F>
where
    K: Clone + Hash + Eq,
    W: Window,
    T: Clone,
    A: WindowAssigner<T, Window = W>,
    Tr: Trigger<T, W>,
    F: InternalWindowFunction<K, W, T, O>,
{
    fn watermark(&self) -> Timestamp {
        self.timers.current_watermark()
    }

    /// Flink's `cleanupTime`: event time allows lateness (saturating at the end
    /// of time); processing time does not.
    fn cleanup_time(&self, window: &W) -> Timestamp {
        if self.is_event_time {
            window.max_timestamp().checked_add(self.allowed_lateness).unwrap_or(i64::MAX)
        } else {
            window.max_timestamp()
        }
    }

    /// Flink's `isWindowLate`.
    fn is_window_late(&self, window: &W) -> bool {
        self.is_event_time && self.cleanup_time(window) <= self.watermark()
    }

    fn register_cleanup_timer(&mut self, key: &K, window: &W, pane: Option<&mut PaneTimerSet>) {
        let time = self.cleanup_time(window);
        if time == i64::MAX {
            return; // no cleanup timer for the end of time
        }
        let domain = if self.is_event_time { TimeDomain::EventTime } else { TimeDomain::ProcessingTime };
        let pane = pane.map(|set| PaneTimers { queues: &mut *self.pane_timers, set });
        KeyTimers { service: self.timers, key, pane }.register(window, domain, time);
    }

    fn delete_cleanup_timer(&mut self, key: &K, window: &W) {
        let time = self.cleanup_time(window);
        if time == i64::MAX {
            return;
        }
        let domain = if self.is_event_time { TimeDomain::EventTime } else { TimeDomain::ProcessingTime };
        KeyTimers { service: self.timers, key, pane: None }.delete(window, domain, time);
    }

    /// Calls the trigger for `window` with its state slot.
    fn with_trigger<R>(
        &mut self,
        key: &K,
        window: &W,
        slot: &mut Option<Tr::State>,
        pane: Option<&mut PaneTimerSet>,
        call: impl FnOnce(&Tr, &mut TriggerContext<'_, W, Tr::State>) -> R,
    ) -> R {
        let watermark = self.watermark();
        let pane = pane.map(|set| PaneTimers { queues: &mut *self.pane_timers, set });
        let mut timers = KeyTimers { service: self.timers, key, pane };
        call(self.trigger, &mut TriggerContext::new(window, &mut timers, watermark, slot))
    }

    /// [`Self::with_trigger`] for a window whose trigger state lives in
    /// `states`: stores a state the trigger created and drops one it cleared.
    fn with_trigger_in<R>(
        &mut self,
        key: &K,
        window: &W,
        states: &mut FastMap<W, Option<Tr::State>>,
        call: impl FnOnce(&Tr, &mut TriggerContext<'_, W, Tr::State>) -> R,
    ) -> R {
        match states.get_mut(window) {
            Some(slot) => {
                let result = self.with_trigger(key, window, slot, None, call);
                if slot.is_none() {
                    states.remove(window);
                }
                result
            }
            None => {
                let mut slot = None;
                let result = self.with_trigger(key, window, &mut slot, None, call);
                if slot.is_some() {
                    states.insert(window.clone(), slot);
                }
                result
            }
        }
    }

    /// Evaluates a window and emits its result with the window's max timestamp;
    /// false if the contents became empty.
    fn emit(
        &mut self,
        key: &K,
        window: &W,
        acc: &mut F::Acc,
        window_state: Option<&mut Option<Box<StateStore>>>,
        out: &mut Collector<O>,
    ) -> bool {
        out.timestamp = window.max_timestamp();
        let watermark = self.watermark();
        let mut ctx = ProcessWindowContext {
            key,
            window,
            watermark,
            runtime: self.runtime,
            side_outputs: self.side_outputs,
            window_state,
            global_states: self.global_states,
        };
        self.function.process(key, acc, &mut ctx, out)
    }

    /// Lets the function clear its per-window state of `window`.
    fn clear_function(&mut self, key: &K, window: &W, window_state: Option<&mut Option<Box<StateStore>>>) {
        let watermark = self.watermark();
        let mut ctx = ProcessWindowContext {
            key,
            window,
            watermark,
            runtime: self.runtime,
            side_outputs: self.side_outputs,
            window_state,
            global_states: self.global_states,
        };
        self.function.clear(&mut ctx);
    }

    /// Evaluates a pane's window if it has contents.
    fn fire_pane(&mut self, key: &K, window: &W, pane: &mut Pane<F::Acc, Tr::State>, out: &mut Collector<O>) {
        let Pane { contents, window_state, .. } = pane;
        if let Some(acc) = contents
            && !self.emit(key, window, acc, Some(window_state), out)
        {
            *contents = None;
        }
    }

    /// After `on_element` on a pane: fire, purge, and (re-)register the cleanup timer.
    fn react_pane(
        &mut self,
        key: &K,
        window: &W,
        result: TriggerResult,
        pane: &mut Pane<F::Acc, Tr::State>,
        out: &mut Collector<O>,
    ) {
        if result.is_fire() {
            self.fire_pane(key, window, pane, out);
        }
        if result.is_purge() {
            pane.contents = None;
        }
        self.register_cleanup_timer(key, window, Some(&mut pane.timers));
    }

    /// A timer of a pane: the trigger decides; the cleanup timer clears.
    #[allow(clippy::too_many_arguments)]
    fn pane_timer(
        &mut self,
        key: &K,
        window: &W,
        domain: TimeDomain,
        timestamp: Timestamp,
        is_cleanup: bool,
        pane: &mut Pane<F::Acc, Tr::State>,
        out: &mut Collector<O>,
    ) {
        let result =
            self.with_trigger(key, window, &mut pane.trigger_state, Some(&mut pane.timers), |t, ctx| match domain {
                TimeDomain::EventTime => t.on_event_time(timestamp, window, ctx),
                TimeDomain::ProcessingTime => t.on_processing_time(timestamp, window, ctx),
            });
        if result.is_fire() {
            self.fire_pane(key, window, pane, out);
        }
        if result.is_purge() {
            pane.contents = None;
        }
        if is_cleanup {
            self.clear_pane(key, window, pane);
        }
    }

    /// Flink's `clearAllState` for a pane: contents, trigger state and
    /// timers, per-window state.
    fn clear_pane(&mut self, key: &K, window: &W, pane: &mut Pane<F::Acc, Tr::State>) {
        pane.contents = None;
        self.with_trigger(key, window, &mut pane.trigger_state, Some(&mut pane.timers), |t, ctx| t.clear(window, ctx));
        pane.trigger_state = None;
        self.clear_function(key, window, Some(&mut pane.window_state));
        pane.window_state = None;
    }

    /// Flink's `clearAllState` under a merging assigner: contents, trigger
    /// state and timers, and the merging-set entry of `window`.
    fn clear_merging(&mut self, key: &K, window: &W, state_window: &W, mk: &mut MergingKey<W, F::Acc, Tr::State>) {
        mk.contents.remove(state_window);
        self.with_trigger_in(key, window, &mut mk.trigger_states, |t, ctx| t.clear(window, ctx));
        mk.trigger_states.remove(window);
        self.clear_function(key, window, None);
        mk.merging.retire_window(window);
    }

    /// The merge function of Flink's `processElement`: the trigger merges into
    /// the result, the merged windows' triggers and cleanup timers are cleared,
    /// and the merged state windows' contents move into the result's state
    /// window.
    fn apply_merge(&mut self, key: &K, merge: WindowMerge<W>, mk: &mut MergingKey<W, F::Acc, Tr::State>) {
        let WindowMerge { result, merged_windows, state_window, merged_state_windows } = merge;
        if self.is_event_time && result.max_timestamp().saturating_add(self.allowed_lateness) <= self.watermark() {
            panic!(
                "the end timestamp of an event-time window cannot become earlier than the current watermark by \
                 merging (current watermark: {}, window: {result:?})",
                self.watermark()
            );
        } else if !self.is_event_time && result.max_timestamp() <= self.timers.current_processing_time() {
            panic!(
                "the end timestamp of a processing-time window cannot become earlier than the current processing \
                 time by merging (current processing time: {}, window: {result:?})",
                self.timers.current_processing_time()
            );
        }

        let merged_states: Vec<Tr::State> =
            merged_windows.iter().filter_map(|w| mk.trigger_states.remove(w).flatten()).collect();
        {
            let watermark = self.watermark();
            let mut timers = KeyTimers { service: &mut *self.timers, key, pane: None };
            let mut slot = mk.trigger_states.remove(&result).flatten();
            let ctx = TriggerContext::new(&result, &mut timers, watermark, &mut slot);
            self.trigger.on_merge(&result, &mut OnMergeContext::new(ctx, merged_states));
            if slot.is_some() {
                mk.trigger_states.insert(result.clone(), slot);
            }
        }
        for w in &merged_windows {
            self.with_trigger_in(key, w, &mut mk.trigger_states, |t, ctx| t.clear(w, ctx));
            self.delete_cleanup_timer(key, w);
        }

        // Flink's mergeNamespaces: fold the sources, then into the target.
        let mut merged: Option<F::Acc> = None;
        for source in &merged_state_windows {
            if let Some(acc) = mk.contents.remove(source) {
                match &mut merged {
                    None => merged = Some(acc),
                    Some(m) => self.function.merge(m, acc),
                }
            }
        }
        if let Some(m) = merged {
            match mk.contents.get_mut(&state_window) {
                Some(target) => self.function.merge(target, m),
                None => {
                    mk.contents.insert(state_window, m);
                }
            }
        }
    }

    /// Evaluates a merged window if it has contents.
    fn fire_merging(
        &mut self,
        key: &K,
        window: &W,
        state_window: &W,
        mk: &mut MergingKey<W, F::Acc, Tr::State>,
        out: &mut Collector<O>,
    ) {
        if let Some(acc) = mk.contents.get_mut(state_window)
            && !self.emit(key, window, acc, None, out)
        {
            mk.contents.remove(state_window);
        }
    }
}

/// `KeyedStream::window(..)`: keyed windows with a trigger, a window function,
/// allowed lateness and a late-data side output.
pub struct WindowOperator<T, O, S, A, Tr, F>
where
    S: KeySelector<T>,
    A: WindowAssigner<T>,
    Tr: Trigger<T, A::Window>,
    F: InternalWindowFunction<S::Key, A::Window, T, O>,
{
    key_selector: S,
    assigner: A,
    trigger: Tr,
    function: F,
    allowed_lateness: i64,
    late_data_tag: Option<OutputTag<T>>,
    runtime: RuntimeContext,
    side_outputs: SideOutputs,
    num_late_records_dropped: Accumulator,
    /// Timers under a merging assigner; the watermark and clock for all.
    timers: InternalTimerService<S::Key, A::Window>,
    /// Timers under a non-merging assigner.
    pane_timers: PaneTimerQueues<S::Key, A::Window>,
    /// Windows by key, then window, under a non-merging assigner.
    panes: Panes<S::Key, A::Window, F::Acc, Tr::State>,
    /// Windows by key, under a merging assigner.
    keys: FastMap<S::Key, MergingKey<A::Window, F::Acc, Tr::State>>,
    global_states: FastMap<S::Key, StateStore>,
    /// The windows' slices, when the operator slices (docs/design/windows.md,
    /// "Slicing"); then `panes` and `keys` stay empty.
    slicer: Option<Slicer<S::Key, A::Window, F::Acc>>,
    /// The windows a sliced firing gives, by key (reused).
    fired: Vec<(S::Key, F::Acc)>,
    /// Reused buffers.
    windows: Vec<A::Window>,
    merges: Vec<WindowMerge<A::Window>>,
    _types: PhantomData<fn(T) -> O>,
}

impl<T, O, S, A, Tr, F> WindowOperator<T, O, S, A, Tr, F>
where
    T: Clone + Send + 'static,
    O: Send,
    S: KeySelector<T>,
    A: WindowAssigner<T>,
    Tr: Trigger<T, A::Window>,
    F: InternalWindowFunction<S::Key, A::Window, T, O>,
{
    /// A window operator without allowed lateness or late-data side output.
    /// Counts dropped late elements in the accumulator
    /// `"<operator name>.numLateRecordsDropped"`.
    pub fn new(
        key_selector: S,
        assigner: A,
        trigger: Tr,
        mut function: F,
        runtime: RuntimeContext,
        side_outputs: SideOutputs,
    ) -> Self {
        function.open(&runtime);
        let timers = InternalTimerService::new(runtime.processing_time.clone());
        let pane_timers = PaneTimerQueues::new(runtime.processing_time.clone());
        let num_late_records_dropped = runtime.accumulator(&late_records_dropped_name(&runtime.operator_name));
        let slices = assigner.is_event_time() && trigger.is_event_time_trigger() && function.can_slice();
        let slicing = if slices { assigner.slicing() } else { None };
        // A slice in several windows is copied into each when they fire.
        let slicer = slicing.filter(|s| s.size == s.slide || function.can_copy()).map(Slicer::new);
        Self {
            key_selector,
            assigner,
            trigger,
            function,
            allowed_lateness: 0,
            late_data_tag: None,
            runtime,
            side_outputs,
            num_late_records_dropped,
            timers,
            pane_timers,
            panes: Panes::default(),
            keys: FastMap::default(),
            global_states: FastMap::default(),
            slicer,
            fired: Vec::new(),
            windows: Vec::new(),
            merges: Vec::new(),
            _types: PhantomData,
        }
    }

    /// Event-time windows keep their state this long (ms) after their end.
    pub fn with_allowed_lateness(mut self, allowed_lateness: i64) -> Self {
        assert!(allowed_lateness >= 0, "the allowed lateness cannot be negative");
        self.allowed_lateness = allowed_lateness;
        if allowed_lateness > 0 {
            self.slicer = None; // late firings: one pane per window
        }
        self
    }

    /// Keeps one pane per window even where slicing applies (for comparisons
    /// and tests; the results are the same).
    pub fn without_slicing(mut self) -> Self {
        self.slicer = None;
        self
    }

    /// Late elements go to the side output `tag` instead of being counted.
    pub fn with_late_data_tag(mut self, tag: Option<OutputTag<T>>) -> Self {
        self.late_data_tag = tag;
        self
    }

    /// The number of keys with windows in flight (for tests).
    pub fn num_keys_with_windows(&self) -> usize {
        self.panes.len() + self.keys.len() + self.slicer.as_ref().map_or(0, |s| s.num_keys())
    }

    /// Whether the operator keeps slices instead of windows (for tests).
    pub fn is_slicing(&self) -> bool {
        self.slicer.is_some()
    }

    /// The number of slices held (for tests).
    pub fn num_slices(&self) -> usize {
        self.slicer.as_ref().map_or(0, |s| s.num_slices())
    }

    /// An element under slicing: into its key's slice, or late.
    fn process_sliced(&mut self, record: StreamRecord<T>) {
        crate::window::assigners::check_has_timestamp(record.timestamp);
        let key = self.key_selector.key(&record.value);
        let watermark = self.timers.current_watermark();
        let Some(slicer) = &mut self.slicer else { return };
        let timestamp = record.timestamp;
        match slicer.place(timestamp, watermark) {
            Placement::Slice { start } => {
                let function = &mut self.function;
                slicer.add(&key, start, |contents| match contents {
                    Some(acc) => {
                        function.add(acc, record);
                        None
                    }
                    None => Some(function.create(record)),
                });
            }
            // Every window of the element is late, and so is its timestamp.
            Placement::Late => match &self.late_data_tag {
                Some(tag) => self.side_outputs.emit(tag, record.value, timestamp),
                None => self.num_late_records_dropped.add(1),
            },
        }
    }

    /// Fires the sliced windows up to `watermark`, in the order of their
    /// ends; the keys of one window in the order of their first slice in it.
    fn fire_sliced(&mut self, watermark: Timestamp, collector: &mut Collector<O>, out: &mut dyn Output<O>) {
        let Some(slicer) = &mut self.slicer else { return };
        let mut fired = std::mem::take(&mut self.fired);
        let function = &mut self.function;
        let size = slicer.spec.size;
        while let Some(time) = slicer.fire_next(watermark, &mut fired, |target, slice| {
            let copy = function.copy(slice)?;
            match target {
                None => Some(copy),
                Some(target) => {
                    function.merge(target, copy);
                    None
                }
            }
        }) {
            let window = (slicer.spec.window)(time.saturating_sub(size - 1), time.saturating_add(1));
            collector.timestamp = time;
            for (key, mut acc) in fired.drain(..) {
                let mut ctx = ProcessWindowContext {
                    key: &key,
                    window: &window,
                    watermark: self.timers.current_watermark(),
                    runtime: &self.runtime,
                    side_outputs: &mut self.side_outputs,
                    window_state: None,
                    global_states: &mut self.global_states,
                };
                function.process(&key, &mut acc, &mut ctx, collector);
                if collector.buffer.len() >= EMIT_BATCH {
                    self.side_outputs.flush();
                    out.collect(std::mem::take(&mut collector.buffer));
                }
            }
        }
        self.fired = fired;
    }

    #[allow(clippy::type_complexity)]
    fn parts(
        &mut self,
    ) -> (
        Parts<'_, S::Key, A::Window, T, O, A, Tr, F>,
        &mut Panes<S::Key, A::Window, F::Acc, Tr::State>,
        &mut FastMap<S::Key, MergingKey<A::Window, F::Acc, Tr::State>>,
    ) {
        let parts = Parts {
            assigner: &self.assigner,
            trigger: &self.trigger,
            function: &mut self.function,
            timers: &mut self.timers,
            pane_timers: &mut self.pane_timers,
            runtime: &self.runtime,
            side_outputs: &mut self.side_outputs,
            global_states: &mut self.global_states,
            allowed_lateness: self.allowed_lateness,
            is_event_time: self.assigner.is_event_time(),
            is_merging: self.assigner.is_merging(),
            _types: PhantomData,
        };
        (parts, &mut self.panes, &mut self.keys)
    }

    /// Flink's `processElement`.
    fn process_element(&mut self, record: StreamRecord<T>, out: &mut Collector<O>) {
        if self.slicer.is_some() {
            self.process_sliced(record);
            return;
        }
        let key = self.key_selector.key(&record.value);
        let mut windows = std::mem::take(&mut self.windows);
        let mut merges = std::mem::take(&mut self.merges);
        windows.clear();
        {
            let clock = || self.runtime.processing_time.now();
            let ctx = WindowAssignerContext::new(&clock);
            self.assigner.assign_windows(&record.value, record.timestamp, &ctx, &mut windows);
        }
        let timestamp = record.timestamp;
        let mut value = Some(record.value);
        let mut skipped = true;
        let (mut p, panes, keys) = self.parts();

        if p.is_merging {
            let n = windows.len();
            let mk = key_windows(keys, &key);
            for (i, window) in windows.drain(..).enumerate() {
                let actual = mk.merging.add_window::<T, A>(p.assigner, window, &mut merges);
                for merge in merges.drain(..) {
                    p.apply_merge(&key, merge, mk);
                }
                if p.is_window_late(&actual) {
                    mk.merging.retire_window(&actual);
                    continue;
                }
                skipped = false;
                let state_window =
                    mk.merging.state_window(&actual).expect("a window just added is in the in-flight set").clone();
                let v = if i + 1 == n { value.take() } else { value.clone() }.expect("taken only at the last window");
                let result = p.with_trigger_in(&key, &actual, &mut mk.trigger_states, |t, ctx| {
                    t.on_element(&v, timestamp, &actual, ctx)
                });
                let record = StreamRecord { value: v, timestamp };
                match mk.contents.get_mut(&state_window) {
                    Some(acc) => p.function.add(acc, record),
                    None => {
                        let acc = p.function.create(record);
                        mk.contents.insert(state_window.clone(), acc);
                    }
                }
                if result.is_fire() {
                    p.fire_merging(&key, &actual, &state_window, mk, out);
                }
                if result.is_purge() {
                    mk.contents.remove(&state_window);
                }
                p.register_cleanup_timer(&key, &actual, None);
            }
            if mk.is_empty() {
                keys.remove(&key);
            }
        } else {
            windows.retain(|w| !p.is_window_late(w));
            let n = windows.len();
            skipped = n == 0;
            if n > 0 {
                let key_panes = key_panes_mut(panes, &key);
                // Where the previous window's pane was: assigners list an
                // element's windows latest first, so each is found before it.
                let mut previous: Option<(Timestamp, usize)> = None;
                for (i, window) in windows.drain(..).enumerate() {
                    let v =
                        if i + 1 == n { value.take() } else { value.clone() }.expect("taken only at the last window");
                    let at = match previous {
                        Some((time, end)) if window.max_timestamp() < time => {
                            pane_index_before(key_panes, &window, end)
                        }
                        _ => pane_index(key_panes, &window),
                    };
                    let pane = &mut key_panes[at].1;
                    let result =
                        p.with_trigger(&key, &window, &mut pane.trigger_state, Some(&mut pane.timers), |t, ctx| {
                            t.on_element(&v, timestamp, &window, ctx)
                        });
                    let record = StreamRecord { value: v, timestamp };
                    match &mut pane.contents {
                        Some(acc) => p.function.add(acc, record),
                        None => pane.contents = Some(p.function.create(record)),
                    }
                    p.react_pane(&key, &window, result, pane, out);
                    if pane.is_empty() {
                        remove_pane(key_panes, at);
                    }
                    previous = Some((window.max_timestamp(), at));
                }
                if key_panes.is_empty() {
                    panes.remove(&key);
                }
            }
        }

        // An element no window took, whose own timestamp is late: Flink's isElementLate.
        let late = skipped && p.is_event_time && timestamp.saturating_add(p.allowed_lateness) <= p.watermark();
        if late {
            let value = value.expect("no window took the element");
            match &self.late_data_tag {
                Some(tag) => self.side_outputs.emit(tag, value, timestamp),
                None => self.num_late_records_dropped.add(1),
            }
        }
        self.windows = windows;
        self.merges = merges;
    }

    /// Flink's `onEventTime` / `onProcessingTime`.
    fn on_timer(&mut self, timer: Timer<S::Key, A::Window>, domain: TimeDomain, out: &mut Collector<O>) {
        let Timer { timestamp, key, namespace: window } = timer;
        let (mut p, panes, keys) = self.parts();
        let cleanup_domain = if p.is_event_time { TimeDomain::EventTime } else { TimeDomain::ProcessingTime };
        let is_cleanup = domain == cleanup_domain && timestamp == p.cleanup_time(&window);
        if !p.is_merging {
            // A pane has its timers, so a timer whose pane is gone, or that
            // the pane no longer has, was deleted: nothing to do.
            if let Some(key_panes) = panes.get_mut(&key)
                && let Some(at) = find_pane(key_panes, &window)
                && key_panes[at].1.timers.remove(domain, timestamp)
            {
                p.pane_timer(&key, &window, domain, timestamp, is_cleanup, &mut key_panes[at].1, out);
                if key_panes[at].1.is_empty() {
                    remove_pane(key_panes, at);
                    if key_panes.is_empty() {
                        panes.remove(&key);
                    }
                }
            }
            return;
        }
        let mk = key_windows(keys, &key);
        let Some(state_window) = mk.merging.state_window(&window).cloned() else {
            // A timer of a window that is gone (a trigger did not delete it): nothing to do.
            if mk.is_empty() {
                keys.remove(&key);
            }
            return;
        };
        let result = p.with_trigger_in(&key, &window, &mut mk.trigger_states, |t, ctx| match domain {
            TimeDomain::EventTime => t.on_event_time(timestamp, &window, ctx),
            TimeDomain::ProcessingTime => t.on_processing_time(timestamp, &window, ctx),
        });
        if result.is_fire() {
            p.fire_merging(&key, &window, &state_window, mk, out);
        }
        if result.is_purge() {
            mk.contents.remove(&state_window);
        }
        if is_cleanup {
            p.clear_merging(&key, &window, &state_window, mk);
        }
        if mk.is_empty() {
            keys.remove(&key);
        }
    }

    /// The next timer due at `until` in `domain` (possibly stale under a
    /// non-merging assigner; `on_timer` checks).
    fn next_timer(&mut self, domain: TimeDomain, until: Timestamp) -> Option<Timer<S::Key, A::Window>> {
        if self.assigner.is_merging() {
            match domain {
                TimeDomain::EventTime => self.timers.pop_event_time_timer(),
                TimeDomain::ProcessingTime => self.timers.pop_processing_time_timer(until),
            }
        } else {
            let (timestamp, key, namespace) = self.pane_timers.pop(domain, until)?;
            Some(Timer { timestamp, key, namespace })
        }
    }

    /// The number of timers registered (for tests).
    pub fn num_timers(&self) -> usize {
        let pane_timers: usize = self.panes.values().flatten().map(|(_, p)| p.timers.len()).sum();
        let slice_timers = self.slicer.as_ref().map_or(0, |s| s.num_keys());
        slice_timers + pane_timers + self.timers.num_event_time_timers() + self.timers.num_processing_time_timers()
    }

    fn flush(&mut self, collector: &mut Collector<O>, out: &mut dyn Output<O>) {
        self.side_outputs.flush();
        if !collector.buffer.is_empty() {
            out.collect(std::mem::take(&mut collector.buffer));
        }
    }
}

/// The name of the accumulator counting the late elements an operator dropped.
pub fn late_records_dropped_name(operator_name: &str) -> String {
    format!("{operator_name}.numLateRecordsDropped")
}

fn key_windows<'m, K: Clone + Hash + Eq, V: Default>(keys: &'m mut FastMap<K, V>, key: &K) -> &'m mut V {
    if !keys.contains_key(key) {
        keys.insert(key.clone(), V::default());
    }
    keys.get_mut(key).expect("inserted above")
}

impl<T, O, S, A, Tr, F> OneInputOperator<T, O> for WindowOperator<T, O, S, A, Tr, F>
where
    T: Clone + Send + 'static,
    O: Send,
    S: KeySelector<T>,
    A: WindowAssigner<T>,
    Tr: Trigger<T, A::Window>,
    F: InternalWindowFunction<S::Key, A::Window, T, O>,
{
    fn process_batch(&mut self, batch: Batch<T>, out: &mut dyn Output<O>) {
        let mut collector = Collector::new();
        for record in batch {
            self.process_element(record, &mut collector);
            if collector.buffer.len() >= EMIT_BATCH {
                self.flush(&mut collector, out);
            }
        }
        self.flush(&mut collector, out);
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output<O>) {
        self.timers.advance_watermark(watermark.0);
        let mut collector = Collector::new();
        self.fire_sliced(watermark.0, &mut collector, out);
        while let Some(timer) = self.next_timer(TimeDomain::EventTime, watermark.0) {
            self.on_timer(timer, TimeDomain::EventTime, &mut collector);
            if collector.buffer.len() >= EMIT_BATCH {
                self.flush(&mut collector, out);
            }
        }
        self.flush(&mut collector, out);
        self.side_outputs.emit_watermark(watermark);
        out.emit_watermark(watermark);
    }

    /// Idleness reaches the late-data side output too.
    fn process_watermark_status(&mut self, status: WatermarkStatus, out: &mut dyn Output<O>) {
        self.side_outputs.emit_watermark_status(status);
        out.emit_watermark_status(status);
    }

    fn on_processing_time(&mut self, now: Timestamp, out: &mut dyn Output<O>) {
        let mut collector = Collector::new();
        while let Some(timer) = self.next_timer(TimeDomain::ProcessingTime, now) {
            self.on_timer(timer, TimeDomain::ProcessingTime, &mut collector);
            if collector.buffer.len() >= EMIT_BATCH {
                self.flush(&mut collector, out);
            }
        }
        self.flush(&mut collector, out);
        self.side_outputs.on_processing_time(now);
    }

    /// Pending processing-time windows are not fired at end of input (as
    /// Flink's streaming mode); event-time windows all fired at `Watermark::MAX`.
    fn finish(&mut self, _out: &mut dyn Output<O>) {
        self.side_outputs.end_input();
    }

    fn snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        ctx.set_keyed_state(self.snapshot_windows()?);
        Ok(())
    }

    fn initialize_state(&mut self, ctx: &StateInitializationContext) -> Result<(), SnapshotError> {
        self.restore_windows(ctx.keyed_state())
    }

    fn side_outputs_mut(&mut self) -> Option<&mut SideOutputs> {
        Some(&mut self.side_outputs)
    }
}

#[cfg(test)]
mod tests;
