//! Time-to-live with a manual clock: each update type with each visibility, per
//! element for lists and maps, reducing and aggregating state, and the cleanup
//! strategies.

use crate::support::{Average, Kind, backend_with_clock, kinds};
use brook_state::{
    AggregatingStateDescriptor, KeyedStateBackend, ListStateDescriptor, ManualTtlTimeProvider, MapStateDescriptor,
    ReducingStateDescriptor, StateTtlConfig, StateVisibility, UpdateType, ValueStateDescriptor,
};
use std::sync::Arc;
use std::time::Duration;

const TTL_MS: i64 = 100;

fn backend(kind: Kind, clock: &ManualTtlTimeProvider) -> KeyedStateBackend<i64> {
    backend_with_clock(kind, 128, 1, 0, Arc::new(clock.clone()))
}

fn config(update: UpdateType, visibility: StateVisibility) -> StateTtlConfig {
    StateTtlConfig::new_builder(Duration::from_millis(TTL_MS as u64))
        .set_update_type(update)
        .set_state_visibility(visibility)
        .disable_cleanup_in_background()
        .build()
}

const NEVER: StateVisibility = StateVisibility::NeverReturnExpired;
const RETURN: StateVisibility = StateVisibility::ReturnExpiredIfNotCleanedUp;

/// What reads of a value written at 0 and read at 50, 120 and 200 return.
fn value_reads(kind: Kind, update: UpdateType, visibility: StateVisibility) -> [Option<i64>; 4] {
    let clock = ManualTtlTimeProvider::new(0);
    let mut b = backend(kind, &clock);
    let h = b.register(&ValueStateDescriptor::new("v").enable_time_to_live(config(update, visibility))).unwrap();
    b.value_state(&h, &1, &()).update(7);
    let mut reads = [None; 4];
    for (i, t) in [50, 120, 200, 200].into_iter().enumerate() {
        clock.set(t);
        reads[i] = b.value_state(&h, &1, &()).value().copied();
    }
    reads
}

#[test]
fn value_state_expiry_for_each_update_type_and_visibility() {
    for &kind in kinds() {
        // Written at 0: expires at 100. A read at 50 refreshes with OnReadAndWrite
        // (expires at 150, and the read at 120 refreshes again: 220).
        assert_eq!(value_reads(kind, UpdateType::OnCreateAndWrite, NEVER), [Some(7), None, None, None]);
        assert_eq!(value_reads(kind, UpdateType::OnCreateAndWrite, RETURN), [Some(7), Some(7), None, None]);
        assert_eq!(value_reads(kind, UpdateType::OnReadAndWrite, NEVER), [Some(7), Some(7), Some(7), Some(7)]);
        // Disabled: TTL is off, nothing expires.
        assert_eq!(value_reads(kind, UpdateType::Disabled, NEVER), [Some(7); 4]);
        assert_eq!(value_reads(kind, UpdateType::Disabled, RETURN), [Some(7); 4]);
    }
}

#[test]
fn read_and_write_refresh_returns_an_expired_value_once() {
    for &kind in kinds() {
        let clock = ManualTtlTimeProvider::new(0);
        let mut b = backend(kind, &clock);
        let h = b
            .register(&ValueStateDescriptor::new("v").enable_time_to_live(config(UpdateType::OnReadAndWrite, RETURN)))
            .unwrap();
        b.value_state(&h, &1, &()).update(7);
        clock.set(99);
        assert_eq!(b.value_state(&h, &1, &()).value(), Some(&7), "refreshed: expires at 199");
        clock.set(199);
        assert_eq!(b.value_state(&h, &1, &()).value(), Some(&7), "expired but returned once");
        assert_eq!(b.value_state(&h, &1, &()).value(), None, "and removed by that read");
    }
}

#[test]
fn a_write_refreshes_and_an_update_on_create_and_write_ignores_reads() {
    for &kind in kinds() {
        let clock = ManualTtlTimeProvider::new(0);
        let mut b = backend(kind, &clock);
        let h = b
            .register(&ValueStateDescriptor::new("v").enable_time_to_live(config(UpdateType::OnCreateAndWrite, NEVER)))
            .unwrap();
        b.value_state(&h, &1, &()).update(1);
        clock.set(90);
        b.value_state(&h, &1, &()).update(2);
        clock.set(150);
        assert_eq!(b.value_state(&h, &1, &()).value(), Some(&2), "written at 90: expires at 190");
        clock.set(190);
        assert_eq!(b.value_state(&h, &1, &()).value(), None);
    }
}

