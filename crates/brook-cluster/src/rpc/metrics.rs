//! Task metrics over the control plane: a TaskManager process reports the values
//! of its subtasks' counters and accumulators (`TaskMetrics`); the JobManager merges
//! them into the job's [`MetricRegistry`], which the REST API reads as for
//! in-process tasks. The merge rules (per attempt) are [`MetricRegistry::record`]'s.

use super::proto::{self, task_manager_message::Message as Out};
use brook_runtime::graph::JobGraph;
use brook_runtime::metrics::{MetricRegistry, OperatorSample};
use brook_types::{JobId, VertexId};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::mpsc;

/// The message carrying `samples` (and `accumulators`) of `job`'s subtasks.
pub(super) fn message(
    job: JobId,
    samples: Vec<OperatorSample>,
    accumulators: BTreeMap<String, i64>,
) -> proto::TaskMetrics {
    proto::TaskMetrics {
        job_id: job.to_string(),
        operators: samples
            .into_iter()
            .map(|s| proto::OperatorMetrics {
                operator: s.operator,
                subtask: s.subtask as u32,
                attempt: s.attempt,
                records_in: s.records_in,
                records_out: s.records_out,
            })
            .collect(),
        accumulators: accumulators.into_iter().collect(),
    }
}

/// Merges TaskManager `source`'s report into `metrics`; answers how many samples
/// were taken (samples of attempts older than the registered ones are not).
pub(super) fn merge(source: &str, report: &proto::TaskMetrics, metrics: &MetricRegistry) -> usize {
    if !report.accumulators.is_empty() {
        metrics.record_accumulators(source, report.accumulators.iter().map(|(k, v)| (k.clone(), *v)).collect());
    }
    report
        .operators
        .iter()
        .filter(|m| {
            metrics.record(&OperatorSample {
                operator: m.operator.clone(),
                subtask: m.subtask as usize,
                attempt: m.attempt,
                records_in: m.records_in,
                records_out: m.records_out,
            })
        })
        .count()
}

/// Reports the metrics of one job's subtasks on a TaskManager to the JobManager.
/// Reads and sends happen under one lock, so reports leave in the order their
/// values were read.
pub(super) struct JobMetricsReporter {
    job: JobId,
    graph: Arc<JobGraph>,
    metrics: MetricRegistry,
    out: mpsc::UnboundedSender<proto::TaskManagerMessage>,
    reported: Mutex<Reported>,
}

/// What was reported last.
#[derive(Default)]
struct Reported {
    /// (operator, subtask) → (attempt, records in, records out)
    operators: HashMap<(String, usize), (u32, u64, u64)>,
    accumulators: BTreeMap<String, i64>,
}

impl JobMetricsReporter {
    pub(super) fn new(
        job: JobId,
        graph: Arc<JobGraph>,
        metrics: MetricRegistry,
        out: mpsc::UnboundedSender<proto::TaskManagerMessage>,
    ) -> Self {
        Self { job, graph, metrics, out, reported: Mutex::default() }
    }

    pub(super) fn metrics(&self) -> &MetricRegistry {
        &self.metrics
    }

    /// Sends the values that changed since the last report, if any did.
    pub(super) fn report_changed(&self) {
        self.report(|_| true);
    }

    /// Sends the values of one attempt of one subtask (the operators of its chain),
    /// and the accumulators if they changed.
    pub(super) fn report_task(&self, vertex: VertexId, subtask: usize, attempt: u32) {
        let Some(v) = self.graph.vertices.iter().find(|v| v.id == vertex) else { return };
        self.report(|s| {
            s.subtask == subtask && s.attempt == attempt && v.operators.iter().any(|o| o.name == s.operator)
        });
    }

