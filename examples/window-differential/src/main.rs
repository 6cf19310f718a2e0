//! Brook's side of the window differential check against Apache Flink 2.3
//! (`differential/windows/`; the Flink side is
//! `differential/windows/java/brook/diff/WindowJobs.java`, the same job).
//!
//! ```sh
//! cargo run --release -p brook-example-window-differential -- \
//!     --input events.csv --out-dir out/brook [-p 2]
//! ```
//!
//! Reads CSV lines `key,timestamp_ms,value`; event time is `timestamp_ms`, with
//! watermarks for 2 s of out-of-orderness. Three event-time window pipelines on
//! the stream keyed by `key`, each writing one line `key,window_start,window_end,result`
//! per window into `DIR/<name>.txt` from one sink subtask:
//!
//! | file | windows | result |
//! |---|---|---|
//! | `tumbling-count.txt` | tumbling 10 s | number of events |
//! | `sliding-max.txt` | sliding 30 s, every 10 s | largest value |
//! | `session-sum.txt` | sessions, 5 s gap | sum of the values |
//!
//! Records a window drops as late go to `late.txt` (`pipeline,key,timestamp_ms,value`)
//! instead; the generated input is built so that there are none.

use anyhow::Context as _;
use brook::prelude::window::{
    AggregateFunction, EventTimeSessionWindows, ProcessWindowContext, SlidingEventTimeWindows, TimeWindow,
    TumblingEventTimeWindows, WindowElements,
};
use brook::prelude::*;
use brook::types::config::options;
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// `(key, timestamp_ms, value)`.
type Event = (String, i64, i64);

#[derive(Parser, Debug)]
#[command(
    name = "brook-example-window-differential",
    about = "Tumbling count, sliding max and session sum per key over a CSV file, written for comparison with Flink"
)]
struct Args {
    /// CSV file of `key,timestamp_ms,value` lines (no header).
    #[arg(long)]
    input: PathBuf,
    /// Directory for tumbling-count.txt, sliding-max.txt, session-sum.txt and late.txt.
    #[arg(long)]
    out_dir: PathBuf,
    /// Parallelism of the source and the window operators (the sinks run at 1).
    #[arg(short = 'p', long, default_value_t = 2)]
    parallelism: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.input.is_file(), "input file {} does not exist", args.input.display());
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create output directory {}", args.out_dir.display()))?;

    // An embedded cluster with one slot per parallel subtask, as `flink run -p N`
    // gets from a TaskManager with N slots.
    let mut configuration = Configuration::new();
    let p = args.parallelism.to_string();
    configuration.set(options::NUMBER_OF_TASK_SLOTS.key, &p, "-p")?;
    let env = StreamExecutionEnvironment::with_configuration(configuration);
    env.set_parallelism(args.parallelism).set_runtime_mode(RuntimeMode::Streaming);

    let events = env
        .read_text_file(&args.input)
        .map(|line: String| parse(&line))
        .name("Parse CSV")
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_secs(2))
                .with_timestamp_assigner(|(_, ts, _): &Event, _| *ts),
        );

    let late_tumbling = OutputTag::<Event>::new("late-tumbling");
    let late_sliding = OutputTag::<Event>::new("late-sliding");
    let late_session = OutputTag::<Event>::new("late-session");

    let counts = events
        .clone()
        .key_by(key)
        .window(TumblingEventTimeWindows::of(Duration::from_secs(10)))
        .side_output_late_data(&late_tumbling)
        .aggregate_with(Count, window_line);
    let maxima = events
        .clone()
        .key_by(key)
        .window(SlidingEventTimeWindows::of(Duration::from_secs(30), Duration::from_secs(10)))
        .side_output_late_data(&late_sliding)
        .aggregate_with(Max, window_line);
    let sums = events
        .key_by(key)
        .window(EventTimeSessionWindows::with_gap(Duration::from_secs(5)))
        .side_output_late_data(&late_session)
        .aggregate_with(Sum, window_line);

    let late = counts.get_side_output(&late_tumbling).map(|e: Event| late_line("tumbling", e)).union([
        maxima.get_side_output(&late_sliding).map(|e: Event| late_line("sliding", e)),
        sums.get_side_output(&late_session).map(|e: Event| late_line("session", e)),
    ]);

    counts.write_as_text(args.out_dir.join("tumbling-count.txt")).set_parallelism(1);
    maxima.write_as_text(args.out_dir.join("sliding-max.txt")).set_parallelism(1);
    sums.write_as_text(args.out_dir.join("session-sum.txt")).set_parallelism(1);
    late.write_as_text(args.out_dir.join("late.txt")).set_parallelism(1);

    let result = env.execute("window differential")?;
    eprintln!(
        "brook: windows written to {} in {} ms (parallelism {})",
        args.out_dir.display(),
        result.net_runtime.as_millis(),
        args.parallelism
    );
    Ok(())
}

/// Parses `key,timestamp_ms,value`. The input is generated, so a malformed line
/// is a broken invariant: the task fails, and with it the job.
fn parse(line: &str) -> Event {
    let mut fields = line.split(',');
    let parsed = (|| {
        let key = fields.next()?.to_string();
        let ts = fields.next()?.parse().ok()?;
        let value = fields.next()?.parse().ok()?;
        fields.next().is_none().then_some((key, ts, value))
    })();
    parsed.unwrap_or_else(|| panic!("malformed input line {line:?}: expected key,timestamp_ms,value"))
}

fn key(event: &Event) -> String {
    event.0.clone()
}

/// `key,window_start,window_end,result`, the line format both engines write.
fn window_line(
    key: &String,
    ctx: &mut ProcessWindowContext<'_, String, TimeWindow>,
    results: WindowElements<'_, i64>,
    out: &mut Collector<String>,
) {
    let window = ctx.window();
    for result in results {
        out.collect(format!("{key},{},{},{result}", window.start, window.end));
    }
}

/// `pipeline,key,timestamp_ms,value` of a record a window dropped as late.
fn late_line(pipeline: &str, (key, ts, value): Event) -> String {
    format!("{pipeline},{key},{ts},{value}")
}

/// Number of events in the window.
#[derive(Clone, Copy, Debug)]
struct Count;

impl AggregateFunction<Event> for Count {
    type Acc = i64;
    type Out = i64;
    fn create_accumulator(&self) -> i64 {
        0
    }
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

/// Largest value in the window (windows are never empty).
#[derive(Clone, Copy, Debug)]
struct Max;

impl AggregateFunction<Event> for Max {
    type Acc = i64;
    type Out = i64;
    fn create_accumulator(&self) -> i64 {
        i64::MIN
    }
    fn add(&self, acc: &mut i64, (_, _, value): Event) {
        *acc = (*acc).max(value);
    }
    fn get_result(&self, acc: &i64) -> i64 {
        *acc
    }
    fn merge(&self, acc: &mut i64, other: i64) {
        *acc = (*acc).max(other);
    }
}

/// Sum of the values in the window; sessions merge their partial sums.
#[derive(Clone, Copy, Debug)]
struct Sum;

impl AggregateFunction<Event> for Sum {
    type Acc = i64;
    type Out = i64;
    fn create_accumulator(&self) -> i64 {
        0
    }
    fn add(&self, acc: &mut i64, (_, _, value): Event) {
        *acc += value;
    }
    fn get_result(&self, acc: &i64) -> i64 {
        *acc
    }
    fn merge(&self, acc: &mut i64, other: i64) {
        *acc += other;
    }
}
