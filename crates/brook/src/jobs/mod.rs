//! Built-in jobs: programs every `brook` process carries, runnable by name
//! (`brook run --local wordcount …`).

pub mod fraud_detection;
pub mod nexmark;
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
    BuiltinJob {
        name: "nexmark",
        description: "one Nexmark benchmark query, q0 … q22, over generated bids, auctions and persons",
        build: nexmark::job::build,
    },
];

/// A program a binary carries: the built-in jobs of `brook`, or an application's own
/// (Flink's application mode: see [`crate::cli::main_with_programs`]).
pub type Program = BuiltinJob;

static CARRIED: std::sync::OnceLock<&'static [Program]> = std::sync::OnceLock::new();

/// The programs this process carries: an application's, once
/// [`crate::cli::main_with_programs`] set them, else the built-in jobs.
pub fn carried() -> &'static [Program] {
    CARRIED.get().copied().unwrap_or(JOBS)
}

/// Sets the programs this process carries; the first call wins.
pub(crate) fn set_carried(programs: &'static [Program]) {
    let _ = CARRIED.set(programs);
}

/// The program named `name`, or an error listing the known ones.
pub fn find(name: &str) -> anyhow::Result<&'static BuiltinJob> {
    carried().iter().find(|j| j.name == name).ok_or_else(|| {
        let known: Vec<&str> = carried().iter().map(|j| j.name).collect();
        anyhow::anyhow!("unknown job '{name}'; built-in jobs are: {}", known.join(", "))
    })
}

/// The built-in jobs as the catalog of programs the `brook` binary carries: its
/// TaskManagers build a submitted built-in job from its name and arguments.
#[derive(Clone, Copy, Debug, Default)]
pub struct BuiltinPrograms;

impl brook_cluster::ProgramCatalog for BuiltinPrograms {
    fn programs(&self) -> Vec<brook_cluster::ProgramInfo> {
        carried()
            .iter()
            .map(|j| brook_cluster::ProgramInfo { name: j.name.to_string(), description: j.description.to_string() })
            .collect()
    }

    fn build(
        &self,
        spec: &brook_cluster::ProgramSpec,
        config: &brook_types::config::Configuration,
    ) -> brook_types::Result<brook_runtime::graph::StreamGraph> {
        let invalid = |e: anyhow::Error| brook_types::BrookError::InvalidProgram(format!("{e:#}"));
        let job = find(&spec.program).map_err(invalid)?;
        let env = StreamExecutionEnvironment::with_configuration(config.clone());
        let name = (job.build)(&env, &spec.args).map_err(invalid)?;
        env.take_stream_graph(&name)
    }
}
