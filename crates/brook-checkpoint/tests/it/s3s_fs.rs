//! A real S3-compatible server for tests: `s3s-fs` (plain files on disk), started on a free
//! port of 127.0.0.1 and stopped by its PID when dropped. Install it with
//! `scripts/test-components/s3s-fs.sh install`. Without the binary, tests that need it
//! print a skip notice — or fail when `CI=true`, so that CI never silently skips them.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "test";
pub const SECRET_KEY: &str = "testtest";

/// A running `s3s-fs` with one bucket.
pub struct S3sFs {
    child: Child,
    root: tempfile::TempDir,
    pub endpoint: String,
    pub bucket: String,
}

impl S3sFs {
    /// Starts a server with bucket `bucket`, or `None` (after a notice) when the binary is
    /// missing outside CI.
    pub fn start(bucket: &str) -> Option<Self> {
        let Some(binary) = binary() else {
            let message = "s3s-fs is not installed; run `scripts/test-components/s3s-fs.sh install`";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{message} (CI=true: S3 tests must not be skipped)");
            }
            eprintln!("skipping the S3 part of this test: {message}");
            return None;
        };
        let root = tempfile::tempdir().expect("a temporary directory for s3s-fs");
        std::fs::create_dir(root.path().join(bucket)).expect("create the bucket directory");
        // A port can be taken between finding it free and s3s-fs binding it: retry.
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            // To a file, not a pipe nobody reads (a full pipe would block the server).
            let log_path = root.path().join("s3s-fs.log");
            let log = std::fs::File::create(&log_path).expect("create the s3s-fs log file");
            let mut child = Command::new(&binary)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
                .arg(root.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            match wait_until_listening(&mut child, port, &log_path) {
                Ok(()) => {
                    return Some(Self {
                        child,
                        root,
                        endpoint: format!("http://127.0.0.1:{port}"),
                        bucket: bucket.to_string(),
                    });
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_error = e;
                }
            }
        }
        panic!("s3s-fs did not start: {last_error}");
    }

    /// The directory holding the bucket's objects as plain files.
    pub fn bucket_dir(&self) -> PathBuf {
        self.root.path().join(&self.bucket)
    }
}

impl Drop for S3sFs {
    fn drop(&mut self) {
        // Child::kill signals exactly this PID.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("S3S_FS_BIN").map(PathBuf::from),
        std::env::var_os("BROOK_TOOLS").map(|t| Path::new(&t).join("bin/s3s-fs")),
        std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/brook/tools/bin/s3s-fs")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port on 127.0.0.1").port()
}

fn wait_until_listening(child: &mut Child, port: u16, log: &Path) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let stderr = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!("exited with {status}: {stderr}"));
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!("not listening on port {port} after 10 s"))
}
