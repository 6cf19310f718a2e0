//! Partitioners: which output channel each record of a batch goes to.
//!
//! A partitioner works on a whole batch (`partition`), so the per-record loop is
//! monomorphized and dispatch is paid once per batch. The channels of an edge are
//! numbered 0..n in downstream subtask order; for pointwise edges (forward,
//! rescale) they are only the downstream subtasks this upstream subtask is
//! connected to (see [`crate::graph::connect`]).

mod key_group;

pub use key_group::{CustomPartitioner, KeyGroupPartitioner};

use brook_types::{Batch, StreamRecord};
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// How records are shipped along an edge; the names are Flink's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ShipStrategy {
    Forward,
    Rebalance,
    Rescale,
    Shuffle,
    Hash,
    Broadcast,
    Global,
    Custom,
}

impl ShipStrategy {
    /// Whether each upstream subtask talks to only some downstream subtasks.
    pub fn is_pointwise(self) -> bool {
        matches!(self, ShipStrategy::Forward | ShipStrategy::Rescale)
    }

    /// Flink's name, as shown in plans.
    pub fn name(self) -> &'static str {
        match self {
            ShipStrategy::Forward => "FORWARD",
            ShipStrategy::Rebalance => "REBALANCE",
            ShipStrategy::Rescale => "RESCALE",
            ShipStrategy::Shuffle => "SHUFFLE",
            ShipStrategy::Hash => "HASH",
            ShipStrategy::Broadcast => "BROADCAST",
            ShipStrategy::Global => "GLOBAL",
            ShipStrategy::Custom => "CUSTOM",
        }
    }
}

impl fmt::Display for ShipStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Distributes batches over output channels.
pub trait Partitioner<T>: Send {
    /// Appends every record of `batch` to the buffer of its channel(s).
    fn partition(&mut self, batch: Batch<T>, buffers: &mut [Vec<StreamRecord<T>>]);
}

/// Creates the partitioner of one upstream subtask for an edge.
pub type PartitionerFactory<T> = Arc<dyn Fn(PartitionerContext) -> Box<dyn Partitioner<T>> + Send + Sync>;

/// What a partitioner knows about where it runs.
#[derive(Clone, Copy, Debug)]
pub struct PartitionerContext {
    pub num_channels: usize,
    /// Max parallelism of the receiving operator (the number of key groups).
    pub max_parallelism: usize,
    pub subtask_index: usize,
}

/// The partitioning of an edge as the API declared it.
#[derive(Clone)]
pub struct PartitionerSpec {
    pub strategy: ShipStrategy,
    /// Whether the user asked for it; an implicit forward between operators of
    /// different parallelism becomes a rebalance, an explicit one is an error.
    pub explicit: bool,
    /// For HASH and CUSTOM: an erased [`PartitionerFactory<T>`].
    pub typed: Option<Arc<dyn Any + Send + Sync>>,
}

impl fmt::Debug for PartitionerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.strategy)
    }
}

impl PartitionerSpec {
    pub fn forward_default() -> Self {
        Self { strategy: ShipStrategy::Forward, explicit: false, typed: None }
    }

    pub fn explicit(strategy: ShipStrategy) -> Self {
        Self { strategy, explicit: true, typed: None }
    }

    pub fn typed<T: 'static>(strategy: ShipStrategy, factory: PartitionerFactory<T>) -> Self {
        Self { strategy, explicit: true, typed: Some(Arc::new(factory)) }
    }

    /// The partitioner for one upstream subtask.
    pub fn create<T: Clone + Send + 'static>(&self, ctx: PartitionerContext) -> Box<dyn Partitioner<T>> {
        match self.strategy {
            ShipStrategy::Forward | ShipStrategy::Global => Box::new(FirstChannelPartitioner),
            ShipStrategy::Rebalance | ShipStrategy::Rescale => {
                // Flink starts each sender at a random channel; we start at the
                // subtask index, which spreads senders the same way but is repeatable.
                Box::new(RoundRobinPartitioner { next: ctx.subtask_index % ctx.num_channels.max(1) })
            }
            ShipStrategy::Shuffle => Box::new(ShufflePartitioner {
                state: 0x853c_49e6_748f_ea9b ^ (ctx.subtask_index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            }),
            ShipStrategy::Broadcast => Box::new(BroadcastPartitioner),
            ShipStrategy::Hash | ShipStrategy::Custom => {
                let factory = self
                    .typed
                    .as_ref()
                    .and_then(|a| a.downcast_ref::<PartitionerFactory<T>>())
                    .expect("hash and custom partitioners carry a factory of the edge's record type");
                factory(ctx)
            }
        }
    }
}

/// Forward (the one channel of a pointwise 1:1 edge) and global (downstream subtask 0).
struct FirstChannelPartitioner;

