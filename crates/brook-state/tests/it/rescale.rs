//! Snapshots taken at parallelism p, restored at p': every key gets exactly its
//! state, from whichever old subtask had it, and nothing else — with every pair
//! of backends (canonical snapshots restore across backends).

use crate::support::{Average, Kind, kinds, subtask_backend, subtask_backend_of};
use brook_state::{
    AggregatingStateDescriptor, KeyedSnapshotReader, KeyedSnapshotWriter, KeyedStateBackend, ListStateDescriptor,
    MapStateDescriptor, ReducingStateDescriptor, StateKind, ValueStateDescriptor,
};
use brook_types::key_group::{KeyGroupRange, assign_to_key_group, operator_index_for_key_group};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// The states every subtask registers.
struct Handles {
    value: brook_state::ValueState<String>,
    list: brook_state::ListState<i64>,
    map: brook_state::MapState<u8, i64>,
    sum: brook_state::ReducingState<i64>,
    avg: brook_state::AggregatingState<i64, (i64, i64), i64>,
}

fn register(b: &mut KeyedStateBackend<i64>) -> Handles {
    Handles {
        value: b.register(&ValueStateDescriptor::new("value")).unwrap(),
        list: b.register(&ListStateDescriptor::new("list")).unwrap(),
        map: b.register(&MapStateDescriptor::new("map")).unwrap(),
        sum: b.register(&ReducingStateDescriptor::new("sum", |a: i64, b: i64| a + b)).unwrap(),
        avg: b.register(&AggregatingStateDescriptor::new("avg", Average)).unwrap(),
    }
}

/// One key's contents in namespace `ns`, all derived from `v`.
fn fill(b: &mut KeyedStateBackend<i64>, h: &Handles, key: i64, ns: u8, v: i64) {
    b.value_state(&h.value, &key, &ns).update(format!("{key}/{ns}/{v}"));
    b.list_state(&h.list, &key, &ns).add_all([v, v + 1]);
    b.map_state(&h.map, &key, &ns).put(ns, v);
    b.reducing_state(&h.sum, &key, &ns).add(v);
    b.reducing_state(&h.sum, &key, &ns).add(1);
    b.aggregating_state(&h.avg, &key, &ns).add(v);
}

/// Whether `b` holds exactly `expected` (Some) or nothing (None) for (key, ns).
fn check(
    b: &mut KeyedStateBackend<i64>,
    h: &Handles,
    key: i64,
    ns: u8,
    expected: Option<i64>,
) -> Result<(), TestCaseError> {
    let value = b.value_state(&h.value, &key, &ns).value().cloned();
    prop_assert_eq!(value, expected.map(|v| format!("{key}/{ns}/{v}")));
    let list = b.list_state(&h.list, &key, &ns).get().to_vec();
    prop_assert_eq!(list, expected.map_or(vec![], |v| vec![v, v + 1]));
    let map: Vec<(u8, i64)> = b.map_state(&h.map, &key, &ns).iter().map(|(k, v)| (*k, *v)).collect();
    prop_assert_eq!(map, expected.map_or(vec![], |v| vec![(ns, v)]));
    prop_assert_eq!(b.reducing_state(&h.sum, &key, &ns).get().copied(), expected.map(|v| v + 1));
    prop_assert_eq!(b.aggregating_state(&h.avg, &key, &ns).get(), expected);
    Ok(())
}

fn parallelism(seed: usize, max_p: usize) -> usize {
    1 + seed % max_p.min(8)
}