#[test]
fn list_elements_expire_one_by_one() {
    for &kind in kinds() {
        for (visibility, at_120, after) in [(NEVER, vec![2], vec![2]), (RETURN, vec![1, 2], vec![2])] {
            let clock = ManualTtlTimeProvider::new(0);
            let mut b = backend(kind, &clock);
            let h = b
                .register(
                    &ListStateDescriptor::new("l")
                        .enable_time_to_live(config(UpdateType::OnCreateAndWrite, visibility)),
                )
                .unwrap();
            b.list_state(&h, &1, &()).add(1);
            clock.set(60);
            b.list_state(&h, &1, &()).add(2);
            clock.set(120);
            assert_eq!(b.list_state(&h, &1, &()).get(), at_120.as_slice(), "{kind:?} {visibility:?}");
            assert_eq!(b.list_state(&h, &1, &()).get(), after.as_slice(), "{kind:?} {visibility:?}");
            clock.set(160);
            assert!(b.list_state(&h, &1, &()).get().len() <= 1);
            clock.set(161);
            let _ = b.list_state(&h, &1, &()).get();
            assert_eq!(b.list_state(&h, &1, &()).get(), &[] as &[i64]);
            assert_eq!(b.entry_count("l"), 0, "an all-expired list is removed");
        }
    }
}

#[test]
fn map_entries_expire_one_by_one() {
    for &kind in kinds() {
        let clock = ManualTtlTimeProvider::new(0);
        let mut b = backend(kind, &clock);
        let h = b
            .register(
                &MapStateDescriptor::<String, i64>::new("m")
                    .enable_time_to_live(config(UpdateType::OnReadAndWrite, NEVER)),
            )
            .unwrap();
        b.map_state(&h, &1, &()).put("old".into(), 1);
        b.map_state(&h, &1, &()).put("read".into(), 2);
        clock.set(60);
        b.map_state(&h, &1, &()).put("new".into(), 3);
        assert_eq!(b.map_state(&h, &1, &()).get("read"), Some(&2), "refreshed: expires at 160");
        clock.set(120);
        let mut keys: Vec<String> = b.map_state(&h, &1, &()).keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["new", "read"]);
        assert!(!b.map_state(&h, &1, &()).contains("old"));
        assert_eq!(b.map_state(&h, &1, &()).remove("old"), None);
        clock.set(1000);
        assert!(b.map_state(&h, &1, &()).is_empty());
        assert_eq!(b.entry_count("m"), 0);
    }
}

#[test]
fn reducing_and_aggregating_state_restart_after_expiry_unless_expired_values_are_visible() {
    for &kind in kinds() {
        for (visibility, sum, average) in [(NEVER, 2, 2), (RETURN, 3, 1)] {
            let clock = ManualTtlTimeProvider::new(0);
            let mut b = backend(kind, &clock);
            let ttl = config(UpdateType::OnCreateAndWrite, visibility);
            let r = b
                .register(&ReducingStateDescriptor::new("sum", |a: i64, b: i64| a + b).enable_time_to_live(ttl.clone()))
                .unwrap();
            let a = b.register(&AggregatingStateDescriptor::new("avg", Average).enable_time_to_live(ttl)).unwrap();
            b.reducing_state(&r, &1, &()).add(1);
            b.aggregating_state(&a, &1, &()).add(1);
            clock.set(150);
            b.reducing_state(&r, &1, &()).add(2);
            b.aggregating_state(&a, &1, &()).add(2);
            assert_eq!(b.reducing_state(&r, &1, &()).get(), Some(&sum), "{kind:?} {visibility:?}");
            assert_eq!(b.aggregating_state(&a, &1, &()).get(), Some(average), "{kind:?} {visibility:?}");
            clock.set(250);
            assert_eq!(b.reducing_state(&r, &1, &()).get(), (visibility == RETURN).then_some(&sum));
            assert_eq!(b.reducing_state(&r, &1, &()).get(), None);
        }
    }
}

#[test]
fn incremental_cleanup_checks_n_entries_per_access_and_per_record() {
    let clock = ManualTtlTimeProvider::new(0);
    let mut b = backend(Kind::Heap, &clock);
    let ttl = StateTtlConfig::new_builder(Duration::from_millis(100)).cleanup_incrementally(2, true).build();
    let h = b.register(&ValueStateDescriptor::new("v").enable_time_to_live(ttl)).unwrap();
    for k in 0..10 {
        b.value_state(&h, &k, &()).update(k);
    }
    assert_eq!(b.entry_count("v"), 10);
    clock.set(200);
    // An access to a key that has no value still checks two entries.
    assert_eq!(b.value_state(&h, &99, &()).value(), None);
    assert_eq!(b.entry_count("v"), 8);
    // Three records processed: 2 entries each.
    b.on_records(3);
    assert_eq!(b.entry_count("v"), 2);
}

