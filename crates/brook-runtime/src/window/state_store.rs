//! Named, typed state for a ProcessWindowFunction: per window, and per key
//! across windows.
//!
//! Interim: until Brook's keyed state backend lands (DESIGN.md §6), a window
//! operator keeps these stores in memory, one per (key, window) and one per
//! key; they are not yet part of checkpoints. The interface follows Flink's
//! `KeyedStateStore` in spirit — state is found by name and type.

use std::any::Any;
use std::collections::HashMap;

/// Values by name, each of its own type.
#[derive(Default)]
pub struct StateStore {
    values: HashMap<String, Box<dyn Any + Send>>,
}

impl std::fmt::Debug for StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.values.keys()).finish()
    }
}

fn wrong_type<S>(name: &str) -> ! {
    panic!("state '{name}' is used with two different types; the second is {}", std::any::type_name::<S>())
}

impl StateStore {
    /// The value named `name`, if set. Panics if it was set with another type.
    pub fn get<S: 'static>(&self, name: &str) -> Option<&S> {
        self.values.get(name).map(|v| v.downcast_ref::<S>().unwrap_or_else(|| wrong_type::<S>(name)))
    }

    /// The value named `name` for changing, if set.
    pub fn get_mut<S: 'static>(&mut self, name: &str) -> Option<&mut S> {
        self.values.get_mut(name).map(|v| v.downcast_mut::<S>().unwrap_or_else(|| wrong_type::<S>(name)))
    }

    /// The value named `name`, set to `S::default()` first if it is not set.
    pub fn get_or_default<S: Default + Send + 'static>(&mut self, name: &str) -> &mut S {
        if !self.values.contains_key(name) {
            self.values.insert(name.to_string(), Box::new(S::default()));
        }
        self.get_mut(name).expect("inserted above")
    }

    pub fn insert<S: Send + 'static>(&mut self, name: &str, value: S) {
        self.values.insert(name.to_string(), Box::new(value));
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
    #[should_panic(expected = "two different types")]
    fn a_second_type_for_a_name_is_an_error() {
        let mut s = StateStore::default();
        s.insert("n", 1u64);
        s.get::<i32>("n");
    }
}
