//! `brook cluster start | stop`, Flink's start-cluster.sh and stop-cluster.sh: a
//! JobManager and TaskManagers as background processes with logs in `env.log.dir`
//! and PIDs in `env.pid.dir`; `stop` ends exactly the recorded processes.

use super::{committed, local_output, write_input};
use crate::cli::brook;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Alive and not a zombie.
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat.rsplit_once(')').unwrap().1.trim_start().starts_with('Z'))
}

fn cmdline(pid: i32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    raw.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect()
}

fn read_pids(path: &Path) -> Vec<(String, i32)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| {
            let (role, pid) = l.split_once(' ').unwrap();
            (role.to_string(), pid.parse().unwrap())
        })
        .collect()
}

/// Kills whatever the PID file still lists when a test fails half-way.
struct KillOnDrop(PathBuf);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for (_, pid) in read_pids(&self.0) {
            if running(pid) && cmdline(pid).iter().any(|a| a.contains("brook")) {
                let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
    }
}

#[test]
fn cluster_start_runs_a_job_manager_and_task_managers_that_cluster_stop_ends() {
    let dir = tempfile::tempdir().unwrap();
    let (rest_port, rpc_port) = (free_port(), free_port());
    let settings = [
        format!("env.pid.dir={}", dir.path().join("pids").display()),
        format!("env.log.dir={}", dir.path().join("log").display()),
        format!("rest.port={rest_port}"),
        format!("jobmanager.rpc.port={rpc_port}"),
    ];
    std::fs::create_dir_all(dir.path().join("pids")).unwrap();
    let user = std::env::var("USER").unwrap_or_else(|_| "brook".to_string());
    let pid_file = dir.path().join("pids").join(format!("brook-{user}-cluster.pid"));
    let _guard = KillOnDrop(pid_file.clone());
    let with_settings = |verb: &[&str]| {
        let mut args: Vec<String> = verb.iter().map(|s| s.to_string()).collect();
        for s in &settings {
            args.extend(["-D".to_string(), s.clone()]);
        }
        args
    };

    let start = brook(with_settings(&["cluster", "start", "--taskmanagers", "2", "--slots", "2"]));
    start.assert_success();
    let pids = read_pids(&pid_file);
    let roles: Vec<&str> = pids.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(roles, ["jobmanager", "taskmanager", "taskmanager"], "{:?}", std::fs::read_to_string(&pid_file));
    let started = format!(
        "Started a JobManager (pid {}) and 2 TaskManager(s); REST API at http://localhost:{rest_port}; logs in {}; \
         PIDs in {}",
        pids[0].1,
        dir.path().join("log").display(),
        pid_file.display()
    );
    assert_eq!(start.stderr.trim_end(), started);
    for (role, pid) in &pids {
        assert!(running(*pid), "{role} {pid} runs");
        assert!(cmdline(*pid).contains(role), "{pid} is a brook {role}: {:?}", cmdline(*pid));
    }
    let log = |name: &str| std::fs::read_to_string(dir.path().join("log").join(name)).unwrap();
    assert!(log("brook-jobmanager.log").contains(&format!("Rest endpoint listening at http://127.0.0.1:{rest_port}")));
    for n in 0..2 {
        assert!(
            log(&format!("brook-taskmanager-{n}.log")).contains("with 2 slots"),
            "{}",
            log("brook-taskmanager-0.log")
        );
    }

    // The cluster runs a job at parallelism 4 over its four slots, as local mode does.
    let input = write_input(dir.path(), 100);
    let expected = local_output(&input, &dir.path().join("local"), 4);
    let output = dir.path().join("cluster");
    let address = format!("127.0.0.1:{rest_port}");
    let args = ["run", "-m", &address, "-p", "4", "wordcount", "--input", input.to_str().unwrap(), "--output"];
    let mut args: Vec<&str> = args.to_vec();
    args.push(output.to_str().unwrap());
    brook(&args).assert_success();
    assert_eq!(committed(&output), expected);

    // A second start refuses while the first cluster runs.
    let again = brook(with_settings(&["cluster", "start"]));
    let error = again.assert_only_error();
    assert!(error.starts_with("error: a cluster started by `brook cluster start` is running (jobmanager "), "{error}");
    assert!(error.ends_with("stop it first with `brook cluster stop`"), "{error}");
    assert_eq!(read_pids(&pid_file), pids, "the refused start left the PID file alone");

    let stop = brook(with_settings(&["cluster", "stop"]));
    stop.assert_success();
    let lines: Vec<String> = stop.stderr.lines().map(str::to_string).collect();
    assert_eq!(
        lines,
        [
            format!("Stopped the taskmanager (pid {})", pids[2].1),
            format!("Stopped the taskmanager (pid {})", pids[1].1),
            format!("Stopped the jobmanager (pid {})", pids[0].1),
            "Stopped 3 process(es)".to_string(),
        ]
    );
    for (role, pid) in &pids {
        assert!(!running(*pid), "{role} {pid} ended");
    }
    assert!(!pid_file.exists(), "stop removes the PID file");
    let none = brook(with_settings(&["cluster", "stop"]));
    none.assert_success();
    assert_eq!(
        none.stderr.trim_end(),
        format!("No cluster to stop: no PID file at {} (env.pid.dir)", pid_file.display())
    );
}
