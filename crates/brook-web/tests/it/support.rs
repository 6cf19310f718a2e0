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
