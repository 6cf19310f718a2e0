//! The JobManager's side of the control plane: the `JobManagerGateway` service
//! (TaskManager sessions and program submission) and [`RemoteTaskExecutor`], the
//! JobMaster's gateway to a TaskManager process.

use super::proto::job_manager_gateway_server::{JobManagerGateway, JobManagerGatewayServer};
use super::proto::{self, job_manager_message::Message as Out, task_manager_message::Message as In};
use super::{HeartbeatSettings, from_json, parse_id, state_from_name, to_json};
use crate::gateway::{JobReports, SubmittedProgram, TaskExecutorGateway};
use crate::jobmaster::{CheckpointReport, TaskStateUpdate};
use crate::minicluster::MiniCluster;
use crate::program::ProgramSpec;
use crate::resource_manager::{ResourceManager, TaskManagerDetails, TaskManagerRegistration, now_ms};
use brook_checkpoint::coordinator::{NotifyCheckpointComplete, TaskRef};
use brook_checkpoint::{CompletedCheckpoint, LocationReference};
use brook_runtime::graph::{JobGraph, TaskDeploymentDescriptor};
use brook_types::config::Configuration;
use brook_types::{BrookError, CheckpointBarrier, JobId, TaskManagerId, VertexId};
use futures::Stream;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;
use tonic::{Request, Response, Status, Streaming};

type OutSender = mpsc::UnboundedSender<Result<proto::JobManagerMessage, Status>>;

/// A running RPC endpoint of a JobManager; dropping it stops serving.
pub struct JobManagerRpc {
    pub address: SocketAddr,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// Binds `address` (port 0: any free port) and serves the control plane of
/// `cluster` (a MiniCluster with a catalog and usually no TaskManagers of its own)
/// on its runtime.
pub fn serve_job_manager(
    cluster: &MiniCluster,
    address: &str,
    heartbeats: HeartbeatSettings,
) -> brook_types::Result<JobManagerRpc> {
    let listener = std::net::TcpListener::bind(address).map_err(|e| {
        BrookError::Cluster(format!(
            "cannot bind the JobManager's RPC endpoint on {address}: {e}; set jobmanager.rpc.address and \
             jobmanager.rpc.port to a free address"
        ))
    })?;
    let bound = listener
        .local_addr()
        .and_then(|a| listener.set_nonblocking(true).map(|()| a))
        .map_err(|e| BrookError::Cluster(format!("cannot set up the RPC endpoint on {address}: {e}")))?;
    let runtime = cluster.runtime().clone();
    let listener = {
        let _guard = runtime.enter();
        tokio::net::TcpListener::from_std(listener)
            .map_err(|e| BrookError::Cluster(format!("cannot set up the RPC endpoint on {bound}: {e}")))?
    };
    let service = Service { cluster: cluster.clone(), heartbeats };
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    runtime.spawn(async move {
        let incoming = tokio_listener_stream(listener);
        let result = tonic::transport::Server::builder()
            .tcp_nodelay(true)
            .add_service(JobManagerGatewayServer::new(service))
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stopped.await;
            })
            .await;
        if let Err(e) = result {
            tracing::error!("the JobManager's RPC endpoint on {bound} stopped: {e}");
        }
    });
    Ok(JobManagerRpc { address: bound, _shutdown: shutdown })
}

fn tokio_listener_stream(
    listener: tokio::net::TcpListener,
) -> impl Stream<Item = std::io::Result<tokio::net::TcpStream>> + Send + 'static {
    futures::stream::unfold(listener, |listener| async move {
        let accepted = listener.accept().await.map(|(stream, _)| {
            let _ = stream.set_nodelay(true);
            stream
        });
        Some((accepted, listener))
    })
}

struct Service {
    cluster: MiniCluster,
    heartbeats: HeartbeatSettings,
}

type OutStream = Pin<Box<dyn Stream<Item = Result<proto::JobManagerMessage, Status>> + Send>>;

#[tonic::async_trait]
impl JobManagerGateway for Service {
    type SessionStream = OutStream;

