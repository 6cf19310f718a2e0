//! The operator's state machine against a sink that logs every call and commits
//! into a map (an external system whose commits are idempotent).

use super::*;
use crate::checkpoint::OperatorRestoreState;
use crate::functions::RuntimeMode;
use crate::metrics::MetricRegistry;
use crate::output::NoOutput;
use crate::processing_time::ProcessingTimeService;
use brook_state::OperatorStateSnapshot;
use brook_types::{JobId, StreamRecord};
use parking_lot::Mutex;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Txn {
    id: u32,
    records: Vec<i64>,
}

/// The external system: what the log says happened, and the committed transactions.
#[derive(Clone, Default)]
struct External {
    log: Arc<Mutex<Vec<String>>>,
    committed: Arc<Mutex<BTreeMap<u32, Vec<i64>>>>,
    /// Transaction ids, unique across subtasks and attempts.
    ids: Arc<std::sync::atomic::AtomicU32>,
}

impl External {
    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock())
    }

    /// Every committed record, in transaction order.
    fn output(&self) -> Vec<i64> {
        self.committed.lock().values().flatten().copied().collect()
    }
}

struct LoggingSink {
    external: External,
}

impl LoggingSink {
    fn log(&self, event: String) {
        self.external.log.lock().push(event);
    }
}

impl TwoPhaseCommitSink<i64> for LoggingSink {
    type Transaction = Txn;

    fn finish_recovery(&mut self) -> Result<()> {
        self.log("finish_recovery".into());
        Ok(())
    }

    fn begin_transaction(&mut self) -> Result<Txn> {
        let id = self.external.ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        self.log(format!("begin {id}"));
        Ok(Txn { id, records: Vec::new() })
    }

    fn write(&mut self, transaction: &mut Txn, batch: Batch<i64>) -> Result<()> {
        transaction.records.extend(batch.into_iter().map(|r| r.value));
        Ok(())
    }

    fn pre_commit(&mut self, transaction: &mut Txn) -> Result<()> {
        self.log(format!("pre_commit {} {:?}", transaction.id, transaction.records));
        Ok(())
    }

    fn commit(&mut self, transaction: Txn) -> Result<()> {
        self.log(format!("commit {}", transaction.id));
        self.external.committed.lock().insert(transaction.id, transaction.records);
        Ok(())
    }

    fn abort(&mut self, transaction: Txn) -> Result<()> {
        self.log(format!("abort {}", transaction.id));
        Ok(())
    }

    fn recover_and_commit(&mut self, transaction: Txn) -> Result<()> {
        self.log(format!("recover_and_commit {}", transaction.id));
        self.external.committed.lock().insert(transaction.id, transaction.records);
        Ok(())
    }

    fn recover_and_abort(&mut self, transaction: Txn) -> Result<()> {
        self.log(format!("recover_and_abort {}", transaction.id));
        Ok(())
    }
}

fn runtime(subtask: usize, parallelism: usize, checkpointing: bool) -> RuntimeContext {
    RuntimeContext {
        job_id: JobId(0),
        task_name: "sink".into(),
        operator_name: "Sink: Logging".into(),
        subtask_index: subtask,
        parallelism,
        max_parallelism: 128,
        attempt_number: 0,
        runtime_mode: RuntimeMode::Streaming,
        metrics: MetricRegistry::default(),
        processing_time: ProcessingTimeService::new(),
        auto_watermark_interval: std::time::Duration::from_millis(200),
        checkpointing,
        state_backend: Default::default(),
    }
}

type Op = TwoPhaseCommitSinkOperator<i64, LoggingSink>;

fn operator(external: &External, subtask: usize, parallelism: usize, checkpointing: bool) -> Op {
    let sink = LoggingSink { external: external.clone() };
    TwoPhaseCommitSinkOperator::new(sink, &runtime(subtask, parallelism, checkpointing)).unwrap()
}

fn write(op: &mut Op, values: &[i64]) {
    op.process_batch(values.iter().map(|&v| StreamRecord::new(v)).collect(), &mut NoOutput);
}

