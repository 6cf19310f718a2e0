//! The benchmark jobs, each run once and then checked against a closed-form answer.
//!
//! | scenario | job | records |
//! |---|---|---|
//! | a | `generate_sequence(1, N)` → `map(x * 3)` → `filter(even)` → discard (STREAMING) | N |
//! | b | text file → tokenize → `key_by(word)` → `sum` → CSV file at parallelism 1 (BATCH) | words of the text |
//! | c | `generate_sequence(0, N-1)` → `map(i % K, 1)` → `key_by` → rolling `sum` → discard (STREAMING) | N |
//! | d | `generate_sequence(0, N-1)` → `map(i % K, ts = i / 10, v)` → monotonous watermarks → `key_by` → 10 s tumbling event-time window → count → discard | N |
//! | e | the input of d → 10 s / 2 s sliding event-time window → max of v → discard | N |
//!
//! In d and e, v = (i · 7919) mod 1000 and event time advances 1 ms every 10
//! records, so N = 10,000,000 records span 1,000 s of event time; their check
//! replays the windows in closed loops (see [`reference_windows`]).
//!
//! Scenario b is the built-in `wordcount` job, built by its own `build` function
//! exactly as `brook run --local -p P wordcount --execution-mode batch --input
//! TEXT --output FILE` builds it.
//!
//! "Discard" is a [`ChecksumSink`]: it drops the records like Flink's
//! `DiscardingSink` but first counts them and adds up one field, so the check
//! after the run sees what the job produced. That costs one addition per record.

use super::report::RunReport;
use super::rusage::ResourceUsage;
use crate::jobs::wordcount;
use anyhow::Context as _;
use brook_api::window::{AggregateFunction, SlidingEventTimeWindows, TumblingEventTimeWindows};
use brook_api::{
    DataStream, JobExecutionResult, RuntimeContext, RuntimeMode, SinkFunction, StreamExecutionEnvironment,
    WatermarkStrategy,
};
use brook_runtime::metrics::Accumulator;
use brook_types::Batch;
use brook_types::config::{Configuration, options};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Which benchmark job, with its inputs.
#[derive(Clone, Debug, PartialEq)]
pub enum Workload {
    /// (a) sequence → map → filter → discard over `records` numbers.
    Pipeline { records: u64 },
    /// (b) BATCH word count of `text`, which holds `words` words.
    WordCount { text: PathBuf, words: u64 },
    /// (c) rolling sum over `records` records spread evenly over `keys` keys.
    KeyedSum { records: u64, keys: u64 },
    /// (d) count per key and 10 s tumbling event-time window.
    TumblingCount { records: u64, keys: u64 },
    /// (e) max per key and 10 s / 2 s sliding event-time window.
    SlidingMax { records: u64, keys: u64 },
    /// (r) c with checkpoints every second and one injected failure: the time from
    /// the failure to RUNNING again ([`super::recovery`]).
    Recovery { records: u64, keys: u64 },
}

impl Workload {
    /// The scenario's letter in the issue and the reports.
    pub fn scenario(&self) -> &'static str {
        match self {
            Workload::Pipeline { .. } => "a",
            Workload::WordCount { .. } => "b",
            Workload::KeyedSum { .. } => "c",
            Workload::TumblingCount { .. } => "d",
            Workload::SlidingMax { .. } => "e",
            Workload::Recovery { .. } => "r",
        }
    }

    /// A short description for reports.
    pub fn job(&self) -> &'static str {
        match self {
            Workload::Pipeline { .. } => "sequence → map → filter → discard",
            Workload::WordCount { .. } => "word count, BATCH, CSV sink",
            Workload::KeyedSum { .. } => "key_by → rolling sum → discard",
            Workload::TumblingCount { .. } => "key_by → 10 s tumbling window → count → discard",
            Workload::SlidingMax { .. } => "key_by → 10 s / 2 s sliding window → max → discard",
            Workload::Recovery { .. } => "c with checkpoints every 1 s and one failure",
        }
    }

    /// The records the job processes, the denominator of the rates.
    pub fn records(&self) -> u64 {
        match self {
            Workload::Pipeline { records }
            | Workload::KeyedSum { records, .. }
            | Workload::TumblingCount { records, .. }
            | Workload::SlidingMax { records, .. }
            | Workload::Recovery { records, .. } => *records,
            Workload::WordCount { words, .. } => *words,
        }
    }
}

