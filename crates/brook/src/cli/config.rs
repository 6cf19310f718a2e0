//! `brook config docs`: the configuration reference, generated from the code.

use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Print the configuration reference as Markdown (docs/configuration.md).
    Docs,
}

pub fn config(args: ConfigArgs) -> anyhow::Result<()> {
    match args.command {
        ConfigCommand::Docs => print!("{}", brook_types::config::reference_markdown()),
    }
    Ok(())
}
