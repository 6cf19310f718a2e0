//! Checkpoints and exactly-once recovery on the local MiniCluster: a job that fails
//! once resumes from its latest checkpoint and ends with the results of a run
//! without failure; restart strategies give up with the root cause; the final
//! checkpoint; what is left on disk.

use crate::support::{SumAtEnd, ThrottledSequence, eventually, expected_sums, run, sorted, wait};
use brook_api::state::ValueStateDescriptor;
use brook_api::{
    Collector, Configuration, Context, JobStatus, JoinContext, KeyedCoProcessFunction, KeyedContext, RuntimeContext,
    SinkFunction, StreamExecutionEnvironment, ValueState, WatermarkStrategy,
};
use brook_runtime::checkpoint::{SnapshotError, StateSnapshotContext};
use brook_types::{Batch, BrookError, CheckpointId, Watermark};
use parking_lot::Mutex;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

const KEYS: i64 = 10;

/// A configuration that checkpoints into `dir` every `interval_ms` and restarts with
/// `restart` (e.g. `fixed-delay`).
fn checkpointing(dir: &std::path::Path, interval_ms: u64, extra: &[&str]) -> Configuration {
    let mut config = Configuration::new();
    let mut set = |pair: &str| config.set_dynamic(pair).expect("a valid option");
    set("taskmanager.numberOfTaskSlots=4");
    set(&format!("execution.checkpointing.dir=file://{}", dir.display()));
    set(&format!("execution.checkpointing.interval={interval_ms} ms"));
    set("restart-strategy.type=fixed-delay");
    set("restart-strategy.fixed-delay.attempts=3");
    set("restart-strategy.fixed-delay.delay=10 ms");
    for pair in extra {
        set(pair);
    }
    config
}

/// Shared between the test and the job's functions.
#[derive(Clone, Default)]
struct Probe {
    /// Set by the test once a checkpoint completed: only then does the job fail.
    armed: Arc<AtomicBool>,
    panicked: Arc<AtomicBool>,
    /// Records read by attempts after the first (that is, after a restore).
    reads_after_restart: Arc<AtomicU64>,
}

/// a throttled sequence 1..=n → a pass-through that panics once at the first
/// record ≥ `fail_at` after the probe is armed → key_by(v % 10) → `SumAtEnd`.
fn sum_job(
    env: &StreamExecutionEnvironment,
    n: i64,
    fail_at: i64,
    probe: &Probe,
) -> brook_api::CollectHandle<(i64, i64, u64)> {
    let probe = probe.clone();
    env.from_source(ThrottledSequence { to: n, per_ms: 20 }, "Throttled Sequence")
        .process(move |v: i64, ctx: &mut Context<'_>, out: &mut Collector<i64>| {
            if ctx.runtime_context().attempt_number > 0 {
                probe.reads_after_restart.fetch_add(1, Ordering::Relaxed);
            }
            if v >= fail_at && probe.armed.load(Ordering::Relaxed) && !probe.panicked.swap(true, Ordering::SeqCst) {
                panic!("injected failure at record {v}");
            }
            out.collect(v);
        })
        .key_by(|v: &i64| v % KEYS)
        .process(SumAtEnd::default())
        .collect()
}

#[test]
fn a_keyed_job_resumes_from_its_checkpoint_with_the_results_of_a_run_without_failure() {
    let dir = tempfile::tempdir().unwrap();
    let n = 40_000;
    let env = StreamExecutionEnvironment::with_configuration(checkpointing(dir.path(), 50, &[]));
    env.set_parallelism(2);
    let probe = Probe::default();
    let out = sum_job(&env, n, 30_000, &probe);
    let client = env.execute_async("keyed recovery").unwrap();
    assert!(eventually(&client, Duration::from_secs(30), |s| s.completed_checkpoints >= 1), "no checkpoint completed");
    probe.armed.store(true, Ordering::SeqCst);
    wait(&client).expect("the job recovers and finishes");
    assert!(probe.panicked.load(Ordering::SeqCst), "the failure was injected");
    assert_eq!(sorted(out.take()), expected_sums(n, KEYS));
    let snapshot = client.snapshot();
    assert_eq!(snapshot.restarts, 1);
    assert!(snapshot.last_failure.as_deref().unwrap().contains("panicked: injected failure at record"));
    let replayed = probe.reads_after_restart.load(Ordering::SeqCst);
    assert!(replayed > 0, "the second attempt read the rest of the input");
    assert!(replayed < n as u64, "the second attempt resumed from the checkpoint, not from the start: {replayed}");
}

