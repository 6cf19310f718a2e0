//! `brook bench`: throughput and cost of five reference jobs on the local MiniCluster.
//!
//! Each run builds one job in the measuring process, runs it on a local
//! MiniCluster with `taskmanager.numberOfTaskSlots` = parallelism, and reports
//! wall time, the process's CPU time (`getrusage(RUSAGE_SELF)` user + system,
//! before and after), records per second, records per CPU-second and the peak
//! resident set size. The command runs every (scenario, parallelism) pair in a
//! fresh child process of the same binary (`brook bench --child …`), so each run
//! has its own peak RSS and CPU account. After each run a cheap invariant is
//! checked against a closed-form answer and a wrong result fails the command:
//! a benchmark of a wrong job measures nothing.
//!
//! - [`scenarios`]: the jobs (a: stateless pipeline, b: BATCH word count,
//!   c: keyed rolling sum, d: tumbling event-time window count, e: sliding
//!   event-time window max), their measurement and their checks.
//! - [`recovery`]: scenario r, the time from a task failure to RUNNING again.
//! - [`text`]: the deterministic Zipf text word count reads, byte-identical
//!   with `bench/flink/gen_text.py` so Apache Flink counts the same file.
//! - [`rusage`]: CPU time and peak RSS of the process.
//! - [`report`]: the Markdown table and the JSON document.
//! - [`checkpoints`]: `brook bench checkpoints`, checkpoint duration and size of
//!   ~1 GB of keyed state per state backend (full and incremental).
//! - [`network`]: `brook bench network`, data-plane throughput between two processes
//!   over loopback TCP.
//!
//! Figures are measured by the command and written down in `docs/benchmarks.md`;
//! no test asserts a speed.

#[cfg(feature = "rocksdb")]
pub mod checkpoints;
pub mod network;
pub mod recovery;
pub mod report;
pub mod rusage;
pub mod scenarios;
pub mod text;

pub use report::{BenchReport, Machine, RunReport, markdown_table};
pub use scenarios::{Workload, run};
