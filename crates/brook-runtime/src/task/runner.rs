//! The mailbox loop.

use super::input::{InputStatus, TaskInput};
use crate::checkpoint::TaskCheckpoints;
use crate::output::{OperatorPanic, panic_message};
use crate::writer::PendingSends;
use brook_types::{CheckpointBarrier, CheckpointId};
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
    /// Take part in checkpoint n now (source tasks; the coordinator's trigger).
    TriggerCheckpoint(CheckpointBarrier),
    /// Checkpoint n completed. `final_checkpoint`: every task took part in it after
    /// its input ended (or it is the stop-with-savepoint), so tasks may finish.
    NotifyCheckpointComplete {
        checkpoint: CheckpointId,
        final_checkpoint: bool,
    },
    /// A stop-with-savepoint begins (every task, before the sources stop): a task
    /// whose input ends waits for the savepoint instead of finishing, and fires no
    /// processing-time timers until it finishes or the stop fails.
    PrepareStop,
    /// Stop-with-savepoint at a source: (with `drain`, end event time and the input,)
    /// take part in the savepoint `barrier`, then emit nothing more.
    StopWithSavepoint {
        barrier: CheckpointBarrier,
        drain: bool,
    },
    /// The stop-with-savepoint failed: sources emit again, timers fire again.
    ResumeAfterFailedStop,
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
    /// The task's side of the checkpoint protocol.
    pub(crate) checkpoints: TaskCheckpoints,
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
    /// A task from its parts (for tests that drive inputs directly).
    pub fn new(name: String, input: Box<dyn TaskInput>, checkpoints: TaskCheckpoints) -> Self {
        Self {
            name,
            input,
            writers: Vec::new(),
            buffer_timeout: None,
            processing_time: crate::processing_time::ProcessingTimeService::new(),
            checkpoints,
        }
    }

    /// Handles one mailbox message; `Some` ends the task.
    fn on_message(&mut self, msg: Option<TaskMessage>) -> Option<TaskOutcome> {
        match msg {
            Some(TaskMessage::Cancel) | None => Some(TaskOutcome::Canceled),
            Some(TaskMessage::TriggerCheckpoint(barrier)) => {
                let (input, checkpoints) = (&mut self.input, &mut self.checkpoints);
                match catch_unwind(AssertUnwindSafe(|| input.trigger_checkpoint(barrier, checkpoints))) {
                    Ok(()) => None,
                    Err(payload) => Some(TaskOutcome::Failed(panic_cause(&self.name, payload.as_ref()))),
                }
            }
            Some(TaskMessage::NotifyCheckpointComplete { checkpoint, final_checkpoint }) => {
                let (input, checkpoints) = (&mut self.input, &mut self.checkpoints);
                if let Err(payload) =
                    catch_unwind(AssertUnwindSafe(|| input.notify_checkpoint_complete(checkpoint, checkpoints)))
                {
                    return Some(TaskOutcome::Failed(panic_cause(&self.name, payload.as_ref())));
                }
                if final_checkpoint && (self.checkpoints.snapshot_after_finish() || self.checkpoints.stopping()) {
                    tracing::debug!(task = %self.name, checkpoint_id = %checkpoint, "final checkpoint complete");
                    return Some(TaskOutcome::Finished);
                }
                None
            }
            Some(TaskMessage::PrepareStop) => {
                self.checkpoints.set_stopping(true);
                None
            }
            Some(TaskMessage::StopWithSavepoint { barrier, drain }) => {
                self.checkpoints.set_stopping(true);
                let (input, checkpoints) = (&mut self.input, &mut self.checkpoints);
                match catch_unwind(AssertUnwindSafe(|| input.stop_with_savepoint(barrier, drain, checkpoints))) {
                    Ok(()) => None,
                    Err(payload) => Some(TaskOutcome::Failed(panic_cause(&self.name, payload.as_ref()))),
                }
            }
            Some(TaskMessage::ResumeAfterFailedStop) => {
                self.checkpoints.set_stopping(false);
                self.input.resume_after_failed_stop();
                None
            }
        }
    }

    /// Runs the task to its end.
    ///
    /// With checkpointing on, a task whose input ended does not finish at once: it
    /// keeps taking part in checkpoints (barriers that follow the end of input,
    /// triggers at finished sources) until the coordinator reports the job's final
    /// checkpoint complete, so that two-phase-commit sinks commit their last data.
    pub async fn run(mut self, mailbox: &mut mpsc::UnboundedReceiver<TaskMessage>) -> TaskOutcome {
        let flush_each = self.buffer_timeout.is_some_and(|d| d.is_zero());
        // Partly filled buffers are flushed when `timeout` passed since the last
        // flush: checked after every element (a busy task never waits in `select!`)
        // and by a timer while the task is idle.
        let timeout = self.buffer_timeout.filter(|d| !d.is_zero());
        let mut next_flush = timeout.map(|t| tokio::time::Instant::now() + t);
        let mut finished = false;
        // A downstream task finished after the final checkpoint: nothing more to send.
        let mut outputs_closed = false;
        loop {
            // An aligned checkpoint past its aligned-checkpoint-timeout goes unaligned.
            let alignment_at = match self.input.alignment_deadline() {
                Some(deadline) => {
                    let wait = deadline.saturating_sub(super::input::wall_clock_ms());
                    if wait <= 0 {
                        let (input, checkpoints) = (&mut self.input, &mut self.checkpoints);
                        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| input.on_alignment_timeout(checkpoints)))
                        {
                            return TaskOutcome::Failed(panic_cause(&self.name, payload.as_ref()));
                        }
                        None
                    } else {
                        Some(tokio::time::Instant::now() + Duration::from_millis(wait as u64))
                    }
                }
                None => None,
            };
            // Send what the chain queued; this waits for credits (backpressure).
            // Meanwhile unaligned barriers that overtook the queued input are taken
            // (they need no credit and overtake the queued output in turn).
            let writers: &[Arc<dyn PendingSends>] = if outputs_closed { &[] } else { &self.writers };
            let (input, checkpoints) = (&mut self.input, &mut self.checkpoints);
            let sent = tokio::select! {
                biased;
                msg = mailbox.recv() => Err(Some(msg)),
                r = poll_fn(|cx| poll_all(writers, cx)) => Ok(r),
                r = poll_fn(|cx| match catch_unwind(AssertUnwindSafe(|| input.poll_priority(cx, checkpoints))) {
                    Ok(p) => p.map(Ok),
                    Err(payload) => Poll::Ready(Err(payload)),
                }) => match r {
                    Ok(()) => Err(None),
                    Err(payload) => return TaskOutcome::Failed(panic_cause(&self.name, payload.as_ref())),
                },
                _ = sleep_until_or_never(alignment_at) => Err(None),
            };
            let sent = match sent {
                Ok(sent) => sent,
                Err(None) => continue,
                Err(Some(msg)) => match self.on_message(msg) {
                    Some(outcome) => return outcome,
                    None => continue,
                },
            };
            if let Err(closed) = &sent {
                if let Some(cause) = closed.failure() {
                    // A network channel failed (its connection broke): not a cancellation.
                    return TaskOutcome::Failed(format!("task '{}' failed: {cause}", self.name));
                }
                if self.checkpoints.input_finished() || self.checkpoints.stopping() {
                    // Only barriers are left to send, and the receiver finished after
                    // the final checkpoint; this task's own notification follows.
                    outputs_closed = true;
                } else {
                    // A downstream task is gone: the job is being canceled or failed.
                    return TaskOutcome::Canceled;
                }
            }
            if finished {
                return TaskOutcome::Finished;
            }
            let timer_at = self.processing_time.next_deadline().map(|deadline| {
                let wait = deadline.saturating_sub(self.processing_time.now()).max(0) as u64;
                tokio::time::Instant::now() + Duration::from_millis(wait)
            });
            let input_done = self.checkpoints.input_finished();
            // No timer fires after the input ended, nor while a stop-with-savepoint is
            // in progress (its savepoint must hold everything the task emits).
            let timers_held = input_done || self.checkpoints.stopping();
            let (input, checkpoints) = (&mut self.input, &mut self.checkpoints);
            let message = tokio::select! {
                biased;
                msg = mailbox.recv() => Some(msg),
                r = poll_fn(|cx| match catch_unwind(AssertUnwindSafe(|| input.poll_process(cx, checkpoints))) {
                    Ok(p) => p.map(Ok),
                    Err(payload) => Poll::Ready(Err(payload)),
                }) => match r {
                    Ok(Ok(InputStatus::MoreAvailable)) => {
                        if flush_each {
                            self.writers.iter().for_each(|w| w.flush());
                        }
                        None
                    }
                    Ok(Ok(InputStatus::Finished)) => {
                        self.writers.iter().for_each(|w| w.flush());
                        finished = !self.checkpoints.waits_for_final_checkpoint();
                        None
                    }
                    Ok(Err(e)) => return TaskOutcome::Failed(format!("task '{}' failed: {e}", self.name)),
                    Err(payload) => return TaskOutcome::Failed(panic_cause(&self.name, payload.as_ref())),
                },
                _ = async { match next_flush { Some(at) if !input_done => tokio::time::sleep_until(at).await, _ => std::future::pending::<()>().await } } => None,
                _ = async { match timer_at { Some(at) if !timers_held => tokio::time::sleep_until(at).await, _ => std::future::pending::<()>().await } } => None,
                _ = sleep_until_or_never(alignment_at) => None,
            };
            if let Some(msg) = message
                && let Some(outcome) = self.on_message(msg)
            {
                return outcome;
            }
            // Processing-time timers that are due fire now, between elements.
            let now = self.processing_time.now();
            if !self.checkpoints.input_finished() && !self.checkpoints.stopping() && self.processing_time.take_due(now)
            {
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

async fn sleep_until_or_never(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
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
