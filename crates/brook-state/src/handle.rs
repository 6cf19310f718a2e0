//! State handles: what registering a descriptor returns.
//!
//! A handle is a `Copy` id with the state's types, nothing more: a function keeps
//! it in a field and passes it to its context (`ctx.state(&self.count)`), which
//! binds it to the current key and namespace. An access is an index into the
//! backend's states, one type check and one hash lookup — no name lookup.
//! A handle's `Default` is unregistered; using it panics with a message that
//! says to register the state in `open`.

use std::marker::PhantomData;

/// The index of a registered state within its backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateId(u32);

impl StateId {
    /// The id of a handle that was never registered.
    pub const UNREGISTERED: StateId = StateId(u32::MAX);

    pub(crate) fn new(index: usize) -> Self {
        Self(u32::try_from(index).expect("fewer than 2^32 states per operator"))
    }

    pub fn index(self) -> usize {
        self.0 as usize
    }

    pub fn is_registered(self) -> bool {
        self != Self::UNREGISTERED
    }
}

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident < $($p:ident),+ >) => {
        $(#[$doc])*
        pub struct $name<$($p),+> {
            id: StateId,
            _types: PhantomData<fn() -> ($($p,)+)>,
        }

        impl<$($p),+> $name<$($p),+> {
            pub(crate) fn from_id(id: StateId) -> Self {
                Self { id, _types: PhantomData }
            }

            pub fn id(&self) -> StateId {
                self.id
            }
        }

        impl<$($p),+> Clone for $name<$($p),+> {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<$($p),+> Copy for $name<$($p),+> {}

        impl<$($p),+> Default for $name<$($p),+> {
            fn default() -> Self {
                Self::from_id(StateId::UNREGISTERED)
            }
        }

        impl<$($p),+> PartialEq for $name<$($p),+> {
            fn eq(&self, other: &Self) -> bool {
                self.id == other.id
            }
        }

        impl<$($p),+> Eq for $name<$($p),+> {}

        impl<$($p),+> std::fmt::Debug for $name<$($p),+> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.id)
            }
        }
    };
}

handle!(
    /// A registered value state (Flink's `ValueState<V>`).
    ValueState<V>
);
handle!(
    /// A registered list state (Flink's `ListState<T>`).
    ListState<T>
);
handle!(
    /// A registered map state (Flink's `MapState<UK, UV>`).
    MapState<UK, UV>
);
handle!(
    /// A registered reducing state (Flink's `ReducingState<T>`).
    ReducingState<T>
);
handle!(
    /// A registered aggregating state: `add(IN)`, `get() -> OUT`, accumulating in
    /// `ACC` (Flink's `AggregatingState<IN, OUT>`; the accumulator type is part of
    /// the handle because values are stored typed).
    AggregatingState<IN, ACC, OUT>
);
