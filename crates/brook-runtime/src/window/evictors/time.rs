use crate::window::{Evictor, EvictorContext, Window};
use brook_types::StreamRecord;
use std::time::Duration;

/// Keeps the elements within `window_size` of the newest one: removes every
/// element with `timestamp <= max timestamp − window_size` (Flink's
/// `TimeEvictor`). If the first element has no timestamp, nothing is evicted
/// (Flink's check).
#[derive(Clone, Copy, Debug)]
pub struct TimeEvictor {
    window_size: i64,
    do_evict_after: bool,
}

impl TimeEvictor {
    /// Evicts before the window function.
    pub fn of(window_size: Duration) -> Self {
        Self::of_after(window_size, false)
    }

    /// Evicts after the window function if `do_evict_after`.
    pub fn of_after(window_size: Duration, do_evict_after: bool) -> Self {
        let window_size = i64::try_from(window_size.as_millis()).unwrap_or(i64::MAX);
        Self { window_size, do_evict_after }
    }

    fn evict<T>(&self, elements: &mut Vec<StreamRecord<T>>) {
        if elements.first().is_none_or(|e| e.timestamp().is_none()) {
            return;
        }
        let newest = elements.iter().map(|e| e.timestamp).max().expect("not empty");
        let cutoff = newest.saturating_sub(self.window_size);
        elements.retain(|e| e.timestamp > cutoff);
    }
}

impl<T, W: Window> Evictor<T, W> for TimeEvictor {
    fn evict_before(&self, elements: &mut Vec<StreamRecord<T>>, _: &W, _: &EvictorContext) {
        if !self.do_evict_after {
            self.evict(elements);
        }
    }

    fn evict_after(&self, elements: &mut Vec<StreamRecord<T>>, _: &W, _: &EvictorContext) {
        if self.do_evict_after {
            self.evict(elements);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::GlobalWindow;
    use brook_types::NO_TIMESTAMP;

    #[test]
    fn keeps_what_is_newer_than_the_newest_minus_the_size() {
        let ctx = EvictorContext::new(0, 0);
        let mut e: Vec<_> = [5, 1, 9, 4, 7].iter().map(|t| StreamRecord::with_timestamp(*t, *t)).collect();
        TimeEvictor::of(Duration::from_millis(4)).evict_before(&mut e, &GlobalWindow, &ctx);
        // cutoff 9 - 4 = 5: 5 and below go
        assert_eq!(e.iter().map(|r| r.value).collect::<Vec<_>>(), vec![9, 7]);
        let mut untimed = vec![StreamRecord::with_timestamp(1, NO_TIMESTAMP), StreamRecord::with_timestamp(2, 100)];
        TimeEvictor::of(Duration::from_millis(4)).evict_before(&mut untimed, &GlobalWindow, &ctx);
        assert_eq!(untimed.len(), 2, "the first element has no timestamp: nothing is evicted");
    }
}
