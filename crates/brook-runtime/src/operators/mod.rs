//! Operator implementations, one per file.
//!
//! Each operator processes whole batches; the user's closure is a type parameter,
//! so the per-record loop is monomorphized.

mod broadcast_process;
mod co_process;
mod filter;
mod flat_map;
mod interval_join;
mod keyed_broadcast_process;
mod keyed_co_process;
#[cfg(feature = "rocksdb")]
mod keyed_incremental;
mod keyed_process;
mod keyed_reduce;
mod keyed_timers;
mod map;
mod process;
mod timestamps_and_watermarks;
mod window;

pub use broadcast_process::{BroadcastProcessFunction, BroadcastProcessOperator, ReadOnlyBroadcastContext};
pub use co_process::{CoProcessOperator, TwoInputOperator};
pub use filter::FilterOperator;
pub use flat_map::FlatMapOperator;
pub use interval_join::{IntervalJoinOperator, JoinBounds, JoinContext, ProcessJoinFunction};
pub use keyed_broadcast_process::{
    BroadcastContext, KeyedBroadcastProcessFunction, KeyedBroadcastProcessOperator, ReadOnlyBroadcastState,
    ReadOnlyContext,
};
pub use keyed_co_process::KeyedCoProcessOperator;
pub use keyed_process::KeyedProcessOperator;
pub use keyed_reduce::KeyedReduceOperator;
pub use map::MapOperator;
pub use process::ProcessOperator;
pub use timestamps_and_watermarks::TimestampsAndWatermarksOperator;
pub use window::{WindowOperator, late_records_dropped_name};
