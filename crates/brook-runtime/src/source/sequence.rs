use super::{Boundedness, ReaderContext, ReaderStatus, Source, SourceReader, SourceSplit, SplitEnumerator};
use brook_types::{Result, StreamRecord};
use serde::{Deserialize, Serialize};
use std::task::{Context, Poll};

/// `generate_sequence(from, to)`: the numbers `from..=to`, split into one
/// contiguous range per subtask.
#[derive(Clone, Debug)]
pub struct NumberSequenceSource {
    pub from: i64,
    pub to: i64,
}

/// The numbers `next..=to` still to emit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceSplit {
    pub id: usize,
    pub next: i64,
    pub to: i64,
}

impl SourceSplit for SequenceSplit {
    fn split_id(&self) -> String {
        self.id.to_string()
    }
}

impl Source<i64> for NumberSequenceSource {
    type Split = SequenceSplit;

    fn boundedness(&self) -> Boundedness {
        Boundedness::Bounded
    }

    fn create_enumerator(&self, parallelism: usize) -> Result<Box<dyn SplitEnumerator<SequenceSplit>>> {
        Ok(Box::new(SequenceEnumerator { from: self.from, to: self.to, parallelism, done: false }))
    }

    fn create_reader(&self, ctx: &ReaderContext) -> Result<Box<dyn SourceReader<i64, SequenceSplit>>> {
        Ok(Box::new(SequenceReader {
            splits: Vec::new(),
            batch_size: ctx.batch_size,
            last_split: None,
            finished: Vec::new(),
        }))
    }
}

struct SequenceEnumerator {
    from: i64,
    to: i64,
    parallelism: usize,
    done: bool,
}

impl SplitEnumerator<SequenceSplit> for SequenceEnumerator {
    fn discover_splits(&mut self) -> Result<Vec<SequenceSplit>> {
        if std::mem::replace(&mut self.done, true) || self.to < self.from {
            return Ok(Vec::new());
        }
        let total = (self.to as i128 - self.from as i128 + 1) as u128;
        let n = self.parallelism as u128;
        Ok((0..self.parallelism)
            .map(|i| {
                let start = self.from as i128 + (total * i as u128 / n) as i128;
                let end = self.from as i128 + (total * (i as u128 + 1) / n) as i128 - 1;
                SequenceSplit { id: i, next: start as i64, to: end as i64 }
            })
            .filter(|s| s.next <= s.to)
            .collect())
    }
}

struct SequenceReader {
    splits: Vec<SequenceSplit>,
    batch_size: usize,
    last_split: Option<String>,
    finished: Vec<String>,
}

impl SourceReader<i64, SequenceSplit> for SequenceReader {
    fn add_splits(&mut self, splits: Vec<SequenceSplit>) {
        self.splits.extend(splits);
    }

    fn no_more_splits(&mut self) {}

    fn poll_next(&mut self, _cx: &mut Context<'_>, out: &mut Vec<StreamRecord<i64>>) -> Poll<Result<ReaderStatus>> {
        let Some(split) = self.splits.first_mut() else {
            return Poll::Ready(Ok(ReaderStatus::EndOfInput));
        };
        let remaining = (split.to as i128 - split.next as i128 + 1) as u128;
        let n = remaining.min(self.batch_size as u128) as i64;
        let start = split.next;
        out.extend((0..n).map(|i| StreamRecord::new(start + i)));
        self.last_split = Some(split.split_id());
        if n as u128 == remaining {
            let done = self.splits.remove(0);
            self.finished.push(done.split_id());
        } else {
            split.next = start + n;
        }
        Poll::Ready(Ok(ReaderStatus::MoreAvailable))
    }

    fn snapshot_splits(&self) -> Vec<SequenceSplit> {
        self.splits.clone()
    }

    fn last_split(&self) -> Option<String> {
        self.last_split.clone()
    }

    fn take_finished_splits(&mut self) -> Vec<String> {
        std::mem::take(&mut self.finished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_sequence_exactly() {
        let src = NumberSequenceSource { from: 1, to: 10 };
        let splits = src.create_enumerator(3).unwrap().discover_splits().unwrap();
        let ranges: Vec<(i64, i64)> = splits.iter().map(|s| (s.next, s.to)).collect();
        assert_eq!(ranges, vec![(1, 3), (4, 6), (7, 10)]);
    }
}
