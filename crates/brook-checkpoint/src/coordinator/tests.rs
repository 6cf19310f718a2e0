use super::*;
use crate::config::CheckpointingMode;
use crate::retention::ExternalizedCheckpointRetention;
use crate::storage::CheckpointStorage;
use brook_types::config::Configuration;
use std::time::Duration;

const INTERVAL: Duration = Duration::from_millis(100);

fn config(tolerable: usize) -> CheckpointingConfig {
    CheckpointingConfig {
        interval: Some(INTERVAL),
        mode: CheckpointingMode::ExactlyOnce,
        timeout: Duration::from_secs(1),
        min_pause: Duration::ZERO,
        max_concurrent: 1,
        tolerable_failures: tolerable,
        unaligned: false,
        aligned_checkpoint_timeout: Duration::ZERO,
        num_retained: 1,
        retention: ExternalizedCheckpointRetention::NoExternalizedCheckpoints,
        incremental: false,
    }
}

/// A source vertex (parallelism 2) feeding a sink vertex (parallelism 1).
fn topology() -> JobTopology {
    let (src, sink) = (VertexId(1), VertexId(2));
    JobTopology {
        tasks: vec![
            TaskRef { vertex: src, subtask: 0 },
            TaskRef { vertex: src, subtask: 1 },
            TaskRef { vertex: sink, subtask: 0 },
        ],
        sources: vec![TaskRef { vertex: src, subtask: 0 }, TaskRef { vertex: src, subtask: 1 }],
        operators: vec![
            OperatorInfo {
                operator_id: OperatorId(10),
                uid: None,
                name: "Source".into(),
                vertex: src,
                parallelism: 2,
                max_parallelism: 128,
            },
            OperatorInfo {
                operator_id: OperatorId(20),
                uid: Some("sink".into()),
                name: "Sink".into(),
                vertex: sink,
                parallelism: 1,
                max_parallelism: 128,
            },
        ],
    }
}

fn ack(id: u64, task: TaskRef, finished: bool) -> AcknowledgeCheckpoint {
    let operator_id = if task.vertex == VertexId(1) { OperatorId(10) } else { OperatorId(20) };
    AcknowledgeCheckpoint {
        checkpoint_id: CheckpointId(id),
        task,
        attempt: 0,
        operators: vec![AcknowledgedOperator {
            operator_id,
            subtask: SubtaskSnapshot::empty(task.subtask),
            coordinator_state: None,
        }],
        finished,
    }
}

struct Fixture {
    coordinator: CheckpointCoordinator,
    storage: CheckpointStorage,
    start: Instant,
    _dir: tempfile::TempDir,
}

fn fixture(tolerable: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Configuration::new();
    c.set_dynamic(&format!("execution.checkpointing.dir=file://{}", dir.path().display())).unwrap();
    let storage = CheckpointStorage::from_config(&c).unwrap();
    let start = Instant::now();
    let mut coordinator = CheckpointCoordinator::new(JobId(7), config(tolerable), topology(), start);
    coordinator.on_running(0, start);
    Fixture { coordinator, storage, start, _dir: dir }
}

