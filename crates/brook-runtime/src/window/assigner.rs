//! Window assigners: which windows an element belongs to.

use crate::window::{Trigger, Window};
use brook_types::Timestamp;

/// What an assigner may ask about the operator (Flink's `WindowAssignerContext`).
pub struct WindowAssignerContext<'a> {
    clock: &'a dyn Fn() -> Timestamp,
}

impl<'a> WindowAssignerContext<'a> {
    pub fn new(clock: &'a dyn Fn() -> Timestamp) -> Self {
        Self { clock }
    }

    /// The task's clock, in ms since the epoch.
    pub fn current_processing_time(&self) -> Timestamp {
        (self.clock)()
    }
}

/// Assigns each element to zero or more windows (Flink's `WindowAssigner`, and
/// `MergingWindowAssigner` when [`WindowAssigner::is_merging`]).
pub trait WindowAssigner<T>: Clone + Send + Sync + 'static {
    /// The windows this assigner makes.
    type Window: Window;
    /// The trigger used unless `WindowedStream::trigger` replaces it.
    type DefaultTrigger: Trigger<T, Self::Window>;

    /// Appends the windows of `element` (with event timestamp `timestamp`) to
    /// `windows`, which the caller has emptied.
    fn assign_windows(
        &self,
        element: &T,
        timestamp: Timestamp,
        ctx: &WindowAssignerContext<'_>,
        windows: &mut Vec<Self::Window>,
    );

    fn default_trigger(&self) -> Self::DefaultTrigger;

    /// Whether windows are in event time: then elements can be late, and a
    /// window's state is cleaned up at `max_timestamp + allowed_lateness` of
    /// event time (else at `max_timestamp` of processing time).
    fn is_event_time(&self) -> bool;

    /// Whether windows merge (session windows): the operator then keeps a
    /// [`crate::window::MergingWindowSet`] per key and calls
    /// [`WindowAssigner::merge_windows`] on every new window.
    fn is_merging(&self) -> bool {
        false
    }

    /// Reports, for `windows`, every group that must become one window, with the
    /// window that replaces the group (Flink's `mergeWindows` callback).
    fn merge_windows(&self, _windows: &[Self::Window], _merges: &mut Vec<(Self::Window, Vec<Self::Window>)>) {}

    /// A description for plans and operator names, as Flink's `toString`.
    fn describe(&self) -> String;

    /// How the windows cut time into slices, if they do (event-time tumbling
    /// windows, and sliding ones whose size is a multiple of the slide): the window operator may
    /// then keep one accumulator per key and slice instead of one per window
    /// (docs/design/windows.md, "Slicing").
    #[doc(hidden)]
    fn slicing(&self) -> Option<Slicing<Self::Window>> {
        None
    }
}

/// Windows of `size` every `slide` (a divisor of `size`), starts aligned to
/// `offset`: each window is the union of `size / slide` consecutive slices
/// `[s, s + slide)`.
#[derive(Clone, Copy, Debug)]
pub struct Slicing<W> {
    pub size: i64,
    pub slide: i64,
    pub offset: i64,
    /// The window `[start, end)`.
    pub window: fn(Timestamp, Timestamp) -> W,
}
