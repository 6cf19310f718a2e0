//! Programs: how the code of a job reaches the processes that run it (DESIGN.md §2).
//!
//! Rust cannot ship code, so a job is a *deterministic program* every taking part
//! process carries: a built-in job of the `brook` binary, SQL text, or a user's
//! program linked against the `brook` crate (application mode). A submission names
//! the program and its arguments ([`ProgramSpec`]); each TaskManager that carries the
//! program builds the same StreamGraph from it ([`ProgramCatalog::build`]) and
//! instantiates only the subtasks deployed to it. The JobManager works on the
//! JobGraph alone and never builds a program's operators.

use brook_runtime::graph::StreamGraph;
use brook_types::Result;
use brook_types::config::Configuration;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Which program a job runs, and with which arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramSpec {
    /// The program's name in the catalog (e.g. `wordcount`).
    pub program: String,
    /// Its arguments, as given after the program's name on `brook run`.
    pub args: Vec<String>,
}

/// A program a process carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramInfo {
    pub name: String,
    pub description: String,
}

/// The programs a process carries.
pub trait ProgramCatalog: Send + Sync + 'static {
    /// Every program, by name.
    fn programs(&self) -> Vec<ProgramInfo>;

    /// Builds the StreamGraph of `spec` under the job's configuration (which holds
    /// parallelism, checkpointing and every `-D` the client gave). The same spec and
    /// configuration always give the same graph, with the same operator ids.
    fn build(&self, spec: &ProgramSpec, config: &Configuration) -> Result<StreamGraph>;

    /// Whether this catalog carries `name`.
    fn carries(&self, name: &str) -> bool {
        self.programs().iter().any(|p| p.name == name)
    }
}

/// A shared catalog.
pub type SharedProgramCatalog = Arc<dyn ProgramCatalog>;
