//! The exactly-once file sink on the local MiniCluster: a keyed job that fails once
//! ends with exactly the part files' content of a run without failure (nothing twice,
//! nothing lost), wherever the failure strikes — in user code or while a checkpoint is
//! taken — with every state backend (hash map, RocksDB with full and with incremental
//! checkpoints); AT_LEAST_ONCE loses nothing; without checkpointing the output is
//! committed when the input ends.

use crate::support::{ThrottledSequence, eventually, run, sorted};
use brook_api::state::ValueStateDescriptor;
use brook_api::{
    Collector, Configuration, Context, FileFormat, KeyedContext, KeyedProcessFunction, RollingPolicy, RuntimeContext,
    RuntimeMode, SinkFunction, StreamExecutionEnvironment, StreamingFileSink, ValueState,
};
use brook_runtime::checkpoint::{SnapshotError, StateSnapshotContext};
use brook_types::Batch;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

const KEYS: i64 = 7;

/// The keyed state backends and checkpoint kinds the property runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    HashMap,
    RocksDbFull,
    RocksDbIncremental,
}

impl Backend {
    pub(crate) fn options(self) -> &'static [&'static str] {
        match self {
            Backend::HashMap => &["state.backend.type=hashmap"],
            Backend::RocksDbFull => &["state.backend.type=rocksdb", "execution.checkpointing.incremental=false"],
            Backend::RocksDbIncremental => &["state.backend.type=rocksdb", "execution.checkpointing.incremental=true"],
        }
    }
}

/// Where the injected failure strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    /// A user function panics while processing a record.
    UserCode,
    /// A sink panics while its task takes a checkpoint (in `snapshot_state`).
    DuringCheckpoint,
}

fn checkpointing(dir: &Path, interval_ms: u64) -> Configuration {
    checkpointing_with(dir, interval_ms, &[])
}

fn checkpointing_with(dir: &Path, interval_ms: u64, extra: &[&str]) -> Configuration {
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
    /// The job fails only once this is set.
    armed: Arc<AtomicBool>,
    panicked: Arc<AtomicBool>,
    /// The largest record the pass-through has seen (in any attempt).
    seen: Arc<AtomicI64>,
}

/// The running count per key, in keyed state (so that the state backend matters),
/// emitted as `(key, count)` on every update.
#[derive(Clone, Default)]
struct RunningCount {
    count: ValueState<i64>,
}

impl KeyedProcessFunction<i64, (i64, i64), (i64, i64)> for RunningCount {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.count = ctx.get_state(&ValueStateDescriptor::new("count"));
    }

    fn process_element(&mut self, v: (i64, i64), ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<(i64, i64)>) {
        let mut count = ctx.state(&self.count);
        let n = count.value().copied().unwrap_or(0) + v.1;
        count.update(n);
        out.collect((v.0, n));
    }
}

/// A sink that drops its records and panics once, in the first checkpoint its task
/// takes after the job has seen record `fail_at`, once armed.
#[derive(Clone)]
struct FailInCheckpoint {
    probe: Probe,
    fail_at: i64,
}

impl SinkFunction<(i64, i64)> for FailInCheckpoint {
    fn write_batch(&mut self, _batch: Batch<(i64, i64)>) -> brook_types::Result<()> {
        Ok(())
    }

    fn snapshot_state(&mut self, _ctx: &mut StateSnapshotContext) -> Result<(), SnapshotError> {
        let p = &self.probe;
        if p.seen.load(Ordering::SeqCst) >= self.fail_at
            && p.armed.load(Ordering::SeqCst)
            && !p.panicked.swap(true, Ordering::SeqCst)
        {
            panic!("injected failure while taking a checkpoint");
        }
        Ok(())
    }
}

impl Probe {
    fn armed() -> Self {
        let probe = Self::default();
        probe.armed.store(true, Ordering::SeqCst);
        probe
    }
}

/// A throttled sequence 1..=n → a pass-through that panics once at the first
/// record ≥ `fail_at` once armed → (v % 7, 1) → key_by → running count →
/// part files of `key,count` lines, rolled every `rolling_size` bytes.
fn count_job(env: &StreamExecutionEnvironment, out: &Path, n: i64, fail_at: i64, probe: &Probe, rolling_size: u64) {
    count_job_failing(env, out, n, fail_at, probe, rolling_size, Failure::UserCode);
}

