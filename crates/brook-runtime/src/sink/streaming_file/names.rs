//! Part file names, and reading them back from a directory listing.
//!
//! ```text
//! .part-<uuid>-<subtask>-<n>.inprogress   being written (hidden)
//! .part-<uuid>-<subtask>-<n>.pending      closed at a pre-commit, waiting for its checkpoint (hidden)
//! part-<subtask>-<n>                      committed: renamed from the pending file
//! ```
//!
//! `<uuid>` (32 hex digits) is drawn per sink subtask attempt, so that an attempt
//! never writes into a file of an earlier one; `<n>` counts the subtask's part files
//! and continues after the highest committed one, so committed names never repeat.

/// What a file of the sink's directory is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PartFileName {
    /// `part-<subtask>-<n>`.
    Finished { subtask: usize, part: u64 },
    /// `.part-…-<subtask>-<n>.inprogress` or `.pending`.
    Hidden { subtask: usize },
}

pub(crate) const PREFIX: &str = "part";
pub(crate) const IN_PROGRESS: &str = ".inprogress";
pub(crate) const PENDING: &str = ".pending";

pub(crate) fn in_progress(uuid: &str, subtask: usize, part: u64) -> String {
    format!(".{PREFIX}-{uuid}-{subtask}-{part}{IN_PROGRESS}")
}

pub(crate) fn pending(uuid: &str, subtask: usize, part: u64) -> String {
    format!(".{PREFIX}-{uuid}-{subtask}-{part}{PENDING}")
}

pub(crate) fn finished(subtask: usize, part: u64) -> String {
    format!("{PREFIX}-{subtask}-{part}")
}

/// `<subtask>-<n>` at the end of `rest`.
fn subtask_and_part(rest: &str) -> Option<(usize, u64)> {
    let (rest, part) = rest.rsplit_once('-')?;
    let subtask = rest.rsplit_once('-').map_or(rest, |(_, s)| s);
    Some((subtask.parse().ok()?, part.parse().ok()?))
}

/// Parses a file name of the sink's directory; `None` for files that are not the
/// sink's.
pub(crate) fn parse(name: &str) -> Option<PartFileName> {
    if let Some(hidden) = name.strip_prefix('.') {
        let stem = hidden.strip_suffix(IN_PROGRESS).or_else(|| hidden.strip_suffix(PENDING))?;
        let rest = stem.strip_prefix(PREFIX)?.strip_prefix('-')?;
        // `<uuid>-<subtask>-<n>`.
        let (uuid, _) = rest.split_once('-')?;
        if uuid.len() != 32 || !uuid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let (subtask, _) = subtask_and_part(rest)?;
        return Some(PartFileName::Hidden { subtask });
    }
    let rest = name.strip_prefix(PREFIX)?.strip_prefix('-')?;
    let (subtask, part) = rest.split_once('-')?;
    Some(PartFileName::Finished { subtask: subtask.parse().ok()?, part: part.parse().ok()? })
}

/// A fresh 32-hex-digit id for one sink subtask attempt.
pub(crate) fn random_uuid() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let hi = brook_types::ids::splitmix64(nanos ^ (u64::from(std::process::id()) << 32));
    let lo = brook_types::ids::splitmix64(hi ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    format!("{hi:016x}{lo:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let uuid = random_uuid();
        assert_eq!(uuid.len(), 32);
        assert_ne!(uuid, random_uuid());
        assert_eq!(in_progress(&uuid, 3, 17), format!(".part-{uuid}-3-17.inprogress"));
        assert_eq!(parse(&in_progress(&uuid, 3, 17)), Some(PartFileName::Hidden { subtask: 3 }));
        assert_eq!(parse(&pending(&uuid, 12, 0)), Some(PartFileName::Hidden { subtask: 12 }));
        assert_eq!(finished(2, 5), "part-2-5");
        assert_eq!(parse("part-2-5"), Some(PartFileName::Finished { subtask: 2, part: 5 }));
    }

    #[test]
    fn other_files_are_not_the_sinks() {
        for name in ["part-1", "part-a-2", "counts.csv", ".part-xyz-1-2.inprogress", ".part-1-2.pending", "_SUCCESS"] {
            assert_eq!(parse(name), None, "{name}");
        }
    }
}
