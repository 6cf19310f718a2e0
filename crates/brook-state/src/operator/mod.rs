//! Operator state: state of a subtask, not of a key (Flink's
//! `OperatorStateBackend`).
//!
//! - **List state** ([`OperatorStateBackend::get_list_state`]): on rescale, the
//!   elements of all old subtasks are concatenated and split into consecutive
//!   chunks whose sizes differ by at most one (Flink's round-robin repartitioner);
//!   at unchanged parallelism every subtask keeps its own.
//! - **Union list state** ([`OperatorStateBackend::get_union_list_state`]): on
//!   restore every subtask gets all elements of all old subtasks.
//! - **Broadcast state** ([`OperatorStateBackend::get_broadcast_state`]): a map that
//!   every subtask holds identically; new subtask `i` gets a copy of old subtask
//!   `i % old_parallelism`'s.
//!
//! Redistribution is the pure function [`redistribute_operator_state`] over
//! snapshot bytes; a subtask then restores the one snapshot meant for it.

mod format;
mod redistribute;

pub use redistribute::redistribute_operator_state;

use crate::descriptor::{ListStateDescriptor, MapStateDescriptor};
use crate::error::{EntryPart, Result, StateError};
use brook_types::Data;
use format::{ParsedState, SnapshotEncoder};
use indexmap::IndexMap;
use std::any::{Any, TypeId};
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::hash::Hash;

/// How operator state is redistributed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperatorStateMode {
    /// List state, split evenly on rescale.
    SplitDistribute,
    /// Union list state: everyone gets everything.
    Union,
    /// Broadcast state: everyone gets one old subtask's copy.
    Broadcast,
}

impl OperatorStateMode {
    pub(crate) fn code(self) -> u8 {
        match self {
            OperatorStateMode::SplitDistribute => 0,
            OperatorStateMode::Union => 1,
            OperatorStateMode::Broadcast => 2,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => OperatorStateMode::SplitDistribute,
            1 => OperatorStateMode::Union,
            2 => OperatorStateMode::Broadcast,
            _ => return None,
        })
    }
}

impl std::fmt::Display for OperatorStateMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OperatorStateMode::SplitDistribute => "list",
            OperatorStateMode::Union => "union list",
            OperatorStateMode::Broadcast => "broadcast",
        })
    }
}

/// The operator state of one subtask, as bytes.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct OperatorStateSnapshot {
    pub bytes: Vec<u8>,
}

impl AsRef<[u8]> for OperatorStateSnapshot {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

type BroadcastMap<UK, UV> = IndexMap<UK, UV, foldhash::fast::RandomState>;

/// The type-erased side of one operator state.
trait ErasedOperatorState: Any + Send {
    fn item_count(&self) -> usize;
    fn write_items(&self, out: &mut SnapshotEncoder) -> Result<(), bincode::Error>;
}

impl<T: Data> ErasedOperatorState for Vec<T> {
    fn item_count(&self) -> usize {
        self.len()
    }

    fn write_items(&self, out: &mut SnapshotEncoder) -> Result<(), bincode::Error> {
        self.iter().try_for_each(|item| out.part(item))
    }
}

impl<UK: Data + Hash + Eq, UV: Data> ErasedOperatorState for BroadcastMap<UK, UV> {
    fn item_count(&self) -> usize {
        self.len()
    }

