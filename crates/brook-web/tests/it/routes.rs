//! Every GET route against a running job: status codes and JSON fields.

use crate::support::{JOB_NAME, Served};
use hyper::Method;
use serde_json::json;

#[test]
fn config_reports_version_and_features() {
    let s = Served::start();
    let config = s.rest.get("/config").unwrap();
    assert_eq!(
        config,
        json!({
            "refresh-interval": 3000,
            "timezone-name": "Coordinated Universal Time",
            "timezone-offset": 0,
            "flink-version": brook_web::VERSION,
            "flink-revision": format!("brook {}", brook_web::VERSION),
            "features": { "web-submit": false, "web-cancel": true, "web-rescale": false, "web-history": false },
        })
    );
}

#[test]
fn overview_counts_task_managers_slots_and_jobs() {
    let s = Served::start();
    let overview = s.rest.get("/overview").unwrap();
    assert_eq!(
        overview,
        json!({
            "taskmanagers": 1,
            "slots-total": 2,
            "slots-available": 0,
            "jobs-running": 1,
            "jobs-finished": 0,
            "jobs-cancelled": 0,
            "jobs-failed": 0,
            "flink-version": brook_web::VERSION,
            "flink-commit": "",
        })
    );
}

#[test]
fn jobs_lists_ids_and_states() {
    let s = Served::start();
    assert_eq!(s.rest.get("/jobs").unwrap(), json!({ "jobs": [{ "id": s.job_id(), "status": "RUNNING" }] }));
    assert_eq!(s.rest.get(&format!("/jobs/{}/status", s.job_id())).unwrap(), json!({ "status": "RUNNING" }));
}

#[test]
fn jobs_overview_has_flinks_fields() {
    let s = Served::start();
    let overview = s.rest.get("/jobs/overview").unwrap();
    let jobs = overview["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    let start = job["start-time"].as_i64().unwrap();
    assert!(start > 1_700_000_000_000, "{job}");
    assert!(job["duration"].as_i64().unwrap() >= 0, "{job}");
    let mut expected = json!({
        "jid": s.job_id(),
        "name": JOB_NAME,
        "jobType": "STREAMING",
        "schedulerType": "Default",
        "start-time": start,
        "end-time": -1,
        "duration": job["duration"],
        "state": "RUNNING",
        "last-modification": start,
        "tasks": {
            "running": 5, "canceling": 0, "canceled": 0, "total": 5, "created": 0, "scheduled": 0,
            "deploying": 0, "reconciling": 0, "finished": 0, "initializing": 0, "failed": 0,
        },
        "pending-operators": 0,
    });
    expected["duration"] = job["duration"].clone();
    assert_eq!(job, &expected);
}

#[test]
fn job_details_have_vertices_with_task_counts() {
    let s = Served::start();
    let (status, job) = s.rest.request(Method::GET, &format!("/jobs/{}", s.job_id()), None).unwrap();
    assert_eq!(status, 200);
    let start = job["start-time"].as_i64().unwrap();
    assert_eq!(job["jid"], json!(s.job_id()));
    assert_eq!(job["application-id"], json!(s.job_id()));
    assert_eq!(job["name"], json!(JOB_NAME));
    assert_eq!(job["isStoppable"], json!(false));
    assert_eq!(job["state"], json!("RUNNING"));
    assert_eq!(job["job-type"], json!("STREAMING"));
    assert_eq!(job["end-time"], json!(-1));
    assert!(job["now"].as_i64().unwrap() >= start + job["duration"].as_i64().unwrap(), "{job}");
    assert_eq!(
        job["timestamps"],
        json!({
            "RECONCILING": 0, "CREATED": start, "CANCELLING": 0, "CANCELED": 0, "INITIALIZING": start,
            "SUSPENDED": 0, "RUNNING": 0, "RESTARTING": 0, "FAILING": 0, "FINISHED": 0, "FAILED": 0,
        })
    );
    let counts = |running: usize| {
        json!({
            "SCHEDULED": 0, "CANCELING": 0, "RUNNING": running, "CREATED": 0, "INITIALIZING": 0,
            "FAILED": 0, "RECONCILING": 0, "FINISHED": 0, "DEPLOYING": 0, "CANCELED": 0,
        })
    };
    let vertices = job["vertices"].as_array().unwrap();
    let summary: Vec<(String, u64, String)> = vertices
        .iter()
        .map(|v| (v["name"].as_str().unwrap().to_string(), v["parallelism"].as_u64().unwrap(), v["status"].to_string()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("Source: Socket Stream".to_string(), 1, "\"RUNNING\"".to_string()),
            ("Split".to_string(), 2, "\"RUNNING\"".to_string()),
            ("Count -> Sink: Discard".to_string(), 2, "\"RUNNING\"".to_string()),
        ],
        "{job}"
    );
    assert_eq!(vertices[0]["tasks"], counts(1));
    assert_eq!(vertices[1]["tasks"], counts(2));
    assert_eq!(vertices[2]["tasks"], counts(2));
    for v in vertices {
        assert_eq!(v["id"].as_str().unwrap().len(), 32, "{v}");
        assert_eq!(v["start-time"], json!(start));
        assert_eq!(v["end-time"], json!(-1));
        assert_eq!(v["maxParallelism"], json!(128));
    }
    assert_eq!(job["status-counts"], counts(3));
}

#[test]
fn vertex_metrics_count_records_of_the_chain() {
    let s = Served::start();
    // The server sent 3 lines of 6 words: Split reads 3 and writes 6, Count reads 6.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let job = s.rest.get(&format!("/jobs/{}", s.job_id())).unwrap();
        let records: Vec<(u64, u64)> = job["vertices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["metrics"]["read-records"].as_u64().unwrap(), v["metrics"]["write-records"].as_u64().unwrap()))
            .collect();
        if records[1..] == [(3, 6), (6, 0)] {
            assert_eq!(job["vertices"][2]["metrics"]["read-records-complete"], json!(false));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "records never reached Split (3, 6), Count (6, 0): {records:?}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn checkpoints_without_checkpointing_are_empty() {
    let s = Served::start();
    let checkpoints = s.rest.get(&format!("/jobs/{}/checkpoints", s.job_id())).unwrap();
    assert_eq!(
        checkpoints,
        json!({
            "counts": { "restored": 0, "total": 0, "in_progress": 0, "completed": 0, "failed": 0 },
            "latest": { "completed": null, "savepoint": null, "failed": null, "restored": null },
            "history": [],
        })
    );
}
