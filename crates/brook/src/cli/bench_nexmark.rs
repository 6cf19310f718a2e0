//! `brook bench nexmark`: each Nexmark query at each parallelism in a child process;
//! prints a Markdown table (and `--json FILE`).

use crate::bench::nexmark::{BENCH_EVENT_RATE, NexmarkRun};
use crate::bench::{BenchReport, Machine, RunReport, markdown_table};
use anyhow::Context as _;
use clap::Args;
use std::path::PathBuf;
use std::process::Command;

#[derive(Args, Debug)]
#[command(after_help = "Generated events use first-event.rate = 10,000,000 (Flink's V1 runner) unless -D sets it.\n\
    With --input DIR the events are read from files written by `brook nexmark gen --out DIR`.")]
pub struct NexmarkBenchArgs {
    /// Queries to run, comma-separated [default: q0 … q22].
    #[arg(long, value_name = "qN,…", value_delimiter = ',')]
    queries: Vec<String>,
    /// Events to generate per run (ignored with --input).
    #[arg(long, value_name = "N", default_value_t = 10_000_000)]
    events: u64,
    /// Parallelisms, comma-separated.
    #[arg(short = 'p', long = "parallelism", value_name = "N", value_delimiter = ',', default_value = "1")]
    parallelism: Vec<usize>,
    /// Read events exported by `brook nexmark gen` from DIR instead of generating them.
    #[arg(long, value_name = "DIR")]
    input: Option<PathBuf>,
    /// Write each query's rows to DIR/<query>.csv instead of a blackhole sink.
    #[arg(long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Seed of the generator.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A generator option (Flink's connector key), e.g. -D bid.hot-ratio.auctions=4.
    #[arg(short = 'D', value_name = "KEY=VALUE")]
    options: Vec<String>,
    /// Also write the figures as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Run one query at one parallelism in this process and print its report as one
    /// JSON line (what the command runs in each child process).
    #[arg(long, hide = true)]
    child: bool,
}

impl NexmarkBenchArgs {
    fn run_of(&self, query: &str) -> anyhow::Result<NexmarkRun> {
        let mut rate = vec![format!("first-event.rate={BENCH_EVENT_RATE}")];
        rate.extend(self.options.iter().cloned());
        let mut generator = super::nexmark::config_from(&rate)?;
        generator.seed = self.seed;
        Ok(NexmarkRun {
            query: query.to_string(),
            events: self.events,
            input: self.input.clone(),
            output: self.output.as_ref().map(|dir| dir.join(format!("{query}.csv"))),
            generator,
        })
    }
}

pub fn bench_nexmark(mut args: NexmarkBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.parallelism.iter().all(|&p| p >= 1), "-p must be at least 1");
    anyhow::ensure!(args.events >= 1 || args.input.is_some(), "--events must be at least 1");
    if let Some(dir) = &args.input {
        brook_connectors::nexmark::exported::find_export(dir)?;
    }
    if let Some(dir) = &args.output {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    if args.queries.is_empty() {
        args.queries = crate::jobs::nexmark::QUERIES.iter().map(|q| q.to_string()).collect();
    }
    if args.child {
        let ([query], [p]) = (&args.queries[..], &args.parallelism[..]) else {
            anyhow::bail!("--child runs one query at one parallelism");
        };
        let report = crate::bench::nexmark::run(&args.run_of(query)?, *p)?;
        println!("{}", serde_json::to_string(&report).expect("reports are plain JSON"));
        return Ok(());
    }
    let mut runs = Vec::new();
    for query in &args.queries {
        args.run_of(query)?;
        for &p in &args.parallelism {
            eprintln!("bench: nexmark {query} at parallelism {p}");
            let report = spawn_child(&args, query, p)?;
            eprintln!(
                "bench:   {:.2} s wall, {:.2} s CPU, {:.0} events/s, {:.0} events/CPU-s",
                report.wall_secs, report.cpu_secs, report.records_per_sec, report.records_per_cpu_sec
            );
            runs.push(report);
        }
    }
    print!("{}", markdown_table(&runs));
    if let Some(path) = &args.json {
        let report = BenchReport {
            date: crate::bench::report::utc_date_today(),
            brook_version: env!("CARGO_PKG_VERSION").to_string(),
            machine: Machine::this_one(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            load_average: 0.0,
            runs,
        };
        let json = serde_json::to_string_pretty(&report).expect("reports are plain JSON");
        std::fs::write(path, json + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

fn spawn_child(args: &NexmarkBenchArgs, query: &str, parallelism: usize) -> anyhow::Result<RunReport> {
    let exe = std::env::current_exe().context("cannot find the brook binary to run the benchmark in")?;
    let mut command = Command::new(&exe);
    command.args(["bench", "nexmark", "--child", "--queries", query, "-p", &parallelism.to_string()]);
    command.args(["--events", &args.events.to_string(), "--seed", &args.seed.to_string()]);
    if let Some(dir) = &args.input {
        command.arg("--input").arg(dir);
    }
    if let Some(dir) = &args.output {
        command.arg("--output").arg(dir);
    }
    for pair in &args.options {
        command.arg("-D").arg(pair);
    }
    super::bench::run_child_report(command, &format!("nexmark {query} at parallelism {parallelism}"))
}
