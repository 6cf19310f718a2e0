//! Integration tests of brook-state, one binary with a module per area:
//!
//! - `model`: the hash-map backend against a `BTreeMap` model, for random
//!   sequences of operations on all five kinds of keyed state, with namespaces
//!   and snapshot round trips in between.
//! - `rescale`: snapshots at parallelism p restored at p' give every key exactly
//!   its state, timers written through the writer included.
//! - `operator_state`: list, union list and broadcast state redistribution.
//! - `ttl`: time-to-live semantics with a manual clock.

mod model;
mod operator_state;
mod rescale;
mod support;
mod ttl;
