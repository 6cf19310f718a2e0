//! Where things are: a [`StorageUrl`] names a store (the local file system, or one S3
//! bucket) and a path inside it; [`Stores`] hands out one `ObjectStore` per store.
//!
//! Accepted forms: `file:///abs/path`, `file:/abs/path`, `/abs/path`, `relative/path`
//! (made absolute against the working directory), and `s3://bucket/prefix` (feature `s3`).
//! File URLs are not percent-decoded: `file:///tmp/a b` is the directory `/tmp/a b`.

use crate::error::Result;
use object_store::ObjectStore;
use object_store::path::Path;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// A store: the local file system, or an S3 bucket.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum StoreKey {
    Local,
    S3 { bucket: String },
}

/// A file or directory in a store.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct StorageUrl {
    pub(crate) store: StoreKey,
    pub(crate) path: Path,
}

impl StorageUrl {
    /// Parses a user-given location; the error is a reason to put after the value.
    pub(crate) fn parse(input: &str) -> Result<Self, String> {
        let input = input.trim();
        if input.is_empty() {
            return Err("the location is empty".to_string());
        }
        if let Some(rest) = input.strip_prefix("file:") {
            let path = if let Some(p) = rest.strip_prefix("//localhost/") {
                format!("/{p}")
            } else if let Some(p) = rest.strip_prefix("//") {
                if !p.starts_with('/') {
                    return Err(format!("file URLs need an absolute path: file:///absolute/path, not file://{p}"));
                }
                p.to_string()
            } else if rest.starts_with('/') {
                rest.to_string()
            } else {
                return Err("file URLs need an absolute path: file:///absolute/path".to_string());
            };
            return Ok(Self { store: StoreKey::Local, path: normalize(&[], &path)? });
        }
        if let Some(rest) = input.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err("S3 URLs need a bucket: s3://bucket/prefix".to_string());
            }
            return Ok(Self { store: StoreKey::S3 { bucket: bucket.to_string() }, path: normalize(&[], key)? });
        }
        if let Some((scheme, _)) = input.split_once("://") {
            return Err(format!("unsupported scheme '{scheme}://'; use file:///absolute/path or s3://bucket/prefix"));
        }
        let absolute = std::path::absolute(input).map_err(|e| format!("cannot make '{input}' absolute: {e}"))?;
        let text = absolute.to_str().ok_or_else(|| format!("'{}' is not valid UTF-8", absolute.display()))?;
        Ok(Self { store: StoreKey::Local, path: normalize(&[], text)? })
    }

    pub(crate) fn child(&self, name: &str) -> Self {
        Self { store: self.store.clone(), path: self.path.clone().join(name) }
    }

    pub(crate) fn parent(&self) -> Option<Self> {
        let mut parts: Vec<String> = self.path.parts().map(|p| p.as_ref().to_string()).collect();
        parts.pop()?;
        Some(Self { store: self.store.clone(), path: Path::from_iter(parts) })
    }

    pub(crate) fn file_name(&self) -> Option<&str> {
        self.path.filename()
    }

    /// Resolves a handle's path against this directory: relative paths (which may go up
    /// with `..`) or absolute URLs.
    pub(crate) fn resolve(&self, reference: &str) -> Result<Self, String> {
        if reference.contains("://") || reference.starts_with("file:") || reference.starts_with('/') {
            return Self::parse(reference);
        }
        let base: Vec<String> = self.path.parts().map(|p| p.as_ref().to_string()).collect();
        Ok(Self { store: self.store.clone(), path: normalize(&base, reference)? })
    }

    /// The local directory, for the file system's own directory operations.
    pub(crate) fn local_path(&self) -> Option<std::path::PathBuf> {
        match self.store {
            StoreKey::Local => Some(std::path::PathBuf::from(format!("/{}", self.path))),
            StoreKey::S3 { .. } => None,
        }
    }
}

impl fmt::Display for StorageUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.store {
            StoreKey::Local => write!(f, "file:///{}", self.path),
            StoreKey::S3 { bucket } if self.path.is_root() => write!(f, "s3://{bucket}"),
            StoreKey::S3 { bucket } => write!(f, "s3://{bucket}/{}", self.path),
        }
    }
}

/// Applies `relative` (segments separated by `/`, with `.` and `..`) to `base`.
fn normalize(base: &[String], relative: &str) -> Result<Path, String> {
    let mut parts: Vec<String> = base.to_vec();
    for segment in relative.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("'{relative}' goes above the root"));
                }
            }
            s => {
                object_store::path::PathPart::parse(s).map_err(|e| e.to_string())?;
                parts.push(s.to_string());
            }
        }
    }
    Path::parse(parts.join("/")).map_err(|e| e.to_string())
}

/// Connection settings for `s3://` locations (the `s3.*` options).
#[derive(Clone, Default)]
pub(crate) struct S3Options {
    pub(crate) endpoint: Option<String>,
    pub(crate) access_key: Option<String>,
    pub(crate) secret_key: Option<String>,
    pub(crate) path_style: bool,
    pub(crate) region: Option<String>,
}

