//! Two-phase-commit sinks: exactly-once output (Flink's `TwoPhaseCommitSinkFunction`).
//!
//! A [`TwoPhaseCommitSink`] writes into *transactions* of an external system (or
//! something that behaves like one: part files that become visible by a rename). The
//! [`TwoPhaseCommitSinkOperator`] drives it through the checkpoint cycle:
//!
//! ```text
//!  begin ──write…──▶ barrier n: pre_commit ──▶ pending[n] ── notify_checkpoint_complete(m ≥ n) ──▶ commit
//!    ▲                         │                    │
//!    └──── begin (next) ◀──────┘                    └── restore from a checkpoint ≥ n ──▶ recover_and_commit
//!  open transaction at restore (begun after the restored barrier) ───────────────────▶ recover_and_abort
//! ```
//!
//! Invariants the operator keeps:
//!
//! - A transaction is committed only after a checkpoint that contains it as
//!   pre-committed completed, so its records are never replayed after a restore.
//! - Operator state (a union list, see below) holds every pre-committed transaction
//!   not known to be committed, with the checkpoint whose barrier pre-committed it,
//!   plus the open transaction. A restore commits the former (`recover_and_commit`:
//!   their commit may have happened already, so committing must be idempotent) and
//!   aborts the latter.
//! - Notifications may be lost or arrive for a later checkpoint only:
//!   `notify_checkpoint_complete(n)` commits everything pre-committed at barriers
//!   `≤ n`, in checkpoint order.
//! - End of input pre-commits the open transaction. With checkpointing, the final
//!   checkpoint's barrier files it under that checkpoint and its notification commits
//!   it; without checkpointing (BATCH jobs, no `execution.checkpointing.interval`)
//!   `finish` commits it at once, so bounded jobs still produce their output.
//!
//! The state is union list state so that a restore at another parallelism works:
//! every new subtask sees every old subtask's transactions and handles those of old
//! subtask `s` where `s % parallelism == index` (the same rule a sink uses to clean
//! up what no checkpoint knows, in [`TwoPhaseCommitSink::finish_recovery`]).

#[cfg(test)]
mod tests;

use crate::checkpoint::{SnapshotError, StateInitializationContext, StateSnapshotContext};
use crate::functions::RuntimeContext;
use crate::output::{OneInputOperator, Output, fail_operator};
use brook_state::{ListStateDescriptor, OperatorStateBackend};
use brook_types::{Batch, CheckpointId, Data, Result, Timestamp, Watermark};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::marker::PhantomData;

/// The transactional part of an exactly-once sink. One instance per subtask; the
/// operator calls it from the task's mailbox thread only.
///
/// `commit`, `recover_and_commit` and `recover_and_abort` must be idempotent: a
/// restore repeats them for transactions whose outcome the checkpoint does not know.
pub trait TwoPhaseCommitSink<T>: Send {
    /// What identifies a transaction and everything needed to commit or abort it
    /// after a restore (kept in operator state while pending).
    type Transaction: Data + std::fmt::Debug;

    /// Called once per subtask, before anything else (also before a restore).
    fn open(&mut self, _ctx: &RuntimeContext) -> Result<()> {
        Ok(())
    }

    /// Called once before the first transaction begins, after the transactions of
    /// the restored checkpoint (if any) were committed or aborted: remove what
    /// transactions no checkpoint knows left behind (begun or pre-committed after the
    /// restored checkpoint, or by an earlier run). With `parallelism` p, subtask `i`
    /// is responsible for what old subtasks `s` with `s % p == i` left.
    fn finish_recovery(&mut self) -> Result<()> {
        Ok(())
    }

    fn begin_transaction(&mut self) -> Result<Self::Transaction>;

    /// Writes records into the open transaction.
    fn write(&mut self, transaction: &mut Self::Transaction, batch: Batch<T>) -> Result<()>;

    /// The task's clock reached a deadline the sink registered with the
    /// [`ProcessingTimeService`](crate::processing_time::ProcessingTimeService)
    /// (rolling part files on time).
    fn on_processing_time(&mut self, _transaction: &mut Self::Transaction, _now: Timestamp) -> Result<()> {
        Ok(())
    }

    /// Makes the transaction durable and ready to commit; no record is written into
    /// it afterwards. Called at the barrier and at end of input.
    fn pre_commit(&mut self, transaction: &mut Self::Transaction) -> Result<()>;

    /// Makes a pre-committed transaction visible. Idempotent.
    fn commit(&mut self, transaction: Self::Transaction) -> Result<()>;

    /// Throws a transaction away (pre-committed or not).
    fn abort(&mut self, transaction: Self::Transaction) -> Result<()>;

