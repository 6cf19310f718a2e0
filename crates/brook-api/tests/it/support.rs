//! What the test modules share: environments of a known size, running a job with a
//! deadline, tagging records with their subtask, and grouping results.

use brook_api::{
    Collector, Configuration, Context, DataStream, JobClient, JobExecutionResult, ProcessFunction, Result,
    StreamExecutionEnvironment,
};
use brook_cluster::jobmaster::JobSnapshot;
use brook_runtime::source::{
    Boundedness, NumberSequenceSource, ReaderContext, ReaderStatus, SequenceSplit, Source, SourceReader,
    SplitEnumerator,
};
use brook_types::StreamRecord;
use brook_types::key_group::{KeyHash, assign_to_key_group};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

/// Longest a test job may run before the test fails instead of hanging.
pub const JOB_DEADLINE: Duration = Duration::from_secs(60);

/// An environment on the default MiniCluster (one slot per core) with `parallelism`.
pub fn env(parallelism: usize) -> StreamExecutionEnvironment {
    let env = StreamExecutionEnvironment::get_execution_environment();
    env.set_parallelism(parallelism);
    env
}

/// A configuration with `taskmanager.numberOfTaskSlots` set to `slots`.
pub fn config_with_slots(slots: usize) -> Configuration {
    let mut config = Configuration::new();
    config.set("taskmanager.numberOfTaskSlots", &slots.to_string(), "test").expect("the key is known");
    config
}

/// An environment whose MiniCluster has `slots` slots, with `parallelism`.
pub fn env_with_slots(slots: usize, parallelism: usize) -> StreamExecutionEnvironment {
    let env = StreamExecutionEnvironment::with_configuration(config_with_slots(slots));
    env.set_parallelism(parallelism);
    env
}

/// Runs the job built so far, failing the test (instead of hanging) if it does not
/// end within [`JOB_DEADLINE`].
pub fn run(env: &StreamExecutionEnvironment, job_name: &str) -> Result<JobExecutionResult> {
    let client = env.execute_async(job_name)?;
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = client.clone();
    std::thread::spawn(move || {
        let _ = tx.send(waiter.wait_for_result());
    });
    match rx.recv_timeout(JOB_DEADLINE) {
        Ok(result) => result,
        Err(_) => {
            let snapshot = client.snapshot();
            client.cancel();
            panic!("job '{job_name}' did not end within {JOB_DEADLINE:?}: {snapshot:?}");
        }
    }
}

/// Whether `pred` holds for the job within `timeout`, checked whenever the job
/// changes and at least every 20 ms: `pred` may look at more than the job's state
/// (what a sink has received), and `JobClient::wait_until` wakes up only when the
/// job's state changes.
pub fn eventually(client: &JobClient, timeout: Duration, mut pred: impl FnMut(&JobSnapshot) -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if client.wait_until(Duration::from_millis(20), &mut pred) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
    }
}

/// Runs the job and returns what `stream` produced.
pub fn collect<T: brook_api::Data>(env: &StreamExecutionEnvironment, stream: DataStream<T>) -> Vec<T> {
    let handle = stream.collect();
    run(env, "test job").expect("the job finishes");
    handle.take()
}

pub fn sorted<T: Ord>(mut values: Vec<T>) -> Vec<T> {
    values.sort();
    values
}

/// Values grouped by key, each group in arrival order.
pub fn per_key<K: Ord, V>(records: impl IntoIterator<Item = (K, V)>) -> BTreeMap<K, Vec<V>> {
    let mut groups: BTreeMap<K, Vec<V>> = BTreeMap::new();
    for (k, v) in records {
        groups.entry(k).or_default().push(v);
    }
    groups
}

/// The subtask of an operator of parallelism `parallelism` (and the default max
/// parallelism 128) that owns `key`: Flink's `keyGroup * parallelism / maxParallelism`.
pub fn owner_of<K: KeyHash + ?Sized>(key: &K, parallelism: usize) -> usize {
    assign_to_key_group(key, 128) * parallelism / 128
}

/// Emits `(index of this subtask, record)`.
#[derive(Clone, Copy, Debug)]
pub struct TagSubtask;

impl<T> ProcessFunction<T, (usize, T)> for TagSubtask {
    fn process_element(&mut self, value: T, ctx: &mut Context<'_>, out: &mut Collector<(usize, T)>) {
        out.collect((ctx.runtime_context().index_of_this_subtask(), value));
    }
}

/// `generate_sequence` at about `per_ms` records per millisecond and subtask,
/// throttled by a timer (the reader returns `Pending`), so that checkpoints happen
/// while it runs without blocking a worker thread. Its splits are the sequence
/// source's, so its position is checkpointed the same way.
#[derive(Clone)]
pub struct ThrottledSequence {
    pub to: i64,
    pub per_ms: i64,
}

