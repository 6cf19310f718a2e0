//! `RestServer`: serves the REST API of a cluster on `rest.bind-address`:`rest.port`
//! until dropped.

use crate::operations::Operations;
use crate::routes::{AppState, router};
use brook_cluster::MiniCluster;
use brook_types::config::{Configuration, options};
use brook_types::{BrookError, Result};
use std::net::SocketAddr;
use std::time::Duration;

/// The REST endpoint of one cluster. Dropping it stops serving: the listener closes
/// and open connections end after their current request.
pub struct RestServer {
    address: SocketAddr,
    operations: Operations,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// Disconnected when the server stopped (its sender is dropped at the end of the serve task).
    stopped: parking_lot::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl RestServer {
    /// Binds `rest.bind-address`:`rest.port` (0 = any free port) and serves `cluster`'s
    /// Dispatcher on the cluster's runtime. Fails, naming the address and the options
    /// to change, if the address cannot be bound.
    pub fn start(cluster: &MiniCluster, config: &Configuration) -> Result<Self> {
        let (host, port) = bind_address(config)?;
        let listener = bind(&host, port)?;
        Self::serve(cluster, config, listener, &host, port)
    }

    /// As [`start`](Self::start), but if `rest.port` is not set explicitly and its
    /// default (8081) is in use — another `brook run --local` serves it — binds any
    /// free port instead. `brook run --local` starts its server so; the address it
    /// prints is where the API is.
    pub fn start_or_any_port(cluster: &MiniCluster, config: &Configuration) -> Result<Self> {
        let (host, port) = bind_address(config)?;
        let listener = match std::net::TcpListener::bind((host.as_str(), port)) {
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && !config.contains(&options::REST_PORT) => {
                bind(&host, 0)?
            }
            other => other.map_err(|e| bind_error(&host, port, &e))?,
        };
        Self::serve(cluster, config, listener, &host, port)
    }

    fn serve(
        cluster: &MiniCluster,
        config: &Configuration,
        listener: std::net::TcpListener,
        host: &str,
        port: u16,
    ) -> Result<Self> {
        let address = listener.local_addr().map_err(|e| {
            BrookError::Cluster(format!("cannot read the address of the REST server bound on {host}:{port}: {e}"))
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|e| BrookError::Cluster(format!("cannot set up the REST server on {address}: {e}")))?;
        let runtime = cluster.runtime().clone();
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener)
                .map_err(|e| BrookError::Cluster(format!("cannot set up the REST server on {address}: {e}")))?
        };
        let operations = Operations::default();
        let app = router(AppState {
            cluster: cluster.clone(),
            operations: operations.clone(),
            checkpoint_operations: Operations::default(),
            config: std::sync::Arc::new(config.clone()),
            address,
            started_ms: crate::shapes::now_ms(),
        });
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let (done, has_stopped) = std::sync::mpsc::channel::<()>();
        runtime.spawn(async move {
            let _done = done;
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!("the REST server on {address} stopped: {e}");
            }
        });
        tracing::info!("Rest endpoint listening at {address}");
        Ok(Self { address, operations, shutdown: Some(shutdown), stopped: parking_lot::Mutex::new(has_stopped) })
    }

    /// The address the server is bound to (with the port it got for `rest.port: 0`).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Blocks until clients have read the result of every savepoint and stop request,
    /// or `timeout` passed: `brook run` waits for this before it exits, so that
    /// `brook stop` learns where the savepoint is even though the job then ends.
    pub fn wait_for_results_fetched(&self, timeout: Duration) -> bool {
        self.operations.wait_all_fetched(timeout)
    }
}

/// `rest.bind-address` and `rest.port`, the port checked.
fn bind_address(config: &Configuration) -> Result<(String, u16)> {
    let host = config.get_raw(&options::REST_BIND_ADDRESS);
    let port = config.get_i64(&options::REST_PORT);
    let port = u16::try_from(port).map_err(|_| BrookError::InvalidConfigValue {
        key: options::REST_PORT.key.to_string(),
        value: port.to_string(),
        origin: config.origin(&options::REST_PORT).unwrap_or("default").to_string(),
        reason: "a port is 0 (any free port) to 65535".to_string(),
    })?;
    Ok((host, port))
}

fn bind(host: &str, port: u16) -> Result<std::net::TcpListener> {
    std::net::TcpListener::bind((host, port)).map_err(|e| bind_error(host, port, &e))
}

fn bind_error(host: &str, port: u16, e: &std::io::Error) -> BrookError {
    BrookError::Cluster(format!(
        "cannot start the REST server on {host}:{port}: {e}; set rest.port to a free port (0 picks any) \
         or rest.bind-address to another address, e.g. -D rest.port=0"
    ))
}

impl RestServer {
    /// Stops accepting connections and waits, at most `timeout`, until the requests in
    /// flight were answered (dropping the server does not wait).
    pub fn shutdown(mut self, timeout: Duration) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = self.stopped.lock().recv_timeout(timeout);
    }
}

impl Drop for RestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl std::fmt::Debug for RestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RestServer({})", self.address)
    }
}
