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
