//! A standalone cluster of real processes on 127.0.0.1: `brook jobmanager` and
//! `brook taskmanager`s started from the built binary (killed by PID on drop),
//! jobs submitted over the control plane, observed over REST.

use crate::cli::brook;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A `brook` process; its stderr lines arrive on `lines`. Killed on drop.
struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Process {
    /// Logs at info level: what the control plane did is in `seen` when a test fails.
    fn start(role: &str, args: &[String]) -> Self {
        Self::start_with_stdout(role, args, Stdio::null())
    }

    /// Like `start`, with its stdout going to `stdout` (e.g. `Stdio::piped()`, taken
    /// from `child.stdout`).
    fn start_with_stdout(role: &str, args: &[String], stdout: Stdio) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_brook"))
            .arg(role)
            .args(args)
            .env_remove("BROOK_CONF_DIR")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("the brook binary cargo built for this test can be started");
        let (tx, lines) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines, seen: Vec::new() }
    }

    /// The first stderr line (from the start) containing `needle`.
    fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> String {
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        let deadline = Instant::now() + timeout;
        while let Ok(line) = self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            self.seen.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
        panic!("no line with '{needle}' within {timeout:?}; stderr so far:\n{}", self.seen.join("\n"));
    }

    /// Every stderr line so far.
    fn log(&mut self) -> String {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        self.seen.join("\n")
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A JobManager with its RPC and REST addresses.
struct JobManager {
    process: Process,
    rpc: String,
    rest: String,
}

impl JobManager {
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// With `-D` for each of `settings`.
    fn start_with(settings: &[&str]) -> Self {
        let mut args: Vec<String> = ["-D", "jobmanager.rpc.port=0", "-D", "rest.port=0"].map(String::from).to_vec();
        // A later -D of the same key wins.
        for setting in settings {
            args.extend(["-D".to_string(), setting.to_string()]);
        }
        let mut process = Process::start("jobmanager", &args);
        let rpc = after(&process.wait_for_line("RPC endpoint listening at ", STARTUP), "listening at ");
        let rest = after(&process.wait_for_line("Rest endpoint listening at http://", STARTUP), "http://");
        Self { process, rpc, rest }
    }

    fn start_task_manager(&self, slots: usize) -> Process {
        let port = self.rpc.rsplit(':').next().unwrap();
        let args = vec![
            "-D".to_string(),
            format!("jobmanager.rpc.port={port}"),
            "-D".to_string(),
            format!("taskmanager.numberOfTaskSlots={slots}"),
        ];
        Process::start("taskmanager", &args)
    }

    fn get(&self, path: &str) -> String {
        http_get(&self.rest, path)
    }

    /// Waits until the REST overview lists `n` TaskManagers.
    fn wait_for_task_managers(&self, n: usize) {
        let registered = || {
            let value: serde_json::Value = serde_json::from_str(&self.get("/overview")).unwrap_or_default();
            value["taskmanagers"].as_u64()
        };
        wait_until(STARTUP, || registered() == Some(n as u64), || self.get("/overview"));
    }

    fn job_state(&self, job: &str) -> String {
        let body = self.get(&format!("/jobs/{job}/status"));
        let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        value["status"].as_str().unwrap_or_default().to_string()
    }

    fn wait_for_state(&mut self, job: &str, state: &str, timeout: Duration) -> Instant {
        let deadline = Instant::now() + timeout;
        while self.job_state(job) != state {
            if Instant::now() > deadline {
                panic!("job {job} is {}, not {state}; JobManager log:\n{}", self.job_state(job), self.process.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Instant::now()
    }

    fn submit(&self, program_args: &[String], config: &[(&str, &str)]) -> String {
        self.try_submit(program_args, config).unwrap()
    }

    fn try_submit(&self, program_args: &[String], config: &[(&str, &str)]) -> Result<String, String> {
        let mut configuration = brook_types::config::Configuration::new();
        for (k, v) in config {
            configuration.set(k, v, "test").unwrap();
        }
        let spec = brook_cluster::ProgramSpec { program: "wordcount".into(), args: program_args.to_vec() };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let submitted = runtime.block_on(brook_cluster::rpc::submit_program(&self.rpc, &spec, &configuration));
        submitted.map(|id| id.to_string()).map_err(|e| e.to_string())
    }
}

const STARTUP: Duration = Duration::from_secs(30);

mod backpressure;
mod cli_verbs;
mod cluster_script;
mod missing_program;

fn after(line: &str, marker: &str) -> String {
    line.split(marker).nth(1).unwrap().trim().to_string()
}

fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool, describe: impl Fn() -> String) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?}: {}", describe());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A GET over HTTP/1.1 with `Connection: close`; the body ("" if unreachable).
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

/// Two input files of `lines` lines each, over a vocabulary of 40 words.
fn write_input(dir: &Path, lines: usize) -> PathBuf {
    let input = dir.join("input");
    std::fs::create_dir_all(&input).unwrap();
    for f in 0..2 {
        let text: String = (0..lines)
            .map(|i| {
                let n = f * lines + i;
                format!("w{} w{} W{}, w{}\n", n % 40, (n * 7) % 40, (n * 13) % 40, (n / 3) % 40)
            })
            .collect();
        std::fs::write(input.join(format!("part-{f}.txt")), text).unwrap();
    }
    input
}

/// The committed lines of an output directory (files not starting with '.'), counted.
fn committed(dir: &Path) -> BTreeMap<String, usize> {
    let mut lines = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        for line in std::fs::read_to_string(entry.path()).unwrap().lines() {
            *lines.entry(line.to_string()).or_insert(0) += 1;
        }
    }
    lines
}

/// The same job in local mode: what the cluster must commit.
fn local_output(input: &Path, output: &Path, parallelism: usize) -> BTreeMap<String, usize> {
    let parallelism = parallelism.to_string();
    let slots = format!("taskmanager.numberOfTaskSlots={parallelism}");
    brook([
        "run",
        "--local",
        "-D",
        &slots,
        "-p",
        &parallelism,
        "wordcount",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ])
    .assert_success();
    committed(output)
}

fn wordcount_args(input: &Path, output: &Path, lines_per_second: u64) -> Vec<String> {
    vec![
        "--input".into(),
        input.to_str().unwrap().into(),
        "--output".into(),
        output.to_str().unwrap().into(),
        "--lines-per-second".into(),
        lines_per_second.to_string(),
        "--execution-mode".into(),
        "streaming".into(),
    ]
}

#[test]
fn a_keyed_job_on_a_task_manager_process_commits_what_local_mode_commits() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(dir.path(), 500);
    let expected = local_output(&input, &dir.path().join("local"), 2);
    assert_eq!(expected.values().sum::<usize>(), 4000, "every word of both files is counted once");

    let mut jm = JobManager::start();
    let _tm = jm.start_task_manager(2);
    jm.wait_for_task_managers(1);
    let output = dir.path().join("cluster");
    let checkpoints = format!("file://{}", dir.path().join("checkpoints").display());
    let job = jm.submit(
        &wordcount_args(&input, &output, 100_000),
        &[
            ("parallelism.default", "2"),
            ("execution.checkpointing.interval", "1 s"),
            ("execution.checkpointing.dir", &checkpoints),
        ],
    );
    jm.wait_for_state(&job, "FINISHED", Duration::from_secs(60));
    assert_eq!(committed(&output), expected);
}

