//! `brook savepoint <jobId> [targetDirectory]`: trigger a savepoint and wait for it
//! (`POST /jobs/:jobid/savepoints`, then `GET /jobs/:jobid/savepoints/:triggerid`).

use super::cluster_client::{Cluster, ClusterOptions, job_id};
use clap::Args;
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Args, Debug)]
pub struct SavepointArgs {
    /// The job to take a savepoint of.
    #[arg(value_name = "JOB_ID")]
    job_id: String,
    /// Directory the savepoint goes under (default: execution.checkpointing.savepoint-dir).
    #[arg(value_name = "TARGET_DIRECTORY")]
    target_directory: Option<String>,
    #[command(flatten)]
    cluster: ClusterOptions,
}

pub fn savepoint(args: SavepointArgs) -> anyhow::Result<()> {
    let id = job_id(&args.job_id)?;
    let cluster = args.cluster.client()?;
    println!("Triggering savepoint for job {id}.");
    let answer = cluster.post(
        &format!("/jobs/{id}/savepoints"),
        &json!({ "target-directory": args.target_directory, "cancel-job": false }),
    )?;
    println!("Waiting for response...");
    // The cause names the job and says the savepoint failed.
    let path = await_savepoint(&cluster, &id.to_string(), &answer)?;
    println!("Savepoint completed. Path: {path}");
    println!("You can resume your program from this savepoint with the run command.");
    Ok(())
}

/// Polls the operation the POST answered with until it completed: the savepoint's
/// path, or why it failed.
pub fn await_savepoint(cluster: &Cluster, job: &str, answer: &Value) -> anyhow::Result<String> {
    let trigger = answer["request-id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("the REST API answered without a request-id: {answer}"))?;
    let mut pause = Duration::from_millis(20);
    loop {
        let status = cluster.get(&format!("/jobs/{job}/savepoints/{trigger}"))?;
        match status["status"]["id"].as_str() {
            Some("IN_PROGRESS") => {}
            Some("COMPLETED") => {
                let operation = &status["operation"];
                if let Some(location) = operation["location"].as_str() {
                    return Ok(location.to_string());
                }
                let cause = operation["failure-cause"]["stack-trace"].as_str().map_or_else(
                    || operation["failure-cause"].to_string(),
                    |s| s.lines().next().unwrap_or("").to_string(),
                );
                anyhow::bail!("{cause}");
            }
            _ => anyhow::bail!("unexpected savepoint status from the REST API: {status}"),
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}
