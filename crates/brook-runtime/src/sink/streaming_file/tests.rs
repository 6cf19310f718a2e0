//! Part files through the two-phase-commit operator: names on disk at every step,
//! rolling, restore, idempotent commits.

use super::*;
use crate::checkpoint::{OperatorRestoreState, StateInitializationContext, StateSnapshotContext};
use crate::functions::RuntimeMode;
use crate::metrics::MetricRegistry;
use crate::output::{NoOutput, OneInputOperator};
use crate::sink::TwoPhaseCommitSinkOperator;
use brook_state::OperatorStateSnapshot;
use brook_types::{CheckpointId, JobId, StreamRecord};
use std::time::Duration;

type Op = TwoPhaseCommitSinkOperator<(String, i64), StreamingFileSink<(String, i64)>>;

fn runtime(subtask: usize, parallelism: usize, checkpointing: bool) -> RuntimeContext {
    RuntimeContext {
        job_id: JobId(0),
        task_name: "sink".into(),
        operator_name: "Sink: File".into(),
        subtask_index: subtask,
        parallelism,
        max_parallelism: 128,
        attempt_number: 0,
        runtime_mode: RuntimeMode::Streaming,
        metrics: MetricRegistry::default(),
        processing_time: ProcessingTimeService::new(),
        auto_watermark_interval: Duration::from_millis(200),
        checkpointing,
        state_backend: Default::default(),
    }
}

fn operator(dir: &Path, format: FileFormat, policy: RollingPolicy, subtask: usize, parallelism: usize) -> Op {
    let sink = StreamingFileSink::for_row_format(dir, format).with_rolling_policy(policy);
    TwoPhaseCommitSinkOperator::new(sink, &runtime(subtask, parallelism, true)).unwrap()
}

fn csv(dir: &Path) -> Op {
    operator(dir, FileFormat::Csv, RollingPolicy::default(), 0, 1)
}

fn write(op: &mut Op, records: &[(&str, i64)]) {
    op.process_batch(records.iter().map(|(w, n)| StreamRecord::new((w.to_string(), *n))).collect(), &mut NoOutput);
}

fn snapshot(op: &mut Op, checkpoint: u64) -> OperatorStateSnapshot {
    let mut ctx = StateSnapshotContext::new(CheckpointId(checkpoint), 0);
    op.snapshot_state(&mut ctx).unwrap();
    ctx.into_result().operator.unwrap()
}

fn restore(op: &mut Op, checkpoint: u64, state: OperatorStateSnapshot) {
    let ctx = StateInitializationContext::new(
        CheckpointId(checkpoint),
        OperatorRestoreState { operator: Some(state), ..OperatorRestoreState::default() },
    );
    op.initialize_state(&ctx).unwrap();
}

/// The directory's file names, sorted, with the uuid of hidden files replaced by `U`.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            match name.strip_prefix(".part-") {
                Some(rest) => format!(".part-U{}", &rest[32..]),
                None => name,
            }
        })
        .collect();
    names.sort();
    names
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn part_files_go_in_progress_then_pending_then_finished() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let mut op = csv(&dir);
    write(&mut op, &[("to", 1), ("be", 1)]);
    assert_eq!(listing(&dir), vec![".part-U-0-0.inprogress"]);
    snapshot(&mut op, 1);
    assert_eq!(listing(&dir), vec![".part-U-0-0.pending"]);
    write(&mut op, &[("to", 2)]);
    assert_eq!(listing(&dir), vec![".part-U-0-0.pending", ".part-U-0-1.inprogress"]);
    op.notify_checkpoint_complete(CheckpointId(1)).unwrap();
    assert_eq!(listing(&dir), vec![".part-U-0-1.inprogress", "part-0-0"]);
    assert_eq!(read(&dir, "part-0-0"), "to,1\nbe,1\n");
    op.finish(&mut NoOutput);
    assert_eq!(listing(&dir), vec![".part-U-0-1.pending", "part-0-0"]);
    snapshot(&mut op, 2);
    op.notify_checkpoint_complete(CheckpointId(2)).unwrap();
    assert_eq!(listing(&dir), vec!["part-0-0", "part-0-1"]);
    assert_eq!(read(&dir, "part-0-1"), "to,2\n");
}

#[test]
fn text_format_writes_records_as_they_print() {
    let tmp = tempfile::tempdir().unwrap();
    let mut op = operator(tmp.path(), FileFormat::Text, RollingPolicy::default(), 2, 4);
    write(&mut op, &[("to", 1)]);
    snapshot(&mut op, 1);
    op.notify_checkpoint_complete(CheckpointId(1)).unwrap();
    assert_eq!(listing(tmp.path()), vec!["part-2-0"]);
    assert_eq!(read(tmp.path(), "part-2-0"), "(to,1)\n");
}

#[test]
fn parts_roll_on_size_and_a_checkpoint_commits_every_part_rolled_before_its_barrier() {
    let tmp = tempfile::tempdir().unwrap();
    let mut op = operator(tmp.path(), FileFormat::Csv, RollingPolicy::default().with_max_part_size(10), 0, 1);
    // 6 bytes a line: a part rolls after its second line.
    write(&mut op, &[("aaaa", 1), ("bbbb", 2), ("cccc", 3), ("dddd", 4), ("eeee", 5)]);
    assert_eq!(listing(tmp.path()), vec![".part-U-0-0.pending", ".part-U-0-1.pending", ".part-U-0-2.inprogress"]);
    snapshot(&mut op, 1);
    op.notify_checkpoint_complete(CheckpointId(1)).unwrap();
    assert_eq!(listing(tmp.path()), vec!["part-0-0", "part-0-1", "part-0-2"]);
    assert_eq!(read(tmp.path(), "part-0-0"), "aaaa,1\nbbbb,2\n");
    assert_eq!(read(tmp.path(), "part-0-1"), "cccc,3\ndddd,4\n");
    assert_eq!(read(tmp.path(), "part-0-2"), "eeee,5\n");
}

