//! The TaskManager process's side of the control plane: registers at the
//! JobManager, builds the programs of the jobs deployed to it with its own
//! catalog, runs their subtasks on a [`TaskManager`], reports, heartbeats, and
//! registers again whenever its session ends (protocol in [`super`]).

use super::proto::job_manager_gateway_client::JobManagerGatewayClient;
use super::proto::{self, job_manager_message::Message as In, task_manager_message::Message as Out};
use super::{HeartbeatSettings, from_json, metrics, parse_id, to_json};
use crate::jobmaster::{CheckpointReport, TaskStateUpdate};
use crate::program::{ProgramSpec, SharedProgramCatalog};
use crate::taskmanager::TaskManager;
use brook_checkpoint::CompletedCheckpoint;
use brook_checkpoint::coordinator::{NotifyCheckpointComplete, TaskRef};
use brook_runtime::graph::{JobGraph, TaskDeploymentDescriptor};
use brook_runtime::metrics::MetricRegistry;
use brook_types::config::Configuration;
use brook_types::{BrookError, CheckpointBarrier, JobId, TaskManagerId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often a TaskManager tries to (re-)connect to its JobManager.
const RECONNECT_INTERVAL: Duration = Duration::from_millis(500);

/// Who a TaskManager process is and where its JobManager is.
#[derive(Clone, Debug)]
pub struct TaskManagerProcessConfig {
    pub id: TaskManagerId,
    /// `host:port` of the JobManager's RPC endpoint.
    pub job_manager_address: String,
    pub slots: usize,
    /// `host:port` of this TaskManager's data plane ("" if it has none).
    pub data_address: String,
    /// Until the JobManager's `Registered` says otherwise.
    pub heartbeats: HeartbeatSettings,
    /// Give up when not registered for this long (`taskmanager.registration.timeout`).
    pub registration_timeout: Duration,
}

/// A TaskManager process's connection to its JobManager.
pub struct TaskManagerProcess {
    config: TaskManagerProcessConfig,
    catalog: SharedProgramCatalog,
    task_manager: Arc<TaskManager>,
}

/// A job this TaskManager was sent: its JobGraph and where its tasks report, or why
/// it cannot run here.
type JobEntry = Result<(Arc<JobGraph>, crate::gateway::JobReports, Arc<metrics::JobMetricsReporter>), String>;

impl TaskManagerProcess {
    pub fn new(
        config: TaskManagerProcessConfig,
        catalog: SharedProgramCatalog,
        task_manager: Arc<TaskManager>,
    ) -> Self {
        Self { config, catalog, task_manager }
    }

    /// Registers and serves the JobManager, registering again after every lost
    /// session; returns an error only when the JobManager could not be reached for
    /// `registration_timeout`.
    pub async fn run(self) -> brook_types::Result<()> {
        let mut unregistered_since = Instant::now();
        let mut last_error = String::new();
        loop {
            let mut registered = false;
            match self.session(&mut registered).await {
                Ok(()) => {}
                Err(e) => {
                    if e != last_error {
                        tracing::warn!("{e}; retrying every {} ms", RECONNECT_INTERVAL.as_millis());
                    }
                    last_error = e;
                }
            }
            self.task_manager.cancel_all();
            if registered {
                unregistered_since = Instant::now();
            } else if unregistered_since.elapsed() > self.config.registration_timeout {
                return Err(BrookError::Cluster(format!(
                    "TaskManager {} could not register at the JobManager at {} for {} s ({last_error}); is `brook \
                     jobmanager` running there? Set jobmanager.rpc.address and jobmanager.rpc.port to its RPC \
                     endpoint (taskmanager.registration.timeout bounds the wait)",
                    self.config.id,
                    self.config.job_manager_address,
                    self.config.registration_timeout.as_secs()
                )));
            }
            tokio::time::sleep(RECONNECT_INTERVAL).await;
        }
    }

    /// One session: connect, register, serve until it ends; `Err` says why it ended.
    async fn session(&self, registered: &mut bool) -> Result<(), String> {
        let address = &self.config.job_manager_address;
        let endpoint = format!("http://{address}");
        let channel = tonic::transport::Endpoint::from_shared(endpoint)
            .map_err(|e| format!("'{address}' is not a JobManager address (host:port): {e}"))?
            .connect_timeout(self.config.heartbeats.timeout)
            .tcp_nodelay(true)
            .connect()
            .await
            .map_err(|e| format!("cannot reach the JobManager at {address}: {}", error_chain(&e)))?;
        let mut client = JobManagerGatewayClient::new(channel);
        let (out, out_rx) = mpsc::unbounded_channel::<proto::TaskManagerMessage>();
        let host = crate::resource_manager::TaskManagerDetails::local();
        let _ = out.send(message(Out::Register(proto::Register {
            task_manager_id: self.config.id.to_string(),
            data_address: self.config.data_address.clone(),
            slots: self.config.slots as u32,
            programs: self.catalog.programs().into_iter().map(|p| p.name).collect(),
            host: String::new(),
            cpu_cores: host.cpu_cores as u32,
            physical_memory: host.physical_memory.unwrap_or(0),
        })));
        let outbound = futures::stream::unfold(out_rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) });
        let mut inbound = client
            .session(outbound)
            .await
            .map_err(|e| format!("the JobManager at {address} refused the registration: {}", e.message()))?
            .into_inner();
        let mut heartbeats = self.config.heartbeats;
        let mut jobs: HashMap<JobId, JobEntry> = HashMap::new();
        let mut last_heard = Instant::now();
        let mut ticks = tokio::time::interval(heartbeats.interval);
        loop {
            tokio::select! {
                m = inbound.message() => match m {
                    Ok(Some(proto::JobManagerMessage { message: Some(m) })) => {
                        last_heard = Instant::now();
                        if let In::Registered(r) = &m {
                            heartbeats = HeartbeatSettings {
                                interval: Duration::from_millis(r.heartbeat_interval_ms.max(1)),
                                timeout: Duration::from_millis(r.heartbeat_timeout_ms.max(2)),
                            };
                            ticks = tokio::time::interval(heartbeats.interval);
                            *registered = true;
                            tracing::info!(task_manager = %self.config.id, "registered at the JobManager at {address}");
                            continue;
                        }
                        if let Err(e) = self.on_message(m, &mut jobs, &out) {
                            tracing::warn!(task_manager = %self.config.id, "{e}");
                        }
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => return Err(format!("the JobManager at {address} closed the session")),
                    Err(e) => return Err(format!("lost the JobManager at {address}: {}", e.message())),
                },
                _ = ticks.tick() => {
                    if last_heard.elapsed() > heartbeats.timeout {
                        return Err(format!(
                            "no heartbeat from the JobManager at {address} for {} ms",
                            last_heard.elapsed().as_millis()
                        ));
                    }
                    let _ = out.send(message(Out::Heartbeat(proto::Heartbeat {})));
                    for (_, _, reporter) in jobs.values().flatten() {
                        reporter.report_changed();
                    }
                }
            }
        }
    }

    fn on_message(
        &self,
        m: In,
        jobs: &mut HashMap<JobId, JobEntry>,
        out: &mpsc::UnboundedSender<proto::TaskManagerMessage>,
    ) -> Result<(), String> {
        let tm = &self.task_manager;
        match m {
            In::Registered(_) | In::Heartbeat(_) => {}
            In::JobProgram(program) => {
                let job_id: JobId = parse_id(&program.job_id, "job id")?;
                let entry = self.build_job(job_id, program).map(|(graph, metrics)| {
                    let reporter =
                        Arc::new(metrics::JobMetricsReporter::new(job_id, graph.clone(), metrics, out.clone()));
                    (graph, reports(job_id, reporter.clone(), out), reporter)
                });
                if let Err(e) = &entry {
                    tracing::warn!(job_id = %job_id, "{e}");
                }
                jobs.insert(job_id, entry);
            }
            In::DeployTask(deploy) => {
                let job_id: JobId = parse_id(&deploy.job_id, "job id")?;
                let descriptor: TaskDeploymentDescriptor = from_json(&deploy.descriptor_json, "deployment descriptor")?;
                let failed = |cause: String| {
                    let _ = out.send(task_state(
                        job_id,
                        TaskStateUpdate {
                            vertex: descriptor.vertex,
                            subtask: descriptor.subtask_index,
                            attempt: descriptor.attempt,
                            state: brook_runtime::task::ExecutionState::Failed,
                            cause: Some(cause),
                        },
                    ));
                };
                match jobs.get(&job_id) {
                    Some(Ok((graph, reports, _))) => {
                        let restore = if deploy.restore_pointer_json.is_empty() {
                            None
                        } else {
                            Some(Arc::new(CompletedCheckpoint {
                                pointer: from_json(&deploy.restore_pointer_json, "checkpoint pointer")?,
                                metadata: from_json(&deploy.restore_metadata_json, "checkpoint metadata")?,
                            }))
                        };
                        tm.submit_task(
                            graph.clone(),
                            descriptor,
                            reports.updates.clone(),
                            reports.checkpoints.clone(),
                            restore,
                        );
                    }
                    Some(Err(cause)) => failed(cause.clone()),
                    None => failed(format!(
                        "TaskManager {} was asked to deploy a task of job {job_id} before its program",
                        self.config.id
                    )),
                }
            }
            In::TaskCommand(command) => {
                use proto::task_command::Command;
                let key = command.task.ok_or("a TaskCommand without its task")?;
                let job: JobId = parse_id(&key.job_id, "job id")?;
                let task = TaskRef { vertex: parse_id(&key.vertex, "vertex id")?, subtask: key.subtask as usize };
                let attempt = key.attempt;
                match command.command.ok_or("a TaskCommand without a command")? {
                    Command::Cancel(_) => tm.cancel_task(job, task.vertex, task.subtask, attempt),
                    Command::TriggerCheckpointJson(b) => {
                        let barrier: CheckpointBarrier = from_json(&b, "checkpoint barrier")?;
                        tm.trigger_checkpoint(job, task, attempt, barrier);
                    }
                    Command::NotifyCompleteJson(b) => {
                        let notification: NotifyCheckpointComplete = from_json(&b, "checkpoint notification")?;
                        tm.notify_checkpoint_complete(job, task, attempt, notification);
                    }
                    Command::PrepareStop(_) => tm.prepare_stop(job, task, attempt),
                    Command::StopWithSavepoint(stop) => {
                        let barrier: CheckpointBarrier = from_json(&stop.barrier_json, "checkpoint barrier")?;
                        tm.stop_with_savepoint(job, task, attempt, barrier, stop.drain);
                    }
                    Command::ResumeAfterFailedStop(_) => tm.resume_after_failed_stop(job, task, attempt),
                }
            }
            In::JobCommand(command) => {
                use proto::job_command::Command;
                let job: JobId = parse_id(&command.job_id, "job id")?;
                match command.command.ok_or("a JobCommand without a command")? {
                    Command::ResetGates(_) => tm.reset_job_gates(job),
                    Command::Unregister(_) => {
                        tm.unregister_job(job);
                        jobs.remove(&job);
                    }
                }
            }
            In::SavepointLocation(location) => {
                tm.register_savepoint_location(from_json(&location.reference_json, "savepoint location")?);
            }
        }
        Ok(())
    }

    /// Builds a job's StreamGraph from its program with this process's catalog,
    /// checks it chains into the JobManager's JobGraph, and makes it runnable here.
    fn build_job(&self, job_id: JobId, program: proto::JobProgram) -> Result<(Arc<JobGraph>, MetricRegistry), String> {
        let me = format!("TaskManager {}", self.config.id);
        if !self.catalog.carries(&program.program) {
            return Err(format!("{me} does not carry program '{}'", program.program));
        }
        let mut config = Configuration::new();
        for (k, v) in &program.configuration {
            config.set(k, v, "job").map_err(|e| format!("{me} cannot read the configuration of job {job_id}: {e}"))?;
        }
        let spec = ProgramSpec { program: program.program, args: program.args };
        let built = self.catalog.build(&spec, &config).and_then(|mut graph| graph.resolve().map(|()| graph));
        let graph = built.map_err(|e| format!("{me} cannot build program '{}': {e}", spec.program))?;
        let mine = JobGraph::from_stream_graph(&graph, job_id);
        // Byte equality: both ends serialize the same Rust type the same way.
        let mine_bytes = to_json(&mine);
        if mine_bytes != program.job_graph_json {
            let theirs: serde_json::Value = from_json(&program.job_graph_json, "JobGraph")?;
            let mine_json: serde_json::Value = from_json(&mine_bytes, "JobGraph")?;
            let difference = first_difference(&theirs, &mine_json, "").unwrap_or_else(|| "in number precision".into());
            return Err(format!(
                "{me} built a different JobGraph from program '{}' {:?} than the JobManager ({difference}); a program \
                 must build the same graph from the same arguments and configuration in every process (are both the \
                 same build?)",
                spec.program, spec.args
            ));
        }
        let metrics = MetricRegistry::default();
        self.task_manager.register_program(job_id, Arc::new(graph), metrics.clone());
        Ok((Arc::new(mine), metrics))
    }
}

