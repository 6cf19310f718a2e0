//! Tasks: the mailbox loop that runs one subtask's operator chain.
//!
//! A task is one async tokio task. Single-threaded, it takes one element from its
//! [`TaskInput`] (a source reader or input gates), pushes it through the chain, then
//! sends what the chain's record writers queued — waiting for credits, which is how
//! backpressure stops it — and yields so that other subtasks share the worker
//! threads. Control messages (cancel, checkpoint triggers and completion
//! notifications) arrive in its mailbox and are taken between elements, so operator
//! code never needs locks. Barriers arriving on its inputs are aligned by the task
//! inputs ([`crate::checkpoint`]).
//!
//! A panic in user code is caught here: the task fails with the panic message and
//! the operator that raised it, and the process lives on.

#[cfg(test)]
mod alignment_tests;
mod chain;
mod input;
mod registry;
mod runner;
#[cfg(test)]
mod unaligned_property_tests;
#[cfg(test)]
mod unaligned_tests;

pub use chain::{ChainBuilder, DeployedTask};
pub use input::{InputStatus, OneInputTaskInput, TaskInput, TwoInputTaskInput};
pub use registry::LocalShuffle;
pub use runner::{ExecutionState, Task, TaskMessage, TaskOutcome, panic_cause};
