//! The plan, exceptions, vertex, TaskManager and JobManager-configuration routes:
//! values, and their 400/404 answers.

use crate::support::{Catalogued, LineServer, Served};
use brook_cluster::JobStatus;
use hyper::Method;
use serde_json::{Value, json};

fn vertex_ids(s: &Served) -> Vec<String> {
    s.job.snapshot().vertices.iter().map(|v| v.id.to_string()).collect()
}

#[test]
fn plan_has_one_node_per_chain_with_its_inputs() {
    let s = Served::start();
    let ids = vertex_ids(&s);
    let plan = s.rest.get(&format!("/jobs/{}/plan", s.job_id())).unwrap();
    assert_eq!(
        plan,
        json!({ "plan": {
            "jid": s.job_id(),
            "name": crate::support::JOB_NAME,
            "type": "STREAMING",
            "nodes": [
                { "id": ids[0], "operator": "", "parallelism": 1, "operator_strategy": "",
                  "description": "Source: Socket Stream<br/>", "optimizer_properties": {} },
                { "id": ids[1], "operator": "", "parallelism": 2, "operator_strategy": "",
                  "description": "Split<br/>", "optimizer_properties": {},
                  "inputs": [{ "id": ids[0], "num": 0, "exchange": "pipelined_bounded", "ship_strategy": "REBALANCE" }] },
                { "id": ids[2], "operator": "", "parallelism": 2, "operator_strategy": "",
                  "description": "Count<br/>+- Sink: Discard<br/>", "optimizer_properties": {},
                  "inputs": [{ "id": ids[1], "num": 0, "exchange": "pipelined_bounded", "ship_strategy": "HASH" }] },
            ],
        } })
    );
    // GET /jobs/:jobid carries the same plan.
    assert_eq!(s.rest.get(&format!("/jobs/{}", s.job_id())).unwrap()["plan"], plan["plan"]);
}

