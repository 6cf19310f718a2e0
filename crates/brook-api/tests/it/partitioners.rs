//! Every partitioner, observed by tagging each record with the subtask that sent it
//! and the subtask that received it.

use crate::support::{TagSubtask, collect, env_with_slots, owner_of, sorted};
use brook_api::{Collector, Context, DataStream};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// `(sender subtask, receiver subtask, value)` for records tagged with their sender.
fn retag(stream: DataStream<(usize, i64)>) -> DataStream<(usize, usize, i64)> {
    stream.process(|(up, v): (usize, i64), ctx: &mut Context<'_>, out: &mut Collector<(usize, usize, i64)>| {
        out.collect((up, ctx.runtime_context().index_of_this_subtask(), v));
    })
}

/// Records per receiving subtask.
fn counts_per_subtask(out: &[(usize, i64)]) -> BTreeMap<usize, usize> {
    let mut counts = BTreeMap::new();
    for (s, _) in out {
        *counts.entry(*s).or_default() += 1;
    }
    counts
}

#[test]
fn forward_keeps_records_in_the_subtask_with_the_same_index() {
    let env = env_with_slots(2, 2);
    // Subtask 0 of the source reads 1..=50, subtask 1 reads 51..=100.
    let tagged = env.generate_sequence(1, 100).process(TagSubtask);
    // Not chained, so records cross a forward network edge.
    let stream = retag(tagged.forward()).disable_chaining();
    let expected: Vec<(usize, usize, i64)> =
        (1..=100).map(|v| (((v - 1) / 50) as usize, ((v - 1) / 50) as usize, v)).collect();
    assert_eq!(sorted(collect(&env, stream)), expected);
}

#[test]
fn explicit_forward_between_different_parallelisms_fails_the_job() {
    let env = env_with_slots(2, 2);
    env.generate_sequence(1, 10).forward().map(|x: i64| x).set_parallelism(1).discard();
    let err = env.execute("bad forward").unwrap_err().to_string();
    assert!(err.contains("forward partitioning"), "{err}");
}

#[test]
fn rebalance_deals_records_round_robin() {
    let env = env_with_slots(3, 3);
    let stream = env.from_collection((1..=99i64).collect()).rebalance().process(TagSubtask);
    let out = collect(&env, stream);
    assert_eq!(counts_per_subtask(&out), BTreeMap::from([(0, 33), (1, 33), (2, 33)]));
    // Round robin from one sender: each subtask gets every third record.
    for s in 0..3 {
        let values: Vec<i64> = sorted(out.iter().filter(|(t, _)| *t == s).map(|(_, v)| *v).collect());
        assert!(values.windows(2).all(|w| w[1] - w[0] == 3), "subtask {s}: {values:?}");
    }
    assert_eq!(sorted(out.into_iter().map(|(_, v)| v).collect()), (1..=99).collect::<Vec<_>>());
}

#[test]
fn rescale_connects_each_sender_to_its_own_receivers_only() {
    let env = env_with_slots(4, 2);
    let tagged = env.generate_sequence(1, 100).process(TagSubtask);
    let stream = retag(tagged.rescale()).set_parallelism(4);
    let out = collect(&env, stream);
    let mut pairs: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for (up, down, v) in &out {
        assert_eq!(*up, ((v - 1) / 50) as usize, "sender of {v}");
        *pairs.entry((*up, *down)).or_default() += 1;
    }
    // Sender 0 reaches receivers 0 and 1 only, sender 1 receivers 2 and 3, round robin.
    assert_eq!(pairs, BTreeMap::from([((0, 0), 25), ((0, 1), 25), ((1, 2), 25), ((1, 3), 25)]));
    assert_eq!(sorted(out.into_iter().map(|r| r.2).collect()), (1..=100).collect::<Vec<_>>());
}

#[test]
fn rescale_merges_neighbouring_senders_when_the_parallelism_shrinks() {
    let env = env_with_slots(4, 4);
    // Sender i reads 25*i+1..=25*(i+1).
    let tagged = env.generate_sequence(1, 100).process(TagSubtask);
    let stream = retag(tagged.rescale()).set_parallelism(2);
    let mut pairs: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for (up, down, _) in collect(&env, stream) {
        *pairs.entry((up, down)).or_default() += 1;
    }
    assert_eq!(pairs, BTreeMap::from([((0, 0), 25), ((1, 0), 25), ((2, 1), 25), ((3, 1), 25)]));
}

#[test]
fn shuffle_delivers_every_record_exactly_once() {
    let env = env_with_slots(3, 2);
    let stream = env.generate_sequence(1, 3000).shuffle().process(TagSubtask).set_parallelism(3);
    let out = collect(&env, stream);
    let counts = counts_per_subtask(&out);
    assert_eq!(counts.keys().copied().collect::<Vec<_>>(), vec![0, 1, 2], "every subtask gets records: {counts:?}");
    assert_eq!(sorted(out.into_iter().map(|(_, v)| v).collect()), (1..=3000).collect::<Vec<_>>());
}

