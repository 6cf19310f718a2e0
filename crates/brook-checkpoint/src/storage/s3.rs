//! `s3://` locations through `object_store`'s S3 client, configured from the `s3.*` options
//! (then the usual `AWS_*` environment variables for whatever is not set).

use super::url::S3Options;
use crate::error::{CheckpointError, Result};
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::{BackoffConfig, ClientOptions, RetryConfig};
use std::sync::Arc;
use std::time::Duration;

/// Retries bound how long a write can hang on a dead endpoint: a checkpoint that cannot be
/// written should fail within seconds and let the checkpoint timeout and tolerable-failure
/// rules decide, not retry for object_store's default 3 minutes.
fn retry_config() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
        },
        max_retries: 3,
        retry_timeout: Duration::from_secs(30),
    }
}

pub(crate) fn build(bucket: &str, options: &S3Options) -> Result<Arc<dyn ObjectStore>> {
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_retry(retry_config())
        .with_client_options(ClientOptions::new().with_connect_timeout(Duration::from_secs(5)));
    let region = options.region.clone().or_else(|| std::env::var("AWS_REGION").ok());
    builder = builder.with_region(region.unwrap_or_else(|| "us-east-1".to_string()));
    if let Some(key) = &options.access_key {
        builder = builder.with_access_key_id(key);
    }
    if let Some(secret) = &options.secret_key {
        builder = builder.with_secret_access_key(secret);
    }
    match &options.endpoint {
        Some(endpoint) => {
            let endpoint = endpoint.trim_end_matches('/');
            let (scheme, host) = endpoint.split_once("://").ok_or_else(|| CheckpointError::InvalidConfig {
                key: "s3.endpoint",
                value: endpoint.to_string(),
                reason: "expected a URL such as http://127.0.0.1:9000 or https://s3.example.com".to_string(),
            })?;
            if scheme == "http" {
                if !is_loopback(host) {
                    tracing::warn!(endpoint, "s3.endpoint uses plain http; checkpoint data travels unencrypted");
                }
                builder = builder.with_client_options(
                    ClientOptions::new().with_connect_timeout(Duration::from_secs(5)).with_allow_http(true),
                );
            }
            if options.path_style {
                builder = builder.with_endpoint(endpoint).with_virtual_hosted_style_request(false);
            } else {
                // object_store takes a virtual-hosted endpoint with the bucket already in it.
                builder = builder
                    .with_endpoint(format!("{scheme}://{bucket}.{host}"))
                    .with_virtual_hosted_style_request(true);
            }
        }
        None => builder = builder.with_virtual_hosted_style_request(!options.path_style),
    }
    let store = builder.build().map_err(|e| CheckpointError::InvalidConfig {
        key: "s3.endpoint",
        value: options.endpoint.clone().unwrap_or_default(),
        reason: format!("cannot set up the S3 client for bucket '{bucket}': {e}"),
    })?;
    Ok(Arc::new(store))
}

fn is_loopback(host: &str) -> bool {
    let host = host.split('/').next().unwrap_or(host);
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) && !name.ends_with(':') => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("127.0.0.1:8014"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("[::1]:9000"));
        assert!(!is_loopback("s3.example.com:9000"));
        assert!(!is_loopback("10.0.0.1"));
    }
}
