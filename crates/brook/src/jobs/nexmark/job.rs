//! `brook run nexmark --query qN`: one Nexmark query over generated events
//! (or, with `--input`, exported ones), to a CSV file or a blackhole sink.

use super::{QUERIES, QuerySink, build_query};
use brook_api::StreamExecutionEnvironment;
use brook_connectors::nexmark::{self, NexmarkConfig};
use clap::Parser;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "nexmark",
    bin_name = "brook run nexmark",
    about = "Runs one Nexmark query (q0 … q22) over the Nexmark generator's events"
)]
struct Args {
    /// The query: q0 … q22.
    #[arg(long)]
    query: String,
    /// Events to generate over all generator splits (0 = unbounded).
    #[arg(long, default_value_t = 100_000)]
    events: u64,
    /// A directory of exported Nexmark events to read instead of generating them.
    #[arg(long)]
    input: Option<PathBuf>,
    /// CSV output file (q10: a directory partitioned by dt/hm); without it rows go
    /// to a blackhole sink.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Generator seed (the same seed and --events give the same events).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Parallelism of the job.
    #[arg(short = 'p', long)]
    parallelism: Option<usize>,
}

pub fn build(env: &StreamExecutionEnvironment, args: &[String]) -> anyhow::Result<String> {
    let args = Args::try_parse_from(std::iter::once("nexmark".to_string()).chain(args.iter().cloned()))?;
    if !QUERIES.contains(&args.query.as_str()) {
        anyhow::bail!("unknown Nexmark query '{}'; known queries are: {}", args.query, QUERIES.join(", "));
    }
    if let Some(p) = args.parallelism {
        env.set_parallelism(p);
    }
    let events = match &args.input {
        Some(dir) => super::read_exported_for(env, dir, &args.query)?,
        None => {
            // One generator split per source subtask (`splits` 0), as Flink's
            // generator: every subtask generates, and the events depend on the
            // parallelism (they spread the shared timeline).
            let config = NexmarkConfig { events_num: args.events, seed: args.seed, ..NexmarkConfig::default() };
            nexmark::source(env, &config)
        }
    };
    let sink = match args.output {
        Some(path) => QuerySink::File(path),
        None => QuerySink::Blackhole,
    };
    build_query(env, &args.query, events, sink)?;
    Ok(format!("Nexmark {}", args.query))
}
