//! `brook jobmanager`: the JobManager of a standalone cluster — Dispatcher (REST
//! API on `rest.port`), ResourceManager (TaskManagers register over gRPC on
//! `jobmanager.rpc.address`:`jobmanager.rpc.port`), one JobMaster per job. It runs
//! until killed.

use super::cluster_options::{ProcessOptions, job_manager_rpc_address};
use brook_cluster::rpc::{HeartbeatSettings, serve_job_manager};
use brook_cluster::{MiniCluster, MiniClusterConfig};
use brook_web::RestServer;
use clap::Args;
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct JobManagerArgs {
    #[command(flatten)]
    pub options: ProcessOptions,
}

pub fn jobmanager(args: JobManagerArgs) -> anyhow::Result<()> {
    let config = args.options.configuration()?;
    let heartbeats = HeartbeatSettings::from_config(&config)?;
    // No TaskManagers of its own (they register over RPC), so one idle task worker;
    // the JobMasters and endpoints run on the cluster's control runtime.
    let cluster_config = MiniClusterConfig { num_task_managers: 0, slots_per_task_manager: 1, worker_threads: 1 };
    let cluster = MiniCluster::start_with_catalog(cluster_config, Arc::new(crate::jobs::BuiltinPrograms))?;
    let rpc = serve_job_manager(&cluster, &job_manager_rpc_address(&config), heartbeats)?;
    let rest = RestServer::start(&cluster, &config)?;
    eprintln!("JobManager RPC endpoint listening at {}", rpc.address);
    eprintln!("Rest endpoint listening at http://{}", rest.address());
    loop {
        std::thread::park();
    }
}
