use crate::output::{OneInputOperator, Output};
use brook_types::Batch;

/// `filter`: keeps the records the predicate accepts.
pub struct FilterOperator<F> {
    f: F,
}

impl<F> FilterOperator<F> {
    pub fn new(f: F) -> Self {
        Self { f }
    }
}

impl<T, F> OneInputOperator<T, T> for FilterOperator<F>
where
    F: FnMut(&T) -> bool + Send,
{
    #[inline]
    fn process_batch(&mut self, mut batch: Batch<T>, out: &mut dyn Output<T>) {
        let f = &mut self.f;
        batch.retain(|r| f(&r.value));
        if !batch.is_empty() {
            out.collect(batch);
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
