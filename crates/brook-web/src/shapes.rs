//! The JSON bodies of the job routes, in Flink 2.3's shapes (field names, nesting,
//! upper-case states) as far as Brook has the data; docs/design/rest.md lists what
//! is left out.

use brook_cluster::JobStatus;
use brook_cluster::dispatcher::JobEntry;
use brook_cluster::jobmaster::{JobSnapshot, VertexSnapshot};
use brook_runtime::task::ExecutionState;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// Every subtask state Flink counts, in its order (`RECONCILING` never occurs in Brook).
const TASK_STATES: [&str; 10] = [
    "SCHEDULED",
    "CANCELING",
    "RUNNING",
    "CREATED",
    "INITIALIZING",
    "FAILED",
    "RECONCILING",
    "FINISHED",
    "DEPLOYING",
    "CANCELED",
];

/// Every job state, in the order of Flink's `timestamps`.
const JOB_STATES: [&str; 11] = [
    "RECONCILING",
    "CREATED",
    "CANCELLING",
    "CANCELED",
    "INITIALIZING",
    "SUSPENDED",
    "RUNNING",
    "RESTARTING",
    "FAILING",
    "FINISHED",
    "FAILED",
];

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// When the job ended (start + duration), or -1 while it runs.
fn end_time(snap: &JobSnapshot) -> i64 {
    if snap.status.is_globally_terminal() { snap.start_time_ms + snap.duration.as_millis() as i64 } else { -1 }
}

fn job_type(entry: &JobEntry) -> &'static str {
    if entry.handle.job.batch { "BATCH" } else { "STREAMING" }
}

/// Subtasks per state, upper-case keys, every state present.
fn state_counts<'a>(states: impl Iterator<Item = &'a ExecutionState>) -> BTreeMap<&'static str, usize> {
    let mut counts: BTreeMap<&'static str, usize> = TASK_STATES.iter().map(|s| (*s, 0)).collect();
    for state in states {
        *counts.entry(state.name()).or_default() += 1;
    }
    counts
}

fn ordered(counts: &BTreeMap<&'static str, usize>, lower: bool) -> Value {
    let mut map = Map::new();
    for state in TASK_STATES {
        let key = if lower { state.to_ascii_lowercase() } else { state.to_string() };
        map.insert(key, json!(counts[state]));
    }
    Value::Object(map)
}

/// A vertex's state from its subtasks' (Flink's `ExecutionJobVertex#getAggregateJobVertexState`).
pub(crate) fn vertex_status(vertex: &VertexSnapshot) -> &'static str {
    let count = |s: ExecutionState| vertex.subtask_states.iter().filter(|&&x| x == s).count();
    use ExecutionState::*;
    if count(Failed) > 0 {
        "FAILED"
    } else if count(Canceling) > 0 {
        "CANCELING"
    } else if count(Canceled) > 0 {
        "CANCELED"
    } else if count(Initializing) > 0 {
        "INITIALIZING"
    } else if count(Running) > 0 {
        "RUNNING"
    } else if count(Finished) > 0 {
        if count(Finished) == vertex.subtask_states.len() { "FINISHED" } else { "RUNNING" }
    } else if count(Deploying) > 0 {
        "DEPLOYING"
    } else if count(Scheduled) > 0 {
        "SCHEDULED"
    } else {
        "CREATED"
    }
}

/// `GET /jobs` entry.
pub fn job_id_and_status(snap: &JobSnapshot) -> Value {
    json!({ "id": snap.job_id.to_string(), "status": snap.status.name() })
}

/// `GET /jobs/overview` entry.
pub fn job_overview(entry: &JobEntry) -> Value {
    let snap = entry.handle.snapshot();
    let counts = state_counts(snap.vertices.iter().flat_map(|v| v.subtask_states.iter()));
    let mut tasks = ordered(&counts, true);
    let total: usize = counts.values().sum();
    tasks["total"] = json!(total);
    let end = end_time(&snap);
    json!({
        "jid": snap.job_id.to_string(),
        "name": snap.name,
        "jobType": job_type(entry),
        "schedulerType": "Default",
        "start-time": snap.start_time_ms,
        "end-time": end,
        "duration": snap.duration.as_millis() as i64,
        "state": snap.status.name(),
        "last-modification": if end >= 0 { end } else { snap.start_time_ms },
        "tasks": tasks,
        "pending-operators": 0,
    })
}

