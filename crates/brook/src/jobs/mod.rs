//! Built-in jobs: programs every `brook` process carries, runnable by name
//! (`brook run --local wordcount …`).

pub mod fraud_detection;
pub mod socket_window_wordcount;
pub mod wordcount;

use brook_api::StreamExecutionEnvironment;

/// A program shipped inside the binary.
pub struct BuiltinJob {
    pub name: &'static str,
    pub description: &'static str,
    /// Builds the job on `env` from its arguments; returns the job name.
    pub build: fn(&StreamExecutionEnvironment, &[String]) -> anyhow::Result<String>,
}

/// All built-in jobs.
pub const JOBS: &[BuiltinJob] = &[
    BuiltinJob {
        name: "wordcount",
        description: "count words of a text file (Flink's WordCount example)",
        build: wordcount::build,
    },
    BuiltinJob {
        name: "fraud-detection",
        description: "flag a payment over 500.00 right after one under 1.00 (Flink's fraud-detection walkthrough)",
        build: fraud_detection::build,
    },
    BuiltinJob {
        name: "socket-window-wordcount",
        description: "count words from a socket in 5-second windows (Flink's SocketWindowWordCount)",
        build: socket_window_wordcount::build,
    },
];

/// The job named `name`, or an error listing the known ones.
pub fn find(name: &str) -> anyhow::Result<&'static BuiltinJob> {
    JOBS.iter().find(|j| j.name == name).ok_or_else(|| {
        let known: Vec<&str> = JOBS.iter().map(|j| j.name).collect();
        anyhow::anyhow!("unknown job '{name}'; built-in jobs are: {}", known.join(", "))
    })
}