impl<T: Send> Partitioner<T> for FirstChannelPartitioner {
    fn partition(&mut self, batch: Batch<T>, buffers: &mut [Vec<StreamRecord<T>>]) {
        let buf = &mut buffers[0];
        if buf.is_empty() {
            *buf = batch;
        } else {
            buf.extend(batch);
        }
    }
}

/// Rebalance and rescale: record by record, round robin over the channels.
struct RoundRobinPartitioner {
    next: usize,
}

impl<T: Send> Partitioner<T> for RoundRobinPartitioner {
    fn partition(&mut self, batch: Batch<T>, buffers: &mut [Vec<StreamRecord<T>>]) {
        let n = buffers.len();
        let mut next = self.next;
        for record in batch {
            buffers[next].push(record);
            next += 1;
            if next == n {
                next = 0;
            }
        }
        self.next = next;
    }
}

/// Shuffle: a uniformly random channel per record (xorshift64*).
struct ShufflePartitioner {
    state: u64,
}

impl<T: Send> Partitioner<T> for ShufflePartitioner {
    fn partition(&mut self, batch: Batch<T>, buffers: &mut [Vec<StreamRecord<T>>]) {
        let n = buffers.len() as u64;
        for record in batch {
            self.state ^= self.state >> 12;
            self.state ^= self.state << 25;
            self.state ^= self.state >> 27;
            let r = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D);
            buffers[(((r >> 32) * n) >> 32) as usize].push(record);
        }
    }
}

/// Broadcast: every record to every channel.
struct BroadcastPartitioner;

impl<T: Clone + Send> Partitioner<T> for BroadcastPartitioner {
    fn partition(&mut self, batch: Batch<T>, buffers: &mut [Vec<StreamRecord<T>>]) {
        let (last, rest) = buffers.split_last_mut().expect("an edge has at least one channel");
        for buf in rest {
            buf.extend(batch.iter().cloned());
        }
        last.extend(batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(spec: &PartitionerSpec, n: usize, subtask: usize, values: Vec<i64>) -> Vec<Vec<i64>> {
        let mut p =
            spec.create::<i64>(PartitionerContext { num_channels: n, max_parallelism: 128, subtask_index: subtask });
        let mut buffers: Vec<Vec<StreamRecord<i64>>> = (0..n).map(|_| Vec::new()).collect();
        p.partition(values.into_iter().map(StreamRecord::new).collect(), &mut buffers);
        buffers.into_iter().map(|b| b.into_iter().map(|r| r.value).collect()).collect()
    }

    #[test]
    fn rebalance_is_round_robin_from_the_subtask_index() {
        let spec = PartitionerSpec::explicit(ShipStrategy::Rebalance);
        assert_eq!(run(&spec, 3, 0, (1..=7).collect()), vec![vec![1, 4, 7], vec![2, 5], vec![3, 6]]);
        assert_eq!(run(&spec, 3, 1, (1..=4).collect()), vec![vec![3], vec![1, 4], vec![2]]);
    }

    #[test]
    fn broadcast_copies_to_all() {
        let spec = PartitionerSpec::explicit(ShipStrategy::Broadcast);
        assert_eq!(run(&spec, 2, 0, vec![1, 2]), vec![vec![1, 2], vec![1, 2]]);
    }

    #[test]
    fn global_and_forward_use_channel_zero() {
        for s in [ShipStrategy::Global, ShipStrategy::Forward] {
            let spec = PartitionerSpec::explicit(s);
            assert_eq!(run(&spec, 3, 2, vec![1, 2, 3]), vec![vec![1, 2, 3], vec![], vec![]]);
        }
    }

    proptest! {
        /// Shuffle neither loses nor duplicates records and uses every channel on large inputs.
        #[test]
        fn shuffle_preserves_records(n in 1usize..8, len in 0usize..2000) {
            let spec = PartitionerSpec::explicit(ShipStrategy::Shuffle);
            let out = run(&spec, n, 0, (0..len as i64).collect());
            let mut all: Vec<i64> = out.iter().flatten().copied().collect();
            all.sort_unstable();
            prop_assert_eq!(all, (0..len as i64).collect::<Vec<_>>());
            if len >= 1000 {
                prop_assert!(out.iter().all(|c| !c.is_empty()));
            }
        }

        /// Round robin gives every channel floor(len/n) or ceil(len/n) records.
        #[test]
        fn rebalance_is_balanced(n in 1usize..8, len in 0usize..500, subtask in 0usize..8) {
            let spec = PartitionerSpec::explicit(ShipStrategy::Rebalance);
            let out = run(&spec, n, subtask, (0..len as i64).collect());
            for c in &out {
                prop_assert!(c.len() == len / n || c.len() == len.div_ceil(n));
            }
        }
    }
}
