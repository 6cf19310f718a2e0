//! `brook nexmark gen`: write generated Nexmark events to files, one per kind, for
//! other engines (Apache Flink's filesystem connector) and for `--input` runs.

use anyhow::Context as _;
use brook_connectors::nexmark::{self, ExportFormat, NexmarkConfig};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct NexmarkArgs {
    #[command(subcommand)]
    command: NexmarkCommand,
}

#[derive(Subcommand, Debug)]
enum NexmarkCommand {
    /// Write N events to person.csv, auction.csv and bid.csv (or .json) in DIR,
    /// each file sorted by event time; format in docs/design/nexmark.md.
    Gen(GenArgs),
}

#[derive(Args, Debug)]
struct GenArgs {
    /// Events over all kinds (Nexmark's `events.num`).
    #[arg(long, value_name = "N")]
    events: u64,
    /// Seed of the per-event random source.
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// File format.
    #[arg(long, value_name = "csv|json", default_value = "csv")]
    format: String,
    /// Sub-generators sharing the timeline (Flink's source parallelism); changes
    /// the events, as in Flink.
    #[arg(short = 'p', long = "parallelism", value_name = "P", default_value_t = 1)]
    parallelism: u32,
    /// Directory to write into (created if missing; existing files are replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// A generator option, Flink's connector key, e.g. -D first-event.rate=10000000
    /// (repeatable; see docs/design/nexmark.md).
    #[arg(short = 'D', value_name = "KEY=VALUE")]
    options: Vec<String>,
}

pub fn nexmark(args: NexmarkArgs) -> anyhow::Result<()> {
    match args.command {
        NexmarkCommand::Gen(args) => generate(args),
    }
}

/// Builds a generator configuration from `-D key=value` pairs over the defaults.
pub fn config_from(pairs: &[String]) -> anyhow::Result<NexmarkConfig> {
    let mut config = NexmarkConfig::default();
    for pair in pairs {
        let (key, value) =
            pair.split_once('=').with_context(|| format!("-D {pair}: expected KEY=VALUE, e.g. -D seed=7"))?;
        config.set(key.trim(), value)?;
    }
    Ok(config)
}

fn generate(args: GenArgs) -> anyhow::Result<()> {
    let format =
        ExportFormat::parse(&args.format).with_context(|| format!("--format {}: expected csv or json", args.format))?;
    anyhow::ensure!(args.events > 0, "--events must be at least 1");
    anyhow::ensure!(args.parallelism > 0, "-p must be at least 1");
    let mut config = config_from(&args.options)?;
    config.events_num = args.events;
    config.seed = args.seed;
    let start = Instant::now();
    let summary = nexmark::export(&config, args.parallelism, format, &args.out)?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "wrote {} persons, {} auctions, {} bids ({:.1} MiB) to {} in {secs:.1} s",
        summary.persons,
        summary.auctions,
        summary.bids,
        summary.bytes as f64 / 1_048_576.0,
        args.out.display()
    );
    Ok(())
}
