//! `brook bench`: run the benchmark scenarios, each in a child process, and print
//! their figures; `brook bench gen-text` writes scenario b's input.

use crate::bench::rusage::{ResourceUsage, machine_busy_cpu};
use crate::bench::{BenchReport, Machine, RunReport, Workload, markdown_table, text};
use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

const DEFAULT_PIPELINE_RECORDS: u64 = 50_000_000;
const DEFAULT_KEYED_SUM_RECORDS: u64 = 10_000_000;
const DEFAULT_KEYED_SUM_KEYS: u64 = 100_000;
const DEFAULT_RECOVERY_RECORDS: u64 = 50_000_000;
const DEFAULT_WINDOW_RECORDS: u64 = 10_000_000;
const DEFAULT_WINDOW_KEYS: u64 = 10_000;
const DEFAULT_PARALLELISMS: [usize; 2] = [1, 2];
/// Cores busy (averaged over a second) before the runs above which the figures
/// cannot be trusted.
const BUSY_WARNING: f64 = 0.1;

#[derive(Args, Debug)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Scenarios:\n  \
        a  generate_sequence(1, N) → map → filter → discard (default N = 50,000,000)\n  \
        b  word count of a generated Zipf text, BATCH mode, CSV sink at parallelism 1 (default 100 MiB)\n  \
        c  generate_sequence(0, N-1) → map(i % K, 1) → key_by → rolling sum → discard \
        (default N = 10,000,000, K = 100,000)\n  \
        d  generate_sequence(0, N-1) → map(i % K, ts = i / 10 ms, v) → monotonous watermarks → key_by → \
        10 s tumbling event-time window → count → discard (default N = 10,000,000, K = 10,000)\n  \
        e  the input of d → key_by → 10 s / 2 s sliding event-time window → max of v → discard \
        (default N = 10,000,000, K = 10,000)\n  \
        r  c with checkpoints every 1 s and one injected task failure at 60 % of the input; reports the time \
        from the failure to every subtask RUNNING again (default N = 50,000,000, K = 100,000; not in `all`)\n\n\
        -D key=value settings apply to every scenario's job, e.g. -D execution.checkpointing.interval=1s.\n\
        Every scenario runs at every -p in a fresh child process; the figures are printed as a Markdown table."
)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: Option<BenchCommand>,
    /// Scenario to run.
    #[arg(long, value_enum, default_value_t = ScenarioChoice::All)]
    scenario: ScenarioChoice,
    /// Records of scenarios a, c, d and e [default: 50,000,000 for a, 10,000,000 for c, d, e].
    #[arg(long, value_name = "N")]
    records: Option<u64>,
    /// Distinct keys of scenarios c, d and e [default: 100,000 for c, 10,000 for d, e].
    #[arg(long, value_name = "K")]
    keys: Option<u64>,
    /// Size of scenario b's generated text, in MiB.
    #[arg(long, value_name = "M", default_value_t = 100.0)]
    text_mb: f64,
    /// Parallelisms to run every scenario at, repeated or comma-separated [default: 1,2].
    #[arg(short = 'p', long = "parallelism", value_name = "N", value_delimiter = ',', num_args = 1..)]
    parallelism: Vec<usize>,
    /// Runs of every scenario at every parallelism; the one with the median wall time is reported.
    #[arg(long, value_name = "R", default_value_t = 1)]
    repeat: usize,
    /// A configuration setting for every scenario's job, e.g.
    /// -D execution.checkpointing.interval=1s (repeatable).
    #[arg(short = 'D', value_name = "KEY=VALUE")]
    dynamic: Vec<String>,
    /// Also write the figures as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Scenario b's input: read if it exists, otherwise generated there with --text-mb
    /// and kept [default: a temporary file].
    #[arg(long, value_name = "FILE")]
    text: Option<PathBuf>,
    /// Run one scenario at one parallelism in this process and print its report as
    /// one JSON line (what the command runs in each child process).
    #[arg(long, hide = true)]
    child: bool,
    /// The number of words of --text, for --child (counted if missing).
    #[arg(long, hide = true)]
    words: Option<u64>,
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Write scenario b's text; byte-identical with `bench/flink/gen_text.py OUT M --seed S`.
    GenText(GenTextArgs),
    /// Checkpoint duration and size of ~1 GB of keyed state: hashmap full, RocksDB full,
    /// RocksDB incremental (first, and after a fraction of the keys changed).
    Checkpoints(CheckpointsArgs),
    /// The Nexmark queries over generated or exported events (see `brook bench nexmark --help`).
    Nexmark(super::bench_nexmark::NexmarkBenchArgs),
    /// Data-plane throughput: records of 16 B and 1 KiB from this process to a receiver
    /// process over loopback TCP, with the data plane's frames and credits.
    Network(NetworkArgs),
}

