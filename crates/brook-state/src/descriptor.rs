//! State descriptors: the name, kind, types and TTL of a state, from which a
//! function obtains its handle (Flink's `StateDescriptor`s).
//!
//! A descriptor is a plain value a function can build anywhere; registering it
//! with a backend (in `open`) returns a [`handle`](crate::handle) — a small `Copy`
//! id the function keeps and passes to its context on every access. Registering
//! the same name again returns the same state; a different kind or type under the
//! same name is an error.

use crate::handle::{AggregatingState, ListState, MapState, ReducingState, StateId, ValueState};
use crate::ttl::StateTtlConfig;
use brook_types::Data;
use std::any::Any;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

/// What kind of state a snapshot entry belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateKind {
    Value,
    List,
    Map,
    Reducing,
    Aggregating,
    /// Timers of an operator: one entry per timer, (key, namespace, time).
    Timers,
    /// Typed state an operator keeps outside the backend and writes itself (for
    /// example window contents); backends neither restore nor write it.
    Internal,
}

impl StateKind {
    /// The byte that stands for the kind in a snapshot.
    pub fn code(self) -> u8 {
        match self {
            StateKind::Value => 0,
            StateKind::List => 1,
            StateKind::Map => 2,
            StateKind::Reducing => 3,
            StateKind::Aggregating => 4,
            StateKind::Timers => 5,
            StateKind::Internal => 6,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => StateKind::Value,
            1 => StateKind::List,
            2 => StateKind::Map,
            3 => StateKind::Reducing,
            4 => StateKind::Aggregating,
            5 => StateKind::Timers,
            6 => StateKind::Internal,
            _ => return None,
        })
    }

    /// Whether keyed state backends hold (and restore) this kind.
    pub fn is_backend_state(self) -> bool {
        !matches!(self, StateKind::Timers | StateKind::Internal)
    }
}

impl std::fmt::Display for StateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StateKind::Value => "value",
            StateKind::List => "list",
            StateKind::Map => "map",
            StateKind::Reducing => "reducing",
            StateKind::Aggregating => "aggregating",
            StateKind::Timers => "timers",
            StateKind::Internal => "internal",
        })
    }
}

/// Incrementally aggregates values into an accumulator (Flink's `AggregateFunction`).
pub trait AggregateFunction<IN>: Send + Sync + 'static {
    type Acc: Data;
    type Out;

    fn create_accumulator(&self) -> Self::Acc;
    fn add(&self, acc: &mut Self::Acc, value: IN);
    fn get_result(&self, acc: &Self::Acc) -> Self::Out;
    /// Folds `other` into `acc`.
    fn merge(&self, acc: &mut Self::Acc, other: Self::Acc);
}

/// A reducing state's function: `reduce(accumulated, new)`.
pub type ReduceFn<T> = Arc<dyn Fn(T, T) -> T + Send + Sync>;

/// An aggregating state's function.
pub type AggregateFn<IN, ACC, OUT> = Arc<dyn AggregateFunction<IN, Acc = ACC, Out = OUT>>;

mod sealed {
    pub trait Sealed {}
}

/// What every descriptor tells a backend. Implemented by the five descriptors of
/// this module only.
pub trait StateDescriptor: sealed::Sealed + Clone + Send + Sync + 'static {
    /// What registration returns.
    type Handle: Copy + Send + Sync + 'static;
    const KIND: StateKind;

    fn name(&self) -> &str;
    fn ttl_config(&self) -> Option<&StateTtlConfig>;
    /// The stored type, for messages.
    fn type_name(&self) -> &'static str;

    #[doc(hidden)]
    fn function(&self) -> Option<Arc<dyn Any + Send + Sync>>;
    #[doc(hidden)]
    fn handle(id: StateId) -> Self::Handle;
}

