//! Savepoints and stop-with-savepoint (Flink semantics): a savepoint taken mid-run
//! restores at another parallelism with the results of an uninterrupted run; a
//! stop without drain flushes nothing and its savepoint resumes the job; a stop with
//! drain fires every window in progress; failed savepoints leave the job running.

use crate::support::{JOB_DEADLINE, SumAtEnd, ThrottledSequence, eventually, expected_sums, run, sorted, wait};
use brook_api::window::TumblingEventTimeWindows;
use brook_api::{
    Collector, Configuration, Context, JobClient, JobStatus, SinkFunction, StreamExecutionEnvironment,
    TwoPhaseCommitSink, WatermarkStrategy,
};
use brook_runtime::checkpoint::{SnapshotError, StateSnapshotContext};
use brook_runtime::source::{
    Boundedness, NumberSequenceSource, ReaderContext, ReaderStatus, SequenceSplit, Source, SourceReader,
    SplitEnumerator,
};
use brook_types::{Batch, CheckpointId, StreamRecord};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

const KEYS: i64 = 10;

/// Resolves a savepoint future, failing the test after [`JOB_DEADLINE`].
fn block<T>(future: impl std::future::Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async { tokio::time::timeout(JOB_DEADLINE, future).await }).expect("the savepoint request ends")
}

/// Four slots, checkpoints under `dir/chk` (only used with an interval in `extra`),
/// savepoints under `dir/savepoints` unless `savepoint_dir` is false.
fn config(dir: &Path, savepoint_dir: bool, extra: &[&str]) -> Configuration {
    let mut config = Configuration::new();
    let mut set = |pair: &str| config.set_dynamic(pair).expect("a valid option");
    set("taskmanager.numberOfTaskSlots=4");
    set(&format!("execution.checkpointing.dir=file://{}/chk", dir.display()));
    if savepoint_dir {
        set(&format!("execution.checkpointing.savepoint-dir=file://{}/savepoints", dir.display()));
    }
    for pair in extra {
        set(pair);
    }
    config
}

fn environment(config: Configuration, parallelism: usize) -> StreamExecutionEnvironment {
    let env = StreamExecutionEnvironment::with_configuration(config);
    env.set_parallelism(parallelism);
    env
}

/// Whether every subtask of the job runs (savepoints are taken only then).
fn all_running(client: &JobClient) -> bool {
    eventually(client, Duration::from_secs(30), |s| {
        s.status == JobStatus::Running
            && s.vertices.iter().all(|v| v.subtask_states.iter().all(|t| t.name() == "RUNNING"))
    })
}

/// Records what it was given and the checkpoints it was told about.
#[derive(Clone, Default)]
struct CommitLog {
    events: Arc<Mutex<Vec<String>>>,
}

impl SinkFunction<i64> for CommitLog {
    fn write_batch(&mut self, _batch: Batch<i64>) -> brook_types::Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> brook_types::Result<()> {
        self.events.lock().push("finish".into());
        Ok(())
    }

    fn snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        self.events.lock().push(format!("pre-commit {}", ctx.checkpoint_id()));
        Ok(())
    }

    fn notify_checkpoint_complete(&mut self, checkpoint: CheckpointId) -> Result<(), SnapshotError> {
        self.events.lock().push(format!("commit {checkpoint}"));
        Ok(())
    }
}

/// a throttled sequence 1..=n (counting what it reads into `reads`) → key_by(v % 10)
/// → `SumAtEnd`, plus a commit log on the sequence (parallelism 1).
fn sum_job(
    env: &StreamExecutionEnvironment,
    n: i64,
    reads: &Arc<AtomicU64>,
    log: &CommitLog,
) -> brook_api::CollectHandle<(i64, i64, u64)> {
    let reads = reads.clone();
    let numbers = env
        .from_source(ThrottledSequence { to: n, per_ms: 20 }, "Throttled Sequence")
        .uid("numbers")
        .map(move |v: i64| {
            reads.fetch_add(1, Ordering::Relaxed);
            v
        })
        .uid("count reads");
    numbers.clone().sink_to(log.clone(), "Commit Log").uid("commit log").set_parallelism(1);
    numbers.key_by(|v: &i64| v % KEYS).process(SumAtEnd::default()).uid("sums").collect()
}

