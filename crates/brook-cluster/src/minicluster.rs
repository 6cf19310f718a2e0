//! The local MiniCluster: a JobManager (Dispatcher, ResourceManager, JobMasters) and
//! TaskManagers in one process, connected in memory. `brook run --local` and a
//! program's own `execute()` use it.
//!
//! Two tokio runtimes: tasks run on one worker per core (`worker_threads`); the
//! JobManager side — JobMasters, checkpoint coordination, the REST and RPC endpoints
//! started on [`MiniCluster::runtime`] — runs on a control runtime of its own, so a
//! task that blocks its worker thread (a sink on a full pipe) stalls only tasks, not
//! cancellation, savepoints, the REST API or heartbeats.

use crate::dispatcher::Dispatcher;
use crate::gateway::LocalTaskExecutor;
use crate::job_client::JobClient;
use crate::program::SharedProgramCatalog;
use crate::resource_manager::{ResourceManager, TaskManagerDetails, TaskManagerRegistration, TaskManagerSnapshot};
use crate::taskmanager::TaskManager;
use brook_runtime::graph::StreamGraph;
use brook_runtime::task::LocalShuffle;
use brook_types::config::{Configuration, options};
use brook_types::{BrookError, Result, TaskManagerId};
use std::collections::HashMap;
use std::sync::Arc;

/// Size of a MiniCluster.
#[derive(Clone, Debug)]
pub struct MiniClusterConfig {
    pub num_task_managers: usize,
    pub slots_per_task_manager: usize,
    /// Worker threads of the tokio runtime tasks run on.
    pub worker_threads: usize,
}

impl MiniClusterConfig {
    /// From `local.number-taskmanager` and `taskmanager.numberOfTaskSlots`.
    pub fn from_configuration(config: &Configuration) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            num_task_managers: config.get_usize(&options::LOCAL_NUMBER_TASK_MANAGER).max(1),
            slots_per_task_manager: config.get_usize(&options::NUMBER_OF_TASK_SLOTS).max(1),
            worker_threads: cores,
        }
    }
}

struct Inner {
    /// The control runtime; dropped (in the background) before the task runtime.
    runtime: Option<tokio::runtime::Runtime>,
    task_runtime: Option<tokio::runtime::Runtime>,
    dispatcher: Dispatcher,
    resource_manager: Arc<ResourceManager>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Tasks still running (e.g. of a canceled job) are dropped, not awaited.
        for rt in [self.runtime.take(), self.task_runtime.take()].into_iter().flatten() {
            rt.shutdown_background();
        }
    }
}

/// A JobManager and TaskManagers in this process.
#[derive(Clone)]
pub struct MiniCluster {
    inner: Arc<Inner>,
}

impl MiniCluster {
    pub fn start(config: MiniClusterConfig) -> Result<Self> {
        let task_runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.worker_threads.max(1))
            .thread_name("brook-worker")
            .enable_all()
            .build()
            .map_err(|e| BrookError::Cluster(format!("cannot start the task runtime: {e}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("brook-control")
            .enable_all()
            .build()
            .map_err(|e| BrookError::Cluster(format!("cannot start the control runtime: {e}")))?;
        let shuffle = LocalShuffle::new();
        let resource_manager = Arc::new(ResourceManager::default());
        let mut task_managers = HashMap::new();
        for _ in 0..config.num_task_managers {
            let id = TaskManagerId::generate();
            let tm = Arc::new(TaskManager::new(
                id,
                config.slots_per_task_manager,
                shuffle.clone(),
                task_runtime.handle().clone(),
            ));
            resource_manager.register_task_manager(TaskManagerRegistration {
                id,
                num_slots: config.slots_per_task_manager,
                gateway: Arc::new(LocalTaskExecutor(tm.clone())),
                programs: None,
                description: format!("TaskManager {id} (in process)"),
                data_address: None,
                details: TaskManagerDetails::local(),
            });
            task_managers.insert(id, tm);
        }
        let dispatcher = Dispatcher::new(resource_manager.clone(), task_managers, runtime.handle().clone());
        Ok(Self {
            inner: Arc::new(Inner {
                runtime: Some(runtime),
                task_runtime: Some(task_runtime),
                dispatcher,
                resource_manager,
            }),
        })
    }

    /// Submits a job; the returned client keeps this cluster alive.
    pub fn submit(&self, graph: StreamGraph) -> Result<JobClient> {
        let (job_id, _) = self.inner.dispatcher.submit(graph)?;
        Ok(self.inner.dispatcher.client(job_id, self.inner.clone()).expect("job was just submitted"))
    }

    pub fn total_slots(&self) -> usize {
        self.inner.resource_manager.total_slots()
    }

    pub fn free_slots(&self) -> usize {
        self.inner.resource_manager.free_slots()
    }

    pub fn num_task_managers(&self) -> usize {
        self.inner.resource_manager.num_task_managers()
    }

    /// Starts a cluster whose JobManager runs the programs of `catalog` by name
    /// (`POST /jars/:program/run`). With zero TaskManagers in `config` it is the
    /// JobManager of a standalone cluster, whose TaskManagers register over RPC.
    pub fn start_with_catalog(config: MiniClusterConfig, catalog: SharedProgramCatalog) -> Result<Self> {
        let cluster = Self::start(config)?;
        cluster.inner.dispatcher.set_catalog(catalog);
        Ok(cluster)
    }

    /// The ResourceManager, where remote TaskManagers register.
    pub fn resource_manager(&self) -> &Arc<ResourceManager> {
        &self.inner.resource_manager
    }

    /// Every TaskManager and its slots, as the ResourceManager sees them.
    pub fn task_managers(&self) -> Vec<TaskManagerSnapshot> {
        self.inner.resource_manager.task_manager_snapshots()
    }

    pub fn dispatcher(&self) -> &Dispatcher {
        &self.inner.dispatcher
    }

    /// The control runtime: JobMasters, and where the REST and RPC endpoints run.
    /// (Tasks run on a runtime of their own.)
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        self.inner.runtime.as_ref().expect("the runtime lives as long as the cluster").handle()
    }
}
