//! key_by with the rolling aggregations (Flink semantics) and KeyedStream::process.
//!
//! In STREAMING mode a rolling aggregation emits the key's new value after every
//! record, so each key's outputs form an exact sequence: a single upstream subtask
//! sends a key's records in order over one channel.

use crate::support::{collect, env, owner_of, per_key, sorted};
use brook_api::{Collector, KeyedContext, OutputTag};

type Row = (String, i64, String);

fn row(key: &str, value: i64, tag: &str) -> Row {
    (key.to_string(), value, tag.to_string())
}

/// Two keys, interleaved; tags name each record.
fn rows() -> Vec<Row> {
    vec![
        row("a", 5, "a1"),
        row("b", 2, "b1"),
        row("a", 3, "a2"),
        row("a", 3, "a3"),
        row("b", 9, "b2"),
        row("a", 7, "a4"),
        row("a", 7, "a5"),
        row("b", 1, "b3"),
        row("a", 1, "a6"),
    ]
}

fn by_key(out: Vec<Row>) -> Vec<(String, Vec<(i64, String)>)> {
    per_key(out.into_iter().map(|(k, v, t)| (k, (v, t)))).into_iter().collect()
}

fn expect(a: &[(i64, &str)], b: &[(i64, &str)]) -> Vec<(String, Vec<(i64, String)>)> {
    let conv = |xs: &[(i64, &str)]| xs.iter().map(|(v, t)| (*v, t.to_string())).collect::<Vec<_>>();
    vec![("a".to_string(), conv(a)), ("b".to_string(), conv(b))]
}

#[test]
fn reduce_emits_every_accumulated_value_in_order_per_key() {
    let env = env(2);
    let stream = env
        .from_collection(vec![
            ("a".to_string(), 1i64),
            ("b".into(), 10),
            ("a".into(), 2),
            ("b".into(), 20),
            ("a".into(), 3),
        ])
        .key_by(|(k, _): &(String, i64)| k.clone())
        .reduce(|(k, x): (String, i64), (_, y): (String, i64)| (k, x + y));
    let groups = per_key(collect(&env, stream));
    assert_eq!(groups["a"], vec![1, 3, 6]);
    assert_eq!(groups["b"], vec![10, 30]);
    assert_eq!(groups.len(), 2);
}

#[test]
fn sum_counts_words_one_update_at_a_time() {
    let env = env(2);
    let words = "to be or not to be to".split(' ').map(|w| (w.to_string(), 1i64)).collect();
    let stream =
        env.from_collection(words).key_by(|(w, _): &(String, i64)| w.clone()).sum(|(_, n): &mut (String, i64)| n);
    let groups: Vec<(String, Vec<i64>)> = per_key(collect(&env, stream)).into_iter().collect();
    let expected: Vec<(String, Vec<i64>)> =
        vec![("be".into(), vec![1, 2]), ("not".into(), vec![1]), ("or".into(), vec![1]), ("to".into(), vec![1, 2, 3])];
    assert_eq!(groups, expected);
}

#[test]
fn min_updates_only_the_field_and_keeps_the_first_records_other_fields() {
    let env = env(2);
    let stream = env.from_collection(rows()).key_by(|r: &Row| r.0.clone()).min(|r: &mut Row| &mut r.1);
    assert_eq!(
        by_key(collect(&env, stream)),
        expect(&[(5, "a1"), (3, "a1"), (3, "a1"), (3, "a1"), (3, "a1"), (1, "a1")], &[(2, "b1"), (2, "b1"), (1, "b1")])
    );
}

#[test]
fn max_updates_only_the_field_and_keeps_the_first_records_other_fields() {
    let env = env(2);
    let stream = env.from_collection(rows()).key_by(|r: &Row| r.0.clone()).max(|r: &mut Row| &mut r.1);
    assert_eq!(
        by_key(collect(&env, stream)),
        expect(&[(5, "a1"), (5, "a1"), (5, "a1"), (7, "a1"), (7, "a1"), (7, "a1")], &[(2, "b1"), (9, "b1"), (9, "b1")])
    );
}

#[test]
fn min_by_returns_the_whole_record_with_the_first_minimum() {
    let env = env(2);
    let stream = env.from_collection(rows()).key_by(|r: &Row| r.0.clone()).min_by(|r: &Row| r.1);
    assert_eq!(
        by_key(collect(&env, stream)),
        expect(&[(5, "a1"), (3, "a2"), (3, "a2"), (3, "a2"), (3, "a2"), (1, "a6")], &[(2, "b1"), (2, "b1"), (1, "b3")])
    );
}

#[test]
fn max_by_returns_the_whole_record_with_the_first_maximum() {
    let env = env(2);
    let stream = env.from_collection(rows()).key_by(|r: &Row| r.0.clone()).max_by(|r: &Row| r.1);
    assert_eq!(
        by_key(collect(&env, stream)),
        expect(&[(5, "a1"), (5, "a1"), (5, "a1"), (7, "a4"), (7, "a4"), (7, "a4")], &[(2, "b1"), (9, "b2"), (9, "b2")])
    );
}

