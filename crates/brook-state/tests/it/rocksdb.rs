//! The RocksDB backend's own snapshots: incremental checkpoints reuse unchanged
//! SST files and restore (at the same or another parallelism) to the same state;
//! canonical snapshots move between the two backends in both directions.

use crate::support::{Average, Kind, subtask_backend_of, upload_incremental};
use brook_state::{
    AggregatingStateDescriptor, HashMapStateBackend, IncrementalRestoreSource, KeyedStateBackend, ListStateDescriptor,
    ManualTtlTimeProvider, MapStateDescriptor, ReducingStateDescriptor, RocksDbStateBackend, StateTtlConfig,
    ValueStateDescriptor,
};
use brook_types::key_group::{KeyGroupRange, assign_to_key_group};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

fn rocks(max_p: usize, p: usize, i: usize) -> RocksDbStateBackend<i64> {
    RocksDbStateBackend::new(max_p, KeyGroupRange::for_operator_index(max_p, p, i))
        .unwrap()
        .with_operator_name("Test Operator")
}

/// Writes key `k`'s state in all five kinds, derived from `v`.
fn fill(b: &mut KeyedStateBackend<i64>, k: i64, v: i64) {
    let value = b.register(&ValueStateDescriptor::<String>::new("value")).unwrap();
    let list = b.register(&ListStateDescriptor::<i64>::new("list")).unwrap();
    let map = b.register(&MapStateDescriptor::<u8, i64>::new("map")).unwrap();
    let sum = b.register(&ReducingStateDescriptor::new("sum", |a: i64, b: i64| a + b)).unwrap();
    let avg = b.register(&AggregatingStateDescriptor::new("avg", Average)).unwrap();
    b.value_state(&value, &k, &()).update(format!("v{v}"));
    b.list_state(&list, &k, &()).add_all([v, v + 1]);
    b.map_state(&map, &k, &()).put(1, v);
    b.map_state(&map, &k, &()).put(2, -v);
    b.reducing_state(&sum, &k, &()).add(v);
    b.reducing_state(&sum, &k, &()).add(1);
    b.aggregating_state(&avg, &k, &()).add(v);
}

/// What `b` holds for key `k`, in all five kinds.
fn read(
    b: &mut KeyedStateBackend<i64>,
    k: i64,
) -> (Option<String>, Vec<i64>, Vec<(u8, i64)>, Option<i64>, Option<i64>) {
    let value = b.register(&ValueStateDescriptor::<String>::new("value")).unwrap();
    let list = b.register(&ListStateDescriptor::<i64>::new("list")).unwrap();
    let map = b.register(&MapStateDescriptor::<u8, i64>::new("map")).unwrap();
    let sum = b.register(&ReducingStateDescriptor::new("sum", |a: i64, b: i64| a + b)).unwrap();
    let avg = b.register(&AggregatingStateDescriptor::new("avg", Average)).unwrap();
    let mut entries: Vec<(u8, i64)> = b.map_state(&map, &k, &()).iter().map(|(k, v)| (*k, *v)).collect();
    entries.sort();
    (
        b.value_state(&value, &k, &()).value().cloned(),
        b.list_state(&list, &k, &()).get().to_vec(),
        entries,
        b.reducing_state(&sum, &k, &()).get().copied(),
        b.aggregating_state(&avg, &k, &()).get(),
    )
}

fn expected(v: i64) -> (Option<String>, Vec<i64>, Vec<(u8, i64)>, Option<i64>, Option<i64>) {
    (Some(format!("v{v}")), vec![v, v + 1], vec![(1, v), (2, -v)], Some(v + 1), Some(v))
}

#[test]
fn a_second_checkpoint_after_small_changes_reuses_the_unchanged_files() {
    let store = tempfile::tempdir().unwrap();
    let mut b: KeyedStateBackend<i64> = rocks(128, 1, 0).into();
    for k in 0..2000 {
        fill(&mut b, k, k);
    }
    let KeyedStateBackend::RocksDb(r) = &mut b else { unreachable!() };
    let (_dir1, _, first) = upload_incremental(r, 1, store.path());
    assert!(first.reused.is_empty(), "nothing was uploaded before");
    assert_eq!(first.shared.len(), 5, "one SST file per state after the first flush: {:?}", first.shared);
    assert!(first.private.iter().any(|(name, _)| name == "CURRENT"));

    // A small change to one state: only its new file is uploaded.
    let value = b.register(&ValueStateDescriptor::<String>::new("value")).unwrap();
    b.value_state(&value, &7, &()).update("changed".into());
    let KeyedStateBackend::RocksDb(r) = &mut b else { unreachable!() };
    let (dir2, source2, second) = upload_incremental(r, 2, store.path());
    assert_eq!(second.shared.len(), 1, "{:?}", second.shared);
    assert_eq!(second.reused, first.shared.iter().map(|f| f.name.clone()).collect::<Vec<_>>());

    // Restoring from the second checkpoint gives the same state.
    let mut restored = rocks(128, 1, 0);
    restored.restore_incremental(&[source2]).unwrap();
    assert_eq!(restored.uploaded_sst_files(), &second.sst_file_names(), "the restored files count as uploaded");
    let mut restored: KeyedStateBackend<i64> = restored.into();
    for k in 0..2000 {
        let mut e = expected(k);
        if k == 7 {
            e.0 = Some("changed".into());
        }
        assert_eq!(read(&mut restored, k), e, "key {k}");
    }
    assert_eq!(restored.entry_count("map"), 2000);
    // The next checkpoint of the restored backend uploads only what changed since.
    let KeyedStateBackend::RocksDb(r) = &mut restored else { unreachable!() };
    let third = r.snapshot_incremental(3).unwrap();
    assert!(third.shared.is_empty(), "reads change nothing: {:?}", third.shared);
    assert_eq!(third.sst_file_names(), second.sst_file_names());
    drop(dir2);
}