    fn report(&self, select: impl Fn(&OperatorSample) -> bool) {
        let mut reported = self.reported.lock();
        let samples: Vec<OperatorSample> = self
            .metrics
            .samples()
            .into_iter()
            .filter(|s| {
                let now = (s.attempt, s.records_in, s.records_out);
                select(s) && reported.operators.insert((s.operator.clone(), s.subtask), now) != Some(now)
            })
            .collect();
        let accumulators = self.metrics.local_accumulator_values();
        let accumulators = if accumulators != reported.accumulators {
            reported.accumulators = accumulators.clone();
            accumulators
        } else {
            BTreeMap::new()
        };
        if !samples.is_empty() || !accumulators.is_empty() {
            let m = message(self.job, samples, accumulators);
            let _ = self.out.send(proto::TaskManagerMessage { message: Some(Out::TaskMetrics(m)) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(operator: &str, subtask: usize, attempt: u32, records_in: u64, records_out: u64) -> OperatorSample {
        OperatorSample { operator: operator.into(), subtask, attempt, records_in, records_out }
    }

    fn reports(rx: &mut mpsc::UnboundedReceiver<proto::TaskManagerMessage>) -> Vec<proto::TaskMetrics> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|m| match m.message {
                Some(Out::TaskMetrics(m)) => m,
                other => panic!("not TaskMetrics: {other:?}"),
            })
            .collect()
    }

    fn reporter() -> (JobMetricsReporter, mpsc::UnboundedReceiver<proto::TaskManagerMessage>) {
        let job = JobId::generate();
        let graph = Arc::new(JobGraph {
            job_id: job,
            job_name: "test".into(),
            vertices: Vec::new(),
            edges: Vec::new(),
            batch: false,
            configuration: Default::default(),
        });
        let (out, rx) = mpsc::unbounded_channel();
        (JobMetricsReporter::new(job, graph, MetricRegistry::default(), out), rx)
    }

    #[test]
    fn a_task_manager_reports_what_changed_and_the_job_manager_merges_it_per_attempt() {
        let (reporter, mut rx) = reporter();
        let on_task_manager = reporter.metrics().clone();
        let counter = on_task_manager.operator_for_attempt("Counter", 0, 0);
        let sink = on_task_manager.operator_for_attempt("Sink", 0, 0);
        counter.num_records_in.add(10);
        counter.num_records_out.add(10);
        reporter.report_changed();
        let first = reports(&mut rx);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].operators.len(), 2);
        assert!(first[0].accumulators.is_empty());
        reporter.report_changed();
        assert!(reports(&mut rx).is_empty(), "nothing changed, nothing is sent");
        sink.num_records_in.add(4);
        on_task_manager.accumulator("malformed-lines").add(3);
        reporter.report_changed();
        let second = reports(&mut rx);
        assert_eq!(second.len(), 1);
        assert_eq!(
            second[0].operators.iter().map(|o| (o.operator.as_str(), o.records_in)).collect::<Vec<_>>(),
            [("Sink", 4)]
        );
        assert_eq!(second[0].accumulators, HashMap::from([("malformed-lines".to_string(), 3)]));

        let on_job_manager = MetricRegistry::default();
        assert_eq!(merge("tm-1", &first[0], &on_job_manager), 2);
        assert_eq!(merge("tm-1", &second[0], &on_job_manager), 1);
        assert_eq!(on_job_manager.operator_totals(), on_task_manager.operator_totals());
        assert_eq!(on_job_manager.accumulator_values(), on_task_manager.accumulator_values());

        // The subtask fails over to another TaskManager: attempt 1 starts from zero.
        let again = MetricRegistry::default();
        again.operator_for_attempt("Counter", 0, 1).num_records_in.add(2);
        assert_eq!(merge("tm-2", &message(JobId(1), again.samples(), BTreeMap::new()), &on_job_manager), 1);
        // The old TaskManager's late report of attempt 0 is not taken.
        counter.num_records_in.add(5);
        reporter.report_changed();
        assert_eq!(merge("tm-1", &reports(&mut rx)[0], &on_job_manager), 0);
        let totals = on_job_manager.operator_totals();
        assert_eq!((totals["Counter"], totals["Sink"]), ((2, 0), (4, 0)));
        assert_eq!(again.samples(), vec![sample("Counter", 0, 1, 2, 0)]);
    }
}
