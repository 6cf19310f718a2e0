//! Options and the REST client shared by the verbs that talk to a running cluster
//! (`list`, `cancel`, `savepoint`, `stop`), with `bin/flink`'s names.

use anyhow::Context as _;
use brook_types::JobId;
use brook_types::config::{Configuration, options};
use brook_web::{RestClient, RestClientError};
use clap::Args;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct ClusterOptions {
    /// Address of the JobManager's REST endpoint, `host:port` (default: rest.address:rest.port,
    /// localhost:8081).
    #[arg(short = 'm', long = "jobmanager", value_name = "host:port")]
    pub jobmanager: Option<String>,
    /// Set a configuration value, e.g. -D rest.port=8082.
    #[arg(short = 'D', value_name = "key=value")]
    pub dynamic: Vec<String>,
    /// YAML configuration file (default: $BROOK_CONF_DIR/config.yaml if it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl ClusterOptions {
    /// `host:port` of the REST endpoint: -m, else rest.address and rest.port.
    pub fn address(&self) -> anyhow::Result<String> {
        if let Some(m) = &self.jobmanager {
            let address = m.trim_start_matches("http://").trim_end_matches('/');
            anyhow::ensure!(
                address.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok()),
                "-m {m}: expected host:port, e.g. -m localhost:8081"
            );
            return Ok(address.to_string());
        }
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
        let host = config.get_raw(&options::REST_ADDRESS);
        let port = config.get_i64(&options::REST_PORT);
        anyhow::ensure!((1..=65535).contains(&port), "rest.port {port}: the CLI connects to a port from 1 to 65535");
        Ok(if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") })
    }

    pub fn client(&self) -> anyhow::Result<Cluster> {
        let address = self.address()?;
        let rest = RestClient::new(address).context("cannot start the HTTP client")?;
        Ok(Cluster { rest })
    }
}

/// The REST endpoint of a cluster, with errors a user can act on.
pub struct Cluster {
    rest: RestClient,
}

impl Cluster {
    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.rest.get(path).map_err(|e| self.explain(e))
    }

    pub fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.rest.post(path, body).map_err(|e| self.explain(e))
    }

    pub fn patch(&self, path: &str) -> anyhow::Result<Value> {
        self.rest.patch(path).map_err(|e| self.explain(e))
    }

    fn explain(&self, e: RestClientError) -> anyhow::Error {
        match e {
            RestClientError::Unreachable { address, error } => anyhow::anyhow!(
                "cannot reach the REST API at {address} ({error}); is a cluster running there? \
                 `brook cluster start` or `brook jobmanager` starts one, and `brook run --local` serves one while \
                 its job runs (it prints the address); point the CLI at it with -m host:port \
                 or -D rest.address=HOST -D rest.port=PORT"
            ),
            RestClientError::Status { status, errors } => {
                anyhow::anyhow!("the REST API at {} answered {status}: {}", self.rest.address(), errors.join("; "))
            }
            other => anyhow::anyhow!("{other}"),
        }
    }
}

/// A job id argument, checked before anything is sent.
pub fn job_id(arg: &str) -> anyhow::Result<JobId> {
    arg.parse::<JobId>()
        .map_err(|_| anyhow::anyhow!("'{arg}' is not a job id: expected 32 hex digits (see `brook list`)"))
}
