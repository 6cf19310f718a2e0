//! Processing time for one task: the wall clock, and the wake-up times its
//! operators asked for.
//!
//! Operators never sleep. They register deadlines here; the task's mailbox loop
//! sleeps until the earliest one (or checks after each element when busy) and then
//! calls `on_processing_time(now)` down its chain, so every callback runs on the
//! mailbox thread between batches. Registration happens on that same thread, and
//! the loop reads the earliest deadline afresh before every wait, so no wake-up
//! signal is needed.

use brook_types::Timestamp;
use parking_lot::Mutex;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The processing-time service of one task, shared by the operators of its chain.
#[derive(Clone, Default)]
pub struct ProcessingTimeService {
    deadlines: Arc<Mutex<BinaryHeap<Reverse<Timestamp>>>>,
}

impl std::fmt::Debug for ProcessingTimeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProcessingTimeService(next={:?})", self.next_deadline())
    }
}

impl ProcessingTimeService {
    pub fn new() -> Self {
        Self::default()
    }

    /// Milliseconds since the epoch.
    pub fn now(&self) -> Timestamp {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as Timestamp)
    }

    /// Asks for `on_processing_time` to be called once the clock reaches `deadline`.
    pub fn register(&self, deadline: Timestamp) {
        self.deadlines.lock().push(Reverse(deadline));
    }

    /// The earliest deadline asked for.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.deadlines.lock().peek().map(|r| r.0)
    }

    /// Removes the deadlines at or before `now`; true if there were any.
    pub fn take_due(&self, now: Timestamp) -> bool {
        let mut heap = self.deadlines.lock();
        let mut due = false;
        while heap.peek().is_some_and(|r| r.0 <= now) {
            heap.pop();
            due = true;
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_come_out_earliest_first_and_once() {
        let pts = ProcessingTimeService::new();
        pts.register(30);
        pts.register(10);
        pts.register(20);
        assert_eq!(pts.next_deadline(), Some(10));
        assert!(!pts.take_due(5));
        assert!(pts.take_due(20));
        assert_eq!(pts.next_deadline(), Some(30));
        assert!(pts.take_due(100));
        assert_eq!(pts.next_deadline(), None);
    }
}
