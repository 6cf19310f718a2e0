//! Options shared by `run` and `info`, with `bin/flink`'s names.

use anyhow::Context as _;
use brook_types::config::{Configuration, options};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct JobOptions {
    /// Run on an embedded local cluster (JobManager and TaskManagers in this process).
    #[arg(long)]
    pub local: bool,
    /// Default parallelism of the job (parallelism.default).
    #[arg(short = 'p', long)]
    pub parallelism: Option<usize>,
    /// Set a configuration value, e.g. -D taskmanager.numberOfTaskSlots=4.
    #[arg(short = 'D', value_name = "key=value")]
    pub dynamic: Vec<String>,
    /// YAML configuration file (default: $BROOK_CONF_DIR/config.yaml if it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Built-in job (see the list below) followed by its own arguments; `<job> --help` shows them.
    #[arg(value_name = "JOB", required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true)]
    pub job_and_args: Vec<String>,
}

impl JobOptions {
    /// The job name; an option in its place is an unknown option of `brook`.
    pub fn job(&self, command: &str) -> anyhow::Result<&str> {
        let job = self.job_and_args[0].as_str();
        if job.starts_with('-') {
            return Err(clap::Error::raw(
                clap::error::ErrorKind::UnknownArgument,
                format!("unexpected argument '{job}' found\n\nUsage: brook {command} [OPTIONS] <JOB>...\n"),
            )
            .into());
        }
        Ok(job)
    }

    /// The job's own arguments.
    pub fn args(&self) -> &[String] {
        &self.job_and_args[1..]
    }

    /// The configuration: file, then -D, then -p.
    pub fn configuration(&self) -> anyhow::Result<Configuration> {
        let mut config = match &self.config {
            Some(path) => Configuration::load_yaml_file(path)?,
            None => match std::env::var_os("BROOK_CONF_DIR").map(|d| PathBuf::from(d).join("config.yaml")) {
                Some(path) if path.exists() => Configuration::load_yaml_file(&path)?,
                _ => Configuration::new(),
            },
        };
        for pair in &self.dynamic {
            config.set_dynamic(pair)?;
        }
        if let Some(p) = self.parallelism {
            anyhow::ensure!(p >= 1, "-p must be at least 1");
            config.set(options::PARALLELISM_DEFAULT.key, &p.to_string(), "-p").context("-p")?;
        } else if !config.contains(&options::PARALLELISM_DEFAULT) {
            // As `bin/flink`: jobs run with parallelism.default (1) unless told otherwise.
            config.set(options::PARALLELISM_DEFAULT.key, options::PARALLELISM_DEFAULT.default, "default")?;
        }
        Ok(config)
    }
}

/// The list of built-in jobs for help texts.
pub fn jobs_help() -> String {
    let mut s = String::from("Built-in jobs:\n");
    for j in crate::jobs::carried() {
        s.push_str(&format!("  {:<24} {}\n", j.name, j.description));
    }
    s.push_str("\nRun `brook run --local <job> --help` for a job's own options.");
    s
}
