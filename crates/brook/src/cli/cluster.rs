//! `brook cluster start | stop`: a local standalone cluster, as Flink's
//! `bin/start-cluster.sh` and `bin/stop-cluster.sh`.
//!
//! `start` launches one `brook jobmanager` and N `brook taskmanager` processes of
//! this same binary, detached from the terminal, each writing its output to a log
//! file in `env.log.dir`; it records their PIDs in `env.pid.dir` and returns once
//! the JobManager's REST API reports every TaskManager registered (or fails, quoting
//! the end of the log of the process that did not come up, after stopping the
//! others). `stop` reads the PID file and ends exactly those processes: SIGTERM,
//! then SIGKILL after a grace period. A PID whose process is no longer a `brook`
//! process (the PID was reused) is left alone.

use anyhow::Context as _;
use brook_types::config::{Configuration, options};
use brook_web::RestClient;
use clap::{Args, Subcommand};
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long `start` waits for the cluster to come up.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `stop` waits after SIGTERM before it sends SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

#[derive(Args, Debug)]
pub struct ClusterArgs {
    #[command(subcommand)]
    command: ClusterCommand,
}

#[derive(Subcommand, Debug)]
enum ClusterCommand {
    /// Start a JobManager and TaskManagers as background processes of this machine.
    Start(StartArgs),
    /// Stop the processes `brook cluster start` started.
    Stop(ConfigArgs),
}

#[derive(Args, Debug)]
struct StartArgs {
    /// Number of TaskManagers.
    #[arg(long, default_value_t = 1)]
    taskmanagers: usize,
    /// Task slots per TaskManager (taskmanager.numberOfTaskSlots).
    #[arg(long)]
    slots: Option<usize>,
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Args, Debug)]
struct ConfigArgs {
    /// Set a configuration value for every process, e.g. -D rest.port=8082.
    #[arg(short = 'D', value_name = "key=value")]
    dynamic: Vec<String>,
    /// YAML configuration file every process reads (default: $BROOK_CONF_DIR/config.yaml if it exists).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl ConfigArgs {
    fn configuration(&self) -> anyhow::Result<Configuration> {
        let mut config = match &self.config {
            Some(path) => Configuration::load_yaml_file(path)?,
            None => match std::env::var_os("BROOK_CONF_DIR").map(|d| PathBuf::from(d).join("config.yaml")) {
                Some(path) if path.exists() => Configuration::load_yaml_file(&path)?,
                _ => Configuration::new(),
            },
        };
        for pair in &self.dynamic {
            config.set_dynamic(pair)?;
        }
        Ok(config)
    }

    /// The same `--config` and `-D` for a child process.
    fn pass_on(&self, command: &mut Command) {
        if let Some(path) = &self.config {
            command.arg("--config").arg(path);
        }
        for pair in &self.dynamic {
            command.arg("-D").arg(pair);
        }
    }
}

pub fn cluster(args: ClusterArgs) -> anyhow::Result<()> {
    match args.command {
        ClusterCommand::Start(start_args) => start(&start_args),
        ClusterCommand::Stop(config) => stop(&config.configuration()?),
    }
}

/// One process of the cluster, as recorded in the PID file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Recorded {
    role: String,
    pid: i32,
}

fn pid_file(config: &Configuration) -> PathBuf {
    let user = std::env::var("USER").unwrap_or_else(|_| "brook".to_string());
    Path::new(&config.get_raw(&options::ENV_PID_DIR)).join(format!("brook-{user}-cluster.pid"))
}

fn read_pid_file(path: &Path) -> anyhow::Result<Vec<Recorded>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read the PID file {}", path.display())),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            let parsed = line.split_once(' ').and_then(|(role, pid)| Some((role, pid.trim().parse::<i32>().ok()?)));
            let (role, pid) = parsed.ok_or_else(|| {
                anyhow::anyhow!(
                    "{} line {}: expected '<role> <pid>', found '{line}'; remove the file if no cluster runs",
                    path.display(),
                    i + 1
                )
            })?;
            Ok(Recorded { role: role.to_string(), pid })
        })
        .collect()
}

