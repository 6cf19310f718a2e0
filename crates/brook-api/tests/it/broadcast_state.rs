//! The broadcast state pattern: rules broadcast to a keyed stream
//! (`stream.broadcast_with(descriptor)`, `keyed.connect(rules).process(..)`), every
//! subtask holding every rule, and the rules surviving a failure through the
//! checkpoint.
//!
//! Determinism: the keyed side buffers its values in keyed list state and decides at
//! an event-time timer at the end of time; a two-input operator's watermark is the
//! minimum of its inputs', so that timer fires only after the broadcast input ended,
//! that is after every rule was processed.

use crate::support::{JOB_DEADLINE, ThrottledSequence, collect, env_with_slots, eventually, sorted};
use brook_api::{
    BroadcastContext, BroadcastProcessFunction, Collector, Configuration, Context, KeyedBroadcastProcessFunction,
    ListState, ListStateDescriptor, MapStateDescriptor, ReadOnlyBroadcastContext, ReadOnlyContext, RuntimeContext,
    StreamExecutionEnvironment, Watermark,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// (category, threshold): values of a category above its threshold raise an alert.
const RULES: [(i64, i64); 3] = [(0, 5), (1, 8), (2, 100)];

fn rules_descriptor() -> MapStateDescriptor<i64, i64> {
    MapStateDescriptor::new("thresholds")
}

/// Keyed by category (`v % 3`): buffers the values; at the end of input emits
/// "category c > t: n values, sum s" for the values above the category's threshold. With
/// `announce`, each subtask also emits "subtask i rule c > t" per rule it receives.
#[derive(Clone)]
struct Alerts {
    announce: bool,
    buffer: ListState<i64>,
}

impl Alerts {
    fn new(announce: bool) -> Self {
        Self { announce, buffer: ListState::default() }
    }
}

impl KeyedBroadcastProcessFunction<i64, i64, (i64, i64), String> for Alerts {
    fn open(&mut self, ctx: &RuntimeContext) {
        self.buffer = ctx.get_state(&ListStateDescriptor::new("buffer"));
    }

    fn process_element(&mut self, v: i64, ctx: &mut ReadOnlyContext<'_, '_, i64>, _out: &mut Collector<String>) {
        ctx.list_state(&self.buffer).add(v);
        ctx.timer_service().register_event_time_timer(Watermark::MAX.0);
    }

    fn process_broadcast_element(
        &mut self,
        (category, threshold): (i64, i64),
        ctx: &mut BroadcastContext<'_>,
        out: &mut Collector<String>,
    ) {
        ctx.broadcast_state(&rules_descriptor()).expect("the rules state").put(category, threshold);
        if self.announce {
            let subtask = ctx.runtime_context().index_of_this_subtask();
            out.collect(format!("subtask {subtask} rule {category} > {threshold}"));
        }
    }

    fn on_timer(&mut self, _t: i64, ctx: &mut ReadOnlyContext<'_, '_, i64>, out: &mut Collector<String>) {
        let category = *ctx.current_key();
        let values = ctx.list_state(&self.buffer).get().to_vec();
        let rules = ctx.broadcast_state(&rules_descriptor()).expect("the rules state");
        let Some(&threshold) = rules.get(&category) else { return };
        out.collect(alert(category, threshold, values.into_iter()));
    }
}

fn alert(category: i64, threshold: i64, values: impl Iterator<Item = i64>) -> String {
    let over: Vec<i64> = values.filter(|v| *v > threshold).collect();
    format!("category {category} > {threshold}: {} values, sum {}", over.len(), over.iter().sum::<i64>())
}

fn alerts_job(env: &StreamExecutionEnvironment, n: i64) -> Vec<String> {
    let rules = env.from_collection(RULES.to_vec()).set_parallelism(1).broadcast_with(rules_descriptor());
    let alerts = env
        .from_collection((1..=n).collect())
        .set_parallelism(1)
        .key_by(|v: &i64| v % 3)
        .connect(rules)
        .process(Alerts::new(true));
    sorted(collect(env, alerts))
}

#[test]
fn rules_broadcast_to_a_keyed_stream_raise_exact_alerts() {
    let out = alerts_job(&env_with_slots(2, 2), 12);
    let alerts: Vec<&String> = out.iter().filter(|l| l.starts_with("category")).collect();
    assert_eq!(
        alerts,
        [
            "category 0 > 5: 3 values, sum 27", // 6 9 12
            "category 1 > 8: 1 values, sum 10",
            "category 2 > 100: 0 values, sum 0",
        ]
    );
}

#[test]
fn every_subtask_sees_every_rule() {
    let out = alerts_job(&env_with_slots(2, 2), 12);
    let announced: Vec<&String> = out.iter().filter(|l| l.starts_with("subtask")).collect();
    assert_eq!(
        announced,
        [
            "subtask 0 rule 0 > 5",
            "subtask 0 rule 1 > 8",
            "subtask 0 rule 2 > 100",
            "subtask 1 rule 0 > 5",
            "subtask 1 rule 1 > 8",
            "subtask 1 rule 2 > 100",
        ]
    );
}

#[test]
fn broadcast_state_survives_a_failure_through_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Configuration::new();
    for pair in [
        "taskmanager.numberOfTaskSlots=4".to_string(),
        format!("execution.checkpointing.dir=file://{}", dir.path().display()),
        "execution.checkpointing.interval=40 ms".to_string(),
        "restart-strategy.type=fixed-delay".to_string(),
        "restart-strategy.fixed-delay.attempts=3".to_string(),
        "restart-strategy.fixed-delay.delay=10 ms".to_string(),
    ] {
        config.set_dynamic(&pair).expect("a valid option");
    }
    let env = StreamExecutionEnvironment::with_configuration(config);
    env.set_parallelism(2);
    let n = 8_000;
    let (armed, panicked) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    // The rules reach the operator in the first attempt only: after the restart they
    // exist only as the restored broadcast state.
    let rules = env
        .from_collection(RULES.to_vec())
        .set_parallelism(1)
        .process(|rule: (i64, i64), ctx: &mut Context<'_>, out: &mut Collector<(i64, i64)>| {
            if ctx.runtime_context().attempt_number == 0 {
                out.collect(rule);
            }
        })
        .broadcast_with(rules_descriptor());
    let (arm, fired) = (armed.clone(), panicked.clone());
    let data =
        env.from_source(ThrottledSequence { to: n, per_ms: 10 }, "Data").set_parallelism(1).map(move |v: i64| {
            if v >= 2_000 && arm.load(Ordering::Relaxed) && !fired.swap(true, Ordering::SeqCst) {
                panic!("injected failure at {v}");
            }
            v
        });
    let handle = data.key_by(|v: &i64| v % 3).connect(rules).process(Alerts::new(false)).collect();
    let client = env.execute_async("broadcast state recovery").unwrap();
    assert!(eventually(&client, Duration::from_secs(30), |s| s.completed_checkpoints >= 1), "no checkpoint completed");
    armed.store(true, Ordering::SeqCst);
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = client.clone();
    std::thread::spawn(move || {
        let _ = tx.send(waiter.wait_for_result());
    });
    let result = rx.recv_timeout(JOB_DEADLINE).expect("the job ends in time");
    result.expect("the job recovers and finishes");
    assert!(panicked.load(Ordering::SeqCst), "the failure was injected");
    assert_eq!(client.snapshot().restarts, 1);
    let expected: Vec<String> =
        sorted(RULES.iter().map(|&(c, t)| alert(c, t, (1..=n).filter(|v| v % 3 == c))).collect());
    assert_eq!(sorted(handle.take()), expected);
}