#[test]
fn files_of_an_aborted_checkpoint_are_not_reused() {
    let mut b: KeyedStateBackend<i64> = rocks(128, 1, 0).into();
    fill(&mut b, 1, 1);
    let KeyedStateBackend::RocksDb(r) = &mut b else { unreachable!() };
    let first = r.snapshot_incremental(1).unwrap();
    r.notify_checkpoint_aborted(1);
    let second = r.snapshot_incremental(2).unwrap();
    assert!(second.reused.is_empty());
    assert_eq!(second.shared.len(), first.shared.len());
    r.notify_checkpoint_complete(2);
    let third = r.snapshot_incremental(3).unwrap();
    assert!(third.shared.is_empty());
    assert_eq!(third.reused.len(), first.shared.len());
}

#[test]
fn incremental_snapshots_restore_at_other_parallelisms() {
    let max_p = 64;
    let keys: Vec<i64> = (0..300).map(|k| k * 7919).collect();
    let store = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    let mut sources = Vec::new();
    for i in 0..2 {
        let mut b: KeyedStateBackend<i64> = rocks(max_p, 2, i).into();
        for &k in &keys {
            if b.key_group_range().contains(assign_to_key_group(&k, max_p)) {
                fill(&mut b, k, k % 1000);
            }
        }
        let KeyedStateBackend::RocksDb(r) = &mut b else { unreachable!() };
        let (dir, source, _) = upload_incremental(r, 1, store.path());
        dirs.push(dir);
        sources.push(source);
    }
    for new_p in [1, 3, 2] {
        for j in 0..new_p {
            let mut b = rocks(max_p, new_p, j);
            b.restore_incremental(&sources).unwrap();
            let range = b.key_group_range();
            let mut b: KeyedStateBackend<i64> = b.into();
            let mut mine = 0;
            for &k in &keys {
                let owned = range.contains(assign_to_key_group(&k, max_p));
                mine += usize::from(owned);
                let got = read(&mut b, k);
                if owned {
                    assert_eq!(got, expected(k % 1000), "key {k} at {j}/{new_p}");
                } else {
                    assert_eq!(got, (None, vec![], vec![], None, None), "foreign key {k} at {j}/{new_p}");
                }
            }
            for name in ["value", "list", "map", "sum", "avg"] {
                assert_eq!(b.entry_count(name), mine, "{name} at {j}/{new_p}");
            }
            // And its canonical snapshot holds only its own key groups.
            b.snapshot().unwrap();
        }
    }
}

#[test]
fn canonical_snapshots_restore_across_backends_both_ways() {
    let clock = ManualTtlTimeProvider::new(1_000);
    let ttl = StateTtlConfig::new_builder(Duration::from_millis(100)).build();
    for (from, to) in [(Kind::Heap, Kind::RocksDb), (Kind::RocksDb, Kind::Heap), (Kind::RocksDb, Kind::RocksDb)] {
        let mut b = subtask_backend_of(from, 128, 1, 0);
        for k in 0..50 {
            fill(&mut b, k, k * 3);
        }
        // A state with a TTL: stamps travel with the values.
        let fresh = b.register(&ValueStateDescriptor::<i64>::new("fresh").enable_time_to_live(ttl.clone())).unwrap();
        let c = Arc::new(clock.clone());
        let mut b = match b {
            KeyedStateBackend::HashMap(h) => KeyedStateBackend::HashMap(h.with_ttl_time_provider(c)),
            KeyedStateBackend::RocksDb(r) => KeyedStateBackend::RocksDb(r.with_ttl_time_provider(c)),
        };
        clock.set(1_000);
        b.value_state(&fresh, &1, &()).update(10);
        clock.set(1_050);
        b.value_state(&fresh, &2, &()).update(20);
        let snapshot = b.snapshot().unwrap();

        // Restored but not registered, snapshotted again: carried along unchanged.
        let mut middle = subtask_backend_of(to, 128, 1, 0);
        middle.restore(&[&snapshot]).unwrap();
        let again = middle.snapshot().unwrap();
        let mut last = subtask_backend_of(from, 128, 1, 0);
        last.restore(&[&again]).unwrap();

        for target in [&mut middle, &mut last] {
            for k in 0..50 {
                assert_eq!(read(target, k), expected(k * 3), "{from:?} -> {to:?}, key {k}");
            }
        }
        let c = Arc::new(clock.clone());
        let mut middle = match middle {
            KeyedStateBackend::HashMap(h) => KeyedStateBackend::HashMap(h.with_ttl_time_provider(c)),
            KeyedStateBackend::RocksDb(r) => KeyedStateBackend::RocksDb(r.with_ttl_time_provider(c)),
        };
        let fresh =
            middle.register(&ValueStateDescriptor::<i64>::new("fresh").enable_time_to_live(ttl.clone())).unwrap();
        clock.set(1_099);
        assert_eq!(middle.value_state(&fresh, &1, &()).value(), Some(&10));
        clock.set(1_100);
        assert_eq!(middle.value_state(&fresh, &1, &()).value(), None, "{from:?} -> {to:?}: stamped at 1000");
        assert_eq!(middle.value_state(&fresh, &2, &()).value(), Some(&20), "{from:?} -> {to:?}: stamped at 1050");
    }
}

