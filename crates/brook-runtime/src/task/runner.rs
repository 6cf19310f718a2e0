//! The mailbox loop.

use super::input::{InputStatus, TaskInput};
use crate::output::{OperatorPanic, panic_message};
use crate::writer::PendingSends;
use futures::future::poll_fn;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::sync::mpsc;

/// Flink's execution states of a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum ExecutionState {
    Created,
    Scheduled,
    Deploying,
    Initializing,
    Running,
    Finished,
    Canceling,
    Canceled,
    Failed,
}

impl ExecutionState {
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Finished | Self::Canceled | Self::Failed)
    }

    /// Flink's upper-case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Scheduled => "SCHEDULED",
            Self::Deploying => "DEPLOYING",
            Self::Initializing => "INITIALIZING",
            Self::Running => "RUNNING",
            Self::Finished => "FINISHED",
            Self::Canceling => "CANCELING",
            Self::Canceled => "CANCELED",
            Self::Failed => "FAILED",
        }
    }
}

/// Messages a task takes between input elements.
#[derive(Debug)]
pub enum TaskMessage {
    Cancel,
}

/// How a task ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskOutcome {
    Finished,
    Canceled,
    /// The cause, naming the operator for panics.
    Failed(String),
}

/// One subtask's operator chain, ready to run.
pub struct Task {
    pub name: String,
    pub(crate) input: Box<dyn TaskInput>,
    pub(crate) writers: Vec<Arc<dyn PendingSends>>,
    /// `None`: flush only full buffers; zero: flush after every element.
    pub(crate) buffer_timeout: Option<Duration>,
    /// Deadlines the chain's operators registered.
    pub(crate) processing_time: crate::processing_time::ProcessingTimeService,
}

/// Formats a caught panic as a task failure cause.
pub fn panic_cause(task: &str, payload: &(dyn std::any::Any + Send)) -> String {
    match payload.downcast_ref::<OperatorPanic>() {
        Some(p) if p.is_error => format!("operator '{}' in task '{}' failed: {}", p.operator, task, p.message),
        Some(p) => format!("operator '{}' in task '{}' panicked: {}", p.operator, task, p.message),
        None => format!("task '{}' panicked: {}", task, panic_message(payload)),
    }
}

impl Task {
    /// Runs the task to its end.
    pub async fn run(mut self, mailbox: &mut mpsc::UnboundedReceiver<TaskMessage>) -> TaskOutcome {
        let flush_each = self.buffer_timeout.is_some_and(|d| d.is_zero());
        // Partly filled buffers are flushed when `timeout` passed since the last
        // flush: checked after every element (a busy task never waits in `select!`)
        // and by a timer while the task is idle.
        let timeout = self.buffer_timeout.filter(|d| !d.is_zero());
        let mut next_flush = timeout.map(|t| tokio::time::Instant::now() + t);
        let mut finished = false;
        loop {
            // Send what the chain queued; this waits for credits (backpressure).
            let writers = &self.writers;
            let sent = tokio::select! {
                biased;
                msg = mailbox.recv() => match msg {
                    Some(TaskMessage::Cancel) | None => return TaskOutcome::Canceled,
                },
                r = poll_fn(|cx| poll_all(writers, cx)) => r,
            };
            if sent.is_err() {
                // A downstream task is gone: the job is being canceled or failed.
                return TaskOutcome::Canceled;
            }
            if finished {
                return TaskOutcome::Finished;
            }
            let timer_at = self.processing_time.next_deadline().map(|deadline| {
                let wait = deadline.saturating_sub(self.processing_time.now()).max(0) as u64;
                tokio::time::Instant::now() + Duration::from_millis(wait)
            });
            let input = &mut self.input;
            tokio::select! {
                biased;
                msg = mailbox.recv() => match msg {
                    Some(TaskMessage::Cancel) | None => return TaskOutcome::Canceled,
                },
                r = poll_fn(|cx| match catch_unwind(AssertUnwindSafe(|| input.poll_process(cx))) {
                    Ok(p) => p.map(Ok),
                    Err(payload) => Poll::Ready(Err(payload)),
                }) => match r {
                    Ok(Ok(InputStatus::MoreAvailable)) => {
                        if flush_each {
                            self.writers.iter().for_each(|w| w.flush());
                        }
                    }
                    Ok(Ok(InputStatus::Finished)) => {
                        self.writers.iter().for_each(|w| w.flush());
                        finished = true;
                    }
                    Ok(Err(e)) => return TaskOutcome::Failed(format!("task '{}' failed: {e}", self.name)),
                    Err(payload) => return TaskOutcome::Failed(panic_cause(&self.name, payload.as_ref())),
                },
                _ = async { match next_flush { Some(at) => tokio::time::sleep_until(at).await, None => std::future::pending::<()>().await } } => {}
                _ = async { match timer_at { Some(at) => tokio::time::sleep_until(at).await, None => std::future::pending::<()>().await } } => {}
            }
            // Processing-time timers that are due fire now, between elements.
            let now = self.processing_time.now();
            if !finished && self.processing_time.take_due(now) {
                let input = &mut self.input;
                if let Err(payload) = catch_unwind(AssertUnwindSafe(|| input.on_processing_time(now))) {
                    return TaskOutcome::Failed(panic_cause(&self.name, payload.as_ref()));
                }
                if flush_each {
                    self.writers.iter().for_each(|w| w.flush());
                }
            }
            if let (Some(t), Some(at)) = (timeout, next_flush) {
                let now = tokio::time::Instant::now();
                if now >= at {
                    self.writers.iter().for_each(|w| w.flush());
                    next_flush = Some(now + t);
                }
            }
            // Let other subtasks on this worker thread run once this task used up its
            // cooperative budget (yielding after every batch would wake idle workers
            // for nothing).
            tokio::task::consume_budget().await;
        }
    }
}

fn poll_all(
    writers: &[Arc<dyn PendingSends>],
    cx: &mut std::task::Context<'_>,
) -> Poll<Result<(), crate::channel::ChannelClosed>> {
    let mut pending = false;
    for w in writers {
        match w.poll_send(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => pending = true,
        }
    }
    if pending { Poll::Pending } else { Poll::Ready(Ok(())) }
}
