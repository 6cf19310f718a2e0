//! `bin/flink`'s job verbs against the standalone cluster: `brook run -m -d`,
//! `savepoint`, `stop --savepointPath`, `run -s` (resume) and `cancel`, each a
//! separate `brook` process talking to the JobManager's REST API while the job's
//! subtasks run in two TaskManager processes. The committed output of the
//! exactly-once file sink is checked exactly.

use super::{JobManager, Process, committed, local_output, wait_until, write_input};
use crate::cli::brook;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// `brook run -m <rest> -d -p 4 [-s savepoint] wordcount …` with checkpoints every
/// second; the job id it printed.
fn run_detached(jm: &JobManager, dir: &Path, output: &Path, savepoint: Option<&str>) -> String {
    let input = dir.join("input");
    let checkpoints = format!("execution.checkpointing.dir=file://{}", dir.join("checkpoints").display());
    let mut args: Vec<String> = ["run", "-m", &jm.rest, "-d", "-p", "4"].map(String::from).to_vec();
    if let Some(path) = savepoint {
        args.extend(["-s".to_string(), path.to_string()]);
    }
    args.extend(["-D", "execution.checkpointing.interval=1 s", "-D", &checkpoints].map(String::from));
    args.extend(
        [
            "wordcount",
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
            "--lines-per-second",
            "200",
        ]
        .map(String::from),
    );
    let run = brook(&args);
    run.assert_success();
    assert_eq!(run.stdout, "", "a detached run prints nothing on stdout");
    run.submitted_job_id()
}

/// Waits until every subtask of every vertex of `job` is RUNNING.
fn all_running(jm: &JobManager, job: &str) {
    let pending = || {
        let details: serde_json::Value = serde_json::from_str(&jm.get(&format!("/jobs/{job}"))).unwrap_or_default();
        let vertices = details["vertices"].as_array().cloned().unwrap_or_default();
        let all = !vertices.is_empty() && vertices.iter().all(|v| v["tasks"]["RUNNING"] == v["parallelism"]);
        (!all).then(|| details.to_string())
    };
    wait_until(Duration::from_secs(30), || pending().is_none(), || pending().unwrap_or_default());
}

/// The path after "Savepoint completed. Path: " in `stdout`, as a local path.
fn savepoint_path(stdout: &str) -> String {
    let path = stdout.lines().find_map(|l| l.strip_prefix("Savepoint completed. Path: "));
    let path = path.unwrap_or_else(|| panic!("no savepoint path in:\n{stdout}"));
    let local = path.strip_prefix("file://").unwrap_or(path);
    assert!(Path::new(local).join("_metadata").is_file(), "{path} has _metadata");
    path.to_string()
}

/// Every word's committed counts are 1, 2, …, k: what a prefix of the input gives.
fn assert_consistent_prefix(output: &BTreeMap<String, usize>, expected: &BTreeMap<String, usize>) {
    let mut counts: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (line, n) in output {
        assert_eq!(*n, 1, "{line} committed once");
        assert!(expected.contains_key(line), "{line} is an update the whole input gives");
        let (word, k) = line.trim_matches(|c| c == '(' || c == ')').rsplit_once(',').unwrap();
        counts.entry(word).or_default().push(k.parse().unwrap());
    }
    for (word, mut ks) in counts {
        ks.sort_unstable();
        assert_eq!(ks, (1..=ks.len() as u64).collect::<Vec<_>>(), "the committed counts of {word}");
    }
}

