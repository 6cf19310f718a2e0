use super::{Boundedness, ReaderContext, ReaderStatus, Source, SourceReader, SourceSplit, assigned_subtask};
use crate::output::{Output, attribute_panic};
use crate::processing_time::ProcessingTimeService;
use crate::task::{InputStatus, TaskInput};
use crate::watermark::{SplitWatermarks, WatermarkSignal, WatermarkStrategy};
use brook_types::{Result, StreamRecord, Timestamp, Watermark};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Per-split watermark generation inside the source task (`env.from_source_with_watermarks`).
pub struct SourceWatermarks<T> {
    splits: SplitWatermarks<T>,
    processing_time: ProcessingTimeService,
    /// Periodic emission interval in ms; `None` in BATCH mode (only MAX at the end).
    interval: Option<i64>,
    next_emit: Timestamp,
}

impl<T: 'static> SourceWatermarks<T> {
    /// Watermarks from `strategy`, emitted every `interval` (no progressive
    /// watermarks when `progressive` is false: BATCH mode).
    pub fn new(
        strategy: WatermarkStrategy<T>,
        processing_time: ProcessingTimeService,
        interval: Duration,
        progressive: bool,
    ) -> Self {
        let clock_source = processing_time.clone();
        let strategy = if progressive {
            strategy
        } else {
            // Timestamps only.
            let mut plain = WatermarkStrategy::no_watermarks();
            if let Some(assign) = strategy.timestamp_assigner().cloned() {
                plain = plain.with_timestamp_assigner(move |v: &T, ts| assign(v, ts));
            }
            plain
        };
        let splits = SplitWatermarks::new(strategy, Arc::new(move || clock_source.now()));
        let interval = (progressive && !interval.is_zero())
            .then(|| i64::try_from(interval.as_millis()).unwrap_or(i64::MAX).max(1));
        let mut next_emit = Timestamp::MAX;
        if let Some(ms) = interval {
            next_emit = processing_time.now().saturating_add(ms);
            processing_time.register(next_emit);
        }
        Self { splits, processing_time, interval, next_emit }
    }
}

/// Drives a source task: reads batches from the reader and pushes them down the chain.
pub struct SourceTaskInput<T, S> {
    /// The source operator's name, for failures raised by the reader.
    name: String,
    reader: Box<dyn SourceReader<T, S>>,
    head: Box<dyn Output<T>>,
    buffer: Vec<StreamRecord<T>>,
    batch_size: usize,
    watermarks: Option<SourceWatermarks<T>>,
}

impl<T: Send + 'static, S: SourceSplit> SourceTaskInput<T, S> {
    /// Creates the reader of subtask `ctx.subtask_index` and assigns its splits.
    pub fn new<Src: Source<T, Split = S>>(
        name: String,
        source: &Src,
        ctx: ReaderContext,
        head: Box<dyn Output<T>>,
        mut watermarks: Option<SourceWatermarks<T>>,
    ) -> Result<Self> {
        let mut enumerator = source.create_enumerator(ctx.parallelism)?;
        let splits = enumerator.discover_splits()?;
        let mine: Vec<S> = splits
            .into_iter()
            .enumerate()
            .filter(|(i, _)| assigned_subtask(*i, ctx.parallelism) == ctx.subtask_index)
            .map(|(_, s)| s)
            .collect();
        if let Some(w) = watermarks.as_mut() {
            for split in &mine {
                w.splits.register_split(&split.split_id());
            }
        }
        let mut reader = source.create_reader(&ctx)?;
        reader.add_splits(mine);
        if source.boundedness() == Boundedness::Bounded {
            reader.no_more_splits();
        }
        Ok(Self {
            name,
            reader,
            head,
            buffer: Vec::with_capacity(ctx.batch_size),
            batch_size: ctx.batch_size,
            watermarks,
        })
    }
}

impl<T: Send + 'static, S: Send> SourceTaskInput<T, S> {
    fn send_signals(&mut self) {
        if let Some(w) = self.watermarks.as_mut() {
            for signal in w.splits.take_signals() {
                match signal {
                    WatermarkSignal::Watermark(wm) => self.head.emit_watermark(wm),
                    WatermarkSignal::Status(status) => self.head.emit_watermark_status(status),
                }
            }
        }
    }
}

impl<T: Send + 'static, S: Send> TaskInput for SourceTaskInput<T, S> {
    fn on_processing_time(&mut self, now: Timestamp) {
        if let Some(w) = self.watermarks.as_mut()
            && let Some(interval) = w.interval
            && now >= w.next_emit
        {
            w.splits.on_periodic_emit();
            w.next_emit = now.saturating_add(interval);
            w.processing_time.register(w.next_emit);
            self.send_signals();
        }
        self.head.on_processing_time(now);
    }

    fn poll_process(&mut self, cx: &mut Context<'_>) -> Poll<Result<InputStatus>> {
        let (reader, buffer) = (&mut self.reader, &mut self.buffer);
        match attribute_panic(&self.name, || reader.poll_next(cx, buffer)) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(status)) => {
                if !self.buffer.is_empty() {
                    let mut batch = std::mem::replace(&mut self.buffer, Vec::with_capacity(self.batch_size));
                    if let Some(w) = self.watermarks.as_mut() {
                        // The records of one poll come from one split (or from the
                        // subtask as a whole when the reader does not say).
                        let split = self.reader.last_split().unwrap_or_default();
                        let (name, splits) = (&self.name, &mut w.splits);
                        attribute_panic(name, || batch.iter_mut().for_each(|r| splits.on_record(&split, r)));
                    }
                    self.head.collect(batch);
                }
                if let Some(w) = self.watermarks.as_mut() {
                    for split in self.reader.take_finished_splits() {
                        w.splits.split_finished(&split);
                    }
                }
                // Watermarks follow the records that caused them.
                self.send_signals();
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
