//! Task metrics over the control plane: a TaskManager process reports the values
//! of its subtasks' counters (`TaskMetrics`); the JobManager merges them into the
//! job's [`MetricRegistry`], which the REST API reads as for in-process tasks.
//! The merge rules (per attempt) are [`MetricRegistry::record`]'s.

use super::proto;
use brook_runtime::graph::JobGraph;
use brook_runtime::metrics::{MetricRegistry, OperatorSample};
use brook_types::{JobId, VertexId};
use std::collections::HashMap;

/// The message carrying `samples` of `job`'s subtasks.
pub(super) fn message(job: JobId, samples: Vec<OperatorSample>) -> proto::TaskMetrics {
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
    }
}

/// Merges a TaskManager's report into `metrics`; answers how many samples were
/// taken (samples of attempts older than the registered ones are not).
pub(super) fn merge(report: &proto::TaskMetrics, metrics: &MetricRegistry) -> usize {
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

/// The samples of one attempt of one subtask: the operators of its chain.
pub(super) fn task_samples(
    metrics: &MetricRegistry,
    job: &JobGraph,
    vertex: VertexId,
    subtask: usize,
    attempt: u32,
) -> Vec<OperatorSample> {
    let Some(v) = job.vertices.iter().find(|v| v.id == vertex) else { return Vec::new() };
    metrics
        .samples()
        .into_iter()
        .filter(|s| s.subtask == subtask && s.attempt == attempt && v.operators.iter().any(|o| o.name == s.operator))
        .collect()
}

/// What a TaskManager last reported of each job, to report only what changed.
#[derive(Default)]
pub(super) struct Reported {
    /// job → (operator, subtask) → (attempt, records in, records out)
    jobs: HashMap<JobId, HashMap<(String, usize), (u32, u64, u64)>>,
}

impl Reported {
    /// The samples of `job` that changed since the last call, now recorded as reported.
    pub(super) fn changed(&mut self, job: JobId, metrics: &MetricRegistry) -> Vec<OperatorSample> {
        let last = self.jobs.entry(job).or_default();
        metrics
            .samples()
            .into_iter()
            .filter(|s| {
                let now = (s.attempt, s.records_in, s.records_out);
                last.insert((s.operator.clone(), s.subtask), now) != Some(now)
            })
            .collect()
    }

    /// Forgets the jobs `keep` is false for (they ended on this TaskManager).
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&JobId) -> bool) {
        self.jobs.retain(|job, _| keep(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(operator: &str, subtask: usize, attempt: u32, records_in: u64, records_out: u64) -> OperatorSample {
        OperatorSample { operator: operator.into(), subtask, attempt, records_in, records_out }
    }

    #[test]
    fn a_task_manager_reports_what_changed_and_the_job_manager_merges_it_per_attempt() {
        let job = JobId::generate();
        let on_task_manager = MetricRegistry::default();
        let mut reported = Reported::default();
        let counter = on_task_manager.operator_for_attempt("Counter", 0, 0);
        let sink = on_task_manager.operator_for_attempt("Sink", 0, 0);
        counter.num_records_in.add(10);
        counter.num_records_out.add(10);
        assert_eq!(
            reported.changed(job, &on_task_manager),
            vec![sample("Counter", 0, 0, 10, 10), sample("Sink", 0, 0, 0, 0)]
        );
        assert_eq!(reported.changed(job, &on_task_manager), vec![], "nothing changed");
        sink.num_records_in.add(4);
        let report = message(job, reported.changed(job, &on_task_manager));
        assert_eq!(report.operators.len(), 1);

        let on_job_manager = MetricRegistry::default();
        assert_eq!(merge(&message(job, on_task_manager.samples()), &on_job_manager), 2);
        assert_eq!(on_job_manager.operator_totals(), on_task_manager.operator_totals());

        // The subtask fails over (on another TaskManager): attempt 1 starts from zero.
        let again = MetricRegistry::default();
        again.operator_for_attempt("Counter", 0, 1).num_records_in.add(2);
        assert_eq!(merge(&message(job, again.samples()), &on_job_manager), 1);
        // The old TaskManager's late report of attempt 0 is not taken.
        counter.num_records_in.add(5);
        assert_eq!(merge(&message(job, reported.changed(job, &on_task_manager)), &on_job_manager), 0);
        let totals = on_job_manager.operator_totals();
        assert_eq!((totals["Counter"], totals["Sink"]), ((2, 0), (4, 0)));
        reported.retain(|_| false);
        assert_eq!(reported.changed(job, &on_task_manager).len(), 2, "a forgotten job is reported whole");
    }
}