/// Runs `workload` at `parallelism` on a local MiniCluster in this process,
/// measures it and checks its result; a wrong result is an error.
pub fn run(workload: &Workload, parallelism: usize) -> anyhow::Result<RunReport> {
    anyhow::ensure!(parallelism >= 1, "the parallelism must be at least 1");
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let run_id = RUNS.fetch_add(1, Ordering::Relaxed);
    // The job writes part files into this directory.
    let csv = std::env::temp_dir().join(format!("brook-bench-wordcount-{}-{run_id}", std::process::id()));
    let _ = std::fs::remove_dir_all(&csv);

    let before = ResourceUsage::of_this_process().context("getrusage")?;
    let start = Instant::now();
    let mut recovery = None;
    let result = match workload {
        Workload::Pipeline { records } => run_pipeline(parallelism, *records)?,
        Workload::WordCount { text, .. } => run_word_count(parallelism, text, &csv)?,
        Workload::KeyedSum { records, keys } => run_keyed_sum(parallelism, *records, *keys)?,
        Workload::TumblingCount { records, keys } => run_tumbling_count(parallelism, *records, *keys)?,
        Workload::SlidingMax { records, keys } => run_sliding_max(parallelism, *records, *keys)?,
        Workload::Recovery { records, keys } => {
            let r = super::recovery::run_recovery(parallelism, *records, *keys)?;
            let result = r.result.clone();
            recovery = Some(r);
            result
        }
    };
    let wall = start.elapsed();
    let after = ResourceUsage::of_this_process().context("getrusage")?;

    let check = match workload {
        Workload::Pipeline { records } => check_pipeline(&result, *records),
        Workload::WordCount { words, .. } => {
            let check = check_word_count(&csv, *words);
            let _ = std::fs::remove_dir_all(&csv);
            check
        }
        Workload::KeyedSum { records, keys } => check_keyed_sum(&result, *records, *keys),
        Workload::TumblingCount { records, keys } => check_tumbling_count(&result, *records, *keys),
        Workload::SlidingMax { records, keys } => check_sliding_max(&result, *records, *keys),
        Workload::Recovery { records, keys } => {
            super::recovery::check_recovery(recovery.as_ref().expect("run above"), *records, *keys)
        }
    }
    .with_context(|| {
        format!("scenario {} at parallelism {parallelism} computed a wrong result", workload.scenario())
    })?;

    let records = workload.records();
    let wall_secs = wall.as_secs_f64();
    let cpu_secs = (after.cpu - before.cpu).as_secs_f64();
    Ok(RunReport {
        scenario: workload.scenario().to_string(),
        job: workload.job().to_string(),
        parallelism,
        records,
        wall_secs,
        job_secs: result.net_runtime.as_secs_f64(),
        cpu_secs,
        records_per_sec: records as f64 / wall_secs,
        records_per_cpu_sec: records as f64 / cpu_secs,
        peak_rss_mib: after.peak_rss_bytes as f64 / 1_048_576.0,
        check,
        wall_secs_samples: vec![wall_secs],
        other_cpu_secs: None,
    })
}

/// `brook bench -D key=value` settings, applied to every scenario's environment.
static EXTRA_CONFIG: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Sets the `-D key=value` pairs every scenario's environment gets (once per process).
pub fn set_extra_config(pairs: Vec<String>) {
    let _ = EXTRA_CONFIG.set(pairs);
}

/// A local environment with `parallelism` as default and as slot count.
fn environment(parallelism: usize, mode: RuntimeMode) -> anyhow::Result<StreamExecutionEnvironment> {
    environment_with(parallelism, mode, &[])
}

