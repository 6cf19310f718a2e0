//! The verbs that talk to a running cluster over its REST API — `brook list`,
//! `cancel`, `savepoint`, `stop` — against `brook run --local -D rest.port=0` running
//! the socket job in a child process.

use crate::cli::brook;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A TCP server the socket job reads from: sends `lines`, then keeps the connection
/// open until dropped.
pub struct LineServer {
    pub port: u16,
    close: Option<mpsc::Sender<()>>,
}

impl LineServer {
    pub fn start(lines: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (close, closed) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            let Ok((mut conn, _)) = listener.accept() else { return };
            let _ = conn.write_all(lines.as_bytes());
            let _ = closed.recv();
        });
        Self { port, close: Some(close) }
    }
}

impl Drop for LineServer {
    fn drop(&mut self) {
        drop(self.close.take());
    }
}

/// `brook run --local -D rest.port=0 socket-window-wordcount …` in a child process,
/// with the JobID and REST address it printed. Killed (by its PID) on drop.
pub struct RunningJob {
    child: Child,
    pub job_id: String,
    pub address: String,
    stderr: mpsc::Receiver<String>,
    /// Log lines read before the JobID and the address.
    early: Vec<String>,
    stdout: std::thread::JoinHandle<String>,
}

impl RunningJob {
    pub fn start(port: u16, extra: &[&str]) -> Self {
        Self::start_logging(port, extra, None)
    }

    /// With `rust_log`, the process logs at that level, and log lines are let through.
    fn start_logging(port: u16, extra: &[&str], rust_log: Option<&str>) -> Self {
        let mut args = vec!["run", "--local", "-D", "rest.port=0"];
        args.extend_from_slice(extra);
        let port = port.to_string();
        args.extend(["socket-window-wordcount", "--hostname", "127.0.0.1", "--port", &port, "--window-seconds", "1"]);
        let mut command = Command::new(env!("CARGO_BIN_EXE_brook"));
        command.args(&args).env_remove("BROOK_CONF_DIR").env_remove("RUST_LOG");
        if let Some(level) = rust_log {
            command.env("RUST_LOG", level).env("NO_COLOR", "1");
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the brook binary cargo built for this test can be started");
        let (tx, stderr) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let out = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || std::io::read_to_string(out).unwrap_or_default());
        let mut job_id = None;
        let mut address = None;
        let mut early = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while job_id.is_none() || address.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = stderr.recv_timeout(left).unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("`brook {}` did not print its JobID and REST address", args.join(" "))
            });
            if let Some(id) = line.strip_prefix("Job has been submitted with JobID ") {
                job_id = Some(id.to_string());
            } else if let Some(a) = line.strip_prefix("Rest endpoint listening at ") {
                address = Some(a.to_string());
            } else if rust_log.is_none() {
                let _ = child.kill();
                panic!("unexpected stderr line before the job runs: {line}");
            } else {
                early.push(line);
            }
        }
        let job = Self { child, job_id: job_id.unwrap(), address: address.unwrap(), stderr, early, stdout };
        assert!(job.address.starts_with("127.0.0.1:"), "the REST API binds loopback: {}", job.address);
        job
    }

    /// Waits for the process to exit; its exit status, stdout and remaining stderr.
    pub fn wait(mut self) -> (std::process::ExitStatus, String, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "`brook run` did not exit");
            std::thread::sleep(Duration::from_millis(20));
        };
        // Until the reader saw the end of stderr.
        let mut stderr = std::mem::take(&mut self.early);
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_secs(10)) {
            stderr.push(line);
        }
        let stdout = std::mem::replace(&mut self.stdout, std::thread::spawn(String::new)).join().unwrap();
        (status, stdout, stderr.join("\n"))
    }
}

