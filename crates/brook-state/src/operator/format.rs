//! The operator-state snapshot format (version 1).
//!
//! ```text
//! offset  size  field
//! 0       4     magic "BROS"
//! 4       2     format version (1)
//! 6       2     flags (0)
//! 8       4     state count S
//! 12      …     S states:
//!                 u32 name length, name (UTF-8)
//!                 u8  mode (0 split-distribute list, 1 union list, 2 broadcast)
//!                 u32 type-name length, type name (UTF-8; for messages only)
//!                 u64 item count
//!                 items: list → u32 length, bincode(T)
//!                        broadcast → u32 length, bincode(UK), u32 length, bincode(UV)
//! ```
//!
//! Items are self-delimiting, so redistribution moves them without knowing their
//! types.

use super::OperatorStateMode;
use crate::error::{Result, StateError};

pub(crate) const MAGIC: [u8; 4] = *b"BROS";
pub(crate) const VERSION: u16 = 1;
const WHAT: &str = "operator state";

/// One state of a snapshot; `items` are raw, length prefixes included.
#[derive(Debug)]
pub(crate) struct ParsedState<'a> {
    pub name: String,
    pub mode: OperatorStateMode,
    pub type_name: String,
    pub items: Vec<&'a [u8]>,
}

/// Writes a snapshot state by state.
pub(crate) struct SnapshotEncoder {
    pub out: Vec<u8>,
}

impl SnapshotEncoder {
    pub fn new(state_count: usize) -> Self {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&(state_count as u32).to_le_bytes());
        Self { out }
    }

    pub fn begin_state(&mut self, name: &str, mode: OperatorStateMode, type_name: &str, items: usize) {
        self.out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(mode.code());
        self.out.extend_from_slice(&(type_name.len() as u32).to_le_bytes());
        self.out.extend_from_slice(type_name.as_bytes());
        self.out.extend_from_slice(&(items as u64).to_le_bytes());
    }

    /// Appends `u32 length ‖ bincode(value)`.
    pub fn part<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), bincode::Error> {
        let at = self.out.len();
        self.out.extend_from_slice(&[0; 4]);
        bincode::serialize_into(&mut self.out, value)?;
        let len = u32::try_from(self.out.len() - at - 4).map_err(|_| Box::new(bincode::ErrorKind::SizeLimit))?;
        self.out[at..at + 4].copy_from_slice(&len.to_le_bytes());
        Ok(())
    }

    pub fn raw(&mut self, item: &[u8]) {
        self.out.extend_from_slice(item);
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or(StateError::Corrupt {
            what: WHAT,
            offset: self.at,
            problem: "the snapshot ends early",
        })?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    fn string(&mut self) -> Result<String> {
        let len = self.u32()? as usize;
        let at = self.at;
        String::from_utf8(self.take(len)?.to_vec()).map_err(|_| StateError::Corrupt {
            what: WHAT,
            offset: at,
            problem: "a name is not UTF-8",
        })
    }

    /// One `u32 length ‖ bytes` part; returns the whole part.
    fn part(&mut self) -> Result<()> {
        let len = self.u32()? as usize;
        self.take(len)?;
        Ok(())
    }
}

/// Parses a snapshot into its states.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<ParsedState<'_>>> {
    if bytes.len() < 4 || bytes[..4] != MAGIC {
        return Err(StateError::BadMagic { expected: WHAT, found: bytes[..bytes.len().min(4)].to_vec() });
    }
    let mut c = Cursor { bytes, at: 4 };
    let version = u16::from_le_bytes(c.take(2)?.try_into().expect("2 bytes"));
    if version == 0 || version > VERSION {
        return Err(StateError::UnsupportedVersion { what: WHAT, found: version, supported: VERSION });
    }
    if c.take(2)? != [0, 0] {
        return Err(StateError::Corrupt { what: WHAT, offset: 6, problem: "unknown header flags" });
    }
    let count = c.u32()? as usize;
    let mut states = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let name = c.string()?;
        let at = c.at;
        let mode = OperatorStateMode::from_code(c.take(1)?[0]).ok_or(StateError::Corrupt {
            what: WHAT,
            offset: at,
            problem: "unknown operator state mode",
        })?;
        let type_name = c.string()?;
        let items = u64::from_le_bytes(c.take(8)?.try_into().expect("8 bytes")) as usize;
        let mut raw = Vec::with_capacity(items.min(1 << 16));
        for _ in 0..items {
            let start = c.at;
            c.part()?;
            if mode == OperatorStateMode::Broadcast {
                c.part()?;
            }
            raw.push(&bytes[start..c.at]);
        }
        states.push(ParsedState { name, mode, type_name, items: raw });
    }
    if c.at != bytes.len() {
        return Err(StateError::Corrupt { what: WHAT, offset: c.at, problem: "bytes after the last state" });
    }
    Ok(states)
}

/// The parts of a raw item: one for lists, two for broadcast entries.
pub(crate) fn item_parts(item: &[u8]) -> (&[u8], &[u8]) {
    let len = u32::from_le_bytes(item[..4].try_into().expect("parsed")) as usize;
    let first = &item[4..4 + len];
    let rest = &item[4 + len..];
    if rest.is_empty() {
        return (first, rest);
    }
    let len2 = u32::from_le_bytes(rest[..4].try_into().expect("parsed")) as usize;
    (first, &rest[4..4 + len2])
}
