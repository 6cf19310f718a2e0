//! The control plane between a standalone JobManager and its TaskManager
//! processes: gRPC (tonic/prost), service `JobManagerGateway` of
//! `proto/control.proto`. docs/design/control-plane.md explains the choices.
//!
//! # Protocol
//!
//! One bidirectional stream per TaskManager, opened by the TaskManager
//! (`Session`): the TaskManager needs no listening RPC port, and the stream *is*
//! the registration — it ends exactly when the TaskManager is lost.
//!
//! 1. **Register.** The TaskManager's first message is `Register` (its id, slots,
//!    data-plane address and the names of the programs it carries). The JobManager
//!    answers `Registered` (the heartbeat interval and timeout it uses), adds the
//!    slots to the ResourceManager's table and announces the TaskManager; a job
//!    waiting for slots retries now. Anything else first ends the stream with
//!    `INVALID_ARGUMENT`. A TaskManager registering under an id that is still
//!    registered replaces the old registration, whose tasks are lost.
//! 2. **Offer slots.** Implicit in `Register`: the ResourceManager offers a job
//!    only slots of TaskManagers whose `programs` hold the job's program.
//! 3. **Deploy.** Before the first task of a job on a TaskManager, the JobManager
//!    sends `JobProgram` (program name, arguments, the job's configuration and the
//!    JobGraph it chained). The TaskManager builds the StreamGraph with its own
//!    catalog, chains it and checks that the JobGraph equals the JobManager's (a
//!    program that builds differently in two processes cannot run). Then one
//!    `DeployTask` per subtask (its deployment descriptor and the checkpoint to
//!    restore). A job that cannot be built makes every `DeployTask` of it answer
//!    FAILED with the reason.
//! 4. **Run and report.** The TaskManager sends `TaskStateUpdate`s (INITIALIZING,
//!    RUNNING, then exactly one of FINISHED, CANCELED, FAILED per attempt) and
//!    `CheckpointReport`s (acknowledge / decline), in the order its tasks produce
//!    them; the JobManager puts them on the job's JobMaster channels, where the
//!    JobMaster drops reports of attempts it restarted since.
//!    Before each `TaskStateUpdate` it sends `TaskMetrics` with the values of that
//!    attempt's operators (none before INITIALIZING: its counters do not exist yet),
//!    so a task's final values precede its terminal state; and at most once per
//!    `heartbeat.interval`, `TaskMetrics` with every value of a job that changed since
//!    its last report (and the job's accumulators on that TaskManager when they
//!    changed). Values are absolute, per (operator, subtask, attempt). The
//!    JobManager merges them into the job's metrics before it handles the next message
//!    (a newer attempt replaces an older one's values, the same attempt keeps the
//!    larger, an older attempt is ignored): the JobMaster hears a task ended only
//!    after its final values are in, and a finished job shows complete counts.
//! 5. **Checkpoint / savepoint / cancel.** `TaskCommand`s (trigger, notify-complete,
//!    prepare-stop, stop-with-savepoint, resume, cancel) address one attempt of one
//!    subtask and are ignored for an attempt that is not running;
//!    `SavepointLocation` precedes the trigger of a savepoint. `JobCommand`
//!    reset-gates precedes a redeploy; unregister ends the job on the TaskManager.
//! 6. **Heartbeat.** After registration both sides send `Heartbeat` every
//!    `heartbeat.interval`. The JobManager declares the TaskManager lost when its
//!    stream ends or breaks, or nothing arrived for `heartbeat.timeout`: the slots
//!    leave the table, the JobMasters fail the subtasks that ran there with a cause
//!    naming the TaskManager and restart from the latest completed checkpoint once
//!    enough slots exist. The stream is then closed with `UNAVAILABLE`.
//! 7. **Re-register.** A TaskManager whose stream ends, breaks, or hears nothing for
//!    `heartbeat.timeout` cancels all its tasks, forgets its jobs, and connects
//!    again (every 500 ms) with the same id until it is registered: a restarted
//!    JobManager gets its TaskManagers back; its jobs are not recovered (no HA).

mod job_manager;
mod metrics;
mod task_manager;

pub use job_manager::{JobManagerRpc, serve_job_manager};
pub use task_manager::{TaskManagerProcess, TaskManagerProcessConfig};

#[allow(clippy::all, clippy::pedantic, rust_2018_idioms, missing_docs)]
pub mod proto {
    tonic::include_proto!("brook.control");
}

use brook_runtime::task::ExecutionState;
use std::time::Duration;

