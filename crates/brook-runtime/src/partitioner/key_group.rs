//! Key-based partitioners: by key group (`key_by`) and user-defined (`partition_custom`).

use super::{Partitioner, PartitionerContext, PartitionerFactory};
use crate::key_selector::KeySelector;
use brook_types::key_group::{assign_to_key_group, operator_index_for_key_group};
use brook_types::{Batch, StreamRecord};
use std::marker::PhantomData;
use std::sync::Arc;

/// Sends each record to the subtask owning its key's key group:
/// `murmur(hashCode(key)) % maxParallelism * n / maxParallelism`.
pub struct KeyGroupPartitioner<T, S> {
    key_selector: S,
    max_parallelism: usize,
    _type: PhantomData<fn(&T)>,
}

impl<T, S> KeyGroupPartitioner<T, S>
where
    T: Send + 'static,
    S: KeySelector<T>,
{
    /// The factory for an edge; each upstream subtask gets its own instance.
    pub fn factory(key_selector: S) -> PartitionerFactory<T> {
        Arc::new(move |ctx: PartitionerContext| {
            Box::new(KeyGroupPartitioner {
                key_selector: key_selector.clone(),
                max_parallelism: ctx.max_parallelism,
                _type: PhantomData,
            }) as Box<dyn Partitioner<T>>
        })
    }
}

impl<T, S> Partitioner<T> for KeyGroupPartitioner<T, S>
where
    T: Send,
    S: KeySelector<T>,
{
    fn partition(&mut self, batch: Batch<T>, buffers: &mut [Vec<StreamRecord<T>>]) {
        let n = buffers.len();
        if n == 1 {
            if buffers[0].is_empty() {
                buffers[0] = batch;
            } else {
                buffers[0].extend(batch);
            }
            return;
        }
        let max_p = self.max_parallelism;
        for record in batch {
            let kg = self.key_selector.with_key(&record.value, |k| assign_to_key_group(k, max_p));
            buffers[operator_index_for_key_group(max_p, n, kg)].push(record);
        }
    }
}

/// `partition_custom`: the user's function picks the channel from the key.
pub struct CustomPartitioner<T, K, F, P> {
    key_selector: F,
    partitioner: P,
    _types: PhantomData<fn(&T) -> K>,
}

impl<T, K, F, P> CustomPartitioner<T, K, F, P>
where
    T: Send + 'static,
    K: 'static,
    F: Fn(&T) -> K + Clone + Send + Sync + 'static,
    P: Fn(&K, usize) -> usize + Clone + Send + Sync + 'static,
{
    pub fn factory(partitioner: P, key_selector: F) -> PartitionerFactory<T> {
        Arc::new(move |_ctx: PartitionerContext| {
            Box::new(CustomPartitioner {
                key_selector: key_selector.clone(),
                partitioner: partitioner.clone(),
                _types: PhantomData,
            }) as Box<dyn Partitioner<T>>
        })
    }
}

impl<T, K, F, P> Partitioner<T> for CustomPartitioner<T, K, F, P>
where
    T: Send,
    F: Fn(&T) -> K + Send,
    P: Fn(&K, usize) -> usize + Send,
{
    fn partition(&mut self, batch: Batch<T>, buffers: &mut [Vec<StreamRecord<T>>]) {
        let n = buffers.len();
        for record in batch {
            let key = (self.key_selector)(&record.value);
            let channel = (self.partitioner)(&key, n);
            assert!(channel < n, "custom partitioner returned channel {channel} but there are only {n} channels");
            buffers[channel].push(record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every record lands on `kg * n / maxP` for its key's Flink key group.
        #[test]
        fn records_go_to_the_owner_of_their_key_group(keys in proptest::collection::vec(any::<i64>(), 0..300), n in 1usize..9, max_p in 8usize..300) {
            prop_assume!(n <= max_p);
            let factory = KeyGroupPartitioner::factory(crate::key_selector::OwnedKey::new(|x: &i64| *x));
            let mut p = factory(PartitionerContext { num_channels: n, max_parallelism: max_p, subtask_index: 0 });
            let mut buffers: Vec<Vec<StreamRecord<i64>>> = (0..n).map(|_| Vec::new()).collect();
            p.partition(keys.iter().map(|&k| StreamRecord::new(k)).collect(), &mut buffers);
            let mut count = 0;
            for (i, b) in buffers.iter().enumerate() {
                for r in b {
                    let kg = assign_to_key_group(&r.value, max_p);
                    prop_assert_eq!(kg * n / max_p, i);
                    count += 1;
                }
            }
            prop_assert_eq!(count, keys.len());
        }
    }
}
