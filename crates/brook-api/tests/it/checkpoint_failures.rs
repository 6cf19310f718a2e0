//! Bad input and failures around checkpoints, seen from a running job: a missing or
//! corrupt `_metadata`, a truncated state file and a full disk give errors that
//! name the file; checkpoints that fail (in an operator, on a full disk) leave the
//! last good checkpoint intact and restorable, and the job keeps running while the
//! failures stay within `execution.checkpointing.tolerable-failed-checkpoints`.

use crate::support::{SumAtEnd, ThrottledSequence, eventually, expected_sums, run, sorted, wait};
use brook_api::{Configuration, JobClient, JobExecutionResult, SinkFunction, StreamExecutionEnvironment};
use brook_runtime::checkpoint::{SnapshotError, StateSnapshotContext};
use brook_types::Batch;
use std::path::{Path, PathBuf};
use std::time::Duration;

const KEYS: i64 = 100;

/// Checkpoints into `dir` every 40 ms, kept on cancellation, state always in files
/// (never inlined into `_metadata`), restarts at most 3 times.
fn config(dir: &Path, extra: &[&str]) -> Configuration {
    let mut config = Configuration::new();
    let mut set = |pair: &str| config.set_dynamic(pair).expect("a valid option");
    set("taskmanager.numberOfTaskSlots=4");
    set(&format!("execution.checkpointing.dir=file://{}", dir.display()));
    set("execution.checkpointing.interval=40 ms");
    set("execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION");
    set("execution.checkpointing.data-inline-threshold=0 b");
    set("restart-strategy.type=fixed-delay");
    set("restart-strategy.fixed-delay.attempts=3");
    set("restart-strategy.fixed-delay.delay=10 ms");
    for pair in extra {
        set(pair);
    }
    config
}

/// throttled 1..=n → key_by(v % keys) → per-key sums at the end of input.
fn sum_job(env: &StreamExecutionEnvironment, n: i64, keys: i64) -> brook_api::CollectHandle<(i64, i64, u64)> {
    env.from_source(ThrottledSequence { to: n, per_ms: 20 }, "Throttled Sequence")
        .uid("sequence")
        .key_by(move |v: &i64| v % keys)
        .process(SumAtEnd::default())
        .uid("sums")
        .collect()
}

/// Runs the sum job until two checkpoints completed, cancels it, and returns the
/// retained checkpoint's local directory.
fn retained_checkpoint(dir: &Path, n: i64) -> PathBuf {
    let env = StreamExecutionEnvironment::with_configuration(config(dir, &[]));
    env.set_parallelism(2);
    let _out = sum_job(&env, n, KEYS);
    let client = env.execute_async("sums, canceled").unwrap();
    assert!(eventually(&client, Duration::from_secs(30), |s| s.completed_checkpoints >= 2), "no checkpoint completed");
    let (_, chk) = client.snapshot().latest_checkpoint.expect("a completed checkpoint");
    client.cancel();
    assert!(wait(&client).is_err(), "the job was canceled");
    PathBuf::from(chk.trim_start_matches("file://"))
}

/// Restores the sum job from `path` at parallelism 2 and runs it to its end.
fn restore(dir: &Path, path: &str, n: i64) -> (brook_api::Result<JobExecutionResult>, Vec<(i64, i64, u64)>) {
    let recovery = format!("execution.state-recovery.path={path}");
    let env = StreamExecutionEnvironment::with_configuration(config(dir, &[&recovery]));
    env.set_parallelism(2);
    let out = sum_job(&env, n, KEYS);
    let result = run(&env, "sums, restored");
    (result, sorted(out.take()))
}

/// The state files of a checkpoint directory: everything but `_metadata`.
fn state_files(chk: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        walk(chk).into_iter().filter(|p| p.file_name().is_some_and(|n| n != "_metadata")).collect();
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_missing_recovery_path_fails_the_job_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-savepoint");
    let (result, _) = restore(dir.path(), &missing.display().to_string(), 10);
    let err = result.unwrap_err().to_string();
    assert!(err.contains(&format!("cannot restore the job from '{}'", missing.display())), "{err}");
}

#[test]
fn a_corrupt_metadata_file_fails_the_job_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000;
    let chk = retained_checkpoint(dir.path(), n);
    let metadata = chk.join("_metadata");
    let mut bytes = std::fs::read(&metadata).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&metadata, &bytes).unwrap();
    let (result, _) = restore(dir.path(), &chk.display().to_string(), n);
    let err = result.unwrap_err().to_string();
    assert!(err.contains("_metadata"), "the error names the file: {err}");
    assert!(err.contains(&chk.display().to_string()), "the error names the checkpoint: {err}");
}

#[test]
fn a_truncated_state_file_fails_the_restore_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000;
    let chk = retained_checkpoint(dir.path(), n);
    let files = state_files(&chk);
    assert!(!files.is_empty(), "with an inline threshold of 0 the state lives in files: {chk:?}");
    for file in &files {
        let len = std::fs::metadata(file).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(file).unwrap();
        f.set_len(len / 2).unwrap();
    }
    let (result, _) = restore(dir.path(), &chk.display().to_string(), n);
    let err = result.unwrap_err().to_string();
    let named = files.iter().any(|f| err.contains(&f.file_name().unwrap().to_string_lossy().to_string()));
    assert!(named, "the error names a truncated file of {files:?}: {err}");
}

