use super::SinkFunction;
use brook_types::{Batch, Result};

/// Drops every record (benchmarks, side effects done upstream).
#[derive(Clone, Copy)]
pub struct DiscardingSink;

impl<T: Send> SinkFunction<T> for DiscardingSink {
    #[inline]
    fn write_batch(&mut self, _batch: Batch<T>) -> Result<()> {
        Ok(())
    }
}