/// Non-keyed: each broadcast rule (name, value; a negative value removes the name)
/// updates every subtask's state, which then emits its whole state; elements pass
/// through as "data v" after reading the state (read-only).
#[derive(Clone)]
struct RuleLog;

fn named_rules() -> MapStateDescriptor<String, i64> {
    MapStateDescriptor::new("named rules")
}

impl BroadcastProcessFunction<i64, (String, i64), String> for RuleLog {
    fn process_element(&mut self, v: i64, ctx: &mut ReadOnlyBroadcastContext<'_>, out: &mut Collector<String>) {
        let rules = ctx.broadcast_state(&named_rules()).expect("the rules state");
        assert!(rules.iter().all(|(_, value)| *value >= 0), "removed rules are gone");
        out.collect(format!("data {v}"));
    }

    fn process_broadcast_element(
        &mut self,
        (name, value): (String, i64),
        ctx: &mut BroadcastContext<'_>,
        out: &mut Collector<String>,
    ) {
        let subtask = ctx.runtime_context().index_of_this_subtask();
        let mut rules = ctx.broadcast_state(&named_rules()).expect("the rules state");
        if value < 0 {
            rules.remove(&name);
        } else {
            rules.put(name, value);
        }
        let mut all: Vec<String> = rules.iter().map(|(k, v)| format!("{k}={v}")).collect();
        all.sort();
        out.collect(format!("subtask {subtask}: {}", all.join(" ")));
    }
}

