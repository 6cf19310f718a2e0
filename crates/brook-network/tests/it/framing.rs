//! Frames survive encoding and any way the bytes are split by reads.

use brook_network::{ChannelId, Frame};
use brook_types::{JobId, VertexId};
use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

fn channel_id() -> impl Strategy<Value = ChannelId> {
    (any::<u128>(), any::<u128>(), any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(
        |(job, vertex, subtask, input, channel, attempt)| ChannelId {
            job: JobId(job),
            vertex: VertexId(vertex),
            subtask,
            input,
            channel,
            attempt,
        },
    )
}

fn frame() -> impl Strategy<Value = Frame> {
    let payload = proptest::collection::vec(any::<u8>(), 0..300).prop_map(Bytes::from);
    prop_oneof![
        (any::<u16>(), ".{0,40}").prop_map(|(version, address)| Frame::Hello { version, address }),
        Just(Frame::Welcome),
        ".{0,40}".prop_map(|reason| Frame::Reject { reason }),
        channel_id().prop_map(|channel| Frame::Open { channel }),
        (channel_id(), any::<u32>(), payload.clone()).prop_map(|(channel, backlog, payload)| Frame::Buffer {
            channel,
            backlog,
            payload
        }),
        (channel_id(), payload).prop_map(|(channel, payload)| Frame::Event { channel, payload }),
        (channel_id(), any::<u32>()).prop_map(|(channel, credits)| Frame::AddCredit { channel, credits }),
        (channel_id(), any::<u32>()).prop_map(|(channel, backlog)| Frame::Backlog { channel, backlog }),
        channel_id().prop_map(|channel| Frame::Close { channel }),
        ".{0,40}".prop_map(|message| Frame::Error { message }),
    ]
}

proptest! {
    #[test]
    fn frames_round_trip_through_arbitrary_split_reads(
        frames in proptest::collection::vec(frame(), 0..20),
        cuts in proptest::collection::vec(1usize..64, 1..200),
    ) {
        let mut wire = BytesMut::new();
        for f in &frames {
            let before = wire.len();
            f.encode(&mut wire);
            prop_assert_eq!(wire.len() - before, f.encoded_len());
        }
        let wire = wire.freeze();
        // Feed the bytes in reads of the given sizes (cycled), decoding after each.
        let mut buf = BytesMut::new();
        let mut decoded = Vec::new();
        let mut at = 0;
        let mut i = 0;
        while at < wire.len() {
            let n = cuts[i % cuts.len()].min(wire.len() - at);
            buf.extend_from_slice(&wire[at..at + n]);
            at += n;
            i += 1;
            while let Some(f) = Frame::decode(&mut buf, 1 << 20).unwrap() {
                decoded.push(f);
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(decoded, frames);
    }
}