impl Drop for RunningJob {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `brook list -m ADDR` until the job shows RUNNING, and `GET /jobs/:jobid` until every
/// task runs (savepoints need that, as in Flink); the list's stdout.
pub fn list_until_running(job: &RunningJob) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let listed = loop {
        let list = brook(["list", "-m", &job.address]);
        list.assert_success();
        if list.stdout.contains("(RUNNING)") {
            break list.stdout;
        }
        assert!(Instant::now() < deadline, "the job never showed RUNNING:\n{}", list.stdout);
        std::thread::sleep(Duration::from_millis(50));
    };
    let rest = brook_web::RestClient::new(job.address.clone()).unwrap();
    loop {
        let details = rest.get(&format!("/jobs/{}", job.job_id)).unwrap();
        let vertices = details["vertices"].as_array().unwrap();
        if vertices.iter().all(|v| v["tasks"]["RUNNING"] == v["parallelism"]) {
            return listed;
        }
        assert!(Instant::now() < deadline, "not every task started running: {details}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assert_listed_running(stdout: &str, job_id: &str) {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert_eq!(lines[0], "Waiting for response...");
    assert_eq!(lines[1], "------------------ Running/Restarting Jobs -------------------");
    let (date, rest) = lines[2].split_at(19);
    assert_eq!(rest, format!(" : {job_id} : Socket Window WordCount (RUNNING)"), "{stdout}");
    assert!(date.as_bytes()[2] == b'.' && date.as_bytes()[5] == b'.' && date.as_bytes()[10] == b' ', "{date}");
    assert_eq!(lines[3], "--------------------------------------------------------------");
    assert_eq!(lines[4], "No scheduled jobs.");
}

#[test]
fn list_savepoint_stop_and_restore_a_running_job() {
    let lines = LineServer::start("to be or not to be\n");
    let job = RunningJob::start(lines.port, &[]);
    assert_listed_running(&list_until_running(&job), &job.job_id);

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().to_str().unwrap();
    let savepoint = brook(["savepoint", "-m", &job.address, &job.job_id, target]);
    savepoint.assert_success();
    let out: Vec<&str> = savepoint.stdout.lines().collect();
    assert_eq!(out[..2], [format!("Triggering savepoint for job {}.", job.job_id), "Waiting for response...".into()]);
    let path = out[2].strip_prefix("Savepoint completed. Path: ").unwrap_or_else(|| panic!("{}", savepoint.stdout));
    assert_eq!(out[3], "You can resume your program from this savepoint with the run command.");
    assert_eq!(out.len(), 4, "{}", savepoint.stdout);
    let local = path.strip_prefix("file://").unwrap_or(path);
    assert!(local.starts_with(target), "{path} is under {target}");
    assert!(std::path::Path::new(local).join("_metadata").is_file(), "{path} has _metadata");

    // Still running after a plain savepoint.
    assert_listed_running(&list_until_running(&job), &job.job_id);

    let stop = brook(["stop", "--drain", "-p", target, "-m", &job.address, &job.job_id]);
    stop.assert_success();
    let out: Vec<&str> = stop.stdout.lines().collect();
    assert_eq!(out[0], format!("Draining job \"{}\" with a CANONICAL savepoint.", job.job_id));
    let stopped_at = out[1].strip_prefix("Savepoint completed. Path: ").unwrap_or_else(|| panic!("{}", stop.stdout));
    assert_eq!(out.len(), 2, "{}", stop.stdout);
    assert_ne!(stopped_at, path);
    let (status, _, stderr) = job.wait();
    assert!(status.success(), "a stopped job finishes: {status}\n{stderr}");
    assert!(stderr.contains("Program execution finished"), "{stderr}");

    // Restore from the stop's savepoint, then cancel.
    let lines = LineServer::start("be\n");
    let restored = RunningJob::start_logging(lines.port, &["-s", stopped_at], Some("brook_cluster=info"));
    assert_listed_running(&list_until_running(&restored), &restored.job_id);
    let cancel = brook(["cancel", "-m", &restored.address, &restored.job_id]);
    cancel.assert_success();
    assert_eq!(cancel.stdout, format!("Cancelling job {id}.\nCancelled job {id}.\n", id = restored.job_id));
    let id = restored.job_id.clone();
    let (status, _, stderr) = restored.wait();
    assert!(!status.success());
    assert!(stderr.ends_with(&format!("error: job Socket Window WordCount ({id}) was canceled")), "{stderr}");
    // The JobMaster restored the job from the stop's savepoint.
    assert!(
        stderr.lines().any(|l| l.contains("restoring the job") && l.contains(&format!("path={stopped_at}"))),
        "{stderr}"
    );
}

#[test]
fn cancel_ends_the_run_with_canceled() {
    let lines = LineServer::start("a\n");
    let job = RunningJob::start(lines.port, &[]);
    list_until_running(&job);
    let list_all = brook(["list", "-a", "-m", &job.address]);
    list_all.assert_success();
    assert_listed_running(&list_all.stdout, &job.job_id);
    let cancel = brook(["cancel", "-m", &job.address, &job.job_id]);
    cancel.assert_success();
    let id = job.job_id.clone();
    let (status, _, stderr) = job.wait();
    assert!(!status.success());
    assert!(stderr.ends_with(&format!("error: job Socket Window WordCount ({id}) was canceled")), "{stderr}");
}

#[test]
fn an_unreachable_cluster_is_one_line_naming_the_address() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    for args in [
        vec!["list".to_string(), "-m".into(), format!("127.0.0.1:{port}")],
        vec![
            "list".to_string(),
            "-D".into(),
            "rest.address=127.0.0.1".into(),
            "-D".into(),
            format!("rest.port={port}"),
        ],
        vec!["cancel".to_string(), "-m".into(), format!("127.0.0.1:{port}"), "0123456789abcdef0123456789abcdef".into()],
    ] {
        let run = brook(&args);
        let error = run.assert_only_error();
        assert!(error.starts_with(&format!("error: cannot reach the REST API at 127.0.0.1:{port} (")), "{error}");
        assert!(
            error.ends_with("point the CLI at it with -m host:port or -D rest.address=HOST -D rest.port=PORT"),
            "{error}"
        );
    }
}

#[test]
fn unknown_and_malformed_job_ids_are_errors() {
    let lines = LineServer::start("a\n");
    let job = RunningJob::start(lines.port, &[]);
    let unknown = "0123456789abcdef0123456789abcdef";
    let run = brook(["cancel", "-m", &job.address, unknown]);
    assert_eq!(
        run.assert_only_error(),
        format!("error: the REST API at {} answered 404: Job {unknown} not found", job.address)
    );
    let run = brook(["savepoint", "-m", &job.address, "xyz"]);
    assert_eq!(run.assert_only_error(), "error: 'xyz' is not a job id: expected 32 hex digits (see `brook list`)");
}

#[test]
fn a_taken_rest_port_is_an_error_before_the_job_runs() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let run = brook(["run", "--local", "-D", &format!("rest.port={port}"), "wordcount"]);
    let error = run.assert_only_error();
    assert!(
        error.starts_with(&format!("error: cluster error: cannot start the REST server on 127.0.0.1:{port}: ")),
        "{error}"
    );
    assert!(error.ends_with("e.g. -D rest.port=0"), "{error}");
}