/// Snapshots of `old_kind` subtasks at parallelism p restored into `new_kind`
/// subtasks at p'.
fn rescale(
    (old_kind, new_kind): (Kind, Kind),
    max_p: usize,
    (p, new_p): (usize, usize),
    entries: &BTreeMap<(i64, u8), i64>,
) -> Result<(), TestCaseError> {
    // Old subtasks: each holds the keys of its key groups, plus one timer per
    // (key, namespace) written through the writer next to the backend's states.
    let mut snapshots = Vec::new();
    for i in 0..p {
        let mut b = subtask_backend_of(old_kind, max_p, p, i);
        let h = register(&mut b);
        let mut writer = KeyedSnapshotWriter::new(max_p, b.key_group_range());
        for (&(key, ns), &v) in entries {
            if operator_index_for_key_group(max_p, p, assign_to_key_group(&key, max_p)) == i {
                fill(&mut b, &h, key, ns, v);
            }
        }
        b.write_snapshot(&mut writer).unwrap();
        let timers = writer.begin_state("_timers/event-time", StateKind::Timers).unwrap();
        for (&(key, ns), &v) in entries {
            if b.key_group_range().contains(assign_to_key_group(&key, max_p)) {
                writer.entry(timers, &key, &ns, &v).unwrap();
            }
        }
        snapshots.push(writer.finish());
    }
    // New subtasks restore from all old snapshots.
    for j in 0..new_p {
        let mut b = subtask_backend_of(new_kind, max_p, new_p, j);
        b.restore(&snapshots).unwrap();
        let h = register(&mut b);
        let range = b.key_group_range();
        let mut mine = 0;
        for (&(key, ns), &v) in entries {
            let owned = range.contains(assign_to_key_group(&key, max_p));
            mine += usize::from(owned);
            check(&mut b, &h, key, ns, owned.then_some(v))?;
        }
        for name in ["value", "list", "map", "sum", "avg"] {
            prop_assert_eq!(
                b.entry_count(name),
                mine,
                "state {} of subtask {}/{} ({:?} to {:?})",
                name,
                j,
                new_p,
                old_kind,
                new_kind
            );
        }
        // The timers of this subtask's key groups, read straight from the snapshots.
        let mut timers = BTreeMap::new();
        for s in &snapshots {
            let reader = KeyedSnapshotReader::new(&s.bytes).unwrap();
            let id = reader.state("_timers/event-time").unwrap();
            for e in reader.state_entries(id, range) {
                let e = e.unwrap();
                timers.insert(
                    (e.decode_key::<i64>().unwrap(), e.decode_namespace::<u8>().unwrap()),
                    e.decode_value::<i64>().unwrap(),
                );
            }
        }
        let expected: BTreeMap<(i64, u8), i64> = entries
            .iter()
            .filter(|((k, _), _)| range.contains(assign_to_key_group(k, max_p)))
            .map(|(k, v)| (*k, *v))
            .collect();
        prop_assert_eq!(timers, expected);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn every_key_gets_exactly_its_state_at_any_parallelism(
        max_p in 1usize..=256,
        p_seed in 0usize..8,
        new_p_seed in 0usize..8,
        entries in proptest::collection::btree_map((any::<i64>(), 0u8..3), -1000i64..1000, 0..60),
    ) {
        let ps = (parallelism(p_seed, max_p), parallelism(new_p_seed, max_p));
        rescale((Kind::Heap, Kind::Heap), max_p, ps, &entries)?;
    }
}

#[cfg(feature = "rocksdb")]
proptest! {
    // Fewer cases: every case opens up to 16 RocksDB instances.
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn every_key_gets_exactly_its_state_with_rocksdb_and_across_backends(
        max_p in 1usize..=256,
        p_seed in 0usize..8,
        new_p_seed in 0usize..8,
        entries in proptest::collection::btree_map((any::<i64>(), 0u8..3), -1000i64..1000, 0..60),
        kinds in prop_oneof![
            Just((Kind::RocksDb, Kind::RocksDb)),
            Just((Kind::Heap, Kind::RocksDb)),
            Just((Kind::RocksDb, Kind::Heap)),
        ],
    ) {
        let ps = (parallelism(p_seed, max_p), parallelism(new_p_seed, max_p));
        rescale(kinds, max_p, ps, &entries)?;
    }
}

#[test]
fn restored_state_survives_a_second_snapshot_before_it_is_registered() {
    for &kind in kinds() {
        let mut old = subtask_backend_of(kind, 64, 1, 0);
        let h = register(&mut old);
        fill(&mut old, &h, 7, 0, 70);
        let first = old.snapshot().unwrap();
        // Restored, never registered, snapshotted again: the entries are carried along.
        let mut middle = subtask_backend_of(kind, 64, 2, 0);
        middle.restore(&[&first]).unwrap();
        let mut other = subtask_backend_of(kind, 64, 2, 1);
        other.restore(&[&first]).unwrap();
        let second = [middle.snapshot().unwrap(), other.snapshot().unwrap()];
        let mut last = subtask_backend_of(kind, 64, 1, 0);
        last.restore(&second).unwrap();
        let h = register(&mut last);
        check(&mut last, &h, 7, 0, Some(70)).unwrap();
        assert_eq!(last.entry_count("value"), 1);
    }
}

#[test]
fn a_different_max_parallelism_is_refused_with_what_to_do() {
    let old = subtask_backend(128, 1, 0).snapshot().unwrap();
    let mut new = subtask_backend(256, 1, 0);
    let message = new.restore(&[old]).unwrap_err().to_string();
    assert_eq!(
        message,
        "the snapshot was taken with max parallelism 128, but operator 'Test Operator' now has max parallelism 256; \
         key groups cannot be remapped, so set the operator's max parallelism back to 128"
    );
}

#[test]
fn a_restored_state_registered_as_another_kind_fails_at_first_use() {
    for &kind in kinds() {
        let mut old = subtask_backend_of(kind, 128, 1, 0);
        let h = register(&mut old);
        fill(&mut old, &h, 1, 0, 1);
        let snapshot = old.snapshot().unwrap();
        let mut new = subtask_backend_of(kind, 128, 1, 0);
        new.restore(&[snapshot]).unwrap();
        let wrong = new.register(&ListStateDescriptor::<String>::new("value")).unwrap();
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = new.list_state(&wrong, &1, &0u8).get().len();
        }))
        .unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert_eq!(
            message,
            "state 'value' of operator 'Test Operator' was restored as value state, but the program registers it as list \
             state; rename the state or start without the old snapshot"
        );
    }
}