#[test]
fn sum_over_a_parallel_source_gives_each_key_its_running_total() {
    // Two upstream subtasks send records of one key over two channels, so the
    // interleaving is not defined, but the totals are a running sum that ends at the
    // key's total, and every update is emitted once.
    let env = env(2);
    let stream = env
        .generate_sequence(1, 200)
        .map(|x: i64| (x % 3, x))
        .key_by(|(k, _): &(i64, i64)| *k)
        .sum(|(_, v): &mut (i64, i64)| v);
    let groups = per_key(collect(&env, stream));
    for key in 0..3 {
        let values: Vec<i64> = (1..=200).filter(|x| x % 3 == key).collect();
        let totals = &groups[&key];
        assert_eq!(totals.len(), values.len(), "key {key}");
        assert_eq!(*totals.last().unwrap(), values.iter().sum::<i64>(), "key {key}");
        assert!(totals.windows(2).all(|w| w[0] < w[1]), "key {key}: running totals grow: {totals:?}");
    }
    assert_eq!(groups.len(), 3);
}

#[test]
fn keyed_process_sees_the_current_key_in_the_subtask_that_owns_it() {
    let env = env(2);
    let input: Vec<(String, i64)> = (0..40).map(|i| (format!("key-{}", i % 8), i)).collect();
    let stream = env.from_collection(input.clone()).key_by(|(k, _): &(String, i64)| k.clone()).process(
        |(k, v): (String, i64),
         ctx: &mut KeyedContext<'_, String>,
         out: &mut Collector<(String, String, i64, usize)>| {
            out.collect((ctx.current_key().clone(), k, v, ctx.runtime_context().index_of_this_subtask()));
        },
    );
    let out = collect(&env, stream);
    let expected: Vec<(String, String, i64, usize)> =
        input.iter().map(|(k, v)| (k.clone(), k.clone(), *v, owner_of(k, 2))).collect();
    assert_eq!(sorted(out.clone()), sorted(expected));
    // Both subtasks own some of the 8 keys, so the test is not trivially on one subtask.
    let subtasks: std::collections::BTreeSet<usize> = out.iter().map(|r| r.3).collect();
    assert_eq!(subtasks.len(), 2);
    // Per key, records arrive in input order.
    let groups = per_key(out.into_iter().map(|(k, _, v, _)| (k, v)));
    for (k, vs) in groups {
        let expected: Vec<i64> = input.iter().filter(|(ik, _)| *ik == k).map(|(_, v)| *v).collect();
        assert_eq!(vs, expected, "{k}");
    }
}

#[test]
fn key_by_then_into_data_stream_partitions_without_aggregating() {
    let env = env(2);
    let stream =
        env.generate_sequence(1, 50).key_by(|x: &i64| x % 5).into_data_stream().process(crate::support::TagSubtask);
    let out = collect(&env, stream);
    let expected: Vec<(usize, i64)> = (1..=50).map(|x| (owner_of(&(x % 5), 2), x)).collect();
    assert_eq!(sorted(out), sorted(expected));
}

#[test]
fn keyed_process_emits_to_side_outputs() {
    let env = env(2);
    let rare: OutputTag<String> = OutputTag::new("rare");
    let tag = rare.clone();
    let main = env.generate_sequence(1, 30).key_by(|x: &i64| x % 3).process(
        move |x: i64, ctx: &mut KeyedContext<'_, i64>, out: &mut Collector<i64>| {
            if *ctx.current_key() == 0 {
                ctx.output(&tag, format!("three divides {x}"));
            } else {
                out.collect(x);
            }
        },
    );
    let side = main.get_side_output(&rare).collect();
    let handle = main.collect();
    crate::support::run(&env, "keyed side output").unwrap();
    assert_eq!(sorted(handle.take()), (1..=30).filter(|x| x % 3 != 0).collect::<Vec<_>>());
    assert_eq!(
        sorted(side.take()),
        sorted((1..=30).filter(|x| x % 3 == 0).map(|x| format!("three divides {x}")).collect())
    );
}

#[test]
fn key_by_ref_aggregates_exactly_like_key_by() {
    // Same job twice: the key cloned out of the record, and borrowed from it.
    let words: Vec<(String, i64)> =
        "b a c a b a d a".split(' ').enumerate().map(|(i, w)| (w.to_string(), i as i64)).collect();
    let owned = {
        let env = env(2);
        let out = env
            .from_collection(words.clone())
            .key_by(|(w, _): &(String, i64)| w.clone())
            .sum(|(_, n): &mut (String, i64)| n)
            .execute_and_collect("owned keys")
            .unwrap();
        per_key(out)
    };
    let borrowed = {
        let env = env(2);
        let out = env
            .from_collection(words)
            .key_by_ref(|(w, _): &(String, i64)| w)
            .sum(|(_, n): &mut (String, i64)| n)
            .execute_and_collect("borrowed keys")
            .unwrap();
        per_key(out)
    };
    assert_eq!(borrowed, owned);
    // "a" is at positions 1, 3, 5, 7: its running sums are 1, 4, 9, 16.
    assert_eq!(borrowed.get("a"), Some(&vec![1, 4, 9, 16]));
}
