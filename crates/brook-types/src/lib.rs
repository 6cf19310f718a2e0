//! Brook's shared vocabulary.
//!
//! This crate sits at the bottom of the workspace: every other crate depends on it
//! and it depends on none of them. It holds the words of DESIGN.md §1 as types:
//!
//! - [`ids`]: newtype identifiers (`JobId`, `VertexId`, `OperatorId`, …).
//! - [`time`]: timestamps and [`Watermark`]s.
//! - [`element`]: what flows on a channel — record batches, watermarks, barriers,
//!   end of input ([`StreamElement`]).
//! - [`key_group`]: Flink-compatible key hashing and key-group assignment.
//! - [`config`]: typed configuration options with Flink's key names.
//! - [`error`]: the crate's error type.
//!
//! ```
//! use brook_types::key_group::{assign_to_key_group, operator_index_for_key_group};
//! let kg = assign_to_key_group(&"hello".to_string(), 128);
//! let subtask = operator_index_for_key_group(128, 4, kg);
//! assert!(subtask < 4);
//! ```

pub mod config;
pub mod element;
pub mod error;
pub mod ids;
pub mod key_group;
pub mod time;

pub use element::{Batch, CheckpointBarrier, StreamElement, StreamRecord, WatermarkStatus};
pub use error::{BrookError, Result};
pub use ids::{CheckpointId, JobId, NodeId, OperatorId, TaskManagerId, VertexId};
pub use time::{NO_TIMESTAMP, Timestamp, Watermark};

/// The bound every record type satisfies: it can be cloned (fan-out, broadcast),
/// moved across threads, and serialized when it crosses a process boundary.
pub trait Data: Clone + Send + 'static + serde::Serialize + serde::de::DeserializeOwned {}

impl<T> Data for T where T: Clone + Send + 'static + serde::Serialize + serde::de::DeserializeOwned {}
