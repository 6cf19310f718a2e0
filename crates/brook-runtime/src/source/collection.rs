use super::{Boundedness, ReaderContext, ReaderStatus, Source, SourceReader, SourceSplit, SplitEnumerator};
use brook_types::{Result, StreamRecord};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::task::{Context, Poll};

/// `from_collection` / `from_iter`: the elements in order, from one subtask.
pub struct CollectionSource<T> {
    data: Arc<Vec<T>>,
}

impl<T> CollectionSource<T> {
    pub fn new(data: Vec<T>) -> Self {
        Self { data: Arc::new(data) }
    }
}

/// The position reached in the collection.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CollectionSplit {
    pub next: usize,
}

impl SourceSplit for CollectionSplit {
    fn split_id(&self) -> String {
        "0".into()
    }
}

impl<T: Clone + Send + Sync + 'static> Source<T> for CollectionSource<T> {
    type Split = CollectionSplit;

    fn boundedness(&self) -> Boundedness {
        Boundedness::Bounded
    }

    fn is_parallel(&self) -> bool {
        false
    }

    fn create_enumerator(&self, _parallelism: usize) -> Result<Box<dyn SplitEnumerator<CollectionSplit>>> {
        Ok(Box::new(OneSplit(Some(CollectionSplit { next: 0 }))))
    }

    fn create_reader(&self, ctx: &ReaderContext) -> Result<Box<dyn SourceReader<T, CollectionSplit>>> {
        Ok(Box::new(CollectionReader { data: self.data.clone(), split: None, batch_size: ctx.batch_size }))
    }
}

struct OneSplit(Option<CollectionSplit>);

impl SplitEnumerator<CollectionSplit> for OneSplit {
    fn discover_splits(&mut self) -> Result<Vec<CollectionSplit>> {
        Ok(self.0.take().into_iter().collect())
    }
}

struct CollectionReader<T> {
    data: Arc<Vec<T>>,
    split: Option<CollectionSplit>,
    batch_size: usize,
}

impl<T: Clone + Send + Sync> SourceReader<T, CollectionSplit> for CollectionReader<T> {
    fn add_splits(&mut self, splits: Vec<CollectionSplit>) {
        if let Some(s) = splits.into_iter().next() {
            self.split = Some(s);
        }
    }

    fn no_more_splits(&mut self) {}

    fn poll_next(&mut self, _cx: &mut Context<'_>, out: &mut Vec<StreamRecord<T>>) -> Poll<Result<ReaderStatus>> {
        let Some(split) = self.split.as_mut() else {
            return Poll::Ready(Ok(ReaderStatus::EndOfInput));
        };
        let end = (split.next + self.batch_size).min(self.data.len());
        out.extend(self.data[split.next..end].iter().cloned().map(StreamRecord::new));
        split.next = end;
        if end == self.data.len() {
            self.split = None;
        }
        Poll::Ready(Ok(ReaderStatus::MoreAvailable))
    }

    fn snapshot_splits(&self) -> Vec<CollectionSplit> {
        self.split.iter().cloned().collect()
    }
}
