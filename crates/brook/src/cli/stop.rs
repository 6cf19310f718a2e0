//! `brook stop [-p DIR] [-d] <jobId>`: stop a job with a savepoint
//! (`POST /jobs/:jobid/stop`, then `GET /jobs/:jobid/savepoints/:triggerid`).

use super::cluster_client::{ClusterOptions, job_id};
use super::savepoint::await_savepoint;
use clap::Args;
use serde_json::json;

#[derive(Args, Debug)]
pub struct StopArgs {
    /// The job to stop.
    #[arg(value_name = "JOB_ID")]
    job_id: String,
    /// Directory the savepoint goes under (default: execution.checkpointing.savepoint-dir).
    #[arg(short = 'p', long = "savepointPath", value_name = "DIR")]
    savepoint_path: Option<String>,
    /// Advance event time to the end before the savepoint, so every event-time window and timer fires.
    #[arg(short = 'd', long = "drain")]
    drain: bool,
    #[command(flatten)]
    cluster: ClusterOptions,
}

pub fn stop(args: StopArgs) -> anyhow::Result<()> {
    let id = job_id(&args.job_id)?;
    let cluster = args.cluster.client()?;
    let verb = if args.drain { "Draining" } else { "Suspending" };
    println!("{verb} job \"{id}\" with a CANONICAL savepoint.");
    let answer = cluster
        .post(&format!("/jobs/{id}/stop"), &json!({ "targetDirectory": args.savepoint_path, "drain": args.drain }))?;
    let path = await_savepoint(&cluster, &id.to_string(), &answer)
        .map_err(|cause| anyhow::anyhow!("could not stop job {id} with a savepoint: {cause}"))?;
    println!("Savepoint completed. Path: {path}");
    Ok(())
}
