//! The routes and their handlers (docs/design/rest.md lists them).

use crate::error::RestError;
use crate::operations::{OperationState, Operations, TriggerId};
use crate::shapes;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use brook_cluster::MiniCluster;
use brook_cluster::dispatcher::JobEntry;
use brook_types::config::Configuration;
use brook_types::{JobId, VertexId};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// What every handler reads.
#[derive(Clone)]
pub struct AppState {
    pub cluster: MiniCluster,
    pub operations: Operations,
    /// Checkpoints triggered through `POST /jobs/:jobid/checkpoints`; a completed one's
    /// result is its id.
    pub checkpoint_operations: Operations,
    /// The cluster's configuration (`/jobmanager/config`; the base of a submitted program's).
    pub config: Arc<Configuration>,
    /// Where the server listens.
    pub address: SocketAddr,
    /// When the server started, ms since the epoch (the programs' `uploaded`).
    pub started_ms: i64,
}

pub type Answer = Result<Response, RestError>;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/config", get(config))
        .route("/overview", get(overview))
        .route("/jobs", get(jobs))
        .route("/jobs/overview", get(jobs_overview))
        .route("/jobs/{jobid}", get(job).patch(patch_job))
        .route("/jobs/{jobid}/status", get(job_status))
        .route("/jobs/{jobid}/plan", get(job_plan))
        .route("/jobs/{jobid}/config", get(job_config))
        .route("/jobs/{jobid}/accumulators", get(job_accumulators))
        .route("/jobs/{jobid}/exceptions", get(job_exceptions))
        .route("/jobs/{jobid}/vertices/{vertexid}", get(job_vertex))
        .route("/jobs/{jobid}/checkpoints", get(job_checkpoints).post(trigger_checkpoint))
        .route("/jobs/{jobid}/checkpoints/config", get(checkpoint_config))
        .route("/jobs/{jobid}/checkpoints/{triggerid}", get(checkpoint_status))
        .route("/jobs/{jobid}/savepoints", post(trigger_savepoint))
        .route("/jobs/{jobid}/savepoints/{triggerid}", get(savepoint_status))
        .route("/jobs/{jobid}/stop", post(stop_with_savepoint))
        .route("/jars", get(crate::jars::list))
        .route("/jars/{jarid}/run", post(crate::jars::run))
        .route("/taskmanagers", get(task_managers))
        .route("/taskmanagers/{taskmanagerid}", get(task_manager))
        .route("/jobmanager/config", get(jobmanager_config))
        .fallback(unknown_route)
        .method_not_allowed_fallback(unknown_route)
        .with_state(state)
}

async fn unknown_route(uri: Uri) -> RestError {
    RestError::unknown_route(uri.path())
}

pub fn ok(body: Value) -> Answer {
    Ok(Json(body).into_response())
}

/// The job named by a path parameter: 400 if it is not a job id, 404 if unknown.
fn find_job(state: &AppState, id: &str) -> Result<(JobId, Arc<JobEntry>), RestError> {
    let job_id: JobId = id.parse().map_err(|_| {
        RestError::bad_request(format!(
            "Bad request, could not parse parameters: Cannot resolve path parameter (jobid) from value \"{id}\"."
        ))
    })?;
    let entry = state
        .cluster
        .dispatcher()
        .job(job_id)
        .ok_or_else(|| RestError::not_found(format!("Job {job_id} not found")))?;
    Ok((job_id, entry))
}

async fn config() -> Answer {
    ok(json!({
        "refresh-interval": 3000,
        "timezone-name": "Coordinated Universal Time",
        "timezone-offset": 0,
        "flink-version": crate::VERSION,
        "flink-revision": format!("brook {}", crate::VERSION),
        "features": {
            "web-submit": false,
            "web-cancel": true,
            "web-rescale": false,
            "web-history": false,
        },
    }))
}

async fn overview(State(state): State<AppState>) -> Answer {
    let c = &state.cluster;
    ok(shapes::cluster_overview(&c.dispatcher().jobs(), c.num_task_managers(), c.total_slots(), c.free_slots()))
}

async fn jobs(State(state): State<AppState>) -> Answer {
    let jobs: Vec<Value> =
        state.cluster.dispatcher().jobs().iter().map(|j| shapes::job_id_and_status(&j.handle.snapshot())).collect();
    ok(json!({ "jobs": jobs }))
}

async fn jobs_overview(State(state): State<AppState>) -> Answer {
    let jobs: Vec<Value> = state.cluster.dispatcher().jobs().iter().map(|j| shapes::job_overview(j)).collect();
    ok(json!({ "jobs": jobs }))
}

async fn job(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let (_, entry) = find_job(&state, &id)?;
    ok(shapes::job_details(&entry))
}

async fn job_status(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let (_, entry) = find_job(&state, &id)?;
    ok(json!({ "status": entry.handle.status().name() }))
}

async fn job_plan(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let (_, entry) = find_job(&state, &id)?;
    ok(json!({ "plan": crate::plan::plan(&entry.handle.job) }))
}

