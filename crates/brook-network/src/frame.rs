//! Framing: what goes over a data-plane connection.
//!
//! Every frame is `length: u32 | kind: u8 | body`, big-endian, where `length` counts
//! the kind byte and the body. Channel ids are 48 bytes (see [`ChannelId`]); strings
//! are `u16` length + UTF-8; a payload is the rest of the frame.
//!
//! | kind | frame | body | needs a credit |
//! |---|---|---|---|
//! | 1 | `Hello` | version u16, the sender's data address | — |
//! | 2 | `Welcome` | — | — |
//! | 3 | `Reject` | reason | — |
//! | 4 | `Open` | channel | — |
//! | 5 | `Buffer` | channel, backlog u32, payload | yes |
//! | 6 | `Event` | channel, payload | no |
//! | 7 | `AddCredit` | channel, credits u32 | — |
//! | 8 | `Backlog` | channel, backlog u32 | — |
//! | 9 | `Close` | channel | — |
//! | 10 | `Error` | message | — |

use crate::channel_id::ChannelId;
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// The version of this protocol, sent in `Hello`.
pub const PROTOCOL_VERSION: u16 = 1;

/// One message on a data-plane connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// First frame of the dialing side: who it is (its advertised data address).
    Hello { version: u16, address: String },
    /// The accepting side keeps this connection.
    Welcome,
    /// The accepting side keeps another connection to the same peer (both dialed at once).
    Reject { reason: String },
    /// Sender → receiver: a channel starts; the receiver answers with its exclusive credits.
    Open { channel: ChannelId },
    /// Sender → receiver: one record buffer; `backlog` buffers wait behind it at the sender.
    Buffer { channel: ChannelId, backlog: u32, payload: Bytes },
    /// Sender → receiver: a control element (watermark, barrier, end of input); no credit.
    Event { channel: ChannelId, payload: Bytes },
    /// Receiver → sender: `credits` more buffers may be sent.
    AddCredit { channel: ChannelId, credits: u32 },
    /// Sender → receiver: `backlog` buffers wait for credit (sent when credits ran out).
    Backlog { channel: ChannelId, backlog: u32 },
    /// Either way: the channel ends (the sender is done, or the receiver is gone).
    Close { channel: ChannelId },
    /// Either way: the connection is failing, and why.
    Error { message: String },
}

