//! Running the `brook` binary and reading what it printed.

use std::ffi::OsStr;
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Longest a single `brook` invocation may take before the test fails (debug builds).
const TIMEOUT: Duration = Duration::from_secs(60);

/// What one run of `brook` did.
#[derive(Debug)]
pub struct Outcome {
    pub args: Vec<String>,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `brook args…` with a clean environment (no `BROOK_CONF_DIR`, no `RUST_LOG`)
/// and waits for it, killing it after [`TIMEOUT`].
pub fn brook<I, S>(args: I) -> Outcome
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_os_string()).collect();
    let shown: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args(&args)
        .env_remove("BROOK_CONF_DIR")
        .env_remove("RUST_LOG")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the brook binary cargo built for this test can be started");
    let stdout = drain(child.stdout.take().expect("stdout is piped"));
    let stderr = drain(child.stderr.take().expect("stderr is piped"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting on a child we spawned") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`brook {}` did not finish within {TIMEOUT:?}", shown.join(" "));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Outcome {
        args: shown,
        status,
        stdout: stdout.join().expect("stdout reader does not panic"),
        stderr: stderr.join().expect("stderr reader does not panic"),
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8(bytes).expect("brook writes UTF-8")
    })
}

impl Outcome {
    /// The id of `Job has been submitted with JobID <id>` on stderr; panics
    /// with stderr when there is none.
    pub fn submitted_job_id(&self) -> String {
        let submitted = self.stderr.lines().find_map(|l| l.strip_prefix("Job has been submitted with JobID "));
        submitted.unwrap_or_else(|| panic!("no job id in:\n{}", self.stderr)).trim().to_string()
    }

    /// Panics with everything the command printed unless it exited 0.
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.status.success(),
            "`brook {}` failed with {}\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            self.status,
            self.stdout,
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "`brook {}` panicked:\n{}", self.args.join(" "), self.stderr);
        self
    }

    /// Checks the failure contract of the CLI — a non-zero exit code, no panic
    /// trace, exactly one `error: ` line and it is the last line of stderr (the
    /// only lines before it are job status lines) — and returns the error line.
    pub fn assert_error(&self) -> &str {
        let context = format!("`brook {}` ({})\n--- stderr\n{}", self.args.join(" "), self.status, self.stderr);
        assert!(!self.status.success(), "expected a failure: {context}");
        assert!(!self.stderr.contains("panicked"), "no panic trace expected: {context}");
        assert!(!self.stderr.contains("RUST_BACKTRACE"), "no panic trace expected: {context}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        let errors: Vec<&&str> = lines.iter().filter(|l| l.starts_with("error: ")).collect();
        assert_eq!(errors.len(), 1, "exactly one `error: ` line expected: {context}");
        let last = *lines.last().expect("an error line was found above");
        assert!(last.starts_with("error: "), "the error must be the last stderr line: {context}");
        for line in &lines[..lines.len() - 1] {
            assert!(
                line.starts_with("Job has been submitted with JobID ")
                    || line.starts_with("Rest endpoint listening at "),
                "unexpected stderr line {line:?}: {context}"
            );
        }
        last
    }

    /// As [`Outcome::assert_error`], for errors found before a job is submitted:
    /// stderr is the error line and nothing else.
    pub fn assert_only_error(&self) -> &str {
        let line = self.assert_error();
        assert_eq!(self.stderr, format!("{line}\n"), "stderr must be the single error line");
        line
    }

    /// Exit code, for usage errors that follow clap's convention (2).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
}
