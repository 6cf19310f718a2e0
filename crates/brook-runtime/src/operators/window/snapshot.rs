//! The window operator's part of checkpoints: its windows and their timers,
//! written by key group in the canonical keyed snapshot format
//! (docs/design/state.md), so that a checkpoint restores at any parallelism.
//!
//! Layout (state name → key, namespace, value):
//! - `_window/panes` (non-merging assigners): key, window → [`PaneImage`]
//!   (contents, trigger state, and the pane's timers);
//! - `_window/sessions` (merging assigners): key, `()` → [`MergingImage`]
//!   (contents by state window, trigger states, window → state window);
//! - `_window/timers` (merging assigners): key, window → (domain, time);
//! - `_window/slices` (slicing, docs/design/windows.md "Slicing"): key, `()` →
//!   [`SlicesImage`] (the key's next window to fire and its slices);
//! - `_window/global` : key, `()` → the ProcessWindowFunction's `global_state()`
//!   (name → encoded value); per-window `window_state()` travels in the pane image.
//!
//! The watermark is not state (as in Flink, a restored operator starts at
//! `Watermark::MIN`).

use super::WindowOperator;
use super::panes::{Pane, key_panes_mut, pane_index};
use crate::checkpoint::SnapshotError;
use crate::key_selector::KeySelector;
use crate::timer::TimeDomain;
use crate::window::{InternalWindowFunction, StateStore, Trigger, WindowAssigner};
use brook_state::{KeyedSnapshotReader, KeyedSnapshotWriter, KeyedStateSnapshot, StateKind};
use brook_types::Timestamp;
use brook_types::key_group::KeyGroupRange;
use serde::{Deserialize, Serialize};

const PANES: &str = "_window/panes";
const SESSIONS: &str = "_window/sessions";
const TIMERS: &str = "_window/timers";
const GLOBAL: &str = "_window/global";
const SLICES: &str = "_window/slices";

/// A `StateStore` in a snapshot: its values by name, encoded.
type StoreImage = Vec<(String, Vec<u8>)>;

/// One pane in a snapshot.
#[derive(Serialize, Deserialize)]
struct PaneImage<Acc, TS> {
    contents: Option<Acc>,
    trigger_state: Option<TS>,
    /// (true = event time, time).
    timers: Vec<(bool, Timestamp)>,
    /// The ProcessWindowFunction's `window_state()`, if it holds anything.
    window_state: Option<StoreImage>,
}

/// One key's slices in a snapshot.
#[derive(Serialize, Deserialize)]
struct SlicesImage<Acc> {
    /// The max timestamp of the key's next window to fire.
    timer: Timestamp,
    /// (slice start, contents), ordered by start.
    slices: Vec<(Timestamp, Acc)>,
}

/// One key's sessions in a snapshot.
#[derive(Serialize, Deserialize)]
struct MergingImage<W, Acc, TS> {
    contents: Vec<(W, Acc)>,
    trigger_states: Vec<(W, TS)>,
    mapping: Vec<(W, W)>,
}

fn domain_of(event_time: bool) -> TimeDomain {
    if event_time { TimeDomain::EventTime } else { TimeDomain::ProcessingTime }
}

