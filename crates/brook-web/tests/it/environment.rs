//! A program's own `execute_async` serves the REST API only when `rest.port` is set.

use crate::support::LineServer;
use brook_api::StreamExecutionEnvironment;
use brook_cluster::JobStatus;
use brook_types::config::Configuration;
use brook_web::RestClient;
use serde_json::json;
use std::time::Duration;

#[test]
fn execute_async_serves_rest_on_the_configured_port_while_the_client_lives() {
    // A port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = Configuration::new();
    config.set("parallelism.default", "1", "test").unwrap();
    config.set("rest.port", &port.to_string(), "test").unwrap();
    let lines = LineServer::start();
    let env = StreamExecutionEnvironment::with_configuration(config);
    env.socket_text_stream("127.0.0.1", lines.port).discard();
    let client = env.execute_async("served-program").unwrap();
    assert!(client.wait_until(Duration::from_secs(30), |s| s.status == JobStatus::Running));
    let rest = RestClient::new(format!("127.0.0.1:{port}")).unwrap();
    assert_eq!(
        rest.get("/jobs").unwrap(),
        json!({ "jobs": [{ "id": client.job_id().to_string(), "status": "RUNNING" }] })
    );
    client.cancel();
    assert!(client.wait_for_result().is_err(), "canceled");
    drop(client);
    // The server goes with the client.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while rest.get("/jobs").is_ok() {
        assert!(std::time::Instant::now() < deadline, "still served after the client was dropped");
        std::thread::sleep(Duration::from_millis(20));
    }
}