    async fn session(
        &self,
        request: Request<Streaming<proto::TaskManagerMessage>>,
    ) -> Result<Response<Self::SessionStream>, Status> {
        let peer = request.remote_addr().map_or_else(|| "an unknown address".to_string(), |a| a.to_string());
        let mut inbound = request.into_inner();
        let first = tokio::time::timeout(self.heartbeats.timeout, inbound.message())
            .await
            .map_err(|_| Status::deadline_exceeded("no Register message within heartbeat.timeout"))??;
        let Some(proto::TaskManagerMessage { message: Some(In::Register(register)) }) = first else {
            return Err(Status::invalid_argument("the first message of a TaskManager session must be Register"));
        };
        let id: TaskManagerId =
            parse_id(&register.task_manager_id, "TaskManager id").map_err(Status::invalid_argument)?;
        let description = format!("TaskManager {id} at {peer}");
        let (tx, rx) = mpsc::unbounded_channel();
        let gateway = Arc::new(RemoteTaskExecutor {
            id,
            description: description.clone(),
            out: tx.clone(),
            sent_jobs: Mutex::default(),
            routes: Arc::default(),
        });
        let _ = tx.send(Ok(message(Out::Registered(proto::Registered {
            heartbeat_interval_ms: self.heartbeats.interval.as_millis() as u64,
            heartbeat_timeout_ms: self.heartbeats.timeout.as_millis() as u64,
        }))));
        tracing::info!(task_manager = %id, slots = register.slots, programs = ?register.programs, "{description} registered");
        let resource_manager = self.cluster.resource_manager().clone();
        resource_manager.register_task_manager(TaskManagerRegistration {
            id,
            num_slots: register.slots as usize,
            gateway: gateway.clone(),
            programs: Some(register.programs),
            description,
            data_address: Some(register.data_address.clone()).filter(|a| !a.is_empty()),
            details: TaskManagerDetails {
                address: Some(peer),
                data_port: register.data_address.rsplit(':').next().and_then(|p| p.parse().ok()),
                registered_at_ms: now_ms(),
                last_heartbeat_ms: None,
                cpu_cores: register.cpu_cores as usize,
                physical_memory: Some(register.physical_memory).filter(|m| *m > 0),
            },
        });
        let heartbeats = self.heartbeats;
        self.cluster.runtime().spawn(async move {
            let cause = follow_session(&gateway, &mut inbound, &tx, heartbeats, &resource_manager).await;
            let current = resource_manager.gateway(id);
            let still_this_session = current.is_some_and(|g| std::ptr::addr_eq(Arc::as_ptr(&g), Arc::as_ptr(&gateway)));
            if still_this_session {
                resource_manager.lose_task_manager(id, &cause);
            }
            let _ =
                tx.send(Err(Status::unavailable(format!("the JobManager considers this TaskManager lost: {cause}"))));
        });
        let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn submit_program(
        &self,
        request: Request<proto::SubmitProgramRequest>,
    ) -> Result<Response<proto::SubmitProgramResponse>, Status> {
        let request = request.into_inner();
        let mut config = Configuration::new();
        for (k, v) in &request.configuration {
            config.set(k, v, "submission").map_err(|e| Status::invalid_argument(e.to_string()))?;
        }
        let spec = ProgramSpec { program: request.program, args: request.args };
        let job_id = self
            .cluster
            .dispatcher()
            .submit_program(spec, config, None)
            .map_err(|e| Status::failed_precondition(e.to_string()))?;
        Ok(Response::new(proto::SubmitProgramResponse { job_id: job_id.to_string() }))
    }
}

/// Handles a registered TaskManager's messages until it is lost; returns why.
async fn follow_session(
    gateway: &RemoteTaskExecutor,
    inbound: &mut Streaming<proto::TaskManagerMessage>,
    out: &OutSender,
    heartbeats: HeartbeatSettings,
    resource_manager: &ResourceManager,
) -> String {
    let mut last_heard = Instant::now();
    let mut ticks = tokio::time::interval(heartbeats.interval);
    loop {
        tokio::select! {
            m = inbound.message() => match m {
                Ok(Some(m)) => {
                    last_heard = Instant::now();
                    if matches!(m.message, Some(In::Heartbeat(_))) {
                        resource_manager.record_heartbeat(gateway.id, now_ms());
                    }
                    if let Some(m) = m.message
                        && let Err(e) = gateway.on_message(m)
                    {
                        tracing::warn!(task_manager = %gateway.id, "{e}");
                    }
                }
                Ok(None) => return "its connection closed".into(),
                Err(e) => return format!("its connection broke ({})", e.message()),
            },
            _ = ticks.tick() => {
                let silent = last_heard.elapsed();
                if silent > heartbeats.timeout {
                    return format!(
                        "no heartbeat for {} ms (heartbeat.timeout is {} ms)",
                        silent.as_millis(),
                        heartbeats.timeout.as_millis()
                    );
                }
                if out.send(Ok(message(Out::Heartbeat(proto::Heartbeat {})))).is_err() {
                    return "its connection closed".into();
                }
            }
        }
    }
}

fn message(m: Out) -> proto::JobManagerMessage {
    proto::JobManagerMessage { message: Some(m) }
}

fn task_key(job: JobId, vertex: VertexId, subtask: usize, attempt: u32) -> proto::TaskKey {
    proto::TaskKey { job_id: job.to_string(), vertex: vertex.to_string(), subtask: subtask as u32, attempt }
}

/// The JobMaster's gateway to a TaskManager process, over its session stream.
pub(crate) struct RemoteTaskExecutor {
    id: TaskManagerId,
    description: String,
    out: OutSender,
    /// Jobs whose `JobProgram` went out on this session.
    sent_jobs: Mutex<HashSet<JobId>>,
    /// Where the reports of each job's tasks go.
    routes: Arc<Mutex<HashMap<JobId, JobReports>>>,
}

impl RemoteTaskExecutor {
    fn send(&self, m: Out) {
        // A closed session: the TaskManager is being declared lost; the JobMaster hears it.
        let _ = self.out.send(Ok(message(m)));
    }