/// Per key: the sums of both inputs, emitted at the end of input.
#[derive(Clone, Default)]
struct SumBothAtEnd {
    sums: ValueState<(i64, i64)>,
}

impl KeyedCoProcessFunction<i64, i64, i64, (i64, i64, i64)> for SumBothAtEnd {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.sums = ctx.get_state(&ValueStateDescriptor::new("sums"));
    }

    fn process_element1(&mut self, v: i64, ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<(i64, i64, i64)>) {
        let mut state = ctx.state(&self.sums);
        let (a, b) = state.value().copied().unwrap_or((0, 0));
        state.update((a + v, b));
        ctx.timer_service().register_event_time_timer(Watermark::MAX.0);
    }

    fn process_element2(&mut self, v: i64, ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<(i64, i64, i64)>) {
        let mut state = ctx.state(&self.sums);
        let (a, b) = state.value().copied().unwrap_or((0, 0));
        state.update((a, b + v));
        ctx.timer_service().register_event_time_timer(Watermark::MAX.0);
    }

    fn on_timer(&mut self, _t: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<(i64, i64, i64)>) {
        let key = *ctx.current_key();
        let (a, b) = ctx.state(&self.sums).value().copied().unwrap_or((0, 0));
        out.collect((key, a, b));
    }
}

#[test]
fn a_keyed_two_input_job_resumes_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let n = 16_000;
    let env = StreamExecutionEnvironment::with_configuration(checkpointing(dir.path(), 40, &[]));
    env.set_parallelism(2);
    let probe = Probe::default();
    let failing = probe.clone();
    let left = env.from_source(ThrottledSequence { to: n, per_ms: 10 }, "Left").map(move |v: i64| {
        if v >= 3_000 && failing.armed.load(Ordering::Relaxed) && !failing.panicked.swap(true, Ordering::SeqCst) {
            panic!("injected failure at {v}");
        }
        v
    });
    let right = env.from_source(ThrottledSequence { to: n, per_ms: 10 }, "Right").map(|v: i64| -v);
    let handle = left
        .connect(right)
        .key_by(|v: &i64| v % KEYS, |v: &i64| (-v) % KEYS)
        .process(SumBothAtEnd::default())
        .collect();
    let client = env.execute_async("keyed two-input recovery").unwrap();
    assert!(eventually(&client, Duration::from_secs(30), |s| s.completed_checkpoints >= 1));
    probe.armed.store(true, Ordering::SeqCst);
    wait(&client).expect("the job recovers and finishes");
    assert!(probe.panicked.load(Ordering::SeqCst));
    assert_eq!(client.snapshot().restarts, 1);
    let expected: Vec<(i64, i64, i64)> = expected_sums(n, KEYS).into_iter().map(|(k, s, _)| (k, s, -s)).collect();
    assert_eq!(sorted(handle.take()), expected);
}

