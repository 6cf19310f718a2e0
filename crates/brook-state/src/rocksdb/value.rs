//! Value, reducing and aggregating state: one row per (key, namespace).

use super::cell::Cell;
use crate::descriptor::{AggregateFn, ReduceFn};
use brook_types::Data;
use std::marker::PhantomData;

/// Reads decode into `slot`, which `value()` lends out.
pub(crate) struct RocksDbValueRef<'a, K, N, V> {
    pub(super) cell: Cell<'a>,
    pub(super) slot: Option<V>,
    pub(super) _types: PhantomData<fn() -> (K, N)>,
}

impl<K, N, V: Data> RocksDbValueRef<'_, K, N, V> {
    pub fn value(&mut self) -> Option<&V> {
        self.slot = self.cell.read(&self.cell.prefix);
        self.slot.as_ref()
    }

    pub fn update(&mut self, value: V) {
        self.cell.write(&self.cell.prefix, &value);
        self.slot = None;
    }

    pub fn clear(&mut self) {
        self.slot = None;
        self.cell.delete(&self.cell.prefix);
    }
}

pub(crate) struct RocksDbReducingRef<'a, K, N, T> {
    pub(super) cell: Cell<'a>,
    pub(super) reduce: &'a ReduceFn<T>,
    pub(super) slot: Option<T>,
    pub(super) _types: PhantomData<fn() -> (K, N)>,
}

impl<K, N, T: Data> RocksDbReducingRef<'_, K, N, T> {
    pub fn get(&mut self) -> Option<&T> {
        self.slot = self.cell.read(&self.cell.prefix);
        self.slot.as_ref()
    }

    pub fn add(&mut self, value: T) {
        let next = match self.cell.read_for_update::<T>(&self.cell.prefix) {
            None => value,
            Some(acc) => (self.reduce)(acc, value),
        };
        self.cell.write(&self.cell.prefix, &next);
        self.slot = None;
    }

    pub fn clear(&mut self) {
        self.slot = None;
        self.cell.delete(&self.cell.prefix);
    }
}

pub(crate) struct RocksDbAggregatingRef<'a, K, N, IN, ACC, OUT> {
    pub(super) cell: Cell<'a>,
    pub(super) function: &'a AggregateFn<IN, ACC, OUT>,
    pub(super) _types: PhantomData<fn() -> (K, N)>,
}

impl<K, N, IN: 'static, ACC: Data, OUT: 'static> RocksDbAggregatingRef<'_, K, N, IN, ACC, OUT> {
    pub fn get(&mut self) -> Option<OUT> {
        self.cell.read::<ACC>(&self.cell.prefix).map(|acc| self.function.get_result(&acc))
    }

    pub fn add(&mut self, value: IN) {
        let mut acc =
            self.cell.read_for_update::<ACC>(&self.cell.prefix).unwrap_or_else(|| self.function.create_accumulator());
        self.function.add(&mut acc, value);
        self.cell.write(&self.cell.prefix, &acc);
    }

    pub fn clear(&mut self) {
        self.cell.delete(&self.cell.prefix);
    }
}
