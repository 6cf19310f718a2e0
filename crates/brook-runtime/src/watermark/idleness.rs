use super::{WatermarkGenerator, WatermarkOutput};
use brook_types::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// A clock in milliseconds that idleness is measured with. The operator's clock is
/// the task's processing time at the latest periodic emission.
pub type RelativeClock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Adds idleness detection to another generator (Flink's `WatermarksWithIdleness`).
///
/// Idleness is decided only in `on_periodic_emit`: the first periodic emission
/// that saw no event since the previous one starts a countdown, and the output is
/// marked idle at the first periodic emission more than `timeout` after that
/// start. So a stream is marked idle no earlier than `timeout` after its last
/// event and at most `timeout` plus three emission intervals after it. While
/// idle, the inner generator is not asked for periodic watermarks. The next event
/// ends idleness.
pub struct WatermarksWithIdleness<T> {
    inner: Box<dyn WatermarkGenerator<T>>,
    timer: IdlenessTimer,
    idle_now: bool,
}

impl<T> WatermarksWithIdleness<T> {
    /// # Panics
    ///
    /// If `timeout` is zero (as Flink rejects it).
    pub fn new(inner: Box<dyn WatermarkGenerator<T>>, timeout: Duration, clock: RelativeClock) -> Self {
        assert!(!timeout.is_zero(), "the idleness timeout must be greater than zero");
        Self { inner, timer: IdlenessTimer::new(clock, timeout), idle_now: false }
    }
}

impl<T> WatermarkGenerator<T> for WatermarksWithIdleness<T> {
    #[inline]
    fn on_event(&mut self, event: &T, timestamp: Timestamp, output: &mut WatermarkOutput) {
        self.inner.on_event(event, timestamp, output);
        self.timer.activity();
        self.idle_now = false;
    }

    fn on_periodic_emit(&mut self, output: &mut WatermarkOutput) {
        if self.timer.check_if_idle() {
            if !self.idle_now {
                output.mark_idle();
                self.idle_now = true;
            }
        } else {
            self.inner.on_periodic_emit(output);
        }
    }
}

/// Counts activity between checks and measures inactivity from the first check
/// that saw none.
struct IdlenessTimer {
    clock: RelativeClock,
    counter: u64,
    last_counter: u64,
    start_of_inactivity: Option<Timestamp>,
    max_idle_millis: i64,
}

impl IdlenessTimer {
    fn new(clock: RelativeClock, timeout: Duration) -> Self {
        let max_idle_millis = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
        Self { clock, counter: 0, last_counter: 0, start_of_inactivity: None, max_idle_millis }
    }

    #[inline]
    fn activity(&mut self) {
        self.counter = self.counter.wrapping_add(1);
    }

    fn check_if_idle(&mut self) -> bool {
        if self.counter != self.last_counter {
            // activity since the last check: restart
            self.last_counter = self.counter;
            self.start_of_inactivity = None;
            return false;
        }
        match self.start_of_inactivity {
            None => {
                self.start_of_inactivity = Some((self.clock)());
                false
            }
            Some(start) => (self.clock)().saturating_sub(start) > self.max_idle_millis,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watermark::{BoundedOutOfOrdernessWatermarks, WatermarkSignal};
    use brook_types::{Watermark, WatermarkStatus};
    use std::sync::atomic::{AtomicI64, Ordering};

    struct Fixture {
        now: Arc<AtomicI64>,
        generator: WatermarksWithIdleness<()>,
        out: WatermarkOutput,
    }

    impl Fixture {
        fn new(timeout_ms: u64) -> Self {
            let now = Arc::new(AtomicI64::new(1_000));
            let clock = now.clone();
            let generator = WatermarksWithIdleness::new(
                Box::new(BoundedOutOfOrdernessWatermarks::new(Duration::ZERO)),
                Duration::from_millis(timeout_ms),
                Arc::new(move || clock.load(Ordering::Relaxed)),
            );
            Self { now, generator, out: WatermarkOutput::new() }
        }

        fn event(&mut self, ts: i64) {
            self.generator.on_event(&(), ts, &mut self.out);
        }

        fn periodic_at(&mut self, now: i64) -> Vec<WatermarkSignal> {
            self.now.store(now, Ordering::Relaxed);
            self.generator.on_periodic_emit(&mut self.out);
            self.out.take_signals()
        }
    }

    const IDLE: WatermarkSignal = WatermarkSignal::Status(WatermarkStatus::Idle);
    const ACTIVE: WatermarkSignal = WatermarkSignal::Status(WatermarkStatus::Active);

    fn wm(t: i64) -> WatermarkSignal {
        WatermarkSignal::Watermark(Watermark(t))
    }

    #[test]
    fn marks_idle_after_more_than_the_timeout_without_events() {
        let mut f = Fixture::new(50);
        f.event(10);
        assert_eq!(f.periodic_at(1_000), vec![wm(9)], "activity since the last check");
        assert_eq!(f.periodic_at(1_010), vec![], "no activity: the countdown starts at 1010");
        assert_eq!(f.periodic_at(1_060), vec![], "exactly the timeout is not more than it");
        assert_eq!(f.periodic_at(1_061), vec![IDLE]);
        assert_eq!(f.periodic_at(1_100), vec![], "idle once");
        assert!(f.out.is_idle());
    }

    #[test]
    fn the_next_event_ends_idleness_and_restarts_the_countdown() {
        let mut f = Fixture::new(50);
        assert_eq!(f.periodic_at(1_000), vec![], "countdown starts before any event");
        assert_eq!(f.periodic_at(1_051), vec![IDLE], "a stream that never had events goes idle too");
        f.event(20);
        // The generator's next watermark marks the output active (the operator
        // already does so at the event itself).
        assert_eq!(f.periodic_at(1_060), vec![ACTIVE, wm(19)]);
        assert_eq!(f.periodic_at(1_070), vec![]);
        assert_eq!(f.periodic_at(1_120), vec![]);
        assert_eq!(f.periodic_at(1_121), vec![IDLE]);
    }

    #[test]
    fn a_steady_stream_never_goes_idle() {
        let mut f = Fixture::new(5);
        let mut signals = Vec::new();
        for i in 0..100 {
            f.event(i);
            signals.extend(f.periodic_at(1_000 + 100 * i));
        }
        assert_eq!(signals, (0..100).map(|i| wm(i - 1)).collect::<Vec<_>>());
    }

    #[test]
    #[should_panic(expected = "idleness timeout must be greater than zero")]
    fn a_zero_timeout_is_rejected() {
        Fixture::new(0);
    }
}
