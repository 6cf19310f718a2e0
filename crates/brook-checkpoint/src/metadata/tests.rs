use super::*;
use brook_types::key_group::KeyGroupRange;
use bytes::Bytes;
use proptest::prelude::*;

pub(crate) fn arb_handle() -> impl Strategy<Value = StreamStateHandle> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| StreamStateHandle::Inline(Bytes::from(b))),
        ("[a-f0-9]{1,32}|\\.\\./shared/[a-f0-9]{8}-[0-9]{6}\\.sst", any::<u64>())
            .prop_map(|(path, size)| StreamStateHandle::File { path, size }),
    ]
}

fn arb_named() -> impl Strategy<Value = NamedStateHandle> {
    ("[0-9]{6}\\.sst", arb_handle()).prop_map(|(name, handle)| NamedStateHandle { name, handle })
}

fn arb_range() -> impl Strategy<Value = KeyGroupRange> {
    (0usize..32768, 0usize..128).prop_map(|(start, len)| KeyGroupRange { start, end: start + len })
}

fn arb_keyed() -> impl Strategy<Value = KeyedStateHandle> {
    prop_oneof![
        (arb_range(), arb_handle(), proptest::collection::vec(any::<u64>(), 0..8)).prop_map(
            |(key_group_range, handle, key_group_offsets)| KeyedStateHandle::KeyGroups {
                key_group_range,
                handle,
                key_group_offsets
            }
        ),
        (
            arb_range(),
            proptest::collection::vec(arb_named(), 0..4),
            proptest::collection::vec(arb_named(), 0..3),
            arb_handle()
        )
            .prop_map(|(key_group_range, shared, private, meta)| KeyedStateHandle::Incremental {
                key_group_range,
                shared,
                private,
                meta
            }),
    ]
}

fn arb_subtask() -> impl Strategy<Value = SubtaskSnapshot> {
    (
        0usize..1000,
        proptest::collection::vec(arb_keyed(), 0..3),
        proptest::option::of(arb_handle()),
        proptest::collection::vec(
            (0usize..4, 0usize..16, arb_handle()).prop_map(|(input_gate, channel, handle)| InFlightHandle {
                input_gate,
                channel,
                handle,
            }),
            0..3,
        ),
        proptest::option::of(
            (1u32..4, arb_handle()).prop_map(|(format_version, handle)| ChannelStateHandle { format_version, handle }),
        ),
    )
        .prop_map(|(subtask, keyed, operator_state, in_flight, channel_state)| SubtaskSnapshot {
            subtask,
            keyed,
            operator_state,
            in_flight,
            channel_state,
        })
}

fn arb_operator() -> impl Strategy<Value = OperatorSnapshot> {
    (
        any::<u128>(),
        proptest::option::of("[a-z-]{1,12}"),
        "\\PC{0,20}",
        1usize..64,
        1usize..32768,
        proptest::collection::vec(arb_subtask(), 0..4),
        proptest::option::of(arb_handle()),
    )
        .prop_map(|(id, uid, name, parallelism, max_parallelism, subtasks, coordinator_state)| OperatorSnapshot {
            operator_id: OperatorId(id),
            uid,
            name,
            parallelism,
            max_parallelism,
            subtasks,
            coordinator_state,
        })
}

pub(crate) fn arb_metadata() -> impl Strategy<Value = CheckpointMetadata> {
    (
        any::<u128>(),
        any::<u64>(),
        any::<u64>(),
        prop_oneof![Just(SnapshotKind::Checkpoint), Just(SnapshotKind::Savepoint)],
        prop_oneof![Just(SnapshotFormat::Canonical), Just(SnapshotFormat::Native)],
        proptest::collection::vec(arb_operator(), 0..4),
        proptest::collection::vec(
            ("[a-z]{1,8}", arb_handle()).prop_map(|(name, handle)| MasterState { name, handle }),
            0..2,
        ),
    )
        .prop_map(|(job, id, ts, kind, format, operators, master_states)| CheckpointMetadata {
            version: METADATA_VERSION,
            job_id: JobId(job),
            checkpoint_id: CheckpointId(id),
            timestamp_ms: ts,
            kind,
            format,
            operators,
            master_states,
        })
}

proptest! {
    #[test]
    fn metadata_round_trips(metadata in arb_metadata()) {
        let bytes = metadata.encode();
        let decoded = CheckpointMetadata::decode(&bytes, "mem://_metadata").unwrap();
        prop_assert_eq!(decoded, metadata);
    }

    #[test]
    fn handles_are_enumerated_once(metadata in arb_metadata()) {
        let expected: usize = metadata.master_states.len()
            + metadata
                .operators
                .iter()
                .map(|o| {
                    usize::from(o.coordinator_state.is_some())
                        + o.subtasks
                            .iter()
                            .map(|s| {
                                usize::from(s.operator_state.is_some())
                                    + s.in_flight.len()
                                    + usize::from(s.channel_state.is_some())
                                    + s.keyed
                                        .iter()
                                        .map(|k| match k {
                                            KeyedStateHandle::KeyGroups { .. } => 1,
                                            KeyedStateHandle::Incremental { shared, private, .. } => {
                                                shared.len() + private.len() + 1
                                            }
                                        })
                                        .sum::<usize>()
                            })
                            .sum::<usize>()
                })
                .sum::<usize>();
        prop_assert_eq!(metadata.handles().count(), expected);
    }
}