fn snapshot(op: &mut Op, checkpoint: u64) -> OperatorStateSnapshot {
    let mut ctx = StateSnapshotContext::new(CheckpointId(checkpoint), 0);
    op.snapshot_state(&mut ctx).unwrap();
    ctx.into_result().operator.expect("the sink keeps operator state")
}

fn restore(op: &mut Op, checkpoint: u64, state: OperatorStateSnapshot) {
    let ctx = StateInitializationContext::new(
        CheckpointId(checkpoint),
        OperatorRestoreState { operator: Some(state), ..OperatorRestoreState::default() },
    );
    op.initialize_state(&ctx).unwrap();
}

fn notify(op: &mut Op, checkpoint: u64) {
    op.notify_checkpoint_complete(CheckpointId(checkpoint)).unwrap();
}

fn strings(events: &[&str]) -> Vec<String> {
    events.iter().map(|e| e.to_string()).collect()
}

#[test]
fn a_transaction_commits_only_when_its_checkpoint_completes() {
    let ext = External::default();
    let mut op = operator(&ext, 0, 1, true);
    write(&mut op, &[1, 2]);
    snapshot(&mut op, 1);
    write(&mut op, &[3]);
    assert_eq!(ext.output(), Vec::<i64>::new());
    notify(&mut op, 1);
    assert_eq!(ext.output(), vec![1, 2]);
    snapshot(&mut op, 2);
    write(&mut op, &[4]);
    snapshot(&mut op, 3);
    assert_eq!(op.pending_checkpoints(), vec![CheckpointId(2), CheckpointId(3)]);
    // The notification of 2 was lost: 3 commits both, in checkpoint order.
    notify(&mut op, 3);
    assert_eq!(ext.output(), vec![1, 2, 3, 4]);
    assert!(op.pending_checkpoints().is_empty());
    assert_eq!(
        ext.take_log(),
        strings(&[
            "finish_recovery",
            "begin 1",
            "pre_commit 1 [1, 2]",
            "begin 2",
            "commit 1",
            "pre_commit 2 [3]",
            "begin 3",
            "pre_commit 3 [4]",
            "begin 4",
            "commit 2",
            "commit 3",
        ])
    );
    // Notifications of completed or unknown checkpoints change nothing.
    notify(&mut op, 1);
    notify(&mut op, 3);
    assert_eq!(ext.take_log(), Vec::<String>::new());
    // A failing task aborts its open transaction.
    drop(op);
    assert_eq!(ext.take_log(), strings(&["abort 4"]));
}

#[test]
fn a_restore_commits_the_checkpoints_pre_committed_transactions_and_aborts_the_open_one() {
    let ext = External::default();
    let mut op = operator(&ext, 0, 1, true);
    write(&mut op, &[1]);
    snapshot(&mut op, 1);
    write(&mut op, &[2]);
    let state = snapshot(&mut op, 2);
    // Neither notification arrives; records after the barrier go into transaction 3.
    write(&mut op, &[3]);
    drop(op);
    assert_eq!(ext.output(), Vec::<i64>::new());
    ext.take_log();

    let mut op = operator(&ext, 0, 1, true);
    restore(&mut op, 2, state);
    assert_eq!(ext.output(), vec![1, 2]);
    write(&mut op, &[3]);
    let state = snapshot(&mut op, 3);
    assert_eq!(
        ext.take_log(),
        strings(&[
            "recover_and_commit 1",
            "recover_and_commit 2",
            "recover_and_abort 3",
            "finish_recovery",
            "begin 4",
            "pre_commit 4 [3]",
            "begin 5",
        ])
    );
    // The restored transactions are committed: the next snapshot holds only its own.
    drop(op);
    let mut op = operator(&ext, 0, 1, true);
    restore(&mut op, 3, state);
    assert_eq!(ext.take_log()[..3], strings(&["abort 5", "recover_and_commit 4", "recover_and_abort 5"]));
    drop(op);
}