/// Where two JSON values first differ, e.g. `at /vertices/1/name: "a" here, "b" at the JobManager`.
fn first_difference(theirs: &serde_json::Value, mine: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match (theirs, mine) {
        (Value::Object(a), Value::Object(b)) if a.len() == b.len() => a.iter().find_map(|(k, v)| match b.get(k) {
            Some(w) => first_difference(v, w, &format!("{path}/{k}")),
            None => Some(format!("at {path}/{k}: missing here")),
        }),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).enumerate().find_map(|(i, (v, w))| first_difference(v, w, &format!("{path}/{i}")))
        }
        _ if theirs == mine => None,
        _ => {
            let shorten = |v: &Value| v.to_string().chars().take(120).collect::<String>();
            Some(format!("at {path}: {} here, {} at the JobManager", shorten(mine), shorten(theirs)))
        }
    }
}

/// Channels whose messages go to the JobManager tagged with `job`. Each task state
/// is preceded by the values of that attempt's metrics (and the job's accumulators
/// on this TaskManager), so a task's final values reach the JobManager before it
/// hears the task ended.
fn reports(
    job: JobId,
    reporter: Arc<metrics::JobMetricsReporter>,
    out: &mpsc::UnboundedSender<proto::TaskManagerMessage>,
) -> crate::gateway::JobReports {
    let (updates, mut updates_rx) = mpsc::unbounded_channel::<TaskStateUpdate>();
    let (checkpoints, mut checkpoints_rx) = mpsc::unbounded_channel::<CheckpointReport>();
    let out_updates = out.clone();
    let metrics = reporter.metrics().clone();
    tokio::spawn(async move {
        while let Some(u) = updates_rx.recv().await {
            reporter.report_task(u.vertex, u.subtask, u.attempt);
            let _ = out_updates.send(task_state(job, u));
        }
    });
    let out = out.clone();
    tokio::spawn(async move {
        while let Some(r) = checkpoints_rx.recv().await {
            use proto::checkpoint_report::Report;
            let report = match r {
                CheckpointReport::Acknowledge(ack) => Report::AcknowledgeJson(to_json(&ack)),
                CheckpointReport::Decline(decline) => Report::DeclineJson(to_json(&decline)),
            };
            let m = proto::CheckpointReport { job_id: job.to_string(), report: Some(report) };
            let _ = out.send(message(Out::CheckpointReport(m)));
        }
    });
    crate::gateway::JobReports { updates, checkpoints, metrics }
}

fn task_state(job: JobId, u: TaskStateUpdate) -> proto::TaskManagerMessage {
    message(Out::TaskState(proto::TaskStateUpdate {
        task: Some(proto::TaskKey {
            job_id: job.to_string(),
            vertex: u.vertex.to_string(),
            subtask: u.subtask as u32,
            attempt: u.attempt,
        }),
        state: u.state.name().to_string(),
        cause: u.cause,
    }))
}

/// An error and its sources, e.g. "transport error: tcp connect error: Connection refused".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    s
}

fn message(m: Out) -> proto::TaskManagerMessage {
    proto::TaskManagerMessage { message: Some(m) }
}
