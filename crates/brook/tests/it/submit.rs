//! `brook run -m host:port` against a running cluster: `brook run --local` serves the
//! REST API in a child process (socket job, 2 slots), a second job is submitted to it
//! through `POST /jars/:job/run`, and `brook list -a` shows both.

use crate::cli::brook;
use crate::rest::{LineServer, RunningJob, list_until_running};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// Splits `Job has been submitted with JobID <id>` off the first stderr line.
fn submitted_id(stderr: &str) -> String {
    let first = stderr.lines().next().unwrap_or_default();
    first
        .strip_prefix("Job has been submitted with JobID ")
        .unwrap_or_else(|| panic!("no JobID line in\n{stderr}"))
        .to_string()
}

/// `brook list -a` lines without their `dd.MM.yyyy HH:mm:ss : ` prefix, once no line
/// contains `until_none`.
fn list_all(address: &str, until_none: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = brook(["list", "-a", "-m", address]);
        list.assert_success();
        if !list.stdout.contains(until_none) {
            return list
                .stdout
                .lines()
                .map(|l| if l.len() > 22 && l.as_bytes()[2] == b'.' { l[22..].to_string() } else { l.to_string() })
                .collect();
        }
        assert!(Instant::now() < deadline, "a job stayed {until_none}:\n{}", list.stdout);
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn run_m_submits_a_job_to_the_cluster_and_waits_for_its_end() {
    let lines = LineServer::start("to be\n");
    let cluster = RunningJob::start(lines.port, &["-D", "taskmanager.numberOfTaskSlots=2"]);
    list_until_running(&cluster);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "a b a\n").unwrap();
    let input = input.to_str().unwrap();

    // Attached: waits for the end and prints Flink's lines.
    let run = brook(["run", "-m", &cluster.address, "wordcount", "--input", input]);
    run.assert_success();
    let id = submitted_id(&run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stderr);
    assert_eq!(lines[1], "Program execution finished");
    assert_eq!(lines[2], format!("Job with JobID {id} has finished."));
    let runtime = lines[3].strip_prefix("Job Runtime: ").and_then(|r| r.strip_suffix(" ms"));
    assert!(runtime.is_some_and(|ms| ms.parse::<u64>().is_ok()), "{}", run.stderr);
    assert_eq!(run.stdout, "");

    // Detached: returns once submitted.
    let detached = brook(["run", "-m", &cluster.address, "-d", "-p", "1", "wordcount", "--input", input]);
    detached.assert_success();
    let detached_id = submitted_id(&detached.stderr);
    assert_eq!(detached.stderr, format!("Job has been submitted with JobID {detached_id}\n"));

    let listed = list_all(&cluster.address, " : WordCount (RUNNING)");
    assert_eq!(
        listed,
        vec![
            "Waiting for response...".to_string(),
            "------------------ Running/Restarting Jobs -------------------".into(),
            format!("{} : Socket Window WordCount (RUNNING)", cluster.job_id),
            "--------------------------------------------------------------".into(),
            "No scheduled jobs.".into(),
            "---------------------- Terminated Jobs -----------------------".into(),
            format!("{id} : WordCount (FINISHED)"),
            format!("{detached_id} : WordCount (FINISHED)"),
            "--------------------------------------------------------------".into(),
        ]
    );

    // The submitted jobs ran in the cluster's process: their counts are on its stdout.
    brook(["cancel", "-m", &cluster.address, &cluster.job_id]).assert_success();
    let (_, stdout, _) = cluster.wait();
    assert_eq!(stdout.matches("(a,2)\n").count(), 2, "{stdout}");
    assert_eq!(stdout.matches("(b,1)\n").count(), 2, "{stdout}");
}

#[test]
fn run_m_reports_a_failed_job_with_its_cause() {
    let lines = LineServer::start("to be\n");
    let cluster = RunningJob::start(lines.port, &["-D", "taskmanager.numberOfTaskSlots=2"]);
    list_until_running(&cluster);
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let run =
        brook(["run", "-m", &cluster.address, "socket-window-wordcount", "--hostname", "127.0.0.1", "--port", &closed]);
    let id = submitted_id(&run.stderr);
    let error = run.assert_error();
    assert!(
        error.starts_with(&format!(
            "error: job Socket Window WordCount ({id}) failed: task 'Source: Socket Stream -> Split Words (1/1)' \
             failed: cannot connect to 127.0.0.1:{closed} (socket source): "
        )),
        "{error}"
    );
    assert_eq!(run.stderr, format!("Job has been submitted with JobID {id}\n{error}\n"));
}