    fn write_items(&self, out: &mut SnapshotEncoder) -> Result<(), bincode::Error> {
        self.iter().try_for_each(|(k, v)| {
            out.part(k)?;
            out.part(v)
        })
    }
}

struct OperatorStateSlot {
    name: String,
    mode: OperatorStateMode,
    type_id: TypeId,
    type_name: &'static str,
    value: Box<dyn ErasedOperatorState>,
}

/// A restored state not registered yet: its items, still encoded.
struct RestoredOperatorState {
    mode: OperatorStateMode,
    type_name: String,
    items: Vec<Box<[u8]>>,
}

/// The operator state of one subtask.
pub struct OperatorStateBackend {
    operator: String,
    states: Vec<OperatorStateSlot>,
    restored: BTreeMap<String, RestoredOperatorState>,
}

impl std::fmt::Debug for OperatorStateBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorStateBackend")
            .field("operator", &self.operator)
            .field("states", &self.states.iter().map(|s| (&s.name, s.mode)).collect::<Vec<_>>())
            .field("restored", &self.restored.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl OperatorStateBackend {
    pub fn new(operator: &str) -> Self {
        Self { operator: operator.to_string(), states: Vec::new(), restored: BTreeMap::new() }
    }

    /// List state that is split among subtasks on rescale (Flink's `getListState`).
    pub fn get_list_state<T: Data>(&mut self, descriptor: &ListStateDescriptor<T>) -> Result<OperatorListState<'_, T>> {
        let list = self.state::<Vec<T>>(descriptor.name(), OperatorStateMode::SplitDistribute, decode_list::<T>)?;
        Ok(OperatorListState { list })
    }

    /// List state of which every subtask gets all elements on restore (Flink's
    /// `getUnionListState`).
    pub fn get_union_list_state<T: Data>(
        &mut self,
        descriptor: &ListStateDescriptor<T>,
    ) -> Result<OperatorListState<'_, T>> {
        let list = self.state::<Vec<T>>(descriptor.name(), OperatorStateMode::Union, decode_list::<T>)?;
        Ok(OperatorListState { list })
    }

    /// A map every subtask holds identically (Flink's `getBroadcastState`).
    pub fn get_broadcast_state<UK: Data + Hash + Eq, UV: Data>(
        &mut self,
        descriptor: &MapStateDescriptor<UK, UV>,
    ) -> Result<BroadcastState<'_, UK, UV>> {
        let map = self.state::<BroadcastMap<UK, UV>>(
            descriptor.name(),
            OperatorStateMode::Broadcast,
            decode_broadcast::<UK, UV>,
        )?;
        Ok(BroadcastState { map })
    }

    fn state<S: ErasedOperatorState + Default>(
        &mut self,
        name: &str,
        mode: OperatorStateMode,
        decode: fn(&str, &str, &RestoredOperatorState) -> Result<S>,
    ) -> Result<&mut S> {
        let type_name = std::any::type_name::<S>();
        let index = match self.states.iter().position(|s| s.name == name) {
            Some(i) => {
                let slot = &self.states[i];
                if slot.mode != mode {
                    return Err(StateError::OperatorStateKindMismatch {
                        operator: self.operator.clone(),
                        name: name.to_string(),
                        registered: slot.mode,
                        requested: mode,
                    });
                }
                if slot.type_id != TypeId::of::<S>() {
                    return Err(StateError::TypeMismatch {
                        operator: self.operator.clone(),
                        name: name.to_string(),
                        kind: if mode == OperatorStateMode::Broadcast {
                            crate::descriptor::StateKind::Map
                        } else {
                            crate::descriptor::StateKind::List
                        },
                        registered: slot.type_name.to_string(),
                        requested: type_name.to_string(),
                    });
                }
                i
            }
            None => {
                let value = match self.restored.remove(name) {
                    Some(restored) if restored.mode != mode => {
                        let registered = restored.mode;
                        self.restored.insert(name.to_string(), restored);
                        return Err(StateError::OperatorStateKindMismatch {
                            operator: self.operator.clone(),
                            name: name.to_string(),
                            registered,
                            requested: mode,
                        });
                    }
                    Some(restored) => decode(&self.operator, name, &restored)?,
                    None => S::default(),
                };
                self.states.push(OperatorStateSlot {
                    name: name.to_string(),
                    mode,
                    type_id: TypeId::of::<S>(),
                    type_name,
                    value: Box::new(value),
                });
                self.states.len() - 1
            }
        };
        let value: &mut dyn Any = self.states[index].value.as_mut();
        Ok(value.downcast_mut::<S>().expect("type checked above"))
    }

    /// Whether no state was registered or restored (nothing to snapshot).
    pub fn is_empty(&self) -> bool {
        self.states.is_empty() && self.restored.is_empty()
    }

    /// Every state, registered or restored and not yet registered.
    pub fn snapshot(&self) -> Result<OperatorStateSnapshot> {
        let mut out = SnapshotEncoder::new(self.states.len() + self.restored.len());
        for slot in &self.states {
            out.begin_state(&slot.name, slot.mode, slot.type_name, slot.value.item_count());
            slot.value.write_items(&mut out).map_err(|source| StateError::Encode {
                state: slot.name.clone(),
                part: EntryPart::Value,
                source,
            })?;
        }
        for (name, restored) in &self.restored {
            out.begin_state(name, restored.mode, &restored.type_name, restored.items.len());
            restored.items.iter().for_each(|item| out.raw(item));
        }
        Ok(OperatorStateSnapshot { bytes: out.out })
    }

    /// Restores this subtask's (already redistributed) snapshot. States registered
    /// before are replaced; the others are decoded when registered.
    pub fn restore(&mut self, snapshot: &[u8]) -> Result<()> {
        for state in format::parse(snapshot)? {
            let ParsedState { name, mode, type_name, items } = state;
            let restored = RestoredOperatorState {
                mode,
                type_name,
                items: items.into_iter().map(|i| i.to_vec().into_boxed_slice()).collect(),
            };
            if let Some(i) = self.states.iter().position(|s| s.name == name) {
                // Registered already: drop it and register again from the restored items
                // on the next get_*_state call.
                self.states.remove(i);
            }
            self.restored.insert(name, restored);
        }
        Ok(())
    }
}

