//! `POST /jobs/:jobid/checkpoints` (Flink 2.x): a trigger id at once, then
//! `GET /jobs/:jobid/checkpoints/:triggerid` reports the completed checkpoint's id.

use crate::support::{Catalogued, LineServer};
use brook_web::RestClient;
use hyper::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn await_checkpoint(rest: &RestClient, job: &str, trigger: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = rest.get(&format!("/jobs/{job}/checkpoints/{trigger}")).unwrap();
        match status["status"]["id"].as_str() {
            Some("COMPLETED") => return status,
            Some("IN_PROGRESS") => {}
            _ => panic!("unexpected status {status}"),
        }
        assert!(Instant::now() < deadline, "the checkpoint did not complete within 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn trigger(rest: &RestClient, job: &str, body: Option<&Value>) -> String {
    let (status, answer) = rest.request(Method::POST, &format!("/jobs/{job}/checkpoints"), body).unwrap();
    assert_eq!(status, 202, "{answer}");
    answer["request-id"].as_str().unwrap_or_else(|| panic!("no request-id in {answer}")).to_string()
}

#[test]
fn a_triggered_checkpoint_completes_with_its_id_and_counts() {
    let c = Catalogued::start();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let lines = LineServer::start();
    let job = c.run(
        "lines",
        json!({ "programArgsList": ["--port", lines.port.to_string()],
                "flinkConfiguration": { "execution.checkpointing.dir": url } }),
    );
    c.wait_tasks(job, "RUNNING");
    let job = job.to_string();
    let first = trigger(&c.rest, &job, None);
    assert_eq!(
        await_checkpoint(&c.rest, &job, &first),
        json!({ "status": { "id": "COMPLETED" }, "operation": { "checkpointId": 1 } })
    );
    let second = trigger(&c.rest, &job, Some(&json!({ "checkpointType": "FULL" })));
    assert_eq!(await_checkpoint(&c.rest, &job, &second)["operation"], json!({ "checkpointId": 2 }));
    let checkpoints = c.rest.get(&format!("/jobs/{job}/checkpoints")).unwrap();
    assert_eq!(checkpoints["counts"]["completed"], json!(2), "{checkpoints}");
    assert_eq!(checkpoints["latest"]["completed"]["id"], json!(2), "{checkpoints}");
    let path = checkpoints["latest"]["completed"]["external_path"].as_str().unwrap();
    let local = path.strip_prefix("file://").unwrap_or(path);
    assert!(std::path::Path::new(local).join("_metadata").is_file(), "{path} has _metadata");
    assert!(local.starts_with(dir.path().to_str().unwrap()), "{path}");
}

#[test]
fn a_checkpoint_of_a_finished_job_fails_and_unknown_triggers_are_404() {
    let c = Catalogued::start();
    let job = c.run("sequence", json!({ "programArgs": "--to 10" }));
    let handle = c.cluster.dispatcher().job(job).unwrap().handle.clone();
    handle.wait_terminal();
    let job = job.to_string();
    let t = trigger(&c.rest, &job, None);
    let status = await_checkpoint(&c.rest, &job, &t);
    assert_eq!(
        status,
        json!({ "status": { "id": "COMPLETED" }, "operation": { "failure-cause": {
            "class": "BrookError",
            "stack-trace": format!("job {job} ended before the checkpoint completed"),
        } } })
    );
    let unknown = "0123456789abcdef0123456789abcdef";
    let (code, body) = c.rest.request(Method::GET, &format!("/jobs/{job}/checkpoints/{unknown}"), None).unwrap();
    assert_eq!(
        (code, body),
        (
            404,
            json!({ "errors": [format!("There is no checkpoint operation with triggerId={unknown} for job {job}.")] })
        )
    );
    let (code, body) = c
        .rest
        .request(Method::POST, &format!("/jobs/{job}/checkpoints"), Some(&json!({ "checkpointType": "INCREMENTAL" })))
        .unwrap();
    assert_eq!(
        (code, body),
        (
            400,
            json!({ "errors": [
                "Request did not match expected format CheckpointTriggerRequestBody: checkpointType \"INCREMENTAL\" \
                 is not supported; use CONFIGURED or FULL (Brook's checkpoints are as configured)."
            ] })
        )
    );
}

#[test]
fn checkpoint_config_shows_the_jobs_settings_and_is_404_without_checkpointing() {
    let c = Catalogued::start();
    let dir = tempfile::tempdir().unwrap();
    let lines = LineServer::start();
    let job = c.run(
        "lines",
        json!({ "programArgsList": ["--port", lines.port.to_string()], "flinkConfiguration": {
            "execution.checkpointing.interval": "1 h",
            "execution.checkpointing.dir": format!("file://{}", dir.path().display()),
            "execution.checkpointing.tolerable-failed-checkpoints": "3",
        } }),
    );
    let config = c.rest.get(&format!("/jobs/{job}/checkpoints/config")).unwrap();
    crate::shape::assert_same_shape("job-checkpoints-config.json", &config);
    assert_eq!(config["mode"], json!("exactly_once"));
    assert_eq!(config["interval"], json!(3_600_000));
    assert_eq!(config["tolerable_failed_checkpoints"], json!(3));
    assert_eq!(config["state_backend"], json!("HashMapStateBackend"));
    let plain = c.run("sequence", json!({ "programArgs": "--to 3" }));
    let (code, body) = c.rest.request(Method::GET, &format!("/jobs/{plain}/checkpoints/config"), None).unwrap();
    assert_eq!(
        (code, body),
        (404, json!({ "errors": [format!("Checkpointing is not enabled for this job ({plain}).")] }))
    );
}
