//! When a part file is closed and the next one begins (Flink's `DefaultRollingPolicy`).
//! Part files also always roll at a checkpoint's barrier: that is what makes them
//! committable by that checkpoint.

use brook_types::Timestamp;
use std::time::Duration;

/// Rolls the in-progress part file when it reaches `max_part_size` bytes, is older
/// than `rollover_interval`, or received nothing for `inactivity_interval`.
/// Defaults are Flink's: 128 MiB, 60 s, 60 s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RollingPolicy {
    pub max_part_size: u64,
    pub rollover_interval: Duration,
    pub inactivity_interval: Duration,
}

impl Default for RollingPolicy {
    fn default() -> Self {
        Self {
            max_part_size: 128 << 20,
            rollover_interval: Duration::from_secs(60),
            inactivity_interval: Duration::from_secs(60),
        }
    }
}

impl RollingPolicy {
    pub fn with_max_part_size(mut self, bytes: u64) -> Self {
        self.max_part_size = bytes.max(1);
        self
    }

    pub fn with_rollover_interval(mut self, interval: Duration) -> Self {
        self.rollover_interval = interval;
        self
    }

    pub fn with_inactivity_interval(mut self, interval: Duration) -> Self {
        self.inactivity_interval = interval;
        self
    }

    /// Whether a part of `size` bytes must roll before more is written.
    pub(crate) fn full(&self, size: u64) -> bool {
        size >= self.max_part_size
    }

    /// Whether a part opened at `opened` and last written at `written` must roll at `now`.
    pub(crate) fn expired(&self, opened: Timestamp, written: Timestamp, now: Timestamp) -> bool {
        now >= self.deadline(opened, written)
    }

    /// When a part opened at `opened` and last written at `written` expires.
    pub(crate) fn deadline(&self, opened: Timestamp, written: Timestamp) -> Timestamp {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        opened.saturating_add(ms(self.rollover_interval)).min(written.saturating_add(ms(self.inactivity_interval)))
    }
}
