//! `brook taskmanager`: a TaskManager process. It registers
//! `taskmanager.numberOfTaskSlots` slots and the built-in programs at the
//! JobManager (`jobmanager.rpc.address`:`jobmanager.rpc.port`), runs the subtasks
//! deployed to it, and registers again whenever it loses the JobManager.

use super::cluster_options::{ProcessOptions, job_manager_rpc_address};
use brook_cluster::rpc::{HeartbeatSettings, TaskManagerProcess, TaskManagerProcessConfig};
use brook_cluster::taskmanager::TaskManager;
use brook_network::{NetworkConfig, NetworkEnvironment};
use brook_runtime::task::LocalShuffle;
use brook_types::TaskManagerId;
use brook_types::config::options;
use clap::Args;
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct TaskManagerArgs {
    #[command(flatten)]
    pub options: ProcessOptions,
}

pub fn taskmanager(args: TaskManagerArgs) -> anyhow::Result<()> {
    let config = args.options.configuration()?;
    let heartbeats = HeartbeatSettings::from_config(&config)?;
    let slots = config.get_usize(&options::NUMBER_OF_TASK_SLOTS).max(1);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("brook-worker")
        .enable_all()
        .build()?;
    let id = TaskManagerId::generate();
    let network = runtime.block_on(NetworkEnvironment::start(NetworkConfig::from_configuration(&config)))?;
    let data_address = network.address().to_string();
    let task_manager = Arc::new(
        TaskManager::new(id, slots, LocalShuffle::new(), runtime.handle().clone()).with_network(Arc::new(network)),
    );
    let process_config = TaskManagerProcessConfig {
        id,
        job_manager_address: job_manager_rpc_address(&config),
        slots,
        data_address,
        heartbeats,
        registration_timeout: config.get_duration(&options::TASK_MANAGER_REGISTRATION_TIMEOUT),
    };
    eprintln!(
        "TaskManager {id} with {slots} slots, data plane at {}, registering at the JobManager at {}",
        process_config.data_address, process_config.job_manager_address
    );
    let process = TaskManagerProcess::new(process_config, Arc::new(crate::jobs::BuiltinPrograms), task_manager);
    // The control plane (registration, heartbeats, deployments) runs on a runtime of
    // its own, on this thread: a task that blocks its worker thread (a sink writing to
    // a full pipe, a slow external system) is backpressure, and must not silence the
    // heartbeats and get the TaskManager declared lost.
    let control = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    control.block_on(process.run())?;
    runtime.shutdown_background();
    Ok(())
}
