//! The `brook` command: see `brook --help`.

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    cli::main()
}
