//! Brook: a distributed, stateful stream processor with Apache Flink's architecture
//! — no JVM, no GC pauses, one static binary.
//!
//! This is the facade crate programs depend on, and the home of the `brook`
//! binary. It re-exports the DataStream API:
//!
//! ```
//! use brook::prelude::*;
//!
//! let env = StreamExecutionEnvironment::get_execution_environment();
//! let evens = env.generate_sequence(1, 10).filter(|x| x % 2 == 0).execute_and_collect("evens").unwrap();
//! let mut evens = evens;
//! evens.sort();
//! assert_eq!(evens, vec![2, 4, 6, 8, 10]);
//! ```
//!
//! Crates underneath: `brook-types` (vocabulary), `brook-runtime` (tasks,
//! operators, channels), `brook-cluster` (JobManager, TaskManager, MiniCluster),
//! `brook-api` (DataStream API). See docs/ARCHITECTURE.md.

pub mod bench;
pub mod cli;
pub mod jobs;

pub use brook_api as api;
pub use brook_cluster as cluster;
pub use brook_runtime as runtime;
pub use brook_types as types;

/// Everything a typical program needs.
pub mod prelude {
    pub use brook_api::*;
}
