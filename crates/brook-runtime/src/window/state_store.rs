//! Named, typed state for a ProcessWindowFunction: per window, and per key
//! across windows (Flink's `windowState()` / `globalState()`).
//!
//! Values are found by name and type, as in Flink's `KeyedStateStore`, and are
//! part of checkpoints: each value remembers how to encode itself, and a restored
//! value stays encoded until the function asks for it with its type.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::collections::HashMap;

type Encode = fn(&(dyn Any + Send)) -> Result<Vec<u8>, String>;

enum Slot {
    /// Set or read by the function since the last restore.
    Live(Box<dyn Any + Send>, Encode),
    /// Restored from a checkpoint, not yet read.
    Encoded(Vec<u8>),
}

/// Values by name, each of its own type.
#[derive(Default)]
pub struct StateStore {
    values: HashMap<String, Slot>,
}

impl std::fmt::Debug for StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.values.keys()).finish()
    }
}

fn wrong_type<S>(name: &str) -> ! {
    panic!("state '{name}' is used with two different types; the second is {}", std::any::type_name::<S>())
}

fn encode<S: Serialize + 'static>(value: &(dyn Any + Send)) -> Result<Vec<u8>, String> {
    let value = value.downcast_ref::<S>().expect("a slot encodes the type it holds");
    bincode::serialize(value).map_err(|e| e.to_string())
}

fn live<S: Serialize + Send + 'static>(value: S) -> Slot {
    Slot::Live(Box::new(value), encode::<S>)
}

/// The value a restored slot holds, decoded as `S`. Panics (a task failure naming
/// the state) if the checkpoint's bytes are not an `S`.
fn decode<S: DeserializeOwned>(name: &str, bytes: &[u8]) -> S {
    bincode::deserialize(bytes).unwrap_or_else(|e| {
        panic!(
            "restored state '{name}' does not decode as {}: {e}; read it with the type the checkpointed job used",
            std::any::type_name::<S>()
        )
    })
}

impl StateStore {
    /// Decodes a restored value named `name` as `S`, once.
    fn materialize<S: Serialize + DeserializeOwned + Send + 'static>(&mut self, name: &str) {
        if let Some(slot) = self.values.get_mut(name)
            && let Slot::Encoded(bytes) = slot
        {
            *slot = live(decode::<S>(name, bytes));
        }
    }

    /// The value named `name`, if set. Panics if it was set with another type.
    pub fn get<S: Serialize + DeserializeOwned + Send + 'static>(&mut self, name: &str) -> Option<&S> {
        self.get_mut(name).map(|v| &*v)
    }

    /// The value named `name` for changing, if set.
    pub fn get_mut<S: Serialize + DeserializeOwned + Send + 'static>(&mut self, name: &str) -> Option<&mut S> {
        self.materialize::<S>(name);
        self.values.get_mut(name).map(|slot| match slot {
            Slot::Live(v, _) => v.downcast_mut::<S>().unwrap_or_else(|| wrong_type::<S>(name)),
            Slot::Encoded(_) => unreachable!("materialized above"),
        })
    }

    /// The value named `name`, set to `S::default()` first if it is not set.
    pub fn get_or_default<S: Default + Serialize + DeserializeOwned + Send + 'static>(&mut self, name: &str) -> &mut S {
        if !self.values.contains_key(name) {
            self.values.insert(name.to_string(), live(S::default()));
        }
        self.get_mut(name).expect("inserted above")
    }

    pub fn insert<S: Serialize + DeserializeOwned + Send + 'static>(&mut self, name: &str, value: S) {
        self.values.insert(name.to_string(), live(value));
    }

    pub fn remove(&mut self, name: &str) {
        self.values.remove(name);
    }

    pub fn clear(&mut self) {
        self.values.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Every value, encoded, sorted by name (for a checkpoint).
    pub(crate) fn encode(&self) -> Result<Vec<(String, Vec<u8>)>, String> {
        let mut out = Vec::with_capacity(self.values.len());
        for (name, slot) in &self.values {
            let bytes = match slot {
                Slot::Live(value, encode) => {
                    encode(value.as_ref()).map_err(|e| format!("state '{name}' does not encode: {e}"))?
                }
                Slot::Encoded(bytes) => bytes.clone(),
            };
            out.push((name.clone(), bytes));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// A store of restored values, each decoded when first read.
    pub(crate) fn from_encoded(values: Vec<(String, Vec<u8>)>) -> Self {
        Self { values: values.into_iter().map(|(name, bytes)| (name, Slot::Encoded(bytes))).collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_found_by_name_and_type() {
        let mut s = StateStore::default();
        *s.get_or_default::<u64>("count") += 2;
        *s.get_or_default::<u64>("count") += 3;
        assert_eq!(s.get::<u64>("count"), Some(&5));
        s.insert("name", "x".to_string());
        assert_eq!(s.get::<String>("name").map(String::as_str), Some("x"));
        s.remove("count");
        assert_eq!(s.get::<u64>("count"), None);
        s.clear();
        assert!(s.is_empty());
    }

    #[test]
    fn restored_values_decode_on_first_read_and_encode_unchanged() {
        let mut s = StateStore::default();
        s.insert("count", 7u64);
        s.insert("names", vec!["a".to_string(), "b".to_string()]);
        let encoded = s.encode().unwrap();
        assert_eq!(encoded.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["count", "names"]);
        let mut restored = StateStore::from_encoded(encoded.clone());
        // Not read yet: encodes to the same bytes.
        assert_eq!(restored.encode().unwrap(), encoded);
        assert_eq!(restored.get::<u64>("count"), Some(&7));
        *restored.get_or_default::<Vec<String>>("names") = vec!["c".to_string()];
        assert_eq!(restored.get::<Vec<String>>("names").unwrap(), &["c".to_string()]);
    }

    #[test]
    #[should_panic(expected = "two different types")]
    fn a_second_type_for_a_name_is_an_error() {
        let mut s = StateStore::default();
        s.insert("n", 1u64);
        s.get::<i32>("n");
    }
}