#[test]
fn a_keyed_job_at_parallelism_4_runs_across_two_task_managers_and_commits_what_local_mode_commits() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(dir.path(), 500);
    let expected = local_output(&input, &dir.path().join("local"), 4);

    let mut jm = JobManager::start();
    let mut tm1 = jm.start_task_manager(2);
    let mut tm2 = jm.start_task_manager(2);
    jm.wait_for_task_managers(2);
    let output = dir.path().join("cluster");
    let checkpoints = format!("file://{}", dir.path().join("checkpoints").display());
    let job = jm.submit(
        &wordcount_args(&input, &output, 100_000),
        &[
            ("parallelism.default", "4"),
            ("execution.checkpointing.interval", "1 s"),
            ("execution.checkpointing.dir", &checkpoints),
        ],
    );
    wait_for_finish(&mut jm, &job, &mut [&mut tm1, &mut tm2]);
    assert_eq!(committed(&output), expected);
}

#[test]
fn a_job_needing_more_slots_than_registered_is_refused_with_both_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(dir.path(), 10);
    let jm = JobManager::start();
    let _tm = jm.start_task_manager(1);
    jm.wait_for_task_managers(1);
    let args = wordcount_args(&input, &dir.path().join("out"), 1000);
    let err = jm.try_submit(&args, &[("parallelism.default", "3")]).unwrap_err();
    assert_eq!(
        err,
        format!(
            "cluster error: the JobManager at {} refused the job: not enough task slots: the job needs 3 slots (slot \
             sharing group 'default' needs 3) but the cluster has 1; lower the parallelism (-p) or raise \
             taskmanager.numberOfTaskSlots",
            jm.rpc
        )
    );
}

