//! `GET /jars` and `POST /jars/:program/run`: programs the JobManager carries, run
//! by name, and every way a submission can be refused.

use crate::support::{Catalogued, LineServer};
use brook_cluster::JobStatus;
use hyper::Method;
use serde_json::json;

#[test]
fn jars_lists_one_entry_per_program() {
    let c = Catalogued::start();
    let jars = c.rest.get("/jars").unwrap();
    let uploaded = jars["files"][0]["uploaded"].as_i64().unwrap();
    assert!(uploaded > 1_700_000_000_000, "{jars}");
    assert_eq!(
        jars,
        json!({
            "address": format!("http://{}", c.server.address()),
            "files": [
                { "id": "sequence", "name": "sequence", "uploaded": uploaded,
                  "entry": [{ "name": "sequence", "description": "numbers 1 to N" }] },
                { "id": "lines", "name": "lines", "uploaded": uploaded,
                  "entry": [{ "name": "lines", "description": "count words from a socket" }] },
                { "id": "failing", "name": "failing", "uploaded": uploaded,
                  "entry": [{ "name": "failing", "description": "panics at 5" }] },
            ],
        })
    );
}

#[test]
fn run_builds_the_program_with_its_arguments_and_parallelism() {
    let c = Catalogued::start();
    let job = c.run("sequence", json!({ "programArgsList": ["--to", "1000"], "parallelism": 2 }));
    let handle = c.cluster.dispatcher().job(job).unwrap().handle.clone();
    assert_eq!(handle.wait_terminal(), JobStatus::Finished, "{:?}", handle.snapshot());
    let details = c.rest.get(&format!("/jobs/{job}")).unwrap();
    assert_eq!(details["name"], json!("test-sequence"));
    assert_eq!(details["state"], json!("FINISHED"));
    let vertices: Vec<(String, u64, u64, u64)> = details["vertices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_string(),
                v["parallelism"].as_u64().unwrap(),
                v["metrics"]["read-records"].as_u64().unwrap(),
                v["metrics"]["write-records"].as_u64().unwrap(),
            )
        })
        .collect();
    // The sequence source is parallel: 2 subtasks share the 1000 numbers.
    assert_eq!(vertices, vec![("Source: Sequence Source -> Double -> Sink: Discard".to_string(), 2, 0, 0)]);
    // The chain's head read nothing (a source), its tail (the sink) wrote nothing;
    // the counts of the chain's operators show the program ran with --to 1000.
    assert_eq!(handle.metrics.operator_totals()["Double"], (1000, 1000));
}

#[test]
fn run_takes_program_args_as_one_string_and_a_job_id() {
    let c = Catalogued::start();
    let id = "000000000000000000000000000000aa";
    let answer = c.rest.post("/jars/sequence/run", &json!({ "programArgs": "--to 10", "jobId": id })).unwrap();
    assert_eq!(answer, json!({ "jobid": id }));
    let handle = c.cluster.dispatcher().job(id.parse().unwrap()).unwrap().handle.clone();
    assert_eq!(handle.wait_terminal(), JobStatus::Finished);
    assert_eq!(handle.metrics.operator_totals()["Double"], (10, 10));
    // The id is taken now.
    let (status, body) = c
        .rest
        .request(Method::POST, "/jars/sequence/run", Some(&json!({ "programArgs": "--to 10", "jobId": id })))
        .unwrap();
    assert_eq!(
        (status, body),
        (
            400,
            json!({ "errors": [format!(
                "Could not run program 'sequence': job {id} already exists on this cluster; leave jobId out to get a new id"
            )] })
        )
    );
}

#[test]
fn run_applies_flink_configuration_to_the_job() {
    let c = Catalogued::start();
    let lines = LineServer::start();
    let port = lines.port.to_string();
    let job = c.run(
        "lines",
        json!({ "programArgsList": ["--port", port], "parallelism": 2,
                "flinkConfiguration": { "pipeline.max-parallelism": "64" } }),
    );
    c.wait_tasks(job, "RUNNING");
    let details = c.rest.get(&format!("/jobs/{job}")).unwrap();
    let max: Vec<&serde_json::Value> =
        details["vertices"].as_array().unwrap().iter().map(|v| &v["maxParallelism"]).collect();
    assert_eq!(max, vec![&json!(64), &json!(64), &json!(64)], "{details}");
    let parallelism: Vec<u64> =
        details["vertices"].as_array().unwrap().iter().map(|v| v["parallelism"].as_u64().unwrap()).collect();
    assert_eq!(parallelism, vec![1, 2, 2]);
    // Two slots of four are taken.
    assert_eq!(c.rest.get("/overview").unwrap()["slots-available"], json!(2));
}

#[test]
fn an_unknown_program_is_404_naming_the_known_ones() {
    let c = Catalogued::start();
    let (status, body) = c.rest.request(Method::POST, "/jars/wordcount/run", Some(&json!({}))).unwrap();
    assert_eq!(
        (status, body),
        (
            404,
            json!({ "errors": [
                "Program 'wordcount' not found; this JobManager carries: sequence, lines, failing (GET /jars lists them)."
            ] })
        )
    );
}

