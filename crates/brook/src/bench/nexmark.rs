//! `brook bench nexmark`: the Nexmark queries, each run on the local MiniCluster
//! over generated events (or events exported by `brook nexmark gen`, `--input`),
//! with a blackhole sink, measured like the other scenarios: wall time, process CPU
//! time (getrusage), events/s, events per CPU-second, peak RSS. The command runs
//! every (query, parallelism) in a fresh child process.

use super::report::RunReport;
use super::rusage::ResourceUsage;
use super::scenarios::environment_with;
use crate::jobs::nexmark::{QuerySink, build_query, read_exported_for};
use anyhow::Context as _;
use brook_api::{DataStream, RuntimeMode, StreamExecutionEnvironment};
use brook_connectors::nexmark::{self, Event, NexmarkConfig};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Event-time rate of generated events: Flink's V1 runner's `TPS` (SPEC §4.2).
pub const BENCH_EVENT_RATE: u64 = 10_000_000;

/// One query run.
#[derive(Clone, Debug)]
pub struct NexmarkRun {
    pub query: String,
    /// Events to generate (ignored with `input`).
    pub events: u64,
    /// Read the events exported in this directory instead of generating them.
    pub input: Option<PathBuf>,
    /// Write the query's rows as CSV to this file instead of dropping them.
    pub output: Option<PathBuf>,
    /// The generator's configuration (`events_num` is set from `events`).
    pub generator: NexmarkConfig,
}

/// The events `run` reads: `events` or the number of lines of the input files.
pub fn input_events(run: &NexmarkRun) -> anyhow::Result<u64> {
    let Some(dir) = &run.input else { return Ok(run.events) };
    let (_, paths) = nexmark::exported::find_export(dir)?;
    let mut lines = 0;
    for path in paths {
        lines += count_lines(&path)?;
    }
    Ok(lines)
}

fn count_lines(path: &Path) -> anyhow::Result<u64> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0u64;
    loop {
        let n = file.read(&mut buf).with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            return Ok(lines);
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

/// Runs one query at `parallelism` in this process and measures it.
pub fn run(run: &NexmarkRun, parallelism: usize) -> anyhow::Result<RunReport> {
    let events = input_events(run)?;
    let before = ResourceUsage::of_this_process().context("getrusage")?;
    let start = Instant::now();
    let env = environment_with(parallelism, RuntimeMode::Streaming, &[])?;
    let stream = match &run.input {
        Some(dir) => read_exported_for(&env, dir, &run.query)?,
        None => {
            let config = NexmarkConfig { events_num: events, ..run.generator.clone() };
            nexmark::source(&env, &config)
        }
    };
    add_query(&env, &run.query, stream, run.output.as_deref())?;
    let result = env.execute(&format!("nexmark {}", run.query))?;
    let wall = start.elapsed();
    let after = ResourceUsage::of_this_process().context("getrusage")?;
    let wall_secs = wall.as_secs_f64();
    let cpu_secs = (after.cpu - before.cpu).as_secs_f64();
    Ok(RunReport {
        scenario: "nexmark".to_string(),
        job: run.query.clone(),
        parallelism,
        records: events,
        wall_secs,
        job_secs: result.net_runtime.as_secs_f64(),
        cpu_secs,
        records_per_sec: events as f64 / wall_secs,
        records_per_cpu_sec: events as f64 / cpu_secs,
        peak_rss_mib: after.peak_rss_bytes as f64 / 1_048_576.0,
        check: match &run.output {
            Some(path) => format!("rows written to {}", path.display()),
            None => "not checked (blackhole sink)".to_string(),
        },
        wall_secs_samples: vec![wall_secs],
        other_cpu_secs: None,
    })
}

/// Adds `query` over `events` with a blackhole sink, or a CSV file sink at `output`.
fn add_query(
    env: &StreamExecutionEnvironment,
    query: &str,
    events: DataStream<Event>,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let sink = match output {
        Some(path) => QuerySink::File(path.to_path_buf()),
        None => QuerySink::Blackhole,
    };
    build_query(env, query, events, sink)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_q0_run_reports_its_events() {
        let run = NexmarkRun {
            query: "q0".into(),
            events: 10_000,
            input: None,
            output: None,
            generator: NexmarkConfig { first_event_rate: BENCH_EVENT_RATE, ..NexmarkConfig::default() },
        };
        let report = super::run(&run, 1).unwrap();
        assert_eq!((report.job.as_str(), report.records), ("q0", 10_000));
        assert!(report.cpu_secs > 0.0);
    }
}