#[test]
fn committing_again_after_a_restore_is_idempotent() {
    let ext = External::default();
    let mut op = operator(&ext, 0, 1, true);
    write(&mut op, &[1, 2]);
    let state = snapshot(&mut op, 1);
    notify(&mut op, 1);
    write(&mut op, &[3]);
    drop(op);
    assert_eq!(ext.output(), vec![1, 2]);

    // The failure came after the commit; the restored checkpoint still lists it.
    let mut op = operator(&ext, 0, 1, true);
    restore(&mut op, 1, state);
    write(&mut op, &[3]);
    snapshot(&mut op, 2);
    notify(&mut op, 2);
    assert_eq!(ext.output(), vec![1, 2, 3], "no record twice, none lost");
}

#[test]
fn end_of_input_pre_commits_and_the_final_checkpoint_commits() {
    let ext = External::default();
    let mut op = operator(&ext, 0, 1, true);
    write(&mut op, &[1, 2]);
    op.finish(&mut NoOutput);
    assert_eq!(ext.output(), Vec::<i64>::new());
    snapshot(&mut op, 7);
    assert_eq!(op.pending_checkpoints(), vec![CheckpointId(7)]);
    notify(&mut op, 7);
    assert_eq!(ext.output(), vec![1, 2]);
    drop(op);
    assert_eq!(
        ext.take_log(),
        strings(&["finish_recovery", "begin 1", "pre_commit 1 [1, 2]", "commit 1"]),
        "no transaction is begun after the end of input, none aborted"
    );
}

#[test]
fn a_failure_between_end_of_input_and_the_final_checkpoint_loses_nothing() {
    let ext = External::default();
    let mut op = operator(&ext, 0, 1, true);
    write(&mut op, &[1]);
    let state = snapshot(&mut op, 1);
    write(&mut op, &[2]);
    op.finish(&mut NoOutput);
    drop(op);
    // Restored from checkpoint 1: record 2 is replayed, its old transaction never commits.
    let mut op = operator(&ext, 0, 1, true);
    restore(&mut op, 1, state);
    write(&mut op, &[2]);
    op.finish(&mut NoOutput);
    snapshot(&mut op, 2);
    notify(&mut op, 2);
    assert_eq!(ext.output(), vec![1, 2]);
}

#[test]
fn without_checkpointing_end_of_input_commits_at_once() {
    let ext = External::default();
    let mut op = operator(&ext, 0, 1, false);
    write(&mut op, &[1]);
    write(&mut op, &[2, 3]);
    assert_eq!(ext.output(), Vec::<i64>::new());
    op.finish(&mut NoOutput);
    assert_eq!(ext.output(), vec![1, 2, 3]);
    drop(op);
    assert_eq!(ext.take_log(), strings(&["finish_recovery", "begin 1", "pre_commit 1 [1, 2, 3]", "commit 1"]));
}

#[test]
fn an_empty_input_still_runs_recovery() {
    let ext = External::default();
    let mut op = operator(&ext, 0, 1, false);
    op.finish(&mut NoOutput);
    drop(op);
    assert_eq!(ext.take_log(), strings(&["finish_recovery"]));
    assert_eq!(ext.output(), Vec::<i64>::new());
}

#[test]
fn a_restore_at_a_lower_parallelism_recovers_every_old_subtasks_transactions() {
    let ext = External::default();
    let mut states = Vec::new();
    for subtask in 0..3 {
        let mut op = operator(&ext, subtask, 3, true);
        write(&mut op, &[subtask as i64 * 10]);
        states.push(snapshot(&mut op, 4));
        write(&mut op, &[99]);
    }
    ext.take_log();
    let mut restored = brook_state::redistribute_operator_state(&states, 2).unwrap().into_iter();
    let (mut op0, mut op1) = (operator(&ext, 0, 2, true), operator(&ext, 1, 2, true));
    restore(&mut op0, 4, restored.next().unwrap());
    // New subtask 0 owns old subtasks 0 and 2, new subtask 1 old subtask 1.
    assert_eq!(
        ext.take_log(),
        strings(&["recover_and_commit 1", "recover_and_commit 5", "recover_and_abort 2", "recover_and_abort 6"])
    );
    restore(&mut op1, 4, restored.next().unwrap());
    assert_eq!(ext.take_log(), strings(&["recover_and_commit 3", "recover_and_abort 4"]));
    assert_eq!(ext.output(), vec![0, 10, 20]);
}
