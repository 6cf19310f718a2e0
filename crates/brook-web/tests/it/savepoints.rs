//! `POST /jobs/:jobid/savepoints`, `POST /jobs/:jobid/stop` and the trigger status:
//! a trigger id at once, IN_PROGRESS, then COMPLETED with `location` or `failure-cause`.

use crate::support::Served;
use brook_web::RestClient;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Polls the trigger until COMPLETED; returns the `operation`.
fn await_operation(rest: &RestClient, job: &str, trigger: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = rest.get(&format!("/jobs/{job}/savepoints/{trigger}")).unwrap();
        match status["status"]["id"].as_str() {
            Some("COMPLETED") => return status["operation"].clone(),
            Some("IN_PROGRESS") => assert!(status.get("operation").is_none(), "{status}"),
            _ => panic!("unexpected status {status}"),
        }
        assert!(Instant::now() < deadline, "the savepoint did not complete within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn request_id(answer: &Value) -> String {
    let id = answer["request-id"].as_str().unwrap_or_else(|| panic!("no request-id in {answer}")).to_string();
    assert_eq!(id.len(), 32, "{answer}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{answer}");
    id
}

#[test]
fn savepoint_trigger_answers_a_request_id_and_a_result() {
    let s = Served::start();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().to_str().unwrap();
    let (status, answer) = s
        .rest
        .request(
            hyper::Method::POST,
            &format!("/jobs/{}/savepoints", s.job_id()),
            Some(&json!({ "target-directory": target, "cancel-job": false })),
        )
        .unwrap();
    assert_eq!(status, 202, "{answer}");
    let trigger = request_id(&answer);
    let operation = await_operation(&s.rest, &s.job_id(), &trigger);
    let location = operation["location"].as_str().unwrap_or_else(|| panic!("no location: {operation}"));
    // A savepoint directory under the target, with its metadata; the job still runs.
    let local = location.strip_prefix("file://").unwrap_or(location);
    assert!(local.starts_with(&format!("{target}/savepoint-")), "{operation}");
    assert!(std::path::Path::new(local).join("_metadata").is_file(), "{operation}");
    assert_eq!(s.rest.get(&format!("/jobs/{}/status", s.job_id())).unwrap(), json!({"status": "RUNNING"}));
    let checkpoints = s.rest.get(&format!("/jobs/{}/checkpoints", s.job_id())).unwrap();
    assert_eq!(
        checkpoints["latest"]["savepoint"],
        json!({
            "className": "completed", "status": "COMPLETED", "is_savepoint": true, "savepointFormat": "CANONICAL",
            "checkpoint_type": "SAVEPOINT", "external_path": location, "discarded": false,
        })
    );
    // The result stays readable.
    let again = s.rest.get(&format!("/jobs/{}/savepoints/{trigger}", s.job_id())).unwrap();
    assert_eq!(again["operation"], operation);
}

#[test]
fn stop_answers_a_request_id_read_under_savepoints() {
    let s = Served::start();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().to_str().unwrap();
    let answer = s
        .rest
        .post(&format!("/jobs/{}/stop", s.job_id()), &json!({ "targetDirectory": target, "drain": true }))
        .unwrap();
    let trigger = request_id(&answer);
    let operation = await_operation(&s.rest, &s.job_id(), &trigger);
    let location = operation["location"].as_str().unwrap_or_else(|| panic!("no location: {operation}"));
    let local = location.strip_prefix("file://").unwrap_or(location);
    assert!(local.starts_with(&format!("{target}/savepoint-")), "{operation}");
    assert!(
        s.job.wait_until(Duration::from_secs(30), |snap| snap.status == brook_cluster::JobStatus::Finished),
        "a stopped job finishes"
    );
    assert_eq!(s.rest.get(&format!("/jobs/{}/status", s.job_id())).unwrap(), json!({"status": "FINISHED"}));
}

#[test]
fn a_savepoint_of_an_ended_job_fails_with_a_cause() {
    let s = Served::start();
    s.job.cancel();
    assert!(s.job.wait_until(Duration::from_secs(30), |snap| snap.status == brook_cluster::JobStatus::Canceled));
    let answer = s.rest.post(&format!("/jobs/{}/savepoints", s.job_id()), &json!({})).unwrap();
    let trigger = request_id(&answer);
    let operation = await_operation(&s.rest, &s.job_id(), &trigger);
    assert_eq!(operation["failure-cause"]["class"], json!("BrookError"), "{operation}");
    let cause = operation["failure-cause"]["stack-trace"].as_str().unwrap();
    assert!(cause.contains(&s.job_id()), "{cause}");
}
