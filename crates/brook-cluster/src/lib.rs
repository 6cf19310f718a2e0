//! Brook's cluster: the JobManager — [`dispatcher::Dispatcher`],
//! [`resource_manager::ResourceManager`], one [`jobmaster::JobMaster`] per job — and
//! the [`taskmanager::TaskManager`]. The local [`MiniCluster`] runs all of them in one
//! process.
//!
//! ```text
//! client ──StreamGraph──▶ Dispatcher ──JobGraph──▶ JobMaster ──slots?──▶ ResourceManager
//!                                                     │ TaskDeploymentDescriptor
//!                                                     ▼
//!                                               TaskManager ──runs──▶ Task (brook-runtime)
//!                                                     │ TaskStateUpdate
//!                                                     └──────────▶ JobMaster ──▶ JobHandle ──▶ JobClient
//! ```
//!
//! The JobManager side works on the JobGraph only; it never calls an operator. The
//! JobMaster runs the checkpoint coordinator (`brook_checkpoint::CheckpointCoordinator`)
//! and restarts failed jobs from the latest completed checkpoint; the TaskManager
//! uploads what its tasks snapshot and reads what they restore
//! (docs/design/checkpointing.md).
//!
//! The JobMaster reaches TaskManagers through [`gateway::TaskExecutorGateway`]: in
//! process, or (feature `rpc`) over the gRPC control plane of [`rpc`], which the
//! `brook jobmanager` and `brook taskmanager` processes serve
//! (docs/design/control-plane.md).

pub mod dispatcher;
pub mod gateway;
pub mod job_client;
pub mod job_status;
pub mod jobmaster;
pub mod minicluster;
pub mod program;
pub mod resource_manager;
#[cfg(feature = "rpc")]
pub mod rpc;
pub mod taskmanager;

pub use job_client::{JobClient, JobExecutionResult};
pub use job_status::JobStatus;
pub use minicluster::{MiniCluster, MiniClusterConfig};
pub use program::{ProgramCatalog, ProgramInfo, ProgramSpec, SharedProgramCatalog};
