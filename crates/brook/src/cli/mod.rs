//! The `brook` command line, mirroring Flink's `bin/flink` verbs and options.

mod bench;
mod bench_nexmark;
mod cancel;
mod cluster;
mod cluster_client;
mod cluster_options;
mod config;
mod info;
mod jobmanager;
mod list;
mod nexmark;
mod options;
mod run;
mod savepoint;
mod stop;
mod submit;
mod taskmanager;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "brook",
    version,
    about = "Brook: a distributed, stateful stream processor with Apache Flink's architecture",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a job: `brook run --local [-p N] <job> [job args]`, or submit it to a
    /// cluster: `brook run -m host:port [-d] [-p N] <job> [job args]`.
    Run(run::RunArgs),
    /// Print a job's execution plan as JSON without running it.
    Info(info::InfoArgs),
    /// List the jobs of a running cluster (`brook list [-a]`).
    List(list::ListArgs),
    /// Cancel a running job.
    Cancel(cancel::CancelArgs),
    /// Trigger a savepoint of a running job: `brook savepoint <jobId> [targetDirectory]`.
    Savepoint(savepoint::SavepointArgs),
    /// Stop a job with a savepoint: `brook stop [-p DIR] [-d] <jobId>`.
    Stop(stop::StopArgs),
    /// Configuration reference (`brook config docs`).
    Config(config::ConfigArgs),
    /// Start the JobManager of a standalone cluster (RPC on jobmanager.rpc.port, REST on rest.port).
    Jobmanager(jobmanager::JobManagerArgs),
    /// Start a TaskManager that registers at the JobManager (jobmanager.rpc.address:port).
    Taskmanager(taskmanager::TaskManagerArgs),
    /// Start or stop a local standalone cluster (`brook cluster start [--taskmanagers N] [--slots S]`).
    Cluster(cluster::ClusterArgs),
    /// Measure throughput and CPU cost of reference jobs on the local cluster.
    Bench(bench::BenchArgs),
    /// Nexmark benchmark tools: `brook nexmark gen --events N --out DIR`.
    Nexmark(nexmark::NexmarkArgs),
}

/// The main of an application that links the `brook` crate (Flink's application
/// mode, DESIGN.md §2): its binary carries `programs` instead of the built-in jobs and
/// serves every role of the `brook` command — `jobmanager`, `taskmanager`, `cluster
/// start`, `run [--local | -m host:port] <program> [args]`, `list`, `cancel`,
/// `savepoint`, `stop` — so the same program text builds the same StreamGraph in each
/// process that takes part. See examples/application-mode.
pub fn main_with_programs(programs: &'static [crate::jobs::Program]) -> ExitCode {
    crate::jobs::set_carried(programs);
    main()
}

/// Parses the command line, runs the command and turns every error into one line
/// on stderr with a non-zero exit code.
pub fn main() -> ExitCode {
    install_panic_hook();
    init_logging();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(&e),
    };
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Info(args) => info::info(args),
        Command::List(args) => list::list(args),
        Command::Cancel(args) => cancel::cancel(args),
        Command::Savepoint(args) => savepoint::savepoint(args),
        Command::Stop(args) => stop::stop(args),
        Command::Config(args) => config::config(args),
        Command::Bench(args) => bench::bench(args),
        Command::Jobmanager(args) => jobmanager::jobmanager(args),
        Command::Taskmanager(args) => taskmanager::taskmanager(args),
        Command::Cluster(args) => cluster::cluster(args),
        Command::Nexmark(args) => nexmark::nexmark(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(clap_err) = e.downcast_ref::<clap::Error>() {
                return clap_error(clap_err);
            }
            eprintln!("error: {}", one_line(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

/// Help and version go to stdout as clap prints them; usage errors become one line.
fn clap_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            let rendered = e.render().to_string();
            // The message is everything before the usage; clap spreads it over lines.
            let message: Vec<&str> = rendered
                .lines()
                .take_while(|l| !l.trim_start().starts_with("Usage:") && !l.trim_start().starts_with("tip:"))
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            let joined = message.join(" ");
            let first = joined.trim_start_matches("error: ");
            let usage = rendered.lines().find_map(|l| l.trim().strip_prefix("Usage: ")).unwrap_or("brook");
            let command: Vec<&str> = usage.split_whitespace().take_while(|w| !w.starts_with(['-', '[', '<'])).collect();
            eprintln!("error: {first} (see '{} --help')", command.join(" "));
            ExitCode::from(2)
        }
    }
}

fn one_line(s: &str) -> String {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Panics in user code are caught by the task that ran it and reported as the
/// job's failure cause; printing them again from the worker thread only adds
/// noise, so worker-thread panics are logged at debug level.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let worker = std::thread::current().name().is_some_and(|n| n.starts_with("brook-worker"));
        if worker {
            tracing::debug!("user code panicked: {info}");
        } else {
            default(info);
        }
    }));
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Colour only on a terminal: redirected stderr (a file, a test, `brook stop`'s
    // caller reading it) gets plain lines.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .try_init();
}