    /// Commits a pre-committed transaction of the restored checkpoint, which may
    /// have been committed before the failure already.
    fn recover_and_commit(&mut self, transaction: Self::Transaction) -> Result<()> {
        self.commit(transaction)
    }

    /// Aborts the transaction that was open when the restored checkpoint was taken.
    fn recover_and_abort(&mut self, transaction: Self::Transaction) -> Result<()> {
        self.abort(transaction)
    }
}

/// One transaction in operator state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "Txn: serde::de::DeserializeOwned"))]
struct TransactionRecord<Txn> {
    /// The subtask that wrote it.
    subtask: u32,
    /// The checkpoint whose barrier pre-committed it; `None`: open at the barrier.
    pre_committed_at: Option<u64>,
    transaction: Txn,
}

/// The name of the operator state that holds the transactions.
const STATE_NAME: &str = "two-phase-commit-transactions";

/// Runs a [`TwoPhaseCommitSink`] as the last operator of a chain.
pub struct TwoPhaseCommitSinkOperator<T, S: TwoPhaseCommitSink<T>> {
    sink: S,
    subtask: usize,
    parallelism: usize,
    checkpointing: bool,
    state: OperatorStateBackend,
    /// `finish_recovery` ran.
    recovered: bool,
    /// The transaction records are written into (begun when first needed).
    open: Option<S::Transaction>,
    /// Pre-committed at end of input, waiting for the final checkpoint's barrier.
    pre_committed: Vec<S::Transaction>,
    /// Pre-committed at the barrier of a checkpoint, waiting for it to complete.
    pending: BTreeMap<CheckpointId, Vec<S::Transaction>>,
    finished: bool,
    _type: PhantomData<fn(T)>,
}

impl<T, S: TwoPhaseCommitSink<T>> TwoPhaseCommitSinkOperator<T, S> {
    /// Opens `sink` for the subtask `ctx` describes.
    pub fn new(mut sink: S, ctx: &RuntimeContext) -> Result<Self> {
        sink.open(ctx)?;
        Ok(Self {
            sink,
            subtask: ctx.subtask_index,
            parallelism: ctx.parallelism.max(1),
            checkpointing: ctx.checkpointing,
            state: OperatorStateBackend::new(&ctx.operator_name),
            recovered: false,
            open: None,
            pre_committed: Vec::new(),
            pending: BTreeMap::new(),
            finished: false,
            _type: PhantomData,
        })
    }

    /// The sink (tests look at it).
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// Pre-committed transactions waiting for their checkpoint, by checkpoint.
    pub fn pending_checkpoints(&self) -> Vec<CheckpointId> {
        self.pending.keys().copied().collect()
    }

    fn descriptor() -> ListStateDescriptor<TransactionRecord<S::Transaction>> {
        ListStateDescriptor::new(STATE_NAME)
    }

    /// Runs `finish_recovery` once, after a restore's commits and aborts.
    fn ensure_recovered(&mut self) -> Result<()> {
        if !self.recovered {
            self.recovered = true;
            self.sink.finish_recovery()?;
        }
        Ok(())
    }

    /// Opens a transaction if none is open.
    fn open_transaction(&mut self) -> Result<&mut S::Transaction> {
        self.ensure_recovered()?;
        if self.open.is_none() {
            self.open = Some(self.sink.begin_transaction()?);
        }
        Ok(self.open.as_mut().expect("opened above"))
    }

    fn write(&mut self, batch: Batch<T>) -> Result<()> {
        self.open_transaction()?;
        let transaction = self.open.as_mut().expect("opened above");
        self.sink.write(transaction, batch)
    }

    /// Barrier `checkpoint`: pre-commit the open transaction, open the next, and
    /// return every transaction the checkpoint must hold.
    fn pre_commit_at(&mut self, checkpoint: CheckpointId) -> Result<Vec<TransactionRecord<S::Transaction>>> {
        self.ensure_recovered()?;
        if !self.finished {
            self.open_transaction()?;
        }
        let mut transactions = std::mem::take(&mut self.pre_committed);
        if let Some(mut transaction) = self.open.take() {
            self.sink.pre_commit(&mut transaction)?;
            transactions.push(transaction);
        }
        if !transactions.is_empty() {
            self.pending.entry(checkpoint).or_default().extend(transactions);
        }
        if !self.finished {
            self.open = Some(self.sink.begin_transaction()?);
        }
        let subtask = self.subtask as u32;
        let mut records: Vec<_> = self
            .pending
            .iter()
            .flat_map(|(id, transactions)| {
                transactions.iter().map(move |t| TransactionRecord {
                    subtask,
                    pre_committed_at: Some(id.0),
                    transaction: t.clone(),
                })
            })
            .collect();
        records.extend(self.open.iter().map(|t| TransactionRecord {
            subtask,
            pre_committed_at: None,
            transaction: t.clone(),
        }));
        Ok(records)
    }