async fn job_config(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let (_, entry) = find_job(&state, &id)?;
    ok(crate::job_config::job_config(&entry))
}

async fn checkpoint_config(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let (job_id, entry) = find_job(&state, &id)?;
    match crate::job_config::checkpoint_config(&entry) {
        Ok(Some(body)) => ok(body),
        Ok(None) => Err(RestError::not_found(format!("Checkpointing is not enabled for this job ({job_id})."))),
        Err(e) => Err(RestError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("The checkpointing configuration of job {job_id} is invalid: {e}"),
        }),
    }
}

async fn job_accumulators(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let (_, entry) = find_job(&state, &id)?;
    ok(crate::job_config::accumulators(&entry))
}

async fn job_exceptions(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let (_, entry) = find_job(&state, &id)?;
    ok(crate::plan::exceptions(&entry.handle.snapshot()))
}

async fn job_vertex(State(state): State<AppState>, Path((id, vertex)): Path<(String, String)>) -> Answer {
    let (_, entry) = find_job(&state, &id)?;
    let vertex_id: VertexId = vertex.parse().map_err(|_| {
        RestError::bad_request(format!(
            "Bad request, could not parse parameters: Cannot resolve path parameter (vertexid) from value \"{vertex}\"."
        ))
    })?;
    let no_such = || RestError::not_found(format!("No vertex with ID '{vertex_id}' exists in job {id}."));
    let graph_vertex = entry.handle.job.vertices.iter().find(|v| v.id == vertex_id).ok_or_else(no_such)?;
    let snap = entry.handle.snapshot();
    let vertex_snap = snap.vertices.iter().find(|v| v.id == vertex_id).ok_or_else(no_such)?;
    let end =
        if snap.status.is_globally_terminal() { snap.start_time_ms + snap.duration.as_millis() as i64 } else { -1 };
    ok(crate::vertices::vertex_details(
        &entry,
        graph_vertex,
        vertex_snap,
        snap.start_time_ms,
        end,
        snap.restarts,
        &state.cluster.task_managers(),
    ))
}

async fn task_managers(State(state): State<AppState>) -> Answer {
    let assigned = crate::taskmanagers::assigned_tasks(&state.cluster.dispatcher().jobs());
    let tms: Vec<Value> =
        state.cluster.task_managers().iter().map(|tm| crate::taskmanagers::task_manager(tm, &assigned)).collect();
    ok(json!({ "taskmanagers": tms }))
}

async fn task_manager(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let tms = state.cluster.task_managers();
    let tm = tms
        .iter()
        .find(|tm| tm.id.to_string() == id)
        .ok_or_else(|| RestError::not_found(format!("Could not find TaskExecutor {id}.")))?;
    let assigned = crate::taskmanagers::assigned_tasks(&state.cluster.dispatcher().jobs());
    ok(crate::taskmanagers::task_manager_details(tm, &assigned))
}

/// `GET /jobmanager/config`: every option set on the cluster, `[{key, value}]`,
/// sensitive values hidden.
async fn jobmanager_config(State(state): State<AppState>) -> Answer {
    let entries: Vec<Value> = state.config.entries().map(|(k, v)| json!({ "key": k, "value": v })).collect();
    ok(Value::Array(entries))
}

async fn job_checkpoints(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let (job_id, entry) = find_job(&state, &id)?;
    ok(shapes::checkpoints(&entry.handle.snapshot(), state.operations.latest_savepoint(job_id).as_deref()))
}

/// `PATCH /jobs/:jobid?mode=cancel`: 202 `{}`; the job cancels asynchronously.
async fn patch_job(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let (job_id, entry) = find_job(&state, &id)?;
    match query.get("mode").map(String::as_str) {
        None | Some("cancel") => {}
        Some(other) => {
            return Err(RestError::bad_request(format!(
                "Bad request, could not parse parameters: Cannot resolve query parameter (mode) from value \"{other}\"; \
                 the only termination mode is \"cancel\" (stop a job with POST /jobs/{job_id}/stop)."
            )));
        }
    }
    if !entry.handle.status().is_globally_terminal() {
        let _ = entry.control.send(brook_cluster::jobmaster::JobControl::Cancel);
    }
    Ok((StatusCode::ACCEPTED, Json(json!({}))).into_response())
}

/// `POST /jobs/:jobid/savepoints` body (Flink's `SavepointTriggerRequestBody`).
#[derive(Deserialize, Default)]
struct SavepointRequest {
    #[serde(rename = "target-directory")]
    target_directory: Option<String>,
    #[serde(rename = "cancel-job", default)]
    cancel_job: bool,
}

/// `POST /jobs/:jobid/stop` body (Flink's `StopWithSavepointRequestBody`).
#[derive(Deserialize, Default)]
struct StopRequest {
    #[serde(rename = "targetDirectory")]
    target_directory: Option<String>,
    #[serde(default)]
    drain: bool,
}

