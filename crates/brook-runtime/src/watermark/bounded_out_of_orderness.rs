use super::{WatermarkGenerator, WatermarkOutput};
use brook_types::{Timestamp, Watermark};
use std::time::Duration;

/// A periodic generator for records at most a fixed time out of order (Flink's
/// `BoundedOutOfOrdernessWatermarks`): the watermark is the highest timestamp seen
/// minus the bound minus 1 ms, so a record exactly `bound` behind the highest one
/// is still on time. With a bound of zero it is Flink's
/// `AscendingTimestampsWatermarks` (`for_monotonous_timestamps`).
///
/// Before the first record its watermark is `Watermark::MIN`, which no output
/// passes on.
#[derive(Clone, Copy, Debug)]
pub struct BoundedOutOfOrdernessWatermarks {
    max_timestamp: Timestamp,
    out_of_orderness_millis: i64,
}

impl BoundedOutOfOrdernessWatermarks {
    /// Bounds above `i64::MAX` ms are taken as `i64::MAX` ms.
    pub fn new(max_out_of_orderness: Duration) -> Self {
        let out_of_orderness_millis = i64::try_from(max_out_of_orderness.as_millis()).unwrap_or(i64::MAX);
        // Start so that the lowest watermark is exactly i64::MIN (no overflow).
        Self { max_timestamp: i64::MIN + out_of_orderness_millis + 1, out_of_orderness_millis }
    }

    /// The watermark `on_periodic_emit` emits now.
    pub fn current_watermark(&self) -> Watermark {
        Watermark(self.max_timestamp - self.out_of_orderness_millis - 1)
    }
}

impl<T> WatermarkGenerator<T> for BoundedOutOfOrdernessWatermarks {
    #[inline]
    fn on_event(&mut self, _event: &T, timestamp: Timestamp, _output: &mut WatermarkOutput) {
        self.max_timestamp = self.max_timestamp.max(timestamp);
    }

    fn on_periodic_emit(&mut self, output: &mut WatermarkOutput) {
        output.emit_watermark(self.current_watermark());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watermark::WatermarkSignal;

    fn emitted(out: &mut WatermarkOutput) -> Vec<i64> {
        out.take_signals()
            .into_iter()
            .map(|s| match s {
                WatermarkSignal::Watermark(w) => w.0,
                WatermarkSignal::Status(s) => panic!("unexpected {s:?}"),
            })
            .collect()
    }

    /// Feeds `events`, asking for a watermark after each; returns what was passed on.
    fn run(bound: Duration, events: &[i64]) -> Vec<i64> {
        let mut g = BoundedOutOfOrdernessWatermarks::new(bound);
        let mut out = WatermarkOutput::new();
        WatermarkGenerator::<()>::on_periodic_emit(&mut g, &mut out);
        let mut watermarks = emitted(&mut out);
        for ts in events {
            g.on_event(&(), *ts, &mut out);
            assert!(!out.has_pending(), "periodic generators emit only when asked");
            WatermarkGenerator::<()>::on_periodic_emit(&mut g, &mut out);
            watermarks.extend(emitted(&mut out));
        }
        watermarks
    }

    #[test]
    fn monotonous_watermark_is_the_max_timestamp_minus_one() {
        assert_eq!(run(Duration::ZERO, &[1, 2, 2, 7, 10]), vec![0, 1, 6, 9]);
    }

    #[test]
    fn bounded_out_of_orderness_lags_the_max_by_the_bound_plus_one() {
        // 5 ms bound: a late event (3, then 1) never lowers the watermark.
        assert_eq!(run(Duration::from_millis(5), &[10, 3, 12, 1, 12, 20, 18]), vec![4, 6, 14]);
    }

    #[test]
    fn no_watermark_before_the_first_event() {
        assert_eq!(run(Duration::from_millis(5), &[]), Vec::<i64>::new());
        let g = BoundedOutOfOrdernessWatermarks::new(Duration::from_secs(3600));
        assert_eq!(g.current_watermark(), Watermark::MIN);
    }

    #[test]
    fn extreme_timestamps_and_bounds_do_not_overflow() {
        assert_eq!(run(Duration::ZERO, &[i64::MIN, i64::MIN + 1, i64::MAX]), vec![i64::MAX - 1]);
        let huge = Duration::from_secs(u64::MAX);
        assert_eq!(run(huge, &[i64::MIN, 0, i64::MAX]), vec![-1]);
    }
}
