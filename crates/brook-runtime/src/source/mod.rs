//! Sources: split-based, as Flink's FLIP-27 sources.
//!
//! A [`Source`] describes its input as *splits* (a range of numbers, a byte range
//! of a file, a Kafka partition, …). Its [`SplitEnumerator`] discovers the splits
//! and its [`SourceReader`]s read them, reporting the position reached in each
//! (`snapshot_splits`) so that a checkpoint can resume exactly there.
//!
//! Brook's JobManager never runs user code, so there is no central enumerator
//! handing out splits on request. Instead every reader subtask runs the same
//! deterministic enumerator and keeps the splits assigned to it: split `i` (in
//! discovery order) goes to subtask `i % parallelism`. See
//! docs/design/sources.md.

mod collection;
mod rate_limited;
mod reader_task;
mod sequence;
mod socket;
mod text_file;

pub use collection::CollectionSource;
pub use rate_limited::RateLimited;
pub use reader_task::{SPLITS_STATE, SourceTaskInput, SourceWatermarks, SplitDiscoveryState};
pub use sequence::{NumberSequenceSource, SequenceSplit};
pub use socket::SocketTextSource;
pub use text_file::{FileSplit, TextFileSource};

use brook_types::{Result, StreamRecord};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::task::{Context, Poll};

/// Whether a source ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Boundedness {
    Bounded,
    ContinuousUnbounded,
}

/// A unit of a source's input with its current position.
pub trait SourceSplit: Clone + Send + Serialize + DeserializeOwned + 'static {
    /// Stable id, unique within the source.
    fn split_id(&self) -> String;
}

/// A split-based source of records of type `T`.
pub trait Source<T>: Send + Sync + 'static {
    type Split: SourceSplit;

    fn boundedness(&self) -> Boundedness;

    /// Whether more than one subtask may read (`false`: parallelism must be 1).
    fn is_parallel(&self) -> bool {
        true
    }

    fn create_enumerator(&self, parallelism: usize) -> Result<Box<dyn SplitEnumerator<Self::Split>>>;

    fn create_reader(&self, ctx: &ReaderContext) -> Result<Box<dyn SourceReader<T, Self::Split>>>;
}

/// Where a reader runs.
#[derive(Clone, Debug)]
pub struct ReaderContext {
    pub subtask_index: usize,
    pub parallelism: usize,
    /// Records per emitted batch.
    pub batch_size: usize,
}

/// Discovers splits.
pub trait SplitEnumerator<S>: Send {
    /// Splits not reported before. Bounded sources report all at the first call.
    fn discover_splits(&mut self) -> Result<Vec<S>>;
}

/// What a reader reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReaderStatus {
    /// Records were appended (possibly none) and more may follow at once.
    MoreAvailable,
    /// All assigned splits are done and no more will come.
    EndOfInput,
}

/// Reads the splits assigned to one subtask.
pub trait SourceReader<T, S>: Send {
    fn add_splits(&mut self, splits: Vec<S>);

    /// No further splits will be added (bounded sources, after assignment).
    fn no_more_splits(&mut self);

    /// Appends up to a batch of records to `out`. `Pending` when nothing is
    /// available now (the reader wakes the task when there is).
    fn poll_next(&mut self, cx: &mut Context<'_>, out: &mut Vec<StreamRecord<T>>) -> Poll<Result<ReaderStatus>>;

    /// The unfinished splits with their current positions (for checkpoints).
    fn snapshot_splits(&self) -> Vec<S>;

    /// The split the records of the last `poll_next` came from, for per-split
    /// watermarks (a reader says this when it reads one split per call); `None`
    /// treats all of the subtask's records as one stream.
    fn last_split(&self) -> Option<String> {
        None
    }

    /// Splits finished since the last call: they no longer hold back event time.
    fn take_finished_splits(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// Split `index` of `parallelism` readers belongs to subtask `index % parallelism`.
pub fn assigned_subtask(index: usize, parallelism: usize) -> usize {
    index % parallelism
}
