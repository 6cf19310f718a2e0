use super::WatermarksWithIdleness;
use super::{BoundedOutOfOrdernessWatermarks, NoWatermarksGenerator, RelativeClock, WatermarkGenerator};
use brook_types::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// Gives a record its event timestamp: `(record, its previous timestamp or
/// NO_TIMESTAMP) -> timestamp` (Flink's `TimestampAssigner`).
pub type TimestampAssigner<T> = Arc<dyn Fn(&T, Timestamp) -> Timestamp + Send + Sync>;

type GeneratorFactory<T> = Arc<dyn Fn() -> Box<dyn WatermarkGenerator<T>> + Send + Sync>;

/// How a stream gets event timestamps and watermarks (Flink's `WatermarkStrategy`):
/// a factory of [`WatermarkGenerator`]s (one per subtask), an optional timestamp
/// assigner (without one, records keep the timestamp they have) and an optional
/// idleness timeout.
///
/// Cheap to clone; the program's strategy is shared by all subtasks.
pub struct WatermarkStrategy<T> {
    generator: GeneratorFactory<T>,
    timestamp_assigner: Option<TimestampAssigner<T>>,
    idleness: Option<Duration>,
}

impl<T> Clone for WatermarkStrategy<T> {
    fn clone(&self) -> Self {
        Self {
            generator: self.generator.clone(),
            timestamp_assigner: self.timestamp_assigner.clone(),
            idleness: self.idleness,
        }
    }
}

impl<T> std::fmt::Debug for WatermarkStrategy<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatermarkStrategy")
            .field("timestamp_assigner", &self.timestamp_assigner.is_some())
            .field("idleness", &self.idleness)
            .finish_non_exhaustive()
    }
}

