use super::*;

/// A fake clock: seconds after a fixed start.
struct Clock(Instant);

impl Clock {
    fn new() -> Self {
        Self(Instant::now())
    }

    fn at(&self, seconds: f64) -> Instant {
        self.0 + Duration::from_secs_f64(seconds)
    }
}

fn restart(seconds: f64) -> Decision {
    Decision::Restart { after: Duration::from_secs_f64(seconds) }
}

fn gives_up(decision: &Decision) -> bool {
    matches!(decision, Decision::GiveUp { .. })
}

fn config(pairs: &[&str]) -> Configuration {
    let mut c = Configuration::new();
    for pair in pairs {
        c.set_dynamic(pair).unwrap();
    }
    c
}

#[test]
fn no_restart_gives_up_at_once() {
    let clock = Clock::new();
    let mut s = RestartStrategy::from_config(&config(&[])).unwrap();
    assert!(matches!(s, RestartStrategy::NoRestart), "no type and no checkpointing: none");
    let decision = s.on_failure(clock.at(0.0));
    assert!(gives_up(&decision));
    for alias in ["disable", "off", "none", "NONE"] {
        let s = RestartStrategy::from_config(&config(&[&format!("restart-strategy.type={alias}")])).unwrap();
        assert!(matches!(s, RestartStrategy::NoRestart), "{alias}");
    }
}

#[test]
fn fixed_delay_restarts_attempts_times() {
    let clock = Clock::new();
    let mut s = RestartStrategy::from_config(&config(&[
        "restart-strategy.type=fixeddelay",
        "restart-strategy.fixed-delay.attempts=2",
        "restart-strategy.fixed-delay.delay=5 s",
    ]))
    .unwrap();
    assert_eq!(s.on_failure(clock.at(0.0)), restart(5.0));
    assert_eq!(s.on_failure(clock.at(100.0)), restart(5.0));
    assert_eq!(
        s.on_failure(clock.at(200.0)),
        Decision::GiveUp {
            reason: "the job failed 3 times and restart-strategy.fixed-delay.attempts allows 2 restarts".into()
        }
    );
}

#[test]
fn fixed_delay_defaults_are_flinks() {
    let s = RestartStrategy::from_config(&config(&["restart-strategy.type=fixed-delay"])).unwrap();
    let RestartStrategy::FixedDelay(f) = s else { panic!("{s:?}") };
    assert_eq!((f.attempts, f.delay), (1, Duration::from_secs(1)));
}

#[test]
fn failure_rate_gives_up_when_too_many_failures_fall_in_the_interval() {
    let clock = Clock::new();
    let mut s = RestartStrategy::FailureRate(FailureRate::new(2, Duration::from_secs(60), Duration::from_secs(1)));
    assert_eq!(s.on_failure(clock.at(0.0)), restart(1.0));
    assert_eq!(s.on_failure(clock.at(10.0)), restart(1.0));
    assert_eq!(s.on_failure(clock.at(70.0)), restart(1.0), "3 failures, but spread over 70 s");
    assert_eq!(s.on_failure(clock.at(75.0)), restart(1.0), "the last 3 span 65 s");
    let decision = s.on_failure(clock.at(80.0));
    assert!(gives_up(&decision), "70, 75, 80 lie within 60 s: {decision:?}");
}

#[test]
fn failure_rate_rejects_bad_parameters() {
    let err = RestartStrategy::from_config(&config(&[
        "restart-strategy.type=failure-rate",
        "restart-strategy.failure-rate.max-failures-per-interval=0",
    ]))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value '0' for configuration key 'restart-strategy.failure-rate.max-failures-per-interval': \
         must be at least 1"
    );
}

fn exponential(attempts: u32) -> ExponentialDelay {
    ExponentialDelay::new(Duration::from_secs(1), Duration::from_secs(10), 2.0, Duration::from_secs(60), 0.0, attempts)
        .unwrap()
}

#[test]
fn exponential_backoff_grows_to_the_maximum() {
    let clock = Clock::new();
    let mut s = RestartStrategy::ExponentialDelay(exponential(u32::MAX));
    // Each failure happens after the previous restart.
    assert_eq!(s.on_failure(clock.at(0.0)), restart(1.0)); // restart at 1
    assert_eq!(s.on_failure(clock.at(2.0)), restart(2.0)); // at 4
    assert_eq!(s.on_failure(clock.at(5.0)), restart(4.0)); // at 9
    assert_eq!(s.on_failure(clock.at(10.0)), restart(8.0)); // at 18
    assert_eq!(s.on_failure(clock.at(19.0)), restart(10.0)); // 16 capped; at 29
    assert_eq!(s.on_failure(clock.at(30.0)), restart(10.0)); // at 40
}