#[test]
fn the_job_fails_with_the_root_cause_when_fixed_delay_attempts_are_exhausted() {
    let dir = tempfile::tempdir().unwrap();
    let env = StreamExecutionEnvironment::with_configuration(checkpointing(
        dir.path(),
        50,
        &["restart-strategy.fixed-delay.attempts=2"],
    ));
    env.set_parallelism(1);
    let handle = env
        .generate_sequence(1, 100)
        .map(|v: i64| if v == 50 { panic!("bad record {v}") } else { v })
        .key_by(|v: &i64| v % KEYS)
        .reduce(|a, b| a + b)
        .collect();
    let client = env.execute_async("always failing").unwrap();
    let err = wait(&client).unwrap_err();
    let BrookError::JobFailed { cause, .. } = &err else { panic!("{err:?}") };
    assert!(cause.starts_with("operator 'Map' in task"), "{cause}");
    assert!(cause.contains("panicked: bad record 50"), "{cause}");
    assert!(
        cause.ends_with(
            "(the job is not restarted: the job failed 3 times and restart-strategy.fixed-delay.attempts allows 2 \
             restarts)"
        ),
        "{cause}"
    );
    assert_eq!(client.snapshot().restarts, 2);
    drop(handle);
}

#[test]
fn restart_strategy_none_fails_the_job_at_the_first_failure() {
    let dir = tempfile::tempdir().unwrap();
    let env =
        StreamExecutionEnvironment::with_configuration(checkpointing(dir.path(), 50, &["restart-strategy.type=none"]));
    env.set_parallelism(1);
    let _handle = env.generate_sequence(1, 10).map(|v: i64| if v == 3 { panic!("boom") } else { v }).collect();
    let err = run(&env, "no restarts").unwrap_err();
    assert_eq!(
        err.to_string().split_once(" failed: ").map(|(_, c)| c),
        Some("operator 'Map' in task 'Source: Sequence Source -> Map -> Sink: Collect (1/1)' panicked: boom")
    );
}

#[test]
fn a_failed_job_keeps_only_its_latest_checkpoint_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let env = StreamExecutionEnvironment::with_configuration(checkpointing(
        dir.path(),
        30,
        &[
            "restart-strategy.type=none",
            "execution.checkpointing.num-retained=1",
            "execution.checkpointing.externalized-checkpoint-retention=DELETE_ON_CANCELLATION",
        ],
    ));
    env.set_parallelism(2);
    let probe = Probe::default();
    let _out = sum_job(&env, 10_000_000, 0, &probe);
    let client = env.execute_async("keeps its checkpoint").unwrap();
    assert!(eventually(&client, Duration::from_secs(30), |s| s.completed_checkpoints >= 3), "checkpoints completed");
    probe.armed.store(true, Ordering::SeqCst);
    assert!(wait(&client).is_err());
    let (latest, latest_dir) = client.snapshot().latest_checkpoint.expect("a checkpoint completed");
    let job_dir = dir.path().join(client.job_id().to_string());
    let mut checkpoints: Vec<String> = std::fs::read_dir(&job_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("chk-"))
        .collect();
    checkpoints.sort();
    // Checkpoints triggered after the latest one were aborted when the job failed.
    assert_eq!(checkpoints, vec![format!("chk-{}", latest.0)], "only the latest is retained");
    assert!(latest_dir.ends_with(&format!("chk-{}", latest.0)));
    let metadata = std::fs::read_to_string(job_dir.join(format!("chk-{}", latest.0)).join("_metadata")).unwrap();
    assert!(metadata.contains("\"magic\": \"brook-checkpoint-metadata\""));
    assert!(metadata.contains("\"name\": \"Source: Throttled Sequence\""), "{metadata}");
    assert!(metadata.contains("\"name\": \"KeyedProcess\""), "{metadata}");
}

#[test]
fn at_least_once_checkpoints_complete_on_a_two_input_task() {
    let dir = tempfile::tempdir().unwrap();
    let env = StreamExecutionEnvironment::with_configuration(checkpointing(
        dir.path(),
        30,
        &["execution.checkpointing.mode=AT_LEAST_ONCE"],
    ));
    env.set_parallelism(2);
    let left = env.from_source(ThrottledSequence { to: 10_000, per_ms: 20 }, "Left");
    let right = env.from_source(ThrottledSequence { to: 10_000, per_ms: 20 }, "Right");
    let handle = left.union(vec![right]).key_by(|v: &i64| v % KEYS).process(SumAtEnd::default()).collect();
    let client = env.execute_async("at least once").unwrap();
    wait(&client).unwrap();
    assert!(client.snapshot().completed_checkpoints >= 1, "{:?}", client.snapshot());
    let doubled: Vec<(i64, i64, u64)> =
        expected_sums(10_000, KEYS).into_iter().map(|(k, s, c)| (k, 2 * s, 2 * c)).collect();
    assert_eq!(sorted(handle.take()), doubled);
}

