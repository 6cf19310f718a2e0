//! `PATCH /jobs/:jobid?mode=cancel`.

use crate::support::Served;
use brook_cluster::JobStatus;
use hyper::Method;
use serde_json::json;
use std::time::Duration;

#[test]
fn cancel_answers_202_and_the_job_ends_canceled() {
    let s = Served::start();
    let (status, body) = s.rest.request(Method::PATCH, &format!("/jobs/{}?mode=cancel", s.job_id()), None).unwrap();
    assert_eq!((status, body), (202, json!({})));
    assert!(s.job.wait_until(Duration::from_secs(30), |snap| snap.status == JobStatus::Canceled));
    assert_eq!(s.rest.get(&format!("/jobs/{}/status", s.job_id())).unwrap(), json!({ "status": "CANCELED" }));
    let job = s.rest.get(&format!("/jobs/{}", s.job_id())).unwrap();
    let start = job["start-time"].as_i64().unwrap();
    let end = job["end-time"].as_i64().unwrap();
    assert_eq!(end, start + job["duration"].as_i64().unwrap());
    assert_eq!(job["timestamps"]["CANCELED"], json!(end));
    for v in job["vertices"].as_array().unwrap() {
        assert_eq!(v["status"], json!("CANCELED"), "{v}");
    }
    let overview = s.rest.get("/overview").unwrap();
    assert_eq!((overview["jobs-running"].clone(), overview["jobs-cancelled"].clone()), (json!(0), json!(1)));
    assert_eq!(overview["slots-available"], json!(2));
    // Canceling an ended job is accepted and changes nothing, as in Flink.
    let (status, _) = s.rest.request(Method::PATCH, &format!("/jobs/{}?mode=cancel", s.job_id()), None).unwrap();
    assert_eq!(status, 202);
}

#[test]
fn an_unknown_mode_is_400() {
    let s = Served::start();
    let (status, body) = s.rest.request(Method::PATCH, &format!("/jobs/{}?mode=stop", s.job_id()), None).unwrap();
    assert_eq!(status, 400, "{body}");
    assert_eq!(s.job.status(), JobStatus::Running);
}
