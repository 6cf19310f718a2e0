//! A small HTTP/1.1 client for the REST API (hyper's client connection over a tokio
//! TCP stream; one connection per request, no TLS). The CLI verbs use it.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Method;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::time::Duration;

/// Longest one request may take, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request failed.
#[derive(Debug)]
pub enum RestClientError {
    /// Nothing answered at the address.
    Unreachable { address: String, error: String },
    /// The server answered with an error status; `errors` are its messages.
    Status { status: u16, errors: Vec<String> },
    /// The answer was not HTTP or not JSON.
    Protocol { address: String, error: String },
}

impl std::fmt::Display for RestClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreachable { address, error } => write!(f, "cannot reach the REST API at {address}: {error}"),
            Self::Status { status, errors } => write!(f, "the REST API answered {status}: {}", errors.join("; ")),
            Self::Protocol { address, error } => write!(f, "unexpected answer from the REST API at {address}: {error}"),
        }
    }
}

impl std::error::Error for RestClientError {}

/// A blocking client of one REST endpoint (`host:port`): it runs each request on its
/// own single-threaded runtime, so call it from plain threads, not from async code.
pub struct RestClient {
    address: String,
    runtime: tokio::runtime::Runtime,
}

impl RestClient {
    pub fn new(address: impl Into<String>) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(Self { address: address.into(), runtime })
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// `GET path`; the JSON body of a 2xx answer.
    pub fn get(&self, path: &str) -> Result<Value, RestClientError> {
        self.call(Method::GET, path, None)
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Result<Value, RestClientError> {
        self.call(Method::POST, path, Some(body))
    }

    /// `PATCH path` without a body.
    pub fn patch(&self, path: &str) -> Result<Value, RestClientError> {
        self.call(Method::PATCH, path, None)
    }

    fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value, RestClientError> {
        let (status, value) = self.request(method, path, body)?;
        if (200..300).contains(&status) {
            return Ok(value);
        }
        let errors = value
            .get("errors")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_string)).collect())
            .unwrap_or_else(|| vec![value.to_string()]);
        Err(RestClientError::Status { status, errors })
    }

    /// Any request: the status code and the JSON body (`null` if empty), whatever the status.
    pub fn request(&self, method: Method, path: &str, body: Option<&Value>) -> Result<(u16, Value), RestClientError> {
        let address = self.address.clone();
        let body = body.map(|b| b.to_string());
        self.runtime.block_on(async move {
            match tokio::time::timeout(REQUEST_TIMEOUT, send(&address, method, path, body)).await {
                Ok(result) => result,
                Err(_) => Err(RestClientError::Protocol {
                    address,
                    error: format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()),
                }),
            }
        })
    }
}

async fn send(
    address: &str,
    method: Method,
    path: &str,
    body: Option<String>,
) -> Result<(u16, Value), RestClientError> {
    let protocol = |error: String| RestClientError::Protocol { address: address.to_string(), error };
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|e| RestClientError::Unreachable { address: address.to_string(), error: e.to_string() })?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| protocol(e.to_string()))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, address)
        .header(hyper::header::ACCEPT, "application/json");
    if body.is_some() {
        request = request.header(hyper::header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|e| protocol(format!("invalid request {path}: {e}")))?;
    let response = sender.send_request(request).await.map_err(|e| protocol(e.to_string()))?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.map_err(|e| protocol(e.to_string()))?.to_bytes();
    if bytes.is_empty() {
        return Ok((status, Value::Null));
    }
    let value = serde_json::from_slice(&bytes).map_err(|e| {
        protocol(format!("{status} with a body that is not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
    })?;
    Ok((status, value))
}
