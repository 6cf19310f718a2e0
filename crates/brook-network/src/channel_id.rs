//! The name of one channel on the wire.

use brook_types::{JobId, VertexId};
use std::fmt;

/// Names one input channel of one subtask attempt: the receiving end of the channel.
///
/// Both ends compute it on their own from their deployment descriptors: the sender
/// from its `ChannelTarget`, the receiver from its gate. The attempt is part of it so
/// that a restarted job never receives data of an old attempt (its channels have other
/// names, and frames for unknown channels are answered with a close).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ChannelId {
    pub job: JobId,
    /// The receiving vertex.
    pub vertex: VertexId,
    /// The receiving subtask.
    pub subtask: u32,
    /// The logical input of the receiving task (0, or 1 for two-input operators).
    pub input: u32,
    /// The channel's index in that input's gate.
    pub channel: u32,
    /// The job's execution attempt (every subtask of an attempt has the same number).
    pub attempt: u32,
}

impl ChannelId {
    /// Bytes on the wire.
    pub const ENCODED_LEN: usize = 16 + 16 + 4 * 4;

    pub(crate) fn encode(&self, out: &mut impl bytes::BufMut) {
        out.put_u128(self.job.0);
        out.put_u128(self.vertex.0);
        out.put_u32(self.subtask);
        out.put_u32(self.input);
        out.put_u32(self.channel);
        out.put_u32(self.attempt);
    }

    pub(crate) fn decode(buf: &mut impl bytes::Buf) -> Self {
        Self {
            job: JobId(buf.get_u128()),
            vertex: VertexId(buf.get_u128()),
            subtask: buf.get_u32(),
            input: buf.get_u32(),
            channel: buf.get_u32(),
            attempt: buf.get_u32(),
        }
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "channel {} of input {} of subtask {} of vertex {} (job {}, attempt {})",
            self.channel, self.input, self.subtask, self.vertex, self.job, self.attempt
        )
    }
}
