//! The application's one binary in every role: on its embedded local cluster, and as
//! a JobManager plus a TaskManager process with `run -m` submitting to them. Both runs
//! write exactly the sums of 1..=N by last digit.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const APP: &str = env!("CARGO_BIN_EXE_parity-app");
const STARTUP: Duration = Duration::from_secs(60);

/// `digit,count,sum` of 1..=1000 by last digit: 100 numbers each; digit d ≥ 1 sums
/// d + (d + 10) + … + (d + 990) = 100·d + 49,500, digit 0 sums 10 + … + 1000 = 50,500.
fn expected() -> Vec<String> {
    let mut lines: Vec<String> = (0..10)
        .map(|d: i64| {
            let sum = if d == 0 { 50_500 } else { 100 * d + 49_500 };
            format!("{d},100,{sum}")
        })
        .collect();
    lines.sort();
    lines
}

/// Every line of every file in `dir`, sorted.
fn output_lines(dir: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        lines.extend(text.lines().map(str::to_string));
    }
    lines.sort();
    lines
}

#[test]
fn run_local_computes_the_sums_of_the_applications_own_program() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let status = Command::new(APP)
        .args(["run", "--local", "-p", "2", "-D", "rest.port=0", "parity-counts", "--count", "1000", "--output"])
        .arg(&out)
        .env_remove("BROOK_CONF_DIR")
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(output_lines(&out), expected());
}

/// A process of the application, killed on drop; its stderr lines arrive on `lines`.
struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Process {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(APP)
            .args(args)
            .env_remove("BROOK_CONF_DIR")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines, seen: Vec::new() }
    }

    /// What follows `marker` on the first stderr line that has it.
    fn wait_for(&mut self, marker: &str) -> String {
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Some(line) = self.seen.iter().find(|l| l.contains(marker)) {
                return line.split(marker).nth(1).unwrap().trim().to_string();
            }
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no line with '{marker}'; stderr so far:\n{}", self.seen.join("\n")),
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_get(address: &str, path: &str) -> String {
    let Ok(mut stream) = std::net::TcpStream::connect(address) else { return String::new() };
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return String::new();
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.split("\r\n\r\n").nth(1).unwrap_or_default().to_string()
}

#[test]
fn the_application_is_its_own_job_manager_task_manager_and_client() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut job_manager = Process::start(&["jobmanager", "-D", "jobmanager.rpc.port=0", "-D", "rest.port=0"]);
    let rpc = job_manager.wait_for("RPC endpoint listening at ");
    let rest = job_manager.wait_for("Rest endpoint listening at http://");
    let rpc_port = format!("jobmanager.rpc.port={}", rpc.rsplit(':').next().unwrap());
    let _task_manager = Process::start(&["taskmanager", "-D", &rpc_port, "-D", "taskmanager.numberOfTaskSlots=2"]);
    let deadline = Instant::now() + STARTUP;
    loop {
        let overview: serde_json::Value = serde_json::from_str(&http_get(&rest, "/overview")).unwrap_or_default();
        if overview["taskmanagers"].as_u64() == Some(1) {
            break;
        }
        assert!(Instant::now() < deadline, "the TaskManager did not register: {overview}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The JobManager lists the application's program, not the built-in jobs.
    let jars: serde_json::Value = serde_json::from_str(&http_get(&rest, "/jars")).unwrap();
    let ids: Vec<&str> = jars["files"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["parity-counts"]);

    let run = Command::new(APP)
        .args(["run", "-m", &rest, "-p", "2", "parity-counts", "--count", "1000", "--output"])
        .arg(&out)
        .env_remove("BROOK_CONF_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "run -m failed: {stderr}");
    assert!(stderr.contains("Job has been submitted with JobID "), "{stderr}");
    assert_eq!(output_lines(&out), expected());
}
