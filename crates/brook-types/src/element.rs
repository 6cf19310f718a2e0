//! What flows on a channel between tasks.
//!
//! Records travel in batches (`Batch<T>`): a task takes one batch from its input,
//! runs it through its operator chain, and dispatch (dynamic calls, channel
//! operations) is paid once per batch rather than once per record. Watermarks,
//! checkpoint barriers, idleness and end of input are elements of the same stream,
//! so they keep their order relative to the records around them.

use crate::ids::CheckpointId;
use crate::time::{NO_TIMESTAMP, Timestamp, Watermark};
use serde::{Deserialize, Serialize};

/// One record and its event timestamp ([`NO_TIMESTAMP`] if it has none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamRecord<T> {
    pub value: T,
    pub timestamp: Timestamp,
}

impl<T> StreamRecord<T> {
    /// A record without an event timestamp.
    #[inline]
    pub fn new(value: T) -> Self {
        Self { value, timestamp: NO_TIMESTAMP }
    }

    /// A record with an event timestamp.
    #[inline]
    pub fn with_timestamp(value: T, timestamp: Timestamp) -> Self {
        Self { value, timestamp }
    }

    /// The timestamp, if the record has one.
    #[inline]
    pub fn timestamp(&self) -> Option<Timestamp> {
        (self.timestamp != NO_TIMESTAMP).then_some(self.timestamp)
    }

    /// Replaces the value, keeping the timestamp.
    #[inline]
    pub fn replace<U>(self, value: U) -> StreamRecord<U> {
        StreamRecord { value, timestamp: self.timestamp }
    }
}

/// A batch of records: the unit operators process and channels carry.
pub type Batch<T> = Vec<StreamRecord<T>>;

/// Whether a channel currently produces data; idle channels do not hold back
/// event time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WatermarkStatus {
    Active,
    Idle,
}

/// The marker of checkpoint `id`, injected at the sources and flowing with the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointBarrier {
    pub id: CheckpointId,
    /// When the coordinator triggered the checkpoint (ms since epoch).
    pub timestamp: Timestamp,
    /// A savepoint is a user-triggered checkpoint in canonical format.
    pub is_savepoint: bool,
    /// Unaligned barriers overtake in-flight data.
    pub unaligned: bool,
}

/// One element of a stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StreamElement<T> {
    /// A batch of records, in order.
    Records(Batch<T>),
    /// Event time advanced.
    Watermark(Watermark),
    /// The channel became idle or active again.
    WatermarkStatus(WatermarkStatus),
    /// A checkpoint barrier.
    Barrier(CheckpointBarrier),
    /// A latency marker: emitted by a source at this wall-clock time (ms).
    LatencyMarker(Timestamp),
    /// The upstream subtask finished; nothing follows on this channel.
    EndOfInput,
}

impl<T> StreamElement<T> {
    /// A short name for logs and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            StreamElement::Records(_) => "records",
            StreamElement::Watermark(_) => "watermark",
            StreamElement::WatermarkStatus(_) => "watermark status",
            StreamElement::Barrier(_) => "barrier",
            StreamElement::LatencyMarker(_) => "latency marker",
            StreamElement::EndOfInput => "end of input",
        }
    }
}