impl fmt::Debug for S3Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Options")
            .field("endpoint", &self.endpoint)
            .field("access_key", &self.access_key)
            .field("secret_key", &self.secret_key.as_ref().map(|_| brook_types::config::HIDDEN_CONTENT))
            .field("path_style", &self.path_style)
            .field("region", &self.region)
            .finish()
    }
}

/// One `ObjectStore` per store, created on first use.
#[derive(Debug, Default)]
pub(crate) struct Stores {
    pub(crate) s3: S3Options,
    cache: Mutex<HashMap<StoreKey, Arc<dyn ObjectStore>>>,
}

impl Stores {
    pub(crate) fn new(s3: S3Options) -> Self {
        Self { s3, cache: Mutex::default() }
    }

    pub(crate) fn get(&self, url: &StorageUrl) -> Result<Arc<dyn ObjectStore>> {
        let mut cache = self.cache.lock().expect("no code panics while holding the store cache");
        if let Some(store) = cache.get(&url.store) {
            return Ok(Arc::clone(store));
        }
        let store: Arc<dyn ObjectStore> = match &url.store {
            StoreKey::Local => Arc::new(object_store::local::LocalFileSystem::new()),
            StoreKey::S3 { bucket } => build_s3(bucket, &self.s3, url)?,
        };
        cache.insert(url.store.clone(), Arc::clone(&store));
        Ok(store)
    }
}

#[cfg(feature = "s3")]
fn build_s3(bucket: &str, options: &S3Options, _url: &StorageUrl) -> Result<Arc<dyn ObjectStore>> {
    super::s3::build(bucket, options)
}

#[cfg(not(feature = "s3"))]
fn build_s3(_bucket: &str, _options: &S3Options, url: &StorageUrl) -> Result<Arc<dyn ObjectStore>> {
    Err(crate::error::CheckpointError::InvalidConfig {
        key: "execution.checkpointing.dir",
        value: url.to_string(),
        reason: "this build of Brook has no S3 support; build it with the cargo feature `s3` \
                 (brook-checkpoint/s3), which the brook binary enables"
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> String {
        StorageUrl::parse(s).unwrap().to_string()
    }

    #[test]
    fn local_forms() {
        assert_eq!(parse("file:///tmp/ck"), "file:///tmp/ck");
        assert_eq!(parse("file:///tmp/ck/"), "file:///tmp/ck");
        assert_eq!(parse("file:/tmp/ck"), "file:///tmp/ck");
        assert_eq!(parse("file://localhost/tmp/ck"), "file:///tmp/ck");
        assert_eq!(parse("/tmp/./x/../ck"), "file:///tmp/ck");
        assert_eq!(parse("/tmp/a b"), "file:///tmp/a b");
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(parse("ck"), format!("file://{}/ck", cwd.display()));
    }

    #[test]
    fn s3_forms() {
        assert_eq!(parse("s3://bucket/prefix/x"), "s3://bucket/prefix/x");
        assert_eq!(parse("s3://bucket"), "s3://bucket");
        assert_eq!(StorageUrl::parse("s3://bucket/a").unwrap().store, StoreKey::S3 { bucket: "bucket".to_string() });
    }

    #[test]
    fn bad_locations_say_what_to_write() {
        assert_eq!(
            StorageUrl::parse("hdfs://nn/ck").unwrap_err(),
            "unsupported scheme 'hdfs://'; use file:///absolute/path or s3://bucket/prefix"
        );
        assert_eq!(
            StorageUrl::parse("file://tmp/ck").unwrap_err(),
            "file URLs need an absolute path: file:///absolute/path, not file://tmp/ck"
        );
        assert!(StorageUrl::parse("s3:///x").unwrap_err().contains("need a bucket"));
        assert!(StorageUrl::parse("  ").is_err());
    }

    #[test]
    fn handles_resolve_against_their_directory() {
        let chk = StorageUrl::parse("file:///ck/job/chk-3").unwrap();
        assert_eq!(chk.resolve("abc").unwrap().to_string(), "file:///ck/job/chk-3/abc");
        assert_eq!(chk.resolve("../shared/x.sst").unwrap().to_string(), "file:///ck/job/shared/x.sst");
        assert_eq!(chk.resolve("s3://b/k").unwrap().to_string(), "s3://b/k");
        assert_eq!(chk.resolve("file:///other/f").unwrap().to_string(), "file:///other/f");
        assert!(chk.resolve("../../../../x").is_err());
        assert_eq!(chk.parent().unwrap().to_string(), "file:///ck/job");
        assert_eq!(chk.file_name(), Some("chk-3"));
        assert_eq!(chk.local_path().unwrap(), std::path::PathBuf::from("/ck/job/chk-3"));
    }
}
