//! Triggers: when a window is evaluated and when its contents are purged.
//!
//! A [`Trigger`] is asked on every element a window receives and on every timer
//! it registered; it answers with a [`TriggerResult`]. It keeps no state of its
//! own: what it must remember per key and window (a count, the next firing time)
//! lives in its [`Trigger::State`], which the window operator stores per (key,
//! window) and hands in through the [`TriggerContext`], as Flink's triggers keep
//! theirs in partitioned state.

use crate::window::Window;
use brook_types::Timestamp;

/// What a window operator does after asking its trigger (Flink's `TriggerResult`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerResult {
    /// Nothing.
    Continue,
    /// Evaluate the window and emit the result; keep the contents.
    Fire,
    /// Drop the window's contents without evaluating them (timers and trigger
    /// state stay).
    Purge,
    /// Evaluate the window, emit the result, then drop the contents.
    FireAndPurge,
}

impl TriggerResult {
    #[inline]
    pub fn is_fire(self) -> bool {
        matches!(self, TriggerResult::Fire | TriggerResult::FireAndPurge)
    }

    #[inline]
    pub fn is_purge(self) -> bool {
        matches!(self, TriggerResult::Purge | TriggerResult::FireAndPurge)
    }
}

/// The timers of the current key, in the namespace of a window. Implemented by
/// the window operator; a trigger reaches it through its [`TriggerContext`].
pub trait TriggerTimers<W> {
    fn current_processing_time(&self) -> Timestamp;
    fn register_event_time_timer(&mut self, window: &W, time: Timestamp);
    fn register_processing_time_timer(&mut self, window: &W, time: Timestamp);
    fn delete_event_time_timer(&mut self, window: &W, time: Timestamp);
    fn delete_processing_time_timer(&mut self, window: &W, time: Timestamp);
}

/// What a trigger sees of the current key and window: timers, time, and its state.
pub struct TriggerContext<'a, W, S> {
    window: &'a W,
    timers: &'a mut dyn TriggerTimers<W>,
    watermark: Timestamp,
    state: &'a mut Option<S>,
}

impl<'a, W, S> TriggerContext<'a, W, S> {
    /// A context for `window` whose trigger state is `state` (`None`: not yet created).
    pub fn new(
        window: &'a W,
        timers: &'a mut dyn TriggerTimers<W>,
        watermark: Timestamp,
        state: &'a mut Option<S>,
    ) -> Self {
        Self { window, timers, watermark, state }
    }

    /// The operator's event time (`i64::MIN` before the first watermark).
    pub fn current_watermark(&self) -> Timestamp {
        self.watermark
    }

    pub fn current_processing_time(&self) -> Timestamp {
        self.timers.current_processing_time()
    }

    /// `on_event_time(time)` is called for this key and window when the watermark reaches `time`.
    pub fn register_event_time_timer(&mut self, time: Timestamp) {
        self.timers.register_event_time_timer(self.window, time);
    }

    /// `on_processing_time(time)` is called for this key and window when the clock reaches `time`.
    pub fn register_processing_time_timer(&mut self, time: Timestamp) {
        self.timers.register_processing_time_timer(self.window, time);
    }

    pub fn delete_event_time_timer(&mut self, time: Timestamp) {
        self.timers.delete_event_time_timer(self.window, time);
    }

    pub fn delete_processing_time_timer(&mut self, time: Timestamp) {
        self.timers.delete_processing_time_timer(self.window, time);
    }

    /// The trigger's state for this key and window, created on first use.
    pub fn state(&mut self) -> &mut S
    where
        S: Default,
    {
        self.state.get_or_insert_with(S::default)
    }

    /// The trigger's state if it was created and not cleared.
    pub fn state_if_present(&self) -> Option<&S> {
        self.state.as_ref()
    }

    /// Drops the trigger's state for this key and window.
    pub fn clear_state(&mut self) {
        *self.state = None;
    }
}

/// The context of [`Trigger::on_merge`]: the context of the merge result, plus
/// the states of the windows merged into it (Flink's `OnMergeContext`).
pub struct OnMergeContext<'a, W, S> {
    ctx: TriggerContext<'a, W, S>,
    merged_states: Vec<S>,
}

impl<'a, W, S> OnMergeContext<'a, W, S> {
    pub fn new(ctx: TriggerContext<'a, W, S>, merged_states: Vec<S>) -> Self {
        Self { ctx, merged_states }
    }

    /// The trigger states of the merged windows (those that had one), removed
    /// from them: fold them into [`TriggerContext::state`] (Flink's
    /// `mergePartitionedState`); states not taken are dropped.
    pub fn take_merged_states(&mut self) -> Vec<S> {
        std::mem::take(&mut self.merged_states)
    }
}

impl<'a, W, S> std::ops::Deref for OnMergeContext<'a, W, S> {
    type Target = TriggerContext<'a, W, S>;
    fn deref(&self) -> &Self::Target {
        &self.ctx
    }
}

impl<W, S> std::ops::DerefMut for OnMergeContext<'_, W, S> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.ctx
    }
}

/// Decides when a window fires and purges (Flink's `Trigger`).
///
/// A trigger is cloned into every subtask and must not keep per-key or
/// per-window data in its fields: that belongs in [`Trigger::State`].
pub trait Trigger<T, W: Window>: Clone + Send + Sync + 'static {
    /// What the trigger remembers per key and window (`()` if nothing).
    /// Part of checkpoints, hence serializable.
    type State: Default + Send + serde::Serialize + serde::de::DeserializeOwned + 'static;

    /// An element was added to `window`.
    fn on_element(
        &self,
        element: &T,
        timestamp: Timestamp,
        window: &W,
        ctx: &mut TriggerContext<'_, W, Self::State>,
    ) -> TriggerResult;

    /// An event-time timer of `window` fired at `time`.
    fn on_event_time(&self, time: Timestamp, window: &W, ctx: &mut TriggerContext<'_, W, Self::State>)
    -> TriggerResult;

    /// A processing-time timer of `window` fired at `time`.
    fn on_processing_time(
        &self,
        time: Timestamp,
        window: &W,
        ctx: &mut TriggerContext<'_, W, Self::State>,
    ) -> TriggerResult;

    /// Whether the trigger supports merging windows (session windows).
    fn can_merge(&self) -> bool {
        false
    }

    /// Whether this is [`crate::window::EventTimeTrigger`]: a window fires
    /// once, when the watermark passes its end, and holds no trigger state —
    /// the condition for slicing (docs/design/windows.md, "Slicing").
    #[doc(hidden)]
    fn is_event_time_trigger(&self) -> bool {
        false
    }

    /// Windows were merged into `window`: re-register timers for it and fold the
    /// merged windows' states into its own.
    fn on_merge(&self, _window: &W, _ctx: &mut OnMergeContext<'_, W, Self::State>) {
        panic!("this trigger does not support merging windows")
    }

    /// The window is being removed: delete its timers and its state.
    fn clear(&self, window: &W, ctx: &mut TriggerContext<'_, W, Self::State>);
}