/// `GET /jobs/:jobid` (job-running.json's shape without `plan`).
pub fn job_details(entry: &JobEntry) -> Value {
    let snap = entry.handle.snapshot();
    let end = end_time(&snap);
    let duration = snap.duration.as_millis() as i64;
    let mut timestamps = Map::new();
    for state in JOB_STATES {
        // Brook records when the job was submitted and when it ended, not every
        // transition: INITIALIZING and CREATED carry the submission, the terminal
        // state its end; the others are 0 ("not reached"), as in Flink.
        let at = match state {
            "INITIALIZING" | "CREATED" => snap.start_time_ms,
            s if s == snap.status.name() && end >= 0 => end,
            _ => 0,
        };
        timestamps.insert(state.to_string(), json!(at));
    }
    let totals = entry.handle.metrics.operator_totals();
    let complete = snap.status.is_globally_terminal();
    let graph_vertices = &entry.handle.job.vertices;
    let vertices: Vec<Value> = snap
        .vertices
        .iter()
        .map(|v| {
            let graph_vertex = graph_vertices.iter().find(|g| g.id == v.id);
            let group = graph_vertex.map_or("default", |g| g.slot_sharing_group.as_str());
            let max_parallelism = graph_vertex.map_or(-1, |g| g.max_parallelism as i64);
            let head = graph_vertex.and_then(|g| g.operators.first()).map(|o| o.name.as_str());
            let tail = graph_vertex.and_then(|g| g.operators.last()).map(|o| o.name.as_str());
            let read = head.and_then(|n| totals.get(n)).map_or(0, |t| t.0);
            let written = tail.and_then(|n| totals.get(n)).map_or(0, |t| t.1);
            json!({
                "id": v.id.to_string(),
                "slotSharingGroupId": slot_sharing_group_id(group),
                "name": v.name,
                "maxParallelism": max_parallelism,
                "parallelism": v.parallelism,
                "status": vertex_status(v),
                "start-time": snap.start_time_ms,
                "end-time": end,
                "duration": duration,
                "tasks": ordered(&state_counts(v.subtask_states.iter()), false),
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
                    "accumulated-busy-time": 0,
                },
            })
        })
        .collect();
    let status_counts: BTreeMap<&'static str, usize> = {
        let mut counts: BTreeMap<&'static str, usize> = TASK_STATES.iter().map(|s| (*s, 0)).collect();
        for v in &snap.vertices {
            *counts.entry(vertex_status(v)).or_default() += 1;
        }
        counts
    };
    json!({
        "jid": snap.job_id.to_string(),
        "application-id": snap.job_id.to_string(),
        "name": snap.name,
        "isStoppable": false,
        "state": snap.status.name(),
        "job-type": job_type(entry),
        "schedulerType": "Default",
        "start-time": snap.start_time_ms,
        "end-time": end,
        "duration": duration,
        "maxParallelism": -1,
        "now": now_ms(),
        "timestamps": timestamps,
        "vertices": vertices,
        "status-counts": ordered(&status_counts, false),
        "plan": crate::plan::plan(&entry.handle.job),
        "pending-operators": 0,
    })
}

/// A slot sharing group's id: 32 hex digits derived from its name (FNV-1a, stable
/// across processes), as Flink shows its `SlotSharingGroupId`.
pub fn slot_sharing_group_id(name: &str) -> String {
    let fnv = |seed: u64| name.bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    format!("{:016x}{:016x}", fnv(0xcbf2_9ce4_8422_2325), fnv(0x6c62_272e_07bb_0142))
}

/// `GET /jobs/:jobid/checkpoints` (job-checkpoints.json's `counts` and `latest`).
pub fn checkpoints(snap: &JobSnapshot, latest_savepoint: Option<&str>) -> Value {
    let completed = snap.latest_checkpoint.as_ref().map(|(id, path)| {
        json!({
            "className": "completed",
            "id": id.0,
            "status": "COMPLETED",
            "is_savepoint": false,
            "savepointFormat": null,
            "checkpoint_type": "CHECKPOINT",
            "external_path": path,
            "discarded": false,
        })
    });
    let savepoint = latest_savepoint.map(|path| {
        json!({
            "className": "completed",
            "status": "COMPLETED",
            "is_savepoint": true,
            "savepointFormat": "CANONICAL",
            "checkpoint_type": "SAVEPOINT",
            "external_path": path,
            "discarded": false,
        })
    });
    json!({
        "counts": {
            "restored": 0,
            "total": snap.completed_checkpoints,
            "in_progress": 0,
            "completed": snap.completed_checkpoints,
            "failed": 0,
        },
        "latest": {
            "completed": completed,
            "savepoint": savepoint,
            "failed": null,
            "restored": null,
        },
        "history": completed.clone().into_iter().collect::<Vec<_>>(),
    })
}

/// `GET /overview`.
pub fn cluster_overview(
    jobs: &[std::sync::Arc<JobEntry>],
    task_managers: usize,
    slots_total: usize,
    slots_free: usize,
) -> Value {
    let count = |s: JobStatus| jobs.iter().filter(|j| j.handle.status() == s).count();
    let running = jobs.iter().filter(|j| !j.handle.status().is_globally_terminal()).count();
    json!({
        "taskmanagers": task_managers,
        "slots-total": slots_total,
        "slots-available": slots_free,
        "jobs-running": running,
        "jobs-finished": count(JobStatus::Finished),
        "jobs-cancelled": count(JobStatus::Canceled),
        "jobs-failed": count(JobStatus::Failed),
        "flink-version": crate::VERSION,
        "flink-commit": "",
    })
}
