//! The one encoding of keys, namespaces and values: bincode 1 with fixed-width
//! little-endian integers (the bytes `bincode::serialize` writes). Decoding
//! rejects trailing bytes, so that a value read back as another type is an error
//! more often than not.

use bincode::Options;
use serde::de::DeserializeOwned;

/// Decodes one whole part.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, bincode::Error> {
    bincode::DefaultOptions::new().with_fixint_encoding().reject_trailing_bytes().deserialize(bytes)
}