/// Restores the sum job from `savepoint` at `parallelism` and returns its output and
/// how many records its source read.
fn restore_sums(dir: &Path, savepoint: &str, parallelism: usize, n: i64) -> (Vec<(i64, i64, u64)>, u64) {
    let path = format!("execution.state-recovery.path={savepoint}");
    let env = environment(config(dir, true, &[path.as_str()]), parallelism);
    let reads = Arc::new(AtomicU64::new(0));
    let out = sum_job(&env, n, &reads, &CommitLog::default());
    run(&env, "sums, restored").expect("the restored job finishes");
    (sorted(out.take()), reads.load(Ordering::Relaxed))
}

/// The `_metadata` file of a savepoint directory URL.
fn metadata_of(savepoint: &str) -> std::path::PathBuf {
    Path::new(savepoint.trim_start_matches("file://")).join("_metadata")
}

#[test]
fn a_savepoint_without_checkpointing_restores_at_parallelism_1_and_4_with_the_results_of_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let n = 30_000;
    // No execution.checkpointing.interval: savepoints work without periodic checkpoints.
    let env = environment(config(dir.path(), true, &[]), 2);
    let reads = Arc::new(AtomicU64::new(0));
    let _out = sum_job(&env, n, &reads, &CommitLog::default());
    let client = env.execute_async("sums").unwrap();
    assert!(all_running(&client), "the job runs: {:?}", client.snapshot());
    let savepoint = block(client.trigger_savepoint(None, false)).expect("the savepoint completes");
    let under = format!("file://{}/savepoints/savepoint-", dir.path().display());
    assert!(savepoint.starts_with(&under), "{savepoint} lies under {under}");
    assert!(metadata_of(&savepoint).exists(), "{savepoint} has its _metadata");
    assert_eq!(client.status(), JobStatus::Running, "a savepoint leaves the job running");
    assert_eq!(client.snapshot().completed_checkpoints, 0, "a savepoint is not a retained checkpoint");
    client.cancel();
    assert!(wait(&client).unwrap_err().to_string().contains("cancel"));
    assert!(metadata_of(&savepoint).exists(), "canceling the job keeps its savepoint");
    for parallelism in [1, 4] {
        let (out, restored_reads) = restore_sums(dir.path(), &savepoint, parallelism, n);
        assert_eq!(out, expected_sums(n, KEYS), "restored at parallelism {parallelism}");
        assert!(restored_reads < n as u64, "the source resumed from its position: read {restored_reads} of {n}");
    }
}

#[test]
fn a_savepoint_with_cancel_job_cancels_the_job_and_restores() {
    let dir = tempfile::tempdir().unwrap();
    let n = 30_000;
    let target = dir.path().join("chosen");
    // Periodic checkpoints run beside the savepoint.
    let env = environment(config(dir.path(), false, &["execution.checkpointing.interval=30 ms"]), 2);
    let reads = Arc::new(AtomicU64::new(0));
    let _out = sum_job(&env, n, &reads, &CommitLog::default());
    let client = env.execute_async("sums, canceled with a savepoint").unwrap();
    assert!(eventually(&client, Duration::from_secs(30), |s| s.completed_checkpoints >= 1), "a checkpoint completed");
    let request = client.trigger_savepoint(Some(target.display().to_string()), true);
    let savepoint = block(request).expect("the savepoint completes");
    let under = format!("file://{}/savepoint-", target.display());
    assert!(savepoint.starts_with(&under), "{savepoint} lies under the target {under}");
    let err = wait(&client).unwrap_err().to_string();
    assert!(err.contains("cancel"), "{err}");
    assert_eq!(client.status(), JobStatus::Canceled);
    let (out, restored_reads) = restore_sums(dir.path(), &savepoint, 2, n);
    assert_eq!(out, expected_sums(n, KEYS));
    assert!(restored_reads < n as u64, "read {restored_reads} of {n}");
}

