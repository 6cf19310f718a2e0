//! Integration tests of brook-checkpoint against real storage: local files and an
//! S3-compatible server (`s3s-fs`). Every storage test runs on both.

mod cycle;
mod failures;
mod s3s_fs;
mod savepoints;

use brook_types::config::Configuration;
use std::path::{Path, PathBuf};

/// A storage to test against, with the local directories that hold its objects (s3s-fs
/// keeps objects as plain files, so tests can look at both the same way).
pub struct Backend {
    pub name: &'static str,
    pub config: Configuration,
    /// The directory `execution.checkpointing.dir` maps to.
    pub checkpoint_root: PathBuf,
    /// The directory `execution.checkpointing.savepoint-dir` maps to.
    pub savepoint_root: PathBuf,
    /// A URL prefix that maps to `scratch_root`, for relocated savepoints.
    pub scratch_url: String,
    pub scratch_root: PathBuf,
    _guard: Guard,
}

#[allow(dead_code)] // Held only to stop the server and remove directories on drop.
enum Guard {
    Local(tempfile::TempDir),
    S3(s3s_fs::S3sFs),
}

impl Backend {
    pub fn local() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = |name: &str| format!("file://{}", dir.path().join(name).display());
        let mut config = Configuration::new();
        config.set_dynamic(&format!("execution.checkpointing.dir={}", url("checkpoints"))).unwrap();
        config.set_dynamic(&format!("execution.checkpointing.savepoint-dir={}", url("savepoints"))).unwrap();
        Self {
            name: "file",
            config,
            checkpoint_root: dir.path().join("checkpoints"),
            savepoint_root: dir.path().join("savepoints"),
            scratch_url: url("scratch"),
            scratch_root: dir.path().join("scratch"),
            _guard: Guard::Local(dir),
        }
    }

    /// S3 through a fresh s3s-fs; `None` (with a notice) in builds without the `s3`
    /// feature or, outside CI, without the s3s-fs binary.
    pub fn s3() -> Option<Self> {
        if !cfg!(feature = "s3") {
            eprintln!("skipping the S3 part of this test: built without the `s3` feature");
            return None;
        }
        let server = s3s_fs::S3sFs::start("brook")?;
        let mut config = Configuration::new();
        for pair in [
            "execution.checkpointing.dir=s3://brook/checkpoints".to_string(),
            "execution.checkpointing.savepoint-dir=s3://brook/savepoints".to_string(),
            format!("s3.endpoint={}", server.endpoint),
            format!("s3.access-key={}", s3s_fs::ACCESS_KEY),
            format!("s3.secret-key={}", s3s_fs::SECRET_KEY),
            "s3.path.style.access=true".to_string(),
        ] {
            config.set_dynamic(&pair).unwrap();
        }
        let bucket = server.bucket_dir();
        Some(Self {
            name: "s3",
            config,
            checkpoint_root: bucket.join("checkpoints"),
            savepoint_root: bucket.join("savepoints"),
            scratch_url: "s3://brook/scratch".to_string(),
            scratch_root: bucket.join("scratch"),
            _guard: Guard::S3(server),
        })
    }

    /// Local files always; S3 when s3s-fs is installed (required on CI).
    pub fn all() -> Vec<Self> {
        let mut backends = vec![Self::local()];
        backends.extend(Self::s3());
        backends
    }
}

/// The files (not directories) under `dir`, relative, sorted; empty if `dir` is missing.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
