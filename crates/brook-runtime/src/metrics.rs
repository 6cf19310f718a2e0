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

/// The values of one operator's metrics in one attempt of one subtask, as a
/// TaskManager reports them to the JobManager.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorSample {
    pub operator: String,
    pub subtask: usize,
    pub attempt: u32,
    pub records_in: u64,
    pub records_out: u64,
}

/// Where a job's metrics are registered.
///
/// Each (operator, subtask) holds the metrics of one attempt, the newest one seen:
/// a redeployed subtask starts from zero, as Flink shows the current attempt's
/// metrics, and the values of an older attempt are never added to a newer one's.
#[derive(Clone, Default, Debug)]
pub struct MetricRegistry {
    inner: Arc<Mutex<RegistryInner>>,
}

#[derive(Default, Debug)]
struct RegistryInner {
    /// (operator name, subtask) → the newest attempt's metrics
    operators: BTreeMap<(String, usize), (u32, OperatorMetrics)>,
    accumulators: BTreeMap<String, Accumulator>,
    /// The accumulator values other processes reported, by process (TaskManager id).
    reported_accumulators: BTreeMap<String, BTreeMap<String, i64>>,
}

impl MetricRegistry {
    /// The metrics of `operator` in `subtask`'s newest attempt (to read them).
    pub fn operator(&self, operator: &str, subtask: usize) -> OperatorMetrics {
        self.inner.lock().operators.entry((operator.to_string(), subtask)).or_default().1.clone()
    }

    /// The counters `operator` of `subtask` counts into in `attempt`: fresh ones when
    /// `attempt` is newer than the registered attempt (which is forgotten), detached
    /// ones (counted, never read) when it is older.
    pub fn operator_for_attempt(&self, operator: &str, subtask: usize, attempt: u32) -> OperatorMetrics {
        let mut inner = self.inner.lock();
        let entry = inner.operators.entry((operator.to_string(), subtask)).or_default();
        if attempt > entry.0 {
            *entry = (attempt, OperatorMetrics::default());
        }
        if attempt < entry.0 { OperatorMetrics::default() } else { entry.1.clone() }
    }

    /// Every (operator, subtask)'s attempt and values, ordered by operator and subtask.
    pub fn samples(&self) -> Vec<OperatorSample> {
        let inner = self.inner.lock();
        inner
            .operators
            .iter()
            .map(|((operator, subtask), (attempt, m))| OperatorSample {
                operator: operator.clone(),
                subtask: *subtask,
                attempt: *attempt,
                records_in: m.num_records_in.get(),
                records_out: m.num_records_out.get(),
            })
            .collect()
    }

    /// Merges a sample reported by the TaskManager that ran the subtask: a newer
    /// attempt replaces the registered values, the same attempt raises them (counters
    /// only grow within an attempt, so a report overtaken by a newer one changes
    /// nothing), an older attempt is ignored. Returns whether the sample was taken.
    pub fn record(&self, sample: &OperatorSample) -> bool {
        let mut inner = self.inner.lock();
        let entry = inner.operators.entry((sample.operator.clone(), sample.subtask)).or_default();
        if sample.attempt < entry.0 {
            return false;
        }
        if sample.attempt > entry.0 {
            *entry = (sample.attempt, OperatorMetrics::default());
        }
        entry.1.num_records_in.0.fetch_max(sample.records_in, Ordering::Relaxed);
        entry.1.num_records_out.0.fetch_max(sample.records_out, Ordering::Relaxed);
        true
    }

    pub fn accumulator(&self, name: &str) -> Accumulator {
        self.inner.lock().accumulators.entry(name.to_string()).or_default().clone()
    }

    /// Per operator name: (numRecordsIn, numRecordsOut) summed over subtasks.
    pub fn operator_totals(&self) -> BTreeMap<String, (u64, u64)> {
        let mut totals: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for ((name, _), (_, m)) in &self.inner.lock().operators {
            let t = totals.entry(name.clone()).or_default();
            t.0 += m.num_records_in.get();
            t.1 += m.num_records_out.get();
        }
        totals
    }

    /// Every accumulator's value: what is counted here plus what each other process
    /// reported last.
    pub fn accumulator_values(&self) -> BTreeMap<String, i64> {
        let inner = self.inner.lock();
        let mut values: BTreeMap<String, i64> = inner.accumulators.iter().map(|(k, v)| (k.clone(), v.get())).collect();
        for (name, value) in inner.reported_accumulators.values().flatten() {
            *values.entry(name.clone()).or_default() += value;
        }
        values
    }

