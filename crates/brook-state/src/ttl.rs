//! State time-to-live, as Flink's `StateTtlConfig`.
//!
//! A keyed state with a TTL stamps every value (every element of a list, every
//! entry of a map) with the processing time of its last write — and of its last
//! read with [`UpdateType::OnReadAndWrite`]. A value whose stamp plus the TTL is at
//! or before now has expired: reads do not see it ([`StateVisibility::NeverReturnExpired`])
//! or see it once more before it is removed
//! ([`StateVisibility::ReturnExpiredIfNotCleanedUp`]). Expired values are removed when
//! read, by incremental cleanup (a few entries checked at every state access), and
//! left out of snapshots with full-snapshot cleanup.
//!
//! Time comes from the [`TtlTimeProvider`] the backend is given: the task's clock
//! in a job, a [`ManualTtlTimeProvider`] in tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// When a value's timestamp is refreshed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateType {
    /// TTL is disabled: the state never expires.
    Disabled,
    /// On creation and on every write (the default).
    OnCreateAndWrite,
    /// As `OnCreateAndWrite`, and on every read.
    OnReadAndWrite,
}

/// Whether a read may see an expired value that is still stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateVisibility {
    /// The expired value is returned by the read that finds it, which removes it.
    ReturnExpiredIfNotCleanedUp,
    /// Expired values are never returned (the default).
    NeverReturnExpired,
}

/// Incremental cleanup: every access to the state checks `cleanup_size` entries
/// (in storage order, resuming where the previous check stopped) and removes the
/// expired ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IncrementalCleanupStrategy {
    pub cleanup_size: usize,
    /// Also check `cleanup_size` entries for every record the operator processes,
    /// whether or not it touches this state.
    pub run_cleanup_for_every_record: bool,
}

/// How expired state is removed besides on read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CleanupStrategies {
    /// Expired entries are not written to full snapshots.
    pub full_snapshot: bool,
    /// Explicitly configured incremental cleanup.
    pub incremental: Option<IncrementalCleanupStrategy>,
    /// The RocksDB backend removes expired values (not list elements) when it
    /// compacts; Flink's number of entries between clock queries is accepted and
    /// recorded (the clock is read for every value). The hash-map backend ignores it.
    pub rocksdb_compact_filter: Option<u64>,
    /// Background cleanup with the backend's default strategy when none is
    /// configured: for the hash-map backend, incremental cleanup of 5 entries per
    /// access (as Flink's default); for RocksDB, the compaction filter.
    pub in_background: bool,
}

/// The default incremental cleanup of background cleanup (Flink's).
pub const DEFAULT_INCREMENTAL_CLEANUP: IncrementalCleanupStrategy =
    IncrementalCleanupStrategy { cleanup_size: 5, run_cleanup_for_every_record: false };

impl CleanupStrategies {
    /// The incremental cleanup the hash-map backend runs, if any.
    pub fn effective_incremental(&self) -> Option<IncrementalCleanupStrategy> {
        self.incremental.or(self.in_background.then_some(DEFAULT_INCREMENTAL_CLEANUP))
    }
}

/// A state's time-to-live (Flink's `StateTtlConfig`); build it with
/// [`StateTtlConfig::new_builder`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateTtlConfig {
    ttl: Duration,
    update_type: UpdateType,
    visibility: StateVisibility,
    cleanup: CleanupStrategies,
}

