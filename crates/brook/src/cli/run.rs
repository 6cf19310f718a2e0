//! `brook run`: build a built-in job and run it.

use super::options::{JobOptions, jobs_help};
use brook_api::StreamExecutionEnvironment;
use brook_cluster::{MiniCluster, MiniClusterConfig};
use brook_types::config::options;
use brook_web::RestServer;
use clap::Args;
use std::time::Duration;

/// How long `brook run` keeps serving after its job ended while a client has not
/// read the result of a savepoint or stop it asked for (`brook stop` polls it).
const RESULT_GRACE: Duration = Duration::from_secs(30);

#[derive(Args, Debug)]
#[command(after_help = jobs_help())]
pub struct RunArgs {
    /// Restore the job from a savepoint or a retained checkpoint (a `savepoint-…` or
    /// `chk-<n>` directory, or its `_metadata` file; a path or a URL).
    #[arg(short = 's', long = "fromSavepoint", value_name = "PATH")]
    pub from_savepoint: Option<String>,
    /// With -s: skip state of operators the job no longer has.
    #[arg(short = 'n', long = "allowNonRestoredState", requires = "from_savepoint")]
    pub allow_non_restored_state: bool,
    /// Submit the job to the cluster whose REST API is at host:port (POST /jars/<job>/run)
    /// instead of running it here; the JobManager builds and runs it.
    #[arg(short = 'm', long = "jobmanager", value_name = "host:port", conflicts_with = "local")]
    pub jobmanager: Option<String>,
    /// With -m: return once the job is submitted instead of waiting for its end.
    #[arg(short = 'd', long = "detached", requires = "jobmanager")]
    pub detached: bool,
    #[command(flatten)]
    pub options: JobOptions,
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    if let Some(jobmanager) = &args.jobmanager {
        return super::submit::submit(&args, jobmanager);
    }
    let opts = &args.options;
    // Without -m, `--local` or not, the job runs on an embedded local cluster.
    let job = crate::jobs::find(opts.job("run")?)?;
    let mut config = opts.configuration()?;
    if let Some(path) = &args.from_savepoint {
        config.set(options::STATE_RECOVERY_PATH.key, path, "-s")?;
        if args.allow_non_restored_state {
            config.set(options::STATE_RECOVERY_IGNORE_UNCLAIMED_STATE.key, "true", "-n")?;
        }
    }
    let env = StreamExecutionEnvironment::with_configuration(config);
    let name = (job.build)(&env, opts.args())?;
    // The local cluster serves the REST API (`brook list`, `cancel`, `savepoint`,
    // `stop`) while the job runs, as Flink's JobManager does.
    let graph = env.take_stream_graph(&name)?;
    let config = env.configuration();
    // Its JobManager carries the built-in jobs: `brook run -m` submits more to it.
    let cluster = MiniCluster::start_with_catalog(
        MiniClusterConfig::from_configuration(&config),
        std::sync::Arc::new(crate::jobs::BuiltinPrograms),
    )?;
    let server = RestServer::start_or_any_port(&cluster, &config)?;
    let client = cluster.submit(graph)?;
    eprintln!("Job has been submitted with JobID {}", client.job_id());
    eprintln!("Rest endpoint listening at {}", server.address());
    let result = client.wait_for_result();
    wait_for_submitted_jobs(&cluster, client.job_id());
    server.wait_for_results_fetched(RESULT_GRACE);
    server.shutdown(Duration::from_secs(5));
    let result = result?;
    eprintln!("Program execution finished");
    eprintln!("Job with JobID {} has finished.", result.job_id);
    eprintln!("Job Runtime: {} ms", result.net_runtime.as_millis());
    if !result.accumulators.is_empty() {
        eprintln!("Accumulator Results:");
        for (name, value) in &result.accumulators {
            eprintln!("- {name}: {value}");
        }
    }
    Ok(())
}

/// Jobs submitted to this cluster through its REST API (`brook run -m`) keep it alive:
/// the process waits for them to end after its own job did, saying so once.
fn wait_for_submitted_jobs(cluster: &MiniCluster, own: brook_types::JobId) {
    let others: Vec<_> = cluster
        .dispatcher()
        .jobs()
        .into_iter()
        .filter(|j| j.handle.job_id != own && !j.handle.status().is_globally_terminal())
        .collect();
    if others.is_empty() {
        return;
    }
    let ids: Vec<String> = others.iter().map(|j| j.handle.job_id.to_string()).collect();
    eprintln!(
        "Waiting for the jobs submitted to this cluster to end: {} (cancel them with `brook cancel`)",
        ids.join(", ")
    );
    for job in others {
        job.handle.wait_terminal();
    }
}
