//! Event time: timestamps and watermarks.

use serde::{Deserialize, Serialize};

/// Milliseconds since the epoch, as in Flink.
pub type Timestamp = i64;

/// The timestamp of a record that has none.
pub const NO_TIMESTAMP: Timestamp = i64::MIN;

/// A claim that no later record has a timestamp at or below `self.0`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Watermark(pub Timestamp);

impl Watermark {
    /// The watermark that ends event time: every timer and window fires.
    pub const MAX: Watermark = Watermark(i64::MAX);
    /// The watermark before any has been seen.
    pub const MIN: Watermark = Watermark(i64::MIN);
}
