//! Unaligned checkpoints on the local MiniCluster: under backpressure they complete
//! with in-flight data in the checkpoint (`channel_state` in `_metadata`), and a job
//! that fails once and restores from one ends with exactly the output of a run
//! without failure — on a keyed one-input pipeline with the exactly-once file sink
//! and on a keyed two-input (connect) job.
//!
//! Backpressure comes from a map that does a fixed amount of arithmetic per record
//! (work, not a sleep) behind a fast throttled source.

use crate::support::{ThrottledSequence, eventually, sorted, wait};
use brook_api::state::ValueStateDescriptor;
use brook_api::{
    Collector, Configuration, Context, FileFormat, JobClient, KeyedCoProcessFunction, KeyedContext,
    KeyedProcessFunction, RuntimeContext, StreamExecutionEnvironment, StreamingFileSink, ValueState,
};
use brook_types::Watermark;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const KEYS: i64 = 7;

fn unaligned(dir: &Path, interval_ms: u64) -> Configuration {
    let mut config = Configuration::new();
    let mut set = |pair: &str| config.set_dynamic(pair).expect("a valid option");
    set("taskmanager.numberOfTaskSlots=8");
    set(&format!("execution.checkpointing.dir=file://{}", dir.display()));
    set(&format!("execution.checkpointing.interval={interval_ms} ms"));
    set("execution.checkpointing.unaligned.enabled=true");
    set("restart-strategy.type=fixed-delay");
    set("restart-strategy.fixed-delay.attempts=3");
    set("restart-strategy.fixed-delay.delay=10 ms");
    // Small buffers, so that many of them are in flight.
    set("execution.batch-size=16");
    config
}

/// `iterations` rounds of integer mixing: a stage that is slower than its source.
fn work(v: i64, iterations: u32) -> i64 {
    let mut x = v as u64 | 1;
    for _ in 0..iterations {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x);
    v
}

/// Shared between the test and the job's functions.
#[derive(Clone, Default)]
struct Probe {
    /// Set by the test once an unaligned checkpoint with in-flight data completed.
    armed: Arc<AtomicBool>,
    panicked: Arc<AtomicBool>,
}

impl Probe {
    /// Panics once, at the first record after the test armed the probe.
    fn maybe_fail(&self, v: i64) {
        if self.armed.load(Ordering::Relaxed) && !self.panicked.swap(true, Ordering::SeqCst) {
            panic!("injected failure at record {v}");
        }
    }
}

/// The `_metadata` of the job's latest completed checkpoint, if it is still there.
fn latest_metadata(client: &JobClient) -> Option<String> {
    let (_, dir) = client.snapshot().latest_checkpoint?;
    let dir = dir.strip_prefix("file://").unwrap_or(&dir).to_string();
    std::fs::read_to_string(Path::new(&dir).join("_metadata")).ok()
}

/// Waits until a completed checkpoint holds in-flight data, then arms the failure.
fn fail_after_an_unaligned_checkpoint_with_in_flight_data(client: &JobClient, probe: &Probe) {
    let found = eventually(client, Duration::from_secs(30), |s| {
        s.completed_checkpoints >= 1 && latest_metadata(client).is_some_and(|m| m.contains("\"channel_state\""))
    });
    assert!(found, "no checkpoint with channel state completed while backpressured: {:?}", client.snapshot());
    probe.armed.store(true, Ordering::SeqCst);
}

/// `key,1` … `key,c` for every key seen c times in 1..=n: every update, sorted.
fn every_update(n: i64) -> Vec<String> {
    let mut counts: BTreeMap<i64, i64> = BTreeMap::new();
    (1..=n).for_each(|v| *counts.entry(v % KEYS).or_default() += 1);
    sorted(counts.iter().flat_map(|(k, &c)| (1..=c).map(move |i| format!("{k},{i}"))).collect())
}

/// The lines of the committed part files, sorted.
fn committed_lines(out: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(out).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(name.starts_with("part-"), "only committed part files are left, found {name}");
        lines.extend(std::fs::read_to_string(out.join(&name)).unwrap().lines().map(str::to_string));
    }
    sorted(lines)
}