#[test]
fn a_changed_value_type_is_reported_with_both_types() {
    for &kind in kinds() {
        let mut old = subtask_backend_of(kind, 128, 1, 0);
        let h = register(&mut old);
        fill(&mut old, &h, 1, 0, 1);
        let snapshot = old.snapshot().unwrap();
        let mut new = subtask_backend_of(kind, 128, 1, 0);
        new.restore(&[snapshot]).unwrap();
        let wrong = new.register(&ValueStateDescriptor::<u64>::new("value")).unwrap();
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = new.value_state(&wrong, &1, &0u8).value().copied();
        }))
        .unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(
            message.starts_with(
                "could not decode the value of an entry of state 'value' of operator 'Test Operator' as u64 \
                 (the snapshot wrote alloc::string::String)"
            ),
            "{message}"
        );
    }
}

#[test]
fn snapshots_only_hold_their_own_key_groups() {
    for &kind in kinds() {
        // A key written into the wrong subtask's backend is refused at snapshot time.
        let mut b = subtask_backend_of(kind, 128, 2, 0);
        let h = register(&mut b);
        let foreign = (0i64..).find(|k| !b.key_group_range().contains(assign_to_key_group(k, 128))).unwrap();
        b.value_state(&h.value, &foreign, &0u8).update("x".into());
        let message = b.snapshot().unwrap_err().to_string();
        assert!(message.contains("outside the writer's key groups"), "{message}");
        let all: BTreeSet<usize> = (0..2)
            .flat_map(|i| {
                let r = KeyGroupRange::for_operator_index(128, 2, i);
                r.start..=r.end
            })
            .collect();
        assert_eq!(all.len(), 128);
    }
}