#[test]
fn a_map_state_restored_into_a_used_rocksdb_state_becomes_rows() {
    let mut heap: KeyedStateBackend<i64> =
        HashMapStateBackend::new(128, KeyGroupRange::for_operator_index(128, 1, 0)).into();
    for k in 0..20 {
        fill(&mut heap, k, k);
    }
    let snapshot = heap.snapshot().unwrap();
    let mut b: KeyedStateBackend<i64> = rocks(128, 1, 0).into();
    // Used before the restore: entries are converted at once, not kept canonical.
    assert_eq!(read(&mut b, 0), (None, vec![], vec![], None, None));
    b.restore(&[snapshot]).unwrap();
    let mut all = BTreeMap::new();
    for k in 0..20 {
        all.insert(k, read(&mut b, k));
    }
    assert_eq!(all, (0..20).map(|k| (k, expected(k))).collect());
    assert_eq!(b.entry_count("map"), 20);
}

#[test]
fn an_incremental_restore_needs_a_new_backend() {
    let mut b: KeyedStateBackend<i64> = rocks(128, 1, 0).into();
    fill(&mut b, 1, 1);
    let KeyedStateBackend::RocksDb(r) = &mut b else { unreachable!() };
    let snapshot = r.snapshot_incremental(1).unwrap();
    let source = IncrementalRestoreSource { dir: snapshot.local_dir().join("db"), meta: snapshot.meta.clone() };
    let message = r.restore_incremental(&[source]).unwrap_err().to_string();
    assert_eq!(
        message,
        "operator 'Test Operator' cannot restore an incremental RocksDB snapshot into a backend that already holds \
         state; restore into a new backend before using it"
    );
    let garbage = IncrementalRestoreSource { dir: snapshot.local_dir().into(), meta: b"nope".to_vec() };
    let message = rocks(128, 1, 0).restore_incremental(&[garbage]).unwrap_err().to_string();
    assert_eq!(
        message,
        "the bytes are not a Brook RocksDB incremental snapshot (they start with [6e, 6f, 70, 65]); check the file \
         or object given"
    );
}

#[test]
fn compaction_drops_expired_values_of_states_with_a_compaction_filter() {
    let clock = ManualTtlTimeProvider::new(0);
    let mut b = rocks(128, 1, 0).with_ttl_time_provider(Arc::new(clock.clone()));
    let ttl = |filter: bool| {
        let builder = StateTtlConfig::new_builder(Duration::from_millis(100)).disable_cleanup_in_background();
        if filter { builder.cleanup_in_rocksdb_compact_filter(1000) } else { builder }.build()
    };
    let filtered = b.register(&ValueStateDescriptor::<i64>::new("filtered").enable_time_to_live(ttl(true))).unwrap();
    let kept = b.register(&ValueStateDescriptor::<i64>::new("kept").enable_time_to_live(ttl(false))).unwrap();
    let map = b.register(&MapStateDescriptor::<u8, i64>::new("map").enable_time_to_live(ttl(true))).unwrap();
    for k in 0..10 {
        b.value_state(&filtered, &k, &()).update(k);
        b.value_state(&kept, &k, &()).update(k);
        b.map_state(&map, &k, &()).put(1, k);
    }
    clock.set(50);
    b.value_state(&filtered, &10, &()).update(10);
    b.map_state(&map, &0, &()).put(2, 0);
    clock.set(120);
    assert_eq!(b.entry_count("filtered"), 11, "expired but not compacted yet");
    b.compact();
    assert_eq!(b.entry_count("filtered"), 1, "only the value written at 50 is live");
    assert_eq!(b.entry_count("kept"), 10, "no compaction filter");
    assert_eq!(b.entry_count("map"), 1, "key 0 keeps its entry written at 50");
    assert_eq!(b.map_state(&map, &0, &()).iter().collect::<Vec<_>>(), [(&2, &0)]);
    assert_eq!(b.value_state(&filtered, &10, &()).value(), Some(&10));
}
