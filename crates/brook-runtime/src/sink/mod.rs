//! Sinks: where a stream leaves the job.
//!
//! A sink is a [`SinkFunction`] wrapped in a [`SinkOperator`]; it receives whole
//! batches. `print`, collect (tests, `execute_and_collect`), text/CSV files and
//! discard are here; connectors add their own.

mod collect;
mod discard;
mod file;
mod print;
mod text;

pub use collect::{CollectHandle, CollectSink};
pub use discard::DiscardingSink;
pub use file::{FileFormat, FileSink};
pub use print::PrintSink;
pub use text::{CsvRecord, Printable};

use crate::functions::RuntimeContext;
use crate::output::{OneInputOperator, Output, fail_operator};
use brook_types::{Batch, Result, Watermark};

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
}