    fn command(&self, job: JobId, task: TaskRef, attempt: u32, command: proto::task_command::Command) {
        self.send(Out::TaskCommand(proto::TaskCommand {
            task: Some(task_key(job, task.vertex, task.subtask, attempt)),
            command: Some(command),
        }));
    }

    /// A message of the TaskManager, put on its job's JobMaster channels.
    fn on_message(&self, m: In) -> Result<(), String> {
        match m {
            In::Register(_) => Err(format!("{} sent Register twice; ignored", self.description)),
            In::Heartbeat(_) => Ok(()),
            In::TaskState(update) => {
                let key = update.task.ok_or("a TaskStateUpdate without its task")?;
                let job: JobId = parse_id(&key.job_id, "job id")?;
                let state = state_from_name(&update.state)
                    .ok_or_else(|| format!("unknown task state '{}' from {}", update.state, self.description))?;
                let update = TaskStateUpdate {
                    vertex: parse_id(&key.vertex, "vertex id")?,
                    subtask: key.subtask as usize,
                    attempt: key.attempt,
                    state,
                    cause: update.cause,
                };
                if let Some(route) = self.routes.lock().get(&job) {
                    let _ = route.updates.send(update);
                }
                Ok(())
            }
            In::TaskMetrics(report) => {
                // Merged here, before the messages after it are handled: a task's final
                // values are in the job's metrics when the JobMaster hears it ended.
                if let Some(route) = self.routes.lock().get(&parse_id::<JobId>(&report.job_id, "job id")?) {
                    super::metrics::merge(&self.id.to_string(), &report, &route.metrics);
                }
                Ok(())
            }
            In::CheckpointReport(report) => {
                let job: JobId = parse_id(&report.job_id, "job id")?;
                let report = match report.report {
                    Some(proto::checkpoint_report::Report::AcknowledgeJson(b)) => {
                        CheckpointReport::Acknowledge(from_json(&b, "checkpoint acknowledgement")?)
                    }
                    Some(proto::checkpoint_report::Report::DeclineJson(b)) => {
                        CheckpointReport::Decline(from_json(&b, "checkpoint decline")?)
                    }
                    None => return Err("a CheckpointReport without a report".into()),
                };
                if let Some(route) = self.routes.lock().get(&job) {
                    let _ = route.checkpoints.send(report);
                }
                Ok(())
            }
        }
    }
}

impl TaskExecutorGateway for RemoteTaskExecutor {
    fn id(&self) -> TaskManagerId {
        self.id
    }