/// Whether `pid` is alive and still one of our `brook` processes in `role`.
fn is_ours(process: &Recorded) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{}/cmdline", process.pid)) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    args.contains(&process.role.as_bytes())
        && args.first().is_some_and(|exe| String::from_utf8_lossy(exe).contains("brook"))
}

fn start(args: &StartArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.taskmanagers >= 1, "--taskmanagers must be at least 1");
    if let Some(slots) = args.slots {
        anyhow::ensure!(slots >= 1, "--slots must be at least 1");
    }
    let config = args.config.configuration()?;
    let pids = pid_file(&config);
    let running: Vec<Recorded> = read_pid_file(&pids)?.into_iter().filter(is_ours).collect();
    if !running.is_empty() {
        let list: Vec<String> = running.iter().map(|p| format!("{} {}", p.role, p.pid)).collect();
        anyhow::bail!(
            "a cluster started by `brook cluster start` is running ({}; PIDs in {}); stop it first with `brook cluster stop`",
            list.join(", "),
            pids.display()
        );
    }
    let log_dir = PathBuf::from(config.get_raw(&options::ENV_LOG_DIR));
    std::fs::create_dir_all(&log_dir)
        .with_context(|| format!("cannot create the log directory {} (env.log.dir)", log_dir.display()))?;
    let exe = std::env::current_exe().context("cannot find the brook binary to start")?;

    let mut started = Vec::new();
    let result = (|| {
        let jobmanager_log = log_dir.join("brook-jobmanager.log");
        started.push(spawn(&exe, "jobmanager", &args.config, &[], &jobmanager_log)?);
        for n in 0..args.taskmanagers {
            let slots: Vec<String> =
                args.slots.map(|s| format!("{}={s}", options::NUMBER_OF_TASK_SLOTS.key)).into_iter().collect();
            let log = log_dir.join(format!("brook-taskmanager-{n}.log"));
            started.push(spawn(&exe, "taskmanager", &args.config, &slots, &log)?);
        }
        write_pid_file(&pids, &started)?;
        wait_until_up(&config, args.taskmanagers, &mut started)
    })();
    match result {
        Ok(rest) => {
            eprintln!(
                "Started a JobManager (pid {}) and {} TaskManager(s); REST API at http://{rest}; logs in {}; PIDs in {}",
                started[0].process.pid,
                args.taskmanagers,
                log_dir.display(),
                pids.display()
            );
            Ok(())
        }
        Err(e) => {
            for p in &started {
                terminate(&p.process);
            }
            let _ = std::fs::remove_file(&pids);
            Err(e)
        }
    }
}

struct Started {
    process: Recorded,
    log: PathBuf,
    child: std::process::Child,
}

fn spawn(exe: &Path, role: &str, config: &ConfigArgs, extra: &[String], log: &Path) -> anyhow::Result<Started> {
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("cannot open the log file {}", log.display()))?;
    let err = out.try_clone()?;
    let mut command = Command::new(exe);
    command.arg(role);
    config.pass_on(&mut command);
    for pair in extra {
        command.arg("-D").arg(pair);
    }
    // A process group of its own: a Ctrl-C in this terminal does not reach the cluster.
    command.stdin(Stdio::null()).stdout(out).stderr(err).process_group(0);
    let child = command.spawn().with_context(|| format!("cannot start `{} {role}`", exe.display()))?;
    let pid = i32::try_from(child.id()).context("PID out of range")?;
    Ok(Started { process: Recorded { role: role.to_string(), pid }, log: log.to_path_buf(), child })
}

fn write_pid_file(path: &Path, started: &[Started]) -> anyhow::Result<()> {
    let mut file = File::create(path).with_context(|| format!("cannot write the PID file {}", path.display()))?;
    for s in started {
        writeln!(file, "{} {}", s.process.role, s.process.pid)?;
    }
    Ok(())
}