#[test]
fn an_unreachable_job_manager_is_named_when_the_task_manager_gives_up() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let args: Vec<String> = [
        "-D".to_string(),
        format!("jobmanager.rpc.port={port}"),
        "-D".to_string(),
        "taskmanager.registration.timeout=1 s".to_string(),
    ]
    .to_vec();
    let mut tm = Process::start("taskmanager", &args);
    let line = tm.wait_for_line("error: cluster error:", Duration::from_secs(30));
    let status = tm.child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    let expected_start = "error: cluster error: TaskManager ";
    assert!(line.starts_with(expected_start), "{line}");
    assert!(
        line.contains(&format!(
            "could not register at the JobManager at 127.0.0.1:{port} for 1 s (cannot reach the JobManager at \
             127.0.0.1:{port}: transport error"
        )),
        "{line}"
    );
    assert!(line.ends_with("taskmanager.registration.timeout bounds the wait)"), "{line}");
}

#[test]
fn a_killed_task_manager_of_two_fails_over_to_a_new_one_and_the_output_is_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(dir.path(), 10_000);
    let expected = local_output(&input, &dir.path().join("local"), 4);

    let mut jm = JobManager::start();
    let mut tm1 = jm.start_task_manager(2);
    jm.wait_for_task_managers(1);
    let mut tm2 = jm.start_task_manager(2);
    jm.wait_for_task_managers(2);
    let output = dir.path().join("cluster");
    let checkpoints = format!("file://{}", dir.path().join("checkpoints").display());
    let job = jm.submit(
        &wordcount_args(&input, &output, 1500),
        &[
            ("parallelism.default", "4"),
            ("execution.checkpointing.interval", "1 s"),
            ("execution.checkpointing.dir", &checkpoints),
            ("restart-strategy.type", "fixed-delay"),
            ("restart-strategy.fixed-delay.attempts", "5"),
            ("restart-strategy.fixed-delay.delay", "100 ms"),
        ],
    );
    jm.wait_for_state(&job, "RUNNING", Duration::from_secs(30));
    wait_until(
        Duration::from_secs(30),
        || jm.get(&format!("/jobs/{job}/checkpoints")).contains("\"className\":\"completed\""),
        || jm.get(&format!("/jobs/{job}/checkpoints")),
    );
    // Each TaskManager holds two subtasks of every parallel vertex.
    let killed = Instant::now();
    tm1.kill();
    let restarting = jm.wait_for_state(&job, "RESTARTING", Duration::from_secs(30));
    let lost = jm.process.wait_for_line("is lost: ", Duration::from_secs(10));
    assert!(lost.contains("TaskManager ") && lost.contains(" at 127.0.0.1:"), "{lost}");
    let waiting = jm.process.wait_for_line("waiting for 4 slots, 2 available", Duration::from_secs(10));
    assert!(waiting.contains("the job restarts once enough TaskManagers registered"), "{waiting}");
    // Nothing restarts without slots.
    assert_eq!(jm.job_state(&job), "RESTARTING");

    let started = Instant::now();
    let mut tm3 = jm.start_task_manager(2);
    jm.wait_for_state(&job, "RUNNING", Duration::from_secs(30));
    let running = all_subtasks_running(&jm, &job, 9);
    eprintln!(
        "failure detection: {} ms (kill -9 to RESTARTING); recovery: {} ms (new TaskManager started to every subtask \
         RUNNING again)",
        restarting.duration_since(killed).as_millis(),
        running.duration_since(started).as_millis()
    );
    wait_for_finish(&mut jm, &job, &mut [&mut tm2, &mut tm3]);
    assert_eq!(committed(&output), expected);
}

