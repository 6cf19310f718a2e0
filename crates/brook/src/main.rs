//! The `brook` command: see `brook --help`.

use std::process::ExitCode;

/// Records are small, short-lived allocations; with mimalloc the word-count job
/// needs about 45 % less CPU than with glibc's malloc (docs/benchmarks.md,
/// performance log).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    brook::cli::main()
}