#[test]
fn a_bad_body_is_400_naming_the_field() {
    let c = Catalogued::start();
    for (body, message) in [
        (
            json!({ "parallelism": "2" }),
            "Request did not match expected format JarRunRequestBody: field 'parallelism' must be an integer, got \"2\".",
        ),
        (
            json!({ "programArgsList": "--to 5" }),
            "Request did not match expected format JarRunRequestBody: field 'programArgsList' must be an array of strings, got \"--to 5\".",
        ),
        (
            json!({ "flinkConfiguration": { "no.such.key": "1" } }),
            "Request did not match expected format JarRunRequestBody: unknown configuration key 'no.such.key' (from flinkConfiguration); \
             see docs/configuration.md for the keys Brook knows.",
        ),
    ] {
        let (status, answer) = c.rest.request(Method::POST, "/jars/sequence/run", Some(&body)).unwrap();
        assert_eq!((status, answer), (400, json!({ "errors": [message] })), "{body}");
    }
    let (status, answer) = c.rest.request(Method::POST, "/jars/sequence/run", Some(&json!({}))).unwrap();
    assert_eq!(
        (status, answer),
        (
            400,
            json!({ "errors": ["Could not run program 'sequence': invalid job graph: sequence needs --to <number>"] })
        )
    );
    assert!(c.cluster.dispatcher().jobs().is_empty(), "nothing was submitted");
}

#[test]
fn a_job_needing_more_slots_than_are_free_is_refused_naming_both_numbers() {
    let c = Catalogued::start();
    let (status, body) = c
        .rest
        .request(Method::POST, "/jars/sequence/run", Some(&json!({ "programArgs": "--to 5", "parallelism": 5 })))
        .unwrap();
    assert_eq!(
        (status, body),
        (
            500,
            json!({ "errors": [
                "Could not run program 'sequence': not enough task slots: the job needs 5 slots (slot sharing group \
                 'default' needs 5) but the cluster has 4; lower the parallelism (-p) or raise taskmanager.numberOfTaskSlots"
            ] })
        )
    );
    assert!(c.cluster.dispatcher().jobs().is_empty(), "nothing was submitted");
    // Slots held by a running job count.
    let lines = LineServer::start();
    let job = c.run("lines", json!({ "programArgsList": ["--port", lines.port.to_string()], "parallelism": 3 }));
    c.wait_tasks(job, "RUNNING");
    let (status, body) = c
        .rest
        .request(Method::POST, "/jars/sequence/run", Some(&json!({ "programArgs": "--to 5", "parallelism": 2 })))
        .unwrap();
    assert_eq!(status, 500);
    assert!(body["errors"][0].as_str().unwrap().contains("the job needs 2 slots"), "{body}");
    assert!(body["errors"][0].as_str().unwrap().contains("but the cluster has 1;"), "{body}");
}

#[test]
fn run_restores_from_the_savepoint_path_it_is_given() {
    let c = Catalogued::start();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let lines = LineServer::start();
    let port = lines.port.to_string();
    let first = c.run(
        "lines",
        json!({ "programArgsList": ["--port", port], "flinkConfiguration": { "execution.checkpointing.dir": url } }),
    );
    c.wait_tasks(first, "RUNNING");
    let client = c.cluster.dispatcher().client(first, std::sync::Arc::new(())).unwrap();
    let savepoint = c.cluster.runtime().block_on(client.trigger_savepoint(Some(url.clone()), true)).unwrap();
    assert_eq!(c.cluster.dispatcher().job(first).unwrap().handle.wait_terminal(), JobStatus::Canceled);
    drop(lines);

    // The same program restores from it.
    let lines = LineServer::start();
    let restored = c.run(
        "lines",
        json!({ "programArgsList": ["--port", lines.port.to_string()], "savepointPath": savepoint,
                "flinkConfiguration": { "execution.checkpointing.dir": url } }),
    );
    c.wait_tasks(restored, "RUNNING");
    let handle = c.cluster.dispatcher().job(restored).unwrap().handle.clone();
    assert_eq!(handle.failure_cause(), None);
    drop(lines);
    assert_eq!(handle.wait_terminal(), JobStatus::Finished, "{:?}", handle.failure_cause());
    // A path that holds no savepoint fails the job, naming it.
    let missing = format!("{}/no-such-savepoint", dir.path().display());
    let failed = c.run("sequence", json!({ "programArgs": "--to 5", "savepointPath": missing }));
    let handle = c.cluster.dispatcher().job(failed).unwrap().handle.clone();
    assert_eq!(handle.wait_terminal(), JobStatus::Failed);
    let cause = handle.failure_cause().unwrap();
    assert!(cause.starts_with(&format!("cannot restore the job from '{missing}'")), "{cause}");
    // The cluster's configuration does not carry one job's savepoint to the next.
    let plain = c.run("sequence", json!({ "programArgs": "--to 5" }));
    let config = c.rest.get(&format!("/jobs/{plain}/config")).unwrap();
    assert!(config["execution-config"]["user-config"].get("execution.state-recovery.path").is_none(), "{config}");
}