macro_rules! common_descriptor_methods {
    () => {
        /// The state's name, unique within its operator.
        pub fn name(&self) -> &str {
            &self.name
        }

        /// Gives the state a time-to-live (Flink's `enableTimeToLive`).
        pub fn enable_time_to_live(mut self, config: StateTtlConfig) -> Self {
            self.ttl = Some(config);
            self
        }

        pub fn ttl_config(&self) -> Option<&StateTtlConfig> {
            self.ttl.as_ref()
        }
    };
}

macro_rules! descriptor_impls {
    ($desc:ident < $($p:ident),+ >, $handle:ty, $kind:expr, $type_name:ty) => {
        impl<$($p: 'static),+> sealed::Sealed for $desc<$($p),+> {}

        impl<$($p),+> std::fmt::Debug for $desc<$($p),+> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($desc))
                    .field("name", &self.name)
                    .field("type", &std::any::type_name::<$type_name>())
                    .field("ttl", &self.ttl)
                    .finish()
            }
        }
    };
}

/// A single value per key and namespace (Flink's `ValueStateDescriptor`).
pub struct ValueStateDescriptor<V> {
    name: Arc<str>,
    ttl: Option<StateTtlConfig>,
    _type: PhantomData<fn() -> V>,
}

impl<V> Clone for ValueStateDescriptor<V> {
    fn clone(&self) -> Self {
        Self { name: self.name.clone(), ttl: self.ttl.clone(), _type: PhantomData }
    }
}

impl<V: Data> ValueStateDescriptor<V> {
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: Arc::from(name.into()), ttl: None, _type: PhantomData }
    }

    common_descriptor_methods!();
}

descriptor_impls!(ValueStateDescriptor<V>, ValueState<V>, StateKind::Value, V);

impl<V: Data> StateDescriptor for ValueStateDescriptor<V> {
    type Handle = ValueState<V>;
    const KIND: StateKind = StateKind::Value;

    fn name(&self) -> &str {
        &self.name
    }
    fn ttl_config(&self) -> Option<&StateTtlConfig> {
        self.ttl.as_ref()
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<V>()
    }
    fn function(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        None
    }
    fn handle(id: StateId) -> ValueState<V> {
        ValueState::from_id(id)
    }
}

/// A list of elements per key and namespace (Flink's `ListStateDescriptor`); also
/// names operator list state.
pub struct ListStateDescriptor<T> {
    name: Arc<str>,
    ttl: Option<StateTtlConfig>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for ListStateDescriptor<T> {
    fn clone(&self) -> Self {
        Self { name: self.name.clone(), ttl: self.ttl.clone(), _type: PhantomData }
    }
}

impl<T: Data> ListStateDescriptor<T> {
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: Arc::from(name.into()), ttl: None, _type: PhantomData }
    }

    common_descriptor_methods!();
}

descriptor_impls!(ListStateDescriptor<T>, ListState<T>, StateKind::List, T);

impl<T: Data> StateDescriptor for ListStateDescriptor<T> {
    type Handle = ListState<T>;
    const KIND: StateKind = StateKind::List;

    fn name(&self) -> &str {
        &self.name
    }
    fn ttl_config(&self) -> Option<&StateTtlConfig> {
        self.ttl.as_ref()
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn function(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        None
    }
    fn handle(id: StateId) -> ListState<T> {
        ListState::from_id(id)
    }
}

/// A map from user keys to values per key and namespace (Flink's
/// `MapStateDescriptor`); also names broadcast state.
pub struct MapStateDescriptor<UK, UV> {
    name: Arc<str>,
    ttl: Option<StateTtlConfig>,
    _type: PhantomData<fn() -> (UK, UV)>,
}

impl<UK, UV> Clone for MapStateDescriptor<UK, UV> {
    fn clone(&self) -> Self {
        Self { name: self.name.clone(), ttl: self.ttl.clone(), _type: PhantomData }
    }
}

impl<UK: Data + Hash + Eq, UV: Data> MapStateDescriptor<UK, UV> {
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: Arc::from(name.into()), ttl: None, _type: PhantomData }
    }

    common_descriptor_methods!();
}

descriptor_impls!(MapStateDescriptor<UK, UV>, MapState<UK, UV>, StateKind::Map, (UK, UV));