impl Fixture {
    /// Ticks at `at` and performs the location I/O; returns the trigger, if any.
    async fn tick(&mut self, at: Duration) -> Option<TriggerCheckpoint> {
        let actions = self.coordinator.on_tick(self.start + at, 1_000);
        let id = actions.iter().find_map(|a| match a {
            CoordinatorAction::InitLocation { checkpoint_id } => Some(*checkpoint_id),
            _ => None,
        })?;
        let location = self.storage.init_checkpoint(JobId(7), id).await.map_err(|e| e.to_string());
        match self.coordinator.on_location(id, location).as_slice() {
            [CoordinatorAction::TriggerSources { trigger, tasks }] => {
                assert_eq!(tasks.len(), 2, "triggered at both source subtasks");
                Some(trigger.clone())
            }
            other => panic!("expected a trigger, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_checkpoint_completes_when_every_task_acknowledged() {
    let mut f = fixture(0);
    assert_eq!(f.coordinator.next_deadline(), Some(f.start + INTERVAL));
    assert!(f.tick(Duration::from_millis(50)).await.is_none(), "not before the interval");
    let trigger = f.tick(INTERVAL).await.unwrap();
    assert_eq!(trigger.checkpoint_id, CheckpointId(1));
    assert_eq!(trigger.timestamp_ms, 1_000);
    assert!(f.tick(INTERVAL * 2).await.is_none(), "max-concurrent-checkpoints is 1");
    let tasks = topology().tasks;
    assert!(f.coordinator.on_acknowledge(ack(1, tasks[0], false)).is_empty());
    assert!(f.coordinator.on_acknowledge(ack(1, tasks[2], false)).is_empty());
    let actions = f.coordinator.on_acknowledge(ack(1, tasks[1], false));
    let [CoordinatorAction::Finalize { location, metadata }] = actions.as_slice() else { panic!("{actions:?}") };
    assert_eq!(metadata.operators.len(), 2);
    assert_eq!(metadata.operators[0].subtasks.len(), 2);
    assert_eq!(metadata.operators[1].uid.as_deref(), Some("sink"));
    let completed = location.finalize((**metadata).clone()).await.map_err(|e| e.to_string());
    let actions = f.coordinator.on_finalized(CheckpointId(1), completed, f.start + INTERVAL * 2);
    assert!(matches!(
        actions.last(),
        Some(CoordinatorAction::NotifyComplete {
            notification: NotifyCheckpointComplete { checkpoint_id: CheckpointId(1), final_checkpoint: false },
            ..
        })
    ));
    assert_eq!(f.coordinator.latest_completed().unwrap().checkpoint_id(), CheckpointId(1));
    assert_eq!(f.tick(INTERVAL * 2).await.unwrap().checkpoint_id, CheckpointId(2));
}

#[tokio::test]
async fn declines_abort_and_count_against_the_tolerable_failures() {
    let mut f = fixture(1);
    let tasks = topology().tasks;
    f.tick(INTERVAL).await.unwrap();
    let decline = |id: u64| DeclineCheckpoint {
        checkpoint_id: CheckpointId(id),
        task: tasks[2],
        attempt: 0,
        reason: "disk full".into(),
        permanent: false,
    };
    let actions = f.coordinator.on_decline(decline(1));
    assert!(matches!(actions.as_slice(), [CoordinatorAction::Discard(plan)] if plan.checkpoint_dirs.len() == 1));
    assert!(f.coordinator.on_acknowledge(ack(1, tasks[0], false)).is_empty(), "late acks are ignored");
    f.tick(INTERVAL * 2).await.unwrap();
    let actions = f.coordinator.on_decline(decline(2));
    let Some(CoordinatorAction::FailJob { cause, restartable: true }) = actions.last() else { panic!("{actions:?}") };
    assert!(cause.starts_with("2 consecutive checkpoint failures exceed"), "{cause}");
    assert!(cause.contains("checkpoint 2 was declined: disk full"), "{cause}");
    assert!(f.tick(INTERVAL * 3).await.is_none(), "nothing is triggered once the job fails");
}

#[tokio::test]
async fn a_permanent_decline_fails_the_job_at_once_and_timeouts_expire() {
    let mut f = fixture(5);
    let tasks = topology().tasks;
    f.tick(INTERVAL).await.unwrap();
    let trigger = f.tick(INTERVAL + Duration::from_secs(1)).await.unwrap();
    assert_eq!(f.coordinator.pending_ids(), vec![CheckpointId(2)], "checkpoint 1 expired, 2 took its place");
    let actions = f.coordinator.on_decline(DeclineCheckpoint {
        checkpoint_id: trigger.checkpoint_id,
        task: tasks[2],
        attempt: 0,
        reason: "operator 'Window' cannot snapshot".into(),
        permanent: true,
    });
    assert!(matches!(actions.last(), Some(CoordinatorAction::FailJob { restartable: false, .. })), "{actions:?}");
}

#[tokio::test]
async fn the_final_checkpoint_stops_triggering_and_restarts_abort_pending_ones() {
    let mut f = fixture(0);
    let tasks = topology().tasks;
    f.tick(INTERVAL).await.unwrap();
    // A restart aborts checkpoint 1 without counting it; stale acks are ignored.
    assert!(matches!(f.coordinator.on_restart().as_slice(), [CoordinatorAction::Discard(_)]));
    assert!(f.tick(INTERVAL * 5).await.is_none(), "not while restarting");
    f.coordinator.on_running(1, f.start + INTERVAL * 5);
    let trigger = f.tick(INTERVAL * 6).await.unwrap();
    assert_eq!(trigger.checkpoint_id, CheckpointId(2), "ids keep growing across restarts");
    let mut last = Vec::new();
    for task in &tasks {
        let mut a = ack(2, *task, true);
        a.attempt = 1;
        last = f.coordinator.on_acknowledge(a);
    }
    let [CoordinatorAction::Finalize { location, metadata }] = last.as_slice() else { panic!("{last:?}") };
    let completed = location.finalize((**metadata).clone()).await.map_err(|e| e.to_string());
    let actions = f.coordinator.on_finalized(CheckpointId(2), completed, f.start + INTERVAL * 7);
    assert!(matches!(
        actions.last(),
        Some(CoordinatorAction::NotifyComplete {
            notification: NotifyCheckpointComplete { final_checkpoint: true, .. },
            ..
        })
    ));
    assert!(f.tick(INTERVAL * 9).await.is_none(), "nothing after the final checkpoint");
    assert_eq!(f.coordinator.next_deadline(), None);
}

impl Fixture {
    /// Triggers a savepoint into `target` (a directory below the fixture's) and performs
    /// the location I/O; returns the trigger.
    async fn savepoint(&mut self, snapshot_type: SnapshotType, at: Duration) -> TriggerCheckpoint {
        let target = format!("file://{}/savepoints", self._dir.path().display());
        let (id, actions) =
            self.coordinator.trigger_savepoint(snapshot_type, Some(target), self.start + at, 2_000).unwrap();
        let [CoordinatorAction::InitSavepointLocation { checkpoint_id, target }] = actions.as_slice() else {
            panic!("{actions:?}")
        };
        assert_eq!(*checkpoint_id, id);
        let location = self.storage.init_savepoint(JobId(7), id, target.as_deref()).await.map_err(|e| e.to_string());
        match self.coordinator.on_location(id, location).as_slice() {
            [CoordinatorAction::TriggerSources { trigger, .. }] => trigger.clone(),
            other => panic!("expected a trigger, got {other:?}"),
        }
    }

    /// Every task acknowledges `id` (as `finished`), and its metadata is written.
    async fn complete(&mut self, id: CheckpointId, finished: bool, at: Duration) -> Vec<CoordinatorAction> {
        let mut last = Vec::new();
        for task in topology().tasks {
            last = self.coordinator.on_acknowledge(ack(id.0, task, finished));
        }
        let [CoordinatorAction::Finalize { location, metadata }] = last.as_slice() else { panic!("{last:?}") };
        let completed = location.finalize((**metadata).clone()).await.map_err(|e| e.to_string());
        self.coordinator.on_finalized(id, completed, self.start + at)
    }
}

#[tokio::test]
async fn a_savepoint_without_periodic_checkpointing_completes_outside_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Configuration::new();
    c.set_dynamic(&format!("execution.checkpointing.dir=file://{}", dir.path().display())).unwrap();
    let start = Instant::now();
    let config = CheckpointingConfig { interval: None, ..config(0) };
    let mut coordinator = CheckpointCoordinator::new(JobId(7), config, topology(), start);
    coordinator.on_running(0, start);
    let mut f = Fixture { coordinator, storage: CheckpointStorage::from_config(&c).unwrap(), start, _dir: dir };
    assert_eq!(f.coordinator.next_deadline(), None, "no periodic checkpoints");
    let trigger = f.savepoint(SnapshotType::Savepoint, Duration::ZERO).await;
    assert_eq!(trigger.checkpoint_id, CheckpointId(1));
    assert_eq!(trigger.snapshot_type, SnapshotType::Savepoint);
    assert_eq!(trigger.location.kind, SnapshotKind::Savepoint);
    assert_eq!(f.coordinator.next_deadline(), Some(start + Duration::from_secs(1)), "the savepoint's timeout");
    let mut last = Vec::new();
    for task in topology().tasks {
        last = f.coordinator.on_acknowledge(ack(1, task, false));
    }
    let [CoordinatorAction::Finalize { location, metadata }] = last.as_slice() else { panic!("{last:?}") };
    assert_eq!(metadata.kind, SnapshotKind::Savepoint);
    let completed = location.finalize((**metadata).clone()).await.map_err(|e| e.to_string());
    let dir = completed.as_ref().unwrap().pointer.dir.clone();
    let actions = f.coordinator.on_finalized(CheckpointId(1), completed, start);
    let [
        CoordinatorAction::NotifyComplete { notification, tasks },
        CoordinatorAction::SavepointCompleted { checkpoint_id: CheckpointId(1), dir: reported },
    ] = actions.as_slice()
    else {
        panic!("{actions:?}")
    };
    assert_eq!(*notification, NotifyCheckpointComplete { checkpoint_id: CheckpointId(1), final_checkpoint: false });
    assert_eq!(tasks.len(), 3, "two-phase-commit sinks commit the savepoint");
    assert_eq!(*reported, dir);
    assert!(dir.contains("/savepoints/savepoint-"), "{dir}");
    assert!(f.coordinator.latest_completed().is_none(), "a savepoint is never retained as a checkpoint");
    assert_eq!(f.coordinator.next_deadline(), None);
}

#[tokio::test]
async fn savepoints_are_forced_beside_a_pending_checkpoint_and_neither_subsume_nor_are_subsumed() {
    let mut f = fixture(0);
    let checkpoint = f.tick(INTERVAL).await.unwrap();
    assert_eq!(checkpoint.checkpoint_id, CheckpointId(1));
    // max-concurrent-checkpoints is 1, yet the savepoint goes ahead, with the next id.
    let savepoint = f.savepoint(SnapshotType::Savepoint, INTERVAL).await;
    assert_eq!(savepoint.checkpoint_id, CheckpointId(2));
    let actions = f.complete(CheckpointId(2), false, INTERVAL * 2).await;
    assert!(matches!(actions.last(), Some(CoordinatorAction::SavepointCompleted { .. })), "{actions:?}");
    assert_eq!(f.coordinator.pending_ids(), vec![CheckpointId(1)], "the older checkpoint is not subsumed");
    let savepoint = f.savepoint(SnapshotType::Savepoint, INTERVAL * 2).await;
    assert_eq!(savepoint.checkpoint_id, CheckpointId(3));
    let actions = f.complete(CheckpointId(1), false, INTERVAL * 3).await;
    assert!(
        !actions.iter().any(|a| matches!(a, CoordinatorAction::SavepointFailed { .. })),
        "a checkpoint does not subsume a newer savepoint: {actions:?}"
    );
    assert_eq!(f.coordinator.latest_completed().unwrap().checkpoint_id(), CheckpointId(1));
    assert_eq!(f.coordinator.pending_ids(), vec![CheckpointId(3)]);
}

#[tokio::test]
async fn a_failed_savepoint_fails_alone_and_does_not_count_against_the_tolerable_failures() {
    let mut f = fixture(0);
    let tasks = topology().tasks;
    let savepoint = f.savepoint(SnapshotType::Savepoint, Duration::ZERO).await;
    let actions = f.coordinator.on_decline(DeclineCheckpoint {
        checkpoint_id: savepoint.checkpoint_id,
        task: tasks[2],
        attempt: 0,
        reason: "disk full".into(),
        permanent: false,
    });
    let [CoordinatorAction::Discard(plan), CoordinatorAction::SavepointFailed { checkpoint_id, cause }] =
        actions.as_slice()
    else {
        panic!("{actions:?}")
    };
    assert_eq!(plan.checkpoint_dirs, vec![savepoint.location.dir.clone()], "the partial savepoint is removed");
    assert_eq!(*checkpoint_id, CheckpointId(1));
    assert_eq!(cause, "savepoint 1 was declined: disk full");
    // A directory that cannot be created fails the request, with advice, and nothing else.
    let (id, _) = f.coordinator.trigger_savepoint(SnapshotType::Savepoint, None, f.start, 0).unwrap();
    let actions = f.coordinator.on_location(id, Err("no savepoint directory".into()));
    let [CoordinatorAction::SavepointFailed { cause, .. }] = actions.as_slice() else { panic!("{actions:?}") };
    assert!(
        cause.starts_with("savepoint 2 could not create its directory: no savepoint directory; the job keeps running")
    );
    // Timeouts too: the savepoint expires, the job does not fail (tolerable is 0).
    f.savepoint(SnapshotType::Savepoint, Duration::ZERO).await;
    let actions = f.coordinator.on_tick(f.start + Duration::from_secs(1), 0);
    // ... and the periodic checkpoint is triggered as usual.
    assert!(
        matches!(
            actions.as_slice(),
            [
                CoordinatorAction::Discard(_),
                CoordinatorAction::SavepointFailed { checkpoint_id: CheckpointId(3), .. },
                CoordinatorAction::InitLocation { checkpoint_id: CheckpointId(4) },
            ]
        ),
        "{actions:?}"
    );
}

#[tokio::test]
async fn stop_with_savepoint_pauses_checkpoints_and_is_the_final_checkpoint() {
    let mut f = fixture(0);
    let checkpoint = f.tick(INTERVAL).await.unwrap();
    let stop = f.savepoint(SnapshotType::StopWithSavepoint { drain: false }, INTERVAL * 5).await;
    assert_eq!(stop.snapshot_type, SnapshotType::StopWithSavepoint { drain: false });
    assert_eq!(f.coordinator.stopping(), Some(stop.checkpoint_id));
    let refused = f.coordinator.trigger_savepoint(SnapshotType::Savepoint, None, f.start, 0).unwrap_err();
    assert_eq!(refused, "the job is stopping with savepoint 2; wait for it to complete or fail");
    f.coordinator.on_tick(f.start + Duration::from_millis(1_150), 0);
    assert_eq!(f.coordinator.pending_ids(), vec![stop.checkpoint_id], "checkpoint 1 expired");
    assert!(f.tick(INTERVAL * 12).await.is_none(), "no periodic checkpoint while stopping");
    // Without drain the tasks' inputs did not end, yet the stop is final.
    let actions = f.complete(stop.checkpoint_id, false, INTERVAL * 12).await;
    assert!(
        matches!(
            actions.as_slice(),
            [
                CoordinatorAction::NotifyComplete {
                    notification: NotifyCheckpointComplete { final_checkpoint: true, .. },
                    ..
                },
                CoordinatorAction::SavepointCompleted { .. },
            ]
        ),
        "{actions:?}"
    );
    assert_ne!(checkpoint.checkpoint_id, stop.checkpoint_id);
    assert!(f.tick(INTERVAL * 20).await.is_none(), "nothing after the stop");
    assert!(f.coordinator.trigger_savepoint(SnapshotType::Savepoint, None, f.start, 0).is_err());
}

#[tokio::test]
async fn a_failed_stop_resumes_periodic_checkpoints_and_savepoints_wait_for_running_tasks() {
    let mut f = fixture(0);
    let tasks = topology().tasks;
    let stop = f.savepoint(SnapshotType::StopWithSavepoint { drain: true }, Duration::ZERO).await;
    let actions = f.coordinator.on_decline(DeclineCheckpoint {
        checkpoint_id: stop.checkpoint_id,
        task: tasks[0],
        attempt: 0,
        reason: "upload failed".into(),
        permanent: true,
    });
    assert!(
        !actions.iter().any(|a| matches!(a, CoordinatorAction::FailJob { .. })),
        "even a permanent decline of a savepoint does not fail the job: {actions:?}"
    );
    assert_eq!(f.coordinator.stopping(), None);
    assert_eq!(f.tick(INTERVAL).await.unwrap().checkpoint_id, CheckpointId(2), "periodic checkpoints go on");
    let actions = f.coordinator.on_restart();
    assert!(matches!(actions.as_slice(), [CoordinatorAction::Discard(_)]));
    let refused = f.coordinator.trigger_savepoint(SnapshotType::Savepoint, None, f.start, 0).unwrap_err();
    assert!(refused.starts_with("not every task of the job is RUNNING"), "{refused}");
    // A savepoint pending when the job restarts fails with the reason.
    f.coordinator.on_running(1, f.start);
    let (id, _) = f.coordinator.trigger_savepoint(SnapshotType::Savepoint, None, f.start, 0).unwrap();
    let actions = f.coordinator.on_restart();
    let [CoordinatorAction::SavepointFailed { checkpoint_id, cause }] = actions.as_slice() else {
        panic!("{actions:?}")
    };
    assert_eq!((*checkpoint_id, cause.as_str()), (id, "savepoint 3 was aborted: the job is restarting"));
}

#[tokio::test]
async fn a_checkpoint_on_request_needs_no_interval_and_respects_max_concurrent() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Configuration::new();
    c.set_dynamic(&format!("execution.checkpointing.dir=file://{}", dir.path().display())).unwrap();
    let start = Instant::now();
    let config = CheckpointingConfig { interval: None, ..config(0) };
    let mut coordinator = CheckpointCoordinator::new(JobId(7), config, topology(), start);
    let refused = coordinator.trigger_checkpoint(start, 3_000).unwrap_err();
    assert!(refused.starts_with("not every task of the job is RUNNING"), "{refused}");
    coordinator.on_running(0, start);
    let mut f = Fixture { coordinator, storage: CheckpointStorage::from_config(&c).unwrap(), start, _dir: dir };
    let (id, actions) = f.coordinator.trigger_checkpoint(start, 3_000).unwrap();
    assert_eq!(id, CheckpointId(1));
    let [CoordinatorAction::InitLocation { checkpoint_id: CheckpointId(1) }] = actions.as_slice() else {
        panic!("{actions:?}")
    };
    assert!(f.coordinator.is_pending(id));
    assert_eq!(
        f.coordinator.trigger_checkpoint(start, 3_000).unwrap_err(),
        "1 checkpoint(s) are in progress, the most execution.checkpointing.max-concurrent-checkpoints allows; \
         trigger again when one completed"
    );
    let location = f.storage.init_checkpoint(JobId(7), id).await.map_err(|e| e.to_string());
    let triggered = f.coordinator.on_location(id, location);
    let [CoordinatorAction::TriggerSources { trigger, .. }] = triggered.as_slice() else {
        panic!("expected a trigger")
    };
    assert_eq!((trigger.snapshot_type, trigger.timestamp_ms), (SnapshotType::Checkpoint, 3_000));
    let actions = f.complete(id, false, Duration::ZERO).await;
    assert!(matches!(
        actions.last(),
        Some(CoordinatorAction::NotifyComplete {
            notification: NotifyCheckpointComplete { checkpoint_id: CheckpointId(1), .. },
            ..
        })
    ));
    assert!(!f.coordinator.is_pending(id));
    assert_eq!(f.coordinator.latest_completed().unwrap().checkpoint_id(), id, "retained like a periodic one");
    assert_eq!(f.coordinator.next_deadline(), None, "still no periodic checkpoints");
}

/// An acknowledgement whose keyed state is incremental with one new shared file.
fn ack_with_shared_file(id: u64, task: TaskRef, file: &str) -> AcknowledgeCheckpoint {
    use crate::metadata::{KeyedStateHandle, NamedStateHandle, StreamStateHandle};
    use brook_types::key_group::KeyGroupRange;
    let mut ack = ack(id, task, false);
    ack.operators[0].subtask.keyed = vec![KeyedStateHandle::Incremental {
        key_group_range: KeyGroupRange { start: 0, end: 127 },
        shared: vec![NamedStateHandle {
            name: format!("{file}.sst"),
            handle: StreamStateHandle::File { path: format!("../shared/{file}"), size: 1 },
        }],
        private: vec![],
        meta: StreamStateHandle::Inline(bytes::Bytes::new()),
    }];
    ack
}

#[tokio::test]
async fn a_checkpoint_aborted_while_its_metadata_is_written_deletes_the_shared_files_its_tasks_uploaded() {
    for (abort_how, expected_failures) in [("the job ends", 0), ("the metadata cannot be written", 1)] {
        let mut f = fixture(5);
        f.tick(INTERVAL).await.unwrap();
        let tasks = topology().tasks;
        f.coordinator.on_acknowledge(ack_with_shared_file(1, tasks[0], "a-000016"));
        f.coordinator.on_acknowledge(ack_with_shared_file(1, tasks[1], "b-000016"));
        let actions = f.coordinator.on_acknowledge(ack(1, tasks[2], false));
        let [CoordinatorAction::Finalize { location, .. }] = actions.as_slice() else { panic!("{actions:?}") };
        let shared_dir = location.dir.resolve("../shared").unwrap().to_string();
        let actions = if expected_failures == 0 {
            f.coordinator.abort_pending(abort_how)
        } else {
            f.coordinator.on_finalized(CheckpointId(1), Err("disk full".into()), f.start + INTERVAL * 2)
        };
        let plans: Vec<&DiscardPlan> = actions
            .iter()
            .filter_map(|a| match a {
                CoordinatorAction::Discard(plan) => Some(plan),
                _ => None,
            })
            .collect();
        assert_eq!(plans.len(), 1, "{abort_how}: {actions:?}");
        assert_eq!(
            plans[0].shared_files,
            vec![format!("{shared_dir}/a-000016"), format!("{shared_dir}/b-000016")],
            "{abort_how}"
        );
        assert_eq!(plans[0].checkpoint_dirs.len(), 1, "{abort_how}");
        assert!(f.coordinator.latest_completed().is_none());
    }
}
