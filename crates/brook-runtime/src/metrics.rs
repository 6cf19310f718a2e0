//! Counters with Flink's metric names, shared between a task and whoever reads them.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// A monotonically increasing counter (`numRecordsIn`, `numRecordsOut`, …).
#[derive(Clone, Default, Debug)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Metrics of one operator in one subtask.
#[derive(Clone, Default, Debug)]
pub struct OperatorMetrics {
    pub num_records_in: Counter,
    pub num_records_out: Counter,
}

/// A user accumulator: a counter added to by any subtask, reported in the job result.
#[derive(Clone, Default, Debug)]
pub struct Accumulator(Arc<AtomicI64>);

impl Accumulator {
    pub fn add(&self, n: i64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Where a job's metrics are registered.
#[derive(Clone, Default, Debug)]
pub struct MetricRegistry {
    inner: Arc<Mutex<RegistryInner>>,
}

#[derive(Default, Debug)]
struct RegistryInner {
    /// (operator name, subtask) → metrics
    operators: BTreeMap<(String, usize), OperatorMetrics>,
    accumulators: BTreeMap<String, Accumulator>,
}

impl MetricRegistry {
    pub fn operator(&self, operator: &str, subtask: usize) -> OperatorMetrics {
        self.inner.lock().operators.entry((operator.to_string(), subtask)).or_default().clone()
    }

    pub fn accumulator(&self, name: &str) -> Accumulator {
        self.inner.lock().accumulators.entry(name.to_string()).or_default().clone()
    }

    /// Per operator name: (numRecordsIn, numRecordsOut) summed over subtasks.
    pub fn operator_totals(&self) -> BTreeMap<String, (u64, u64)> {
        let mut totals: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for ((name, _), m) in &self.inner.lock().operators {
            let t = totals.entry(name.clone()).or_default();
            t.0 += m.num_records_in.get();
            t.1 += m.num_records_out.get();
        }
        totals
    }

    pub fn accumulator_values(&self) -> BTreeMap<String, i64> {
        self.inner.lock().accumulators.iter().map(|(k, v)| (k.clone(), v.get())).collect()
    }
}
