//! The generator in a job that fails and recovers from a checkpoint: every source
//! split restores its position, so the keyed results equal those of a run without a
//! failure — each event counted exactly once, none skipped, none replayed twice.

use brook_api::StreamExecutionEnvironment;
use brook_connectors::nexmark::{self, Event, NexmarkConfig};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

const EVENTS: u64 = 20_000;
const QUARTER: usize = EVENTS as usize / 4;

/// Per event kind (0 person, 1 auction, 2 bid): (count, sum of ids or prices). With
/// `fail`, the map fails once, at the first event after a checkpoint completed.
fn totals(config: &NexmarkConfig, fail: bool, dir: &std::path::Path) -> BTreeMap<i64, (i64, i64)> {
    let mut configuration = brook_api::Configuration::new();
    for setting in [
        "taskmanager.numberOfTaskSlots=2".to_string(),
        "execution.checkpointing.interval=10 ms".to_string(),
        format!("execution.checkpointing.dir=file://{}", dir.display()),
        "restart-strategy.type=fixed-delay".to_string(),
        "restart-strategy.fixed-delay.attempts=3".to_string(),
        "restart-strategy.fixed-delay.delay=10 ms".to_string(),
    ] {
        configuration.set_dynamic(&setting).expect("a known key");
    }
    let env = StreamExecutionEnvironment::with_configuration(configuration);
    env.set_parallelism(2);
    env.set_batch_size(16);
    let (armed, failed) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let (before_failure, after_failure) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (arm, mapped, progress) = (armed.clone(), after_failure.clone(), before_failure.clone());
    let handle = nexmark::source(&env, config)
        .map(move |event: Event| {
            // Slow enough that checkpoints complete while the input lasts.
            std::thread::sleep(Duration::from_micros(50));
            if failed.load(Ordering::SeqCst) {
                after_failure.fetch_add(1, Ordering::SeqCst);
            } else if !armed.load(Ordering::SeqCst) {
                before_failure.fetch_add(1, Ordering::SeqCst);
            } else if armed.load(Ordering::SeqCst) && !failed.swap(true, Ordering::SeqCst) {
                panic!("injected failure after a completed checkpoint");
            }
            match event {
                Event::Person(p) => (0i64, (1i64, p.id)),
                Event::Auction(a) => (1, (1, a.id)),
                Event::Bid(b) => (2, (1, b.price)),
            }
        })
        .key_by(|r: &(i64, (i64, i64))| r.0)
        .reduce(|a, b| (a.0, (a.1.0 + b.1.0, a.1.1 + b.1.1)))
        .collect();
    let client = env.execute_async("nexmark recovery").expect("the job starts");
    if fail {
        // Fail after a checkpoint that covers at least a quarter of the events: one
        // triggered once the map has seen that many (the sources are further on).
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while progress.load(Ordering::SeqCst) < QUARTER {
            assert!(std::time::Instant::now() < deadline, "the job did not progress: {:?}", client.snapshot());
            std::thread::sleep(Duration::from_millis(1));
        }
        let completed = client.snapshot().completed_checkpoints;
        while client.snapshot().completed_checkpoints < completed + 2 {
            assert!(std::time::Instant::now() < deadline, "no checkpoint completed: {:?}", client.snapshot());
            std::thread::sleep(Duration::from_millis(1));
        }
        arm.store(true, Ordering::SeqCst);
    }
    client.wait_for_result().expect("the job recovers and finishes");
    if fail {
        assert_eq!(client.snapshot().restarts, 1, "one failure, one restart");
        // Restarted from the beginning, the sources would hand the map all EVENTS
        // again; restored from the checkpoint, they skip at least the quarter it
        // covered (what the failed attempt's other subtask mapped while it was
        // canceled counts too: a few events).
        let mapped = mapped.load(Ordering::SeqCst);
        assert!(
            mapped < EVENTS as usize - QUARTER / 2,
            "restored from a checkpoint: {mapped} events mapped after the failure"
        );
    }
    handle.take().into_iter().collect()
}

#[test]
fn a_job_over_the_generator_recovers_each_split_exactly_from_a_checkpoint() {
    let config = NexmarkConfig { events_num: EVENTS, splits: 4, seed: 7, ..NexmarkConfig::default() };
    let dir = tempfile::tempdir().unwrap();
    let expected = totals(&config, false, dir.path());
    let counted: i64 = expected.values().map(|(n, _)| n).sum();
    assert_eq!(counted, EVENTS as i64);
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(totals(&config, true, dir.path()), expected);
}