/// Source 1..=n (fast) → fails once when armed → (v % 7, 1) → key_by → running count →
/// a slow map in a task of its own → exactly-once part files of `key,count` lines.
fn count_job(env: &StreamExecutionEnvironment, out: &Path, n: i64, probe: &Probe) {
    let probe = probe.clone();
    env.from_source(ThrottledSequence { to: n, per_ms: 200 }, "Fast Sequence")
        .process(move |v: i64, _ctx: &mut Context<'_>, out: &mut Collector<i64>| {
            probe.maybe_fail(v);
            out.collect(v);
        })
        .map(|v: i64| (v % KEYS, 1i64))
        .key_by(|(k, _): &(i64, i64)| *k)
        .reduce(|(k, a), (_, b)| (k, a + b))
        .map(|(k, c): (i64, i64)| (k, work(c, 2_000)))
        .name("Slow")
        .disable_chaining()
        .sink_to_files(StreamingFileSink::for_row_format(out, FileFormat::Csv));
}

/// Runs [`count_job`] with `extra` settings, fails it once after a checkpoint with
/// in-flight data completed, and checks that the part files hold every update once.
fn fails_once_and_writes_exactly_once(extra: &[&str]) {
    let (checkpoints, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let n = 20_000;
    let mut config = unaligned(checkpoints.path(), 30);
    for pair in extra {
        config.set_dynamic(pair).expect("a valid option");
    }
    let env = StreamExecutionEnvironment::with_configuration(config);
    env.set_parallelism(2);
    let probe = Probe::default();
    count_job(&env, out.path(), n, &probe);
    let client = env.execute_async("unaligned exactly-once").unwrap();
    fail_after_an_unaligned_checkpoint_with_in_flight_data(&client, &probe);
    wait(&client).expect("the job recovers and finishes");
    assert!(probe.panicked.load(Ordering::SeqCst), "the failure was injected");
    let snapshot = client.snapshot();
    assert_eq!(snapshot.restarts, 1);
    assert!(snapshot.last_failure.as_deref().unwrap().contains("panicked: injected failure at record"));
    let lines = committed_lines(out.path());
    assert_eq!(lines.len(), n as usize, "every update exactly once");
    assert_eq!(lines, every_update(n));
}

#[test]
fn a_backpressured_job_fails_after_an_unaligned_checkpoint_and_writes_exactly_the_failure_free_output() {
    fails_once_and_writes_exactly_once(&[]);
}

#[test]
fn checkpoints_that_outlive_the_aligned_checkpoint_timeout_go_unaligned_and_recover_exactly_once() {
    // Under backpressure an aligned checkpoint takes longer than 5 ms: it switches.
    fails_once_and_writes_exactly_once(&["execution.checkpointing.aligned-checkpoint-timeout=5 ms"]);
}

/// Per key: the sums of both inputs, emitted at the end of input; slow per element.
#[derive(Clone, Default)]
struct SlowSumBoth {
    sums: ValueState<(i64, i64)>,
}

impl KeyedCoProcessFunction<i64, i64, i64, (i64, i64, i64)> for SlowSumBoth {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.sums = ctx.get_state(&ValueStateDescriptor::new("sums"));
    }

    fn process_element1(&mut self, v: i64, ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<(i64, i64, i64)>) {
        let mut state = ctx.state(&self.sums);
        let (a, b) = state.value().copied().unwrap_or((0, 0));
        state.update((a + work(v, 2_000), b));
        ctx.timer_service().register_event_time_timer(Watermark::MAX.0);
    }

    fn process_element2(&mut self, v: i64, ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<(i64, i64, i64)>) {
        let mut state = ctx.state(&self.sums);
        let (a, b) = state.value().copied().unwrap_or((0, 0));
        state.update((a, b + work(v, 2_000)));
        ctx.timer_service().register_event_time_timer(Watermark::MAX.0);
    }

    fn on_timer(&mut self, _t: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<(i64, i64, i64)>) {
        let key = *ctx.current_key();
        let (a, b) = ctx.state(&self.sums).value().copied().unwrap_or((0, 0));
        out.collect((key, a, b));
    }
}

#[test]
fn a_backpressured_two_input_job_resumes_from_an_unaligned_checkpoint_with_exact_sums() {
    let dir = tempfile::tempdir().unwrap();
    let n = 10_000;
    let env = StreamExecutionEnvironment::with_configuration(unaligned(dir.path(), 30));
    env.set_parallelism(2);
    let probe = Probe::default();
    let failing = probe.clone();
    let left = env.from_source(ThrottledSequence { to: n, per_ms: 100 }, "Left").map(move |v: i64| {
        failing.maybe_fail(v);
        v
    });
    let right = env.from_source(ThrottledSequence { to: n, per_ms: 100 }, "Right").map(|v: i64| -v);
    let handle =
        left.connect(right).key_by(|v: &i64| v % KEYS, |v: &i64| (-v) % KEYS).process(SlowSumBoth::default()).collect();
    let client = env.execute_async("unaligned two-input").unwrap();
    fail_after_an_unaligned_checkpoint_with_in_flight_data(&client, &probe);
    wait(&client).expect("the job recovers and finishes");
    assert!(probe.panicked.load(Ordering::SeqCst));
    assert_eq!(client.snapshot().restarts, 1);
    let mut expected: BTreeMap<i64, i64> = BTreeMap::new();
    (1..=n).for_each(|v| *expected.entry(v % KEYS).or_default() += v);
    let expected: Vec<(i64, i64, i64)> = expected.into_iter().map(|(k, s)| (k, s, -s)).collect();
    assert_eq!(sorted(handle.take()), expected);
}