#[test]
fn a_vertex_lists_its_subtasks_with_state_attempt_and_task_manager() {
    let s = Served::start();
    let ids = vertex_ids(&s);
    let tm = s.rest.get("/taskmanagers").unwrap()["taskmanagers"][0]["id"].as_str().unwrap().to_string();
    // The server sent 3 lines of 6 words: Split reads 3 and writes 6.
    let path = format!("/jobs/{}/vertices/{}", s.job_id(), ids[1]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let vertex = loop {
        let vertex = s.rest.get(&path).unwrap();
        if vertex["aggregated"]["metrics"]["write-records"]["sum"] == json!(6) {
            break vertex;
        }
        assert!(std::time::Instant::now() < deadline, "Split never wrote 6 records: {vertex}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(vertex["id"], json!(ids[1]));
    assert_eq!(vertex["name"], json!("Split"));
    assert_eq!(vertex["parallelism"], json!(2));
    assert_eq!(vertex["maxParallelism"], json!(128));
    let subtasks = vertex["subtasks"].as_array().unwrap();
    assert_eq!(subtasks.len(), 2);
    let mut read = 0;
    let mut written = 0;
    for (i, sub) in subtasks.iter().enumerate() {
        assert_eq!(sub["subtask"], json!(i));
        assert_eq!(sub["status"], json!("RUNNING"));
        assert_eq!(sub["attempt"], json!(0));
        assert_eq!(sub["endpoint"], json!("localhost"));
        assert_eq!(sub["taskmanager-id"], json!(tm));
        assert_eq!(sub["end-time"], json!(-1));
        assert_eq!(sub["metrics"]["accumulated-busy-time"], json!("NaN"));
        read += sub["metrics"]["read-records"].as_u64().unwrap();
        written += sub["metrics"]["write-records"].as_u64().unwrap();
    }
    assert_eq!((read, written), (3, 6));
    assert_eq!(vertex["aggregated"]["metrics"]["read-records"]["sum"], json!(3));
}

#[test]
fn a_vertex_that_is_not_in_the_job_is_404_and_a_malformed_one_400() {
    let s = Served::start();
    let unknown = "0123456789abcdef0123456789abcdef";
    let (status, body) =
        s.rest.request(Method::GET, &format!("/jobs/{}/vertices/{unknown}", s.job_id()), None).unwrap();
    assert_eq!(
        (status, body),
        (404, json!({ "errors": [format!("No vertex with ID '{unknown}' exists in job {}.", s.job_id())] }))
    );
    let (status, body) = s.rest.request(Method::GET, &format!("/jobs/{}/vertices/xyz", s.job_id()), None).unwrap();
    assert_eq!(
        (status, body),
        (
            400,
            json!({ "errors": [
                "Bad request, could not parse parameters: Cannot resolve path parameter (vertexid) from value \"xyz\"."
            ] })
        )
    );
    let missing = "00000000000000000000000000000000";
    for path in [
        format!("/jobs/{missing}/plan"),
        format!("/jobs/{missing}/exceptions"),
        format!("/jobs/{missing}/vertices/{unknown}"),
        format!("/jobs/{missing}/config"),
        format!("/jobs/{missing}/accumulators"),
        format!("/jobs/{missing}/checkpoints/config"),
        format!("/jobs/{missing}/checkpoints/{unknown}"),
    ] {
        let (status, body) = s.rest.request(Method::GET, &path, None).unwrap();
        assert_eq!((status, body), (404, json!({ "errors": [format!("Job {missing} not found")] })), "{path}");
    }
}

#[test]
fn exceptions_list_restarts_and_the_final_failure_newest_first() {
    let c = Catalogued::start();
    let job = c.run(
        "failing",
        json!({ "flinkConfiguration": {
            "restart-strategy.type": "fixed-delay",
            "restart-strategy.fixed-delay.attempts": "1",
            "restart-strategy.fixed-delay.delay": "10 ms",
        } }),
    );
    let handle = c.cluster.dispatcher().job(job).unwrap().handle.clone();
    assert_eq!(handle.wait_terminal(), JobStatus::Failed);
    let exceptions = c.rest.get(&format!("/jobs/{job}/exceptions")).unwrap();
    let entries = exceptions["exceptionHistory"]["entries"].as_array().unwrap();
    let causes: Vec<&str> = entries.iter().map(|e| e["stacktrace"].as_str().unwrap()).collect();
    let snap = handle.snapshot();
    assert_eq!(causes, vec![snap.failure_cause.as_deref().unwrap(), snap.last_failure.as_deref().unwrap()]);
    assert!(causes[1].contains("boom at 5"), "{exceptions}");
    assert!(causes[0].starts_with(causes[1]), "the final failure is the same panic, not restarted: {exceptions}");
    assert!(entries[0]["timestamp"].as_i64().unwrap() >= entries[1]["timestamp"].as_i64().unwrap());
    assert_eq!(exceptions["exceptionHistory"]["truncated"], json!(false));
    for e in entries {
        assert_eq!(e["exceptionName"], json!("BrookError"));
        assert_eq!(e["concurrentExceptions"], json!([]));
        assert_eq!(e["taskName"], Value::Null);
    }
}

#[test]
fn task_managers_show_slots_tasks_and_hardware() {
    let c = Catalogued::start();
    let lines = LineServer::start();
    // Parallelism 3 over 2 TaskManagers of 2 slots: one full, one with one slot used.
    let job = c.run("lines", json!({ "programArgsList": ["--port", lines.port.to_string()], "parallelism": 3 }));
    c.wait_tasks(job, "RUNNING");
    let tms = c.rest.get("/taskmanagers").unwrap();
    let tms = tms["taskmanagers"].as_array().unwrap();
    let cores = std::thread::available_parallelism().unwrap().get();
    let summary: Vec<(u64, u64, u64)> = tms
        .iter()
        .map(|t| {
            assert_eq!(t["hardware"]["cpuCores"], json!(cores), "{t}");
            assert!(t["hardware"]["physicalMemory"].as_i64().unwrap() > 0, "{t}");
            assert_eq!(t["dataPort"], json!(-1));
            assert_eq!(t["path"], json!("local"));
            (t["slotsNumber"].as_u64().unwrap(), t["freeSlots"].as_u64().unwrap(), t["assignedTasks"].as_u64().unwrap())
        })
        .collect();
    // 1 source + 3 Split + 3 Count subtasks = 7; slot sharing puts subtask i of
    // every vertex in slot i (3, 2 and 2 tasks), and the ResourceManager fills one
    // TaskManager before the next: 5 tasks on the full one, 2 on the other.
    let mut sorted = summary.clone();
    sorted.sort();
    assert_eq!(sorted, vec![(2, 0, 5), (2, 1, 2)], "{tms:?}");
    let busy = tms.iter().find(|t| t["freeSlots"] == json!(0)).unwrap();
    let details = c.rest.get(&format!("/taskmanagers/{}", busy["id"].as_str().unwrap())).unwrap();
    let slots: Vec<(&str, u64)> = details["allocatedSlots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["jobId"].as_str().unwrap(), s["assignedTasks"].as_u64().unwrap()))
        .collect();
    let id = job.to_string();
    assert_eq!(slots, vec![(id.as_str(), 3), (id.as_str(), 2)]);
    let (status, body) = c.rest.request(Method::GET, "/taskmanagers/nope", None).unwrap();
    assert_eq!((status, body), (404, json!({ "errors": ["Could not find TaskExecutor nope."] })));
}

#[test]
fn jobmanager_config_lists_the_clusters_options() {
    let c = Catalogued::start();
    assert_eq!(
        c.rest.get("/jobmanager/config").unwrap(),
        json!([
            { "key": "local.number-taskmanager", "value": "2" },
            { "key": "rest.port", "value": "0" },
            { "key": "taskmanager.numberOfTaskSlots", "value": "2" },
        ])
    );
}

#[test]
fn job_config_shows_the_restart_strategy_parallelism_and_options() {
    let c = Catalogued::start();
    let job = c.run(
        "sequence",
        json!({ "programArgs": "--to 3", "parallelism": 2, "flinkConfiguration": {
            "restart-strategy.type": "fixed-delay",
            "restart-strategy.fixed-delay.attempts": "3",
            "restart-strategy.fixed-delay.delay": "2 s",
        } }),
    );
    assert_eq!(
        c.rest.get(&format!("/jobs/{job}/config")).unwrap(),
        json!({
            "jid": job.to_string(),
            "name": "test-sequence",
            "execution-config": {
                "restart-strategy": "Restart with fixed delay (2s). #3 restart attempts.",
                "job-parallelism": 2,
                "object-reuse-mode": false,
                "user-config": {
                    "local.number-taskmanager": "2",
                    "parallelism.default": "2",
                    "rest.port": "0",
                    "restart-strategy.fixed-delay.attempts": "3",
                    "restart-strategy.fixed-delay.delay": "2 s",
                    "restart-strategy.type": "fixed-delay",
                    "taskmanager.numberOfTaskSlots": "2",
                },
            },
        })
    );
}
