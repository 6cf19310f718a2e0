//! Restart strategies: whether, and after how long, a failed job restarts from its latest
//! completed checkpoint. Pure decisions with the clock passed in, as Flink's
//! `RestartBackoffTimeStrategy` implementations:
//!
//! - `disable` / `none` / `off`: never restart.
//! - `fixed-delay`: restart after `delay`, at most `attempts` times.
//! - `failure-rate`: restart after `delay` unless more than `max-failures-per-interval`
//!   failures happened within `failure-rate-interval`.
//! - `exponential-delay`: restart after a backoff that starts at `initial-backoff`, is
//!   multiplied by `backoff-multiplier` per restart up to `max-backoff`, varies by
//!   ±`jitter-factor`, and goes back to `initial-backoff` once the job ran
//!   `reset-backoff-threshold` without failing. Failures while a restart is pending count
//!   as one. It gives up after `attempts-before-reset-backoff` restarts without a reset.
//!
//! Not set: `exponential-delay` if checkpointing is enabled, else `disable`.

use crate::error::{CheckpointError, Result};
use brook_types::config::{ConfigOption, Configuration, options};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What to do about a failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Restart after this delay.
    Restart { after: Duration },
    /// Fail the job; `reason` says which limit was reached.
    GiveUp { reason: String },
}

/// A restart strategy with its state.
#[derive(Clone, Debug)]
pub enum RestartStrategy {
    NoRestart,
    FixedDelay(FixedDelay),
    FailureRate(FailureRate),
    ExponentialDelay(ExponentialDelay),
}

impl RestartStrategy {
    /// The strategy `restart-strategy.*` configures; without `restart-strategy.type`,
    /// exponential-delay when `execution.checkpointing.interval` is set, else none.
    pub fn from_config(config: &Configuration) -> Result<Self> {
        let kind = match config.get_optional(&options::RESTART_STRATEGY) {
            Some(kind) => kind.trim().to_ascii_lowercase(),
            None if config.get_optional_duration(&options::CHECKPOINTING_INTERVAL).is_some() => {
                "exponential-delay".to_string()
            }
            None => "disable".to_string(),
        };
        match kind.as_str() {
            "disable" | "none" | "off" => Ok(Self::NoRestart),
            "fixed-delay" | "fixeddelay" => {
                let attempts = config.get_i64(&options::FIXED_DELAY_ATTEMPTS);
                Ok(Self::FixedDelay(FixedDelay::new(
                    u32::try_from(attempts)
                        .map_err(|_| invalid(&options::FIXED_DELAY_ATTEMPTS, config, "must be 0 or more"))?,
                    config.get_duration(&options::FIXED_DELAY_DELAY),
                )))
            }
            "failure-rate" | "failurerate" => {
                let max = config.get_i64(&options::FAILURE_RATE_MAX_FAILURES_PER_INTERVAL);
                let interval = config.get_duration(&options::FAILURE_RATE_INTERVAL);
                if max <= 0 {
                    return Err(invalid(
                        &options::FAILURE_RATE_MAX_FAILURES_PER_INTERVAL,
                        config,
                        "must be at least 1",
                    ));
                }
                if interval.is_zero() {
                    return Err(invalid(&options::FAILURE_RATE_INTERVAL, config, "must be longer than 0 ms"));
                }
                Ok(Self::FailureRate(FailureRate::new(
                    usize::try_from(max).expect("a positive i64 fits a usize on 64-bit targets"),
                    interval,
                    config.get_duration(&options::FAILURE_RATE_DELAY),
                )))
            }
            "exponential-delay" | "exponentialdelay" => {
                Ok(Self::ExponentialDelay(ExponentialDelay::from_config(config)?))
            }
            _ => Err(invalid(&options::RESTART_STRATEGY, config, "unknown restart strategy")),
        }
    }