#[test]
fn a_failed_savepoint_is_one_error_line_and_the_job_keeps_running() {
    let lines = LineServer::start("a\n");
    let job = RunningJob::start(lines.port, &[]);
    list_until_running(&job);
    // No target directory and no execution.checkpointing.savepoint-dir.
    let run = brook(["savepoint", "-m", &job.address, &job.job_id]);
    let error = run.assert_only_error();
    assert!(error.starts_with(&format!("error: savepoint of job {} failed: ", job.job_id)), "{error}");
    assert!(error.contains("execution.checkpointing.savepoint-dir"), "says what to set: {error}");
    assert_eq!(run.stdout, format!("Triggering savepoint for job {}.\nWaiting for response...\n", job.job_id));
    assert_listed_running(&list_until_running(&job), &job.job_id);
}

/// Without `rest.port`, `brook run` binds any free port when 8081 is taken, so that
/// several local runs can share a machine; the printed address is where the API is.
#[test]
fn without_rest_port_run_binds_another_port_when_8081_is_taken() {
    let Ok(_held) = TcpListener::bind("127.0.0.1:8081") else {
        // Taken by another process: then the runs below fall back anyway.
        return;
    };
    let run = brook(["run", "--local", "wordcount"]);
    run.assert_success();
    let address = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("Rest endpoint listening at "))
        .unwrap_or_else(|| panic!("no REST address in\n{}", run.stderr));
    assert!(address.starts_with("127.0.0.1:") && address != "127.0.0.1:8081", "{address}");
}

#[test]
fn a_jobmanager_that_is_not_host_and_port_is_an_error() {
    let run = brook(["list", "-m", "nonsense"]);
    assert_eq!(run.assert_only_error(), "error: -m nonsense: expected host:port, e.g. -m localhost:8081");
}