/// [`environment`] with the scenario's own settings `pairs`; `-D` settings win.
pub(crate) fn environment_with(
    parallelism: usize,
    mode: RuntimeMode,
    pairs: &[&str],
) -> anyhow::Result<StreamExecutionEnvironment> {
    let mut config = Configuration::new();
    let p = parallelism.to_string();
    config.set(options::PARALLELISM_DEFAULT.key, &p, "brook bench -p")?;
    config.set(options::NUMBER_OF_TASK_SLOTS.key, &p, "brook bench -p")?;
    for pair in pairs.iter().copied().chain(EXTRA_CONFIG.get().into_iter().flatten().map(String::as_str)) {
        config.set_dynamic(pair)?;
    }
    let env = StreamExecutionEnvironment::with_configuration(config);
    env.set_runtime_mode(mode);
    Ok(env)
}

fn run_pipeline(parallelism: usize, records: u64) -> anyhow::Result<JobExecutionResult> {
    let env = environment(parallelism, RuntimeMode::Streaming)?;
    env.generate_sequence(1, to_i64(records)?)
        .map(|x: i64| x * 3)
        .filter(|x: &i64| x % 2 == 0)
        .sink_to(ChecksumSink::new(|x: &i64| *x), "Sink: Discard");
    Ok(env.execute("bench a: sequence-map-filter")?)
}

fn run_word_count(parallelism: usize, text: &Path, csv: &Path) -> anyhow::Result<JobExecutionResult> {
    let env = environment(parallelism, RuntimeMode::Batch)?;
    // The built-in job itself, so the benchmark follows it when it changes.
    let args = [
        "--input".to_string(),
        text.display().to_string(),
        "--output".to_string(),
        csv.display().to_string(),
        "--execution-mode".to_string(),
        "batch".to_string(),
    ];
    let name = wordcount::build(&env, &args)?;
    Ok(env.execute(&name)?)
}

fn run_keyed_sum(parallelism: usize, records: u64, keys: u64) -> anyhow::Result<JobExecutionResult> {
    anyhow::ensure!(keys >= 1, "--keys must be at least 1");
    let env = environment(parallelism, RuntimeMode::Streaming)?;
    let k = to_i64(keys)?;
    env.generate_sequence(0, to_i64(records)? - 1)
        .map(move |i: i64| (i % k, 1i64))
        .key_by(|t: &(i64, i64)| t.0)
        .sum(|t: &mut (i64, i64)| &mut t.1)
        .sink_to(ChecksumSink::new(|t: &(i64, i64)| t.1), "Sink: Discard");
    Ok(env.execute("bench c: keyed rolling sum")?)
}

/// Event time of d and e: 1 ms every `RECORDS_PER_MS` records.
const RECORDS_PER_MS: i64 = 10;
/// Window size of d and e, and the slide of e, in ms.
const WINDOW_MS: i64 = 10_000;
const SLIDE_MS: i64 = 2_000;

/// Record i of d and e: (key, event time in ms, value).
#[inline]
fn window_input(i: i64, keys: i64) -> (i64, i64, i64) {
    (i % keys, i / RECORDS_PER_MS, (i * 7919) % 1000)
}

/// Input of d and e: the sequence mapped to (key, ts, value), timestamps from
/// `ts`, monotonous watermarks.
fn window_source(env: &StreamExecutionEnvironment, records: u64, keys: u64) -> anyhow::Result<DataStream<Event>> {
    anyhow::ensure!(keys >= 1, "--keys must be at least 1");
    let k = to_i64(keys)?;
    Ok(env
        .generate_sequence(0, to_i64(records)? - 1)
        .map(move |i: i64| window_input(i, k))
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_monotonous_timestamps().with_timestamp_assigner(|e: &Event, _| e.1),
        ))
}

type Event = (i64, i64, i64);

/// Counts the elements of a window.
#[derive(Clone)]
struct Count;