#[test]
fn parts_roll_on_time() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = RollingPolicy::default().with_rollover_interval(Duration::ZERO);
    let mut op = operator(tmp.path(), FileFormat::Csv, policy, 0, 1);
    write(&mut op, &[("a", 1)]);
    assert_eq!(listing(tmp.path()), vec![".part-U-0-0.inprogress"]);
    op.on_processing_time(i64::MAX, &mut NoOutput);
    assert_eq!(listing(tmp.path()), vec![".part-U-0-0.pending"]);
    // An expired part also rolls before the next batch is written.
    write(&mut op, &[("b", 2)]);
    write(&mut op, &[("c", 3)]);
    assert_eq!(listing(tmp.path()), vec![".part-U-0-0.pending", ".part-U-0-1.pending", ".part-U-0-2.inprogress"]);
}

#[test]
fn a_restore_finishes_pending_parts_and_deletes_what_no_checkpoint_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut op = csv(dir);
    write(&mut op, &[("a", 1)]);
    let state = snapshot(&mut op, 1);
    write(&mut op, &[("b", 1)]);
    snapshot(&mut op, 2);
    write(&mut op, &[("c", 1)]);
    // The process dies: nothing is cleaned up, checkpoints 1 and 2 never notified.
    std::mem::forget(op);
    assert_eq!(listing(dir), vec![".part-U-0-0.pending", ".part-U-0-1.pending", ".part-U-0-2.inprogress"]);
    std::fs::write(dir.join("_SUCCESS"), "").unwrap();

    let mut op = csv(dir);
    restore(&mut op, 1, state);
    assert_eq!(listing(dir), vec![".part-U-0-1.pending", ".part-U-0-2.inprogress", "_SUCCESS", "part-0-0"]);
    write(&mut op, &[("b", 1)]);
    assert_eq!(listing(dir), vec![".part-U-0-1.inprogress", "_SUCCESS", "part-0-0"], "numbering continues");
    op.finish(&mut NoOutput);
    snapshot(&mut op, 3);
    op.notify_checkpoint_complete(CheckpointId(3)).unwrap();
    assert_eq!(listing(dir), vec!["_SUCCESS", "part-0-0", "part-0-1"]);
    assert_eq!((read(dir, "part-0-0"), read(dir, "part-0-1")), ("a,1\n".into(), "b,1\n".into()));
}

#[test]
fn committing_a_restored_checkpoint_again_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut op = csv(dir);
    write(&mut op, &[("a", 1), ("b", 2)]);
    let state = snapshot(&mut op, 1);
    op.notify_checkpoint_complete(CheckpointId(1)).unwrap();
    op.notify_checkpoint_complete(CheckpointId(1)).unwrap();
    drop(op);
    assert_eq!(listing(dir), vec!["part-0-0"]);
    for _ in 0..2 {
        let mut op = csv(dir);
        restore(&mut op, 1, state.clone());
        drop(op);
        assert_eq!(listing(dir), vec!["part-0-0"]);
        assert_eq!(read(dir, "part-0-0"), "a,1\nb,2\n");
    }
}

#[test]
fn a_failing_task_deletes_its_in_progress_part() {
    let tmp = tempfile::tempdir().unwrap();
    let mut op = csv(tmp.path());
    write(&mut op, &[("a", 1)]);
    snapshot(&mut op, 1);
    write(&mut op, &[("b", 1)]);
    drop(op);
    assert_eq!(listing(tmp.path()), vec![".part-U-0-0.pending"], "pending parts wait for a restore");
}

#[test]
fn a_restore_at_a_lower_parallelism_commits_and_cleans_up_for_the_old_subtasks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut states = Vec::new();
    for subtask in 0..3 {
        let mut op = operator(dir, FileFormat::Csv, RollingPolicy::default(), subtask, 3);
        write(&mut op, &[("w", subtask as i64)]);
        states.push(snapshot(&mut op, 1));
        write(&mut op, &[("late", subtask as i64)]);
        std::mem::forget(op);
    }
    let restored = brook_state::redistribute_operator_state(&states, 2).unwrap();
    for (subtask, state) in restored.into_iter().enumerate() {
        let mut op = operator(dir, FileFormat::Csv, RollingPolicy::default(), subtask, 2);
        restore(&mut op, 1, state);
        op.finish(&mut NoOutput);
    }
    assert_eq!(listing(dir), vec!["part-0-0", "part-1-0", "part-2-0"]);
    assert_eq!(read(dir, "part-2-0"), "w,2\n");
}

#[test]
fn without_checkpointing_everything_is_committed_at_end_of_input() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = StreamingFileSink::for_row_format(tmp.path(), FileFormat::Csv)
        .with_rolling_policy(RollingPolicy::default().with_max_part_size(10));
    let mut op: Op = TwoPhaseCommitSinkOperator::new(sink, &runtime(0, 1, false)).unwrap();
    write(&mut op, &[("aaaa", 1), ("bbbb", 2), ("cccc", 3)]);
    op.finish(&mut NoOutput);
    assert_eq!(listing(tmp.path()), vec!["part-0-0", "part-0-1"]);
    assert_eq!(read(tmp.path(), "part-0-1"), "cccc,3\n");
}