/// A frame that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("a frame announces {length} bytes, more than the {max} bytes allowed")]
    TooLarge { length: usize, max: usize },
    #[error("a frame of length 0 has no kind")]
    Empty,
    #[error("unknown frame kind {0}")]
    UnknownKind(u8),
    #[error("a {kind} frame of {length} bytes is too short for its fields")]
    Truncated { kind: &'static str, length: usize },
    #[error("a {kind} frame has {extra} bytes after its fields")]
    TrailingBytes { kind: &'static str, extra: usize },
    #[error("a {kind} frame holds a string that is not UTF-8")]
    NotUtf8 { kind: &'static str },
}

const HEADER: usize = 4;

impl Frame {
    fn kind(&self) -> u8 {
        match self {
            Frame::Hello { .. } => 1,
            Frame::Welcome => 2,
            Frame::Reject { .. } => 3,
            Frame::Open { .. } => 4,
            Frame::Buffer { .. } => 5,
            Frame::Event { .. } => 6,
            Frame::AddCredit { .. } => 7,
            Frame::Backlog { .. } => 8,
            Frame::Close { .. } => 9,
            Frame::Error { .. } => 10,
        }
    }

    /// Bytes this frame takes on the wire, header included.
    pub fn encoded_len(&self) -> usize {
        const C: usize = ChannelId::ENCODED_LEN;
        let body = match self {
            Frame::Hello { address, .. } => 2 + 2 + address.len().min(u16::MAX as usize),
            Frame::Welcome => 0,
            Frame::Reject { reason: s } | Frame::Error { message: s } => 2 + s.len().min(u16::MAX as usize),
            Frame::Open { .. } | Frame::Close { .. } => C,
            Frame::Buffer { payload, .. } => C + 4 + payload.len(),
            Frame::Event { payload, .. } => C + payload.len(),
            Frame::AddCredit { .. } | Frame::Backlog { .. } => C + 4,
        };
        HEADER + 1 + body
    }

    /// Appends the frame to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        out.reserve(self.encoded_len());
        out.put_u32((self.encoded_len() - HEADER) as u32);
        out.put_u8(self.kind());
        match self {
            Frame::Hello { version, address } => {
                out.put_u16(*version);
                put_str(out, address);
            }
            Frame::Welcome => {}
            Frame::Reject { reason: s } | Frame::Error { message: s } => put_str(out, s),
            Frame::Open { channel } | Frame::Close { channel } => channel.encode(out),
            Frame::Buffer { channel, backlog, payload } => {
                channel.encode(out);
                out.put_u32(*backlog);
                out.put_slice(payload);
            }
            Frame::Event { channel, payload } => {
                channel.encode(out);
                out.put_slice(payload);
            }
            Frame::AddCredit { channel, credits: n } | Frame::Backlog { channel, backlog: n } => {
                channel.encode(out);
                out.put_u32(*n);
            }
        }
    }

    /// Takes one whole frame from the front of `buf`; `Ok(None)` while it has not all
    /// arrived. Payloads share `buf`'s memory (no copy).
    pub fn decode(buf: &mut BytesMut, max_frame: usize) -> Result<Option<Frame>, FrameError> {
        if buf.len() < HEADER {
            return Ok(None);
        }
        let length = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if length > max_frame {
            return Err(FrameError::TooLarge { length, max: max_frame });
        }
        if length == 0 {
            return Err(FrameError::Empty);
        }
        if buf.len() < HEADER + length {
            buf.reserve(HEADER + length - buf.len());
            return Ok(None);
        }
        buf.advance(HEADER);
        let mut body = buf.split_to(length).freeze();
        let kind = body.get_u8();
        decode_body(kind, &mut body, length).map(Some)
    }
}

fn decode_body(kind: u8, body: &mut Bytes, length: usize) -> Result<Frame, FrameError> {
    const C: usize = ChannelId::ENCODED_LEN;
    let name = match kind {
        1 => "hello",
        2 => "welcome",
        3 => "reject",
        4 => "open",
        5 => "buffer",
        6 => "event",
        7 => "add-credit",
        8 => "backlog",
        9 => "close",
        10 => "error",
        other => return Err(FrameError::UnknownKind(other)),
    };
    let need = |n: usize, body: &Bytes| {
        if body.remaining() < n { Err(FrameError::Truncated { kind: name, length }) } else { Ok(()) }
    };
    let frame = match kind {
        1 => {
            need(2, body)?;
            let version = body.get_u16();
            Frame::Hello { version, address: get_str(body, name, length)? }
        }
        2 => Frame::Welcome,
        3 => Frame::Reject { reason: get_str(body, name, length)? },
        4 | 9 => {
            need(C, body)?;
            let channel = ChannelId::decode(body);
            if kind == 4 { Frame::Open { channel } } else { Frame::Close { channel } }
        }
        5 => {
            need(C + 4, body)?;
            let channel = ChannelId::decode(body);
            let backlog = body.get_u32();
            Frame::Buffer { channel, backlog, payload: std::mem::take(body) }
        }
        6 => {
            need(C, body)?;
            let channel = ChannelId::decode(body);
            Frame::Event { channel, payload: std::mem::take(body) }
        }
        7 | 8 => {
            need(C + 4, body)?;
            let channel = ChannelId::decode(body);
            let n = body.get_u32();
            if kind == 7 { Frame::AddCredit { channel, credits: n } } else { Frame::Backlog { channel, backlog: n } }
        }
        _ => Frame::Error { message: get_str(body, name, length)? },
    };
    if body.has_remaining() {
        return Err(FrameError::TrailingBytes { kind: name, extra: body.remaining() });
    }
    Ok(frame)
}

fn put_str(out: &mut BytesMut, s: &str) {
    // Strings are addresses and messages: cut (at a char boundary) rather than fail.
    let mut end = s.len().min(u16::MAX as usize);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out.put_u16(end as u16);
    out.put_slice(&s.as_bytes()[..end]);
}

fn get_str(body: &mut Bytes, kind: &'static str, length: usize) -> Result<String, FrameError> {
    if body.remaining() < 2 {
        return Err(FrameError::Truncated { kind, length });
    }
    let n = body.get_u16() as usize;
    if body.remaining() < n {
        return Err(FrameError::Truncated { kind, length });
    }
    let bytes = body.split_to(n);
    String::from_utf8(bytes.to_vec()).map_err(|_| FrameError::NotUtf8 { kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_frame_waits_for_the_rest() {
        let frame = Frame::Error { message: "x".into() };
        let mut full = BytesMut::new();
        frame.encode(&mut full);
        assert_eq!(full.len(), frame.encoded_len());
        let mut buf = BytesMut::from(&full[..full.len() - 1]);
        assert_eq!(Frame::decode(&mut buf, 1024), Ok(None));
        buf.extend_from_slice(&full[full.len() - 1..]);
        assert_eq!(Frame::decode(&mut buf, 1024), Ok(Some(frame)));
        assert!(buf.is_empty());
    }

    #[test]
    fn malformed_frames_are_errors() {
        let mut buf = BytesMut::from(&[0u8, 0, 0, 2, 99, 0][..]);
        assert_eq!(Frame::decode(&mut buf, 1024), Err(FrameError::UnknownKind(99)));
        let mut buf = BytesMut::from(&[0u8, 1, 0, 0][..]);
        assert_eq!(Frame::decode(&mut buf, 1024), Err(FrameError::TooLarge { length: 65536, max: 1024 }));
        let mut buf = BytesMut::from(&[0u8, 0, 0, 3, 4, 1, 2][..]);
        assert_eq!(Frame::decode(&mut buf, 1024), Err(FrameError::Truncated { kind: "open", length: 3 }));
        let mut buf = BytesMut::from(&[0u8, 0, 0, 2, 2, 7][..]);
        assert_eq!(Frame::decode(&mut buf, 1024), Err(FrameError::TrailingBytes { kind: "welcome", extra: 1 }));
    }
}
