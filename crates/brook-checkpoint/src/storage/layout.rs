//! The directory layout (version 1). Changing a name here changes where restores look, so
//! every name is a constant or a function of ids:
//!
//! ```text
//! <execution.checkpointing.dir>/
//!   <job-id>/                      32 hex digits
//!     chk-<n>/                     one per checkpoint; complete iff _metadata exists
//!       _metadata                  written last, atomically
//!       <32 hex>                   exclusive state files (referenced as "<32 hex>")
//!     shared/                      incremental checkpoints' shared files, reference counted
//!       <32 hex>-<name>            (referenced as "../shared/<32 hex>-<name>")
//! <execution.checkpointing.savepoint-dir>/
//!   savepoint-<6 hex of job id>-<12 hex>/
//!     _metadata
//!     <32 hex>                     every file a savepoint needs is inside its directory
//! ```

use brook_types::{CheckpointId, JobId};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// The file that makes a checkpoint or savepoint directory complete.
pub const METADATA_FILE: &str = "_metadata";

/// The directory of shared files under a job's directory.
pub const SHARED_DIR: &str = "shared";

/// `chk-<n>`.
pub fn checkpoint_dir_name(checkpoint_id: CheckpointId) -> String {
    format!("chk-{checkpoint_id}")
}

/// The checkpoint id of a `chk-<n>` directory name.
pub fn parse_checkpoint_dir_name(name: &str) -> Option<CheckpointId> {
    name.strip_prefix("chk-")?.parse().ok().map(CheckpointId)
}

/// `savepoint-<first 6 hex digits of the job id>-<12 random hex digits>`, as Flink names them.
pub fn savepoint_dir_name(job_id: JobId) -> String {
    format!("savepoint-{}-{}", &job_id.to_string()[..6], random_hex(12))
}

/// A fresh name for a state file: 32 random hex digits.
pub fn state_file_name() -> String {
    random_hex(32)
}

/// `n` random hex digits. Names only need to be unique, not unpredictable: `RandomState`
/// is seeded randomly per process, and a counter separates calls.
pub(crate) fn random_hex(n: usize) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut out = String::with_capacity(n + 16);
    while out.len() < n {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u128(std::time::SystemTime::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_nanos()));
        out.push_str(&format!("{:016x}", brook_types::ids::splitmix64(hasher.finish())));
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(checkpoint_dir_name(CheckpointId(12)), "chk-12");
        assert_eq!(parse_checkpoint_dir_name("chk-12"), Some(CheckpointId(12)));
        assert_eq!(parse_checkpoint_dir_name("chk-x"), None);
        assert_eq!(parse_checkpoint_dir_name("shared"), None);
        let name = savepoint_dir_name(JobId(0xabcdef12 << 96));
        assert!(name.starts_with("savepoint-abcdef-"), "{name}");
        assert_eq!(name.len(), "savepoint-abcdef-".len() + 12);
        let a = state_file_name();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, state_file_name());
    }
}