#[test]
fn broadcast_gives_every_receiver_every_record() {
    let env = env_with_slots(3, 2);
    let stream = env.generate_sequence(1, 10).broadcast().process(TagSubtask).set_parallelism(3);
    let expected: Vec<(usize, i64)> = (0..3).flat_map(|s| (1..=10).map(move |v| (s, v))).collect();
    assert_eq!(sorted(collect(&env, stream)), expected);
}

#[test]
fn global_sends_everything_to_subtask_zero() {
    let env = env_with_slots(3, 2);
    let stream = env.generate_sequence(1, 100).global().process(TagSubtask).set_parallelism(3);
    let expected: Vec<(usize, i64)> = (1..=100).map(|v| (0, v)).collect();
    assert_eq!(sorted(collect(&env, stream)), expected);
}

#[test]
fn partition_custom_sends_each_record_where_the_function_says() {
    let env = env_with_slots(3, 2);
    let stream = env
        .generate_sequence(1, 100)
        .map(|v: i64| (v, format!("v{v}")))
        .partition_custom(|k: &i64, n: usize| (*k as usize * 7) % n, |r: &(i64, String)| r.0)
        .process(TagSubtask)
        .set_parallelism(3);
    let expected: Vec<(usize, (i64, String))> =
        (1..=100).map(|v| ((v as usize * 7) % 3, (v, format!("v{v}")))).collect();
    assert_eq!(sorted(collect(&env, stream)), sorted(expected));
}

#[test]
fn key_by_sends_equal_keys_to_one_subtask_from_every_sender() {
    let env = env_with_slots(3, 2);
    let stream = env
        .generate_sequence(1, 300)
        .map(|v: i64| v % 17)
        .key_by(|k: &i64| *k)
        .into_data_stream()
        .process(TagSubtask)
        .set_parallelism(3);
    let expected: Vec<(usize, i64)> = (1..=300).map(|v| (owner_of(&(v % 17), 3), v % 17)).collect();
    assert_eq!(sorted(collect(&env, stream)), sorted(expected));
}

#[test]
fn key_by_uses_the_configured_max_parallelism_as_the_number_of_key_groups() {
    let env = env_with_slots(3, 3);
    env.set_max_parallelism(16);
    let stream = env.generate_sequence(1, 200).key_by(|k: &i64| *k).process(
        |v: i64, ctx: &mut brook_api::KeyedContext<'_, i64>, out: &mut Collector<(usize, usize, i64)>| {
            let rc = ctx.runtime_context();
            out.collect((rc.index_of_this_subtask(), rc.max_parallelism, v));
        },
    );
    let owner = |k: i64| brook_types::key_group::assign_to_key_group(&k, 16) * 3 / 16;
    let expected: Vec<(usize, usize, i64)> = (1..=200).map(|v| (owner(v), 16, v)).collect();
    assert_eq!(sorted(collect(&env, stream)), sorted(expected));
}

/// `(receiving subtask, key)` for each key sent through `key_by` at `parallelism`.
fn key_by_destinations<K>(keys: Vec<K>, parallelism: usize) -> Vec<(usize, K)>
where
    K: brook_api::Data + Sync + Ord + std::hash::Hash + Eq + brook_types::key_group::KeyHash,
{
    let env = env_with_slots(4, parallelism);
    let stream = env.from_collection(keys).key_by(|k: &K| k.clone()).into_data_stream().process(TagSubtask);
    sorted(collect(&env, stream))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    /// Every record goes to subtask `kg * p / 128`, kg being Flink's key group of its key.
    #[test]
    fn key_by_routes_integer_keys_to_the_owner_of_their_key_group(
        keys in proptest::collection::vec(any::<i64>(), 1..200),
        parallelism in 1usize..=4,
    ) {
        let expected = sorted(keys.iter().map(|k| (owner_of(k, parallelism), *k)).collect::<Vec<_>>());
        prop_assert_eq!(key_by_destinations(keys, parallelism), expected);
    }

    #[test]
    fn key_by_routes_string_keys_to_the_owner_of_their_key_group(
        keys in proptest::collection::vec("[a-zA-Z0-9 ]{0,12}", 1..200),
        parallelism in 1usize..=4,
    ) {
        let expected = sorted(keys.iter().map(|k| (owner_of(k, parallelism), k.clone())).collect::<Vec<_>>());
        prop_assert_eq!(key_by_destinations(keys, parallelism), expected);
    }

    #[test]
    fn key_by_routes_tuple_keys_to_the_owner_of_their_key_group(
        keys in proptest::collection::vec(("[a-z]{0,4}", any::<i32>()), 1..100),
        parallelism in 1usize..=4,
    ) {
        let expected = sorted(keys.iter().map(|k| (owner_of(k, parallelism), k.clone())).collect::<Vec<_>>());
        prop_assert_eq!(key_by_destinations(keys, parallelism), expected);
    }
}
