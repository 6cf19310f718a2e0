//! [`NexmarkSource`]: the generator as a split-based source, one split per
//! sub-generator. A split's position is the number of events it has emitted, so a
//! checkpoint resumes it exactly (every event is a pure function of its number).

use super::config::NexmarkConfig;
use super::generator::SubGenerator;
use super::model::Event;
use brook_runtime::source::{
    Boundedness, ReaderContext, ReaderStatus, Source, SourceReader, SourceSplit, SplitEnumerator,
};
use brook_types::{Result, StreamRecord};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The Nexmark generator as a source (connector name `nexmark`).
#[derive(Clone, Debug)]
pub struct NexmarkSource {
    config: NexmarkConfig,
}

impl NexmarkSource {
    pub fn new(config: NexmarkConfig) -> Self {
        Self { config }
    }

    pub fn config(&self) -> &NexmarkConfig {
        &self.config
    }

    /// The splits of `generators` sub-generators (the enumerator's answer).
    pub fn splits(&self, generators: u32) -> Vec<NexmarkSplit> {
        let generators = generators.max(1);
        (0..generators)
            .map(|index| {
                let mut end = SubGenerator::events_of(&self.config, index, generators);
                if self.config.stop_at >= 0 {
                    end = end.min(self.config.stop_at as u64);
                }
                NexmarkSplit { index, generators, next: 0, end }
            })
            .filter(|s| s.next < s.end)
            .collect()
    }
}

/// Sub-generator `index` of `generators`, at its `next` event; it ends before `end`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NexmarkSplit {
    pub index: u32,
    pub generators: u32,
    /// Events emitted so far: the checkpointed position.
    pub next: u64,
    pub end: u64,
}

impl SourceSplit for NexmarkSplit {
    fn split_id(&self) -> String {
        format!("nexmark-{}-of-{}", self.index, self.generators)
    }
}

impl Source<Event> for NexmarkSource {
    type Split = NexmarkSplit;

    fn boundedness(&self) -> Boundedness {
        if self.config.events_num == 0 || self.config.keep_alive {
            Boundedness::ContinuousUnbounded
        } else {
            Boundedness::Bounded
        }
    }

    fn create_enumerator(&self, parallelism: usize) -> Result<Box<dyn SplitEnumerator<NexmarkSplit>>> {
        self.config.validate()?;
        let generators = if self.config.splits == 0 { parallelism as u32 } else { self.config.splits };
        Ok(Box::new(NexmarkEnumerator { splits: Some(self.splits(generators)) }))
    }

    fn create_reader(&self, ctx: &ReaderContext) -> Result<Box<dyn SourceReader<Event, NexmarkSplit>>> {
        Ok(Box::new(NexmarkReader::new(self.config.clone(), ctx.batch_size)))
    }
}

struct NexmarkEnumerator {
    splits: Option<Vec<NexmarkSplit>>,
}

impl SplitEnumerator<NexmarkSplit> for NexmarkEnumerator {
    fn discover_splits(&mut self) -> Result<Vec<NexmarkSplit>> {
        Ok(self.splits.take().unwrap_or_default())
    }
}

/// Reads its splits in event-time lockstep: each poll generates a batch from the
/// split that is furthest behind, so no split runs ahead and holds the others'
/// watermarks back.
pub struct NexmarkReader {
    config: NexmarkConfig,
    batch_size: usize,
    splits: Vec<(NexmarkSplit, SubGenerator)>,
    last_split: Option<String>,
    finished: Vec<String>,
    /// `max-emit-speed = false`: when the reader started, and whether a wake-up is pending.
    started: Option<Instant>,
    wake_scheduled: Arc<AtomicBool>,
}

impl NexmarkReader {
    pub fn new(config: NexmarkConfig, batch_size: usize) -> Self {
        Self {
            config,
            batch_size: batch_size.max(1),
            splits: Vec::new(),
            last_split: None,
            finished: Vec::new(),
            started: None,
            wake_scheduled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Appends up to `batch_size` events of the split furthest behind; false when
    /// all splits are done.
    pub fn read_batch(&mut self, out: &mut Vec<StreamRecord<Event>>, limit_to_due: Option<i64>) -> usize {
        let Some(pos) = (0..self.splits.len()).min_by_key(|&i| {
            let (split, generator) = &self.splits[i];
            generator.timestamp(split.next + 1)
        }) else {
            return 0;
        };
        let (split, generator) = &mut self.splits[pos];
        let mut count = (split.end - split.next).min(self.batch_size as u64);
        if let Some(due_offset) = limit_to_due {
            // Only events whose event-time offset from the base time has passed.
            let base = generator.timestamp(0);
            count =
                (0..count).take_while(|i| generator.timestamp(split.next + 1 + i) - base <= due_offset).count() as u64;
        }
        out.reserve(count as usize);
        generator.events_into(
            split.next..split.next + count,
            out,
            |event| {
                let ts = event.date_time();
                StreamRecord::with_timestamp(event, ts)
            },
            |record| &mut record.value,
        );
        split.next += count;
        self.last_split = Some(split.split_id());
        if split.next >= split.end {
            let (done, _) = self.splits.remove(pos);
            self.finished.push(done.split_id());
        }
        count as usize
    }

    fn schedule_wake(&self, cx: &Context<'_>, after: Duration) {
        if self.wake_scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let (waker, flag) = (cx.waker().clone(), self.wake_scheduled.clone());
        std::thread::spawn(move || {
            std::thread::sleep(after);
            flag.store(false, Ordering::Release);
            waker.wake();
        });
    }
}

impl SourceReader<Event, NexmarkSplit> for NexmarkReader {
    fn add_splits(&mut self, splits: Vec<NexmarkSplit>) {
        for split in splits {
            let generator = SubGenerator::new(&self.config, split.index, split.generators);
            self.splits.push((split, generator));
        }
    }

    fn no_more_splits(&mut self) {}

    fn poll_next(&mut self, cx: &mut Context<'_>, out: &mut Vec<StreamRecord<Event>>) -> Poll<Result<ReaderStatus>> {
        if self.splits.is_empty() {
            return if self.config.keep_alive { Poll::Pending } else { Poll::Ready(Ok(ReaderStatus::EndOfInput)) };
        }
        if self.config.max_emit_speed {
            self.read_batch(out, None);
            return Poll::Ready(Ok(ReaderStatus::MoreAvailable));
        }
        let elapsed = self.started.get_or_insert_with(Instant::now).elapsed().as_millis() as i64;
        if self.read_batch(out, Some(elapsed)) == 0 {
            self.schedule_wake(cx, Duration::from_millis(1));
            return Poll::Pending;
        }
        Poll::Ready(Ok(ReaderStatus::MoreAvailable))
    }

    fn snapshot_splits(&self) -> Vec<NexmarkSplit> {
        self.splits.iter().map(|(s, _)| s.clone()).collect()
    }

    fn last_split(&self) -> Option<String> {
        self.last_split.clone()
    }

    fn take_finished_splits(&mut self) -> Vec<String> {
        std::mem::take(&mut self.finished)
    }
}
