//! Task metrics of TaskManager processes in the JobManager's REST API: the record
//! counts of `GET /jobs/:jobid` and `GET /jobs/:jobid/vertices/:vertexid` for a job
//! whose subtasks run in two other processes.

use super::{JobManager, all_subtasks_running, committed, wait_for_finish, wait_until, write_input};
use serde_json::Value;
use std::time::Duration;

/// Lines per input file (`write_input` writes two, of 4 words a line).
const LINES: u64 = 1000;
const WORDS: u64 = 2 * LINES * 4;

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// The vertex of `details` (`GET /jobs/:jobid`) whose name contains `name`.
fn vertex<'a>(details: &'a Value, name: &str) -> &'a Value {
    let vertices = details["vertices"].as_array().unwrap_or_else(|| panic!("no vertices in {details}"));
    vertices
        .iter()
        .find(|v| v["name"].as_str().unwrap().contains(name))
        .unwrap_or_else(|| panic!("no vertex named '{name}' in {details}"))
}

/// (read-records, write-records) of a vertex or subtask's `metrics`.
fn records(metrics: &Value) -> (u64, u64) {
    (metrics["read-records"].as_u64().unwrap(), metrics["write-records"].as_u64().unwrap())
}

#[test]
fn a_job_across_two_task_manager_processes_shows_its_record_counts_while_running_and_exactly_when_finished() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(dir.path(), LINES as usize);
    // Reports come at most every heartbeat interval.
    let mut jm = JobManager::start_with(&["heartbeat.interval=200 ms", "heartbeat.timeout=5 s"]);
    let mut tm1 = jm.start_task_manager(2);
    let mut tm2 = jm.start_task_manager(2);
    jm.wait_for_task_managers(2);
    let output = dir.path().join("out");
    // One source subtask per file, at most 250 lines per second: the job runs ~4 s.
    let args: Vec<String> =
        ["--input", input.to_str().unwrap(), "--output", output.to_str().unwrap(), "--lines-per-second", "250"]
            .map(String::from)
            .to_vec();
    let job = jm.submit(&args, &[("parallelism.default", "4")]);
    let details = |jm: &JobManager| json(&jm.get(&format!("/jobs/{job}")));

    // While RUNNING: the counts are not zero, and grow.
    let counted = |jm: &JobManager| records(&vertex(&details(jm), "Counter")["metrics"]).0;
    wait_until(Duration::from_secs(30), || counted(&jm) > 0, || details(&jm).to_string());
    let first = counted(&jm);
    wait_until(Duration::from_secs(30), || counted(&jm) > first, || details(&jm).to_string());
    let running = details(&jm);
    assert_eq!(running["state"], "RUNNING", "the job ended before its counts grew twice: {running}");
    let counter = records(&vertex(&running, "Counter")["metrics"]);
    assert!(first < counter.0 && counter.0 <= WORDS, "{first} then {counter:?} of {WORDS} words: {running}");
    assert_eq!(vertex(&running, "Counter")["metrics"]["read-records-complete"], false);

    wait_for_finish(&mut jm, &job, &mut [&mut tm1, &mut tm2]);
    let finished = details(&jm);
    // Sources read no records from another task (as in Flink); the Tokenizer chained
    // to them writes one (word, 1) per word; the Counter writes one update per word;
    // the sink reads them all.
    let expected = [("Tokenizer", (0, WORDS), 4), ("Counter", (WORDS, WORDS), 4), ("Sink: Word Counts", (WORDS, 0), 1)];
    for (name, totals, parallelism) in expected {
        let v = vertex(&finished, name);
        assert_eq!((records(&v["metrics"]), &v["parallelism"]), (totals, &Value::from(parallelism)), "{name}: {v}");
        assert_eq!(v["metrics"]["write-records-complete"], true, "{name}: {v}");
        let id = v["id"].as_str().unwrap();
        let subtasks = json(&jm.get(&format!("/jobs/{job}/vertices/{id}")));
        let per_subtask: Vec<(u64, u64)> =
            subtasks["subtasks"].as_array().unwrap().iter().map(|s| records(&s["metrics"])).collect();
        assert_eq!(per_subtask.len(), parallelism, "{name}: {subtasks}");
        let sum = per_subtask.iter().fold((0, 0), |a, r| (a.0 + r.0, a.1 + r.1));
        assert_eq!(sum, totals, "{name}: the subtasks' counts {per_subtask:?} add up to the vertex's");
        let aggregated = &subtasks["aggregated"]["metrics"];
        assert_eq!(
            (aggregated["read-records"]["sum"].as_u64(), aggregated["write-records"]["sum"].as_u64()),
            (Some(totals.0), Some(totals.1)),
            "{name}: {subtasks}"
        );
    }
    // Every update was committed, once.
    assert_eq!(committed(&output).values().sum::<usize>() as u64, WORDS);
    // The subtasks ran in both TaskManager processes.
    let counter = vertex(&finished, "Counter")["id"].as_str().unwrap().to_string();
    let subtasks = json(&jm.get(&format!("/jobs/{job}/vertices/{counter}")));
    let mut task_managers: Vec<&str> =
        subtasks["subtasks"].as_array().unwrap().iter().map(|s| s["taskmanager-id"].as_str().unwrap()).collect();
    task_managers.sort_unstable();
    task_managers.dedup();
    assert_eq!(task_managers.len(), 2, "{subtasks}");
}