impl AggregateFunction<Event> for Count {
    type Acc = i64;
    type Out = i64;
    fn create_accumulator(&self) -> i64 {
        0
    }
    #[inline]
    fn add(&self, acc: &mut i64, _: Event) {
        *acc += 1;
    }
    fn get_result(&self, acc: &i64) -> i64 {
        *acc
    }
    fn merge(&self, acc: &mut i64, other: i64) {
        *acc += other;
    }
}

fn run_tumbling_count(parallelism: usize, records: u64, keys: u64) -> anyhow::Result<JobExecutionResult> {
    let env = environment(parallelism, RuntimeMode::Streaming)?;
    window_source(&env, records, keys)?
        .key_by(|e: &Event| e.0)
        .window(TumblingEventTimeWindows::of(Duration::from_millis(WINDOW_MS as u64)))
        .aggregate(Count)
        .sink_to(ChecksumSink::new(|c: &i64| *c), "Sink: Discard");
    Ok(env.execute("bench d: tumbling window count")?)
}

fn run_sliding_max(parallelism: usize, records: u64, keys: u64) -> anyhow::Result<JobExecutionResult> {
    let env = environment(parallelism, RuntimeMode::Streaming)?;
    window_source(&env, records, keys)?
        .key_by(|e: &Event| e.0)
        .window(SlidingEventTimeWindows::of(
            Duration::from_millis(WINDOW_MS as u64),
            Duration::from_millis(SLIDE_MS as u64),
        ))
        // The element with the greatest (v, ts): a total order, so the reduce is
        // associative and commutative and may combine slices.
        .reduce_commutative(|a: Event, b: Event| if (b.2, b.1) > (a.2, a.1) { b } else { a })
        .sink_to(ChecksumSink::new(|e: &Event| e.2), "Sink: Discard");
    Ok(env.execute("bench e: sliding window max")?)
}

fn to_i64(n: u64) -> anyhow::Result<i64> {
    i64::try_from(n).ok().filter(|&n| n >= 1).with_context(|| format!("{n} records: must be between 1 and 2^63-1"))
}

const RECORDS: &str = "bench.records";
const CHECKSUM: &str = "bench.checksum";

/// Drops records after counting them and adding up `value` of each (wrapping),
/// reported as the accumulators `bench.records` and `bench.checksum`.
#[derive(Clone)]
pub struct ChecksumSink<F> {
    value: F,
    records: u64,
    sum: i64,
    totals: Option<(Accumulator, Accumulator)>,
}

impl<F> ChecksumSink<F> {
    pub fn new(value: F) -> Self {
        Self { value, records: 0, sum: 0, totals: None }
    }
}

impl<T: Send, F: Fn(&T) -> i64 + Send> SinkFunction<T> for ChecksumSink<F> {
    fn open(&mut self, ctx: &RuntimeContext) -> brook_types::Result<()> {
        self.totals = Some((ctx.accumulator(RECORDS), ctx.accumulator(CHECKSUM)));
        Ok(())
    }

    #[inline]
    fn write_batch(&mut self, batch: Batch<T>) -> brook_types::Result<()> {
        self.records += batch.len() as u64;
        for r in &batch {
            self.sum = self.sum.wrapping_add((self.value)(&r.value));
        }
        Ok(())
    }

    fn finish(&mut self) -> brook_types::Result<()> {
        let (records, sum) = self.totals.as_ref().expect("open runs before finish");
        records.add(self.records as i64);
        sum.add(self.sum);
        Ok(())
    }
}

/// Checks the sink's accumulators against the expected count and checksum.
fn check_sink(result: &JobExecutionResult, records: u64, checksum: i128) -> anyhow::Result<String> {
    let got_records = result.accumulator(RECORDS).context("the sink reported no record count")?;
    let got_sum = result.accumulator(CHECKSUM).context("the sink reported no checksum")?;
    anyhow::ensure!(got_records == records as i64, "the sink received {got_records} records, expected {records}");
    // The sink adds with wrap-around; compare modulo 2^64.
    anyhow::ensure!(got_sum == checksum as i64, "the values at the sink add up to {got_sum}, expected {checksum}");
    Ok(format!("{records} records at the sink, their values add up to {checksum}"))
}