impl<UK: Data + Hash + Eq, UV: Data> StateDescriptor for MapStateDescriptor<UK, UV> {
    type Handle = MapState<UK, UV>;
    const KIND: StateKind = StateKind::Map;

    fn name(&self) -> &str {
        &self.name
    }
    fn ttl_config(&self) -> Option<&StateTtlConfig> {
        self.ttl.as_ref()
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<(UK, UV)>()
    }
    fn function(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        None
    }
    fn handle(id: StateId) -> MapState<UK, UV> {
        MapState::from_id(id)
    }
}

/// One value per key and namespace that every `add` reduces into (Flink's
/// `ReducingStateDescriptor`).
pub struct ReducingStateDescriptor<T> {
    name: Arc<str>,
    ttl: Option<StateTtlConfig>,
    reduce: ReduceFn<T>,
}

impl<T> Clone for ReducingStateDescriptor<T> {
    fn clone(&self) -> Self {
        Self { name: self.name.clone(), ttl: self.ttl.clone(), reduce: self.reduce.clone() }
    }
}

impl<T: Data> ReducingStateDescriptor<T> {
    /// `reduce(accumulated, new)` combines the state's value with an added one.
    pub fn new(name: impl Into<String>, reduce: impl Fn(T, T) -> T + Send + Sync + 'static) -> Self {
        Self { name: Arc::from(name.into()), ttl: None, reduce: Arc::new(reduce) }
    }

    common_descriptor_methods!();
}

descriptor_impls!(ReducingStateDescriptor<T>, ReducingState<T>, StateKind::Reducing, T);

impl<T: Data> StateDescriptor for ReducingStateDescriptor<T> {
    type Handle = ReducingState<T>;
    const KIND: StateKind = StateKind::Reducing;

    fn name(&self) -> &str {
        &self.name
    }
    fn ttl_config(&self) -> Option<&StateTtlConfig> {
        self.ttl.as_ref()
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn function(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        Some(Arc::new(self.reduce.clone()))
    }
    fn handle(id: StateId) -> ReducingState<T> {
        ReducingState::from_id(id)
    }
}

/// An accumulator per key and namespace that every `add` aggregates into (Flink's
/// `AggregatingStateDescriptor`).
pub struct AggregatingStateDescriptor<IN, ACC, OUT> {
    name: Arc<str>,
    ttl: Option<StateTtlConfig>,
    function: AggregateFn<IN, ACC, OUT>,
}

impl<IN, ACC, OUT> Clone for AggregatingStateDescriptor<IN, ACC, OUT> {
    fn clone(&self) -> Self {
        Self { name: self.name.clone(), ttl: self.ttl.clone(), function: self.function.clone() }
    }
}

impl<IN: 'static, ACC: Data, OUT: 'static> AggregatingStateDescriptor<IN, ACC, OUT> {
    pub fn new(name: impl Into<String>, function: impl AggregateFunction<IN, Acc = ACC, Out = OUT>) -> Self {
        Self { name: Arc::from(name.into()), ttl: None, function: Arc::new(function) }
    }

    common_descriptor_methods!();
}

descriptor_impls!(AggregatingStateDescriptor<IN, ACC, OUT>, AggregatingState<IN, ACC, OUT>, StateKind::Aggregating, ACC);

impl<IN: 'static, ACC: Data, OUT: 'static> StateDescriptor for AggregatingStateDescriptor<IN, ACC, OUT> {
    type Handle = AggregatingState<IN, ACC, OUT>;
    const KIND: StateKind = StateKind::Aggregating;

    fn name(&self) -> &str {
        &self.name
    }
    fn ttl_config(&self) -> Option<&StateTtlConfig> {
        self.ttl.as_ref()
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<ACC>()
    }
    fn function(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        Some(Arc::new(self.function.clone()))
    }
    fn handle(id: StateId) -> AggregatingState<IN, ACC, OUT> {
        AggregatingState::from_id(id)
    }
}
