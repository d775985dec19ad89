//! The command line: one binary, one subcommand per job.

use clap::{Parser, Subcommand};

use crate::config::ServeConfig;

#[derive(Debug, Parser)]
#[command(
    name = "bpm-compat",
    version,
    about = "One BPM process state behind five vendors' wire protocols"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Run the server (the default when no subcommand is given).
    Serve(ServeConfig),
}