/// Waits until the REST API lists `taskmanagers` TaskManagers; returns its address.
fn wait_until_up(config: &Configuration, taskmanagers: usize, started: &mut [Started]) -> anyhow::Result<String> {
    let host = match config.get_raw(&options::REST_ADDRESS).as_str() {
        "0.0.0.0" => "127.0.0.1".to_string(),
        host => host.to_string(),
    };
    let address = format!("{host}:{}", config.get_i64(&options::REST_PORT));
    let rest = RestClient::new(address.clone()).context("cannot start the HTTP client")?;
    let deadline = Instant::now() + START_TIMEOUT;
    let mut registered = 0;
    while Instant::now() < deadline {
        for s in started.iter_mut() {
            if let Ok(Some(status)) = s.child.try_wait() {
                anyhow::bail!(
                    "the {} (pid {}) exited ({status}) while the cluster was starting; the end of its log {}:\n{}",
                    s.process.role,
                    s.process.pid,
                    s.log.display(),
                    tail(&s.log, 12)
                );
            }
        }
        if let Ok(overview) = rest.get("/overview") {
            registered = overview.get("taskmanagers").and_then(|v| v.as_u64()).unwrap_or(0) as usize;
            if registered >= taskmanagers {
                return Ok(address);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    anyhow::bail!(
        "the cluster did not come up within {} s: the REST API at {address} lists {registered} of {taskmanagers} \
         TaskManagers; see the logs of {}",
        START_TIMEOUT.as_secs(),
        started.iter().map(|s| s.log.display().to_string()).collect::<Vec<_>>().join(", ")
    )
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn stop(config: &Configuration) -> anyhow::Result<()> {
    let pids = pid_file(config);
    let recorded = read_pid_file(&pids)?;
    if recorded.is_empty() {
        eprintln!("No cluster to stop: no PID file at {} (env.pid.dir)", pids.display());
        return Ok(());
    }
    // TaskManagers first, as Flink's stop-cluster.sh does.
    let mut stopped = 0;
    for process in recorded.iter().rev() {
        if is_ours(process) {
            terminate(process);
            eprintln!("Stopped the {} (pid {})", process.role, process.pid);
            stopped += 1;
        } else {
            eprintln!("The {} (pid {}) is not running", process.role, process.pid);
        }
    }
    std::fs::remove_file(&pids).with_context(|| format!("cannot remove the PID file {}", pids.display()))?;
    eprintln!("Stopped {stopped} process(es)");
    Ok(())
}

/// SIGTERM, then SIGKILL if the process is still there after [`STOP_GRACE`].
fn terminate(process: &Recorded) {
    signal(process.pid, libc::SIGTERM);
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline {
        if !is_ours(process) || is_zombie(process.pid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    signal(process.pid, libc::SIGKILL);
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(true)
}

#[allow(unsafe_code)]
fn signal(pid: i32, signal: libc::c_int) {
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(pid, signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_file_round_trips_and_a_bad_line_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.pid");
        std::fs::write(&path, "jobmanager 12\ntaskmanager 13\n").unwrap();
        assert_eq!(
            read_pid_file(&path).unwrap(),
            vec![Recorded { role: "jobmanager".into(), pid: 12 }, Recorded { role: "taskmanager".into(), pid: 13 }]
        );
        std::fs::write(&path, "jobmanager twelve\n").unwrap();
        let err = read_pid_file(&path).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "line 1: expected '<role> <pid>', found 'jobmanager twelve'; remove the file if no cluster runs"
            ),
            "{err}"
        );
        assert!(read_pid_file(&dir.path().join("none")).unwrap().is_empty());
    }

    #[test]
    fn a_pid_of_another_program_is_not_ours() {
        let me = Recorded { role: "taskmanager".into(), pid: std::process::id() as i32 };
        assert!(!is_ours(&me), "the test binary is not a brook taskmanager");
        assert!(!is_ours(&Recorded { role: "jobmanager".into(), pid: i32::MAX }));
    }
}
