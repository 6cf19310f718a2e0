//! A cluster running a socket job, served over REST.

use brook_api::StreamExecutionEnvironment;
use brook_cluster::{JobClient, JobStatus, MiniCluster, MiniClusterConfig};
use brook_types::config::Configuration;
use brook_web::{RestClient, RestServer};
use std::io::Write;
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

/// The job's name.
pub const JOB_NAME: &str = "rest-test-job";

/// A TCP server the job's socket source reads from: it sends a few lines and keeps
/// the connection open until dropped (then the source ends).
pub struct LineServer {
    pub port: u16,
    close: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LineServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (close, closed) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let Ok((mut conn, _)) = listener.accept() else { return };
            let _ = conn.write_all(b"a b c\nb c\nc\n");
            // Until the test is done: a message or the sender dropped.
            let _ = closed.recv();
        });
        Self { port, close: Some(close), thread: Some(thread) }
    }
}

impl Drop for LineServer {
    fn drop(&mut self) {
        drop(self.close.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A MiniCluster (1 TaskManager, 2 slots) running `socket → split → key_by → count →
/// discard` (the keyed part at parallelism 2), its REST server and a client.
pub struct Served {
    _cluster: MiniCluster,
    pub server: RestServer,
    pub rest: RestClient,
    pub job: JobClient,
    _lines: LineServer,
}

impl Served {
    pub fn start() -> Self {
        let mut config = Configuration::new();
        config.set("taskmanager.numberOfTaskSlots", "2", "test").unwrap();
        config.set("parallelism.default", "2", "test").unwrap();
        config.set("rest.port", "0", "test").unwrap();
        let lines = LineServer::start();
        let env = StreamExecutionEnvironment::with_configuration(config.clone());
        env.socket_text_stream("127.0.0.1", lines.port)
            .flat_map(|line: String| line.split_whitespace().map(|w| (w.to_string(), 1i64)).collect::<Vec<_>>())
            .name("Split")
            .key_by_ref(|t: &(String, i64)| &t.0)
            .reduce(|a: (String, i64), b: (String, i64)| (a.0, a.1 + b.1))
            .name("Count")
            .discard();
        let graph = env.take_stream_graph(JOB_NAME).unwrap();
        let cluster = MiniCluster::start(MiniClusterConfig::from_configuration(&config)).unwrap();
        let server = RestServer::start(&cluster, &config).unwrap();
        let job = cluster.submit(graph).unwrap();
        assert!(
            job.wait_until(Duration::from_secs(30), |s| s.status == JobStatus::Running
                && s.vertices.iter().all(|v| v.subtask_states.iter().all(|t| t.name() == "RUNNING"))),
            "the job did not start running: {:?}",
            job.snapshot()
        );
        let rest = RestClient::new(server.address().to_string()).unwrap();
        Self { _cluster: cluster, server, rest, job, _lines: lines }
    }

    pub fn job_id(&self) -> String {
        self.job.job_id().to_string()
    }
}

/// The programs the test JobManager carries: `sequence --to N` (bounded: the numbers
/// 1..=N through a map into a discarding sink), `lines --port P` (a socket source
/// that runs until the server closes the connection, keyed count, discard) and
/// `failing` (a map that panics at the 5th number).
pub struct TestPrograms;

impl brook_cluster::ProgramCatalog for TestPrograms {
    fn programs(&self) -> Vec<brook_cluster::ProgramInfo> {
        vec![
            brook_cluster::ProgramInfo { name: "sequence".into(), description: "numbers 1 to N".into() },
            brook_cluster::ProgramInfo { name: "lines".into(), description: "count words from a socket".into() },
            brook_cluster::ProgramInfo { name: "failing".into(), description: "panics at 5".into() },
        ]
    }

    fn build(
        &self,
        spec: &brook_cluster::ProgramSpec,
        config: &Configuration,
    ) -> brook_types::Result<brook_runtime::graph::StreamGraph> {
        let arg = |name: &str| -> brook_types::Result<i64> {
            let at = spec.args.iter().position(|a| a == name);
            let value = at.and_then(|i| spec.args.get(i + 1)).ok_or_else(|| {
                brook_types::BrookError::InvalidProgram(format!("{} needs {name} <number>", spec.program))
            })?;
            value
                .parse()
                .map_err(|_| brook_types::BrookError::InvalidProgram(format!("{name} {value}: expected a number")))
        };
        let env = StreamExecutionEnvironment::with_configuration(config.clone());
        match spec.program.as_str() {
            "sequence" => {
                env.generate_sequence(1, arg("--to")?).map(|n: i64| n * 2).name("Double").discard();
            }
            "failing" => {
                env.generate_sequence(1, 10)
                    .map(|n: i64| if n == 5 { panic!("boom at {n}") } else { n })
                    .name("Boom")
                    .discard();
            }
            "lines" => {
                let port = u16::try_from(arg("--port")?).unwrap_or(0);
                env.socket_text_stream("127.0.0.1", port)
                    .flat_map(|line: String| line.split_whitespace().map(|w| (w.to_string(), 1i64)).collect::<Vec<_>>())
                    .name("Split")
                    .key_by_ref(|t: &(String, i64)| &t.0)
                    .reduce(|a: (String, i64), b: (String, i64)| (a.0, a.1 + b.1))
                    .name("Count")
                    .discard();
            }
            other => return Err(brook_types::BrookError::InvalidProgram(format!("no program {other}"))),
        }
        env.take_stream_graph(&format!("test-{}", spec.program))
    }
}

/// A MiniCluster of 2 TaskManagers with 2 slots each whose JobManager carries
/// [`TestPrograms`], served over REST; no job runs yet.
pub struct Catalogued {
    pub cluster: MiniCluster,
    pub server: RestServer,
    pub rest: RestClient,
}

impl Catalogued {
    pub fn start() -> Self {
        let mut config = Configuration::new();
        config.set("local.number-taskmanager", "2", "test").unwrap();
        config.set("taskmanager.numberOfTaskSlots", "2", "test").unwrap();
        config.set("rest.port", "0", "test").unwrap();
        let cluster = MiniCluster::start_with_catalog(
            MiniClusterConfig::from_configuration(&config),
            std::sync::Arc::new(TestPrograms),
        )
        .unwrap();
        let server = RestServer::start(&cluster, &config).unwrap();
        let rest = RestClient::new(server.address().to_string()).unwrap();
        Self { cluster, server, rest }
    }

    /// `POST /jars/:program/run` with `body`; the job id it answered.
    pub fn run(&self, program: &str, body: serde_json::Value) -> brook_types::JobId {
        let answer = self.rest.post(&format!("/jars/{program}/run"), &body).unwrap();
        answer["jobid"].as_str().unwrap_or_else(|| panic!("no jobid in {answer}")).parse().unwrap()
    }

    /// Waits until every subtask of `job` is in `state` (e.g. "RUNNING").
    pub fn wait_tasks(&self, job: brook_types::JobId, state: &str) {
        let handle = self.cluster.dispatcher().job(job).unwrap().handle.clone();
        assert!(
            handle.wait_until(Duration::from_secs(30), |s| s
                .vertices
                .iter()
                .all(|v| v.subtask_states.iter().all(|t| t.name() == state))),
            "the tasks of {job} did not all reach {state}: {:?}",
            handle.snapshot()
        );
    }
}
