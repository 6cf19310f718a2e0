//! Brook's task runtime.
//!
//! This crate runs the parallel slices of a job. It sits above `brook-types` and
//! below the cluster (which schedules tasks) and the API (which builds graphs).
//!
//! ```text
//!   StreamGraph ──chain──▶ JobGraph ──JobMaster──▶ TaskDeploymentDescriptor (per subtask)
//!                                                          │ TaskManager
//!                                                          ▼
//!   ┌──────────────────────── Task (mailbox loop, one tokio task) ─────────────────────┐
//!   │ TaskInput ──▶ op ──▶ op ──▶ … ──▶ RecordWriter ──partitioner──▶ ChannelWriter ──┼──▶ InputGate of
//!   │ (gate or source)  (chained: direct calls, one batch at a time)      (credits)    │    the next task
//!   └──────────────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! - [`graph`]: StreamGraph, chaining into the JobGraph, deployment descriptors, the plan JSON.
//! - [`task`]: the mailbox loop ([`task::Task`]), task inputs, chain building.
//! - [`checkpoint`]: operator snapshot hooks, barrier alignment, what a task reports for a checkpoint.
//! - [`channel`]: input gates with credit-based flow control and the local channel.
//! - [`writer`]: record writers (buffers, batch size, buffer timeout, backpressure).
//! - [`partitioner`]: forward, rebalance, rescale, shuffle, hash (key groups), broadcast, global, custom.
//! - [`operators`], [`source`], [`sink`]: what runs inside a chain.
//! - [`functions`]: user function traits and their contexts.
//! - [`state`]: keyed and operator state (re-exported `brook-state`).
//! - [`watermark`]: watermark strategies and generators (timestamp assignment).
//! - [`watermark_valve`]: combining watermarks of input channels.

pub mod channel;
pub mod checkpoint;
pub mod factory;
pub mod functions;
pub mod graph;
pub mod key_selector;
pub mod metrics;
pub mod operators;
pub mod output;
pub mod partitioner;
pub mod processing_time;
pub mod record_type;
pub mod side_output;
pub mod sink;
pub mod source;
pub mod state_backend;
pub mod task;
pub mod timer;
pub mod watermark;
pub mod watermark_valve;
pub mod window;
pub mod writer;

/// Keyed and operator state (the `brook-state` crate).
pub use brook_state as state;