#[derive(Args, Debug)]
struct NetworkArgs {
    /// Bytes per record [default: both 16 and 1024].
    #[arg(long, value_name = "BYTES")]
    record_size: Option<usize>,
    /// Records to send [default: 20,000,000 of 16 B, 2,000,000 of 1 KiB].
    #[arg(long, value_name = "N")]
    records: Option<u64>,
    /// Be the receiver (what the command runs in its child process).
    #[arg(long, hide = true)]
    receive: bool,
}

#[derive(Args, Debug)]
struct CheckpointsArgs {
    /// Keys (one value state each).
    #[arg(long, default_value_t = 4_000_000)]
    keys: u64,
    /// Bytes per value.
    #[arg(long, default_value_t = 256)]
    value_bytes: usize,
    /// Percentage of keys changed before the second incremental checkpoint.
    #[arg(long, default_value_t = 5.0)]
    changed_percent: f64,
    /// Working directory (RocksDB and the checkpoint files); removed afterwards.
    #[arg(long, default_value = "/tmp/brook-bench-checkpoints")]
    dir: PathBuf,
}

#[derive(Args, Debug)]
struct GenTextArgs {
    /// Size in MiB; the file ends with the first complete line at or past it.
    #[arg(long, value_name = "M", default_value_t = 100.0)]
    mb: f64,
    /// File to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Seed of the random number generator.
    #[arg(long, default_value_t = text::DEFAULT_SEED)]
    seed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ScenarioChoice {
    A,
    B,
    C,
    D,
    E,
    R,
    All,
}

impl ScenarioChoice {
    fn scenarios(self) -> Vec<ScenarioChoice> {
        match self {
            ScenarioChoice::All => {
                vec![ScenarioChoice::A, ScenarioChoice::B, ScenarioChoice::C, ScenarioChoice::D, ScenarioChoice::E]
            }
            one => vec![one],
        }
    }

    fn letter(self) -> &'static str {
        match self {
            ScenarioChoice::A => "a",
            ScenarioChoice::B => "b",
            ScenarioChoice::C => "c",
            ScenarioChoice::D => "d",
            ScenarioChoice::E => "e",
            ScenarioChoice::R => "r",
            ScenarioChoice::All => "all",
        }
    }
}

