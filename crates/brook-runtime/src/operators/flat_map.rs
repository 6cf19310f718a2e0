use crate::output::{OneInputOperator, Output};
use brook_types::{Batch, StreamRecord};

/// `flat_map`: zero or more outputs per input, each with the input's timestamp.
pub struct FlatMapOperator<F> {
    f: F,
}

impl<F> FlatMapOperator<F> {
    pub fn new(f: F) -> Self {
        Self { f }
    }
}

impl<I, O, R, F> OneInputOperator<I, O> for FlatMapOperator<F>
where
    F: FnMut(I) -> R + Send,
    R: IntoIterator<Item = O>,
{
    #[inline]
    fn process_batch(&mut self, batch: Batch<I>, out: &mut dyn Output<O>) {
        let mut results = Vec::with_capacity(batch.len());
        for r in batch {
            let ts = r.timestamp;
            results.extend((self.f)(r.value).into_iter().map(|value| StreamRecord { value, timestamp: ts }));
        }
        if !results.is_empty() {
            out.collect(results);
        }
    }

    /// Stateless.
    fn snapshot_state(
        &mut self,
        _ctx: &mut crate::checkpoint::StateSnapshotContext,
    ) -> Result<(), crate::checkpoint::SnapshotError> {
        Ok(())
    }
}