/// Per key: the sum of its values, emitted at the end of input; slow per element.
#[derive(Clone, Default)]
struct SlowSumAtEnd {
    sum: ValueState<i64>,
}

impl KeyedProcessFunction<i64, i64, (i64, i64)> for SlowSumAtEnd {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.sum = ctx.get_state(&ValueStateDescriptor::new("sum"));
    }

    fn process_element(&mut self, v: i64, ctx: &mut KeyedContext<'_, i64>, _out: &mut Collector<(i64, i64)>) {
        let mut state = ctx.state(&self.sum);
        let sum = state.value().copied().unwrap_or(0);
        state.update(sum + work(v, 2_000));
        ctx.timer_service().register_event_time_timer(Watermark::MAX.0);
    }

    fn on_timer(&mut self, _t: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<(i64, i64)>) {
        let key = *ctx.current_key();
        out.collect((key, ctx.state(&self.sum).value().copied().unwrap_or(0)));
    }
}

fn sum_job(
    dir: &Path,
    parallelism: usize,
    n: i64,
    extra: &[&str],
) -> (StreamExecutionEnvironment, brook_api::CollectHandle<(i64, i64)>) {
    let mut config = unaligned(dir, 30);
    config
        .set_dynamic("execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION")
        .expect("a valid option");
    for pair in extra {
        config.set_dynamic(pair).expect("a valid option");
    }
    let env = StreamExecutionEnvironment::with_configuration(config);
    env.set_parallelism(parallelism);
    let out = env
        .from_source(ThrottledSequence { to: n, per_ms: 200 }, "Fast Sequence")
        .key_by(|v: &i64| v % KEYS)
        .process(SlowSumAtEnd::default())
        .collect();
    (env, out)
}

#[test]
fn a_retained_unaligned_checkpoint_restores_at_its_parallelism_and_is_refused_at_another() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000;
    let (env, _out) = sum_job(dir.path(), 2, n, &[]);
    let client = env.execute_async("unaligned sums, canceled").unwrap();
    let found = eventually(&client, Duration::from_secs(30), |_| {
        latest_metadata(&client).is_some_and(|m| m.contains("\"channel_state\""))
    });
    assert!(found, "no checkpoint with channel state completed: {:?}", client.snapshot());
    let (_, chk) = client.snapshot().latest_checkpoint.expect("a completed checkpoint");
    client.cancel();
    assert!(wait(&client).unwrap_err().to_string().contains("cancel"));
    let metadata = std::fs::read_to_string(chk.trim_start_matches("file://").to_string() + "/_metadata").unwrap();
    assert!(metadata.contains("\"channel_state\""), "the retained checkpoint holds in-flight data");
    let path = format!("execution.state-recovery.path={chk}");

    let (env, out) = sum_job(dir.path(), 2, n, &[&path]);
    let client = env.execute_async("unaligned sums, restored").unwrap();
    wait(&client).expect("the restored job finishes");
    let mut expected: BTreeMap<i64, i64> = BTreeMap::new();
    (1..=n).for_each(|v| *expected.entry(v % KEYS).or_default() += v);
    assert_eq!(sorted(out.take()), expected.into_iter().collect::<Vec<_>>(), "restored with its in-flight data");

    let (env, _out) = sum_job(dir.path(), 3, n, &[&path, "restart-strategy.type=none"]);
    let client = env.execute_async("unaligned sums, rescaled").unwrap();
    let err = wait(&client).unwrap_err().to_string();
    assert!(
        err.contains(
            "cannot restore the job from 'file://"
        ) && err.contains(
            "is unaligned and holds in-flight data, and operator 'Source: Fast Sequence' ran at parallelism 2 then and \
             3 now; in-flight data cannot be redistributed: restore at the same parallelism, or take a savepoint \
             (always aligned) and rescale from it"
        ),
        "{err}"
    );
}
