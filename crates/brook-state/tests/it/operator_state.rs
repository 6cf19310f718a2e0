//! Operator state: list state is split evenly on rescale, union list state goes
//! to everyone, broadcast state is copied.

use brook_state::{
    ListStateDescriptor, MapStateDescriptor, OperatorStateBackend, OperatorStateSnapshot, StateError,
    redistribute_operator_state,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn offsets() -> ListStateDescriptor<u32> {
    ListStateDescriptor::new("offsets")
}

fn seen() -> ListStateDescriptor<String> {
    ListStateDescriptor::new("seen")
}

fn rules() -> MapStateDescriptor<String, u32> {
    MapStateDescriptor::new("rules")
}

/// Old subtask `i` with its split list, union list and broadcast map.
fn old_subtask(i: usize, split: &[u32], union: &[String], broadcast: &BTreeMap<String, u32>) -> OperatorStateSnapshot {
    let mut b = OperatorStateBackend::new(&format!("Source ({i})"));
    b.get_list_state(&offsets()).unwrap().add_all(split.iter().copied());
    b.get_union_list_state(&seen()).unwrap().update(union.to_vec());
    b.get_broadcast_state(&rules()).unwrap().put_all(broadcast.iter().map(|(k, v)| (k.clone(), *v)));
    b.snapshot().unwrap()
}

struct Restored {
    split: Vec<u32>,
    union: Vec<String>,
    broadcast: BTreeMap<String, u32>,
}

fn restore(snapshot: &OperatorStateSnapshot) -> Restored {
    let mut b = OperatorStateBackend::new("Source");
    b.restore(&snapshot.bytes).unwrap();
    let split = b.get_list_state(&offsets()).unwrap().get().to_vec();
    let union = b.get_union_list_state(&seen()).unwrap().get().to_vec();
    let broadcast = b.get_broadcast_state(&rules()).unwrap().iter().map(|(k, v)| (k.clone(), *v)).collect();
    Restored { split, union, broadcast }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn redistribution_keeps_every_element_and_balances_lists(
        old in proptest::collection::vec(
            (
                proptest::collection::vec(any::<u32>(), 0..12),
                proptest::collection::vec("[a-z]{1,3}", 0..4),
                proptest::collection::btree_map("[a-c]", any::<u32>(), 0..3),
            ),
            1..=8,
        ),
        new_p in 1usize..=8,
    ) {
        let snapshots: Vec<_> = old.iter().enumerate().map(|(i, (s, u, b))| old_subtask(i, s, u, b)).collect();
        let new = redistribute_operator_state(&snapshots, new_p).unwrap();
        prop_assert_eq!(new.len(), new_p);
        let restored: Vec<Restored> = new.iter().map(restore).collect();

        // Split: the same multiset, in consecutive chunks.
        let all_split: Vec<u32> = old.iter().flat_map(|(s, _, _)| s.clone()).collect();
        let got: Vec<u32> = restored.iter().flat_map(|r| r.split.clone()).collect();
        let (mut a, mut b) = (all_split.clone(), got.clone());
        a.sort_unstable();
        b.sort_unstable();
        prop_assert_eq!(a, b);
        if new_p == old.len() {
            for (r, (s, _, _)) in restored.iter().zip(&old) {
                prop_assert_eq!(&r.split, s, "unchanged parallelism keeps each subtask's list");
            }
        } else {
            prop_assert_eq!(&got, &all_split, "chunks are consecutive, in old-subtask order");
            let sizes: Vec<usize> = restored.iter().map(|r| r.split.len()).collect();
            let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            prop_assert!(max - min <= 1, "sizes {:?}", sizes);
        }

        // Union: everyone gets everything, in old-subtask order.
        let all_union: Vec<String> = old.iter().flat_map(|(_, u, _)| u.clone()).collect();
        for r in &restored {
            prop_assert_eq!(&r.union, &all_union);
        }

        // Broadcast: new subtask i gets old subtask i % old_p's map.
        for (i, r) in restored.iter().enumerate() {
            prop_assert_eq!(&r.broadcast, &old[i % old.len()].2);
        }
    }
}

#[test]
fn restored_state_is_carried_until_registered_and_kinds_are_checked() {
    let snapshot = old_subtask(0, &[1, 2], &["x".to_string()], &BTreeMap::new());
    let mut b = OperatorStateBackend::new("Source");
    b.restore(&snapshot.bytes).unwrap();
    // Not registered: a new snapshot still holds it.
    let again = b.snapshot().unwrap();
    let restored = restore(&again);
    assert_eq!(restored.split, [1, 2]);
    // Registering a split list as union list is an error that names both.
    let message = b.get_union_list_state(&offsets()).unwrap_err().to_string();
    assert_eq!(
        message,
        "operator state 'offsets' of operator 'Source' is list state and cannot be used as union list state; \
         give one of them another name"
    );
    assert_eq!(b.get_list_state(&offsets()).unwrap().get(), &[1, 2]);
}

#[test]
fn mixed_modes_for_one_name_and_zero_parallelism_are_refused() {
    let a = {
        let mut b = OperatorStateBackend::new("A");
        b.get_list_state(&offsets()).unwrap().add(1);
        b.snapshot().unwrap()
    };
    let b = {
        let mut b = OperatorStateBackend::new("A");
        b.get_union_list_state(&offsets()).unwrap().add(1);
        b.snapshot().unwrap()
    };
    assert!(matches!(
        redistribute_operator_state(&[a.clone(), b], 2),
        Err(StateError::OperatorStateModeMismatch { .. })
    ));
    assert!(matches!(redistribute_operator_state(&[a], 0), Err(StateError::ZeroParallelism)));
    assert_eq!(redistribute_operator_state::<Vec<u8>>(&[], 3).unwrap().len(), 3);
}

#[test]
fn corrupt_operator_snapshots_are_reported() {
    let snapshot = old_subtask(0, &[1, 2, 3], &[], &BTreeMap::new());
    let mut b = OperatorStateBackend::new("Source");
    let truncated = &snapshot.bytes[..snapshot.bytes.len() - 2];
    assert!(matches!(b.restore(truncated), Err(StateError::Corrupt { .. })));
    assert!(matches!(b.restore(b"nope"), Err(StateError::BadMagic { .. })));
}