#[test]
fn an_intact_retained_checkpoint_restores_with_exact_results() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000;
    let chk = retained_checkpoint(dir.path(), n);
    let (result, out) = restore(dir.path(), &chk.display().to_string(), n);
    result.expect("the restored job finishes");
    assert_eq!(out, expected_sums(n, KEYS));
}

/// A sink whose snapshot fails for checkpoints 2 and 3 (a failure during a checkpoint).
#[derive(Clone)]
struct FailingSnapshots;

impl SinkFunction<(i64, i64, u64)> for FailingSnapshots {
    fn write_batch(&mut self, _batch: Batch<(i64, i64, u64)>) -> brook_types::Result<()> {
        Ok(())
    }

    fn snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        match ctx.checkpoint_id().0 {
            2 | 3 => Err(SnapshotError::Failed(format!("injected failure in checkpoint {}", ctx.checkpoint_id()))),
            _ => Ok(()),
        }
    }
}

fn failing_snapshots_job(
    dir: &Path,
    tolerable: usize,
    n: i64,
) -> (JobClient, brook_api::CollectHandle<(i64, i64, u64)>) {
    let tolerable = format!("execution.checkpointing.tolerable-failed-checkpoints={tolerable}");
    let env = StreamExecutionEnvironment::with_configuration(config(dir, &[&tolerable]));
    env.set_parallelism(1);
    let sums = env
        .from_source(ThrottledSequence { to: n, per_ms: 20 }, "Throttled Sequence")
        .key_by(|v: &i64| v % KEYS)
        .process(SumAtEnd::default());
    sums.clone().sink_to(FailingSnapshots, "Failing Snapshots");
    let out = sums.collect();
    (env.execute_async("failing snapshots").unwrap(), out)
}

#[test]
fn failed_checkpoints_within_the_tolerable_count_keep_the_job_running() {
    let dir = tempfile::tempdir().unwrap();
    let n = 10_000;
    let (client, out) = failing_snapshots_job(dir.path(), 2, n);
    wait(&client).expect("two failed checkpoints are tolerated");
    let snapshot = client.snapshot();
    assert_eq!(snapshot.restarts, 0, "{snapshot:?}");
    assert!(snapshot.completed_checkpoints >= 2, "checkpoints 1 and 4.. completed: {snapshot:?}");
    assert_eq!(sorted(out.take()), expected_sums(n, KEYS));
}

#[test]
fn one_failed_checkpoint_too_many_restarts_the_job_from_the_last_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let n = 10_000;
    let (client, out) = failing_snapshots_job(dir.path(), 0, n);
    assert!(
        eventually(&client, Duration::from_secs(30), |s| s.restarts >= 1),
        "the first failed checkpoint exceeds a tolerable count of 0: {:?}",
        client.snapshot()
    );
    let failure = client.snapshot().last_failure.unwrap_or_default();
    assert!(failure.contains("injected failure in checkpoint 2"), "{failure}");
    assert!(failure.contains("Failing Snapshots"), "the cause names the operator: {failure}");
    // Checkpoint 1 survived the failure of checkpoint 2 and the job resumed from it.
    wait(&client).expect("after the restart the job ends");
    assert_eq!(sorted(out.take()), expected_sums(n, KEYS));
}

/// Keys grow with the input (every value its own key), so checkpoints grow until
/// they no longer fit on a 256 KiB disk. Two failed checkpoints are tolerated; the
/// third fails the attempt, and once the restarts are used up the job FAILS with the
/// cause naming the file it could not write. The checkpoint that fit is left intact
/// and restores with exact results.
#[test]
fn a_full_disk_fails_checkpoints_but_keeps_the_last_good_one() {
    let Some(disk) = TinyDisk::mount("256k") else { return };
    let n = 30_000;
    let env = StreamExecutionEnvironment::with_configuration(config(
        &disk.path,
        &["execution.checkpointing.tolerable-failed-checkpoints=2", "restart-strategy.fixed-delay.attempts=1"],
    ));
    env.set_parallelism(1);
    let _out = sum_job(&env, n, n);
    let client = env.execute_async("growing state").unwrap();
    let err = wait(&client).expect_err("the disk stays full").to_string();
    assert!(err.contains("no space left while trying to write state file"), "{err}");
    assert!(err.contains(&disk.path.display().to_string()), "the cause names the file: {err}");
    let snapshot = client.snapshot();
    assert_eq!(snapshot.restarts, 1, "{snapshot:?}");
    let (_, chk) = snapshot.latest_checkpoint.expect("an early, small checkpoint fit on the disk");
    let chk = chk.trim_start_matches("file://").to_string();
    assert!(Path::new(&chk).join("_metadata").exists(), "{chk}");
    // The last good checkpoint restores (into a roomier directory for new checkpoints).
    let roomy = tempfile::tempdir().unwrap();
    let recovery = format!("execution.state-recovery.path={chk}");
    let env = StreamExecutionEnvironment::with_configuration(config(roomy.path(), &[&recovery]));
    env.set_parallelism(1);
    let out = sum_job(&env, n, n);
    run(&env, "growing state, restored").expect("the last good checkpoint restores");
    assert_eq!(sorted(out.take()), expected_sums(n, n));
}

/// A real full disk: a small tmpfs. Needs the right to mount (root with
/// CAP_SYS_ADMIN); elsewhere the test prints a notice and checks nothing.
struct TinyDisk {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl TinyDisk {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("skipping the full-disk test: cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(Self { path, _dir: dir })
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.path).status();
    }
}