#[test]
fn after_a_failover_the_counts_are_the_new_attempts_not_added_to_the_failed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(dir.path(), LINES as usize);
    let mut jm = JobManager::start_with(&["heartbeat.interval=200 ms", "heartbeat.timeout=5 s"]);
    let mut tm1 = jm.start_task_manager(2);
    jm.wait_for_task_managers(1);
    let checkpoints = format!("file://{}", dir.path().join("checkpoints").display());
    let output = dir.path().join("out");
    let args: Vec<String> =
        ["--input", input.to_str().unwrap(), "--output", output.to_str().unwrap(), "--lines-per-second", "250"]
            .map(String::from)
            .to_vec();
    let job = jm.submit(
        &args,
        &[
            ("parallelism.default", "2"),
            ("execution.checkpointing.interval", "500 ms"),
            ("execution.checkpointing.dir", &checkpoints),
            ("restart-strategy.type", "fixed-delay"),
            ("restart-strategy.fixed-delay.attempts", "5"),
            ("restart-strategy.fixed-delay.delay", "100 ms"),
        ],
    );
    let details = |jm: &JobManager| json(&jm.get(&format!("/jobs/{job}")));
    let completed =
        |jm: &JobManager| json(&jm.get(&format!("/jobs/{job}/checkpoints")))["counts"]["completed"].as_u64();
    // A checkpoint completed after words were counted: the restarted attempt resumes
    // past them, so it counts fewer than every word.
    let counted = |jm: &JobManager| records(&vertex(&details(jm), "Counter")["metrics"]).0;
    wait_until(Duration::from_secs(30), || counted(&jm) > 0, || details(&jm).to_string());
    let before = completed(&jm).unwrap_or(0);
    wait_until(Duration::from_secs(30), || completed(&jm).unwrap_or(0) > before, || details(&jm).to_string());
    tm1.kill();
    jm.wait_for_state(&job, "RESTARTING", Duration::from_secs(30));
    let mut tm2 = jm.start_task_manager(2);
    all_subtasks_running(&jm, &job, 5);
    wait_for_finish(&mut jm, &job, &mut [&mut tm2]);

    let finished = details(&jm);
    let (_, tokenized) = records(&vertex(&finished, "Tokenizer")["metrics"]);
    let counter = records(&vertex(&finished, "Counter")["metrics"]);
    let (sunk, _) = records(&vertex(&finished, "Sink: Word Counts")["metrics"]);
    assert!(0 < tokenized && tokenized < WORDS, "attempt 1 tokenized {tokenized} of {WORDS} words: {finished}");
    // Within the attempt every record written was read downstream.
    assert_eq!(counter, (tokenized, tokenized), "{finished}");
    assert_eq!(sunk, tokenized, "{finished}");
    let id = vertex(&finished, "Counter")["id"].as_str().unwrap().to_string();
    let subtasks = json(&jm.get(&format!("/jobs/{job}/vertices/{id}")));
    let attempts: Vec<u64> =
        subtasks["subtasks"].as_array().unwrap().iter().map(|s| s["attempt"].as_u64().unwrap()).collect();
    assert_eq!(attempts, [1, 1], "{subtasks}");
    // Every word was counted once, over both attempts, in what the sink committed.
    let last_counts: u64 = committed(&output)
        .keys()
        .filter_map(|l| l.rsplit_once(',').map(|(w, n)| (w.to_string(), n.parse::<u64>().unwrap())))
        .fold(std::collections::BTreeMap::<String, u64>::new(), |mut m, (w, n)| {
            let e = m.entry(w).or_default();
            *e = (*e).max(n);
            m
        })
        .values()
        .sum();
    assert_eq!(last_counts, WORDS);
}

#[test]
fn user_accumulators_of_tasks_in_a_task_manager_process_are_reported_as_in_local_mode() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ledger.csv");
    // Line 3 has a bad timestamp and line 5 too few fields; line 4 is blank.
    std::fs::write(&input, "a,1000,0.50\nb,2000,0.10\na,soon,700.00\n\nb,2500\nb,2600,900.00\n").unwrap();
    let output = dir.path().join("alerts.csv");
    let jm = JobManager::start();
    let _tm = jm.start_task_manager(2);
    jm.wait_for_task_managers(1);
    let run = crate::cli::brook([
        "run",
        "-m",
        &jm.rest,
        "-p",
        "2",
        "fraud-detection",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    run.assert_success();
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "b,2600,900.00\n");
    assert!(run.stderr.lines().any(|l| l == "- malformed-lines: 2"), "the count is reported: {}", run.stderr);
    let job = run.submitted_job_id();
    let accumulators = json(&jm.get(&format!("/jobs/{job}/accumulators")));
    assert_eq!(
        accumulators["user-task-accumulators"],
        serde_json::json!([{"name": "malformed-lines", "type": "LongCounter", "value": "2"}]),
        "{accumulators}"
    );
}
