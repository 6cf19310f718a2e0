//! What Brook keeps and what it deletes.
//!
//! - While a job runs, the [`CompletedCheckpointStore`] keeps the latest
//!   `execution.checkpointing.num-retained` checkpoints; adding one subsumes the oldest.
//! - Shared files of incremental checkpoints are reference counted by the
//!   [`SharedStateRegistry`] and deleted when no retained checkpoint uses them.
//! - When the job terminates, `execution.checkpointing.externalized-checkpoint-retention`
//!   decides whether the retained checkpoints stay ([`ExternalizedCheckpointRetention`]).
//! - Savepoints are never deleted by Brook.
//!
//! Decisions are pure: they return a [`DiscardPlan`], which
//! [`CheckpointStorage::discard`](crate::CheckpointStorage::discard) executes.

mod completed_store;
mod shared_registry;

pub use completed_store::CompletedCheckpointStore;
pub use shared_registry::SharedStateRegistry;

use crate::error::{CheckpointError, Result};
use brook_types::config::{Configuration, options};

/// Files and directories to delete.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiscardPlan {
    /// `chk-<n>` directories (URLs), deleted with everything in them, `_metadata` first.
    pub checkpoint_dirs: Vec<String>,
    /// Shared files (URLs) no retained checkpoint references any more.
    pub shared_files: Vec<String>,
    /// Local directories to remove if they are empty afterwards (`<job>/shared`, `<job>`).
    pub remove_if_empty: Vec<String>,
}

impl DiscardPlan {
    pub fn is_empty(&self) -> bool {
        self.checkpoint_dirs.is_empty() && self.shared_files.is_empty() && self.remove_if_empty.is_empty()
    }
}

/// How a job ended, for the retention decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobTermination {
    Finished,
    Canceled,
    Failed,
    /// The JobMaster stopped without the job reaching a final state (lost leadership).
    Suspended,
}

/// `execution.checkpointing.externalized-checkpoint-retention`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExternalizedCheckpointRetention {
    /// Keep checkpoints when the job fails; delete them on cancellation.
    DeleteOnCancellation,
    /// Keep checkpoints when the job is canceled, fails or is suspended.
    RetainOnCancellation,
    /// Delete checkpoints whenever the job terminates (Flink's default).
    NoExternalizedCheckpoints,
}

impl ExternalizedCheckpointRetention {
    pub fn from_config(config: &Configuration) -> Result<Self> {
        let value = config.get_enum(&options::EXTERNALIZED_CHECKPOINT_RETENTION);
        match value.as_str() {
            "DELETE_ON_CANCELLATION" => Ok(Self::DeleteOnCancellation),
            "RETAIN_ON_CANCELLATION" => Ok(Self::RetainOnCancellation),
            "NO_EXTERNALIZED_CHECKPOINTS" => Ok(Self::NoExternalizedCheckpoints),
            _ => Err(CheckpointError::InvalidConfig {
                key: options::EXTERNALIZED_CHECKPOINT_RETENTION.key,
                value,
                reason: "expected DELETE_ON_CANCELLATION, RETAIN_ON_CANCELLATION or NO_EXTERNALIZED_CHECKPOINTS"
                    .to_string(),
            }),
        }
    }

    /// Whether a job that ended this way keeps its retained checkpoints. This is Flink's
    /// `CheckpointProperties` table: a finished job never keeps them.
    ///
    /// | retention                     | finished | canceled | failed | suspended |
    /// |-------------------------------|----------|----------|--------|-----------|
    /// | `NO_EXTERNALIZED_CHECKPOINTS` | delete   | delete   | delete | delete    |
    /// | `DELETE_ON_CANCELLATION`      | delete   | delete   | keep   | delete    |
    /// | `RETAIN_ON_CANCELLATION`      | delete   | keep     | keep   | keep      |
    pub fn keeps_checkpoints(self, termination: JobTermination) -> bool {
        use ExternalizedCheckpointRetention::*;
        use JobTermination::*;
        match (self, termination) {
            (_, Finished) | (NoExternalizedCheckpoints, _) => false,
            (DeleteOnCancellation, Failed) => true,
            (DeleteOnCancellation, Canceled | Suspended) => false,
            (RetainOnCancellation, Canceled | Failed | Suspended) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExternalizedCheckpointRetention::*;
    use JobTermination::*;

    #[test]
    fn flinks_retention_table() {
        let keeps = |r: ExternalizedCheckpointRetention| {
            [Finished, Canceled, Failed, Suspended].map(|t| r.keeps_checkpoints(t))
        };
        assert_eq!(keeps(NoExternalizedCheckpoints), [false, false, false, false]);
        assert_eq!(keeps(DeleteOnCancellation), [false, false, true, false]);
        assert_eq!(keeps(RetainOnCancellation), [false, true, true, true]);
    }

    #[test]
    fn retention_from_config() {
        let mut c = Configuration::new();
        assert_eq!(ExternalizedCheckpointRetention::from_config(&c).unwrap(), NoExternalizedCheckpoints);
        c.set_dynamic("execution.checkpointing.externalized-checkpoint-retention=retain_on_cancellation").unwrap();
        assert_eq!(ExternalizedCheckpointRetention::from_config(&c).unwrap(), RetainOnCancellation);
    }
}