#[test]
fn run_m_errors_are_one_line_from_the_server() {
    let lines = LineServer::start("to be\n");
    let cluster = RunningJob::start(lines.port, &["-D", "taskmanager.numberOfTaskSlots=2"]);
    list_until_running(&cluster);
    let address = cluster.address.as_str();
    let cases: [(&[&str], String); 4] = [
        (
            &["nosuch"],
            format!(
                "error: the REST API at {address} answered 404: Program 'nosuch' not found; this JobManager carries: \
                 wordcount, fraud-detection, socket-window-wordcount (GET /jars lists them)."
            ),
        ),
        (
            &["-p", "2", "wordcount"],
            format!(
                "error: the REST API at {address} answered 500: Could not run program 'wordcount': not enough task \
                 slots: the job needs 2 slots (slot sharing group 'default' needs 2) but the cluster has 1; lower the \
                 parallelism (-p) or raise taskmanager.numberOfTaskSlots"
            ),
        ),
        (
            &["-D", "no.such.key=1", "wordcount"],
            format!(
                "error: the REST API at {address} answered 400: Request did not match expected format \
                 JarRunRequestBody: unknown configuration key 'no.such.key' (from flinkConfiguration); see \
                 docs/configuration.md for the keys Brook knows."
            ),
        ),
        (
            &["-D", "nonsense", "wordcount"],
            "error: -D nonsense: expected key=value, e.g. -D parallelism.default=2".to_string(),
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["run", "-m", address];
        all.extend_from_slice(args);
        assert_eq!(brook(&all).assert_only_error(), expected, "{all:?}");
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let run = brook(["run", "-m", &format!("127.0.0.1:{port}"), "wordcount"]);
    let error = run.assert_only_error();
    assert!(error.starts_with(&format!("error: cannot reach the REST API at 127.0.0.1:{port} (")), "{error}");
    assert!(error.contains("`brook cluster start` or `brook jobmanager` starts one"), "{error}");
}

#[test]
fn run_m_and_local_exclude_each_other_and_d_needs_m() {
    let run = brook(["run", "--local", "-m", "localhost:8081", "wordcount"]);
    assert_eq!(run.code(), Some(2));
    assert_eq!(
        run.assert_only_error(),
        "error: the argument '--local' cannot be used with '--jobmanager <host:port>' (see 'brook run --help')"
    );
    let run = brook(["run", "-d", "wordcount"]);
    assert_eq!(run.code(), Some(2));
    assert_eq!(
        run.assert_only_error(),
        "error: the following required arguments were not provided: --jobmanager <host:port> (see 'brook run --help')"
    );
}

#[test]
fn the_cluster_process_waits_for_jobs_submitted_to_it() {
    let lines = LineServer::start("to be\n");
    let cluster = RunningJob::start(lines.port, &["-D", "taskmanager.numberOfTaskSlots=2"]);
    list_until_running(&cluster);
    let other_lines = LineServer::start("or not\n");
    let port = other_lines.port.to_string();
    let submitted = brook([
        "run",
        "-m",
        &cluster.address,
        "-d",
        "socket-window-wordcount",
        "--hostname",
        "127.0.0.1",
        "--port",
        &port,
    ]);
    submitted.assert_success();
    let other = submitted_id(&submitted.stderr);
    let rest = brook_web::RestClient::new(cluster.address.clone()).unwrap();
    let state = |id: &str| rest.get(&format!("/jobs/{id}")).unwrap()["state"].as_str().unwrap().to_string();
    let wait_state = |id: &str, want: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while state(id) != want {
            assert!(Instant::now() < deadline, "job {id} never became {want}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_state(&other, "RUNNING");
    brook(["cancel", "-m", &cluster.address, &cluster.job_id]).assert_success();
    wait_state(&cluster.job_id, "CANCELED");
    // The process still serves: the submitted job runs on.
    assert_eq!(state(&other), "RUNNING");
    brook(["cancel", "-m", &cluster.address, &other]).assert_success();
    let main = cluster.job_id.clone();
    let (status, _, stderr) = cluster.wait();
    assert!(!status.success());
    assert_eq!(
        stderr,
        format!(
            "Waiting for the jobs submitted to this cluster to end: {other} (cancel them with `brook cancel`)\n\
             error: job Socket Window WordCount ({main}) was canceled"
        )
    );
}

#[test]
fn run_m_prints_the_jobs_accumulators_as_run_local_does() {
    let lines = LineServer::start("to be\n");
    let cluster = RunningJob::start(lines.port, &["-D", "taskmanager.numberOfTaskSlots=2"]);
    list_until_running(&cluster);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ledger.csv");
    // Line 2 has a bad timestamp: skipped and counted in `malformed-lines`.
    std::fs::write(&input, "a,1000,0.50\na,soon,700.00\na,2000,900.00\n").unwrap();
    let output = dir.path().join("alerts.csv");
    let run = brook([
        "run",
        "-m",
        &cluster.address,
        "fraud-detection",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    run.assert_success();
    let id = submitted_id(&run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 6, "{}", run.stderr);
    assert_eq!(lines[1..3], ["Program execution finished".to_string(), format!("Job with JobID {id} has finished.")]);
    assert!(lines[3].starts_with("Job Runtime: "), "{}", run.stderr);
    assert_eq!(lines[4..], ["Accumulator Results:", "- malformed-lines: 1"]);
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "a,2000,900.00\n");
    let rest = brook_web::RestClient::new(cluster.address.clone()).unwrap();
    assert_eq!(
        rest.get(&format!("/jobs/{id}/accumulators")).unwrap(),
        serde_json::json!({
            "job-accumulators": [],
            "user-task-accumulators": [{ "name": "malformed-lines", "type": "LongCounter", "value": "1" }],
            "serialized-user-task-accumulators": {},
        })
    );
}
