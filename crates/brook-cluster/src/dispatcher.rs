//! The Dispatcher: accepts jobs and starts one JobMaster per job.

use crate::job_client::JobClient;
use crate::jobmaster::{JobControl, JobHandle, JobMaster};
use crate::resource_manager::ResourceManager;
use crate::taskmanager::TaskManager;
use brook_runtime::graph::{JobGraph, StreamGraph};
use brook_runtime::metrics::MetricRegistry;
use brook_types::{JobId, Result, TaskManagerId};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::mpsc;

/// A job known to the dispatcher.
pub struct JobEntry {
    pub handle: Arc<JobHandle>,
    pub control: mpsc::UnboundedSender<JobControl>,
}

/// Accepts jobs.
pub struct Dispatcher {
    resource_manager: Arc<ResourceManager>,
    task_managers: HashMap<TaskManagerId, Arc<TaskManager>>,
    runtime: tokio::runtime::Handle,
    jobs: Mutex<BTreeMap<JobId, Arc<JobEntry>>>,
}

impl Dispatcher {
    pub fn new(
        resource_manager: Arc<ResourceManager>,
        task_managers: HashMap<TaskManagerId, Arc<TaskManager>>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self { resource_manager, task_managers, runtime, jobs: Mutex::default() }
    }

    /// Submits a program: resolves and chains its graph, hands the program to the
    /// TaskManagers, and starts its JobMaster.
    pub fn submit(&self, mut graph: StreamGraph) -> Result<(JobId, Arc<JobEntry>)> {
        graph.resolve()?;
        // Refuse a state backend this build lacks now, not in a restart loop.
        brook_runtime::state_backend::StateBackendSettings::from_config(&graph.config.configuration)?;
        let job_id = JobId::generate();
        let job = Arc::new(JobGraph::from_stream_graph(&graph, job_id));
        let graph = Arc::new(graph);
        let metrics = MetricRegistry::default();
        for tm in self.task_managers.values() {
            tm.register_program(job_id, graph.clone(), metrics.clone());
        }
        let handle = Arc::new(JobHandle::new(job.clone(), metrics));
        let (tx, rx) = mpsc::unbounded_channel();
        let entry = Arc::new(JobEntry { handle: handle.clone(), control: tx });
        self.jobs.lock().insert(job_id, entry.clone());
        let master = JobMaster::new(job, self.resource_manager.clone(), self.task_managers.clone(), handle);
        self.runtime.spawn(master.run(rx));
        Ok((job_id, entry))
    }

    pub fn job(&self, id: JobId) -> Option<Arc<JobEntry>> {
        self.jobs.lock().get(&id).cloned()
    }

    pub fn jobs(&self) -> Vec<Arc<JobEntry>> {
        self.jobs.lock().values().cloned().collect()
    }

    /// A client for a submitted job.
    pub fn client(&self, id: JobId, keep_alive: Arc<dyn std::any::Any + Send + Sync>) -> Option<JobClient> {
        self.job(id).map(|e| JobClient::new(e, keep_alive))
    }
}