    fn submit_task(
        &self,
        job: &Arc<JobGraph>,
        program: Option<&Arc<SubmittedProgram>>,
        descriptor: TaskDeploymentDescriptor,
        reports: &JobReports,
        restore: Option<Arc<CompletedCheckpoint>>,
    ) {
        let job_id = job.job_id;
        self.routes.lock().insert(job_id, reports.clone());
        if !self.sent_jobs.lock().contains(&job_id) {
            let Some(program) = program else {
                let _ = reports.updates.send(TaskStateUpdate {
                    vertex: descriptor.vertex,
                    subtask: descriptor.subtask_index,
                    attempt: descriptor.attempt,
                    state: brook_runtime::task::ExecutionState::Failed,
                    cause: Some(format!(
                        "{} cannot run job {job_id}: it was submitted as a StreamGraph, not as a program a \
                         TaskManager process can build; submit it by program name",
                        self.description
                    )),
                });
                return;
            };
            self.send(Out::JobProgram(proto::JobProgram {
                job_id: job_id.to_string(),
                program: program.spec.program.clone(),
                args: program.spec.args.clone(),
                configuration: program.configuration.entries().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                job_graph_json: to_json(&**job),
            }));
            self.sent_jobs.lock().insert(job_id);
        }
        let (restore_pointer_json, restore_metadata_json) = match &restore {
            Some(c) => (to_json(&c.pointer), to_json(&c.metadata)),
            None => (Vec::new(), Vec::new()),
        };
        self.send(Out::DeployTask(proto::DeployTask {
            job_id: job_id.to_string(),
            descriptor_json: to_json(&descriptor),
            restore_pointer_json,
            restore_metadata_json,
        }));
    }

    fn cancel_task(&self, job: JobId, vertex: VertexId, subtask: usize, attempt: u32) {
        self.command(job, TaskRef { vertex, subtask }, attempt, proto::task_command::Command::Cancel(proto::Empty {}));
    }

    fn trigger_checkpoint(&self, job: JobId, task: TaskRef, attempt: u32, barrier: CheckpointBarrier) {
        self.command(job, task, attempt, proto::task_command::Command::TriggerCheckpointJson(to_json(&barrier)));
    }

    fn notify_checkpoint_complete(
        &self,
        job: JobId,
        task: TaskRef,
        attempt: u32,
        notification: NotifyCheckpointComplete,
    ) {
        self.command(job, task, attempt, proto::task_command::Command::NotifyCompleteJson(to_json(&notification)));
    }

    fn register_savepoint_location(&self, reference: LocationReference) {
        self.send(Out::SavepointLocation(proto::SavepointLocation { reference_json: to_json(&reference) }));
    }

    fn prepare_stop(&self, job: JobId, task: TaskRef, attempt: u32) {
        self.command(job, task, attempt, proto::task_command::Command::PrepareStop(proto::Empty {}));
    }

    fn stop_with_savepoint(&self, job: JobId, task: TaskRef, attempt: u32, barrier: CheckpointBarrier, drain: bool) {
        let stop = proto::StopWithSavepoint { barrier_json: to_json(&barrier), drain };
        self.command(job, task, attempt, proto::task_command::Command::StopWithSavepoint(stop));
    }

    fn resume_after_failed_stop(&self, job: JobId, task: TaskRef, attempt: u32) {
        self.command(job, task, attempt, proto::task_command::Command::ResumeAfterFailedStop(proto::Empty {}));
    }

    fn reset_job_gates(&self, job: JobId) {
        self.send(Out::JobCommand(proto::JobCommand {
            job_id: job.to_string(),
            command: Some(proto::job_command::Command::ResetGates(proto::Empty {})),
        }));
    }

    fn unregister_job(&self, job: JobId) {
        self.sent_jobs.lock().remove(&job);
        self.routes.lock().remove(&job);
        self.send(Out::JobCommand(proto::JobCommand {
            job_id: job.to_string(),
            command: Some(proto::job_command::Command::Unregister(proto::Empty {})),
        }));
    }
}
