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