impl<T: 'static> WatermarkStrategy<T> {
    /// For timestamps that never decrease: watermark = highest timestamp − 1.
    pub fn for_monotonous_timestamps() -> Self {
        Self::for_generator(|| BoundedOutOfOrdernessWatermarks::new(Duration::ZERO))
    }

    /// For records at most `max_out_of_orderness` behind the highest timestamp seen:
    /// watermark = highest timestamp − bound − 1 ms, none before the first record.
    pub fn for_bounded_out_of_orderness(max_out_of_orderness: Duration) -> Self {
        Self::for_generator(move || BoundedOutOfOrdernessWatermarks::new(max_out_of_orderness))
    }

    /// Timestamps only: event time advances only at end of input.
    pub fn no_watermarks() -> Self {
        Self::for_generator(|| NoWatermarksGenerator)
    }

    /// A custom periodic or punctuated generator; `factory` makes one per subtask.
    pub fn for_generator<G, F>(factory: F) -> Self
    where
        G: WatermarkGenerator<T> + 'static,
        F: Fn() -> G + Send + Sync + 'static,
    {
        Self {
            generator: Arc::new(move || Box::new(factory()) as Box<dyn WatermarkGenerator<T>>),
            timestamp_assigner: None,
            idleness: None,
        }
    }

    /// Takes each record's timestamp from `assigner(record, previous timestamp)`
    /// (replacing an assigner set before).
    pub fn with_timestamp_assigner<F>(mut self, assigner: F) -> Self
    where
        F: Fn(&T, Timestamp) -> Timestamp + Send + Sync + 'static,
    {
        self.timestamp_assigner = Some(Arc::new(assigner));
        self
    }

    /// Marks the stream idle when no record arrived for `timeout` of processing
    /// time, so it does not hold back event time downstream; the next record ends
    /// idleness. Replaces a timeout set before.
    ///
    /// # Panics
    ///
    /// If `timeout` is zero (Flink rejects it too).
    pub fn with_idleness(mut self, timeout: Duration) -> Self {
        assert!(!timeout.is_zero(), "the idleness timeout must be greater than zero");
        self.idleness = Some(timeout);
        self
    }

    /// The idleness timeout, if any.
    pub fn idleness(&self) -> Option<Duration> {
        self.idleness
    }

    /// The timestamp assigner, if any.
    pub fn timestamp_assigner(&self) -> Option<&TimestampAssigner<T>> {
        self.timestamp_assigner.as_ref()
    }

    /// A new generator; with idleness, it measures inactivity on `clock`.
    pub fn create_watermark_generator(&self, clock: RelativeClock) -> Box<dyn WatermarkGenerator<T>> {
        let generator = (self.generator)();
        match self.idleness {
            Some(timeout) => Box::new(WatermarksWithIdleness::new(generator, timeout, clock)),
            None => generator,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watermark::{WatermarkOutput, WatermarkSignal};
    use brook_types::{NO_TIMESTAMP, Watermark, WatermarkStatus};

    fn clock(at: i64) -> RelativeClock {
        Arc::new(move || at)
    }

    #[test]
    fn built_in_strategies_make_their_generators() {
        let cases: [(WatermarkStrategy<i64>, Vec<WatermarkSignal>); 3] = [
            (WatermarkStrategy::for_monotonous_timestamps(), vec![WatermarkSignal::Watermark(Watermark(29))]),
            (
                WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_millis(10)),
                vec![WatermarkSignal::Watermark(Watermark(19))],
            ),
            (WatermarkStrategy::no_watermarks(), vec![]),
        ];
        for (strategy, expected) in cases {
            let mut g = strategy.create_watermark_generator(clock(0));
            let mut out = WatermarkOutput::new();
            for ts in [5, 30, 12] {
                g.on_event(&ts, ts, &mut out);
            }
            g.on_periodic_emit(&mut out);
            assert_eq!(out.take_signals(), expected, "{strategy:?}");
        }
    }

    #[test]
    fn the_assigner_sees_the_record_and_its_previous_timestamp() {
        let s = WatermarkStrategy::<(i64, i64)>::no_watermarks();
        assert!(s.timestamp_assigner().is_none());
        let s = s
            .with_timestamp_assigner(|_, _| 1)
            .with_timestamp_assigner(|(a, b), prev| if prev == NO_TIMESTAMP { a * 10 } else { prev + b });
        let assign = s.timestamp_assigner().expect("set");
        assert_eq!(assign(&(3, 4), NO_TIMESTAMP), 30);
        assert_eq!(assign(&(3, 4), 100), 104);
    }

    #[test]
    fn idleness_wraps_the_generator_and_keeps_the_assigner() {
        let s = WatermarkStrategy::<i64>::for_monotonous_timestamps()
            .with_timestamp_assigner(|v, _| *v)
            .with_idleness(Duration::from_millis(1));
        let s2 = s.clone();
        assert_eq!(s2.idleness(), Some(Duration::from_millis(1)));
        assert!(s2.timestamp_assigner().is_some());
        let now = Arc::new(std::sync::atomic::AtomicI64::new(0));
        let c = now.clone();
        let mut g = s2.create_watermark_generator(Arc::new(move || c.load(std::sync::atomic::Ordering::Relaxed)));
        let mut out = WatermarkOutput::new();
        g.on_periodic_emit(&mut out);
        now.store(2, std::sync::atomic::Ordering::Relaxed);
        g.on_periodic_emit(&mut out);
        assert_eq!(out.take_signals(), vec![WatermarkSignal::Status(WatermarkStatus::Idle)]);
    }

    #[test]
    fn a_custom_punctuated_generator_emits_from_on_event() {
        /// Emits the timestamp of every even value.
        struct EvenMarkers;
        impl WatermarkGenerator<i64> for EvenMarkers {
            fn on_event(&mut self, event: &i64, timestamp: Timestamp, output: &mut WatermarkOutput) {
                if event % 2 == 0 {
                    output.emit_watermark(Watermark(timestamp));
                }
            }
        }
        let s = WatermarkStrategy::for_generator(|| EvenMarkers);
        let mut g = s.create_watermark_generator(clock(0));
        let mut out = WatermarkOutput::new();
        let mut seen = Vec::new();
        for v in [1, 2, 3, 6, 4, 8] {
            g.on_event(&v, v * 10, &mut out);
            seen.push(out.take_signals());
        }
        g.on_periodic_emit(&mut out);
        assert!(out.take_signals().is_empty());
        let w = |t| vec![WatermarkSignal::Watermark(Watermark(t))];
        assert_eq!(seen, vec![vec![], w(20), vec![], w(60), vec![], w(80)]);
    }
}
