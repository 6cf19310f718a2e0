//! The few object-store operations checkpoints need, with errors that name the URL.

use super::url::StorageUrl;
use crate::error::{CheckpointError, Result};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use std::sync::Arc;

/// States above this size are uploaded in parts (S3 takes at most 5 GB in one PUT).
pub(crate) const MULTIPART_THRESHOLD: usize = 16 << 20;
/// Part size of multipart uploads (S3 needs at least 5 MiB per part but the last).
const PART_SIZE: usize = 8 << 20;

/// Writes `bytes` to `url` atomically; `create_only` fails if the object exists.
pub(crate) async fn put(
    store: &Arc<dyn ObjectStore>,
    url: &StorageUrl,
    bytes: Bytes,
    create_only: bool,
    action: &'static str,
) -> Result<()> {
    let result = if bytes.len() > MULTIPART_THRESHOLD && !create_only {
        put_multipart(store, url, bytes).await
    } else {
        let mode = if create_only { PutMode::Create } else { PutMode::Overwrite };
        store.put_opts(&url.path, PutPayload::from_bytes(bytes), PutOptions::from(mode)).await.map(|_| ())
    };
    result.map_err(|error| match error {
        object_store::Error::AlreadyExists { .. } => {
            CheckpointError::AlreadyExists { location: url.to_string(), job: job_of(url) }
        }
        error => CheckpointError::storage(action, url.to_string(), error),
    })
}

async fn put_multipart(store: &Arc<dyn ObjectStore>, url: &StorageUrl, bytes: Bytes) -> object_store::Result<()> {
    let mut upload = store.put_multipart(&url.path).await?;
    let mut offset = 0;
    while offset < bytes.len() {
        let end = (offset + PART_SIZE).min(bytes.len());
        if let Err(e) = upload.put_part(PutPayload::from_bytes(bytes.slice(offset..end))).await {
            let _ = upload.abort().await;
            return Err(e);
        }
        offset = end;
    }
    upload.complete().await.map(|_| ())
}

/// Reads the whole object; `Ok(None)` if it does not exist.
pub(crate) async fn get(store: &Arc<dyn ObjectStore>, url: &StorageUrl, action: &'static str) -> Result<Option<Bytes>> {
    let read = async { store.get(&url.path).await?.bytes().await };
    match read.await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if CheckpointError::is_not_found(&e) => Ok(None),
        Err(e) => Err(CheckpointError::storage(action, url.to_string(), e)),
    }
}

/// Reads a byte range; `Ok(None)` if the object does not exist.
pub(crate) async fn get_range(
    store: &Arc<dyn ObjectStore>,
    url: &StorageUrl,
    range: std::ops::Range<u64>,
    action: &'static str,
) -> Result<Option<Bytes>> {
    match store.get_range(&url.path, range).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if CheckpointError::is_not_found(&e) => Ok(None),
        Err(e) => Err(CheckpointError::storage(action, url.to_string(), e)),
    }
}

/// Whether the object exists.
pub(crate) async fn exists(store: &Arc<dyn ObjectStore>, url: &StorageUrl, action: &'static str) -> Result<bool> {
    match store.head(&url.path).await {
        Ok(_) => Ok(true),
        Err(e) if CheckpointError::is_not_found(&e) => Ok(false),
        Err(e) => Err(CheckpointError::storage(action, url.to_string(), e)),
    }
}

/// Deletes one object; a missing object is not an error.
pub(crate) async fn delete(store: &Arc<dyn ObjectStore>, url: &StorageUrl, action: &'static str) -> Result<()> {
    match store.delete(&url.path).await {
        Ok(()) => Ok(()),
        Err(e) if CheckpointError::is_not_found(&e) => Ok(()),
        Err(e) => Err(CheckpointError::storage(action, url.to_string(), e)),
    }
}

/// Whether anything lies under the directory `url`.
pub(crate) async fn any_under(store: &Arc<dyn ObjectStore>, url: &StorageUrl) -> Result<bool> {
    let mut listing = store.list(Some(&url.path));
    match listing.next().await {
        None => Ok(false),
        Some(Ok(_)) => Ok(true),
        Some(Err(e)) if CheckpointError::is_not_found(&e) => Ok(false),
        Some(Err(e)) => Err(CheckpointError::storage("list", url.to_string(), e)),
    }
}

/// The names of the sub-directories of `url`.
pub(crate) async fn sub_directories(store: &Arc<dyn ObjectStore>, url: &StorageUrl) -> Result<Vec<String>> {
    match store.list_with_delimiter(Some(&url.path)).await {
        Ok(listing) => Ok(listing.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_string)).collect()),
        Err(e) if CheckpointError::is_not_found(&e) => Ok(Vec::new()),
        Err(e) => Err(CheckpointError::storage("list", url.to_string(), e)),
    }
}

/// Deletes a checkpoint or savepoint directory: `_metadata` first, so that a deletion that
/// stops half-way leaves an incomplete checkpoint rather than a complete one with missing
/// files; then everything else under it.
pub(crate) async fn delete_directory(store: &Arc<dyn ObjectStore>, url: &StorageUrl) -> Result<()> {
    delete(store, &url.child(super::layout::METADATA_FILE), "delete").await?;
    if let Some(local) = url.local_path() {
        return match tokio::fs::remove_dir_all(&local).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(CheckpointError::storage("delete", url.to_string(), local_error(e))),
        };
    }
    let locations = store.list(Some(&url.path)).map_ok(|meta| meta.location).boxed();
    store
        .delete_stream(locations)
        .try_for_each(|_| futures::future::ready(Ok(())))
        .await
        .or_else(|e| if CheckpointError::is_not_found(&e) { Ok(()) } else { Err(e) })
        .map_err(|e| CheckpointError::storage("delete", url.to_string(), e))
}

/// Removes a local directory if it is empty (object stores have no directories).
pub(crate) async fn remove_dir_if_empty(url: &StorageUrl) {
    if let Some(local) = url.local_path() {
        let _ = tokio::fs::remove_dir(local).await;
    }
}

/// Creates a local directory (object stores need none), to fail early on permissions.
pub(crate) async fn create_directory(url: &StorageUrl) -> Result<()> {
    if let Some(local) = url.local_path() {
        tokio::fs::create_dir_all(&local)
            .await
            .map_err(|e| CheckpointError::storage("create directory", url.to_string(), local_error(e)))?;
    }
    Ok(())
}

pub(crate) fn local_error(error: std::io::Error) -> object_store::Error {
    object_store::Error::Generic { store: "LocalFileSystem", source: Box::new(error) }
}

/// The job id directory a URL lies under (`<dir>/<job-id>/chk-<n>/…`), for messages.
fn job_of(url: &StorageUrl) -> String {
    url.path
        .parts()
        .map(|p| p.as_ref().to_string())
        .find(|p| p.len() == 32 && p.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(|| "?".to_string())
}