/// Records what it wrote and the checkpoints it was told about.
#[derive(Clone, Default)]
struct CommitLog {
    events: Arc<Mutex<Vec<String>>>,
}

impl SinkFunction<i64> for CommitLog {
    fn write_batch(&mut self, batch: Batch<i64>) -> brook_types::Result<()> {
        self.events.lock().push(format!("write {}", batch.len()));
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

#[test]
fn a_final_checkpoint_completes_after_the_sources_ended_and_before_the_job_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let env = StreamExecutionEnvironment::with_configuration(checkpointing(dir.path(), 20, &[]));
    env.set_parallelism(1);
    let sink = CommitLog::default();
    env.generate_sequence(1, 100).sink_to(sink.clone(), "Commit Log");
    run(&env, "final checkpoint").unwrap();
    let events = sink.events.lock().clone();
    let finish = events.iter().position(|e| e == "finish").expect("the sink finished");
    let last_commit = events.iter().rposition(|e| e.starts_with("commit ")).expect("a checkpoint completed");
    assert!(last_commit > finish, "the last commit follows the end of input: {events:?}");
    let id = events[last_commit].trim_start_matches("commit ");
    assert!(events[finish..].contains(&format!("pre-commit {id}")), "{events:?}");
    assert_eq!(events.last(), Some(&events[last_commit]), "nothing after the final commit: {events:?}");
}

#[test]
fn an_interval_join_resumes_from_its_checkpoint_with_its_buffers() {
    // left = right = 1..=n, same key (v % KEYS), |l - r| <= 1: each v joins
    // itself only; the join's output 2v is summed per key from keyed state at
    // the end, so both the join's buffers and the sums must survive a restore.
    let dir = tempfile::tempdir().unwrap();
    let n = 12_000;
    let env = StreamExecutionEnvironment::with_configuration(checkpointing(dir.path(), 40, &[]));
    env.set_parallelism(2);
    let probe = Probe::default();
    let failing = probe.clone();
    let timestamps = || WatermarkStrategy::for_monotonous_timestamps().with_timestamp_assigner(|v: &i64, _| *v);
    let left =
        env.from_source(ThrottledSequence { to: n, per_ms: 10 }, "Left").assign_timestamps_and_watermarks(timestamps());
    let right = env
        .from_source(ThrottledSequence { to: n, per_ms: 10 }, "Right")
        .assign_timestamps_and_watermarks(timestamps());
    let out = left
        .key_by(|v: &i64| v % KEYS)
        .interval_join(right.key_by(|v: &i64| v % KEYS))
        .between(-1, 1)
        .process(|l: i64, r: i64, _ctx: &mut JoinContext<'_>, out: &mut Collector<i64>| out.collect(l + r))
        .process(move |v: i64, _ctx: &mut Context<'_>, out: &mut Collector<i64>| {
            if v >= n && failing.armed.load(Ordering::Relaxed) && !failing.panicked.swap(true, Ordering::SeqCst) {
                panic!("injected failure at join result {v}");
            }
            out.collect(v);
        })
        .key_by(|v: &i64| v % KEYS)
        .process(SumAtEnd::default())
        .collect();
    let client = env.execute_async("interval join recovery").unwrap();
    assert!(eventually(&client, Duration::from_secs(30), |s| s.completed_checkpoints >= 1), "no checkpoint completed");
    probe.armed.store(true, Ordering::SeqCst);
    wait(&client).expect("the job recovers and finishes");
    assert!(probe.panicked.load(Ordering::SeqCst), "the failure was injected");
    let mut expected: BTreeMap<i64, (i64, u64)> = BTreeMap::new();
    for v in 1..=n {
        let e = expected.entry((2 * v) % KEYS).or_default();
        e.0 += 2 * v;
        e.1 += 1;
    }
    let expected: Vec<(i64, i64, u64)> = expected.into_iter().map(|(k, (s, c))| (k, s, c)).collect();
    assert_eq!(sorted(out.take()), expected);
    assert_eq!(client.snapshot().restarts, 1);
}

#[test]
fn unaligned_checkpoints_run_with_exactly_once_and_are_refused_with_at_least_once() {
    let dir = tempfile::tempdir().unwrap();
    let env = StreamExecutionEnvironment::with_configuration(checkpointing(
        dir.path(),
        20,
        &["execution.checkpointing.unaligned.enabled=true"],
    ));
    env.set_parallelism(2);
    let handle = env
        .from_source(ThrottledSequence { to: 4_000, per_ms: 20 }, "Throttled Sequence")
        .key_by(|v: &i64| v % KEYS)
        .process(SumAtEnd::default())
        .collect();
    let client = env.execute_async("unaligned").unwrap();
    wait(&client).expect("the job runs with unaligned checkpoints");
    assert!(client.snapshot().completed_checkpoints >= 1, "{:?}", client.snapshot());
    assert_eq!(sorted(handle.take()), expected_sums(4_000, KEYS));

    let env = StreamExecutionEnvironment::with_configuration(checkpointing(
        dir.path(),
        20,
        &["execution.checkpointing.unaligned.enabled=true", "execution.checkpointing.mode=AT_LEAST_ONCE"],
    ));
    let _handle = env.generate_sequence(1, 10).collect();
    let err = run(&env, "unaligned at least once").unwrap_err();
    assert!(
        err.to_string().contains(
            "invalid value 'true' for configuration key 'execution.checkpointing.unaligned.enabled': unaligned \
             checkpoints need execution.checkpointing.mode EXACTLY_ONCE; set the mode to EXACTLY_ONCE or set this \
             key to false"
        ),
        "{err}"
    );
}

/// The last value emitted per key: a rolling reduce's final result.
fn last_per_key(records: Vec<(i64, i64)>) -> BTreeMap<i64, i64> {
    records.into_iter().collect()
}

/// generate_sequence → key_by → rolling sum, failing once at the first record ≥ `fail_at`.
fn rolling_sums(n: i64, fail_at: Option<i64>, dir: &std::path::Path) -> BTreeMap<i64, i64> {
    let env = StreamExecutionEnvironment::with_configuration(checkpointing(dir, 10, &[]));
    env.set_parallelism(2);
    env.set_batch_size(16);
    let failed = Arc::new(AtomicBool::new(false));
    let handle = env
        .generate_sequence(1, n)
        .map(move |v: i64| {
            if v % 64 == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            if fail_at.is_some_and(|k| v >= k) && !failed.swap(true, Ordering::SeqCst) {
                panic!("injected failure at {v}");
            }
            (v % KEYS, v)
        })
        .key_by(|r: &(i64, i64)| r.0)
        .reduce(|a, b| (a.0, a.1 + b.1))
        .collect();
    let client = env.execute_async("rolling sums").unwrap();
    wait(&client).expect("the job recovers");
    if fail_at.is_some() {
        assert_eq!(client.snapshot().restarts, 1);
    }
    last_per_key(handle.take())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// Wherever the job fails, the keyed results after recovery equal the
    /// results of a run without failure.
    #[test]
    fn keyed_results_after_recovery_equal_the_failure_free_results(fail_at in 1i64..3_000) {
        let dir = tempfile::tempdir().unwrap();
        let expected: BTreeMap<i64, i64> =
            expected_sums(3_000, KEYS).into_iter().map(|(k, s, _)| (k, s)).collect();
        prop_assert_eq!(rolling_sums(3_000, None, dir.path()), expected.clone());
        prop_assert_eq!(rolling_sums(3_000, Some(fail_at), dir.path()), expected);
    }
}

#[test]
fn restarting_is_visible_through_the_job_client() {
    let dir = tempfile::tempdir().unwrap();
    let env = StreamExecutionEnvironment::with_configuration(checkpointing(
        dir.path(),
        50,
        &["restart-strategy.fixed-delay.delay=300 ms"],
    ));
    env.set_parallelism(1);
    let failed = Arc::new(AtomicBool::new(false));
    let _handle = env
        .generate_sequence(1, 100)
        .map(move |v: i64| if v == 10 && !failed.swap(true, Ordering::SeqCst) { panic!("once") } else { v })
        .collect();
    let client = env.execute_async("restarting").unwrap();
    assert!(eventually(&client, Duration::from_secs(30), |s| s.status == JobStatus::Restarting));
    wait(&client).unwrap();
    assert_eq!(client.snapshot().restarts, 1);
}

/// An environment whose jobs keep their checkpoints when canceled.
fn retained_sum_job(dir: &std::path::Path, parallelism: usize, extra: &[&str]) -> StreamExecutionEnvironment {
    let mut pairs = vec!["execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION"];
    pairs.extend_from_slice(extra);
    let env = StreamExecutionEnvironment::with_configuration(checkpointing(dir, 40, &pairs));
    env.set_parallelism(parallelism);
    env
}

/// Runs the sum job until a checkpoint completed, cancels it, and returns the
/// retained checkpoint's directory.
fn checkpoint_then_cancel(dir: &std::path::Path, n: i64) -> String {
    let env = retained_sum_job(dir, 2, &[]);
    let _out = sum_job(&env, n, i64::MAX, &Probe::default());
    let client = env.execute_async("sums, canceled").unwrap();
    assert!(eventually(&client, Duration::from_secs(30), |s| s.completed_checkpoints >= 2), "no checkpoint completed");
    let (_, chk) = client.snapshot().latest_checkpoint.expect("a completed checkpoint");
    client.cancel();
    let err = wait(&client).unwrap_err().to_string();
    assert!(err.contains("cancel"), "{err}");
    chk
}

#[test]
fn a_job_restores_from_a_retained_checkpoint_at_another_parallelism() {
    let dir = tempfile::tempdir().unwrap();
    let n = 30_000;
    let chk = checkpoint_then_cancel(dir.path(), n);
    let metadata = chk.trim_start_matches("file://").to_string() + "/_metadata";
    assert!(std::path::Path::new(&metadata).exists(), "the canceled job kept {metadata}");
    for parallelism in [1, 3] {
        let path = format!("execution.state-recovery.path={chk}");
        let env = retained_sum_job(dir.path(), parallelism, &[&path]);
        let probe = Probe::default();
        let out = sum_job(&env, n, i64::MAX, &probe);
        run(&env, "sums, restored").expect("the restored job finishes");
        assert_eq!(sorted(out.take()), expected_sums(n, KEYS), "restored at parallelism {parallelism}");
    }
}

#[test]
fn state_of_an_operator_the_job_no_longer_has_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let n = 30_000;
    let chk = checkpoint_then_cancel(dir.path(), n);
    let path = format!("execution.state-recovery.path={chk}");
    // The same source, but the keyed sums are gone.
    let without_sums = |extra: &[&str]| {
        let mut pairs = vec![path.as_str()];
        pairs.extend_from_slice(extra);
        let env = retained_sum_job(dir.path(), 2, &pairs);
        let out = env.from_source(ThrottledSequence { to: n, per_ms: 20 }, "Throttled Sequence").collect();
        (env, out)
    };
    let (env, _out) = without_sums(&[]);
    let err = run(&env, "sums dropped").unwrap_err().to_string();
    assert!(err.contains("which this job does not have"), "{err}");
    assert!(err.contains("--allowNonRestoredState"), "{err}");
    let (env, out) = without_sums(&["execution.state-recovery.ignore-unclaimed-state=true"]);
    run(&env, "sums dropped, allowed").expect("the job skips the unclaimed state");
    let read = out.take().len() as i64;
    assert!(read > 0 && read < n, "the source resumed from its checkpointed position: read {read} of {n}");
}