#[test]
fn savepoint_stop_with_savepoint_resume_and_cancel_through_the_cli_give_exact_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(dir.path(), 1500);
    assert_eq!(input, dir.path().join("input"));
    let expected = local_output(&input, &dir.path().join("local"), 4);

    let mut jm = JobManager::start();
    let mut tm1: Process = jm.start_task_manager(2);
    let mut tm2: Process = jm.start_task_manager(2);
    jm.wait_for_task_managers(2);
    let savepoints = dir.path().join("savepoints");
    let savepoints = savepoints.to_str().unwrap();

    // Run, take a savepoint, stop with a savepoint.
    let first = dir.path().join("first");
    let job = run_detached(&jm, dir.path(), &first, None);
    jm.wait_for_state(&job, "RUNNING", Duration::from_secs(30));
    all_running(&jm, &job);
    let savepoint = brook(["savepoint", "-m", &jm.rest, &job, savepoints]);
    savepoint.assert_success();
    let lines: Vec<&str> = savepoint.stdout.lines().collect();
    assert_eq!(lines[..2], [format!("Triggering savepoint for job {job}."), "Waiting for response...".into()]);
    assert_eq!(lines[3..], ["You can resume your program from this savepoint with the run command."]);
    let plain = savepoint_path(&savepoint.stdout);
    assert_eq!(jm.job_state(&job), "RUNNING", "a savepoint leaves the job running");

    let stop = brook(["stop", "--savepointPath", savepoints, "-m", &jm.rest, &job]);
    stop.assert_success();
    let lines: Vec<&str> = stop.stdout.lines().collect();
    assert_eq!(lines[0], format!("Suspending job \"{job}\" with a CANONICAL savepoint."));
    assert_eq!(lines.len(), 2, "{}", stop.stdout);
    let stopped_at = savepoint_path(&stop.stdout);
    assert_ne!(stopped_at, plain);
    jm.wait_for_state(&job, "FINISHED", Duration::from_secs(30));
    let before_stop = committed(&first);
    assert!(!before_stop.is_empty(), "the first job committed its output up to the stop's savepoint");
    assert!(before_stop.len() < expected.len(), "the job was stopped before the input ended");
    assert_consistent_prefix(&before_stop, &expected);

    // Resume from the stop's savepoint: the two runs together committed every update once.
    let second = dir.path().join("second");
    let resumed = run_detached(&jm, dir.path(), &second, Some(&stopped_at));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while jm.job_state(&resumed) != "FINISHED" {
        assert!(
            std::time::Instant::now() < deadline,
            "the resumed job is {}\nJobManager:\n{}\nTaskManagers:\n{}\n{}",
            jm.job_state(&resumed),
            jm.process.log(),
            tm1.log(),
            tm2.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let jm_log = jm.process.log();
    assert!(
        jm_log.lines().any(|l| l.contains("restoring the job") && l.contains(&stopped_at)),
        "the JobMaster restored the resumed job from {stopped_at}:\n{jm_log}"
    );
    let mut both = before_stop.clone();
    for (line, n) in committed(&second) {
        *both.entry(line).or_insert(0) += n;
    }
    assert_eq!(both, expected, "the stopped and the resumed run committed each update exactly once");

    // Cancel: the job ends CANCELED with a consistent prefix committed, and its slots are free.
    let third = dir.path().join("third");
    let canceled = run_detached(&jm, dir.path(), &third, None);
    jm.wait_for_state(&canceled, "RUNNING", Duration::from_secs(30));
    all_running(&jm, &canceled);
    wait_until(
        Duration::from_secs(30),
        || third.exists() && !committed(&third).is_empty(),
        || format!("nothing committed in {}", third.display()),
    );
    let cancel = brook(["cancel", "-m", &jm.rest, &canceled]);
    cancel.assert_success();
    assert_eq!(cancel.stdout, format!("Cancelling job {canceled}.\nCancelled job {canceled}.\n"));
    jm.wait_for_state(&canceled, "CANCELED", Duration::from_secs(30));
    let partial = committed(&third);
    assert!(partial.len() < expected.len(), "canceled before the input ended");
    assert_consistent_prefix(&partial, &expected);
    wait_until(
        Duration::from_secs(10),
        || {
            let overview: serde_json::Value = serde_json::from_str(&jm.get("/overview")).unwrap_or_default();
            overview["slots-available"] == 4
        },
        || jm.get("/overview"),
    );
    let list = brook(["list", "-a", "-m", &jm.rest]);
    list.assert_success();
    for (id, state) in [(&job, "FINISHED"), (&resumed, "FINISHED"), (&canceled, "CANCELED")] {
        assert!(
            list.stdout.lines().any(|l| l.contains(id.as_str()) && l.ends_with(&format!("({state})"))),
            "{}",
            list.stdout
        );
    }
}
