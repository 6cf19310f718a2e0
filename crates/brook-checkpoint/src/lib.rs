//! Brook's checkpoints (DESIGN.md §7): where checkpoints and savepoints are stored, their
//! versioned layout and metadata, what is retained, and when a failed job restarts.
//!
//! The crate sits between `brook-types` (ids, configuration) and the runtime: the
//! JobMaster's checkpoint coordinator and the tasks call it; it knows nothing about
//! operators or state backends — state arrives as bytes and leaves as bytes.
//!
//! ```text
//!  coordinator                          tasks                         storage (object_store)
//!  ───────────                          ─────                         ─────────────────────
//!  init_checkpoint(job, n) ──reference──▶ location(reference)
//!                                       write_state(bytes) ─────────▶ <dir>/<job>/chk-n/<file>
//!                                       write_shared(name, bytes) ──▶ <dir>/<job>/shared/<file>
//!                        ◀──handles (ack)──
//!  finalize(metadata) ──────────────────────────────────────────────▶ <dir>/<job>/chk-n/_metadata
//!  CompletedCheckpointStore::add ─▶ DiscardPlan ─▶ discard(plan) ───▶ delete chk-(n-k), unused shared
//!  resolve(path) ◀──────────────────────────────────────────────────  _metadata + reader
//! ```
//!
//! - [`storage`] — [`CheckpointStorage`] (from the configuration), [`CheckpointLocation`]
//!   (writing one checkpoint), [`CheckpointReader`] (reading one back), and the
//!   [`storage::layout`] of directories.
//! - [`metadata`] — [`CheckpointMetadata`] and the state handles it holds; JSON, versioned.
//! - [`retention`] — [`CompletedCheckpointStore`] (keeps `num-retained`),
//!   [`SharedStateRegistry`] (reference counts of shared files),
//!   [`ExternalizedCheckpointRetention`] (what survives the job).
//! - [`restart`] — [`RestartStrategy`]: restart or give up, as pure decisions.
//! - [`config`] — [`CheckpointingConfig`], the coordinator's settings.
//! - [`coordinator`] — [`CheckpointCoordinator`]: the checkpoint protocol as pure decisions
//!   (trigger, acknowledge, complete, abort, final checkpoint) and its messages.
//! - [`error`] — [`CheckpointError`].
//!
//! Design notes: `docs/design/checkpoint-storage.md`.
//!
//! ```
//! use brook_checkpoint::{CheckpointMetadata, CheckpointStorage, SnapshotFormat, SnapshotKind};
//! use brook_types::config::Configuration;
//! use brook_types::{CheckpointId, JobId};
//! use bytes::Bytes;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let mut config = Configuration::new();
//! config.set_dynamic(&format!("execution.checkpointing.dir=file://{}", dir.path().display())).unwrap();
//! let storage = CheckpointStorage::from_config(&config).unwrap();
//!
//! // Checkpoint 1 of a job: a task writes its state, the coordinator finalizes.
//! let (job, n) = (JobId::generate(), CheckpointId(1));
//! let location = storage.init_checkpoint(job, n).await.unwrap();
//! let small = location.write_state(Bytes::from_static(b"counts")).await.unwrap(); // inline
//! let large = location.write_state(Bytes::from(vec![7u8; 64 * 1024])).await.unwrap(); // a file
//! let mut metadata = CheckpointMetadata::new(job, n, 0, SnapshotKind::Checkpoint, SnapshotFormat::Canonical);
//! metadata.master_states.push(brook_checkpoint::metadata::MasterState { name: "small".into(), handle: small });
//! metadata.master_states.push(brook_checkpoint::metadata::MasterState { name: "large".into(), handle: large });
//! let completed = location.finalize(metadata).await.unwrap();
//!
//! // A restore finds it by its directory and reads the state back.
//! let restored = storage.resolve(&completed.pointer.dir).await.unwrap();
//! let reader = &restored.reader;
//! assert_eq!(reader.read_state(&restored.metadata.master_states[0].handle).await.unwrap(), "counts");
//! assert_eq!(reader.read_state(&restored.metadata.master_states[1].handle).await.unwrap().len(), 64 * 1024);
//! # });
//! ```

pub mod config;
pub mod coordinator;
pub mod error;
pub mod metadata;
pub mod restart;
pub mod retention;
pub mod storage;

pub use config::{CheckpointingConfig, CheckpointingMode};
pub use coordinator::{CheckpointCoordinator, CoordinatorAction, JobTopology, OperatorInfo, TaskRef};
pub use error::{CheckpointError, Result};
pub use metadata::{
    ChannelStateHandle, CheckpointMetadata, InFlightHandle, KeyedStateHandle, NamedStateHandle, OperatorSnapshot,
    SnapshotFormat, SnapshotKind, StreamStateHandle, SubtaskSnapshot,
};
pub use restart::{Decision, RestartStrategy};
pub use retention::{
    CompletedCheckpointStore, DiscardPlan, ExternalizedCheckpointRetention, JobTermination, SharedStateRegistry,
};
pub use storage::{
    CheckpointLocation, CheckpointReader, CheckpointStorage, CompletedCheckpoint, CompletedCheckpointPointer,
    LocationReference, ResolvedCheckpoint,
};
