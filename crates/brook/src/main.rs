//! The `brook` command: see `brook --help`.

use std::process::ExitCode;

mod cli;

/// Records are small, short-lived allocations; mimalloc handles them several times
/// faster than glibc's malloc (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::main()
}
