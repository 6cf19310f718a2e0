//! Brook's connectors. Each lives in its own module behind a cargo feature of the
//! same name, so that a build carries only the clients it needs.

#[cfg(feature = "nexmark")]
pub mod nexmark;