fn sample() -> CheckpointMetadata {
    let mut m = CheckpointMetadata::new(
        JobId(0xab),
        CheckpointId(7),
        1_700_000_000_000,
        SnapshotKind::Checkpoint,
        SnapshotFormat::Canonical,
    );
    m.operators.push(OperatorSnapshot {
        operator_id: OperatorId(1),
        uid: Some("counts".into()),
        name: "Keyed Aggregation".into(),
        parallelism: 1,
        max_parallelism: 128,
        subtasks: vec![SubtaskSnapshot {
            subtask: 0,
            keyed: vec![KeyedStateHandle::KeyGroups {
                key_group_range: KeyGroupRange { start: 0, end: 127 },
                handle: StreamStateHandle::Inline(Bytes::from_static(b"foo")),
                key_group_offsets: vec![0; 2],
            }],
            operator_state: Some(StreamStateHandle::File { path: "5e1d".into(), size: 30000 }),
            in_flight: vec![],
            channel_state: None,
        }],
        coordinator_state: None,
    });
    m
}

#[test]
fn the_json_is_readable() {
    let text = String::from_utf8(sample().encode()).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "magic": "brook-checkpoint-metadata",
            "version": 1,
            "job_id": "000000000000000000000000000000ab",
            "checkpoint_id": 7,
            "timestamp_ms": 1_700_000_000_000u64,
            "kind": "checkpoint",
            "format": "canonical",
            "operators": [{
                "operator_id": "00000000000000000000000000000001",
                "uid": "counts",
                "name": "Keyed Aggregation",
                "parallelism": 1,
                "max_parallelism": 128,
                "subtasks": [{
                    "subtask": 0,
                    "keyed": [{"key_groups": {
                        "key_group_range": {"start": 0, "end": 127},
                        "handle": {"inline": "Zm9v"},
                        "key_group_offsets": [0, 0]
                    }}],
                    "operator_state": {"file": {"path": "5e1d", "size": 30000}},
                    "in_flight": []
                }],
                "coordinator_state": null
            }],
            "master_states": []
        })
    );
    assert!(text.starts_with("{\n  \"magic\": \"brook-checkpoint-metadata\",\n  \"version\": 1,"), "{text}");
}

#[test]
fn a_newer_version_is_refused_with_advice() {
    let text = String::from_utf8(sample().encode()).unwrap().replace("\"version\": 1", "\"version\": 3");
    let err = CheckpointMetadata::decode(text.as_bytes(), "file:///ck/chk-7/_metadata").unwrap_err();
    assert!(matches!(err, CheckpointError::UnsupportedVersion { found: 3, supported: 2, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "file:///ck/chk-7/_metadata has checkpoint metadata version 3, but this Brook reads version 2 and \
         older; restore it with the Brook release that wrote it or a newer one"
    );
}

#[test]
fn other_files_are_not_metadata() {
    let err = CheckpointMetadata::decode(b"\x89PNG", "file:///x/_metadata").unwrap_err();
    assert!(err.to_string().starts_with("file:///x/_metadata is not valid Brook checkpoint metadata: not JSON"));
    let err = CheckpointMetadata::decode(br#"{"version": 1}"#, "file:///x/_metadata").unwrap_err();
    assert!(err.to_string().contains("it does not start with \"magic\""), "{err}");
    let damaged = String::from_utf8(sample().encode()).unwrap().replace("\"Zm9v\"", "\"Zm9\"");
    let err = CheckpointMetadata::decode(damaged.as_bytes(), "file:///x/_metadata").unwrap_err();
    assert!(err.to_string().contains("version 1 metadata does not parse"), "{err}");
}

#[test]
fn unknown_fields_from_a_compatible_writer_are_ignored() {
    let text = String::from_utf8(sample().encode()).unwrap().replace("\"kind\"", "\"future_field\": 3, \"kind\"");
    assert_eq!(CheckpointMetadata::decode(text.as_bytes(), "x").unwrap(), sample());
}

#[test]
fn channel_state_round_trips_and_is_absent_from_aligned_checkpoints() {
    let mut m = sample();
    m.operators[0].subtasks[0].channel_state = Some(ChannelStateHandle {
        format_version: 1,
        handle: StreamStateHandle::File { path: "9c2e".into(), size: 512 },
    });
    let text = String::from_utf8(m.encode()).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value["operators"][0]["subtasks"][0]["channel_state"],
        serde_json::json!({"format_version": 1, "handle": {"file": {"path": "9c2e", "size": 512}}})
    );
    let decoded = CheckpointMetadata::decode(text.as_bytes(), "x").unwrap();
    assert_eq!(decoded, m);
    assert!(
        decoded.handles().any(|h| h.file_path() == Some("9c2e")),
        "the channel-state file is one of the checkpoint's handles, so it is discarded with it"
    );
    assert!(text.contains("\"version\": 2,"), "a version-1 reader would drop the in-flight data: {text}");
    // Written before the field existed (or by an aligned checkpoint): no key, read as None.
    assert!(String::from_utf8(sample().encode()).unwrap().contains("\"version\": 1,"), "still readable by version 1");
    assert!(!String::from_utf8(sample().encode()).unwrap().contains("channel_state"));
    assert_eq!(
        CheckpointMetadata::decode(&sample().encode(), "x").unwrap().operators[0].subtasks[0].channel_state,
        None
    );
}
