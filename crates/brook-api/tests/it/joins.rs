//! Interval join: hand-checked pairs for inclusive and exclusive bounds.
//!
//! Orders a@10, a@20, b@15 and payments a@8, a@12, a@25, b@30, a@20, a@23 (key@ms).
//! `between(-2, 3)` joins an order at t with payments in [t-2, t+3]:
//! a@10 → a@8, a@12; a@20 → a@20, a@23; b@15 → none (b@30 is 15 ms later).
//! An exclusive lower bound makes it [t-1, t+3] (drops a@8), an exclusive upper
//! bound [t-2, t+2] (drops a@23).

use crate::support::{collect, env, run, sorted};
use brook_api::{Collector, JoinContext, StreamExecutionEnvironment, WatermarkStrategy};

type Event = (String, i64);

fn stamped(env: &StreamExecutionEnvironment, events: &[(&str, i64)]) -> brook_api::DataStream<Event> {
    let events: Vec<Event> = events.iter().map(|(k, t)| (k.to_string(), *t)).collect();
    // Timestamps only: event time advances at end of input, so nothing is late.
    env.from_collection(events).assign_timestamps_and_watermarks(
        WatermarkStrategy::no_watermarks().with_timestamp_assigner(|e: &Event, _| e.1),
    )
}

/// (key, order time, payment time, result timestamp) for each joined pair.
fn join(p: usize, lower_exclusive: bool, upper_exclusive: bool) -> Vec<(String, i64, i64, i64)> {
    let env = env(p);
    let orders = stamped(&env, &[("a", 10), ("a", 20), ("b", 15)]);
    let payments = stamped(&env, &[("a", 8), ("a", 12), ("a", 25), ("b", 30), ("a", 20), ("a", 23)]);
    let mut joined =
        orders.key_by(|e: &Event| e.0.clone()).interval_join(payments.key_by(|e: &Event| e.0.clone())).between(-2, 3);
    if lower_exclusive {
        joined = joined.lower_bound_exclusive();
    }
    if upper_exclusive {
        joined = joined.upper_bound_exclusive();
    }
    let pairs = joined.process(
        |o: Event, pay: Event, ctx: &mut JoinContext<'_>, out: &mut Collector<(String, i64, i64, i64)>| {
            assert_eq!((ctx.left_timestamp(), ctx.right_timestamp()), (o.1, pay.1));
            out.collect((o.0, o.1, pay.1, ctx.timestamp()))
        },
    );
    sorted(collect(&env, pairs))
}

fn pairs(expected: &[(i64, i64)]) -> Vec<(String, i64, i64, i64)> {
    expected.iter().map(|&(o, p)| ("a".to_string(), o, p, o.max(p))).collect()
}

#[test]
fn interval_join_with_inclusive_bounds() {
    for p in [1, 2] {
        assert_eq!(join(p, false, false), pairs(&[(10, 8), (10, 12), (20, 20), (20, 23)]), "p={p}");
    }
}

#[test]
fn interval_join_with_exclusive_bounds() {
    assert_eq!(join(2, true, false), pairs(&[(10, 12), (20, 20), (20, 23)]));
    assert_eq!(join(2, false, true), pairs(&[(10, 8), (10, 12), (20, 20)]));
    assert_eq!(join(2, true, true), pairs(&[(10, 12), (20, 20)]));
}

#[test]
fn interval_join_results_carry_the_later_timestamp() {
    let env = env(2);
    let orders = stamped(&env, &[("a", 10), ("a", 20)]);
    let payments = stamped(&env, &[("a", 12), ("a", 19)]);
    let stamps = orders
        .key_by(|e: &Event| e.0.clone())
        .interval_join(payments.key_by(|e: &Event| e.0.clone()))
        .between(-5, 5)
        .process(|o: Event, p: Event, _ctx: &mut JoinContext<'_>, out: &mut Collector<(i64, i64)>| {
            out.collect((o.1, p.1))
        })
        .process(|pair: (i64, i64), ctx: &mut brook_api::Context<'_>, out: &mut Collector<(i64, i64, Option<i64>)>| {
            out.collect((pair.0, pair.1, ctx.timestamp()))
        });
    assert_eq!(sorted(collect(&env, stamps)), vec![(10, 12, Some(12)), (20, 19, Some(20))]);
}

#[test]
fn interval_join_bounds_must_be_ordered() {
    let env = env(1);
    let left = stamped(&env, &[("a", 1)]);
    let right = stamped(&env, &[("a", 1)]);
    left.key_by(|e: &Event| e.0.clone())
        .interval_join(right.key_by(|e: &Event| e.0.clone()))
        .between(5, -5)
        .process(|_: Event, _: Event, _: &mut JoinContext<'_>, _: &mut Collector<i64>| {})
        .discard();
    let err = run(&env, "bad bounds").unwrap_err().to_string();
    assert!(err.contains("lower bound 5 ms is above upper bound -5 ms"), "{err}");
}

/// Window join and co-group over tumbling 10 ms event-time windows.
///
/// Left a@1, a@5, b@3, a@12; right a@2, b@8, a@15, c@4 (key@ms). Window [0, 10):
/// a: {1, 5} × {2}; b: {3} × {8}; c: {} × {4}. Window [10, 20): a: {12} × {15}.
fn windowed_inputs(env: &StreamExecutionEnvironment) -> (brook_api::DataStream<Event>, brook_api::DataStream<Event>) {
    (stamped(env, &[("a", 1), ("a", 5), ("b", 3), ("a", 12)]), stamped(env, &[("a", 2), ("b", 8), ("a", 15), ("c", 4)]))
}

#[test]
fn window_join_emits_each_pair_of_a_window() {
    for p in [1, 2] {
        let env = env(p);
        let (left, right) = windowed_inputs(&env);
        let joined = left
            .join(right)
            .where_(|e: &Event| e.0.clone())
            .equal_to(|e: &Event| e.0.clone())
            .window(brook_runtime::window::TumblingEventTimeWindows::of(std::time::Duration::from_millis(10)))
            .apply(|l: Event, r: Event| (l.0, l.1, r.1));
        let expected: Vec<(String, i64, i64)> =
            vec![("a".into(), 1, 2), ("a".into(), 5, 2), ("a".into(), 12, 15), ("b".into(), 3, 8)];
        assert_eq!(sorted(collect(&env, joined)), expected, "p={p}");
    }
}

#[test]
fn window_co_group_sees_both_sides_even_when_one_is_empty() {
    let env = env(2);
    let (left, right) = windowed_inputs(&env);
    let grouped = left
        .co_group(right)
        .where_(|e: &Event| e.0.clone())
        .equal_to(|e: &Event| e.0.clone())
        .window(brook_runtime::window::TumblingEventTimeWindows::of(std::time::Duration::from_millis(10)))
        .apply(|l: Vec<Event>, r: Vec<Event>, out: &mut Collector<(String, Vec<i64>, Vec<i64>)>| {
            let key = l.first().or(r.first()).map(|e| e.0.clone()).unwrap_or_default();
            let mut lt: Vec<i64> = l.iter().map(|e| e.1).collect();
            let mut rt: Vec<i64> = r.iter().map(|e| e.1).collect();
            lt.sort();
            rt.sort();
            out.collect((key, lt, rt));
        });
    let expected: Vec<(String, Vec<i64>, Vec<i64>)> = vec![
        ("a".into(), vec![1, 5], vec![2]),
        ("a".into(), vec![12], vec![15]),
        ("b".into(), vec![3], vec![8]),
        ("c".into(), vec![], vec![4]),
    ];
    assert_eq!(sorted(collect(&env, grouped)), expected);
}
