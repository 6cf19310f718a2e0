use crate::output::{OneInputOperator, Output};
use brook_types::{Batch, StreamRecord};

/// `map`: one output per input, timestamp kept.
pub struct MapOperator<F> {
    f: F,
}

impl<F> MapOperator<F> {
    pub fn new(f: F) -> Self {
        Self { f }
    }
}

impl<I, O, F> OneInputOperator<I, O> for MapOperator<F>
where
    F: FnMut(I) -> O + Send,
{
    #[inline]
    fn process_batch(&mut self, batch: Batch<I>, out: &mut dyn Output<O>) {
        let f = &mut self.f;
        out.collect(batch.into_iter().map(|r| StreamRecord { value: f(r.value), timestamp: r.timestamp }).collect());
    }

    /// Stateless.
    fn snapshot_state(
        &mut self,
        _ctx: &mut crate::checkpoint::StateSnapshotContext,
    ) -> Result<(), crate::checkpoint::SnapshotError> {
        Ok(())
    }
}
