//! `GET /jobs/:jobid/plan` and `/jobs/:jobid/exceptions`: the JobGraph and the
//! failures of a job, in Flink 2.3's shapes.

use brook_cluster::jobmaster::JobSnapshot;
use brook_runtime::graph::{JobGraph, JobVertex};
use serde_json::{Value, json};

/// A chain's description as Flink writes it: the head, then each chained operator
/// one level deeper (`A<br/>+- B<br/>   +- C<br/>`).
fn description(vertex: &JobVertex) -> String {
    let mut text = String::new();
    for (depth, op) in vertex.operators.iter().enumerate() {
        if depth > 0 {
            text.push_str(&" ".repeat(3 * (depth - 1)));
            text.push_str("+- ");
        }
        text.push_str(&op.name);
        text.push_str("<br/>");
    }
    text
}

/// The `plan` object (Flink's `JobPlanInfo.RawJson`): one node per JobVertex, its
/// inputs with their ship strategy; a source has no `inputs`.
pub fn plan(job: &JobGraph) -> Value {
    let nodes: Vec<Value> = job
        .vertices
        .iter()
        .map(|v| {
            let inputs: Vec<Value> = job
                .edges
                .iter()
                .filter(|e| e.target_vertex == v.id)
                .map(|e| {
                    json!({
                        "id": e.source_vertex.to_string(),
                        "num": e.input,
                        "exchange": "pipelined_bounded",
                        "ship_strategy": e.strategy.name(),
                    })
                })
                .collect();
            let mut node = json!({
                "id": v.id.to_string(),
                "operator": "",
                "parallelism": v.parallelism,
                "operator_strategy": "",
                "description": description(v),
                "optimizer_properties": {},
            });
            if !inputs.is_empty() {
                node["inputs"] = Value::Array(inputs);
            }
            node
        })
        .collect();
    json!({
        "jid": job.job_id.to_string(),
        "name": job.job_name,
        "type": if job.batch { "BATCH" } else { "STREAMING" },
        "nodes": nodes,
    })
}

/// `GET /jobs/:jobid/exceptions`: Flink 2.3's `exceptionHistory`, newest first. The
/// newest entry is the root cause of the job's current failure (or of its last
/// restart); Brook records failures of the job, not of a single task, so the task
/// fields are null.
pub fn exceptions(snap: &JobSnapshot) -> Value {
    let entries: Vec<Value> = snap
        .failures
        .iter()
        .rev()
        .map(|f| {
            json!({
                "exceptionName": "BrookError",
                "stacktrace": f.cause,
                "timestamp": f.timestamp_ms,
                "taskName": null,
                "endpoint": null,
                "taskManagerId": null,
                "failureLabels": {},
                "concurrentExceptions": [],
            })
        })
        .collect();
    json!({
        "exceptionHistory": {
            // The JobHandle keeps the latest MAX_FAILURES (one per restart, one final).
            "truncated": snap.restarts as usize + usize::from(snap.failure_cause.is_some()) > snap.failures.len(),
            "entries": entries,
        }
    })
}