    /// Records a failure at `now` and decides.
    pub fn on_failure(&mut self, now: Instant) -> Decision {
        match self {
            RestartStrategy::NoRestart => Decision::GiveUp {
                reason: "restarts are disabled (restart-strategy.type is disable, or not set while checkpointing \
                         is disabled)"
                    .to_string(),
            },
            RestartStrategy::FixedDelay(s) => s.on_failure(),
            RestartStrategy::FailureRate(s) => s.on_failure(now),
            RestartStrategy::ExponentialDelay(s) => s.on_failure(now),
        }
    }
}

fn invalid(option: &ConfigOption, config: &Configuration, reason: &str) -> CheckpointError {
    CheckpointError::InvalidConfig { key: option.key, value: config.get_raw(option), reason: reason.to_string() }
}

/// `fixed-delay`.
#[derive(Clone, Debug)]
pub struct FixedDelay {
    pub attempts: u32,
    pub delay: Duration,
    failures: u32,
}

impl FixedDelay {
    pub fn new(attempts: u32, delay: Duration) -> Self {
        Self { attempts, delay, failures: 0 }
    }

    fn on_failure(&mut self) -> Decision {
        self.failures = self.failures.saturating_add(1);
        if self.failures <= self.attempts {
            Decision::Restart { after: self.delay }
        } else {
            Decision::GiveUp {
                reason: format!(
                    "the job failed {} times and restart-strategy.fixed-delay.attempts allows {} restarts",
                    self.failures, self.attempts
                ),
            }
        }
    }
}

/// `failure-rate`.
#[derive(Clone, Debug)]
pub struct FailureRate {
    pub max_failures_per_interval: usize,
    pub interval: Duration,
    pub delay: Duration,
    /// The last `max_failures_per_interval + 1` failures.
    failures: VecDeque<Instant>,
}

impl FailureRate {
    pub fn new(max_failures_per_interval: usize, interval: Duration, delay: Duration) -> Self {
        Self { max_failures_per_interval, interval, delay, failures: VecDeque::new() }
    }

    fn on_failure(&mut self, now: Instant) -> Decision {
        if self.failures.len() > self.max_failures_per_interval {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        let earliest = *self.failures.front().expect("a failure was just recorded");
        if self.failures.len() > self.max_failures_per_interval && now.duration_since(earliest) <= self.interval {
            Decision::GiveUp {
                reason: format!(
                    "{} failures within {:?}, more than restart-strategy.failure-rate.max-failures-per-interval ({}) \
                     allows in restart-strategy.failure-rate.failure-rate-interval",
                    self.failures.len(),
                    now.duration_since(earliest),
                    self.max_failures_per_interval
                ),
            }
        } else {
            Decision::Restart { after: self.delay }
        }
    }
}

/// `exponential-delay`.
#[derive(Clone, Debug)]
pub struct ExponentialDelay {
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub multiplier: f64,
    pub reset_threshold: Duration,
    pub jitter: f64,
    pub attempts_before_reset: u32,
    /// Restarts since the last reset.
    attempt: u32,
    /// When the pending (or last) restart happens.
    next_restart: Option<Instant>,
    rng: u64,
}

impl ExponentialDelay {
    /// Checks the parameters as Flink does.
    pub fn new(
        initial_backoff: Duration,
        max_backoff: Duration,
        multiplier: f64,
        reset_threshold: Duration,
        jitter: f64,
        attempts_before_reset: u32,
    ) -> Result<Self, String> {
        if initial_backoff < Duration::from_millis(1) || max_backoff < initial_backoff {
            return Err("initial-backoff must be at least 1 ms and at most max-backoff".to_string());
        }
        if multiplier.is_nan() || multiplier <= 1.0 {
            return Err("backoff-multiplier must be greater than 1".to_string());
        }
        if reset_threshold < Duration::from_millis(1) {
            return Err("reset-backoff-threshold must be at least 1 ms".to_string());
        }
        if !(0.0..=1.0).contains(&jitter) {
            return Err("jitter-factor must be between 0 and 1".to_string());
        }
        if attempts_before_reset < 1 {
            return Err("attempts-before-reset-backoff must be at least 1".to_string());
        }
        let seed = crate::storage::layout::random_hex(16);
        Ok(Self {
            initial_backoff,
            max_backoff,
            multiplier,
            reset_threshold,
            jitter,
            attempts_before_reset,
            attempt: 0,
            next_restart: None,
            rng: u64::from_str_radix(&seed, 16).expect("random_hex returns hex digits"),
        })
    }