#[test]
fn background_cleanup_defaults_to_five_entries_per_access() {
    let clock = ManualTtlTimeProvider::new(0);
    let mut b = backend(Kind::Heap, &clock);
    let ttl = StateTtlConfig::new_builder(Duration::from_millis(100)).build();
    let h = b.register(&ValueStateDescriptor::new("v").enable_time_to_live(ttl)).unwrap();
    for k in 0..10 {
        b.value_state(&h, &k, &()).update(k);
    }
    clock.set(100);
    let _ = b.value_state(&h, &99, &()).value();
    assert_eq!(b.entry_count("v"), 5);
    b.on_records(100);
    assert_eq!(b.entry_count("v"), 5, "no per-record cleanup unless asked for");
}

#[test]
fn full_snapshot_cleanup_leaves_expired_entries_out_and_timestamps_survive_restore() {
    for &kind in kinds() {
        for full_snapshot in [false, true] {
            let clock = ManualTtlTimeProvider::new(0);
            let mut b = backend(kind, &clock);
            let mut builder = StateTtlConfig::new_builder(Duration::from_millis(100))
                .disable_cleanup_in_background()
                .cleanup_in_rocksdb_compact_filter(1000);
            if full_snapshot {
                builder = builder.cleanup_full_snapshot();
            }
            let ttl = builder.build();
            let v = b.register(&ValueStateDescriptor::<i64>::new("v").enable_time_to_live(ttl.clone())).unwrap();
            let l = b.register(&ListStateDescriptor::<i64>::new("l").enable_time_to_live(ttl.clone())).unwrap();
            b.value_state(&v, &1, &()).update(1);
            b.list_state(&l, &1, &()).add(1);
            clock.set(50);
            b.value_state(&v, &2, &()).update(2);
            b.list_state(&l, &1, &()).add(2);
            clock.set(120);
            let snapshot = b.snapshot().unwrap();

            let mut restored = backend(kind, &clock);
            restored.restore(&[snapshot]).unwrap();
            let v = restored.register(&ValueStateDescriptor::<i64>::new("v").enable_time_to_live(ttl.clone())).unwrap();
            let l = restored.register(&ListStateDescriptor::<i64>::new("l").enable_time_to_live(ttl)).unwrap();
            let _ = restored.value_state(&v, &0, &()).value();
            assert_eq!(restored.entry_count("v"), if full_snapshot { 1 } else { 2 }, "full_snapshot={full_snapshot}");
            assert_eq!(restored.value_state(&v, &1, &()).value(), None, "still expired after restore");
            assert_eq!(restored.value_state(&v, &2, &()).value(), Some(&2));
            clock.set(150);
            assert_eq!(restored.value_state(&v, &2, &()).value(), None, "written at 50: the timestamp was restored");
            clock.set(120);
            assert_eq!(restored.list_state(&l, &1, &()).get(), &[2]);
        }
    }
}

#[test]
fn state_restored_with_and_without_ttl() {
    for &kind in kinds() {
        let clock = ManualTtlTimeProvider::new(1000);
        // Without TTL → with TTL: values are stamped at restore time.
        let mut plain = backend(kind, &clock);
        let h = plain.register(&ValueStateDescriptor::<i64>::new("v")).unwrap();
        plain.value_state(&h, &1, &()).update(5);
        let mut with_ttl = backend(kind, &clock);
        with_ttl.restore(&[plain.snapshot().unwrap()]).unwrap();
        let ttl = config(UpdateType::OnCreateAndWrite, NEVER);
        let h = with_ttl.register(&ValueStateDescriptor::<i64>::new("v").enable_time_to_live(ttl)).unwrap();
        clock.set(1099);
        assert_eq!(with_ttl.value_state(&h, &1, &()).value(), Some(&5));
        clock.set(1100);
        assert_eq!(with_ttl.value_state(&h, &1, &()).value(), None);
        // With TTL → without: the timestamps are dropped and the value never expires.
        let mut stamped = backend(kind, &clock);
        let h = stamped
            .register(
                &ValueStateDescriptor::<i64>::new("v").enable_time_to_live(config(UpdateType::OnCreateAndWrite, NEVER)),
            )
            .unwrap();
        stamped.value_state(&h, &1, &()).update(6);
        let mut plain = backend(kind, &clock);
        plain.restore(&[stamped.snapshot().unwrap()]).unwrap();
        let h = plain.register(&ValueStateDescriptor::<i64>::new("v")).unwrap();
        clock.set(1_000_000);
        assert_eq!(plain.value_state(&h, &1, &()).value(), Some(&6));
    }
}