impl Source<i64> for ThrottledSequence {
    type Split = SequenceSplit;

    fn boundedness(&self) -> Boundedness {
        Boundedness::Bounded
    }

    fn create_enumerator(&self, parallelism: usize) -> brook_types::Result<Box<dyn SplitEnumerator<SequenceSplit>>> {
        NumberSequenceSource { from: 1, to: self.to }.create_enumerator(parallelism)
    }

    fn create_reader(&self, _ctx: &ReaderContext) -> brook_types::Result<Box<dyn SourceReader<i64, SequenceSplit>>> {
        Ok(Box::new(ThrottledReader { splits: Vec::new(), per_ms: self.per_ms, sleep: None }))
    }
}

struct ThrottledReader {
    splits: Vec<SequenceSplit>,
    per_ms: i64,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl SourceReader<i64, SequenceSplit> for ThrottledReader {
    fn add_splits(&mut self, splits: Vec<SequenceSplit>) {
        self.splits.extend(splits);
    }

    fn no_more_splits(&mut self) {}

    fn poll_next(
        &mut self,
        cx: &mut std::task::Context<'_>,
        out: &mut Vec<StreamRecord<i64>>,
    ) -> Poll<brook_types::Result<ReaderStatus>> {
        if let Some(sleep) = self.sleep.as_mut()
            && sleep.as_mut().poll(cx).is_pending()
        {
            return Poll::Pending;
        }
        let Some(split) = self.splits.first_mut() else { return Poll::Ready(Ok(ReaderStatus::EndOfInput)) };
        let end = split.to.min(split.next + self.per_ms - 1);
        out.extend((split.next..=end).map(StreamRecord::new));
        split.next = end + 1;
        if split.next > split.to {
            self.splits.remove(0);
        }
        self.sleep = Some(Box::pin(tokio::time::sleep(Duration::from_millis(1))));
        Poll::Ready(Ok(ReaderStatus::MoreAvailable))
    }

    fn snapshot_splits(&self) -> Vec<SequenceSplit> {
        self.splits.clone()
    }
}

/// Per key: the sum and count of its values, emitted once when the input ends (an
/// event-time timer at the end of time): state and timers both have to survive a
/// restore for the output to be right.
#[derive(Clone, Default)]
pub struct SumAtEnd {
    sum: brook_api::ValueState<(i64, u64)>,
}

impl brook_api::KeyedProcessFunction<i64, i64, (i64, i64, u64)> for SumAtEnd {
    fn open(&mut self, ctx: &brook_api::RuntimeContext) {
        self.sum = ctx.get_state(&brook_api::state::ValueStateDescriptor::new("sum"));
    }

    fn process_element(
        &mut self,
        v: i64,
        ctx: &mut brook_api::KeyedContext<'_, i64>,
        _out: &mut Collector<(i64, i64, u64)>,
    ) {
        let mut state = ctx.state(&self.sum);
        let (sum, count) = state.value().copied().unwrap_or((0, 0));
        state.update((sum + v, count + 1));
        ctx.timer_service().register_event_time_timer(brook_types::Watermark::MAX.0);
    }

    fn on_timer(&mut self, _t: i64, ctx: &mut brook_api::KeyedContext<'_, i64>, out: &mut Collector<(i64, i64, u64)>) {
        let key = *ctx.current_key();
        let (sum, count) = ctx.state(&self.sum).value().copied().unwrap_or((0, 0));
        out.collect((key, sum, count));
    }
}

/// What [`SumAtEnd`] emits for the values 1..=n keyed by `v % keys`.
pub fn expected_sums(n: i64, keys: i64) -> Vec<(i64, i64, u64)> {
    let mut sums: BTreeMap<i64, (i64, u64)> = BTreeMap::new();
    for v in 1..=n {
        let e = sums.entry(v % keys).or_default();
        e.0 += v;
        e.1 += 1;
    }
    sums.into_iter().map(|(k, (s, c))| (k, s, c)).collect()
}

/// Waits for the job's result, failing the test (instead of hanging) after
/// [`JOB_DEADLINE`].
pub fn wait(client: &JobClient) -> Result<JobExecutionResult> {
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = client.clone();
    std::thread::spawn(move || {
        let _ = tx.send(waiter.wait_for_result());
    });
    rx.recv_timeout(JOB_DEADLINE).unwrap_or_else(|_| {
        let snapshot = client.snapshot();
        client.cancel();
        panic!("the job did not end within {JOB_DEADLINE:?}: {snapshot:?}")
    })
}
