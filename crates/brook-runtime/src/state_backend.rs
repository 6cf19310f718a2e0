//! Which keyed state backend keyed operators get (`state.backend.type`) and whether
//! their checkpoints are incremental (`execution.checkpointing.incremental`).
//!
//! Read once per task from the job's configuration and validated when the job is
//! submitted ([`StateBackendSettings::from_config`]), so a job asking for RocksDB from
//! a build without it fails at submission, not in a restart loop. See
//! `docs/design/state.md`.

use brook_state::{HashMapStateBackend, KeyedStateBackend, StateKey, TtlTimeProvider};
use brook_types::config::{Configuration, options};
use brook_types::key_group::KeyGroupRange;
use brook_types::{BrookError, Result};
use std::path::PathBuf;
use std::sync::Arc;

/// `state.backend.type`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StateBackendKind {
    /// Typed objects in memory (`HashMapStateBackend`).
    #[default]
    HashMap,
    /// An embedded RocksDB per operator subtask (`RocksDbStateBackend`, cargo feature `rocksdb`).
    RocksDb,
}

impl StateBackendKind {
    pub fn name(self) -> &'static str {
        match self {
            StateBackendKind::HashMap => "hashmap",
            StateBackendKind::RocksDb => "rocksdb",
        }
    }
}

/// How keyed operators keep and checkpoint their state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateBackendSettings {
    pub kind: StateBackendKind,
    /// `state.backend.rocksdb.localdir`; `None`: the system temp directory.
    pub rocksdb_local_dir: Option<PathBuf>,
    /// `execution.checkpointing.incremental` (only RocksDB takes incremental checkpoints;
    /// the hash-map backend ignores it, as Flink's does).
    pub incremental: bool,
}

impl StateBackendSettings {
    /// The settings of a job; refuses `rocksdb` in a build without the RocksDB backend.
    pub fn from_config(config: &Configuration) -> Result<Self> {
        let kind = match config.get_enum(&options::STATE_BACKEND_TYPE).as_str() {
            "ROCKSDB" => StateBackendKind::RocksDb,
            _ => StateBackendKind::HashMap,
        };
        if kind == StateBackendKind::RocksDb && !cfg!(feature = "rocksdb") {
            return Err(BrookError::InvalidConfigValue {
                key: options::STATE_BACKEND_TYPE.key.to_string(),
                value: config.get_raw(&options::STATE_BACKEND_TYPE),
                origin: config.origin(&options::STATE_BACKEND_TYPE).unwrap_or("default").to_string(),
                reason: "this build of Brook has no RocksDB state backend (brook-runtime was compiled without its \
                         `rocksdb` cargo feature; the `brook` binary has it): use `hashmap`, or build with the \
                         feature"
                    .to_string(),
            });
        }
        Ok(Self {
            kind,
            rocksdb_local_dir: config.get_optional(&options::ROCKSDB_LOCAL_DIRECTORY).map(PathBuf::from),
            incremental: config.get_bool(&options::INCREMENTAL_CHECKPOINTS),
        })
    }

    /// Whether checkpoints (not savepoints) of keyed state are incremental.
    pub fn takes_incremental_checkpoints(&self) -> bool {
        self.incremental && self.kind == StateBackendKind::RocksDb
    }

    /// Where RocksDB directories (and downloaded incremental checkpoints) go.
    pub fn local_dir(&self) -> PathBuf {
        self.rocksdb_local_dir.clone().unwrap_or_else(std::env::temp_dir)
    }

    /// The keyed state backend of one operator subtask holding `key_groups`.
    pub fn create_backend<K: StateKey>(
        &self,
        operator: &str,
        max_parallelism: usize,
        key_groups: KeyGroupRange,
        clock: Arc<dyn TtlTimeProvider>,
    ) -> Result<KeyedStateBackend<K>> {
        match self.kind {
            StateBackendKind::HashMap => Ok(HashMapStateBackend::new(max_parallelism, key_groups)
                .with_operator_name(operator)
                .with_ttl_time_provider(clock)
                .into()),
            #[cfg(feature = "rocksdb")]
            StateBackendKind::RocksDb => {
                let dir = self.local_dir();
                let backend = brook_state::RocksDbStateBackend::in_directory(&dir, max_parallelism, key_groups)
                    .map_err(|e| BrookError::StateBackend {
                        operator: operator.to_string(),
                        backend: "rocksdb",
                        reason: format!("{e} (check {})", options::ROCKSDB_LOCAL_DIRECTORY.key),
                    })?;
                Ok(backend.with_operator_name(operator).with_ttl_time_provider(clock).into())
            }
            #[cfg(not(feature = "rocksdb"))]
            StateBackendKind::RocksDb => Err(BrookError::StateBackend {
                operator: operator.to_string(),
                backend: "rocksdb",
                reason: "this build has no RocksDB state backend (cargo feature `rocksdb` of brook-runtime)".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashmap_is_the_default_and_incremental_needs_rocksdb() {
        let mut config = Configuration::new();
        assert_eq!(StateBackendSettings::from_config(&config).unwrap(), StateBackendSettings::default());
        config.set_dynamic("execution.checkpointing.incremental=true").unwrap();
        let settings = StateBackendSettings::from_config(&config).unwrap();
        assert!(settings.incremental && !settings.takes_incremental_checkpoints());
    }

    #[test]
    fn rocksdb_is_refused_without_the_feature_and_chosen_with_it() {
        let mut config = Configuration::new();
        config.set_dynamic("state.backend.type=rocksdb").unwrap();
        config.set_dynamic("state.backend.rocksdb.localdir=/tmp/brook-rocks").unwrap();
        let result = StateBackendSettings::from_config(&config);
        if cfg!(feature = "rocksdb") {
            let settings = result.unwrap();
            assert_eq!(settings.kind, StateBackendKind::RocksDb);
            assert_eq!(settings.local_dir(), PathBuf::from("/tmp/brook-rocks"));
        } else {
            let err = result.unwrap_err().to_string();
            assert!(err.contains("has no RocksDB state backend"), "{err}");
        }
    }
}
