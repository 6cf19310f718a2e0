//! Integration tests of the DataStream API.
//!
//! Every test builds a job with [`brook_api::StreamExecutionEnvironment`], runs it
//! on a local MiniCluster and checks its exact output: multisets (sorted) where
//! the order across subtasks is not defined, exact sequences where it is (one
//! subtask, one key, one channel). Records are tagged with the subtask that saw
//! them ([`support::TagSubtask`]) wherever a test is about where records go.
//!
//! One test binary for the crate, as the house style asks, with a module per area:
//!
//! - `transformations`: map, filter, flat_map, process (context, timestamps, side
//!   outputs, finish), union.
//! - `keyed`: key_by with reduce, sum, min, max, min_by, max_by and process.
//! - `operator_state`: a ProcessFunction's list state across a failure.
//! - `keyed_state`: value, list, map, reducing and aggregating state, TTL.
//! - `runtime_mode`: STREAMING, BATCH and AUTOMATIC keyed aggregations.
//! - `connect`: co_map, co_flat_map, CoProcessFunction, keyed connected streams.
//! - `partitioners`: forward, rebalance, rescale, shuffle, broadcast, global,
//!   custom and key groups (a property test).
//! - `sources` and `sinks`: collections, sequences, text files, sockets; collect,
//!   text and CSV files, discard.
//! - `plan`: chaining as shown by `get_execution_plan`.
//! - `failures`: panics, missing slots, invalid programs, failing connectors.
//! - `job_client`: `execute_async`, job and subtask states, cancel.
//! - `backpressure`: a slow sink bounds what a fast source has in flight.
//! - `accumulators`: user accumulators in the job result.
//! - `exactly_once_file_sink`: part files after failures equal a run without one.
//! - `checkpoint_failures`: corrupt or missing checkpoint files, failed checkpoints
//!   within and beyond the tolerable count, a full disk.
//! - `checkpoints`: checkpoints, restarts from the latest one with exact results,
//!   restart strategies giving up, the final checkpoint, retained files.
//! - `savepoints`: savepoints restored at other parallelisms, cancel-with-savepoint,
//!   stop-with-savepoint with and without drain, failed savepoints.
//! - `unaligned_checkpoints`: unaligned checkpoints under backpressure, restored
//!   with their in-flight data, exactly once.

mod accumulators;
mod backpressure;
mod broadcast_state;
mod checkpoint_failures;
mod checkpoints;
mod connect;
mod exactly_once_file_sink;
mod failures;
mod job_client;
mod joins;
mod keyed;
mod keyed_state;
mod network;
mod operator_state;
mod partitioners;
mod plan;
mod runtime_mode;
mod savepoints;
mod sinks;
mod sources;
mod split_watermarks;
mod state_backends;
mod support;
mod timers;
mod transformations;
mod unaligned_checkpoints;
mod watermark_monotonicity;
mod watermarks;
mod windows;