pub fn bench(mut args: BenchArgs) -> anyhow::Result<()> {
    if let Some(BenchCommand::Nexmark(nexmark)) = args.command.take() {
        return super::bench_nexmark::bench_nexmark(nexmark);
    }
    if let Some(BenchCommand::GenText(gen_args)) = &args.command {
        let stats = text::generate_file(&gen_args.out, gen_args.mb, gen_args.seed)?;
        println!("{stats}");
        return Ok(());
    }
    if let Some(BenchCommand::Network(n)) = &args.command {
        return bench_network(n);
    }
    #[cfg(not(feature = "rocksdb"))]
    if let Some(BenchCommand::Checkpoints(_)) = &args.command {
        anyhow::bail!("this brook was built without the rocksdb feature, which `brook bench checkpoints` needs");
    }
    #[cfg(feature = "rocksdb")]
    if let Some(BenchCommand::Checkpoints(c)) = &args.command {
        anyhow::ensure!(c.value_bytes >= 8, "--value-bytes must be at least 8");
        let workload = crate::bench::checkpoints::CheckpointWorkload {
            keys: c.keys,
            value_bytes: c.value_bytes,
            changed_percent: c.changed_percent,
            dir: c.dir.clone(),
        };
        let figures = crate::bench::checkpoints::run(&workload)?;
        print!("{}", crate::bench::checkpoints::markdown(&workload, &figures));
        return Ok(());
    }
    let parallelisms =
        if args.parallelism.is_empty() { DEFAULT_PARALLELISMS.to_vec() } else { args.parallelism.clone() };
    anyhow::ensure!(parallelisms.iter().all(|&p| p >= 1), "-p must be at least 1");
    if args.child {
        return run_child(&args, &parallelisms);
    }

    anyhow::ensure!(args.repeat >= 1, "--repeat must be at least 1");
    let scenarios = args.scenario.scenarios();
    let text = if scenarios.contains(&ScenarioChoice::B) { Some(BenchText::prepare(&args)?) } else { None };
    let load_average = load_average();
    if let Some(busy) = busy_cores_now()
        && busy > BUSY_WARNING
    {
        eprintln!("bench: warning: {busy:.2} cores busy before the runs: the figures will be noisy");
    }
    let mut runs = Vec::new();
    for &scenario in &scenarios {
        for &p in &parallelisms {
            let mut samples = Vec::with_capacity(args.repeat);
            for i in 1..=args.repeat {
                eprintln!("bench: scenario {} at parallelism {p} ({i}/{})", scenario.letter(), args.repeat);
                let report = spawn_child(&args, scenario, p, text.as_ref())?;
                eprintln!(
                    "bench:   {:.2} s wall, {:.2} s CPU, {:.0} records/s, {:.2} CPU-s of other work; check: {}",
                    report.wall_secs,
                    report.cpu_secs,
                    report.records_per_sec,
                    report.other_cpu_secs.unwrap_or(0.0),
                    report.check
                );
                samples.push(report);
            }
            runs.push(median_by_wall(samples));
        }
    }
    print!("{}", markdown_table(&runs));
    if let Some(path) = &args.json {
        let report = BenchReport {
            date: crate::bench::report::utc_date_today(),
            brook_version: env!("CARGO_PKG_VERSION").to_string(),
            machine: Machine::this_one(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            load_average,
            runs,
        };
        let json = serde_json::to_string_pretty(&report).expect("reports are plain JSON");
        std::fs::write(path, json + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The repetition with the median wall time, carrying every repetition's wall time.
fn median_by_wall(mut samples: Vec<RunReport>) -> RunReport {
    let walls: Vec<f64> = samples.iter().map(|r| r.wall_secs).collect();
    samples.sort_by(|a, b| a.wall_secs.total_cmp(&b.wall_secs));
    let mut median = samples.swap_remove(samples.len() / 2);
    median.wall_secs_samples = walls;
    median
}

/// How many cores the machine keeps busy, averaged over one second.
fn busy_cores_now() -> Option<f64> {
    let before = machine_busy_cpu().ok()?;
    std::thread::sleep(std::time::Duration::from_secs(1));
    Some((machine_busy_cpu().ok()? - before).as_secs_f64())
}

/// The 1-minute load average, or 0 if /proc/loadavg cannot be read.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg").ok().and_then(|s| s.split_whitespace().next()?.parse().ok()).unwrap_or(0.0)
}

/// Scenario b's input file and its number of words; a generated temporary file
/// is removed on drop.
struct BenchText {
    path: PathBuf,
    words: u64,
    temporary: bool,
}

impl BenchText {
    fn prepare(args: &BenchArgs) -> anyhow::Result<Self> {
        let (path, temporary) = match &args.text {
            Some(path) if path.exists() => {
                let start = Instant::now();
                let words = text::count_words(path)?;
                eprintln!("bench: text {} has {words} words (counted in {:.1} s)", path.display(), secs(start));
                return Ok(Self { path: path.clone(), words, temporary: false });
            }
            Some(path) => (path.clone(), false),
            None => (std::env::temp_dir().join(format!("brook-bench-text-{}.txt", std::process::id())), true),
        };
        let start = Instant::now();
        let stats = text::generate_file(&path, args.text_mb, text::DEFAULT_SEED)?;
        eprintln!("bench: generated {} ({stats}) in {:.1} s", path.display(), secs(start));
        Ok(Self { path, words: stats.words, temporary })
    }
}

impl Drop for BenchText {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn secs(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

fn records(args: &BenchArgs, scenario: ScenarioChoice) -> u64 {
    args.records.unwrap_or(match scenario {
        ScenarioChoice::C => DEFAULT_KEYED_SUM_RECORDS,
        ScenarioChoice::R => DEFAULT_RECOVERY_RECORDS,
        ScenarioChoice::D | ScenarioChoice::E => DEFAULT_WINDOW_RECORDS,
        _ => DEFAULT_PIPELINE_RECORDS,
    })
}

fn keys(args: &BenchArgs, scenario: ScenarioChoice) -> u64 {
    args.keys.unwrap_or(match scenario {
        ScenarioChoice::D | ScenarioChoice::E => DEFAULT_WINDOW_KEYS,
        _ => DEFAULT_KEYED_SUM_KEYS,
    })
}

/// Runs `brook bench --child` for one scenario at one parallelism and reads its report.
fn spawn_child(
    args: &BenchArgs,
    scenario: ScenarioChoice,
    parallelism: usize,
    text: Option<&BenchText>,
) -> anyhow::Result<RunReport> {
    let exe = std::env::current_exe().context("cannot find the brook binary to run the benchmark in")?;
    let mut command = Command::new(&exe);
    command.args(["bench", "--child", "--scenario", scenario.letter(), "-p", &parallelism.to_string()]);
    for pair in &args.dynamic {
        command.arg("-D").arg(pair);
    }
    match scenario {
        ScenarioChoice::B => {
            let text = text.expect("the text is prepared when scenario b runs");
            command.arg("--text").arg(&text.path).args(["--words", &text.words.to_string()]);
        }
        _ => {
            command.args([
                "--records",
                &records(args, scenario).to_string(),
                "--keys",
                &keys(args, scenario).to_string(),
            ]);
        }
    }
    let what = format!("scenario {} at parallelism {parallelism}", scenario.letter());
    run_child_report(command, &what)
}

/// Runs a benchmark child (`brook bench … --child`), and reads the report it prints
/// as its last JSON line; `other_cpu_secs` is what the rest of the machine used
/// meanwhile. `what` names the run in errors.
pub(super) fn run_child_report(mut command: Command, what: &str) -> anyhow::Result<RunReport> {
    let exe = command.get_program().to_string_lossy().into_owned();
    let children_before = ResourceUsage::of_waited_children().context("getrusage")?;
    let machine_before = machine_busy_cpu().ok();
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start {exe}"))?;
    let machine_after = machine_busy_cpu().ok();
    let child_cpu = ResourceUsage::of_waited_children().context("getrusage")?.cpu - children_before.cpu;
    anyhow::ensure!(output.status.success(), "{what} failed ({}); see the error above", output.status);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rfind(|l| l.starts_with('{')).context("the benchmark child printed no report")?;
    let mut report: RunReport =
        serde_json::from_str(line).with_context(|| format!("cannot read the benchmark child's report {line:?}"))?;
    report.other_cpu_secs = machine_before
        .zip(machine_after)
        .map(|(before, after)| ((after - before).as_secs_f64() - child_cpu.as_secs_f64()).max(0.0));
    Ok(report)
}

/// `--child`: one run in this process, its report as one JSON line on stdout.
fn run_child(args: &BenchArgs, parallelisms: &[usize]) -> anyhow::Result<()> {
    let [parallelism] = parallelisms else {
        anyhow::bail!("--child runs at exactly one parallelism, not {parallelisms:?}");
    };
    let workload = match args.scenario {
        ScenarioChoice::A => Workload::Pipeline { records: records(args, ScenarioChoice::A) },
        ScenarioChoice::B => {
            let path = args.text.clone().context("--child --scenario b needs --text FILE")?;
            let words = match args.words {
                Some(w) => w,
                None => text::count_words(&path)?,
            };
            Workload::WordCount { text: path, words }
        }
        ScenarioChoice::C => {
            Workload::KeyedSum { records: records(args, ScenarioChoice::C), keys: keys(args, ScenarioChoice::C) }
        }
        ScenarioChoice::D => {
            Workload::TumblingCount { records: records(args, ScenarioChoice::D), keys: keys(args, ScenarioChoice::D) }
        }
        ScenarioChoice::E => {
            Workload::SlidingMax { records: records(args, ScenarioChoice::E), keys: keys(args, ScenarioChoice::E) }
        }
        ScenarioChoice::R => {
            Workload::Recovery { records: records(args, ScenarioChoice::R), keys: keys(args, ScenarioChoice::R) }
        }
        ScenarioChoice::All => anyhow::bail!("--child runs exactly one scenario (a, b, c, d, e or r)"),
    };
    crate::bench::scenarios::set_extra_config(args.dynamic.clone());
    let report = crate::bench::run(&workload, *parallelism)?;
    println!("{}", serde_json::to_string(&report).expect("reports are plain JSON"));
    Ok(())
}

fn bench_network(args: &NetworkArgs) -> anyhow::Result<()> {
    use crate::bench::network;
    if args.receive {
        let size = args.record_size.context("--receive needs --record-size")?;
        return network::receive(size, args.records.context("--receive needs --records")?);
    }
    let sizes = match args.record_size {
        Some(size) => vec![size],
        None => vec![16, 1024],
    };
    let mut runs = Vec::new();
    for size in sizes {
        let records = args.records.unwrap_or(if size <= 64 { 20_000_000 } else { 2_000_000 });
        eprintln!("bench: network, {records} records of {size} B");
        runs.push(network::run(size, records)?);
    }
    print!("{}", network::markdown(&runs));
    Ok(())
}
