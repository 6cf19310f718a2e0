//! The states an operator registered, by name and id.
//!
//! Registration knows the descriptor's types but not the key or namespace type,
//! so it records only what the state is; the backend creates the typed table the
//! first time a handle is used (when key, namespace and value types are all
//! known) and decodes restored entries then.

use crate::descriptor::{StateDescriptor, StateKind};
use crate::error::{Result, StateError};
use crate::handle::StateId;
use crate::ttl::TtlPolicy;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

/// One registered state.
#[derive(Clone)]
pub(crate) struct RegisteredState {
    pub name: Arc<str>,
    pub kind: StateKind,
    /// The descriptor's type: equal for equal kinds and types.
    pub descriptor_type: TypeId,
    /// The handle's type, which names the value types a table is created with.
    pub handle_type: TypeId,
    pub type_name: &'static str,
    pub ttl: Option<TtlPolicy>,
    /// The reduce or aggregate function.
    pub function: Option<Arc<dyn Any + Send + Sync>>,
}

/// The keyed states of one operator, in registration order.
pub struct KeyedStateRegistry {
    operator: Arc<str>,
    states: Vec<RegisteredState>,
    by_name: HashMap<Arc<str>, StateId, foldhash::fast::RandomState>,
}

impl Default for KeyedStateRegistry {
    fn default() -> Self {
        Self::new("unnamed operator")
    }
}

impl std::fmt::Debug for KeyedStateRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedStateRegistry")
            .field("operator", &self.operator)
            .field("states", &self.states.iter().map(|s| (&*s.name, s.kind)).collect::<Vec<_>>())
            .finish()
    }
}

impl KeyedStateRegistry {
    pub fn new(operator: &str) -> Self {
        Self { operator: Arc::from(operator), states: Vec::new(), by_name: HashMap::default() }
    }

    /// The operator the states belong to (for messages).
    pub fn operator(&self) -> &str {
        &self.operator
    }

    /// Registers `descriptor`'s state, or returns the state already registered
    /// under its name if that has the same kind and types.
    pub fn register<D: StateDescriptor>(&mut self, descriptor: &D) -> Result<D::Handle> {
        if let Some(&id) = self.by_name.get(descriptor.name()) {
            let existing = &self.states[id.index()];
            if existing.kind != D::KIND {
                return Err(StateError::KindMismatch {
                    operator: self.operator.to_string(),
                    name: descriptor.name().to_string(),
                    registered: existing.kind,
                    requested: D::KIND,
                });
            }
            if existing.descriptor_type != TypeId::of::<D>() {
                return Err(StateError::TypeMismatch {
                    operator: self.operator.to_string(),
                    name: descriptor.name().to_string(),
                    kind: D::KIND,
                    registered: existing.type_name.to_string(),
                    requested: descriptor.type_name().to_string(),
                });
            }
            return Ok(D::handle(id));
        }
        let id = StateId::new(self.states.len());
        let name: Arc<str> = Arc::from(descriptor.name());
        self.states.push(RegisteredState {
            name: name.clone(),
            kind: D::KIND,
            descriptor_type: TypeId::of::<D>(),
            handle_type: TypeId::of::<D::Handle>(),
            type_name: descriptor.type_name(),
            ttl: descriptor.ttl_config().and_then(TtlPolicy::from_config),
            function: descriptor.function(),
        });
        self.by_name.insert(name, id);
        Ok(D::handle(id))
    }

    pub(crate) fn get(&self, id: StateId) -> Option<&RegisteredState> {
        self.states.get(id.index())
    }

    pub(crate) fn states(&self) -> &[RegisteredState] {
        &self.states
    }

    pub(crate) fn id_of(&self, name: &str) -> Option<StateId> {
        self.by_name.get(name).copied()
    }

    /// The names of the registered states, in registration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.states.iter().map(|s| &*s.name)
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::{ListStateDescriptor, ValueStateDescriptor};

    #[test]
    fn the_same_name_is_the_same_state() {
        let mut r = KeyedStateRegistry::new("Counter");
        let a = r.register(&ValueStateDescriptor::<u64>::new("count")).unwrap();
        let b = r.register(&ValueStateDescriptor::<u64>::new("count")).unwrap();
        let c = r.register(&ListStateDescriptor::<u64>::new("buffer")).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.id(), c.id());
        assert_eq!(r.names().collect::<Vec<_>>(), ["count", "buffer"]);
    }

    #[test]
    fn another_kind_or_type_under_a_name_is_an_error() {
        let mut r = KeyedStateRegistry::new("Counter");
        r.register(&ValueStateDescriptor::<u64>::new("count")).unwrap();
        let kind = r.register(&ListStateDescriptor::<u64>::new("count")).unwrap_err().to_string();
        assert_eq!(
            kind,
            "state 'count' of operator 'Counter' is registered as value state and cannot be registered \
             again as list state; give one of them another name"
        );
        let ty = r.register(&ValueStateDescriptor::<String>::new("count")).unwrap_err().to_string();
        assert!(
            ty.contains("registered with type u64 and cannot be registered again with type alloc::string::String"),
            "{ty}"
        );
    }
}