/// Waits until `job` FINISHED; else fails with the logs of the JobManager and `task_managers`.
fn wait_for_finish(jm: &mut JobManager, job: &str, task_managers: &mut [&mut Process]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while jm.job_state(job) != "FINISHED" {
        if Instant::now() > deadline {
            let logs: Vec<String> = task_managers.iter_mut().map(|tm| format!("TaskManager:\n{}", tm.log())).collect();
            panic!(
                "job {job} is {}, not FINISHED\nJobManager:\n{}\n{}",
                jm.job_state(job),
                jm.process.log(),
                logs.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `total` subtasks of `job` are RUNNING (per `GET /jobs/:jobid`).
fn all_subtasks_running(jm: &JobManager, job: &str, total: u64) -> Instant {
    let running = || {
        let details: serde_json::Value = serde_json::from_str(&jm.get(&format!("/jobs/{job}"))).unwrap_or_default();
        let vertices = details["vertices"].as_array().cloned().unwrap_or_default();
        vertices.iter().map(|v| v["tasks"]["RUNNING"].as_u64().unwrap_or(0)).sum::<u64>()
    };
    wait_until(Duration::from_secs(30), || running() == total, || format!("{} of {total} subtasks RUNNING", running()));
    Instant::now()
}

#[test]
fn a_hung_task_manager_is_lost_after_the_heartbeat_timeout_and_registers_again_when_it_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(dir.path(), 1000);
    let expected = local_output(&input, &dir.path().join("local"), 2);

    let mut jm = JobManager::start_with(&["heartbeat.interval=200 ms", "heartbeat.timeout=1 s"]);
    let tm1 = jm.start_task_manager(2);
    jm.wait_for_task_managers(1);
    let output = dir.path().join("cluster");
    let checkpoints = format!("file://{}", dir.path().join("checkpoints").display());
    let job = jm.submit(
        &wordcount_args(&input, &output, 250),
        &[
            ("parallelism.default", "2"),
            ("execution.checkpointing.interval", "1 s"),
            ("execution.checkpointing.dir", &checkpoints),
            ("restart-strategy.type", "fixed-delay"),
            ("restart-strategy.fixed-delay.attempts", "5"),
            ("restart-strategy.fixed-delay.delay", "100 ms"),
        ],
    );
    jm.wait_for_state(&job, "RUNNING", Duration::from_secs(30));
    let pid = tm1.child.id() as libc::pid_t;
    // SIGSTOP: the process and its connection stay, but it sends nothing.
    #[allow(unsafe_code)]
    // SAFETY: signals a child process this test started and still owns.
    let stopped = unsafe { libc::kill(pid, libc::SIGSTOP) };
    assert_eq!(stopped, 0);
    let hung = Instant::now();
    let restarting = jm.wait_for_state(&job, "RESTARTING", Duration::from_secs(30));
    let lost = jm.process.wait_for_line("is lost: no heartbeat for ", Duration::from_secs(10));
    assert!(lost.contains("ms (heartbeat.timeout is 1000 ms)"), "{lost}");
    let detection = restarting.duration_since(hung);
    // Its last heartbeat came at most one interval (200 ms) before it stopped.
    assert!(detection >= Duration::from_millis(800), "lost after {detection:?}, before heartbeat.timeout");

    let _tm2 = jm.start_task_manager(2);
    jm.wait_for_state(&job, "FINISHED", Duration::from_secs(120));
    assert_eq!(committed(&output), expected);

    #[allow(unsafe_code)]
    // SAFETY: as above.
    let resumed = unsafe { libc::kill(pid, libc::SIGCONT) };
    assert_eq!(resumed, 0);
    let resumed_at = Instant::now();
    jm.wait_for_task_managers(2);
    eprintln!(
        "hung TaskManager: lost after {} ms (heartbeat.timeout 1 s); registered again {} ms after it resumed",
        detection.as_millis(),
        resumed_at.elapsed().as_millis()
    );
}

#[test]
fn task_managers_register_again_with_a_restarted_job_manager() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let rpc_port = format!("jobmanager.rpc.port={port}");
    let mut jm = JobManager::start_with(&[&rpc_port]);
    assert_eq!(jm.rpc, format!("127.0.0.1:{port}"));
    let _tm = jm.start_task_manager(2);
    jm.wait_for_task_managers(1);
    jm.process.kill();

    let restarted = Instant::now();
    let jm = JobManager::start_with(&[&rpc_port]);
    jm.wait_for_task_managers(1);
    eprintln!("restarted JobManager: its TaskManager registered again after {} ms", restarted.elapsed().as_millis());
    let overview: serde_json::Value = serde_json::from_str(&jm.get("/overview")).unwrap();
    assert_eq!((overview["slots-total"].as_u64(), overview["slots-available"].as_u64()), (Some(2), Some(2)));
}

#[test]
fn brook_run_m_submits_to_the_standalone_job_manager_and_its_task_managers_run_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(dir.path(), 200);
    let expected = local_output(&input, &dir.path().join("local"), 4);
    let jm = JobManager::start();
    let _tm1 = jm.start_task_manager(2);
    let _tm2 = jm.start_task_manager(2);
    jm.wait_for_task_managers(2);
    let output = dir.path().join("cluster");
    let run = brook([
        "run",
        "-m",
        &jm.rest,
        "-p",
        "4",
        "wordcount",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    run.assert_success();
    assert_eq!(committed(&output), expected);
}

#[test]
fn a_killed_task_manager_fails_over_to_a_new_one_and_the_output_is_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(dir.path(), 10_000);
    let expected = local_output(&input, &dir.path().join("local"), 2);

    let mut jm = JobManager::start();
    let mut tm1 = jm.start_task_manager(2);
    jm.wait_for_task_managers(1);
    let output = dir.path().join("cluster");
    let checkpoints = format!("file://{}", dir.path().join("checkpoints").display());
    let job = jm.submit(
        &wordcount_args(&input, &output, 1500),
        &[
            ("parallelism.default", "2"),
            ("execution.checkpointing.interval", "1 s"),
            ("execution.checkpointing.dir", &checkpoints),
            ("restart-strategy.type", "fixed-delay"),
            ("restart-strategy.fixed-delay.attempts", "5"),
            ("restart-strategy.fixed-delay.delay", "100 ms"),
        ],
    );
    jm.wait_for_state(&job, "RUNNING", Duration::from_secs(30));
    wait_until(
        Duration::from_secs(30),
        || jm.get(&format!("/jobs/{job}/checkpoints")).contains("\"className\":\"completed\""),
        || jm.get(&format!("/jobs/{job}/checkpoints")),
    );
    let killed = Instant::now();
    tm1.kill();
    let restarting = jm.wait_for_state(&job, "RESTARTING", Duration::from_secs(30));
    let lost = jm.process.wait_for_line("is lost: ", Duration::from_secs(10));
    assert!(lost.contains("TaskManager ") && lost.contains(" at 127.0.0.1:"), "{lost}");
    let waiting = jm.process.wait_for_line("waiting for 2 slots, 0 available", Duration::from_secs(10));
    assert!(waiting.contains("the job restarts once enough TaskManagers registered"), "{waiting}");
    // Nothing restarts without slots.
    assert_eq!(jm.job_state(&job), "RESTARTING");

    let started = Instant::now();
    let mut tm2 = jm.start_task_manager(2);
    jm.wait_for_state(&job, "RUNNING", Duration::from_secs(30));
    let running = all_subtasks_running(&jm, &job, 5);
    eprintln!(
        "failure detection: {} ms (kill -9 to RESTARTING); recovery: {} ms (new TaskManager started to every subtask \
         RUNNING again)",
        restarting.duration_since(killed).as_millis(),
        running.duration_since(started).as_millis()
    );
    wait_for_finish(&mut jm, &job, &mut [&mut tm2]);
    assert_eq!(committed(&output), expected);
}

mod metrics;