#[test]
fn stop_with_savepoint_without_drain_flushes_nothing_and_its_savepoint_resumes_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let n = 30_000;
    let env = environment(config(dir.path(), true, &[]), 2);
    let reads = Arc::new(AtomicU64::new(0));
    let log = CommitLog::default();
    let out = sum_job(&env, n, &reads, &log);
    let client = env.execute_async("sums, stopped").unwrap();
    assert!(all_running(&client));
    let savepoint = block(client.stop_with_savepoint(false, None)).expect("the job stops with a savepoint");
    assert!(metadata_of(&savepoint).exists(), "{savepoint} has its _metadata");
    assert_eq!(client.status(), JobStatus::Finished, "the stop is answered once the job finished");
    wait(&client).expect("a stopped job finished");
    assert_eq!(out.take(), Vec::new(), "without drain, event time does not end: no timer fired");
    let read = reads.load(Ordering::Relaxed);
    assert!(read < n as u64, "the sources stopped before their end: read {read} of {n}");
    let events = log.events.lock().clone();
    assert!(!events.contains(&"finish".to_string()), "without drain no operator finishes: {events:?}");
    let commit = events.last().expect("the sink saw the savepoint").clone();
    let id = commit.strip_prefix("commit ").unwrap_or_else(|| panic!("the savepoint's commit is last: {events:?}"));
    assert!(events.contains(&format!("pre-commit {id}")), "{events:?}");
    let (out, restored_reads) = restore_sums(dir.path(), &savepoint, 2, n);
    assert_eq!(out, expected_sums(n, KEYS));
    assert_eq!(read + restored_reads, n as u64, "nothing read twice, nothing skipped");
}

/// A sequence whose readers emit their splits, then wait for more forever: the
/// job runs until it is stopped.
#[derive(Clone)]
struct SequenceThenIdle {
    to: i64,
}

impl Source<i64> for SequenceThenIdle {
    type Split = SequenceSplit;

    fn boundedness(&self) -> Boundedness {
        Boundedness::ContinuousUnbounded
    }

    fn create_enumerator(&self, parallelism: usize) -> brook_types::Result<Box<dyn SplitEnumerator<SequenceSplit>>> {
        NumberSequenceSource { from: 1, to: self.to }.create_enumerator(parallelism)
    }

    fn create_reader(&self, _ctx: &ReaderContext) -> brook_types::Result<Box<dyn SourceReader<i64, SequenceSplit>>> {
        Ok(Box::new(IdleReader { splits: Vec::new() }))
    }
}

struct IdleReader {
    splits: Vec<SequenceSplit>,
}

impl SourceReader<i64, SequenceSplit> for IdleReader {
    fn add_splits(&mut self, splits: Vec<SequenceSplit>) {
        self.splits.extend(splits);
    }

    fn no_more_splits(&mut self) {}

    fn poll_next(
        &mut self,
        _cx: &mut std::task::Context<'_>,
        out: &mut Vec<StreamRecord<i64>>,
    ) -> Poll<brook_types::Result<ReaderStatus>> {
        let Some(split) = self.splits.first_mut() else { return Poll::Pending };
        let end = split.to.min(split.next + 49);
        out.extend((split.next..=end).map(StreamRecord::new));
        split.next = end + 1;
        if split.next > split.to {
            self.splits.remove(0);
        }
        Poll::Ready(Ok(ReaderStatus::MoreAvailable))
    }

    fn snapshot_splits(&self) -> Vec<SequenceSplit> {
        self.splits.clone()
    }
}

/// Per (key, window of 100): the sum, with the window's max timestamp.
type WindowSum = ((i64, i64), i64);

fn expected_windows(to: i64) -> Vec<WindowSum> {
    let mut sums: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for v in 1..=to {
        *sums.entry((v % 3, v / 100 * 100 + 99)).or_default() += v;
    }
    sorted(sums.into_iter().map(|((k, ts), sum)| ((k, sum), ts)).collect())
}

