//! The Dispatcher: accepts jobs and starts one JobMaster per job.

use crate::gateway::SubmittedProgram;
use crate::job_client::JobClient;
use crate::jobmaster::{JobControl, JobHandle, JobMaster};
use crate::program::{ProgramSpec, SharedProgramCatalog};
use crate::resource_manager::ResourceManager;
use crate::taskmanager::TaskManager;
use brook_runtime::graph::{JobGraph, StreamGraph};
use brook_runtime::metrics::MetricRegistry;
use brook_types::config::Configuration;
use brook_types::{BrookError, JobId, Result, TaskManagerId};
use parking_lot::{Mutex, RwLock};
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
    /// The TaskManagers of this process, which are handed a job's StreamGraph.
    task_managers: HashMap<TaskManagerId, Arc<TaskManager>>,
    runtime: tokio::runtime::Handle,
    jobs: Mutex<BTreeMap<JobId, Arc<JobEntry>>>,
    /// The programs this JobManager can run by name (`POST /jars/:program/run`).
    catalog: RwLock<Option<SharedProgramCatalog>>,
}

impl Dispatcher {
    pub fn new(
        resource_manager: Arc<ResourceManager>,
        task_managers: HashMap<TaskManagerId, Arc<TaskManager>>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self { resource_manager, task_managers, runtime, jobs: Mutex::default(), catalog: RwLock::new(None) }
    }

    /// Sets the programs [`submit_program`](Self::submit_program) can run.
    pub fn set_catalog(&self, catalog: SharedProgramCatalog) {
        *self.catalog.write() = Some(catalog);
    }

    /// The programs this JobManager carries, if it was given a catalog.
    pub fn catalog(&self) -> Option<SharedProgramCatalog> {
        self.catalog.read().clone()
    }

    /// Runs a program of the catalog, as Flink's JobManager runs a jar's `main`
    /// (`POST /jars/:jarid/run`): builds its StreamGraph under `config` (the job's
    /// configuration: the cluster's, then the request's), checks that the cluster
    /// offers the slots it needs (of TaskManagers that carry the program), and submits
    /// it; TaskManager processes build the same graph from the spec with their
    /// catalogs. `job_id` fixes the job's id (else a new one).
    /// Errors name the program and what to do: no catalog, unknown program (with the
    /// known ones), a program that cannot be built from its arguments, a job id in use,
    /// not enough free slots (both numbers).
    pub fn submit_program(&self, spec: ProgramSpec, config: Configuration, job_id: Option<JobId>) -> Result<JobId> {
        let catalog = self.catalog().ok_or_else(|| {
            BrookError::Cluster(format!(
                "this JobManager carries no programs, so it cannot run '{}'; submit the job from its own binary",
                spec.program
            ))
        })?;
        if !catalog.carries(&spec.program) {
            let known: Vec<String> = catalog.programs().into_iter().map(|p| p.name).collect();
            return Err(BrookError::InvalidProgram(format!(
                "unknown program '{}'; this JobManager carries: {}",
                spec.program,
                known.join(", ")
            )));
        }
        let mut graph = catalog.build(&spec, &config)?;
        graph.resolve()?;
        // Refuse now, not in the JobMaster, a job the cluster has no slots for.
        let required = JobGraph::from_stream_graph(&graph, JobId(0)).required_slots();
        let detail =
            required.iter().map(|(g, n)| format!("slot sharing group '{g}' needs {n}")).collect::<Vec<_>>().join(", ");
        self.resource_manager.check_available(required.values().sum(), &detail, Some(&spec.program))?;
        if let Some(id) = job_id
            && self.jobs.lock().contains_key(&id)
        {
            return Err(BrookError::InvalidArgument(format!(
                "job {id} already exists on this cluster; leave jobId out to get a new id"
            )));
        }
        let program = Arc::new(SubmittedProgram { spec, configuration: config });
        Ok(self.submit_with(graph, job_id, Some(program))?.0)
    }

    /// Submits a program: resolves and chains its graph, hands the program to the
    /// TaskManagers, and starts its JobMaster.
    pub fn submit(&self, graph: StreamGraph) -> Result<(JobId, Arc<JobEntry>)> {
        self.submit_with(graph, None, None)
    }

    fn submit_with(
        &self,
        mut graph: StreamGraph,
        job_id: Option<JobId>,
        program: Option<Arc<SubmittedProgram>>,
    ) -> Result<(JobId, Arc<JobEntry>)> {
        graph.resolve()?;
        // Refuse a state backend this build lacks now, not in a restart loop.
        brook_runtime::state_backend::StateBackendSettings::from_config(&graph.config.configuration)?;
        let job_id = job_id.unwrap_or_else(JobId::generate);
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
        let master = JobMaster::new(job, program, self.resource_manager.clone(), handle);
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
