//! 404 and 400 answers in Flink's `{"errors": [...]}` shape.

use crate::support::Served;
use brook_web::RestClientError;
use hyper::Method;
use serde_json::json;

#[test]
fn an_unknown_job_is_404_job_not_found() {
    let s = Served::start();
    let unknown = "00000000000000000000000000000000";
    for path in [format!("/jobs/{unknown}"), format!("/jobs/{unknown}/status"), format!("/jobs/{unknown}/checkpoints")]
    {
        let (status, body) = s.rest.request(Method::GET, &path, None).unwrap();
        assert_eq!((status, body), (404, json!({ "errors": [format!("Job {unknown} not found")] })), "{path}");
    }
    let (status, body) = s.rest.request(Method::PATCH, &format!("/jobs/{unknown}?mode=cancel"), None).unwrap();
    assert_eq!((status, body), (404, json!({ "errors": [format!("Job {unknown} not found")] })));
}

#[test]
fn an_unknown_route_is_404_unable_to_load() {
    let s = Served::start();
    for (method, path) in [
        (Method::GET, "/no/such/route".to_string()),
        (Method::GET, format!("/jobs/{}/taskmanagers", s.job_id())),
        (Method::DELETE, "/jobs".to_string()),
        (Method::GET, format!("/jobs/{}/stop", s.job_id())),
    ] {
        let (status, body) = s.rest.request(method.clone(), &path, None).unwrap();
        assert_eq!(
            (status, body),
            (404, json!({ "errors": [format!("Unable to load requested file {path}.")] })),
            "{method} {path}"
        );
    }
}

#[test]
fn a_malformed_job_id_is_400() {
    let s = Served::start();
    let (status, body) = s.rest.request(Method::GET, "/jobs/xyz", None).unwrap();
    assert_eq!(
        (status, body),
        (
            400,
            json!({ "errors": [
                "Bad request, could not parse parameters: Cannot resolve path parameter (jobid) from value \"xyz\"."
            ] })
        )
    );
}

#[test]
fn an_unknown_trigger_is_404() {
    let s = Served::start();
    let trigger = "0123456789abcdef0123456789abcdef";
    let err = s.rest.get(&format!("/jobs/{}/savepoints/{trigger}", s.job_id())).unwrap_err();
    match err {
        RestClientError::Status { status, errors } => {
            assert_eq!(status, 404);
            assert_eq!(
                errors,
                vec![format!("There is no savepoint operation with triggerId={trigger} for job {}.", s.job_id())]
            );
        }
        other => panic!("expected a 404, got {other}"),
    }
}

#[test]
fn a_malformed_savepoint_body_is_400() {
    let s = Served::start();
    let (status, body) = s
        .rest
        .request(Method::POST, &format!("/jobs/{}/savepoints", s.job_id()), Some(&json!({"cancel-job": "yes"})))
        .unwrap();
    assert_eq!(status, 400);
    let message = body["errors"][0].as_str().unwrap();
    assert!(message.starts_with("Request did not match expected format SavepointTriggerRequestBody: "), "{message}");
}

#[test]
fn a_client_of_a_closed_port_reports_the_address() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = brook_web::RestClient::new(format!("127.0.0.1:{port}")).unwrap();
    let err = client.get("/jobs").unwrap_err().to_string();
    assert!(err.starts_with(&format!("cannot reach the REST API at 127.0.0.1:{port}: ")), "{err}");
}