/// [`count_job`], with the failure injected where `failure` says.
fn count_job_failing(
    env: &StreamExecutionEnvironment,
    out: &Path,
    n: i64,
    fail_at: i64,
    probe: &Probe,
    rolling_size: u64,
    failure: Failure,
) {
    let sink = StreamingFileSink::for_row_format(out, FileFormat::Csv)
        .with_rolling_policy(RollingPolicy::default().with_max_part_size(rolling_size));
    let source_probe = probe.clone();
    let counts = env
        .from_source(ThrottledSequence { to: n, per_ms: 20 }, "Throttled Sequence")
        .process(move |v: i64, _ctx: &mut Context<'_>, out: &mut Collector<i64>| {
            let probe = &source_probe;
            probe.seen.fetch_max(v, Ordering::SeqCst);
            if failure == Failure::UserCode
                && v >= fail_at
                && probe.armed.load(Ordering::Relaxed)
                && !probe.panicked.swap(true, Ordering::SeqCst)
            {
                panic!("injected failure at record {v}");
            }
            out.collect(v);
        })
        .map(|v: i64| (v % KEYS, 1i64))
        .key_by(|(k, _): &(i64, i64)| *k)
        .process(RunningCount::default());
    if failure == Failure::DuringCheckpoint {
        counts.clone().sink_to(FailInCheckpoint { probe: probe.clone(), fail_at }, "Fail In Checkpoint");
    }
    counts.sink_to_files(sink);
}

/// `key,1` … `key,c` for every key seen c times in 1..=n: every update, sorted.
fn every_update(n: i64) -> Vec<String> {
    let mut counts: BTreeMap<i64, i64> = BTreeMap::new();
    (1..=n).for_each(|v| *counts.entry(v % KEYS).or_default() += 1);
    sorted(counts.iter().flat_map(|(k, &c)| (1..=c).map(move |i| format!("{k},{i}"))).collect())
}

/// The lines of the committed part files, sorted; checks that nothing else is left.
fn committed_lines(out: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(out).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let parts: Vec<&str> = name.split('-').collect();
        assert!(
            parts.len() == 3 && parts[0] == "part" && parts[1..].iter().all(|p| p.parse::<u64>().is_ok()),
            "only committed part files are left, found {name}"
        );
        let text = std::fs::read_to_string(out.join(&name)).unwrap();
        assert!(text.ends_with('\n'), "{name} ends with a whole line");
        lines.extend(text.lines().map(str::to_string));
    }
    sorted(lines)
}

/// Asserts that `actual` equals `expected`, naming the lines written twice or lost.
fn assert_exactly_once(actual: &[String], expected: &[String]) {
    if actual == expected {
        return;
    }
    let count = |lines: &[String]| {
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        lines.iter().for_each(|l| *counts.entry(l.clone()).or_default() += 1);
        counts
    };
    let (a, e) = (count(actual), count(expected));
    let twice: Vec<&String> = a.iter().filter(|(l, n)| **n > e.get(*l).copied().unwrap_or(0)).map(|(l, _)| l).collect();
    let lost: Vec<&String> = e.iter().filter(|(l, n)| **n > a.get(*l).copied().unwrap_or(0)).map(|(l, _)| l).collect();
    panic!(
        "{} lines instead of {}; {} written too often (first: {:?}), {} lost (first: {:?})",
        actual.len(),
        expected.len(),
        twice.len(),
        &twice[..twice.len().min(10)],
        lost.len(),
        &lost[..lost.len().min(10)]
    );
}

fn has_committed_part(out: &Path) -> bool {
    std::fs::read_dir(out).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().starts_with("part-"))
}

fn part_files(out: &Path) -> usize {
    std::fs::read_dir(out).unwrap().count()
}

#[test]
fn a_job_that_fails_once_writes_exactly_the_part_files_of_a_run_without_failure() {
    let (checkpoints, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let n = 20_000;
    let env = StreamExecutionEnvironment::with_configuration(checkpointing(checkpoints.path(), 50));
    env.set_parallelism(2);
    let probe = Probe::default();
    // Fails at the next record once armed, with part files committed, pending and in progress.
    count_job(&env, out.path(), n, 1, &probe, 4096);
    let client = env.execute_async("exactly-once file sink").unwrap();
    assert!(
        eventually(&client, Duration::from_secs(30), |s| s.completed_checkpoints >= 2),
        "no checkpoint completed: {:?}",
        client.snapshot()
    );
    // Fail only once some part file is committed, so that the restore meets committed,
    // pending and in-progress parts.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !has_committed_part(out.path()) {
        assert!(std::time::Instant::now() < deadline, "no part file committed: {:?}", client.snapshot());
        std::thread::sleep(Duration::from_millis(5));
    }
    probe.armed.store(true, Ordering::SeqCst);
    client.wait_for_result().expect("the job recovers and finishes");
    assert!(probe.panicked.load(Ordering::SeqCst), "the failure was injected");
    assert_eq!(client.snapshot().restarts, 1);
    assert_exactly_once(&committed_lines(out.path()), &every_update(n));
    assert!(part_files(out.path()) > 2, "parts rolled on checkpoints and size");
}

