//! Integration tests of the connectors: the Nexmark generator as a job's source,
//! its determinism, distributions and restore, and the export round trip.

mod nexmark_export;
mod nexmark_generator;
mod nexmark_recovery;
mod support;
