//! Identifiers. Every id is a newtype so that a `JobId` can never be passed where a
//! `VertexId` is expected. 128-bit ids print as 32 lowercase hex digits, as Flink's do.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! id128 {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub u128);

        impl $name {
            /// A fresh random id.
            pub fn generate() -> Self {
                Self(random_u128())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:032x}", self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:032x})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = crate::BrookError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if s.len() != 32 {
                    return Err(crate::BrookError::InvalidArgument(format!(
                        "'{s}' is not a {}: expected 32 hex digits", stringify!($name)
                    )));
                }
                u128::from_str_radix(s, 16).map(Self).map_err(|_| {
                    crate::BrookError::InvalidArgument(format!(
                        "'{s}' is not a {}: expected 32 hex digits", stringify!($name)
                    ))
                })
            }
        }
    };
}

id128!(
    /// Identifies one job (one submitted dataflow program).
    JobId
);
id128!(
    /// Identifies one JobVertex (an operator chain) within a job.
    VertexId
);
id128!(
    /// Identifies one operator, stable across runs: derived from the user's `uid` or
    /// from the operator's position in the graph, so that state maps back on restore.
    OperatorId
);
id128!(
    /// Identifies one TaskManager.
    TaskManagerId
);
id128!(
    /// Identifies one execution attempt of one subtask.
    ExecutionAttemptId
);

/// A node of the StreamGraph: one operator as the API built it. Dense, starts at 1.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub struct NodeId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Identifies checkpoint n of a job; increases by one per triggered checkpoint.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub struct CheckpointId(pub u64);

impl fmt::Display for CheckpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A 128-bit id from a process-wide generator seeded by time and pid. Ids only need
/// to be unique, not unpredictable.
fn random_u128() -> u128 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let hi = splitmix64(nanos ^ (u64::from(std::process::id()) << 32));
    let lo = splitmix64(hi ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    (u128::from(hi) << 64) | u128::from(lo)
}

/// SplitMix64, a good 64-bit mixer.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl OperatorId {
    /// The stable id of an operator with a user-given `uid` (hash of the uid).
    pub fn from_uid(uid: &str) -> Self {
        Self(hash128(uid.as_bytes()))
    }
}

impl VertexId {
    /// A vertex is identified by its head operator.
    pub fn from_head(head: OperatorId) -> Self {
        Self(head.0)
    }
}

/// A deterministic 128-bit hash (two FNV-1a passes mixed by SplitMix64). Used for
/// stable ids, never for partitioning.
pub fn hash128(bytes: &[u8]) -> u128 {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x8422_2325_cbf2_9ce4;
    for &byte in bytes {
        a = (a ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        b = (b ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(5);
    }
    (u128::from(splitmix64(a)) << 64) | u128::from(splitmix64(b ^ a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_and_parse_as_32_hex_digits() {
        let id = JobId(0xabc);
        assert_eq!(id.to_string(), "00000000000000000000000000000abc");
        assert_eq!(id.to_string().parse::<JobId>().unwrap(), id);
        assert!("xyz".parse::<JobId>().is_err());
    }

    #[test]
    fn generated_ids_differ() {
        assert_ne!(JobId::generate(), JobId::generate());
    }

    #[test]
    fn uid_ids_are_stable() {
        assert_eq!(OperatorId::from_uid("a"), OperatorId::from_uid("a"));
        assert_ne!(OperatorId::from_uid("a"), OperatorId::from_uid("b"));
    }
}