    /// The accumulators counted in this process only.
    pub fn local_accumulator_values(&self) -> BTreeMap<String, i64> {
        self.inner.lock().accumulators.iter().map(|(k, v)| (k.clone(), v.get())).collect()
    }

    /// Records the values of every accumulator process `source` counted (absolute:
    /// they replace what it reported before).
    pub fn record_accumulators(&self, source: &str, values: BTreeMap<String, i64>) {
        self.inner.lock().reported_accumulators.insert(source.to_string(), values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(operator: &str, subtask: usize, attempt: u32, records_in: u64, records_out: u64) -> OperatorSample {
        OperatorSample { operator: operator.into(), subtask, attempt, records_in, records_out }
    }

    fn values(registry: &MetricRegistry, operator: &str, subtask: usize) -> (u64, u64) {
        let m = registry.operator(operator, subtask);
        (m.num_records_in.get(), m.num_records_out.get())
    }

    #[test]
    fn a_new_attempt_counts_from_zero_and_the_old_attempt_counts_into_detached_counters() {
        let registry = MetricRegistry::default();
        let first = registry.operator_for_attempt("Map", 0, 0);
        first.num_records_in.add(7);
        first.num_records_out.add(5);
        assert_eq!(registry.operator_for_attempt("Map", 0, 0).num_records_in.get(), 7, "the same attempt shares them");
        let second = registry.operator_for_attempt("Map", 0, 1);
        assert_eq!(values(&registry, "Map", 0), (0, 0));
        first.num_records_in.add(100);
        second.num_records_in.add(3);
        assert_eq!(values(&registry, "Map", 0), (3, 0));
        let late = registry.operator_for_attempt("Map", 0, 0);
        late.num_records_in.add(1000);
        assert_eq!(values(&registry, "Map", 0), (3, 0));
        assert_eq!(registry.operator_totals()["Map"], (3, 0));
    }

    #[test]
    fn reports_of_the_same_attempt_raise_a_newer_attempt_replaces_and_an_older_one_is_ignored() {
        let registry = MetricRegistry::default();
        assert!(registry.record(&sample("Counter", 1, 0, 10, 4)));
        assert!(registry.record(&sample("Counter", 1, 0, 25, 9)));
        assert_eq!(values(&registry, "Counter", 1), (25, 9));
        // A report overtaken by a newer one of the same attempt changes nothing.
        assert!(registry.record(&sample("Counter", 1, 0, 20, 7)));
        assert_eq!(values(&registry, "Counter", 1), (25, 9));
        // The restarted attempt's values replace the failed attempt's, not add to them.
        assert!(registry.record(&sample("Counter", 1, 2, 3, 1)));
        assert_eq!(values(&registry, "Counter", 1), (3, 1));
        // A late report of the failed attempt is ignored.
        assert!(!registry.record(&sample("Counter", 1, 0, 40, 12)));
        assert!(!registry.record(&sample("Counter", 1, 1, 40, 12)));
        assert_eq!(values(&registry, "Counter", 1), (3, 1));
        assert!(registry.record(&sample("Counter", 0, 2, 8, 8)));
        assert_eq!(registry.operator_totals()["Counter"], (11, 9));
        assert_eq!(
            registry.samples(),
            vec![sample("Counter", 0, 2, 8, 8), sample("Counter", 1, 2, 3, 1)],
            "ordered by operator and subtask"
        );
    }

    #[test]
    fn accumulators_add_what_each_process_reported_last_to_what_is_counted_here() {
        let registry = MetricRegistry::default();
        registry.accumulator("malformed-lines").add(2);
        let values = |pairs: &[(&str, i64)]| pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        registry.record_accumulators("tm-1", values(&[("malformed-lines", 5)]));
        registry.record_accumulators("tm-2", values(&[("malformed-lines", 1), ("late", 3)]));
        registry.record_accumulators("tm-1", values(&[("malformed-lines", 7)]));
        assert_eq!(registry.accumulator_values(), values(&[("late", 3), ("malformed-lines", 10)]));
        assert_eq!(registry.local_accumulator_values(), values(&[("malformed-lines", 2)]));
    }

    #[test]
    fn a_reader_before_the_first_report_sees_zero_and_does_not_hide_the_report() {
        let registry = MetricRegistry::default();
        assert_eq!(values(&registry, "Sink", 0), (0, 0));
        assert!(registry.record(&sample("Sink", 0, 0, 6, 0)));
        assert_eq!(values(&registry, "Sink", 0), (6, 0));
    }
}