/// (a): the even numbers of 1..=N, tripled: m = N/2 records adding up to 3·m·(m+1).
fn check_pipeline(result: &JobExecutionResult, n: u64) -> anyhow::Result<String> {
    let m = (n / 2) as i128;
    check_sink(result, n / 2, 3 * m * (m + 1))
}

/// (c): key k receives c_k records and emits 1, 2, …, c_k, so N records reach
/// the sink and their sums add up to Σ c_k·(c_k+1)/2; the last value of every key,
/// its count, adds up to N.
fn check_keyed_sum(result: &JobExecutionResult, n: u64, keys: u64) -> anyhow::Result<String> {
    let (q, r) = ((n / keys) as i128, (n % keys) as i128);
    let keys = keys as i128;
    let triangle = |c: i128| c * (c + 1) / 2;
    check_sink(result, n, r * triangle(q + 1) + (keys - r) * triangle(q))
}

/// The windows of d and e computed without the engine: the number of (key,
/// window) results and the sum of `fold` over each window's values, for windows
/// of `size` ms every `slide` ms (tumbling: `slide` = `size`), with Flink's
/// window starts `ts - ts mod slide`. One pass over every key's records in time
/// order; a key's windows are consecutive, so one vector per key holds them.
fn reference_windows(n: u64, keys: u64, size: i64, slide: i64, fold: fn(Option<i64>, i64) -> i64) -> (u64, i128) {
    let (n, k) = (n as i64, keys as i64);
    let (mut windows, mut total) = (0u64, 0i128);
    let mut acc: Vec<Option<i64>> = Vec::new();
    for key in 0..k.min(n) {
        acc.clear();
        let mut first_start = None;
        let mut i = key;
        while i < n {
            let (_, ts, value) = window_input(i, k);
            let last = ts - ts.rem_euclid(slide);
            let mut start = last - ((size - 1) / slide) * slide;
            while start + size <= ts {
                start += slide;
            }
            let first = *first_start.get_or_insert(start);
            while start <= last {
                let at = ((start - first) / slide) as usize;
                if acc.len() <= at {
                    acc.resize(at + 1, None);
                }
                acc[at] = Some(fold(acc[at], value));
                start += slide;
            }
            i += k;
        }
        for v in acc.iter().flatten() {
            windows += 1;
            total += *v as i128;
        }
    }
    (windows, total)
}

/// (d): one count per key and window, the counts adding up to N.
fn check_tumbling_count(result: &JobExecutionResult, n: u64, keys: u64) -> anyhow::Result<String> {
    let (windows, total) = reference_windows(n, keys, WINDOW_MS, WINDOW_MS, |c, _| c.unwrap_or(0) + 1);
    anyhow::ensure!(total == n as i128, "the reference counts add up to {total}, not {n}");
    check_sink(result, windows, total).map(|s| format!("{s} (window counts)"))
}

/// (e): one max per key and sliding window, as many as the data has windows,
/// adding up to the sum of the true maxima.
fn check_sliding_max(result: &JobExecutionResult, n: u64, keys: u64) -> anyhow::Result<String> {
    let (windows, total) = reference_windows(n, keys, WINDOW_MS, SLIDE_MS, |m, v| m.map_or(v, |m| m.max(v)));
    check_sink(result, windows, total).map(|s| format!("{s} (window maxima)"))
}

/// A file, or the committed part files (`part-…`) of an output directory, concatenated.
fn read_output(path: &Path) -> std::io::Result<String> {
    if !path.is_dir() {
        return std::fs::read_to_string(path);
    }
    let mut text = String::new();
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with("part-") {
            text.push_str(&std::fs::read_to_string(entry.path())?);
        }
    }
    Ok(text)
}

