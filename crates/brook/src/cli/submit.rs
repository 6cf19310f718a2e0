//! `brook run -m host:port <job> [args]`: submit a built-in job to a running cluster
//! through its REST API (`POST /jars/:job/run`, as `bin/flink run -m`), and without
//! `-d` follow it (`GET /jobs/:jobid`) until it ends.

use super::cluster_client::{Cluster, ClusterOptions};
use super::run::RunArgs;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// How often an attached `brook run -m` asks for the job's state.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The `JarRunRequestBody` for the command line: the job's arguments, `-p`, `-s`, `-n`,
/// and every `-D` as `flinkConfiguration`.
pub fn request_body(args: &RunArgs) -> anyhow::Result<Value> {
    let opts = &args.options;
    let mut body = Map::new();
    body.insert("programArgsList".into(), json!(opts.args()));
    if let Some(p) = opts.parallelism {
        anyhow::ensure!(p >= 1, "-p must be at least 1");
        body.insert("parallelism".into(), json!(p));
    }
    if let Some(path) = &args.from_savepoint {
        body.insert("savepointPath".into(), json!(path));
        body.insert("allowNonRestoredState".into(), json!(args.allow_non_restored_state));
    }
    let mut config = Map::new();
    for pair in &opts.dynamic {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("-D {pair}: expected key=value, e.g. -D parallelism.default=2"))?;
        config.insert(key.trim().to_string(), json!(value.trim()));
    }
    if !config.is_empty() {
        body.insert("flinkConfiguration".into(), Value::Object(config));
    }
    Ok(Value::Object(body))
}

pub fn submit(args: &RunArgs, jobmanager: &str) -> anyhow::Result<()> {
    let opts = &args.options;
    let job = opts.job("run")?;
    let cluster =
        ClusterOptions { jobmanager: Some(jobmanager.to_string()), dynamic: Vec::new(), config: opts.config.clone() }
            .client()?;
    let answer = cluster.post(&format!("/jars/{job}/run"), &request_body(args)?)?;
    let job_id = answer["jobid"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("the REST API at {jobmanager} answered without a jobid: {answer}"))?
        .to_string();
    eprintln!("Job has been submitted with JobID {job_id}");
    if args.detached {
        return Ok(());
    }
    let details = wait_for_end(&cluster, &job_id)?;
    let name = details["name"].as_str().unwrap_or(job);
    match details["state"].as_str().unwrap_or("") {
        "FINISHED" => {
            eprintln!("Program execution finished");
            eprintln!("Job with JobID {job_id} has finished.");
            eprintln!("Job Runtime: {} ms", details["duration"].as_i64().unwrap_or(0));
            let accumulators = cluster.get(&format!("/jobs/{job_id}/accumulators"))?;
            let user = accumulators["user-task-accumulators"].as_array().cloned().unwrap_or_default();
            if !user.is_empty() {
                eprintln!("Accumulator Results:");
                for a in &user {
                    eprintln!("- {}: {}", a["name"].as_str().unwrap_or(""), a["value"].as_str().unwrap_or(""));
                }
            }
            Ok(())
        }
        "CANCELED" => anyhow::bail!("job {name} ({job_id}) was canceled"),
        state => {
            let exceptions = cluster.get(&format!("/jobs/{job_id}/exceptions"))?;
            let cause = exceptions["exceptionHistory"]["entries"][0]["stacktrace"]
                .as_str()
                .map_or_else(|| format!("job ended {state}"), str::to_string);
            anyhow::bail!("job {name} ({job_id}) failed: {cause}")
        }
    }
}

/// Polls `GET /jobs/:jobid` until the job is FINISHED, CANCELED or FAILED; its details.
fn wait_for_end(cluster: &Cluster, job_id: &str) -> anyhow::Result<Value> {
    loop {
        let details = cluster.get(&format!("/jobs/{job_id}"))?;
        if matches!(details["state"].as_str(), Some("FINISHED" | "CANCELED" | "FAILED")) {
            return Ok(details);
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    fn body(args: &[&str]) -> Value {
        let cli = Cli::try_parse_from(std::iter::once("run").chain(args.iter().copied())).unwrap();
        request_body(&cli.run).unwrap()
    }

    #[test]
    fn the_command_line_becomes_flinks_jar_run_body() {
        assert_eq!(body(&["-m", "h:1", "wordcount"]), json!({ "programArgsList": [] }));
        assert_eq!(
            body(&[
                "-m",
                "h:1",
                "-p",
                "3",
                "-s",
                "/sp",
                "-n",
                "-D",
                "a.b=1",
                "-D",
                "c = x y",
                "wordcount",
                "--input",
                "-p",
            ]),
            json!({
                "programArgsList": ["--input", "-p"],
                "parallelism": 3,
                "savepointPath": "/sp",
                "allowNonRestoredState": true,
                "flinkConfiguration": { "a.b": "1", "c": "x y" },
            })
        );
    }
}
