//! Integration tests of brook-state, one binary with a module per area:
//!
//! - `model`: each backend against a `BTreeMap` model, for random sequences of
//!   operations on all five kinds of keyed state, with namespaces and snapshot
//!   round trips in between (RocksDB: canonical and incremental).
//! - `rescale`: snapshots at parallelism p restored at p' give every key exactly
//!   its state, timers written through the writer included, across backends.
//! - `rocksdb` (feature `rocksdb`): incremental checkpoints (file reuse, restore,
//!   rescaling) and canonical snapshots from one backend into the other.
//! - `operator_state`: list, union list and broadcast state redistribution.
//! - `ttl`: time-to-live semantics with a manual clock, for each backend.

mod model;
mod operator_state;
mod rescale;
#[cfg(feature = "rocksdb")]
mod rocksdb;
mod support;
mod ttl;