#[test]
fn stop_with_savepoint_with_drain_fires_the_windows_in_progress_and_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let to = 1_000;
    let env = environment(config(dir.path(), true, &[]), 2);
    let emitted = Arc::new(AtomicU64::new(0));
    let counter = emitted.clone();
    let log = CommitLog::default();
    let numbers = env
        .from_source_with_watermarks(
            SequenceThenIdle { to },
            WatermarkStrategy::for_monotonous_timestamps().with_timestamp_assigner(|v: &i64, _| *v),
            "Sequence Then Idle",
        )
        .map(move |v: i64| {
            counter.fetch_add(1, Ordering::SeqCst);
            v
        });
    numbers.clone().sink_to(log.clone(), "Commit Log").set_parallelism(1);
    let out = numbers
        .map(|v: i64| (v % 3, v))
        .key_by(|r: &(i64, i64)| r.0)
        .window(TumblingEventTimeWindows::of(Duration::from_millis(100)))
        .reduce(|a: (i64, i64), b: (i64, i64)| (a.0, a.1 + b.1))
        .process(|r: (i64, i64), ctx: &mut Context<'_>, out: &mut Collector<WindowSum>| {
            out.collect((r, ctx.timestamp().expect("window results carry a timestamp")))
        })
        .collect();
    let client = env.execute_async("windows, drained").unwrap();
    assert!(all_running(&client));
    assert!(
        eventually(&client, Duration::from_secs(30), |_| emitted.load(Ordering::SeqCst) == to as u64),
        "the sources emitted everything"
    );
    let before = out.take();
    assert!(
        !before.iter().any(|(_, ts)| *ts == 1_099),
        "the last window cannot fire while the sources idle: {before:?}"
    );
    let savepoint = block(client.stop_with_savepoint(true, None)).expect("the job stops with a savepoint");
    assert!(metadata_of(&savepoint).exists());
    assert_eq!(client.status(), JobStatus::Finished);
    let mut all = before;
    all.extend(out.take());
    assert_eq!(sorted(all), expected_windows(to), "every window fired, once");
    let events = log.events.lock().clone();
    let finish = events.iter().position(|e| e == "finish").expect("with drain the sink finished");
    let commit = events.last().expect("the sink saw the savepoint").clone();
    let id = commit.strip_prefix("commit ").unwrap_or_else(|| panic!("the savepoint's commit is last: {events:?}"));
    let pre_commit = events.iter().position(|e| *e == format!("pre-commit {id}")).expect("pre-committed");
    assert!(finish < pre_commit, "the drain precedes the savepoint's barrier: {events:?}");
}

#[test]
fn a_savepoint_into_an_unusable_directory_fails_and_the_job_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let env = environment(config(dir.path(), true, &["execution.checkpointing.interval=50 ms"]), 2);
    let reads = Arc::new(AtomicU64::new(0));
    let _out = sum_job(&env, 1_000_000, &reads, &CommitLog::default());
    let client = env.execute_async("sums, bad target").unwrap();
    assert!(all_running(&client));
    // A directory below a regular file cannot be created, not even by root.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let target = file.join("savepoints");
    let err = block(client.trigger_savepoint(Some(target.display().to_string()), false)).unwrap_err().to_string();
    assert!(err.contains(&target.display().to_string()), "the error names the directory: {err}");
    assert!(err.contains("could not create its directory"), "{err}");
    assert!(err.contains("trigger the savepoint again into a directory that can be created and written"), "{err}");
    let err = block(client.trigger_savepoint(Some("ftp://host/savepoints".into()), false)).unwrap_err().to_string();
    assert!(err.contains("ftp://host/savepoints"), "{err}");
    assert!(err.contains("execution.checkpointing.savepoint-dir"), "{err}");
    assert_eq!(client.status(), JobStatus::Running, "a failed savepoint leaves the job running");
    let savepoint = block(client.trigger_savepoint(None, false)).expect("a later savepoint succeeds");
    assert!(metadata_of(&savepoint).exists());
    assert_eq!(client.snapshot().restarts, 0, "failed savepoints do not fail the job");
    client.cancel();
    assert!(wait(&client).is_err());
}

#[test]
fn without_a_savepoint_directory_the_request_names_the_option_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let env = environment(config(dir.path(), false, &[]), 1);
    let reads = Arc::new(AtomicU64::new(0));
    let _out = sum_job(&env, 1_000_000, &reads, &CommitLog::default());
    let client = env.execute_async("sums, no savepoint dir").unwrap();
    assert!(all_running(&client));
    let err = block(client.trigger_savepoint(None, false)).unwrap_err().to_string();
    assert!(err.contains("execution.checkpointing.savepoint-dir"), "{err}");
    let err = block(client.stop_with_savepoint(false, None)).unwrap_err().to_string();
    assert!(err.contains("execution.checkpointing.savepoint-dir"), "{err}");
    assert_eq!(client.status(), JobStatus::Running, "a failed stop leaves the job running");
    let before = reads.load(Ordering::Relaxed);
    assert!(
        eventually(&client, Duration::from_secs(30), |_| reads.load(Ordering::Relaxed) > before),
        "the sources emit again after the failed stop"
    );
    client.cancel();
    assert!(wait(&client).is_err());
}

