//! End-to-end tests of the `brook` binary: each test runs the compiled command
//! as a user would (`brook run --local …`, `brook info …`, `brook config docs`)
//! and checks its exact output, exit code and error messages.
//!
//! One test binary for the crate, as the house style asks, with a module per
//! area: `wordcount` (results of the built-in job), `errors` (what a user sees
//! when something is wrong), `plan` (`brook info`, help and version) and
//! `config` (configuration files and the generated reference).

mod cli;
mod config;
mod errors;
mod fraud_detection;
mod nexmark;
mod plan;
mod rest;
mod socket_window_wordcount;
mod standalone;
mod submit;
mod text;
mod wordcount;