    fn end_of_input(&mut self) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        self.ensure_recovered()?;
        let Some(mut transaction) = self.open.take() else { return Ok(()) };
        self.sink.pre_commit(&mut transaction)?;
        if self.checkpointing {
            self.pre_committed.push(transaction);
            Ok(())
        } else {
            self.sink.commit(transaction)
        }
    }

    fn commit_up_to(&mut self, checkpoint: CheckpointId) -> Result<()> {
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() > checkpoint {
                break;
            }
            for transaction in entry.remove() {
                self.sink.commit(transaction)?;
            }
        }
        Ok(())
    }

    fn restore(&mut self, ctx: &StateInitializationContext) -> std::result::Result<(), SnapshotError> {
        if let Some(snapshot) = ctx.operator_state() {
            self.state.restore(&snapshot.bytes)?;
        }
        let mut state = self.state.get_union_list_state(&Self::descriptor())?;
        let mut mine: Vec<TransactionRecord<S::Transaction>> =
            state.get().iter().filter(|r| r.subtask as usize % self.parallelism == self.subtask).cloned().collect();
        // The next snapshot writes this subtask's own transactions only.
        state.clear();
        // Commit in checkpoint order (then by old subtask), abort the open ones after.
        mine.sort_by_key(|r| (r.pre_committed_at.is_none(), r.pre_committed_at, r.subtask));
        let failed = |e: brook_types::BrookError| SnapshotError::Failed(e.to_string());
        for record in mine {
            tracing::debug!(
                subtask = self.subtask,
                old_subtask = record.subtask,
                checkpoint = ?record.pre_committed_at,
                transaction = ?record.transaction,
                "recovering a transaction"
            );
            match record.pre_committed_at {
                Some(_) => self.sink.recover_and_commit(record.transaction).map_err(failed)?,
                None => self.sink.recover_and_abort(record.transaction).map_err(failed)?,
            }
        }
        Ok(())
    }
}

impl<T: Send, S: TwoPhaseCommitSink<T>> OneInputOperator<T, ()> for TwoPhaseCommitSinkOperator<T, S> {
    fn process_batch(&mut self, batch: Batch<T>, _out: &mut dyn Output<()>) {
        if let Err(e) = self.write(batch) {
            fail_operator(e);
        }
    }

    fn process_watermark(&mut self, _watermark: Watermark, _out: &mut dyn Output<()>) {}

    fn finish(&mut self, _out: &mut dyn Output<()>) {
        if let Err(e) = self.end_of_input() {
            fail_operator(e);
        }
    }

    fn on_processing_time(&mut self, now: Timestamp, _out: &mut dyn Output<()>) {
        if let Some(transaction) = self.open.as_mut()
            && let Err(e) = self.sink.on_processing_time(transaction, now)
        {
            fail_operator(e);
        }
    }

    fn snapshot_state(&mut self, ctx: &mut StateSnapshotContext) -> std::result::Result<(), SnapshotError> {
        // A transaction that fails to pre-commit is neither open nor pending any more:
        // declining would lose its records once a later checkpoint completes, so the
        // task fails instead and restarts from the last checkpoint.
        let records = match self.pre_commit_at(ctx.checkpoint_id()) {
            Ok(records) => records,
            Err(e) => fail_operator(format!("cannot pre-commit for checkpoint {}: {e}", ctx.checkpoint_id())),
        };
        self.state.get_union_list_state(&Self::descriptor())?.update(records);
        ctx.set_operator_state(self.state.snapshot()?);
        Ok(())
    }

    fn initialize_state(&mut self, ctx: &StateInitializationContext) -> std::result::Result<(), SnapshotError> {
        self.restore(ctx)
    }

    fn notify_checkpoint_complete(&mut self, checkpoint: CheckpointId) -> std::result::Result<(), SnapshotError> {
        self.commit_up_to(checkpoint).map_err(|e| SnapshotError::Failed(e.to_string()))
    }
}

impl<T, S: TwoPhaseCommitSink<T>> Drop for TwoPhaseCommitSinkOperator<T, S> {
    /// A task that ends without finishing (failed, canceled) aborts its open
    /// transaction, as Flink's `close` does. Pre-committed transactions stay: a
    /// restore may still commit them.
    fn drop(&mut self) {
        let Some(transaction) = self.open.take() else { return };
        let sink = &mut self.sink;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink.abort(transaction))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(subtask = self.subtask, error = %e, "cannot abort the open transaction"),
            Err(_) => tracing::warn!(subtask = self.subtask, "aborting the open transaction panicked"),
        }
    }
}
