use super::{Boundedness, ReaderContext, ReaderStatus, Source, SourceReader, assigned_subtask};
use crate::output::{Output, attribute_panic};
use crate::task::{InputStatus, TaskInput};
use brook_types::{Result, StreamRecord, Watermark};
use std::task::{Context, Poll};

/// Drives a source task: reads batches from the reader and pushes them down the chain.
pub struct SourceTaskInput<T, S> {
    /// The source operator's name, for failures raised by the reader.
    name: String,
    reader: Box<dyn SourceReader<T, S>>,
    head: Box<dyn Output<T>>,
    buffer: Vec<StreamRecord<T>>,
    batch_size: usize,
}

impl<T: Send + 'static, S: Send + 'static> SourceTaskInput<T, S> {
    /// Creates the reader of subtask `ctx.subtask_index` and assigns its splits.
    pub fn new<Src: Source<T, Split = S>>(
        name: String,
        source: &Src,
        ctx: ReaderContext,
        head: Box<dyn Output<T>>,
    ) -> Result<Self> {
        let mut enumerator = source.create_enumerator(ctx.parallelism)?;
        let splits = enumerator.discover_splits()?;
        let mine: Vec<S> = splits
            .into_iter()
            .enumerate()
            .filter(|(i, _)| assigned_subtask(*i, ctx.parallelism) == ctx.subtask_index)
            .map(|(_, s)| s)
            .collect();
        let mut reader = source.create_reader(&ctx)?;
        reader.add_splits(mine);
        if source.boundedness() == Boundedness::Bounded {
            reader.no_more_splits();
        }
        Ok(Self { name, reader, head, buffer: Vec::with_capacity(ctx.batch_size), batch_size: ctx.batch_size })
    }
}

impl<T: Send, S: Send> TaskInput for SourceTaskInput<T, S> {
    fn on_processing_time(&mut self, now: brook_types::Timestamp) {
        self.head.on_processing_time(now);
    }

    fn poll_process(&mut self, cx: &mut Context<'_>) -> Poll<Result<InputStatus>> {
        let (reader, buffer) = (&mut self.reader, &mut self.buffer);
        match attribute_panic(&self.name, || reader.poll_next(cx, buffer)) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(status)) => {
                if !self.buffer.is_empty() {
                    let batch = std::mem::replace(&mut self.buffer, Vec::with_capacity(self.batch_size));
                    self.head.collect(batch);
                }
                if status == ReaderStatus::EndOfInput {
                    // A finished source ends event time, so every window fires.
                    self.head.emit_watermark(Watermark::MAX);
                    self.head.end_input();
                    return Poll::Ready(Ok(InputStatus::Finished));
                }
                Poll::Ready(Ok(InputStatus::MoreAvailable))
            }
        }
    }
}
