//! Each backend against a `BTreeMap` model.

use crate::support::{Average, Kind, subtask_backend_of};
use brook_state::{
    AggregatingState, AggregatingStateDescriptor, KeyedStateBackend, ListState, ListStateDescriptor, MapState,
    MapStateDescriptor, ReducingState, ReducingStateDescriptor, ValueState, ValueStateDescriptor,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

type Scope = (i64, u8);

#[derive(Clone, Debug)]
enum Op {
    ValueUpdate(Scope, i64),
    ValueGet(Scope),
    ValueClear(Scope),
    /// Read, write, read again, clear and write again through one reference.
    ValueReadModifyWrite(Scope, i64),
    ListAdd(Scope, i64),
    ListAddAll(Scope, Vec<i64>),
    ListUpdate(Scope, Vec<i64>),
    ListGet(Scope),
    ListClear(Scope),
    MapPut(Scope, u8, i64),
    MapGet(Scope, u8),
    MapContains(Scope, u8),
    MapRemove(Scope, u8),
    MapEntries(Scope),
    MapIsEmpty(Scope),
    MapClear(Scope),
    ReduceAdd(Scope, i64),
    ReduceGet(Scope),
    ReduceClear(Scope),
    AggAdd(Scope, i64),
    AggGet(Scope),
    AggClear(Scope),
    /// Snapshot, then continue on a new backend restored from it (RocksDB:
    /// alternately from a canonical and an incremental snapshot).
    SnapshotRestore,
}

fn scope() -> impl Strategy<Value = Scope> {
    (0i64..6, 0u8..3)
}

fn op() -> impl Strategy<Value = Op> {
    let v = -50i64..50;
    let list = proptest::collection::vec(-50i64..50, 0..4);
    prop_oneof![
        (scope(), v.clone()).prop_map(|(s, v)| Op::ValueUpdate(s, v)),
        scope().prop_map(Op::ValueGet),
        scope().prop_map(Op::ValueClear),
        (scope(), v.clone()).prop_map(|(s, v)| Op::ValueReadModifyWrite(s, v)),
        (scope(), v.clone()).prop_map(|(s, v)| Op::ListAdd(s, v)),
        (scope(), list.clone()).prop_map(|(s, l)| Op::ListAddAll(s, l)),
        (scope(), list).prop_map(|(s, l)| Op::ListUpdate(s, l)),
        scope().prop_map(Op::ListGet),
        scope().prop_map(Op::ListClear),
        (scope(), 0u8..4, v.clone()).prop_map(|(s, k, v)| Op::MapPut(s, k, v)),
        (scope(), 0u8..4).prop_map(|(s, k)| Op::MapGet(s, k)),
        (scope(), 0u8..4).prop_map(|(s, k)| Op::MapContains(s, k)),
        (scope(), 0u8..4).prop_map(|(s, k)| Op::MapRemove(s, k)),
        scope().prop_map(Op::MapEntries),
        scope().prop_map(Op::MapIsEmpty),
        scope().prop_map(Op::MapClear),
        (scope(), v.clone()).prop_map(|(s, v)| Op::ReduceAdd(s, v)),
        scope().prop_map(Op::ReduceGet),
        scope().prop_map(Op::ReduceClear),
        (scope(), v).prop_map(|(s, v)| Op::AggAdd(s, v)),
        scope().prop_map(Op::AggGet),
        scope().prop_map(Op::AggClear),
        Just(Op::SnapshotRestore),
    ]
}

struct Handles {
    value: ValueState<i64>,
    list: ListState<i64>,
    map: MapState<u8, i64>,
    reduce: ReducingState<i64>,
    agg: AggregatingState<i64, (i64, i64), i64>,
}

fn register(b: &mut KeyedStateBackend<i64>) -> Handles {
    Handles {
        value: b.register(&ValueStateDescriptor::new("value")).unwrap(),
        list: b.register(&ListStateDescriptor::new("list")).unwrap(),
        map: b.register(&MapStateDescriptor::new("map")).unwrap(),
        reduce: b.register(&ReducingStateDescriptor::new("sum", |a: i64, b: i64| a + b)).unwrap(),
        agg: b.register(&AggregatingStateDescriptor::new("average", Average)).unwrap(),
    }
}

#[derive(Default)]
struct Model {
    value: BTreeMap<Scope, i64>,
    list: BTreeMap<Scope, Vec<i64>>,
    map: BTreeMap<Scope, BTreeMap<u8, i64>>,
    reduce: BTreeMap<Scope, i64>,
    agg: BTreeMap<Scope, (i64, i64)>,
}

/// Runs `ops` on a `kind` backend and on the model, comparing every read.
fn run(kind: Kind, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut b = subtask_backend_of(kind, 128, 1, 0);
    #[cfg(feature = "rocksdb")]
    let (store, mut checkpoints) = (tempfile::tempdir().unwrap(), 0u64);
    let mut h = register(&mut b);
    let mut m = Model::default();
    for op in ops {
        match op {
            Op::ValueUpdate((k, n), v) => {
                b.value_state(&h.value, &k, &n).update(v);
                m.value.insert((k, n), v);
            }
            Op::ValueGet((k, n)) => {
                prop_assert_eq!(b.value_state(&h.value, &k, &n).value().copied(), m.value.get(&(k, n)).copied());
            }
            Op::ValueClear((k, n)) => {
                b.value_state(&h.value, &k, &n).clear();
                m.value.remove(&(k, n));
            }
            Op::ValueReadModifyWrite((k, n), v) => {
                let mut state = b.value_state(&h.value, &k, &n);
                let old = state.value().copied();
                prop_assert_eq!(old, m.value.get(&(k, n)).copied());
                let next = old.unwrap_or(0) + v;
                state.update(next);
                state.update(next + 1);
                prop_assert_eq!(state.value().copied(), Some(next + 1));
                if v % 3 == 0 {
                    state.clear();
                    prop_assert_eq!(state.value(), None);
                    state.update(v);
                    m.value.insert((k, n), v);
                } else {
                    m.value.insert((k, n), next + 1);
                }
            }
            Op::ListAdd((k, n), v) => {
                b.list_state(&h.list, &k, &n).add(v);
                m.list.entry((k, n)).or_default().push(v);
            }
            Op::ListAddAll((k, n), vs) => {
                b.list_state(&h.list, &k, &n).add_all(vs.clone());
                if !vs.is_empty() {
                    m.list.entry((k, n)).or_default().extend(vs);
                }
            }
            Op::ListUpdate((k, n), vs) => {
                b.list_state(&h.list, &k, &n).update(vs.clone());
                if vs.is_empty() {
                    m.list.remove(&(k, n));
                } else {
                    m.list.insert((k, n), vs);
                }
            }
            Op::ListGet((k, n)) => {
                let expected = m.list.get(&(k, n)).cloned().unwrap_or_default();
                let mut list = b.list_state(&h.list, &k, &n);
                prop_assert_eq!(list.get(), expected.as_slice());
            }
            Op::ListClear((k, n)) => {
                b.list_state(&h.list, &k, &n).clear();
                m.list.remove(&(k, n));
            }
            Op::MapPut((k, n), uk, v) => {
                b.map_state(&h.map, &k, &n).put(uk, v);
                m.map.entry((k, n)).or_default().insert(uk, v);
            }
            Op::MapGet((k, n), uk) => {
                let expected = m.map.get(&(k, n)).and_then(|e| e.get(&uk)).copied();
                prop_assert_eq!(b.map_state(&h.map, &k, &n).get(&uk).copied(), expected);
            }
            Op::MapContains((k, n), uk) => {
                let expected = m.map.get(&(k, n)).is_some_and(|e| e.contains_key(&uk));
                prop_assert_eq!(b.map_state(&h.map, &k, &n).contains(&uk), expected);
            }
            Op::MapRemove((k, n), uk) => {
                let removed = b.map_state(&h.map, &k, &n).remove(&uk);
                let expected = m.map.get_mut(&(k, n)).and_then(|e| e.remove(&uk));
                if m.map.get(&(k, n)).is_some_and(BTreeMap::is_empty) {
                    m.map.remove(&(k, n));
                }
                prop_assert_eq!(removed, expected);
            }
            Op::MapEntries((k, n)) => {
                let mut state = b.map_state(&h.map, &k, &n);
                let mut entries: Vec<(u8, i64)> = state.iter().map(|(k, v)| (*k, *v)).collect();
                entries.sort();
                let keys: Vec<u8> = state.keys().copied().collect();
                let values: Vec<i64> = state.values().copied().collect();
                let expected: Vec<(u8, i64)> =
                    m.map.get(&(k, n)).map(|e| e.iter().map(|(k, v)| (*k, *v)).collect()).unwrap_or_default();
                prop_assert_eq!(&entries, &expected);
                prop_assert_eq!(keys.len(), expected.len());
                prop_assert_eq!(values.iter().sum::<i64>(), expected.iter().map(|e| e.1).sum::<i64>());
            }
            Op::MapIsEmpty((k, n)) => {
                prop_assert_eq!(b.map_state(&h.map, &k, &n).is_empty(), !m.map.contains_key(&(k, n)));
            }
            Op::MapClear((k, n)) => {
                b.map_state(&h.map, &k, &n).clear();
                m.map.remove(&(k, n));
            }
            Op::ReduceAdd((k, n), v) => {
                b.reducing_state(&h.reduce, &k, &n).add(v);
                *m.reduce.entry((k, n)).or_default() += v;
            }
            Op::ReduceGet((k, n)) => {
                prop_assert_eq!(b.reducing_state(&h.reduce, &k, &n).get().copied(), m.reduce.get(&(k, n)).copied());
            }
            Op::ReduceClear((k, n)) => {
                b.reducing_state(&h.reduce, &k, &n).clear();
                m.reduce.remove(&(k, n));
            }
            Op::AggAdd((k, n), v) => {
                b.aggregating_state(&h.agg, &k, &n).add(v);
                let acc = m.agg.entry((k, n)).or_default();
                acc.0 += v;
                acc.1 += 1;
            }
            Op::AggGet((k, n)) => {
                let expected = m.agg.get(&(k, n)).map(|(s, c)| s / c);
                prop_assert_eq!(b.aggregating_state(&h.agg, &k, &n).get(), expected);
            }
            Op::AggClear((k, n)) => {
                b.aggregating_state(&h.agg, &k, &n).clear();
                m.agg.remove(&(k, n));
            }
            Op::SnapshotRestore => {
                #[cfg(feature = "rocksdb")]
                if let KeyedStateBackend::RocksDb(r) = &mut b {
                    checkpoints += 1;
                    if checkpoints % 2 == 0 {
                        let (_dir, source, _) = crate::support::upload_incremental(r, checkpoints, store.path());
                        let mut restored = brook_state::RocksDbStateBackend::new(128, r.key_group_range()).unwrap();
                        restored.restore_incremental(&[source]).unwrap();
                        b = restored.into();
                        h = register(&mut b);
                        continue;
                    }
                }
                let snapshot = b.snapshot().unwrap();
                b = subtask_backend_of(kind, 128, 1, 0);
                b.restore(&[snapshot]).unwrap();
                h = register(&mut b);
            }
        }
    }
    // Nothing else is stored: touch every state so restored tables exist, then count.
    let _ = b.value_state(&h.value, &0, &0u8).value();
    let _ = b.list_state(&h.list, &0, &0u8).get();
    let _ = b.map_state(&h.map, &0, &0u8).is_empty();
    let _ = b.reducing_state(&h.reduce, &0, &0u8).get();
    let _ = b.aggregating_state(&h.agg, &0, &0u8).get();
    prop_assert_eq!(b.entry_count("value"), m.value.len());
    prop_assert_eq!(b.entry_count("list"), m.list.len());
    prop_assert_eq!(b.entry_count("map"), m.map.len());
    prop_assert_eq!(b.entry_count("sum"), m.reduce.len());
    prop_assert_eq!(b.entry_count("average"), m.agg.len());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_heap_backend_behaves_like_a_btreemap(ops in proptest::collection::vec(op(), 1..120)) {
        run(Kind::Heap, ops)?;
    }
}

#[cfg(feature = "rocksdb")]
proptest! {
    // Fewer cases: RocksDB instances are slower to open than maps.
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn the_rocksdb_backend_behaves_like_a_btreemap(ops in proptest::collection::vec(op(), 1..120)) {
        run(Kind::RocksDb, ops)?;
    }
}