fn decode_error(
    operator: &str,
    name: &str,
    part: EntryPart,
    type_name: &str,
    written: &str,
    source: bincode::Error,
) -> StateError {
    StateError::Decode {
        operator: operator.to_string(),
        state: name.to_string(),
        part,
        type_name: type_name.to_string(),
        written_type: written.to_string(),
        source,
    }
}

fn decode_list<T: Data>(operator: &str, name: &str, restored: &RestoredOperatorState) -> Result<Vec<T>> {
    restored
        .items
        .iter()
        .map(|item| {
            crate::codec::decode(format::item_parts(item).0).map_err(|e| {
                decode_error(operator, name, EntryPart::Value, std::any::type_name::<T>(), &restored.type_name, e)
            })
        })
        .collect()
}

fn decode_broadcast<UK: Data + Hash + Eq, UV: Data>(
    operator: &str,
    name: &str,
    restored: &RestoredOperatorState,
) -> Result<BroadcastMap<UK, UV>> {
    let mut map = BroadcastMap::default();
    for item in &restored.items {
        let (k, v) = format::item_parts(item);
        let k: UK = crate::codec::decode(k).map_err(|e| {
            decode_error(operator, name, EntryPart::Key, std::any::type_name::<UK>(), &restored.type_name, e)
        })?;
        let v: UV = crate::codec::decode(v).map_err(|e| {
            decode_error(operator, name, EntryPart::Value, std::any::type_name::<UV>(), &restored.type_name, e)
        })?;
        map.insert(k, v);
    }
    Ok(map)
}

/// An operator list state (split or union).
#[derive(Debug)]
pub struct OperatorListState<'a, T> {
    list: &'a mut Vec<T>,
}

impl<T> OperatorListState<'_, T> {
    pub fn get(&self) -> &[T] {
        self.list
    }

    pub fn add(&mut self, value: T) {
        self.list.push(value);
    }

    pub fn add_all(&mut self, values: impl IntoIterator<Item = T>) {
        self.list.extend(values);
    }

    pub fn update(&mut self, values: Vec<T>) {
        *self.list = values;
    }

    pub fn clear(&mut self) {
        self.list.clear();
    }
}

/// A broadcast state: the same map on every subtask.
#[derive(Debug)]
pub struct BroadcastState<'a, UK, UV> {
    map: &'a mut BroadcastMap<UK, UV>,
}

impl<UK: Hash + Eq, UV> BroadcastState<'_, UK, UV> {
    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&UV>
    where
        UK: Borrow<Q>,
    {
        self.map.get(key)
    }

    pub fn put(&mut self, key: UK, value: UV) {
        self.map.insert(key, value);
    }

    pub fn put_all(&mut self, entries: impl IntoIterator<Item = (UK, UV)>) {
        self.map.extend(entries);
    }

    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<UV>
    where
        UK: Borrow<Q>,
    {
        self.map.swap_remove(key)
    }

    pub fn contains<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> bool
    where
        UK: Borrow<Q>,
    {
        self.map.contains_key(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&UK, &UV)> {
        self.map.iter()
    }

    pub fn keys(&self) -> impl Iterator<Item = &UK> {
        self.map.keys()
    }

    pub fn values(&self) -> impl Iterator<Item = &UV> {
        self.map.values()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn clear(&mut self) {
        self.map.clear();
    }
}