/// (b): one `word,count` line per distinct word, the counts adding up to the
/// number of words of the text.
fn check_word_count(csv: &Path, words: u64) -> anyhow::Result<String> {
    let output = read_output(csv).with_context(|| format!("cannot read the output {}", csv.display()))?;
    let mut seen = HashSet::new();
    let mut total = 0u64;
    for (i, line) in output.lines().enumerate() {
        let parsed = line.rsplit_once(',').and_then(|(w, c)| Some((w, c.parse::<u64>().ok()?)));
        let (word, count) =
            parsed.with_context(|| format!("{}:{}: not a `word,count` line: {line:?}", csv.display(), i + 1))?;
        anyhow::ensure!(seen.insert(word.to_string()), "{}:{}: the word {word:?} appears twice", csv.display(), i + 1);
        total += count;
    }
    anyhow::ensure!(total == words, "the counts add up to {total}, but the text has {words} words");
    Ok(format!("{} distinct words, counts add up to {words}", seen.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_runs_pass_their_checks() {
        let report = run(&Workload::Pipeline { records: 10_001 }, 2).unwrap();
        assert_eq!((report.scenario.as_str(), report.records), ("a", 10_001));
        let report = run(&Workload::KeyedSum { records: 10_007, keys: 100 }, 2).unwrap();
        assert_eq!((report.scenario.as_str(), report.records), ("c", 10_007));
    }

    #[test]
    fn small_window_runs_pass_their_checks() {
        // 300,007 records span 30 s of event time: several windows per key.
        let report = run(&Workload::TumblingCount { records: 300_007, keys: 100 }, 2).unwrap();
        assert_eq!((report.scenario.as_str(), report.records), ("d", 300_007));
        let report = run(&Workload::SlidingMax { records: 300_007, keys: 100 }, 2).unwrap();
        assert_eq!((report.scenario.as_str(), report.records), ("e", 300_007));
    }

    #[test]
    fn reference_windows_by_hand() {
        // 1 key, 200,000 records: ts 0..=19,999, values (i·7919) mod 1000.
        // Tumbling: windows [0, 10 s) and [10 s, 20 s), 100,000 records each.
        let (w, t) = reference_windows(200_000, 1, WINDOW_MS, WINDOW_MS, |c, _| c.unwrap_or(0) + 1);
        assert_eq!((w, t), (2, 200_000));
        // Sliding: starts -8 s, -6 s, …, 18 s = 14 windows, every max 999.
        let (w, t) = reference_windows(200_000, 1, WINDOW_MS, SLIDE_MS, |m, v| m.map_or(v, |m| m.max(v)));
        assert_eq!((w, t), (14, 14 * 999));
    }

    #[test]
    fn word_count_run_counts_every_word() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("text.txt");
        let stats = super::super::text::generate_file(&text, 0.05, 1).unwrap();
        let report = run(&Workload::WordCount { text, words: stats.words }, 2).unwrap();
        assert_eq!(report.records, stats.words);
    }

    #[test]
    fn wrong_sink_totals_are_errors() {
        let result = |records: i64, checksum: i64| JobExecutionResult {
            job_id: brook_types::JobId(0),
            job_name: "test".into(),
            net_runtime: std::time::Duration::ZERO,
            accumulators: [(RECORDS.to_string(), records), (CHECKSUM.to_string(), checksum)].into(),
            operator_records: Default::default(),
        };
        // 1..=10: evens 2, 4, 6, 8, 10 tripled add up to 90; 7 records over 3 keys: 3+2+2 → 6+3+3.
        assert!(check_pipeline(&result(5, 90), 10).is_ok());
        assert!(check_pipeline(&result(5, 91), 10).is_err());
        assert!(check_pipeline(&result(4, 90), 10).is_err());
        assert!(check_keyed_sum(&result(7, 12), 7, 3).is_ok());
        assert!(check_keyed_sum(&result(7, 13), 7, 3).is_err());
    }

    #[test]
    fn a_wrong_word_total_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("out.csv");
        std::fs::write(&csv, "a,2\nb,3\n").unwrap();
        assert_eq!(check_word_count(&csv, 5).unwrap(), "2 distinct words, counts add up to 5");
        assert!(check_word_count(&csv, 6).is_err());
        std::fs::write(&csv, "a,2\na,3\n").unwrap();
        assert!(check_word_count(&csv, 5).is_err());
    }
}
