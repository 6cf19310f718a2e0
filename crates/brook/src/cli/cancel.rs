//! `brook cancel <jobId>`: cancel a running job (`PATCH /jobs/:jobid?mode=cancel`).

use super::cluster_client::{ClusterOptions, job_id};
use clap::Args;

#[derive(Args, Debug)]
pub struct CancelArgs {
    /// The job to cancel (`brook list` shows the ids).
    #[arg(value_name = "JOB_ID")]
    job_id: String,
    #[command(flatten)]
    cluster: ClusterOptions,
}

pub fn cancel(args: CancelArgs) -> anyhow::Result<()> {
    let id = job_id(&args.job_id)?;
    let cluster = args.cluster.client()?;
    println!("Cancelling job {id}.");
    cluster.patch(&format!("/jobs/{id}?mode=cancel"))?;
    println!("Cancelled job {id}.");
    Ok(())
}