impl StateTtlConfig {
    /// A builder for a TTL of `ttl` (processing time).
    pub fn new_builder(ttl: Duration) -> StateTtlConfigBuilder {
        StateTtlConfigBuilder {
            config: StateTtlConfig {
                ttl,
                update_type: UpdateType::OnCreateAndWrite,
                visibility: StateVisibility::NeverReturnExpired,
                cleanup: CleanupStrategies {
                    full_snapshot: false,
                    incremental: None,
                    rocksdb_compact_filter: None,
                    in_background: true,
                },
            },
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn update_type(&self) -> UpdateType {
        self.update_type
    }

    pub fn state_visibility(&self) -> StateVisibility {
        self.visibility
    }

    pub fn cleanup_strategies(&self) -> &CleanupStrategies {
        &self.cleanup
    }

    /// False with [`UpdateType::Disabled`]: the state then never expires.
    pub fn is_enabled(&self) -> bool {
        self.update_type != UpdateType::Disabled
    }
}

/// Builds a [`StateTtlConfig`]; the defaults are Flink's.
#[derive(Clone, Debug)]
pub struct StateTtlConfigBuilder {
    config: StateTtlConfig,
}

impl StateTtlConfigBuilder {
    pub fn set_update_type(mut self, update_type: UpdateType) -> Self {
        self.config.update_type = update_type;
        self
    }

    pub fn update_ttl_on_create_and_write(self) -> Self {
        self.set_update_type(UpdateType::OnCreateAndWrite)
    }

    pub fn update_ttl_on_read_and_write(self) -> Self {
        self.set_update_type(UpdateType::OnReadAndWrite)
    }

    pub fn set_state_visibility(mut self, visibility: StateVisibility) -> Self {
        self.config.visibility = visibility;
        self
    }

    pub fn return_expired_if_not_cleaned_up(self) -> Self {
        self.set_state_visibility(StateVisibility::ReturnExpiredIfNotCleanedUp)
    }

    pub fn never_return_expired(self) -> Self {
        self.set_state_visibility(StateVisibility::NeverReturnExpired)
    }

    pub fn set_ttl(mut self, ttl: Duration) -> Self {
        self.config.ttl = ttl;
        self
    }

    /// Leave expired entries out of full snapshots.
    pub fn cleanup_full_snapshot(mut self) -> Self {
        self.config.cleanup.full_snapshot = true;
        self
    }

    /// Check `cleanup_size` entries at every state access (and, if
    /// `run_cleanup_for_every_record`, for every record processed).
    pub fn cleanup_incrementally(mut self, cleanup_size: usize, run_cleanup_for_every_record: bool) -> Self {
        self.config.cleanup.incremental =
            Some(IncrementalCleanupStrategy { cleanup_size, run_cleanup_for_every_record });
        self
    }

    /// The RocksDB backend drops expired values when it compacts (also on by default
    /// with background cleanup); the hash-map backend ignores it.
    pub fn cleanup_in_rocksdb_compact_filter(mut self, query_time_after_num_entries: u64) -> Self {
        self.config.cleanup.rocksdb_compact_filter = Some(query_time_after_num_entries);
        self
    }

    /// No default background cleanup: expired entries are then removed only when
    /// read, by an explicitly configured strategy, or by a snapshot.
    pub fn disable_cleanup_in_background(mut self) -> Self {
        self.config.cleanup.in_background = false;
        self
    }

    pub fn build(self) -> StateTtlConfig {
        self.config
    }
}

/// The clock TTL reads: milliseconds of processing time.
pub trait TtlTimeProvider: Send + Sync {
    fn current_timestamp(&self) -> i64;
}

/// The wall clock (milliseconds since the epoch).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemTtlTimeProvider;

impl TtlTimeProvider for SystemTtlTimeProvider {
    fn current_timestamp(&self) -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }
}

/// A clock that moves only when told to; clones share the time.
#[derive(Clone, Debug, Default)]
pub struct ManualTtlTimeProvider {
    now: Arc<AtomicI64>,
}

impl ManualTtlTimeProvider {
    pub fn new(start: i64) -> Self {
        Self { now: Arc::new(AtomicI64::new(start)) }
    }

    pub fn set(&self, now: i64) {
        self.now.store(now, Ordering::Relaxed);
    }

    pub fn advance(&self, millis: i64) {
        self.now.fetch_add(millis, Ordering::Relaxed);
    }
}

impl TtlTimeProvider for ManualTtlTimeProvider {
    fn current_timestamp(&self) -> i64 {
        self.now.load(Ordering::Relaxed)
    }
}

/// A TTL configuration resolved for the hash-map backend's per-access path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TtlPolicy {
    pub ttl_ms: i64,
    pub update_on_read: bool,
    pub return_expired: bool,
    /// Entries checked per access; 0 for none.
    pub incremental: usize,
    pub every_record: bool,
    pub snapshot_cleanup: bool,
    /// The RocksDB backend's compaction filter drops expired values.
    pub compaction_filter: bool,
}

impl TtlPolicy {
    pub fn from_config(config: &StateTtlConfig) -> Option<Self> {
        if !config.is_enabled() {
            return None;
        }
        let incremental = config.cleanup.effective_incremental();
        Some(Self {
            ttl_ms: i64::try_from(config.ttl.as_millis()).unwrap_or(i64::MAX),
            update_on_read: config.update_type == UpdateType::OnReadAndWrite,
            return_expired: config.visibility == StateVisibility::ReturnExpiredIfNotCleanedUp,
            incremental: incremental.map_or(0, |i| i.cleanup_size),
            every_record: incremental.is_some_and(|i| i.run_cleanup_for_every_record),
            snapshot_cleanup: config.cleanup.full_snapshot,
            compaction_filter: config.cleanup.rocksdb_compact_filter.is_some() || config.cleanup.in_background,
        })
    }

    /// Whether a value stamped at `stamp` has expired at `now` (Flink's
    /// `expirationTimestamp <= now`).
    #[inline]
    pub fn expired(&self, stamp: i64, now: i64) -> bool {
        stamp.saturating_add(self.ttl_ms) <= now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_flinks() {
        let config = StateTtlConfig::new_builder(Duration::from_secs(1)).build();
        assert_eq!(config.update_type(), UpdateType::OnCreateAndWrite);
        assert_eq!(config.state_visibility(), StateVisibility::NeverReturnExpired);
        assert_eq!(config.cleanup_strategies().effective_incremental(), Some(DEFAULT_INCREMENTAL_CLEANUP));
        let policy = TtlPolicy::from_config(&config).unwrap();
        assert!(!policy.expired(0, 999));
        assert!(policy.expired(0, 1000));
        assert!(!policy.expired(i64::MAX - 10, i64::MAX - 1), "no overflow");
    }

    #[test]
    fn disabled_update_type_disables_ttl() {
        let config = StateTtlConfig::new_builder(Duration::from_secs(1)).set_update_type(UpdateType::Disabled).build();
        assert_eq!(TtlPolicy::from_config(&config), None);
        let no_background = StateTtlConfig::new_builder(Duration::from_secs(1)).disable_cleanup_in_background().build();
        assert_eq!(TtlPolicy::from_config(&no_background).unwrap().incremental, 0);
    }
}
