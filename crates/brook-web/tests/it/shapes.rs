//! Brook's answers have the shape of Flink 2.3's (tests/fixtures/): same field
//! names and JSON types, recursively.

use crate::shape::assert_same_shape;
use crate::support::{Catalogued, LineServer, Served};
use brook_cluster::JobStatus;
use serde_json::json;

#[test]
fn cluster_routes_have_flinks_shape() {
    let s = Served::start();
    assert_same_shape("config.json", &s.rest.get("/config").unwrap());
    assert_same_shape("overview.json", &s.rest.get("/overview").unwrap());
    assert_same_shape("jobs.json", &s.rest.get("/jobs").unwrap());
    assert_same_shape("jobs-overview.json", &s.rest.get("/jobs/overview").unwrap());
    assert_same_shape("jobmanager-config.json", &s.rest.get("/jobmanager/config").unwrap());
    let tms = s.rest.get("/taskmanagers").unwrap();
    assert_same_shape("taskmanagers.json", &tms);
    let id = tms["taskmanagers"][0]["id"].as_str().unwrap();
    assert_same_shape("taskmanager-detail.json", &s.rest.get(&format!("/taskmanagers/{id}")).unwrap());
}

#[test]
fn job_routes_of_a_running_job_have_flinks_shape() {
    let s = Served::start();
    let job = s.job_id();
    let details = s.rest.get(&format!("/jobs/{job}")).unwrap();
    assert_same_shape("job-running.json", &details);
    assert_same_shape("job-status.json", &s.rest.get(&format!("/jobs/{job}/status")).unwrap());
    assert_same_shape("job-plan.json", &s.rest.get(&format!("/jobs/{job}/plan")).unwrap());
    assert_same_shape("job-exceptions.json", &s.rest.get(&format!("/jobs/{job}/exceptions")).unwrap());
    assert_same_shape("job-config.json", &s.rest.get(&format!("/jobs/{job}/config")).unwrap());
    assert_same_shape("job-accumulators.json", &s.rest.get(&format!("/jobs/{job}/accumulators")).unwrap());
    for v in details["vertices"].as_array().unwrap() {
        let vertex = s.rest.get(&format!("/jobs/{job}/vertices/{}", v["id"].as_str().unwrap())).unwrap();
        assert_same_shape("vertex-Source__bid_.json", &vertex);
    }
}

#[test]
fn a_finished_job_and_the_jar_list_have_flinks_shape() {
    let c = Catalogued::start();
    assert_same_shape("jars.json", &c.rest.get("/jars").unwrap());
    // A job of several vertices (a plan node with inputs and one without), ended
    // when its socket closes.
    let lines = LineServer::start();
    let job = c.run("lines", json!({ "programArgsList": ["--port", lines.port.to_string()] }));
    c.wait_tasks(job, "RUNNING");
    drop(lines);
    assert_eq!(c.cluster.dispatcher().job(job).unwrap().handle.wait_terminal(), JobStatus::Finished);
    assert_same_shape("job-finished.json", &c.rest.get(&format!("/jobs/{job}")).unwrap());
}