#[test]
fn a_savepoint_of_a_job_with_other_operators_is_refused_naming_the_operator() {
    let dir = tempfile::tempdir().unwrap();
    let env = environment(config(dir.path(), true, &[]), 2);
    let reads = Arc::new(AtomicU64::new(0));
    let _out = sum_job(&env, 1_000_000, &reads, &CommitLog::default());
    let client = env.execute_async("sums").unwrap();
    assert!(all_running(&client));
    let savepoint = block(client.trigger_savepoint(None, true)).expect("the savepoint completes");
    assert!(wait(&client).is_err());
    // The same source, but the keyed sums have another uid.
    let path = format!("execution.state-recovery.path={savepoint}");
    let env = environment(config(dir.path(), true, &[path.as_str()]), 2);
    let _out = env
        .from_source(ThrottledSequence { to: 100, per_ms: 20 }, "Throttled Sequence")
        .uid("numbers")
        .key_by(|v: &i64| v % KEYS)
        .process(SumAtEnd::default())
        .uid("other sums")
        .collect();
    let err = run(&env, "other operators").unwrap_err().to_string();
    assert!(err.contains("uid 'sums'"), "the error names the operator: {err}");
    assert!(err.contains("which this job does not have"), "{err}");
    assert!(err.contains("--allowNonRestoredState"), "{err}");
}

/// A two-phase-commit sink into shared memory: a transaction is numbered, and
/// committing it twice (a restore recommits what was pre-committed) keeps one copy.
#[derive(Clone, Default)]
struct CommittedNumbers {
    next: Arc<AtomicU64>,
    committed: Arc<Mutex<BTreeMap<u64, Vec<i64>>>>,
}

impl CommittedNumbers {
    fn values(&self) -> Vec<i64> {
        sorted(self.committed.lock().values().flatten().copied().collect())
    }
}

impl TwoPhaseCommitSink<i64> for CommittedNumbers {
    type Transaction = (u64, Vec<i64>);

    fn begin_transaction(&mut self) -> brook_types::Result<Self::Transaction> {
        Ok((self.next.fetch_add(1, Ordering::SeqCst), Vec::new()))
    }

    fn write(&mut self, transaction: &mut Self::Transaction, batch: Batch<i64>) -> brook_types::Result<()> {
        transaction.1.extend(batch.into_iter().map(|r| r.value));
        Ok(())
    }

    fn pre_commit(&mut self, _transaction: &mut Self::Transaction) -> brook_types::Result<()> {
        Ok(())
    }

    fn commit(&mut self, (id, values): Self::Transaction) -> brook_types::Result<()> {
        self.committed.lock().insert(id, values);
        Ok(())
    }

    fn abort(&mut self, _transaction: Self::Transaction) -> brook_types::Result<()> {
        Ok(())
    }
}

#[test]
fn a_two_phase_commit_sink_commits_exactly_up_to_the_stop_and_the_restored_job_commits_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000;
    let sink = CommittedNumbers::default();
    let job = |extra: &[&str]| {
        let env = environment(config(dir.path(), true, extra), 2);
        env.from_source(ThrottledSequence { to: n, per_ms: 20 }, "Throttled Sequence")
            .uid("numbers")
            .sink_to_two_phase_commit(sink.clone(), "Committed Numbers")
            .uid("committed numbers");
        env
    };
    let env = job(&[]);
    let client = env.execute_async("numbers, stopped").unwrap();
    assert!(all_running(&client));
    let savepoint = block(client.stop_with_savepoint(false, None)).expect("the job stops with a savepoint");
    let committed = sink.values();
    assert!(!committed.is_empty() && committed.len() < n as usize, "stopped mid-run: {} of {n}", committed.len());
    // Each source subtask read a prefix of its split, and nothing after the barrier.
    for (from, to) in [(1, n / 2), (n / 2 + 1, n)] {
        let part: Vec<i64> = committed.iter().copied().filter(|v| (from..=to).contains(v)).collect();
        let prefix: Vec<i64> = (from..from + part.len() as i64).collect();
        assert_eq!(part, prefix, "a prefix of {from}..={to}, each value once");
    }
    let path = format!("execution.state-recovery.path={savepoint}");
    let env = job(&[path.as_str()]);
    run(&env, "numbers, restored").expect("the restored job finishes");
    assert_eq!(sink.values(), (1..=n).collect::<Vec<_>>(), "every value committed exactly once");
}
