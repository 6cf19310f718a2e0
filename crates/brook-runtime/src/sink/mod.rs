//! Sinks: where a stream leaves the job.
//!
//! A sink is a [`SinkFunction`] wrapped in a [`SinkOperator`]; it receives whole
//! batches. `print`, collect (tests, `execute_and_collect`), text/CSV files and
//! discard are here; connectors add their own.
//!
//! Exactly-once sinks implement [`TwoPhaseCommitSink`] instead and run in a
//! [`TwoPhaseCommitSinkOperator`] ([`two_phase_commit`]); the exactly-once file
//! sink, [`StreamingFileSink`], is one ([`streaming_file`]).

mod collect;
mod discard;
mod file;
mod print;
pub mod streaming_file;
mod text;
pub mod two_phase_commit;

pub use collect::{CollectHandle, CollectSink};
pub use discard::DiscardingSink;
pub use file::{FileFormat, FileRecord, FileSink};
pub use print::PrintSink;
pub use streaming_file::{RollingPolicy, StreamingFileSink};
pub use text::{CsvRecord, Printable};
pub use two_phase_commit::{TwoPhaseCommitSink, TwoPhaseCommitSinkOperator};

use crate::checkpoint::{SnapshotError, StateInitializationContext, StateSnapshotContext};
use crate::functions::RuntimeContext;
use crate::output::{OneInputOperator, Output, fail_operator};
use brook_types::{Batch, CheckpointId, Result, Watermark};

/// Writes records somewhere outside the job.
pub trait SinkFunction<T>: Send {
    /// Called once per subtask before the first batch. A failure fails the task.
    fn open(&mut self, _ctx: &RuntimeContext) -> Result<()> {
        Ok(())
    }
    fn write_batch(&mut self, batch: Batch<T>) -> Result<()>;
    /// End of input: flush and close.
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }

    /// Checkpoint hook at the barrier (a two-phase-commit sink pre-commits here and
    /// puts its pending transactions into `ctx` as operator state). The default keeps
    /// nothing: the built-in sinks write at least once and hold no state.
    fn snapshot_state(&mut self, _ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        Ok(())
    }

    /// Restore hook: a two-phase-commit sink finishes or aborts the transactions of
    /// the checkpoint it restores from. The default refuses if there is state.
    fn initialize_state(&mut self, ctx: &StateInitializationContext) -> Result<(), SnapshotError> {
        if ctx.has_state() { Err(SnapshotError::NotSupported) } else { Ok(()) }
    }

    /// Checkpoint `checkpoint` completed: a two-phase-commit sink commits what it
    /// pre-committed at that barrier. An error fails the task.
    fn notify_checkpoint_complete(&mut self, _checkpoint: CheckpointId) -> Result<(), SnapshotError> {
        Ok(())
    }
}

/// Runs a sink function as the last operator of a chain.
pub struct SinkOperator<S> {
    sink: S,
}

impl<S> SinkOperator<S> {
    pub fn new(sink: S) -> Self {
        Self { sink }
    }
}

impl<T: Send, S: SinkFunction<T>> OneInputOperator<T, ()> for SinkOperator<S> {
    fn process_batch(&mut self, batch: Batch<T>, _out: &mut dyn Output<()>) {
        if let Err(e) = self.sink.write_batch(batch) {
            fail_operator(e);
        }
    }

    fn process_watermark(&mut self, _watermark: Watermark, _out: &mut dyn Output<()>) {}

    fn finish(&mut self, _out: &mut dyn Output<()>) {
        if let Err(e) = self.sink.finish() {
            fail_operator(e);
        }
    }

    fn snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        self.sink.snapshot_state(ctx)
    }

    fn initialize_state(&mut self, ctx: &StateInitializationContext) -> Result<(), SnapshotError> {
        self.sink.initialize_state(ctx)
    }

    fn notify_checkpoint_complete(&mut self, checkpoint: CheckpointId) -> Result<(), SnapshotError> {
        self.sink.notify_checkpoint_complete(checkpoint)
    }
}
