//! Operator state of user functions (Flink's `CheckpointedFunction`): a
//! ProcessFunction keeps a count per subtask in list state; after a failure the
//! restored counts plus the replayed records add up to exactly the input.

use crate::support::{ThrottledSequence, eventually};
use brook_api::state::ListStateDescriptor;
use brook_api::state::{OperatorStateBackend, StateError};
use brook_api::{Collector, Configuration, Context, ProcessFunction, StreamExecutionEnvironment};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Counts the records of its subtask; emits the count at the end of input.
#[derive(Clone)]
struct CountRecords {
    count: u64,
    armed: Arc<AtomicBool>,
    panicked: Arc<AtomicBool>,
}

impl ProcessFunction<i64, u64> for CountRecords {
    fn process_element(&mut self, v: i64, _ctx: &mut Context<'_>, _out: &mut Collector<u64>) {
        if v > 5_000 && self.armed.load(Ordering::Relaxed) && !self.panicked.swap(true, Ordering::SeqCst) {
            panic!("injected failure at record {v}");
        }
        self.count += 1;
    }

    fn finish(&mut self, out: &mut Collector<u64>) {
        out.collect(self.count);
    }

    fn snapshot_state(&mut self, state: &mut OperatorStateBackend) -> Result<(), StateError> {
        state.get_list_state(&ListStateDescriptor::<u64>::new("count"))?.update(vec![self.count]);
        Ok(())
    }

    fn initialize_state(&mut self, state: &mut OperatorStateBackend) -> Result<(), StateError> {
        self.count = state.get_list_state(&ListStateDescriptor::<u64>::new("count"))?.get().iter().sum();
        Ok(())
    }
}

#[test]
fn list_state_of_a_process_function_survives_a_failure_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Configuration::new();
    for pair in [
        "taskmanager.numberOfTaskSlots=4".to_string(),
        format!("execution.checkpointing.dir=file://{}", dir.path().display()),
        "execution.checkpointing.interval=40 ms".to_string(),
        "restart-strategy.type=fixed-delay".to_string(),
        "restart-strategy.fixed-delay.delay=10 ms".to_string(),
    ] {
        config.set_dynamic(&pair).unwrap();
    }
    let env = StreamExecutionEnvironment::with_configuration(config);
    env.set_parallelism(2);
    let n = 20_000;
    let function = CountRecords { count: 0, armed: Arc::default(), panicked: Arc::default() };
    let (armed, panicked) = (function.armed.clone(), function.panicked.clone());
    let out =
        env.from_source(ThrottledSequence { to: n, per_ms: 20 }, "Throttled Sequence").process(function).collect();
    let client = env.execute_async("counts").unwrap();
    assert!(eventually(&client, Duration::from_secs(30), |s| s.completed_checkpoints >= 1), "no checkpoint");
    armed.store(true, Ordering::SeqCst);
    let result = client.wait_for_result();
    result.expect("the job recovers and finishes");
    assert!(panicked.load(Ordering::SeqCst), "the failure was injected");
    assert_eq!(client.snapshot().restarts, 1);
    let counts = out.take();
    assert_eq!(counts.len(), 2, "one count per subtask: {counts:?}");
    assert_eq!(counts.iter().sum::<u64>(), n as u64, "restored counts + replayed records = input: {counts:?}");
}