/// An empty body means every field's default, as in Flink.
fn parse_body<T: for<'de> Deserialize<'de> + Default>(body: &Bytes, what: &str) -> Result<T, RestError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| RestError::bad_request(format!("Request did not match expected format {what}: {e}.")))
}

fn client(state: &AppState, job_id: JobId) -> Result<brook_cluster::JobClient, RestError> {
    state
        .cluster
        .dispatcher()
        .client(job_id, Arc::new(()))
        .ok_or_else(|| RestError::not_found(format!("Job {job_id} not found")))
}

fn accepted(trigger: TriggerId) -> Answer {
    Ok((StatusCode::ACCEPTED, Json(json!({ "request-id": trigger.to_string() }))).into_response())
}

async fn trigger_savepoint(State(state): State<AppState>, Path(id): Path<String>, body: Bytes) -> Answer {
    let (job_id, _) = find_job(&state, &id)?;
    let request: SavepointRequest = parse_body(&body, "SavepointTriggerRequestBody")?;
    let result = client(&state, job_id)?.trigger_savepoint(request.target_directory, request.cancel_job);
    accepted(state.operations.start(state.cluster.runtime(), job_id, result))
}

async fn stop_with_savepoint(State(state): State<AppState>, Path(id): Path<String>, body: Bytes) -> Answer {
    let (job_id, _) = find_job(&state, &id)?;
    let request: StopRequest = parse_body(&body, "StopWithSavepointRequestBody")?;
    let result = client(&state, job_id)?.stop_with_savepoint(request.drain, request.target_directory);
    accepted(state.operations.start(state.cluster.runtime(), job_id, result))
}

/// `POST /jobs/:jobid/checkpoints` body (Flink's `CheckpointTriggerRequestBody`).
#[derive(Deserialize, Default)]
struct CheckpointRequest {
    #[serde(rename = "checkpointType", default)]
    checkpoint_type: Option<String>,
}

/// `POST /jobs/:jobid/checkpoints`: 202 `{"request-id"}`; the checkpoint is triggered at once.
async fn trigger_checkpoint(State(state): State<AppState>, Path(id): Path<String>, body: Bytes) -> Answer {
    let (job_id, _) = find_job(&state, &id)?;
    let request: CheckpointRequest = parse_body(&body, "CheckpointTriggerRequestBody")?;
    match request.checkpoint_type.as_deref() {
        None | Some("CONFIGURED" | "FULL") => {}
        Some(other) => {
            return Err(RestError::bad_request(format!(
                "Request did not match expected format CheckpointTriggerRequestBody: checkpointType \"{other}\" is not \
                 supported; use CONFIGURED or FULL (Brook's checkpoints are as configured)."
            )));
        }
    }
    let result = client(&state, job_id)?.trigger_checkpoint();
    let result = async move { result.await.map(|id| id.0.to_string()) };
    accepted(state.checkpoint_operations.start(state.cluster.runtime(), job_id, result))
}

/// `GET /jobs/:jobid/checkpoints/:triggerid`.
async fn checkpoint_status(State(state): State<AppState>, Path((id, trigger)): Path<(String, String)>) -> Answer {
    let (job_id, _) = find_job(&state, &id)?;
    let no_such =
        || RestError::not_found(format!("There is no checkpoint operation with triggerId={trigger} for job {job_id}."));
    let trigger_id: TriggerId = trigger.parse().map_err(|_| no_such())?;
    let body = match state.checkpoint_operations.fetch(job_id, trigger_id).ok_or_else(no_such)? {
        OperationState::InProgress => json!({ "status": { "id": "IN_PROGRESS" } }),
        OperationState::Completed(checkpoint) => {
            let checkpoint_id: u64 = checkpoint.parse().unwrap_or_default();
            json!({ "status": { "id": "COMPLETED" }, "operation": { "checkpointId": checkpoint_id } })
        }
        OperationState::Failed(cause) => json!({
            "status": { "id": "COMPLETED" },
            "operation": { "failure-cause": { "class": "BrookError", "stack-trace": cause } },
        }),
    };
    ok(body)
}

/// `GET /jobs/:jobid/savepoints/:triggerid`, for savepoints and stop-with-savepoint alike.
async fn savepoint_status(State(state): State<AppState>, Path((id, trigger)): Path<(String, String)>) -> Answer {
    let (job_id, _) = find_job(&state, &id)?;
    let no_such =
        || RestError::not_found(format!("There is no savepoint operation with triggerId={trigger} for job {job_id}."));
    let trigger_id: TriggerId = trigger.parse().map_err(|_| no_such())?;
    let body = match state.operations.fetch(job_id, trigger_id).ok_or_else(no_such)? {
        OperationState::InProgress => json!({ "status": { "id": "IN_PROGRESS" } }),
        OperationState::Completed(location) => {
            json!({ "status": { "id": "COMPLETED" }, "operation": { "location": location } })
        }
        OperationState::Failed(cause) => json!({
            "status": { "id": "COMPLETED" },
            "operation": { "failure-cause": { "class": "BrookError", "stack-trace": cause } },
        }),
    };
    ok(body)
}