impl<T, O, S, A, Tr, F> WindowOperator<T, O, S, A, Tr, F>
where
    T: Clone + Send + 'static,
    O: Send,
    S: KeySelector<T>,
    A: WindowAssigner<T>,
    Tr: Trigger<T, A::Window>,
    F: InternalWindowFunction<S::Key, A::Window, T, O>,
{
    pub(super) fn key_group_range(&self) -> KeyGroupRange {
        let r = &self.runtime;
        KeyGroupRange::for_operator_index(r.max_parallelism, r.parallelism, r.subtask_index)
    }

    fn unencodable(&self, what: &str, e: String) -> SnapshotError {
        SnapshotError::Failed(format!(
            "window operator '{}' cannot checkpoint the ProcessWindowFunction's {what}: {e}",
            self.runtime.operator_name
        ))
    }

    /// The operator's windows and timers in the canonical keyed format.
    pub(super) fn snapshot_windows(&self) -> Result<KeyedStateSnapshot, SnapshotError> {
        let mut writer = KeyedSnapshotWriter::new(self.runtime.max_parallelism, self.key_group_range());
        let panes = writer.begin_state(PANES, StateKind::Internal)?;
        for (key, key_panes) in &self.panes {
            for (window, pane) in key_panes {
                let window_state = match pane.window_state.as_ref().filter(|s| !s.is_empty()) {
                    Some(store) => Some(store.encode().map_err(|e| self.unencodable("window_state()", e))?),
                    None => None,
                };
                let image = PaneImage {
                    contents: pane.contents.as_ref(),
                    trigger_state: pane.trigger_state.as_ref(),
                    timers: pane.timers.iter().map(|(d, t)| (d == TimeDomain::EventTime, t)).collect(),
                    window_state,
                };
                writer.entry(panes, key, window, &image)?;
            }
        }
        let sessions = writer.begin_state(SESSIONS, StateKind::Internal)?;
        for (key, mk) in &self.keys {
            let image = MergingImage {
                contents: mk.contents.iter().collect(),
                trigger_states: mk.trigger_states.iter().filter_map(|(w, s)| s.as_ref().map(|s| (w, s))).collect(),
                mapping: mk.merging.mappings().collect(),
            };
            writer.entry(sessions, key, &(), &image)?;
        }
        let timers = writer.begin_state(TIMERS, StateKind::Timers)?;
        for domain in [TimeDomain::EventTime, TimeDomain::ProcessingTime] {
            for (key, window, time) in self.timers.timers(domain) {
                writer.entry(timers, key, window, &(domain == TimeDomain::EventTime, time))?;
            }
        }
        if let Some(slicer) = &self.slicer {
            let slices = writer.begin_state(SLICES, StateKind::Internal)?;
            for (key, timer, key_slices) in slicer.by_key() {
                let image = SlicesImage { timer, slices: key_slices };
                writer.entry(slices, key, &(), &image)?;
            }
        }
        let global = writer.begin_state(GLOBAL, StateKind::Internal)?;
        for (key, store) in &self.global_states {
            if !store.is_empty() {
                let image: StoreImage = store.encode().map_err(|e| self.unencodable("global_state()", e))?;
                writer.entry(global, key, &(), &image)?;
            }
        }
        Ok(writer.finish())
    }

    /// Restores the windows and timers of this subtask's key groups from the
    /// snapshots of the previous run's subtasks.
    pub(super) fn restore_windows<B: AsRef<[u8]>>(&mut self, snapshots: &[B]) -> Result<(), SnapshotError> {
        let range = self.key_group_range();
        let operator = self.runtime.operator_name.clone();
        let undecodable = |what: &str, e: bincode::Error| {
            SnapshotError::Failed(format!(
                "window operator '{operator}': the checkpoint's {what} do not decode with this job's types \
                 (key {}, window {}): {e}; restore with the job that took the checkpoint",
                std::any::type_name::<S::Key>(),
                std::any::type_name::<A::Window>()
            ))
        };
        for snapshot in snapshots {
            let reader = KeyedSnapshotReader::new(snapshot.as_ref())?;
            let (panes, sessions, timers) = (reader.state(PANES), reader.state(SESSIONS), reader.state(TIMERS));
            let global = reader.state(GLOBAL);
            let slices = reader.state(SLICES);
            for entry in reader.entries(range) {
                let entry = entry?;
                if Some(entry.state) == panes {
                    let key: S::Key = entry.decode_key().map_err(|e| undecodable("windows", e))?;
                    let window: A::Window = entry.decode_namespace().map_err(|e| undecodable("windows", e))?;
                    let image: PaneImage<F::Acc, Tr::State> =
                        entry.decode_value().map_err(|e| undecodable("windows", e))?;
                    let key_panes = key_panes_mut(&mut self.panes, &key);
                    let at = pane_index(key_panes, &window);
                    let pane: &mut Pane<F::Acc, Tr::State> = &mut key_panes[at].1;
                    pane.contents = image.contents;
                    pane.trigger_state = image.trigger_state;
                    pane.window_state = image.window_state.map(|v| Box::new(StateStore::from_encoded(v)));
                    for (event_time, time) in image.timers {
                        self.pane_timers.register(&mut pane.timers, &key, &window, domain_of(event_time), time);
                    }
                } else if Some(entry.state) == sessions {
                    let key: S::Key = entry.decode_key().map_err(|e| undecodable("sessions", e))?;
                    let image: MergingImage<A::Window, F::Acc, Tr::State> =
                        entry.decode_value().map_err(|e| undecodable("sessions", e))?;
                    let mk = self.keys.entry(key).or_default();
                    mk.contents.extend(image.contents);
                    mk.trigger_states.extend(image.trigger_states.into_iter().map(|(w, s)| (w, Some(s))));
                    for (window, state_window) in image.mapping {
                        mk.merging.restore_mapping(window, state_window);
                    }
                } else if Some(entry.state) == timers {
                    let key: S::Key = entry.decode_key().map_err(|e| undecodable("timers", e))?;
                    let window: A::Window = entry.decode_namespace().map_err(|e| undecodable("timers", e))?;
                    let (event_time, time): (bool, Timestamp) =
                        entry.decode_value().map_err(|e| undecodable("timers", e))?;
                    if event_time {
                        self.timers.register_event_time_timer(&key, &window, time);
                    } else {
                        self.timers.register_processing_time_timer(&key, &window, time);
                    }
                } else if Some(entry.state) == slices {
                    let Some(slicer) = &mut self.slicer else {
                        return Err(SnapshotError::Failed(format!(
                            "window operator '{operator}': the checkpoint holds sliced windows (sliding event-time \
                             windows with the default trigger, no allowed lateness and a reduce or aggregate), but \
                             this job's windows do not slice (another assigner, trigger, window function or allowed \
                             lateness); restore with the job that took the checkpoint"
                        )));
                    };
                    let key: S::Key = entry.decode_key().map_err(|e| undecodable("slices", e))?;
                    let image: SlicesImage<F::Acc> = entry.decode_value().map_err(|e| undecodable("slices", e))?;
                    slicer.restore(key, image.timer, image.slices);
                } else if Some(entry.state) == global {
                    let key: S::Key = entry.decode_key().map_err(|e| undecodable("global state", e))?;
                    let image: StoreImage = entry.decode_value().map_err(|e| undecodable("global state", e))?;
                    self.global_states.insert(key, StateStore::from_encoded(image));
                }
            }
        }
        // Windows of an operator that did not slice (a savepoint taken before
        // slicing existed, or with other settings) restore into panes: this
        // instance then keeps panes, which give the same results.
        if self.slicer.is_some() && !self.panes.is_empty() {
            if self.slicer.as_ref().is_some_and(|s| s.num_slices() > 0) {
                return Err(SnapshotError::Failed(format!(
                    "window operator '{}': the checkpoint holds both sliced windows and window panes for the key \
                     groups of subtask {}; restore at the parallelism the checkpoint was taken with",
                    self.runtime.operator_name, self.runtime.subtask_index
                )));
            }
            self.slicer = None;
        }
        Ok(())
    }
}
