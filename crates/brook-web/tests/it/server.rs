//! Binding, the bound address, and shutting down.

use crate::support::Served;
use brook_cluster::{MiniCluster, MiniClusterConfig};
use brook_types::config::Configuration;
use brook_web::{RestClient, RestClientError, RestServer};
use std::time::{Duration, Instant};

#[test]
fn a_taken_port_is_an_error_naming_the_address_and_the_option() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut config = Configuration::new();
    config.set("rest.port", &port.to_string(), "test").unwrap();
    let cluster = MiniCluster::start(MiniClusterConfig::from_configuration(&config)).unwrap();
    let err = RestServer::start(&cluster, &config).unwrap_err().to_string();
    assert!(err.starts_with(&format!("cluster error: cannot start the REST server on 127.0.0.1:{port}: ")), "{err}");
    assert!(
        err.ends_with(
            "set rest.port to a free port (0 picks any) or rest.bind-address to another address, e.g. -D rest.port=0"
        ),
        "{err}"
    );
}

#[test]
fn port_zero_binds_loopback_and_reports_the_port() {
    let s = Served::start();
    let address = s.server.address();
    assert!(address.ip().is_loopback(), "{address}");
    assert_ne!(address.port(), 0);
}

#[test]
fn dropping_the_server_stops_serving() {
    let Served { server, rest, .. } = Served::start();
    rest.get("/jobs").unwrap();
    let address = server.address();
    drop(server);
    let client = RestClient::new(address.to_string()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match client.get("/jobs") {
            Err(RestClientError::Unreachable { .. }) => break,
            other => assert!(Instant::now() < deadline, "still served after drop: {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