#[test]
fn a_non_keyed_stream_connected_to_broadcast_rules_sees_them_in_every_subtask() {
    let env = env_with_slots(3, 3);
    let rules = vec![("a".to_string(), 1), ("b".to_string(), 2), ("a".to_string(), -1)];
    let rules = env.from_collection(rules).set_parallelism(1).broadcast_with(named_rules());
    let out = env.from_collection(vec![1_i64, 2, 3, 4]).connect_broadcast(rules).process(RuleLog);
    let mut expected: Vec<String> = (1..=4).map(|v| format!("data {v}")).collect();
    for subtask in 0..3 {
        for state in ["a=1", "a=1 b=2", "b=2"] {
            expected.push(format!("subtask {subtask}: {state}"));
        }
    }
    assert_eq!(sorted(collect(&env, out)), sorted(expected));
}

/// Rules from a throttled sequence that keeps running (savepoints need every task
/// running): elements 1..=3 become the three rules (unless `send_rules` is false),
/// `rules_sent` is set after the third; and a throttled 1..=n → the alerts.
fn rescalable_alerts(
    env: &StreamExecutionEnvironment,
    n: i64,
    send_rules: bool,
    rules_sent: &Arc<AtomicBool>,
) -> brook_api::CollectHandle<String> {
    let sent = rules_sent.clone();
    let rules = env
        .from_source(ThrottledSequence { to: n, per_ms: 20 }, "Rules")
        .uid("rules source")
        .set_parallelism(1)
        .process(move |v: i64, _ctx: &mut Context<'_>, out: &mut Collector<(i64, i64)>| {
            if send_rules && (1..=3).contains(&v) {
                out.collect(RULES[v as usize - 1]);
            }
            if v == 3 {
                sent.store(true, Ordering::SeqCst);
            }
        })
        .uid("rules")
        .broadcast_with(rules_descriptor());
    env.from_source(ThrottledSequence { to: n, per_ms: 20 }, "Data")
        .uid("data")
        .set_parallelism(1)
        .key_by(|v: &i64| v % 3)
        .connect(rules)
        .process(Alerts::new(false))
        .uid("alerts")
        .collect()
}

#[test]
fn broadcast_state_restores_from_a_savepoint_at_another_parallelism() {
    let dir = tempfile::tempdir().unwrap();
    let n = 40_000;
    let config = |extra: Option<String>| {
        let mut config = Configuration::new();
        let mut pairs = vec![
            "taskmanager.numberOfTaskSlots=4".to_string(),
            format!("execution.checkpointing.dir=file://{}/chk", dir.path().display()),
            format!("execution.checkpointing.savepoint-dir=file://{}/savepoints", dir.path().display()),
        ];
        pairs.extend(extra);
        for pair in pairs {
            config.set_dynamic(&pair).expect("a valid option");
        }
        config
    };
    let env = StreamExecutionEnvironment::with_configuration(config(None));
    env.set_parallelism(2);
    let rules_sent = Arc::new(AtomicBool::new(false));
    let _ = rescalable_alerts(&env, n, true, &rules_sent);
    let client = env.execute_async("alerts").unwrap();
    assert!(
        eventually(&client, Duration::from_secs(30), |s| {
            rules_sent.load(Ordering::SeqCst)
                && s.vertices.iter().all(|v| v.subtask_states.iter().all(|t| t.name() == "RUNNING"))
        }),
        "the job runs and sent its rules: {:?}",
        client.snapshot()
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let savepoint = runtime.block_on(client.trigger_savepoint(None, true)).expect("the savepoint completes");
    let env = StreamExecutionEnvironment::with_configuration(config(Some(format!(
        "execution.state-recovery.path={savepoint}"
    ))));
    env.set_parallelism(3);
    let out = rescalable_alerts(&env, n, false, &Arc::new(AtomicBool::new(false)));
    crate::support::run(&env, "alerts, restored").expect("the restored job finishes");
    let expected: Vec<String> =
        sorted(RULES.iter().map(|&(c, t)| alert(c, t, (1..=n).filter(|v| v % 3 == c))).collect());
    assert_eq!(sorted(out.take()), expected);
}
