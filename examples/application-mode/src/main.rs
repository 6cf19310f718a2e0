//! Flink's *application mode*, Brook style: this program links the `brook` crate,
//! carries its own pipeline, and its one binary serves every role (DESIGN.md §2).
//! Rust cannot ship code to a cluster, so every process that takes part runs this
//! same binary and builds the same StreamGraph from the program's name and arguments.
//!
//! ```sh
//! cargo build -p brook-example-application-mode
//! B=target/debug/parity-app
//! $B run --local parity-counts --count 100000 --output /tmp/parity   # embedded cluster
//! $B jobmanager &                     # a cluster of this program's own processes
//! $B taskmanager -D taskmanager.numberOfTaskSlots=2 &
//! $B run -m 127.0.0.1:8081 -p 2 parity-counts --count 100000 --output /tmp/parity
//! ```
//!
//! `parity-counts` sums the numbers 1..=N by their last digit: ten keys, each with the
//! final `(digit,count,sum)` in the CSV part files under `--output`. BATCH mode, so each
//! key is written once.

use brook::jobs::Program;
use brook::prelude::*;
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// The programs this binary carries.
static PROGRAMS: &[Program] = &[Program {
    name: "parity-counts",
    description: "count and sum 1..=N by their last digit (a program of this application)",
    build: parity_counts,
}];

fn main() -> ExitCode {
    brook::cli::main_with_programs(PROGRAMS)
}

#[derive(Parser, Debug)]
#[command(name = "parity-counts")]
struct Args {
    /// Numbers to count: 1..=N.
    #[arg(long, default_value_t = 100_000)]
    count: i64,
    /// Directory of the CSV output (one file per subtask); printed when absent.
    #[arg(long)]
    output: Option<PathBuf>,
}

/// Builds the job on `env`; every process of the cluster calls this with the same
/// arguments and so builds the same graph.
fn parity_counts(env: &StreamExecutionEnvironment, args: &[String]) -> anyhow::Result<String> {
    let args = Args::try_parse_from(std::iter::once("parity-counts".to_string()).chain(args.iter().cloned()))?;
    anyhow::ensure!(args.count >= 1, "--count must be at least 1");
    env.set_runtime_mode(RuntimeMode::Batch);
    let sums = env
        .generate_sequence(1, args.count)
        .map(|x: i64| (x % 10, 1_i64, x))
        .name("Digit")
        .key_by(|(digit, _, _): &(i64, i64, i64)| *digit)
        .reduce(|a: (i64, i64, i64), b: (i64, i64, i64)| (a.0, a.1 + b.1, a.2 + b.2))
        .name("Sums");
    match args.output {
        Some(dir) => sums.write_as_csv(dir),
        None => sums.print(),
    };
    Ok("parity-counts".to_string())
}
