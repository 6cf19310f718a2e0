//! The channel state of an unaligned checkpoint: what one task had in flight.
//!
//! - **Input channel state**: per input channel, the elements that arrived before that
//!   channel's barrier n but after the task's snapshot of n — the task processed them
//!   after its snapshot, so its operator state does not hold them.
//! - **Output channel state**: per output channel, the elements the task produced
//!   before its snapshot that barrier n overtook in its record writer.
//!
//! Only data is kept: record buffers, watermarks and watermark statuses. Barriers of
//! other checkpoints, latency markers and end of input are not (a restored upstream
//! sends its own end of input again).
//!
//! # File format (version [`CHANNEL_STATE_VERSION`])
//!
//! `b"BRKCHST1"` ‖ `u32` version (LE) ‖ `bincode(ChannelStateSnapshot)`, where every
//! element is `bincode(StreamElement<T>)` of the channel's record type, so the file
//! itself needs no type. A reader refuses another magic or a newer version.

use brook_types::StreamElement;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The version of the channel-state file this Brook writes (and the newest it reads).
pub const CHANNEL_STATE_VERSION: u32 = 1;

const MAGIC: &[u8; 8] = b"BRKCHST1";

/// The recorded elements of one channel.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelData {
    /// Input state: the task input (0, or 1 for the second input of a two-input task).
    /// Output state: the record writer, in the order the chain builder creates them.
    pub gate: u32,
    pub channel: u32,
    /// `bincode(StreamElement<T>)` per element, in channel order.
    pub elements: Vec<Vec<u8>>,
}

/// Everything one task had in flight for one unaligned checkpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelStateSnapshot {
    /// The number of channels of every input gate when the state was taken: a restore
    /// with other channels (another parallelism up- or downstream) is refused.
    pub input_channels: Vec<u32>,
    /// The number of channels of every record writer when the state was taken.
    pub output_channels: Vec<u32>,
    pub inputs: Vec<ChannelData>,
    pub outputs: Vec<ChannelData>,
}

impl ChannelStateSnapshot {
    /// No element in any channel (nothing was in flight).
    pub fn is_empty(&self) -> bool {
        self.inputs.iter().chain(&self.outputs).all(|c| c.elements.is_empty())
    }

    /// The number of recorded elements (input, output).
    pub fn element_counts(&self) -> (usize, usize) {
        let count = |c: &[ChannelData]| c.iter().map(|c| c.elements.len()).sum();
        (count(&self.inputs), count(&self.outputs))
    }

    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&CHANNEL_STATE_VERSION.to_le_bytes());
        bincode::serialize_into(&mut bytes, self).expect("vectors of bytes and integers serialize");
        bytes
    }

    /// Parses a channel-state file.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let Some((magic, rest)) = bytes.split_first_chunk::<8>() else {
            return Err(format!("the channel-state file is {} bytes long, too short for its header", bytes.len()));
        };
        if magic != MAGIC {
            return Err("the file is not a Brook channel-state file (wrong magic)".to_string());
        }
        let Some((version, rest)) = rest.split_first_chunk::<4>() else {
            return Err("the channel-state file ends inside its header".to_string());
        };
        let version = u32::from_le_bytes(*version);
        if version == 0 || version > CHANNEL_STATE_VERSION {
            return Err(format!(
                "the channel-state file has format version {version}, but this Brook reads version \
                 {CHANNEL_STATE_VERSION} and older; restore it with the Brook release that wrote it or a newer one"
            ));
        }
        bincode::deserialize(rest).map_err(|e| format!("the channel-state file (version {version}) is damaged: {e}"))
    }
}

/// Encodes and decodes the elements of a channel of record type `T` (made where `T`
/// is known to be serializable; the runtime's channel types only need `Send`).
pub struct ElementCodec<T> {
    pub encode: fn(&StreamElement<T>) -> bincode::Result<Vec<u8>>,
    pub decode: fn(&[u8]) -> bincode::Result<StreamElement<T>>,
}

impl<T> Clone for ElementCodec<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ElementCodec<T> {}

impl<T> std::fmt::Debug for ElementCodec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ElementCodec")
    }
}

impl<T: Serialize + DeserializeOwned> ElementCodec<T> {
    /// bincode, as the canonical state format.
    pub fn bincode() -> Self {
        Self { encode: |e| bincode::serialize(e), decode: |b| bincode::deserialize(b) }
    }
}

/// Whether an unaligned barrier may not overtake `element`: barriers stay in order and
/// nothing passes an end of input. Everything else (data, latency markers) is overtaken.
pub fn stops_overtaking<T>(element: &StreamElement<T>) -> bool {
    matches!(element, StreamElement::Barrier(_) | StreamElement::EndOfInput)
}

/// Whether the channel state keeps `element` (data only).
pub fn is_channel_data<T>(element: &StreamElement<T>) -> bool {
    matches!(element, StreamElement::Records(_) | StreamElement::Watermark(_) | StreamElement::WatermarkStatus(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ChannelStateSnapshot {
        ChannelStateSnapshot {
            input_channels: vec![2, 1],
            output_channels: vec![3],
            inputs: vec![ChannelData { gate: 1, channel: 0, elements: vec![vec![1, 2], vec![]] }],
            outputs: vec![ChannelData { gate: 0, channel: 2, elements: vec![vec![9]] }],
        }
    }

    #[test]
    fn the_file_round_trips() {
        let bytes = sample().encode();
        assert_eq!(&bytes[..12], b"BRKCHST1\x01\x00\x00\x00");
        assert_eq!(ChannelStateSnapshot::decode(&bytes).unwrap(), sample());
        assert_eq!(sample().element_counts(), (2, 1));
    }

    #[test]
    fn other_files_and_newer_versions_are_refused() {
        assert_eq!(
            ChannelStateSnapshot::decode(b"PNG").unwrap_err(),
            "the channel-state file is 3 bytes long, too short for its header"
        );
        let mut bytes = sample().encode();
        bytes[8] = 2;
        assert!(ChannelStateSnapshot::decode(&bytes).unwrap_err().contains("has format version 2, but"));
        let bytes = sample().encode();
        assert!(ChannelStateSnapshot::decode(&bytes[..bytes.len() - 1]).unwrap_err().contains("is damaged"));
    }

    #[test]
    fn elements_round_trip_through_the_codec() {
        let codec = ElementCodec::<i64>::bincode();
        let element = StreamElement::Records(vec![brook_types::StreamRecord::new(7i64)]);
        assert_eq!((codec.decode)(&(codec.encode)(&element).unwrap()).unwrap(), element);
    }
}