    fn from_config(config: &Configuration) -> Result<Self> {
        let attempts = config.get_i64(&options::EXPONENTIAL_DELAY_ATTEMPTS);
        let attempts = u32::try_from(attempts)
            .map_err(|_| invalid(&options::EXPONENTIAL_DELAY_ATTEMPTS, config, "must be at least 1"))?;
        Self::new(
            config.get_duration(&options::EXPONENTIAL_DELAY_INITIAL_BACKOFF),
            config.get_duration(&options::EXPONENTIAL_DELAY_MAX_BACKOFF),
            config.get_f64(&options::EXPONENTIAL_DELAY_BACKOFF_MULTIPLIER),
            config.get_duration(&options::EXPONENTIAL_DELAY_RESET_BACKOFF_THRESHOLD),
            config.get_f64(&options::EXPONENTIAL_DELAY_JITTER_FACTOR),
            attempts,
        )
        .map_err(|reason| CheckpointError::InvalidConfig {
            key: "restart-strategy.exponential-delay.*",
            value: format!(
                "initial-backoff={:?}, max-backoff={:?}, backoff-multiplier={}, reset-backoff-threshold={:?}, \
                 jitter-factor={}, attempts-before-reset-backoff={attempts}",
                config.get_duration(&options::EXPONENTIAL_DELAY_INITIAL_BACKOFF),
                config.get_duration(&options::EXPONENTIAL_DELAY_MAX_BACKOFF),
                config.get_f64(&options::EXPONENTIAL_DELAY_BACKOFF_MULTIPLIER),
                config.get_duration(&options::EXPONENTIAL_DELAY_RESET_BACKOFF_THRESHOLD),
                config.get_f64(&options::EXPONENTIAL_DELAY_JITTER_FACTOR),
            ),
            reason,
        })
    }

    /// Seeds the jitter, for reproducible tests.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = seed;
        self
    }

    fn on_failure(&mut self, now: Instant) -> Decision {
        if let Some(next) = self.next_restart {
            if now <= next {
                // A restart is already pending: this failure is part of the same incident.
                return Decision::Restart { after: next - now };
            }
            if now - next >= self.reset_threshold {
                self.attempt = 0;
            }
        }
        let backoff = self.backoff();
        self.next_restart = Some(now + backoff);
        self.attempt = self.attempt.saturating_add(1);
        if self.attempt <= self.attempts_before_reset {
            Decision::Restart { after: backoff }
        } else {
            Decision::GiveUp {
                reason: format!(
                    "{} restarts without {:?} of stable running in between; \
                     restart-strategy.exponential-delay.attempts-before-reset-backoff is {}",
                    self.attempt - 1,
                    self.reset_threshold,
                    self.attempts_before_reset
                ),
            }
        }
    }

    /// `initial * multiplier^attempt` ± `jitter` of that, then clamped to
    /// `[initial, max]` (Flink's order: a saturated backoff is exactly `max`).
    fn backoff(&mut self) -> Duration {
        let initial = self.initial_backoff.as_millis() as f64;
        let max = self.max_backoff.as_millis() as f64;
        let base = (initial * self.multiplier.powi(self.attempt.min(4096) as i32)).min(f64::MAX / 4.0).floor();
        let offset = (base * self.jitter).floor();
        let jitter = if offset > 0.0 {
            self.rng = brook_types::ids::splitmix64(self.rng);
            let unit = (self.rng >> 11) as f64 / (1u64 << 53) as f64;
            ((2.0 * unit - 1.0) * offset).round()
        } else {
            0.0
        };
        Duration::from_millis((base + jitter).clamp(initial, max) as u64)
    }
}

#[cfg(test)]
mod tests;
