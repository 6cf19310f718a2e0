//! The checkpoint coordinator's settings, read and checked once from the configuration.

use crate::error::{CheckpointError, Result};
use crate::retention::ExternalizedCheckpointRetention;
use brook_types::config::{Configuration, options};
use std::time::Duration;

/// Flink's lower bound for the checkpoint interval and timeout.
pub const MINIMAL_CHECKPOINT_TIME: Duration = Duration::from_millis(10);

/// `execution.checkpointing.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckpointingMode {
    /// Barriers are aligned: each record is reflected in the state exactly once.
    ExactlyOnce,
    /// Barriers are not aligned: after a restore some records may be processed twice.
    AtLeastOnce,
}

/// The `execution.checkpointing.*` settings the checkpoint coordinator uses.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointingConfig {
    /// `None`: checkpointing is disabled.
    pub interval: Option<Duration>,
    pub mode: CheckpointingMode,
    pub timeout: Duration,
    pub min_pause: Duration,
    pub max_concurrent: usize,
    pub tolerable_failures: usize,
    pub unaligned: bool,
    /// With `unaligned`: checkpoints start aligned and switch to unaligned at a task once
    /// this long passed since they were triggered; zero: always unaligned.
    pub aligned_checkpoint_timeout: Duration,
    pub num_retained: usize,
    pub retention: ExternalizedCheckpointRetention,
    pub incremental: bool,
}

impl CheckpointingConfig {
    pub fn from_config(config: &Configuration) -> Result<Self> {
        let invalid = |option: &brook_types::config::ConfigOption, reason: &str| CheckpointError::InvalidConfig {
            key: option.key,
            value: config.get_raw(option),
            reason: reason.to_string(),
        };
        let interval = config.get_optional_duration(&options::CHECKPOINTING_INTERVAL);
        if interval.is_some_and(|i| i < MINIMAL_CHECKPOINT_TIME) {
            return Err(invalid(
                &options::CHECKPOINTING_INTERVAL,
                "the checkpoint interval must be at least 10 ms; remove the key to disable checkpointing",
            ));
        }
        let timeout = config.get_duration(&options::CHECKPOINTING_TIMEOUT);
        if timeout < MINIMAL_CHECKPOINT_TIME {
            return Err(invalid(&options::CHECKPOINTING_TIMEOUT, "the checkpoint timeout must be at least 10 ms"));
        }
        let mode = match config.get_enum(&options::CHECKPOINTING_MODE).as_str() {
            "AT_LEAST_ONCE" => CheckpointingMode::AtLeastOnce,
            _ => CheckpointingMode::ExactlyOnce,
        };
        let positive = |option: &brook_types::config::ConfigOption| {
            let value = config.get_i64(option);
            if value < 1 { Err(invalid(option, "must be at least 1")) } else { Ok(value as usize) }
        };
        let max_concurrent = positive(&options::MAX_CONCURRENT_CHECKPOINTS)?;
        let num_retained = positive(&options::NUM_RETAINED_CHECKPOINTS)?;
        let tolerable = config.get_i64(&options::TOLERABLE_FAILED_CHECKPOINTS);
        if tolerable < 0 {
            return Err(invalid(&options::TOLERABLE_FAILED_CHECKPOINTS, "must be 0 or more"));
        }
        let unaligned = config.get_bool(&options::UNALIGNED_CHECKPOINTS);
        if unaligned && mode == CheckpointingMode::AtLeastOnce {
            // As Flink: AT_LEAST_ONCE never blocks channels, so there is nothing for
            // unaligned barriers to save, and the two cannot be combined.
            return Err(invalid(
                &options::UNALIGNED_CHECKPOINTS,
                "unaligned checkpoints need execution.checkpointing.mode EXACTLY_ONCE; set the mode to \
                 EXACTLY_ONCE or set this key to false",
            ));
        }
        if unaligned && max_concurrent > 1 {
            // A task records the channel state of one checkpoint at a time.
            return Err(invalid(
                &options::UNALIGNED_CHECKPOINTS,
                "unaligned checkpoints need execution.checkpointing.max-concurrent-checkpoints 1; lower it to 1 or \
                 set this key to false",
            ));
        }
        Ok(Self {
            interval,
            mode,
            timeout,
            min_pause: config.get_duration(&options::CHECKPOINTING_MIN_PAUSE),
            max_concurrent,
            tolerable_failures: tolerable as usize,
            unaligned,
            aligned_checkpoint_timeout: config.get_duration(&options::ALIGNED_CHECKPOINT_TIMEOUT),
            num_retained,
            retention: ExternalizedCheckpointRetention::from_config(config)?,
            incremental: config.get_bool(&options::INCREMENTAL_CHECKPOINTS),
        })
    }

