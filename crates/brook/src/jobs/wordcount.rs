//! `wordcount`: Flink's WordCount example.
//!
//! Lines are lowercased and split on every character that is not alphanumeric;
//! each word is counted per key. In BATCH mode each word's final count is written
//! once; in STREAMING mode every update is. Output lines are `word,count`.
//!
//! `--output DIR` writes part files with the exactly-once file sink (Flink's
//! example uses its `FileSink` the same way): `DIR/part-<subtask>-<n>` appear when
//! they are committed — at each completed checkpoint when the job checkpoints
//! (`-D execution.checkpointing.interval=10s`), else when the input ends. Files
//! whose names start with `.` are in progress or pending; readers skip them.

use anyhow::Context as _;
use brook_api::{
    Collector, Context, FileFormat, RollingPolicy, RuntimeMode, StreamExecutionEnvironment, StreamingFileSink,
};
use brook_runtime::source::RateLimited;
use brook_types::config::{parse_duration, parse_memory_size};
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// The text counted when no `--input` is given (Hamlet, as Flink's example uses).
pub const DEFAULT_TEXT: &str = include_str!("../../data/hamlet.txt");

#[derive(Parser, Debug)]
#[command(
    name = "wordcount",
    bin_name = "brook run wordcount",
    about = "Counts the words of a text (Flink's WordCount example)"
)]
struct Args {
    /// Input file or directory (default: a built-in text).
    #[arg(long)]
    input: Option<PathBuf>,
    /// Output directory: part files of `word,count` lines, committed exactly once
    /// (default: print to stdout).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Roll a part file once it holds this many bytes (`128 mb`, `64 kb`, `4096`).
    #[arg(long = "rolling-size", value_parser = parse_memory_size, default_value = "128 mb")]
    rolling_size: u64,
    /// Roll a part file once it is this old (`60 s`, `500 ms`).
    #[arg(long = "rollover-interval", value_parser = parse_duration, default_value = "60 s")]
    rollover_interval: Duration,
    /// batch: final counts only; streaming: every update (default: execution.runtime-mode, STREAMING).
    #[arg(long = "execution-mode", value_parser = ["batch", "streaming", "automatic"])]
    execution_mode: Option<String>,
    /// Parallelism of the job.
    #[arg(short = 'p', long)]
    parallelism: Option<usize>,
    /// Read at most this many lines per second per source subtask (to watch a job
    /// over a small file run, checkpoint and fail over).
    #[arg(long = "lines-per-second")]
    lines_per_second: Option<u64>,
}

/// Lowercases a line and splits it into words at every character that is not
/// alphanumeric (Flink's `toLowerCase().split("\\W+")`, on Unicode letters).
pub fn tokenize(line: &str, out: &mut Collector<(String, i64)>) {
    let lowered;
    let line = if line.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        lowered = line.to_lowercase();
        lowered.as_str()
    } else {
        line
    };
    for word in line.split(|c: char| !c.is_alphanumeric()) {
        if !word.is_empty() {
            out.collect((word.to_string(), 1));
        }
    }
}

pub fn build(env: &StreamExecutionEnvironment, args: &[String]) -> anyhow::Result<String> {
    let args = Args::try_parse_from(std::iter::once("wordcount".to_string()).chain(args.iter().cloned()))?;
    if let Some(p) = args.parallelism {
        env.set_parallelism(p);
    }
    match args.execution_mode.as_deref() {
        Some("batch") => env.set_runtime_mode(RuntimeMode::Batch),
        Some("automatic") => env.set_runtime_mode(RuntimeMode::Automatic),
        Some(_) => env.set_runtime_mode(RuntimeMode::Streaming),
        None => env,
    };
    let text = match &args.input {
        Some(path) => {
            brook_runtime::source::TextFileSource::files(path).with_context(|| "wordcount --input".to_string())?;
            match args.lines_per_second {
                Some(n) => {
                    let source = brook_runtime::source::TextFileSource { path: path.clone() };
                    env.from_source(RateLimited { inner: source, records_per_second: n }, "File Source")
                }
                None => env.read_text_file(path),
            }
        }
        None => env.from_collection(DEFAULT_TEXT.lines().map(str::to_string).collect()),
    };
    let counts = text
        .process(|line: String, _ctx: &mut Context<'_>, out: &mut Collector<(String, i64)>| tokenize(&line, out))
        .name("Tokenizer")
        .key_by_ref(|(word, _): &(String, i64)| word)
        .sum(|(_, n): &mut (String, i64)| n)
        .name("Counter");
    match &args.output {
        Some(dir) => {
            let policy = RollingPolicy::default()
                .with_max_part_size(args.rolling_size)
                .with_rollover_interval(args.rollover_interval)
                .with_inactivity_interval(args.rollover_interval);
            counts
                .sink_to_files(StreamingFileSink::for_row_format(dir, FileFormat::Csv).with_rolling_policy(policy))
                .set_parallelism(1)
                .name("Sink: Word Counts");
        }
        None => {
            counts.print();
        }
    }
    Ok("WordCount".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_lowercases_and_splits_on_non_alphanumerics() {
        let mut out = Collector::new();
        tokenize("To be, or NOT to-be:--that's", &mut out);
        let words: Vec<String> = out.into_values().into_iter().map(|(w, _)| w).collect();
        assert_eq!(words, vec!["to", "be", "or", "not", "to", "be", "that", "s"]);
    }
}
