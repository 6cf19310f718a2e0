//! [`RateLimited`]: a source that emits at most a given number of records per
//! second per reader (Flink's `RateLimiterStrategy` / datagen's `rows-per-second`),
//! so that a job over a small bounded input runs long enough to checkpoint, be
//! observed, or fail over mid-way.

use super::{Boundedness, ReaderContext, ReaderStatus, Source, SourceReader, SplitEnumerator};
use brook_types::{Result, StreamRecord};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// `inner`, read at most `records_per_second` records per second by each reader.
pub struct RateLimited<S> {
    pub inner: S,
    pub records_per_second: u64,
}

impl<T: Send + 'static, S: Source<T>> Source<T> for RateLimited<S> {
    type Split = S::Split;

    fn boundedness(&self) -> Boundedness {
        self.inner.boundedness()
    }

    fn is_parallel(&self) -> bool {
        self.inner.is_parallel()
    }

    fn create_enumerator(&self, parallelism: usize) -> Result<Box<dyn SplitEnumerator<S::Split>>> {
        self.inner.create_enumerator(parallelism)
    }

    fn create_reader(&self, ctx: &ReaderContext) -> Result<Box<dyn SourceReader<T, S::Split>>> {
        let per_second = self.records_per_second.max(1);
        // Batches of at most a tenth of a second's worth, so the rate is smooth.
        let batch_size = ctx.batch_size.min((per_second / 10).max(1) as usize);
        let inner = self.inner.create_reader(&ReaderContext { batch_size, ..ctx.clone() })?;
        Ok(Box::new(RateLimitedReader { inner, per_second, pause: None }))
    }
}

struct RateLimitedReader<T, S> {
    inner: Box<dyn SourceReader<T, S>>,
    per_second: u64,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<T, S> SourceReader<T, S> for RateLimitedReader<T, S> {
    fn add_splits(&mut self, splits: Vec<S>) {
        self.inner.add_splits(splits);
    }

    fn no_more_splits(&mut self) {
        self.inner.no_more_splits();
    }

    fn poll_next(&mut self, cx: &mut Context<'_>, out: &mut Vec<StreamRecord<T>>) -> Poll<Result<ReaderStatus>> {
        if let Some(pause) = self.pause.as_mut() {
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.pause = None;
        }
        let before = out.len();
        let polled = self.inner.poll_next(cx, out);
        let emitted = (out.len() - before) as u64;
        if emitted > 0 {
            let pause = Duration::from_micros(emitted * 1_000_000 / self.per_second);
            self.pause = Some(Box::pin(tokio::time::sleep(pause)));
        }
        polled
    }

    fn snapshot_splits(&self) -> Vec<S> {
        self.inner.snapshot_splits()
    }

    fn last_split(&self) -> Option<String> {
        self.inner.last_split()
    }

    fn take_finished_splits(&mut self) -> Vec<String> {
        self.inner.take_finished_splits()
    }
}