/// Runs the count job once with `backend`, failing once at `fail_at` where `failure`
/// says, in `mode` (`EXACTLY_ONCE` or `AT_LEAST_ONCE`); returns the committed lines.
fn run_failing_once(
    backend: Backend,
    mode: &str,
    fail_at: i64,
    parallelism: usize,
    failure: Failure,
    n: i64,
) -> Vec<String> {
    let (checkpoints, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut extra = backend.options().to_vec();
    let mode = format!("execution.checkpointing.mode={mode}");
    extra.push(&mode);
    let env = StreamExecutionEnvironment::with_configuration(checkpointing_with(checkpoints.path(), 20, &extra));
    env.set_parallelism(parallelism);
    let probe = Probe::armed();
    count_job_failing(&env, out.path(), n, fail_at, &probe, 1024, failure);
    let client = env.execute_async("exactly-once file sink, failure anywhere").unwrap();
    client.wait_for_result().unwrap_or_else(|e| panic!("{backend:?}: the job recovers and finishes: {e}"));
    assert!(probe.panicked.load(Ordering::SeqCst), "{backend:?}: the {failure:?} failure was injected");
    assert_eq!(client.snapshot().restarts, 1, "{backend:?}, {failure:?}");
    committed_lines(out.path())
}

fn failure() -> impl Strategy<Value = Failure> {
    prop_oneof![Just(Failure::UserCode), Just(Failure::DuringCheckpoint)]
}

/// The failure strikes anywhere: before the first checkpoint (the job restarts
/// from scratch), between checkpoints, near the end of the input, or while a
/// checkpoint is taken; for every backend the output is exact.
fn exact_wherever_the_failure_strikes(backend: Backend, fail_at: i64, parallelism: usize, failure: Failure) {
    let n = 4_000;
    let lines = run_failing_once(backend, "EXACTLY_ONCE", fail_at, parallelism, failure, n);
    assert_exactly_once(&lines, &every_update(n));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn wherever_the_failure_strikes_the_output_is_exact(
        fail_at in 1i64..=4_000, parallelism in 1usize..=3, failure in failure(),
    ) {
        exact_wherever_the_failure_strikes(Backend::HashMap, fail_at, parallelism, failure);
    }

    #[test]
    fn wherever_the_failure_strikes_the_output_is_exact_with_rocksdb(
        fail_at in 1i64..=4_000, parallelism in 1usize..=3, failure in failure(),
    ) {
        exact_wherever_the_failure_strikes(Backend::RocksDbFull, fail_at, parallelism, failure);
    }

    #[test]
    fn wherever_the_failure_strikes_the_output_is_exact_with_rocksdb_incremental(
        fail_at in 1i64..=4_000, parallelism in 1usize..=3, failure in failure(),
    ) {
        exact_wherever_the_failure_strikes(Backend::RocksDbIncremental, fail_at, parallelism, failure);
    }

    /// AT_LEAST_ONCE does not block channels during alignment: a restore may count
    /// records twice, but no update is lost.
    #[test]
    fn at_least_once_loses_nothing_wherever_the_failure_strikes(
        fail_at in 1i64..=4_000, parallelism in 1usize..=3, failure in failure(),
        backend in prop_oneof![Just(Backend::HashMap), Just(Backend::RocksDbFull), Just(Backend::RocksDbIncremental)],
    ) {
        let n = 4_000;
        let lines = run_failing_once(backend, "AT_LEAST_ONCE", fail_at, parallelism, failure, n);
        let present: std::collections::BTreeSet<&String> = lines.iter().collect();
        let lost: Vec<String> = every_update(n).into_iter().filter(|l| !present.contains(l)).collect();
        prop_assert!(lost.is_empty(), "{:?}: {} updates lost, first {:?}", backend, lost.len(), &lost[..lost.len().min(10)]);
    }
}

#[test]
fn without_checkpointing_the_output_is_committed_at_the_end_of_input() {
    let out = tempfile::tempdir().unwrap();
    let n = 3_000;
    let env = crate::support::env_with_slots(4, 2);
    count_job(&env, out.path(), n, i64::MAX, &Probe::default(), 512);
    run(&env, "file sink without checkpoints").unwrap();
    assert_exactly_once(&committed_lines(out.path()), &every_update(n));
    assert!(part_files(out.path()) > 2, "parts rolled on size");
}

#[test]
fn a_batch_job_commits_its_final_results() {
    let out = tempfile::tempdir().unwrap();
    let env = crate::support::env_with_slots(4, 2);
    env.set_runtime_mode(RuntimeMode::Batch);
    // A keyed reduce: in BATCH mode it emits only each key's final result.
    let sink = StreamingFileSink::for_row_format(out.path(), FileFormat::Csv);
    env.generate_sequence(1, 700)
        .map(|v: i64| (v % KEYS, 1i64))
        .key_by(|(k, _): &(i64, i64)| *k)
        .reduce(|(k, a), (_, b)| (k, a + b))
        .sink_to_files(sink);
    run(&env, "file sink in batch mode").unwrap();
    assert_eq!(committed_lines(out.path()), (0..KEYS).map(|k| format!("{k},100")).collect::<Vec<_>>());
}
