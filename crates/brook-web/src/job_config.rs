//! `GET /jobs/:jobid/config` and `/jobs/:jobid/accumulators` in Flink 2.3's shapes.

use brook_checkpoint::restart::RestartStrategy;
use brook_cluster::dispatcher::JobEntry;
use brook_types::config::{Configuration, options};
use serde_json::{Map, Value, json};

/// Flink's description of a restart strategy (`RestartStrategy#toString`).
fn describe_restart(config: &Configuration) -> String {
    match RestartStrategy::from_config(config) {
        Ok(RestartStrategy::NoRestart) => "Restart deactivated.".to_string(),
        Ok(RestartStrategy::FixedDelay(f)) => {
            format!("Restart with fixed delay ({:?}). #{} restart attempts.", f.delay, f.attempts)
        }
        Ok(RestartStrategy::FailureRate(f)) => format!(
            "Failure rate restart with maximum of {} failures within interval {:?} and fixed delay {:?}.",
            f.max_failures_per_interval, f.interval, f.delay
        ),
        Ok(RestartStrategy::ExponentialDelay(e)) => format!(
            "Restart with exponential delay: starting at {:?}, increasing by {}, with maximum {:?}. Delay resets \
             after {:?} with jitter {}",
            e.initial_backoff, e.multiplier, e.max_backoff, e.reset_threshold, e.jitter
        ),
        Err(e) => format!("invalid: {e}"),
    }
}

/// `GET /jobs/:jobid/config`: `execution-config` with the job's restart strategy,
/// parallelism and, as `user-config`, every option set on the job (sensitive values hidden).
pub fn job_config(entry: &JobEntry) -> Value {
    let job = &entry.handle.job;
    let config = &job.configuration;
    let user: Map<String, Value> = config.entries().map(|(k, v)| (k.to_string(), json!(v))).collect();
    json!({
        "jid": job.job_id.to_string(),
        "name": job.job_name,
        "execution-config": {
            "restart-strategy": describe_restart(config),
            "job-parallelism": config.get_i64(&options::PARALLELISM_DEFAULT),
            "object-reuse-mode": false,
            "user-config": user,
        },
    })
}

/// `GET /jobs/:jobid/accumulators`: the job's user accumulators (Brook's are 64-bit
/// counters, Flink's `LongCounter`), summed over subtasks.
pub fn accumulators(entry: &JobEntry) -> Value {
    let user: Vec<Value> = entry
        .handle
        .metrics
        .accumulator_values()
        .into_iter()
        .map(|(name, value)| json!({ "name": name, "type": "LongCounter", "value": value.to_string() }))
        .collect();
    json!({
        "job-accumulators": [],
        "user-task-accumulators": user,
        "serialized-user-task-accumulators": {},
    })
}

/// `GET /jobs/:jobid/checkpoints/config` (Flink's `CheckpointConfigInfo`), or `None`
/// when the job does not checkpoint periodically (Flink answers 404 then).
pub fn checkpoint_config(entry: &JobEntry) -> Result<Option<Value>, String> {
    use brook_checkpoint::config::{CheckpointingConfig, CheckpointingMode};
    use brook_checkpoint::retention::ExternalizedCheckpointRetention as Retention;
    let job = &entry.handle.job;
    let config = &job.configuration;
    let c = CheckpointingConfig::from_config(config).map_err(|e| e.to_string())?;
    let Some(interval) = c.interval.filter(|_| !job.batch) else { return Ok(None) };
    let ms = |d: std::time::Duration| d.as_millis() as u64;
    let backend = match config.get_raw(&options::STATE_BACKEND_TYPE).to_ascii_lowercase().as_str() {
        "rocksdb" => "EmbeddedRocksDBStateBackend",
        _ => "HashMapStateBackend",
    };
    Ok(Some(json!({
        "mode": if c.mode == CheckpointingMode::ExactlyOnce { "exactly_once" } else { "at_least_once" },
        "interval": ms(interval),
        "timeout": ms(c.timeout),
        "min_pause": ms(c.min_pause),
        "max_concurrent": c.max_concurrent,
        "externalization": {
            "enabled": c.retention != Retention::NoExternalizedCheckpoints,
            "delete_on_cancellation": c.retention != Retention::RetainOnCancellation,
        },
        "state_backend": backend,
        "checkpoint_storage": "FileSystemCheckpointStorage",
        "unaligned_checkpoints": c.unaligned,
        "tolerable_failed_checkpoints": c.tolerable_failures,
        "aligned_checkpoint_timeout": ms(c.aligned_checkpoint_timeout),
        "checkpoints_after_tasks_finish": true,
        "state_changelog_enabled": false,
        "changelog_periodic_materialization_interval": 0,
        "changelog_storage": "none",
    })))
}