    /// Whether periodic checkpoints are taken.
    pub fn is_enabled(&self) -> bool {
        self.interval.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[&str]) -> Configuration {
        let mut c = Configuration::new();
        for pair in pairs {
            c.set_dynamic(pair).unwrap();
        }
        c
    }

    #[test]
    fn defaults() {
        let c = CheckpointingConfig::from_config(&Configuration::new()).unwrap();
        assert_eq!(
            c,
            CheckpointingConfig {
                interval: None,
                mode: CheckpointingMode::ExactlyOnce,
                timeout: Duration::from_secs(600),
                min_pause: Duration::ZERO,
                max_concurrent: 1,
                tolerable_failures: 0,
                unaligned: false,
                aligned_checkpoint_timeout: Duration::ZERO,
                num_retained: 1,
                retention: ExternalizedCheckpointRetention::NoExternalizedCheckpoints,
                incremental: false,
            }
        );
        assert!(!c.is_enabled());
    }

    #[test]
    fn settings_are_read() {
        let c = CheckpointingConfig::from_config(&config(&[
            "execution.checkpointing.interval=5 s",
            "execution.checkpointing.mode=AT_LEAST_ONCE",
            "execution.checkpointing.num-retained=3",
            "execution.checkpointing.tolerable-failed-checkpoints=2",
        ]))
        .unwrap();
        assert!(c.is_enabled());
        assert_eq!(c.interval, Some(Duration::from_secs(5)));
        assert_eq!(c.mode, CheckpointingMode::AtLeastOnce);
        assert_eq!((c.num_retained, c.tolerable_failures), (3, 2));
    }

    #[test]
    fn nonsense_is_refused_with_the_key() {
        let err = CheckpointingConfig::from_config(&config(&["execution.checkpointing.interval=1 ms"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value '1 ms' for configuration key 'execution.checkpointing.interval': the checkpoint \
             interval must be at least 10 ms; remove the key to disable checkpointing"
        );
        let err = CheckpointingConfig::from_config(&config(&["execution.checkpointing.num-retained=0"])).unwrap_err();
        assert!(err.to_string().contains("'execution.checkpointing.num-retained': must be at least 1"), "{err}");
        let err = CheckpointingConfig::from_config(&config(&[
            "execution.checkpointing.unaligned.enabled=true",
            "execution.checkpointing.mode=AT_LEAST_ONCE",
        ]))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value 'true' for configuration key 'execution.checkpointing.unaligned.enabled': unaligned \
             checkpoints need execution.checkpointing.mode EXACTLY_ONCE; set the mode to EXACTLY_ONCE or set this \
             key to false"
        );
    }

    #[test]
    fn unaligned_checkpoints_are_read_with_exactly_once() {
        let c = CheckpointingConfig::from_config(&config(&[
            "execution.checkpointing.interval=1 s",
            "execution.checkpointing.unaligned.enabled=true",
        ]))
        .unwrap();
        assert!(c.unaligned);
        assert_eq!(c.mode, CheckpointingMode::ExactlyOnce);
        assert_eq!(c.aligned_checkpoint_timeout, Duration::ZERO, "Flink's default: always unaligned");
        let c = CheckpointingConfig::from_config(&config(&[
            "execution.checkpointing.unaligned.enabled=true",
            "execution.checkpointing.aligned-checkpoint-timeout=30 s",
        ]))
        .unwrap();
        assert_eq!(c.aligned_checkpoint_timeout, Duration::from_secs(30));
        let c = CheckpointingConfig::from_config(&config(&["execution.checkpointing.unaligned=true"])).unwrap();
        assert!(c.unaligned, "Flink's old key is a fallback");
        let err = CheckpointingConfig::from_config(&config(&[
            "execution.checkpointing.unaligned.enabled=true",
            "execution.checkpointing.max-concurrent-checkpoints=2",
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("need execution.checkpointing.max-concurrent-checkpoints 1"), "{err}");
    }
}