#[test]
fn exponential_backoff_resets_after_a_stable_period() {
    let clock = Clock::new();
    let mut s = RestartStrategy::ExponentialDelay(exponential(u32::MAX));
    s.on_failure(clock.at(0.0)); // 1 s, restart at 1
    s.on_failure(clock.at(2.0)); // 2 s, restart at 4
    assert_eq!(s.on_failure(clock.at(63.0)), restart(4.0), "59 s of running is not enough");
    assert_eq!(s.on_failure(clock.at(127.0)), restart(1.0), "60 s after the restart at 67: back to the start");
}

#[test]
fn failures_during_a_pending_restart_count_once() {
    let clock = Clock::new();
    let mut s = RestartStrategy::ExponentialDelay(exponential(u32::MAX));
    assert_eq!(s.on_failure(clock.at(0.0)), restart(1.0));
    assert_eq!(s.on_failure(clock.at(0.25)), restart(0.75), "joins the pending restart");
    assert_eq!(s.on_failure(clock.at(2.0)), restart(2.0), "the second incident, not the third");
}

#[test]
fn exponential_gives_up_after_attempts_without_reset() {
    let clock = Clock::new();
    let mut s = RestartStrategy::ExponentialDelay(exponential(2));
    assert_eq!(s.on_failure(clock.at(0.0)), restart(1.0));
    assert_eq!(s.on_failure(clock.at(2.0)), restart(2.0));
    let decision = s.on_failure(clock.at(5.0));
    assert_eq!(
        decision,
        Decision::GiveUp {
            reason: "2 restarts without 60s of stable running in between; \
                     restart-strategy.exponential-delay.attempts-before-reset-backoff is 2"
                .into()
        }
    );

    let mut s = RestartStrategy::ExponentialDelay(exponential(2));
    s.on_failure(clock.at(0.0));
    s.on_failure(clock.at(2.0)); // restart at 4
    assert_eq!(s.on_failure(clock.at(64.0)), restart(1.0), "a reset restores the attempts");
}

#[test]
fn jitter_stays_within_its_factor() {
    let clock = Clock::new();
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..200 {
        let strategy = ExponentialDelay::new(
            Duration::from_secs(4),
            Duration::from_secs(60),
            2.0,
            Duration::from_secs(60),
            0.25,
            10,
        )
        .unwrap()
        .with_seed(seed);
        let mut s = RestartStrategy::ExponentialDelay(strategy);
        s.on_failure(clock.at(0.0)); // 4 s ± 1 s, clamped below at 4 s
        let Decision::Restart { after } = s.on_failure(clock.at(10.0)) else { panic!() };
        assert!((Duration::from_secs(6)..=Duration::from_secs(10)).contains(&after), "8 s ± 2 s: {after:?}");
        seen.insert(after);
    }
    assert!(seen.len() > 10, "jitter varies: {seen:?}");
}

#[test]
fn exponential_is_the_default_with_checkpointing_and_has_flinks_defaults() {
    let s = RestartStrategy::from_config(&config(&["execution.checkpointing.interval=10 s"])).unwrap();
    let RestartStrategy::ExponentialDelay(e) = s else { panic!("{s:?}") };
    assert_eq!(e.initial_backoff, Duration::from_secs(1));
    assert_eq!(e.max_backoff, Duration::from_secs(60));
    assert_eq!(e.multiplier, 1.5);
    assert_eq!(e.reset_threshold, Duration::from_secs(3600));
    assert_eq!(e.jitter, 0.1);
    assert_eq!(e.attempts_before_reset, i32::MAX as u32);
}

#[test]
fn exponential_rejects_what_flink_rejects() {
    let err = RestartStrategy::from_config(&config(&[
        "restart-strategy.type=exponential-delay",
        "restart-strategy.exponential-delay.backoff-multiplier=1.0",
    ]))
    .unwrap_err()
    .to_string();
    assert!(err.ends_with("backoff-multiplier must be greater than 1"), "{err}");
    let err = RestartStrategy::from_config(&config(&[
        "restart-strategy.type=exponential-delay",
        "restart-strategy.exponential-delay.initial-backoff=2 min",
    ]))
    .unwrap_err()
    .to_string();
    assert!(err.ends_with("initial-backoff must be at least 1 ms and at most max-backoff"), "{err}");
}
