//! Scenario r: how long a job takes from a task failure to RUNNING again.
//!
//! The job is scenario c's keyed rolling sum with checkpoints every second (into a
//! temporary directory) and a `fixed-delay` restart strategy without delay, so what
//! is measured is Brook's own work: cancelling the attempt's tasks, redeploying
//! every subtask and restoring its state from the latest completed checkpoint. A
//! map panics once, at the first record at or after 60 % of the input that arrives
//! after a checkpoint completed; the time from that panic to the moment every
//! subtask is RUNNING again (read from the job's state changes, not polled) is the
//! figure. Flink's default `exponential-delay` strategy adds its initial backoff
//! (1 s) on top.
//!
//! The check: the sink keeps the last rolling sum per key — replayed records after
//! the restore recompute the same sums, so the maximum per key is the key's final
//! count — and at the end of input reports the number of keys and the sum of their
//! counts, which must be K and N.

use crate::bench::scenarios::environment_with;
use anyhow::Context as _;
use brook_api::{JobExecutionResult, RuntimeContext, RuntimeMode, SinkFunction};
use brook_cluster::JobStatus;
use brook_runtime::metrics::Accumulator;
use brook_runtime::task::ExecutionState;
use brook_types::Batch;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEYS: &str = "bench.keys";
const TOTAL: &str = "bench.total";

/// The job's result and the time from the failure to every subtask RUNNING again.
pub struct Recovery {
    pub result: JobExecutionResult,
    pub failure_to_running: Duration,
}

/// Runs scenario r: `records` records over `keys` keys at `parallelism`.
pub fn run_recovery(parallelism: usize, records: u64, keys: u64) -> anyhow::Result<Recovery> {
    anyhow::ensure!(keys >= 1, "--keys must be at least 1");
    anyhow::ensure!(records >= 10 * keys, "scenario r needs at least 10 records per key");
    let checkpoints = CheckpointDir::new()?;
    let dir = format!("execution.checkpointing.dir=file://{}", checkpoints.0.display());
    let env = environment_with(
        parallelism,
        RuntimeMode::Streaming,
        &[
            "execution.checkpointing.interval=1 s",
            &dir,
            "restart-strategy.type=fixed-delay",
            "restart-strategy.fixed-delay.attempts=1",
            "restart-strategy.fixed-delay.delay=0 ms",
        ],
    )?;
    let k = i64::try_from(keys)?;
    let fail_from = i64::try_from(records * 6 / 10)?;
    let failed_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let armed = Arc::new(AtomicBool::new(false));
    let (failed, armed_in_job) = (failed_at.clone(), armed.clone());
    env.generate_sequence(0, i64::try_from(records)? - 1)
        .map(move |i: i64| {
            if i >= fail_from && armed_in_job.load(Ordering::Relaxed) && armed_in_job.swap(false, Ordering::SeqCst) {
                *failed.lock().expect("not poisoned") = Some(Instant::now());
                panic!("injected failure at record {i}");
            }
            (i % k, 1i64)
        })
        .key_by(|t: &(i64, i64)| t.0)
        .sum(|t: &mut (i64, i64)| &mut t.1)
        .sink_to(LastSumPerKey::default(), "Sink: Last Sum Per Key");
    let client = env.execute_async("bench r: recovery of a keyed rolling sum")?;
    // Arm the failure once a checkpoint completed, so the restore has state to read.
    let checkpointed = client
        .wait_until(Duration::from_secs(600), |s| s.completed_checkpoints >= 1 || s.status.is_globally_terminal());
    anyhow::ensure!(checkpointed, "no checkpoint completed within 10 minutes");
    armed.store(true, Ordering::SeqCst);
    let recovered = client.wait_until(Duration::from_secs(600), |s| {
        s.status.is_globally_terminal()
            || (s.restarts >= 1
                && s.status == JobStatus::Running
                && s.vertices.iter().all(|v| v.subtask_states.iter().all(|t| *t == ExecutionState::Running)))
    });
    let running_again = Instant::now();
    let result = client.wait_for_result()?;
    anyhow::ensure!(
        recovered && client.snapshot().restarts == 1,
        "the job did not restart once: {:?}",
        client.snapshot()
    );
    let failed_at = failed_at
        .lock()
        .expect("not poisoned")
        .context("the job ended before the failure was injected: give scenario r more --records")?;
    Ok(Recovery { result, failure_to_running: running_again - failed_at })
}

/// A fresh checkpoint directory under the temp dir, removed on drop.
struct CheckpointDir(std::path::PathBuf);

impl CheckpointDir {
    fn new() -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("brook-bench-recovery-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for CheckpointDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Checks that every key's final count arrived: K keys whose counts add up to N.
pub fn check_recovery(recovery: &Recovery, records: u64, keys: u64) -> anyhow::Result<String> {
    let got_keys = recovery.result.accumulator(KEYS).context("the sink reported no key count")?;
    let got_total = recovery.result.accumulator(TOTAL).context("the sink reported no total")?;
    anyhow::ensure!(got_keys == keys as i64, "the sink saw {got_keys} keys, expected {keys}");
    anyhow::ensure!(got_total == records as i64, "the final counts add up to {got_total}, expected {records}");
    Ok(format!(
        "ok: {keys} keys, counts add up to {records}; failure → RUNNING in {:.0} ms",
        recovery.failure_to_running.as_secs_f64() * 1e3
    ))
}

/// Keeps the largest rolling sum seen per key; at the end of input reports how many
/// keys it saw and the sum of their largest sums.
#[derive(Clone, Default)]
struct LastSumPerKey {
    last: HashMap<i64, i64>,
    totals: Option<(Accumulator, Accumulator)>,
}

impl SinkFunction<(i64, i64)> for LastSumPerKey {
    fn open(&mut self, ctx: &RuntimeContext) -> brook_types::Result<()> {
        self.totals = Some((ctx.accumulator(KEYS), ctx.accumulator(TOTAL)));
        Ok(())
    }

    fn write_batch(&mut self, batch: Batch<(i64, i64)>) -> brook_types::Result<()> {
        for r in &batch {
            let (key, sum) = r.value;
            let last = self.last.entry(key).or_insert(sum);
            *last = (*last).max(sum);
        }
        Ok(())
    }

    fn finish(&mut self) -> brook_types::Result<()> {
        let (keys, total) = self.totals.as_ref().expect("open runs before finish");
        keys.add(self.last.len() as i64);
        total.add(self.last.values().sum());
        Ok(())
    }
}
