//! `GET /jobs/:jobid/vertices/:vertexid`: a vertex's subtasks with their state,
//! attempt, TaskManager and record counts, in Flink 2.3's shape (`JobVertexDetailsInfo`).

use crate::shapes::now_ms;
use brook_cluster::dispatcher::JobEntry;
use brook_cluster::jobmaster::VertexSnapshot;
use brook_cluster::resource_manager::TaskManagerSnapshot;
use brook_runtime::graph::JobVertex;
use brook_types::TaskManagerId;
use serde_json::{Map, Value, json};

/// The subtask states Flink reports durations of.
const STATUS_DURATIONS: [&str; 5] = ["CREATED", "SCHEDULED", "DEPLOYING", "INITIALIZING", "RUNNING"];

/// Per subtask of `vertex`: (records read by the chain's head, records written by its tail).
pub fn subtask_records(entry: &JobEntry, vertex: &JobVertex) -> Vec<(u64, u64)> {
    let metrics = &entry.handle.metrics;
    let head = vertex.operators.first().map(|o| o.name.as_str());
    let tail = vertex.operators.last().map(|o| o.name.as_str());
    (0..vertex.parallelism)
        .map(|i| {
            let read = head.map_or(0, |n| metrics.operator(n, i).num_records_in.get());
            let written = tail.map_or(0, |n| metrics.operator(n, i).num_records_out.get());
            (read, written)
        })
        .collect()
}

/// Where a subtask runs, as Flink's `endpoint` (`host:dataPort`) and `taskmanager-id`.
fn location(tm: Option<TaskManagerId>, task_managers: &[TaskManagerSnapshot]) -> (String, String) {
    let Some(id) = tm else { return ("(unassigned)".into(), "(unassigned)".into()) };
    let details = task_managers.iter().find(|t| t.id == id).map(|t| &t.details);
    let host = details
        .and_then(|d| d.address.as_deref())
        .map_or("localhost", |a| a.rsplit_once(':').map_or(a, |(h, _)| h))
        .to_string();
    let endpoint = match details.and_then(|d| d.data_port) {
        Some(port) => format!("{host}:{port}"),
        None => host,
    };
    (endpoint, id.to_string())
}

/// Flink's per-metric aggregate over subtasks.
fn aggregate(values: &[i64]) -> Value {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    let pick = |q: f64| if n == 0 { 0 } else { sorted[((q * n as f64).ceil() as usize).clamp(1, n) - 1] };
    let sum: i64 = sorted.iter().sum();
    json!({
        "min": sorted.first().copied().unwrap_or(0),
        "max": sorted.last().copied().unwrap_or(0),
        "avg": if n == 0 { 0 } else { sum / n as i64 },
        "sum": sum,
        "median": pick(0.5),
        "p25": pick(0.25),
        "p75": pick(0.75),
        "p95": pick(0.95),
    })
}

/// The vertex's details.
pub fn vertex_details(
    entry: &JobEntry,
    vertex: &JobVertex,
    snap: &VertexSnapshot,
    job_start_ms: i64,
    job_end_ms: i64,
    attempt: u32,
    task_managers: &[TaskManagerSnapshot],
) -> Value {
    let now = now_ms();
    let end_or_now = if job_end_ms >= 0 { job_end_ms } else { now };
    let complete = job_end_ms >= 0;
    let records = subtask_records(entry, vertex);
    let subtasks: Vec<Value> = snap
        .subtask_states
        .iter()
        .enumerate()
        .map(|(i, state)| {
            let (endpoint, tm_id) = location(snap.subtask_locations.get(i).copied().flatten(), task_managers);
            let (read, written) = records.get(i).copied().unwrap_or_default();
            let end = if state.is_terminal() { end_or_now } else { -1 };
            let durations: Map<String, Value> = STATUS_DURATIONS.iter().map(|s| (s.to_string(), json!(0))).collect();
            json!({
                "subtask": i,
                "status": state.name(),
                "attempt": attempt,
                "endpoint": endpoint,
                "start-time": job_start_ms,
                "end-time": end,
                "duration": end_or_now - job_start_ms,
                "metrics": {
                    "read-bytes": 0,
                    "read-bytes-complete": complete,
                    "write-bytes": 0,
                    "write-bytes-complete": complete,
                    "read-records": read,
                    "read-records-complete": complete,
                    "write-records": written,
                    "write-records-complete": complete,
                    "accumulated-backpressured-time": 0,
                    "accumulated-idle-time": 0,
                    "accumulated-busy-time": "NaN",
                },
                "taskmanager-id": tm_id,
                "status-duration": durations,
                "start_time": job_start_ms,
            })
        })
        .collect();
    let column = |f: fn(&(u64, u64)) -> u64| -> Vec<i64> { records.iter().map(|r| f(r) as i64).collect() };
    let zeros = vec![0i64; records.len()];
    let unknown = vec![-1i64; records.len()];
    let status_duration: Map<String, Value> =
        STATUS_DURATIONS.iter().map(|s| (s.to_string(), aggregate(&zeros))).collect();
    json!({
        "id": vertex.id.to_string(),
        "name": vertex.name,
        "parallelism": vertex.parallelism,
        "maxParallelism": vertex.max_parallelism,
        "now": now,
        "subtasks": subtasks,
        "aggregated": {
            "metrics": {
                "read-records": aggregate(&column(|r| r.0)),
                "write-records": aggregate(&column(|r| r.1)),
                "read-bytes": aggregate(&zeros),
                "write-bytes": aggregate(&zeros),
                "accumulated-backpressured-time": aggregate(&zeros),
                "accumulated-idle-time": aggregate(&zeros),
                "accumulated-busy-time": aggregate(&unknown),
            },
            "status-duration": status_duration,
        },
    })
}
