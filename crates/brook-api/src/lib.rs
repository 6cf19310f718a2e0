//! Brook's DataStream API.
//!
//! A program gets a [`StreamExecutionEnvironment`], declares sources, transforms
//! the resulting [`DataStream`]s, adds sinks, and calls `execute`. The API builds a
//! StreamGraph; `execute` hands it to a local MiniCluster (`brook-cluster`), which
//! chains it, schedules it into task slots and runs it (`brook-runtime`).
//!
//! Closures are type parameters of the operators they become, so the per-record
//! code is monomorphized; operators process whole batches.
//!
//! ```
//! use brook_api::StreamExecutionEnvironment;
//!
//! let env = StreamExecutionEnvironment::get_execution_environment();
//! env.set_parallelism(2);
//! let counts = env
//!     .from_collection(vec!["a b", "b c", "b"].into_iter().map(String::from).collect())
//!     .flat_map(|line: String| line.split(' ').map(|w| (w.to_string(), 1i64)).collect::<Vec<_>>())
//!     .key_by(|(word, _): &(String, i64)| word.clone())
//!     .sum(|(_, n): &mut (String, i64)| n)
//!     .execute_and_collect("word count")
//!     .unwrap();
//! let mut last: Vec<_> = counts.into_iter().filter(|(w, _)| w == "b").map(|(_, n)| n).collect();
//! last.sort();
//! assert_eq!(last, vec![1, 2, 3]);
//! ```

mod all_windowed_stream;
mod broadcast_stream;
mod builder;
mod connected_streams;
mod data_stream;
mod environment;
mod interval_join;
mod joined_streams;
mod keyed_stream;
mod sink;
mod windowed_stream;

pub use all_windowed_stream::AllWindowedStream;
pub use broadcast_stream::{BroadcastConnectedStream, BroadcastStream, NonKeyedBroadcastConnectedStream};
pub use brook_runtime::operators::{
    BroadcastContext, BroadcastProcessFunction, KeyedBroadcastProcessFunction, ReadOnlyBroadcastContext,
    ReadOnlyBroadcastState, ReadOnlyContext,
};
pub use brook_runtime::operators::{JoinContext, ProcessJoinFunction};
pub use connected_streams::{ConnectedStreams, KeyedConnectedStreams};
pub use data_stream::DataStream;
pub use environment::StreamExecutionEnvironment;
pub use interval_join::{IntervalJoin, IntervalJoined};
pub use joined_streams::{CoGroupedStreams, JoinedStreams, TaggedUnion, WindowCoGroup, WindowJoin};
pub use keyed_stream::KeyedStream;
pub use sink::DataStreamSink;
pub use windowed_stream::WindowedStream;

pub use brook_cluster::{JobClient, JobExecutionResult, JobStatus};
pub use brook_runtime::functions::{
    CoProcessFunction, Collector, Context, KeyedCoProcessFunction, KeyedContext, KeyedProcessFunction, ProcessFunction,
    RuntimeContext, RuntimeMode, TimerService,
};
pub use brook_runtime::key_selector::{BorrowedKey, KeySelector, OwnedKey};
pub use brook_runtime::side_output::OutputTag;
pub use brook_runtime::sink::{
    CollectHandle, CsvRecord, FileFormat, Printable, RollingPolicy, SinkFunction, StreamingFileSink, TwoPhaseCommitSink,
};
pub use brook_runtime::source::{
    Boundedness, ReaderContext, ReaderStatus, Source, SourceReader, SourceSplit, SplitEnumerator,
};
pub use brook_runtime::state;
pub use brook_runtime::state::{
    AggregatingState, AggregatingStateDescriptor, ListState, ListStateDescriptor, MapState, MapStateDescriptor,
    ReducingState, ReducingStateDescriptor, StateTtlConfig, ValueState, ValueStateDescriptor,
};
pub use brook_runtime::timer::TimeDomain;
pub use brook_runtime::watermark::{WatermarkGenerator, WatermarkOutput, WatermarkSignal, WatermarkStrategy};
pub use brook_runtime::window;
pub use brook_types::Watermark;
pub use brook_types::config::Configuration;
pub use brook_types::{BrookError, Data, Result, StreamRecord};