/// How often each side sends a heartbeat and when it gives up on the other.
#[derive(Clone, Copy, Debug)]
pub struct HeartbeatSettings {
    pub interval: Duration,
    pub timeout: Duration,
}

impl HeartbeatSettings {
    /// From `heartbeat.interval` and `heartbeat.timeout`.
    pub fn from_config(config: &brook_types::config::Configuration) -> brook_types::Result<Self> {
        use brook_types::config::options::{HEARTBEAT_INTERVAL, HEARTBEAT_TIMEOUT};
        let interval = config.get_duration(&HEARTBEAT_INTERVAL);
        let timeout = config.get_duration(&HEARTBEAT_TIMEOUT);
        if interval.is_zero() || timeout <= interval {
            return Err(brook_types::BrookError::InvalidArgument(format!(
                "heartbeat.timeout ({} ms) must be longer than heartbeat.interval ({} ms), which must not be 0; raise \
                 heartbeat.timeout or lower heartbeat.interval",
                timeout.as_millis(),
                interval.as_millis()
            )));
        }
        Ok(Self { interval, timeout })
    }
}

fn state_from_name(name: &str) -> Option<ExecutionState> {
    Some(match name {
        "CREATED" => ExecutionState::Created,
        "SCHEDULED" => ExecutionState::Scheduled,
        "DEPLOYING" => ExecutionState::Deploying,
        "INITIALIZING" => ExecutionState::Initializing,
        "RUNNING" => ExecutionState::Running,
        "FINISHED" => ExecutionState::Finished,
        "CANCELING" => ExecutionState::Canceling,
        "CANCELED" => ExecutionState::Canceled,
        "FAILED" => ExecutionState::Failed,
        _ => return None,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain runtime structs to JSON cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("malformed {what} in a control-plane message: {e}"))
}

fn parse_id<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("malformed {what} '{s}' in a control-plane message"))
}

/// Submits program `spec` with `config` to the JobManager whose RPC endpoint is at
/// `address` (`host:port`); answers the job id.
pub async fn submit_program(
    address: &str,
    spec: &crate::program::ProgramSpec,
    config: &brook_types::config::Configuration,
) -> brook_types::Result<brook_types::JobId> {
    use brook_types::BrookError;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .map_err(|e| BrookError::InvalidArgument(format!("'{address}' is not a JobManager address (host:port): {e}")))?
        .connect()
        .await
        .map_err(|e| BrookError::Cluster(format!("cannot reach the JobManager at {address}: {e}")))?;
    let mut client = proto::job_manager_gateway_client::JobManagerGatewayClient::new(channel);
    let request = proto::SubmitProgramRequest {
        program: spec.program.clone(),
        args: spec.args.clone(),
        configuration: config.entries().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    };
    let response = client
        .submit_program(request)
        .await
        .map_err(|e| BrookError::Cluster(format!("the JobManager at {address} refused the job: {}", e.message())))?;
    parse_id(&response.into_inner().job_id, "job id").map_err(BrookError::Cluster)
}

#[cfg(test)]
mod tests {
    use super::*;
    use brook_types::config::Configuration;

    fn settings(pairs: &[&str]) -> Result<HeartbeatSettings, String> {
        let mut config = Configuration::new();
        for pair in pairs {
            config.set_dynamic(pair).unwrap();
        }
        HeartbeatSettings::from_config(&config).map_err(|e| e.to_string())
    }

    #[test]
    fn heartbeats_default_to_one_second_and_five_and_the_timeout_must_exceed_the_interval() {
        let defaults = settings(&[]).unwrap();
        assert_eq!((defaults.interval, defaults.timeout), (Duration::from_secs(1), Duration::from_secs(5)));
        assert_eq!(
            settings(&["heartbeat.interval=2 s", "heartbeat.timeout=2 s"]).unwrap_err(),
            "heartbeat.timeout (2000 ms) must be longer than heartbeat.interval (2000 ms), which must not be 0; raise \
             heartbeat.timeout or lower heartbeat.interval"
        );
    }

    #[test]
    fn task_states_travel_by_name() {
        for state in [
            ExecutionState::Created,
            ExecutionState::Scheduled,
            ExecutionState::Deploying,
            ExecutionState::Initializing,
            ExecutionState::Running,
            ExecutionState::Finished,
            ExecutionState::Canceling,
            ExecutionState::Canceled,
            ExecutionState::Failed,
        ] {
            assert_eq!(state_from_name(state.name()), Some(state));
        }
        assert_eq!(state_from_name("RUNNNING"), None);
    }
}
