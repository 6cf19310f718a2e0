//! What the test modules share.

use brook_state::{AggregateFunction, HashMapStateBackend};
use brook_types::key_group::KeyGroupRange;

/// Averages `i64`s (integer division); the accumulator is (sum, count).
#[derive(Clone, Copy, Debug)]
pub struct Average;

impl AggregateFunction<i64> for Average {
    type Acc = (i64, i64);
    type Out = i64;

    fn create_accumulator(&self) -> (i64, i64) {
        (0, 0)
    }

    fn add(&self, acc: &mut (i64, i64), value: i64) {
        acc.0 += value;
        acc.1 += 1;
    }

    fn get_result(&self, acc: &(i64, i64)) -> i64 {
        acc.0 / acc.1.max(1)
    }

    fn merge(&self, acc: &mut (i64, i64), other: (i64, i64)) {
        acc.0 += other.0;
        acc.1 += other.1;
    }
}

/// The backend of subtask `index` of `parallelism`.
pub fn subtask_backend(max_parallelism: usize, parallelism: usize, index: usize) -> HashMapStateBackend<i64> {
    HashMapStateBackend::new(max_parallelism, KeyGroupRange::for_operator_index(max_parallelism, parallelism, index))
        .with_operator_name("Test Operator")
}
